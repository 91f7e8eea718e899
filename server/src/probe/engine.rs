//! The scheduler and the pipeline behind it.
//!
//! Every monitor this location probes gets its own task: it waits a deterministic jitter (a
//! hash of its key modulo its interval, so 10,000 monitors do not fire together), then checks
//! on its interval, or on its `retry_interval` while failing. A task runs one check at a time,
//! so a check never overlaps itself; a global and a per-target-host semaphore bound the
//! concurrency. Each task confirms its own results (`confirm` / `recover`) and sends them to
//! one collector, which writes them in batches, applies the quorum over locations and the
//! topology rollup, stores status changes with their cause and broadcasts them in process.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::config::{Catalog, Monitor, MonitorKind, Slug};
use domain::monitor_state::{MonitorState, Thresholds};
use domain::quorum::{self, LocationReport, Verdict};
use domain::status::ComponentStatus;
use domain::status::ServiceState;
use domain::topology::{
    self, Inputs, MaintenanceWindow, MonitorKey, MonitorStatus, Owner, StatusChange,
};
use domain::uptime;
use store::checks::NewCheck;
use store::history::Observation;
use tokio::sync::{broadcast, mpsc, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::push::PushBook;
use super::{split_host_port, Clients, ProbeError, ProbeResult};

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
}

/// Results kept while the database cannot be written (the oldest go first): over an hour of
/// the Humanoid catalog's results, and about 20 MB at most.
pub const MAX_BUFFERED: usize = 100_000;
/// A write that takes longer fails: the results stay buffered and the engine goes on.
const WRITE_TIMEOUT: Duration = Duration::from_secs(3);
/// While the database is unreachable, a write is tried again this often.
const RETRY_EVERY: Duration = Duration::from_secs(2);

/// Upper bounds (ms) of the engine's latency histograms; the last bucket is open.
const BOUNDS_MS: [u64; 17] = [
    1, 2, 5, 10, 20, 50, 100, 200, 300, 500, 750, 1_000, 1_500, 2_000, 5_000, 10_000, 30_000,
];

/// A lock-free histogram of durations, read as upper-bound quantiles.
#[derive(Default)]
pub struct Histogram {
    counts: [AtomicU64; BOUNDS_MS.len() + 1],
}

impl Histogram {
    pub fn record(&self, d: Duration) {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let i = BOUNDS_MS
            .iter()
            .position(|b| ms <= *b)
            .unwrap_or(BOUNDS_MS.len());
        self.counts[i].fetch_add(1, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    /// The upper bound of the bucket holding the `q`-quantile; `None` when empty or in the
    /// open bucket above the last bound.
    pub fn quantile_ms(&self, q: f64) -> Option<u64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let wanted = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c.load(Ordering::Relaxed);
            if seen >= wanted {
                return BOUNDS_MS.get(i).copied();
            }
        }
        None
    }
}

/// What the engine measures about itself (benchmarks, `/metrics`).
#[derive(Default)]
pub struct EngineStats {
    /// Checks completed.
    pub checks: AtomicU64,
    /// Batches written, and batches that failed.
    pub batches: AtomicU64,
    pub write_errors: AtomicU64,
    /// How late each check started against its schedule (permits included).
    pub lag: Histogram,
    /// How long each batch write took.
    pub write: Histogram,
}

/// A running engine. Dropping it stops every task.
pub struct Engine {
    changes: broadcast::Sender<StatusChange>,
    pub push: Arc<PushBook>,
    stats: Arc<EngineStats>,
    monitors: usize,
    tasks: std::sync::Mutex<Vec<JoinHandle<()>>>,
    /// Where heartbeats are stored, so every instance judges them the same.
    persist: super::push::Persist,
    /// The task that writes results; awaited by [`Engine::stop`].
    collector: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Engine {
    /// Status changes of services and hosts, as they are stored.
    pub fn subscribe(&self) -> broadcast::Receiver<StatusChange> {
        self.changes.subscribe()
    }

    /// The push heartbeat endpoint for this engine's monitors.
    pub fn push_router<S: Clone + Send + Sync + 'static>(&self) -> axum::Router<S> {
        super::push::router(self.push.clone(), Some(self.persist.clone()))
    }

