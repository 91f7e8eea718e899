//! Subscribers: e-mail addresses and webhooks that receive notifications. A row exists only
//! once its address is confirmed (readers) or staff created it: an address nobody confirmed
//! is never stored here. Deleting a subscriber deletes its address and its pending messages.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;

use crate::audit::{self, Actor, WriteError};
use crate::entity::{service, subscriber};
use crate::StoreError;

/// `email` or `webhook`.
pub const EMAIL: &str = "email";
pub const WEBHOOK: &str = "webhook";

/// A subscriber.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscriber {
    pub id: i64,
    pub kind: String,
    /// The e-mail address, or the webhook's URL.
    pub address: String,
    /// For a webhook a reader created: the address that confirmed it.
    pub contact: Option<String>,
    pub language: String,
    /// `None`: the whole page.
    pub services: Option<Vec<String>>,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub paused_at: Option<DateTime<Utc>>,
    pub failures: i32,
    pub delivered: i64,
    pub failed: i64,
}

fn from_model(m: subscriber::Model) -> Subscriber {
    Subscriber {
        id: m.id,
        kind: m.kind,
        address: m.address,
        contact: m.contact,
        language: m.language,
        services: m
            .services
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok()),
        created_by: m.created_by,
        created_at: m.created_at,
        confirmed_at: m.confirmed_at,
        paused_at: m.paused_at,
        failures: m.failures,
        delivered: m.delivered,
        failed: m.failed,
    }
}

/// What a subscription asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wanted {
    pub kind: String,
    pub address: String,
    pub contact: Option<String>,
    pub language: String,
    pub services: Option<Vec<String>>,
}

async fn check_services<C: ConnectionTrait>(
    conn: &C,
    services: &Option<Vec<String>>,
) -> Result<Option<String>, WriteError> {
    let Some(list) = services else {
        return Ok(None);
    };
    let mut list = list.clone();
    list.sort();
    list.dedup();
    for id in &list {
        let live = service::Entity::find_by_id(id.clone())
            .one(conn)
            .await?
            .is_some_and(|s| s.archived_at.is_none());
        if !live {
            return Err(WriteError::UnknownService(id.clone()));
        }
    }
    Ok(Some(json!(list).to_string()))
}

