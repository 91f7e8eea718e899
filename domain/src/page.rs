//! What the public page receives from the server: plain data, no behaviour.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::status::ServiceState;

/// The whole public overview (`/`), rendered on the server and hydrated in the browser.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusPage {
    pub title: String,
    /// When the server assembled this snapshot; the page's relative clock counts from it.
    pub generated_at: DateTime<Utc>,
    /// `generated_at` in the site timezone, for the text readers without JS see.
    #[serde(default)]
    pub generated_local: Option<crate::incident::SiteTime>,
    pub groups: Vec<GroupView>,
    /// Open incidents, newest first, each with its latest update.
    #[serde(default)]
    pub incidents: Vec<crate::incident::OpenIncident>,
    /// IANA name of the site timezone, which every time shown is in.
    #[serde(default)]
    pub timezone: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupView {
    pub id: String,
    pub name: String,
    pub services: Vec<ServiceView>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceView {
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub url: Option<String>,
    pub state: ServiceState,
    /// Why the service is not operational (host phys-2 unreachable, a monitor's reason…),
    /// worded per language by the page.
    #[serde(default)]
    pub cause: Option<crate::topology::Cause>,
    /// The instant `cause` names (a heartbeat's), converted to the site's timezone by the
    /// server: the browser has no timezone database, and readers see site times only.
    #[serde(default)]
    pub cause_at: Option<crate::incident::SiteTime>,
    /// Uptime over the 90 days of `days`; `None` when none of them has data.
    #[serde(default)]
    pub uptime_90d: Option<f64>,
    /// One entry per local day (site timezone), oldest first, ending today: the 90-day bar.
    /// Sent as runs of alike days.
    #[serde(default, with = "crate::availability::day_runs")]
    pub days: Vec<crate::availability::DayStat>,
}

/// `/services/{slug}`: one service in detail.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServicePage {
    /// The site's title, for the page title.
    pub site_title: String,
    pub generated_at: DateTime<Utc>,
    /// IANA name of the site's timezone, in which every local time below is given.
    pub timezone: String,
    pub service: ServiceView,
    /// Uptime over the last 24 h, 7 d, 30 d and 90 d.
    pub uptime: UptimeWindows,
    pub range: crate::chart::ChartRange,
    /// One point per hour (24 h, 7 d) or per day (30 d), oldest first, ending now.
    pub latency: Vec<crate::chart::LatencyPoint>,
    /// The newest result of each monitor at each location.
    pub locations: Vec<LocationResult>,
    pub monitors: Vec<MonitorView>,
    /// Incidents that named this service, newest first.
    pub incidents: Vec<ServiceIncident>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UptimeWindows {
    pub h24: Option<f64>,
    pub d7: Option<f64>,
    pub d30: Option<f64>,
    pub d90: Option<f64>,
}

/// The newest result one monitor got from one probe location.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LocationResult {
    pub monitor: String,
    pub location_id: String,
    pub location_name: String,
    /// Site-local time of the newest result; `None` before the first one.
    pub last_at: Option<chrono::NaiveDateTime>,
    pub outcome: Option<crate::status::CheckOutcome>,
    pub latency_ms: Option<i32>,
    /// Why the newest result (or the run it belongs to) was not `up`.
    pub reason: Option<crate::reason::Reason>,
    /// The instant `reason` names (a heartbeat's), in the site's timezone.
    #[serde(default)]
    pub reason_at: Option<crate::incident::SiteTime>,
}

/// A monitor of the service, as readers may see it: its kind and rhythm, not its target
/// (targets may be internal addresses).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonitorView {
    pub id: String,
    pub kind: String,
    pub interval_secs: i64,
    pub locations: usize,
}

/// An incident that touched the service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceIncident {
    pub id: i64,
    pub title: String,
    pub status: crate::incident::IncidentStatus,
    pub impact: crate::incident::Impact,
    /// Site-local start and resolution times.
    pub started_at: chrono::NaiveDateTime,
    pub resolved_at: Option<chrono::NaiveDateTime>,
}
