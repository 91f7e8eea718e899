//! A cheap fingerprint of everything the public side shows, so one watcher per process can
//! tell "something changed" with a handful of indexed aggregates, whoever wrote it (this
//! process's engine, staff in the console, the CLI, or another instance on the same database).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Func, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityName, IdenStatic};

use crate::entity::{incident, maintenance, manual_status, status_event};
use crate::StoreError;

/// Changes whenever a status, an incident (or one of its updates: posting or editing one
/// touches the incident), a maintenance window or a manual status changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Watermark {
    pub last_status_event: Option<i64>,
    pub incidents_updated: Option<DateTime<Utc>>,
    pub maintenance_updated: Option<DateTime<Utc>>,
    pub manual_statuses: i64,
    pub manual_set: Option<DateTime<Utc>>,
}

fn aggregate<E: EntityName + Default>(f: sea_orm::sea_query::FunctionCall) -> SelectStatement {
    Query::select().expr(f).from(E::default()).to_owned()
}

async fn one<T: sea_orm::TryGetable>(
    db: &DatabaseConnection,
    stmt: SelectStatement,
) -> Result<Option<T>, StoreError> {
    Ok(match db.query_one(&stmt).await? {
        Some(row) => row.try_get_by_index::<Option<T>>(0)?,
        None => None,
    })
}

fn col<C: IdenStatic + 'static>(c: C) -> Expr {
    Expr::col(c)
}

/// Reads the current watermark.
pub async fn watermark(db: &DatabaseConnection) -> Result<Watermark, StoreError> {
    Ok(Watermark {
        last_status_event: one(
            db,
            aggregate::<status_event::Entity>(Func::max(col(status_event::Column::Id))),
        )
        .await?,
        incidents_updated: one(
            db,
            aggregate::<incident::Entity>(Func::max(col(incident::Column::UpdatedAt))),
        )
        .await?,
        maintenance_updated: one(
            db,
            aggregate::<maintenance::Entity>(Func::max(col(maintenance::Column::UpdatedAt))),
        )
        .await?,
        manual_statuses: one(
            db,
            aggregate::<manual_status::Entity>(Func::count(col(manual_status::Column::ServiceId))),
        )
        .await?
        .unwrap_or(0),
        manual_set: one(
            db,
            aggregate::<manual_status::Entity>(Func::max(col(manual_status::Column::SetAt))),
        )
        .await?,
    })
}

/// Notifications of other instances' writes (PostgreSQL's `vigie_changes` channel, fed by
/// triggers on what the public side shows).
pub struct ChangeListener(sea_orm::sqlx::postgres::PgListener);

/// A listener on `vigie_changes`, on PostgreSQL; `None` on SQLite, which has no channel.
pub async fn change_listener(
    db: &DatabaseConnection,
) -> Result<Option<ChangeListener>, StoreError> {
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Ok(None);
    }
    let err = |e: sea_orm::sqlx::Error| {
        StoreError::Db(sea_orm::DbErr::Custom(format!("change listener: {e}")))
    };
    let mut l =
        sea_orm::sqlx::postgres::PgListener::connect_with(db.get_postgres_connection_pool())
            .await
            .map_err(err)?;
    l.listen("vigie_changes").await.map_err(err)?;
    Ok(Some(ChangeListener(l)))
}

impl ChangeListener {
    /// Waits for the next notification: some table the public side shows was written. An
    /// error means the connection is gone (notifications meanwhile are lost: look again).
    pub async fn recv(&mut self) -> Result<String, StoreError> {
        self.0
            .recv()
            .await
            .map(|n| n.payload().to_owned())
            .map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(format!("change listener: {e}"))))
    }
}