/// Stores a confirmed subscription: a new row, or the existing one for the same address with
/// its language and services replaced. `by` is the staff member creating it (audited), `None`
/// for a reader confirming their own address.
pub async fn confirm(
    db: &DatabaseConnection,
    wanted: &Wanted,
    by: Option<&Actor>,
    now: DateTime<Utc>,
) -> Result<Subscriber, WriteError> {
    let max = match wanted.kind.as_str() {
        WEBHOOK => domain::limits::URL,
        _ => domain::limits::EMAIL,
    };
    audit::limit("address", &wanted.address, max)?;
    if let Some(contact) = &wanted.contact {
        audit::limit("contact", contact, domain::limits::EMAIL)?;
    }
    let txn = crate::begin_write(db).await?;
    let services = check_services(&txn, &wanted.services).await?;
    let existing = subscriber::Entity::find()
        .filter(subscriber::Column::Kind.eq(&wanted.kind))
        .filter(subscriber::Column::Address.eq(&wanted.address))
        .one(&txn)
        .await?;
    let model = match existing {
        Some(m) => {
            let mut am: subscriber::ActiveModel = m.into();
            am.language = Set(wanted.language.clone());
            am.services = Set(services);
            am.contact = Set(wanted.contact.clone());
            am.confirmed_at = Set(Some(now));
            am.update(&txn).await?
        }
        None => {
            subscriber::ActiveModel {
                kind: Set(wanted.kind.clone()),
                address: Set(wanted.address.clone()),
                contact: Set(wanted.contact.clone()),
                language: Set(wanted.language.clone()),
                services: Set(services),
                created_by: Set(by.map(|a| a.label.clone())),
                created_at: Set(now),
                confirmed_at: Set(Some(now)),
                paused_at: Set(None),
                failures: Set(0),
                delivered: Set(0),
                failed: Set(0),
                ..Default::default()
            }
            .insert(&txn)
            .await?
        }
    };
    if let Some(actor) = by {
        audit::record(
            &txn,
            actor,
            "subscriber.create",
            Some(("subscriber", model.id.to_string())),
            json!({ "kind": model.kind, "address": model.address }),
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(from_model(model))
}

/// One subscriber.
pub async fn get(db: &DatabaseConnection, id: i64) -> Result<Option<Subscriber>, StoreError> {
    Ok(subscriber::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(from_model))
}

/// The subscriber with this kind and address.
pub async fn find(
    db: &DatabaseConnection,
    kind: &str,
    address: &str,
) -> Result<Option<Subscriber>, StoreError> {
    Ok(subscriber::Entity::find()
        .filter(subscriber::Column::Kind.eq(kind))
        .filter(subscriber::Column::Address.eq(address))
        .one(db)
        .await?
        .map(from_model))
}

/// Changes what a subscriber receives (the reader's own preferences page, or staff).
pub async fn set_preferences(
    db: &DatabaseConnection,
    id: i64,
    language: &str,
    services: &Option<Vec<String>>,
    by: Option<&Actor>,
    now: DateTime<Utc>,
) -> Result<Subscriber, WriteError> {
    let txn = crate::begin_write(db).await?;
    let services_json = check_services(&txn, services).await?;
    let m = subscriber::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(WriteError::NotFound)?;
    let mut am: subscriber::ActiveModel = m.into();
    am.language = Set(language.to_owned());
    am.services = Set(services_json);
    let m = am.update(&txn).await?;
    if let Some(actor) = by {
        audit::record(
            &txn,
            actor,
            "subscriber.edit",
            Some(("subscriber", id.to_string())),
            json!({ "language": language, "services": services }),
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(from_model(m))
}

/// Deletes a subscriber, its address and its pending messages (the reader unsubscribing, or
/// staff: `by`, audited). False when there was none.
pub async fn delete(
    db: &DatabaseConnection,
    id: i64,
    by: Option<&Actor>,
    now: DateTime<Utc>,
) -> Result<bool, WriteError> {
    let txn = crate::begin_write(db).await?;
    let Some(m) = subscriber::Entity::find_by_id(id).one(&txn).await? else {
        return Ok(false);
    };
    crate::entity::delivery::Entity::delete_many()
        .filter(crate::entity::delivery::Column::SubscriberId.eq(id))
        .exec(&txn)
        .await?;
    subscriber::Entity::delete_by_id(id).exec(&txn).await?;
    if let Some(actor) = by {
        // The audit log names the kind and id only: the address is gone with the row.
        audit::record(
            &txn,
            actor,
            "subscriber.delete",
            Some(("subscriber", id.to_string())),
            json!({ "kind": m.kind }),
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(true)
}

/// Resumes a paused webhook (staff).
pub async fn resume(
    db: &DatabaseConnection,
    id: i64,
    by: &Actor,
    now: DateTime<Utc>,
) -> Result<(), WriteError> {
    let txn = crate::begin_write(db).await?;
    let res = subscriber::Entity::update_many()
        .col_expr(
            subscriber::Column::PausedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(subscriber::Column::Failures, Expr::value(0))
        .filter(subscriber::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(WriteError::NotFound);
    }
    audit::record(
        &txn,
        by,
        "subscriber.resume",
        Some(("subscriber", id.to_string())),
        json!({}),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Subscribers of `kind` whose address contains `search`, by address, one page, and the total.
pub async fn list(
    db: &DatabaseConnection,
    kind: Option<&str>,
    search: Option<&str>,
    page: u64,
    per_page: u64,
) -> Result<(Vec<Subscriber>, u64), StoreError> {
    let mut q = subscriber::Entity::find();
    if let Some(k) = kind {
        q = q.filter(subscriber::Column::Kind.eq(k));
    }
    if let Some(s) = search.map(str::trim).filter(|s| !s.is_empty()) {
        q = q.filter(subscriber::Column::Address.contains(s.to_lowercase()));
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_asc(subscriber::Column::Address)
        .offset(page.saturating_mul(per_page))
        .limit(per_page)
        .all(db)
        .await?;
    Ok((rows.into_iter().map(from_model).collect(), total))
}

/// Every subscriber, by id (CSV export).
pub async fn all(db: &DatabaseConnection) -> Result<Vec<Subscriber>, StoreError> {
    Ok(subscriber::Entity::find()
        .order_by_asc(subscriber::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(from_model)
        .collect())
}

/// Confirmed subscribers per kind: (whole page, per service id).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub email: u64,
    pub webhook: u64,
    pub whole_page: u64,
    /// Service id → subscribers who chose it.
    pub per_service: std::collections::BTreeMap<String, u64>,
}

/// Counts for the console.
pub async fn counts(db: &DatabaseConnection) -> Result<Counts, StoreError> {
    let rows: Vec<(String, Option<String>)> = subscriber::Entity::find()
        .select_only()
        .column(subscriber::Column::Kind)
        .column(subscriber::Column::Services)
        .filter(subscriber::Column::ConfirmedAt.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    let mut c = Counts::default();
    for (kind, services) in rows {
        if kind == EMAIL {
            c.email += 1;
        } else {
            c.webhook += 1;
        }
        match services.and_then(|s| serde_json::from_str::<Vec<String>>(&s).ok()) {
            None => c.whole_page += 1,
            Some(list) => {
                for s in list {
                    *c.per_service.entry(s).or_default() += 1;
                }
            }
        }
    }
    Ok(c)
}

/// The live services readers may subscribe to, id and name, in page order.
pub async fn services(db: &DatabaseConnection) -> Result<Vec<(String, String)>, StoreError> {
    Ok(service::Entity::find()
        .filter(service::Column::ArchivedAt.is_null())
        .order_by_asc(service::Column::Position)
        .order_by_asc(service::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect())
}
