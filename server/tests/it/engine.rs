//! The probe engine end to end on a fresh SQLite database against loopback servers: confirmed
//! outages and recoveries with their cause, host outages, the retry interval, per-host
//! concurrency, push and backup heartbeats, and state surviving a restart.

use crate::common;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use domain::config::{Catalog, Slug};
use domain::status::{ComponentStatus, ServiceState};
use domain::topology::{Owner, StatusChange};
use probe::engine::{self, Engine, EngineConfig};
use tokio::net::TcpListener;
use tokio::sync::broadcast;

#[derive(Clone, Default)]
struct Site {
    failing: Arc<AtomicBool>,
    /// Requests from these source addresses fail (a location's network trouble).
    failing_from: Arc<std::sync::Mutex<Vec<std::net::IpAddr>>>,
    hits: Arc<AtomicUsize>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
}

struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn site() -> (SocketAddr, Site) {
    let state = Site::default();
    let app = Router::new()
        .route(
            "/switch",
            get(|State(s): State<Site>| async move {
                s.hits.fetch_add(1, Ordering::SeqCst);
                if s.failing.load(Ordering::SeqCst) {
                    (StatusCode::SERVICE_UNAVAILABLE, "down").into_response()
                } else {
                    "up".into_response()
                }
            }),
        )
        .route(
            "/by-peer",
            get(
                |State(s): State<Site>,
                 axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<SocketAddr>| async move {
                    let failing = s
                        .failing_from
                        .lock()
                        .map(|f| f.contains(&peer.ip()))
                        .unwrap_or(false);
                    if failing || s.failing.load(Ordering::SeqCst) {
                        (StatusCode::BAD_GATEWAY, "down").into_response()
                    } else {
                        "up".into_response()
                    }
                },
            ),
        )
        .route(
            "/slow",
            get(|State(s): State<Site>| async move {
                let now = s.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                let _guard = InFlight(s.in_flight.clone());
                s.max_in_flight.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(150)).await;
                "slow"
            }),
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

struct Running {
    engine: Engine,
    db: store::Db,
    catalog: Arc<Catalog>,
    _dir: Arc<tempfile::TempDir>,
    url: String,
}

fn fast(catalog: &Catalog) -> EngineConfig {
    let mut cfg = EngineConfig::for_catalog(catalog, None);
    cfg.flush_every = Duration::from_millis(50);
    cfg.reevaluate_every = Duration::from_millis(100);
    cfg
}

async fn start(text: &str) -> Running {
    let catalog = domain::config::parse("t.toml", text).unwrap_or_else(|e| panic!("{e}"));
    let dir = Arc::new(tempfile::tempdir().expect("dir"));
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("vigie.db").display()
    );
    restart(catalog, dir, url, fast).await
}

async fn restart(
    catalog: Catalog,
    dir: Arc<tempfile::TempDir>,
    url: String,
    cfg: impl Fn(&Catalog) -> EngineConfig,
) -> Running {
    let db = server::startup::prepare_database(&catalog, &url)
        .await
        .expect("database");
    let cfg = cfg(&catalog);
    let catalog = Arc::new(catalog);
    let engine = engine::start(catalog.clone(), db.clone(), cfg)
        .await
        .expect("engine");
    Running {
        engine,
        db,
        catalog,
        _dir: dir,
        url,
    }
}

/// The push token the engine generated at its start for the catalog's one push monitor.
fn generated_token(r: &Running) -> String {
    let mut new = r.engine.take_new_tokens();
    assert_eq!(
        new.len(),
        1,
        "one push monitor, one token generated: {new:?}"
    );
    assert!(r.engine.take_new_tokens().is_empty(), "shown once");
    let token = new.remove(0).token;
    assert!(token.len() >= 40, "at least 128 bits: {token}");
    token
}

fn guard() -> Arc<server::probing::PushGuard> {
    server::probing::PushGuard::new(Arc::new(Vec::new()))
}

