//! Every probe kind against real servers started on loopback by the test: axum servers that
//! fail, hang, slow down, change their body or redirect; TCP listeners; a DNS server with the
//! records the test sets; TLS servers with certificates of chosen expiry (`testkit::tls`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{any, get};
use axum::Router;
use chrono::Utc;
use domain::config::Monitor;
use domain::status::CheckOutcome;
use probe::Clients;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

/// The first monitor of a one-service catalog whose monitor table is `monitor`.
fn monitor(monitor: &str) -> Monitor {
    let text = format!(
        "[site]\ntitle = \"T\"\n[[groups]]\nid = \"g\"\nname = \"G\"\n\
         [[services]]\nid = \"s\"\nname = \"S\"\ngroup = \"g\"\n[[services.monitors]]\n{monitor}\n"
    );
    let c = domain::config::parse("t.toml", &text).unwrap_or_else(|e| panic!("{e}"));
    c.services[0].monitors[0].clone()
}

#[derive(Clone, Default)]
struct Web {
    failing: Arc<AtomicBool>,
    seen_from: Arc<Mutex<Vec<IpAddr>>>,
}

async fn web() -> (SocketAddr, Web) {
    let state = Web::default();
    let app = Router::new()
        .route(
            "/ok",
            get(
                |State(w): State<Web>, ConnectInfo(peer): ConnectInfo<SocketAddr>| async move {
                    if let Ok(mut seen) = w.seen_from.lock() {
                        seen.push(peer.ip());
                    }
                    "<h1>Hello Vigie</h1>"
                },
            ),
        )
        .route(
            "/switch",
            get(|State(w): State<Web>| async move {
                if w.failing.load(Ordering::SeqCst) {
                    (StatusCode::SERVICE_UNAVAILABLE, "maintenance page").into_response()
                } else {
                    "all good".into_response()
                }
            }),
        )
        .route(
            "/fail",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                "slow but fine"
            }),
        )
        .route(
            "/hang",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "too late"
            }),
        )
        .route("/redirect", get(|| async { Redirect::temporary("/ok") }))
        .route("/loop", get(|| async { Redirect::temporary("/loop") }))
        .route(
            "/json",
            get(|| async {
                axum::Json(serde_json::json!({"status": "ok", "db": {"replicas": 2}}))
            }),
        )
        .route("/notjson", get(|| async { "<html>" }))
        .route(
            "/echo",
            any(
                |method: axum::http::Method, headers: HeaderMap, body: String| async move {
                    let token = headers
                        .get("x-token")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-")
                        .to_owned();
                    format!("{method} token={token} body={body}")
                },
            ),
        )
        .with_state(state.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    (addr, state)
}

fn clients() -> Clients {
    Clients::new(None).expect("clients")
}

async fn run(m: &Monitor) -> probe::ProbeResult {
    probe::run(m, &clients(), Utc::now()).await
}

#[tokio::test]
async fn http_up_with_keyword_records_status_and_latency() {
    let (addr, _) = web().await;
    let r = run(&monitor(&format!(
        "kind = \"keyword\"\ntarget = \"http://{addr}/ok\"\nkeyword = \"Hello Vigie\""
    )))
    .await;
    assert_eq!(r.outcome, CheckOutcome::Up, "{r:?}");
    assert_eq!(r.status_code, Some(200));
    assert!(r.latency.is_some());
    assert_eq!(r.reason, None);
}

#[tokio::test]
async fn http_missing_keyword_and_present_forbidden_keyword_are_down() {
    let (addr, _) = web().await;
    let r = run(&monitor(&format!(
        "kind = \"keyword\"\ntarget = \"http://{addr}/ok\"\nkeyword = \"FrAndroid\""
    )))
    .await;
    assert_eq!(r.outcome, CheckOutcome::Down);
    assert_eq!(
        said(&r.reason).as_deref(),
        Some("keyword \"FrAndroid\" not found")
    );
    let r = run(&monitor(&format!(
        "kind = \"http\"\ntarget = \"http://{addr}/ok\"\nkeyword_absent = \"Hello\""
    )))
    .await;
    assert_eq!(
        said(&r.reason).as_deref(),
        Some("keyword \"Hello\" present")
    );
}

