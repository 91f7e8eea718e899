//! Vigie's storage: sea-orm entities and every query. The only crate that writes SQL.
//!
//! Functions take the connection first and plain domain values after it, and return domain
//! values or `StoreError`; nothing here knows about HTTP.

pub mod agents;
pub mod alerts;
pub mod api_read;
pub mod audit;
pub mod availability;
pub mod backup;
pub mod catalog;
pub mod changes;
pub mod checks;
pub mod cluster;
/// Incident drafts, a part of incidents kept at their old path.
pub use incidents::drafts;
pub mod entity;
pub mod feeds;
pub mod history;
pub mod incidents;
pub mod maintenance;
pub mod outbox;
pub mod overview;
pub mod public_pages;
pub mod push;
pub mod service_page;
pub mod sessions;
pub mod status;
pub mod subscribers;
pub mod tokens;
pub mod users;

use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};

pub use sea_orm::DatabaseConnection as Db;

/// Errors from the store. The text of a database error is for logs, never for a browser.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
}

/// The default database: SQLite `vigie.db` in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://vigie.db?mode=rwc";

/// Opens a pool on `url` (`sqlite://…` or `postgres://…`). SQLite runs in WAL mode with a busy
/// timeout, so page reads never wait behind probe writes.
pub async fn connect(url: &str) -> Result<DatabaseConnection, StoreError> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5));
    if url.starts_with("sqlite:") {
        opts.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
        });
    }
    Ok(Database::connect(opts).await?)
}

/// Starts a write transaction. On SQLite it takes the write lock at `BEGIN` (`IMMEDIATE`):
/// a deferred transaction that reads and then writes while another connection writes fails
/// at once with "database is locked", whatever the busy timeout; an immediate one waits its
/// turn under the busy timeout. PostgreSQL ignores the option.
pub(crate) async fn begin_write(
    db: &DatabaseConnection,
) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Applies every pending migration. On PostgreSQL this runs under the cluster's start-up
/// lock, so instances started together migrate once, one after the other.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), StoreError> {
    let lock = cluster::startup_lock(db).await?;
    Migrator::up(db, None).await?;
    lock.release().await
}

/// Names of the migrations applied so far, oldest first.
pub async fn applied_migrations(db: &DatabaseConnection) -> Result<Vec<String>, StoreError> {
    Ok(Migrator::get_applied_migrations(db)
        .await?
        .into_iter()
        .map(|m| m.name().to_owned())
        .collect())
}

/// A cheap round trip to the database, for `/readyz`.
pub async fn ping(db: &DatabaseConnection) -> Result<(), StoreError> {
    db.execute_unprepared("SELECT 1").await?;
    Ok(())
}

/// `sqlite` or `postgres`, for logs and readiness output.
pub fn backend_name(db: &DatabaseConnection) -> &'static str {
    match db.get_database_backend() {
        DbBackend::Sqlite => "sqlite",
        DbBackend::Postgres => "postgres",
        _ => "other",
    }
}
