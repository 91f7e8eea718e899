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
//!
//! This module holds what a notification is (its [`Event`], the [`Delivery`] rows), [`queue`]
//! and [`queue_direct`], which every message goes through, and the reads of deliveries the
//! console shows. [`announce`] builds the announcements of incident updates and maintenance
//! moves, [`lease`] is the sending instance's lease, and [`send`] the fan-out and the delivery
//! state machine the lease holder drives.

pub mod announce;
pub mod lease;
pub mod send;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};

use crate::entity::{delivery, notification, notify_key, service};
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
