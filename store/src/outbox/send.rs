//! Fan-out and delivery states, driven by the lease holder only: notifications become one
//! delivery per recipient, each delivery is claimed, sent and recorded, and old rows are
//! purged.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::{delivery_from, state, Delivery, Event, Notification};
use crate::entity::{delivery, notification, subscriber};
use crate::StoreError;

const INSERT_CHUNK: usize = 1_000;

/// Whether a subscriber to `wanted` (None = everything) hears about an event touching
/// `touched`. An event that names no service concerns the whole page.
pub fn concerns(wanted: Option<&[String]>, touched: &[String]) -> bool {
    match wanted {
        None => true,
        Some(w) => touched.is_empty() || touched.iter().any(|t| w.iter().any(|x| x == t)),
    }
}

/// Turns every queued notification into one pending delivery per recipient: each confirmed,
/// unpaused subscriber the event concerns, and for alerts each of `alert_channels`. Returns
/// the number of deliveries queued. A notification is fanned out once: the mark and the
/// deliveries commit together.
pub async fn fan_out(
    db: &DatabaseConnection,
    alert_channels: &[String],
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let waiting = notification::Entity::find()
        .filter(notification::Column::FannedOutAt.is_null())
        .order_by_asc(notification::Column::Id)
        .limit(20)
        .all(db)
        .await?;
    if waiting.is_empty() {
        return Ok(0);
    }
    let subscribers = subscriber::Entity::find()
        .filter(subscriber::Column::ConfirmedAt.is_not_null())
        .filter(subscriber::Column::PausedAt.is_null())
        .order_by_asc(subscriber::Column::Id)
        .all(db)
        .await?;
    let wanted: Vec<Option<Vec<String>>> = subscribers
        .iter()
        .map(|s| {
            s.services
                .as_deref()
                .and_then(|j| serde_json::from_str(j).ok())
        })
        .collect();
    let mut queued = 0;
    for n in waiting {
        let touched: Vec<String> = serde_json::from_str(&n.services).unwrap_or_default();
        let txn = crate::begin_write(db).await?;
        let marked = notification::Entity::update_many()
            .col_expr(notification::Column::FannedOutAt, Expr::value(now))
            .filter(notification::Column::Id.eq(n.id))
            .filter(notification::Column::FannedOutAt.is_null())
            .exec(&txn)
            .await?;
        if marked.rows_affected != 1 {
            continue;
        }
        let row = |channel: &str, recipient: &str, subscriber_id: Option<i64>, kind: &str| {
            delivery::ActiveModel {
                notification_id: Set(Some(n.id)),
                subscriber_id: Set(subscriber_id),
                channel: Set(channel.to_owned()),
                recipient: Set(recipient.to_owned()),
                kind: Set(kind.to_owned()),
                payload: Set("{}".to_owned()),
                state: Set(state::PENDING.to_owned()),
                attempts: Set(0),
                next_attempt_at: Set(now),
                last_error: Set(None),
                response_code: Set(None),
                created_at: Set(now),
                sent_at: Set(None),
                ..Default::default()
            }
        };
        let rows: Vec<delivery::ActiveModel> = if n.kind == "alert" {
            alert_channels
                .iter()
                .map(|c| row("alert", c, None, "alert"))
                .collect()
        } else {
            subscribers
                .iter()
                .zip(&wanted)
                .filter(|(_, w)| concerns(w.as_deref(), &touched))
                // Component updates are Statuspage webhook events: mails do not carry them.
                .filter(|(s, _)| n.kind != "component_update" || s.kind == "webhook")
                .map(|(s, _)| row(&s.kind, &s.address, Some(s.id), "event"))
                .collect()
        };
        queued += rows.len();
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<_> = rows.by_ref().take(INSERT_CHUNK).collect();
            delivery::Entity::insert_many(chunk)
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
    }
    Ok(queued)
}

