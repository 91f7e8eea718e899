//! The change hub: one task per process watches the store's [`store::changes::Watermark`]
//! and turns every movement into (a) a new *generation*, which invalidates the page cache,
//! and (b) a [`Change`] broadcast that `/events` streams to open pages. Watching the store
//! rather than in-process calls catches every writer: the engine, the console, the API, the
//! CLI and other instances on the same database. One watcher replaces a poll per open page.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{broadcast, Mutex};

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
    seen: Mutex<Seen>,
    /// Whether the watcher's last look reached the database (see [`crate::stale`]).
    pub health: DbHealth,
}

/// What the last check saw.
#[derive(Debug)]
struct Seen {
    mark: Option<store::changes::Watermark>,
    /// Incidents updated at or after this are reported by the next change.
    incidents_since: DateTime<Utc>,
}

impl Hub {
    /// A hub that nothing drives yet (tests, or before [`Hub::watch`]).
    pub fn new() -> Arc<Self> {
        let (tx, _) = broadcast::channel(256);
        Arc::new(Hub {
            generation: AtomicU64::new(1),
            tx,
            seen: Mutex::new(Seen {
                mark: None,
                incidents_since: Utc::now(),
            }),
            health: DbHealth::default(),
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

    /// Starts the watcher task: a [`Hub::check`] every [`WATCH_EVERY`], and on PostgreSQL one
    /// more at once whenever any instance writes what pages show (`LISTEN vigie_changes`).
    pub fn watch(self: &Arc<Self>, db: store::Db) -> tokio::task::JoinHandle<()> {
        tokio::spawn(Arc::clone(self).listen(db.clone()));
        let hub = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(WATCH_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                hub.check(&db).await;
            }
        })
    }

    /// Checks at each notification of a write; reconnects when the connection drops (the
    /// periodic look covers the gap). Returns at once on SQLite.
    async fn listen(self: Arc<Self>, db: store::Db) {
        loop {
            match store::changes::change_listener(&db).await {
                Ok(None) => return,
                Ok(Some(mut l)) => {
                    // What was written before listening is the periodic look's.
                    while l.recv().await.is_ok() {
                        self.check(&db).await;
                    }
                    tracing::debug!("change listener: connection lost");
                }
                Err(e) => tracing::debug!(error = %e, "change listener: cannot listen"),
            }
            tokio::time::sleep(WATCH_EVERY * 2).await;
        }
    }

    /// Compares the store's watermark with the last one seen and announces what moved. The
    /// watcher calls it periodically; a writer that wants its change visible at once (or a
    /// test that wrote through the store) may call it right after writing.
    pub async fn check(&self, db: &store::Db) {
        let mut seen = self.seen.lock().await;
        let looked = std::time::Instant::now();
        let mark = match store::changes::watermark(db).await {
            Ok(m) => {
                if self.health.reached(looked) {
                    // Pages rendered while it was gone say so: render them again, and let
                    // open pages reload their data.
                    tracing::info!("the database answers again");
                    self.bump(Change::Data);
                }
                m
            }
            Err(e) => {
                if self.health.lost(Utc::now()) {
                    // A page rendered from here on may carry a database error: none is
                    // served from the cache; the last good renderings are (crate::stale).
                    tracing::error!(error = %e, "the database is unreachable: serving the last good pages");
                    self.invalidate();
                } else {
                    tracing::warn!(error = %e, "change hub: cannot read the watermark");
                }
                return;
            }
        };
        let Some(old) = seen.mark.replace(mark.clone()) else {
            // The baseline: pages rendered before it may predate a write it already includes.
            self.invalidate();
            return;
        };
        if old == mark {
            return;
        }
        if old.incidents_updated != mark.incidents_updated {
            let since = seen.incidents_since;
            seen.incidents_since = mark.incidents_updated.unwrap_or(since);
            match store::incidents::read::updated_since(db, since).await {
                Ok(list) => self.bump(Change::Incidents(list.iter().map(|i| i.id).collect())),
                Err(e) => {
                    tracing::warn!(error = %e, "change hub: cannot read incident changes");
                    self.bump(Change::Data);
                }
            }
            if old.last_status_event == mark.last_status_event
                && old.maintenance_updated == mark.maintenance_updated
                && old.manual_statuses == mark.manual_statuses
                && old.manual_set == mark.manual_set
            {
                return;
            }
        }
        self.bump(Change::Data);
    }
}

/// After every state-changing request (console forms, write API, push heartbeats), checks the
/// store at once: a writer sees its change on the very next page it opens, and open pages
/// hear of it without waiting for the watcher's next look. Only a request that could have
/// written counts: one with credentials (session cookie, bearer token) or a push heartbeat,
/// answered without an error. An anonymous POST anywhere else costs no database query.
pub async fn publish_writes(
    axum::extract::State((hub, db)): axum::extract::State<(Arc<Hub>, store::Db)>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{header, Method};
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        && (req.uri().path().starts_with("/api/v1/push/")
            || req.headers().contains_key(header::AUTHORIZATION)
            || req
                .headers()
                .get_all(header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .any(|v| v.contains(crate::auth::SESSION_COOKIE)));
    let response = next.run(req).await;
    let status = response.status();
    if writes && (status.is_success() || status.is_redirection()) {
        hub.check(&db).await;
    }
    response
}

#[derive(Debug, Default)]
struct Health {
    /// Since when the database has been unreachable; `None` while it answers.
    lost_since: Option<DateTime<Utc>>,
    /// When the last successful look began.
    last_reached: Option<std::time::Instant>,
}

/// Whether the database answers, as the change hub's watcher last saw it (the stale-while-
/// error layer, `crate::stale`, reads it).
#[derive(Debug, Default)]
pub struct DbHealth(std::sync::Mutex<Health>);

impl DbHealth {
    fn lock(&self) -> std::sync::MutexGuard<'_, Health> {
        match self.0.lock() {
            Ok(h) => h,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// A look that began at `began` reached the database. True when it had been lost.
    pub fn reached(&self, began: std::time::Instant) -> bool {
        let mut h = self.lock();
        h.last_reached = Some(h.last_reached.map_or(began, |l| l.max(began)));
        h.lost_since.take().is_some()
    }

    /// A look failed at `now`. True when the database was answering until now.
    pub fn lost(&self, now: DateTime<Utc>) -> bool {
        let mut h = self.lock();
        if h.lost_since.is_some() {
            return false;
        }
        h.lost_since = Some(now);
        true
    }

    /// Since when the database has been unreachable, if it is.
    pub fn lost_since(&self) -> Option<DateTime<Utc>> {
        self.lock().lost_since
    }

    pub(crate) fn last_reached(&self) -> Option<std::time::Instant> {
        self.lock().last_reached
    }
}