#[tokio::test]
async fn http_server_error_is_down_with_the_status_in_the_reason() {
    let (addr, _) = web().await;
    let r = run(&monitor(&format!(
        "kind = \"http\"\ntarget = \"http://{addr}/fail\""
    )))
    .await;
    assert_eq!(r.outcome, CheckOutcome::Down);
    assert_eq!(r.status_code, Some(500));
    assert_eq!(
        said(&r.reason).as_deref(),
        Some("HTTP 500 (expected 200-399)")
    );
    // Stored as data, so each page words it in its reader's language.
    assert_eq!(
        r.reason.as_deref().map(domain::reason::Reason::from_stored),
        Some(domain::reason::Reason::HttpStatus {
            status: 500,
            expected: "200-399".into()
        })
    );
    let r = run(&monitor(&format!(
        "kind = \"http\"\ntarget = \"http://{addr}/fail\"\nexpected_status = [500]"
    )))
    .await;
    assert_eq!(r.outcome, CheckOutcome::Up, "500 was expected");
}

#[tokio::test]
async fn http_server_that_starts_failing_is_seen_failing() {
    let (addr, web) = web().await;
    let m = monitor(&format!(
        "kind = \"http\"\ntarget = \"http://{addr}/switch\""
    ));
    assert_eq!(run(&m).await.outcome, CheckOutcome::Up);
    web.failing.store(true, Ordering::SeqCst);
    let r = run(&m).await;
    assert_eq!(r.outcome, CheckOutcome::Down);
    assert_eq!(r.status_code, Some(503));
}

#[tokio::test]
async fn http_slower_than_the_threshold_is_degraded() {
    let (addr, _) = web().await;
    let r = run(&monitor(&format!(
        "kind = \"http\"\ntarget = \"http://{addr}/slow\"\ndegraded_after_ms = 100"
    )))
    .await;
    assert_eq!(r.outcome, CheckOutcome::Degraded, "{r:?}");
    assert!(
        said(&r.reason)
            .as_deref()
            .is_some_and(|s| s.starts_with("slow: ") && s.ends_with("> 100 ms")),
        "{r:?}"
    );
}

#[tokio::test]
async fn http_hanging_server_is_down_at_the_timeout() {
    let (addr, _) = web().await;
    let started = std::time::Instant::now();
    let r = run(&monitor(&format!(
        "kind = \"http\"\ntarget = \"http://{addr}/hang\"\ntimeout = \"300ms\"\ninterval = \"1s\""
    )))
    .await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(r.outcome, CheckOutcome::Down);
    assert_eq!(said(&r.reason).as_deref(), Some("timeout after 300 ms"));
}

#[tokio::test]
async fn http_redirects_are_followed_unless_told_not_to() {
    let (addr, _) = web().await;
    let r = run(&monitor(&format!(
        "kind = \"keyword\"\ntarget = \"http://{addr}/redirect\"\nkeyword = \"Hello\""
    )))
    .await;
    assert_eq!((r.outcome, r.status_code), (CheckOutcome::Up, Some(200)));
    let r = run(&monitor(&format!(
        "kind = \"http\"\ntarget = \"http://{addr}/redirect\"\nfollow_redirects = false\nexpected_status = [200]"
    )))
    .await;
    assert_eq!(r.outcome, CheckOutcome::Down);
    assert_eq!(r.status_code, Some(307));
    let r = run(&monitor(&format!(
        "kind = \"http\"\ntarget = \"http://{addr}/loop\""
    )))
    .await;
    assert_eq!(said(&r.reason).as_deref(), Some("too many redirects"));
}

#[tokio::test]
async fn http_json_pointer_must_equal_the_expected_value() {
    let (addr, _) = web().await;
    let json = |pointer: &str, equals: &str, path: &str| {
        monitor(&format!(
            "kind = \"json\"\ntarget = \"http://{addr}{path}\"\njson_pointer = \"{pointer}\"\njson_equals = \"{equals}\""
        ))
    };
    assert_eq!(
        run(&json("/status", "ok", "/json")).await.outcome,
        CheckOutcome::Up
    );
    assert_eq!(
        run(&json("/db/replicas", "2", "/json")).await.outcome,
        CheckOutcome::Up
    );
    let r = run(&json("/status", "green", "/json")).await;
    assert_eq!(
        said(&r.reason).as_deref(),
        Some("JSON /status is \"ok\", expected \"green\"")
    );
    let r = run(&json("/missing", "x", "/json")).await;
    assert_eq!(
        said(&r.reason).as_deref(),
        Some("JSON pointer /missing not found")
    );
    let r = run(&json("/status", "ok", "/notjson")).await;
    assert!(
        said(&r.reason)
            .as_deref()
            .is_some_and(|s| s.starts_with("invalid JSON")),
        "{r:?}"
    );
}

