//! The bodies of `/api/v2`, in Statuspage's shape and vocabulary (field names, enums, nesting),
//! with the conversions from Vigie's own statuses.

use domain::status::{ComponentStatus, PageIndicator, ServiceState};
use serde::Serialize;
use utoipa::ToSchema;

/// The status page itself.
#[derive(Serialize, ToSchema)]
pub struct Page {
    pub id: String,
    pub name: String,
    pub url: String,
    /// IANA timezone name.
    pub time_zone: String,
    pub updated_at: String,
}

/// The page-wide indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    None,
    Minor,
    Major,
    Critical,
    Maintenance,
}

impl From<PageIndicator> for Indicator {
    fn from(p: PageIndicator) -> Self {
        match p {
            PageIndicator::None => Indicator::None,
            PageIndicator::Minor => Indicator::Minor,
            PageIndicator::Major => Indicator::Major,
            PageIndicator::Critical => Indicator::Critical,
            PageIndicator::Maintenance => Indicator::Maintenance,
        }
    }
}

/// `status`: indicator and a sentence.
#[derive(Serialize, ToSchema)]
pub struct Status {
    pub indicator: Indicator,
    pub description: String,
}

/// A component's status, Statuspage vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ComponentState {
    Operational,
    DegradedPerformance,
    PartialOutage,
    MajorOutage,
    UnderMaintenance,
}

impl From<ComponentStatus> for ComponentState {
    fn from(c: ComponentStatus) -> Self {
        match c {
            ComponentStatus::Operational => ComponentState::Operational,
            ComponentStatus::UnderMaintenance => ComponentState::UnderMaintenance,
            ComponentStatus::DegradedPerformance => ComponentState::DegradedPerformance,
            ComponentStatus::PartialOutage => ComponentState::PartialOutage,
            ComponentStatus::MajorOutage => ComponentState::MajorOutage,
        }
    }
}

/// The Statuspage status of a Vigie state (see the module documentation for no data).
pub(super) fn component_status(s: ServiceState) -> ComponentStatus {
    match s {
        ServiceState::Known(c) => c,
        ServiceState::NoData => ComponentStatus::DegradedPerformance,
    }
}

/// A component: a service, or a group of services (`group: true`).
#[derive(Clone, Serialize, ToSchema)]
pub struct Component {
    pub id: String,
    pub name: String,
    pub status: ComponentState,
    pub created_at: String,
    pub updated_at: String,
    pub position: i32,
    pub description: Option<String>,
    pub showcase: bool,
    /// Vigie records no start date for a service.
    pub start_date: Option<String>,
    pub group_id: Option<String>,
    pub page_id: String,
    pub group: bool,
    pub only_show_if_degraded: bool,
    /// Member component ids, on group components only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<String>>,
}

/// A component named by an incident update, with the status it moved from and to.
#[derive(Serialize, ToSchema)]
pub struct AffectedComponent {
    pub code: String,
    pub name: String,
    pub old_status: ComponentState,
    pub new_status: ComponentState,
}

/// One update of an incident or notice of a maintenance window.
#[derive(Serialize, ToSchema)]
pub struct IncidentUpdate {
    pub id: String,
    pub incident_id: String,
    /// An incident status (`investigating` … `postmortem`) or a maintenance status
    /// (`scheduled` … `completed`).
    pub status: String,
    /// Markdown.
    pub body: String,
    pub created_at: String,
    pub updated_at: String,
    pub display_at: String,
    /// `null` when the update changed no component.
    pub affected_components: Option<Vec<AffectedComponent>>,
    pub deliver_notifications: bool,
}

/// Incident impact (`maintenance` on scheduled maintenances).
#[derive(Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Impact {
    None,
    Minor,
    Major,
    Critical,
    Maintenance,
}

/// Incident status.
#[derive(Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentState {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
    Postmortem,
}

/// Scheduled maintenance status.
#[derive(Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MaintenanceState {
    Scheduled,
    InProgress,
    Verifying,
    Completed,
}

/// An incident.
#[derive(Serialize, ToSchema)]
pub struct Incident {
    pub id: String,
    pub name: String,
    pub status: IncidentState,
    pub impact: Impact,
    pub created_at: String,
    pub updated_at: String,
    pub monitoring_at: Option<String>,
    pub resolved_at: Option<String>,
    /// The incident's page.
    pub shortlink: Option<String>,
    pub page_id: String,
    /// Newest first.
    pub incident_updates: Vec<IncidentUpdate>,
    pub components: Vec<Component>,
}

/// A scheduled maintenance (an incident with maintenance statuses and a window).
#[derive(Serialize, ToSchema)]
pub struct ScheduledMaintenance {
    pub id: String,
    pub name: String,
    pub status: MaintenanceState,
    pub impact: Impact,
    pub created_at: String,
    pub updated_at: String,
    pub monitoring_at: Option<String>,
    pub resolved_at: Option<String>,
    /// Vigie has no page per window.
    pub shortlink: Option<String>,
    pub page_id: String,
    pub incident_updates: Vec<IncidentUpdate>,
    pub components: Vec<Component>,
    pub scheduled_for: String,
    pub scheduled_until: String,
}

/// `summary.json`.
#[derive(Serialize, ToSchema)]
pub struct Summary {
    pub page: Page,
    pub components: Vec<Component>,
    pub incidents: Vec<Incident>,
    pub scheduled_maintenances: Vec<ScheduledMaintenance>,
    pub status: Status,
}

/// `status.json`.
#[derive(Serialize, ToSchema)]
pub struct StatusBody {
    pub page: Page,
    pub status: Status,
}

/// `components.json`.
#[derive(Serialize, ToSchema)]
pub struct ComponentsBody {
    pub page: Page,
    pub components: Vec<Component>,
}

/// `incidents.json`, `incidents/unresolved.json`.
#[derive(Serialize, ToSchema)]
pub struct IncidentsBody {
    pub page: Page,
    pub incidents: Vec<Incident>,
}

/// `scheduled-maintenances*.json`.
#[derive(Serialize, ToSchema)]
pub struct MaintenancesBody {
    pub page: Page,
    pub scheduled_maintenances: Vec<ScheduledMaintenance>,
}
