//! Staff data on SQLite and PostgreSQL: users and password hashes, sessions, API tokens,
//! incidents with updates and services, maintenance moved by an injected clock, manual
//! statuses, and an audit event in the same transaction as every write.

mod common;

use chrono::{DateTime, TimeZone, Utc};
use domain::config::parse;
use domain::config::Slug;
use domain::incident::{Impact, IncidentStatus, MaintenanceStatus};
use domain::staff::Role;
use domain::staff::Scope;
use domain::status::{ComponentStatus, ServiceState};
use domain::topology::{Owner, StatusChange};
use sea_orm::DatabaseConnection;
use store::audit::{self, Actor, AuditFilter, WriteError};
use store::incidents::drafts::{self, DraftStatus};
use store::incidents::{self, Message, NewIncident, NewUpdate};
use store::maintenance::{self, NewMaintenance};
use store::tokens;
use store::users;
use store::{sessions, Db};

const CATALOG: &str = r#"
[site]
title = "Test"

[[groups]]
id = "sites"
name = "Sites"

[[services]]
id = "frandroid"
name = "FrAndroid"
group = "sites"

[[services]]
id = "forum"
name = "Forum"
group = "sites"
"#;

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, h, m, 0)
        .single()
        .expect("valid time")
}

async fn catalog(db: &DatabaseConnection) {
    let catalog = parse("t.toml", CATALOG).expect("valid");
    store::catalog::sync(db, &catalog, at(0, 0))
        .await
        .expect("sync");
}

fn msg(md: &str) -> Message {
    Message {
        markdown: md.to_owned(),
        html: format!("<p>{md}</p>"),
    }
}

async fn actions(db: &Db) -> Vec<String> {
    let (entries, _) = audit::list(db, &AuditFilter::default(), 0, 100)
        .await
        .expect("audit");
    entries.into_iter().rev().map(|e| e.action).collect()
}

async fn editor(db: &Db) -> users::User {
    let hash = users::hash_password("correct horse battery staple").expect("hash");
    users::create(
        db,
        "Alice@Example.org ",
        Role::Editor,
        &hash,
        &Actor::cli(),
        at(1, 0),
    )
    .await
    .expect("create")
}

async fn users_are_stored_with_argon2id_hashes_and_unique_emails(db: DatabaseConnection) {
    let alice = editor(&db).await;
    assert_eq!(alice.email, "alice@example.org");
    let (found, hash) = users::find_for_login(&db, "ALICE@example.org")
        .await
        .expect("query")
        .expect("found");
    assert_eq!(found, alice);
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(users::verify_password(
        &hash,
        "correct horse battery staple"
    ));
    assert!(!users::verify_password(&hash, "wrong"));
    let again = users::create(
        &db,
        "alice@example.org",
        Role::Admin,
        &hash,
        &Actor::cli(),
        at(1, 1),
    )
    .await;
    assert!(matches!(again, Err(WriteError::Conflict)));
    assert_eq!(users::list(&db).await.expect("list").len(), 1);
    assert_eq!(actions(&db).await, ["user.create"]);
}

async fn sign_in_replaces_the_presented_session_and_password_change_ends_them_all(
    db: DatabaseConnection,
) {
    let alice = editor(&db).await;
    let (planted, _) = sessions::start(&db, &alice, None, Some("192.0.2.1"), None, at(2, 0))
        .await
        .expect("session");
    let (cookie, s) = sessions::start(&db, &alice, Some(&planted), None, Some("test"), at(2, 1))
        .await
        .expect("session");
    assert_ne!(cookie, planted);
    assert_ne!(s.id, cookie, "the cookie value is not stored");
    assert!(sessions::find(&db, &planted, at(2, 2))
        .await
        .expect("q")
        .is_none());
    let found = sessions::find(&db, &cookie, at(2, 2))
        .await
        .expect("q")
        .expect("live");
    assert_eq!(found.user, alice);
    assert_eq!(found.csrf_token, s.csrf_token);
    assert!(
        sessions::find(&db, &cookie, at(2, 1) + sessions::SESSION_TTL)
            .await
            .expect("q")
            .is_none(),
        "expired"
    );
    let (other, _) = sessions::start(&db, &alice, None, None, None, at(2, 3))
        .await
        .expect("s");
    let hash = users::hash_password("another long password").expect("hash");
    users::set_password(&db, "alice@example.org", &hash, &Actor::cli(), at(3, 0))
        .await
        .expect("passwd");
    assert!(sessions::find(&db, &cookie, at(3, 1))
        .await
        .expect("q")
        .is_none());
    assert!(sessions::find(&db, &other, at(3, 1))
        .await
        .expect("q")
        .is_none());
    let actions = actions(&db).await;
    assert_eq!(
        actions,
        [
            "user.create",
            "session.login",
            "session.login",
            "session.login",
            "user.password"
        ]
    );
}

