//! Words of the incident, history and maintenance pages, and of the site chrome.

use domain::locale::Locale;

use super::Texts;

impl Texts {
    pub fn subscribe(&self) -> &'static str {
        pick!(self, "S'abonner", "Subscribe")
    }
    /// The subscribe menu's link to the e-mail subscription form.
    pub fn email_link(&self) -> &'static str {
        pick!(self, "Par e-mail", "By e-mail")
    }
    pub fn calendar_link(&self) -> &'static str {
        pick!(
            self,
            "Calendrier des maintenances (iCal)",
            "Maintenance calendar (iCal)"
        )
    }
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
}
