//! The public read APIs through the real server on port 0, on SQLite and on PostgreSQL: the Statuspage-compatible
//! `/api/v2` shapes field by field (`docs/statuspage-api.md`), Vigie's
//! `/api/v1` reads with their 404 / 400 JSON errors, CORS on reads and not on writes, ETag /
//! 304, and `/api/openapi.json` covering every route under `/api/`.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use domain::incident::{Impact, IncidentStatus};
use domain::monitor_state::MonitorState;
use domain::status::{CheckOutcome, ComponentStatus, ServiceState};
use domain::topology::{Owner, StatusChange};
use reqwest::{header, StatusCode};
use serde_json::Value;
use store::audit::Actor;
use store::checks::NewCheck;
use store::history::Observation;
use store::incidents::{Message, NewIncident, NewUpdate};
use store::maintenance::NewMaintenance;

use crate::common;

struct TestApp {
    base: String,
    db: store::Db,
    _server: common::Server,
}

/// The Humanoid catalog with the probe engine off: the seeded statuses are the truth here.
async fn spawn_app() -> TestApp {
    let server = common::Server::start(&common::humanoid(), common::Probes::Off).await;
    TestApp {
        base: server.base.clone(),
        db: server.db.clone(),
        _server: server,
    }
}

fn msg(md: &str) -> Message {
    Message {
        markdown: md.to_owned(),
        html: format!("<p>{md}</p>"),
    }
}

fn slug(s: &str) -> domain::config::Slug {
    domain::config::Slug::parse(s).expect("slug")
}

/// Fresh results for every monitor except those of `database-replica` (left without data),
/// and the engine's statuses: FrAndroid down (host cut), appXoid degraded, others up.
async fn seed_statuses(app: &TestApp) {
    let now = Utc::now();
    let ids = store::checks::monitor_ids(&app.db).await.expect("ids");
    let batch: Vec<Observation> = ids
        .iter()
        .filter(|(k, _)| k.starts_with("service/") && !k.starts_with("service/database-replica/"))
        .map(|(_, id)| Observation {
            check: NewCheck {
                monitor_id: *id,
                location_id: "paris".into(),
                checked_at: now,
                outcome: CheckOutcome::Up,
                latency_ms: Some(120),
                status_code: Some(200),
                reason: None,
            },
            interval: Duration::from_secs(30),
            state: MonitorState {
                confirmed: Some(CheckOutcome::Up),
                since: Some(now),
                candidate: Some(CheckOutcome::Up),
                streak: 2,
                last: Some(CheckOutcome::Up),
                last_at: Some(now),
                last_reason: None,
            },
            transition: None,
        })
        .collect();
    store::history::record_batch(&app.db, &batch)
        .await
        .expect("results");
    let services = [
        "frandroid",
        "appxoid",
        "lesardoises",
        "android-bundle",
        "frawin",
        "mobs",
        "forum",
        "databases",
        "project-files",
        "backups",
        "database-replica",
    ];
    let changes: Vec<StatusChange> = services
        .iter()
        .map(|s| {
            let (to, cause) = match *s {
                "frandroid" => (
                    ComponentStatus::MajorOutage,
                    Some(common::stored_cause(domain::topology::Cause::Host {
                        host: slug("phys-1"),
                    })),
                ),
                "appxoid" => (ComponentStatus::DegradedPerformance, None),
                _ => (ComponentStatus::Operational, None),
            };
            StatusChange {
                subject: Owner::Service(slug(s)),
                from: None,
                to: ServiceState::Known(to),
                cause,
                at: now - TimeDelta::minutes(5),
            }
        })
        .collect();
    store::status::apply(&app.db, &changes)
        .await
        .expect("statuses");
}

