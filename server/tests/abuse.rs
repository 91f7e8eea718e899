//! A hostile client against the real server on loopback, from several source addresses of
//! 127.0.0.0/8: connection and `/events` ceilings, header-read and idle timeouts, the bounded
//! password hashing, and sign-in throttling that nobody can turn against someone else.
//!
//! The ceilings are lowered for this binary (set once, before any server starts), so a few
//! dozen sockets reach them.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use domain::staff::Role;
use reqwest::StatusCode;
use store::audit::{Actor, AuditFilter};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

mod common;

const PER_IP: usize = 48;
const TOTAL: usize = 100;
const STREAMS_PER_IP: usize = 3;
const STREAMS: usize = 5;
const PASSWORD: &str = "correct horse battery staple";
/// A reverse proxy terminating TLS, trusted for `X-Forwarded-*`.
const PROXY: &str = "127.0.0.50";

async fn start() -> common::Server {
    static LIMITS: std::sync::Once = std::sync::Once::new();
    LIMITS.call_once(|| {
        for (name, value) in [
            ("VIGIE_HEADER_READ_TIMEOUT", "1s".to_owned()),
            ("VIGIE_IDLE_TIMEOUT", "5s".to_owned()),
            ("VIGIE_MAX_CONNECTIONS", TOTAL.to_string()),
            ("VIGIE_MAX_CONNECTIONS_PER_IP", PER_IP.to_string()),
            ("VIGIE_MAX_EVENT_STREAMS", STREAMS.to_string()),
            ("VIGIE_MAX_EVENT_STREAMS_PER_IP", STREAMS_PER_IP.to_string()),
            ("VIGIE_TRUSTED_PROXIES", PROXY.to_owned()),
        ] {
            std::env::set_var(name, value);
        }
    });
    common::Server::start(&common::humanoid(), common::Probes::Off).await
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

fn addr(server: &common::Server) -> SocketAddr {
    server
        .base
        .trim_start_matches("http://")
        .parse()
        .expect("server address")
}

/// A raw connection to the server from `from`.
async fn connect_from(server: &common::Server, from: IpAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.bind(SocketAddr::new(from, 0)).expect("bind");
    socket.connect(addr(server)).await.expect("connect")
}

/// What the server writes before closing, or up to `within`.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&out).into_owned()),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

fn client_from(from: IpAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(from)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(common::REQUEST_TIMEOUT)
        .build()
        .expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_holding_connections_is_refused_with_a_sentence_and_others_still_get_the_page()
{
    let server = start().await;
    let attacker = ip("127.0.0.9");
    let mut held = Vec::new();
    for _ in 0..PER_IP {
        held.push(connect_from(&server, attacker).await);
    }
    let mut extra = connect_from(&server, attacker).await;
    let answer = read_until_closed(&mut extra, Duration::from_secs(5))
        .await
        .expect("refused at once");
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    assert!(answer.contains("Too many open connections from your address"));
    let page = client_from(ip("127.0.0.1"))
        .get(format!("{}/", server.base))
        .send()
        .await
        .expect("another address gets the page");
    assert_eq!(page.status(), StatusCode::OK);

    // Fill the server from more addresses: past the total, everyone is told to come back.
    for n in 10..=11 {
        for _ in 0..PER_IP {
            held.push(connect_from(&server, ip(&format!("127.0.0.{n}"))).await);
            if held.len() == TOTAL {
                break;
            }
        }
    }
    // Refusals are counted as connections close: give the server a moment to count them.
    tokio::time::sleep(Duration::from_millis(200)).await;
    while held.len() < TOTAL {
        held.push(connect_from(&server, ip("127.0.0.12")).await);
    }
    let mut over = connect_from(&server, ip("127.0.0.13")).await;
    let answer = read_until_closed(&mut over, Duration::from_secs(5))
        .await
        .expect("refused at once");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("connection limit"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_or_slow_connection_is_closed_by_the_timeouts() {
    let server = start().await;
    // Nothing sent: closed after the header-read timeout (1 s here).
    let mut silent = connect_from(&server, ip("127.0.0.20")).await;
    assert!(
        read_until_closed(&mut silent, Duration::from_secs(4))
            .await
            .is_some(),
        "a connection that never sends a request is closed"
    );
    // Half a request head, then nothing.
    let mut partial = connect_from(&server, ip("127.0.0.20")).await;
    partial
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    assert!(read_until_closed(&mut partial, Duration::from_secs(4))
        .await
        .is_some());
    // A body announced and never sent: closed after the idle timeout (5 s here).
    let mut slow = connect_from(&server, ip("127.0.0.20")).await;
    slow.write_all(
        b"POST /admin/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nemail=",
    )
    .await
    .expect("write");
    assert!(
        read_until_closed(&mut slow, Duration::from_secs(12))
            .await
            .is_some(),
        "a body that never comes does not hold the connection forever"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_streams_are_capped_per_address_and_in_total_with_a_clear_refusal() {
    let server = start().await;
    let open = |from: &str| {
        let c = client_from(ip(from));
        let url = format!("{}/events", server.base);
        async move { c.get(url).send().await.expect("events") }
    };
    let mut streams = Vec::new();
    for _ in 0..STREAMS_PER_IP {
        let res = open("127.0.0.30").await;
        assert_eq!(res.status(), StatusCode::OK);
        streams.push(res);
    }
    let refused = open("127.0.0.30").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    assert!(refused
        .text()
        .await
        .expect("body")
        .contains("Too many live-update streams"));
    for _ in STREAMS_PER_IP..STREAMS {
        let res = open("127.0.0.31").await;
        assert_eq!(res.status(), StatusCode::OK);
        streams.push(res);
    }
    let full = open("127.0.0.32").await;
    assert_eq!(full.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(full
        .text()
        .await
        .expect("body")
        .contains("limit of live-update streams"));
    // A closed stream gives its place back.
    drop(streams.pop());
    let mut reopened = None;
    for _ in 0..50 {
        let res = open("127.0.0.32").await;
        if res.status() == StatusCode::OK {
            reopened = Some(res);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reopened.is_some(), "the freed place is taken again");
}

async fn alice(server: &common::Server) {
    let hash = store::users::hash_password(PASSWORD).expect("hash");
    store::users::create(
        &server.db,
        "alice@example.org",
        Role::Admin,
        &hash,
        &Actor::cli(),
        chrono::Utc::now(),
    )
    .await
    .expect("user");
}

/// A sign-in from `from`, with a matching CSRF pair; the status and the page.
async fn sign_in(
    server: &common::Server,
    from: IpAddr,
    email: &str,
    password: &str,
) -> (StatusCode, String) {
    let res = client_from(from)
        .post(format!("{}/admin/login", server.base))
        .header("cookie", "vigie_login_csrf=pair")
        .form(&[("csrf", "pair"), ("email", email), ("password", password)])
        .send()
        .await
        .expect("sign-in");
    let status = res.status();
    (status, res.text().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_flood_runs_few_hashes_at_once_and_the_rest_is_told_to_come_back() {
    let server = start().await;
    alice(&server).await;
    // 64 clients, each from its own address (so throttling stays out of the way).
    let tries = (1..=64).map(|n| {
        sign_in(
            &server,
            ip(&format!("127.0.2.{n}")),
            "alice@example.org",
            "wrong password",
        )
    });
    let answers = futures::future::join_all(tries).await;
    let busy = answers
        .iter()
        .filter(|(s, body)| {
            *s == StatusCode::TOO_MANY_REQUESTS && body.contains("Too many sign-ins at once")
        })
        .count();
    let checked = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!(busy + checked, 64, "{answers:?}");
    // Two hashing slots and 32 places in line: at least 30 are turned away at once.
    assert!(busy >= 30, "{busy} refused, {checked} checked");
    // A refused attempt is not a failure: the same address may try again.
    let (status, _) = sign_in(&server, ip("127.0.2.64"), "alice@example.org", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_guesses_are_counted_and_cannot_lock_out_the_right_password_elsewhere() {
    let server = start().await;
    alice(&server).await;
    let attacker = ip("127.0.0.40");
    let guesses = (0..40).map(|_| sign_in(&server, attacker, "alice@example.org", "guess"));
    let answers = futures::future::join_all(guesses).await;
    let checked = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::UNAUTHORIZED)
        .count();
    let throttled = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(checked + throttled, 40, "{answers:?}");
    assert!(
        checked <= server::auth::throttle::PAIR_FREE_FAILURES as usize,
        "{checked} of 40 concurrent guesses were checked"
    );
    // Attempts turned away because the hashing slots were busy were not checked, so they do
    // not count; past the five, one guess a second, then every 2, 4… seconds.
    let mut more = 0;
    while sign_in(&server, attacker, "alice@example.org", "guess")
        .await
        .0
        == StatusCode::UNAUTHORIZED
    {
        more += 1;
        assert!(checked + more <= 7, "{checked} + {more} guesses checked");
    }
    let (status, _) = sign_in(&server, attacker, "alice@example.org", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the attacker waits");
    let (status, _) = sign_in(&server, ip("127.0.0.41"), "alice@example.org", PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the right password from a clean address is not refused"
    );

    // From many addresses, a few at a time: the account is under attack, staff are told once.
    let under = server::auth::throttle::UNDER_ATTACK as usize;
    for batch in (0..under + 2).collect::<Vec<_>>().chunks(2) {
        let tries = batch.iter().map(|n| {
            sign_in(
                &server,
                ip(&format!("127.0.3.{}", n + 1)),
                "alice@example.org",
                "guess",
            )
        });
        for (status, _) in futures::future::join_all(tries).await {
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
    }
    let entries = store::audit::list(&server.db, &AuditFilter::default(), 0, 200)
        .await
        .expect("audit")
        .0;
    let alerts: Vec<_> = entries
        .iter()
        .filter(|e| e.action == "auth.under_attack")
        .collect();
    assert_eq!(alerts.len(), 1, "{entries:?}");
    assert!(alerts[0].details.contains("alice@example.org"));
    let (status, _) = sign_in(&server, ip("127.0.0.42"), "alice@example.org", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "still, from a clean address");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_https_cookies_take_the_host_prefix_and_an_empty_csrf_pair_is_refused() {
    let server = start().await;
    alice(&server).await;
    let proxied = |cookie: &str, csrf: &str| {
        client_from(ip(PROXY))
            .post(format!("{}/admin/login", server.base))
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-for", "198.51.100.7")
            .header("cookie", cookie.to_owned())
            .form(&[
                ("csrf", csrf),
                ("email", "alice@example.org"),
                ("password", PASSWORD),
            ])
            .send()
    };
    // Without the prefix, the sign-in form's cookie is not this site's over HTTPS.
    let res = proxied("vigie_login_csrf=pair", "pair")
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = proxied("__Host-vigie_login_csrf=pair", "pair")
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let session = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("vigie_session="))
        .expect("session cookie")
        .to_owned();
    assert!(session.starts_with("__Host-vigie_session="), "{session}");
    assert!(
        session.contains("; Secure") && session.contains("Path=/"),
        "{session}"
    );

    // An empty cookie with an empty field is no pair at all.
    for (cookie, csrf) in [("vigie_login_csrf=", ""), ("other=1", "")] {
        let res = client_from(ip("127.0.0.51"))
            .post(format!("{}/admin/login", server.base))
            .header("cookie", cookie)
            .form(&[
                ("csrf", csrf),
                ("email", "alice@example.org"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{cookie:?}");
    }
}