#[tokio::test]
async fn http_method_headers_and_body_are_sent() {
    let (addr, _) = web().await;
    let r = run(&monitor(&format!(
        "kind = \"keyword\"\ntarget = \"http://{addr}/echo\"\nmethod = \"post\"\nbody = \"ping\"\nkeyword = \"POST token=s3cret body=ping\"\n[services.monitors.headers]\nx-token = \"s3cret\""
    )))
    .await;
    assert_eq!(r.outcome, CheckOutcome::Up, "{r:?}");
}

#[tokio::test]
async fn http_refused_connection_is_down_with_a_reason() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let r = run(&monitor(&format!(
        "kind = \"http\"\ntarget = \"http://{addr}/\""
    )))
    .await;
    assert_eq!(r.outcome, CheckOutcome::Down);
    assert!(
        said(&r.reason)
            .as_deref()
            .is_some_and(|s| s.starts_with("cannot connect")),
        "{r:?}"
    );
}

#[tokio::test]
async fn probes_bind_the_configured_source_address() {
    let (addr, web) = web().await;
    let source = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    let clients = Clients::new(Some(source)).expect("clients");
    let m = monitor(&format!("kind = \"http\"\ntarget = \"http://{addr}/ok\""));
    let r = probe::run(&m, &clients, Utc::now()).await;
    assert_eq!(r.outcome, CheckOutcome::Up, "{r:?}");
    assert_eq!(web.seen_from.lock().expect("lock").clone(), vec![source]);

    // TCP too.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let taddr = listener.local_addr().expect("addr");
    let peer = tokio::spawn(async move { listener.accept().await.map(|(_, p)| p.ip()) });
    let m = monitor(&format!("kind = \"tcp\"\ntarget = \"{taddr}\""));
    let r = probe::run(&m, &clients, Utc::now()).await;
    assert_eq!(r.outcome, CheckOutcome::Up, "{r:?}");
    assert_eq!(peer.await.expect("join").expect("accept"), source);
}

#[tokio::test]
async fn tcp_connect_send_and_expect() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 64];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let answer = if buf[..n].starts_with(b"PING") {
                    "+PONG\r\n"
                } else {
                    "-ERR\r\n"
                };
                let _ = s.write_all(answer.as_bytes()).await;
            });
        }
    });
    let ok = monitor(&format!(
        "kind = \"tcp\"\ntarget = \"{addr}\"\nsend = \"PING\"\nexpect = \"+PONG\""
    ));
    assert_eq!(run(&ok).await.outcome, CheckOutcome::Up);
    let wrong = monitor(&format!(
        "kind = \"tcp\"\ntarget = \"{addr}\"\nsend = \"HELLO\"\nexpect = \"+PONG\""
    ));
    let r = run(&wrong).await;
    assert_eq!(r.outcome, CheckOutcome::Down);
    assert_eq!(
        said(&r.reason).as_deref(),
        Some("expected \"+PONG\", got \"-ERR\"")
    );
}

#[tokio::test]
async fn tcp_closed_port_is_down_and_silent_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let closed = listener.local_addr().expect("addr");
    drop(listener);
    let r = run(&monitor(&format!("kind = \"tcp\"\ntarget = \"{closed}\""))).await;
    assert_eq!(r.outcome, CheckOutcome::Down);
    assert!(
        said(&r.reason)
            .as_deref()
            .is_some_and(|s| s.contains("cannot connect")),
        "{r:?}"
    );

    let silent = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = silent.local_addr().expect("addr");
    let _keep = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    let r = run(&monitor(&format!(
        "kind = \"tcp\"\ntarget = \"{addr}\"\nexpect = \"220\"\ntimeout = \"300ms\"\ninterval = \"1s\""
    )))
    .await;
    assert_eq!(said(&r.reason).as_deref(), Some("timeout after 300 ms"));
}

