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

mod mapping;
mod schema;

use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use domain::locale::Locale;
use domain::status::ServiceState;
use store::api_read::IncidentFilter;

use self::mapping::Ctx;
use self::schema::*;
use super::read::json_response;
use super::ApiError;
use crate::state::AppState;
use domain::statuspage::page_status;

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
    let impacts: Vec<domain::incident::Impact> = store::incidents::read::open_incidents(db)
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
    let ctx = Ctx::bare(&state);
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
    use domain::status::{ComponentStatus, PageIndicator};
    use domain::statuspage::page_id;

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
