//! The Statuspage-compatible public read API under `/api/v2` (what it answers and how Vigie
//! maps onto Statuspage's words: `docs/statuspage-api.md`): `summary.json`, `status.json`, `components.json`,
//! `incidents.json`, `incidents/unresolved.json`, `scheduled-maintenances.json` and its
//! `upcoming` / `active` lists. Statuspage clients and widgets read Vigie unchanged.
//!
//! How Vigie maps onto Statuspage:
//! - each group is a group component (`group: true`, `components` = member ids, id
//!   `group.<group id>`, which no service slug can take since slugs have no dot); each service
//!   is a component whose id is its slug, with `group_id` set;
//! - a service without fresh data has no Statuspage word: it is reported as
//!   `degraded_performance`, the least misleading choice: `operational` would show green for
//!   what nobody is watching (never: no data is not good news) and `major_outage` would accuse a service
//!   of Vigie's own blindness. `/api/v1/services` says `no_data` plainly;
//! - incident ids are the incident numbers (`"42"`, as in `/incidents/42`); maintenance ids are
//!   `m` + the window number, so the two lists never share an id; a window's single
//!   `incident_updates` entry is its notice (`m42-notice`), with the status the window had
//!   when it was written;
//! - a backdated incident's `created_at` is its start, as Statuspage backfilled incidents do;
//! - `old_status` of an update's affected component is the status the previous update of
//!   the same incident stated, `operational` when none did;
//! - timestamps are in the site's timezone, with offset and milliseconds.

use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, SecondsFormat, Utc};
use domain::incident::{IncidentStatus, MaintenanceStatus, MaintenanceView};
use domain::locale::Locale;
use domain::status::{ComponentStatus, PageIndicator, ServiceState};
use serde::Serialize;
use store::api_read::{GroupRow, IncidentDetail, IncidentFilter, ServiceRow};
use utoipa::ToSchema;

use super::read::json_response;
use super::ApiError;
use crate::state::AppState;
pub use domain::statuspage::{page_id, page_status};

/// Statuspage lists at most this many incidents or windows.
const LIST_LIMIT: u64 = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v2/summary.json", get(summary))
        .route("/api/v2/status.json", get(status))
        .route("/api/v2/components.json", get(components))
        .route("/api/v2/incidents.json", get(incidents))
        .route("/api/v2/incidents/unresolved.json", get(unresolved))
        .route("/api/v2/scheduled-maintenances.json", get(maintenances))
        .route(
            "/api/v2/scheduled-maintenances/upcoming.json",
            get(upcoming),
        )
        .route("/api/v2/scheduled-maintenances/active.json", get(active))
}

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
fn component_status(s: ServiceState) -> ComponentStatus {
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

/// What every body is built from: the site and, once loaded, the components.
struct Ctx<'a> {
    state: &'a AppState,
    page_id: String,
    components: Vec<Component>,
    by_id: HashMap<String, Component>,
}

