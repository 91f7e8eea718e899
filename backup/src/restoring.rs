//! Restoring a backup: into the configured database when it holds no table, or into a
//! scratch database to compare its row counts with the manifest (`--verify`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, ensure, Context};
use store::backup::Counts;

use crate::making::{digest, partial_path};
use crate::urls::{is_sqlite, sqlite_file, tool};
use crate::{manifest_path, Manifest, FORMAT};

/// One table's row count in the manifest and in the restored copy.
pub(crate) struct Row {
    table: String,
    expected: Option<u64>,
    restored: Option<u64>,
}

pub(crate) struct Verified {
    pub(crate) rows: Vec<Row>,
    pub(crate) seconds: f64,
}

impl Verified {
    pub(crate) fn matches(&self) -> bool {
        self.rows.iter().all(|r| r.expected == r.restored)
    }
}

pub(crate) fn compare(expected: &Counts, restored: &Counts) -> Vec<Row> {
    let mut tables: Vec<&String> = expected.keys().chain(restored.keys()).collect();
    tables.sort();
    tables.dedup();
    tables
        .into_iter()
        .map(|t| Row {
            table: t.clone(),
            expected: expected.get(t).copied(),
            restored: restored.get(t).copied(),
        })
        .collect()
}

pub(crate) fn print_comparison(rows: &[Row]) {
    let show = |n: Option<u64>| n.map_or("missing".to_owned(), |n| n.to_string());
    println!("{:<32} {:>12} {:>12}", "table", "backup", "restored");
    for r in rows {
        println!(
            "{:<32} {:>12} {:>12}{}",
            r.table,
            show(r.expected),
            show(r.restored),
            if r.expected == r.restored {
                ""
            } else {
                "  DIFFERS"
            }
        );
    }
}

/// Which database a backup file is, from its first bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Sqlite,
    Postgres,
}

pub(crate) fn kind_of(file: &Path) -> anyhow::Result<Kind> {
    use std::io::Read;
    let mut head = [0u8; 16];
    let mut f =
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let n = f.read(&mut head)?;
    if head[..n].starts_with(b"SQLite format 3\0") {
        Ok(Kind::Sqlite)
    } else if head[..n].starts_with(b"PGDMP") {
        Ok(Kind::Postgres)
    } else {
        bail!(
            "{} is neither a SQLite database nor a pg_dump archive: not a Vigie backup",
            file.display()
        )
    }
}

/// Reads the manifest and checks the file against its size and SHA-256.
pub(crate) fn read_manifest(file: &Path) -> anyhow::Result<Manifest> {
    let path = manifest_path(file);
    let text = std::fs::read(&path).with_context(|| {
        format!(
            "cannot read {} (written by `vigie backup` beside the backup): the counts to \
             compare with are unknown",
            path.display()
        )
    })?;
    let m: Manifest = serde_json::from_slice(&text)
        .with_context(|| format!("{} is not a backup manifest", path.display()))?;
    ensure!(
        m.format == FORMAT,
        "{}: unknown format `{}`",
        path.display(),
        m.format
    );
    let (bytes, sha256) = digest(file)?;
    ensure!(
        bytes == m.bytes && sha256 == m.sha256,
        "{} does not match its manifest ({bytes} bytes, sha256 {sha256}; the manifest says {} \
         bytes, sha256 {}): the file was changed or truncated",
        file.display(),
        m.bytes,
        m.sha256
    );
    Ok(m)
}

/// Restores `file` into a scratch database and compares its row counts with the manifest.
pub(crate) async fn verify_backup(database_url: &str, file: &Path) -> anyhow::Result<Verified> {
    let manifest = read_manifest(file)?;
    let started = Instant::now();
    let restored = match kind_of(file)? {
        Kind::Sqlite => {
            let dir = tempfile::tempdir().context("cannot create a scratch directory")?;
            let scratch = dir.path().join("restore-check.db");
            std::fs::copy(file, &scratch).context("cannot copy the backup")?;
            let db = store::backup::open_sqlite_file(&scratch, false).await?;
            if let Err(problems) = store::backup::sqlite_integrity(&db).await? {
                bail!("SQLite's integrity check fails: {problems}");
            }
            let counts = store::backup::counts(&db).await?;
            db.close().await.ok();
            counts
        }
        Kind::Postgres => {
            ensure!(
                !is_sqlite(database_url),
                "a PostgreSQL backup is restored on a PostgreSQL server: pass its URL with \
                 --database-url (a scratch database is created there, then dropped)"
            );
            let pg_restore = tool("pg_restore")?;
            let admin = store::connect(database_url).await?;
            let name = format!(
                "vigie_restore_check_{}_{}",
                std::process::id(),
                chrono::Utc::now().timestamp_millis()
            );
            store::backup::postgres_database(&admin, &name, true)
                .await
                .context("cannot create the scratch database (the role needs CREATEDB)")?;
            let scratch_url = store::with_database(database_url, &name);
            let counts = async {
                run_pg_restore(pg_restore, &scratch_url, file).await?;
                let db = store::connect(&scratch_url).await?;
                let counts = store::backup::counts(&db).await;
                db.close().await.ok();
                anyhow::Ok(counts?)
            }
            .await;
            if let Err(e) = store::backup::postgres_database(&admin, &name, false).await {
                eprintln!("warning: cannot drop the scratch database {name}: {e}");
            }
            admin.close().await.ok();
            counts?
        }
    };
    Ok(Verified {
        rows: compare(&manifest.tables, &restored),
        seconds: started.elapsed().as_secs_f64(),
    })
}

