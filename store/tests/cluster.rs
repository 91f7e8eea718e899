//! Several instances on one database: a status change decided by many at once is recorded
//! once, instances started together migrate once, a lease has one holder until it expires,
//! and push heartbeats are shared. SQLite and PostgreSQL (`on_both!`); the concurrent cases
//! use one pool per "instance", so on PostgreSQL they really run side by side.

mod common;

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::config::{parse, Slug};
use domain::status::{CheckOutcome, ComponentStatus, ServiceState};
use domain::topology::{Owner, StatusChange};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use store::push::Beat;

const CATALOG: &str = r#"
[site]
title = "Test"

[[groups]]
id = "infra"
name = "Infra"

[[services]]
id = "db"
name = "Database"
group = "infra"

[[services.monitors]]
id = "nightly"
kind = "push"
interval = "24h"
"#;

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, h, m, 0)
        .single()
        .expect("valid time")
}

fn change(service: &str, to: ServiceState, cause: Option<&str>, at: DateTime<Utc>) -> StatusChange {
    StatusChange {
        subject: Owner::Service(Slug::parse(service).expect("slug")),
        from: None,
        to,
        cause: cause.map(str::to_owned),
        at,
    }
}

const DOWN: ServiceState = ServiceState::Known(ComponentStatus::MajorOutage);
const UP: ServiceState = ServiceState::Known(ComponentStatus::Operational);

/// Eight "instances" decide the same changes at the same moment, for a subject never seen
/// (first insert) and then for a stored one (update): one event each time.
async fn concurrent_applies_record_one_event(db: DatabaseConnection) {
    let catalog = parse("t.toml", CATALOG).expect("valid");
    store::catalog::sync(&db, &catalog, at(0, 0))
        .await
        .expect("sync");
    let subject = Owner::Service(Slug::parse("db").expect("slug"));
    let rounds = [
        (UP, None, at(1, 0)),
        (DOWN, Some("down: connection refused"), at(2, 0)),
        (DOWN, Some("down: host phys-2 unreachable"), at(2, 1)),
        (UP, None, at(3, 0)),
    ];
    for (to, cause, when) in rounds {
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let db = db.clone();
            let c = vec![change("db", to, cause, when)];
            tasks.push(tokio::spawn(
                async move { store::status::apply(&db, &c).await },
            ));
        }
        for t in tasks {
            t.await.expect("task").expect("apply");
        }
    }
    let events = store::status::events(&db, &subject).await.expect("events");
    let seen: Vec<(Option<&str>, &str, Option<&str>)> = events
        .iter()
        .map(|e| {
            (
                e.from_status.as_deref(),
                e.to_status.as_str(),
                e.cause.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (None, "operational", None),
            (
                Some("operational"),
                "major_outage",
                Some("down: connection refused")
            ),
            (
                Some("major_outage"),
                "major_outage",
                Some("down: host phys-2 unreachable")
            ),
            (Some("major_outage"), "operational", None),
        ]
    );
    let current = store::status::current(&db).await.expect("current");
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].state, UP);
    assert_eq!(current[0].since, at(3, 0));
}

/// A new cause for the same state keeps the state's `since`, even when decided elsewhere.
async fn a_new_cause_keeps_since(db: DatabaseConnection) {
    store::status::apply(&db, &[change("db", DOWN, Some("a"), at(1, 0))])
        .await
        .expect("apply");
    store::status::apply(&db, &[change("db", DOWN, Some("b"), at(1, 5))])
        .await
        .expect("apply");
    let current = store::status::current(&db).await.expect("current");
    assert_eq!(current[0].since, at(1, 0));
    assert_eq!(current[0].cause.as_deref(), Some("b"));
    assert_eq!(current[0].updated_at, at(1, 5));
}

