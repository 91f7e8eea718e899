//! The notification outbox. A change that readers or staff must hear about queues a
//! *notification* in the same transaction as the change itself (so a committed update is
//! always announced, and a rolled-back one never is). The sending instance later *fans it out*
//! into one *delivery* per recipient, and sends each delivery under a state machine:
//!
//! `pending` → `sending` (claimed, committed before the message leaves) → `sent`, or back to
//! `pending` with a later `next_attempt_at` after a temporary error, or `failed`. A delivery
//! found in `sending` by an instance that has just taken the lease was interrupted by a crash
//! between handing it over and recording it: it becomes `unknown` and is never sent again
//! (at most once, never twice).
//!
//! One instance at a time sends: the one holding the `outbox` lease row.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};

use crate::entity::{
    delivery, incident, incident_service, incident_update, maintenance, maintenance_service,
    notification, notify_key, outbox_lease, service, subscriber,
};
use crate::StoreError;

/// A service an event touches, with its name and the status stated for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceRef {
    pub id: String,
    pub name: String,
    pub status: String,
}

/// One update of an incident, as published.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateRef {
    pub id: i64,
    pub status: String,
    pub markdown: String,
    /// Sanitised HTML rendered from the Markdown.
    pub html: String,
    pub created_at: DateTime<Utc>,
}

/// An incident at the moment one of its updates was published.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentEvent {
    pub id: i64,
    pub title: String,
    pub impact: String,
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// The update this notification announces.
    pub update_id: i64,
    /// Every update, newest first.
    pub updates: Vec<UpdateRef>,
    pub services: Vec<ServiceRef>,
}

impl IncidentEvent {
    /// The update being announced.
    pub fn update(&self) -> Option<&UpdateRef> {
        self.updates.iter().find(|u| u.id == self.update_id)
    }
}

/// A maintenance window at the moment it was scheduled, started or completed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceEvent {
    pub id: i64,
    pub title: String,
    pub markdown: String,
    pub html: String,
    pub status: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub services: Vec<ServiceRef>,
}

/// A staff alert: what changed, and its cause.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertEvent {
    /// `down`, `recovered`, `degraded`, `flapping`, `location`, `location_over`, `draft`.
    pub kind: String,
    /// One line: what happened.
    pub title: String,
    /// The host whose loss caused it, if any.
    pub host: Option<String>,
    /// What it is about, as staff name it: `host phys-2`, or a service's name.
    #[serde(default)]
    pub subject: Option<String>,
    pub services: Vec<ServiceRef>,
    /// The monitors it is about, as staff name them (`FrAndroid / home`): a probe location's
    /// own trouble names monitors, not services (which are not down).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub monitors: Vec<String>,
    /// Longer text, plain.
    pub detail: String,
    pub at: DateTime<Utc>,
    /// A console address to look at.
    pub link: Option<String>,
}

/// A service's status changed (Statuspage's `component` + `component_update` webhook).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentEvent {
    /// The service id.
    pub id: String,
    pub name: String,
    pub old_status: String,
    pub new_status: String,
    pub created_at: DateTime<Utc>,
}

/// What a notification announces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    IncidentUpdate(IncidentEvent),
    MaintenanceScheduled(MaintenanceEvent),
    MaintenanceStarted(MaintenanceEvent),
    MaintenanceCompleted(MaintenanceEvent),
    Alert(AlertEvent),
    ComponentUpdate(ComponentEvent),
}

impl Event {
    pub fn kind(&self) -> &'static str {
        match self {
            Event::IncidentUpdate(_) => "incident_update",
            Event::MaintenanceScheduled(_) => "maintenance_scheduled",
            Event::MaintenanceStarted(_) => "maintenance_started",
            Event::MaintenanceCompleted(_) => "maintenance_completed",
            Event::Alert(_) => "alert",
            Event::ComponentUpdate(_) => "component_update",
        }
    }

    /// The services it touches.
    pub fn services(&self) -> &[ServiceRef] {
        match self {
            Event::IncidentUpdate(i) => &i.services,
            Event::MaintenanceScheduled(m)
            | Event::MaintenanceStarted(m)
            | Event::MaintenanceCompleted(m) => &m.services,
            Event::Alert(a) => &a.services,
            Event::ComponentUpdate(_) => &[],
        }
    }
}

