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

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, ensure, Context};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use store::backup::Counts;

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

const FORMAT: &str = "vigie-backup/1";

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

// ---------------------------------------------------------------------------------------------
// Making a backup
// ---------------------------------------------------------------------------------------------

async fn make_backup(database_url: &str, out: &Path) -> anyhow::Result<Manifest> {
    let db = store::connect(database_url)
        .await
        .context("cannot connect to the database")?;
    ensure!(
        !store::backup::is_empty(&db).await?,
        "the database holds no table: nothing to back up (is --database-url right?)"
    );
    let partial = partial_path(out)?;
    let _ = std::fs::remove_file(&partial);
    let written = async {
        let (database, tables) = if is_sqlite(database_url) {
            store::backup::sqlite_vacuum_into(&db, &partial)
                .await
                .context("VACUUM INTO failed")?;
            // The counts are read from the copy itself: exactly what it holds.
            let copy = store::backup::open_sqlite_file(&partial, true)
                .await
                .context("cannot open the copy")?;
            let counts = store::backup::counts(&copy).await?;
            copy.close().await.ok();
            ("sqlite", counts)
        } else {
            let pg_dump = tool("pg_dump")?;
            let (status, counts) = store::backup::postgres_with_snapshot(&db, |snapshot| {
                let partial = partial.clone();
                let url = database_url.to_owned();
                // A child process waited for on the blocking pool (tokio's `process`
                // feature is not built).
                tokio::task::spawn_blocking(move || {
                    std::process::Command::new(pg_dump)
                        .arg("--format=custom")
                        .arg(format!("--snapshot={snapshot}"))
                        .arg("--file")
                        .arg(&partial)
                        .arg("--dbname")
                        .arg(url)
                        .status()
                })
            })
            .await?;
            let status = status
                .context("pg_dump did not finish")?
                .context("cannot run pg_dump")?;
            ensure!(status.success(), "pg_dump failed ({status})");
            ("postgres", counts)
        };
        let (bytes, sha256) = digest(&partial)?;
        let manifest = Manifest {
            format: FORMAT.into(),
            database: database.into(),
            created_at: chrono::Utc::now(),
            bytes,
            sha256,
            tables,
        };
        std::fs::write(
            manifest_path(&partial),
            serde_json::to_vec_pretty(&manifest)?,
        )?;
        anyhow::Ok(manifest)
    }
    .await;
    db.close().await.ok();
    match written {
        Ok(m) => {
            // The manifest lands first: a backup file is never seen without its manifest.
            std::fs::rename(manifest_path(&partial), manifest_path(out))
                .with_context(|| format!("cannot write {}", manifest_path(out).display()))?;
            std::fs::rename(&partial, out)
                .with_context(|| format!("cannot write {}", out.display()))?;
            Ok(m)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            let _ = std::fs::remove_file(manifest_path(&partial));
            Err(e)
        }
    }
}

/// A hidden file beside `out` that is renamed over it once complete.
fn partial_path(out: &Path) -> anyhow::Result<PathBuf> {
    let name = out
        .file_name()
        .with_context(|| format!("--out {} names no file", out.display()))?;
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    ensure!(
        dir.is_dir(),
        "the directory {} does not exist",
        dir.display()
    );
    let mut partial = std::ffi::OsString::from(".");
    partial.push(name);
    partial.push(format!(".partial-{}", std::process::id()));
    Ok(dir.join(partial))
}

/// Size and SHA-256 (hex) of a file, read in chunks.
fn digest(path: &Path) -> anyhow::Result<(u64, String)> {
    use std::io::Read;
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((bytes, hex::encode(hasher.finalize())))
}

// ---------------------------------------------------------------------------------------------
// Restoring
// ---------------------------------------------------------------------------------------------

/// One table's row count in the manifest and in the restored copy.
struct Row {
    table: String,
    expected: Option<u64>,
    restored: Option<u64>,
}

struct Verified {
    rows: Vec<Row>,
    seconds: f64,
}

impl Verified {
    fn matches(&self) -> bool {
        self.rows.iter().all(|r| r.expected == r.restored)
    }
}

