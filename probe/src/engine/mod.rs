//! The engine: the scheduler ([`crate::checks`]) for the monitors of this location, and the
//! collector ([`collector`]) that writes their results (keeping them, bounded, while the
//! database cannot be written), applies the quorum over locations and the topology rollup
//! (maintenance windows and incident-stated statuses included), stores status changes with
//! their cause and publishes them to subscribers ([`Engine::subscribe`]).
//!
//! It needs the catalog already synced into the database (monitor ids) and reads the states
//! stored by earlier runs, so a restart continues confirmations where they stopped. Push
//! heartbeats go through [`Engine::heartbeats`], which stores them.

mod collector;
mod heartbeats;
mod share;
mod states;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use domain::config::{Catalog, Monitor, Slug};
use domain::status::ServiceState;
use domain::topology::{self, MonitorKey, Owner, StatusChange};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use crate::checks::{Checks, Job, Limits};
use crate::push::{Payload, PushBook, PushError};
use crate::stats::EngineStats;
use crate::{Clients, ProbeError};
use collector::Collector;
pub use heartbeats::NewToken;
use heartbeats::Persist;

/// How the engine runs.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// The location this instance probes from.
    pub location: Slug,
    /// The local address probe sockets bind to.
    pub source: Option<IpAddr>,
    /// Checks running at once, in total.
    pub max_concurrency: usize,
    /// Checks running at once against one target host.
    pub per_host_concurrency: usize,
    /// Results are written at least this often…
    pub flush_every: Duration,
    /// …or as soon as this many are waiting.
    pub max_batch: usize,
    /// The topology is re-evaluated this often even without new results (staleness, windows).
    pub reevaluate_every: Duration,
    /// Raw results are kept this many days.
    pub raw_days: u32,
    /// This instance's name among those sharing the database (on PostgreSQL the monitors of
    /// a location are divided between its instances, `store::probe_leases`).
    pub instance: String,
}

/// A name for this process among the instances, when the caller gives none: process id and
/// a random part.
fn default_instance() -> String {
    use std::hash::{BuildHasher, Hasher};
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        // RandomState is seeded from the system's randomness: a different part per process.
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        format!("probe:{}:{:08x}", std::process::id(), random as u32)
    })
    .clone()
}

impl EngineConfig {
    pub fn for_catalog(catalog: &Catalog, source: Option<IpAddr>) -> Self {
        EngineConfig {
            location: catalog.probe_location.clone(),
            source,
            max_concurrency: 512,
            per_host_concurrency: 8,
            flush_every: Duration::from_secs(1),
            max_batch: 1000,
            reevaluate_every: Duration::from_secs(5),
            raw_days: catalog.retention.raw_days,
            instance: default_instance(),
        }
    }
}

/// Errors starting the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Probe(#[from] ProbeError),
    #[error("cannot read the probe history: {0}")]
    Store(#[from] store::StoreError),
    #[error("monitor {0} is not in the database: sync the catalog first")]
    UnknownMonitor(String),
    /// A push token the configuration points at cannot be read or is too weak, or the tokens
    /// cannot be stored.
    #[error("{0}")]
    PushToken(String),
}

/// Results kept while the database cannot be written (the oldest go first): over an hour of
/// the Humanoid catalog's results, and about 20 MB at most.
pub const MAX_BUFFERED: usize = 100_000;
/// A write that takes longer fails: the results stay buffered and the engine goes on.
const WRITE_TIMEOUT: Duration = Duration::from_secs(3);
/// While the database is unreachable, a write is tried again this often.
const RETRY_EVERY: Duration = Duration::from_secs(2);

/// A running engine. Dropping it stops every task.
pub struct Engine {
    changes: broadcast::Sender<StatusChange>,
    /// The push monitors' newest heartbeats (heartbeats received from outside go through
    /// [`Engine::heartbeats`], which also stores them).
    pub push: Arc<PushBook>,
    stats: Arc<EngineStats>,
    monitors: usize,
    /// The scheduler; taken by [`Engine::stop`]. Shared with the keeper of this instance's
    /// share of the location, which adds and removes monitors.
    checks: Arc<Mutex<Option<Checks>>>,
    /// When the location's probing is divided between instances: the location and this
    /// instance's name, to give its leases up at a clean stop.
    share: Option<(String, String)>,
    /// Background tasks (reading heartbeats other instances stored).
    tasks: Mutex<Vec<JoinHandle<()>>>,
    /// Where heartbeats are stored, so every instance judges them the same.
    persist: Persist,
    /// The task that writes results; awaited by [`Engine::stop`].
    collector: Mutex<Option<JoinHandle<()>>>,
    /// Push tokens generated at this start, until taken ([`Engine::take_new_tokens`]).
    new_tokens: Mutex<Vec<NewToken>>,
}

