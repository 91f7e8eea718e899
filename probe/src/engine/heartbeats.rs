//! Push heartbeats kept in the database (`store::push`): each one received is stored, and the
//! newest one stored by any instance is read back, so every instance, restarted or not, judges
//! a push monitor the same.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::topology::MonitorKey;

use crate::push::{self, Beat, PushBook, PushError};

/// A push token Vigie generated at this start, for a push monitor that had none: shown once
/// (the server prints it), only its hash is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewToken {
    pub monitor: MonitorKey,
    pub token: String,
}

/// Gives every push monitor of `book` a token: the one its configuration points at
/// (`${env:…}` / `${file:…}`, stored as its hash), else the one already stored, else a new
/// one, generated here and returned (when two instances start at once, the first stored wins
/// and only it is returned). Then loads the hashes into the book.
pub(crate) async fn prepare_tokens(
    book: &PushBook,
    persist: &Persist,
    now: DateTime<Utc>,
) -> Result<Vec<NewToken>, String> {
    let mut fresh = Vec::new();
    let mut keys = book.keys();
    keys.sort();
    for key in keys {
        let Some(id) = persist.ids.get(&key).copied() else {
            continue;
        };
        let stored = match book.token_ref(&key) {
            Some(r) => {
                let token = push::read_token(r).map_err(|e| format!("push monitor {key}: {e}"))?;
                store::push::configured_token(&persist.db, id, &token, now)
                    .await
                    .map(|()| false)
            }
            None => {
                let token = store::push::new_token();
                let stored = store::push::token_if_absent(&persist.db, id, &token, now).await;
                if let Ok(true) = stored {
                    fresh.push(NewToken {
                        monitor: key.clone(),
                        token,
                    });
                }
                stored
            }
        };
        stored.map_err(|e| format!("cannot store the token of push monitor {key}: {e}"))?;
    }
    load_tokens(book, persist)
        .await
        .map_err(|e| format!("cannot read the push tokens: {e}"))?;
    Ok(fresh)
}

/// Loads the stored token hashes into `book` (tokens replaced by `vigie push-token` or by
/// another instance take effect here).
pub(crate) async fn load_tokens(
    book: &PushBook,
    persist: &Persist,
) -> Result<(), store::StoreError> {
    let ids: Vec<i64> = book
        .keys()
        .iter()
        .filter_map(|k| persist.ids.get(k).copied())
        .collect();
    let hashes = store::push::token_hashes(&persist.db, &ids).await?;
    book.set_tokens(book.keys().into_iter().filter_map(|k| {
        let id = persist.ids.get(&k)?;
        hashes.get(id).map(|(h, _)| (k, h.clone()))
    }));
    Ok(())
}

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
    load_tokens(book, persist).await
}