impl<'a> Ctx<'a> {
    async fn load(state: &'a AppState, now: DateTime<Utc>) -> Result<Ctx<'a>, ApiError> {
        let groups = store::api_read::catalog(&state.ctx.db, now).await?;
        let page_id = page_id(&state.ctx.base_url);
        let components = build_components(state, &page_id, &groups);
        let by_id = components
            .iter()
            .filter(|c| !c.group)
            .map(|c| (c.id.clone(), c.clone()))
            .collect();
        Ok(Ctx {
            state,
            page_id,
            components,
            by_id,
        })
    }

    fn ts(&self, t: DateTime<Utc>) -> String {
        ts(self.state, t)
    }

    fn component(&self, id: &str) -> Option<Component> {
        self.by_id.get(id).cloned()
    }

    fn name_of(&self, id: &str) -> String {
        self.by_id
            .get(id)
            .map_or_else(|| id.to_owned(), |c| c.name.clone())
    }

    fn incident(&self, d: &IncidentDetail) -> Incident {
        let i = &d.incident;
        let id = i.id.to_string();
        // Updates are newest first: walk them oldest first to know each component's previous
        // stated status.
        let mut last: HashMap<&str, ComponentStatus> = HashMap::new();
        let mut updates = Vec::with_capacity(i.updates.len());
        for u in i.updates.iter().rev() {
            let stated = d.stated.get(&u.id).map(Vec::as_slice).unwrap_or_default();
            let affected: Vec<AffectedComponent> = stated
                .iter()
                .map(|(sid, st)| {
                    let old = last
                        .insert(sid.as_str(), *st)
                        .unwrap_or(ComponentStatus::Operational);
                    AffectedComponent {
                        code: sid.clone(),
                        name: self.name_of(sid),
                        old_status: old.into(),
                        new_status: (*st).into(),
                    }
                })
                .collect();
            updates.push(IncidentUpdate {
                id: u.id.to_string(),
                incident_id: id.clone(),
                status: u.status.as_str().to_owned(),
                body: u.message_md.clone(),
                created_at: self.ts(u.created_at),
                updated_at: self.ts(u.edited_at.unwrap_or(u.created_at)),
                display_at: self.ts(u.created_at),
                affected_components: (!affected.is_empty()).then_some(affected),
                deliver_notifications: d.notify,
            });
        }
        updates.reverse();
        let monitoring_at = i
            .updates
            .iter()
            .find(|u| u.status == IncidentStatus::Monitoring)
            .map(|u| self.ts(u.created_at));
        Incident {
            name: i.title.clone(),
            status: match i.status {
                IncidentStatus::Investigating => IncidentState::Investigating,
                IncidentStatus::Identified => IncidentState::Identified,
                IncidentStatus::Monitoring => IncidentState::Monitoring,
                IncidentStatus::Resolved => IncidentState::Resolved,
                IncidentStatus::Postmortem => IncidentState::Postmortem,
            },
            impact: match i.impact {
                domain::incident::Impact::None => Impact::None,
                domain::incident::Impact::Minor => Impact::Minor,
                domain::incident::Impact::Major => Impact::Major,
                domain::incident::Impact::Critical => Impact::Critical,
            },
            created_at: self.ts(i.started_at.min(i.created_at)),
            updated_at: self.ts(i.updated_at),
            monitoring_at,
            resolved_at: i.resolved_at.map(|t| self.ts(t)),
            shortlink: Some(format!(
                "{}/incidents/{}",
                self.state.ctx.base_url.trim_end_matches('/'),
                i.id
            )),
            page_id: self.page_id.clone(),
            incident_updates: updates,
            components: i
                .services
                .iter()
                .filter_map(|s| self.component(&s.service_id))
                .collect(),
            id,
        }
    }

    fn maintenance(&self, m: &MaintenanceView) -> ScheduledMaintenance {
        let id = format!("m{}", m.id);
        let status = |s: MaintenanceStatus| match s {
            MaintenanceStatus::Scheduled => MaintenanceState::Scheduled,
            MaintenanceStatus::InProgress => MaintenanceState::InProgress,
            MaintenanceStatus::Verifying => MaintenanceState::Verifying,
            MaintenanceStatus::Completed => MaintenanceState::Completed,
        };
        // The notice was written when the window was created: its status is the window's then.
        let notice_status = MaintenanceStatus::Scheduled.at(m.starts_at, m.ends_at, m.created_at);
        let affected: Vec<AffectedComponent> = m
            .services
            .iter()
            .map(|s| AffectedComponent {
                code: s.service_id.clone(),
                name: s.name.clone(),
                old_status: ComponentState::Operational,
                new_status: ComponentState::UnderMaintenance,
            })
            .collect();
        ScheduledMaintenance {
            name: m.title.clone(),
            status: status(m.status),
            impact: Impact::Maintenance,
            created_at: self.ts(m.created_at),
            updated_at: self.ts(m.updated_at),
            monitoring_at: None,
            resolved_at: (m.status == MaintenanceStatus::Completed)
                .then(|| self.ts(m.ends_at.min(m.updated_at.max(m.starts_at)))),
            shortlink: None,
            page_id: self.page_id.clone(),
            incident_updates: vec![IncidentUpdate {
                id: format!("{id}-notice"),
                incident_id: id.clone(),
                status: notice_status.as_str().to_owned(),
                body: m.message_md.clone(),
                created_at: self.ts(m.created_at),
                updated_at: self.ts(m.created_at),
                display_at: self.ts(m.created_at),
                affected_components: (!affected.is_empty()).then_some(affected),
                deliver_notifications: false,
            }],
            components: m
                .services
                .iter()
                .filter_map(|s| self.component(&s.service_id))
                .collect(),
            scheduled_for: self.ts(m.starts_at),
            scheduled_until: self.ts(m.ends_at),
            id,
        }
    }

    async fn page(&self, now: DateTime<Utc>) -> Result<Page, ApiError> {
        let updated = store::api_read::last_change(&self.state.ctx.db)
            .await?
            .unwrap_or(now);
        Ok(Page {
            id: self.page_id.clone(),
            name: self.state.ctx.site_title.clone(),
            url: self.state.ctx.base_url.clone(),
            time_zone: self.state.ctx.timezone.name().to_owned(),
            updated_at: self.ts(updated),
        })
    }
}

/// ISO 8601 in the site's timezone, with milliseconds and offset, like Statuspage.
fn ts(state: &AppState, t: DateTime<Utc>) -> String {
    t.with_timezone(&state.ctx.timezone)
        .to_rfc3339_opts(SecondsFormat::Millis, false)
}

fn build_components(state: &AppState, page_id: &str, groups: &[GroupRow]) -> Vec<Component> {
    let mut out = Vec::new();
    for g in groups {
        let gid = format!("group.{}", g.id);
        let members: Vec<Component> = g
            .services
            .iter()
            .map(|s| service_component(state, page_id, &gid, s))
            .collect();
        let worst = g
            .services
            .iter()
            .map(|s| component_status(s.state))
            .max()
            .unwrap_or(ComponentStatus::Operational);
        let created = g.services.iter().map(|s| s.created_at).min();
        let updated = g
            .services
            .iter()
            .map(|s| s.status_updated_at.unwrap_or(s.created_at))
            .max();
        out.push(Component {
            name: g.name.clone(),
            status: worst.into(),
            created_at: created.map(|t| ts(state, t)).unwrap_or_default(),
            updated_at: updated
                .or(created)
                .map(|t| ts(state, t))
                .unwrap_or_default(),
            position: g.position,
            description: None,
            showcase: false,
            start_date: None,
            group_id: None,
            page_id: page_id.to_owned(),
            group: true,
            only_show_if_degraded: false,
            components: Some(members.iter().map(|m| m.id.clone()).collect()),
            id: gid,
        });
        out.extend(members);
    }
    out
}

fn service_component(state: &AppState, page_id: &str, gid: &str, s: &ServiceRow) -> Component {
    Component {
        id: s.id.clone(),
        name: s.name.clone(),
        status: component_status(s.state).into(),
        created_at: ts(state, s.created_at),
        updated_at: ts(state, s.status_updated_at.unwrap_or(s.created_at)),
        position: s.position,
        description: s.description.clone(),
        showcase: true,
        start_date: None,
        group_id: Some(gid.to_owned()),
        page_id: page_id.to_owned(),
        group: false,
        only_show_if_degraded: false,
        components: None,
    }
}

/// `?lang=fr|en` picks the language of `status.description`; else the site's default.
fn locale(state: &AppState, query: Option<&str>) -> Locale {
    query
        .and_then(|q| serde_urlencoded::from_str::<HashMap<String, String>>(q).ok())
        .and_then(|m| m.get("lang").and_then(|l| Locale::from_tag(l)))
        .unwrap_or(state.ctx.default_locale)
}

async fn overall(
    state: &AppState,
    query: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Status, ApiError> {
    let db = &state.ctx.db;
    let groups = store::api_read::catalog(db, now).await?;
    let states: Vec<ServiceState> = groups
        .iter()
        .flat_map(|g| g.services.iter().map(|s| s.state))
        .collect();
    let impacts: Vec<domain::incident::Impact> = store::incidents::open_incidents(db)
        .await?
        .into_iter()
        .map(|i| i.impact)
        .collect();
    let maintenance = !store::maintenance::active(db, now).await?.is_empty();
    let (indicator, description) =
        page_status(&states, &impacts, maintenance, locale(state, query));
    Ok(Status {
        indicator: indicator.into(),
        description: description.to_owned(),
    })
}

#[utoipa::path(get, path = "/api/v2/summary.json", tag = "statuspage",
    params(("lang" = Option<String>, Query, description = "`fr` or `en`: language of `status.description`")),
    responses((status = 200, description = "Page, components, unresolved incidents, upcoming and active maintenance, status", body = Summary)))]
