//! The remote probe agents' API, authenticated with agent tokens (one location each, see
//! `store::agents`), and the public list of locations.
//!
//! - `GET /api/v1/agent/config`: the monitors the agent's location probes, with a strong
//!   ETag, so an agent polling it gets `304 Not Modified` until the catalog changes;
//! - `POST /api/v1/agent/results`: `{"batch": "<id>", "results": [{"monitor", "checked_at",
//!   "outcome", "latency_ms", "status_code", "reason"}]}`; a batch sent again is acknowledged
//!   and stored once; results stamped more than 2 minutes ahead of central's clock get 422;
//!   late results (older than two intervals) are history: they never move a current status,
//!   and the outage they show is recorded in the status events at their own times;
//! - `GET /api/v1/locations`: every location, `reporting` or `stale` (silent for two of its
//!   shortest intervals: its verdicts have left the quorum), with its newest result.

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use domain::agent::{AgentConfig, AgentMonitor, ResultBatch};
use domain::config::{MonitorKind, MonitorSpec};
use domain::status::CheckOutcome;
use serde_json::json;
use store::agents::{AgentResult, IngestError, Ingested};
use store::tokens::agent::AgentToken;

use super::ApiError;
use crate::state::AppState;

/// How far ahead of central's clock a result may be stamped.
pub const MAX_AHEAD: Duration = Duration::from_secs(120);
/// The largest results body read.
const MAX_BODY: usize = 4 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/agent/config", get(config))
        .route(
            "/api/v1/agent/results",
            post(results).layer(axum::extract::DefaultBodyLimit::max(MAX_BODY)),
        )
        .route("/api/v1/locations", get(locations))
}

/// The agent behind the request's bearer token.
async fn agent(db: &store::Db, headers: &HeaderMap) -> Result<AgentToken, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|v| v.starts_with(store::tokens::agent::AGENT_TOKEN_PREFIX) && v.len() < 200)
        .ok_or(ApiError::Unauthorized)?;
    store::tokens::agent::authenticate(db, value, Utc::now())
        .await?
        .ok_or(ApiError::Unauthorized)
}

async fn config(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let agent = agent(&state.ctx.db, &headers).await?;
    let mut monitors = Vec::new();
    for m in store::agents::monitors_of(&state.ctx.db, &agent.location_id).await? {
        let Ok(kind) = serde_json::from_value::<MonitorKind>(json!(m.kind)) else {
            continue;
        };
        if kind == MonitorKind::Push {
            continue;
        }
        // A row that does not read as its kind's settings probes with that kind's defaults.
        let mut spec = MonitorSpec::from_settings_json(kind, &m.settings)
            .unwrap_or_else(|_| MonitorSpec::new(kind));
        if let Some(http) = spec.http_mut() {
            // The database keeps header names only; their values (credentials, perhaps) were
            // read at start and reach the agent over its authenticated connection.
            http.headers = state.probe_headers.get(&m.key).cloned().unwrap_or_default();
        }
        let ms = |v: i64| u64::try_from(v).unwrap_or(0);
        monitors.push(AgentMonitor {
            key: m.key,
            target: m.target,
            interval_ms: ms(m.interval_ms),
            timeout_ms: ms(m.timeout_ms),
            retry_interval_ms: ms(m.retry_interval_ms),
            degraded_after_ms: m.degraded_after_ms.map(ms),
            spec,
        });
    }
    let body = serde_json::to_vec(&AgentConfig {
        location: agent.location_id,
        monitors,
    })
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let etag = crate::conditional::etag(&body);
    let fresh = crate::conditional::is_not_modified(&headers, &etag, None);
    let cache = (
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );
    if fresh {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag), cache]).into_response());
    }
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::ETAG, etag),
            cache,
        ],
        body,
    )
        .into_response())
}

async fn results(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let agent = agent(&state.ctx.db, &headers).await?;
    let batch: ResultBatch = serde_json::from_slice(&body)
        .map_err(|e| ApiError::field("body", format!("invalid JSON: {e}")))?;
    let mut results = Vec::with_capacity(batch.results.len());
    for (i, r) in batch.results.into_iter().enumerate() {
        let outcome = CheckOutcome::parse(&r.outcome).ok_or_else(|| {
            ApiError::field(
                &format!("results[{i}].outcome"),
                "must be up, degraded or down",
            )
        })?;
        if r.reason.as_ref().is_some_and(|s| s.len() > 1000) {
            return Err(ApiError::field(
                &format!("results[{i}].reason"),
                "longer than 1000 bytes",
            ));
        }
        results.push(AgentResult {
            monitor: r.monitor,
            checked_at: r.checked_at,
            outcome,
            latency_ms: r.latency_ms.map(|l| i32::try_from(l).unwrap_or(i32::MAX)),
            status_code: r.status_code.map(i32::from),
            reason: r.reason,
        });
    }
    let done = store::agents::ingest(
        &state.ctx.db,
        &state.catalog,
        &agent.location_id,
        &batch.batch,
        &results,
        Utc::now(),
        MAX_AHEAD,
    )
    .await;
    match done {
        Ok(Ingested::Stored(n)) => {
            tracing::debug!(location = %agent.location_id, batch = %batch.batch, n, "agent results stored");
            Ok(Json(json!({ "batch": batch.batch, "stored": n, "replay": false })).into_response())
        }
        Ok(Ingested::Replay) => {
            Ok(Json(json!({ "batch": batch.batch, "stored": 0, "replay": true })).into_response())
        }
        Err(IngestError::Invalid(m)) => Err(ApiError::field("results", m)),
        Err(IngestError::Store(e)) => Err(e.into()),
    }
}

async fn locations(State(state): State<AppState>) -> Result<Response, ApiError> {
    let list = store::agents::locations(&state.ctx.db, Utc::now()).await?;
    let out: Vec<serde_json::Value> = list
        .into_iter()
        .map(|l| {
            json!({
                "id": l.id,
                "name": l.name,
                "state": if l.reporting { "reporting" } else { "stale" },
                "last_report_at": l.last_report_at,
            })
        })
        .collect();
    Ok(Json(json!({ "locations": out })).into_response())
}
