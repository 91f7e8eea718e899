//! Causes and probe reasons become data: each stored sentence ("down: host phys-2
//! unreachable", "HTTP 502 (expected 200-399)", "timeout after 4 s") is rewritten as the JSON
//! of its kind and parameters (`domain::topology::Cause`, `domain::reason::Reason`), which
//! pages word in the reader's language.
//!
//! This is the one place that reads those English sentences, once, to convert rows written
//! before; the shapes are frozen here as they were produced. A sentence of no known shape
//! becomes `{"kind":"text"}` and is shown as written. Each column is rewritten per distinct
//! value, so a long check history costs one UPDATE per distinct reason, not per row.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;
use serde_json::{json, Value};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, column, what it holds).
const COLUMNS: [(&str, &str, Kind); 6] = [
    ("current_statuses", "cause", Kind::Cause),
    ("status_events", "cause", Kind::Cause),
    ("incident_draft_services", "cause", Kind::Cause),
    ("monitor_states", "last_reason", Kind::Reason),
    ("check_results", "reason", Kind::Reason),
    ("push_beats", "reason", Kind::Reason),
];

#[derive(Clone, Copy)]
enum Kind {
    Cause,
    Reason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        convert(manager, |kind, old| match kind {
            Kind::Cause => cause(old),
            Kind::Reason => reason(old),
        })
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Back to sentences: the English the previous version stored.
        convert(manager, |kind, stored| {
            let v: Value = serde_json::from_str(stored).ok()?;
            Some(match kind {
                Kind::Cause => cause_sentence(&v)?,
                Kind::Reason => reason_sentence(&v)?,
            })
        })
        .await
    }
}

/// Rewrites every distinct non-null value of each column with `f` (None: left as it is).
async fn convert(
    manager: &SchemaManager<'_>,
    f: impl Fn(Kind, &str) -> Option<String>,
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    for (table, column, kind) in COLUMNS {
        let select = Query::select()
            .distinct()
            .column(Alias::new(column))
            .from(Alias::new(table))
            .and_where(Expr::col(Alias::new(column)).is_not_null())
            .to_owned();
        let rows = db.query_all(&select).await?;
        for row in rows {
            let old: String = row.try_get_by_index(0)?;
            let Some(new) = f(kind, &old) else { continue };
            if new == old {
                continue;
            }
            let update = Query::update()
                .table(Alias::new(table))
                .value(Alias::new(column), new)
                .and_where(Expr::col(Alias::new(column)).eq(old))
                .to_owned();
            db.execute(&update).await?;
        }
    }
    Ok(())
}

fn text(s: &str) -> Value {
    json!({ "kind": "text", "text": s })
}

/// A stored cause sentence (`{word}: {cause}`) as the JSON of its cause.
fn cause(stored: &str) -> Option<String> {
    if stored.starts_with('{') {
        return None; // already converted
    }
    let (outcome, rest) = [
        ("down: ", "down"),
        ("partial outage: ", "down"),
        ("degraded: ", "degraded"),
        ("maintenance: ", "down"),
    ]
    .iter()
    .find_map(|(p, o)| stored.strip_prefix(p).map(|r| (*o, r)))?;
    let v = if let Some(host) = rest
        .strip_prefix("host ")
        .and_then(|r| r.strip_suffix(" unreachable"))
    {
        json!({ "kind": "host", "host": host })
    } else if let Some(service) = rest.strip_prefix("depends on ") {
        json!({ "kind": "dependency", "service": service })
    } else if rest == "scheduled maintenance" {
        json!({ "kind": "maintenance" })
    } else if rest == "stated by an open incident" {
        json!({ "kind": "incident" })
    } else if let Some(m) = rest.strip_prefix("monitor ") {
        match m.split_once(": ") {
            Some((monitor, why)) => json!({
                "kind": "monitor", "monitor": monitor, "outcome": outcome,
                "reason": reason_value(why),
            }),
            None => {
                let (monitor, said) = m.rsplit_once(' ')?;
                let said = ["up", "degraded", "down"]
                    .into_iter()
                    .find(|o| *o == said)?;
                json!({ "kind": "monitor", "monitor": monitor, "outcome": said, "reason": null })
            }
        }
    } else {
        return None;
    };
    Some(v.to_string())
}

