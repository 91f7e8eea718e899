//! Interface strings in French and English.
//!
//! Written by hand rather than with leptos_i18n on purpose: the locale is resolved per request
//! (`?lang=`, then `Accept-Language`, then the site default) and written into `<html lang>`,
//! and the hydrated page reads it back from there, so server and browser render the same text.
//! A plain struct per language makes a missing translation a compile error, and plural rules
//! are ordinary functions.

use domain::incident::IncidentStatus;
use domain::locale::Locale;
use domain::status::{ComponentStatus, ServiceState};

/// Every string of the interface, for one language.
pub struct Texts {
    pub skip_to_content: &'static str,
    pub powered_by: &'static str,
    pub not_found: &'static str,
    pub back_home: &'static str,
    pub loading: &'static str,
    pub error_loading: &'static str,
    pub meta_description: &'static str,
    pub language: &'static str,
    pub banner_no_data: &'static str,
    pub banner_operational: &'static str,
    pub banner_operational_partial_data: &'static str,
    pub banner_maintenance: &'static str,
    status: [&'static str; 6],
    locale: Locale,
}

pub static FR: Texts = Texts {
    skip_to_content: "Aller au contenu",
    powered_by: "Propulsé par Vigie, page d'état auto-hébergée",
    not_found: "Page introuvable",
    back_home: "Retour à l'état des services",
    loading: "Chargement de l'état des services…",
    error_loading: "L'état des services ne peut pas être lu pour le moment.",
    meta_description: "Disponibilité en direct de chaque service, incidents et maintenances.",
    language: "Langue",
    banner_no_data: "En attente des premiers résultats de sonde",
    banner_operational: "Tous les services sont opérationnels",
    banner_operational_partial_data: "Services opérationnels (certains sans données récentes)",
    banner_maintenance: "Maintenance en cours",
    status: [
        "Aucune donnée",
        "Opérationnel",
        "En maintenance",
        "Performances dégradées",
        "Panne partielle",
        "Panne majeure",
    ],
    locale: Locale::Fr,
};

pub static EN: Texts = Texts {
    skip_to_content: "Skip to content",
    powered_by: "Powered by Vigie, the self-hosted status page",
    not_found: "Page not found",
    back_home: "Back to service status",
    loading: "Loading service status…",
    error_loading: "Service status cannot be read right now.",
    meta_description: "Live availability of every service, incidents and maintenance.",
    language: "Language",
    banner_no_data: "Waiting for the first probe results",
    banner_operational: "All systems operational",
    banner_operational_partial_data: "Systems operational (some without recent data)",
    banner_maintenance: "Maintenance in progress",
    status: [
        "No data",
        "Operational",
        "Under maintenance",
        "Degraded performance",
        "Partial outage",
        "Major outage",
    ],
    locale: Locale::En,
};

/// The strings of `locale`.
pub fn texts(locale: Locale) -> &'static Texts {
    match locale {
        Locale::Fr => &FR,
        Locale::En => &EN,
    }
}

