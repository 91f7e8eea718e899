//! `/events`: Server-Sent Events that keep open pages live. Every status change the probe
//! engine decides is sent as a `status` event (JSON of `domain::topology::StatusChange`); a
//! `resync` event tells a page that fell behind to reload its data; a `freshness` event every
//! 15 s carries the server time, so a page can tell a quiet feed from a dead one. Browsers
//! reconnect by themselves (`retry` is 2 s).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Extension;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;

use crate::probe::engine::Engine;
use crate::startup::AppState;

const FRESHNESS_EVERY: Duration = Duration::from_secs(15);

pub fn router() -> Router<AppState> {
    Router::new().route("/events", get(events))
}

async fn events(
    engine: Option<Extension<Arc<Engine>>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let changes = engine.map(|Extension(e)| e.subscribe());
    let mut tick = tokio::time::interval(FRESHNESS_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let first = Event::default()
        .retry(Duration::from_secs(2))
        .event("freshness")
        .data(now_json());
    let stream = futures::stream::unfold(
        (changes, tick, Some(first)),
        |(mut changes, mut tick, first)| async move {
            if let Some(e) = first {
                tick.tick().await; // the first tick completes at once
                return Some((Ok(e), (changes, tick, None)));
            }
            loop {
                let event = match changes.as_mut() {
                    Some(rx) => tokio::select! {
                        msg = rx.recv() => match msg {
                            Ok(change) => match serde_json::to_string(&change) {
                                Ok(json) => Event::default().event("status").data(json),
                                Err(_) => continue,
                            },
                            Err(RecvError::Lagged(_)) => Event::default().event("resync").data("{}"),
                            Err(RecvError::Closed) => {
                                changes = None;
                                continue;
                            }
                        },
                        _ = tick.tick() => Event::default().event("freshness").data(now_json()),
                    },
                    None => {
                        tick.tick().await;
                        Event::default().event("freshness").data(now_json())
                    }
                };
                return Some((Ok(event), (changes, tick, None)));
            }
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default())
}

fn now_json() -> String {
    serde_json::json!({ "at": chrono::Utc::now() }).to_string()
}