/// An open incident with two updates, and a resolved one. Returns (open id, resolved id).
async fn seed_incidents(app: &TestApp) -> (i64, i64) {
    let now = Utc::now();
    let open = store::incidents::open(
        &app.db,
        &NewIncident {
            title: "FrAndroid injoignable".into(),
            impact: Impact::Major,
            status: IncidentStatus::Investigating,
            message: msg("Nous enquêtons."),
            services: vec![("frandroid".into(), ComponentStatus::MajorOutage)],
            started_at: Some(now - TimeDelta::hours(1)),
            notify: true,
        },
        &Actor::cli(),
        now - TimeDelta::minutes(50),
    )
    .await
    .expect("open");
    store::incidents::post_update(
        &app.db,
        open.id,
        &NewUpdate {
            status: IncidentStatus::Identified,
            message: msg("Hôte phys-1 coupé par l'hébergeur."),
            services: vec![
                ("frandroid".into(), ComponentStatus::PartialOutage),
                ("appxoid".into(), ComponentStatus::DegradedPerformance),
            ],
        },
        &Actor::cli(),
        now - TimeDelta::minutes(20),
    )
    .await
    .expect("update");
    let done = store::incidents::open(
        &app.db,
        &NewIncident {
            title: "Forum lent".into(),
            impact: Impact::Minor,
            status: IncidentStatus::Investigating,
            message: msg("Lenteurs."),
            services: vec![("forum".into(), ComponentStatus::DegradedPerformance)],
            started_at: Some(now - TimeDelta::days(2)),
            notify: false,
        },
        &Actor::cli(),
        now - TimeDelta::days(2),
    )
    .await
    .expect("open");
    store::incidents::post_update(
        &app.db,
        done.id,
        &NewUpdate {
            status: IncidentStatus::Resolved,
            message: msg("Résolu."),
            services: vec![("forum".into(), ComponentStatus::Operational)],
        },
        &Actor::cli(),
        now - TimeDelta::days(2) + TimeDelta::hours(1),
    )
    .await
    .expect("resolve");
    (open.id, done.id)
}

/// Windows: one upcoming, one active, one completed. Returns their ids in that order.
async fn seed_maintenance(app: &TestApp) -> (i64, i64, i64) {
    let now = Utc::now();
    let mut ids = Vec::new();
    for (title, start, end) in [
        ("Mise à jour du forum", 2, 3),
        ("Migration des bases", -1, 1),
        ("Remplacement disque", -30, -28),
    ] {
        let m = store::maintenance::schedule(
            &app.db,
            &NewMaintenance {
                title: title.into(),
                message: msg("Fenêtre de maintenance."),
                starts_at: now + TimeDelta::hours(start),
                ends_at: now + TimeDelta::hours(end),
                services: vec!["databases".into()],
            },
            &Actor::cli(),
            now - TimeDelta::days(3),
        )
        .await
        .expect("schedule");
        ids.push(m.id);
    }
    (ids[0], ids[1], ids[2])
}

async fn get(app: &TestApp, path: &str) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let res = common::client()
        .get(format!("{}{path}", app.base))
        .header(header::ORIGIN, "https://widget.example")
        .send()
        .await
        .expect("request");
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.json::<Value>().await.unwrap_or(Value::Null);
    (status, headers, body)
}

