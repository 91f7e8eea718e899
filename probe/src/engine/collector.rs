//! The collector: it receives the scheduler's confirmed results, writes them in batches
//! (keeping them, bounded, while the database cannot be written), applies the quorum over
//! locations and the topology rollup, and stores and broadcasts the status changes that
//! follow, with their cause.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::config::{Catalog, Slug};
use domain::quorum::{self, LocationReport, Verdict};
use domain::status::{ComponentStatus, ServiceState};
use domain::topology::{
    self, Inputs, MaintenanceWindow, MonitorKey, MonitorStatus, Owner, StatusChange,
};
use domain::uptime;
use store::checks::NewCheck;
use store::history::Observation;
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;

use super::states::States;
use super::{EngineConfig, Planned, MAX_BUFFERED, RETRY_EVERY, WRITE_TIMEOUT};
use crate::checks::Checked;
use crate::stats::{self, EngineStats};

pub(super) struct Collector {
    /// Whether some monitor is probed from other locations too: their states (written by
    /// other instances or agents into the same database) are then read before each evaluation.
    pub(super) multi_location: bool,
    /// Whether this location's monitors are divided between instances: the states of the
    /// monitors others probe from here are then read before each evaluation too.
    pub(super) divided: bool,
    /// When divided: whether this instance holds every monitor of its location just now
    /// (then no other instance writes this location's states, and they are not read back).
    pub(super) whole: Option<Arc<std::sync::atomic::AtomicBool>>,
    /// Locations that alone see a monitor worse than the quorum does: their own trouble.
    pub(super) troubled: HashMap<MonitorKey, Vec<Slug>>,
    /// The (monitor id, location) pairs of `troubled` as last recorded in the store, which
    /// alerts staff when a location's own trouble begins or ends (`None`: not yet recorded).
    pub(super) troubled_recorded: Option<Vec<(i64, String)>>,
    pub(super) db: store::Db,
    pub(super) catalog: Arc<Catalog>,
    pub(super) planned: Arc<Vec<Planned>>,
    /// Each monitor's database id and interval, to store its results.
    pub(super) known: HashMap<MonitorKey, (i64, Duration)>,
    pub(super) states: States,
    pub(super) published: HashMap<Owner, (ServiceState, Option<String>)>,
    pub(super) changes: broadcast::Sender<StatusChange>,
    pub(super) cfg: EngineConfig,
    pub(super) stats: Arc<EngineStats>,
    /// What staff stated, as last read: active maintenance windows and open incidents'
    /// service statuses. Kept when a read fails, so a database hiccup does not flap statuses.
    pub(super) maintenance: Vec<MaintenanceWindow>,
    pub(super) overrides: HashMap<Slug, ComponentStatus>,
    /// Results not written yet, oldest first (bounded by [`MAX_BUFFERED`]).
    pub(super) unwritten: std::collections::VecDeque<Observation>,
    /// Results dropped from a full buffer during the current outage.
    pub(super) dropped: u64,
    /// Since when writes fail, and when to try again.
    pub(super) failing: Option<(Instant, Instant)>,
    /// What the last evaluation whose changes were all stored read (`None`: none yet).
    pub(super) evaluated: Option<Evaluated>,
}

/// What one evaluation reads besides the catalog: the same again gives the same statuses.
#[derive(PartialEq)]
pub(super) struct Evaluated {
    /// Each planned monitor's status, in `planned`'s order.
    statuses: Vec<Option<MonitorStatus>>,
    maintenance: Vec<MaintenanceWindow>,
    /// Which of `maintenance` were active.
    active: Vec<bool>,
    overrides: HashMap<Slug, ComponentStatus>,
}

