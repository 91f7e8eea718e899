//! `vigie backup` and `vigie restore`, run as an operator would, on SQLite and PostgreSQL:
//! a backup of a live instance restores into a scratch database with the same row counts,
//! reports itself to the instance's own `backup` push monitor, refuses to overwrite a
//! database in use, restores into an empty one, and a tampered backup or manifest fails.

use crate::common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use sea_orm::{ConnectionTrait, Statement};

on_both!(backup_restores_verifies_and_reports_to_its_push_monitor);

/// Kills the server when the test ends, whatever happens.
struct Serving(Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn vigie(database_url: &str, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .env_remove("VIGIE_CONFIG")
        .env_remove("VIGIE_BACKUP_REPORT_TO")
        .args(["--database-url", database_url])
        .args(args)
        .output()
        .expect("vigie runs");
    eprintln!(
        "vigie {args:?}: {:?}\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The newest heartbeat stored for the push monitor (outcome, reason).
async fn beat(db: &store::Db) -> Option<(String, String)> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT outcome, reason FROM push_beats WHERE outcome IS NOT NULL",
        ))
        .await
        .expect("query")?;
    Some((
        row.try_get_by_index(0).expect("outcome"),
        row.try_get_by_index(1).expect("reason"),
    ))
}

async fn backup_restores_verifies_and_reports_to_its_push_monitor() {
    let (url, _db_dir) = common::fresh_database().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("vigie.toml");
    // The push token is read from a file the configuration points at.
    let token_file = dir.path().join("push-token");
    std::fs::write(&token_file, "tok-backup-0123456789-abcdef\n").expect("token file");
    std::fs::write(
        &config,
        format!(
            "[site]\ntitle = \"Backups\"\n\n[[groups]]\nid = \"g\"\nname = \"G\"\n\n\
             [[services]]\nid = \"backups\"\nname = \"Backups\"\ngroup = \"g\"\n\n\
             [[services.monitors]]\nid = \"nightly\"\nkind = \"push\"\nflavour = \"backup\"\n\
             token = \"${{file:{}}}\"\ninterval = \"1h\"\nconfirm = 1\nrecover = 1\n",
            token_file.display()
        ),
    )
    .expect("config");

    // A live instance: it migrates and fills the database, and receives the report.
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("VIGIE_CONFIG", &config)
        .env("VIGIE_DATABASE_URL", &url)
        .env_remove("VIGIE_PROBES")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("vigie serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let serving = Serving(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(u) = line.split(" on ").nth(1) {
                let _ = tx.send(u.trim().trim_end_matches('/').to_owned());
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the server says where it listens");
    let push = format!("{base}/api/v1/push/tok-backup-0123456789-abcdef");
    let db = store::connect(&url).await.expect("connect");

    // Backup of the running instance, verified and reported.
    let file = dir.path().join("vigie.backup");
    let file_s = file.to_str().expect("utf-8");
    let out = vigie(&url, &["backup", "--out", file_s, "--report-to", &push]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("every count matches"), "{}", text(&out));
    let manifest_path = dir.path().join("vigie.backup.manifest.json");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).expect("manifest")).expect("json");
    let bytes = std::fs::metadata(&file).expect("backup").len();
    assert_eq!(manifest["bytes"], bytes);
    assert_eq!(manifest["tables"]["services"], 1, "{manifest}");
    assert!(
        manifest["tables"].as_object().expect("tables").len() > 10,
        "{manifest}"
    );
    let (outcome, reason) = beat(&db).await.expect("the report was stored");
    assert_eq!(outcome, "up");
    // The reason is stored as data (domain::reason::Reason) and worded when shown.
    let reason = domain::reason::Reason::from_stored(&reason).to_string();
    assert!(
        reason.starts_with(&format!("backup verified ({bytes} bytes, restored in")),
        "{reason}"
    );

    // Checked again later, from the file alone.
    let out = vigie(&url, &["restore", file_s, "--verify"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("services"), "{}", text(&out));

    // A manifest that disagrees with the restored rows fails, naming the table.
    let original = std::fs::read_to_string(&manifest_path).expect("manifest");
    let mut lying = manifest.clone();
    lying["tables"]["services"] = 2.into();
    std::fs::write(&manifest_path, lying.to_string()).expect("write");
    let out = vigie(&url, &["restore", file_s, "--verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out)
            .lines()
            .any(|l| l.starts_with("services ") && l.ends_with("DIFFERS")),
        "{}",
        text(&out)
    );
    std::fs::write(&manifest_path, original).expect("write");

    // A changed byte is caught before anything is restored.
    let mut damaged = std::fs::read(&file).expect("read");
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0xff;
    let damaged_path = dir.path().join("damaged.backup");
    std::fs::write(&damaged_path, &damaged).expect("write");
    std::fs::copy(
        &manifest_path,
        dir.path().join("damaged.backup.manifest.json"),
    )
    .expect("copy");
    let out = vigie(
        &url,
        &["restore", damaged_path.to_str().expect("utf-8"), "--verify"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("does not match its manifest"),
        "{}",
        text(&out)
    );

    // The database in use is never written over.
    let out = vigie(&url, &["restore", file_s]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("refuses"), "{}", text(&out));

    // An empty database receives the backup, with every count as recorded.
    let (empty, _empty_dir) = common::fresh_database().await;
    let out = vigie(&empty, &["restore", file_s]);
    assert!(out.status.success(), "{}", text(&out));
    let restored = store::connect(&empty).await.expect("connect");
    let counts = store::backup::counts(&restored).await.expect("counts");
    for (table, n) in manifest["tables"].as_object().expect("tables") {
        assert_eq!(
            Some(&n.as_u64().expect("count")),
            counts.get(table),
            "{table}"
        );
    }
    restored.close().await.ok();

    // A backup that cannot be written turns the push monitor down at once.
    let nowhere = dir.path().join("missing-dir").join("vigie.backup");
    let out = vigie(
        &url,
        &[
            "backup",
            "--out",
            nowhere.to_str().expect("utf-8"),
            "--report-to",
            &push,
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("does not exist"), "{}", text(&out));
    let (outcome, reason) = beat(&db).await.expect("stored");
    assert_eq!(outcome, "down");
    let reason = domain::reason::Reason::from_stored(&reason).to_string();
    assert!(
        reason.starts_with("backup verification failed (backup failed: the directory"),
        "{reason}"
    );
    drop(serving);
    assert!(!Path::new(&nowhere).exists());
}