impl Texts {
    /// The words for a service state.
    pub fn state(&self, state: ServiceState) -> &'static str {
        let i = match state {
            ServiceState::NoData => 0,
            ServiceState::Known(ComponentStatus::Operational) => 1,
            ServiceState::Known(ComponentStatus::UnderMaintenance) => 2,
            ServiceState::Known(ComponentStatus::DegradedPerformance) => 3,
            ServiceState::Known(ComponentStatus::PartialOutage) => 4,
            ServiceState::Known(ComponentStatus::MajorOutage) => 5,
        };
        self.status[i]
    }

    /// "7 services", "1 service".
    pub fn service_count(&self, n: usize) -> String {
        match (self.locale, n) {
            (_, 1) => "1 service".to_owned(),
            (_, n) => format!("{n} services"),
        }
    }

    /// "Panne majeure : 5 services touchés".
    pub fn banner_major(&self, affected: usize) -> String {
        match self.locale {
            Locale::Fr if affected == 1 => "Panne majeure : 1 service touché".to_owned(),
            Locale::Fr => format!("Panne majeure : {affected} services touchés"),
            Locale::En if affected == 1 => "Major outage: 1 service affected".to_owned(),
            Locale::En => format!("Major outage: {affected} services affected"),
        }
    }

    /// "Perturbations : 2 services touchés".
    pub fn banner_minor(&self, affected: usize) -> String {
        match self.locale {
            Locale::Fr if affected == 1 => "Perturbations : 1 service touché".to_owned(),
            Locale::Fr => format!("Perturbations : {affected} services touchés"),
            Locale::En if affected == 1 => "Partial disruption: 1 service affected".to_owned(),
            Locale::En => format!("Partial disruption: {affected} services affected"),
        }
    }

    /// "Mis à jour il y a 12 s".
    pub fn updated_ago(&self, seconds: u64) -> String {
        let (fr, en) = match seconds {
            0..=4 => return self.just_updated().to_owned(),
            5..=59 => (format!("il y a {seconds} s"), format!("{seconds} s ago")),
            60..=3599 => (
                format!("il y a {} min", seconds / 60),
                format!("{} min ago", seconds / 60),
            ),
            _ => (
                format!("il y a {} h", seconds / 3600),
                format!("{} h ago", seconds / 3600),
            ),
        };
        match self.locale {
            Locale::Fr => format!("Mis à jour {fr}"),
            Locale::En => format!("Updated {en}"),
        }
    }

    /// The cause of a status in the reader's language. The engine stores causes as stable
    /// English phrases (`down: host phys-2 unreachable`, `partial outage: depends on databases`,
    /// `degraded: monitor home: HTTP 502`); the status word is already shown beside it, so only
    /// the cause itself is translated.
    pub fn cause(&self, stored: &str) -> String {
        let cause = ["down: ", "partial outage: ", "degraded: ", "maintenance: "]
            .iter()
            .find_map(|p| stored.strip_prefix(p))
            .unwrap_or(stored);
        if self.locale == Locale::En {
            return cause.to_owned();
        }
        if let Some(host) = cause
            .strip_prefix("host ")
            .and_then(|r| r.strip_suffix(" unreachable"))
        {
            return format!("hôte {host} injoignable");
        }
        if let Some(service) = cause.strip_prefix("depends on ") {
            return format!("dépend de {service}");
        }
        if let Some(rest) = cause.strip_prefix("monitor ") {
            return match rest.split_once(": ") {
                Some((monitor, reason)) => format!("sonde {monitor} : {reason}"),
                None => format!("sonde {rest}"),
            };
        }
        match cause {
            "scheduled maintenance" => "maintenance programmée".to_owned(),
            "stated by an open incident" => "déclaré par un incident en cours".to_owned(),
            other => other.to_owned(),
        }
    }

    /// The words for an incident's state.
    pub fn incident_status(&self, status: IncidentStatus) -> &'static str {
        match (self.locale, status) {
            (Locale::Fr, IncidentStatus::Investigating) => "Enquête en cours",
            (Locale::Fr, IncidentStatus::Identified) => "Cause identifiée",
            (Locale::Fr, IncidentStatus::Monitoring) => "Sous surveillance",
            (Locale::Fr, IncidentStatus::Resolved) => "Résolu",
            (Locale::Fr, IncidentStatus::Postmortem) => "Post-mortem",
            (Locale::En, IncidentStatus::Investigating) => "Investigating",
            (Locale::En, IncidentStatus::Identified) => "Identified",
            (Locale::En, IncidentStatus::Monitoring) => "Monitoring",
            (Locale::En, IncidentStatus::Resolved) => "Resolved",
            (Locale::En, IncidentStatus::Postmortem) => "Postmortem",
        }
    }

    /// "Open incidents".
    pub fn open_incidents(&self) -> &'static str {
        match self.locale {
            Locale::Fr => "Incidents en cours",
            Locale::En => "Open incidents",
        }
    }

    /// "depuis le 2026-11-27 14:03 UTC".
    pub fn since(&self, when: &str) -> String {
        match self.locale {
            Locale::Fr => format!("depuis le {when}"),
            Locale::En => format!("since {when}"),
        }
    }

    /// "Services touchés : FrAndroid, Mobs".
    pub fn affected(&self, services: &str) -> String {
        match self.locale {
            Locale::Fr => format!("Services touchés : {services}"),
            Locale::En => format!("Affected services: {services}"),
        }
    }

    fn just_updated(&self) -> &'static str {
        match self.locale {
            Locale::Fr => "Mis à jour à l'instant",
            Locale::En => "Updated just now",
        }
    }
}