    /// The engine's own measurements.
    pub fn stats(&self) -> Arc<EngineStats> {
        self.stats.clone()
    }

    /// Number of monitors probed from this location.
    pub fn monitor_tasks(&self) -> usize {
        self.monitors
    }

    /// Stops probing and writes the results not yet stored (a clean shutdown): the monitor
    /// tasks end, the collector sees its channel close, flushes its buffer and returns. Waits
    /// at most `within` for that last write.
    pub async fn stop(&self, within: Duration) {
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
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
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

/// One monitor as the engine knows it.
struct Planned {
    key: MonitorKey,
    id: i64,
    monitor: Monitor,
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
            monitor: m.clone(),
        });
    }
    let mut states: HashMap<(i64, String), MonitorState> = HashMap::new();
    for (id, loc, s) in store::history::load_states(&db).await? {
        states.insert((id, loc), s);
    }
    let published: HashMap<Owner, (ServiceState, Option<String>)> = store::status::current(&db)
        .await?
        .into_iter()
        .map(|c| (c.subject, (c.state, c.cause)))
        .collect();

    let now = Utc::now();
    let push = Arc::new(PushBook::new(&catalog, now));
    let persist = super::push::Persist {
        db: db.clone(),
        ids: Arc::new(planned.iter().map(|p| (p.key.clone(), p.id)).collect()),
    };
    // Heartbeats stored before (by this instance before a restart, or by another one) count.
    super::push::sync_from_store(&push, &persist, Some(now)).await?;
    let (changes, _) = broadcast::channel(1024);
    let (tx, rx) = mpsc::channel::<Observation>(cfg.max_batch * 4);
    let global = Arc::new(Semaphore::new(cfg.max_concurrency.max(1)));
    let stats = Arc::new(EngineStats::default());
    let mut per_host: HashMap<String, Arc<Semaphore>> = HashMap::new();
    let mut tasks = Vec::new();

    let loc = cfg.location.as_str().to_owned();
    let planned = Arc::new(planned);
    for p in planned.iter() {
        if !p.monitor.locations.contains(&cfg.location) {
            continue;
        }
        let host = split_host_port(&p.monitor.target, 0)
            .map(|(h, _)| h)
            .unwrap_or_default();
        let host_sem = per_host
            .entry(host)
            .or_insert_with(|| Arc::new(Semaphore::new(cfg.per_host_concurrency.max(1))))
            .clone();
        let task = MonitorTask {
            key: p.key.clone(),
            id: p.id,
            monitor: p.monitor.clone(),
            location: loc.clone(),
            state: states
                .get(&(p.id, loc.clone()))
                .cloned()
                .unwrap_or_default(),
            clients: clients.clone(),
            global: global.clone(),
            host: host_sem,
            push: push.clone(),
            tx: tx.clone(),
            stats: stats.clone(),
        };
        tasks.push(tokio::spawn(task.run()));
    }
    drop(tx);
    let monitors = tasks.len();

    let multi_location = planned
        .iter()
        .any(|p| p.monitor.locations.iter().any(|l| l != &cfg.location));
    let collector = Collector {
        multi_location,
        troubled: HashMap::new(),
        db: db.clone(),
        catalog: catalog.clone(),
        planned,
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
    };
    let collector = tokio::spawn(collector.run(rx));
    if !push.keys().is_empty() {
        // Heartbeats other instances receive reach this one's book.
        let (push, persist, every) = (push.clone(), persist.clone(), cfg.reevaluate_every);
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                if let Err(e) = super::push::sync_from_store(&push, &persist, None).await {
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
        tasks: std::sync::Mutex::new(tasks),
        persist,
        collector: std::sync::Mutex::new(Some(collector)),
    })
}

