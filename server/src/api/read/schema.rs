//! The bodies of `/api/v1`'s reads (and the incident and window bodies the write API answers
//! with), as the OpenAPI document describes them.

use chrono::{DateTime, NaiveDate, Utc};
use domain::incident::{IncidentView, MaintenanceView};
use serde::Serialize;
use utoipa::ToSchema;

/// The group a service belongs to.
#[derive(Serialize, ToSchema)]
pub struct GroupRef {
    pub id: String,
    pub name: String,
}

/// A service as readers see it now.
#[derive(Serialize, ToSchema)]
pub struct Service {
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub url: Option<String>,
    pub group: GroupRef,
    /// A component status, or `no_data` when the probes have not reported recently.
    #[schema(example = "operational")]
    pub status: String,
    /// Why the service is not operational, e.g. `down: host phys-2 unreachable`.
    pub cause: Option<String>,
    /// Since when the engine's status holds.
    pub since: Option<DateTime<Utc>>,
    /// Uptime in percent over the last 90 local days; null without data.
    pub uptime_90d: Option<f64>,
}

/// The latest result of a monitor at one probe location.
#[derive(Serialize, ToSchema)]
pub struct LocationResult {
    pub location: String,
    /// The outcome confirmed at this location (`up`, `degraded`, `down`).
    pub confirmed: Option<String>,
    /// The latest outcome, confirmed or not.
    pub outcome: Option<String>,
    pub checked_at: Option<DateTime<Utc>>,
    pub latency_ms: Option<i32>,
    pub status_code: Option<i32>,
    pub reason: Option<String>,
}

/// A monitor of a service. Its target is not shown: it may be an internal address.
#[derive(Serialize, ToSchema)]
pub struct Monitor {
    pub id: i64,
    pub name: String,
    /// `http`, `keyword`, `json`, `tcp`, `dns`, `tls` or `push`.
    pub kind: String,
    pub interval_s: f64,
    pub locations: Vec<LocationResult>,
}

/// A service with its monitors.
#[derive(Serialize, ToSchema)]
pub struct ServiceDetail {
    #[serde(flatten)]
    pub service: Service,
    pub monitors: Vec<Monitor>,
}

/// An incident that touched a service on a day.
#[derive(Serialize, ToSchema)]
pub struct DayIncident {
    pub id: i64,
    pub title: String,
}

/// One local day (site timezone) of a service's availability.
#[derive(Serialize, ToSchema)]
pub struct Day {
    pub date: NaiveDate,
    /// Time with data, outside maintenance.
    pub counted_ms: i64,
    /// Weighted: major outage 1.0, partial outage 0.3, degraded 0.
    pub downtime_ms: i64,
    pub maintenance_ms: i64,
    pub no_data_ms: i64,
    /// The worst component status of the day; null without data.
    pub worst: Option<String>,
    pub uptime_pct: Option<f64>,
    /// `no_data`, `operational`, `minor`, `major`, `critical`.
    pub level: String,
    pub incidents: Vec<DayIncident>,
}

/// Daily uptime of a service.
#[derive(Serialize, ToSchema)]
pub struct Uptime {
    pub slug: String,
    pub days: u32,
    /// Over the whole window; null without data.
    pub uptime_pct: Option<f64>,
    /// Oldest first, ending today.
    pub daily: Vec<Day>,
}

/// One point of a latency series.
#[derive(Serialize, ToSchema)]
pub struct LatencyPoint {
    /// Start of the hour or day (UTC).
    pub at: DateTime<Utc>,
    pub p50_ms: Option<u32>,
    pub p95_ms: Option<u32>,
    pub checks: i64,
}

/// A monitor's latency series (all locations merged).
#[derive(Serialize, ToSchema)]
pub struct LatencySeries {
    pub monitor_id: i64,
    pub name: String,
    pub points: Vec<LatencyPoint>,
}

/// Latency of a service's monitors over a range.
#[derive(Serialize, ToSchema)]
pub struct Latency {
    pub slug: String,
    /// `24h`, `7d` or `30d`.
    pub range: String,
    /// `hour` or `day`.
    pub period: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub series: Vec<LatencySeries>,
}

/// A service an incident or window names, with the status stated for it.
#[derive(Serialize, ToSchema)]
pub struct AffectedService {
    pub service_id: String,
    pub name: String,
    pub status: String,
}

/// One update of an incident.
#[derive(Serialize, ToSchema)]
pub struct IncidentUpdate {
    pub id: i64,
    pub status: String,
    pub message_md: String,
    /// Rendered from Markdown and sanitised when written.
    pub message_html: String,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
}

/// An incident (the write API returns the same shape).
#[derive(Serialize, ToSchema)]
pub struct Incident {
    pub id: i64,
    pub title: String,
    /// `investigating`, `identified`, `monitoring`, `resolved`, `postmortem`.
    pub status: String,
    /// `none`, `minor`, `major`, `critical`.
    pub impact: String,
    pub started_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub services: Vec<AffectedService>,
    /// Newest first; lists carry only the latest update.
    pub updates: Vec<IncidentUpdate>,
}

impl From<IncidentView> for Incident {
    fn from(i: IncidentView) -> Self {
        Incident {
            id: i.id,
            title: i.title,
            status: i.status.as_str().to_owned(),
            impact: i.impact.as_str().to_owned(),
            started_at: i.started_at,
            resolved_at: i.resolved_at,
            created_at: i.created_at,
            updated_at: i.updated_at,
            services: i
                .services
                .into_iter()
                .map(|s| AffectedService {
                    service_id: s.service_id,
                    name: s.name,
                    status: s.status.as_str().to_owned(),
                })
                .collect(),
            updates: i
                .updates
                .into_iter()
                .map(|u| IncidentUpdate {
                    id: u.id,
                    status: u.status.as_str().to_owned(),
                    message_md: u.message_md,
                    message_html: u.message_html,
                    created_at: u.created_at,
                    edited_at: u.edited_at,
                })
                .collect(),
        }
    }
}

/// A page of incidents.
#[derive(Serialize, ToSchema)]
pub struct IncidentPage {
    pub page: u64,
    pub per_page: u64,
    pub total: u64,
    pub incidents: Vec<Incident>,
}

/// A maintenance window (the write API returns the same shape).
#[derive(Serialize, ToSchema)]
pub struct Maintenance {
    pub id: i64,
    pub title: String,
    pub message_md: String,
    pub message_html: String,
    /// `scheduled`, `in_progress`, `verifying`, `completed`, as of the request.
    pub status: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub services: Vec<AffectedService>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<MaintenanceView> for Maintenance {
    fn from(m: MaintenanceView) -> Self {
        Maintenance {
            id: m.id,
            title: m.title,
            message_md: m.message_md,
            message_html: m.message_html,
            status: m.status.as_str().to_owned(),
            starts_at: m.starts_at,
            ends_at: m.ends_at,
            services: m
                .services
                .into_iter()
                .map(|s| AffectedService {
                    service_id: s.service_id,
                    name: s.name,
                    status: s.status.as_str().to_owned(),
                })
                .collect(),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A page of maintenance windows.
#[derive(Serialize, ToSchema)]
pub struct MaintenancePage {
    pub page: u64,
    pub per_page: u64,
    pub total: u64,
    pub maintenances: Vec<Maintenance>,
}

/// An error body.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: String,
}
