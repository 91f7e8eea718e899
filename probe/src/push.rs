//! Push monitors: heartbeats (the server receives them at `GET|POST /api/v1/push/{token}`),
//! with an optional `status`, `msg` and `latency_ms`. The `backup` flavour carries `{"verified": bool, "bytes": n,
//! "sha256": "…", "restored_in_s": n}` and is down when the newest backup is stale *or* its
//! verification failed: "backups ran" is not "backups restore".
//!
//! The book itself is in memory; the engine keeps it in step with the database
//! (`crate::engine`, feature `store`): each heartbeat received is stored, and every few
//! seconds the newest one stored (by any instance) is read back, so every instance, restarted
//! or not, judges a push monitor the same. Since when a monitor's heartbeats are awaited is
//! the first instance's.
//!
//! Unknown tokens and bad payloads are refused ([`PushError`]) and nothing is stored; a
//! heartbeat that cannot be stored is refused as [`PushError::Unavailable`] (the sender tries
//! again).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use domain::config::{Catalog, Monitor, MonitorKind};
use domain::reason::Reason;
use domain::status::CheckOutcome;
use domain::topology::{self, MonitorKey};
use serde::Deserialize;
use tokio::sync::Notify;

use crate::ProbeResult;

/// One received heartbeat.
#[derive(Clone, Debug, PartialEq)]
pub struct Beat {
    pub at: DateTime<Utc>,
    pub outcome: CheckOutcome,
    pub latency_ms: Option<u64>,
    pub reason: Option<String>,
}

struct Entry {
    key: MonitorKey,
    backup: bool,
    beat: Mutex<Option<Beat>>,
    /// Since when a heartbeat is awaited, when known better than this process's start.
    awaited: Mutex<Option<DateTime<Utc>>>,
    notify: Arc<Notify>,
}

/// The push monitors of a catalog by token, with their newest heartbeat.
pub struct PushBook {
    by_token: HashMap<String, Entry>,
    token_of: HashMap<MonitorKey, String>,
    /// When this instance started listening: a push monitor without any heartbeat is given
    /// one interval plus grace from here before it is called missing.
    started: DateTime<Utc>,
}

/// What the scheduler needs to judge a push monitor.
#[derive(Clone, Debug, PartialEq)]
pub struct PushView {
    pub beat: Option<Beat>,
    pub started: DateTime<Utc>,
}

/// Why a heartbeat was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    #[error("unknown token")]
    UnknownToken,
    #[error("{0}")]
    BadPayload(String),
    #[error("the heartbeat could not be stored: try again")]
    Unavailable,
}

/// The body or query of a heartbeat.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Payload {
    pub status: Option<String>,
    pub msg: Option<String>,
    pub latency_ms: Option<u64>,
    pub verified: Option<bool>,
    pub bytes: Option<u64>,
    pub sha256: Option<String>,
    pub restored_in_s: Option<f64>,
}

impl PushBook {
    /// The push monitors of `catalog` that have a token.
    pub fn new(catalog: &Catalog, started: DateTime<Utc>) -> Self {
        Self::for_monitors(
            topology::monitors(catalog).map(|(key, m)| (key, m.clone())),
            started,
        )
    }

    /// The push monitors among `monitors` that have a token.
    pub fn for_monitors(
        monitors: impl IntoIterator<Item = (MonitorKey, Monitor)>,
        started: DateTime<Utc>,
    ) -> Self {
        let mut by_token = HashMap::new();
        let mut token_of = HashMap::new();
        for (key, m) in monitors
            .into_iter()
            .filter(|(_, m)| m.kind == MonitorKind::Push)
        {
            let Some(token) = m.settings.token.clone().filter(|t| !t.is_empty()) else {
                tracing::warn!(monitor = %key, "push monitor without a token cannot receive heartbeats");
                continue;
            };
            token_of.insert(key.clone(), token.clone());
            by_token.insert(
                token,
                Entry {
                    key,
                    backup: m.settings.flavour.as_deref() == Some("backup"),
                    beat: Mutex::new(None),
                    awaited: Mutex::new(None),
                    notify: Arc::new(Notify::new()),
                },
            );
        }
        PushBook {
            by_token,
            token_of,
            started,
        }
    }

    /// Whether `token` is a push monitor's: unknown tokens are refused before their payload is
    /// even read.
    pub fn knows(&self, token: &str) -> bool {
        self.by_token.contains_key(token)
    }