/// GETs `path` until `done` holds for its body (the page cache picks up a store change on
/// its watcher's next tick); gives up after 300 tries and returns the last body.
async fn get_until(app: &TestApp, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..300 {
        last = get(app, path).await.2;
        if done(&last) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().expect("an object").keys().cloned().collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

/// ISO 8601 with offset, in the site's timezone (Europe/Paris: +01:00 in November… or
/// +02:00 in summer), parsed back as RFC 3339.
fn assert_timestamp(v: &Value, what: &str) {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("{what} is a string: {v}"));
    let t = chrono::DateTime::parse_from_rfc3339(s).unwrap_or_else(|_| panic!("{what}: {s}"));
    let offset = t.offset().local_minus_utc();
    assert!(
        offset == 3600 || offset == 7200,
        "{what} in Paris time: {s}"
    );
}

fn assert_page(p: &Value) {
    assert_eq!(
        keys(p),
        set(&["id", "name", "url", "time_zone", "updated_at"])
    );
    assert!(p["id"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(p["time_zone"], "Europe/Paris");
    assert_eq!(p["url"], "http://127.0.0.1:8080");
    assert!(p["name"].as_str().is_some_and(|s| !s.is_empty()));
    assert_timestamp(&p["updated_at"], "page.updated_at");
}

const COMPONENT_STATUSES: [&str; 5] = [
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
];

fn assert_component(c: &Value, page_id: &Value) {
    let mut expected = set(&[
        "id",
        "name",
        "status",
        "created_at",
        "updated_at",
        "position",
        "description",
        "showcase",
        "start_date",
        "group_id",
        "page_id",
        "group",
        "only_show_if_degraded",
    ]);
    if c["group"] == true {
        expected.insert("components".into());
    }
    assert_eq!(keys(c), expected, "component {c}");
    assert!(c["id"].is_string() && c["name"].is_string());
    assert!(COMPONENT_STATUSES.contains(&c["status"].as_str().expect("status")));
    assert_timestamp(&c["created_at"], "component.created_at");
    assert_timestamp(&c["updated_at"], "component.updated_at");
    assert!(c["position"].is_i64());
    assert!(c["description"].is_string() || c["description"].is_null());
    assert!(c["showcase"].is_boolean() && c["only_show_if_degraded"].is_boolean());
    assert!(c["start_date"].is_null() || c["start_date"].is_string());
    assert!(c["group_id"].is_null() || c["group_id"].is_string());
    assert_eq!(&c["page_id"], page_id);
}

fn assert_update(u: &Value, incident_id: &Value, statuses: &[&str]) {
    assert_eq!(
        keys(u),
        set(&[
            "id",
            "incident_id",
            "status",
            "body",
            "created_at",
            "updated_at",
            "display_at",
            "affected_components",
            "deliver_notifications",
        ])
    );
    assert!(u["id"].is_string());
    assert_eq!(&u["incident_id"], incident_id);
    assert!(statuses.contains(&u["status"].as_str().expect("status")));
    assert!(u["body"].is_string());
    for f in ["created_at", "updated_at", "display_at"] {
        assert_timestamp(&u[f], f);
    }
    assert!(u["deliver_notifications"].is_boolean());
    match &u["affected_components"] {
        Value::Null => {}
        Value::Array(list) => {
            assert!(!list.is_empty());
            for a in list {
                assert_eq!(keys(a), set(&["code", "name", "old_status", "new_status"]));
                assert!(COMPONENT_STATUSES.contains(&a["old_status"].as_str().expect("old")));
                assert!(COMPONENT_STATUSES.contains(&a["new_status"].as_str().expect("new")));
            }
        }
        other => panic!("affected_components is null or a list: {other}"),
    }
}

const INCIDENT_KEYS: [&str; 12] = [
    "id",
    "name",
    "status",
    "impact",
    "created_at",
    "updated_at",
    "monitoring_at",
    "resolved_at",
    "shortlink",
    "page_id",
    "incident_updates",
    "components",
];

fn assert_incident(i: &Value, page_id: &Value) {
    assert_eq!(keys(i), set(&INCIDENT_KEYS));
    assert!(i["id"].is_string() && i["name"].is_string());
    assert!([
        "investigating",
        "identified",
        "monitoring",
        "resolved",
        "postmortem"
    ]
    .contains(&i["status"].as_str().expect("status")));
    assert!(["none", "minor", "major", "critical"].contains(&i["impact"].as_str().expect("i")));
    assert_timestamp(&i["created_at"], "incident.created_at");
    assert_timestamp(&i["updated_at"], "incident.updated_at");
    assert!(i["monitoring_at"].is_null() || i["monitoring_at"].is_string());
    assert_eq!(&i["page_id"], page_id);
    let statuses = [
        "investigating",
        "identified",
        "monitoring",
        "resolved",
        "postmortem",
    ];
    let updates = i["incident_updates"].as_array().expect("updates");
    assert!(!updates.is_empty());
    for u in updates {
        assert_update(u, &i["id"], &statuses);
    }
    // Newest first.
    let times: Vec<chrono::DateTime<chrono::FixedOffset>> = updates
        .iter()
        .map(|u| {
            chrono::DateTime::parse_from_rfc3339(u["created_at"].as_str().expect("t")).expect("t")
        })
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    for c in i["components"].as_array().expect("components") {
        assert_component(c, page_id);
    }
}

fn assert_maintenance(m: &Value, page_id: &Value) {
    let mut expected = set(&INCIDENT_KEYS);
    expected.insert("scheduled_for".into());
    expected.insert("scheduled_until".into());
    assert_eq!(keys(m), expected);
    assert!(["scheduled", "in_progress", "verifying", "completed"]
        .contains(&m["status"].as_str().expect("status")));
    assert_eq!(m["impact"], "maintenance");
    assert_timestamp(&m["scheduled_for"], "scheduled_for");
    assert_timestamp(&m["scheduled_until"], "scheduled_until");
    assert_eq!(&m["page_id"], page_id);
    for u in m["incident_updates"].as_array().expect("updates") {
        assert_update(
            u,
            &m["id"],
            &["scheduled", "in_progress", "verifying", "completed"],
        );
    }
    for c in m["components"].as_array().expect("components") {
        assert_component(c, page_id);
    }
}

fn assert_cors(h: &reqwest::header::HeaderMap, path: &str) {
    assert_eq!(
        h.get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .and_then(|v| v.to_str().ok()),
        Some("*"),
        "CORS open on {path}"
    );
}

async fn summary_has_statuspage_shape_with_groups_incidents_and_maintenance() {
    let app = spawn_app().await;
    seed_statuses(&app).await;
    let (open_id, resolved_id) = seed_incidents(&app).await;
    let (upcoming, active, _done) = seed_maintenance(&app).await;

    let (status, headers, s) = get(&app, "/api/v2/summary.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_cors(&headers, "summary");
    // Served again from the page cache: still open to other origins.
    let (status, headers, _) = get(&app, "/api/v2/summary.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_cors(&headers, "summary (cached)");
    assert_eq!(
        keys(&s),
        set(&[
            "page",
            "components",
            "incidents",
            "scheduled_maintenances",
            "status"
        ])
    );
    assert_page(&s["page"]);
    let page_id = s["page"]["id"].clone();

    // Components: each group, then its members, ids stable strings.
    let comps = s["components"].as_array().expect("components");
    for c in comps {
        assert_component(c, &page_id);
    }
    let by_id = |id: &str| {
        comps
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("component {id}"))
            .clone()
    };
    let sites = by_id("group.sites");
    assert_eq!(sites["group"], true);
    assert_eq!(sites["group_id"], Value::Null);
    assert_eq!(sites["name"], "Sites");
    assert_eq!(sites["status"], "major_outage", "worst member");
    let members: Vec<&str> = sites["components"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m.as_str().expect("id"))
        .collect();
    assert_eq!(
        members,
        [
            "frandroid",
            "appxoid",
            "lesardoises",
            "android-bundle",
            "frawin",
            "mobs"
        ]
    );
    let fr = by_id("frandroid");
    assert_eq!(fr["group"], false);
    assert_eq!(fr["group_id"], "group.sites");
    assert_eq!(fr["status"], "major_outage");
    assert_eq!(by_id("appxoid")["status"], "degraded_performance");
    assert_eq!(by_id("forum")["status"], "operational");
    assert_eq!(by_id("forum")["group_id"], "group.community");
    // No data is never shown as operational.
    assert_eq!(by_id("database-replica")["status"], "degraded_performance");
    assert!(
        by_id("frandroid")["position"].as_i64() < by_id("appxoid")["position"].as_i64(),
        "positions follow page order"
    );

    // Unresolved incidents only.
    let incidents = s["incidents"].as_array().expect("incidents");
    assert_eq!(incidents.len(), 1);
    let inc = &incidents[0];
    assert_incident(inc, &page_id);
    assert_eq!(inc["id"], open_id.to_string());
    assert_ne!(inc["id"], resolved_id.to_string());
    assert_eq!(inc["name"], "FrAndroid injoignable");
    assert_eq!(inc["status"], "identified");
    assert_eq!(inc["impact"], "major");
    assert_eq!(inc["resolved_at"], Value::Null);
    assert_eq!(inc["monitoring_at"], Value::Null);
    assert_eq!(
        inc["shortlink"],
        format!("http://127.0.0.1:8080/incidents/{open_id}")
    );
    let updates = inc["incident_updates"].as_array().expect("updates");
    assert_eq!(updates.len(), 2);
    assert_eq!(updates[0]["status"], "identified");
    assert_eq!(updates[1]["status"], "investigating");
    assert_eq!(updates[0]["deliver_notifications"], true);
    assert_eq!(updates[0]["body"], "Hôte phys-1 coupé par l'hébergeur.");
    let affected = updates[0]["affected_components"]
        .as_array()
        .expect("affected");
    let fr_change = affected
        .iter()
        .find(|a| a["code"] == "frandroid")
        .expect("frandroid");
    assert_eq!(fr_change["name"], "FrAndroid");
    assert_eq!(fr_change["old_status"], "major_outage");
    assert_eq!(fr_change["new_status"], "partial_outage");
    let first = updates[1]["affected_components"].as_array().expect("first");
    assert_eq!(first[0]["old_status"], "operational");
    assert_eq!(first[0]["new_status"], "major_outage");
    let inc_comps: Vec<&str> = inc["components"]
        .as_array()
        .expect("components")
        .iter()
        .map(|c| c["id"].as_str().expect("id"))
        .collect();
    assert_eq!(inc_comps, ["appxoid", "frandroid"]);
    // A backdated incident starts when it started, not when it was written.
    let created =
        chrono::DateTime::parse_from_rfc3339(inc["created_at"].as_str().expect("t")).expect("t");
    assert!(Utc::now().signed_duration_since(created) >= TimeDelta::minutes(59));

    // Upcoming and active windows, not the completed one.
    let windows = s["scheduled_maintenances"].as_array().expect("windows");
    for w in windows {
        assert_maintenance(w, &page_id);
    }
    let mut ids: Vec<&str> = windows
        .iter()
        .map(|w| w["id"].as_str().expect("id"))
        .collect();
    ids.sort_unstable();
    let mut expected = vec![format!("m{upcoming}"), format!("m{active}")];
    expected.sort();
    assert_eq!(ids, expected);

    // Status: a major outage and a major incident.
    assert_eq!(keys(&s["status"]), set(&["indicator", "description"]));
    assert_eq!(s["status"]["indicator"], "major");
    assert!(s["status"]["description"].is_string());
}

async fn status_and_components_follow_the_services_and_speak_the_asked_language() {
    let app = spawn_app().await;
    seed_statuses(&app).await;

    let (code, h, s) = get(&app, "/api/v2/status.json?lang=en").await;
    assert_eq!(code, StatusCode::OK);
    assert_cors(&h, "status");
    assert_eq!(keys(&s), set(&["page", "status"]));
    assert_page(&s["page"]);
    assert_eq!(s["status"]["indicator"], "major");
    assert_eq!(s["status"]["description"], "Major Service Outage");
    let (_, _, fr) = get(&app, "/api/v2/status.json?lang=fr").await;
    assert_eq!(fr["status"]["description"], "Panne majeure");

    // Everyone back up except the replica without data: never "All Systems Operational".
    let now = Utc::now();
    store::status::apply(
        &app.db,
        &[
            StatusChange {
                subject: Owner::Service(slug("frandroid")),
                from: None,
                to: ServiceState::Known(ComponentStatus::Operational),
                cause: None,
                at: now,
            },
            StatusChange {
                subject: Owner::Service(slug("appxoid")),
                from: None,
                to: ServiceState::Known(ComponentStatus::Operational),
                cause: None,
                at: now,
            },
        ],
    )
    .await
    .expect("apply");
    // The page cache follows the store's change watcher: wait for the new generation.
    let s = get_until(&app, "/api/v2/status.json?lang=en", |s| {
        s["status"]["indicator"] != "major"
    })
    .await;
    assert_eq!(s["status"]["indicator"], "minor");
    assert_ne!(s["status"]["description"], "All Systems Operational");

    let (code, h, c) = get(&app, "/api/v2/components.json").await;
    assert_eq!(code, StatusCode::OK);
    assert_cors(&h, "components");
    assert_eq!(keys(&c), set(&["page", "components"]));
    let page_id = c["page"]["id"].clone();
    let comps = c["components"].as_array().expect("list");
    // 3 groups + 11 services.
    assert_eq!(comps.len(), 14);
    for comp in comps {
        assert_component(comp, &page_id);
    }
    assert_eq!(
        comps.iter().filter(|c| c["group"] == true).count(),
        3,
        "one group component per group"
    );
    let fr = comps
        .iter()
        .find(|c| c["id"] == "frandroid")
        .expect("frandroid");
    assert_eq!(fr["status"], "operational");
}

async fn incident_lists_filter_unresolved_and_maintenance_lists_filter_by_time() {
    let app = spawn_app().await;
    seed_statuses(&app).await;
    let (open_id, resolved_id) = seed_incidents(&app).await;
    let (upcoming, active, done) = seed_maintenance(&app).await;

    let (code, h, all) = get(&app, "/api/v2/incidents.json").await;
    assert_eq!(code, StatusCode::OK);
    assert_cors(&h, "incidents");
    assert_eq!(keys(&all), set(&["page", "incidents"]));
    let page_id = all["page"]["id"].clone();
    let list = all["incidents"].as_array().expect("list");
    assert_eq!(list.len(), 2);
    for i in list {
        assert_incident(i, &page_id);
    }
    assert_eq!(list[0]["id"], open_id.to_string(), "newest first");
    let resolved = &list[1];
    assert_eq!(resolved["id"], resolved_id.to_string());
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["impact"], "minor");
    assert_timestamp(&resolved["resolved_at"], "resolved_at");
    assert_eq!(
        resolved["incident_updates"][0]["deliver_notifications"],
        false
    );

    let (code, _, un) = get(&app, "/api/v2/incidents/unresolved.json").await;
    assert_eq!(code, StatusCode::OK);
    let ids: Vec<&Value> = un["incidents"]
        .as_array()
        .expect("list")
        .iter()
        .map(|i| &i["id"])
        .collect();
    assert_eq!(ids, [&Value::String(open_id.to_string())]);

    let window_ids = |v: &Value| -> Vec<String> {
        let mut ids: Vec<String> = v["scheduled_maintenances"]
            .as_array()
            .expect("list")
            .iter()
            .map(|w| w["id"].as_str().expect("id").to_owned())
            .collect();
        ids.sort();
        ids
    };
    let (code, h, all) = get(&app, "/api/v2/scheduled-maintenances.json").await;
    assert_eq!(code, StatusCode::OK);
    assert_cors(&h, "scheduled-maintenances");
    assert_eq!(keys(&all), set(&["page", "scheduled_maintenances"]));
    for w in all["scheduled_maintenances"].as_array().expect("list") {
        assert_maintenance(w, &page_id);
    }
    let mut expected = vec![
        format!("m{upcoming}"),
        format!("m{active}"),
        format!("m{done}"),
    ];
    expected.sort();
    assert_eq!(window_ids(&all), expected);
    let done_w = all["scheduled_maintenances"]
        .as_array()
        .expect("list")
        .iter()
        .find(|w| w["id"] == format!("m{done}"))
        .expect("done")
        .clone();
    assert_eq!(done_w["status"], "completed");
    assert_timestamp(&done_w["resolved_at"], "resolved_at");
    let notice = &done_w["incident_updates"][0];
    assert_eq!(notice["status"], "scheduled");
    assert_eq!(notice["body"], "Fenêtre de maintenance.");
    assert_eq!(notice["affected_components"][0]["code"], "databases");
    assert_eq!(
        notice["affected_components"][0]["new_status"],
        "under_maintenance"
    );

    let (code, _, up) = get(&app, "/api/v2/scheduled-maintenances/upcoming.json").await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(window_ids(&up), [format!("m{upcoming}")]);
    assert_eq!(up["scheduled_maintenances"][0]["status"], "scheduled");
    let (code, _, act) = get(&app, "/api/v2/scheduled-maintenances/active.json").await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(window_ids(&act), [format!("m{active}")]);
    assert_eq!(act["scheduled_maintenances"][0]["status"], "in_progress");
    assert_eq!(
        act["scheduled_maintenances"][0]["components"][0]["id"],
        "databases"
    );
}

async fn v1_services_show_status_cause_group_and_uptime() {
    let app = spawn_app().await;
    seed_statuses(&app).await;

    let (code, h, list) = get(&app, "/api/v1/services").await;
    assert_eq!(code, StatusCode::OK);
    assert_cors(&h, "/api/v1/services");
    let list = list.as_array().expect("list");
    assert_eq!(list.len(), 11);
    let fr = &list[0];
    assert_eq!(
        keys(fr),
        set(&[
            "slug",
            "name",
            "description",
            "url",
            "group",
            "status",
            "cause",
            "since",
            "uptime_90d"
        ])
    );
    assert_eq!(fr["slug"], "frandroid");
    assert_eq!(fr["status"], "major_outage");
    assert_eq!(fr["cause"], "down: host phys-1 unreachable");
    assert_eq!(fr["group"]["id"], "sites");
    assert_eq!(fr["group"]["name"], "Sites");
    assert!(fr["uptime_90d"].is_f64(), "uptime: {}", fr["uptime_90d"]);
    assert!(fr["uptime_90d"].as_f64().expect("f") < 100.0);
    let replica = list
        .iter()
        .find(|s| s["slug"] == "database-replica")
        .expect("replica");
    assert_eq!(replica["status"], "no_data");

    let (code, _, d) = get(&app, "/api/v1/services/frandroid").await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(d["slug"], "frandroid");
    assert_eq!(d["status"], "major_outage");
    let monitors = d["monitors"].as_array().expect("monitors");
    assert!(!monitors.is_empty());
    let m = &monitors[0];
    assert_eq!(
        keys(m),
        set(&["id", "name", "kind", "interval_s", "locations"])
    );
    let loc = &m["locations"][0];
    assert_eq!(loc["location"], "paris");
    assert_eq!(loc["outcome"], "up");
    assert_eq!(loc["confirmed"], "up");
    assert_eq!(loc["latency_ms"], 120);
    assert_eq!(loc["status_code"], 200);
    assert!(loc["checked_at"].is_string());

    let (code, _, u) = get(&app, "/api/v1/services/frandroid/uptime?days=7").await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(u["days"], 7);
    let daily = u["daily"].as_array().expect("daily");
    assert_eq!(daily.len(), 7);
    let today = &daily[6];
    assert_eq!(today["worst"], "major_outage");
    assert!(today["downtime_ms"].as_i64().expect("ms") > 0);
    assert!(["minor", "major", "critical"].contains(&today["level"].as_str().expect("level")));

    let (code, _, lat) = get(&app, "/api/v1/services/frandroid/latency?range=24h").await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(lat["period"], "hour");
    let series = lat["series"].as_array().expect("series");
    assert!(!series.is_empty());
    let point = &series[0]["points"].as_array().expect("points")[0];
    assert!(point["p50_ms"].as_u64().is_some_and(|p| p >= 120));
    assert!(point["p95_ms"].as_u64().is_some_and(|p| p >= 120));
    let (code, _, lat) = get(&app, "/api/v1/services/frandroid/latency?range=30d").await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(lat["period"], "day");
}

async fn v1_incidents_and_maintenances_page_and_unknown_ids_are_json_404() {
    let app = spawn_app().await;
    seed_statuses(&app).await;
    let (open_id, resolved_id) = seed_incidents(&app).await;
    seed_maintenance(&app).await;

    let (code, h, p) = get(&app, "/api/v1/incidents?page=1&per_page=1").await;
    assert_eq!(code, StatusCode::OK);
    assert_cors(&h, "/api/v1/incidents");
    assert_eq!(p["total"], 2);
    assert_eq!(p["per_page"], 1);
    assert_eq!(p["incidents"].as_array().expect("list").len(), 1);
    assert_eq!(p["incidents"][0]["id"], open_id);
    let (_, _, p2) = get(&app, "/api/v1/incidents?page=2&per_page=1").await;
    assert_eq!(p2["incidents"][0]["id"], resolved_id);

    let (code, _, i) = get(&app, &format!("/api/v1/incidents/{open_id}")).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(i["title"], "FrAndroid injoignable");
    assert_eq!(i["updates"].as_array().expect("updates").len(), 2);
    assert_eq!(i["updates"][0]["status"], "identified");

    let (code, _, m) = get(&app, "/api/v1/maintenances").await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(m["total"], 3);
    assert_eq!(m["maintenances"].as_array().expect("list").len(), 3);

    for path in [
        "/api/v1/incidents/999999",
        "/api/v1/incidents/not-a-number",
        "/api/v1/services/nope",
        "/api/v1/services/nope/uptime",
        "/api/v1/services/nope/latency",
    ] {
        let (code, h, body) = get(&app, path).await;
        assert_eq!(code, StatusCode::NOT_FOUND, "{path}");
        assert!(body["error"].is_string(), "{path}: {body}");
        assert!(h
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json")));
    }
    for path in [
        "/api/v1/incidents?page=0",
        "/api/v1/incidents?per_page=1000",
        "/api/v1/incidents?page=abc",
        "/api/v1/maintenances?per_page=0",
        "/api/v1/services/frandroid/uptime?days=0",
        "/api/v1/services/frandroid/uptime?days=ten",
        "/api/v1/services/frandroid/latency?range=1y",
        "/api/v1/services/frandroid/latency?bogus=1",
    ] {
        let (code, _, body) = get(&app, path).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{path}");
        assert!(body["error"].is_string(), "{path}: {body}");
    }
}

async fn reads_are_revalidated_with_an_etag_and_writes_get_no_cors() {
    let app = spawn_app().await;
    seed_statuses(&app).await;
    let c = common::client();
    let first = c
        .get(format!("{}/api/v2/components.json", app.base))
        .send()
        .await
        .expect("get");
    assert_eq!(
        first.headers().get(header::CACHE_CONTROL).expect("cc"),
        "no-cache"
    );
    let etag = first.headers().get(header::ETAG).expect("etag").clone();
    let again = c
        .get(format!("{}/api/v2/components.json", app.base))
        .header(header::IF_NONE_MATCH, etag.clone())
        .send()
        .await
        .expect("get");
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    // A change makes the old ETag stale.
    store::status::apply(
        &app.db,
        &[StatusChange {
            subject: Owner::Service(slug("forum")),
            from: None,
            to: ServiceState::Known(ComponentStatus::PartialOutage),
            cause: None,
            at: Utc::now(),
        }],
    )
    .await
    .expect("apply");
    // The page cache follows the store's change watcher: poll until it has seen the change.
    let mut changed = StatusCode::NOT_MODIFIED;
    for _ in 0..300 {
        changed = c
            .get(format!("{}/api/v2/components.json", app.base))
            .header(header::IF_NONE_MATCH, etag.clone())
            .send()
            .await
            .expect("get")
            .status();
        if changed != StatusCode::NOT_MODIFIED {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(changed, StatusCode::OK);

    // Write routes: refused without a token, and no CORS header for other origins.
    for (method, path) in [
        (reqwest::Method::POST, "/api/v1/incidents"),
        (reqwest::Method::POST, "/api/v1/maintenances"),
        (reqwest::Method::PATCH, "/api/v1/incidents/1"),
        (reqwest::Method::PUT, "/api/v1/services/forum/status"),
    ] {
        let res = c
            .request(method, format!("{}{path}", app.base))
            .header(header::ORIGIN, "https://evil.example")
            .body("{}")
            .send()
            .await
            .expect("write");
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert!(
            res.headers()
                .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                .is_none(),
            "no CORS on {path}"
        );
    }
    // A preflight for a write is not granted.
    let pre = c
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/v1/incidents", app.base),
        )
        .header(header::ORIGIN, "https://evil.example")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .send()
        .await
        .expect("preflight");
    let allowed = pre
        .headers()
        .get(header::ACCESS_CONTROL_ALLOW_METHODS)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(!allowed.contains("POST"), "preflight allows {allowed}");
}

/// Every `"/api/…"` route literal in the router sources.
fn routes_in_sources() -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = [
        "api/incidents.rs",
        "api/read/mod.rs",
        "api/v2/mod.rs",
        "api/openapi.rs",
        "probing.rs",
    ];
    let mut out = BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(dir.join(f)).expect("source");
        let mut rest = text.as_str();
        while let Some(at) = rest.find(".route(") {
            rest = &rest[at + 7..];
            let Some(q) = rest.find('"') else { break };
            let lit = &rest[q + 1..];
            let end = lit.find('"').expect("closing quote");
            if lit[..end].starts_with("/api/") {
                out.insert(lit[..end].to_owned());
            }
        }
    }
    out
}

async fn openapi_document_is_openapi_3_and_describes_every_api_route() {
    let app = spawn_app().await;
    let (code, h, doc) = get(&app, "/api/openapi.json").await;
    assert_eq!(code, StatusCode::OK);
    assert_cors(&h, "openapi");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    let paths = keys(&doc["paths"]);
    let routes = routes_in_sources();
    assert!(routes.len() >= 20, "found the routes: {routes:?}");
    for r in &routes {
        assert!(paths.contains(r), "{r} is documented");
    }
    // Write routes carry the bearer scheme with their scope.
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(
        doc["paths"]["/api/v1/incidents"]["post"]["security"][0]["bearer"][0],
        "incidents:write"
    );
    assert!(doc["paths"]["/api/v1/incidents"]["get"]["security"].is_null());
    // And every documented GET answers (no doc for a route that does not exist).
    for p in &paths {
        // The push route belongs to the probe engine, which these tests leave off.
        if doc["paths"][p]["get"].is_null() || p.starts_with("/api/v1/push/") {
            continue;
        }
        let path = p
            .replace("{slug}", "frandroid")
            .replace("{id}", "1")
            .replace("{token}", "unknown-token");
        let res = common::client()
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("get");
        let ct = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        assert!(
            ct.starts_with("application/json"),
            "{path} answers JSON, got {ct}"
        );
        assert_ne!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
    }
}

on_both!(
    summary_has_statuspage_shape_with_groups_incidents_and_maintenance,
    status_and_components_follow_the_services_and_speak_the_asked_language,
    incident_lists_filter_unresolved_and_maintenance_lists_filter_by_time,
    v1_services_show_status_cause_group_and_uptime,
    v1_incidents_and_maintenances_page_and_unknown_ids_are_json_404,
    reads_are_revalidated_with_an_etag_and_writes_get_no_cors,
    openapi_document_is_openapi_3_and_describes_every_api_route,
);
