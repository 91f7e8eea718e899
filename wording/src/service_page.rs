//! Words of the 90-day bar and the service page: uptime figures, the chart, the probe table.

use domain::locale::Locale;
use domain::status::ServiceState;

use super::Texts;

impl Texts {
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

    pub fn visit_service(&self) -> &'static str {
        match self.locale {
            Locale::Fr => "Ouvrir le service",
            Locale::En => "Open the service",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{EN, FR};

    #[test]
    fn percentages_and_milliseconds_follow_each_language() {
        assert_eq!(FR.percent(99.95), "99,95 %");
        assert_eq!(EN.percent(99.95), "99.95%");
        assert_eq!(FR.percent(99.999), "99,99 %", "never rounded up to 100");
        assert_eq!(EN.percent(100.0), "100%");
        assert_eq!(FR.ms(1200), "1 200 ms");
        assert_eq!(EN.ms(1200), "1,200 ms");
        assert_eq!(EN.ms(85), "85 ms");
    }

    #[test]
    fn an_uptime_figure_needs_an_hour_of_data_and_names_the_days_it_covers() {
        use domain::availability::Coverage;
        let nine_seconds = Coverage {
            days: 1,
            counted_ms: 9_000,
        };
        assert_eq!(FR.uptime_figure(Some(0.0), nine_seconds), "Mesure en cours");
        let three_days = Coverage {
            days: 3,
            counted_ms: 3 * 86_400_000,
        };
        assert_eq!(FR.uptime_figure(Some(99.5), three_days), "99,50 %");
        assert_eq!(EN.uptime_figure(None, Coverage::default()), "No data");
        assert_eq!(FR.uptime_over_days(3), "Disponibilité sur 3 jours");
        assert_eq!(EN.uptime_over_days(1), "Uptime over 1 day");
    }
}