async fn logout_everywhere_ends_every_session_of_the_user(db: DatabaseConnection) {
    let alice = editor(&db).await;
    let (a, sa) = sessions::start(&db, &alice, None, None, None, at(2, 0))
        .await
        .expect("s");
    let (b, _) = sessions::start(&db, &alice, None, None, None, at(2, 0))
        .await
        .expect("s");
    let actor = sessions::actor_for(&alice, None);
    assert_eq!(
        sessions::end(&db, &sa, false, &actor, at(2, 1))
            .await
            .expect("end"),
        1
    );
    assert!(sessions::find(&db, &a, at(2, 2))
        .await
        .expect("q")
        .is_none());
    let sb = sessions::find(&db, &b, at(2, 2))
        .await
        .expect("q")
        .expect("live");
    sessions::end(&db, &sb, true, &actor, at(2, 3))
        .await
        .expect("end");
    assert!(sessions::find(&db, &b, at(2, 4))
        .await
        .expect("q")
        .is_none());
}

async fn tokens_are_stored_hashed_scoped_and_stop_working_when_revoked(db: DatabaseConnection) {
    let alice = editor(&db).await;
    let (value, token) = tokens::api::create(
        &db,
        alice.id,
        "ci",
        &[Scope::IncidentsWrite],
        &Actor::cli(),
        at(4, 0),
    )
    .await
    .expect("token");
    assert!(value.starts_with(tokens::api::TOKEN_PREFIX));
    assert!(token.allows(Scope::IncidentsWrite) && !token.allows(Scope::ServicesWrite));
    assert!(token.last_used_at.is_none());
    assert!(tokens::api::authenticate(&db, "vigie_nope", at(4, 1))
        .await
        .expect("q")
        .is_none());
    let (used, owner) = tokens::api::authenticate(&db, &value, at(4, 2))
        .await
        .expect("q")
        .expect("live");
    assert_eq!(owner, alice);
    assert_eq!(used.last_used_at, Some(at(4, 2)));
    let listed = tokens::api::list(&db).await.expect("list");
    assert_eq!(listed[0].last_used_at, Some(at(4, 2)));
    assert!(!listed[0].prefix.is_empty() && listed[0].prefix.len() < value.len());
    tokens::api::revoke(&db, token.id, &Actor::cli(), at(4, 3))
        .await
        .expect("revoke");
    assert!(tokens::api::authenticate(&db, &value, at(4, 4))
        .await
        .expect("q")
        .is_none());
    assert_eq!(
        actions(&db).await,
        ["user.create", "token.create", "token.revoke"]
    );
}

fn outage() -> NewIncident {
    NewIncident {
        title: "Sites inaccessibles".into(),
        impact: Impact::Critical,
        status: IncidentStatus::Investigating,
        message: msg("Nous enquêtons."),
        services: vec![
            ("frandroid".into(), ComponentStatus::MajorOutage),
            ("forum".into(), ComponentStatus::PartialOutage),
        ],
        started_at: Some(at(5, 0)),
        notify: true,
    }
}

