//! Feeds, maintenance calendar and badges through the real router on port 0, on SQLite and
//! (when `VIGIE_TEST_POSTGRES_URL` is set) PostgreSQL. Incidents and windows are written with
//! the store functions the staff console uses; documents are read back with real parsers
//! (feed-rs, icalendar, quick-xml).

use std::str::FromStr;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use domain::config::Slug;
use domain::incident::{Impact, IncidentStatus, MaintenanceStatus};
use domain::status::{ComponentStatus, ServiceState};
use domain::topology::{Owner, StatusChange};
use icalendar::Component;
use reqwest::{header, StatusCode};
use store::audit::Actor;
use store::incidents::{NewIncident, NewUpdate};
use store::maintenance::NewMaintenance;

const BASE_URL: &str = "https://status.example.org";

fn catalog_toml(locale: &str) -> String {
    format!(
        r#"
[site]
title = "Humanoid"
base_url = "{BASE_URL}/"
default_locale = "{locale}"
timezone = "Europe/Paris"

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
"#
    )
}

use crate::common;

struct TestApp {
    base: String,
    db: store::Db,
    /// The server's change hub: the tests write through the store, as another process would,
    /// and have the server notice at once instead of on its next periodic look.
    hub: std::sync::Arc<server::changes::Hub>,
    client: reqwest::Client,
    _server: common::Server,
}

/// Starts Vigie with a two-service catalog whose site speaks `locale`.
async fn spawn_app(locale: &str) -> TestApp {
    let catalog = domain::config::parse("vigie.toml", &catalog_toml(locale)).expect("valid");
    let server = common::Server::start(&catalog, common::Probes::Off).await;
    TestApp {
        base: server.base.clone(),
        db: server.db.clone(),
        hub: server.hub.clone(),
        client: common::client(),
        _server: server,
    }
}

impl TestApp {
    async fn get(&self, path: &str, headers: &[(header::HeaderName, &str)]) -> reqwest::Response {
        self.hub.check(&self.db).await;
        let mut req = self.client.get(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(k, *v);
        }
        req.send().await.expect("request")
    }

    async fn feed(&self, path: &str) -> feed_rs::model::Feed {
        let res = self.get(path, &[]).await;
        assert_eq!(res.status(), 200, "{path}");
        let bytes = res.bytes().await.expect("body");
        // Content sanitising off: the test must see exactly what Vigie published.
        feed_rs::parser::Builder::new()
            .sanitize_content(false)
            .build()
            .parse(&bytes[..])
            .unwrap_or_else(|e| panic!("{path} does not parse: {e}"))
    }
}

fn md(text: &str) -> store::incidents::Message {
    server::markdown::message(text)
}

/// Whole seconds: what RFC 822 dates carry.
fn ago(now: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
    now - Duration::minutes(minutes)
}

/// What the fixture wrote, to compare against.
struct Story {
    outage: i64,
    outage_first: i64,
    outage_resolved: i64,
    slow_forum: i64,
    slow_forum_first: i64,
    db_window: i64,
    migration: i64,
    now: DateTime<Utc>,
}