/// Waits for a change of `subject` to `to`, returning it.
async fn wait_for(
    rx: &mut broadcast::Receiver<StatusChange>,
    subject: &Owner,
    to: ComponentStatus,
) -> StatusChange {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Ok(c)) if &c.subject == subject && c.to == ServiceState::Known(to) => return c,
            Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(e)) => panic!("broadcast closed: {e}"),
            Err(_) => panic!("no change of {subject:?} to {to:?} within 10 s"),
        }
    }
}

fn service(id: &str) -> Owner {
    Owner::Service(Slug::parse(id).expect("slug"))
}

const HEAD: &str = "[site]\ntitle = \"T\"\n[[groups]]\nid = \"g\"\nname = \"G\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_is_confirmed_stored_with_its_cause_broadcast_and_recovered() {
    let (addr, site) = site().await;
    let text = format!(
        "{HEAD}[[services]]\nid = \"web\"\nname = \"Web\"\ngroup = \"g\"\n\
         [[services.monitors]]\nid = \"home\"\nkind = \"http\"\ntarget = \"http://{addr}/switch\"\n\
         interval = \"400ms\"\nretry_interval = \"100ms\"\nconfirm = 2\nrecover = 2\n"
    );
    let r = start(&text).await;
    let mut rx = r.engine.subscribe();
    let web = service("web");
    wait_for(&mut rx, &web, ComponentStatus::Operational).await;

    site.failing.store(true, Ordering::SeqCst);
    let change = wait_for(&mut rx, &web, ComponentStatus::MajorOutage).await;
    assert_eq!(
        common::cause_sentence(change.to, change.cause.as_deref()).as_deref(),
        Some("down: monitor home: HTTP 503 (expected 200-399)")
    );
    assert_eq!(
        change.from,
        Some(ServiceState::Known(ComponentStatus::Operational))
    );
    let current = store::status::current(&r.db).await.expect("current");
    let stored = current
        .iter()
        .find(|c| c.subject == web)
        .expect("web stored");
    assert_eq!(
        stored.state,
        ServiceState::Known(ComponentStatus::MajorOutage)
    );
    assert_eq!(stored.cause, change.cause);

    // While failing, the monitor is re-checked at its retry interval (100 ms, not 400 ms).
    let before = site.hits.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let during = site.hits.load(Ordering::SeqCst) - before;
    assert!(during >= 5, "only {during} checks in 1 s while failing");

    site.failing.store(false, Ordering::SeqCst);
    wait_for(&mut rx, &web, ComponentStatus::Operational).await;
    let events = store::status::events(&r.db, &web).await.expect("events");
    let path: Vec<&str> = events.iter().map(|e| e.to_status.as_str()).collect();
    assert_eq!(path, ["operational", "major_outage", "operational"]);
    let monitor_id = store::checks::monitor_id(&r.db, "service/web/home")
        .await
        .expect("query")
        .expect("monitor");
    let monitor_events = store::history::monitor_events(&r.db, monitor_id)
        .await
        .expect("events");
    assert_eq!(monitor_events.len(), 3);

    // A restart resumes from the stored states: no spurious change, no event.
    let Running {
        engine,
        catalog,
        _dir,
        url,
        ..
    } = r;
    drop(engine);
    let r = restart((*catalog).clone(), _dir, url, fast).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let again = store::status::events(&r.db, &web).await.expect("events");
    assert_eq!(again.len(), 3, "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_down_host_takes_its_services_down_with_the_host_as_cause() {
    let (addr, _) = site().await;
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        l.local_addr().expect("addr")
    };
    let text = format!(
        "{HEAD}[[hosts]]\nid = \"phys-1\"\nkind = \"physical\"\n\
         [[hosts.monitors]]\nid = \"ssh\"\nkind = \"tcp\"\ntarget = \"{closed}\"\ninterval = \"300ms\"\nconfirm = 1\n\
         [[hosts]]\nid = \"vm-1\"\nkind = \"vm\"\nparent = \"phys-1\"\n\
         [[services]]\nid = \"web\"\nname = \"Web\"\ngroup = \"g\"\nhost = \"vm-1\"\n\
         [[services.monitors]]\nid = \"home\"\nkind = \"http\"\ntarget = \"http://{addr}/switch\"\ninterval = \"300ms\"\n\
         [[services]]\nid = \"other\"\nname = \"Other\"\ngroup = \"g\"\n\
         [[services.monitors]]\nid = \"home\"\nkind = \"http\"\ntarget = \"http://{addr}/switch\"\ninterval = \"300ms\"\n"
    );
    let r = start(&text).await;
    let mut rx = r.engine.subscribe();
    let change = wait_for(&mut rx, &service("web"), ComponentStatus::MajorOutage).await;
    assert_eq!(
        common::cause_sentence(change.to, change.cause.as_deref()).as_deref(),
        Some("down: host phys-1 unreachable")
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let current = store::status::current(&r.db).await.expect("current");
    let of = |o: Owner| current.iter().find(|c| c.subject == o).map(|c| c.state);
    assert_eq!(
        of(service("other")),
        Some(ServiceState::Known(ComponentStatus::Operational))
    );
    assert_eq!(
        of(Owner::Host(Slug::parse("vm-1").expect("slug"))),
        Some(ServiceState::Known(ComponentStatus::MajorOutage))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_against_one_host_respect_the_per_host_limit() {
    let (addr, site) = site().await;
    let mut text = HEAD.to_owned();
    for i in 0..6 {
        text.push_str(&format!(
            "[[services]]\nid = \"s{i}\"\nname = \"S\"\ngroup = \"g\"\n\
             [[services.monitors]]\nid = \"slow\"\nkind = \"http\"\ntarget = \"http://{addr}/slow\"\ninterval = \"200ms\"\n"
        ));
    }
    let catalog = domain::config::parse("t.toml", &text).expect("valid");
    let dir = Arc::new(tempfile::tempdir().expect("dir"));
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("vigie.db").display()
    );
    let r = restart(catalog, dir, url, |c| {
        let mut cfg = fast(c);
        cfg.per_host_concurrency = 2;
        cfg
    })
    .await;
    assert_eq!(r.engine.monitor_tasks(), 6);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let max = site.max_in_flight.load(Ordering::SeqCst);
    assert_eq!(max, 2, "at most 2 checks at once against one host");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_heartbeats_drive_the_backup_service_and_bad_requests_are_refused() {
    let text = format!(
        "{HEAD}[[services]]\nid = \"backups\"\nname = \"Backups\"\ngroup = \"g\"\n\
         [[services.monitors]]\nid = \"nightly\"\nkind = \"push\"\nflavour = \"backup\"\n\
         interval = \"1h\"\ngrace = \"10m\"\nconfirm = 1\nrecover = 1\n"
    );
    let r = start(&text).await;
    let token = generated_token(&r);
    let mut rx = r.engine.subscribe();
    let app: Router = server::probing::push_router(r.engine.heartbeats(), guard());
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let http = reqwest::Client::new();
    let url = |token: &str| format!("http://{addr}/api/v1/push/{token}");

    let resp = http
        .post(url("nope"))
        .json(&serde_json::json!({"verified": true}))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 404);
    let resp = http
        .post(url(&token))
        .json(&serde_json::json!({"bytes": 10}))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 400, "a backup beat needs `verified`");
    let resp = http
        .post(url(&token))
        .body("{not json")
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 400);
    let resp = http
        .get(format!("{}?status=green", url(&token)))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 400);

    // The corrupt backup of the outage: it ran, but the restore test failed.
    let resp = http
        .post(url(&token))
        .json(&serde_json::json!({"verified": false, "bytes": 123_456, "sha256": "ab".repeat(32)}))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 200);
    let change = wait_for(&mut rx, &service("backups"), ComponentStatus::MajorOutage).await;
    assert_eq!(
        common::cause_sentence(change.to, change.cause.as_deref()).as_deref(),
        Some("down: monitor nightly: backup verification failed (123456 bytes)")
    );

    let resp = http
        .get(format!(
            "{}?verified=true&bytes=123456&restored_in_s=42",
            url(&token)
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 200);
    wait_for(&mut rx, &service("backups"), ComponentStatus::Operational).await;
}