impl Engine {
    /// Status changes of services and hosts, as they are stored.
    pub fn subscribe(&self) -> broadcast::Receiver<StatusChange> {
        self.changes.subscribe()
    }

    /// The engine's own measurements.
    pub fn stats(&self) -> Arc<EngineStats> {
        self.stats.clone()
    }

    /// Number of monitors probed from this location.
    pub fn monitor_tasks(&self) -> usize {
        self.monitors
    }

    /// The push tokens generated at this start (for push monitors that had none), once: the
    /// caller shows them, and they are never available again (only their hashes are kept).
    pub fn take_new_tokens(&self) -> Vec<NewToken> {
        std::mem::take(&mut *self.new_tokens.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Reads the push tokens' hashes again now (they are read every `reevaluate_every`
    /// anyway): a token replaced with `vigie push-token` works from here on.
    pub async fn reload_push_tokens(&self) -> Result<(), store::StoreError> {
        heartbeats::load_tokens(&self.push, &self.persist).await
    }

    /// Where heartbeats of this engine's push monitors are received (and stored).
    pub fn heartbeats(&self) -> Heartbeats {
        Heartbeats {
            book: self.push.clone(),
            persist: self.persist.clone(),
        }
    }

    /// Stops probing and writes the results not yet stored (a clean shutdown): the monitor
    /// tasks end, the collector sees its channel close, flushes its buffer and returns. Waits
    /// at most `within` for that last write.
    pub async fn stop(&self, within: Duration) {
        let checks = self.checks.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(checks) = checks {
            checks.stop().await;
        }
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        for t in &tasks {
            t.abort();
        }
        for t in tasks {
            // Aborted: the error only says so.
            let _ = t.await;
        }
        let collector = self
            .collector
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(collector) = collector {
            if tokio::time::timeout(within, collector).await.is_err() {
                tracing::warn!(?within, "probe results not written in time at shutdown");
            }
        }
        // Written first, so whoever takes the monitors over continues from the newest state.
        if let Some((location, instance)) = &self.share {
            let left = store::probe_leases::leave(&self.persist.db, location, instance, Utc::now());
            match tokio::time::timeout(within, left).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "probe leases not given up at shutdown: they expire");
                }
                Err(_) => {
                    tracing::warn!("probe leases not given up in time at shutdown: they expire")
                }
            }
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // Dropping the scheduler aborts its tasks.
        self.checks.lock().unwrap_or_else(|p| p.into_inner()).take();
        let tasks = self.tasks.get_mut().unwrap_or_else(|p| p.into_inner());
        for t in tasks.iter() {
            t.abort();
        }
        let collector = self.collector.get_mut().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = collector {
            t.abort();
        }
    }
}

/// The receiving end of push heartbeats: cheap to clone, usable after the engine is gone
/// (heartbeats are still stored; nobody judges them until an engine starts again).
#[derive(Clone)]
pub struct Heartbeats {
    book: Arc<PushBook>,
    persist: Persist,
}

impl Heartbeats {
    /// Whether `token` is one of the push monitors': unknown tokens are refused before their
    /// payload is even read.
    pub fn knows(&self, token: &str) -> bool {
        self.book.knows(token)
    }

    /// Takes a heartbeat for the push monitor of `token` and stores it, so every instance
    /// judges the monitor from it. Returns the monitor it was for; unknown tokens and bad
    /// payloads are refused and nothing is stored; [`PushError::Unavailable`] when the
    /// database cannot take it (the sender should try again).
    pub async fn receive(&self, token: &str, payload: Payload) -> Result<MonitorKey, PushError> {
        let key = self.book.beat(token, payload, Utc::now())?;
        heartbeats::store_beat(&self.book, &key, &self.persist).await?;
        tracing::debug!(monitor = %key, "heartbeat");
        Ok(key)
    }
}

/// One monitor as the engine knows it.
pub(crate) struct Planned {
    pub(crate) key: MonitorKey,
    pub(crate) id: i64,
    /// Shared with the monitor's check task (and, probing divided, its keeper).
    pub(crate) monitor: Arc<Monitor>,
}