/// Deterministic first delay in `[0, interval)`, spreading monitors over their interval.
fn jitter(key: &MonitorKey, interval: Duration) -> Duration {
    let mut h = DefaultHasher::new();
    key.to_string().hash(&mut h);
    let ms = u64::try_from(interval.as_millis())
        .unwrap_or(u64::MAX)
        .max(1);
    Duration::from_millis(h.finish() % ms)
}

struct MonitorTask {
    key: MonitorKey,
    id: i64,
    monitor: Monitor,
    location: String,
    state: MonitorState,
    clients: Clients,
    global: Arc<Semaphore>,
    host: Arc<Semaphore>,
    push: Arc<PushBook>,
    tx: mpsc::Sender<Observation>,
    stats: Arc<EngineStats>,
}

impl MonitorTask {
    async fn run(mut self) {
        if self.monitor.kind == MonitorKind::Push {
            return self.run_push().await;
        }
        let mut next = Instant::now() + jitter(&self.key, self.monitor.interval);
        loop {
            tokio::time::sleep_until(next).await;
            let result = self.check(next).await;
            if !self.record(result).await {
                return; // the collector is gone: the engine is stopping
            }
            let delay = self
                .state
                .next_delay(self.monitor.interval, self.monitor.retry_interval);
            // On schedule, never bursting to catch up, never overlapping.
            next = (next + delay).max(Instant::now());
        }
    }

    /// Push monitors have nothing to probe: they are judged from their newest heartbeat as
    /// soon as one arrives, and re-judged every `min(interval, 60 s)` so a missing heartbeat is
    /// noticed within a minute of `interval + grace`. A judgement is recorded on every
    /// heartbeat, whenever it changes or is not yet confirmed, and once per interval otherwise.
    async fn run_push(mut self) {
        let tick = self.monitor.interval.min(Duration::from_secs(60));
        let notify = self.push.notifier(&self.key);
        let mut recorded: Option<(ProbeResult, Instant)> = None;
        loop {
            let beat = match &notify {
                Some(n) => tokio::select! {
                    () = tokio::time::sleep(tick) => false,
                    () = n.notified() => true,
                },
                None => {
                    tokio::time::sleep(tick).await;
                    false
                }
            };
            let Some(result) = self
                .push
                .view(&self.key)
                .evaluate(&self.monitor, Utc::now())
            else {
                continue;
            };
            let due = beat
                || self.state.confirmed != Some(result.outcome)
                || recorded.as_ref().is_none_or(|(r, at)| {
                    r.outcome != result.outcome
                        || r.reason != result.reason
                        || at.elapsed() >= self.monitor.interval
                });
            if !due {
                continue;
            }
            recorded = Some((result.clone(), Instant::now()));
            if !self.record(result).await {
                return;
            }
        }
    }

    /// Confirms a result and sends it to the collector; false once the collector is gone.
    async fn record(&mut self, result: ProbeResult) -> bool {
        let thresholds = Thresholds {
            confirm: self.monitor.confirm,
            recover: self.monitor.recover,
        };
        let checked_at = Utc::now();
        let transition = self.state.observe(
            result.outcome,
            result.reason.clone(),
            checked_at,
            thresholds,
        );
        if let Some(t) = &transition {
            tracing::info!(monitor = %self.key, from = ?t.from, to = t.to.as_str(), reason = ?result.reason, "monitor state confirmed");
        }
        let obs = Observation {
            check: NewCheck {
                monitor_id: self.id,
                location_id: self.location.clone(),
                checked_at,
                outcome: result.outcome,
                latency_ms: result.latency_ms(),
                status_code: result.status_code.map(i32::from),
                reason: result.reason,
            },
            interval: self.monitor.interval,
            state: self.state.clone(),
            transition,
        };
        self.tx.send(obs).await.is_ok()
    }