/// A queued notification.
#[derive(Clone, Debug, PartialEq)]
pub struct Notification {
    pub id: i64,
    pub event: Event,
    pub created_at: DateTime<Utc>,
}

/// Delivery states.
pub mod state {
    pub const PENDING: &str = "pending";
    pub const SENDING: &str = "sending";
    pub const SENT: &str = "sent";
    pub const FAILED: &str = "failed";
    pub const UNKNOWN: &str = "unknown";
    pub const CANCELLED: &str = "cancelled";
}

/// One message to one recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub notification_id: Option<i64>,
    pub subscriber_id: Option<i64>,
    /// `email`, `webhook` or `alert`.
    pub channel: String,
    pub recipient: String,
    /// `confirm`, `event` or `alert`.
    pub kind: String,
    pub payload: serde_json::Value,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub response_code: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

fn delivery_from(m: delivery::Model) -> Delivery {
    Delivery {
        id: m.id,
        notification_id: m.notification_id,
        subscriber_id: m.subscriber_id,
        channel: m.channel,
        recipient: m.recipient,
        kind: m.kind,
        payload: serde_json::from_str(&m.payload).unwrap_or(serde_json::Value::Null),
        state: m.state,
        attempts: m.attempts,
        next_attempt_at: m.next_attempt_at,
        last_error: m.last_error,
        response_code: m.response_code,
        created_at: m.created_at,
        sent_at: m.sent_at,
    }
}

// ---------------------------------------------------------------------------------------------
// The instance key
// ---------------------------------------------------------------------------------------------

/// The installation's key named `name` (32 random bytes), created on first use. Every instance
/// on the same database reads the same key: links signed by one are accepted by all.
pub async fn instance_key(db: &DatabaseConnection, name: &str) -> Result<Vec<u8>, StoreError> {
    if let Some(k) = notify_key::Entity::find_by_id(name.to_owned())
        .one(db)
        .await?
    {
        return hex::decode(&k.value).map_err(|_| StoreError::Corrupt(format!("key {name}")));
    }
    let fresh: [u8; 32] = rand::random();
    notify_key::Entity::insert(notify_key::ActiveModel {
        name: Set(name.to_owned()),
        value: Set(hex::encode(fresh)),
    })
    .on_conflict(
        OnConflict::column(notify_key::Column::Name)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    // Another instance may have won the race: read back whichever key was stored.
    let k = notify_key::Entity::find_by_id(name.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("key {name} missing")))?;
    hex::decode(&k.value).map_err(|_| StoreError::Corrupt(format!("key {name}")))
}

// ---------------------------------------------------------------------------------------------
// Queueing (inside the caller's transaction)
// ---------------------------------------------------------------------------------------------

