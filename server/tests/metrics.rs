//! `/metrics` over real HTTP: Prometheus text that `promtool check metrics` accepts, series
//! labelled by matched route (never the raw path), the cache and SSE gauges, the probe
//! engine's series after real checks against loopback targets (HTTP up, TCP refused, a TLS
//! certificate of known expiry), the example alert rules of docs/metrics.md, and the optional
//! bearer token.

use std::io::Write;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::Utc;
use tokio::net::TcpListener;

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

/// Runs `promtool ARGS…` with `input` on its standard input; panics with its words on failure.
fn promtool_accepts(promtool: &str, args: &[&str], input: &str) {
    let mut child = Command::new(promtool)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("promtool runs");
    assert!(
        out.status.success(),
        "promtool {args:?} failed:\n{}{}\n{input}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The value of the first series named `name` carrying every label of `labels`.
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?;
        let (labelled, value) = if let Some(r) = rest.strip_prefix('{') {
            let (inside, after) = r.split_once('}')?;
            (inside, after)
        } else if rest.starts_with(' ') {
            ("", rest)
        } else {
            return None;
        };
        labels
            .iter()
            .all(|(k, v)| labelled.split(',').any(|l| l == format!("{k}=\"{v}\"")))
            .then(|| value.trim().parse().ok())
            .flatten()
    })
}

/// A plain HTTP target that answers 200.
async fn http_target() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new().fallback(|| async { "ok" });
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// A loopback address nothing listens on (connections are refused).
async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("addr")
}

/// One service checked over HTTP and TLS, both fine, and one whose TCP port is closed.
fn loopback_catalog(
    web: SocketAddr,
    tls: SocketAddr,
    closed: SocketAddr,
) -> domain::config::Catalog {
    let text = format!(
        "[site]\ntitle = \"Metrics\"\n[[groups]]\nid = \"g\"\nname = \"G\"\n\
         [[services]]\nid = \"web\"\nname = \"Web\"\ngroup = \"g\"\n\
         [[services.monitors]]\nid = \"home\"\nkind = \"http\"\ntarget = \"http://{web}/\"\n\
         interval = \"300ms\"\nconfirm = 1\n\
         [[services.monitors]]\nid = \"cert\"\nkind = \"tls\"\ntarget = \"localhost:{}\"\n\
         tls_verify = false\ninterval = \"300ms\"\nconfirm = 1\n\
         [[services]]\nid = \"legacy\"\nname = \"Legacy\"\ngroup = \"g\"\n\
         [[services.monitors]]\nid = \"port\"\nkind = \"tcp\"\ntarget = \"{closed}\"\n\
         interval = \"300ms\"\nconfirm = 1\n",
        tls.port()
    );
    domain::config::parse("metrics.toml", &text).unwrap_or_else(|e| panic!("{e}"))
}

async fn scrape(server: &common::Server, token: Option<&str>) -> reqwest::Response {
    let mut req = common::client().get(format!("{}/metrics", server.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("scrape")
}

/// The alert rules docs/metrics.md shows, as a rules file.
fn documented_rules() -> String {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/metrics.md"),
    )
    .expect("docs/metrics.md");
    let after = doc
        .split_once("## Alert rules")
        .expect("an alert rules section")
        .1;
    let block = after
        .split_once("```yaml\n")
        .expect("a yaml block")
        .1
        .split_once("```")
        .expect("a closed block")
        .0;
    block.to_owned()
}

/// One test (SQLite): it sets `VIGIE_METRICS_TOKEN`, which the whole process shares.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_valid_prometheus_labelled_by_route() {
    let catalog = loopback_catalog(
        http_target().await,
        testkit::tls::server(90).await,
        closed_port().await,
    );
    let server = common::Server::start(&catalog, common::Probes::On).await;
    let client = common::client();
    for path in ["/", "/?b=1", "/services/web", "/services/web", "/nope/123"] {
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

    // The probe series appear once each monitor is checked and its result written.
    let probed = |text: &str| {
        value(text, "vigie_monitor_up", &[("monitor", "service/web/home")]).is_some()
            && value(
                text,
                "vigie_monitor_up",
                &[("monitor", "service/legacy/port")],
            )
            .is_some()
            && value(text, "vigie_certificate_expiry_timestamp_seconds", &[]).is_some()
            && value(text, "vigie_database_write_duration_seconds_count", &[])
                .is_some_and(|n| n > 0.0)
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let text = loop {
        let res = scrape(&server, None).await;
        assert_eq!(res.status(), 200);
        assert!(res.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/plain"));
        let text = res.text().await.expect("body");
        if probed(&text) {
            break text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no probe series after 30 s:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for wanted in [
        "vigie_http_requests_total{",
        "route=\"/services/{slug}\"",
        "route=\"unmatched\"",
        "vigie_http_request_duration_seconds_bucket{",
        "vigie_cache_hits_total",
        "vigie_cache_misses_total",
        "vigie_cache_bytes",
        "vigie_sse_clients",
        "vigie_probe_check_duration_seconds_bucket{kind=\"http\",le=",
        "vigie_probe_check_duration_seconds_bucket{kind=\"tls\",",
        "vigie_probe_check_duration_seconds_bucket{kind=\"tcp\",",
        "vigie_probe_schedule_lag_seconds_bucket{le=",
        "vigie_database_write_duration_seconds_bucket{le=",
        "vigie_probe_unwritten_results",
        "# TYPE vigie_probe_checks_total counter",
        "# TYPE vigie_certificate_expiry_timestamp_seconds gauge",
    ] {
        assert!(text.contains(wanted), "{wanted} missing from:\n{text}");
    }
    assert!(!text.contains("/nope/123"), "a raw path became a label");
    assert!(!text.contains("b=1"), "a query became a label");

    // Checks by kind and outcome: what the targets are.
    let checks = |kind, outcome| {
        value(
            &text,
            "vigie_probe_checks_total",
            &[("kind", kind), ("outcome", outcome)],
        )
        .unwrap_or(0.0)
    };
    assert!(checks("http", "up") >= 1.0, "{text}");
    assert!(checks("tls", "up") >= 1.0, "{text}");
    assert!(checks("tcp", "down") >= 1.0, "{text}");
    assert_eq!(checks("http", "down"), 0.0, "{text}");
    assert_eq!(checks("tcp", "up"), 0.0, "{text}");
    assert!(
        value(&text, "vigie_probe_write_batches_total", &[]).is_some_and(|n| n >= 1.0),
        "{text}"
    );
    // Up and down per monitor.
    assert_eq!(
        value(
            &text,
            "vigie_monitor_up",
            &[("monitor", "service/web/home")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &text,
            "vigie_monitor_up",
            &[("monitor", "service/legacy/port")]
        ),
        Some(0.0)
    );
    // The certificate expires in 90 days (to the day: rcgen dates have no time of day).
    let expiry = value(
        &text,
        "vigie_certificate_expiry_timestamp_seconds",
        &[("monitor", "service/web/cert")],
    )
    .expect("the TLS monitor's certificate expiry");
    let days_left = (expiry - Utc::now().timestamp() as f64) / 86_400.0;
    assert!((89.0..=90.0).contains(&days_left), "{days_left} days left");

    if let Some(promtool) = promtool() {
        promtool_accepts(promtool, &["check", "metrics"], &text);
        let dir = tempfile::tempdir().expect("dir");
        let rules = dir.path().join("vigie-rules.yml");
        std::fs::write(&rules, documented_rules()).expect("write rules");
        let rules = rules.display().to_string();
        promtool_accepts(promtool, &["check", "rules", &rules], "");
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