pub async fn summary(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let now = Utc::now();
    let ctx = Ctx::load(&state, now).await?;
    let db = &state.ctx.db;
    let incidents = store::api_read::incidents(db, IncidentFilter::Unresolved).await?;
    let mut windows = store::maintenance::upcoming(db, now).await?;
    windows.extend(store::maintenance::active(db, now).await?);
    let body = Summary {
        page: ctx.page(now).await?,
        components: ctx.components.clone(),
        incidents: incidents.iter().map(|d| ctx.incident(d)).collect(),
        scheduled_maintenances: windows.iter().map(|m| ctx.maintenance(m)).collect(),
        status: overall(&state, query.as_deref(), now).await?,
    };
    Ok(json_response(&headers, &body))
}

#[utoipa::path(get, path = "/api/v2/status.json", tag = "statuspage",
    params(("lang" = Option<String>, Query, description = "`fr` or `en`: language of `status.description`")),
    responses((status = 200, description = "The page indicator", body = StatusBody)))]
pub async fn status(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let now = Utc::now();
    let ctx = Ctx {
        state: &state,
        page_id: page_id(&state.ctx.base_url),
        components: Vec::new(),
        by_id: HashMap::new(),
    };
    let body = StatusBody {
        page: ctx.page(now).await?,
        status: overall(&state, query.as_deref(), now).await?,
    };
    Ok(json_response(&headers, &body))
}

