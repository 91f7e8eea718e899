//! The incident, history and maintenance pages and the site chrome, through the real router
//! on port 0, on SQLite and on PostgreSQL. Incidents and windows are written with the store
//! functions staff's console uses; the pages are read as a reader's browser gets them.

use chrono::{DateTime, Duration, Utc};
use domain::incident::{Impact, IncidentStatus};
use domain::status::ComponentStatus;
use store::audit::Actor;
use store::incidents::{Message, NewIncident, NewUpdate};
use store::maintenance::NewMaintenance;

use crate::common;

struct TestApp {
    base: String,
    db: store::Db,
    client: reqwest::Client,
    _server: common::Server,
}

/// The Humanoid catalog with its probes off: what the pages show is written here.
async fn spawn_app() -> TestApp {
    let server = common::Server::start(&common::humanoid(), common::Probes::Off).await;
    TestApp {
        base: server.base.clone(),
        db: server.db.clone(),
        client: common::client(),
        _server: server,
    }
}

impl TestApp {
    /// Status and body of a GET, as a French reader's browser asks for it.
    async fn page(&self, path: &str) -> (u16, String) {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .header("accept-language", "fr-FR,fr;q=0.9")
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = res.status().as_u16();
        (
            status,
            res.text()
                .await
                .unwrap_or_else(|e| panic!("GET {path} body: {e}")),
        )
    }