/// Two incidents and two maintenance windows, all in the past except one window:
///
/// - t-5h  window "Base de données" (forum) scheduled, starts t-4h, ends t-30m
/// - t-3h  incident "Panne des sites" (frandroid) investigating; t-2h resolved
/// - t-1h  incident "Forum lent" (forum) investigating
/// - t-10m window "Migration" (frandroid) scheduled for tomorrow
async fn story(db: &store::Db) -> Story {
    let now = Utc::now().trunc_subsecs(0);
    let actor = Actor::cli();
    let db_window = store::maintenance::schedule(
        db,
        &NewMaintenance {
            title: "Base de données".into(),
            message: md("Mise à jour de **PostgreSQL**."),
            starts_at: ago(now, 240),
            ends_at: ago(now, 30),
            services: vec!["forum".into()],
        },
        &actor,
        ago(now, 300),
    )
    .await
    .expect("window");
    // The window ended 30 minutes ago: completed then, as the server's own periodic look
    // would have done had it been running, and not by that look during the test.
    store::maintenance::advance(db, ago(now, 30))
        .await
        .expect("window completes");
    let outage = store::incidents::open(
        db,
        &NewIncident {
            title: "Panne des sites".into(),
            impact: Impact::Major,
            status: IncidentStatus::Investigating,
            message: md("Les sites ne répondent plus."),
            services: vec![("frandroid".into(), ComponentStatus::MajorOutage)],
            started_at: None,
            notify: false,
        },
        &actor,
        ago(now, 180),
    )
    .await
    .expect("incident");
    let outage = store::incidents::post_update(
        db,
        outage.id,
        &NewUpdate {
            status: IncidentStatus::Resolved,
            message: md("Les sites sont revenus."),
            services: vec![("frandroid".into(), ComponentStatus::Operational)],
        },
        &actor,
        ago(now, 120),
    )
    .await
    .expect("update");
    let slow_forum = store::incidents::open(
        db,
        &NewIncident {
            title: "Forum lent".into(),
            impact: Impact::Minor,
            status: IncidentStatus::Investigating,
            message: md("Le forum est lent."),
            services: vec![("forum".into(), ComponentStatus::DegradedPerformance)],
            started_at: None,
            notify: false,
        },
        &actor,
        ago(now, 60),
    )
    .await
    .expect("incident");
    let migration = store::maintenance::schedule(
        db,
        &NewMaintenance {
            title: "Migration".into(),
            message: md("Changement de serveur."),
            starts_at: now + Duration::days(1),
            ends_at: now + Duration::days(1) + Duration::hours(2),
            services: vec!["frandroid".into()],
        },
        &actor,
        ago(now, 10),
    )
    .await
    .expect("window");
    Story {
        outage: outage.id,
        outage_first: outage.updates[1].id,
        outage_resolved: outage.updates[0].id,
        slow_forum: slow_forum.id,
        slow_forum_first: slow_forum.updates[0].id,
        db_window: db_window.id,
        migration: migration.id,
        now,
    }
}

fn titles(feed: &feed_rs::model::Feed) -> Vec<String> {
    feed.entries
        .iter()
        .map(|e| {
            e.title
                .as_ref()
                .map(|t| t.content.clone())
                .unwrap_or_default()
        })
        .collect()
}

fn ids(feed: &feed_rs::model::Feed) -> Vec<String> {
    feed.entries.iter().map(|e| e.id.clone()).collect()
}

