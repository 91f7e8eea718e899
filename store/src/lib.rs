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
pub mod entity;
pub mod feeds;
pub mod history;
pub mod incidents;
pub mod instance_key;
pub mod maintenance;
pub mod outbox;
pub mod overview;
pub mod probe_leases;
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
    /// A secret sealed with the instance key does not open with the key this process has
    /// (`instance_key`): the message says whose and what to do, never a value.
    #[error("{0}")]
    Sealed(String),
}

/// The default database: SQLite `vigie.db` in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://vigie.db?mode=rwc";

/// Prepared statements kept per connection of the pool. The probe engine's batch writes are
/// statements of up to 500 rows (hundreds of KB once prepared) in several sizes, and the
/// driver's default of 100 per connection held 100 to 150 MB with 100,000 monitors
/// (`make bench-probes`, SQLite: peak RSS 607 MB against 488 MB with 8, CPU per check the
/// same within the machine's noise). The most used statements stay prepared.
const STATEMENT_CACHE: usize = 8;

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
                .statement_cache_capacity(STATEMENT_CACHE)
        });
    } else {
        opts.map_sqlx_postgres_opts(|o| o.statement_cache_capacity(STATEMENT_CACHE));
    }
    // The driver's errors quote the URL whole, password included ("The connection string
    // 'postgres://user:secret@…' cannot be parsed"), and they reach terminals and logs.
    Database::connect(opts).await.map_err(|e| {
        StoreError::Db(sea_orm::DbErr::Conn(sea_orm::RuntimeErr::Internal(
            redact_url_in(&e.to_string(), url),
        )))
    })
}

/// `url` with its password (and any `password=` query value) replaced by `***`, for messages.
/// Works on text that does not parse as a URL too: whatever lies between the user name and
/// the last `@` is hidden (more than the password, never less).
pub fn redact_url(url: &str) -> String {
    let mut out = match url.split_once("://") {
        Some((scheme, rest)) => match rest.rfind('@') {
            Some(at) => {
                let userinfo = &rest[..at];
                let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
                let hidden = if userinfo.contains(':') { ":***" } else { "" };
                format!("{scheme}://{user}{hidden}@{}", &rest[at + 1..])
            }
            None => url.to_owned(),
        },
        None => url.to_owned(),
    };
    for key in ["password=", "passwd=", "pass="] {
        let mut from = 0;
        while let Some(i) = out[from..].find(key).map(|i| i + from + key.len()) {
            let end = out[i..].find('&').map_or(out.len(), |e| e + i);
            out.replace_range(i..end, "***");
            from = i + 3;
        }
    }
    out
}

/// `url` (`postgres://user@host:port/db?opts`) naming database `name` instead: the scratch
/// database a restore is verified in, a test's own database.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(i) => &base[..authority_start + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// `text` with every appearance of `url`, and of the password it carries, redacted.
fn redact_url_in(text: &str, url: &str) -> String {
    let mut out = text.replace(url, &redact_url(url));
    if let Some((_, rest)) = url.split_once("://") {
        if let Some(at) = rest.rfind('@') {
            if let Some((_, password)) = rest[..at].split_once(':') {
                if !password.is_empty() {
                    out = out.replace(password, "***");
                }
            }
        }
    }
    out
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

#[cfg(test)]
mod redact_tests {
    use super::redact_url;

    #[test]
    fn passwords_never_survive_redaction() {
        for (url, shown) in [
            (
                "postgres://bob:s3cretPW@db.internal:5432/vigie",
                "postgres://bob:***@db.internal:5432/vigie",
            ),
            ("postgres://bob:s3cret PW@@/db", "postgres://bob:***@/db"),
            ("postgres://bob@h/db", "postgres://bob@h/db"),
            (
                "postgres://h/db?user=bob&password=s3cretPW&sslmode=require",
                "postgres://h/db?user=bob&password=***&sslmode=require",
            ),
            ("sqlite://vigie.db?mode=rwc", "sqlite://vigie.db?mode=rwc"),
            ("not a url s3cretPW", "not a url s3cretPW"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    #[test]
    fn another_database_keeps_the_options() {
        assert_eq!(
            super::with_database("postgres://v@127.0.0.1:5/vigie?sslmode=disable", "tmp"),
            "postgres://v@127.0.0.1:5/tmp?sslmode=disable"
        );
        assert_eq!(
            super::with_database("postgres://v@127.0.0.1:5", "tmp"),
            "postgres://v@127.0.0.1:5/tmp"
        );
    }
}