    /// Records a heartbeat for `token` received at `now`.
    pub fn beat(
        &self,
        token: &str,
        p: Payload,
        now: DateTime<Utc>,
    ) -> Result<MonitorKey, PushError> {
        let entry = self.by_token.get(token).ok_or(PushError::UnknownToken)?;
        let bad = |m: &str| Err(PushError::BadPayload(m.to_owned()));
        let mut outcome = match p.status.as_deref() {
            None => CheckOutcome::Up,
            Some(s) => match CheckOutcome::parse(s) {
                Some(o) => o,
                None => return bad("`status` must be up, degraded or down"),
            },
        };
        if let Some(h) = &p.sha256 {
            if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                return bad("`sha256` must be 64 hexadecimal digits");
            }
        }
        if p.msg.as_ref().is_some_and(|m| m.len() > 1000) {
            return bad("`msg` is longer than 1000 bytes");
        }
        let mut reason = p.msg.clone();
        if entry.backup {
            let Some(verified) = p.verified else {
                return bad("a backup heartbeat needs `verified`");
            };
            // Whole seconds: a restore time is read at that grain.
            let restored_in_s = p
                .restored_in_s
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(|s| s.round() as u64);
            let (bytes, note) = (p.bytes, p.msg.clone());
            reason = Some(
                if verified {
                    Reason::BackupVerified {
                        bytes,
                        restored_in_s,
                        note,
                    }
                } else {
                    outcome = CheckOutcome::Down;
                    Reason::BackupFailed {
                        bytes,
                        restored_in_s,
                        note,
                    }
                }
                .to_stored(),
            );
        }
        if let Ok(mut slot) = entry.beat.lock() {
            *slot = Some(Beat {
                at: now,
                outcome,
                latency_ms: p.latency_ms,
                reason,
            });
        }
        entry.notify.notify_one();
        Ok(entry.key.clone())
    }

    /// The newest heartbeat of a monitor.
    pub fn view(&self, key: &MonitorKey) -> PushView {
        let entry = self.token_of.get(key).and_then(|t| self.by_token.get(t));
        let beat = entry.and_then(|e| e.beat.lock().ok().and_then(|b| b.clone()));
        let started = entry
            .and_then(|e| e.awaited.lock().ok().and_then(|a| *a))
            .unwrap_or(self.started);
        PushView { beat, started }
    }

    /// The push monitors with a token.
    pub fn keys(&self) -> Vec<MonitorKey> {
        self.token_of.keys().cloned().collect()
    }

    /// Takes in what is known elsewhere (the database): since when `key`'s heartbeats are
    /// awaited, and its newest heartbeat, kept only when newer than the one held.
    pub fn restore(&self, key: &MonitorKey, awaited: DateTime<Utc>, beat: Option<Beat>) {
        let Some(e) = self.token_of.get(key).and_then(|t| self.by_token.get(t)) else {
            return;
        };
        if let Ok(mut a) = e.awaited.lock() {
            *a = Some(awaited);
        }
        if let (Some(b), Ok(mut slot)) = (beat, e.beat.lock()) {
            if slot.as_ref().is_none_or(|held| held.at < b.at) {
                *slot = Some(b);
            }
        }
    }

    /// Woken on every heartbeat of `key`, so its result is recorded at once.
    pub fn notifier(&self, key: &MonitorKey) -> Option<Arc<Notify>> {
        self.token_of
            .get(key)
            .and_then(|t| self.by_token.get(t))
            .map(|e| e.notify.clone())
    }
}

/// `grace` of a push monitor (default none).
fn grace(m: &Monitor) -> Duration {
    m.settings
        .grace
        .as_deref()
        .and_then(|g| humantime::parse_duration(g.trim()).ok())
        .unwrap_or_default()
}

impl PushView {
    /// The monitor's result at `now`: the newest heartbeat's, or down when it is older than
    /// `interval + grace`. `None` while waiting for a first heartbeat within that delay.
    pub fn evaluate(&self, m: &Monitor, now: DateTime<Utc>) -> Option<ProbeResult> {
        let allowed = TimeDelta::from_std(m.interval + grace(m)).unwrap_or(TimeDelta::MAX);
        match &self.beat {
            None if now - self.started > allowed => {
                Some(ProbeResult::because(Reason::NoHeartbeat {
                    since: self.started,
                }))
            }
            None => None,
            Some(b) if now - b.at > allowed => {
                Some(ProbeResult::because(Reason::StaleHeartbeat { last: b.at }))
            }
            Some(b) => Some(ProbeResult {
                outcome: b.outcome,
                latency: b.latency_ms.map(Duration::from_millis),
                status_code: None,
                reason: b.reason.clone(),
                certificate_expires: None,
            }),
        }
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
    use chrono::TimeZone;

    const CATALOG: &str = r#"
[site]
title = "T"
[[groups]]
id = "g"
name = "G"
[[services]]
id = "backups"
name = "Backups"
group = "g"
[[services.monitors]]
id = "nightly"
kind = "push"
flavour = "backup"
token = "secret-token"
interval = "24h"
grace = "2h"
[[services]]
id = "cron"
name = "Cron"
group = "g"
[[services.monitors]]
id = "beat"
kind = "push"
token = "cron-token"
interval = "5m"
"#;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, 3, 0, 0)
            .single()
            .expect("time")
    }

