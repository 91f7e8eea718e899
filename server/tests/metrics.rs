//! `/metrics` over real HTTP: Prometheus text that `promtool check metrics` accepts, series
//! labelled by matched route (never the raw path), the cache and SSE gauges, and the optional
//! bearer token.

use std::io::Write;
use std::process::{Command, Stdio};

mod common;

/// promtool from Debian's `prometheus` package; `make test` requires it.
fn promtool() -> Option<&'static str> {
    let found = Command::new("promtool")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var("VIGIE_REQUIRE_PROMTOOL").is_err(),
            "VIGIE_REQUIRE_PROMTOOL is set but promtool is missing (make setup-system)"
        );
        eprintln!("promtool not found: the format check is SKIPPED");
        return None;
    }
    Some("promtool")
}

async fn scrape(server: &common::Server, token: Option<&str>) -> reqwest::Response {
    let mut req = common::client().get(format!("{}/metrics", server.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("scrape")
}

/// One test (SQLite): it sets `VIGIE_METRICS_TOKEN`, which the whole process shares.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_valid_prometheus_labelled_by_route() {
    let server = common::Server::start(&common::humanoid(), common::Probes::Off).await;
    let client = common::client();
    for path in [
        "/",
        "/?b=1",
        "/services/frandroid",
        "/services/frandroid",
        "/nope/123",
    ] {
        client
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .expect("get");
    }
    let mut events = client
        .get(format!("{}/events", server.base))
        .send()
        .await
        .expect("events");
    events.chunk().await.expect("first event");

    let res = scrape(&server, None).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("text/plain"));
    let text = res.text().await.expect("body");
    for wanted in [
        "vigie_http_requests_total{",
        "route=\"/services/{slug}\"",
        "route=\"unmatched\"",
        "vigie_http_request_duration_seconds_bucket{",
        "vigie_cache_hits_total",
        "vigie_cache_misses_total",
        "vigie_cache_bytes",
        "vigie_sse_clients",
    ] {
        assert!(text.contains(wanted), "{wanted} missing from:\n{text}");
    }
    assert!(!text.contains("/nope/123"), "a raw path became a label");
    assert!(!text.contains("b=1"), "a query became a label");

    if let Some(promtool) = promtool() {
        let mut child = Command::new(promtool)
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("promtool");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("promtool runs");
        assert!(
            out.status.success(),
            "promtool check metrics failed:\n{}{}\n{text}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // With a token configured, a scrape must present it.
    std::env::set_var("VIGIE_METRICS_TOKEN", "s3cret-scrape-token");
    assert_eq!(scrape(&server, None).await.status(), 401);
    assert_eq!(scrape(&server, Some("wrong")).await.status(), 401);
    assert_eq!(
        scrape(&server, Some("s3cret-scrape-token")).await.status(),
        200
    );
    std::env::remove_var("VIGIE_METRICS_TOKEN");
}