impl Collector {
    pub(super) async fn run(mut self, mut rx: mpsc::Receiver<Checked>) {
        let mut flush = tokio::time::interval(self.cfg.flush_every);
        let mut reevaluate = tokio::time::interval(self.cfg.reevaluate_every);
        let mut buffer: Vec<Observation> = Vec::with_capacity(self.cfg.max_batch);
        // Publish what the stored states say at once, before any new result.
        self.evaluate(Utc::now()).await;
        loop {
            tokio::select! {
                got = rx.recv() => match got {
                    Some(c) => {
                        buffer.push(self.observation(c));
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
                    while let Ok(c) = rx.try_recv() {
                        buffer.push(self.observation(c));
                    }
                    self.flush(&mut buffer).await;
                    self.evaluate(Utc::now()).await;
                }
            }
        }
    }

    /// A scheduler's result as the store records it, at this location.
    fn observation(&self, c: Checked) -> Observation {
        let (monitor_id, interval) = self.known.get(&c.key).copied().unwrap_or_default();
        Observation {
            check: NewCheck {
                monitor_id,
                location_id: self.cfg.location.as_str().to_owned(),
                checked_at: c.at,
                outcome: c.result.outcome,
                latency_ms: c.result.latency_ms(),
                status_code: c.result.status_code.map(i32::from),
                reason: c.result.reason,
            },
            interval,
            state: c.state,
            transition: c.transition,
        }
    }

    /// Takes `buffer` in and writes what is waiting, oldest first. While the database cannot
    /// be written the results stay in memory (bounded: the oldest are dropped, and counted)
    /// and probing goes on; they are written in order once it answers again.
    async fn flush(&mut self, buffer: &mut Vec<Observation>) {
        let any_transition = buffer.iter().any(|o| o.transition.is_some());
        for o in buffer.iter() {
            self.states
                .insert(o.check.monitor_id, &o.check.location_id, o.state.clone());
        }
        self.unwritten.extend(buffer.drain(..));
        while self.unwritten.len() > MAX_BUFFERED {
            self.unwritten.pop_front();
            self.dropped += 1;
        }
        metrics::gauge!(stats::UNWRITTEN).set(self.unwritten.len() as f64);
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
            let took = started.elapsed();
            self.stats.write.record(took);
            self.stats.batches.fetch_add(1, Ordering::Relaxed);
            metrics::histogram!(stats::WRITE_DURATION).record(took.as_secs_f64());
            metrics::counter!(stats::WRITE_BATCHES_TOTAL).increment(1);
            let error = match written {
                Ok(Ok(())) => {
                    self.unwritten.drain(..n);
                    continue;
                }
                Ok(Err(e)) => e.to_string(),
                Err(_) => format!("no answer within {WRITE_TIMEOUT:?}"),
            };
            self.stats.write_errors.fetch_add(1, Ordering::Relaxed);
            metrics::counter!(stats::WRITE_ERRORS_TOTAL).increment(1);
            metrics::gauge!(stats::UNWRITTEN).set(self.unwritten.len() as f64);
            let now = Instant::now();
            let since = self.failing.map_or(now, |(since, _)| since);
            if self.failing.is_none() {
                tracing::error!(error = %error, buffered = self.unwritten.len(), "cannot write probe results: keeping them until the database answers");
            }
            self.failing = Some((since, now + RETRY_EVERY));
            return;
        }
        metrics::gauge!(stats::UNWRITTEN).set(0.0);
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

    /// The monitor statuses the topology reads: quorum over each monitor's fresh locations,
    /// one per planned monitor, in `planned`'s order (`None`: no fresh data).
    fn monitor_statuses(&mut self, now: DateTime<Utc>) -> Vec<Option<MonitorStatus>> {
        let mut out = Vec::with_capacity(self.planned.len());
        let mut troubled = HashMap::new();
        for p in self.planned.iter() {
            let fresh = |loc: &Slug| {
                let s = self.states.get(p.id, loc.as_str())?;
                s.last_at
                    .filter(|at| uptime::is_fresh(*at, p.monitor.interval, now))
                    .and(s.confirmed)
                    .map(|outcome| (outcome, s))
            };
            // Probed from one location (the usual case): its fresh state is the verdict, as
            // the quorum would find, without building the reports.
            if let [only] = p.monitor.locations.as_slice() {
                out.push(fresh(only).map(|(outcome, s)| MonitorStatus {
                    outcome,
                    reason: s.last_reason.clone(),
                }));
                continue;
            }
            let reports: Vec<LocationReport> = p
                .monitor
                .locations
                .iter()
                .map(|loc| LocationReport {
                    location: loc.clone(),
                    outcome: fresh(loc).map(|(o, _)| o),
                })
                .collect();
            let Verdict::Known {
                outcome,
                troubled: t,
            } = quorum::decide(&reports)
            else {
                out.push(None);
                continue;
            };
            if !t.is_empty() {
                troubled.insert(p.key.clone(), t);
            }
            // The reason of a location that agrees with the verdict.
            let reason = p.monitor.locations.iter().find_map(|loc| {
                self.states
                    .get(p.id, loc.as_str())
                    .filter(|s| s.confirmed == Some(outcome))
                    .and_then(|s| s.last_reason.clone())
            });
            out.push(Some(MonitorStatus { outcome, reason }));
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

    /// Hands the locations' own trouble to the store when it changed since last recorded (it
    /// queues the `location` alerts); a failed write is tried again at the next evaluation.
    async fn record_location_trouble(&mut self, now: DateTime<Utc>) {
        let mut pairs: Vec<(i64, String)> = self
            .planned
            .iter()
            .filter_map(|p| Some((p.id, self.troubled.get(&p.key)?)))
            .flat_map(|(id, locations)| locations.iter().map(move |l| (id, l.as_str().to_owned())))
            .collect();
        pairs.sort();
        if self.troubled_recorded.as_ref() == Some(&pairs) {
            return;
        }
        match store::alerts::location::location_trouble(&self.db, &pairs, now).await {
            Ok(()) => self.troubled_recorded = Some(pairs),
            Err(e) => tracing::warn!(error = %e, "cannot record the locations' own trouble"),
        }
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
        match store::incidents::read::stated_statuses(&self.db).await {
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
        let whole = self
            .whole
            .as_ref()
            .is_some_and(|w| w.load(Ordering::Relaxed));
        if self.divided && !whole {
            // Every stored state: those of the monitors other instances probe from here too.
            // A stored state older than the one known here is not taken: a read answered late
            // (the database paused mid-query) must not move a monitor back in time.
            match store::history::load_states(&self.db).await {
                Ok(rows) => {
                    for (id, loc, state) in rows {
                        self.states.insert_unless_older(id, &loc, state);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot read the monitors' states"),
            }
        } else if self.multi_location {
            match store::history::load_states_elsewhere(&self.db, self.cfg.location.as_str()).await
            {
                Ok(rows) => {
                    for (id, loc, state) in rows {
                        self.states.insert(id, &loc, state);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot read other locations' states"),
            }
        }
        self.read_staff_inputs(now).await;
        let statuses = self.monitor_statuses(now);
        self.record_location_trouble(now).await;
        // The rollup reads only these (and `now` only through which windows are active): the
        // same as at the last evaluation whose changes were all stored, the same statuses
        // follow, and there is nothing to publish. This is the usual case every 5 s, and the
        // rollup of 100,000 services is most of an evaluation's cost.
        let evaluated = Evaluated {
            active: self.maintenance.iter().map(|w| w.is_active(now)).collect(),
            maintenance: self.maintenance.clone(),
            overrides: self.overrides.clone(),
            statuses,
        };
        if self.evaluated.as_ref() == Some(&evaluated) {
            return;
        }
        let inputs = Inputs {
            monitors: self
                .planned
                .iter()
                .zip(&evaluated.statuses)
                .filter_map(|(p, s)| Some((p.key.clone(), s.clone()?)))
                .collect(),
            maintenance: evaluated.maintenance.clone(),
            overrides: evaluated.overrides.clone(),
        };
        let t = topology::rollup(&self.catalog, &inputs, now);
        drop(inputs);
        let mut changes = Vec::new();
        let all = t
            .services
            .iter()
            .map(|(id, r)| (Owner::Service(id.clone()), r))
            .chain(t.hosts.iter().map(|(id, r)| (Owner::Host(id.clone()), r)));
        for (owner, r) in all {
            let new = (r.state, r.stored_cause());
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
            self.evaluated = Some(evaluated);
            return;
        }
        match store::status::apply(&self.db, &changes).await {
            Ok(()) => {
                self.evaluated = Some(evaluated);
                for c in changes {
                    tracing::info!(subject = ?c.subject, to = c.to.css_class(), cause = ?c.cause, "status changed");
                    self.published
                        .insert(c.subject.clone(), (c.to, c.cause.clone()));
                    // Nobody listening is fine.
                    let _ = self.changes.send(c);
                }
            }
            Err(e) => {
                // Tried again at the next evaluation.
                self.evaluated = None;
                tracing::error!(error = %e, "cannot store status changes");
            }
        }
    }
}