async fn site_feeds_list_every_notice_newest_first() {
    let app = spawn_app("fr").await;
    let s = story(&app.db).await;
    let expected_titles = [
        "[Maintenance planifiée] Migration",
        "[Maintenance terminée] Base de données",
        "[Enquête en cours] Forum lent",
        "[Résolu] Panne des sites",
        "[Enquête en cours] Panne des sites",
        "[Maintenance commencée] Base de données",
        "[Maintenance planifiée] Base de données",
    ];
    let expected_ids = [
        format!(
            "{BASE_URL}/maintenance#maintenance-{}-scheduled",
            s.migration
        ),
        format!(
            "{BASE_URL}/maintenance#maintenance-{}-completed",
            s.db_window
        ),
        format!(
            "{BASE_URL}/incidents/{}#update-{}",
            s.slow_forum, s.slow_forum_first
        ),
        format!(
            "{BASE_URL}/incidents/{}#update-{}",
            s.outage, s.outage_resolved
        ),
        format!(
            "{BASE_URL}/incidents/{}#update-{}",
            s.outage, s.outage_first
        ),
        format!("{BASE_URL}/maintenance#maintenance-{}-started", s.db_window),
        format!(
            "{BASE_URL}/maintenance#maintenance-{}-scheduled",
            s.db_window
        ),
    ];
    let expected_times = [10, 30, 60, 120, 180, 240, 300].map(|m| ago(s.now, m));

    for path in ["/feed.rss", "/feed.atom"] {
        let feed = app.feed(path).await;
        assert_eq!(titles(&feed), expected_titles, "{path}");
        assert_eq!(ids(&feed), expected_ids, "{path}");
        let published: Vec<_> = feed.entries.iter().map(|e| e.published).collect();
        assert_eq!(
            published,
            expected_times.map(Some),
            "{path}: publication dates"
        );
        assert_eq!(feed.language.as_deref(), Some("fr"), "{path}");
        assert_eq!(
            feed.title.as_ref().map(|t| t.content.as_str()),
            Some("Humanoid"),
            "{path}"
        );
        let links: Vec<&str> = feed.links.iter().map(|l| l.href.as_str()).collect();
        assert!(
            links.contains(&format!("{BASE_URL}{path}").as_str()),
            "{path}: self link in {links:?}"
        );
        let first = &feed.entries[3];
        assert_eq!(
            first.links.first().map(|l| l.href.as_str()),
            Some(format!("{BASE_URL}/incidents/{}", s.outage).as_str()),
            "{path}: an update links to its incident"
        );
    }
    // The HTML of the update is carried whole: Atom as content, RSS as description.
    let atom = app.feed("/feed.atom").await;
    let body = atom.entries[3]
        .content
        .as_ref()
        .and_then(|c| c.body.clone())
        .unwrap_or_default();
    assert!(body.contains("<p>Les sites sont revenus.</p>"), "{body}");
    // Issue 15: the entry says which services and the status staff state for each now.
    assert!(
        body.contains("Services concernés, état actuel : FrAndroid (Opérationnel)"),
        "{body}"
    );
    assert!(atom.updated.is_some());
    let rss = app.feed("/feed.rss").await;
    let summary = rss.entries[6]
        .summary
        .as_ref()
        .map(|t| t.content.clone())
        .unwrap_or_default();
    assert!(
        summary.contains("<strong>PostgreSQL</strong>"),
        "maintenance notice carries its message: {summary}"
    );
    // Issue 15 (one clock): the window is in Paris time and says so, no longer in UTC.
    assert!(
        summary.contains("Fenêtre : ") && summary.contains("(heure de Paris)"),
        "and its window: {summary}"
    );
    assert!(!summary.contains("UTC"), "{summary}");
    // Issue 15: each stage of a window says something new, with the services and what the
    // window does to them: the announcement, then that it began (until when), then that it
    // ended (when); the message is said once, in the announcement.
    let said = |title: &str| {
        rss.entries
            .iter()
            .find(|e| e.title.as_ref().is_some_and(|t| t.content == title))
            .and_then(|e| e.summary.as_ref().map(|t| t.content.clone()))
            .unwrap_or_else(|| panic!("no entry {title}"))
    };
    let scheduled = said("[Maintenance planifiée] Base de données");
    let started = said("[Maintenance commencée] Base de données");
    let completed = said("[Maintenance terminée] Base de données");
    assert!(
        scheduled.contains("Services concernés : Forum (maintenance prévue)"),
        "{scheduled}"
    );
    assert!(
        started.contains("Maintenance commencée le ") && started.contains(" ; fin prévue le "),
        "{started}"
    );
    assert!(
        started.contains("Services concernés : Forum (En maintenance)"),
        "{started}"
    );
    assert!(
        completed.contains("Maintenance terminée le "),
        "{completed}"
    );
    assert!(
        completed.contains("Services concernés : Forum (maintenance terminée)"),
        "{completed}"
    );
    for later in [&started, &completed] {
        assert!(!later.contains("PostgreSQL</strong>"), "said once: {later}");
        assert_ne!(later, &scheduled);
    }
    assert_ne!(started, completed);
    // Issue 11: Leptos's hydration markers (`<!>`, a parse error in HTML) stay out of every
    // entry: an entry is never hydrated.
    for e in &rss.entries {
        let html = e.summary.as_ref().map(|t| t.content.as_str()).unwrap_or("");
        assert!(!html.contains("<!>"), "{html}");
    }
    for e in &atom.entries {
        let html = e
            .content
            .as_ref()
            .and_then(|c| c.body.as_deref())
            .unwrap_or("");
        assert!(!html.contains("<!>"), "{html}");
    }
}
async fn edited_update_keeps_its_id_and_shows_new_text() {
    let app = spawn_app("fr").await;
    let s = story(&app.db).await;
    let before = app.get("/feed.atom", &[]).await;
    let etag_before = before.headers()[header::ETAG].clone();
    let ids_before = ids(&app.feed("/feed.atom").await);
    let rss_ids_before = ids(&app.feed("/feed.rss").await);
    store::incidents::edit_update(
        &app.db,
        s.outage_resolved,
        &md("Les sites sont revenus à 14 h 05."),
        &Actor::cli(),
        Utc::now(),
    )
    .await
    .expect("edit");
    let atom = app.feed("/feed.atom").await;
    assert_eq!(ids(&atom), ids_before, "ids survive an edit");
    assert_eq!(ids(&app.feed("/feed.rss").await), rss_ids_before);
    let body = atom.entries[3]
        .content
        .as_ref()
        .and_then(|c| c.body.clone())
        .unwrap_or_default();
    assert!(body.contains("14 h 05"), "{body}");
    assert!(
        atom.entries[3].updated > atom.entries[3].published,
        "the edit shows as an update of the entry"
    );
    let after = app
        .get(
            "/feed.atom",
            &[(header::IF_NONE_MATCH, etag_before.to_str().expect("ascii"))],
        )
        .await;
    assert_eq!(after.status(), 200, "an edit changes the ETag");
}
async fn english_site_prefixes_titles_in_english() {
    let app = spawn_app("en").await;
    story(&app.db).await;
    for path in ["/feed.rss", "/feed.atom"] {
        let feed = app.feed(path).await;
        assert_eq!(
            titles(&feed),
            [
                "[Maintenance scheduled] Migration",
                "[Maintenance completed] Base de données",
                "[Investigating] Forum lent",
                "[Resolved] Panne des sites",
                "[Investigating] Panne des sites",
                "[Maintenance started] Base de données",
                "[Maintenance scheduled] Base de données",
            ],
            "{path}"
        );
        assert_eq!(feed.language.as_deref(), Some("en"), "{path}");
    }
}
async fn script_in_an_update_is_inert_in_both_feeds() {
    let app = spawn_app("fr").await;
    store::incidents::open(
        &app.db,
        &NewIncident {
            title: "Attaque <script>alert(1)</script>".into(),
            impact: Impact::Minor,
            status: IncidentStatus::Investigating,
            message: md(
                "Voir <script>alert('x')</script> et <img src=x onerror=alert(1)> \
                 puis [ce lien](javascript:alert(1)) ou <a href=\"javascript:alert(2)\">là</a>.",
            ),
            services: vec![],
            started_at: None,
            notify: false,
        },
        &Actor::cli(),
        Utc::now(),
    )
    .await
    .expect("incident");
    let rss = app.feed("/feed.rss").await;
    let atom = app.feed("/feed.atom").await;
    let rss_html = rss.entries[0]
        .summary
        .as_ref()
        .map(|t| t.content.clone())
        .unwrap_or_default();
    let atom_html = atom.entries[0]
        .content
        .as_ref()
        .and_then(|c| c.body.clone())
        .unwrap_or_default();
    for (name, html) in [("rss", &rss_html), ("atom", &atom_html)] {
        let lower = html.to_lowercase();
        assert!(lower.contains("ce lien"), "{name}: text kept: {html}");
        for bad in ["<script", "onerror", "javascript:"] {
            assert!(!lower.contains(bad), "{name} carries `{bad}`: {html}");
        }
    }
    // The title is plain text: the markup in it is shown, never run.
    for feed in [&rss, &atom] {
        let title = feed.entries[0].title.as_ref().expect("title");
        assert_eq!(
            title.content,
            "[Enquête en cours] Attaque <script>alert(1)</script>"
        );
    }
}
async fn service_feeds_hold_only_that_service() {
    let app = spawn_app("fr").await;
    let s = story(&app.db).await;
    for ext in ["rss", "atom"] {
        let forum = app.feed(&format!("/services/forum/feed.{ext}")).await;
        assert_eq!(
            titles(&forum),
            [
                "[Maintenance terminée] Base de données",
                "[Enquête en cours] Forum lent",
                "[Maintenance commencée] Base de données",
                "[Maintenance planifiée] Base de données",
            ],
            "{ext}"
        );
        assert_eq!(
            forum.title.as_ref().map(|t| t.content.as_str()),
            Some("Humanoid — Forum")
        );
        let frandroid = app.feed(&format!("/services/frandroid/feed.{ext}")).await;
        assert_eq!(
            ids(&frandroid),
            [
                format!(
                    "{BASE_URL}/maintenance#maintenance-{}-scheduled",
                    s.migration
                ),
                format!(
                    "{BASE_URL}/incidents/{}#update-{}",
                    s.outage, s.outage_resolved
                ),
                format!(
                    "{BASE_URL}/incidents/{}#update-{}",
                    s.outage, s.outage_first
                ),
            ],
            "{ext}"
        );
        let res = app.get(&format!("/services/nope/feed.{ext}"), &[]).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let body: serde_json::Value = res.json().await.expect("json");
        assert_eq!(body["error"], "unknown service `nope`");
    }
}
async fn feeds_keep_only_the_fifty_newest_entries() {
    let app = spawn_app("fr").await;
    let now = Utc::now().trunc_subsecs(0);
    let inc = store::incidents::open(
        &app.db,
        &NewIncident {
            title: "Longue panne".into(),
            impact: Impact::Major,
            status: IncidentStatus::Investigating,
            message: md("Début."),
            services: vec![],
            started_at: None,
            notify: false,
        },
        &Actor::cli(),
        ago(now, 100),
    )
    .await
    .expect("incident");
    for i in 1..=59 {
        store::incidents::post_update(
            &app.db,
            inc.id,
            &NewUpdate {
                status: IncidentStatus::Identified,
                message: md(&format!("Point {i}.")),
                services: vec![],
            },
            &Actor::cli(),
            ago(now, 100 - i),
        )
        .await
        .expect("update");
    }
    for path in ["/feed.rss", "/feed.atom"] {
        let feed = app.feed(path).await;
        assert_eq!(feed.entries.len(), 50, "{path}");
        assert_eq!(feed.entries[0].published, Some(ago(now, 41)), "{path}");
        assert_eq!(feed.entries[49].published, Some(ago(now, 90)), "{path}");
    }
}