/// `vigie serve` runs the engine: the public page shows the computed status, and the push
/// endpoint is routed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_page_shows_computed_statuses_and_routes_heartbeats() {
    let _alone = common::timing_sensitive().await;
    let (addr, site) = site().await;
    site.failing.store(true, Ordering::SeqCst);
    let dir = tempfile::tempdir().expect("dir");
    // The push token comes from a file the configuration points at.
    let token_file = dir.path().join("push-token");
    std::fs::write(&token_file, "tok-backup-0123456789abcdef\n").expect("token file");
    let text = format!(
        "{HEAD}[[services]]\nid = \"web\"\nname = \"Web\"\ngroup = \"g\"\n\
         [[services.monitors]]\nid = \"home\"\nkind = \"http\"\ntarget = \"http://{addr}/switch\"\n\
         interval = \"300ms\"\nconfirm = 1\n\
         [[services]]\nid = \"backups\"\nname = \"Backups\"\ngroup = \"g\"\n\
         [[services.monitors]]\nid = \"nightly\"\nkind = \"push\"\nflavour = \"backup\"\ntoken = \"${{file:{}}}\"\ninterval = \"1h\"\n",
        token_file.display()
    );
    let catalog = domain::config::parse("t.toml", &text).expect("valid");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("vigie.db").display()
    );
    let running = server::startup::spawn(&catalog, &url, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("server starts");
    let base = format!("http://{}", running.addr);
    let http = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let body = http
            .get(format!("{base}/"))
            .send()
            .await
            .expect("get")
            .text()
            .await
            .expect("body");
        if body.contains("major_outage") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the page never showed the outage"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let resp = http
        .post(format!("{base}/api/v1/push/unknown"))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 404);
    let resp = http
        .post(format!("{base}/api/v1/push/tok-backup-0123456789abcdef"))
        .json(&serde_json::json!({"verified": true}))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 200);
    running.task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_heartbeat_is_noticed_after_interval_and_grace() {
    let text = format!(
        "{HEAD}[[services]]\nid = \"cron\"\nname = \"Cron\"\ngroup = \"g\"\n\
         [[services.monitors]]\nid = \"beat\"\nkind = \"push\"\n\
         interval = \"1s\"\ngrace = \"500ms\"\nconfirm = 1\nrecover = 1\n"
    );
    let r = start(&text).await;
    let token = generated_token(&r);
    let mut rx = r.engine.subscribe();
    let beat = r
        .engine
        .push
        .beat(&token, Default::default(), chrono::Utc::now())
        .expect("accepted");
    assert_eq!(beat.to_string(), "service/cron/beat");
    wait_for(&mut rx, &service("cron"), ComponentStatus::Operational).await;
    let change = wait_for(&mut rx, &service("cron"), ComponentStatus::MajorOutage).await;
    assert!(
        common::cause_sentence(change.to, change.cause.as_deref())
            .is_some_and(|c| c.starts_with("down: monitor beat: stale: last heartbeat at")),
        "{change:?}"
    );
}