pub(crate) async fn run_pg_restore(
    pg_restore: &'static str,
    url: &str,
    file: &Path,
) -> anyhow::Result<()> {
    let (url, file) = (url.to_owned(), file.to_owned());
    let status = tokio::task::spawn_blocking(move || {
        std::process::Command::new(pg_restore)
            .args([
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--dbname",
            ])
            .arg(url)
            .arg(file)
            .status()
    })
    .await
    .context("pg_restore did not finish")?
    .context("cannot run pg_restore")?;
    ensure!(status.success(), "pg_restore failed ({status})");
    Ok(())
}

/// Restores `file` into the configured database, which must hold no table.
pub(crate) async fn restore_into(database_url: &str, file: &Path) -> anyhow::Result<()> {
    let manifest = read_manifest(file)?;
    let kind = kind_of(file)?;
    match (kind, is_sqlite(database_url)) {
        (Kind::Sqlite, false) => bail!(
            "{} is a SQLite backup and the configured database is PostgreSQL: restore it into \
             a SQLite database (--database-url sqlite://FILE?mode=rwc)",
            file.display()
        ),
        (Kind::Postgres, true) => bail!(
            "{} is a PostgreSQL backup and the configured database is SQLite: pass a \
             PostgreSQL --database-url",
            file.display()
        ),
        _ => {}
    }
    let target_db = store::connect(database_url)
        .await
        .context("cannot connect to the database")?;
    let empty = store::backup::is_empty(&target_db).await?;
    target_db.close().await.ok();
    ensure!(
        empty,
        "the configured database already holds tables: restore refuses to write over it. \
         Restore into a new, empty database (or check a backup with --verify, which touches \
         nothing)"
    );
    match kind {
        Kind::Sqlite => {
            let target = sqlite_file(database_url)
                .context("cannot tell the SQLite file from --database-url")?;
            // An empty database may still have its write-ahead log beside it: it would be
            // replayed over the restored file.
            for suffix in ["-wal", "-shm"] {
                let mut p = target.as_os_str().to_owned();
                p.push(suffix);
                let _ = std::fs::remove_file(PathBuf::from(p));
            }
            let partial = partial_path(&target)?;
            std::fs::copy(file, &partial).context("cannot copy the backup")?;
            std::fs::rename(&partial, &target)
                .with_context(|| format!("cannot write {}", target.display()))?;
        }
        Kind::Postgres => run_pg_restore(tool("pg_restore")?, database_url, file).await?,
    }
    let db = store::connect(database_url).await?;
    let rows = compare(&manifest.tables, &store::backup::counts(&db).await?);
    db.close().await.ok();
    print_comparison(&rows);
    ensure!(
        rows.iter().all(|r| r.expected == r.restored),
        "the restored database differs from the manifest (see above)"
    );
    eprintln!(
        "restored {} into the configured database; every count matches",
        file.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_difference_in_one_table_fails_the_comparison() {
        let a: Counts = [("x".to_owned(), 3), ("y".to_owned(), 1)].into();
        let mut b = a.clone();
        assert!(Verified {
            rows: compare(&a, &b),
            seconds: 0.0
        }
        .matches());
        b.insert("y".into(), 0);
        assert!(!Verified {
            rows: compare(&a, &b),
            seconds: 0.0
        }
        .matches());
        b.remove("y");
        assert!(!Verified {
            rows: compare(&a, &b),
            seconds: 0.0
        }
        .matches());
    }
}