async fn feeds_and_calendar_answer_304_to_their_validators() {
    let app = spawn_app("fr").await;
    let s = story(&app.db).await;
    for (path, ctype) in [
        ("/feed.rss", "application/rss+xml; charset=utf-8"),
        ("/feed.atom", "application/atom+xml; charset=utf-8"),
        (
            "/services/forum/feed.rss",
            "application/rss+xml; charset=utf-8",
        ),
        ("/maintenance.ics", "text/calendar; charset=utf-8"),
    ] {
        let res = app.get(path, &[]).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()[header::CONTENT_TYPE], ctype, "{path}");
        let etag = res.headers()[header::ETAG]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(
            etag.starts_with('"') && !etag.starts_with("W/"),
            "strong ETag: {etag}"
        );
        let modified = res.headers()[header::LAST_MODIFIED]
            .to_str()
            .expect("ascii")
            .to_owned();
        let res = app.get(path, &[(header::IF_NONE_MATCH, &etag)]).await;
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert!(res.bytes().await.expect("body").is_empty());
        let res = app
            .get(path, &[(header::IF_MODIFIED_SINCE, &modified)])
            .await;
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert!(res.bytes().await.expect("body").is_empty());
        let earlier = (DateTime::parse_from_rfc2822(&modified).expect("http date")
            - Duration::seconds(1))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
        let res = app
            .get(path, &[(header::IF_MODIFIED_SINCE, &earlier)])
            .await;
        assert_eq!(res.status(), 200, "{path}: modified since a second before");
        let res = app.get(path, &[(header::IF_NONE_MATCH, "\"other\"")]).await;
        assert_eq!(res.status(), 200, "{path}");
    }
    // The newest entry is the site feed's Last-Modified.
    let res = app.get("/feed.rss", &[]).await;
    let modified = DateTime::parse_from_rfc2822(
        res.headers()[header::LAST_MODIFIED]
            .to_str()
            .expect("ascii"),
    )
    .expect("http date");
    // Unless the server's own clock completed the past window while the story was being
    // written: then that is the newest change.
    let window = store::maintenance::get(&app.db, s.db_window, Utc::now())
        .await
        .expect("read")
        .expect("the window");
    let newest = ago(s.now, 10).max(window.updated_at.trunc_subsecs(0));
    assert_eq!(modified, newest);
    let etag = res.headers()[header::ETAG]
        .to_str()
        .expect("ascii")
        .to_owned();
    // A new update makes the old validators stale.
    store::incidents::post_update(
        &app.db,
        s.slow_forum,
        &NewUpdate {
            status: IncidentStatus::Identified,
            message: md("Cause trouvée."),
            services: vec![],
        },
        &Actor::cli(),
        Utc::now(),
    )
    .await
    .expect("update");
    let res = app
        .get("/feed.rss", &[(header::IF_NONE_MATCH, &etag)])
        .await;
    assert_eq!(res.status(), 200);
}
async fn calendar_lists_windows_with_stable_uids() {
    let app = spawn_app("fr").await;
    let s = story(&app.db).await;
    let actor = Actor::cli();
    // Called off before it began: staff complete it early.
    let called_off = store::maintenance::schedule(
        &app.db,
        &NewMaintenance {
            title: "Annulée".into(),
            message: md("Rien."),
            starts_at: s.now + Duration::days(2),
            ends_at: s.now + Duration::days(2) + Duration::hours(1),
            services: vec![],
        },
        &actor,
        ago(s.now, 5),
    )
    .await
    .expect("window");
    store::maintenance::set_status(
        &app.db,
        called_off.id,
        MaintenanceStatus::Completed,
        &actor,
        Utc::now(),
    )
    .await
    .expect("complete");
    // Ended 100 days ago: out of the calendar.
    let old = store::maintenance::schedule(
        &app.db,
        &NewMaintenance {
            title: "Ancienne".into(),
            message: md("Vieille histoire."),
            starts_at: s.now - Duration::days(101),
            ends_at: s.now - Duration::days(100),
            services: vec![],
        },
        &actor,
        s.now - Duration::days(102),
    )
    .await
    .expect("window");

    let res = app.get("/maintenance.ics", &[]).await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.expect("body");
    let cal = icalendar::Calendar::from_str(&text).expect("the calendar parses");
    assert_eq!(cal.get_name(), Some("Humanoid — maintenances"));
    assert_eq!(
        cal.property_value("X-WR-CALNAME"),
        Some("Humanoid — maintenances")
    );
    let events: Vec<&icalendar::Event> = cal.events().collect();
    let uids: Vec<&str> = events.iter().filter_map(|e| e.get_uid()).collect();
    let host = BASE_URL.trim_start_matches("https://");
    assert_eq!(
        uids,
        [
            format!("maintenance-{}@{host}", s.db_window),
            format!("maintenance-{}@{host}", s.migration),
            format!("maintenance-{}@{host}", called_off.id),
        ],
        "by start time, without the window that ended 100 days ago ({})",
        old.id
    );
    let past = events[0];
    assert_eq!(past.get_summary(), Some("Base de données"));
    // Issue 15 (one clock): the description opens with the window in the site's timezone,
    // labelled; DTSTART and DTEND stay in UTC.
    let description = past.get_description().unwrap_or_default();
    assert!(
        description.starts_with("Fenêtre : ") && description.contains("(heure de Paris)"),
        "the window in Paris time first: {description}"
    );
    // Issue 15: where the window stands (this one is over, and when), then the plain text,
    // then the services it concerned.
    assert!(
        description.contains("\nMaintenance terminée le ")
            && description.contains(" (heure de Paris).\n"),
        "the stage after the window: {description}"
    );
    assert!(
        description.ends_with("\n\nMise à jour de PostgreSQL.\n\nServices concernés : Forum"),
        "then the plain text, then the services: {description}"
    );
    assert_eq!(
        past.get_start(),
        Some(icalendar::DatePerhapsTime::DateTime(
            icalendar::CalendarDateTime::Utc(ago(s.now, 240))
        ))
    );
    assert_eq!(
        past.get_end(),
        Some(icalendar::DatePerhapsTime::DateTime(
            icalendar::CalendarDateTime::Utc(ago(s.now, 30))
        ))
    );
    assert_eq!(past.get_status(), Some(icalendar::EventStatus::Confirmed));
    assert_eq!(past.get_sequence(), Some(0));
    assert_eq!(
        past.get_url(),
        Some(format!("{BASE_URL}/maintenance#maintenance-{}", s.db_window).as_str())
    );
    assert!(past.get_timestamp().is_some(), "DTSTAMP");
    let cancelled = events[2];
    assert_eq!(
        cancelled.get_status(),
        Some(icalendar::EventStatus::Cancelled)
    );
    assert_eq!(cancelled.get_sequence(), Some(1), "staff changed it once");
    // Fetching again gives the same UIDs and the same bytes.
    let again = app
        .get("/maintenance.ics", &[])
        .await
        .text()
        .await
        .expect("body");
    assert_eq!(again, text);
}
/// Every event of an SVG document, failing on malformed XML; returns the `<title>` text and
/// the root's `aria-label`.
fn svg_title_and_label(svg: &str) -> (String, String) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut title = String::new();
    let mut label = String::new();
    let mut in_title = false;
    let mut depth = 0usize;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                if e.name().as_ref() == "svg" {
                    for a in e.attributes() {
                        let a = a.expect("attribute");
                        if a.key.as_ref() == "aria-label" {
                            label = a
                                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .expect("value")
                                .into_owned();
                        }
                    }
                }
                in_title = e.name().as_ref() == "title";
                depth += 1;
            }
            Event::End(_) => {
                in_title = false;
                depth = depth.checked_sub(1).expect("balanced");
            }
            Event::Text(t) if in_title => {
                title.push_str(&t.xml_content(quick_xml::XmlVersion::Implicit1_0));
            }
            Event::GeneralRef(r) if in_title => {
                let name = r.into_inner();
                title.push_str(match name.as_ref() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    other => panic!("unexpected entity {other}"),
                });
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "every element closed");
    (title, label)
}

