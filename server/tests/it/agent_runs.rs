//! `vigie-agent` (the `agent` crate, run here as a task) against a real central on loopback:
//! two agents probing from their own source addresses feed central's quorum; one killed goes
//! stale and changes no status; an agent cut off from central keeps probing and, once central
//! is reachable again, sends what it saw, in order and once, so the outage it saw is in the
//! history exactly once.

use crate::common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use common::{client, Probes, Server};
use domain::status::{ComponentStatus, ServiceState};
use domain::topology::Owner;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::Instant;

/// A site whose `/switch` fails (503) while the flag is set.
async fn site() -> (SocketAddr, Arc<AtomicBool>) {
    let failing = Arc::new(AtomicBool::new(false));
    let app = Router::new()
        .route(
            "/switch",
            get(|State(f): State<Arc<AtomicBool>>| async move {
                if f.load(Ordering::SeqCst) {
                    (StatusCode::SERVICE_UNAVAILABLE, "down").into_response()
                } else {
                    "up".into_response()
                }
            }),
        )
        .with_state(failing.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, failing)
}

/// A TCP relay to `to` that can be cut: while cut, connections are closed, new and open ones
/// alike (central unreachable, as when its network goes).
async fn relay(to: SocketAddr) -> (SocketAddr, watch::Sender<bool>) {
    let (cut, watch_cut) = watch::channel(false);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                return;
            };
            let mut cut = watch_cut.clone();
            if *cut.borrow() {
                continue; // dropped: closed at once
            }
            tokio::spawn(async move {
                let Ok(mut outbound) = TcpStream::connect(to).await else {
                    return;
                };
                tokio::select! {
                    _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                    _ = cut.wait_for(|c| *c) => {}
                }
            });
        }
    });
    (addr, cut)
}

fn catalog(target: SocketAddr, locations: &str) -> domain::config::Catalog {
    let text = format!(
        r#"
[site]
title = "Agents"
[probe]
location = "paris"
[[locations]]
id = "paris"
name = "Paris"
[[locations]]
id = "amsterdam"
name = "Amsterdam"
[[locations]]
id = "london"
name = "London"
[[groups]]
id = "g"
name = "G"
[[services]]
id = "web"
name = "Web"
group = "g"
[[services.monitors]]
id = "home"
kind = "http"
target = "http://{target}/switch"
interval = "1s"
retry_interval = "500ms"
timeout = "800ms"
confirm = 1
recover = 1
locations = [{locations}]
"#
    );
    domain::config::parse("t.toml", &text).unwrap_or_else(|e| panic!("{e}"))
}

async fn token(server: &Server, location: &str) -> String {
    store::tokens::agent::create_token(
        &server.db,
        location,
        &format!("{location}-1"),
        &store::audit::Actor::cli(),
        Utc::now(),
    )
    .await
    .expect("token")
    .0
}

