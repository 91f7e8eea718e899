//! Vigie's probes: one check per monitor kind ([`http`] for http, keyword and json, [`tcp`],
//! [`dns`], [`tls`]), the clients they share, push heartbeats ([`push`]), the scheduler that
//! runs a set of monitors from one location and hands their confirmed results over a channel
//! ([`checks::Checks`]), the `vigie probe` table ([`cli`]) and, with the `store` feature (on
//! by default), the `engine` that writes those results, applies the quorum over locations and
//! the topology rollup, and publishes status changes.
//!
//! Every probe binds its sockets to the configured source address when there is one, so that
//! several probe locations can run side by side on one machine (127.0.0.2, 127.0.0.3, …).
//!
//! This crate knows nothing of HTTP serving or pages: the server routes push heartbeats to the
//! engine (`engine::Engine::heartbeats`) and subscribes to its decisions
//! (`engine::Engine::subscribe`). Without the `store` feature it links no database code, for
//! a probe agent that only runs checks and sends their results on.

pub mod checks;
pub mod cli;
pub mod dns;
#[cfg(feature = "store")]
pub mod engine;
pub mod http;
pub mod push;
pub mod secret;
pub mod stats;
pub mod tcp;
pub mod tls;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use domain::config::{Monitor, MonitorSpec};
use domain::status::CheckOutcome;

/// What one probe run found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeResult {
    pub outcome: CheckOutcome,
    pub latency: Option<Duration>,
    pub status_code: Option<u16>,
    /// A short reason for anything but a clean `up` (or a note such as a certificate's expiry):
    /// the stored form of a `domain::reason::Reason` ([`ProbeResult::because`]) where Vigie
    /// knows the kind, else outside words (a library's error) kept as they are.
    pub reason: Option<String>,
    /// When the leaf certificate expires, for checks that read one (the `tls` kind).
    pub certificate_expires: Option<DateTime<Utc>>,
}

impl ProbeResult {
    pub fn up(latency: Duration) -> Self {
        ProbeResult {
            outcome: CheckOutcome::Up,
            latency: Some(latency),
            status_code: None,
            reason: None,
            certificate_expires: None,
        }
    }

    pub fn down(reason: impl Into<String>) -> Self {
        ProbeResult {
            outcome: CheckOutcome::Down,
            latency: None,
            status_code: None,
            reason: Some(reason.into()),
            certificate_expires: None,
        }
    }

    /// Down, for a reason Vigie knows the kind of (worded per locale on the pages).
    pub fn because(reason: domain::reason::Reason) -> Self {
        ProbeResult::down(reason.to_stored())
    }

    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = Some(latency);
        self
    }

    /// Degrades an `up` result slower than the monitor's `degraded_after_ms`.
    pub fn check_latency(mut self, degraded_after_ms: Option<u64>) -> Self {
        if let (CheckOutcome::Up, Some(limit), Some(l)) =
            (self.outcome, degraded_after_ms, self.latency)
        {
            let ms = u64::try_from(l.as_millis()).unwrap_or(u64::MAX);
            if ms > limit {
                self.outcome = CheckOutcome::Degraded;
                self.reason = Some(
                    domain::reason::Reason::Slow {
                        ms,
                        limit_ms: limit,
                    }
                    .to_stored(),
                );
            }
        }
        self
    }

    /// Latency in whole milliseconds, as stored.
    pub fn latency_ms(&self) -> Option<i32> {
        self.latency
            .map(|l| i32::try_from(l.as_millis()).unwrap_or(i32::MAX))
    }
}

/// Errors building the probe clients.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("cannot build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// The clients every probe shares: HTTP clients for each redirect and TLS-verification choice,
/// all bound to the same source address.
#[derive(Clone)]
pub struct Clients {
    pub source: Option<IpAddr>,
    http: [reqwest::Client; 4],
}

impl Clients {
    pub fn new(source: Option<IpAddr>) -> Result<Self, ProbeError> {
        let build = |follow: bool, verify: bool| {
            reqwest::Client::builder()
                .local_address(source)
                .redirect(if follow {
                    reqwest::redirect::Policy::limited(10)
                } else {
                    reqwest::redirect::Policy::none()
                })
                .danger_accept_invalid_certs(!verify)
                .user_agent(concat!(
                    "Vigie/",
                    env!("CARGO_PKG_VERSION"),
                    " (status probe)"
                ))
                .pool_idle_timeout(Duration::from_secs(90))
                .build()
        };
        Ok(Clients {
            source,
            http: [
                build(true, true)?,
                build(true, false)?,
                build(false, true)?,
                build(false, false)?,
            ],
        })
    }