fn compare(expected: &Counts, restored: &Counts) -> Vec<Row> {
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

fn print_comparison(rows: &[Row]) {
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
enum Kind {
    Sqlite,
    Postgres,
}

fn kind_of(file: &Path) -> anyhow::Result<Kind> {
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
fn read_manifest(file: &Path) -> anyhow::Result<Manifest> {
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
async fn verify_backup(database_url: &str, file: &Path) -> anyhow::Result<Verified> {
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
            let scratch_url = with_database(database_url, &name);
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

async fn run_pg_restore(pg_restore: &'static str, url: &str, file: &Path) -> anyhow::Result<()> {
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
async fn restore_into(database_url: &str, file: &Path) -> anyhow::Result<()> {
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

// ---------------------------------------------------------------------------------------------
// Reporting to a push monitor
// ---------------------------------------------------------------------------------------------

/// The heartbeat a `backup`-flavour push monitor expects.
fn report_payload(
    made: &anyhow::Result<Manifest>,
    checked: Option<&anyhow::Result<Verified>>,
) -> serde_json::Value {
    match (made, checked) {
        (Ok(m), Some(Ok(v))) => serde_json::json!({
            "verified": v.matches(),
            "bytes": m.bytes,
            "sha256": m.sha256,
            "restored_in_s": (v.seconds * 10.0).round() / 10.0,
            "msg": if v.matches() { None } else { Some("row counts differ after restore") },
        }),
        (Ok(m), Some(Err(e))) => serde_json::json!({
            "verified": false,
            "bytes": m.bytes,
            "sha256": m.sha256,
            "msg": short(&format!("does not restore: {e:#}")),
        }),
        (Ok(m), None) => serde_json::json!({
            "verified": false, "bytes": m.bytes, "sha256": m.sha256, "msg": "not verified",
        }),
        (Err(e), _) => serde_json::json!({
            "verified": false,
            "msg": short(&format!("backup failed: {e:#}")),
        }),
    }
}

/// The push endpoint takes at most 1,000 bytes of message.
fn short(s: &str) -> String {
    let mut end = s.len().min(900);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

async fn send_report(url: &str, payload: &serde_json::Value) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()?;
    let response = client.post(url).json(payload).send().await?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        bail!("{status}: {}", short(body.trim()));
    }
    Ok(())
}

/// A push URL holds its token in the path: logs show only the scheme and host.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!("{}://{}/…", u.scheme(), u.host_str().unwrap_or("?")),
        Err(_) => "the given URL".into(),
    }
}

// ---------------------------------------------------------------------------------------------
// URLs and tools
// ---------------------------------------------------------------------------------------------

fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// The file of a `sqlite://FILE?…` (or `sqlite:FILE`) URL.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// Replaces the database name in a `postgres://user@host:port/db?opts` URL.
fn with_database(url: &str, name: &str) -> String {
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

/// A PostgreSQL client tool on PATH, or a clear error saying what to install.
fn tool(name: &'static str) -> anyhow::Result<&'static str> {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()))
        .unwrap_or(false);
    ensure!(
        found,
        "{name} is not on PATH: PostgreSQL backups need the PostgreSQL client tools \
         (Debian: apt install postgresql-client, same major version as the server or newer)"
    );
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_file_is_read_from_the_url() {
        assert_eq!(
            sqlite_file("sqlite:///var/lib/vigie/vigie.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/vigie/vigie.db"))
        );
        assert_eq!(
            sqlite_file("sqlite://vigie.db?mode=rwc"),
            Some(PathBuf::from("vigie.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://x@h/db"), None);
    }

    #[test]
    fn scratch_database_keeps_the_options() {
        assert_eq!(
            with_database("postgres://v@127.0.0.1:5/vigie?sslmode=disable", "tmp"),
            "postgres://v@127.0.0.1:5/tmp?sslmode=disable"
        );
    }

    #[test]
    fn push_url_token_is_not_shown() {
        assert_eq!(
            redact("https://status.example/api/v1/push/secret-token"),
            "https://status.example/…"
        );
    }

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