    fn setup() -> (Catalog, PushBook) {
        let c = domain::config::parse("t.toml", CATALOG).expect("valid");
        let book = PushBook::new(&c, t0());
        (c, book)
    }

    fn key(s: &str) -> MonitorKey {
        MonitorKey::parse(s).expect("key")
    }

    #[test]
    fn no_heartbeat_is_nothing_until_interval_and_grace_have_passed() {
        let (c, book) = setup();
        let m = &c.services[0].monitors[0];
        let view = book.view(&key("service/backups/nightly"));
        assert_eq!(view.evaluate(m, t0() + TimeDelta::hours(25)), None);
        let r = view
            .evaluate(m, t0() + TimeDelta::hours(26) + TimeDelta::seconds(1))
            .expect("result");
        assert_eq!(r.outcome, CheckOutcome::Down);
        assert_eq!(
            said(&r.reason).as_deref(),
            Some("no heartbeat since 2026-11-28 03:00 UTC")
        );
    }

    #[test]
    fn a_failed_verification_is_down_even_when_fresh() {
        let (c, book) = setup();
        let m = &c.services[0].monitors[0];
        let p = Payload {
            verified: Some(false),
            ..Payload::default()
        };
        book.beat("secret-token", p, t0()).expect("accepted");
        let r = book
            .view(&key("service/backups/nightly"))
            .evaluate(m, t0())
            .expect("result");
        assert_eq!(r.outcome, CheckOutcome::Down);
        assert_eq!(
            said(&r.reason).as_deref(),
            Some("backup verification failed")
        );
    }

    #[test]
    fn a_verified_backup_is_up_until_it_goes_stale() {
        let (c, book) = setup();
        let m = &c.services[0].monitors[0];
        let p = Payload {
            verified: Some(true),
            bytes: Some(2048),
            restored_in_s: Some(12.0),
            ..Payload::default()
        };
        book.beat("secret-token", p, t0()).expect("accepted");
        let view = book.view(&key("service/backups/nightly"));
        let r = view
            .evaluate(m, t0() + TimeDelta::hours(20))
            .expect("result");
        assert_eq!(r.outcome, CheckOutcome::Up);
        assert_eq!(
            said(&r.reason).as_deref(),
            Some("backup verified (2048 bytes, restored in 12 s)")
        );
        let r = view
            .evaluate(m, t0() + TimeDelta::hours(27))
            .expect("result");
        assert_eq!(r.outcome, CheckOutcome::Down);
        assert_eq!(
            said(&r.reason).as_deref(),
            Some("stale: last heartbeat at 2026-11-28 03:00 UTC")
        );
    }

    #[test]
    fn plain_push_carries_status_message_and_latency() {
        let (c, book) = setup();
        let m = &c.services[1].monitors[0];
        let p = Payload {
            status: Some("degraded".into()),
            msg: Some("queue backlog".into()),
            latency_ms: Some(900),
            ..Payload::default()
        };
        book.beat("cron-token", p, t0()).expect("accepted");
        let r = book
            .view(&key("service/cron/beat"))
            .evaluate(m, t0())
            .expect("result");
        assert_eq!(r.outcome, CheckOutcome::Degraded);
        assert_eq!(said(&r.reason).as_deref(), Some("queue backlog"));
        assert_eq!(r.latency, Some(Duration::from_millis(900)));
    }

    #[test]
    fn unknown_tokens_and_bad_payloads_are_refused_and_nothing_is_stored() {
        let (_, book) = setup();
        assert_eq!(
            book.beat("guess", Payload::default(), t0()),
            Err(PushError::UnknownToken)
        );
        let bad = |p: Payload| {
            matches!(
                book.beat("secret-token", p, t0()),
                Err(PushError::BadPayload(_))
            )
        };
        assert!(bad(Payload::default()), "backup without `verified`");
        assert!(bad(Payload {
            verified: Some(true),
            sha256: Some("xyz".into()),
            ..Payload::default()
        }));
        assert!(matches!(
            book.beat(
                "cron-token",
                Payload {
                    status: Some("green".into()),
                    ..Payload::default()
                },
                t0()
            ),
            Err(PushError::BadPayload(_))
        ));
        assert_eq!(book.view(&key("service/backups/nightly")).beat, None);
        assert_eq!(book.view(&key("service/cron/beat")).beat, None);
    }
}