#[utoipa::path(get, path = "/api/v2/components.json", tag = "statuspage",
    responses((status = 200, description = "Groups and services", body = ComponentsBody)))]
pub async fn components(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let now = Utc::now();
    let ctx = Ctx::load(&state, now).await?;
    let body = ComponentsBody {
        page: ctx.page(now).await?,
        components: ctx.components.clone(),
    };
    Ok(json_response(&headers, &body))
}

async fn incident_list(
    state: &AppState,
    headers: &HeaderMap,
    filter: IncidentFilter,
) -> Result<Response, ApiError> {
    let now = Utc::now();
    let ctx = Ctx::load(state, now).await?;
    let list = store::api_read::incidents(&state.ctx.db, filter).await?;
    let body = IncidentsBody {
        page: ctx.page(now).await?,
        incidents: list.iter().map(|d| ctx.incident(d)).collect(),
    };
    Ok(json_response(headers, &body))
}

#[utoipa::path(get, path = "/api/v2/incidents.json", tag = "statuspage",
    responses((status = 200, description = "The 50 most recent incidents, any status", body = IncidentsBody)))]
pub async fn incidents(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    incident_list(&state, &headers, IncidentFilter::Recent(LIST_LIMIT)).await
}

#[utoipa::path(get, path = "/api/v2/incidents/unresolved.json", tag = "statuspage",
    responses((status = 200, description = "Incidents neither resolved nor postmortem", body = IncidentsBody)))]
pub async fn unresolved(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    incident_list(&state, &headers, IncidentFilter::Unresolved).await
}

/// Which windows a maintenance list holds.
enum Windows {
    Recent,
    Upcoming,
    Active,
}

async fn maintenance_list(
    state: &AppState,
    headers: &HeaderMap,
    which: Windows,
) -> Result<Response, ApiError> {
    let now = Utc::now();
    let ctx = Ctx::load(state, now).await?;
    let db = &state.ctx.db;
    let list = match which {
        Windows::Recent => store::api_read::maintenances(db, now, LIST_LIMIT).await?,
        Windows::Upcoming => store::maintenance::upcoming(db, now).await?,
        Windows::Active => store::maintenance::active(db, now).await?,
    };
    let body = MaintenancesBody {
        page: ctx.page(now).await?,
        scheduled_maintenances: list.iter().map(|m| ctx.maintenance(m)).collect(),
    };
    Ok(json_response(headers, &body))
}

#[utoipa::path(get, path = "/api/v2/scheduled-maintenances.json", tag = "statuspage",
    responses((status = 200, description = "The 50 most recent windows, any status", body = MaintenancesBody)))]
pub async fn maintenances(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    maintenance_list(&state, &headers, Windows::Recent).await
}

#[utoipa::path(get, path = "/api/v2/scheduled-maintenances/upcoming.json", tag = "statuspage",
    responses((status = 200, description = "Windows not started yet (`scheduled`)", body = MaintenancesBody)))]
pub async fn upcoming(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    maintenance_list(&state, &headers, Windows::Upcoming).await
}

#[utoipa::path(get, path = "/api/v2/scheduled-maintenances/active.json", tag = "statuspage",
    responses((status = 200, description = "Windows `in_progress` or `verifying`", body = MaintenancesBody)))]
pub async fn active(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    maintenance_list(&state, &headers, Windows::Active).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::incident::Impact as I;

    const OK: ServiceState = ServiceState::Known(ComponentStatus::Operational);

    #[test]
    fn all_operational_is_none_and_a_major_outage_is_major() {
        assert_eq!(
            page_status(&[OK, OK], &[], false, Locale::En).0,
            PageIndicator::None
        );
        let down = ServiceState::Known(ComponentStatus::MajorOutage);
        assert_eq!(
            page_status(&[OK, down], &[], false, Locale::En),
            (PageIndicator::Major, "Major Service Outage")
        );
    }

    #[test]
    fn a_critical_incident_outranks_every_component() {
        assert_eq!(
            page_status(&[OK], &[I::Critical], false, Locale::Fr).0,
            PageIndicator::Critical
        );
    }

    #[test]
    fn no_data_is_never_all_systems_operational() {
        let (i, d) = page_status(&[OK, ServiceState::NoData], &[], false, Locale::En);
        assert_eq!(i, PageIndicator::Minor);
        assert_ne!(d, "All Systems Operational");
    }

    #[test]
    fn an_active_window_shows_maintenance_when_nothing_is_worse() {
        assert_eq!(
            page_status(&[OK], &[], true, Locale::En).0,
            PageIndicator::Maintenance
        );
    }

    #[test]
    fn page_id_is_stable_and_short() {
        assert_eq!(
            page_id("https://status.example/"),
            page_id("https://status.example")
        );
        assert_eq!(page_id("https://status.example").len(), 12);
    }
}
