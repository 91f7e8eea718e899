//! The staff member's language: every label and message of a console page is in one language,
//! and the statuses, impacts and roles are named the same way on every page.

use domain::incident::{Impact, IncidentStatus};
use domain::locale::Locale;
use domain::staff::Role;
use domain::status::{ComponentStatus, ServiceState};

/// The staff member's language: every label and message of a page is in this one language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct L(pub Locale);

impl L {
    /// The language a browser asks for in its `Accept-Language`, else the site's default.
    pub fn negotiate(accept_language: Option<&str>, default: Locale) -> Self {
        L(Locale::negotiate(None, accept_language, default))
    }

    /// The French or the English text.
    pub fn t(self, fr: &'static str, en: &'static str) -> &'static str {
        match self.0 {
            Locale::Fr => fr,
            Locale::En => en,
        }
    }

    /// The French or the English text, built only for the language used.
    pub fn f(self, fr: impl FnOnce() -> String, en: impl FnOnce() -> String) -> String {
        match self.0 {
            Locale::Fr => fr(),
            Locale::En => en(),
        }
    }

    /// The public pages' words (status names, dates), in this language.
    pub fn texts(self) -> &'static wording::Texts {
        wording::texts(self.0)
    }

    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// A service status in words ("Panne majeure").
    pub fn status(self, s: ComponentStatus) -> &'static str {
        self.texts().state(ServiceState::Known(s))
    }

    /// A service state in words, "no data" included.
    pub fn state(self, s: ServiceState) -> &'static str {
        self.texts().state(s)
    }

    /// An incident status in words ("Cause identifiée").
    pub fn incident_status(self, s: IncidentStatus) -> &'static str {
        self.texts().incident_status(s)
    }

    /// An impact in words ("Majeur"), as the select offers it.
    pub fn impact(self, i: Impact) -> &'static str {
        match i {
            Impact::None => self.t("Aucun", "None"),
            Impact::Minor => self.t("Mineur", "Minor"),
            Impact::Major => self.t("Majeur", "Major"),
            Impact::Critical => self.t("Critique", "Critical"),
        }
    }

    pub fn role(self, r: Role) -> &'static str {
        match r {
            Role::Editor => self.t("rédaction", "editor"),
            Role::Admin => self.t("administration", "admin"),
        }
    }
}

/// Service statuses in the order a select offers them, best first.
pub const STATUSES: [ComponentStatus; 5] = [
    ComponentStatus::Operational,
    ComponentStatus::DegradedPerformance,
    ComponentStatus::PartialOutage,
    ComponentStatus::MajorOutage,
    ComponentStatus::UnderMaintenance,
];
