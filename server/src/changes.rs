//! The change hub: one task per process watches the store's [`store::changes::Watermark`]
//! and turns every movement into (a) a new *generation*, which invalidates the page cache,
//! and (b) a [`Change`] broadcast that `/events` streams to open pages. Watching the store
//! rather than in-process calls catches every writer: the engine, the console, the API, the
//! CLI and other instances on the same database. One watcher replaces a poll per open page.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::broadcast;

/// How often the store is asked whether anything changed.
pub const WATCH_EVERY: Duration = Duration::from_millis(500);

/// What changed, for open pages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Incidents created or updated since the last look (their ids).
    Incidents(Vec<i64>),
    /// Statuses, maintenance or manual statuses moved: pages reload their data.
    Data,
}

/// The generation counter and the broadcast of changes.
#[derive(Debug)]
pub struct Hub {
    generation: AtomicU64,
    tx: broadcast::Sender<Change>,
}

impl Hub {
    /// A hub that nothing drives yet (tests, or before [`Hub::watch`]).
    pub fn new() -> Arc<Self> {
        let (tx, _) = broadcast::channel(256);
        Arc::new(Hub {
            generation: AtomicU64::new(1),
            tx,
        })
    }

    /// The current generation: it grows with every observed change.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.tx.subscribe()
    }

    /// Records a change now (in-process writers may call it to skip the watcher's delay).
    pub fn bump(&self, change: Change) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        // No open page is not an error.
        let _ = self.tx.send(change);
    }

    /// A new generation without telling open pages (they hear it from their own source).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Follows the probe engine's decisions: each one invalidates cached pages at once, so a
    /// page that reloads on the engine's `status` event never gets the previous rendering.
    pub fn follow(
        self: &Arc<Self>,
        mut rx: broadcast::Receiver<domain::topology::StatusChange>,
    ) -> tokio::task::JoinHandle<()> {
        let hub = Arc::clone(self);
        tokio::spawn(async move {
            while !matches!(rx.recv().await, Err(broadcast::error::RecvError::Closed)) {
                hub.invalidate();
            }
        })
    }

    /// Starts the watcher task; it stops when the returned handle is aborted or dropped
    /// with the runtime.
    pub fn watch(self: &Arc<Self>, db: store::Db) -> tokio::task::JoinHandle<()> {
        let hub = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(WATCH_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut seen: Option<store::changes::Watermark> = None;
            let mut incidents_seen: DateTime<Utc> = Utc::now();
            loop {
                tick.tick().await;
                let mark = match store::changes::watermark(&db).await {
                    Ok(m) => m,
                    Err(e) => {
                        tracing::warn!(error = %e, "change hub: cannot read the watermark");
                        continue;
                    }
                };
                let Some(old) = seen.replace(mark.clone()) else {
                    continue;
                };
                if old == mark {
                    continue;
                }
                if old.incidents_updated != mark.incidents_updated {
                    let since = incidents_seen;
                    incidents_seen = mark.incidents_updated.unwrap_or(since);
                    match store::incidents::updated_since(&db, since).await {
                        Ok(list) => {
                            let ids = list.iter().map(|i| i.id).collect();
                            hub.bump(Change::Incidents(ids));
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "change hub: cannot read incident changes");
                            hub.bump(Change::Data);
                        }
                    }
                    if old.last_status_event == mark.last_status_event
                        && old.maintenance_updated == mark.maintenance_updated
                        && old.manual_statuses == mark.manual_statuses
                        && old.manual_set == mark.manual_set
                    {
                        continue;
                    }
                }
                hub.bump(Change::Data);
            }
        })
    }
}
