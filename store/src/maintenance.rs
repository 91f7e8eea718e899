//! Maintenance windows: scheduling one with its services and message, the time-driven
//! scheduled → in_progress → completed moves (with `now` passed in), and the reads the public
//! page, feeds and iCal make. Reads compute the status at `now`, so they are right even before
//! [`advance`] has persisted a move.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::incident::{AffectedService, MaintenanceStatus, MaintenanceView};
use domain::status::ComponentStatus;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::json;

use crate::audit::{self, Actor, WriteError};
use crate::entity::{maintenance, maintenance_service, service};
use crate::incidents::Message;
use crate::outbox::announce::MaintenanceMove;
use crate::StoreError;

/// A window to schedule.
#[derive(Clone, Debug)]
pub struct NewMaintenance {
    pub title: String,
    pub message: Message,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub services: Vec<String>,
}

/// A status move that [`advance`] persisted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    pub id: i64,
    pub from: MaintenanceStatus,
    pub to: MaintenanceStatus,
}

/// Schedules a window.
#[tracing::instrument(skip_all, fields(title = %new.title))]
pub async fn schedule(
    db: &DatabaseConnection,
    new: &NewMaintenance,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<MaintenanceView, WriteError> {
    let title = new.title.trim();
    if title.is_empty() {
        return Err(WriteError::Invalid("title"));
    }
    crate::audit::limit("title", title, domain::limits::TITLE)?;
    crate::audit::limit("message", &new.message.markdown, domain::limits::MESSAGE)?;
    if new.ends_at <= new.starts_at {
        return Err(WriteError::Invalid("ends_at"));
    }
    let txn = crate::begin_write(db).await?;
    for id in &new.services {
        let live = service::Entity::find_by_id(id.clone())
            .one(&txn)
            .await?
            .is_some_and(|s| s.archived_at.is_none());
        if !live {
            return Err(WriteError::UnknownService(id.clone()));
        }
    }
    let status = MaintenanceStatus::Scheduled.at(new.starts_at, new.ends_at, now);
    let m = maintenance::ActiveModel {
        title: Set(title.to_owned()),
        message_md: Set(new.message.markdown.clone()),
        message_html: Set(new.message.html.clone()),
        status: Set(status.as_str().to_owned()),
        starts_at: Set(new.starts_at),
        ends_at: Set(new.ends_at),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut services = new.services.clone();
    services.sort();
    services.dedup();
    if !services.is_empty() {
        maintenance_service::Entity::insert_many(services.iter().map(|s| {
            maintenance_service::ActiveModel {
                maintenance_id: Set(m.id),
                service_id: Set(s.clone()),
            }
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    audit::record(
        &txn,
        actor,
        "maintenance.create",
        Some(("maintenance", m.id.to_string())),
        json!({ "title": title, "starts_at": new.starts_at, "ends_at": new.ends_at,
                "services": services }),
        now,
    )
    .await?;
    crate::outbox::announce::queue_maintenance(&txn, m.id, MaintenanceMove::Scheduled, now).await?;
    if status != MaintenanceStatus::Scheduled {
        crate::outbox::announce::queue_maintenance(&txn, m.id, announced(status), now).await?;
    }
    txn.commit().await?;
    get(db, m.id, now).await?.ok_or(WriteError::NotFound)
}

/// Sets a window's status by hand (e.g. `verifying`, or `completed` early).
#[tracing::instrument(skip(db, actor))]
pub async fn set_status(
    db: &DatabaseConnection,
    id: i64,
    status: MaintenanceStatus,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<MaintenanceView, WriteError> {
    let txn = crate::begin_write(db).await?;
    let m = maintenance::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(WriteError::NotFound)?;
    let from = m.status.clone();
    if from == MaintenanceStatus::Completed.as_str() && status != MaintenanceStatus::Completed {
        return Err(WriteError::Invalid("status"));
    }
    let mut am: maintenance::ActiveModel = m.into();
    am.status = Set(status.as_str().to_owned());
    am.updated_at = Set(now);
    if status == MaintenanceStatus::Completed {
        // Ending early shortens the window, so it stops counting as maintenance now.
        if let sea_orm::ActiveValue::Unchanged(end) = &am.ends_at {
            if *end > now {
                am.ends_at = Set(now);
            }
        }
    }
    am.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        "maintenance.status",
        Some(("maintenance", id.to_string())),
        json!({ "from": from, "to": status.as_str() }),
        now,
    )
    .await?;
    if from != status.as_str()
        && matches!(
            status,
            MaintenanceStatus::InProgress | MaintenanceStatus::Completed
        )
    {
        crate::outbox::announce::queue_maintenance(&txn, id, announced(status), now).await?;
    }
    txn.commit().await?;
    get(db, id, now).await?.ok_or(WriteError::NotFound)
}

/// Persists the moves that time made by `now` (scheduled → in_progress → completed) and
/// returns them, each audited as done by Vigie. Safe to run on every instance: a move is
/// applied only if the row still has the status it was read with.
#[tracing::instrument(skip(db))]
pub async fn advance(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<Vec<Transition>, StoreError> {
    let pending = maintenance::Entity::find()
        .filter(maintenance::Column::Status.ne(MaintenanceStatus::Completed.as_str()))
        .filter(maintenance::Column::StartsAt.lte(now))
        .all(db)
        .await?;
    let mut moves = Vec::new();
    for m in pending {
        let from = MaintenanceStatus::parse(&m.status)
            .ok_or_else(|| StoreError::Corrupt(format!("maintenance {}: {}", m.id, m.status)))?;
        let to = from.at(m.starts_at, m.ends_at, now);
        if to == from {
            continue;
        }
        let txn = crate::begin_write(db).await?;
        let res = maintenance::Entity::update_many()
            .col_expr(
                maintenance::Column::Status,
                sea_orm::sea_query::Expr::value(to.as_str()),
            )
            .col_expr(
                maintenance::Column::UpdatedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(maintenance::Column::Id.eq(m.id))
            .filter(maintenance::Column::Status.eq(from.as_str()))
            .exec(&txn)
            .await?;
        if res.rows_affected == 1 {
            audit::record(
                &txn,
                &Actor::system(),
                "maintenance.status",
                Some(("maintenance", m.id.to_string())),
                json!({ "from": from.as_str(), "to": to.as_str() }),
                now,
            )
            .await?;
            if matches!(
                to,
                MaintenanceStatus::InProgress | MaintenanceStatus::Completed
            ) {
                crate::outbox::announce::queue_maintenance(&txn, m.id, announced(to), now).await?;
            }
            moves.push(Transition { id: m.id, from, to });
        }
        txn.commit().await?;
    }
    Ok(moves)
}

/// The announcement a window reaching `status` makes (only in progress and completed are
/// announced after scheduling).
fn announced(status: MaintenanceStatus) -> MaintenanceMove {
    match status {
        MaintenanceStatus::Completed => MaintenanceMove::Completed,
        MaintenanceStatus::Scheduled => MaintenanceMove::Scheduled,
        _ => MaintenanceMove::Started,
    }
}

/// The services of each window in `ids`, with their names, as readers see them.
pub(crate) async fn affected_services(
    db: &DatabaseConnection,
    ids: Vec<i64>,
) -> Result<HashMap<i64, Vec<AffectedService>>, StoreError> {
    let names: HashMap<String, String> = service::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let mut services: HashMap<i64, Vec<AffectedService>> = HashMap::new();
    for row in maintenance_service::Entity::find()
        .filter(maintenance_service::Column::MaintenanceId.is_in(ids))
        .order_by_asc(maintenance_service::Column::ServiceId)
        .all(db)
        .await?
    {
        services
            .entry(row.maintenance_id)
            .or_default()
            .push(AffectedService {
                name: names
                    .get(&row.service_id)
                    .cloned()
                    .unwrap_or_else(|| row.service_id.clone()),
                service_id: row.service_id,
                status: ComponentStatus::UnderMaintenance,
            });
    }
    Ok(services)
}

async fn views(
    db: &DatabaseConnection,
    rows: Vec<maintenance::Model>,
    now: DateTime<Utc>,
) -> Result<Vec<MaintenanceView>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|m| m.id).collect();
    let mut services = affected_services(db, ids).await?;
    rows.into_iter()
        .map(|m| {
            let stored = MaintenanceStatus::parse(&m.status).ok_or_else(|| {
                StoreError::Corrupt(format!("maintenance {}: {}", m.id, m.status))
            })?;
            let status = stored.at(m.starts_at, m.ends_at, now);
            Ok(MaintenanceView {
                services: services.remove(&m.id).unwrap_or_default(),
                id: m.id,
                title: m.title,
                message_md: m.message_md,
                message_html: m.message_html,
                status,
                starts_at: m.starts_at,
                ends_at: m.ends_at,
                created_at: m.created_at,
                updated_at: m.updated_at,
            })
        })
        .collect()
}

/// One window, with its status at `now`.
pub async fn get(
    db: &DatabaseConnection,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Option<MaintenanceView>, StoreError> {
    let Some(m) = maintenance::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    Ok(views(db, vec![m], now).await?.pop())
}

/// Windows in progress (or verifying) at `now`, earliest first.
pub async fn active(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<Vec<MaintenanceView>, StoreError> {
    let rows = maintenance::Entity::find()
        .filter(maintenance::Column::StartsAt.lte(now))
        .filter(maintenance::Column::EndsAt.gt(now))
        .filter(maintenance::Column::Status.ne(MaintenanceStatus::Completed.as_str()))
        .order_by_asc(maintenance::Column::StartsAt)
        .all(db)
        .await?;
    views(db, rows, now).await
}

/// Windows that overlap `[from, to]`, whatever their status now (a window completed early
/// ends when it was completed), earliest first: what was maintenance at some time in the past.
pub async fn overlapping(
    db: &DatabaseConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<MaintenanceView>, StoreError> {
    let rows = maintenance::Entity::find()
        .filter(maintenance::Column::StartsAt.lte(to))
        .filter(maintenance::Column::EndsAt.gt(from))
        .order_by_asc(maintenance::Column::StartsAt)
        .all(db)
        .await?;
    views(db, rows, to).await
}

/// Windows that have not started at `now`, soonest first.
pub async fn upcoming(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<Vec<MaintenanceView>, StoreError> {
    let rows = maintenance::Entity::find()
        .filter(maintenance::Column::StartsAt.gt(now))
        .filter(maintenance::Column::Status.ne(MaintenanceStatus::Completed.as_str()))
        .order_by_asc(maintenance::Column::StartsAt)
        .all(db)
        .await?;
    views(db, rows, now).await
}

/// All windows, latest start first, `offset` skipped, at most `limit` (console, iCal).
pub async fn recent(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    offset: u64,
    limit: u64,
) -> Result<Vec<MaintenanceView>, StoreError> {
    let rows = maintenance::Entity::find()
        .order_by_desc(maintenance::Column::StartsAt)
        .order_by_desc(maintenance::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    views(db, rows, now).await
}