/// Deliveries interrupted while `sending` (their instance stopped between handing the message
/// over and recording it) become `unknown`: they may have left, so they are never sent again.
/// Only the instance that has just taken the lease calls this. Returns how many.
pub async fn settle_interrupted(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let res = delivery::Entity::update_many()
        .col_expr(delivery::Column::State, Expr::value(state::UNKNOWN))
        .col_expr(
            delivery::Column::LastError,
            Expr::value("interrupted while sending: may have been delivered; not sent again"),
        )
        .col_expr(delivery::Column::SentAt, Expr::value(now))
        .filter(delivery::Column::State.eq(state::SENDING))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// Pending deliveries due by `now`, oldest first, at most `limit`.
pub async fn due(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Delivery>, StoreError> {
    Ok(delivery::Entity::find()
        .filter(delivery::Column::State.eq(state::PENDING))
        .filter(delivery::Column::NextAttemptAt.lte(now))
        .order_by_asc(delivery::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(delivery_from)
        .collect())
}

/// Moves a pending delivery to `sending`, committed before the message leaves. False when it
/// was no longer pending (cancelled, or taken by another sender).
pub async fn claim(db: &DatabaseConnection, id: i64) -> Result<bool, StoreError> {
    let res = delivery::Entity::update_many()
        .col_expr(delivery::Column::State, Expr::value(state::SENDING))
        .col_expr(
            delivery::Column::Attempts,
            Expr::col(delivery::Column::Attempts).add(1),
        )
        .filter(delivery::Column::Id.eq(id))
        .filter(delivery::Column::State.eq(state::PENDING))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// What an attempt came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Sent {
        code: Option<i32>,
    },
    /// Try again at `at`.
    Retry {
        error: String,
        code: Option<i32>,
        at: DateTime<Utc>,
    },
    /// Give up.
    Failed {
        error: String,
        code: Option<i32>,
    },
}

/// Records what happened to a claimed delivery. For a subscriber's delivery also counts the
/// result on the subscriber; after `pause_after` failures in a row a webhook is paused (its
/// pending deliveries cancelled). Returns true when this result paused it.
pub async fn record(
    db: &DatabaseConnection,
    d: &Delivery,
    outcome: &Outcome,
    pause_after: i32,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let txn = crate::begin_write(db).await?;
    let (state, error, code, next, sent_at) = match outcome {
        Outcome::Sent { code } => (state::SENT, None, *code, d.next_attempt_at, Some(now)),
        Outcome::Retry { error, code, at } => {
            (state::PENDING, Some(error.clone()), *code, *at, None)
        }
        Outcome::Failed { error, code } => {
            (state::FAILED, Some(error.clone()), *code, now, Some(now))
        }
    };
    delivery::Entity::update_many()
        .col_expr(delivery::Column::State, Expr::value(state))
        .col_expr(delivery::Column::LastError, Expr::value(error))
        .col_expr(delivery::Column::ResponseCode, Expr::value(code))
        .col_expr(delivery::Column::NextAttemptAt, Expr::value(next))
        .col_expr(delivery::Column::SentAt, Expr::value(sent_at))
        .filter(delivery::Column::Id.eq(d.id))
        .exec(&txn)
        .await?;
    let mut paused = false;
    if let Some(sid) = d.subscriber_id {
        if matches!(outcome, Outcome::Sent { .. }) {
            subscriber::Entity::update_many()
                .col_expr(subscriber::Column::Failures, Expr::value(0))
                .col_expr(
                    subscriber::Column::Delivered,
                    Expr::col(subscriber::Column::Delivered).add(1),
                )
                .filter(subscriber::Column::Id.eq(sid))
                .exec(&txn)
                .await?;
        } else {
            subscriber::Entity::update_many()
                .col_expr(
                    subscriber::Column::Failures,
                    Expr::col(subscriber::Column::Failures).add(1),
                )
                .col_expr(
                    subscriber::Column::Failed,
                    Expr::col(subscriber::Column::Failed).add(1),
                )
                .filter(subscriber::Column::Id.eq(sid))
                .exec(&txn)
                .await?;
            if d.channel == "webhook" {
                let res = subscriber::Entity::update_many()
                    .col_expr(subscriber::Column::PausedAt, Expr::value(now))
                    .filter(subscriber::Column::Id.eq(sid))
                    .filter(subscriber::Column::PausedAt.is_null())
                    .filter(subscriber::Column::Failures.gte(pause_after))
                    .exec(&txn)
                    .await?;
                if res.rows_affected == 1 {
                    paused = true;
                    delivery::Entity::update_many()
                        .col_expr(delivery::Column::State, Expr::value(state::CANCELLED))
                        .col_expr(
                            delivery::Column::LastError,
                            Expr::value("subscription paused after repeated failures"),
                        )
                        .filter(delivery::Column::SubscriberId.eq(sid))
                        .filter(delivery::Column::State.eq(state::PENDING))
                        .exec(&txn)
                        .await?;
                }
            }
        }
    }
    txn.commit().await?;
    Ok(paused)
}

/// Messages handed over in the minute before `now` (the per-minute ceiling counts them).
pub async fn sent_last_minute(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    Ok(delivery::Entity::find()
        .filter(delivery::Column::SentAt.gt(now - Duration::seconds(60)))
        .filter(delivery::Column::State.eq(state::SENT))
        .count(db)
        .await?)
}

/// Loads notifications by id (the sender renders each once for all its recipients).
pub async fn notifications(
    db: &DatabaseConnection,
    ids: &HashSet<i64>,
) -> Result<HashMap<i64, Notification>, StoreError> {
    let rows = notification::Entity::find()
        .filter(notification::Column::Id.is_in(ids.iter().copied().collect::<Vec<_>>()))
        .all(db)
        .await?;
    rows.into_iter()
        .map(|n| {
            let event: Event = serde_json::from_str(&n.payload)
                .map_err(|e| StoreError::Corrupt(format!("notification {}: {e}", n.id)))?;
            Ok((
                n.id,
                Notification {
                    id: n.id,
                    event,
                    created_at: n.created_at,
                },
            ))
        })
        .collect()
}

/// Retention: notifications (with their deliveries) older than `keep`, and confirmation
/// mails (which carry an address nobody confirmed yet) older than two days. Returns rows
/// deleted.
pub async fn purge(
    db: &DatabaseConnection,
    keep: Duration,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let finished = [state::SENT, state::FAILED, state::UNKNOWN, state::CANCELLED];
    let a = delivery::Entity::delete_many()
        .filter(delivery::Column::Kind.eq("confirm"))
        .filter(delivery::Column::CreatedAt.lt(now - Duration::hours(48)))
        .filter(delivery::Column::State.is_in(finished))
        .exec(db)
        .await?;
    let b = delivery::Entity::delete_many()
        .filter(delivery::Column::CreatedAt.lt(now - keep))
        .filter(delivery::Column::State.is_in(finished))
        .exec(db)
        .await?;
    let c = notification::Entity::delete_many()
        .filter(notification::Column::CreatedAt.lt(now - keep))
        .filter(notification::Column::FannedOutAt.is_not_null())
        .exec(db)
        .await?;
    Ok(a.rows_affected + b.rows_affected + c.rows_affected)
}

/// Notifications not yet fanned out plus deliveries pending or being sent: zero when the
/// outbox has nothing left to do right now.
pub async fn waiting(db: &DatabaseConnection) -> Result<u64, StoreError> {
    let n = notification::Entity::find()
        .filter(notification::Column::FannedOutAt.is_null())
        .count(db)
        .await?;
    let d = delivery::Entity::find()
        .filter(delivery::Column::State.is_in([state::PENDING, state::SENDING]))
        .count(db)
        .await?;
    Ok(n + d)
}
