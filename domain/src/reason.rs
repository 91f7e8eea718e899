//! Why a check was not a clean `up`, as data: a kind and its parameters.
//!
//! The probe engine says what it saw (HTTP 502 where 200-399 was expected, no answer within
//! 4 s, a backup whose verification failed) and the store keeps it as JSON; each page renders
//! it in the reader's language (the `wording` crate). Nothing ever parses a sentence back.
//!
//! [`fmt::Display`] is the English rendering: logs, the CLI's table and the JSON APIs, whose
//! `reason` and `cause` fields stay sentences.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a check ended as it did, when that is worth saying.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Reason {
    /// An HTTP status outside the expected range (`expected` as configured, e.g. `200-399`).
    HttpStatus { status: u16, expected: String },
    /// No answer within the monitor's timeout.
    Timeout { ms: u64 },
    /// Up, but slower than the monitor's `degraded_after_ms`.
    Slow { ms: u64, limit_ms: u64 },
    /// A keyword the page must contain is missing.
    KeywordMissing { keyword: String },
    /// A keyword the page must not contain is there.
    KeywordPresent { keyword: String },
    /// The connection could not be made; `detail` is the network stack's own words.
    CannotConnect { detail: String },
    /// A backup heartbeat reported a failed verification.
    BackupFailed {
        bytes: Option<u64>,
        restored_in_s: Option<u64>,
        /// The backup job's own message, as sent.
        note: Option<String>,
    },
    /// A backup heartbeat reported a verified backup.
    BackupVerified {
        bytes: Option<u64>,
        restored_in_s: Option<u64>,
        note: Option<String>,
    },
    /// A push monitor heard nothing since it started waiting.
    NoHeartbeat {
        since: chrono::DateTime<chrono::Utc>,
    },
    /// A push monitor's last heartbeat is too old.
    StaleHeartbeat { last: chrono::DateTime<chrono::Utc> },
    /// The TLS certificate has expired.
    CertificateExpired { on: chrono::NaiveDate },
    /// The TLS certificate expires within `days` days.
    CertificateExpiresSoon { days: i64, on: chrono::NaiveDate },
    /// The TLS certificate is valid for `days` more days.
    CertificateValid { days: i64, on: chrono::NaiveDate },
    /// A DNS name has no record of the type asked for.
    NoDnsRecord { rtype: String, name: String },
    /// Words from outside Vigie (a library's error, a push client's message) or from a version
    /// that stored sentences: shown as they are, in every language.
    Text { text: String },
}

impl Reason {
    /// Free text, shown as is.
    pub fn text(text: impl Into<String>) -> Self {
        Reason::Text { text: text.into() }
    }

