//! Vigie's own public read API under `/api/v1` (GET, JSON, CORS open): services with status,
//! cause and 90-day uptime; one service with its monitors' latest results per location; daily
//! uptime and latency series; incidents (paged) and maintenance windows.
//!
//! Unknown ids are `404 {"error": …}`, a bad query is `400 {"error": …}`. Responses carry
//! `Cache-Control: no-cache` and a weak ETag of the body, answered with 304 when it matches.

pub mod schema;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, TimeDelta, Utc};
use domain::status::{CheckOutcome, ServiceState};
use domain::uptime::Period;
use serde::{Deserialize, Serialize};
use store::api_read::ServiceRow;
use utoipa::IntoParams;

use self::schema::*;
use super::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/services", get(services))
        .route("/api/v1/services/{slug}", get(service))
        .route("/api/v1/services/{slug}/uptime", get(uptime))
        .route("/api/v1/services/{slug}/latency", get(latency))
        .route("/api/v1/incidents", get(incidents))
        .route("/api/v1/incidents/{id}", get(incident))
        .route("/api/v1/maintenances", get(maintenances))
}

/// Serialises `body` as JSON with `Cache-Control: no-cache` and its ETag; `304` when the
/// request's validators match (`crate::conditional`). The tag is computed here rather than by
/// a middleware because only the handler knows the body is a pure function of the store.
pub(crate) fn json_response<T: Serialize>(req: &HeaderMap, body: &T) -> Response {
    let bytes = match serde_json::to_vec(body) {
        Ok(b) => b,
        Err(e) => return ApiError::Internal(e.to_string()).into_response(),
    };
    let etag = crate::conditional::etag(&bytes);
    let mut headers = HeaderMap::new();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::ETAG, etag.clone());
    if crate::conditional::is_not_modified(req, &etag, None) {
        return crate::conditional::not_modified(&headers);
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    (headers, Body::from(bytes)).into_response()
}

/// Parses a query string into `T`; anything it cannot read is a JSON 400.
fn query<T: for<'de> Deserialize<'de> + Default>(raw: Option<&str>) -> Result<T, ApiError> {
    match raw {
        None | Some("") => Ok(T::default()),
        Some(q) => serde_urlencoded::from_str(q)
            .map_err(|e| ApiError::BadRequest(format!("invalid query: {e}"))),
    }
}

fn service_dto(s: ServiceRow, group: GroupRef, uptime_90d: Option<f64>) -> Service {
    Service {
        status: s.state.css_class().to_owned(),
        slug: s.id,
        name: s.name,
        description: s.description,
        url: s.url,
        group,
        cause: s.cause,
        since: s.since.filter(|_| s.state != ServiceState::NoData),
        uptime_90d,
    }
}

#[utoipa::path(get, path = "/api/v1/services", tag = "read",
    responses((status = 200, description = "Every service in page order", body = Vec<Service>)))]
pub async fn services(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let now = Utc::now();
    let db = &state.ctx.db;
    let groups = store::api_read::catalog(db, now).await?;
    let mut days = store::availability::daily(db, state.ctx.timezone, now, 90).await?;
    let mut out = Vec::new();
    for g in groups {
        for s in g.services {
            let uptime = days
                .remove(&s.id)
                .and_then(|d| domain::availability::uptime_pct(&d));
            let group = GroupRef {
                id: g.id.clone(),
                name: g.name.clone(),
            };
            out.push(service_dto(s, group, uptime));
        }
    }
    Ok(json_response(&headers, &out))
}

/// The service `slug` with its group, or 404.
async fn find_service(
    state: &AppState,
    slug: &str,
    now: DateTime<Utc>,
) -> Result<(ServiceRow, GroupRef), ApiError> {
    store::api_read::catalog(&state.ctx.db, now)
        .await?
        .into_iter()
        .find_map(|g| {
            let group = GroupRef {
                id: g.id,
                name: g.name,
            };
            g.services
                .into_iter()
                .find(|s| s.id == slug)
                .map(|s| (s, group))
        })
        .ok_or(ApiError::NotFound)
}