async fn incident_life_cycle_keeps_every_update_service_status_and_audit_event(
    db: DatabaseConnection,
) {
    catalog(&db).await;
    let actor = Actor::cli();
    let inc = incidents::open(&db, &outage(), &actor, at(6, 0))
        .await
        .expect("open");
    assert_eq!(inc.started_at, at(5, 0), "backdated start");
    assert_eq!(inc.services.len(), 2);
    assert_eq!(inc.services[1].name, "FrAndroid", "sorted by service id");
    let open = incidents::read::open_incidents(&db)
        .await
        .expect("open list");
    assert_eq!(open.len(), 1);
    assert_eq!(
        open[0].latest_update().expect("update").message_md,
        "Nous enquêtons."
    );
    for (i, status) in [
        IncidentStatus::Identified,
        IncidentStatus::Monitoring,
        IncidentStatus::Resolved,
    ]
    .into_iter()
    .enumerate()
    {
        let services = if status == IncidentStatus::Resolved {
            vec![
                ("frandroid".into(), ComponentStatus::Operational),
                ("forum".into(), ComponentStatus::Operational),
            ]
        } else {
            vec![]
        };
        incidents::post_update(
            &db,
            inc.id,
            &NewUpdate {
                status,
                message: msg(&format!("étape {i}")),
                services,
            },
            &actor,
            at(7, i as u32),
        )
        .await
        .expect("update");
    }
    let full = incidents::read::get(&db, inc.id)
        .await
        .expect("q")
        .expect("found");
    assert_eq!(full.status, IncidentStatus::Resolved);
    assert_eq!(full.resolved_at, Some(at(7, 2)));
    assert_eq!(full.updates.len(), 4);
    assert_eq!(
        full.updates[0].status,
        IncidentStatus::Resolved,
        "newest first"
    );
    assert!(full
        .services
        .iter()
        .all(|s| s.status == ComponentStatus::Operational));
    assert!(incidents::read::open_incidents(&db)
        .await
        .expect("q")
        .is_empty());
    let recent = incidents::read::recent(&db, 0, 10).await.expect("recent");
    assert_eq!(recent.len(), 1);
    assert_eq!(
        recent[0].updates.len(),
        1,
        "lists carry the latest update only"
    );

    let reopen = incidents::post_update(
        &db,
        inc.id,
        &NewUpdate {
            status: IncidentStatus::Investigating,
            message: msg("again"),
            services: vec![],
        },
        &actor,
        at(8, 0),
    )
    .await;
    assert!(matches!(reopen, Err(WriteError::Transition { .. })));
    let pm = incidents::post_update(
        &db,
        inc.id,
        &NewUpdate {
            status: IncidentStatus::Postmortem,
            message: msg("Ce qui change"),
            services: vec![],
        },
        &actor,
        at(9, 0),
    )
    .await
    .expect("postmortem");
    assert_eq!(
        pm.resolved_at,
        Some(at(7, 2)),
        "postmortem keeps resolution time"
    );
    assert_eq!(
        actions(&db).await,
        [
            "incident.create",
            "incident.update",
            "incident.update",
            "incident.update",
            "incident.update"
        ]
    );
}

async fn incident_naming_an_unknown_service_writes_nothing(db: DatabaseConnection) {
    catalog(&db).await;
    let mut new = outage();
    new.services
        .push(("nope".into(), ComponentStatus::MajorOutage));
    let res = incidents::open(&db, &new, &Actor::cli(), at(6, 0)).await;
    assert!(matches!(res, Err(WriteError::UnknownService(s)) if s == "nope"));
    assert!(incidents::read::recent(&db, 0, 10)
        .await
        .expect("q")
        .is_empty());
    assert!(
        actions(&db).await.is_empty(),
        "no audit event without the change"
    );
    let mut future = outage();
    future.started_at = Some(at(7, 0));
    let res = incidents::open(&db, &future, &Actor::cli(), at(6, 0)).await;
    assert!(matches!(res, Err(WriteError::Invalid("started_at"))));
}

async fn edited_update_keeps_its_earlier_text(db: DatabaseConnection) {
    catalog(&db).await;
    let inc = incidents::open(&db, &outage(), &Actor::cli(), at(6, 0))
        .await
        .expect("open");
    let update_id = inc.updates[0].id;
    let edited = incidents::edit_update(&db, update_id, &msg("Corrigé"), &Actor::cli(), at(6, 5))
        .await
        .expect("edit");
    assert_eq!(edited.updates[0].message_md, "Corrigé");
    assert_eq!(edited.updates[0].edited_at, Some(at(6, 5)));
    assert_eq!(
        incidents::read::update_history(&db, update_id)
            .await
            .expect("history"),
        ["Nous enquêtons."]
    );
    let renamed = incidents::edit(
        &db,
        inc.id,
        &incidents::IncidentEdit {
            title: Some("Panne".into()),
            impact: Some(Impact::Major),
            started_at: None,
        },
        &Actor::cli(),
        at(6, 6),
    )
    .await
    .expect("edit");
    assert_eq!(
        (renamed.title.as_str(), renamed.impact),
        ("Panne", Impact::Major)
    );
}

