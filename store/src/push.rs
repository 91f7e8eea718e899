//! The newest heartbeat of every push monitor, in the database rather than in one process's
//! memory: any instance may receive a heartbeat, and every instance, restarted or not, judges
//! the monitor from the same row.
//!
//! Also the push monitors' tokens, as SHA-256 only (`push_tokens`): a token Vigie generated
//! ([`new_token`], shown once) or one the configuration reads from the environment or a file.
//! They are made and hashed the way every other token is (`crate::tokens`): the functions here
//! take a token's value and keep only its digest.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::status::CheckOutcome;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::audit::{self, Actor, WriteError};
use crate::entity::{push_beat, push_token};
use crate::StoreError;

/// Where a push token came from.
pub const GENERATED: &str = "generated";
/// Read from `${env:NAME}` or `${file:PATH}` in the configuration.
pub const CONFIGURED: &str = "config";

/// The prefix of every generated push token, so secret scanners can recognise a leaked one.
pub const PUSH_TOKEN_PREFIX: &str = "vigie_push_";

/// A new push token, made like every other token ([`crate::tokens`]: 256 random bits from the
/// operating system, hex, after [`PUSH_TOKEN_PREFIX`]). Only its [`crate::tokens::digest`] is
/// stored.
pub fn new_token() -> String {
    crate::tokens::mint(PUSH_TOKEN_PREFIX).value
}

/// The stored token hashes of `monitor_ids`, with their origin.
pub async fn token_hashes(
    db: &DatabaseConnection,
    monitor_ids: &[i64],
) -> Result<HashMap<i64, (String, String)>, StoreError> {
    let mut out = HashMap::with_capacity(monitor_ids.len());
    for chunk in monitor_ids.chunks(500) {
        for r in push_token::Entity::find()
            .filter(push_token::Column::MonitorId.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            out.insert(r.monitor_id, (r.token_hash, r.origin));
        }
    }
    Ok(out)
}

