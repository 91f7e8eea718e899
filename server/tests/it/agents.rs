//! The central side of remote probe agents, on SQLite and PostgreSQL: a token made with
//! `vigie agent-token create` for one location; the agent's config with its ETag (304 when
//! unchanged); result batches stored once however often they are sent, confirmed like the
//! engine's own; results from the future and for monitors of other locations refused (422);
//! `/api/v1/locations` telling reporting from stale; a revoked token refused; all audited.

use crate::common;

use std::process::Command;

use chrono::{TimeDelta, Utc};
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
token = "nightly-secret-token"
interval = "24h"
locations = ["paris", "amsterdam"]
"#;

async fn agents() {
    let catalog = domain::config::parse("t.toml", CATALOG).expect("valid");
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
    assert!(!config.to_string().contains("nightly-secret-token"));
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
    let id = store::agents::list_tokens(&server.db).await.expect("list")[0].id;
    store::agents::revoke_token(&server.db, id, &store::audit::Actor::cli(), Utc::now())
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