fn reason(stored: &str) -> Option<String> {
    if stored.starts_with("{\"kind\"") {
        return None;
    }
    Some(reason_value(stored).to_string())
}

/// `4 s`, `1.5 s`, `300 ms` back to milliseconds.
fn millis(s: &str) -> Option<u64> {
    if let Some(ms) = s.strip_suffix(" ms") {
        return ms.parse().ok();
    }
    let secs: f64 = s.strip_suffix(" s")?.parse().ok()?;
    (secs >= 0.0).then(|| (secs * 1000.0).round() as u64)
}

/// `"word"` (Rust's debug quoting, without escapes) back to `word`.
fn unquote(s: &str) -> Option<&str> {
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    (!inner.contains('\\')).then_some(inner)
}

/// `(12 bytes, restored in 3 s, note)`: a backup heartbeat's facts.
fn backup(kind: &str, facts: Option<&str>) -> Value {
    let (mut bytes, mut restored, mut notes) = (None::<u64>, None::<u64>, Vec::new());
    for fact in facts
        .map(|f| f.split(", ").collect::<Vec<_>>())
        .unwrap_or_default()
    {
        if let Some(b) = fact.strip_suffix(" bytes").and_then(|b| b.parse().ok()) {
            bytes = Some(b);
        } else if let Some(s) = fact
            .strip_prefix("restored in ")
            .and_then(|s| s.strip_suffix(" s"))
            .and_then(|s| s.parse().ok())
        {
            restored = Some(s);
        } else {
            notes.push(fact);
        }
    }
    let note = (!notes.is_empty()).then(|| notes.join(", "));
    json!({ "kind": kind, "bytes": bytes, "restored_in_s": restored, "note": note })
}

fn date(s: &str) -> Option<&str> {
    let ok = s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-';
    ok.then_some(s)
}

/// A probe reason sentence as the JSON of its kind and parameters.
fn reason_value(s: &str) -> Value {
    let parsed = (|| -> Option<Value> {
        if let Some(rest) = s.strip_prefix("HTTP ") {
            let (status, expected) = rest.split_once(" (expected ")?;
            let expected = expected.strip_suffix(')')?;
            return Some(json!({
                "kind": "http_status", "status": status.parse::<u16>().ok()?, "expected": expected,
            }));
        }
        if let Some(d) = s.strip_prefix("timeout after ") {
            return Some(json!({ "kind": "timeout", "ms": millis(d)? }));
        }
        if let Some(rest) = s.strip_prefix("slow: ") {
            let (ms, limit) = rest.split_once(" ms > ")?;
            let limit = limit.strip_suffix(" ms")?;
            return Some(json!({
                "kind": "slow", "ms": ms.parse::<u64>().ok()?, "limit_ms": limit.parse::<u64>().ok()?,
            }));
        }
        if let Some(rest) = s.strip_prefix("keyword ") {
            if let Some(k) = rest.strip_suffix(" not found") {
                return Some(json!({ "kind": "keyword_missing", "keyword": unquote(k)? }));
            }
            let k = rest.strip_suffix(" present")?;
            return Some(json!({ "kind": "keyword_present", "keyword": unquote(k)? }));
        }
        if let Some(d) = s.strip_prefix("cannot connect: ") {
            return Some(json!({ "kind": "cannot_connect", "detail": d }));
        }
        for (prefix, kind) in [
            ("backup verification failed", "backup_failed"),
            ("backup verified", "backup_verified"),
        ] {
            if let Some(rest) = s.strip_prefix(prefix) {
                if rest.is_empty() {
                    return Some(backup(kind, None));
                }
                let facts = rest.strip_prefix(" (")?.strip_suffix(')')?;
                return Some(backup(kind, Some(facts)));
            }
        }
        if let Some(d) = s.strip_prefix("certificate expired on ") {
            return Some(json!({ "kind": "certificate_expired", "on": date(d)? }));
        }
        for (prefix, middle, kind) in [
            (
                "certificate expires in ",
                " days (",
                "certificate_expires_soon",
            ),
            ("certificate valid for ", " days (", "certificate_valid"),
        ] {
            if let Some(rest) = s.strip_prefix(prefix) {
                let (days, day) = rest.split_once(middle)?;
                let day = date(day.strip_suffix(')')?)?;
                return Some(json!({ "kind": kind, "days": days.parse::<i64>().ok()?, "on": day }));
            }
        }
        if let Some(rest) = s.strip_prefix("no ") {
            if let Some((rtype, name)) = rest.split_once(" record for ") {
                return Some(json!({ "kind": "no_dns_record", "rtype": rtype, "name": name }));
            }
        }
        None
    })();
    parsed.unwrap_or_else(|| text(s))
}