// ---------------------------------------------------------------------------------------------
// TLS
// ---------------------------------------------------------------------------------------------

fn tls_monitor(addr: SocketAddr, verify: bool) -> Monitor {
    monitor(&format!(
        "kind = \"tls\"\ntarget = \"localhost:{}\"\ntls_verify = {verify}\ndays_degraded = 21\ndays_down = 7",
        addr.port()
    ))
}

#[tokio::test]
async fn tls_certificate_far_from_expiry_is_up() {
    let addr = testkit::tls::server(90).await;
    let r = run(&tls_monitor(addr, false)).await;
    assert_eq!(r.outcome, CheckOutcome::Up, "{r:?}");
    assert!(
        said(&r.reason)
            .as_deref()
            .is_some_and(|s| s.starts_with("certificate valid for 8")),
        "{r:?}"
    );
}

#[tokio::test]
async fn tls_certificate_close_to_expiry_is_degraded_then_down() {
    let r = run(&tls_monitor(testkit::tls::server(14).await, false)).await;
    assert_eq!(r.outcome, CheckOutcome::Degraded, "{r:?}");
    assert!(
        said(&r.reason)
            .as_deref()
            .is_some_and(|s| s.starts_with("certificate expires in 1")),
        "{r:?}"
    );
    let r = run(&tls_monitor(testkit::tls::server(3).await, false)).await;
    assert_eq!(r.outcome, CheckOutcome::Down, "{r:?}");
}

#[tokio::test]
async fn tls_expired_certificate_is_down() {
    let r = run(&tls_monitor(testkit::tls::server(-2).await, false)).await;
    assert_eq!(r.outcome, CheckOutcome::Down);
    assert!(
        said(&r.reason)
            .as_deref()
            .is_some_and(|s| s.starts_with("certificate expired on")),
        "{r:?}"
    );
}

#[tokio::test]
async fn tls_untrusted_chain_is_down_when_verifying() {
    let r = run(&tls_monitor(testkit::tls::server(90).await, true)).await;
    assert_eq!(r.outcome, CheckOutcome::Down);
    assert!(
        said(&r.reason)
            .as_deref()
            .is_some_and(|s| s.starts_with("TLS handshake failed") && s.contains("UnknownIssuer")),
        "{r:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// DNS
// ---------------------------------------------------------------------------------------------

/// A UDP DNS server answering from a fixed zone: A, TXT and MX for `www.example.test`.
async fn dns_server() -> SocketAddr {
    use hickory_proto::op::{Message, MessageType, ResponseCode};
    use hickory_proto::rr::rdata::{A, MX, TXT};
    use hickory_proto::rr::{Name, RData, Record, RecordType};

    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let addr = socket.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        while let Ok((n, peer)) = socket.recv_from(&mut buf).await {
            let Ok(query) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            let mut resp = Message::new();
            resp.set_id(query.id())
                .set_message_type(MessageType::Response)
                .set_op_code(query.op_code())
                .set_recursion_desired(query.recursion_desired())
                .set_recursion_available(true)
                .set_authoritative(true);
            for q in query.queries() {
                resp.add_query(q.clone());
                let name = q.name().clone();
                let www = Name::from_ascii("www.example.test.").expect("name");
                if name != www {
                    resp.set_response_code(ResponseCode::NXDomain);
                    continue;
                }
                let data = match q.query_type() {
                    RecordType::A => vec![
                        RData::A(A::new(192, 0, 2, 10)),
                        RData::A(A::new(192, 0, 2, 11)),
                    ],
                    RecordType::TXT => vec![RData::TXT(TXT::new(vec!["v=spf1 -all".into()]))],
                    RecordType::MX => vec![RData::MX(MX::new(
                        10,
                        Name::from_ascii("mail.example.test.").expect("name"),
                    ))],
                    _ => vec![],
                };
                for d in data {
                    resp.add_answer(Record::from_rdata(name.clone(), 60, d));
                }
            }
            if let Ok(bytes) = resp.to_vec() {
                let _ = socket.send_to(&bytes, peer).await;
            }
        }
    });
    addr
}

