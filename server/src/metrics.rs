//! `/metrics` in the Prometheus text format, and the access log.
//!
//! Measurements go through the `metrics` facade into one process-wide
//! `metrics-exporter-prometheus` recorder. What is counted as it happens: HTTP requests by
//! matched route (the route's pattern, never the raw path, so a client cannot create series)
//! and status, their duration, open `/events` streams, and the probe engine's checks (by kind
//! and outcome, their duration, schedule lag, result writes, certificate expiry: recorded by
//! the `probe` crate, named in `probe::stats`). What is read when Prometheus scrapes: the page
//! cache (hits, misses, bytes) and each monitor's confirmed state per location from the store.
//!
//! `VIGIE_METRICS_TOKEN`, when set, is the bearer token a scrape must present.

use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::body::HttpBody as _;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

/// Bucket bounds (seconds) of the request duration histogram.
const HTTP_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process's recorder, installed on first use (`startup` folds its histograms every 5 s).
/// When another recorder is already installed (an embedding program), `/metrics` still answers,
/// from a recorder of its own.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = || {
            let mut b = PrometheusBuilder::new();
            let histograms = std::iter::once(("vigie_http_request_duration_seconds", HTTP_BUCKETS))
                .chain(probe::stats::BUCKETS.iter().copied());
            for (name, buckets) in histograms {
                b = b
                    .set_buckets_for_metric(Matcher::Full(name.into()), buckets)
                    .expect("the bucket lists are not empty");
            }
            b
        };
        match builder().install_recorder() {
            Ok(handle) => {
                describe();
                probe::stats::describe();
                handle
            }
            Err(e) => {
                tracing::warn!(error = %e, "a metrics recorder is already installed");
                builder().build_recorder().handle()
            }
        }
    })
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        "vigie_http_requests_total",
        "HTTP requests answered, by matched route, method and status."
    );
    describe_histogram!(
        "vigie_http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer an HTTP request (until the response head), by matched route."
    );
    describe_gauge!("vigie_sse_clients", "Open /events streams.");
    describe_counter!(
        "vigie_cache_hits_total",
        "Public responses served from the page cache."
    );
    describe_counter!(
        "vigie_cache_misses_total",
        "Public responses the page cache had to render."
    );
    describe_gauge!(
        "vigie_cache_bytes",
        Unit::Bytes,
        "Bytes the page cache holds (all encodings)."
    );
    describe_gauge!("vigie_cache_entries", "Renderings the page cache holds.");
    describe_gauge!(
        "vigie_monitor_up",
        "1 when the monitor's confirmed result at the location is up or degraded, 0 when down."
    );
}

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

/// A route label a response carries to the outer layers (set by [`mark_route`], kept by the
/// page cache with its rendering).
#[derive(Clone, Debug)]
pub struct RouteLabel(pub Arc<str>);

/// Route layer: labels the response with the route that matched.
pub async fn mark_route(matched: Option<MatchedPath>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    if let Some(m) = matched {
        res.extensions_mut()
            .insert(RouteLabel(Arc::from(m.as_str())));
    }
    res
}

/// A method as a label: the standard ones, anything else `other` (a client picks the method).
pub fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The outermost layer: counts and times every request, and writes one access-log line at
/// info (method, matched route, status, latency, bytes when known) under `vigie::access`.
pub async fn observe(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(req.method());
    let res = next.run(req).await;
    record(method, &res, started);
    res
}

/// What [`observe`] does for one answered request (also called for the cache hits answered
/// before routing, which never reach it).
pub fn record(method: &'static str, res: &Response, started: Instant) {
    let elapsed = started.elapsed();
    let route = res.extensions().get::<RouteLabel>().map(|r| &r.0);
    let status = res.status().as_u16();
    let (requests, duration) = series(route, method, status);
    requests.increment(1);
    duration.record(elapsed.as_secs_f64());
    let bytes = res.body().size_hint().exact();
    tracing::info!(
        target: "vigie::access",
        method,
        route = route.map_or("unmatched", |r| &**r),
        status,
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        bytes,
        "request"
    );
}

