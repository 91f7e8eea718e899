//! The probe engine (crate `probe`) inside the server: where its sockets bind, starting it, the
//! push heartbeat route in front of it, and its decisions fed to the change hub. The engine
//! knows nothing of HTTP or of this crate; this module is the only wiring.
//!
//! Push tokens are guessed at no more than [`GUESSES_FREE`] wrong ones per client address,
//! then one every [`GUESS_EVERY`] ([`PushGuard`]): the address gets 429 with `Retry-After`
//! for anything it sends to the push route meanwhile, right token or not, or the limit would
//! still tell a guesser when it is right.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use moka::sync::Cache;
use probe::engine::{self, Engine, Heartbeats};
use probe::push::{Payload, PushError};
use std::net::SocketAddr;

/// Wrong push tokens an address may send before it is slowed down.
pub const GUESSES_FREE: u32 = 20;
/// Then one more wrong token is allowed this often.
pub const GUESS_EVERY: Duration = Duration::from_secs(6);
/// Addresses counted at once (least recently used forgotten first): about 10 MB at most.
pub const GUARD_CAPACITY: u64 = 100_000;

/// Counts wrong push tokens per client address (an IPv6 /64 as one), in bounded memory: a
/// token bucket of [`GUESSES_FREE`] refilled one every [`GUESS_EVERY`].
pub struct PushGuard {
    buckets: Cache<IpAddr, Arc<Mutex<Bucket>>>,
    trusted_proxies: Arc<Vec<IpAddr>>,
}

struct Bucket {
    /// Wrong tokens still allowed, as of `at`.
    left: f64,
    at: Instant,
}

impl Bucket {
    fn refill(&mut self, now: Instant) {
        let gained =
            now.saturating_duration_since(self.at).as_secs_f64() / GUESS_EVERY.as_secs_f64();
        self.left = (self.left + gained).min(f64::from(GUESSES_FREE));
        self.at = now;
    }
}

impl PushGuard {
    /// A guard believing `X-Forwarded-For` from `trusted_proxies` only.
    pub fn new(trusted_proxies: Arc<Vec<IpAddr>>) -> Arc<Self> {
        Arc::new(PushGuard {
            buckets: Cache::builder()
                .max_capacity(GUARD_CAPACITY)
                .time_to_idle(GUESS_EVERY * GUESSES_FREE)
                .build(),
            trusted_proxies,
        })
    }

    /// The address counted for a request from `peer` (its `X-Forwarded-For` when `peer` is
    /// a trusted proxy).
    fn address(&self, peer: Option<IpAddr>, headers: &axum::http::HeaderMap) -> IpAddr {
        let peer = peer.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let forwarded = self
            .trusted_proxies
            .contains(&peer)
            .then(|| crate::auth::header_str(headers, "x-forwarded-for"))
            .flatten()
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse().ok());
        crate::limits::bucket(forwarded.unwrap_or(peer))
    }

    /// How long `address` must wait before it is heard again, if it must.
    fn wait(&self, address: IpAddr, now: Instant) -> Option<Duration> {
        let bucket = self.buckets.get(&address)?;
        let mut b = bucket.lock().unwrap_or_else(|p| p.into_inner());
        b.refill(now);
        (b.left < 1.0).then(|| GUESS_EVERY.mul_f64(1.0 - b.left))
    }

    /// Charges a wrong token to `address`.
    fn wrong(&self, address: IpAddr, now: Instant) {
        let bucket = self.buckets.get_with(address, || {
            Arc::new(Mutex::new(Bucket {
                left: f64::from(GUESSES_FREE),
                at: now,
            }))
        });
        let mut b = bucket.lock().unwrap_or_else(|p| p.into_inner());
        b.refill(now);
        b.left = (b.left - 1.0).max(0.0);
    }
}

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
///
/// Push tokens generated at this start (push monitors that had none) are printed once on
/// standard error with their heartbeat URL; only their hashes are kept.
pub async fn attach(
    app: Router,
    catalog: &domain::config::Catalog,
    db: store::Db,
    source: Option<IpAddr>,
    (hub, guard): (&Arc<crate::changes::Hub>, Arc<PushGuard>),
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
    let base = catalog.site.base_url.trim_end_matches('/');
    for new in running.take_new_tokens() {
        // Not through the log: a token does not belong in log storage. Shown this once.
        eprintln!(
            "push monitor {}: a token was generated, shown this once (only its hash is kept; \
             `vigie push-token {}` replaces it):\n  {base}/api/v1/push/{}",
            new.monitor, new.monitor, new.token
        );
    }
    let push = push_router(running.heartbeats(), guard);
    let engine = Arc::new(running);
    Ok((
        app.merge(push).layer(axum::Extension(engine.clone())),
        Some(engine),
    ))
}