fn dns_monitor(server: SocketAddr, name: &str, rtype: &str, expected: &[&str]) -> Monitor {
    let expected = expected
        .iter()
        .map(|e| format!("\"{e}\""))
        .collect::<Vec<_>>()
        .join(", ");
    monitor(&format!(
        "kind = \"dns\"\ntarget = \"{name}\"\nrecord_type = \"{rtype}\"\nresolver = \"{server}\"\nexpected = [{expected}]\ntimeout = \"2s\""
    ))
}

#[tokio::test]
async fn dns_records_matching_the_expected_values_are_up() {
    let server = dns_server().await;
    let r = run(&dns_monitor(
        server,
        "www.example.test",
        "A",
        &["192.0.2.10", "192.0.2.11"],
    ))
    .await;
    assert_eq!(r.outcome, CheckOutcome::Up, "{r:?}");
    let r = run(&dns_monitor(
        server,
        "www.example.test",
        "TXT",
        &["v=spf1 -all"],
    ))
    .await;
    assert_eq!(r.outcome, CheckOutcome::Up, "{r:?}");
    let r = run(&dns_monitor(
        server,
        "www.example.test",
        "MX",
        &["10 mail.example.test"],
    ))
    .await;
    assert_eq!(r.outcome, CheckOutcome::Up, "{r:?}");
}

#[tokio::test]
async fn dns_unexpected_or_missing_records_are_down() {
    let server = dns_server().await;
    let r = run(&dns_monitor(
        server,
        "www.example.test",
        "A",
        &["192.0.2.99"],
    ))
    .await;
    assert_eq!(r.outcome, CheckOutcome::Down);
    assert_eq!(
        said(&r.reason).as_deref(),
        Some("A www.example.test is 192.0.2.10, 192.0.2.11, expected 192.0.2.99")
    );
    let r = run(&dns_monitor(server, "nope.example.test", "A", &[])).await;
    assert_eq!(r.outcome, CheckOutcome::Down);
    assert!(
        said(&r.reason)
            .as_deref()
            .is_some_and(|s| s.contains("nope.example.test")),
        "{r:?}"
    );
    let r = run(&dns_monitor(server, "www.example.test", "AAAA", &[])).await;
    assert_eq!(r.outcome, CheckOutcome::Down, "{r:?}");
}

// ---------------------------------------------------------------------------------------------
// vigie probe
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn cli_table_has_a_row_per_monitor_with_reasons() {
    let (addr, _) = web().await;
    let text = format!(
        "[site]\ntitle = \"T\"\n[[hosts]]\nid = \"phys-1\"\nkind = \"physical\"\n\
         [[hosts.monitors]]\nid = \"ssh\"\nkind = \"tcp\"\ntarget = \"127.0.0.1:1\"\n\
         [[groups]]\nid = \"g\"\nname = \"G\"\n\
         [[services]]\nid = \"web\"\nname = \"Web\"\ngroup = \"g\"\nhost = \"phys-1\"\n\
         [[services.monitors]]\nid = \"home\"\nkind = \"http\"\ntarget = \"http://{addr}/ok\"\n\
         [[services]]\nid = \"backups\"\nname = \"B\"\ngroup = \"g\"\n\
         [[services.monitors]]\nid = \"nightly\"\nkind = \"push\"\nflavour = \"backup\"\ninterval = \"24h\"\n"
    );
    let c = domain::config::parse("t.toml", &text).expect("valid");
    let rows = probe::cli::probe_all(&c, None, None).await.expect("rows");
    assert_eq!(rows.len(), 3);
    let table = probe::cli::render(&rows);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("SERVICE"), "{table}");
    assert!(table.contains("web") && table.contains(" up "), "{table}");
    assert!(
        table.contains("host phys-1") && table.contains("cannot connect"),
        "{table}"
    );
    assert!(table.contains("/api/v1/push/<its token>"), "{table}");
    assert!(
        table.ends_with("3 monitors: 1 up, 0 degraded, 1 down, 1 push"),
        "{table}"
    );
    let only = domain::config::Slug::parse("web").expect("slug");
    assert_eq!(
        probe::cli::probe_all(&c, Some(&only), None)
            .await
            .expect("rows")
            .len(),
        1
    );
}

/// A result's reason in English words (stored data or outside words alike).
fn said(r: &Option<String>) -> Option<String> {
    r.as_deref()
        .map(|s| domain::reason::Reason::from_stored(s).to_string())
}
