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
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use domain::config::notify::SecretRef;
use domain::config::{Catalog, Monitor, MonitorSpec};
use domain::reason::Reason;
use domain::status::CheckOutcome;
use domain::topology::{self, MonitorKey};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use crate::ProbeResult;

/// The shortest token accepted from `${env:…}` or `${file:…}`: 22 URL-safe characters carry
/// 128 bits when random. Generated tokens are longer (`store::push::new_token`).
pub const MIN_TOKEN_LEN: usize = 22;

/// One received heartbeat.
#[derive(Clone, Debug, PartialEq)]
pub struct Beat {
    pub at: DateTime<Utc>,
    pub outcome: CheckOutcome,
    pub latency_ms: Option<u64>,
    pub reason: Option<String>,
}

struct Entry {
    backup: bool,
    /// Where the configuration says the token is, when it says so (else Vigie generates it).
    token: Option<SecretRef>,
    beat: Mutex<Option<Beat>>,
    /// Since when a heartbeat is awaited, when known better than this process's start.
    awaited: Mutex<Option<DateTime<Utc>>>,
    notify: Arc<Notify>,
}

/// The push monitors of a catalog, their tokens (as SHA-256 only) and their newest heartbeat.
pub struct PushBook {
    entries: HashMap<MonitorKey, Entry>,
    /// Hex SHA-256 of each token → its monitor. Replaced whole when the tokens change
    /// ([`PushBook::set_tokens`]): a presented token is hashed and looked up, so no clear
    /// token is held, and the lookup time says nothing about how close a guess was.
    by_hash: RwLock<HashMap<String, MonitorKey>>,
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

/// Hex SHA-256 of a token: what is stored and compared instead of the token (the same digest
/// as `store::tokens::digest`).
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Reads a push token the configuration points at, checking it is long enough and fits in a
/// URL path. The error names the reference, never the value.
pub fn read_token(r: &SecretRef) -> Result<String, String> {
    let token = crate::secret::read(r)?;
    let url_safe = token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if token.len() < MIN_TOKEN_LEN || !url_safe {
        return Err(format!(
            "the push token in {} must be at least {MIN_TOKEN_LEN} letters, digits, `-` or `_` \
             (`vigie push-token` makes one)",
            match r {
                SecretRef::Env(n) => format!("environment variable {n}"),
                SecretRef::File(p) => p.clone(),
            }
        ));
    }
    Ok(token)
}

impl PushBook {
    /// The push monitors of `catalog`, knowing no token yet ([`PushBook::set_tokens`]).
    pub fn new(catalog: &Catalog, started: DateTime<Utc>) -> Self {
        Self::for_monitors(
            // Only push monitors are kept: the others are not copied even for a moment.
            topology::monitors(catalog)
                .filter(|(_, m)| matches!(m.spec, MonitorSpec::Push(_)))
                .map(|(key, m)| (key, m.clone())),
            started,
        )
    }

    /// The push monitors among `monitors`, knowing no token yet.
    pub fn for_monitors(
        monitors: impl IntoIterator<Item = (MonitorKey, Monitor)>,
        started: DateTime<Utc>,
    ) -> Self {
        let entries = monitors
            .into_iter()
            .filter_map(|(key, m)| match m.spec {
                MonitorSpec::Push(s) => Some((key, s)),
                _ => None,
            })
            .map(|(key, s)| {
                let entry = Entry {
                    backup: s.flavour.as_deref() == Some("backup"),
                    token: s.token.as_deref().and_then(SecretRef::parse),
                    beat: Mutex::new(None),
                    awaited: Mutex::new(None),
                    notify: Arc::new(Notify::new()),
                };
                (key, entry)
            })
            .collect();
        PushBook {
            entries,
            by_hash: RwLock::new(HashMap::new()),
            started,
        }
    }

    /// Where the configuration says `key`'s token is (`None`: Vigie generates it).
    pub fn token_ref(&self, key: &MonitorKey) -> Option<&SecretRef> {
        self.entries.get(key).and_then(|e| e.token.as_ref())
    }

    /// The tokens in force, as (monitor, hex SHA-256): every other token is refused.
    pub fn set_tokens(&self, hashes: impl IntoIterator<Item = (MonitorKey, String)>) {
        let map = hashes
            .into_iter()
            .filter(|(k, _)| self.entries.contains_key(k))
            .map(|(k, h)| (h, k))
            .collect();
        *self.by_hash.write().unwrap_or_else(|p| p.into_inner()) = map;
    }

