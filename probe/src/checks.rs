//! The scheduler: "run these monitors from this location and hand me the results".
//!
//! [`Checks::start`] gives every monitor its own task: it waits a deterministic jitter (a hash
//! of its key modulo its interval, so 10,000 monitors do not fire together), then checks on
//! its interval, or on its `retry_interval` while failing. A task runs one check at a time, so
//! a check never overlaps itself; a global and a per-target-host semaphore bound the
//! concurrency. Each task confirms its own results (`confirm` / `recover`, the
//! [`MonitorState`] machine of `domain`) and sends each one, with the state it leads to, on
//! one channel. Whoever holds the receiver decides what to do with them: the engine (feature
//! `store`) stores them and rolls them up; a remote agent sends them to its server.
//!
//! Nothing here touches a database.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::config::{Monitor, MonitorKind};
use domain::monitor_state::{MonitorState, Thresholds, Transition};
use domain::topology::MonitorKey;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::push::PushBook;
use crate::stats::{self, EngineStats};
use crate::{split_host_port, Clients, ProbeError, ProbeResult};

/// One monitor to run.
#[derive(Clone, Debug)]
pub struct Job {
    /// Whose monitor it is (`service/web/home`, `host/db1/ping`): results carry it back.
    pub key: MonitorKey,
    /// Shared, not copied: the engine keeps each monitor once for its collector, its task and
    /// (probing divided) its keeper, and 100,000 monitors made those copies 100s of MB.
    pub monitor: Arc<Monitor>,
    /// Its state at this location so far (`MonitorState::default()` when new): confirmation
    /// continues where it stopped, and a failing monitor is re-checked at its retry interval.
    pub state: MonitorState,
}

impl Job {
    /// A monitor with no history.
    pub fn new(key: MonitorKey, monitor: impl Into<Arc<Monitor>>) -> Self {
        Job {
            key,
            monitor: monitor.into(),
            state: MonitorState::default(),
        }
    }
}

/// One result of one monitor, confirmed.
#[derive(Clone, Debug)]
pub struct Checked {
    pub key: MonitorKey,
    pub result: ProbeResult,
    /// When the check finished.
    pub at: DateTime<Utc>,
    /// The monitor's state after this result.
    pub state: MonitorState,
    /// The confirmed change this result caused, if any.
    pub transition: Option<Transition>,
}

/// How many checks may run at once, and how many results may wait on the channel.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Checks running at once, in total.
    pub max_concurrency: usize,
    /// Checks running at once against one target host.
    pub per_host_concurrency: usize,
    /// Results waiting for the receiver; beyond it, checks wait (they never pile up).
    pub buffer: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_concurrency: 512,
            per_host_concurrency: 8,
            buffer: 4000,
        }
    }
}

/// Running checks. Dropping it stops every task; the receiver then ends.
///
/// Monitors may be added and removed while it runs ([`Checks::add`], [`Checks::remove`]):
/// an instance that shares its location with others probes only the monitors it holds.
pub struct Checks {
    push: Arc<PushBook>,
    stats: Arc<EngineStats>,
    /// One task per monitor.
    tasks: std::sync::Mutex<HashMap<MonitorKey, JoinHandle<()>>>,
    clients: Clients,
    global: Arc<Semaphore>,
    per_host: std::sync::Mutex<HashMap<String, Arc<Semaphore>>>,
    per_host_concurrency: usize,
    /// Where results go. Keeps the channel open while the scheduler lives, even with no
    /// monitor to run (a location whose monitors all run elsewhere still has its results'
    /// receiver waiting).
    tx: mpsc::Sender<Checked>,
}

impl Checks {
    /// Starts checking `jobs` with probe sockets bound to `source`. Push monitors among them
    /// are judged from the heartbeats given to [`Checks::push`].
    pub fn start(
        jobs: Vec<Job>,
        source: Option<IpAddr>,
        limits: Limits,
    ) -> Result<(Checks, mpsc::Receiver<Checked>), ProbeError> {
        let clients = Clients::new(source)?;
        let push = Arc::new(PushBook::for_monitors(
            jobs.iter()
                .filter(|j| j.monitor.kind() == MonitorKind::Push)
                .map(|j| (j.key.clone(), Monitor::clone(&j.monitor))),
            Utc::now(),
        ));
        Ok(Self::start_with(
            jobs,
            &clients,
            limits,
            push,
            Arc::new(EngineStats::default()),
        ))
    }

    /// As [`Checks::start`], with clients, a push book and measurements shared with the
    /// caller.
    pub fn start_with(
        jobs: Vec<Job>,
        clients: &Clients,
        limits: Limits,
        push: Arc<PushBook>,
        stats: Arc<EngineStats>,
    ) -> (Checks, mpsc::Receiver<Checked>) {
        let (tx, rx) = mpsc::channel::<Checked>(limits.buffer.max(1));
        let checks = Checks {
            push,
            stats,
            tasks: std::sync::Mutex::new(HashMap::with_capacity(jobs.len())),
            clients: clients.clone(),
            global: Arc::new(Semaphore::new(limits.max_concurrency.max(1))),
            per_host: std::sync::Mutex::new(HashMap::new()),
            per_host_concurrency: limits.per_host_concurrency.max(1),
            tx,
        };
        for job in jobs {
            checks.add(job);
        }
        (checks, rx)
    }

