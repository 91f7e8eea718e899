//! The demo's two probe locations against the simulated estate, end to end: one location
//! partitioned alone turns nothing red (the quorum over Paris and Amsterdam holds), while the
//! outage scenario's cut hosts take their services down with the host named as the cause.

use crate::common;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use demo::estate::HostCondition;
use demo::scenario::Scenario;
use demo::{player, Demo};
use domain::config::{MonitorKind, Slug};
use domain::status::{CheckOutcome, ComponentStatus, ServiceState};
use domain::topology::Owner;

fn catalog() -> domain::config::Catalog {
    server::config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/humanoid.toml"))
        .expect("catalog")
}

async fn start_demo(dir: &tempfile::TempDir) -> Demo {
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("vigie.db").display()
    );
    server::demo_command::start(&catalog(), &url, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("demo starts")
}

/// Polls `check` every 200 ms until it returns `Some`, failing with `what` after a generous
/// limit (a safety net against a hung test, not a measured expectation).
async fn wait_for<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let limit = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < limit, "gave up waiting: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn service(id: &str) -> Owner {
    Owner::Service(Slug::parse(id).expect("slug"))
}

/// Every service's stored status and cause.
async fn statuses(demo: &Demo) -> BTreeMap<String, (ServiceState, Option<String>)> {
    store::status::current(&demo.db)
        .await
        .expect("current statuses")
        .into_iter()
        .filter_map(|c| match c.subject {
            Owner::Service(s) => Some((
                s.to_string(),
                (c.state, common::cause_sentence(c.state, c.cause.as_deref())),
            )),
            Owner::Host(_) => None,
        })
        .collect()
}

async fn all_operational(demo: &Demo) -> Option<()> {
    let s = statuses(demo).await;
    let ok = s.len() == demo.catalog.services.len()
        && s.values()
            .all(|(st, _)| *st == ServiceState::Known(ComponentStatus::Operational));
    ok.then_some(())
}

/// Every status event stored so far, services and hosts, as `subject → [to_status…]`.
async fn all_events(demo: &Demo) -> BTreeMap<String, Vec<String>> {
    let subjects = demo
        .catalog
        .services
        .iter()
        .map(|s| Owner::Service(s.id.clone()))
        .chain(demo.catalog.hosts.iter().map(|h| Owner::Host(h.id.clone())));
    let mut out = BTreeMap::new();
    for owner in subjects {
        let events = store::status::events(&demo.db, &owner)
            .await
            .expect("events");
        out.insert(
            format!("{owner:?}"),
            events.into_iter().map(|e| e.to_status).collect(),
        );
    }
    out
}

/// The confirmed state of every probed (not push) monitor, seen from `location`.
async fn confirmed_from(demo: &Demo, location: &str) -> Vec<Option<CheckOutcome>> {
    let ids = store::checks::monitor_ids(&demo.db).await.expect("ids");
    let states = store::history::load_states(&demo.db).await.expect("states");
    let probed = domain::topology::monitors(&demo.catalog)
        .filter(|(_, m)| m.kind() != MonitorKind::Push)
        .map(|(key, _)| ids.get(&key.to_string()).copied().expect("monitor id"));
    probed
        .map(|id| {
            states
                .iter()
                .find(|(m, l, _)| *m == id && l == location)
                .and_then(|(_, _, s)| s.confirmed)
        })
        .collect()
}

