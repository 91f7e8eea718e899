//! Probe history on SQLite and PostgreSQL: batched writes, rollups across hour and day
//! boundaries, no-data gaps, monitor states surviving a restart, events, retention and the
//! current statuses. Time is passed in (an injectable clock), never slept on.

mod common;

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::config::{parse, Slug};
use domain::monitor_state::{MonitorState, Thresholds};
use domain::status::{CheckOutcome, ComponentStatus, ServiceState};
use domain::topology::{Owner, StatusChange};
use domain::uptime::Period;
use sea_orm::DatabaseConnection;
use store::checks::{self, NewCheck};
use store::history::{self, Observation};

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
id = "port"
kind = "tcp"
target = "127.0.0.1:9"
interval = "60s"
"#;

const MINUTE: StdDuration = StdDuration::from_secs(60);
const T: Thresholds = Thresholds {
    confirm: 2,
    recover: 2,
};

fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, h, m, s)
        .single()
        .expect("valid time")
}

async fn monitor(db: &DatabaseConnection) -> i64 {
    let catalog = parse("t.toml", CATALOG).expect("valid");
    store::catalog::sync(db, &catalog, at(0, 0, 0))
        .await
        .expect("sync");
    checks::monitor_id(db, "service/db/port")
        .await
        .expect("query")
        .expect("monitor")
}

/// Feeds results through the confirmation state machine, as the engine does.
struct Feeder {
    monitor_id: i64,
    location: &'static str,
    state: MonitorState,
}

impl Feeder {
    fn new(monitor_id: i64, location: &'static str) -> Self {
        Feeder {
            monitor_id,
            location,
            state: MonitorState::default(),
        }
    }

    fn observe(&mut self, when: DateTime<Utc>, outcome: CheckOutcome, latency: i32) -> Observation {
        let reason = (outcome != CheckOutcome::Up).then(|| "connection refused".to_owned());
        let transition = self.state.observe(outcome, reason.clone(), when, T);
        Observation {
            check: NewCheck {
                monitor_id: self.monitor_id,
                location_id: self.location.into(),
                checked_at: when,
                outcome,
                latency_ms: Some(latency),
                status_code: None,
                reason,
            },
            interval: MINUTE,
            state: self.state.clone(),
            transition,
        }
    }
}

