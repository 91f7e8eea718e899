//! The XSS corpus (`common::xss`: markup payloads and context breakers) in every place staff
//! or readers can put text that is shown again: incident titles and messages, maintenance
//! titles and descriptions, subscriber addresses and webhook URLs, user e-mails and token
//! names. Each reaches the public pages, the iCalendar feed, the subscribers' e-mails, the
//! webhook payloads and the console pages (incident list and page, maintenance, audit log,
//! subscribers, webhooks, users, tokens). Two servers are filled the same way, one with the
//! payloads and one with plain text, and each document is parsed as its reader parses it
//! (HTML5 for pages and mails, RFC 5545 for the calendar, JSON, RFC 5322): the payloads may
//! create no element, attribute, property or header that the plain text did not.
//!
//! Service names and descriptions come from the operator's configuration (trusted) and the
//! badges show nothing else, so they are not part of the corpus.

use std::collections::HashSet;

use chrono::{Duration, Utc};
use domain::locale::Locale;
use domain::staff::{Role, Scope};
use serde_json::{json, Value};
use store::audit::Actor;

use crate::common;
use crate::public_pages::{first_difference, MARKDOWN};
use crate::staff::TestApp as Staff;

/// Every payload: the markup corpus, then the context breakers.
fn corpus() -> Vec<&'static str> {
    common::xss::PAYLOADS
        .iter()
        .chain(common::xss::BREAKERS)
        .copied()
        .collect()
}

/// One server filled with `texts` (one per payload: the payload itself, or plain text).
struct Filled {
    staff: Staff,
    incidents: Vec<i64>,
    admin: reqwest::Client,
}

/// Fills a fresh server: per text, an incident (title and first message) and a maintenance
/// window (title and description) through the write API, an e-mail subscriber, a webhook
/// with a contact, an editor and one API token named by staff, all through the store.
async fn filled(texts: &[String]) -> Filled {
    let server = common::Server::start(&common::humanoid(), common::Probes::Off).await;
    let staff = Staff {
        base: server.base.clone(),
        db: server.db.clone(),
        _server: server,
    };
    let now = Utc::now();
    let hash = store::users::hash_password(crate::staff::PASSWORD).expect("hash");
    let writer = store::users::create(
        &staff.db,
        "writer@example.org",
        Role::Admin,
        &hash,
        &Actor::cli(),
        now,
    )
    .await
    .expect("writer");
    let scopes = [Scope::IncidentsWrite, Scope::MaintenanceWrite];
    let (token, _) =
        store::tokens::api::create(&staff.db, writer.id, "corpus", &scopes, &Actor::cli(), now)
            .await
            .expect("token");
    let api = common::client();
    let mut incidents = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let res = api
            .post(format!("{}/api/v1/incidents", staff.base))
            .bearer_auth(&token)
            .json(&json!({
                "title": format!("Titre {text}"), "impact": "minor", "message": text,
                "services": [{"id": "forum", "status": "degraded_performance"}],
                "notify": true,
            }))
            .send()
            .await
            .expect("post incident");
        assert_eq!(res.status(), 201, "incident {text:?}");
        let body: Value = res.json().await.expect("json");
        incidents.push(body["id"].as_i64().expect("id"));
        let starts = now + Duration::days(2) + Duration::minutes(i as i64 * 10);
        let res = api
            .post(format!("{}/api/v1/maintenances", staff.base))
            .bearer_auth(&token)
            .json(&json!({
                "title": format!("Fenêtre {text}"), "message": text,
                "starts_at": starts, "ends_at": starts + Duration::minutes(5),
                "services": ["forum"],
            }))
            .send()
            .await
            .expect("post maintenance");
        assert_eq!(res.status(), 201, "maintenance {text:?}");
        for (kind, address, contact) in [
            (
                store::subscribers::EMAIL,
                format!("s{i}.{text}@example.org"),
                None,
            ),
            (
                store::subscribers::WEBHOOK,
                format!("https://hooks.example/{i}?q={text}"),
                Some(format!("c{i}.{text}@example.org")),
            ),
        ] {
            store::subscribers::confirm(
                &staff.db,
                &store::subscribers::Wanted {
                    kind: kind.to_owned(),
                    address,
                    contact,
                    language: "fr".to_owned(),
                    // Not a service the incidents touch: the sender has nobody to write to, so
                    // both servers' subscribers stay as created (none paused by failures).
                    services: Some(vec!["backups".to_owned()]),
                },
                Some(&Actor::cli()),
                now,
            )
            .await
            .expect("subscriber");
        }
        let name: String = format!("u{i}.{text}").chars().take(200).collect();
        let user = store::users::create(
            &staff.db,
            &format!("{name}@example.org"),
            Role::Editor,
            &hash,
            &Actor::cli(),
            now,
        )
        .await
        .expect("user");
        let name: String = format!("t{i} {text}").chars().take(100).collect();
        store::tokens::api::create(&staff.db, user.id, &name, &scopes, &Actor::cli(), now)
            .await
            .expect("token");
    }
    let admin = common::browser();
    let res = staff
        .login(&admin, "writer@example.org", crate::staff::PASSWORD)
        .await;
    assert_eq!(res.status(), 303, "the admin signs in");
    Filled {
        staff,
        incidents,
        admin,
    }
}