async fn maintenance_starts_and_completes_by_the_injected_clock(db: DatabaseConnection) {
    catalog(&db).await;
    let new = NewMaintenance {
        title: "Migration du forum".into(),
        message: msg("Le forum sera en lecture seule."),
        starts_at: at(10, 0),
        ends_at: at(11, 0),
        services: vec!["forum".into()],
    };
    let m = maintenance::schedule(&db, &new, &Actor::cli(), at(9, 0))
        .await
        .expect("schedule");
    assert_eq!(m.status, MaintenanceStatus::Scheduled);
    assert_eq!(m.services[0].status, ComponentStatus::UnderMaintenance);
    assert_eq!(
        maintenance::upcoming(&db, at(9, 30))
            .await
            .expect("q")
            .len(),
        1
    );
    assert!(maintenance::active(&db, at(9, 30))
        .await
        .expect("q")
        .is_empty());
    assert!(maintenance::advance(&db, at(9, 59))
        .await
        .expect("advance")
        .is_empty());

    let moves = maintenance::advance(&db, at(10, 0)).await.expect("advance");
    assert_eq!(moves.len(), 1);
    assert_eq!(
        (moves[0].from, moves[0].to),
        (MaintenanceStatus::Scheduled, MaintenanceStatus::InProgress)
    );
    assert!(
        maintenance::advance(&db, at(10, 1))
            .await
            .expect("again")
            .is_empty(),
        "once"
    );
    let active = maintenance::active(&db, at(10, 30)).await.expect("q");
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].status, MaintenanceStatus::InProgress);
    assert!(maintenance::upcoming(&db, at(10, 30))
        .await
        .expect("q")
        .is_empty());

    let moves = maintenance::advance(&db, at(11, 0)).await.expect("advance");
    assert_eq!(moves[0].to, MaintenanceStatus::Completed);
    assert!(maintenance::active(&db, at(11, 0))
        .await
        .expect("q")
        .is_empty());
    let got = maintenance::get(&db, m.id, at(12, 0))
        .await
        .expect("q")
        .expect("found");
    assert_eq!(got.status, MaintenanceStatus::Completed);
    assert_eq!(
        actions(&db).await,
        [
            "maintenance.create",
            "maintenance.status",
            "maintenance.status"
        ]
    );
    let bad = NewMaintenance {
        ends_at: at(10, 0),
        ..new
    };
    assert!(matches!(
        maintenance::schedule(&db, &bad, &Actor::cli(), at(9, 0)).await,
        Err(WriteError::Invalid("ends_at"))
    ));
}

async fn maintenance_reads_are_right_before_advance_runs(db: DatabaseConnection) {
    catalog(&db).await;
    let new = NewMaintenance {
        title: "Serveur".into(),
        message: msg("x"),
        starts_at: at(10, 0),
        ends_at: at(11, 0),
        services: vec![],
    };
    maintenance::schedule(&db, &new, &Actor::cli(), at(9, 0))
        .await
        .expect("schedule");
    let active = maintenance::active(&db, at(10, 15)).await.expect("q");
    assert_eq!(active[0].status, MaintenanceStatus::InProgress);
    let done = maintenance::recent(&db, at(12, 0), 0, 10).await.expect("q");
    assert_eq!(done[0].status, MaintenanceStatus::Completed);
    let early = maintenance::set_status(
        &db,
        done[0].id,
        MaintenanceStatus::Completed,
        &Actor::cli(),
        at(10, 20),
    )
    .await
    .expect("complete early");
    assert_eq!(early.ends_at, at(10, 20));
}