/// Words of the feeds, the maintenance calendar and the badges.
impl Texts {
    /// Title prefix of a maintenance notice: "Maintenance planifiée".
    pub fn maintenance_scheduled(&self) -> &'static str {
        match self.locale {
            Locale::Fr => "Maintenance planifiée",
            Locale::En => "Maintenance scheduled",
        }
    }

    /// Title prefix of a maintenance notice: "Maintenance commencée".
    pub fn maintenance_started(&self) -> &'static str {
        match self.locale {
            Locale::Fr => "Maintenance commencée",
            Locale::En => "Maintenance started",
        }
    }

    /// Title prefix of a maintenance notice: "Maintenance terminée".
    pub fn maintenance_completed(&self) -> &'static str {
        match self.locale {
            Locale::Fr => "Maintenance terminée",
            Locale::En => "Maintenance completed",
        }
    }

    /// "Fenêtre : du 2026-11-28 02:00 au 2026-11-28 04:00 UTC".
    pub fn maintenance_window(&self, from: &str, to: &str) -> String {
        match self.locale {
            Locale::Fr => format!("Fenêtre : du {from} au {to}"),
            Locale::En => format!("Window: from {from} to {to}"),
        }
    }

    /// The feed's description: "Incidents et maintenances de Humanoid".
    pub fn feed_description(&self, of: &str) -> String {
        match self.locale {
            Locale::Fr => format!("Incidents et maintenances : {of}"),
            Locale::En => format!("Incidents and maintenance: {of}"),
        }
    }

    /// The calendar's name: "Humanoid — maintenances".
    pub fn calendar_name(&self, site: &str) -> String {
        match self.locale {
            Locale::Fr => format!("{site} — maintenances"),
            Locale::En => format!("{site} — maintenance"),
        }
    }

    /// Label of the uptime badge: "disponibilité 30 j", "uptime 30 d".
    pub fn uptime_over(&self, days: u32) -> String {
        match self.locale {
            Locale::Fr => format!("disponibilité {days} j"),
            Locale::En => format!("uptime {days} d"),
        }
    }

    /// "99,95 %" / "99.95%": a percentage written the way each language writes it.
    pub fn percent(&self, value: f64) -> String {
        let text = if (99.995..100.0).contains(&value) {
            // Never round a short outage up to a perfect score.
            "99.99".to_owned()
        } else if value >= 100.0 {
            "100".to_owned()
        } else {
            format!("{value:.2}")
        };
        match self.locale {
            Locale::Fr => format!("{} %", text.replace('.', ",")),
            Locale::En => format!("{text}%"),
        }
    }
}

/// The locale of the page being rendered. On the server: `?lang=`, `Accept-Language`, then the
/// site default. In the browser: what the server wrote into `<html lang>`.
pub fn request_locale() -> Locale {
    #[cfg(feature = "ssr")]
    {
        use leptos::prelude::use_context;
        let default = use_context::<crate::context::AppContext>()
            .map(|c| c.default_locale)
            .unwrap_or_default();
        let Some(parts) = use_context::<http::request::Parts>() else {
            return default;
        };
        let query_lang = parts.uri.query().and_then(|q| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix("lang="))
                .map(str::to_owned)
        });
        let accept = parts
            .headers
            .get(http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        Locale::negotiate(query_lang.as_deref(), accept, default)
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
            .and_then(|e| e.get_attribute("lang"))
            .and_then(|l| Locale::from_tag(&l))
            .unwrap_or_default()
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        Locale::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_follow_each_language() {
        assert_eq!(FR.banner_major(1), "Panne majeure : 1 service touché");
        assert_eq!(FR.banner_major(5), "Panne majeure : 5 services touchés");
        assert_eq!(EN.banner_major(5), "Major outage: 5 services affected");
    }

    #[test]
    fn relative_clock_reads_naturally() {
        assert_eq!(FR.updated_ago(0), "Mis à jour à l'instant");
        assert_eq!(FR.updated_ago(12), "Mis à jour il y a 12 s");
        assert_eq!(EN.updated_ago(125), "Updated 2 min ago");
    }

    #[test]
    fn causes_read_in_french() {
        assert_eq!(
            FR.cause("down: host phys-2 unreachable"),
            "hôte phys-2 injoignable"
        );
        assert_eq!(
            FR.cause("partial outage: depends on databases"),
            "dépend de databases"
        );
        assert_eq!(
            FR.cause("degraded: monitor home: HTTP 502"),
            "sonde home : HTTP 502"
        );
        assert_eq!(
            EN.cause("down: host phys-2 unreachable"),
            "host phys-2 unreachable"
        );
    }

    #[test]
    fn no_data_is_never_called_operational() {
        assert_eq!(FR.state(ServiceState::NoData), "Aucune donnée");
        assert_eq!(EN.state(ServiceState::NoData), "No data");
    }
}