    /// The stored form (JSON).
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The instant the reason names (a heartbeat's), if any: pages say it in the site's time,
    /// so the server sends it converted beside the reason (`ServiceView::cause_at`).
    pub fn instant(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        match self {
            Reason::NoHeartbeat { since } => Some(*since),
            Reason::StaleHeartbeat { last } => Some(*last),
            _ => None,
        }
    }

    /// Reads the stored form. A value that is not a stored reason (a row written by an older
    /// version that the migration did not convert) is kept as text, never interpreted.
    pub fn from_stored(stored: &str) -> Self {
        serde_json::from_str(stored).unwrap_or_else(|_| Reason::text(stored))
    }
}

/// `1.5 s`, `300 ms`, `4 s`: durations in reasons.
pub fn humanize_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

/// The facts of a backup heartbeat: "48318382080 bytes, restored in 12 s, note".
fn backup_facts(
    bytes: Option<u64>,
    restored_in_s: Option<u64>,
    note: Option<&str>,
    words: (&str, &str),
) -> String {
    let mut facts = Vec::new();
    if let Some(b) = bytes {
        facts.push(format!("{b} {}", words.0));
    }
    if let Some(s) = restored_in_s {
        facts.push(format!("{} {s} s", words.1));
    }
    if let Some(n) = note {
        facts.push(n.to_owned());
    }
    if facts.is_empty() {
        String::new()
    } else {
        format!(" ({})", facts.join(", "))
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const WORDS: (&str, &str) = ("bytes", "restored in");
        match self {
            Reason::HttpStatus { status, expected } => {
                write!(f, "HTTP {status} (expected {expected})")
            }
            Reason::Timeout { ms } => write!(f, "timeout after {}", humanize_ms(*ms)),
            Reason::Slow { ms, limit_ms } => write!(f, "slow: {ms} ms > {limit_ms} ms"),
            Reason::KeywordMissing { keyword } => write!(f, "keyword {keyword:?} not found"),
            Reason::KeywordPresent { keyword } => write!(f, "keyword {keyword:?} present"),
            Reason::CannotConnect { detail } => write!(f, "cannot connect: {detail}"),
            Reason::BackupFailed {
                bytes,
                restored_in_s,
                note,
            } => write!(
                f,
                "backup verification failed{}",
                backup_facts(*bytes, *restored_in_s, note.as_deref(), WORDS)
            ),
            Reason::BackupVerified {
                bytes,
                restored_in_s,
                note,
            } => write!(
                f,
                "backup verified{}",
                backup_facts(*bytes, *restored_in_s, note.as_deref(), WORDS)
            ),
            Reason::NoHeartbeat { since } => {
                write!(
                    f,
                    "no heartbeat since {}",
                    since.format("%Y-%m-%d %H:%M UTC")
                )
            }
            Reason::StaleHeartbeat { last } => write!(
                f,
                "stale: last heartbeat at {}",
                last.format("%Y-%m-%d %H:%M UTC")
            ),
            Reason::CertificateExpired { on } => write!(f, "certificate expired on {on}"),
            Reason::CertificateExpiresSoon { days, on } => {
                write!(f, "certificate expires in {days} days ({on})")
            }
            Reason::CertificateValid { days, on } => {
                write!(f, "certificate valid for {days} days ({on})")
            }
            Reason::NoDnsRecord { rtype, name } => write!(f, "no {rtype} record for {name}"),
            Reason::Text { text } => f.write_str(text),
        }
    }
}

/// The facts of a backup heartbeat in other words (for the renderings of other languages).
pub fn backup_facts_in(
    bytes: Option<u64>,
    restored_in_s: Option<u64>,
    note: Option<&str>,
    bytes_word: &str,
    restored_word: &str,
) -> String {
    backup_facts(bytes, restored_in_s, note, (bytes_word, restored_word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_round_trips_through_its_stored_form() {
        let r = Reason::HttpStatus {
            status: 502,
            expected: "200-399".into(),
        };
        let stored = r.to_stored();
        assert_eq!(
            stored,
            r#"{"kind":"http_status","status":502,"expected":"200-399"}"#
        );
        assert_eq!(Reason::from_stored(&stored), r);
        assert_eq!(r.to_string(), "HTTP 502 (expected 200-399)");
    }

    #[test]
    fn a_value_that_is_not_a_stored_reason_stays_text() {
        assert_eq!(
            Reason::from_stored("connection reset"),
            Reason::text("connection reset")
        );
        assert_eq!(
            Reason::from_stored("{\"kind\":\"nope\"}").to_string(),
            "{\"kind\":\"nope\"}"
        );
    }

    #[test]
    fn english_renderings_read_as_before() {
        assert_eq!(
            Reason::Timeout { ms: 4000 }.to_string(),
            "timeout after 4 s"
        );
        assert_eq!(
            Reason::Timeout { ms: 1500 }.to_string(),
            "timeout after 1.5 s"
        );
        assert_eq!(
            Reason::BackupFailed {
                bytes: Some(48318382080),
                restored_in_s: None,
                note: None
            }
            .to_string(),
            "backup verification failed (48318382080 bytes)"
        );
        assert_eq!(
            Reason::BackupFailed {
                bytes: None,
                restored_in_s: None,
                note: None
            }
            .to_string(),
            "backup verification failed"
        );
    }
}
