//! A remote probe location: `vigie-agent --central URL --token TOKEN`.
//!
//! The agent asks central for the monitors of its location (`GET /api/v1/agent/config`, polled
//! with `If-None-Match`, so a catalog change is picked up without a restart and an unchanged
//! one costs a 304), runs them with the probe crate's scheduler ([`probe::checks::Checks`]),
//! and posts the results in batches (`POST /api/v1/agent/results`), each with an id: a batch
//! sent again after a lost answer is acknowledged by central and stored once.
//!
//! While central cannot be reached the agent keeps probing and keeps the results in memory,
//! in order, bounded by [`Options::max_buffered`] (the oldest are dropped first, and how many
//! is logged); they are sent, oldest first, once central answers again. Central confirms the
//! results itself (its `confirm` / `recover`), so the agent sends every raw result.
//!
//! It links no database code, no web server and no pages (`scripts/check-deps.sh`).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::Duration;

use anyhow::Context;
use domain::agent::{AgentConfig, AgentResult, ResultBatch};
use domain::monitor_state::MonitorState;
use domain::topology::MonitorKey;
use probe::checks::{Checked, Checks, Job, Limits};
use reqwest::header::{ETAG, IF_NONE_MATCH};
use reqwest::StatusCode;
use tokio::sync::mpsc;

/// How the agent runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Central's base URL, e.g. `https://status.example.org`.
    pub central: String,
    /// The agent token (`vigie agent-token create --location …`).
    pub token: String,
    /// The local address probe sockets bind to (none: the system's choice).
    pub source: Option<IpAddr>,
    /// How often the configuration is asked for.
    pub poll_every: Duration,
    /// How often waiting results are sent.
    pub send_every: Duration,
    /// Results kept while central is unreachable; beyond, the oldest are dropped.
    pub max_buffered: usize,
    /// Results per batch.
    pub batch_size: usize,
}

/// Results kept while central is unreachable. The Humanoid catalog makes 1,680 results an hour
/// at one location (14 probed monitors at 30 s to 60 s), 5,040 if every one failed at a 10 s
/// retry interval: this keeps about ten hours of the worst case, 59 of the usual, in about
/// 20 MB.
pub const MAX_BUFFERED: usize = 100_000;

impl Options {
    /// The defaults for `central` and `token`.
    pub fn new(central: impl Into<String>, token: impl Into<String>) -> Self {
        Options {
            central: central.into().trim_end_matches('/').to_owned(),
            token: token.into(),
            source: None,
            poll_every: Duration::from_secs(30),
            send_every: Duration::from_secs(2),
            max_buffered: MAX_BUFFERED,
            batch_size: 1000,
        }
    }
}

/// Results waiting to be sent, oldest first, bounded.
struct Outbox {
    waiting: VecDeque<AgentResult>,
    max: usize,
    /// Dropped since the last successful send.
    dropped: u64,
    /// The batch being sent: kept with its id until central acknowledges it, so a retry is a
    /// replay central recognises.
    in_flight: Option<ResultBatch>,
    /// Unique per process start, then a counter: batch ids never repeat.
    prefix: String,
    next: u64,
}

impl Outbox {
    fn push(&mut self, r: AgentResult) {
        self.waiting.push_back(r);
        let in_flight = self.in_flight.as_ref().map_or(0, |b| b.results.len());
        while self.waiting.len() + in_flight > self.max && !self.waiting.is_empty() {
            self.waiting.pop_front();
            self.dropped += 1;
            if self.dropped.is_power_of_two() {
                tracing::warn!(
                    dropped = self.dropped,
                    "central unreachable and the buffer full: oldest results dropped"
                );
            }
        }
    }

    /// The batch to send now: the one not yet acknowledged, else the oldest waiting results.
    fn batch(&mut self, size: usize) -> Option<ResultBatch> {
        if self.in_flight.is_none() && !self.waiting.is_empty() {
            let n = self.waiting.len().min(size.max(1));
            self.next += 1;
            self.in_flight = Some(ResultBatch {
                batch: format!("{}-{}", self.prefix, self.next),
                results: self.waiting.drain(..n).collect(),
            });
        }
        self.in_flight.clone()
    }
}