impl Filled {
    async fn get(&self, path: &str) -> String {
        let res = self
            .admin
            .get(format!("{}{path}", self.staff.base))
            .header("accept-language", "fr-FR,fr;q=0.9")
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        assert_eq!(res.status(), 200, "GET {path}");
        res.text().await.expect("body")
    }

    /// The queued notifications' events, in the order they were queued.
    async fn events(&self) -> Vec<store::outbox::Event> {
        let ids: HashSet<i64> = (1..=1_000).collect();
        let mut all: Vec<_> = store::outbox::send::notifications(&self.staff.db, &ids)
            .await
            .expect("notifications")
            .into_values()
            .collect();
        all.sort_by_key(|n| n.id);
        all.into_iter().map(|n| n.event).collect()
    }
}

/// Where the HTML `got` has an element or attribute that `want` (the same document with plain
/// text) has not, if anywhere.
fn compare(what: &str, want: &str, got: &str, skip: &[&str]) -> Option<String> {
    let (want, got) = (
        common::html::outline(want, skip),
        common::html::outline(got, skip),
    );
    (want != got).then(|| {
        format!(
            "{what}: the corpus changed the document: {}",
            first_difference(&want, &got)
        )
    })
}

/// `text` with its line breaks as an HTML or iCalendar parser gives them back (`\n`).
fn lines(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// The calendar's lines, unfolded (RFC 5545 §3.1), each cut to its property name.
fn ical_names(text: &str) -> Vec<String> {
    text.replace("\r\n ", "")
        .replace("\r\n\t", "")
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| l[..l.find([':', ';']).unwrap_or(l.len())].to_owned())
        .collect()
}

/// A mail's header names and the subject it reads, as a mail client parses it.
fn mail_headers(raw: &[u8]) -> (Vec<String>, String) {
    let parsed = mail_parser::MessageParser::default()
        .parse(raw)
        .expect("the mail parses");
    let mut names: Vec<String> = parsed
        .headers()
        .iter()
        .map(|h| h.name().to_ascii_lowercase())
        .filter(|n| !n.starts_with("content-"))
        .collect();
    names.sort();
    (names, parsed.subject().unwrap_or_default().to_owned())
}

/// The sanitised Markdown of an event replaced by one fixed paragraph: the mails' templates are
/// compared around it, the sanitiser's output is checked on its own with `is_inert`.
fn with_fixed_markdown(event: &store::outbox::Event) -> (store::outbox::Event, Vec<String>) {
    let mut event = event.clone();
    let mut html = Vec::new();
    match &mut event {
        store::outbox::Event::IncidentUpdate(i) => {
            for u in &mut i.updates {
                html.push(std::mem::replace(&mut u.html, "<p>x</p>".to_owned()));
            }
        }
        store::outbox::Event::MaintenanceScheduled(m)
        | store::outbox::Event::MaintenanceStarted(m)
        | store::outbox::Event::MaintenanceCompleted(m) => {
            html.push(std::mem::replace(&mut m.html, "<p>x</p>".to_owned()));
        }
        _ => {}
    }
    (event, html)
}

fn title_of(event: &store::outbox::Event) -> &str {
    match event {
        store::outbox::Event::IncidentUpdate(i) => &i.title,
        store::outbox::Event::MaintenanceScheduled(m)
        | store::outbox::Event::MaintenanceStarted(m)
        | store::outbox::Event::MaintenanceCompleted(m) => &m.title,
        _ => "",
    }
}