    async fn check(&self, scheduled: Instant) -> ProbeResult {
        let Ok(_g) = self.global.acquire().await else {
            return ProbeResult::down("probe engine stopping");
        };
        let Ok(_h) = self.host.acquire().await else {
            return ProbeResult::down("probe engine stopping");
        };
        self.stats
            .lag
            .record(Instant::now().saturating_duration_since(scheduled));
        let r = super::run(&self.monitor, &self.clients, Utc::now()).await;
        self.stats.checks.fetch_add(1, Ordering::Relaxed);
        r
    }
}

struct Collector {
    /// Whether some monitor is probed from other locations too: their states (written by
    /// other instances or agents into the same database) are then read before each evaluation.
    multi_location: bool,
    /// Locations that alone see a monitor worse than the quorum does: their own trouble.
    troubled: HashMap<MonitorKey, Vec<Slug>>,
    db: store::Db,
    catalog: Arc<Catalog>,
    planned: Arc<Vec<Planned>>,
    states: HashMap<(i64, String), MonitorState>,
    published: HashMap<Owner, (ServiceState, Option<String>)>,
    changes: broadcast::Sender<StatusChange>,
    cfg: EngineConfig,
    stats: Arc<EngineStats>,
    /// What staff stated, as last read: active maintenance windows and open incidents'
    /// service statuses. Kept when a read fails, so a database hiccup does not flap statuses.
    maintenance: Vec<MaintenanceWindow>,
    overrides: HashMap<Slug, ComponentStatus>,
    /// Results not written yet, oldest first (bounded by [`MAX_BUFFERED`]).
    unwritten: std::collections::VecDeque<Observation>,
    /// Results dropped from a full buffer during the current outage.
    dropped: u64,
    /// Since when writes fail, and when to try again.
    failing: Option<(Instant, Instant)>,
}

impl Collector {
    async fn run(mut self, mut rx: mpsc::Receiver<Observation>) {
        let mut flush = tokio::time::interval(self.cfg.flush_every);
        let mut reevaluate = tokio::time::interval(self.cfg.reevaluate_every);
        let mut buffer: Vec<Observation> = Vec::with_capacity(self.cfg.max_batch);
        // Publish what the stored states say at once, before any new result.
        self.evaluate(Utc::now()).await;
        loop {
            tokio::select! {
                got = rx.recv() => match got {
                    Some(o) => {
                        buffer.push(o);
                        if buffer.len() >= self.cfg.max_batch {
                            self.flush(&mut buffer).await;
                        }
                    }
                    None => {
                        self.flush(&mut buffer).await;
                        return;
                    }
                },
                _ = flush.tick() => self.flush(&mut buffer).await,
                _ = reevaluate.tick() => {
                    // Judged on every result received so far, never on a backlog.
                    while let Ok(o) = rx.try_recv() {
                        buffer.push(o);
                    }
                    self.flush(&mut buffer).await;
                    self.evaluate(Utc::now()).await;
                }
            }
        }
    }

