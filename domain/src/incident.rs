//! The incident and maintenance workflow: statuses, impacts, which transitions staff may make,
//! the maintenance window's status at a given instant, and the DTOs the public page, feeds and
//! APIs receive. Pure: `now` is always passed in.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::status::ComponentStatus;

/// Incident status, Statuspage vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
    Postmortem,
}

impl IncidentStatus {
    pub const ALL: [IncidentStatus; 5] = [
        IncidentStatus::Investigating,
        IncidentStatus::Identified,
        IncidentStatus::Monitoring,
        IncidentStatus::Resolved,
        IncidentStatus::Postmortem,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Investigating => "investigating",
            IncidentStatus::Identified => "identified",
            IncidentStatus::Monitoring => "monitoring",
            IncidentStatus::Resolved => "resolved",
            IncidentStatus::Postmortem => "postmortem",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Still open: readers see it among current incidents.
    pub fn is_open(self) -> bool {
        !matches!(self, IncidentStatus::Resolved | IncidentStatus::Postmortem)
    }

    /// Whether an update may move an incident from `self` to `next`. Open incidents may move
    /// between open states freely (a diagnosis can turn out wrong) or be resolved; a resolved
    /// incident may only get its postmortem (or a further resolved note); a postmortem may be
    /// amended but never reopened.
    pub fn can_become(self, next: IncidentStatus) -> bool {
        match self {
            IncidentStatus::Investigating
            | IncidentStatus::Identified
            | IncidentStatus::Monitoring => next != IncidentStatus::Postmortem,
            IncidentStatus::Resolved => {
                matches!(next, IncidentStatus::Resolved | IncidentStatus::Postmortem)
            }
            IncidentStatus::Postmortem => next == IncidentStatus::Postmortem,
        }
    }
}

/// Incident impact, Statuspage vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Impact {
    None,
    Minor,
    Major,
    Critical,
}

impl Impact {
    pub const ALL: [Impact; 4] = [Impact::None, Impact::Minor, Impact::Major, Impact::Critical];

    pub fn as_str(self) -> &'static str {
        match self {
            Impact::None => "none",
            Impact::Minor => "minor",
            Impact::Major => "major",
            Impact::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Maintenance status, Statuspage vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaintenanceStatus {
    Scheduled,
    InProgress,
    Verifying,
    Completed,
}

impl MaintenanceStatus {
    pub const ALL: [MaintenanceStatus; 4] = [
        MaintenanceStatus::Scheduled,
        MaintenanceStatus::InProgress,
        MaintenanceStatus::Verifying,
        MaintenanceStatus::Completed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MaintenanceStatus::Scheduled => "scheduled",
            MaintenanceStatus::InProgress => "in_progress",
            MaintenanceStatus::Verifying => "verifying",
            MaintenanceStatus::Completed => "completed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The status a window `[starts_at, ends_at)` has at `now`, given its stored status. Time
    /// only moves a window forward: a window staff marked `verifying` stays so until its end,
    /// and a completed window never restarts.
    pub fn at(
        self,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> MaintenanceStatus {
        if self == MaintenanceStatus::Completed || now >= ends_at {
            MaintenanceStatus::Completed
        } else if now >= starts_at {
            match self {
                MaintenanceStatus::Verifying => MaintenanceStatus::Verifying,
                _ => MaintenanceStatus::InProgress,
            }
        } else {
            self
        }
    }

    /// Services in an active window show `under_maintenance`.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            MaintenanceStatus::InProgress | MaintenanceStatus::Verifying
        )
    }
}

/// A service named in an incident, with the status staff stated for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedService {
    pub service_id: String,
    pub name: String,
    pub status: ComponentStatus,
}

/// One update of an incident. `message_html` was rendered from Markdown and sanitised when it
/// was written: it is safe to insert as is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentUpdateView {
    pub id: i64,
    pub status: IncidentStatus,
    pub message_md: String,
    pub message_html: String,
    pub created_at: DateTime<Utc>,
    /// Set when staff edited the text after publishing it.
    pub edited_at: Option<DateTime<Utc>>,
}

/// An incident with its latest update (lists) or all its updates, newest first (detail).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentView {
    pub id: i64,
    pub title: String,
    pub status: IncidentStatus,
    pub impact: Impact,
    pub started_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub services: Vec<AffectedService>,
    /// Newest first; lists carry only the latest one.
    pub updates: Vec<IncidentUpdateView>,
}

impl IncidentView {
    pub fn latest_update(&self) -> Option<&IncidentUpdateView> {
        self.updates.first()
    }
}

/// A maintenance window as readers see it, with its status at the time it was read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceView {
    pub id: i64,
    pub title: String,
    pub message_md: String,
    pub message_html: String,
    pub status: MaintenanceStatus,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub services: Vec<AffectedService>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A status staff set by hand on a service, overriding the computed one until cleared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManualStatus {
    pub service_id: String,
    pub status: ComponentStatus,
    pub note: Option<String>,
    pub set_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 27, h, 0, 0)
            .single()
            .expect("valid")
    }

    #[test]
    fn open_incident_may_move_between_open_states_and_resolve() {
        use IncidentStatus::*;
        assert!(Investigating.can_become(Identified));
        assert!(Monitoring.can_become(Investigating));
        assert!(Identified.can_become(Resolved));
        assert!(!Investigating.can_become(Postmortem));
    }

    #[test]
    fn resolved_incident_only_gets_a_postmortem_and_is_never_reopened() {
        use IncidentStatus::*;
        assert!(Resolved.can_become(Postmortem));
        assert!(!Resolved.can_become(Investigating));
        assert!(!Postmortem.can_become(Monitoring));
        assert!(!Postmortem.can_become(Resolved));
    }

    #[test]
    fn statuses_round_trip_through_their_text() {
        for s in IncidentStatus::ALL {
            assert_eq!(IncidentStatus::parse(s.as_str()), Some(s));
        }
        for s in Impact::ALL {
            assert_eq!(Impact::parse(s.as_str()), Some(s));
        }
        for s in MaintenanceStatus::ALL {
            assert_eq!(MaintenanceStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(IncidentStatus::parse("Resolved"), None);
    }

    #[test]
    fn maintenance_window_starts_and_completes_by_time() {
        use MaintenanceStatus::*;
        assert_eq!(Scheduled.at(t(2), t(4), t(1)), Scheduled);
        assert_eq!(Scheduled.at(t(2), t(4), t(2)), InProgress);
        assert_eq!(Scheduled.at(t(2), t(4), t(4)), Completed);
        assert_eq!(Verifying.at(t(2), t(4), t(3)), Verifying);
        assert_eq!(Completed.at(t(2), t(4), t(3)), Completed);
        assert!(InProgress.is_active() && !Completed.is_active());
    }
}
