//! `/events`: Server-Sent Events that keep open pages live. Every status change the probe
//! engine decides is sent as a `status` event (JSON of `domain::topology::StatusChange`); an
//! `incident` event (the incident ids) follows staff's incident writes, and a `resync` event
//! any other change to what the page shows (maintenance, manual statuses) or a page that fell
//! behind: both come from the process's change hub (crate::changes), which watches the store
//! for every stream at once; a `freshness` event every
//! 15 s carries the server time, so a page can tell a quiet feed from a dead one. Browsers
//! reconnect by themselves (`retry` is 2 s).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Extension, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::sync::broadcast::error::RecvError;

use crate::auth::Client;
use crate::changes::Change;
use crate::state::AppState;
use probe::engine::Engine;

const FRESHNESS_EVERY: Duration = Duration::from_secs(15);

/// What one open stream keeps between events.
struct Feed {
    /// This stream's place under the `/events` ceilings (crate::limits), given back when the
    /// stream closes.
    _slot: Option<crate::limits::Slot>,
    changes: Option<tokio::sync::broadcast::Receiver<domain::topology::StatusChange>>,
    hub: tokio::sync::broadcast::Receiver<crate::changes::Change>,
    freshness: tokio::time::Interval,
    first: Option<Event>,
    /// Counted in `vigie_sse_clients` while the stream is open.
    _client: crate::metrics::SseClient,
}

pub fn router() -> Router<AppState> {
    Router::new().route("/events", get(events))
}

async fn events(
    State(state): State<AppState>,
    engine: Option<Extension<Arc<Engine>>>,
    ceilings: Option<Extension<crate::limits::EventStreams>>,
    parts: Parts,
) -> Response {
    // Served by crate::limits::serve, every stream takes a slot (per address, then in all);
    // over a ceiling the page is told why, and reloading by hand still works.
    let slot = match (ceilings, Client::from_parts(&parts, &state.auth).ip) {
        (Some(Extension(ceilings)), Some(ip)) => match ceilings.0.take(ip, false) {
            Ok(slot) => Some(slot),
            Err(refusal) => return refused(refusal),
        },
        _ => None,
    };
    let interval = |every| {
        let mut i = tokio::time::interval(every);
        i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        i
    };
    let feed = Feed {
        _client: crate::metrics::SseClient::open(),
        _slot: slot,
        changes: engine.map(|Extension(e)| e.subscribe()),
        hub: state.hub.subscribe(),
        freshness: interval(FRESHNESS_EVERY),
        first: Some(
            Event::default()
                .retry(Duration::from_secs(2))
                .event("freshness")
                .data(now_json()),
        ),
    };
    let stream = futures::stream::unfold(feed, |mut feed| async move {
        if let Some(e) = feed.first.take() {
            // The first ticks complete at once.
            feed.freshness.tick().await;
            return Some((Ok::<Event, Infallible>(e), feed));
        }
        let event = next_event(&mut feed).await;
        Some((Ok(event), feed))
    });
    // Ends when the server shuts down, so an open page never holds the shutdown up (the
    // browser reconnects to the restarted server by itself).
    let stream = futures::StreamExt::take_until(stream, state.shutdown.clone().cancelled_owned());
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// The answer to a stream over a ceiling: 429 when this address holds its share, 503 when the
/// server holds all it may; both with a sentence and `Retry-After`.
fn refused(refusal: crate::limits::Refusal) -> Response {
    let (status, text) = match refusal {
        crate::limits::Refusal::PerAddress => (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many live-update streams open from your address; close some pages.",
        ),
        crate::limits::Refusal::Total => (
            StatusCode::SERVICE_UNAVAILABLE,
            "The server is at its limit of live-update streams; reload the page later.",
        ),
    };
    tracing::debug!(?refusal, "event stream refused");
    (status, [(header::RETRY_AFTER, "30")], text).into_response()
}

async fn next_event(feed: &mut Feed) -> Event {
    loop {
        let change = async {
            match feed.changes.as_mut() {
                Some(rx) => Some(rx.recv().await),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            msg = change => match msg {
                Some(Ok(change)) => {
                    if let Ok(json) = serde_json::to_string(&change) {
                        return Event::default().event("status").data(json);
                    }
                }
                Some(Err(RecvError::Lagged(_))) => return Event::default().event("resync").data("{}"),
                Some(Err(RecvError::Closed)) | None => feed.changes = None,
            },
            _ = feed.freshness.tick() => return Event::default().event("freshness").data(now_json()),
            msg = feed.hub.recv() => match msg {
                Ok(Change::Incidents(ids)) => {
                    return Event::default().event("incident").data(serde_json::json!({ "ids": ids }).to_string());
                }
                Ok(Change::Data) | Err(RecvError::Lagged(_)) => {
                    return Event::default().event("resync").data("{}");
                }
                // The hub lives as long as the server: closed means shutting down.
                Err(RecvError::Closed) => std::future::pending::<()>().await,
            },
        }
    }
}

fn now_json() -> String {
    serde_json::json!({ "at": chrono::Utc::now() }).to_string()
}