/// The request counter and duration histogram of one (route, method, status), registered once
/// and then shared: looking a labelled series up in the recorder costs allocations and hashing
/// on every request, this a read lock. Bounded: routes are the router's patterns (or
/// `unmatched`), methods are [`method_label`]'s, statuses are three digits.
fn series(
    route: Option<&Arc<str>>,
    method: &'static str,
    status: u16,
) -> (metrics::Counter, metrics::Histogram) {
    type Series = std::collections::HashMap<
        (Arc<str>, &'static str, u16),
        (metrics::Counter, metrics::Histogram),
    >;
    static SERIES: OnceLock<std::sync::RwLock<Series>> = OnceLock::new();
    static UNMATCHED: OnceLock<Arc<str>> = OnceLock::new();
    let route = route.unwrap_or_else(|| UNMATCHED.get_or_init(|| Arc::from("unmatched")));
    let series = SERIES.get_or_init(Default::default);
    let key = (Arc::clone(route), method, status);
    if let Some(found) = series.read().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return found.clone();
    }
    // Kept for the life of the process: it must come from the real recorder, never from the
    // no-op one the facade hands out before a recorder is installed.
    handle();
    let made = (
        metrics::counter!(
            "vigie_http_requests_total",
            "route" => route.to_string(),
            "method" => method,
            "status" => status.to_string()
        ),
        metrics::histogram!("vigie_http_request_duration_seconds", "route" => route.to_string()),
    );
    series
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key)
        .or_insert(made)
        .clone()
}

/// Counts one open `/events` stream while it lives.
pub struct SseClient(());

impl SseClient {
    pub fn open() -> Self {
        metrics::gauge!("vigie_sse_clients").increment(1.0);
        SseClient(())
    }
}

impl Drop for SseClient {
    fn drop(&mut self) {
        metrics::gauge!("vigie_sse_clients").decrement(1.0);
    }
}

/// Whether the request may scrape: always without `VIGIE_METRICS_TOKEN`, else only with
/// `Authorization: Bearer <that token>` (compared in constant time).
fn authorised(headers: &HeaderMap) -> bool {
    let Ok(expected) = std::env::var("VIGIE_METRICS_TOKEN") else {
        return true;
    };
    if expected.is_empty() {
        return true;
    }
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    use subtle::ConstantTimeEq;
    given.len() == expected.len() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !authorised(&headers) {
        let mut r = (
            StatusCode::UNAUTHORIZED,
            "/metrics needs the bearer token set in VIGIE_METRICS_TOKEN.\n",
        )
            .into_response();
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"vigie metrics\""),
        );
        return r;
    }
    let handle = handle();

    let cache = &state.cache;
    let (entries, bytes) = cache.usage();
    metrics::counter!("vigie_cache_hits_total")
        .absolute(cache.counters.hits.load(Ordering::Relaxed));
    metrics::counter!("vigie_cache_misses_total")
        .absolute(cache.counters.misses.load(Ordering::Relaxed));
    metrics::gauge!("vigie_cache_bytes").set(bytes as f64);
    metrics::gauge!("vigie_cache_entries").set(entries as f64);

    if let Err(e) = monitor_states(&state.ctx.db).await {
        tracing::warn!(error = %e, "/metrics: cannot read the monitors' states");
    }

    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        handle.render(),
    )
        .into_response()
}

/// `vigie_monitor_up{monitor, location}` from the stored states (every location, agents'
/// included; a monitor without a confirmed result yet has no series).
async fn monitor_states(db: &store::Db) -> Result<(), store::StoreError> {
    use domain::status::CheckOutcome;
    let keys: std::collections::HashMap<i64, String> = store::checks::monitor_ids(db)
        .await?
        .into_iter()
        .map(|(key, id)| (id, key))
        .collect();
    for (id, location, state) in store::history::load_states(db).await? {
        let (Some(key), Some(confirmed)) = (keys.get(&id), state.confirmed) else {
            continue;
        };
        let up = match confirmed {
            CheckOutcome::Up | CheckOutcome::Degraded => 1.0,
            CheckOutcome::Down => 0.0,
        };
        metrics::gauge!("vigie_monitor_up", "monitor" => key.clone(), "location" => location)
            .set(up);
    }
    Ok(())
}
