//! The central side of remote probe agents, on SQLite and PostgreSQL: a token made with
//! `vigie agent-token create` for one location; the agent's config with its ETag (304 when
//! unchanged); result batches stored once however often they are sent, confirmed like the
//! engine's own; results from the future and for monitors of other locations refused (422);
//! `/api/v1/locations` telling reporting from stale; a revoked token refused; all audited.

use crate::common;

use std::process::Command;

use chrono::{TimeDelta, Timelike, Utc};
use common::{client, Probes, Server};
use domain::status::CheckOutcome;
use serde_json::{json, Value};

const CATALOG: &str = r#"
[site]
title = "Agents"
[probe]
location = "paris"
[[locations]]
id = "paris"
name = "Paris"
[[locations]]
id = "amsterdam"
name = "Amsterdam"
[[groups]]
id = "g"
name = "G"
[[services]]
id = "web"
name = "Web"
group = "g"
[[services.monitors]]
id = "home"
kind = "http"
target = "http://127.0.0.1:9/"
interval = "30s"
confirm = 2
locations = ["paris", "amsterdam"]
[[services.monitors]]
id = "nightly"
kind = "push"
interval = "24h"
locations = ["paris", "amsterdam"]
"#;

async fn agents() {
    // The probed page's credential is read from a file: agents get it with their config, the
    // database never holds it.
    let dir = tempfile::tempdir().expect("dir");
    let secret = dir.path().join("web-key");
    std::fs::write(&secret, "Bearer agent-s3cret\n").expect("secret");
    let text = CATALOG.replace(
        "confirm = 2\n",
        &format!(
            "confirm = 2\nheaders = {{ Authorization = \"${{file:{}}}\" }}\n",
            secret.display()
        ),
    );
    let catalog = domain::config::parse("t.toml", &text).expect("valid");
    let server = Server::start(&catalog, Probes::Off).await;
    let http = client();

    // A token from the command line, printed once.
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args([
            "agent-token",
            "create",
            "--location",
            "amsterdam",
            "--label",
            "ams-1",
        ])
        .env("VIGIE_DATABASE_URL", &server.database_url)
        .output()
        .expect("vigie agent-token runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();
    assert!(token.starts_with("vigie_agent_"));
    let refused = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args([
            "agent-token",
            "create",
            "--location",
            "nowhere",
            "--label",
            "x",
        ])
        .env("VIGIE_DATABASE_URL", &server.database_url)
        .output()
        .expect("vigie agent-token runs");
    assert!(!refused.status.success());

    // Listed on the site's clock, labelled as the pages label it (here a half-hour offset).
    let config_file = dir.path().join("vigie.toml");
    std::fs::write(
        &config_file,
        text.replace("[site]\n", "[site]\ntimezone = \"Asia/Kolkata\"\n"),
    )
    .expect("config written");
    let listed = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["agent-token", "list"])
        .env("VIGIE_CONFIG", &config_file)
        .env("VIGIE_DATABASE_URL", &server.database_url)
        .output()
        .expect("vigie agent-token list runs");
    let listed = String::from_utf8_lossy(&listed.stdout).to_string();
    let created = store::tokens::agent::list_tokens(&server.db)
        .await
        .expect("list")[0]
        .created_at
        .with_timezone(&chrono_tz::Asia::Kolkata);
    let expected = format!(
        "created {} (Kolkata time)",
        created.format("%Y-%m-%d %H:%M")
    );
    assert!(listed.contains(&expected), "{expected} in {listed}");
    assert!(!listed.contains(&token), "never the value");

    // Config: the location's probed monitors, no push token, an ETag.
    let url = |p: &str| format!("{}{p}", server.base);
    let r = http
        .get(url("/api/v1/agent/config"))
        .send()
        .await
        .expect("config");
    assert_eq!(r.status(), 401);
    let r = http
        .get(url("/api/v1/agent/config"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("config");
    assert_eq!(r.status(), 200);
    let etag = r.headers()["etag"].to_str().expect("etag").to_owned();
    let config: Value = r.json().await.expect("JSON");
    assert_eq!(config["location"], "amsterdam");
    let keys: Vec<&str> = config["monitors"]
        .as_array()
        .expect("monitors")
        .iter()
        .filter_map(|m| m["key"].as_str())
        .collect();
    assert_eq!(keys, ["service/web/home"]);
    assert_eq!(
        config["monitors"][0]["settings"]["headers"]["Authorization"],
        "Bearer agent-s3cret"
    );
    let stored = store::agents::monitors_of(&server.db, "amsterdam")
        .await
        .expect("monitors");
    assert!(
        stored.iter().all(|m| !m.settings.contains("agent-s3cret")),
        "{stored:?}"
    );
    let r = http
        .get(url("/api/v1/agent/config"))
        .bearer_auth(&token)
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("config");
    assert_eq!(r.status(), 304);

    // A batch, stored once.
    let now = Utc::now();
    let result = |secs: i64, outcome: &str| {
        json!({
            "monitor": "service/web/home",
            "checked_at": now - TimeDelta::seconds(secs),
            "outcome": outcome,
            "latency_ms": 12,
            "reason": if outcome == "down" { Some("connection refused") } else { None },
        })
    };
    let batch = json!({ "batch": "b-1", "results": [result(90, "up"), result(60, "down"), result(30, "down")] });
    let post = |body: Value| {
        let http = http.clone();
        let token = token.clone();
        let u = url("/api/v1/agent/results");
        async move {
            http.post(u)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .expect("results")
        }
    };
    let r = post(batch.clone()).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("JSON");
    assert_eq!(
        (body["stored"].as_u64(), body["replay"].as_bool()),
        (Some(3), Some(false))
    );
    let stored = || async {
        store::checks::count_between(&server.db, now - TimeDelta::minutes(5), now)
            .await
            .expect("count")
    };
    assert_eq!(stored().await, 3);
    let r = post(batch).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("JSON");
    assert_eq!(body["replay"], true, "{body}");
    assert_eq!(stored().await, 3, "a replay is stored once");

    // Confirmed like the engine's own: two downs in a row (confirm = 2).
    let states = store::history::load_states(&server.db)
        .await
        .expect("states");
    let amsterdam = states
        .iter()
        .find(|(_, loc, _)| loc == "amsterdam")
        .expect("a state for amsterdam");
    assert_eq!(amsterdam.2.confirmed, Some(CheckOutcome::Down));
    assert_eq!(
        amsterdam.2.last_reason.as_deref(),
        Some("connection refused")
    );

    // Refused whole: a result from the future, a monitor of another location, a bad outcome.
    for (bad, why) in [
        (
            json!({ "batch": "b-2", "results": [{ "monitor": "service/web/home", "checked_at": now + TimeDelta::minutes(3), "outcome": "up" }] }),
            "ahead",
        ),
        (
            json!({ "batch": "b-3", "results": [{ "monitor": "service/web/other", "checked_at": now, "outcome": "up" }] }),
            "not probed",
        ),
        (
            json!({ "batch": "b-4", "results": [{ "monitor": "service/web/home", "checked_at": now, "outcome": "green" }] }),
            "must be",
        ),
    ] {
        let r = post(bad).await;
        assert_eq!(r.status(), 422);
        let text = r.text().await.expect("body");
        assert!(text.contains(why), "{text}");
    }
    assert_eq!(stored().await, 3);

    // Amsterdam reports; Paris (no engine here) is stale.
    let list: Value = http
        .get(url("/api/v1/locations"))
        .send()
        .await
        .expect("locations")
        .json()
        .await
        .expect("JSON");
    let state_of = |id: &str| {
        list["locations"]
            .as_array()
            .expect("list")
            .iter()
            .find(|l| l["id"] == id)
            .map(|l| (l["state"].clone(), l["last_report_at"].is_null()))
    };
    assert_eq!(state_of("amsterdam"), Some((json!("reporting"), false)));
    assert_eq!(state_of("paris"), Some((json!("stale"), true)));

    // The page says how many locations report.
    server.hub.check(&server.db).await;
    let page = http
        .get(url("/?lang=en"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(page.contains("1 of 2 probe locations reporting"), "{page}");

    // Revoked: refused; both changes audited.
    let id = store::tokens::agent::list_tokens(&server.db)
        .await
        .expect("list")[0]
        .id;
    store::tokens::agent::revoke_token(&server.db, id, &store::audit::Actor::cli(), Utc::now())
        .await
        .expect("revoke");
    let r = http
        .get(url("/api/v1/agent/config"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("config");
    assert_eq!(r.status(), 401);
    let filter = store::audit::AuditFilter {
        action: Some("agent_token.".into()),
        actor: None,
    };
    let (_, total) = store::audit::list(&server.db, &filter, 0, 10)
        .await
        .expect("audit");
    assert_eq!(total, 2);
}

on_both!(agents);

const PASSWORD: &str = "correct horse battery staple";

/// The CSRF field's value in a console page.
fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
    html[at..at + html[at..].find('"').expect("end")].to_owned()
}

/// The console page for agents: staff make a token for a location (shown once, CSRF-checked,
/// audited as theirs), see each location's state in the site's zone ("no report since 10:42
/// (Paris time)"), and revoke the token, after which the agent is refused.
async fn console_makes_and_revokes_agent_tokens_and_shows_each_location_state() {
    use domain::staff::Role;
    let text = CATALOG.replacen(
        "title = \"Agents\"",
        "title = \"Agents\"\ntimezone = \"Europe/Paris\"",
        1,
    );
    let catalog = domain::config::parse("t.toml", &text).expect("valid");
    let server = Server::start(&catalog, Probes::Off).await;
    let hash = store::users::hash_password(PASSWORD).expect("hash");
    store::users::create(
        &server.db,
        "admin@example.org",
        Role::Admin,
        &hash,
        &store::audit::Actor::cli(),
        Utc::now(),
    )
    .await
    .expect("user");
    let c = common::browser();
    let url = |p: &str| format!("{}{p}", server.base);
    let login = c
        .get(url("/admin/login"))
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("body");
    let r = c
        .post(url("/admin/login"))
        .form(&[
            ("csrf", csrf_of(&login).as_str()),
            ("email", "admin@example.org"),
            ("password", PASSWORD),
            ("code", ""),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), 303);
    let page = |lang: &'static str| {
        let c = c.clone();
        let u = url("/admin/agents");
        async move {
            let r = c
                .get(u)
                .header("accept-language", lang)
                .send()
                .await
                .expect("page");
            assert_eq!(r.status(), 200);
            r.text().await.expect("html")
        }
    };

    let html = page("en").await;
    assert!(html.contains("Amsterdam: no report yet"), "{html}");
    assert!(html.contains("Paris: no report yet"), "{html}");
    let csrf = csrf_of(&html);

    // Without the CSRF token, or with a bad form: nothing is created.
    let r = c
        .post(url("/admin/agents"))
        .form(&[("location", "amsterdam"), ("label", "ams-1")])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 403);
    for (location, label, why) in [
        ("amsterdam", " ", "Give a label"),
        ("nowhere", "x", "not in the catalog"),
    ] {
        let r = c
            .post(url("/admin/agents"))
            .header("accept-language", "en")
            .form(&[
                ("csrf", csrf.as_str()),
                ("location", location),
                ("label", label),
            ])
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 422);
        let body = r.text().await.expect("html");
        assert!(body.contains(why), "{body}");
    }
    assert!(store::tokens::agent::list_tokens(&server.db)
        .await
        .expect("list")
        .is_empty());

    // Created: shown once, on the page after the redirect.
    let r = c
        .post(url("/admin/agents"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("location", "amsterdam"),
            ("label", "ams-1"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 303);
    let html = page("en").await;
    let at = html.find("vigie_agent_").expect("the new token is shown");
    let token: String = html[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    assert!(token.len() > 20, "{token}");
    let again = page("en").await;
    assert!(!again.contains(&token), "shown once");
    assert!(again.contains("ams-1"), "{again}");
    let stored = store::tokens::agent::list_tokens(&server.db)
        .await
        .expect("list");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].location_id, "amsterdam");

    // The agent reports, then falls silent: its last report is read in Paris time.
    let post = |at: chrono::DateTime<Utc>, batch: &str| {
        let c = client();
        let u = url("/api/v1/agent/results");
        let body = json!({ "batch": batch, "results": [{
            "monitor": "service/web/home", "checked_at": at, "outcome": "up",
        }] });
        let token = token.clone();
        async move {
            let r = c
                .post(u)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .expect("results");
            assert_eq!(r.status(), 200);
        }
    };
    let old = Utc::now() - TimeDelta::minutes(5);
    post(old, "b-old").await;
    let paris = old.with_timezone(&chrono_tz::Europe::Paris);
    let same_day = paris.date_naive()
        == Utc::now()
            .with_timezone(&chrono_tz::Europe::Paris)
            .date_naive();
    let hm = paris.format("%H:%M").to_string();
    let en = page("en").await;
    let fr = page("fr").await;
    if same_day {
        assert!(
            en.contains(&format!("Amsterdam: no report since {hm} (Paris time)")),
            "{en}"
        );
        assert!(
            fr.contains(&format!(
                "Amsterdam : aucun rapport depuis {hm} (heure de Paris)"
            )),
            "{fr}"
        );
    } else {
        assert!(en.contains("Amsterdam: no report since"), "{en}");
    }
    assert!(en.contains("Paris: no report yet"), "{en}");
    post(Utc::now(), "b-new").await;
    let en = page("en").await;
    assert!(en.contains("Amsterdam: reporting (last report"), "{en}");

    // Revoked from the console: the agent is refused; both changes audited as the admin's.
    let id = stored[0].id;
    let r = c
        .post(url(&format!("/admin/agents/{id}/revoke")))
        .form(&[("csrf", "wrong")])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 403);
    let r = c
        .post(url(&format!("/admin/agents/{id}/revoke")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 303);
    let r = client()
        .get(url("/api/v1/agent/config"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("config");
    assert_eq!(r.status(), 401);
    let en = page("en").await;
    assert!(en.contains("revoked"), "{en}");
    let filter = store::audit::AuditFilter {
        action: Some("agent_token.".into()),
        actor: None,
    };
    let (entries, total) = store::audit::list(&server.db, &filter, 0, 10)
        .await
        .expect("audit");
    assert_eq!(total, 2);
    assert!(
        entries
            .iter()
            .all(|e| e.actor_kind == "user" && e.actor_label.contains("admin@example.org")),
        "{entries:?}"
    );
}

on_both!(console_makes_and_revokes_agent_tokens_and_shows_each_location_state);

/// Results an agent could not send in time (central unreachable) are history: the outage they
/// show is recorded in the service's status events at the results' own times, once however
/// often the batch is sent, and the current status follows the fresh result only.
async fn late_results_make_history_once_and_leave_current_status_to_fresh_ones() {
    let text = CATALOG
        .replace("confirm = 2\n", "confirm = 1\nrecover = 1\n")
        .replace(
            "locations = [\"paris\", \"amsterdam\"]\n[[services.monitors]]",
            "locations = [\"amsterdam\"]\n[[services.monitors]]",
        );
    let catalog = domain::config::parse("t.toml", &text).expect("valid");
    // The engine runs: its collector decides current statuses from the stored states.
    let server = Server::start(&catalog, Probes::On).await;
    let token = store::tokens::agent::create_token(
        &server.db,
        "amsterdam",
        "ams-1",
        &store::audit::Actor::cli(),
        Utc::now(),
    )
    .await
    .expect("token")
    .0;
    let http = client();
    let post = |body: Value| {
        let http = http.clone();
        let token = token.clone();
        let u = format!("{}/api/v1/agent/results", server.base);
        async move {
            let r = http
                .post(u)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .expect("results");
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.expect("JSON")
        }
    };
    // Whole seconds: the stamps are compared with what the database gives back.
    let now = Utc::now().with_nanosecond(0).expect("whole second");
    let at = |secs: i64| now - TimeDelta::seconds(secs);
    let result = |secs: i64, outcome: &str| {
        json!({
            "monitor": "service/web/home",
            "checked_at": at(secs),
            "outcome": outcome,
            "reason": if outcome == "down" { Some("connection refused") } else { None },
        })
    };
    let web = domain::topology::Owner::Service(domain::config::Slug::parse("web").expect("slug"));
    let events = || async {
        store::status::events(&server.db, &web)
            .await
            .expect("events")
            .into_iter()
            .map(|e| (e.to_status, e.at))
            .collect::<Vec<_>>()
    };

    // Up ten minutes ago, then silence: the agent could not reach central.
    post(json!({ "batch": "old", "results": [result(600, "up")] })).await;
    // It is back: down from 300 s ago to 200 s ago, up since, and up now.
    let late = json!({ "batch": "back", "results": [
        result(300, "down"), result(270, "down"), result(200, "up"), result(170, "up"), result(0, "up"),
    ] });
    let body = post(late.clone()).await;
    assert_eq!(body["stored"], 5, "{body}");

    // The fresh result decides the current status: operational, since now (the collector's
    // next evaluation).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let current = store::status::current(&server.db).await.expect("current");
        if current.iter().any(|c| {
            c.subject == web
                && c.state
                    == domain::status::ServiceState::Known(
                        domain::status::ComponentStatus::Operational,
                    )
        }) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "web never operational: {current:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let history = events().await;
    let outages: Vec<_> = history
        .iter()
        .filter(|(to, _)| to == "major_outage")
        .collect();
    assert_eq!(
        outages,
        vec![&("major_outage".to_owned(), at(300))],
        "the outage once, at its first failure: {history:?}"
    );
    let after = history
        .iter()
        .position(|(to, _)| to == "major_outage")
        .and_then(|i| history.get(i + 1));
    assert_eq!(
        after,
        Some(&("operational".to_owned(), at(200))),
        "the outage ends at the first success: {history:?}"
    );

    // Sent again (the agent never heard the answer): acknowledged, nothing recorded twice.
    let body = post(late).await;
    assert_eq!(body["replay"], true, "{body}");
    assert_eq!(events().await, history);
}

on_both!(late_results_make_history_once_and_leave_current_status_to_fresh_ones);