/// Queues `event` in the caller's transaction.
pub async fn queue<C: ConnectionTrait>(
    conn: &C,
    event: &Event,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let services: Vec<&str> = match event {
        Event::ComponentUpdate(c) => vec![c.id.as_str()],
        _ => event.services().iter().map(|s| s.id.as_str()).collect(),
    };
    notification::Entity::insert(notification::ActiveModel {
        kind: Set(event.kind().to_owned()),
        payload: Set(serde_json::to_string(event).unwrap_or_default()),
        services: Set(serde_json::to_string(&services).unwrap_or_default()),
        created_at: Set(now),
        fanned_out_at: Set(None),
        ..Default::default()
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

pub(crate) async fn service_names<C: ConnectionTrait>(
    conn: &C,
    ids: &[String],
) -> Result<HashMap<String, String>, StoreError> {
    Ok(service::Entity::find()
        .filter(service::Column::Id.is_in(ids.to_vec()))
        .all(conn)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect())
}

/// Queues the announcement of update `update_id` of incident `incident_id`, unless staff
/// chose not to notify for this incident. Called by [`crate::incidents`] in its transaction.
pub(crate) async fn queue_incident_update<C: ConnectionTrait>(
    conn: &C,
    incident_id: i64,
    update_id: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let Some(inc) = incident::Entity::find_by_id(incident_id).one(conn).await? else {
        return Ok(());
    };
    if !inc.notify {
        return Ok(());
    }
    let updates = incident_update::Entity::find()
        .filter(incident_update::Column::IncidentId.eq(incident_id))
        .order_by_desc(incident_update::Column::CreatedAt)
        .order_by_desc(incident_update::Column::Id)
        .all(conn)
        .await?;
    let rows = incident_service::Entity::find()
        .filter(incident_service::Column::IncidentId.eq(incident_id))
        .order_by_asc(incident_service::Column::ServiceId)
        .all(conn)
        .await?;
    let ids: Vec<String> = rows.iter().map(|r| r.service_id.clone()).collect();
    let names = service_names(conn, &ids).await?;
    let event = Event::IncidentUpdate(IncidentEvent {
        id: inc.id,
        title: inc.title,
        impact: inc.impact,
        status: inc.status,
        started_at: inc.started_at,
        created_at: inc.created_at,
        updated_at: inc.updated_at,
        resolved_at: inc.resolved_at,
        update_id,
        updates: updates
            .into_iter()
            .map(|u| UpdateRef {
                id: u.id,
                status: u.status,
                markdown: u.message_md,
                html: u.message_html,
                created_at: u.created_at,
            })
            .collect(),
        services: rows
            .into_iter()
            .map(|r| ServiceRef {
                name: names
                    .get(&r.service_id)
                    .cloned()
                    .unwrap_or_else(|| r.service_id.clone()),
                id: r.service_id,
                status: r.status,
            })
            .collect(),
    });
    queue(conn, &event, now).await
}

/// Which maintenance move is announced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaintenanceMove {
    Scheduled,
    Started,
    Completed,
}

/// Queues the announcement of a maintenance window's move. Called by
/// [`crate::maintenance`] in its transaction.
pub(crate) async fn queue_maintenance<C: ConnectionTrait>(
    conn: &C,
    maintenance_id: i64,
    what: MaintenanceMove,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let Some(m) = maintenance::Entity::find_by_id(maintenance_id)
        .one(conn)
        .await?
    else {
        return Ok(());
    };
    let ids: Vec<String> = maintenance_service::Entity::find()
        .filter(maintenance_service::Column::MaintenanceId.eq(maintenance_id))
        .order_by_asc(maintenance_service::Column::ServiceId)
        .all(conn)
        .await?
        .into_iter()
        .map(|r| r.service_id)
        .collect();
    let names = service_names(conn, &ids).await?;
    let body = MaintenanceEvent {
        id: m.id,
        title: m.title,
        markdown: m.message_md,
        html: m.message_html,
        status: m.status,
        starts_at: m.starts_at,
        ends_at: m.ends_at,
        created_at: m.created_at,
        services: ids
            .into_iter()
            .map(|id| ServiceRef {
                name: names.get(&id).cloned().unwrap_or_else(|| id.clone()),
                id,
                status: "under_maintenance".to_owned(),
            })
            .collect(),
    };
    let event = match what {
        MaintenanceMove::Scheduled => Event::MaintenanceScheduled(body),
        MaintenanceMove::Started => Event::MaintenanceStarted(body),
        MaintenanceMove::Completed => Event::MaintenanceCompleted(body),
    };
    queue(conn, &event, now).await
}

/// Queues one message outside any notification (a confirmation mail, a test alert).
pub async fn queue_direct(
    db: &DatabaseConnection,
    channel: &str,
    recipient: &str,
    kind: &str,
    payload: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let res = delivery::Entity::insert(delivery::ActiveModel {
        notification_id: Set(None),
        subscriber_id: Set(None),
        channel: Set(channel.to_owned()),
        recipient: Set(recipient.to_owned()),
        kind: Set(kind.to_owned()),
        payload: Set(payload.to_string()),
        state: Set(state::PENDING.to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        last_error: Set(None),
        response_code: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(res.last_insert_id)
}

// ---------------------------------------------------------------------------------------------
// The lease
// ---------------------------------------------------------------------------------------------

/// How taking the lease went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lease {
    /// Another instance holds it.
    Elsewhere,
    /// This holder already had it; renewed.
    Renewed,
    /// This holder has just taken it (from nobody, or from an instance that stopped renewing).
    Taken,
}

/// Takes or renews lease `name` for `holder` until `now + ttl`, if nobody else holds a live one.
pub async fn take_lease(
    db: &DatabaseConnection,
    name: &str,
    holder: &str,
    ttl: Duration,
    now: DateTime<Utc>,
) -> Result<Lease, StoreError> {
    outbox_lease::Entity::insert(outbox_lease::ActiveModel {
        name: Set(name.to_owned()),
        holder: Set(String::new()),
        expires_at: Set(now - Duration::seconds(1)),
    })
    .on_conflict(
        OnConflict::column(outbox_lease::Column::Name)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    let renewed = outbox_lease::Entity::update_many()
        .col_expr(outbox_lease::Column::ExpiresAt, Expr::value(now + ttl))
        .filter(outbox_lease::Column::Name.eq(name))
        .filter(outbox_lease::Column::Holder.eq(holder))
        .filter(outbox_lease::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    if renewed.rows_affected == 1 {
        return Ok(Lease::Renewed);
    }
    let taken = outbox_lease::Entity::update_many()
        .col_expr(outbox_lease::Column::Holder, Expr::value(holder))
        .col_expr(outbox_lease::Column::ExpiresAt, Expr::value(now + ttl))
        .filter(outbox_lease::Column::Name.eq(name))
        .filter(outbox_lease::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    Ok(if taken.rows_affected == 1 {
        Lease::Taken
    } else {
        Lease::Elsewhere
    })
}

/// Gives the lease up (clean shutdown), so another instance takes over at once.
pub async fn release_lease(
    db: &DatabaseConnection,
    name: &str,
    holder: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    outbox_lease::Entity::update_many()
        .col_expr(
            outbox_lease::Column::ExpiresAt,
            Expr::value(now - Duration::seconds(1)),
        )
        .filter(outbox_lease::Column::Name.eq(name))
        .filter(outbox_lease::Column::Holder.eq(holder))
        .exec(db)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Fan-out and delivery states (the lease holder only)
// ---------------------------------------------------------------------------------------------

/// Rows per INSERT: well under SQLite's 32,766 bound parameters.
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

/// One delivery by id.
pub async fn delivery(db: &DatabaseConnection, id: i64) -> Result<Option<Delivery>, StoreError> {
    Ok(delivery::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(delivery_from))
}

/// The latest deliveries, newest first: all channels, or one (`webhook`, `email`, `alert`).
pub async fn recent(
    db: &DatabaseConnection,
    channel: Option<&str>,
    subscriber_id: Option<i64>,
    limit: u64,
) -> Result<Vec<Delivery>, StoreError> {
    let mut q = delivery::Entity::find();
    if let Some(c) = channel {
        q = q.filter(delivery::Column::Channel.eq(c));
    }
    if let Some(s) = subscriber_id {
        q = q.filter(delivery::Column::SubscriberId.eq(s));
    }
    Ok(q.order_by_desc(delivery::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(delivery_from)
        .collect())
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