/// What one check becomes on the wire.
fn to_wire(c: Checked) -> AgentResult {
    AgentResult {
        monitor: c.key.to_string(),
        checked_at: c.at,
        outcome: c.result.outcome.as_str().to_owned(),
        latency_ms: c
            .result
            .latency
            .map(|l| u32::try_from(l.as_millis()).unwrap_or(u32::MAX)),
        status_code: c.result.status_code,
        reason: c.result.reason.map(|r| {
            // Central refuses reasons over 1000 bytes.
            let mut r = r;
            if r.len() > 1000 {
                let mut cut = 1000;
                while !r.is_char_boundary(cut) {
                    cut -= 1;
                }
                r.truncate(cut);
            }
            r
        }),
    }
}

/// The running agent's state between loop turns.
struct Agent {
    opts: Options,
    http: reqwest::Client,
    etag: Option<String>,
    checks: Option<(Checks, mpsc::Receiver<Checked>)>,
    /// Each monitor's state so far, carried over when the configuration changes.
    states: HashMap<MonitorKey, MonitorState>,
    outbox: Outbox,
    /// Whether central answered the last request (logged on change only).
    reachable: bool,
}

/// Runs the agent until the task is dropped or aborted.
pub async fn run(opts: Options) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
        .user_agent(concat!("vigie-agent/", env!("CARGO_PKG_VERSION")))
        .timeout(Duration::from_secs(20))
        .build()
        .context("cannot build the HTTP client")?;
    let started = chrono::Utc::now();
    let mut agent = Agent {
        outbox: Outbox {
            waiting: VecDeque::new(),
            max: opts.max_buffered.max(1),
            dropped: 0,
            in_flight: None,
            prefix: format!("{:x}-{:x}", started.timestamp_micros(), std::process::id()),
            next: 0,
        },
        opts,
        http,
        etag: None,
        checks: None,
        states: HashMap::new(),
        reachable: true,
    };
    let mut poll = tokio::time::interval(agent.opts.poll_every);
    let mut send = tokio::time::interval(agent.opts.send_every);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    send.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = poll.tick() => agent.poll().await,
            _ = send.tick() => agent.send().await,
            got = async {
                match agent.checks.as_mut() {
                    Some((_, rx)) => rx.recv().await,
                    None => std::future::pending().await,
                }
            } => match got {
                Some(c) => agent.take(c),
                None => agent.checks = None,
            },
        }
    }
}

