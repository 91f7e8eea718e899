//! The catalog sync and the overview it feeds, on SQLite and PostgreSQL.

mod common;

use chrono::{Duration, TimeZone, Utc};
use domain::config::parse;
use domain::config::Slug;
use domain::monitor_state::MonitorState;
use domain::status::{CheckOutcome, ComponentStatus, ServiceState};
use domain::topology::{Owner, StatusChange};
use sea_orm::DatabaseConnection;
use store::checks::{self, NewCheck};
use store::history::Observation;

const CATALOG: &str = r#"
[site]
title = "Test"

[[hosts]]
id = "phys-1"
kind = "physical"

[[groups]]
id = "sites"
name = "Sites"

[[groups]]
id = "infra"
name = "Infra"

[[services]]
id = "web"
name = "Web"
group = "sites"
host = "phys-1"

[[services.monitors]]
id = "home"
kind = "http"
target = "http://127.0.0.1:9/"
interval = "30s"

[[services]]
id = "db"
name = "Database"
group = "infra"

[[services.monitors]]
id = "port"
kind = "tcp"
target = "127.0.0.1:9"
interval = "30s"
"#;

fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0)
        .single()
        .expect("valid time")
}

/// The cause the engine stores when the `port` monitor is refused.
fn port_refused() -> domain::topology::Cause {
    domain::topology::Cause::Monitor {
        monitor: Slug::parse("port").expect("slug"),
        outcome: CheckOutcome::Down,
        reason: Some(domain::reason::Reason::text("refused")),
    }
}

/// What the probe engine writes for one confirmed result of a service's monitor: the raw
/// result with its state, and the service's new status.
async fn engine_writes(
    db: &DatabaseConnection,
    check: NewCheck,
    service: &str,
    status: ComponentStatus,
    cause: Option<domain::topology::Cause>,
) {
    let state = MonitorState {
        confirmed: Some(check.outcome),
        since: Some(check.checked_at),
        candidate: Some(check.outcome),
        streak: 2,
        last: Some(check.outcome),
        last_at: Some(check.checked_at),
        last_reason: check.reason.clone(),
    };
    let at = check.checked_at;
    let obs = Observation {
        check,
        interval: std::time::Duration::from_secs(30),
        state,
        transition: None,
    };
    store::history::record_batch(db, &[obs])
        .await
        .expect("record");
    store::status::apply(
        db,
        &[StatusChange {
            subject: Owner::Service(Slug::parse(service).expect("slug")),
            from: None,
            to: ServiceState::Known(status),
            cause: cause.map(|c| c.to_stored()),
            at,
        }],
    )
    .await
    .expect("apply");
}

fn state_of(groups: &[domain::page::GroupView], slug: &str) -> ServiceState {
    groups
        .iter()
        .flat_map(|g| &g.services)
        .find(|s| s.slug == slug)
        .unwrap_or_else(|| panic!("service {slug} not listed"))
        .state
}

async fn migrations_are_recorded_and_rerunnable(db: DatabaseConnection) {
    store::migrate(&db).await.expect("second run is a no-op");
    let applied = store::applied_migrations(&db).await.expect("list");
    assert!(applied.iter().any(|m| m.contains("catalog")), "{applied:?}");
    store::ping(&db).await.expect("ping");
}

async fn sync_lists_every_service_with_no_data_before_any_probe(db: DatabaseConnection) {
    let catalog = parse("t.toml", CATALOG).expect("valid");
    let report = store::catalog::sync(&db, &catalog, t0())
        .await
        .expect("sync");
    // 1 location, 1 host, 2 groups, 2 services, 2 monitors.
    assert_eq!(report.inserted, 8);
    let groups = store::overview::groups(&db, t0()).await.expect("overview");
    assert_eq!(
        groups.iter().map(|g| g.id.as_str()).collect::<Vec<_>>(),
        ["sites", "infra"]
    );
    assert_eq!(state_of(&groups, "web"), ServiceState::NoData);
    assert_eq!(state_of(&groups, "db"), ServiceState::NoData);
}

