//! Words of the feeds, the maintenance calendar and the badges.

use domain::locale::Locale;

use super::Texts;

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

    /// "Fenêtre : le 28 novembre 2026 de 02:00 à 04:00 (heure de Paris)".
    pub fn maintenance_window(
        &self,
        from: &domain::incident::SiteTime,
        to: &domain::incident::SiteTime,
        zone: &str,
    ) -> String {
        let w = self.window(from, to, zone);
        match self.locale {
            Locale::Fr => format!("Fenêtre : {w}"),
            Locale::En => format!("Window: {w}"),
        }
    }

    /// "Services concernés, état actuel : FrAndroid (Panne majeure)".
    pub fn services_now(&self, list: &str) -> String {
        match self.locale {
            Locale::Fr => format!("Services concernés, état actuel : {list}"),
            Locale::En => format!("Services concerned, current status: {list}"),
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

    pub fn feed_rss(&self) -> &'static str {
        pick!(self, "Flux RSS des incidents", "Incidents RSS feed")
    }

    pub fn feed_atom(&self) -> &'static str {
        pick!(self, "Flux Atom des incidents", "Incidents Atom feed")
    }
}