fn cause_sentence(v: &Value) -> Option<String> {
    let s = |k: &str| v.get(k).and_then(Value::as_str);
    let cause = match s("kind")? {
        "host" => format!("host {} unreachable", s("host")?),
        "dependency" => format!("depends on {}", s("service")?),
        "maintenance" => "scheduled maintenance".to_owned(),
        "incident" => "stated by an open incident".to_owned(),
        "monitor" => match v.get("reason").filter(|r| !r.is_null()) {
            Some(r) => format!("monitor {}: {}", s("monitor")?, reason_sentence(r)?),
            None => format!("monitor {} {}", s("monitor")?, s("outcome")?),
        },
        _ => return None,
    };
    let word = match (s("kind")?, s("outcome")) {
        ("maintenance", _) => "maintenance",
        (_, Some("degraded")) => "degraded",
        _ => "down",
    };
    Some(format!("{word}: {cause}"))
}

/// The sentences of reasons with a shape of their own (the others keep their JSON, which the
/// previous version shows as it is).
fn reason_sentence(v: &Value) -> Option<String> {
    let s = |k: &str| v.get(k).and_then(Value::as_str);
    let n = |k: &str| v.get(k).and_then(Value::as_u64);
    Some(match s("kind")? {
        "text" => s("text")?.to_owned(),
        "http_status" => format!("HTTP {} (expected {})", n("status")?, s("expected")?),
        "timeout" => {
            let ms = n("ms")?;
            if ms < 1000 {
                format!("timeout after {ms} ms")
            } else if ms.is_multiple_of(1000) {
                format!("timeout after {} s", ms / 1000)
            } else {
                format!("timeout after {:.1} s", ms as f64 / 1000.0)
            }
        }
        "slow" => format!("slow: {} ms > {} ms", n("ms")?, n("limit_ms")?),
        "cannot_connect" => format!("cannot connect: {}", s("detail")?),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_sentences_become_data() {
        let c: Value =
            serde_json::from_str(&cause("down: host phys-2 unreachable").unwrap()).unwrap();
        assert_eq!(c, json!({ "kind": "host", "host": "phys-2" }));
        let c: Value = serde_json::from_str(
            &cause("degraded: monitor home: HTTP 502 (expected 200-399)").unwrap(),
        )
        .unwrap();
        assert_eq!(
            c,
            json!({ "kind": "monitor", "monitor": "home", "outcome": "degraded",
                    "reason": { "kind": "http_status", "status": 502, "expected": "200-399" } })
        );
        assert_eq!(
            reason_value("timeout after 1.5 s"),
            json!({ "kind": "timeout", "ms": 1500 })
        );
        assert_eq!(
            reason_value("backup verification failed (48318382080 bytes)"),
            json!({ "kind": "backup_failed", "bytes": 48318382080u64, "restored_in_s": null, "note": null })
        );
        assert_eq!(
            reason_value("keyword \"Bienvenue\" not found"),
            json!({ "kind": "keyword_missing", "keyword": "Bienvenue" })
        );
        assert_eq!(
            reason_value("connection reset by peer"),
            json!({ "kind": "text", "text": "connection reset by peer" })
        );
        // Already converted: left alone.
        assert_eq!(cause(r#"{"kind":"maintenance"}"#), None);
    }

    #[test]
    fn converted_causes_read_back_as_before() {
        for s in [
            "down: host phys-2 unreachable",
            "partial outage: depends on databases",
            "degraded: monitor home: HTTP 502 (expected 200-399)",
            "down: monitor home: timeout after 4 s",
            "down: monitor ssh down",
            "maintenance: scheduled maintenance",
        ] {
            let v: Value = serde_json::from_str(&cause(s).unwrap()).unwrap();
            let back = cause_sentence(&v).unwrap();
            // "partial outage" reads back as "down": the status column says which.
            assert_eq!(
                back.split_once(": ").unwrap().1,
                s.split_once(": ").unwrap().1
            );
        }
    }
}