async fn a_lease_has_one_holder_until_it_expires(db: DatabaseConnection) {
    let ttl = StdDuration::from_secs(10);
    let t0 = at(4, 0);
    assert!(store::cluster::try_lease(&db, "maintenance", "a", ttl, t0)
        .await
        .expect("lease"));
    assert!(
        !store::cluster::try_lease(&db, "maintenance", "b", ttl, t0 + Duration::seconds(5))
            .await
            .expect("lease"),
        "held by a"
    );
    assert!(
        store::cluster::try_lease(&db, "drafts", "b", ttl, t0)
            .await
            .expect("lease"),
        "another lease is free"
    );
    // a renews at +5 s: valid until +15 s.
    assert!(
        store::cluster::try_lease(&db, "maintenance", "a", ttl, t0 + Duration::seconds(5))
            .await
            .expect("lease")
    );
    assert!(
        !store::cluster::try_lease(&db, "maintenance", "b", ttl, t0 + Duration::seconds(14))
            .await
            .expect("lease"),
        "renewed"
    );
    // a stops renewing: b takes it once it expired, and a has lost it.
    assert!(
        store::cluster::try_lease(&db, "maintenance", "b", ttl, t0 + Duration::seconds(16))
            .await
            .expect("lease")
    );
    assert!(
        !store::cluster::try_lease(&db, "maintenance", "a", ttl, t0 + Duration::seconds(17))
            .await
            .expect("lease")
    );
    let (holder, until) = store::cluster::lease_holder(&db, "maintenance")
        .await
        .expect("read")
        .expect("held");
    assert_eq!(holder, "b");
    assert_eq!(until, t0 + Duration::seconds(26));
    // Given up: free at once.
    store::cluster::release_lease(&db, "maintenance", "b")
        .await
        .expect("release");
    assert!(
        store::cluster::try_lease(&db, "maintenance", "a", ttl, t0 + Duration::seconds(18))
            .await
            .expect("lease")
    );
}

/// Many instances try the same free lease at once: exactly one gets it.
async fn a_contended_lease_goes_to_one(db: DatabaseConnection) {
    let mut tasks = Vec::new();
    for i in 0..8 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            store::cluster::try_lease(
                &db,
                "retention",
                &format!("i{i}"),
                StdDuration::from_secs(30),
                at(5, 0),
            )
            .await
        }));
    }
    let mut won = 0;
    for t in tasks {
        won += usize::from(t.await.expect("task").expect("lease"));
    }
    assert_eq!(won, 1);
}

async fn push_beats_are_shared_and_the_newest_wins(db: DatabaseConnection) {
    let catalog = parse("t.toml", CATALOG).expect("valid");
    store::catalog::sync(&db, &catalog, at(0, 0))
        .await
        .expect("sync");
    let id = store::checks::monitor_id(&db, "service/db/nightly")
        .await
        .expect("query")
        .expect("monitor");
    store::push::await_beats(&db, &[id], at(1, 0))
        .await
        .expect("await");
    // A second instance (or a restart) starts later: the first wait stands.
    store::push::await_beats(&db, &[id], at(2, 0))
        .await
        .expect("await");
    let got = store::push::awaited(&db, &[id]).await.expect("read");
    assert_eq!(got[&id].waiting_since, at(1, 0));
    assert_eq!(got[&id].beat, None);
    let beat = |m: u32, outcome| Beat {
        at: at(3, m),
        outcome,
        latency_ms: Some(12),
        reason: Some(format!("at {m}")),
    };
    store::push::record_beat(&db, id, &beat(10, CheckOutcome::Up))
        .await
        .expect("beat");
    // An older heartbeat received late by another instance does not replace it.
    store::push::record_beat(&db, id, &beat(5, CheckOutcome::Down))
        .await
        .expect("beat");
    let got = store::push::awaited(&db, &[id]).await.expect("read");
    assert_eq!(got[&id].beat, Some(beat(10, CheckOutcome::Up)));
    assert_eq!(got[&id].waiting_since, at(1, 0));
    store::push::record_beat(&db, id, &beat(20, CheckOutcome::Down))
        .await
        .expect("beat");
    let got = store::push::awaited(&db, &[id]).await.expect("read");
    assert_eq!(got[&id].beat, Some(beat(20, CheckOutcome::Down)));
}