async fn rollups_split_time_across_hour_and_day_boundaries(db: DatabaseConnection) {
    let id = monitor(&db).await;
    let mut f = Feeder::new(id, "local");
    let batch = vec![
        f.observe(at(22, 59, 0), CheckOutcome::Up, 10),
        f.observe(at(23, 0, 0), CheckOutcome::Up, 20),
        f.observe(at(23, 59, 30), CheckOutcome::Up, 30),
    ];
    history::record_batch(&db, &batch).await.expect("record");
    // The next day, in a second batch: the rollups are updated, not rewritten.
    let next_day = at(23, 59, 30) + Duration::seconds(60);
    let batch = vec![
        f.observe(next_day, CheckOutcome::Down, 40),
        f.observe(next_day + Duration::seconds(60), CheckOutcome::Down, 50),
    ];
    history::record_batch(&db, &batch).await.expect("record");

    let hours = history::rollups(
        &db,
        id,
        Period::Hour,
        at(0, 0, 0),
        at(0, 0, 0) + Duration::days(2),
    )
    .await
    .expect("hours");
    let summary: Vec<(u32, i64, i64, i64, i32)> = hours
        .iter()
        .map(|r| {
            (
                chrono::Timelike::hour(&r.bucket_start),
                r.up_ms,
                r.down_ms,
                r.no_data_ms,
                r.checks,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            // 22:59 -> 23:00 up.
            (22, 60_000, 0, 0, 1),
            // 23:00 -> 23:59:30 is longer than 3 intervals: 1 min up, the rest no data;
            // 23:59:30 -> 00:00:30 up, 30 s of it in this hour.
            (23, 60_000 + 30_000, 0, 3_570_000 - 60_000, 2),
            // 30 s up before 00:00:30, then one minute down until the last result.
            (0, 30_000, 60_000, 0, 2),
        ]
    );
    let days = history::rollups(
        &db,
        id,
        Period::Day,
        at(0, 0, 0),
        at(0, 0, 0) + Duration::days(2),
    )
    .await
    .expect("days");
    assert_eq!(days.len(), 2);
    assert_eq!(days[0].bucket_start, at(0, 0, 0));
    assert_eq!(days[0].checks, 3);
    assert_eq!(days[0].up_ms, 60_000 + 60_000 + 30_000);
    assert_eq!(days[0].latency_max_ms, Some(30));
    assert_eq!(days[0].latency_p50_ms, Some(20));
    assert_eq!(days[1].bucket_start, at(0, 0, 0) + Duration::days(1));
    assert_eq!((days[1].up_ms, days[1].down_ms), (30_000, 60_000));
    assert_eq!(days[1].latency_max_ms, Some(50));
}

async fn time_when_vigie_was_not_running_is_no_data(db: DatabaseConnection) {
    let id = monitor(&db).await;
    let mut f = Feeder::new(id, "local");
    history::record_batch(&db, &[f.observe(at(10, 0, 0), CheckOutcome::Down, 5)])
        .await
        .expect("record");
    // Vigie stops for half an hour, then starts again (the state comes back from the store).
    let resumed: Vec<_> = history::load_states(&db).await.expect("load");
    assert_eq!(resumed.len(), 1);
    let mut f = Feeder {
        monitor_id: id,
        location: "local",
        state: resumed[0].2.clone(),
    };
    history::record_batch(&db, &[f.observe(at(10, 30, 0), CheckOutcome::Up, 5)])
        .await
        .expect("record");
    let hour = history::rollups(&db, id, Period::Hour, at(10, 0, 0), at(11, 0, 0))
        .await
        .expect("rollups");
    assert_eq!(hour.len(), 1);
    assert_eq!(
        hour[0].down_ms, 60_000,
        "one interval credited to the last result"
    );
    assert_eq!(hour[0].no_data_ms, 29 * 60_000, "the gap is not downtime");
}

async fn monitor_states_survive_a_restart_and_transitions_are_events(db: DatabaseConnection) {
    let id = monitor(&db).await;
    let mut paris = Feeder::new(id, "paris");
    let mut amsterdam = Feeder::new(id, "amsterdam");
    let batch = vec![
        paris.observe(at(12, 0, 0), CheckOutcome::Up, 5),
        amsterdam.observe(at(12, 0, 1), CheckOutcome::Up, 6),
        paris.observe(at(12, 1, 0), CheckOutcome::Down, 5),
        paris.observe(at(12, 1, 20), CheckOutcome::Down, 5),
    ];
    history::record_batch(&db, &batch).await.expect("record");
    let mut states = history::load_states(&db).await.expect("load");
    states.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(states.len(), 2);
    assert_eq!(states[0].1, "amsterdam");
    assert_eq!(states[0].2, amsterdam.state);
    assert_eq!(states[1].1, "paris");
    assert_eq!(states[1].2, paris.state);
    assert_eq!(states[1].2.confirmed, Some(CheckOutcome::Down));
    assert_eq!(states[1].2.since, Some(at(12, 1, 20)));
    assert_eq!(
        states[1].2.last_reason.as_deref(),
        Some("connection refused")
    );

    let events = history::monitor_events(&db, id).await.expect("events");
    let summary: Vec<(Option<&str>, Option<&str>, &str)> = events
        .iter()
        .map(|e| {
            (
                e.location_id.as_deref(),
                e.from_status.as_deref(),
                e.to_status.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (Some("paris"), None, "up"),
            (Some("amsterdam"), None, "up"),
            (Some("paris"), Some("up"), "down"),
        ]
    );
    assert_eq!(events[2].cause.as_deref(), Some("connection refused"));
    // Raw results are all there.
    let latest = checks::latest(&db).await.expect("latest");
    assert_eq!(latest.len(), 2);
}

async fn retention_deletes_old_raw_results_and_keeps_rollups(db: DatabaseConnection) {
    let id = monitor(&db).await;
    let mut f = Feeder::new(id, "local");
    let old = at(12, 0, 0) - Duration::days(10);
    history::record_batch(
        &db,
        &[
            f.observe(old, CheckOutcome::Up, 5),
            f.observe(old + Duration::seconds(60), CheckOutcome::Up, 5),
        ],
    )
    .await
    .expect("record");
    history::record_batch(&db, &[f.observe(at(12, 0, 0), CheckOutcome::Up, 5)])
        .await
        .expect("record");
    let pruned = history::prune(&db, at(12, 0, 0), 7).await.expect("prune");
    assert_eq!(pruned.raw, 2);
    assert_eq!(pruned.rollups, 0);
    assert_eq!(checks::latest(&db).await.expect("latest").len(), 1);
    let days = history::rollups(&db, id, Period::Day, old - Duration::days(1), at(23, 0, 0))
        .await
        .expect("rollups");
    // One minute between the old results, one more credited before the gap.
    assert_eq!(days.first().map(|d| d.up_ms), Some(120_000), "history kept");
    // Rollups go after 400 days.
    let pruned = history::prune(&db, at(12, 0, 0) + Duration::days(401), 7)
        .await
        .expect("prune");
    assert!(pruned.rollups >= 2, "{pruned:?}");
}

async fn a_large_batch_is_written_in_one_go(db: DatabaseConnection) {
    let id = monitor(&db).await;
    let mut f = Feeder::new(id, "local");
    let batch: Vec<Observation> = (0..1_200)
        .map(|i| f.observe(at(0, 0, 0) + Duration::seconds(i * 60), CheckOutcome::Up, 7))
        .collect();
    history::record_batch(&db, &batch).await.expect("record");
    let days = history::rollups(
        &db,
        id,
        Period::Day,
        at(0, 0, 0),
        at(0, 0, 0) + Duration::days(1),
    )
    .await
    .expect("rollups");
    assert_eq!(days[0].checks, 1_200);
    assert_eq!(days[0].up_ms, 1_199 * 60_000);
}

async fn current_statuses_keep_the_cause_and_every_change_is_an_event(db: DatabaseConnection) {
    let slug = |s: &str| Slug::parse(s).expect("slug");
    let down = ServiceState::Known(ComponentStatus::MajorOutage);
    let up = ServiceState::Known(ComponentStatus::Operational);
    let changes = vec![
        StatusChange {
            subject: Owner::Service(slug("frandroid")),
            from: None,
            to: up,
            cause: None,
            at: at(12, 0, 0),
        },
        StatusChange {
            subject: Owner::Host(slug("phys-2")),
            from: None,
            to: up,
            cause: None,
            at: at(12, 0, 0),
        },
    ];
    store::status::apply(&db, &changes).await.expect("apply");
    store::status::apply(
        &db,
        &[StatusChange {
            subject: Owner::Service(slug("frandroid")),
            from: Some(up),
            to: down,
            cause: Some("down: monitor home: timeout".into()),
            at: at(12, 1, 0),
        }],
    )
    .await
    .expect("apply");
    // Same state, deeper cause found: `since` stays.
    store::status::apply(
        &db,
        &[StatusChange {
            subject: Owner::Service(slug("frandroid")),
            from: Some(down),
            to: down,
            cause: Some("down: host phys-2 unreachable".into()),
            at: at(12, 2, 0),
        }],
    )
    .await
    .expect("apply");
    let mut current = store::status::current(&db).await.expect("current");
    current.sort_by(|a, b| a.subject.cmp(&b.subject));
    assert_eq!(current.len(), 2);
    let fr = &current[0];
    assert_eq!(fr.subject, Owner::Service(slug("frandroid")));
    assert_eq!(fr.state, down);
    assert_eq!(fr.cause.as_deref(), Some("down: host phys-2 unreachable"));
    assert_eq!(fr.since, at(12, 1, 0));
    assert_eq!(fr.updated_at, at(12, 2, 0));
    let events = store::status::events(&db, &Owner::Service(slug("frandroid")))
        .await
        .expect("events");
    assert_eq!(events.len(), 3);
    assert_eq!(events[1].from_status.as_deref(), Some("operational"));
    assert_eq!(events[1].to_status, "major_outage");
}

async fn thousands_of_status_changes_fit_in_one_apply(db: DatabaseConnection) {
    let changes: Vec<StatusChange> = (0..3000)
        .map(|i| StatusChange {
            subject: Owner::Service(Slug::parse(&format!("s{i}")).expect("slug")),
            from: None,
            to: ServiceState::Known(ComponentStatus::Operational),
            cause: None,
            at: at(12, 0, 0),
        })
        .collect();
    store::status::apply(&db, &changes).await.expect("apply");
    assert_eq!(
        store::status::current(&db).await.expect("current").len(),
        3000
    );
}

async fn a_change_already_recorded_by_another_instance_is_not_recorded_twice(
    db: DatabaseConnection,
) {
    let change = StatusChange {
        subject: Owner::Service(Slug::parse("web").expect("slug")),
        from: None,
        to: ServiceState::Known(ComponentStatus::MajorOutage),
        cause: Some("down: host phys-2 unreachable".into()),
        at: at(12, 0, 0),
    };
    store::status::apply(&db, std::slice::from_ref(&change))
        .await
        .expect("apply");
    let mut later = change.clone();
    later.at = at(12, 0, 5);
    store::status::apply(&db, &[later]).await.expect("apply");
    let events = store::status::events(&db, &change.subject)
        .await
        .expect("events");
    assert_eq!(events.len(), 1);
}

async fn other_locations_states_are_read_apart(db: DatabaseConnection) {
    let id = monitor(&db).await;
    let mut paris = Feeder::new(id, "paris");
    let mut amsterdam = Feeder::new(id, "amsterdam");
    let batch = vec![
        paris.observe(at(12, 0, 0), CheckOutcome::Up, 5),
        amsterdam.observe(at(12, 0, 1), CheckOutcome::Down, 6),
    ];
    history::record_batch(&db, &batch).await.expect("record");
    let elsewhere = history::load_states_elsewhere(&db, "paris")
        .await
        .expect("load");
    assert_eq!(elsewhere.len(), 1);
    assert_eq!(elsewhere[0].1, "amsterdam");
}

on_both!(
    a_change_already_recorded_by_another_instance_is_not_recorded_twice,
    other_locations_states_are_read_apart,
    thousands_of_status_changes_fit_in_one_apply,
    rollups_split_time_across_hour_and_day_boundaries,
    time_when_vigie_was_not_running_is_no_data,
    monitor_states_survive_a_restart_and_transitions_are_events,
    retention_deletes_old_raw_results_and_keeps_rollups,
    a_large_batch_is_written_in_one_go,
    current_statuses_keep_the_cause_and_every_change_is_an_event,
);
