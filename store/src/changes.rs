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