async fn removed_service_is_archived_with_its_history_and_comes_back(db: DatabaseConnection) {
    let catalog = parse("t.toml", CATALOG).expect("valid");
    store::catalog::sync(&db, &catalog, t0())
        .await
        .expect("sync");
    let web = checks::monitor_id(&db, "service/web/home")
        .await
        .expect("query")
        .expect("monitor");
    let check = NewCheck {
        monitor_id: web,
        location_id: "local".into(),
        checked_at: t0(),
        outcome: CheckOutcome::Down,
        latency_ms: Some(12),
        status_code: Some(503),
        reason: Some("HTTP 503".into()),
    };
    engine_writes(
        &db,
        check,
        "web",
        ComponentStatus::MajorOutage,
        Some(domain::topology::Cause::Monitor {
            monitor: Slug::parse("home").expect("slug"),
            outcome: CheckOutcome::Down,
            reason: Some(domain::reason::Reason::text("HTTP 503")),
        }),
    )
    .await;

    // Remove `web` from the configuration.
    let without_web = CATALOG
        .split("[[services]]\nid = \"web\"")
        .next()
        .expect("head")
        .to_owned()
        + "[[services]]"
        + CATALOG.split("[[services]]").nth(2).expect("db service");
    let smaller = parse("t.toml", &without_web).expect("valid");
    let report = store::catalog::sync(&db, &smaller, t0())
        .await
        .expect("resync");
    assert_eq!(report.archived, 2, "the service and its monitor");
    assert_eq!(
        store::catalog::archived_services(&db).await.expect("list"),
        vec!["web".to_owned()]
    );
    let groups = store::overview::groups(&db, t0()).await.expect("overview");
    assert!(groups
        .iter()
        .flat_map(|g| &g.services)
        .all(|s| s.slug != "web"));

    // Its history is still there: restoring the config shows the old result again.
    store::catalog::sync(&db, &catalog, t0())
        .await
        .expect("restore");
    assert_eq!(
        checks::monitor_id(&db, "service/web/home")
            .await
            .expect("query"),
        Some(web)
    );
    let groups = store::overview::groups(&db, t0() + Duration::seconds(10))
        .await
        .expect("overview");
    assert_eq!(
        state_of(&groups, "web"),
        ServiceState::Known(ComponentStatus::MajorOutage)
    );
}

async fn overview_shows_the_engine_status_and_never_shows_stale_data_as_green(
    db: DatabaseConnection,
) {
    let catalog = parse("t.toml", CATALOG).expect("valid");
    store::catalog::sync(&db, &catalog, t0())
        .await
        .expect("sync");
    let db_monitor = checks::monitor_id(&db, "service/db/port")
        .await
        .expect("query")
        .expect("monitor");
    let at = |s: i64, outcome| NewCheck {
        monitor_id: db_monitor,
        location_id: "local".into(),
        checked_at: t0() + Duration::seconds(s),
        outcome,
        latency_ms: Some(3),
        status_code: None,
        reason: None,
    };
    engine_writes(
        &db,
        at(0, CheckOutcome::Down),
        "db",
        ComponentStatus::MajorOutage,
        Some(port_refused()),
    )
    .await;
    let groups = store::overview::groups(&db, t0() + Duration::seconds(10))
        .await
        .expect("overview");
    let db_view = groups
        .iter()
        .flat_map(|g| &g.services)
        .find(|s| s.slug == "db")
        .expect("db");
    assert_eq!(
        db_view.state,
        ServiceState::Known(ComponentStatus::MajorOutage)
    );
    assert_eq!(
        db_view.cause.as_ref().map(ToString::to_string).as_deref(),
        Some("monitor port: refused")
    );
    engine_writes(
        &db,
        at(30, CheckOutcome::Up),
        "db",
        ComponentStatus::Operational,
        None,
    )
    .await;
    let groups = store::overview::groups(&db, t0() + Duration::seconds(40))
        .await
        .expect("overview");
    assert_eq!(
        state_of(&groups, "db"),
        ServiceState::Known(ComponentStatus::Operational)
    );
    // Three intervals (90 s) without a result: no data, not green.
    let groups = store::overview::groups(&db, t0() + Duration::seconds(30 + 91))
        .await
        .expect("overview");
    assert_eq!(state_of(&groups, "db"), ServiceState::NoData);
}

on_both!(
    migrations_are_recorded_and_rerunnable,
    sync_lists_every_service_with_no_data_before_any_probe,
    removed_service_is_archived_with_its_history_and_comes_back,
    overview_shows_the_engine_status_and_never_shows_stale_data_as_green,
);
