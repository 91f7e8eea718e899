//! The SQL side of `vigie backup` and `vigie restore`: an online SQLite copy (`VACUUM INTO`),
//! a PostgreSQL snapshot that `pg_dump` can share (so the row counts recorded with a dump are
//! exactly the dump's), row counts per table, and the checks a restore makes first (is the
//! target empty, is a SQLite file sound). Running `pg_dump` itself is the caller's job.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;

use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DbBackend, IsolationLevel, Statement,
    TransactionOptions, TransactionTrait,
};

use crate::StoreError;

/// Row count of every table of the database (Vigie's and the migration table), by name.
pub type Counts = BTreeMap<String, u64>;

/// The tables of the current schema (SQLite's own `sqlite_*` tables left out), sorted.
pub async fn tables<C: ConnectionTrait>(db: &C) -> Result<Vec<String>, StoreError> {
    let sql = match db.get_database_backend() {
        DbBackend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             ORDER BY name"
        }
        _ => "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1",
    };
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    rows.iter()
        .map(|r| r.try_get_by_index::<String>(0).map_err(StoreError::from))
        .collect()
}

/// Counts the rows of every table, in one go on `db` (a transaction, for a consistent view).
pub async fn counts<C: ConnectionTrait>(db: &C) -> Result<Counts, StoreError> {
    let mut out = Counts::new();
    for table in tables(db).await? {
        // The name comes from the catalog tables, quoted as an identifier all the same.
        let sql = format!("SELECT COUNT(*) FROM \"{}\"", table.replace('"', "\"\""));
        let row = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("no count for table {table}")))?;
        let n: i64 = row.try_get_by_index(0)?;
        out.insert(table, u64::try_from(n).unwrap_or(0));
    }
    Ok(out)
}

/// Opens one SQLite file as it is, without the settings [`crate::connect`] applies (WAL would
/// be written into a read-only copy's header): for reading a backup or checking a scratch
/// copy.
pub async fn open_sqlite_file(
    path: &Path,
    read_only: bool,
) -> Result<DatabaseConnection, StoreError> {
    let mode = if read_only { "ro" } else { "rw" };
    let mut opts = sea_orm::ConnectOptions::new(format!("sqlite://{}?mode={mode}", path.display()));
    opts.sqlx_logging(false).max_connections(1);
    Ok(sea_orm::Database::connect(opts).await?)
}

/// Whether the database holds no table at all: the only state a restore writes into.
pub async fn is_empty(db: &DatabaseConnection) -> Result<bool, StoreError> {
    Ok(tables(db).await?.is_empty())
}

/// Writes a consistent copy of a live SQLite database to `out` with `VACUUM INTO`: readers
/// and writers go on meanwhile, and the copy is compact. `out` must not exist.
pub async fn sqlite_vacuum_into(db: &DatabaseConnection, out: &Path) -> Result<(), StoreError> {
    let path = out
        .to_str()
        .ok_or_else(|| StoreError::Corrupt("the backup path is not UTF-8".into()))?;
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Sqlite,
        "VACUUM INTO ?",
        [path.into()],
    ))
    .await?;
    Ok(())
}

/// SQLite's own check of a database file: `Ok(())` when `PRAGMA integrity_check` says "ok",
/// else the problems it lists.
pub async fn sqlite_integrity(db: &DatabaseConnection) -> Result<Result<(), String>, StoreError> {
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA integrity_check",
        ))
        .await?;
    let lines: Vec<String> = rows
        .iter()
        .filter_map(|r| r.try_get_by_index::<String>(0).ok())
        .collect();
    Ok(if lines.len() == 1 && lines[0] == "ok" {
        Ok(())
    } else {
        Err(lines.join("; "))
    })
}

/// Opens a read-only, repeatable-read PostgreSQL transaction, exports its snapshot, counts
/// every table's rows in it and runs `dump(snapshot_id)` (`pg_dump --snapshot=…`) while the
/// transaction stays open, so the counts describe exactly what the dump holds.
pub async fn postgres_with_snapshot<F, Fut, T>(
    db: &DatabaseConnection,
    dump: F,
) -> Result<(T, Counts), StoreError>
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = T>,
{
    let txn = db
        .begin_with_options(TransactionOptions {
            isolation_level: Some(IsolationLevel::RepeatableRead),
            access_mode: Some(AccessMode::ReadOnly),
            ..Default::default()
        })
        .await?;
    let row = txn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT pg_export_snapshot()",
        ))
        .await?
        .ok_or_else(|| StoreError::Corrupt("no snapshot exported".into()))?;
    let snapshot: String = row.try_get_by_index(0)?;
    let counts = counts(&txn).await?;
    let out = dump(snapshot).await;
    txn.commit().await?;
    Ok((out, counts))
}

/// Creates (`create = true`) or drops the PostgreSQL database `name` from a connection to
/// another database of the same server (a restore's scratch database).
pub async fn postgres_database(
    db: &DatabaseConnection,
    name: &str,
    create: bool,
) -> Result<(), StoreError> {
    let quoted = name.replace('"', "\"\"");
    let sql = if create {
        format!("CREATE DATABASE \"{quoted}\"")
    } else {
        format!("DROP DATABASE IF EXISTS \"{quoted}\"")
    };
    db.execute_unprepared(&sql).await?;
    Ok(())
}
