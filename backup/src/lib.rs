//! `vigie backup` and `vigie restore`: backups of Vigie's own database, and the proof that
//! they restore.
//!
//! - SQLite: `VACUUM INTO` writes a consistent, compact copy while the server keeps running.
//! - PostgreSQL: `pg_dump --format=custom` (it must be on PATH), run on a snapshot exported by
//!   a read-only transaction that also counts every table's rows, so the counts describe
//!   exactly what the dump holds.
//!
//! Beside `FILE`, `FILE.manifest.json` records the database kind, size, SHA-256 and the row
//! count of every table. `vigie restore FILE --verify` restores into a scratch database (a
//! temporary SQLite file, or a temporary database on the configured PostgreSQL server) and
//! compares its row counts with the manifest, table by table. Without `--verify`, `restore`
//! writes into the configured database only when it holds no table at all.
//!
//! `--report-to URL` sends the outcome to one of Vigie's own push monitors (flavour
//! `backup`): a backup that failed, or did not restore, turns that monitor down at once.

mod making;
mod report;
mod restoring;
mod urls;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use store::backup::Counts;

use making::make_backup;
use report::{redact, report_payload, send_report};
use restoring::{print_comparison, restore_into, verify_backup};

/// What the manifest beside a backup says.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// `vigie-backup/1`.
    pub format: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub bytes: u64,
    pub sha256: String,
    /// Row count of every table at the moment of the copy.
    pub tables: Counts,
}

pub(crate) const FORMAT: &str = "vigie-backup/1";

/// The manifest's path for the backup `file`: `FILE.manifest.json`.
pub fn manifest_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".manifest.json");
    PathBuf::from(name)
}

/// `vigie backup`: copies the database to `out` (and its manifest), verifies the copy when
/// asked (always when reporting), and reports to a push monitor.
pub async fn backup(
    database_url: &str,
    out: &Path,
    verify: bool,
    report_to: Option<&str>,
) -> ExitCode {
    let started = Instant::now();
    let made = make_backup(database_url, out).await;
    let verify = verify || report_to.is_some();
    let checked = match (&made, verify) {
        (Ok(_), true) => Some(verify_backup(database_url, out).await),
        _ => None,
    };
    let mut failed = false;
    match &made {
        Ok(m) => eprintln!(
            "backup written: {} ({} bytes, sha256 {}, {} tables, {} rows) in {:.1} s",
            out.display(),
            m.bytes,
            m.sha256,
            m.tables.len(),
            m.tables.values().sum::<u64>(),
            started.elapsed().as_secs_f64()
        ),
        Err(e) => {
            eprintln!("error: the backup failed: {e:#}");
            failed = true;
        }
    }
    match &checked {
        Some(Ok(v)) => {
            print_comparison(&v.rows);
            if v.matches() {
                eprintln!(
                    "verified: restored in {:.1} s, every count matches",
                    v.seconds
                );
            } else {
                eprintln!("error: the restored copy differs from the backup (see above)");
                failed = true;
            }
        }
        Some(Err(e)) => {
            eprintln!("error: the backup does not restore: {e:#}");
            failed = true;
        }
        None => {}
    }
    if let Some(url) = report_to {
        let payload = report_payload(&made, checked.as_ref());
        match send_report(url, &payload).await {
            Ok(()) => eprintln!("reported to the push monitor"),
            Err(e) => {
                eprintln!("error: cannot report to {}: {e:#}", redact(url));
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// `vigie restore FILE [--verify]`.
pub async fn restore(database_url: &str, file: &Path, verify: bool) -> ExitCode {
    let result = if verify {
        verify_backup(database_url, file).await.map(|v| {
            print_comparison(&v.rows);
            if v.matches() {
                eprintln!(
                    "verified: {} restores ({} tables) in {:.1} s, every count matches",
                    file.display(),
                    v.rows.len(),
                    v.seconds
                );
                true
            } else {
                eprintln!("error: the restored copy differs from the manifest (see above)");
                false
            }
        })
    } else {
        restore_into(database_url, file).await.map(|()| true)
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