/// The newest heartbeat is in the database: an engine started after the one that received it
/// (a restart, or another instance) judges from it, instead of waiting for a heartbeat of its
/// own and then calling it missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_heartbeat_outlives_the_instance_that_received_it() {
    let text = format!(
        "{HEAD}[[services]]\nid = \"cron\"\nname = \"Cron\"\ngroup = \"g\"\n\
         [[services.monitors]]\nid = \"beat\"\nkind = \"push\"\n\
         interval = \"1s\"\ngrace = \"500ms\"\nconfirm = 1\nrecover = 1\n"
    );
    let first = start(&text).await;
    let token = generated_token(&first);
    let mut rx = first.engine.subscribe();
    // Through the heartbeat route, which stores it.
    let route: axum::Router = server::probing::push_router(first.engine.heartbeats(), guard());
    let answer = tower::ServiceExt::oneshot(
        route,
        axum::http::Request::post(format!("/api/v1/push/{token}"))
            .body(axum::body::Body::empty())
            .expect("request"),
    )
    .await
    .expect("answer");
    assert_eq!(answer.status(), 200);
    wait_for(&mut rx, &service("cron"), ComponentStatus::Operational).await;
    let (catalog, dir, url) = (
        (*first.catalog).clone(),
        first._dir.clone(),
        first.url.clone(),
    );
    drop(first);
    let second = restart(catalog, dir, url, fast).await;
    let mut rx = second.engine.subscribe();
    let change = wait_for(&mut rx, &service("cron"), ComponentStatus::MajorOutage).await;
    assert!(
        common::cause_sentence(change.to, change.cause.as_deref())
            .is_some_and(|c| c.starts_with("down: monitor beat: stale: last heartbeat at")),
        "judged from the stored heartbeat: {change:?}"
    );
}