async fn the_xss_corpus_is_inert_in_every_context_public_and_console() {
    let payloads = corpus();
    let texts: Vec<String> = payloads.iter().map(|p| (*p).to_owned()).collect();
    let plain: Vec<String> = (0..texts.len()).map(|i| format!("Texte {i}")).collect();
    let (app, plain_app) = (filled(&texts).await, filled(&plain).await);
    let mut failures = Vec::new();

    // Public pages that show maintenance windows and incidents together.
    for path in [
        "/",
        "/?lang=en",
        "/maintenance",
        "/maintenance?lang=en",
        "/services/forum",
    ] {
        let (want, got) = (plain_app.get(path).await, app.get(path).await);
        failures.extend(compare(path, &want, &got, MARKDOWN));
    }
    // Console pages, as an admin: lists, each incident, the audit log's pages.
    let mut console: Vec<String> = [
        "/admin/incidents",
        "/admin/incidents/new",
        "/admin/maintenance",
        "/admin/subscribers",
        "/admin/webhooks",
        "/admin/users",
        "/admin/tokens",
    ]
    .iter()
    .map(|p| (*p).to_owned())
    .collect();
    // Six audited writes per payload, fifty entries a page.
    for page in 1..=(6 * payloads.len() + 60) / 50 {
        console.push(format!("/admin/audit?page={page}"));
    }
    for (i, id) in app.incidents.iter().enumerate() {
        console.push(format!("/admin/incidents/{id}"));
        assert_eq!(plain_app.incidents[i], *id, "the same ids on both servers");
    }
    for path in &console {
        let (want, got) = (plain_app.get(path).await, app.get(path).await);
        failures.extend(compare(path, &want, &got, MARKDOWN));
    }
    for (id, payload) in app.incidents.iter().zip(&payloads) {
        let html = app.get(&format!("/admin/incidents/{id}")).await;
        let h1 = common::html::text_of(&html, "h1").map(|t| lines(&t));
        if h1.as_deref() != Some(lines(&format!("Titre {payload}")).trim()) {
            failures.push(format!("/admin/incidents/{id}: <h1> reads {h1:?}"));
        }
    }

    // The iCalendar feed: one event per window, the same properties in the same order as with
    // plain text, and each summary reads back as typed.
    let (want, got) = (
        plain_app.get("/maintenance.ics").await,
        app.get("/maintenance.ics").await,
    );
    if ical_names(&want) != ical_names(&got) {
        failures.push(format!(
            "/maintenance.ics: the corpus changed the properties: {}",
            first_difference(&ical_names(&want), &ical_names(&got))
        ));
    }
    let cal: icalendar::Calendar = got.parse().expect("the calendar parses");
    let summaries: Vec<String> = {
        use icalendar::Component;
        cal.events()
            .map(|e| e.get_summary().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(summaries.len(), payloads.len(), "one event per window");
    for payload in &payloads {
        let title = lines(&format!("Fenêtre {payload}"));
        if !summaries.iter().any(|s| lines(s) == title.trim()) {
            failures.push(format!("/maintenance.ics: no event reads {title:?}"));
        }
    }

    // The subscribers' mails and the webhook payloads, rendered from the queued notifications
    // as the sender renders them.
    let (events, plain_events) = (app.events().await, plain_app.events().await);
    assert_eq!(
        events.len(),
        2 * payloads.len(),
        "an incident and a window each"
    );
    assert_eq!(events.len(), plain_events.len());
    let site = notify::mail::Site {
        title: "Humanoid".to_owned(),
        base_url: "https://status.example".to_owned(),
        timezone: chrono_tz::Europe::Paris,
    };
    let footer = notify::html::Footer {
        manage: "https://status.example/subscribe/manage?t=x".to_owned(),
        unsubscribe: "https://status.example/subscribe/unsubscribe?t=x".to_owned(),
    };
    let from = "Humanoid <status@example.org>".parse().expect("mailbox");
    let page = notify::webhook::PageInfo {
        id: "humanoid".to_owned(),
        status_indicator: "minor".to_owned(),
        status_description: "Partially Degraded Service".to_owned(),
    };
    for (event, plain_event) in events.iter().zip(&plain_events) {
        let title = title_of(event).to_owned();
        let (fixed, sanitised) = with_fixed_markdown(event);
        let (plain_fixed, _) = with_fixed_markdown(plain_event);
        for html in sanitised {
            if let Err(e) = common::xss::is_inert(&html) {
                failures.push(format!("mail of {title:?}: {e}"));
            }
        }
        for l in [Locale::Fr, Locale::En] {
            let mail = notify::mail::event(&site, l, &fixed, &footer).expect("a reader's mail");
            let want = notify::mail::event(&site, l, &plain_fixed, &footer).expect("mail");
            failures.extend(compare(
                &format!("mail of {title:?}"),
                &want.html,
                &mail.html,
                &[],
            ));
            let raw = notify::mail::message(&from, "r@example.org", &mail)
                .expect("message")
                .formatted();
            let plain_raw = notify::mail::message(&from, "r@example.org", &want)
                .expect("message")
                .formatted();
            let ((names, subject), (plain_names, _)) =
                (mail_headers(&raw), mail_headers(&plain_raw));
            if names != plain_names {
                failures.push(format!(
                    "mail of {title:?}: headers {names:?}, not {plain_names:?}"
                ));
            }
            if !subject.contains(title.trim()) && !title.contains(['\r', '\n']) {
                failures.push(format!("mail of {title:?}: subject reads {subject:?}"));
            }
        }
        let body = notify::webhook::payload(
            event,
            &page,
            "https://status.example",
            "https://status.example/u",
            Utc::now(),
        );
        let text = serde_json::to_string(&body).expect("json");
        let back: Value = serde_json::from_str(&text).expect("the payload parses");
        if back["incident"]["name"].as_str() != Some(title.as_str()) {
            failures.push(format!(
                "webhook of {title:?}: name reads {:?}",
                back["incident"]["name"]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures: {failures:#?}",
        failures.len()
    );
}

on_both!(the_xss_corpus_is_inert_in_every_context_public_and_console);