    fn http(&self, follow_redirects: bool, tls_verify: bool) -> &reqwest::Client {
        let i = usize::from(!follow_redirects) * 2 + usize::from(!tls_verify);
        &self.http[i]
    }
}

/// Runs one check of `monitor` within its timeout, at `now` (for certificate expiry). Push
/// monitors are not probed: their results come from heartbeats (see [`push`]).
// At debug level: an info span per check would cost every check its formatting at the
// server's default log level.
#[tracing::instrument(level = "debug", skip_all, fields(kind = monitor.kind().as_str(), target = %monitor.target))]
pub async fn run(monitor: &Monitor, clients: &Clients, now: DateTime<Utc>) -> ProbeResult {
    let started = Instant::now();
    let probe = async {
        match &monitor.spec {
            MonitorSpec::Http(s) | MonitorSpec::Keyword(s) | MonitorSpec::Json(s) => {
                http::check(monitor, s, clients).await
            }
            MonitorSpec::Tcp(s) => tcp::check(monitor, s, clients.source).await,
            MonitorSpec::Dns(s) => dns::check(monitor, s, clients.source).await,
            MonitorSpec::Tls(s) => tls::check(monitor, s, clients.source, now).await,
            MonitorSpec::Push(_) => ProbeResult::down("push monitors wait for heartbeats"),
        }
    };
    match tokio::time::timeout(monitor.timeout, probe).await {
        Ok(r) => r.check_latency(monitor.degraded_after_ms),
        Err(_) => ProbeResult::because(domain::reason::Reason::Timeout {
            ms: u64::try_from(monitor.timeout.as_millis()).unwrap_or(u64::MAX),
        })
        .with_latency(started.elapsed()),
    }
}

/// `1.5 s`, `300 ms`: durations in reasons.
pub fn humanize(d: Duration) -> String {
    if d.as_millis() < 1000 {
        format!("{} ms", d.as_millis())
    } else if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// The text of an error and its sources, shortened for a reason column.
pub fn short_error(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = s.source();
    }
    let mut out = parts.join(": ");
    if out.len() > 200 {
        let mut cut = 200;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push('…');
    }
    out
}

/// `host:port` → (host, port), accepting `[v6]:port` and a default port.
pub fn split_host_port(target: &str, default_port: u16) -> Option<(String, u16)> {
    let t = target.trim();
    let t = t
        .strip_prefix("https://")
        .or_else(|| t.strip_prefix("tls://"))
        .or_else(|| t.strip_prefix("tcp://"))
        .unwrap_or(t);
    let t = t.split('/').next().unwrap_or(t);
    if let Some(rest) = t.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None => default_port,
        };
        return Some((host.to_owned(), port));
    }
    match t.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => Some((host.to_owned(), port.parse().ok()?)),
        _ if !t.is_empty() => Some((t.to_owned(), default_port)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {

    /// A result's reason in English words (stored data or outside words alike).
    fn said(r: &Option<String>) -> Option<String> {
        r.as_deref()
            .map(|s| domain::reason::Reason::from_stored(s).to_string())
    }

    use super::*;

    #[test]
    fn host_and_port_are_split_with_defaults() {
        assert_eq!(
            split_host_port("db.example:3306", 1),
            Some(("db.example".into(), 3306))
        );
        assert_eq!(
            split_host_port("https://www.example.com/", 443),
            Some(("www.example.com".into(), 443))
        );
        assert_eq!(
            split_host_port("[::1]:8443", 443),
            Some(("::1".into(), 8443))
        );
        assert_eq!(split_host_port("[::1]", 443), Some(("::1".into(), 443)));
        assert_eq!(split_host_port("host:notaport", 1), None);
        assert_eq!(split_host_port("", 1), None);
    }

    #[test]
    fn slow_up_results_are_degraded_with_the_threshold_in_the_reason() {
        let r = ProbeResult::up(Duration::from_millis(2300)).check_latency(Some(2000));
        assert_eq!(r.outcome, CheckOutcome::Degraded);
        assert_eq!(said(&r.reason).as_deref(), Some("slow: 2300 ms > 2000 ms"));
        let r = ProbeResult::up(Duration::from_millis(1999)).check_latency(Some(2000));
        assert_eq!(r.outcome, CheckOutcome::Up);
        let r = ProbeResult::down("x")
            .with_latency(Duration::from_secs(9))
            .check_latency(Some(1));
        assert_eq!(r.outcome, CheckOutcome::Down);
    }

    #[test]
    fn durations_read_well_in_reasons() {
        assert_eq!(humanize(Duration::from_millis(300)), "300 ms");
        assert_eq!(humanize(Duration::from_secs(10)), "10 s");
        assert_eq!(humanize(Duration::from_millis(1500)), "1.5 s");
    }
}
