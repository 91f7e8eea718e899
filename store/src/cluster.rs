//! Several `vigie serve` instances on one PostgreSQL database: a lock for start-up work
//! (migrations, catalog sync) and leases for once-per-cluster work.
//!
//! The start-up lock is a PostgreSQL session advisory lock held on one pooled connection for
//! as long as the work runs: three instances started together wait for each other and the
//! first one migrates. SQLite serves one instance and needs none.
//!
//! A lease is a row (`cluster_leases`) naming its holder and when it expires. One conditional
//! upsert takes or renews it, atomically on both databases: the row is written only when it
//! is new, held by the caller, or expired. A holder that dies stops renewing, and another
//! instance takes the lease once it has expired. Instances' clocks are compared, so they must
//! be kept in time (NTP), as for any server.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::sqlx;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter,
};

use crate::entity::cluster_lease;
use crate::StoreError;

/// The advisory lock key of start-up work ("Vigie" in ASCII, then 1).
const STARTUP_LOCK: i64 = 0x5669_6769_6501;

fn sqlx_err(e: sqlx::Error) -> StoreError {
    StoreError::Db(DbErr::Custom(format!("advisory lock: {e}")))
}

/// Held while start-up work runs; [`StartupLock::release`] lets the next instance in.
pub struct StartupLock {
    conn: Option<sqlx::pool::PoolConnection<sqlx::Postgres>>,
}

/// Waits until no other instance runs its start-up work, then holds the lock.
pub async fn startup_lock(db: &DatabaseConnection) -> Result<StartupLock, StoreError> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(StartupLock { conn: None });
    }
    let mut conn = db
        .get_postgres_connection_pool()
        .acquire()
        .await
        .map_err(sqlx_err)?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(STARTUP_LOCK)
        .execute(&mut *conn)
        .await
        .map_err(sqlx_err)?;
    Ok(StartupLock { conn: Some(conn) })
}

impl StartupLock {
    /// Releases the lock.
    pub async fn release(mut self) -> Result<(), StoreError> {
        if let Some(mut conn) = self.conn.take() {
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(STARTUP_LOCK)
                .execute(&mut *conn)
                .await
                .map_err(sqlx_err)?;
        }
        Ok(())
    }
}

impl Drop for StartupLock {
    /// A lock not released (an error on the way) must not go back to the pool with its
    /// connection: the connection is closed, which ends the session and so the lock.
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            drop(conn.detach());
        }
    }
}

/// Takes or renews the lease `name` for `holder` until `now + ttl`. True when `holder` holds
/// it now; false when another instance does and its lease has not expired.
pub async fn try_lease(
    db: &DatabaseConnection,
    name: &str,
    holder: &str,
    ttl: Duration,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let expires = now + chrono::TimeDelta::from_std(ttl).unwrap_or(chrono::TimeDelta::MAX);
    let mut insert = Query::insert();
    insert
        .into_table(cluster_lease::Entity)
        .columns([
            cluster_lease::Column::Name,
            cluster_lease::Column::Holder,
            cluster_lease::Column::ExpiresAt,
        ])
        .values([name.into(), holder.into(), expires.into()])
        .map_err(|e| StoreError::Corrupt(e.to_string()))?
        .on_conflict(
            OnConflict::column(cluster_lease::Column::Name)
                .update_columns([
                    cluster_lease::Column::Holder,
                    cluster_lease::Column::ExpiresAt,
                ])
                .action_and_where(
                    Expr::cust(r#""cluster_leases"."holder" = "excluded"."holder""#).or(Expr::col(
                        (cluster_lease::Entity, cluster_lease::Column::ExpiresAt),
                    )
                    .lt(now)),
                )
                .to_owned(),
        )
        .returning(Query::returning().column(cluster_lease::Column::Holder));
    Ok(!db.query_all(&insert).await?.is_empty())
}

/// Gives the lease up (on a clean stop), so another instance takes it at its next attempt.
pub async fn release_lease(
    db: &DatabaseConnection,
    name: &str,
    holder: &str,
) -> Result<(), StoreError> {
    cluster_lease::Entity::delete_many()
        .filter(cluster_lease::Column::Name.eq(name))
        .filter(cluster_lease::Column::Holder.eq(holder))
        .exec(db)
        .await?;
    Ok(())
}

/// Who holds the lease `name` and until when, if anyone ever took it.
pub async fn lease_holder(
    db: &DatabaseConnection,
    name: &str,
) -> Result<Option<(String, DateTime<Utc>)>, StoreError> {
    Ok(cluster_lease::Entity::find_by_id(name.to_owned())
        .one(db)
        .await?
        .map(|l| (l.holder, l.expires_at)))
}