/// The `data-status` of each service on the public overview, as a reader's browser gets it.
async fn overview(demo: &Demo) -> (Vec<(String, String)>, String) {
    let html = reqwest::get(format!("{}/", demo.base_url))
        .await
        .expect("overview")
        .text()
        .await
        .expect("body");
    let mut out = Vec::new();
    for part in html.split("data-service=\"").skip(1) {
        let id = part.split('"').next().unwrap_or_default().to_owned();
        let tag = part.split('>').next().unwrap_or_default();
        let status = tag
            .split("data-status=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or_default()
            .to_owned();
        out.push((id, status));
    }
    (out, html)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_location_partitioned_alone_changes_no_status_and_the_page_stays_operational() {
    let _alone = common::timing_sensitive().await;
    let dir = tempfile::tempdir().expect("dir");
    let demo = start_demo(&dir).await;
    assert_eq!(
        demo.locations
            .iter()
            .map(|(l, ip)| format!("{l}={ip}"))
            .collect::<Vec<_>>(),
        ["paris=127.0.0.2", "amsterdam=127.0.0.3"]
    );
    let client = reqwest::Client::new();
    player::report_backup(&client, &demo.target(), &healthy_backup())
        .await
        .expect("first backup");
    wait_for("every service operational", || all_operational(&demo)).await;
    // Both locations really probe: each has confirmed every probed monitor up.
    for location in ["paris", "amsterdam"] {
        wait_for(&format!("{location} sees every monitor up"), || async {
            confirmed_from(&demo, location)
                .await
                .iter()
                .all(|c| *c == Some(CheckOutcome::Up))
                .then_some(())
        })
        .await;
    }
    let initial = all_events(&demo).await;
    for (subject, path) in &initial {
        assert!(
            path.iter().all(|s| s == "operational"),
            "{subject}: {path:?}"
        );
    }

    let scenario = Scenario::builtin("location-partition").expect("scenario");
    let target = demo.target();
    let play = player::play(&scenario, 2.0, &target);
    tokio::pin!(play);
    let during = async {
        // Amsterdam's results go down on every probed monitor while Paris sees them all up…
        wait_for("amsterdam's monitors confirmed down", || async {
            confirmed_from(&demo, "amsterdam")
                .await
                .iter()
                .all(|c| *c == Some(CheckOutcome::Down))
                .then_some(())
        })
        .await;
        assert!(confirmed_from(&demo, "paris")
            .await
            .iter()
            .all(|c| *c == Some(CheckOutcome::Up)));
        // …and the page readers see still says everything works.
        let (services, html) = overview(&demo).await;
        assert_eq!(services.len(), demo.catalog.services.len(), "{html}");
        for (id, status) in &services {
            assert_eq!(status, "operational", "{id} on the overview");
        }
        assert!(html.contains("Tous les services sont opérationnels"));
        assert_eq!(all_events(&demo).await, initial, "no status changed");
    };
    tokio::select! {
        r = &mut play => panic!("the partition ended before Amsterdam's trouble showed: {r:?}"),
        () = during => {}
    }
    play.await.expect("scenario plays");

    // The partition healed: Amsterdam sees everything up again, and nothing ever changed.
    wait_for("amsterdam recovered", || async {
        confirmed_from(&demo, "amsterdam")
            .await
            .iter()
            .all(|c| *c == Some(CheckOutcome::Up))
            .then_some(())
    })
    .await;
    assert_eq!(all_events(&demo).await, initial, "no status changed");
    let (services, _) = overview(&demo).await;
    assert!(services.iter().all(|(_, s)| s == "operational"));
}

fn healthy_backup() -> demo::scenario::Backup {
    demo::scenario::Backup {
        verified: true,
        bytes: 1_000_000,
        sha256: None,
        restored_in_s: Some(60),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outage_scenarios_cut_hosts_take_their_services_down_naming_the_host() {
    let _alone = common::timing_sensitive().await;
    let dir = tempfile::tempdir().expect("dir");
    let demo = start_demo(&dir).await;
    let client = reqwest::Client::new();
    player::report_backup(&client, &demo.target(), &healthy_backup())
        .await
        .expect("first backup");
    wait_for("every service operational", || all_operational(&demo)).await;

    // The scenario's own cut step: the hoster pulls phys-1 and phys-2.
    let scenario = Scenario::builtin("humanoid-outage").expect("scenario");
    let cut = scenario
        .steps
        .iter()
        .find(|s| s.cut.iter().any(|h| h == "phys-2"))
        .expect("the outage scenario cuts phys-2");
    assert_eq!(cut.cut, ["phys-1", "phys-2"]);
    for h in &cut.cut {
        demo.estate.conditions.set_host(h, HostCondition::Cut);
    }

    let on_phys_2 = [
        "frandroid",
        "appxoid",
        "lesardoises",
        "android-bundle",
        "frawin",
        "mobs",
        "project-files",
    ];
    let on_phys_1 = ["forum", "databases"];
    // Each service goes down as soon as its own monitor is confirmed down from both locations,
    // and reads its host as the cause once the host itself is confirmed unreachable.
    let expected: Vec<(&str, &str)> = on_phys_2
        .iter()
        .map(|id| (*id, "down: host phys-2 unreachable"))
        .chain(
            on_phys_1
                .iter()
                .map(|id| (*id, "down: host phys-1 unreachable")),
        )
        .collect();
    let down = wait_for("the cut hosts' services down, their host named", || async {
        let s = statuses(&demo).await;
        expected
            .iter()
            .all(|(id, cause)| {
                s.get(*id).is_some_and(|(st, c)| {
                    *st == ServiceState::Known(ComponentStatus::MajorOutage)
                        && c.as_deref() == Some(*cause)
                })
            })
            .then_some(s)
    })
    .await;
    // The services on phys-3 and phys-4 stay up.
    for id in ["backups", "database-replica"] {
        assert_eq!(
            down[id].0,
            ServiceState::Known(ComponentStatus::Operational),
            "{id}"
        );
    }
    // It went from operational to down (through degraded perhaps, as its database fell first),
    // once both locations agreed.
    let events = store::status::events(&demo.db, &service("frandroid"))
        .await
        .expect("events");
    let path: Vec<&str> = events.iter().map(|e| e.to_status.as_str()).collect();
    assert_eq!(path.first(), Some(&"operational"), "{path:?}");
    assert_eq!(path.last(), Some(&"major_outage"), "{path:?}");
    for location in ["paris", "amsterdam"] {
        let c = confirmed_from(&demo, location).await;
        assert!(c.contains(&Some(CheckOutcome::Down)), "{location}: {c:?}");
    }

    let (services, _) = overview(&demo).await;
    let status_of = |id: &str| {
        services
            .iter()
            .find(|(s, _)| s == id)
            .map(|(_, st)| st.clone())
    };
    assert_eq!(status_of("frandroid").as_deref(), Some("major_outage"));
    assert_eq!(status_of("forum").as_deref(), Some("major_outage"));
    assert_eq!(status_of("backups").as_deref(), Some("operational"));
}