#[utoipa::path(get, path = "/api/v1/services/{slug}", tag = "read",
    params(("slug" = String, Path, description = "Service id")),
    responses((status = 200, description = "The service and its monitors' latest results per location", body = ServiceDetail),
        (status = 404, description = "Unknown service", body = ErrorBody)))]
pub async fn service(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let now = Utc::now();
    let (row, group) = find_service(&state, &slug, now).await?;
    let db = &state.ctx.db;
    let days = store::availability::daily_for(db, &slug, state.ctx.timezone, now, 90).await?;
    let uptime = days.and_then(|d| domain::availability::uptime_pct(&d));
    let outcome = |o: Option<CheckOutcome>| o.map(|o| o.as_str().to_owned());
    let monitors = store::api_read::monitors(db, &slug)
        .await?
        .into_iter()
        .map(|m| Monitor {
            id: m.id,
            name: m.name,
            kind: m.kind,
            interval_s: m.interval_ms as f64 / 1000.0,
            locations: m
                .locations
                .into_iter()
                .map(|l| LocationResult {
                    location: l.location_id,
                    confirmed: outcome(l.confirmed),
                    outcome: outcome(l.outcome),
                    checked_at: l.checked_at,
                    latency_ms: l.latency_ms,
                    status_code: l.status_code,
                    reason: l.reason,
                })
                .collect(),
        })
        .collect();
    let body = ServiceDetail {
        service: service_dto(row, group, uptime),
        monitors,
    };
    Ok(json_response(&headers, &body))
}

/// `?days=N` of the uptime route.
#[derive(Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UptimeQuery {
    /// Local days ending today, 1 to 400 (default 90).
    pub days: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/services/{slug}/uptime", tag = "read",
    params(("slug" = String, Path, description = "Service id"), UptimeQuery),
    responses((status = 200, description = "Daily availability in the site's timezone", body = Uptime),
        (status = 400, description = "Bad query", body = ErrorBody),
        (status = 404, description = "Unknown service", body = ErrorBody)))]
pub async fn uptime(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let q: UptimeQuery = query(raw.as_deref())?;
    let days = q.days.unwrap_or(90);
    if !(1..=400).contains(&days) {
        return Err(ApiError::BadRequest(
            "days must be between 1 and 400".into(),
        ));
    }
    let now = Utc::now();
    let daily = store::availability::daily_for(&state.ctx.db, &slug, state.ctx.timezone, now, days)
        .await?
        .ok_or(ApiError::NotFound)?;
    let body = Uptime {
        slug,
        days,
        uptime_pct: domain::availability::uptime_pct(&daily),
        daily: daily
            .into_iter()
            .map(|d| Day {
                uptime_pct: d.uptime_pct(),
                level: d.level().css_class().to_owned(),
                date: d.date,
                counted_ms: d.counted_ms,
                downtime_ms: d.downtime_ms,
                maintenance_ms: d.maintenance_ms,
                no_data_ms: d.no_data_ms,
                worst: d.worst.map(|w| w.as_str().to_owned()),
                incidents: d
                    .incidents
                    .into_iter()
                    .map(|i| DayIncident {
                        id: i.id,
                        title: i.title,
                    })
                    .collect(),
            })
            .collect(),
    };
    Ok(json_response(&headers, &body))
}

/// `?range=` of the latency route.
#[derive(Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LatencyQuery {
    /// `24h` (hourly points, default), `7d` (hourly) or `30d` (daily).
    pub range: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/services/{slug}/latency", tag = "read",
    params(("slug" = String, Path, description = "Service id"), LatencyQuery),
    responses((status = 200, description = "p50 / p95 per hour or day for each monitor", body = Latency),
        (status = 400, description = "Bad query", body = ErrorBody),
        (status = 404, description = "Unknown service", body = ErrorBody)))]
