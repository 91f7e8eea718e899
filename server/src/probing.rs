//! The probe engine (crate `probe`) inside the server: where its sockets bind, starting it, the
//! push heartbeat route in front of it, and its decisions fed to the change hub. The engine
//! knows nothing of HTTP or of this crate; this module is the only wiring.

use std::net::IpAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use probe::engine::{self, Engine, Heartbeats};
use probe::push::{Payload, PushError};

/// The local address probes bind to, from `VIGIE_PROBE_SOURCE` (unset or empty: the system's
/// choice).
pub fn source_from_env() -> anyhow::Result<Option<IpAddr>> {
    match std::env::var("VIGIE_PROBE_SOURCE") {
        Ok(s) if !s.trim().is_empty() => {
            Ok(Some(s.trim().parse::<IpAddr>().with_context(|| {
                format!("VIGIE_PROBE_SOURCE `{s}` is not an IP address")
            })?))
        }
        _ => Ok(None),
    }
}

/// Starts the probe engine for `catalog` and attaches it to `app`: the push heartbeat route is
/// merged in, and the running [`Engine`] rides along as an `Extension<Arc<Engine>>` (handlers
/// such as live updates subscribe through it; it stops when the router is dropped), and every
/// decision it takes invalidates the page cache through `hub`. The engine is also returned,
/// for a clean shutdown to stop it ([`Engine::stop`]).
///
/// The engine probes from the catalog's `[probe] location`, its sockets bound to `source`
/// (`vigie serve` passes [`source_from_env`]); `VIGIE_PROBES=off` starts nothing (a page-only
/// instance).
pub async fn attach(
    app: Router,
    catalog: &domain::config::Catalog,
    db: store::Db,
    source: Option<IpAddr>,
    hub: &Arc<crate::changes::Hub>,
) -> anyhow::Result<(Router, Option<Arc<Engine>>)> {
    if std::env::var("VIGIE_PROBES").is_ok_and(|v| v == "off") {
        tracing::info!("probes disabled (VIGIE_PROBES=off)");
        return Ok((app, None));
    }
    let mut cfg = engine::EngineConfig::for_catalog(catalog, source);
    cfg.instance = crate::cluster::instance_id().to_owned();
    let running = engine::start(Arc::new(catalog.clone()), db, cfg)
        .await
        .context("failed to start the probe engine")?;
    hub.follow(running.subscribe());
    let push = push_router(running.heartbeats());
    let engine = Arc::new(running);
    Ok((
        app.merge(push).layer(axum::Extension(engine.clone())),
        Some(engine),
    ))
}

/// `/api/v1/push/{token}` in front of an engine's heartbeats, for any router state: unknown
/// tokens get 404 and nothing is stored; bad payloads get 400; a heartbeat that cannot be
/// stored gets 503 (the sender tries again).
pub fn push_router<S: Clone + Send + Sync + 'static>(heartbeats: Heartbeats) -> Router<S> {
    Router::new()
        .route("/api/v1/push/{token}", get(beat_get).post(beat_post))
        .with_state(heartbeats)
}

/// A refused heartbeat, as a JSON error with its status code.
struct Refused(PushError);

impl From<PushError> for Refused {
    fn from(e: PushError) -> Self {
        Refused(e)
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let status = match self.0 {
            PushError::UnknownToken => StatusCode::NOT_FOUND,
            PushError::BadPayload(_) => StatusCode::BAD_REQUEST,
            PushError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        };
        (
            status,
            Json(serde_json::json!({ "error": self.0.to_string() })),
        )
            .into_response()
    }
}

async fn beat_get(
    State(heartbeats): State<Heartbeats>,
    Path(token): Path<String>,
    query: Result<Query<Payload>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<serde_json::Value>, Refused> {
    let Query(p) = query.map_err(|e| PushError::BadPayload(e.body_text()))?;
    accept(&heartbeats, &token, p).await
}

async fn beat_post(
    State(heartbeats): State<Heartbeats>,
    Path(token): Path<String>,
    query: Result<Query<Payload>, axum::extract::rejection::QueryRejection>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, Refused> {
    // Unknown tokens are refused before the payload is even read.
    if !heartbeats.knows(&token) {
        return Err(PushError::UnknownToken.into());
    }
    let p = if body.iter().all(u8::is_ascii_whitespace) {
        query.map_err(|e| PushError::BadPayload(e.body_text()))?.0
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| PushError::BadPayload(format!("invalid JSON: {e}")))?
    };
    accept(&heartbeats, &token, p).await
}

async fn accept(
    heartbeats: &Heartbeats,
    token: &str,
    p: Payload,
) -> Result<Json<serde_json::Value>, Refused> {
    let key = heartbeats.receive(token, p).await?;
    Ok(Json(
        serde_json::json!({ "ok": true, "monitor": key.to_string() }),
    ))
}
