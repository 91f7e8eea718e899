//! What Vigie says, in French and English, and the marks shown beside it: the public pages,
//! the staff console, feeds, badges and exports all take their words from here, so a status
//! reads the same everywhere. Plain data in, `&'static str` or `String` out: no Leptos, no
//! store, no I/O, so every crate (the browser's wasm included) can use it.
//!
//! Written by hand rather than with leptos_i18n on purpose: the locale is resolved per request
//! (`?lang=`, then `Accept-Language`, then the site default; `app::i18n::request_locale`) and
//! written into `<html lang>`, and the hydrated page reads it back from there, so server and
//! browser render the same text. A plain struct per language makes a missing translation a
//! compile error, and plural rules are ordinary functions.
//!
//! One file per concern: [`clock`] (dates, times, durations, always in the site's timezone
//! and labelled), [`service_page`] (bars, uptime, chart, probe table), [`pages`] (incident,
//! history and maintenance pages, site chrome), [`feeds`] (feeds, calendar, badges),
//! [`causes`] (why a service is not operational). This file holds the words of statuses and
//! the overview, the status icons and the favicon.

use domain::incident::{Impact, IncidentStatus, MaintenanceStatus};
use domain::locale::Locale;
use domain::status::{ComponentStatus, ServiceState};

/// A small inline icon (a lookout's eye), so browsers do not ask for `/favicon.ico`; the public
/// pages, the console and the subscription pages all use it. Spaces are written %20: a URL may
/// not hold a raw space.
pub const FAVICON: &str = "data:image/svg+xml,%3Csvg%20xmlns='http://www.w3.org/2000/svg'%20viewBox='0%200%2032%2032'%3E%3Ccircle%20cx='16'%20cy='16'%20r='15'%20fill='%23116b3c'/%3E%3Cellipse%20cx='16'%20cy='16'%20rx='10'%20ry='6'%20fill='white'/%3E%3Ccircle%20cx='16'%20cy='16'%20r='3.5'%20fill='%23116b3c'/%3E%3C/svg%3E";

/// The icon shown beside a status word (never colour alone); hidden from screen readers, which
/// read the word.
pub fn status_icon(state: ServiceState) -> &'static str {
    match state {
        ServiceState::NoData => "?",
        ServiceState::Known(ComponentStatus::Operational) => "✓",
        ServiceState::Known(ComponentStatus::UnderMaintenance) => "⚒",
        ServiceState::Known(ComponentStatus::DegradedPerformance) => "!",
        ServiceState::Known(ComponentStatus::PartialOutage) => "!",
        ServiceState::Known(ComponentStatus::MajorOutage) => "✕",
    }
}

/// French then English, for the strings below: one `match` per string keeps both languages
/// side by side.
macro_rules! pick {
    ($t:expr, $fr:expr, $en:expr) => {
        match $t.locale {
            Locale::Fr => $fr,
            Locale::En => $en,
        }
    };
}

mod causes;
mod clock;
mod feeds;
pub use feeds::WindowStage;
mod pages;
mod service_page;

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

    /// The banner when open incidents, not the services' probes, make the page read badly:
    /// "Panne majeure : 1 incident en cours" / "Perturbations : 2 incidents en cours".
    pub fn banner_incidents(&self, major: bool, incidents: usize) -> String {
        let n = incidents.max(1);
        match (self.locale, major, n) {
            (Locale::Fr, true, 1) => "Panne majeure : 1 incident en cours".to_owned(),
            (Locale::Fr, true, n) => format!("Panne majeure : {n} incidents en cours"),
            (Locale::Fr, false, 1) => "Perturbations : 1 incident en cours".to_owned(),
            (Locale::Fr, false, n) => format!("Perturbations : {n} incidents en cours"),
            (Locale::En, true, 1) => "Major outage: 1 incident in progress".to_owned(),
            (Locale::En, true, n) => format!("Major outage: {n} incidents in progress"),
            (Locale::En, false, 1) => "Partial disruption: 1 incident in progress".to_owned(),
            (Locale::En, false, n) => format!("Partial disruption: {n} incidents in progress"),
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

    /// "Services touchés : FrAndroid, Mobs".
    pub fn affected(&self, services: &str) -> String {
        match self.locale {
            Locale::Fr => format!("Services touchés : {services}"),
            Locale::En => format!("Affected services: {services}"),
        }
    }

    pub fn outcome(&self, outcome: Option<domain::status::CheckOutcome>) -> &'static str {
        use domain::status::CheckOutcome as O;
        match (self.locale, outcome) {
            (Locale::Fr, None) => "Pas encore contrôlé",
            (Locale::Fr, Some(O::Up)) => "En ligne",
            (Locale::Fr, Some(O::Degraded)) => "Dégradé",
            (Locale::Fr, Some(O::Down)) => "Hors ligne",
            (Locale::En, None) => "Not checked yet",
            (Locale::En, Some(O::Up)) => "Up",
            (Locale::En, Some(O::Degraded)) => "Degraded",
            (Locale::En, Some(O::Down)) => "Down",
        }
    }

    /// "Impact : majeur".
    pub fn impact(&self, impact: Impact) -> String {
        let word = match impact {
            Impact::None => pick!(self, "aucun", "none"),
            Impact::Minor => pick!(self, "mineur", "minor"),
            Impact::Major => pick!(self, "majeur", "major"),
            Impact::Critical => pick!(self, "critique", "critical"),
        };
        pick!(self, format!("Impact : {word}"), format!("Impact: {word}"))
    }

    /// The words for a maintenance window's status.
    pub fn maintenance_status(&self, status: MaintenanceStatus) -> &'static str {
        match status {
            MaintenanceStatus::Scheduled => pick!(self, "Programmée", "Scheduled"),
            MaintenanceStatus::InProgress => pick!(self, "En cours", "In progress"),
            MaintenanceStatus::Verifying => pick!(self, "Vérification", "Verifying"),
            MaintenanceStatus::Completed => pick!(self, "Terminée", "Completed"),
        }
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
        assert_eq!(
            FR.banner_incidents(true, 1),
            "Panne majeure : 1 incident en cours"
        );
        assert_eq!(
            EN.banner_incidents(false, 2),
            "Partial disruption: 2 incidents in progress"
        );
    }

    #[test]
    fn no_data_is_never_called_operational() {
        assert_eq!(FR.state(ServiceState::NoData), "Aucune donnée");
        assert_eq!(EN.state(ServiceState::NoData), "No data");
    }
}
