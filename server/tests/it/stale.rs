//! Stale-while-error on a PostgreSQL server of its own (only with `VIGIE_TEST_POSTGRES_URL`,
//! which says PostgreSQL is there to be used): stopped mid-run, `/` and
//! `/api/v2/summary.json` still answer 200 from their last good rendering, with the notice and
//! the header saying since when; `/readyz` says 503 and why; a write gets a clear 503; the
//! probes keep running; started again, the notice is gone within 10 s without a restart and
//! the results probed meanwhile are stored.

use crate::common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const NOTICE: &str = "the status service cannot reach its database";

fn pg(cmd: &str, dir: &Path) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/pg-throwaway.sh");
    let out = Command::new(script)
        .arg(cmd)
        .arg(dir)
        .output()
        .expect("pg-throwaway.sh runs");
    assert!(
        out.status.success(),
        "pg-throwaway.sh {cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Stops the test's own PostgreSQL whatever happens.
struct Cluster(tempfile::TempDir);

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::panic::catch_unwind(|| pg("stop", self.0.path()));
    }
}

async fn get(client: &reqwest::Client, url: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let r = client
        .get(url)
        .header("accept-language", "en")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.expect("body"))
}

async fn until<F, Fut>(what: &str, within: Duration, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !f().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The keys of a JSON value, recursively (objects' keys, the first element of arrays).
fn shape(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(m) => {
            let inner: Vec<String> = m.iter().map(|(k, v)| format!("{k}:{}", shape(v))).collect();
            format!("{{{}}}", inner.join(","))
        }
        serde_json::Value::Array(a) => format!("[{}]", a.first().map(shape).unwrap_or_default()),
        _ => String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_stopped_mid_run() {
    let _alone = common::timing_sensitive().await;
    if std::env::var("VIGIE_TEST_POSTGRES_URL").is_err() {
        assert!(
            std::env::var("VIGIE_REQUIRE_POSTGRES").is_err(),
            "VIGIE_REQUIRE_POSTGRES is set but VIGIE_TEST_POSTGRES_URL is not"
        );
        eprintln!("stale test: postgres SKIPPED");
        return;
    }
    let cluster = Cluster(tempfile::tempdir().expect("temp dir"));
    let url = pg("start", cluster.0.path());
    let target = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = target.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let _ = target.accept().await;
        }
    });
    let catalog = domain::config::parse(
        "t.toml",
        &format!(
            "[site]\ntitle = \"Stale\"\ntimezone = \"Europe/Paris\"\n\n\
             [[groups]]\nid = \"g\"\nname = \"G\"\n\n\
             [[services]]\nid = \"web\"\nname = \"Web\"\ngroup = \"g\"\n\n\
             [[services.monitors]]\nid = \"port\"\nkind = \"tcp\"\ntarget = \"{addr}\"\n\
             interval = \"300ms\"\ntimeout = \"200ms\"\nconfirm = 1\nrecover = 1\n"
        ),
    )
    .expect("valid catalog");
    let running = server::startup::spawn(&catalog, &url, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("server starts");
    let base = format!("http://{}", running.addr);
    let db = store::connect(&url).await.expect("second connection");
    let client = common::client();
    until("web operational", Duration::from_secs(30), || async {
        let (_, _, body) = get(&client, &format!("{base}/api/v2/summary.json")).await;
        body.contains("\"operational\"")
    })
    .await;
    let (status, _, page) = get(&client, &format!("{base}/")).await;
    assert_eq!(status, 200);
    assert!(!page.contains(NOTICE));
    let (_, _, live_summary) = get(&client, &format!("{base}/api/v2/summary.json")).await;
    // The watcher looks every 500 ms: these renderings are confirmed good by its next look.
    tokio::time::sleep(Duration::from_secs(1)).await;

    pg("stop", cluster.0.path());
    let stopped = chrono::Utc::now();
    until("/readyz 503", Duration::from_secs(20), || async {
        get(&client, &format!("{base}/readyz")).await.0 == 503
    })
    .await;
    let (_, _, ready) = get(&client, &format!("{base}/readyz")).await;
    assert!(ready.contains("database unreachable"), "{ready}");
    until("the hub to notice", Duration::from_secs(20), || async {
        get(&client, &format!("{base}/"))
            .await
            .1
            .contains_key("vigie-database-unreachable-since")
    })
    .await;

    let (status, headers, page) = get(&client, &format!("{base}/")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Information as of "), "{page}");
    assert!(page.contains(NOTICE));
    assert!(page.contains("class=\"stale-notice\""));
    let since = headers["vigie-database-unreachable-since"]
        .to_str()
        .expect("text");
    let since = chrono::DateTime::parse_from_rfc3339(since).expect("RFC 3339");
    assert!(
        since >= stopped - chrono::Duration::seconds(1),
        "{since} / {stopped}"
    );
    assert!(headers.contains_key("vigie-data-as-of"));

    let (status, headers, summary) = get(&client, &format!("{base}/api/v2/summary.json")).await;
    assert_eq!(status, 200);
    assert!(headers.contains_key("vigie-database-unreachable-since"));
    let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).expect("JSON");
    assert_eq!(shape(&parse(&summary)), shape(&parse(&live_summary)));

    // A write: a clear 503, in JSON.
    let r = client
        .post(format!("{base}/api/v1/incidents"))
        .json(&serde_json::json!({ "title": "x" }))
        .send()
        .await
        .expect("write");
    assert_eq!(r.status(), 503);
    let body: serde_json::Value = r.json().await.expect("JSON");
    assert!(body["error"]
        .as_str()
        .is_some_and(|e| e.contains("cannot reach its database")));

    // The probes go on meanwhile; the database stays away long enough for writes to fail
    // (a connection is awaited 5 s), so what is probed early in the outage must wait.
    let away = Duration::from_secs(12);
    let waited = chrono::Utc::now() - stopped;
    tokio::time::sleep(away.saturating_sub(waited.to_std().unwrap_or_default())).await;
    pg("resume", cluster.0.path());
    let resumed = Instant::now();
    until("the notice gone", Duration::from_secs(10), || async {
        let (status, _, page) = get(&client, &format!("{base}/")).await;
        status == 200 && !page.contains(NOTICE)
    })
    .await;
    eprintln!(
        "notice gone {:?} after PostgreSQL was back",
        resumed.elapsed()
    );
    let (status, _, _) = get(&client, &format!("{base}/readyz")).await;
    assert_eq!(status, 200);

    // What was probed early in the outage (every 300 ms) is stored once it is back.
    let early = (
        stopped + chrono::Duration::seconds(1),
        stopped + chrono::Duration::seconds(4),
    );
    until("buffered results stored", Duration::from_secs(10), || {
        let db = db.clone();
        async move {
            store::checks::count_between(&db, early.0, early.1)
                .await
                .is_ok_and(|n| n >= 5)
        }
    })
    .await;
    // The outage of the database is not an outage of the service: no status moved.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let web = domain::topology::Owner::Service(domain::config::Slug::parse("web").expect("slug"));
    let events = store::status::events(&db, &web).await.expect("events");
    let tos: Vec<&str> = events.iter().map(|e| e.to_status.as_str()).collect();
    assert_eq!(tos, ["operational"], "{events:?}");
}