impl Agent {
    fn take(&mut self, c: Checked) {
        self.states.insert(c.key.clone(), c.state.clone());
        self.outbox.push(to_wire(c));
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.opts.central)
    }

    fn note_reachable(&mut self, ok: bool, error: &str) {
        if ok && !self.reachable {
            tracing::info!(central = %self.opts.central, "central answers again");
        } else if !ok && self.reachable {
            tracing::warn!(central = %self.opts.central, error, "central unreachable: probing goes on, results are kept");
        }
        self.reachable = ok;
    }

    /// Asks central for the configuration and restarts the checks when it changed.
    async fn poll(&mut self) {
        let mut req = self
            .http
            .get(self.url("/api/v1/agent/config"))
            .bearer_auth(&self.opts.token);
        if let Some(tag) = &self.etag {
            req = req.header(IF_NONE_MATCH, tag);
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => return self.note_reachable(false, &e.to_string()),
        };
        self.note_reachable(true, "");
        match resp.status() {
            StatusCode::NOT_MODIFIED => {}
            StatusCode::OK => {
                let etag = resp
                    .headers()
                    .get(ETAG)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                match resp.json::<AgentConfig>().await {
                    Ok(config) => {
                        self.apply(config).await;
                        self.etag = etag;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "central sent a configuration this agent cannot read")
                    }
                }
            }
            s => {
                tracing::error!(status = %s, "central refused the configuration request (is the token valid?)")
            }
        }
    }

    /// Runs the monitors of `config` from now on; results of the previous set already made
    /// are kept.
    async fn apply(&mut self, config: AgentConfig) {
        let mut jobs = Vec::new();
        for m in &config.monitors {
            match m.to_monitor() {
                Ok((key, monitor)) => {
                    let state = self.states.get(&key).cloned().unwrap_or_default();
                    jobs.push(Job {
                        key,
                        monitor: monitor.into(),
                        state,
                    });
                }
                Err(e) => tracing::warn!(monitor = %m.key, error = %e, "monitor skipped"),
            }
        }
        if let Some((old, mut rx)) = self.checks.take() {
            old.stop().await;
            while let Some(c) = rx.recv().await {
                self.take(c);
            }
        }
        let n = jobs.len();
        match Checks::start(jobs, self.opts.source, Limits::default()) {
            Ok(started) => {
                tracing::info!(location = %config.location, monitors = n, "configuration applied");
                self.checks = Some(started);
            }
            Err(e) => tracing::error!(error = %e, "cannot start the probes"),
        }
    }

    /// Sends waiting results, oldest first, until none wait or central stops answering.
    async fn send(&mut self) {
        while let Some(batch) = self.outbox.batch(self.opts.batch_size) {
            let sent = self
                .http
                .post(self.url("/api/v1/agent/results"))
                .bearer_auth(&self.opts.token)
                .json(&batch)
                .send()
                .await;
            let resp = match sent {
                Ok(r) => r,
                Err(e) => return self.note_reachable(false, &e.to_string()),
            };
            self.note_reachable(true, "");
            let status = resp.status();
            if status.is_success() {
                self.outbox.in_flight = None;
                if self.outbox.dropped > 0 {
                    tracing::warn!(
                        dropped = self.outbox.dropped,
                        "results dropped while central was unreachable"
                    );
                    self.outbox.dropped = 0;
                }
                continue;
            }
            if status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::BAD_REQUEST {
                // Sending it again would be refused again: say why and go on.
                let why = resp.text().await.unwrap_or_default();
                tracing::error!(%status, batch = %batch.batch, n = batch.results.len(), why, "central refused a batch: dropped");
                self.outbox.in_flight = None;
                continue;
            }
            tracing::warn!(%status, "central did not take the results: kept, sent again later");
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(n: i64) -> AgentResult {
        AgentResult {
            monitor: "service/web/home".into(),
            checked_at: chrono::DateTime::from_timestamp(n, 0).expect("time"),
            outcome: "up".into(),
            latency_ms: None,
            status_code: None,
            reason: None,
        }
    }

    #[test]
    fn the_outbox_keeps_the_newest_in_order_and_retries_a_batch_under_its_id() {
        let mut o = Outbox {
            waiting: VecDeque::new(),
            max: 5,
            dropped: 0,
            in_flight: None,
            prefix: "p".into(),
            next: 0,
        };
        for n in 0..8 {
            o.push(result(n));
        }
        assert_eq!(o.dropped, 3, "the oldest three went");
        let b = o.batch(2).expect("a batch");
        assert_eq!(b.batch, "p-1");
        let at: Vec<i64> = b.results.iter().map(|r| r.checked_at.timestamp()).collect();
        assert_eq!(at, [3, 4]);
        // Not acknowledged: the same batch, same id, again.
        assert_eq!(o.batch(2), Some(b));
        o.in_flight = None;
        let b = o.batch(10).expect("the rest");
        assert_eq!(b.batch, "p-2");
        assert_eq!(b.results.len(), 3);
        // Results in flight count against the bound.
        for n in 10..14 {
            o.push(result(n));
        }
        assert_eq!(o.waiting.len(), 2);
        assert_eq!(o.dropped, 5);
    }
}
