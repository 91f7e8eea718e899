//! Subscriber fan-out benchmark (not a test): N confirmed e-mail subscribers, one incident
//! update published → the time until every mail has been handed to a real SMTP server on
//! loopback (Python's aiosmtpd, `server/tests/support/smtp_sink.py`, in its own process so its
//! CPU is not counted), on SQLite or PostgreSQL. Prints one line: subscribers, seconds from
//! the publication to the last mail accepted, mails/s, CPU % of 2 cores and peak RSS of this
//! process (the outbox sender, its database pool and SQLite itself when used).
//!
//! The per-minute ceiling (`notifications.per_minute`, 600 by default) is lifted for the run:
//! this measures how fast the sender can go, not the ceiling.
//!
//! `cargo bench -p notify --bench subscribers -- [--subscribers 10000] [--database-url URL]`

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use domain::incident::{Impact, IncidentStatus};
use domain::status::ComponentStatus;
use store::audit::Actor;
use store::incidents::{Message, NewIncident};
use store::subscribers::{Wanted, EMAIL};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// CPU seconds (user + system) and peak RSS (kB) of this process, from /proc (Linux counts
/// CPU time in 1/100 s there).
fn usage() -> (f64, u64) {
    let cpu = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let after = s.rsplit_once(')')?.1.to_owned();
            let f: Vec<&str> = after.split_whitespace().collect();
            let utime: f64 = f.get(11)?.parse().ok()?;
            let stime: f64 = f.get(12)?.parse().ok()?;
            Some((utime + stime) / 100.0)
        })
        .unwrap_or(0.0);
    let hwm = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0);
    (cpu, hwm)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let subscribers: usize = arg(&args, "--subscribers").map_or(Ok(10_000), |v| v.parse())?;
    let dir = tempfile::tempdir()?;
    let url = arg(&args, "--database-url").unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        )
    });

    // The SMTP server: the same aiosmtpd sink the notification tests use (`make setup`).
    let sink =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../server/tests/support/smtp_sink.py");
    let mails = dir.path().join("mail");
    let mut child = Command::new("python3")
        .arg(&sink)
        .arg("--dir")
        .arg(&mails)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("python3 runs the SMTP sink (make setup installs aiosmtpd)")?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("no stdout")?).read_line(&mut line)?;
    let port: u16 = line.trim().parse().with_context(|| {
        format!("the SMTP sink did not start (is aiosmtpd installed?): {line:?}")
    })?;

    let text = format!(
        "[site]\ntitle = \"Bench\"\nbase_url = \"https://status.example.org\"\n\
         [notifications]\nper_minute = 100000000\n\
         [notifications.smtp]\nurl = \"smtp://127.0.0.1:{port}\"\nfrom = \"status@example.org\"\n\
         [[groups]]\nid = \"g\"\nname = \"G\"\n\
         [[services]]\nid = \"web\"\nname = \"Web\"\ngroup = \"g\"\n"
    );
    let catalog = domain::config::parse("bench.toml", &text).map_err(|e| anyhow::anyhow!("{e}"))?;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = rt.block_on(async {
        // Migrated and synced, as `vigie serve` prepares it.
        let db = store::connect(&url).await?;
        store::migrate(&db).await?;
        store::catalog::sync(&db, &catalog, Utc::now()).await?;
        for i in 0..subscribers {
            store::subscribers::confirm(
                &db,
                &Wanted {
                    kind: EMAIL.into(),
                    address: format!("reader{i}@example.org"),
                    contact: None,
                    language: if i % 2 == 0 { "fr" } else { "en" }.into(),
                    services: None,
                },
                None,
                Utc::now(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("subscriber {i}: {e:?}"))?;
        }
        let notifier = Arc::new(notify::Notifier::new(db.clone(), &catalog).await?);

        let (cpu0, _) = usage();
        let started = Instant::now();
        let now = Utc::now();
        store::incidents::open(
            &db,
            &NewIncident {
                title: "Web unreachable".into(),
                impact: Impact::Major,
                status: IncidentStatus::Investigating,
                message: Message {
                    markdown: "We are **investigating**.".into(),
                    html: "<p>We are <strong>investigating</strong>.</p>".into(),
                },
                services: vec![("web".into(), ComponentStatus::MajorOutage)],
                started_at: None,
                notify: true,
            },
            &Actor::cli(),
            now,
        )
        .await
        .map_err(|e| anyhow::anyhow!("cannot publish: {e:?}"))?;
        // The sender's passes, back to back, until nothing is left to send.
        loop {
            let n = notifier.tick(Utc::now()).await?;
            if n == 0 && store::outbox::send::waiting(&db).await? == 0 {
                break;
            }
            if n == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(3600),
                "not done in an hour"
            );
        }
        let wall = started.elapsed().as_secs_f64();
        let (cpu1, hwm_kb) = usage();
        let sent = std::fs::read_dir(&mails)?
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "eml"))
            })
            .count();
        anyhow::ensure!(
            sent == subscribers,
            "{sent} mails at the SMTP server for {subscribers} subscribers"
        );
        println!(
            "backend={} subscribers={subscribers} handed_over={sent} time={wall:.1}s \
             mails/s={:.0} cpu={:.1}% of 2 cores peak_rss={} MB",
            if url.starts_with("postgres") {
                "postgres"
            } else {
                "sqlite"
            },
            sent as f64 / wall,
            (cpu1 - cpu0) / wall / 2.0 * 100.0,
            hwm_kb / 1024,
        );
        anyhow::Ok(())
    });
    drop(child.stdin.take());
    let _ = child.kill();
    let _ = child.wait();
    result
}