/// Starts probing `catalog` (already synced into `db`).
pub async fn start(
    catalog: Arc<Catalog>,
    db: store::Db,
    cfg: EngineConfig,
) -> Result<Engine, EngineError> {
    let clients = Clients::new(cfg.source)?;
    let ids = store::checks::monitor_ids(&db).await?;
    let mut planned = Vec::new();
    for (key, m) in topology::monitors(&catalog) {
        let text = key.to_string();
        let id = *ids
            .get(&text)
            .ok_or_else(|| EngineError::UnknownMonitor(text.clone()))?;
        planned.push(Planned {
            key,
            id,
            monitor: Arc::new(m.clone()),
        });
    }
    // Kept for the engine's life: not the up to twice its length growing left.
    planned.shrink_to_fit();
    let mut states = states::States::default();
    for (id, loc, s) in store::history::load_states(&db).await? {
        states.insert(id, &loc, s);
    }
    let published: HashMap<Owner, (ServiceState, Option<String>)> = store::status::current(&db)
        .await?
        .into_iter()
        .map(|c| (c.subject, (c.state, c.cause)))
        .collect();

    let now = Utc::now();
    let push = Arc::new(PushBook::new(&catalog, now));
    let persist = Persist {
        db: db.clone(),
        ids: Arc::new(planned.iter().map(|p| (p.key.clone(), p.id)).collect()),
    };
    let new_tokens = heartbeats::prepare_tokens(&push, &persist, now)
        .await
        .map_err(EngineError::PushToken)?;
    // Heartbeats stored before (by this instance before a restart, or by another one) count.
    heartbeats::sync_from_store(&push, &persist, Some(now)).await?;
    let (changes, _) = broadcast::channel(1024);
    let stats = Arc::new(EngineStats::default());
    let loc = cfg.location.as_str().to_owned();
    let jobs: Vec<(i64, Job)> = planned
        .iter()
        .filter(|p| p.monitor.locations.contains(&cfg.location))
        .map(|p| {
            let job = Job {
                key: p.key.clone(),
                monitor: p.monitor.clone(),
                state: states.get(p.id, &loc).cloned().unwrap_or_default(),
            };
            (p.id, job)
        })
        .collect();
    // On PostgreSQL other instances may probe from this location too: this one probes its
    // share only, and a keeper follows instances joining and dying.
    let divided = store::probe_leases::divided(&db);
    let (jobs, mut keeper) = if divided {
        let shortest = jobs
            .iter()
            .map(|(_, j)| j.monitor.interval)
            .min()
            .unwrap_or(Duration::from_secs(60));
        let mut keeper = share::Keeper {
            db: db.clone(),
            location: loc.clone(),
            instance: cfg.instance.clone(),
            ids: jobs.iter().map(|(id, _)| *id).collect(),
            jobs: jobs.into_iter().collect(),
            lease: share::lease_for(shortest),
            checks: Arc::new(Mutex::new(None)),
            held: Default::default(),
            stored: None,
            whole: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        };
        (keeper.first().await?, Some(keeper))
    } else {
        (jobs.into_iter().map(|(_, j)| j).collect(), None)
    };
    let limits = Limits {
        max_concurrency: cfg.max_concurrency,
        per_host_concurrency: cfg.per_host_concurrency,
        buffer: cfg.max_batch * 4,
    };
    let (checks, rx) = Checks::start_with(jobs, &clients, limits, push.clone(), stats.clone());
    let monitors = checks.len();
    let checks = match &mut keeper {
        Some(k) => {
            *k.checks.lock().unwrap_or_else(|p| p.into_inner()) = Some(checks);
            k.checks.clone()
        }
        None => Arc::new(Mutex::new(Some(checks))),
    };

    let multi_location = planned
        .iter()
        .any(|p| p.monitor.locations.iter().any(|l| l != &cfg.location));
    let known = planned
        .iter()
        .map(|p| (p.key.clone(), (p.id, p.monitor.interval)))
        .collect();
    let collector = Collector {
        multi_location,
        divided,
        whole: keeper.as_ref().map(|k| k.whole.clone()),
        troubled: HashMap::new(),
        troubled_recorded: None,
        db: db.clone(),
        catalog: catalog.clone(),
        planned: Arc::new(planned),
        known,
        states,
        published,
        changes: changes.clone(),
        cfg: cfg.clone(),
        stats: stats.clone(),
        maintenance: Vec::new(),
        overrides: HashMap::new(),
        unwritten: std::collections::VecDeque::new(),
        dropped: 0,
        failing: None,
        evaluated: None,
    };
    let collector = tokio::spawn(collector.run(rx));
    let mut tasks = Vec::new();
    let share = keeper
        .as_ref()
        .map(|k| (k.location.clone(), k.instance.clone()));
    if let Some(keeper) = keeper {
        tasks.push(tokio::spawn(keeper.run()));
    }
    if !push.keys().is_empty() {
        // Heartbeats other instances receive reach this one's book, and so do replaced tokens.
        let (push, persist, every) = (push.clone(), persist.clone(), cfg.reevaluate_every);
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                if let Err(e) = heartbeats::sync_from_store(&push, &persist, None).await {
                    tracing::debug!(error = %e, "cannot read stored heartbeats");
                }
            }
        }));
    }
    tracing::info!(
        monitors,
        location = %cfg.location,
        source = ?cfg.source,
        "probe engine started"
    );
    Ok(Engine {
        changes,
        push,
        stats,
        monitors,
        checks,
        share,
        tasks: Mutex::new(tasks),
        persist,
        collector: Mutex::new(Some(collector)),
        new_tokens: Mutex::new(new_tokens),
    })
}
