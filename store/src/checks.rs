//! Raw probe results: batched inserts and latest-result queries.

use chrono::{DateTime, Utc};
use domain::status::CheckOutcome;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect,
};

use crate::entity::{check_result, monitor};
use crate::StoreError;

/// One probe result to store.
#[derive(Clone, Debug, PartialEq)]
pub struct NewCheck {
    pub monitor_id: i64,
    pub location_id: String,
    pub checked_at: DateTime<Utc>,
    pub outcome: CheckOutcome,
    pub latency_ms: Option<i32>,
    pub status_code: Option<i32>,
    pub reason: Option<String>,
}

/// Writes a batch of results in one statement.
#[tracing::instrument(skip_all, fields(n = checks.len()))]
pub async fn record(db: &DatabaseConnection, checks: &[NewCheck]) -> Result<(), StoreError> {
    record_in(db, checks).await
}

/// [`record`] on any connection or transaction.
pub(crate) async fn record_in<C: ConnectionTrait>(
    db: &C,
    checks: &[NewCheck],
) -> Result<(), StoreError> {
    if checks.is_empty() {
        return Ok(());
    }
    let rows = checks.iter().map(|c| check_result::ActiveModel {
        monitor_id: Set(c.monitor_id),
        location_id: Set(c.location_id.clone()),
        checked_at: Set(c.checked_at),
        outcome: Set(c.outcome.as_str().to_owned()),
        latency_ms: Set(c.latency_ms),
        status_code: Set(c.status_code),
        reason: Set(c.reason.clone()),
        ..Default::default()
    });
    check_result::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The id of the active monitor stored under `key`.
pub async fn monitor_id(db: &DatabaseConnection, key: &str) -> Result<Option<i64>, StoreError> {
    Ok(monitor::Entity::find()
        .filter(monitor::Column::Key.eq(key))
        .filter(monitor::Column::ArchivedAt.is_null())
        .one(db)
        .await?
        .map(|m| m.id))
}

/// Ids of every active monitor by key (`service/<id>/<monitor>`, `host/<id>/<monitor>`).
pub async fn monitor_ids(
    db: &DatabaseConnection,
) -> Result<std::collections::HashMap<String, i64>, StoreError> {
    Ok(monitor::Entity::find()
        .filter(monitor::Column::ArchivedAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.key, m.id))
        .collect())
}

/// The newest result of each (monitor, location) pair.
pub async fn latest(db: &DatabaseConnection) -> Result<Vec<check_result::Model>, StoreError> {
    let ids: Vec<Option<i64>> = check_result::Entity::find()
        .select_only()
        .column_as(check_result::Column::Id.max(), "id")
        .group_by(check_result::Column::MonitorId)
        .group_by(check_result::Column::LocationId)
        .into_tuple()
        .all(db)
        .await?;
    let ids: Vec<i64> = ids.into_iter().flatten().collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(check_result::Entity::find()
        .filter(check_result::Column::Id.is_in(ids))
        .all(db)
        .await?)
}

/// How many results were checked in `[from, to)` (any monitor, any location).
pub async fn count_between(
    db: &DatabaseConnection,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> Result<u64, StoreError> {
    use sea_orm::PaginatorTrait;
    Ok(check_result::Entity::find()
        .filter(check_result::Column::CheckedAt.gte(from))
        .filter(check_result::Column::CheckedAt.lt(to))
        .count(db)
        .await?)
}