    fn monitor_of(&self, token: &str) -> Option<MonitorKey> {
        // A path segment longer than any token is not hashed at all.
        if token.len() > 256 {
            return None;
        }
        self.by_hash
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&digest(token))
            .cloned()
    }

    /// Whether `token` is a push monitor's: unknown tokens are refused before their payload is
    /// even read.
    pub fn knows(&self, token: &str) -> bool {
        self.monitor_of(token).is_some()
    }

    /// Records a heartbeat for `token` received at `now`.
    pub fn beat(
        &self,
        token: &str,
        p: Payload,
        now: DateTime<Utc>,
    ) -> Result<MonitorKey, PushError> {
        let key = self.monitor_of(token).ok_or(PushError::UnknownToken)?;
        let entry = self.entries.get(&key).ok_or(PushError::UnknownToken)?;
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
        Ok(key)
    }

    /// The newest heartbeat of a monitor.
    pub fn view(&self, key: &MonitorKey) -> PushView {
        let entry = self.entries.get(key);
        let beat = entry.and_then(|e| e.beat.lock().ok().and_then(|b| b.clone()));
        let started = entry
            .and_then(|e| e.awaited.lock().ok().and_then(|a| *a))
            .unwrap_or(self.started);
        PushView { beat, started }
    }

    /// The push monitors.
    pub fn keys(&self) -> Vec<MonitorKey> {
        self.entries.keys().cloned().collect()
    }

    /// Takes in what is known elsewhere (the database): since when `key`'s heartbeats are
    /// awaited, and its newest heartbeat, kept only when newer than the one held.
    pub fn restore(&self, key: &MonitorKey, awaited: DateTime<Utc>, beat: Option<Beat>) {
        let Some(e) = self.entries.get(key) else {
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
        self.entries.get(key).map(|e| e.notify.clone())
    }
}

/// `grace` of a push monitor (default none).
fn grace(m: &Monitor) -> Duration {
    let MonitorSpec::Push(s) = &m.spec else {
        return Duration::ZERO;
    };
    s.grace
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
interval = "24h"
grace = "2h"
[[services]]
id = "cron"
name = "Cron"
group = "g"
[[services.monitors]]
id = "beat"
kind = "push"
token = "${env:VIGIE_TEST_CRON_TOKEN}"
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
        book.set_tokens([
            (key("service/backups/nightly"), digest("secret-token")),
            (key("service/cron/beat"), digest("cron-token")),
        ]);
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

    #[test]
    fn only_the_tokens_in_force_are_known_and_the_book_holds_no_clear_token() {
        let (_, book) = setup();
        assert_eq!(
            book.token_ref(&key("service/cron/beat")),
            Some(&SecretRef::Env("VIGIE_TEST_CRON_TOKEN".into()))
        );
        assert_eq!(book.token_ref(&key("service/backups/nightly")), None);
        assert!(book.knows("cron-token"));
        book.set_tokens([(key("service/cron/beat"), digest("rotated-token"))]);
        assert!(
            !book.knows("cron-token"),
            "the replaced token stops at once"
        );
        assert!(
            !book.knows("secret-token"),
            "a monitor without a token hears nothing"
        );
        assert!(book.knows("rotated-token"));
        assert!(!book.knows(&"x".repeat(10_000)));
        // A hash of an unknown monitor is ignored.
        book.set_tokens([(key("service/nope/x"), digest("stray"))]);
        assert!(!book.knows("stray"));
    }

    #[test]
    fn a_configured_token_must_be_long_and_url_safe() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("t");
        let r = SecretRef::File(path.display().to_string());
        std::fs::write(&path, "short-token").expect("write");
        let e = read_token(&r).expect_err("too short");
        assert!(!e.contains("short-token"), "{e}");
        std::fs::write(&path, "a/b?c".repeat(10)).expect("write");
        assert!(read_token(&r).is_err());
        std::fs::write(&path, "0123456789abcdefABCDEF_-\n").expect("write");
        assert_eq!(read_token(&r).as_deref(), Ok("0123456789abcdefABCDEF_-"));
    }
}