async fn manual_status_is_set_cleared_and_audited(db: DatabaseConnection) {
    catalog(&db).await;
    let set = incidents::manual::set_manual_status(
        &db,
        "forum",
        Some(ComponentStatus::DegradedPerformance),
        Some("lent"),
        &Actor::cli(),
        at(1, 0),
    )
    .await
    .expect("set");
    assert!(set.is_some());
    incidents::manual::set_manual_status(
        &db,
        "forum",
        Some(ComponentStatus::MajorOutage),
        None,
        &Actor::cli(),
        at(1, 1),
    )
    .await
    .expect("set again");
    let all = incidents::manual::manual_statuses(&db).await.expect("q");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].status, ComponentStatus::MajorOutage);
    incidents::manual::set_manual_status(&db, "forum", None, None, &Actor::cli(), at(1, 2))
        .await
        .expect("clear");
    assert!(incidents::manual::manual_statuses(&db)
        .await
        .expect("q")
        .is_empty());
    let unknown =
        incidents::manual::set_manual_status(&db, "nope", None, None, &Actor::cli(), at(1, 3))
            .await;
    assert!(matches!(unknown, Err(WriteError::UnknownService(_))));
    assert_eq!(actions(&db).await.len(), 3);
}

async fn audit_log_pages_and_filters(db: DatabaseConnection) {
    catalog(&db).await;
    editor(&db).await;
    for i in 0..3 {
        incidents::manual::set_manual_status(&db, "forum", None, None, &Actor::cli(), at(2, i))
            .await
            .expect("clear");
    }
    let (page, total) = audit::list(&db, &AuditFilter::default(), 0, 2)
        .await
        .expect("q");
    assert_eq!((page.len(), total), (2, 4));
    assert_eq!(page[0].at, at(2, 2), "newest first");
    let (page, total) = audit::list(&db, &AuditFilter::default(), 1, 2)
        .await
        .expect("q");
    assert_eq!((page.len(), total), (2, 4));
    let only_users = AuditFilter {
        action: Some("user.".into()),
        actor: None,
    };
    let (page, total) = audit::list(&db, &only_users, 0, 10).await.expect("q");
    assert_eq!((page[0].action.as_str(), total), ("user.create", 1));
    let nobody = AuditFilter {
        action: None,
        actor: Some("mallory".into()),
    };
    assert_eq!(audit::list(&db, &nobody, 0, 10).await.expect("q").1, 0);
}

/// The engine's view of `service`: `to` since `at`, for `cause`.
async fn engine_says(
    db: &DatabaseConnection,
    service: &str,
    to: ComponentStatus,
    at: DateTime<Utc>,
) {
    let cause = (to == ComponentStatus::MajorOutage).then(|| {
        domain::topology::Cause::Host {
            host: Slug::parse("phys-2").expect("slug"),
        }
        .to_stored()
    });
    store::status::apply(
        db,
        &[StatusChange {
            subject: Owner::Service(Slug::parse(service).expect("slug")),
            from: None,
            to: ServiceState::Known(to),
            cause,
            at,
        }],
    )
    .await
    .expect("status applied");
}

fn ten_minutes() -> chrono::Duration {
    chrono::Duration::minutes(10)
}

async fn engine_proposes_one_draft_per_outage_and_never_publishes(db: DatabaseConnection) {
    catalog(&db).await;
    engine_says(&db, "frandroid", ComponentStatus::MajorOutage, at(10, 0)).await;
    engine_says(&db, "forum", ComponentStatus::MajorOutage, at(10, 1)).await;
    let propose = |now| drafts::propose(&db, now, ten_minutes());
    assert_eq!(
        propose(at(10, 9)).await.expect("propose"),
        None,
        "not long enough yet"
    );

    let draft = propose(at(10, 11))
        .await
        .expect("propose")
        .expect("a draft");
    assert_eq!(draft.status, DraftStatus::Proposed);
    assert_eq!(draft.since, at(10, 0));
    let names: Vec<&str> = draft.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["Forum", "FrAndroid"],
        "one draft for the services down together"
    );
    assert_eq!(
        draft.services[1].cause,
        Some(domain::topology::Cause::Host {
            host: Slug::parse("phys-2").expect("slug")
        })
    );
    assert_eq!(
        propose(at(10, 12)).await.expect("propose"),
        None,
        "proposed once"
    );
    assert_eq!(drafts::proposed(&db).await.expect("list"), vec![draft]);
    assert!(
        incidents::read::open_incidents(&db)
            .await
            .expect("open")
            .is_empty(),
        "a draft is never published by itself"
    );
    assert!(actions(&db)
        .await
        .contains(&"incident_draft.proposed".to_owned()));

    // FrAndroid comes back, then goes down again: a new outage, a new draft for it alone.
    engine_says(&db, "frandroid", ComponentStatus::Operational, at(10, 20)).await;
    engine_says(&db, "frandroid", ComponentStatus::MajorOutage, at(10, 30)).await;
    let again = propose(at(10, 41))
        .await
        .expect("propose")
        .expect("a second draft");
    let ids: Vec<&str> = again.services.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["frandroid"]);
    assert_eq!(drafts::proposed(&db).await.expect("list").len(), 2);
}

