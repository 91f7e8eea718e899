//! `/events`: Server-Sent Events that keep open pages live. Every status change the probe
//! engine decides is sent as a `status` event (JSON of `domain::topology::StatusChange`); an
//! `incident` event (the incident ids) follows staff's incident writes, which this stream
//! notices by asking the store every 2 s for incidents updated since its last look; a
//! `resync` event tells a page that fell behind to reload its data; a `freshness` event every
//! 15 s carries the server time, so a page can tell a quiet feed from a dead one. Browsers
//! reconnect by themselves (`retry` is 2 s).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Extension, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;

use crate::probe::engine::Engine;
use crate::startup::AppState;

const FRESHNESS_EVERY: Duration = Duration::from_secs(15);
const INCIDENTS_EVERY: Duration = Duration::from_secs(2);

/// What one open stream keeps between events.
struct Feed {
    changes: Option<tokio::sync::broadcast::Receiver<domain::topology::StatusChange>>,
    freshness: tokio::time::Interval,
    incidents: tokio::time::Interval,
    incidents_seen: chrono::DateTime<chrono::Utc>,
    db: store::Db,
    first: Option<Event>,
}

pub fn router() -> Router<AppState> {
    Router::new().route("/events", get(events))
}

async fn events(
    State(state): State<AppState>,
    engine: Option<Extension<Arc<Engine>>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let interval = |every| {
        let mut i = tokio::time::interval(every);
        i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        i
    };
    let feed = Feed {
        changes: engine.map(|Extension(e)| e.subscribe()),
        freshness: interval(FRESHNESS_EVERY),
        incidents: interval(INCIDENTS_EVERY),
        incidents_seen: chrono::Utc::now(),
        db: state.ctx.db.clone(),
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
            feed.incidents.tick().await;
            return Some((Ok(e), feed));
        }
        let event = next_event(&mut feed).await;
        Some((Ok(event), feed))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
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
            _ = feed.incidents.tick() => {
                let since = feed.incidents_seen;
                let now = chrono::Utc::now();
                match store::incidents::updated_since(&feed.db, since).await {
                    Ok(list) if !list.is_empty() => {
                        feed.incidents_seen = now;
                        let ids: Vec<i64> = list.iter().map(|i| i.id).collect();
                        return Event::default().event("incident").data(serde_json::json!({ "ids": ids }).to_string());
                    }
                    Ok(_) => feed.incidents_seen = now,
                    Err(e) => tracing::warn!(error = %e, "live: cannot read incident changes"),
                }
            }
        }
    }
}

fn now_json() -> String {
    serde_json::json!({ "at": chrono::Utc::now() }).to_string()
}