/// Push tokens: one hash per monitor, the first generated one wins (two instances starting
/// together), a configured one replaces it, `vigie push-token` replaces either and is audited;
/// the stored settings hold no token.
async fn push_tokens_are_hashes_and_the_first_generated_wins(db: DatabaseConnection) {
    let catalog = parse("t.toml", CATALOG).expect("valid");
    store::catalog::sync(&db, &catalog, at(0, 0))
        .await
        .expect("sync");
    let id = store::checks::monitor_id(&db, "service/db/nightly")
        .await
        .expect("query")
        .expect("monitor");
    let first = store::push::new_token();
    assert!(first.len() >= 11 + 48, "192 bits: {first}");
    assert_ne!(first, store::push::new_token());
    let hash = |t: &str| store::tokens::digest(t);
    assert!(store::push::token_if_absent(&db, id, &first, at(1, 0))
        .await
        .expect("store"));
    assert!(!store::push::token_if_absent(&db, id, "other", at(1, 0))
        .await
        .expect("store"));
    let got = store::push::token_hashes(&db, &[id]).await.expect("read");
    assert_eq!(got[&id], (hash(&first), store::push::GENERATED.to_owned()));
    store::push::configured_token(&db, id, "from-env", at(2, 0))
        .await
        .expect("store");
    store::push::configured_token(&db, id, "from-env", at(3, 0))
        .await
        .expect("unchanged");
    let got = store::push::token_hashes(&db, &[id]).await.expect("read");
    assert_eq!(
        got[&id],
        (hash("from-env"), store::push::CONFIGURED.to_owned())
    );
    store::push::replace_token(
        &db,
        "service/db/nightly",
        "rotated",
        &store::audit::Actor::cli(),
        at(4, 0),
    )
    .await
    .expect("replace");
    let got = store::push::token_hashes(&db, &[id]).await.expect("read");
    assert_eq!(got[&id].0, hash("rotated"));
    assert!(matches!(
        store::push::replace_token(
            &db,
            "service/db/nope",
            "x",
            &store::audit::Actor::cli(),
            at(4, 0)
        )
        .await,
        Err(store::audit::WriteError::NotFound)
    ));
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT settings FROM monitors WHERE key = 'service/db/nightly'",
        ))
        .await
        .expect("query")
        .expect("row");
    let settings: String = row.try_get_by_index(0).expect("settings");
    assert!(!settings.contains("token"), "{settings}");
}

on_both!(
    push_tokens_are_hashes_and_the_first_generated_wins,
    concurrent_applies_record_one_event,
    a_new_cause_keeps_since,
    a_lease_has_one_holder_until_it_expires,
    a_contended_lease_goes_to_one,
    push_beats_are_shared_and_the_newest_wins,
);

/// Three instances started together on one fresh PostgreSQL database: each migrates, none
/// fails on a table another is creating, and every migration is recorded once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_started_together_migrate_once() {
    let Some(url) = common::postgres_empty_url().await else {
        return;
    };
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let db = store::connect(&url).await.expect("connect");
            store::migrate(&db).await
        }));
    }
    for t in tasks {
        t.await.expect("task").expect("migrate");
    }
    let db = store::connect(&url).await.expect("connect");
    let applied = store::applied_migrations(&db).await.expect("applied");
    let rows = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) FROM seaql_migrations",
        ))
        .await
        .expect("count")
        .expect("row");
    let n: i64 = rows.try_get_by_index(0).expect("n");
    assert_eq!(usize::try_from(n).expect("small"), applied.len());
    assert!(applied.iter().any(|m| m.contains("000060_cluster")));
}
