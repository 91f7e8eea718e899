//! Making a backup: the copy (SQLite `VACUUM INTO`, PostgreSQL `pg_dump` on a snapshot), its
//! digest and its manifest.

use std::path::{Path, PathBuf};

use anyhow::{ensure, Context};
use sha2::Digest;

use crate::urls::{is_sqlite, tool};
use crate::{manifest_path, Manifest, FORMAT};

pub(crate) async fn make_backup(database_url: &str, out: &Path) -> anyhow::Result<Manifest> {
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
pub(crate) fn partial_path(out: &Path) -> anyhow::Result<PathBuf> {
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
pub(crate) fn digest(path: &Path) -> anyhow::Result<(u64, String)> {
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