fn options(central: &str, token: String, source: &str) -> agent::Options {
    let mut o = agent::Options::new(central, token);
    o.source = Some(source.parse().expect("ip"));
    o.poll_every = Duration::from_millis(500);
    o.send_every = Duration::from_millis(200);
    o
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

async fn location_state(server: &Server, id: &str) -> String {
    let list: Value = client()
        .get(format!("{}/api/v1/locations", server.base))
        .send()
        .await
        .expect("locations")
        .json()
        .await
        .expect("JSON");
    list["locations"]
        .as_array()
        .expect("list")
        .iter()
        .find(|l| l["id"] == id)
        .and_then(|l| l["state"].as_str())
        .unwrap_or("absent")
        .to_owned()
}

fn web() -> Owner {
    Owner::Service(domain::config::Slug::parse("web").expect("slug"))
}

async fn web_status(server: &Server) -> Option<ServiceState> {
    store::status::current(&server.db)
        .await
        .expect("status")
        .into_iter()
        .find(|c| c.subject == web())
        .map(|c| c.state)
}

/// Two agents (sources 127.0.0.2 and 127.0.0.3) make the service operational; killing one
/// makes its location stale within a few seconds and records no status change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_agent_goes_stale_and_changes_no_status() {
    let (target, _failing) = site().await;
    let catalog = catalog(target, r#""amsterdam", "london""#);
    let server = Server::start(&catalog, Probes::On).await;
    let ams = tokio::spawn(agent::run(options(
        &server.base,
        token(&server, "amsterdam").await,
        "127.0.0.2",
    )));
    let lon = tokio::spawn(agent::run(options(
        &server.base,
        token(&server, "london").await,
        "127.0.0.3",
    )));
    until(
        "both locations reporting",
        Duration::from_secs(20),
        || async {
            location_state(&server, "amsterdam").await == "reporting"
                && location_state(&server, "london").await == "reporting"
        },
    )
    .await;
    until("web operational", Duration::from_secs(20), || async {
        web_status(&server).await == Some(ServiceState::Known(ComponentStatus::Operational))
    })
    .await;
    let events = store::status::events(&server.db, &web())
        .await
        .expect("events")
        .len();

    ams.abort();
    let _ = ams.await;
    until("amsterdam stale", Duration::from_secs(20), || async {
        location_state(&server, "amsterdam").await == "stale"
    })
    .await;
    // A few more evaluations of the quorum without amsterdam.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(location_state(&server, "london").await, "reporting");
    assert_eq!(
        web_status(&server).await,
        Some(ServiceState::Known(ComponentStatus::Operational))
    );
    let after = store::status::events(&server.db, &web())
        .await
        .expect("events");
    assert_eq!(after.len(), events, "no status change: {after:?}");
    lon.abort();
}

/// Central unreachable for several intervals while the target goes down and back: the agent
/// keeps probing, then sends everything once central answers; the results are stored once,
/// in order, and the outage is in the service's history once, at the results' own times,
/// while the current status never shows it (it was over before central heard of it).
async fn results_seen_while_central_was_unreachable_arrive_once_and_in_order() {
    let _timing = common::timing_sensitive().await;
    let (target, failing) = site().await;
    let catalog = catalog(target, r#""amsterdam""#);
    let server = Server::start(&catalog, Probes::On).await;
    let central: SocketAddr = server
        .base
        .trim_start_matches("http://")
        .parse()
        .expect("addr");
    let (via, cut) = relay(central).await;
    let agent = tokio::spawn(agent::run(options(
        &format!("http://{via}"),
        token(&server, "amsterdam").await,
        "127.0.0.2",
    )));
    until("amsterdam reporting", Duration::from_secs(20), || async {
        location_state(&server, "amsterdam").await == "reporting"
    })
    .await;

    until("web operational", Duration::from_secs(20), || async {
        web_status(&server).await == Some(ServiceState::Known(ComponentStatus::Operational))
    })
    .await;

    cut.send(true).expect("cut");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let failed_at = Utc::now();
    failing.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let recovered_at = Utc::now();
    failing.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let seen_until = Utc::now();
    cut.send(false).expect("restore");

    let monitor = store::checks::monitor_id(&server.db, "service/web/home")
        .await
        .expect("id")
        .expect("monitor");
    let history = || async {
        use store::entity::check_result;
        check_result::Entity::find()
            .filter(check_result::Column::MonitorId.eq(monitor))
            .filter(check_result::Column::LocationId.eq("amsterdam"))
            .order_by_asc(check_result::Column::CheckedAt)
            .all(&server.db)
            .await
            .expect("history")
    };
    until(
        "the results seen while cut off",
        Duration::from_secs(20),
        || async { history().await.iter().any(|c| c.checked_at > seen_until) },
    )
    .await;
    let rows = history().await;
    let outcomes: Vec<&str> = rows.iter().map(|c| c.outcome.as_str()).collect();
    // One run of failures, between ups: the outage, once.
    let mut runs = 0;
    for (i, o) in outcomes.iter().enumerate() {
        if *o == "down" && (i == 0 || outcomes[i - 1] != "down") {
            runs += 1;
        }
    }
    assert_eq!(runs, 1, "one outage in the history: {outcomes:?}");
    let downs = outcomes.iter().filter(|o| **o == "down").count();
    assert!(downs >= 3, "failures every retry interval: {outcomes:?}");
    assert_eq!(outcomes.last(), Some(&"up"));
    // Each result stored once, in the order it was made.
    let mut at: Vec<_> = rows.iter().map(|c| c.checked_at).collect();
    let n = at.len();
    at.dedup();
    assert_eq!(at.len(), n, "a result stored twice");
    assert!(rows.iter().all(|c| c.reason.as_deref() != Some("")));

    // The service's history: one outage, from the first failure to the first success after.
    until("web operational again", Duration::from_secs(20), || async {
        web_status(&server).await == Some(ServiceState::Known(ComponentStatus::Operational))
    })
    .await;
    let first_down = rows
        .iter()
        .find(|c| c.outcome == "down")
        .map(|c| c.checked_at)
        .expect("a failure");
    let first_up_after = rows
        .iter()
        .find(|c| c.outcome == "up" && c.checked_at > first_down)
        .map(|c| c.checked_at)
        .expect("a success after");
    assert!(first_down >= failed_at && first_up_after >= recovered_at);
    let events: Vec<(String, chrono::DateTime<Utc>)> = store::status::events(&server.db, &web())
        .await
        .expect("events")
        .into_iter()
        .map(|e| (e.to_status, e.at))
        .collect();
    let outages: Vec<usize> = (0..events.len())
        .filter(|&i| events[i].0 == "major_outage")
        .collect();
    assert_eq!(outages.len(), 1, "the outage once: {events:?}");
    let i = outages[0];
    assert_eq!(
        events[i].1, first_down,
        "from its first failure: {events:?}"
    );
    assert_eq!(
        events.get(i + 1),
        Some(&("operational".to_owned(), first_up_after)),
        "to the first success after it: {events:?}"
    );
    agent.abort();
}

on_both!(results_seen_while_central_was_unreachable_arrive_once_and_in_order);