    /// The body of `path` once it contains `needle` (within 10 s): for reads right after
    /// writes the page cache has not seen yet.
    async fn page_with(&self, path: &str, needle: &str) -> String {
        for _ in 0..100 {
            let (status, html) = self.page(path).await;
            if status == 200 && html.contains(needle) {
                return html;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("`{needle}` never appeared on {path}");
    }

    async fn incident(
        &self,
        title: &str,
        started_at: DateTime<Utc>,
        services: Vec<(String, ComponentStatus)>,
    ) -> i64 {
        store::incidents::open(
            &self.db,
            &NewIncident {
                title: title.to_owned(),
                impact: Impact::Major,
                status: IncidentStatus::Investigating,
                message: msg(&format!("Début de {title}")),
                services,
                started_at: Some(started_at),
                notify: false,
            },
            &Actor::cli(),
            started_at,
        )
        .await
        .expect("incident opens")
        .id
    }

    async fn update(&self, id: i64, status: IncidentStatus, text: &str, at: DateTime<Utc>) {
        store::incidents::post_update(
            &self.db,
            id,
            &NewUpdate {
                status,
                message: msg(text),
                services: Vec::new(),
            },
            &Actor::cli(),
            at,
        )
        .await
        .expect("update posts");
    }

    async fn window(&self, title: &str, starts: DateTime<Utc>, hours: i64, now: DateTime<Utc>) {
        store::maintenance::schedule(
            &self.db,
            &NewMaintenance {
                title: title.to_owned(),
                message: msg(&format!("Message de {title}")),
                starts_at: starts,
                ends_at: starts + Duration::hours(hours),
                services: vec!["forum".to_owned()],
            },
            &Actor::cli(),
            now,
        )
        .await
        .expect("window schedules");
    }
}

fn msg(text: &str) -> Message {
    Message {
        markdown: text.to_owned(),
        html: format!("<p>{text}</p>"),
    }
}

/// Position of `needle` in `html`, failing the test with the needle's name when absent.
fn at(html: &str, needle: &str) -> usize {
    html.find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not on the page"))
}

async fn incident_page_tells_the_whole_story_in_order_in_both_languages() {
    let app = spawn_app().await;
    let now = Utc::now();
    let start = now - Duration::hours(3);
    let id = app
        .incident(
            "Hôte phys-2 injoignable",
            start,
            vec![
                ("frandroid".to_owned(), ComponentStatus::MajorOutage),
                ("forum".to_owned(), ComponentStatus::PartialOutage),
            ],
        )
        .await;
    app.update(
        id,
        IncidentStatus::Identified,
        "Alimentation coupée",
        start + Duration::minutes(30),
    )
    .await;
    app.update(
        id,
        IncidentStatus::Resolved,
        "Courant rétabli",
        start + Duration::minutes(135),
    )
    .await;
    app.update(
        id,
        IncidentStatus::Postmortem,
        "Ce que nous changeons",
        start + Duration::minutes(170),
    )
    .await;

    let (status, html) = app.page(&format!("/incidents/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("<title>Hôte phys-2 injoignable — Humanoid — état des services</title>"));
    assert_eq!(html.matches("<h1").count(), 1, "one h1 per page");
    assert!(html.contains("Impact : majeur"));
    assert!(
        html.contains("Durée : 2 h 15 min"),
        "resolved 135 min after it began"
    );
    assert!(html.contains("href=\"/services/frandroid\""));
    assert!(html.contains("href=\"/services/forum\""));
    assert!(html.contains("Panne majeure") && html.contains("Panne partielle"));
    // Every update, newest first (issue 15 turned the order on purpose: a reader coming
    // back reads the latest news first), with its state word; the postmortem after them,
    // apart.
    let first = at(&html, "<p>Début de Hôte phys-2 injoignable</p>");
    let second = at(&html, "<p>Alimentation coupée</p>");
    let third = at(&html, "<p>Courant rétabli</p>");
    let pm_heading = at(&html, "id=\"postmortem-title\"");
    let pm = at(&html, "<p>Ce que nous changeons</p>");
    assert!(third < second && second < first && first < pm_heading && pm_heading < pm);
    assert!(at(&html, "Cause identifiée") < at(&html, "Enquête en cours"));
    assert!(
        html.contains("il y a 3 h"),
        "relative time of the first update"
    );
    assert!(
        html.contains("Europe/Paris"),
        "the timezone of the times is said"
    );

    let (status, en) = app.page(&format!("/incidents/{id}?lang=en")).await;
    assert_eq!(status, 200);
    assert!(en.contains("<html lang=\"en\""));
    for word in [
        "Investigating",
        "Identified",
        "Resolved",
        "Affected services",
        "Impact: major",
        "Duration: 2 h 15 min",
        "Postmortem",
        "3 h ago",
    ] {
        assert!(en.contains(word), "`{word}` missing in English");
    }
}

async fn an_open_incident_says_since_when_it_is_ongoing() {
    let app = spawn_app().await;
    let id = app
        .incident("Forum lent", Utc::now() - Duration::minutes(50), Vec::new())
        .await;
    let (status, html) = app.page(&format!("/incidents/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("En cours depuis le"));
    // The start now says its timezone in parentheses (issue 15), so the length follows it
    // in words rather than in a second pair of parentheses.
    assert!(html.contains("(heure de Paris), soit 50 min"));
}

async fn unknown_or_malformed_incident_ids_get_the_404_page() {
    let app = spawn_app().await;
    for path in [
        "/incidents/999999",
        "/incidents/abc",
        "/incidents/-1",
        "/history?page=0",
        "/history?page=2",
        "/history?page=x",
    ] {
        let (status, html) = app.page(path).await;
        assert_eq!(status, 404, "{path}");
        assert!(
            html.contains("Page introuvable"),
            "{path}: the app's 404 page"
        );
    }
}

async fn history_groups_by_month_newest_first_and_pages_by_twenty() {
    let app = spawn_app().await;
    let now = Utc::now();
    let mut begun: Vec<(DateTime<Utc>, String)> = Vec::new();
    // 23 incidents ten days apart: about eight months, more than one page.
    for k in 1..=23i64 {
        let started = now - Duration::days(10 * k) + Duration::minutes(k);
        let title = format!("Incident numéro {k:02}");
        app.incident(&title, started, Vec::new()).await;
        begun.push((started, title));
    }
    let past = now - Duration::days(15);
    app.window("Migration des disques", past, 2, now).await;
    begun.push((past, "Migration des disques".to_owned()));
    app.window("Mise à jour future", now + Duration::days(3), 2, now)
        .await;
    begun.sort_by_key(|b| std::cmp::Reverse(b.0));

    let tz: chrono_tz::Tz = "Europe/Paris".parse().expect("tz");
    let months = |entries: &[(DateTime<Utc>, String)]| {
        let mut out: Vec<String> = Vec::new();
        for (t, _) in entries {
            let local = t.with_timezone(&tz);
            let name = wording::FR.month_year(
                chrono::Datelike::year(&local),
                chrono::Datelike::month(&local),
            );
            if out.last() != Some(&name) {
                out.push(name);
            }
        }
        out
    };

    let (status, html) = app.page("/history").await;
    assert_eq!(status, 200);
    assert!(html.contains("<title>Historique — Humanoid — état des services</title>"));
    assert!(
        !html.contains("Mise à jour future"),
        "history holds what has begun"
    );
    let mut last = 0;
    for (_, title) in &begun[..20] {
        let pos = at(&html, title);
        assert!(pos > last, "{title} out of order");
        last = pos;
    }
    for (_, title) in &begun[20..] {
        assert!(!html.contains(title.as_str()), "{title} belongs to page 2");
    }
    let mut last = 0;
    for heading in months(&begun[..20]) {
        let pos = at(&html, &format!(">{heading}</h2>"));
        assert!(pos > last, "month {heading} out of order");
        last = pos;
    }
    assert!(html.contains("Page 1 sur 2"));
    assert!(html.contains("rel=\"next\" href=\"/history?page=2\""));
    assert!(
        html.contains("href=\"/maintenance#maintenance-"),
        "maintenance links to its page"
    );
    assert!(
        html.contains("aria-current=\"page\">Historique</a>"),
        "nav shows where we are"
    );

    let (status, page2) = app.page("/history?page=2&lang=en").await;
    assert_eq!(status, 200);
    for (_, title) in &begun[20..] {
        assert!(page2.contains(title.as_str()), "{title} missing on page 2");
    }
    assert!(page2.contains("Page 2 of 2"));
    assert!(
        page2.contains("rel=\"prev\" href=\"/history?lang=en\""),
        "links keep the language"
    );
    let english_month = {
        let local = begun[23].0.with_timezone(&tz);
        wording::EN.month_year(
            chrono::Datelike::year(&local),
            chrono::Datelike::month(&local),
        )
    };
    assert!(
        page2.contains(&english_month),
        "English month name {english_month}"
    );
    // The incident links lead to the incident pages.
    let id_link = page2.find("href=\"/incidents/").expect("incident link");
    assert!(id_link > 0);
}

async fn maintenance_page_and_overview_show_windows_in_their_place() {
    let app = spawn_app().await;
    let now = Utc::now();
    app.window("Changement de routeur", now - Duration::hours(1), 3, now)
        .await;
    app.window("Mise à niveau PostgreSQL", now + Duration::days(2), 2, now)
        .await;
    app.window("Remplacement des disques", now - Duration::days(5), 2, now)
        .await;

    let (status, html) = app.page("/maintenance").await;
    assert_eq!(status, 200);
    assert_eq!(html.matches("<h1").count(), 1);
    let active = at(&html, "id=\"maintenance-active\"");
    let upcoming = at(&html, "id=\"maintenance-upcoming\"");
    let past = at(&html, "id=\"maintenance-past\"");
    let a = at(&html, "Changement de routeur");
    let u = at(&html, "Mise à niveau PostgreSQL");
    let p = at(&html, "Remplacement des disques");
    assert!(active < a && a < upcoming && upcoming < u && u < past && past < p);
    for word in [
        "En cours",
        "Programmée",
        "Terminée",
        "<p>Message de Changement de routeur</p>",
        "href=\"/services/forum\"",
    ] {
        assert!(html.contains(word), "`{word}` missing");
    }

    let (_, en) = app.page("/maintenance?lang=en").await;
    for word in ["In progress", "Scheduled", "Completed", "Upcoming", "Past"] {
        assert!(en.contains(word), "`{word}` missing in English");
    }

    let (status, home) = app.page("/").await;
    assert_eq!(status, 200);
    let section = at(&home, "Maintenances en cours et à venir");
    assert!(section < at(&home, "Changement de routeur"));
    assert!(home.contains("Mise à niveau PostgreSQL"));
    assert!(
        !home.contains("Remplacement des disques"),
        "past windows stay off /"
    );
    assert!(
        !home.contains("stale-banner"),
        "no stale banner before any probe data"
    );
}

async fn every_page_has_chrome_meta_open_graph_and_feed_discovery() {
    let app = spawn_app().await;
    let id = app.incident("Test", Utc::now(), Vec::new()).await;
    for path in [
        "/".to_owned(),
        "/history".to_owned(),
        "/maintenance".to_owned(),
        format!("/incidents/{id}"),
    ] {
        let (status, html) = app.page(&path).await;
        assert_eq!(status, 200, "{path}");
        for needle in [
            "<meta name=\"description\"",
            "property=\"og:description\"",
            "property=\"og:type\" content=\"website\"",
            "<link rel=\"alternate\" type=\"application/rss+xml\" href=\"/feed.rss\"",
            "<link rel=\"alternate\" type=\"application/atom+xml\" href=\"/feed.atom\"",
            "<header class=\"site-header\"",
            "<main id=\"main\"",
            "href=\"/history\"",
            "href=\"/maintenance\"",
            "rel=\"external\" hreflang=\"en\"",
            "class=\"theme-toggle\"",
        ] {
            assert!(html.contains(needle), "{path}: `{needle}` missing");
        }
        // A shared link names the page: og:title is the page's own title.
        let title = html
            .split_once("<title>")
            .and_then(|(_, rest)| rest.split_once("</title>"))
            .map(|(t, _)| t.to_owned())
            .unwrap_or_else(|| panic!("{path}: no <title>"));
        assert!(title.contains("Humanoid"), "{path}: {title}");
        assert_eq!(
            html.matches(&format!("property=\"og:title\" content=\"{title}\""))
                .count(),
            1,
            "{path}: og:title is the page title"
        );
        let og_url = format!("property=\"og:url\" content=\"http://127.0.0.1:8080{path}\"");
        assert!(html.contains(&og_url), "{path}: og:url from site.base_url");
        assert_eq!(html.matches("<h1").count(), 1, "{path}: one h1");
        assert_eq!(
            html.matches("name=\"description\"").count(),
            1,
            "{path}: one description"
        );
    }
    // The language switch keeps the path and the other query values.
    let (_, html) = app.page("/history?page=1").await;
    assert!(
        html.contains("href=\"/history?page=1&amp;lang=en\"")
            || html.contains("href=\"/history?page=1&lang=en\"")
    );
}

/// Every public page, in both languages and with an incident, its Markdown updates and a
/// maintenance window on it, and the console's sign-in page, parse without an HTML5 error, use
/// each id once, point only to ids they have, and pass the Nu HTML checker with no error.
async fn every_public_page_is_valid_html() {
    let app = spawn_app().await;
    let now = Utc::now();
    let id = app
        .incident(
            "Forum injoignable",
            now - Duration::hours(3),
            vec![("forum".to_owned(), ComponentStatus::MajorOutage)],
        )
        .await;
    let markdown = "Le **forum** ne répond plus :\n\n- `vm-forum` arrêtée\n- voir \
                    [l'hébergeur](https://example.net/statut)\n\n| hôte | état |\n|---|---|\n\
                    | phys-2 | coupé |\n\n> Sauvegardes en cours de vérification.";
    store::incidents::post_update(
        &app.db,
        id,
        &NewUpdate {
            status: IncidentStatus::Identified,
            message: Message {
                markdown: markdown.to_owned(),
                html: server::markdown::render(markdown),
            },
            services: Vec::new(),
        },
        &Actor::cli(),
        now - Duration::hours(2),
    )
    .await
    .expect("update posts");
    app.window("Migration du forum", now + Duration::days(1), 2, now)
        .await;
    let mut pages = Vec::new();
    for path in [
        "/".to_owned(),
        "/?lang=en".to_owned(),
        "/services/forum".to_owned(),
        "/services/forum?range=7d&lang=en".to_owned(),
        format!("/incidents/{id}"),
        format!("/incidents/{id}?lang=en"),
        "/history".to_owned(),
        "/maintenance".to_owned(),
        "/services/forum?range=30d".to_owned(),
        "/history?lang=en".to_owned(),
        "/maintenance?lang=en".to_owned(),
        "/subscribe".to_owned(),
        "/nowhere".to_owned(),
        "/admin/login".to_owned(),
    ] {
        let (_, html) = app.page(&path).await;
        // A whole page (the subscribe page without e-mail configured is a short one).
        assert!(
            html.len() > 600 && html.trim_end().ends_with("</html>"),
            "{path}: a whole page, not {html}"
        );
        let problems = common::html::problems(&html);
        assert!(problems.is_empty(), "{path}:\n{}", problems.join("\n"));
        pages.push((path, html));
    }
    // The Nu HTML checker itself, when installed: not one error on any page.
    if let Some(errors) = common::html::vnu_errors(&pages) {
        assert!(errors.is_empty(), "Nu HTML checker:\n{}", errors.join("\n"));
    }
}

/// Posts an incident through the write API with a fresh editor token; returns its id.
async fn post_incidents(app: &TestApp, incidents: &[(String, String)]) -> Vec<i64> {
    let now = Utc::now();
    let hash = store::users::hash_password("correct horse battery staple").expect("hash");
    let user = store::users::create(
        &app.db,
        "ed@example.org",
        domain::staff::Role::Editor,
        &hash,
        &Actor::cli(),
        now,
    )
    .await
    .expect("user");
    let scopes = [domain::staff::Scope::IncidentsWrite];
    let (token, _) =
        store::tokens::api::create(&app.db, user.id, "xss", &scopes, &Actor::cli(), now)
            .await
            .expect("token");
    let mut ids = Vec::new();
    for (title, message) in incidents {
        let res = app
            .client
            .post(format!("{}/api/v1/incidents", app.base))
            .bearer_auth(&token)
            .json(&serde_json::json!({
                "title": title, "impact": "minor", "message": message,
            }))
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 201, "{title}");
        let body: serde_json::Value = res.json().await.expect("json");
        ids.push(body["id"].as_i64().expect("id"));
    }
    ids
}

/// Sanitised Markdown: allowed markup, checked by `xss::is_inert` on its own.
pub(crate) const MARKDOWN: &[&str] = &["incident-body", "maintenance-body"];

/// The XSS corpus, posted by staff through the write API as incident titles and messages,
/// comes out inert on the incident pages, on the overview and the history, and in the Atom
/// and RSS feeds. Each page is parsed as a browser would and compared with the same page
/// showing plain text: the payload may create no element and no attribute, in `<title>`,
/// `<meta>` content, headings, links or the data scripts; the title reads back as typed.
async fn the_xss_corpus_is_inert_on_incident_pages_and_in_feeds() {
    let app = spawn_app().await;
    let plain_app = spawn_app().await;
    let corpus: Vec<(String, String)> = common::xss::PAYLOADS
        .iter()
        .map(|p| (format!("Titre {p}"), (*p).to_owned()))
        .collect();
    let plain: Vec<(String, String)> = (0..corpus.len())
        .map(|i| (format!("Titre {i}"), format!("Texte {i}")))
        .collect();
    let ids = post_incidents(&app, &corpus).await;
    let plain_ids = post_incidents(&plain_app, &plain).await;
    let (_, plain_incident) = plain_app
        .page(&format!("/incidents/{}", plain_ids[0]))
        .await;
    let incident_outline = common::html::outline(&plain_incident, MARKDOWN);
    let site = common::html::text_of(&plain_incident, "title")
        .and_then(|t| t.strip_prefix("Titre 0 — ").map(str::to_owned))
        .expect("the plain incident page has a title");
    let mut failures = Vec::new();
    for (id, payload) in ids.iter().zip(common::xss::PAYLOADS) {
        let (status, html) = app.page(&format!("/incidents/{id}")).await;
        assert_eq!(status, 200);
        let body = html
            .split_once("class=\"incident-body\">")
            .and_then(|(_, rest)| rest.split_once("</div></li>"))
            .map(|(b, _)| b)
            .unwrap_or_else(|| panic!("incident {id} has no message"));
        if let Err(e) = common::xss::is_inert(body) {
            failures.push(format!("/incidents/{id} ({payload}): {e}"));
        }
        let outline = common::html::outline(&html, MARKDOWN);
        if outline != incident_outline {
            failures.push(format!(
                "/incidents/{id} ({payload}): the payload changed the document: {}",
                first_difference(&incident_outline, &outline)
            ));
        }
        let expected = format!("Titre {payload} — {site}");
        let title = common::html::text_of(&html, "title");
        if title.as_deref() != Some(expected.as_str()) {
            failures.push(format!("/incidents/{id}: <title> reads {title:?}"));
        }
        let og = common::html::attr_where(&html, "property", "og:title", "content");
        if og.as_deref() != Some(expected.as_str()) {
            failures.push(format!("/incidents/{id}: og:title reads {og:?}"));
        }
        let h1 = common::html::text_of(&html, "h1");
        if h1.as_deref() != Some(format!("Titre {payload}").as_str()) {
            failures.push(format!("/incidents/{id}: <h1> reads {h1:?}"));
        }
    }
    for path in [
        "/",
        "/history",
        "/history?page=2",
        "/history?page=3",
        "/?lang=en",
    ] {
        let (_, plain_html) = plain_app.page(path).await;
        let (status, html) = app.page(path).await;
        assert_eq!(status, 200, "{path}");
        let (want, got) = (
            common::html::outline(&plain_html, MARKDOWN),
            common::html::outline(&html, MARKDOWN),
        );
        if want != got {
            failures.push(format!(
                "{path}: the corpus changed the document: {}",
                first_difference(&want, &got)
            ));
        }
    }
    for path in ["/feed.atom", "/feed.rss"] {
        let res = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("feed");
        let bytes = res.bytes().await.expect("body");
        let feed = feed_rs::parser::Builder::new()
            .sanitize_content(false)
            .build()
            .parse(&bytes[..])
            .unwrap_or_else(|e| panic!("{path} does not parse: {e}"));
        assert_eq!(feed.entries.len(), common::xss::PAYLOADS.len(), "{path}");
        for entry in &feed.entries {
            let html = entry
                .content
                .as_ref()
                .and_then(|c| c.body.clone())
                .or_else(|| entry.summary.as_ref().map(|t| t.content.clone()))
                .unwrap_or_default();
            if let Err(e) = common::xss::is_inert(&html) {
                failures.push(format!("{path} {}: {e}", entry.id));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Where two outlines part, for a failure message.
pub(crate) fn first_difference(want: &[String], got: &[String]) -> String {
    let at = want
        .iter()
        .zip(got)
        .position(|(a, b)| a != b)
        .unwrap_or(want.len().min(got.len()));
    format!(
        "element {at}: expected {:?}, found {:?} ({} vs {} elements)",
        want.get(at),
        got.get(at),
        want.len(),
        got.len()
    )
}

/// Servers started in the same process (the tests start many; an embedder could too) must not
/// stall each other's pages: Leptos suspends resource loading process-wide while it builds a
/// route list, and a page that began meanwhile never finished (leptos-rs/leptos#4773).
#[tokio::test]
async fn pages_finish_while_other_servers_start_in_the_same_process() {
    let app = spawn_app().await;
    // Another thread with its own runtime, as another test would be.
    let starting = std::thread::spawn(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            for _ in 0..40 {
                drop(spawn_app().await);
            }
        });
    });
    let mut served = 0;
    while !starting.is_finished() || served < 20 {
        for path in ["/", "/history", "/maintenance"] {
            let (status, html) = app.page(path).await;
            assert_eq!(status, 200, "{path}");
            assert!(html.contains("</html>"), "{path}: the whole page");
            served += 1;
        }
    }
    starting.join().expect("the other servers start");
}

/// Issue 15: a major incident with no service attached turns the banner red, the card on `/`
/// links to the incident's page (keeping an explicit `lang`), and once resolved the incident
/// stays on `/` for a week.
async fn the_overview_banner_reads_open_incidents_and_keeps_recent_ones() {
    let app = spawn_app().await;
    let now = Utc::now();
    let (_, calm) = app.page("/").await;
    assert!(!calm.contains("banner-major_outage"), "nothing is open yet");
    assert!(calm.contains("Aucun incident sur cette période."));

    let open = app
        .incident("Paiements refusés", now - Duration::minutes(20), Vec::new())
        .await;
    // The page cache keeps `/` until the change hub notices the write (500 ms).
    let html = app.page_with("/", "banner-major_outage").await;
    assert!(
        html.contains("class=\"banner banner-major_outage\""),
        "a major incident with no service is not under a green banner"
    );
    assert!(html.contains("Panne majeure : 1 incident en cours"));
    assert!(html.contains(&format!("href=\"/incidents/{open}\"")));
    let (_, en) = app.page("/?lang=en").await;
    assert!(en.contains("Major outage: 1 incident in progress"));
    // The subscribe control, with the feeds and calendar in the page's language.
    assert!(en.contains("<summary>Subscribe</summary>"));
    for feed in [
        "/feed.rss?lang=en",
        "/feed.atom?lang=en",
        "/maintenance.ics?lang=en",
    ] {
        assert!(en.contains(&format!("href=\"{feed}\"")), "{feed}");
    }
    // Without SMTP the e-mail form has nothing to offer: the menu does not lead there.
    assert!(
        !en.contains("href=\"/subscribe"),
        "no e-mail link without SMTP"
    );
    assert!(!en.contains("By e-mail"));
    for path in ["/history", "/maintenance", &format!("/incidents/{open}")] {
        let (_, html) = app.page(path).await;
        assert!(
            html.contains("<summary>S&#x27;abonner</summary>")
                || html.contains("<summary>S'abonner</summary>"),
            "{path}"
        );
        assert!(html.contains("href=\"/feed.atom?lang=fr\""), "{path}");
    }
    assert!(
        en.contains(&format!("href=\"/incidents/{open}?lang=en\"")),
        "the card keeps the reader's language"
    );

    let recent = app
        .incident("Forum en panne", now - Duration::days(2), Vec::new())
        .await;
    app.update(
        recent,
        IncidentStatus::Resolved,
        "Réparé",
        now - Duration::days(2) + Duration::hours(1),
    )
    .await;
    let old = app
        .incident("Ancienne panne", now - Duration::days(10), Vec::new())
        .await;
    app.update(
        old,
        IncidentStatus::Resolved,
        "Réparé",
        now - Duration::days(10) + Duration::hours(1),
    )
    .await;
    // `/` was cached above: wait for the change hub to notice the writes (500 ms).
    let html = app.page_with("/", &format!("/incidents/{recent}")).await;
    let section = &html[at(&html, "id=\"recent-incidents-title\"")..];
    let section = &section[..at(section, "</section>")];
    assert!(section.contains("Incidents des 7 derniers jours"));
    assert!(section.contains(&format!("href=\"/incidents/{recent}\"")));
    assert!(section.contains("Durée : 1 h"));
    assert!(!section.contains("Ancienne panne"), "older than a week");
    assert!(
        !section.contains("Paiements refusés"),
        "open incidents are listed above, not among recent ones"
    );
}

/// Every public page names its version in the other language with an absolute address built
/// from `base_url` (the same path and query, `lang` set), what search engines and readers'
/// tools follow; an explicit `lang` already in the address is replaced, not repeated.
async fn every_page_names_its_version_in_the_other_language() {
    let app = spawn_app().await;
    let id = app.incident("Test", Utc::now(), Vec::new()).await;
    let base = "http://127.0.0.1:8080";
    let incident = format!("/incidents/{id}");
    // (address asked for, the other language, the alternate's address); the client reads
    // French unless `lang` says otherwise.
    let cases = [
        ("/".to_owned(), "en", "/?lang=en".to_owned()),
        (
            "/history?page=1".to_owned(),
            "en",
            "/history?page=1&amp;lang=en".to_owned(),
        ),
        (
            "/maintenance?lang=en".to_owned(),
            "fr",
            "/maintenance?lang=fr".to_owned(),
        ),
        (
            format!("{incident}?lang=fr"),
            "en",
            format!("{incident}?lang=en"),
        ),
        (
            "/services/forum".to_owned(),
            "en",
            "/services/forum?lang=en".to_owned(),
        ),
    ];
    for (path, other, href) in cases {
        let (status, html) = app.page(&path).await;
        assert_eq!(status, 200, "{path}");
        let link = format!("<link rel=\"alternate\" hreflang=\"{other}\" href=\"{base}{href}\"");
        assert!(html.contains(&link), "{path}: `{link}` missing");
        assert_eq!(
            html.matches("<link rel=\"alternate\" hreflang=").count(),
            1,
            "{path}: one alternate per other language"
        );
        assert!(
            !html.contains("&amp;lang=fr&amp;lang="),
            "{path}: lang repeated"
        );
    }
}

on_both!(
    every_page_names_its_version_in_the_other_language,
    the_overview_banner_reads_open_incidents_and_keeps_recent_ones,
    incident_page_tells_the_whole_story_in_order_in_both_languages,
    an_open_incident_says_since_when_it_is_ongoing,
    unknown_or_malformed_incident_ids_get_the_404_page,
    history_groups_by_month_newest_first_and_pages_by_twenty,
    maintenance_page_and_overview_show_windows_in_their_place,
    every_page_has_chrome_meta_open_graph_and_feed_discovery,
    the_xss_corpus_is_inert_on_incident_pages_and_in_feeds,
    every_public_page_is_valid_html,
);

/// The page checker finds what it looks for, so that a clean page means something.
#[test]
fn the_html_checker_catches_what_it_claims_to() {
    let clean = "<!DOCTYPE html><html lang=\"fr\"><head><title>t</title></head><body>\
                 <h2 id=\"a\">A</h2><section aria-labelledby=\"a\"><a href=\"#a\">a</a></section>\
                 </body></html>";
    assert_eq!(common::html::problems(clean), Vec::<String>::new());
    let parse_errors = |html: &str| {
        common::html::problems(html)
            .into_iter()
            .filter(|p| p.starts_with("parse error"))
            .count()
    };
    assert!(
        parse_errors("<html><head><title>t</title></head></html>") > 0,
        "no doctype"
    );
    assert!(
        parse_errors("<!DOCTYPE html><title>t</title><p><div></span></div>") > 0,
        "stray end tag"
    );
    assert!(
        parse_errors("<!DOCTYPE html><title>t</title></body></html><script></script>") > 0,
        "a script after the document"
    );
    // Leptos writes `<!>` markers, a bogus comment to an HTML parser; the server rewrites them
    // as `<!---->` (page_html.rs), so the checker must still catch a raw one.
    assert!(
        parse_errors("<!DOCTYPE html><title>t</title><p><!>a</p>") > 0,
        "a raw Leptos marker"
    );
    assert_eq!(
        parse_errors("<!DOCTYPE html><title>t</title><p><!---->a</p>"),
        0,
        "an empty comment"
    );
    let found = common::html::problems(
        "<!DOCTYPE html><title>t</title><p id=\"x\"><p id=\"x\">\
         <section aria-labelledby=\"nowhere\"></section>",
    );
    assert!(
        found.contains(&"id `x` used 2 times".to_owned()),
        "{found:?}"
    );
    assert!(
        found.contains(&"aria-labelledby points to `nowhere`, which is not on the page".to_owned()),
        "{found:?}"
    );
}