async fn status_badge_says_the_status_in_the_site_language() {
    let app = spawn_app("fr").await;
    let res = app.get("/badge/frandroid.svg", &[]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "image/svg+xml; charset=utf-8"
    );
    assert_eq!(res.headers()[header::CACHE_CONTROL], "max-age=60");
    let (title, label) = svg_title_and_label(&res.text().await.expect("body"));
    assert_eq!(title, "FrAndroid: Aucune donnée", "no data is never green");
    assert_eq!(label, title);

    store::status::apply(
        &app.db,
        &[StatusChange {
            subject: Owner::Service(Slug::parse("frandroid").expect("slug")),
            from: None,
            to: ServiceState::Known(ComponentStatus::MajorOutage),
            cause: Some(common::stored_cause(domain::topology::Cause::Host {
                host: Slug::parse("phys-2").expect("slug"),
            })),
            at: Utc::now(),
        }],
    )
    .await
    .expect("status");
    let svg = app
        .get("/badge/frandroid.svg", &[])
        .await
        .text()
        .await
        .expect("body");
    let (title, _) = svg_title_and_label(&svg);
    assert_eq!(title, "FrAndroid: Panne majeure");
    assert!(svg.contains("#cf222e"), "red for a major outage");

    for path in [
        "/badge/nope.svg",
        "/badge/frandroid.png",
        "/badge/nope/uptime.svg",
    ] {
        let res = app.get(path, &[]).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        let body: serde_json::Value = res.json().await.expect("json");
        assert!(body["error"].is_string(), "{path}");
    }
}

