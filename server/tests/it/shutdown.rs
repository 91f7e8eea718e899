//! A clean shutdown, with the real binary: SIGTERM while a page's `/events` stream is open and
//! a probe result is waiting to be written. The stream ends, the result is stored, and the
//! process exits by itself within five seconds.

use crate::common;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Statement};

/// A child process killed if the test fails before it exits.
struct Vigie(Child);

impl Drop for Vigie {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn catalog(probed: std::net::SocketAddr) -> String {
    format!(
        r#"
[site]
title = "Shutdown"

[[groups]]
id = "sites"
name = "Sites"

[[services]]
id = "web"
name = "Web"
group = "sites"

[[services.monitors]]
kind = "tcp"
target = "{probed}"
interval = "1s"
"#
    )
}

async fn stored_checks(url: &str) -> i64 {
    let db = store::connect(url).await.expect("connect");
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM check_results",
        ))
        .await
        .expect("count")
        .expect("a row");
    row.try_get::<i64>("", "n").expect("n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_event_streams_writes_pending_results_and_exits_within_5_s() {
    let _alone = common::timing_sensitive().await;
    // What the monitor probes: a TCP port that counts its connections.
    let probed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let probed_addr = probed.local_addr().expect("addr");
    let accepted = Arc::new(AtomicU64::new(0));
    let (first_tx, mut checked) = tokio::sync::mpsc::unbounded_channel();
    {
        let accepted = accepted.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = probed.accept().await {
                accepted.fetch_add(1, Ordering::SeqCst);
                drop(socket);
                let _ = first_tx.send(());
            }
        });
    }

    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("vigie.toml");
    std::fs::write(&config, catalog(probed_addr)).expect("write config");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("vigie.db").display()
    );
    let child = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["--config", config.to_str().expect("utf-8")])
        .args(["--database-url", &url])
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("VIGIE_PROBES")
        .env_remove("VIGIE_PROBE_SOURCE")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("vigie starts");
    let mut vigie = Vigie(child);
    let stdout = vigie.0.stdout.take().expect("stdout");
    let base = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stdout).lines();
        let line = lines.next().expect("a line").expect("utf-8");
        let at = line.find("http://").expect("the address in {line}");
        line[at..].trim_end_matches('/').to_owned()
    })
    .await
    .expect("read stdout");

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    // An open page: its live stream, first event received.
    let mut events = client
        .get(format!("{base}/events"))
        .send()
        .await
        .expect("events");
    assert_eq!(events.status(), 200);
    let first = events.chunk().await.expect("first event").expect("data");
    assert!(String::from_utf8_lossy(&first).contains("freshness"));

    // Two checks, so the engine runs steadily; SIGTERM right after the second one, before
    // the collector's next periodic write (every second).
    for _ in 0..2 {
        tokio::time::timeout(Duration::from_secs(10), checked.recv())
            .await
            .expect("the monitor is probed")
            .expect("probe counter");
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let probed_before = accepted.load(Ordering::SeqCst);
    let pid = vigie.0.id().to_string();
    let signalled = Instant::now();
    let kill = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(kill.success());

    // The stream ends cleanly instead of holding the shutdown.
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(_chunk) = events.chunk().await.expect("the stream ends without error") {}
    })
    .await;
    assert!(
        ended.is_ok(),
        "the /events stream was still open 5 s after SIGTERM"
    );

    let status = tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = vigie.0.try_wait().expect("wait") {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    })
    .await
    .expect("waiter");
    let took = signalled.elapsed();
    let status = status.expect("vigie exited");
    assert!(status.success(), "exit status {status}");
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");

    // Every check that reached the probed port before SIGTERM is stored (at most one more,
    // started meanwhile, may be lost with the process).
    let stored = stored_checks(&url).await;
    let probed_after = accepted.load(Ordering::SeqCst);
    assert!(
        u64::try_from(stored).expect("count") >= probed_before,
        "{stored} results stored, {probed_before} checks made before SIGTERM ({probed_after} in all)"
    );
}
