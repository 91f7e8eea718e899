//! Interface strings in French and English.
//!
//! Written by hand rather than with leptos_i18n on purpose: the locale is resolved per request
//! (`?lang=`, then `Accept-Language`, then the site default) and written into `<html lang>`,
//! and the hydrated page reads it back from there, so server and browser render the same text.
//! A plain struct per language makes a missing translation a compile error, and plural rules
//! are ordinary functions.

use chrono::{Datelike, Timelike};
use domain::incident::{Impact, IncidentStatus, MaintenanceStatus, SiteTime};
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
}

// ---- 90-day bar and service page (pages-service) ----

const MONTHS_SHORT_FR: [&str; 12] = [
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
    "déc.",
];
const MONTHS_SHORT_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl Texts {
    fn month(&self, date: chrono::NaiveDate) -> &'static str {
        use chrono::Datelike;
        let i = date.month0() as usize % 12;
        match self.locale {
            Locale::Fr => MONTHS_SHORT_FR[i],
            Locale::En => MONTHS_SHORT_EN[i],
        }
    }

    /// "27 nov. 2026" / "Nov 27, 2026".
    pub fn date(&self, date: chrono::NaiveDate) -> String {
        use chrono::Datelike;
        match self.locale {
            Locale::Fr => format!("{} {} {}", date.day(), self.month(date), date.year()),
            Locale::En => format!("{} {}, {}", self.month(date), date.day(), date.year()),
        }
    }

    /// "27 nov." / "Nov 27".
    pub fn short_date(&self, date: chrono::NaiveDate) -> String {
        use chrono::Datelike;
        match self.locale {
            Locale::Fr => format!("{} {}", date.day(), self.month(date)),
            Locale::En => format!("{} {}", self.month(date), date.day()),
        }
    }

    /// "27 nov. 2026 à 14:03" / "Nov 27, 2026, 14:03".
    pub fn naive_date_time(&self, at: chrono::NaiveDateTime) -> String {
        let time = at.format("%H:%M");
        match self.locale {
            Locale::Fr => format!("{} à {time}", self.date(at.date())),
            Locale::En => format!("{}, {time}", self.date(at.date())),
        }
    }

    /// "99,95 %" / "99.95%". Cut, not rounded, to two decimals: 99.999 % is not "100 %".
    pub fn percent(&self, pct: f64) -> String {
        let cut = (pct * 100.0).floor() / 100.0;
        let number = if cut >= 100.0 {
            "100".to_owned()
        } else {
            format!("{cut:.2}")
        };
        match self.locale {
            Locale::Fr => format!("{} %", number.replace('.', ",")),
            Locale::En => format!("{number}%"),
        }
    }

    /// An uptime figure, or the words for "no data".
    pub fn uptime(&self, pct: Option<f64>) -> String {
        match pct {
            Some(p) => self.percent(p),
            None => self.state(ServiceState::NoData).to_owned(),
        }
    }

    /// "1 200 ms" / "1,200 ms".
    pub fn ms(&self, ms: i64) -> String {
        let digits = ms.unsigned_abs().to_string();
        let sep = match self.locale {
            Locale::Fr => ' ',
            Locale::En => ',',
        };
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(sep);
            }
            out.push(c);
        }
        let sign = if ms < 0 { "-" } else { "" };
        format!("{sign}{out} ms")
    }

    /// What a day of the bar was, in words (the bar's colour is never alone).
    pub fn bar_level(&self, level: domain::availability::BarLevel) -> &'static str {
        use domain::availability::BarLevel as L;
        match (self.locale, level) {
            (Locale::Fr, L::NoData) => "Aucune donnée",
            (Locale::Fr, L::Operational) => "Aucune panne",
            (Locale::Fr, L::Minor) => "Perturbation mineure",
            (Locale::Fr, L::Major) => "Panne",
            (Locale::Fr, L::Critical) => "Panne majeure",
            (Locale::En, L::NoData) => "No data",
            (Locale::En, L::Operational) => "No downtime",
            (Locale::En, L::Minor) => "Minor disruption",
            (Locale::En, L::Major) => "Outage",
            (Locale::En, L::Critical) => "Major outage",
        }
    }

    /// "Disponibilité sur 90 jours" / "Uptime over 90 days": `days` counts only the days
    /// with data, so a figure is never said to stand on days nobody measured.
    pub fn uptime_over_days(&self, days: usize) -> String {
        match (self.locale, days) {
            (Locale::Fr, 0) => "Pas encore de mesure".to_owned(),
            (Locale::Fr, 1) => "Disponibilité sur 1 jour".to_owned(),
            (Locale::Fr, n) => format!("Disponibilité sur {n} jours"),
            (Locale::En, 0) => "Not measured yet".to_owned(),
            (Locale::En, 1) => "Uptime over 1 day".to_owned(),
            (Locale::En, n) => format!("Uptime over {n} days"),
        }
    }

    /// An uptime figure over days of the bar: the words for "no data" when nothing was
    /// measured, "Mesure en cours" while under an hour was, the figure otherwise.
    pub fn uptime_figure(
        &self,
        pct: Option<f64>,
        coverage: domain::availability::Coverage,
    ) -> String {
        match pct {
            Some(_) if !coverage.enough() => match self.locale {
                Locale::Fr => "Mesure en cours".to_owned(),
                Locale::En => "Measuring".to_owned(),
            },
            other => self.uptime(other),
        }
    }

    /// The accessible name of a service's bar.
    pub fn day_bar_name(&self, service: &str, days: usize) -> String {
        match self.locale {
            Locale::Fr => format!("{service} : disponibilité jour par jour sur {days} jours"),
            Locale::En => format!("{service}: uptime day by day over {days} days"),
        }
    }

    /// "il y a 90 jours" / "90 days ago".
    pub fn days_ago(&self, days: usize) -> String {
        match self.locale {
            Locale::Fr => format!("il y a {days} jours"),
            Locale::En => format!("{days} days ago"),
        }
    }

    pub fn today(&self) -> &'static str {
        match self.locale {
            Locale::Fr => "Aujourd'hui",
            Locale::En => "Today",
        }
    }

    pub fn no_incident_that_day(&self) -> &'static str {
        match self.locale {
            Locale::Fr => "Aucun incident ce jour-là",
            Locale::En => "No incident that day",
        }
    }

    /// "2 incidents :" / "1 incident:".
    pub fn incidents_that_day(&self, n: usize) -> String {
        match (self.locale, n) {
            (Locale::Fr, 1) => "1 incident :".to_owned(),
            (Locale::Fr, n) => format!("{n} incidents :"),
            (Locale::En, 1) => "1 incident:".to_owned(),
            (Locale::En, n) => format!("{n} incidents:"),
        }
    }

    pub fn legend(&self) -> &'static str {
        match self.locale {
            Locale::Fr => "Légende des barres de disponibilité",
            Locale::En => "Uptime bar legend",
        }
    }

    /// "24 h", "7 jours", "30 jours", "90 jours".
    pub fn range_label(&self, days_or_hours: &str) -> &'static str {
        match (self.locale, days_or_hours) {
            (_, "24h") => "24 h",
            (Locale::Fr, "7d") => "7 jours",
            (Locale::Fr, "30d") => "30 jours",
            (Locale::Fr, _) => "90 jours",
            (Locale::En, "7d") => "7 days",
            (Locale::En, "30d") => "30 days",
            (Locale::En, _) => "90 days",
        }
    }

    pub fn uptime_heading(&self) -> &'static str {
        match self.locale {
            Locale::Fr => "Disponibilité",
            Locale::En => "Uptime",
        }
    }

    pub fn response_time(&self) -> &'static str {
        match self.locale {
            Locale::Fr => "Temps de réponse",
            Locale::En => "Response time",
        }
    }

    pub fn period(&self) -> &'static str {
        match self.locale {
            Locale::Fr => "Période",
            Locale::En => "Period",
        }
    }

    /// The chart's accessible name.
    pub fn chart_name(&self, service: &str, window: &str) -> String {
        match self.locale {
            Locale::Fr => format!("Temps de réponse de {service} sur {window}, p50 et p95"),
            Locale::En => format!("{service} response time over {window}, p50 and p95"),
        }
    }

    pub fn p50_legend(&self) -> &'static str {
        match self.locale {
            Locale::Fr => "Médiane (p50), trait plein",
            Locale::En => "Median (p50), solid line",
        }
    }

    pub fn p95_legend(&self) -> &'static str {
        match self.locale {
            Locale::Fr => "95e centile (p95), tirets",
            Locale::En => "95th percentile (p95), dashed line",
        }
    }

    pub fn no_latency(&self) -> &'static str {
        match self.locale {
            Locale::Fr => "Aucun temps de réponse mesuré sur cette période.",
            Locale::En => "No response time measured in this period.",
        }
    }

    /// The chart in one sentence.
    pub fn chart_summary(&self, window: &str, median: &str, worst: &str, when: &str) -> String {
        match self.locale {
            Locale::Fr => format!("Sur {window} : médiane {median} ; pire p95 {worst} ({when})."),
            Locale::En => format!("Over {window}: median {median}; worst p95 {worst} ({when})."),
        }
    }

    pub fn locations_heading(&self) -> &'static str {
        match self.locale {
            Locale::Fr => "Derniers résultats par site de sonde",
            Locale::En => "Latest results by probe location",
        }
    }

    /// Column headers: monitor, location, last check, outcome, latency, reason.
    pub fn location_columns(&self) -> [&'static str; 6] {
        match self.locale {
            Locale::Fr => [
                "Sonde",
                "Site",
                "Dernier contrôle",
                "Résultat",
                "Latence",
                "Raison",
            ],
            Locale::En => [
                "Monitor",
                "Location",
                "Last check",
                "Outcome",
                "Latency",
                "Reason",
            ],
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

    pub fn monitors_heading(&self) -> &'static str {
        match self.locale {
            Locale::Fr => "Sondes",
            Locale::En => "Monitors",
        }
    }

    /// "http, toutes les 30 s, depuis 2 sites".
    pub fn monitor_line(&self, kind: &str, interval_secs: i64, locations: usize) -> String {
        let every = if interval_secs % 60 == 0 && interval_secs >= 60 {
            format!("{} min", interval_secs / 60)
        } else {
            format!("{interval_secs} s")
        };
        match (self.locale, locations) {
            (Locale::Fr, 1) => format!("{kind}, toutes les {every}, depuis 1 site"),
            (Locale::Fr, n) => format!("{kind}, toutes les {every}, depuis {n} sites"),
            (Locale::En, 1) => format!("{kind}, every {every}, from 1 location"),
            (Locale::En, n) => format!("{kind}, every {every}, from {n} locations"),
        }
    }

    pub fn incidents_heading(&self) -> &'static str {
        match self.locale {
            Locale::Fr => "Incidents ayant touché ce service",
            Locale::En => "Incidents that affected this service",
        }
    }

    pub fn no_service_incidents(&self) -> &'static str {
        match self.locale {
            Locale::Fr => "Aucun incident n'a touché ce service.",
            Locale::En => "No incident has affected this service.",
        }
    }

    /// "du 27 nov. 2026 à 14:03 au 27 nov. 2026 à 16:00" / "… (en cours)".
    pub fn incident_span(&self, from: &str, to: Option<&str>) -> String {
        match (self.locale, to) {
            (Locale::Fr, Some(to)) => format!("du {from} au {to}"),
            (Locale::Fr, None) => format!("depuis le {from} (en cours)"),
            (Locale::En, Some(to)) => format!("from {from} to {to}"),
            (Locale::En, None) => format!("since {from} (ongoing)"),
        }
    }

    pub fn feeds_heading(&self) -> &'static str {
        match self.locale {
            Locale::Fr => "Suivre ce service",
            Locale::En => "Follow this service",
        }
    }

    /// "Flux RSS de FrAndroid".
    pub fn feed_title(&self, format: &str, service: &str) -> String {
        match self.locale {
            Locale::Fr => format!("Flux {format} de {service}"),
            Locale::En => format!("{service} {format} feed"),
        }
    }

    pub fn visit_service(&self) -> &'static str {
        match self.locale {
            Locale::Fr => "Ouvrir le service",
            Locale::En => "Open the service",
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

// ---- Incident, history and maintenance pages; site chrome ---------------------------------

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

const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

impl Texts {
    pub fn nav_label(&self) -> &'static str {
        pick!(self, "Navigation principale", "Main navigation")
    }
    pub fn nav_status(&self) -> &'static str {
        pick!(self, "État", "Status")
    }
    pub fn nav_history(&self) -> &'static str {
        pick!(self, "Historique", "History")
    }
    pub fn nav_maintenance(&self) -> &'static str {
        pick!(self, "Maintenance", "Maintenance")
    }
    pub fn theme(&self) -> &'static str {
        pick!(self, "Thème", "Theme")
    }
    /// Words for the theme choices `light`, `dark`, `system`.
    pub fn theme_choice(&self, choice: &str) -> &'static str {
        match choice {
            "light" => pick!(self, "Clair", "Light"),
            "dark" => pick!(self, "Sombre", "Dark"),
            _ => pick!(self, "Système", "System"),
        }
    }
    pub fn feed_rss(&self) -> &'static str {
        pick!(self, "Flux RSS des incidents", "Incidents RSS feed")
    }
    pub fn feed_atom(&self) -> &'static str {
        pick!(self, "Flux Atom des incidents", "Incidents Atom feed")
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

    /// "Novembre 2026" / "November 2026".
    pub fn month_year(&self, year: i32, month: u32) -> String {
        let i = (month.clamp(1, 12) - 1) as usize;
        match self.locale {
            Locale::Fr => {
                let name = MONTHS_FR[i];
                let mut chars = name.chars();
                let first = chars.next().map(|c| c.to_uppercase().collect::<String>());
                format!("{}{} {year}", first.unwrap_or_default(), chars.as_str())
            }
            Locale::En => format!("{} {year}", MONTHS_EN[i]),
        }
    }

    /// "27 novembre 2026 à 14:03" / "27 November 2026, 14:03".
    pub fn date_time(&self, t: &SiteTime) -> String {
        let i = t.month0() as usize;
        match self.locale {
            Locale::Fr => format!(
                "{} {} {} à {:02}:{:02}",
                t.day(),
                MONTHS_FR[i],
                t.year(),
                t.hour(),
                t.minute()
            ),
            Locale::En => format!(
                "{} {} {}, {:02}:{:02}",
                t.day(),
                MONTHS_EN[i],
                t.year(),
                t.hour(),
                t.minute()
            ),
        }
    }

    /// "du 2 décembre 2026 à 22:00 au 3 décembre 2026 à 02:00".
    pub fn window(&self, from: &SiteTime, to: &SiteTime) -> String {
        let (a, b) = (self.date_time(from), self.date_time(to));
        pick!(self, format!("du {a} au {b}"), format!("from {a} to {b}"))
    }

    /// A length of time: "45 s", "12 min", "2 h 15 min", "3 j 4 h" / "3 d 4 h".
    pub fn duration(&self, seconds: i64) -> String {
        let s = seconds.max(0);
        let day = pick!(self, "j", "d");
        match s {
            0..=59 => format!("{s} s"),
            60..=3599 => format!("{} min", s / 60),
            3600..=86_399 if (s % 3600) / 60 == 0 => format!("{} h", s / 3600),
            3600..=86_399 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
            _ if (s % 86_400) / 3600 == 0 => format!("{} {day}", s / 86_400),
            _ => format!("{} {day} {} h", s / 86_400, (s % 86_400) / 3600),
        }
    }

    /// "il y a 3 h" / "3 h ago", or "dans 2 j" / "in 2 d" for a time to come.
    pub fn relative(&self, seconds_ago: i64) -> String {
        if seconds_ago.abs() < 5 {
            return pick!(self, "à l'instant", "just now").to_owned();
        }
        let d = self.duration(seconds_ago.abs());
        if seconds_ago > 0 {
            pick!(self, format!("il y a {d}"), format!("{d} ago"))
        } else {
            pick!(self, format!("dans {d}"), format!("in {d}"))
        }
    }

    /// "Durée : 2 h 15 min".
    pub fn lasted(&self, seconds: i64) -> String {
        let d = self.duration(seconds);
        pick!(self, format!("Durée : {d}"), format!("Duration: {d}"))
    }

    /// "En cours depuis le 27 novembre 2026 à 14:03 (3 h 12 min)".
    pub fn ongoing_since(&self, since: &SiteTime, seconds: i64) -> String {
        let (w, d) = (self.date_time(since), self.duration(seconds));
        pick!(
            self,
            format!("En cours depuis le {w} ({d})"),
            format!("Ongoing since {w} ({d})")
        )
    }

    /// "Début : …" / "Started: …".
    pub fn started(&self, when: &SiteTime) -> String {
        let w = self.date_time(when);
        pick!(self, format!("Début : {w}"), format!("Started: {w}"))
    }

    /// "Fin : …" / "Resolved: …".
    pub fn resolved(&self, when: &SiteTime) -> String {
        let w = self.date_time(when);
        pick!(self, format!("Résolu le {w}"), format!("Resolved: {w}"))
    }

    /// "modifié le …" / "edited …".
    pub fn edited(&self, when: &SiteTime) -> String {
        let w = self.date_time(when);
        pick!(self, format!("modifié le {w}"), format!("edited {w}"))
    }

    /// "Heures de Paris (Europe/Paris)" — the zone every time on the page is in.
    pub fn times_in(&self, zone: &str) -> String {
        pick!(
            self,
            format!("Heures indiquées dans le fuseau {zone}"),
            format!("Times shown in the {zone} timezone")
        )
    }

    pub fn incident_word(&self) -> &'static str {
        pick!(self, "Incident", "Incident")
    }
    pub fn maintenance_word(&self) -> &'static str {
        pick!(self, "Maintenance", "Maintenance")
    }
    pub fn affected_services(&self) -> &'static str {
        pick!(self, "Services touchés", "Affected services")
    }
    pub fn updates(&self) -> &'static str {
        pick!(self, "Mises à jour", "Updates")
    }
    pub fn postmortem(&self) -> &'static str {
        pick!(self, "Post-mortem", "Postmortem")
    }
    pub fn no_updates(&self) -> &'static str {
        pick!(self, "Aucune mise à jour publiée.", "No update published.")
    }

    pub fn history_title(&self) -> &'static str {
        pick!(
            self,
            "Historique des incidents et maintenances",
            "Incident and maintenance history"
        )
    }
    pub fn history_empty(&self) -> &'static str {
        pick!(
            self,
            "Aucun incident ni maintenance pour l'instant.",
            "No incidents or maintenance so far."
        )
    }
    pub fn pagination(&self) -> &'static str {
        pick!(self, "Pages", "Pages")
    }
    pub fn newer(&self) -> &'static str {
        pick!(self, "← Plus récents", "← Newer")
    }
    pub fn older(&self) -> &'static str {
        pick!(self, "Plus anciens →", "Older →")
    }
    /// "Page 2 sur 5".
    pub fn page_of(&self, page: u32, pages: u32) -> String {
        pick!(
            self,
            format!("Page {page} sur {pages}"),
            format!("Page {page} of {pages}")
        )
    }

    pub fn maintenance_title(&self) -> &'static str {
        pick!(self, "Maintenances", "Maintenance")
    }
    pub fn maintenance_active(&self) -> &'static str {
        pick!(self, "En cours", "In progress")
    }
    pub fn maintenance_upcoming(&self) -> &'static str {
        pick!(self, "À venir", "Upcoming")
    }
    pub fn maintenance_past(&self) -> &'static str {
        pick!(self, "Passées", "Past")
    }
    pub fn no_active_maintenance(&self) -> &'static str {
        pick!(
            self,
            "Aucune maintenance en cours.",
            "No maintenance in progress."
        )
    }
    pub fn no_upcoming_maintenance(&self) -> &'static str {
        pick!(
            self,
            "Aucune maintenance prévue.",
            "No maintenance scheduled."
        )
    }
    pub fn no_past_maintenance(&self) -> &'static str {
        pick!(self, "Aucune maintenance passée.", "No past maintenance.")
    }
    pub fn home_maintenance(&self) -> &'static str {
        pick!(
            self,
            "Maintenances en cours et à venir",
            "Active and upcoming maintenance"
        )
    }
    /// "Incidents des 7 derniers jours".
    pub fn recent_incidents(&self, days: i64) -> String {
        pick!(
            self,
            format!("Incidents des {days} derniers jours"),
            format!("Incidents in the last {days} days")
        )
    }
    pub fn no_recent_incidents(&self) -> &'static str {
        pick!(
            self,
            "Aucun incident sur cette période.",
            "No incidents in this period."
        )
    }
    pub fn all_history(&self) -> &'static str {
        pick!(self, "Tout l'historique", "Full history")
    }
    pub fn all_maintenance(&self) -> &'static str {
        pick!(self, "Toutes les maintenances", "All maintenance")
    }

    /// "Données à jour à 14:03:12" / "Data as of 14:03:12".
    pub fn data_as_of(&self, t: &SiteTime) -> String {
        let hms = format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second());
        pick!(
            self,
            format!("Données à jour à {hms}"),
            format!("Data as of {hms}")
        )
    }

    /// The stale banner: the probes stopped reporting.
    pub fn stale(&self, since: &SiteTime) -> String {
        let w = self.date_time(since);
        pick!(
            self,
            format!(
                "Les sondes n'ont rien rapporté depuis le {w} : l'état affiché peut être dépassé."
            ),
            format!("The probes have not reported since {w}: the status shown may be out of date.")
        )
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

    #[test]
    fn dates_months_and_durations_read_in_each_language() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-11-27T14:03:09+01:00").expect("time");
        assert_eq!(FR.date_time(&t), "27 novembre 2026 à 14:03");
        assert_eq!(EN.date_time(&t), "27 November 2026, 14:03");
        assert_eq!(FR.data_as_of(&t), "Données à jour à 14:03:09");
        assert_eq!(FR.month_year(2026, 8), "Août 2026");
        assert_eq!(EN.month_year(2026, 12), "December 2026");
        assert_eq!(FR.duration(8100), "2 h 15 min");
        assert_eq!(EN.duration(3 * 86_400 + 4 * 3600), "3 d 4 h");
        assert_eq!(FR.relative(7200), "il y a 2 h");
        assert_eq!(EN.relative(-120), "in 2 min");
    }
}

#[cfg(test)]
mod service_page_texts {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn dates_and_percentages_follow_each_language() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 27).expect("date");
        assert_eq!(FR.date(d), "27 nov. 2026");
        assert_eq!(EN.date(d), "Nov 27, 2026");
        assert_eq!(FR.percent(99.95), "99,95 %");
        assert_eq!(EN.percent(99.95), "99.95%");
        assert_eq!(FR.percent(99.999), "99,99 %", "never rounded up to 100");
        assert_eq!(EN.percent(100.0), "100%");
        assert_eq!(FR.ms(1200), "1 200 ms");
        assert_eq!(EN.ms(1200), "1,200 ms");
        assert_eq!(EN.ms(85), "85 ms");
    }
}