async fn english_badge_and_escaped_names() {
    let app = spawn_app("en").await;
    store::status::apply(
        &app.db,
        &[StatusChange {
            subject: Owner::Service(Slug::parse("forum").expect("slug")),
            from: None,
            to: ServiceState::Known(ComponentStatus::Operational),
            cause: None,
            at: Utc::now(),
        }],
    )
    .await
    .expect("status");
    let svg = app
        .get("/badge/forum.svg", &[])
        .await
        .text()
        .await
        .expect("body");
    assert_eq!(svg_title_and_label(&svg).0, "Forum: Operational");
}

/// A service whose name is markup: both badges show it as text, in well-formed SVG.
async fn hostile_service_name_is_text_in_both_badges() {
    const EVIL: &str = r#"</title><script>alert("x")</script> & 'Co' ]]>"#;
    let toml = format!(
        "{}\n[[services]]\nid = \"evil\"\nname = '''{EVIL}'''\ngroup = \"sites\"\n",
        catalog_toml("en")
    );
    let catalog = domain::config::parse("vigie.toml", &toml).expect("valid");
    let server = common::Server::start(&catalog, common::Probes::Off).await;
    let client = common::client();
    for path in ["/badge/evil.svg", "/badge/evil/uptime.svg"] {
        server.hub.check(&server.db).await;
        let res = client
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 200, "{path}");
        let svg = res.text().await.expect("body");
        assert!(!svg.contains("<script"), "{path}: {svg}");
        let (title, label) = svg_title_and_label(&svg);
        assert!(title.starts_with(EVIL), "{path}: {title}");
        assert!(title.ends_with("No data"), "{path}: {title}");
        assert_eq!(label, title, "{path}");
    }
}