    /// Starts checking one more monitor (a monitor already checked is restarted with
    /// `job`). Its first check continues the schedule `job.state` tells of: a monitor checked
    /// a moment ago elsewhere is not checked again at once, an overdue one is checked soon.
    pub fn add(&self, job: Job) {
        let host = split_host_port(&job.monitor.target, 0)
            .map(|(h, _)| h)
            .unwrap_or_default();
        let host_sem = self
            .per_host
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(host)
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_host_concurrency)))
            .clone();
        let key = job.key.clone();
        let task = MonitorTask {
            key: job.key,
            monitor: job.monitor,
            state: job.state,
            clients: self.clients.clone(),
            global: self.global.clone(),
            host: host_sem,
            push: self.push.clone(),
            tx: self.tx.clone(),
            stats: self.stats.clone(),
        };
        let handle = tokio::spawn(task.run());
        let old = self
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, handle);
        if let Some(old) = old {
            old.abort();
        }
    }

    /// Stops checking `key` (a check under way is abandoned). False when it was not checked.
    pub fn remove(&self, key: &MonitorKey) -> bool {
        let task = self
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
        task.map(|t| t.abort()).is_some()
    }

    /// The monitors being checked.
    pub fn keys(&self) -> Vec<MonitorKey> {
        self.tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    /// Where heartbeats of the push monitors go.
    pub fn push(&self) -> &Arc<PushBook> {
        &self.push
    }

    /// Checks done and how late they started.
    pub fn stats(&self) -> &Arc<EngineStats> {
        &self.stats
    }

    /// Number of monitors being checked.
    pub fn len(&self) -> usize {
        self.tasks.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// True when no monitor is checked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stops every check and waits until each task is gone: once it returns, the receiver
    /// holds every result sent and then ends.
    pub async fn stop(self) {
        let tasks: Vec<JoinHandle<()>> =
            std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|p| p.into_inner()))
                .into_values()
                .collect();
        for t in &tasks {
            t.abort();
        }
        for t in tasks {
            // Aborted: the error only says so.
            let _ = t.await;
        }
    }
}

impl Drop for Checks {
    fn drop(&mut self) {
        for t in self
            .tasks
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .values()
        {
            t.abort();
        }
    }
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
    monitor: Arc<Monitor>,
    state: MonitorState,
    clients: Clients,
    global: Arc<Semaphore>,
    host: Arc<Semaphore>,
    push: Arc<PushBook>,
    tx: mpsc::Sender<Checked>,
    stats: Arc<EngineStats>,
}

impl MonitorTask {
    /// The task of one monitor. What lives here between checks (the task's future, 100,000
    /// of them) is kept small: the push loop, a check and the sending of its result are
    /// boxed, so their futures exist only while they run. They were inline here and made each
    /// idle task 4.2 kB (heaptrack, 10,000 monitors: 42 MB in task cells).
    async fn run(mut self) {
        if self.monitor.kind() == MonitorKind::Push {
            return Box::pin(self.run_push()).await;
        }
        let mut next = Instant::now() + self.first_delay(Utc::now());
        loop {
            tokio::time::sleep_until(next).await;
            let result = Box::pin(self.check(next)).await;
            if !Box::pin(self.record(result)).await {
                return; // the receiver is gone: the engine or agent is stopping
            }
            let delay = self
                .state
                .next_delay(self.monitor.interval, self.monitor.retry_interval);
            // On schedule, never bursting to catch up, never overlapping.
            next = (next + delay).max(Instant::now());
        }
    }

    /// How long before the first check. A monitor never checked waits its deterministic
    /// jitter (spread over its interval); one with a stored last check continues that
    /// schedule (handed over from another instance, or after a restart), and one already
    /// overdue waits a jitter within a quarter of its interval, so many overdue monitors do
    /// not fire together yet none waits long.
    fn first_delay(&self, now: DateTime<Utc>) -> Duration {
        let interval = self.monitor.interval;
        let Some(last) = self.state.last_at else {
            return jitter(&self.key, interval);
        };
        let step = chrono::TimeDelta::from_std(
            self.state.next_delay(interval, self.monitor.retry_interval),
        )
        .unwrap_or(chrono::TimeDelta::MAX);
        let Some(due) = last.checked_add_signed(step) else {
            return jitter(&self.key, interval);
        };
        match (due - now).to_std() {
            Ok(wait) if !wait.is_zero() => wait.min(interval),
            _ => jitter(&self.key, interval / 4),
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

    /// Confirms a result and sends it on; false once the receiver is gone.
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
        let checked = Checked {
            key: self.key.clone(),
            result,
            at: checked_at,
            state: self.state.clone(),
            transition,
        };
        self.tx.send(checked).await.is_ok()
    }

    async fn check(&self, scheduled: Instant) -> ProbeResult {
        let Ok(_g) = self.global.acquire().await else {
            return ProbeResult::down("probe engine stopping");
        };
        let Ok(_h) = self.host.acquire().await else {
            return ProbeResult::down("probe engine stopping");
        };
        let started = Instant::now();
        let lag = started.saturating_duration_since(scheduled);
        self.stats.lag.record(lag);
        stats::record_lag(lag);
        // Inline: this whole future is boxed by `run`, so it lives only while the check runs.
        let r = crate::run(&self.monitor, &self.clients, Utc::now()).await;
        self.stats.checks.fetch_add(1, Ordering::Relaxed);
        stats::record_check(
            &self.key,
            self.monitor.kind(),
            r.outcome,
            started.elapsed(),
            r.certificate_expires,
        );
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
