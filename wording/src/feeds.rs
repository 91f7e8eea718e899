//! Words of the feeds, the maintenance calendar and the badges.

use domain::locale::Locale;

use super::Texts;

/// The stage of a maintenance window a feed entry announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowStage {
    Scheduled,
    Started,
    Completed,
}

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
        domain::dates::maintenance_window(self.locale, from, to, zone)
    }

    /// A started window's entry: "Maintenance commencée le 28 novembre 2026 à 02:00 (heure de
    /// Paris) ; fin prévue le 28 novembre 2026 à 04:00 (heure de Paris)."
    pub fn maintenance_began(
        &self,
        at: &domain::incident::SiteTime,
        until: &domain::incident::SiteTime,
        zone: &str,
    ) -> String {
        domain::dates::maintenance_began(self.locale, at, until, zone)
    }

    /// A completed window's entry: "Maintenance terminée le 28 novembre 2026 à 04:00 (heure de
    /// Paris)."
    pub fn maintenance_ended(&self, at: &domain::incident::SiteTime, zone: &str) -> String {
        domain::dates::maintenance_ended(self.locale, at, zone)
    }

    /// What a window does to each service at one stage: "Forum (maintenance prévue)",
    /// "Forum (En maintenance)", "Forum (maintenance terminée)".
    pub fn window_service(&self, name: &str, stage: WindowStage) -> String {
        let status = match (stage, self.locale) {
            (WindowStage::Scheduled, Locale::Fr) => "maintenance prévue",
            (WindowStage::Scheduled, Locale::En) => "maintenance planned",
            (WindowStage::Started, _) => self.state(domain::status::ServiceState::Known(
                domain::status::ComponentStatus::UnderMaintenance,
            )),
            (WindowStage::Completed, Locale::Fr) => "maintenance terminée",
            (WindowStage::Completed, Locale::En) => "maintenance over",
        };
        format!("{name} ({status})")
    }

    /// "Services concernés : Forum (maintenance prévue)".
    pub fn services_concerned(&self, list: &str) -> String {
        match self.locale {
            Locale::Fr => format!("Services concernés : {list}"),
            Locale::En => format!("Services concerned: {list}"),
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