async fn services_named_by_an_open_incident_get_no_draft(db: DatabaseConnection) {
    catalog(&db).await;
    let inc = incidents::open(&db, &outage(), &Actor::cli(), at(6, 0))
        .await
        .expect("open");
    engine_says(&db, "frandroid", ComponentStatus::MajorOutage, at(10, 0)).await;
    let propose = |now| drafts::propose(&db, now, ten_minutes());
    assert_eq!(
        propose(at(11, 0)).await.expect("propose"),
        None,
        "staff already said it"
    );
    incidents::post_update(
        &db,
        inc.id,
        &NewUpdate {
            status: IncidentStatus::Resolved,
            message: msg("Résolu trop tôt."),
            services: vec![],
        },
        &Actor::cli(),
        at(11, 5),
    )
    .await
    .expect("resolve");
    let draft = propose(at(11, 6))
        .await
        .expect("propose")
        .expect("still down: a draft");
    assert_eq!(draft.services[0].id, "frandroid");
}

async fn staff_open_or_dismiss_a_draft_once_and_audited(db: DatabaseConnection) {
    catalog(&db).await;
    engine_says(&db, "frandroid", ComponentStatus::MajorOutage, at(10, 0)).await;
    engine_says(&db, "forum", ComponentStatus::MajorOutage, at(12, 0)).await;
    let first = drafts::propose(&db, at(10, 30), ten_minutes())
        .await
        .expect("propose")
        .expect("draft");
    let second = drafts::propose(&db, at(12, 30), ten_minutes())
        .await
        .expect("propose")
        .expect("draft");
    let editor = Actor::cli();
    drafts::decide(
        &db,
        first.id,
        DraftStatus::Dismissed,
        None,
        &editor,
        at(12, 31),
    )
    .await
    .expect("dismiss");
    assert!(matches!(
        drafts::decide(
            &db,
            first.id,
            DraftStatus::Opened,
            Some(1),
            &editor,
            at(12, 32)
        )
        .await,
        Err(WriteError::Conflict)
    ));
    assert!(matches!(
        drafts::decide(&db, 999, DraftStatus::Dismissed, None, &editor, at(12, 32)).await,
        Err(WriteError::NotFound)
    ));
    let inc = incidents::open(&db, &outage(), &editor, at(12, 33))
        .await
        .expect("open");
    drafts::decide(
        &db,
        second.id,
        DraftStatus::Opened,
        Some(inc.id),
        &editor,
        at(12, 33),
    )
    .await
    .expect("opened");
    assert!(drafts::proposed(&db).await.expect("list").is_empty());
    let opened = drafts::get(&db, second.id)
        .await
        .expect("get")
        .expect("draft");
    assert_eq!(
        (opened.status, opened.incident_id),
        (DraftStatus::Opened, Some(inc.id))
    );
    let actions = actions(&db).await;
    assert!(actions.contains(&"incident_draft.dismissed".to_owned()));
    assert!(actions.contains(&"incident_draft.opened".to_owned()));
}

on_both!(
    users_are_stored_with_argon2id_hashes_and_unique_emails,
    sign_in_replaces_the_presented_session_and_password_change_ends_them_all,
    logout_everywhere_ends_every_session_of_the_user,
    tokens_are_stored_hashed_scoped_and_stop_working_when_revoked,
    incident_life_cycle_keeps_every_update_service_status_and_audit_event,
    incident_naming_an_unknown_service_writes_nothing,
    edited_update_keeps_its_earlier_text,
    maintenance_starts_and_completes_by_the_injected_clock,
    maintenance_reads_are_right_before_advance_runs,
    manual_status_is_set_cleared_and_audited,
    audit_log_pages_and_filters,
    engine_proposes_one_draft_per_outage_and_never_publishes,
    services_named_by_an_open_incident_get_no_draft,
    staff_open_or_dismiss_a_draft_once_and_audited,
);