async fn set_status(db: &store::Db, slug: &str, to: ComponentStatus, at: DateTime<Utc>) {
    store::status::apply(
        db,
        &[StatusChange {
            subject: Owner::Service(Slug::parse(slug).expect("slug")),
            from: None,
            to: ServiceState::Known(to),
            cause: None,
            at,
        }],
    )
    .await
    .expect("status");
}

async fn uptime_badge_shows_the_percentage_over_the_asked_days() {
    let app = spawn_app("fr").await;
    let now = Utc::now();
    // Watched for ten days, down for one of them (two days ago).
    set_status(
        &app.db,
        "frandroid",
        ComponentStatus::Operational,
        now - Duration::days(10),
    )
    .await;
    set_status(
        &app.db,
        "frandroid",
        ComponentStatus::MajorOutage,
        now - Duration::days(2),
    )
    .await;
    set_status(
        &app.db,
        "frandroid",
        ComponentStatus::Operational,
        now - Duration::days(1),
    )
    .await;

    let res = app.get("/badge/frandroid/uptime.svg", &[]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()[header::CACHE_CONTROL], "max-age=60");
    let (title, label) = svg_title_and_label(&res.text().await.expect("body"));
    assert_eq!(title, "FrAndroid · disponibilité 30 j: 90,00 %");
    assert_eq!(label, title);
    let svg = app
        .get("/badge/frandroid/uptime.svg?days=1", &[])
        .await
        .text()
        .await
        .expect("body");
    assert_eq!(
        svg_title_and_label(&svg).0,
        "FrAndroid · disponibilité 1 j: 100 %"
    );
    // Never probed: no data, not 100 %.
    let svg = app
        .get("/badge/forum/uptime.svg?days=90", &[])
        .await
        .text()
        .await
        .expect("body");
    assert_eq!(
        svg_title_and_label(&svg).0,
        "Forum · disponibilité 90 j: Aucune donnée"
    );

    for days in ["0", "91", "abc", "-1", "7.5", ""] {
        let res = app
            .get(&format!("/badge/frandroid/uptime.svg?days={days}"), &[])
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "days={days}");
        let body: serde_json::Value = res.json().await.expect("json");
        let message = body["error"].as_str().unwrap_or_default();
        assert!(message.contains("`days` must be"), "{message}");
    }
    let res = app.get("/badge/nope/uptime.svg", &[]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["error"], "unknown service `nope`");
}