    /// Takes `buffer` in and writes what is waiting, oldest first. While the database cannot
    /// be written the results stay in memory (bounded: the oldest are dropped, and counted)
    /// and probing goes on; they are written in order once it answers again.
    async fn flush(&mut self, buffer: &mut Vec<Observation>) {
        let any_transition = buffer.iter().any(|o| o.transition.is_some());
        for o in buffer.iter() {
            self.states.insert(
                (o.check.monitor_id, o.check.location_id.clone()),
                o.state.clone(),
            );
        }
        self.unwritten.extend(buffer.drain(..));
        while self.unwritten.len() > MAX_BUFFERED {
            self.unwritten.pop_front();
            self.dropped += 1;
        }
        if self.unwritten.is_empty() {
            return;
        }
        if self
            .failing
            .is_some_and(|(_, retry)| Instant::now() < retry)
        {
            return;
        }
        let was_failing = self.failing.is_some();
        while !self.unwritten.is_empty() {
            let n = self.unwritten.len().min(self.cfg.max_batch);
            let batch: Vec<Observation> = self.unwritten.range(..n).cloned().collect();
            let started = Instant::now();
            let written = tokio::time::timeout(
                WRITE_TIMEOUT,
                store::history::record_batch(&self.db, &batch),
            )
            .await;
            self.stats.write.record(started.elapsed());
            self.stats.batches.fetch_add(1, Ordering::Relaxed);
            let error = match written {
                Ok(Ok(())) => {
                    self.unwritten.drain(..n);
                    continue;
                }
                Ok(Err(e)) => e.to_string(),
                Err(_) => format!("no answer within {WRITE_TIMEOUT:?}"),
            };
            self.stats.write_errors.fetch_add(1, Ordering::Relaxed);
            let now = Instant::now();
            let since = self.failing.map_or(now, |(since, _)| since);
            if self.failing.is_none() {
                tracing::error!(error = %error, buffered = self.unwritten.len(), "cannot write probe results: keeping them until the database answers");
            }
            self.failing = Some((since, now + RETRY_EVERY));
            return;
        }
        if let Some((since, _)) = self.failing.take() {
            tracing::info!(
                after = ?since.elapsed(),
                dropped = self.dropped,
                "probe results written again, the buffered ones included"
            );
            self.dropped = 0;
        }
        if any_transition || was_failing {
            self.evaluate(Utc::now()).await;
        }
    }

    /// The monitor statuses the topology reads: quorum over each monitor's fresh locations.
    fn monitor_statuses(&mut self, now: DateTime<Utc>) -> HashMap<MonitorKey, MonitorStatus> {
        let mut out = HashMap::new();
        let mut troubled = HashMap::new();
        for p in self.planned.iter() {
            let reports: Vec<LocationReport> = p
                .monitor
                .locations
                .iter()
                .map(|loc| {
                    let s = self.states.get(&(p.id, loc.as_str().to_owned()));
                    let fresh = s.and_then(|s| {
                        s.last_at
                            .filter(|at| uptime::is_fresh(*at, p.monitor.interval, now))
                            .and(s.confirmed)
                    });
                    LocationReport {
                        location: loc.clone(),
                        outcome: fresh,
                    }
                })
                .collect();
            if let Verdict::Known {
                outcome,
                troubled: t,
            } = quorum::decide(&reports)
            {
                if !t.is_empty() {
                    troubled.insert(p.key.clone(), t);
                }
                // The reason of a location that agrees with the verdict.
                let reason = p.monitor.locations.iter().find_map(|loc| {
                    self.states
                        .get(&(p.id, loc.as_str().to_owned()))
                        .filter(|s| s.confirmed == Some(outcome))
                        .and_then(|s| s.last_reason.clone())
                });
                out.insert(p.key.clone(), MonitorStatus { outcome, reason });
            }
        }
        for (key, locations) in &troubled {
            if self.troubled.get(key) != Some(locations) {
                tracing::warn!(monitor = %key, ?locations, "failing from these locations only: their own trouble, not the service's");
            }
        }
        for key in self.troubled.keys() {
            if !troubled.contains_key(key) {
                tracing::info!(monitor = %key, "location trouble over");
            }
        }
        self.troubled = troubled;
        out
    }