/// Two locations on one machine (sources 127.0.0.2 and 127.0.0.3), two engines sharing one
/// database: one location failing alone is its own trouble; both failing is an outage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_needs_a_quorum_of_locations() {
    let (addr, site) = site().await;
    let text = format!(
        "[site]\ntitle = \"T\"\n[probe]\nlocation = \"paris\"\n\
         [[locations]]\nid = \"paris\"\n[[locations]]\nid = \"amsterdam\"\n\
         [[groups]]\nid = \"g\"\nname = \"G\"\n\
         [[services]]\nid = \"web\"\nname = \"Web\"\ngroup = \"g\"\n\
         [[services.monitors]]\nid = \"home\"\nkind = \"http\"\ntarget = \"http://{addr}/by-peer\"\n\
         interval = \"200ms\"\nretry_interval = \"100ms\"\n"
    );
    let paris_ip: std::net::IpAddr = "127.0.0.2".parse().expect("ip");
    let amsterdam_ip: std::net::IpAddr = "127.0.0.3".parse().expect("ip");
    let catalog = domain::config::parse("t.toml", &text).expect("valid");
    let dir = Arc::new(tempfile::tempdir().expect("dir"));
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("vigie.db").display()
    );
    let paris = restart(catalog.clone(), dir.clone(), url.clone(), |c| {
        let mut cfg = fast(c);
        cfg.source = Some(paris_ip);
        cfg
    })
    .await;
    let amsterdam = engine::start(paris.catalog.clone(), paris.db.clone(), {
        let mut cfg = fast(&catalog);
        cfg.location = Slug::parse("amsterdam").expect("slug");
        cfg.source = Some(amsterdam_ip);
        cfg
    })
    .await
    .expect("second location");
    let mut rx = paris.engine.subscribe();
    let web = service("web");
    wait_for(&mut rx, &web, ComponentStatus::Operational).await;

    // Paris' network is cut: its probes fail, Amsterdam's succeed.
    site.failing_from.lock().expect("lock").push(paris_ip);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let id = store::checks::monitor_id(&paris.db, "service/web/home")
        .await
        .expect("query")
        .expect("monitor");
    let states = store::history::load_states(&paris.db)
        .await
        .expect("states");
    let of = |loc: &str| {
        states
            .iter()
            .find(|(m, l, _)| *m == id && l == loc)
            .and_then(|(_, _, s)| s.confirmed)
    };
    assert_eq!(of("paris"), Some(domain::status::CheckOutcome::Down));
    assert_eq!(of("amsterdam"), Some(domain::status::CheckOutcome::Up));
    let current = store::status::current(&paris.db).await.expect("current");
    let stored = current.iter().find(|c| c.subject == web).expect("web");
    assert_eq!(
        stored.state,
        ServiceState::Known(ComponentStatus::Operational),
        "one location failing alone is not an outage"
    );

    // Now it fails from everywhere.
    site.failing.store(true, Ordering::SeqCst);
    let change = wait_for(&mut rx, &web, ComponentStatus::MajorOutage).await;
    assert_eq!(
        common::cause_sentence(change.to, change.cause.as_deref()).as_deref(),
        Some("down: monitor home: HTTP 502 (expected 200-399)")
    );
    let events = store::status::events(&paris.db, &web)
        .await
        .expect("events");
    let path: Vec<&str> = events.iter().map(|e| e.to_status.as_str()).collect();
    assert_eq!(
        path,
        ["operational", "major_outage"],
        "each change recorded once"
    );
    drop(amsterdam);
}