pub async fn latency(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let q: LatencyQuery = query(raw.as_deref())?;
    let range = q.range.unwrap_or_else(|| "24h".to_owned());
    let (period, span) = match range.as_str() {
        "24h" => (Period::Hour, TimeDelta::hours(24)),
        "7d" => (Period::Hour, TimeDelta::days(7)),
        "30d" => (Period::Day, TimeDelta::days(30)),
        _ => return Err(ApiError::BadRequest("range must be 24h, 7d or 30d".into())),
    };
    let db = &state.ctx.db;
    if !store::api_read::service_exists(db, &slug).await? {
        return Err(ApiError::NotFound);
    }
    let now = Utc::now();
    // Whole buckets: the current (partial) one is included, the window starts on a boundary.
    let to = period.bucket(now)
        + match period {
            Period::Hour => TimeDelta::hours(1),
            Period::Day => TimeDelta::days(1),
        };
    let from = to - span;
    let series = store::api_read::latency(db, &slug, period, from, to)
        .await?
        .into_iter()
        .map(|s| LatencySeries {
            monitor_id: s.monitor_id,
            name: s.name,
            points: s
                .points
                .into_iter()
                .map(|p| LatencyPoint {
                    at: p.at,
                    p50_ms: p.p50_ms,
                    p95_ms: p.p95_ms,
                    checks: p.checks,
                })
                .collect(),
        })
        .collect();
    let body = Latency {
        slug,
        range,
        period: period.as_str().to_owned(),
        from,
        to,
        series,
    };
    Ok(json_response(&headers, &body))
}

/// `?page=&per_page=` of the list routes.
#[derive(Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// 1-based (default 1).
    pub page: Option<u64>,
    /// 1 to 100 (default 20).
    pub per_page: Option<u64>,
}

impl PageQuery {
    fn bounds(raw: Option<&str>) -> Result<(u64, u64), ApiError> {
        let q: PageQuery = query(raw)?;
        let page = q.page.unwrap_or(1);
        let per_page = q.per_page.unwrap_or(20);
        if page == 0 || page > 1_000_000 {
            return Err(ApiError::BadRequest(
                "page must be between 1 and 1000000".into(),
            ));
        }
        if !(1..=100).contains(&per_page) {
            return Err(ApiError::BadRequest(
                "per_page must be between 1 and 100".into(),
            ));
        }
        Ok((page, per_page))
    }
}

#[utoipa::path(get, path = "/api/v1/incidents", tag = "read", params(PageQuery),
    responses((status = 200, description = "Incidents by start, newest first, each with its latest update", body = IncidentPage),
        (status = 400, description = "Bad query", body = ErrorBody)))]
pub async fn incidents(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (page, per_page) = PageQuery::bounds(raw.as_deref())?;
    let db = &state.ctx.db;
    let total = store::api_read::incident_count(db).await?;
    let list = store::incidents::read::recent(db, (page - 1) * per_page, per_page).await?;
    let body = IncidentPage {
        page,
        per_page,
        total,
        incidents: list.into_iter().map(Incident::from).collect(),
    };
    Ok(json_response(&headers, &body))
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "read",
    params(("id" = i64, Path, description = "Incident number")),
    responses((status = 200, description = "The incident with every update, newest first", body = Incident),
        (status = 404, description = "Unknown incident", body = ErrorBody)))]
pub async fn incident(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // A path that is not a number names no incident.
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    let view = store::incidents::read::get(&state.ctx.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(json_response(&headers, &Incident::from(view)))
}

#[utoipa::path(get, path = "/api/v1/maintenances", tag = "read", params(PageQuery),
    responses((status = 200, description = "Windows by start, latest first, with their status now", body = MaintenancePage),
        (status = 400, description = "Bad query", body = ErrorBody)))]
pub async fn maintenances(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (page, per_page) = PageQuery::bounds(raw.as_deref())?;
    let db = &state.ctx.db;
    let now = Utc::now();
    let total = store::api_read::maintenance_count(db).await?;
    let list = store::maintenance::recent(db, now, (page - 1) * per_page, per_page).await?;
    let body = MaintenancePage {
        page,
        per_page,
        total,
        maintenances: list.into_iter().map(Maintenance::from).collect(),
    };
    Ok(json_response(&headers, &body))
}
