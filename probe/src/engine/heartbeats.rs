//! Push heartbeats kept in the database (`store::push`): each one received is stored, and the
//! newest one stored by any instance is read back, so every instance, restarted or not, judges
//! a push monitor the same.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::topology::MonitorKey;

use crate::push::{Beat, PushBook, PushError};

/// Where heartbeats are kept beyond this process: the database, with the monitors' ids.
#[derive(Clone)]
pub(crate) struct Persist {
    pub(crate) db: store::Db,
    pub(crate) ids: Arc<HashMap<MonitorKey, i64>>,
}

/// Stores what `book` holds for `key` (the heartbeat just received).
pub(crate) async fn store_beat(
    book: &PushBook,
    key: &MonitorKey,
    persist: &Persist,
) -> Result<(), PushError> {
    let Some(id) = persist.ids.get(key).copied() else {
        return Ok(());
    };
    let Some(b) = book.view(key).beat else {
        return Ok(());
    };
    let beat = store::push::Beat {
        at: b.at,
        outcome: b.outcome,
        latency_ms: b.latency_ms,
        reason: b.reason,
    };
    store::push::record_beat(&persist.db, id, &beat)
        .await
        .map_err(|e| {
            tracing::warn!(monitor = %key, error = %e, "cannot store a heartbeat");
            PushError::Unavailable
        })
}

/// Reads back what the database holds for `book`'s monitors (heartbeats other instances
/// received, and since when each is awaited), after waiting for them from `now` unless an
/// instance already did.
pub(crate) async fn sync_from_store(
    book: &PushBook,
    persist: &Persist,
    now: Option<DateTime<Utc>>,
) -> Result<(), store::StoreError> {
    let ids: Vec<i64> = book
        .keys()
        .iter()
        .filter_map(|k| persist.ids.get(k).copied())
        .collect();
    if let Some(now) = now {
        store::push::await_beats(&persist.db, &ids, now).await?;
    }
    let found = store::push::awaited(&persist.db, &ids).await?;
    for key in book.keys() {
        let Some(a) = persist.ids.get(&key).and_then(|id| found.get(id)) else {
            continue;
        };
        let beat = a.beat.clone().map(|b| Beat {
            at: b.at,
            outcome: b.outcome,
            latency_ms: b.latency_ms,
            reason: b.reason,
        });
        book.restore(&key, a.waiting_since, beat);
    }
    Ok(())
}