    /// Reads the maintenance windows active at `now` and open incidents' stated statuses.
    async fn read_staff_inputs(&mut self, now: DateTime<Utc>) {
        match store::maintenance::active(&self.db, now).await {
            Ok(windows) => {
                self.maintenance = windows
                    .into_iter()
                    .map(|w| MaintenanceWindow {
                        services: w
                            .services
                            .iter()
                            .filter_map(|s| Slug::parse(&s.service_id).ok())
                            .collect(),
                        starts_at: w.starts_at,
                        ends_at: w.ends_at,
                    })
                    .collect();
            }
            Err(e) => tracing::warn!(error = %e, "cannot read maintenance windows"),
        }
        match store::incidents::stated_statuses(&self.db).await {
            Ok(stated) => {
                self.overrides = stated
                    .into_iter()
                    .filter_map(|(id, s)| Some((Slug::parse(&id).ok()?, s)))
                    .collect();
            }
            Err(e) => tracing::warn!(error = %e, "cannot read incidents' stated statuses"),
        }
    }

    async fn evaluate(&mut self, now: DateTime<Utc>) {
        if self.failing.is_some() {
            // Nothing decided now could be stored, and every read would wait on the database:
            // the published statuses stand until results are written again.
            return;
        }
        if self.multi_location {
            match store::history::load_states_elsewhere(&self.db, self.cfg.location.as_str()).await
            {
                Ok(rows) => {
                    for (id, loc, state) in rows {
                        self.states.insert((id, loc), state);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot read other locations' states"),
            }
        }
        self.read_staff_inputs(now).await;
        let inputs = Inputs {
            monitors: self.monitor_statuses(now),
            maintenance: self.maintenance.clone(),
            overrides: self.overrides.clone(),
        };
        let t = topology::rollup(&self.catalog, &inputs, now);
        let mut changes = Vec::new();
        let all = t
            .services
            .iter()
            .map(|(id, r)| (Owner::Service(id.clone()), r))
            .chain(t.hosts.iter().map(|(id, r)| (Owner::Host(id.clone()), r)));
        for (owner, r) in all {
            let new = (r.state, r.describe());
            let old = self.published.get(&owner);
            // Nothing known yet is no news: absent and no data read the same.
            if old == Some(&new) || (old.is_none() && new.0 == ServiceState::NoData) {
                continue;
            }
            changes.push(StatusChange {
                subject: owner,
                from: old.map(|o| o.0),
                to: new.0,
                cause: new.1,
                at: now,
            });
        }
        if changes.is_empty() {
            return;
        }
        match store::status::apply(&self.db, &changes).await {
            Ok(()) => {
                for c in changes {
                    tracing::info!(subject = ?c.subject, to = c.to.css_class(), cause = ?c.cause, "status changed");
                    self.published
                        .insert(c.subject.clone(), (c.to, c.cause.clone()));
                    // Nobody listening is fine.
                    let _ = self.changes.send(c);
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot store status changes"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_quantiles_are_bucket_upper_bounds() {
        let h = Histogram::default();
        assert_eq!(h.quantile_ms(0.5), None);
        for ms in [0, 3, 4, 40, 600] {
            h.record(Duration::from_millis(ms));
        }
        assert_eq!(h.count(), 5);
        assert_eq!(h.quantile_ms(0.5), Some(5));
        assert_eq!(h.quantile_ms(0.99), Some(750));
        h.record(Duration::from_secs(60));
        assert_eq!(h.quantile_ms(1.0), None, "open bucket");
    }

    #[test]
    fn jitter_is_stable_and_within_the_interval() {
        let key = MonitorKey::parse("service/web/home").expect("key");
        let i = Duration::from_secs(30);
        assert_eq!(jitter(&key, i), jitter(&key, i));
        assert!(jitter(&key, i) < i);
        assert_eq!(jitter(&key, Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn jitter_spreads_many_monitors_over_the_interval() {
        let i = Duration::from_secs(30);
        let mut per_second = [0u32; 30];
        for n in 0..3000 {
            let key = MonitorKey::parse(&format!("service/s{n}/http")).expect("key");
            let s = usize::try_from(jitter(&key, i).as_secs()).expect("small");
            per_second[s] += 1;
        }
        // 100 per second on average; no second gets more than twice that.
        assert!(
            per_second.iter().all(|c| *c > 30 && *c < 200),
            "{per_second:?}"
        );
    }
}
