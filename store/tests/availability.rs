//! Availability read back from the store on SQLite and PostgreSQL: days in the site's
//! timezone built from recorded status events, maintenance left out, incidents listed on the
//! days they touched.

mod common;

use chrono::{DateTime, TimeZone, Utc};
use domain::availability::BarLevel;
use domain::config::{parse, Slug};
use domain::incident::{Impact, IncidentStatus};
use domain::status::{ComponentStatus, ServiceState};
use domain::topology::{Owner, StatusChange};
use sea_orm::DatabaseConnection;
use store::audit::Actor;
use store::incidents::{Message, NewIncident};
use store::maintenance::NewMaintenance;

const CATALOG: &str = r#"
[site]
title = "Test"
timezone = "Europe/Paris"

[[groups]]
id = "sites"
name = "Sites"

[[services]]
id = "frandroid"
name = "FrAndroid"
group = "sites"

[[services.monitors]]
kind = "tcp"
target = "127.0.0.1:9"
interval = "60s"

[[services]]
id = "forum"
name = "Forum"
group = "sites"

[[services.monitors]]
kind = "tcp"
target = "127.0.0.1:9"
interval = "60s"
"#;

fn at(d: u32, h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, d, h, m, 0)
        .single()
        .expect("valid time")
}

fn change(service: &str, to: ComponentStatus, at: DateTime<Utc>) -> StatusChange {
    StatusChange {
        subject: Owner::Service(Slug::parse(service).expect("slug")),
        from: None,
        to: ServiceState::Known(to),
        cause: None,
        at,
    }
}

fn message(text: &str) -> Message {
    Message {
        markdown: text.to_owned(),
        html: format!("<p>{text}</p>"),
    }
}

async fn seed(db: &DatabaseConnection) {
    let catalog = parse("vigie.toml", CATALOG).expect("catalog");
    store::catalog::sync(db, &catalog, at(1, 0, 0))
        .await
        .expect("sync");
    use ComponentStatus::*;
    // FrAndroid: up since the 1st; down 2 h on the 25th from 23:30 Paris time (22:30 UTC),
    // i.e. 30 min on the 25th and 1 h 30 on the 26th; a 3 h window on the 26th afternoon
    // during which it was down again but that does not count.
    for c in [
        change("frandroid", Operational, at(1, 0, 0)),
        change("forum", Operational, at(1, 0, 0)),
        change("frandroid", MajorOutage, at(25, 22, 30)),
        change("frandroid", Operational, at(26, 0, 30)),
        change("frandroid", MajorOutage, at(26, 13, 0)),
        change("frandroid", Operational, at(26, 15, 0)),
    ] {
        store::status::apply(db, &[c]).await.expect("apply");
    }
    store::maintenance::schedule(
        db,
        &NewMaintenance {
            title: "Migration".into(),
            message: message("Migration des bases"),
            starts_at: at(26, 12, 0),
            ends_at: at(26, 15, 0),
            services: vec!["frandroid".into()],
        },
        &Actor::cli(),
        at(20, 0, 0),
    )
    .await
    .expect("maintenance");
    store::incidents::open(
        db,
        &NewIncident {
            title: "Sites injoignables".into(),
            impact: Impact::Major,
            status: IncidentStatus::Investigating,
            message: message("Nous enquêtons."),
            services: vec![("frandroid".into(), MajorOutage)],
            started_at: Some(at(25, 22, 40)),
            notify: false,
        },
        &Actor::cli(),
        at(25, 22, 45),
    )
    .await
    .expect("incident");
}

async fn days_follow_paris_midnight_and_leave_maintenance_out(db: DatabaseConnection) {
    seed(&db).await;
    let now = at(27, 11, 0);
    let all = store::availability::daily(&db, chrono_tz::Europe::Paris, now, 90)
        .await
        .expect("daily");
    assert_eq!(all.len(), 2);
    let fr = &all["frandroid"];
    assert_eq!(fr.len(), 90);
    let d25 = &fr[87];
    let d26 = &fr[88];
    let d27 = &fr[89];
    assert_eq!(d27.date.to_string(), "2026-11-27");
    assert_eq!(
        d25.downtime_ms,
        30 * 60_000,
        "23:30–00:00 Paris belongs to the 25th"
    );
    assert_eq!(
        d26.downtime_ms,
        90 * 60_000,
        "the outage inside the window is not counted"
    );
    assert_eq!(d26.maintenance_ms, 3 * 3_600_000);
    assert_eq!(d26.level(), BarLevel::Major);
    assert_eq!(d25.level(), BarLevel::Minor);
    assert_eq!(d27.level(), BarLevel::Operational);
    // The incident, still open, shows on each day since it began.
    assert_eq!(d25.incidents.len(), 1);
    assert_eq!(d27.incidents[0].title, "Sites injoignables");
    assert!(fr[86].incidents.is_empty());
    // Before the first event there is no data: grey, and out of the ratio.
    assert_eq!(fr[0].level(), BarLevel::NoData);
    assert_eq!(fr[0].uptime_pct(), None);
    // The forum never went down.
    assert!(all["forum"][87..]
        .iter()
        .all(|d| d.uptime_pct() == Some(100.0)));

    let one = store::availability::daily_for(&db, "frandroid", chrono_tz::Europe::Paris, now, 3)
        .await
        .expect("daily_for")
        .expect("known service");
    assert_eq!(
        one,
        fr[87..].to_vec(),
        "one service reads the same as all of them"
    );
    assert!(
        store::availability::daily_for(&db, "nope", chrono_tz::Europe::Paris, now, 3)
            .await
            .expect("daily_for")
            .is_none()
    );
}

async fn window_uptime_uses_the_state_in_force_when_the_window_opens(db: DatabaseConnection) {
    seed(&db).await;
    // 24 h from the 25th 23:00 UTC: down from 23:00 to 00:30 (1 h 30 of 24 h counted,
    // the 3 h window excluded): 21 h counted, 1.5 h down.
    let from = at(25, 23, 0);
    let to = at(26, 23, 0);
    let pct = store::availability::uptime(&db, "frandroid", from, to)
        .await
        .expect("uptime")
        .expect("data");
    let expected = 100.0 * (21.0 - 1.5) / 21.0;
    assert!((pct - expected).abs() < 1e-9, "{pct} vs {expected}");
    assert_eq!(
        store::availability::uptime(&db, "nope", from, to)
            .await
            .expect("uptime"),
        None
    );
}

on_both!(
    days_follow_paris_midnight_and_leave_maintenance_out,
    window_uptime_uses_the_state_in_force_when_the_window_opens,
);