/// Issue 15: `?lang=en` on a French site gives an English feed whose self link keeps the
/// language; without it the reader's Accept-Language decides, and the response says it
/// varies on that header (pages too), while an explicit `lang` makes the header irrelevant.
async fn feeds_honour_lang_and_vary_on_accept_language() {
    let app = spawn_app("fr").await;
    story(&app.db).await;
    for path in ["/feed.rss?lang=en", "/feed.atom?lang=en"] {
        let feed = app.feed(path).await;
        assert_eq!(feed.language.as_deref(), Some("en"), "{path}");
        assert!(
            titles(&feed).contains(&"[Investigating] Forum lent".to_owned()),
            "{path}: {:?}",
            titles(&feed)
        );
    }
    let atom = app.get("/feed.atom?lang=en", &[]).await;
    assert!(!atom
        .headers()
        .get_all(header::VARY)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.contains("accept-language"))));
    let body = atom.text().await.expect("body");
    assert!(
        body.contains("/feed.atom?lang=en"),
        "self link keeps the language"
    );

    let negotiated = app
        .get("/feed.atom", &[(header::ACCEPT_LANGUAGE, "en-GB,en;q=0.9")])
        .await;
    let vary: Vec<String> = negotiated
        .headers()
        .get_all(header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    assert!(
        vary.iter().any(|v| v.contains("accept-language")),
        "{vary:?}"
    );
    assert!(negotiated
        .text()
        .await
        .expect("body")
        .contains("[Investigating] Forum lent"));

    for (path, varies) in [("/", true), ("/history", true), ("/?lang=en", false)] {
        let res = app.get(path, &[]).await;
        let has = res
            .headers()
            .get_all(header::VARY)
            .iter()
            .any(|v| v.to_str().is_ok_and(|v| v.contains("accept-language")));
        assert_eq!(has, varies, "{path}: Vary: Accept-Language");
    }
}

on_both!(
    feeds_honour_lang_and_vary_on_accept_language,
    site_feeds_list_every_notice_newest_first,
    edited_update_keeps_its_id_and_shows_new_text,
    english_site_prefixes_titles_in_english,
    script_in_an_update_is_inert_in_both_feeds,
    service_feeds_hold_only_that_service,
    feeds_and_calendar_answer_304_to_their_validators,
    calendar_lists_windows_with_stable_uids,
    feeds_keep_only_the_fifty_newest_entries,
    status_badge_says_the_status_in_the_site_language,
    english_badge_and_escaped_names,
    hostile_service_name_is_text_in_both_badges,
    uptime_badge_shows_the_percentage_over_the_asked_days,
);
