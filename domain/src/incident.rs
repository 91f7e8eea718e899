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

// ---- Public incident, history and maintenance pages -------------------------------------

/// An instant as readers see it: carrying the site timezone's UTC offset at that instant.
/// The server converts (it knows the IANA zone); the browser only formats, so server and
/// browser render the same text at hydration without shipping a timezone database to wasm.
pub type SiteTime = chrono::DateTime<chrono::FixedOffset>;

/// One published update on the incident page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateEntry {
    pub id: i64,
    pub status: IncidentStatus,
    /// Sanitised when published: safe to insert as is.
    pub message_html: String,
    pub created_at: SiteTime,
    pub edited_at: Option<SiteTime>,
}

/// `/incidents/{id}`: the whole story of one incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentPage {
    /// When the server read it: relative times count from here.
    pub generated_at: SiteTime,
    /// IANA name of the site timezone, e.g. `Europe/Paris`.
    pub timezone: String,
    pub id: i64,
    pub title: String,
    pub status: IncidentStatus,
    pub impact: Impact,
    pub started_at: SiteTime,
    pub resolved_at: Option<SiteTime>,
    pub services: Vec<AffectedService>,
    /// Every update that is not a postmortem, newest first.
    pub updates: Vec<UpdateEntry>,
    /// The postmortem updates, newest first (empty when none was published).
    pub postmortem: Vec<UpdateEntry>,
}

/// An open incident on `/`, its times in the site timezone: the overview is an island, and
/// the browser formats what the server converted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenIncident {
    pub id: i64,
    pub title: String,
    pub status: IncidentStatus,
    pub impact: Impact,
    pub started_at: SiteTime,
    pub services: Vec<AffectedService>,
    /// The latest update, if any.
    pub latest: Option<UpdateEntry>,
}

/// A maintenance window on `/maintenance`, `/` and in the history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceEntry {
    pub id: i64,
    pub title: String,
    pub status: MaintenanceStatus,
    pub starts_at: SiteTime,
    pub ends_at: SiteTime,
    pub services: Vec<AffectedService>,
    pub message_html: String,
}

/// One line of `/history`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HistoryEntry {
    Incident {
        id: i64,
        title: String,
        status: IncidentStatus,
        impact: Impact,
        started_at: SiteTime,
        resolved_at: Option<SiteTime>,
    },
    Maintenance {
        id: i64,
        title: String,
        status: MaintenanceStatus,
        starts_at: SiteTime,
        ends_at: SiteTime,
        /// The `/maintenance` page that lists this window among past ones (1 if not past).
        page: u32,
    },
}

impl HistoryEntry {
    /// When it began, in the site timezone: entries are grouped by this month.
    pub fn began(&self) -> SiteTime {
        match self {
            HistoryEntry::Incident { started_at, .. } => *started_at,
            HistoryEntry::Maintenance { starts_at, .. } => *starts_at,
        }
    }
}

/// A month of history, in the site timezone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryMonth {
    pub year: i32,
    /// 1..=12.
    pub month: u32,
    /// Newest first.
    pub entries: Vec<HistoryEntry>,
}

/// `/history?page=N`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub timezone: String,
    /// 1-based.
    pub page: u32,
    /// At least 1, even when there is nothing yet.
    pub pages: u32,
    /// Newest month first.
    pub months: Vec<HistoryMonth>,
}

/// `/maintenance?page=N`: windows in progress and to come, and a page of past ones.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenancePage {
    pub timezone: String,
    /// Earliest first.
    pub active: Vec<MaintenanceEntry>,
    /// Soonest first.
    pub upcoming: Vec<MaintenanceEntry>,
    /// Latest first.
    pub past: Vec<MaintenanceEntry>,
    pub page: u32,
    pub pages: u32,
}

/// What `/` shows beside the services: how fresh the probe data is, and maintenance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeExtras {
    pub timezone: String,
    /// The newest probe result of any monitor; `None` before the first one.
    pub data_as_of: Option<SiteTime>,
    /// No monitor has reported for more than three of its intervals.
    pub stale: bool,
    pub active_maintenance: Vec<MaintenanceEntry>,
    /// The soonest few.
    pub upcoming_maintenance: Vec<MaintenanceEntry>,
    /// Incidents resolved in the last [`RECENT_DAYS`] days, latest start first: once an
    /// incident is over, `/` still says what happened.
    #[serde(default)]
    pub recent_incidents: Vec<RecentIncident>,
    /// Probe locations reporting, and how many there are (only said with several).
    #[serde(default)]
    pub locations: Option<(u32, u32)>,
}

/// How far back `/` lists resolved incidents.
pub const RECENT_DAYS: i64 = 7;

/// A resolved incident on `/`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentIncident {
    pub id: i64,
    pub title: String,
    pub status: IncidentStatus,
    pub impact: Impact,
    pub started_at: SiteTime,
    pub resolved_at: Option<SiteTime>,
}

/// Pages needed to show `total` items, `per_page` a page: at least one.
pub fn page_count(total: u64, per_page: u64) -> u32 {
    let per_page = per_page.max(1);
    u32::try_from(total.div_ceil(per_page).max(1)).unwrap_or(u32::MAX)
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

    #[test]
    fn an_empty_history_still_has_one_page_and_a_full_last_page_adds_none() {
        assert_eq!(page_count(0, 20), 1);
        assert_eq!(page_count(20, 20), 1);
        assert_eq!(page_count(21, 20), 2);
    }
}