/// Stores `token` (its digest) as the token of `monitor_id` unless it already has one; true
/// when stored (two instances starting at once: one generates, the other finds it).
pub async fn token_if_absent(
    db: &DatabaseConnection,
    monitor_id: i64,
    token: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let row = push_token::ActiveModel {
        monitor_id: Set(monitor_id),
        token_hash: Set(crate::tokens::digest(token)),
        origin: Set(GENERATED.to_owned()),
        created_at: Set(now),
    };
    let res = push_token::Entity::insert(row)
        .on_conflict(
            OnConflict::column(push_token::Column::MonitorId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(res == 1)
}

/// Stores `token` (its digest) as the token of `monitor_id` read from the configuration,
/// replacing whatever was there (the file is the truth for such a monitor). Unchanged rows are
/// left alone.
pub async fn configured_token(
    db: &DatabaseConnection,
    monitor_id: i64,
    token: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let row = push_token::ActiveModel {
        monitor_id: Set(monitor_id),
        token_hash: Set(crate::tokens::digest(token)),
        origin: Set(CONFIGURED.to_owned()),
        created_at: Set(now),
    };
    push_token::Entity::insert(row)
        .on_conflict(
            OnConflict::column(push_token::Column::MonitorId)
                .update_columns([
                    push_token::Column::TokenHash,
                    push_token::Column::Origin,
                    push_token::Column::CreatedAt,
                ])
                .action_and_where(Expr::cust(
                    r#""push_tokens"."token_hash" <> "excluded"."token_hash""#,
                ))
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Replaces the token of push monitor `key` with `token` (its digest; `vigie push-token`): the
/// old token stops working on every instance within seconds. Audited as `push.token` (never
/// the token).
pub async fn replace_token(
    db: &DatabaseConnection,
    key: &str,
    token: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), WriteError> {
    use crate::entity::monitor;
    let txn = crate::begin_write(db).await?;
    let m = monitor::Entity::find()
        .filter(monitor::Column::Key.eq(key))
        .filter(monitor::Column::Kind.eq("push"))
        .filter(monitor::Column::ArchivedAt.is_null())
        .one(&txn)
        .await?
        .ok_or(WriteError::NotFound)?;
    push_token::Entity::delete_by_id(m.id).exec(&txn).await?;
    push_token::Entity::insert(push_token::ActiveModel {
        monitor_id: Set(m.id),
        token_hash: Set(crate::tokens::digest(token)),
        origin: Set(GENERATED.to_owned()),
        created_at: Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        "push.token",
        Some(("monitor", key.to_owned())),
        serde_json::json!({}),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// One received heartbeat.
#[derive(Clone, Debug, PartialEq)]
pub struct Beat {
    pub at: DateTime<Utc>,
    pub outcome: CheckOutcome,
    pub latency_ms: Option<u64>,
    pub reason: Option<String>,
}

/// What is known of a push monitor: since when a heartbeat is awaited, and the newest one.
#[derive(Clone, Debug, PartialEq)]
pub struct Awaited {
    pub waiting_since: DateTime<Utc>,
    pub beat: Option<Beat>,
}

/// Starts waiting for the heartbeats of `monitor_ids` at `now`, unless some instance already
/// did: the first instance's start is everybody's.
pub async fn await_beats(
    db: &DatabaseConnection,
    monitor_ids: &[i64],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if monitor_ids.is_empty() {
        return Ok(());
    }
    let rows = monitor_ids.iter().map(|id| push_beat::ActiveModel {
        monitor_id: Set(*id),
        waiting_since: Set(now),
        beat_at: Set(None),
        outcome: Set(None),
        latency_ms: Set(None),
        reason: Set(None),
    });
    push_beat::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::column(push_beat::Column::MonitorId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Stores `beat` as the newest heartbeat of `monitor_id`, unless a newer one is stored already
/// (two instances receiving two heartbeats out of order keep the newest).
pub async fn record_beat(
    db: &DatabaseConnection,
    monitor_id: i64,
    beat: &Beat,
) -> Result<(), StoreError> {
    let row = push_beat::ActiveModel {
        monitor_id: Set(monitor_id),
        waiting_since: Set(beat.at),
        beat_at: Set(Some(beat.at)),
        outcome: Set(Some(beat.outcome.as_str().to_owned())),
        latency_ms: Set(beat
            .latency_ms
            .map(|l| i64::try_from(l).unwrap_or(i64::MAX))),
        reason: Set(beat.reason.clone()),
    };
    push_beat::Entity::insert(row)
        .on_conflict(
            OnConflict::column(push_beat::Column::MonitorId)
                .update_columns([
                    push_beat::Column::BeatAt,
                    push_beat::Column::Outcome,
                    push_beat::Column::LatencyMs,
                    push_beat::Column::Reason,
                ])
                .action_and_where(Expr::cust(
                    r#""push_beats"."beat_at" IS NULL OR "push_beats"."beat_at" <= "excluded"."beat_at""#,
                ))
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// What is known of the push monitors `monitor_ids`.
pub async fn awaited(
    db: &DatabaseConnection,
    monitor_ids: &[i64],
) -> Result<HashMap<i64, Awaited>, StoreError> {
    let mut out = HashMap::with_capacity(monitor_ids.len());
    for chunk in monitor_ids.chunks(500) {
        let rows = push_beat::Entity::find()
            .filter(push_beat::Column::MonitorId.is_in(chunk.iter().copied()))
            .all(db)
            .await?;
        for r in rows {
            let beat = match (r.beat_at, r.outcome.as_deref()) {
                (Some(at), Some(o)) => Some(Beat {
                    at,
                    outcome: CheckOutcome::parse(o).ok_or_else(|| {
                        StoreError::Corrupt(format!("push outcome {o:?} is unknown"))
                    })?,
                    latency_ms: r.latency_ms.and_then(|l| u64::try_from(l).ok()),
                    reason: r.reason,
                }),
                _ => None,
            };
            out.insert(
                r.monitor_id,
                Awaited {
                    waiting_since: r.waiting_since,
                    beat,
                },
            );
        }
    }
    Ok(out)
}