/// `/api/v1/push/{token}` in front of an engine's heartbeats, for any router state: unknown
/// tokens get 404 and nothing is stored, and count against the sender's address
/// ([`PushGuard`]: 429 with `Retry-After` past the allowance); bad payloads get 400; a
/// heartbeat that cannot be stored gets 503 (the sender tries again).
pub fn push_router<S: Clone + Send + Sync + 'static>(
    heartbeats: Heartbeats,
    guard: Arc<PushGuard>,
) -> Router<S> {
    Router::new()
        .route("/api/v1/push/{token}", get(beat_get).post(beat_post))
        .with_state(Push { heartbeats, guard })
}

#[derive(Clone)]
struct Push {
    heartbeats: Heartbeats,
    guard: Arc<PushGuard>,
}

/// A refused heartbeat, as a JSON error with its status code.
enum Refused {
    Push(PushError),
    /// Too many wrong tokens from this address: wait this long.
    Wait(Duration),
}

impl From<PushError> for Refused {
    fn from(e: PushError) -> Self {
        Refused::Push(e)
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let e = match self {
            Refused::Wait(wait) => {
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, secs.max(1).to_string())],
                    Json(serde_json::json!({
                        "error": format!("too many unknown push tokens from this address: try again in {} s", secs.max(1))
                    })),
                )
                    .into_response();
            }
            Refused::Push(e) => e,
        };
        let status = match e {
            PushError::UnknownToken => StatusCode::NOT_FOUND,
            PushError::BadPayload(_) => StatusCode::BAD_REQUEST,
            PushError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        };
        (status, Json(serde_json::json!({ "error": e.to_string() }))).into_response()
    }
}

/// Refuses an address that sent too many wrong tokens, and charges a wrong token: before
/// anything else is read.
fn screen(push: &Push, token: &str, parts: &Parts) -> Result<(), Refused> {
    let now = Instant::now();
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let address = push.guard.address(peer, &parts.headers);
    if let Some(wait) = push.guard.wait(address, now) {
        return Err(Refused::Wait(wait));
    }
    if !push.heartbeats.knows(token) {
        push.guard.wrong(address, now);
        return Err(PushError::UnknownToken.into());
    }
    Ok(())
}

async fn beat_get(
    State(push): State<Push>,
    Path(token): Path<String>,
    parts: Parts,
    query: Result<Query<Payload>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<serde_json::Value>, Refused> {
    screen(&push, &token, &parts)?;
    let Query(p) = query.map_err(|e| PushError::BadPayload(e.body_text()))?;
    accept(&push.heartbeats, &token, p).await
}

async fn beat_post(
    State(push): State<Push>,
    Path(token): Path<String>,
    parts: Parts,
    query: Result<Query<Payload>, axum::extract::rejection::QueryRejection>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, Refused> {
    // Unknown tokens are refused before the payload is even read.
    screen(&push, &token, &parts)?;
    let heartbeats = &push.heartbeats;
    let p = if body.iter().all(u8::is_ascii_whitespace) {
        query.map_err(|e| PushError::BadPayload(e.body_text()))?.0
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| PushError::BadPayload(format!("invalid JSON: {e}")))?
    };
    accept(heartbeats, &token, p).await
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
