//! The real router on an ephemeral port with a fresh database, driven over HTTP.

use domain::config::Catalog;
use reqwest::header;

use crate::common;

struct TestApp {
    base: String,
    catalog: Catalog,
    client: reqwest::Client,
    _server: common::Server,
}

/// Starts Vigie with the Humanoid catalog on 127.0.0.1:0 and a fresh SQLite database.
async fn spawn_app() -> TestApp {
    let catalog = common::humanoid();
    let server = common::Server::start(&catalog, common::Probes::On).await;
    TestApp {
        base: server.base.clone(),
        catalog,
        client: common::client(),
        _server: server,
    }
}

impl TestApp {
    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut req = self.client.get(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.expect("request")
    }
}

#[tokio::test]
async fn home_page_lists_every_service_as_no_data_before_any_probe() {
    let app = spawn_app().await;
    let res = app.get("/", &[]).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap_or("")
        .starts_with("text/html"));
    assert_eq!(res.headers()[header::CACHE_CONTROL], "no-cache");
    let html = res.text().await.expect("body");
    assert!(html.contains("<html lang=\"fr\""), "French by default");
    assert!(html.contains("<title>Humanoid — état des services</title>"));
    for service in &app.catalog.services {
        let marker = format!("data-service=\"{}\" data-status=\"no_data\"", service.id);
        assert!(
            html.contains(&marker),
            "{} missing or not `no data`",
            service.id
        );
        assert!(html.contains(&service.name), "{} missing", service.name);
    }
    assert!(
        !html.contains("data-status=\"operational\""),
        "nothing is green without data"
    );
    assert!(html.contains("Aucune donnée"));
    for group in &app.catalog.groups {
        assert!(html.contains(&group.name), "group {} missing", group.name);
    }
}

#[tokio::test]
async fn english_is_chosen_by_query_or_accept_language() {
    let app = spawn_app().await;
    let html = app.get("/?lang=en", &[]).await.text().await.expect("body");
    assert!(html.contains("<html lang=\"en\""));
    assert!(html.contains("No data") && html.contains("Waiting for the first probe results"));
    let html = app
        .get("/", &[("accept-language", "en-GB,en;q=0.9")])
        .await
        .text()
        .await
        .expect("body");
    assert!(html.contains("<html lang=\"en\""));
    // The query parameter wins over the header.
    let html = app
        .get("/?lang=fr", &[("accept-language", "en")])
        .await
        .text()
        .await
        .expect("body");
    assert!(html.contains("<html lang=\"fr\"") && html.contains("Aucune donnée"));
}

#[tokio::test]
async fn health_and_readiness_answer_json_and_say_nothing_else() {
    let app = spawn_app().await;
    let res = app.get("/healthz", &[]).await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body, serde_json::json!({ "status": "ok" }), "no version");
    let res = app.get("/readyz", &[]).await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(
        body,
        serde_json::json!({ "status": "ready" }),
        "no database kind"
    );
}

#[tokio::test]
async fn stylesheet_is_compressed_and_revalidated_with_its_etag() {
    let app = spawn_app().await;
    let plain = app.get("/pkg/vigie.css", &[]).await;
    assert_eq!(plain.status(), 200);
    assert_eq!(plain.headers()[header::CONTENT_TYPE], "text/css");
    let etag = plain.headers()[header::ETAG]
        .to_str()
        .expect("etag")
        .to_owned();
    let plain_len = plain.bytes().await.expect("body").len();
    assert!(plain_len > 1000, "the real stylesheet is served");

    for (accept, encoding) in [("br", "br"), ("gzip, deflate", "gzip"), ("gzip, br", "br")] {
        let res = app
            .get("/pkg/vigie.css", &[("accept-encoding", accept)])
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.headers()[header::CONTENT_ENCODING],
            encoding,
            "for {accept}"
        );
        assert_eq!(res.headers()[header::ETAG].to_str().expect("etag"), etag);
        let len = res.bytes().await.expect("body").len();
        assert!(
            len < plain_len / 2,
            "{encoding} is smaller: {len} vs {plain_len}"
        );
    }

    let res = app.get("/pkg/vigie.css", &[("if-none-match", &etag)]).await;
    assert_eq!(res.status(), 304);
    assert!(res.bytes().await.expect("body").is_empty());
}

#[tokio::test]
async fn unknown_pages_and_assets_are_404() {
    let app = spawn_app().await;
    let res = app.get("/no/such/page", &[]).await;
    assert_eq!(res.status(), 404);
    let html = res.text().await.expect("body");
    assert!(html.contains("Page introuvable"));
    assert_eq!(app.get("/pkg/nope.js", &[]).await.status(), 404);
    assert_eq!(app.get("/pkg/../Cargo.toml", &[]).await.status(), 404);
}

#[tokio::test]
async fn html_pages_are_compressed_for_browsers_that_accept_it() {
    let app = spawn_app().await;
    let res = app.get("/", &[("accept-encoding", "br")]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()[header::CONTENT_ENCODING], "br");
}

/// One conditional GET for everything served: a page from the cache, a feed and an API read
/// both from the cache and straight from their handlers (a request with an `Authorization`
/// header bypasses the cache), and an embedded asset all answer the same validators the same
/// way: their tag, a weak copy of it, a list holding it and `*` get 304 with the tag and no
/// body; another tag gets the full answer.
#[tokio::test]
async fn cached_routes_feeds_api_and_assets_answer_304_alike() {
    let catalog = common::humanoid();
    let server = common::Server::start(&catalog, common::Probes::Off).await;
    let client = common::client();
    let get = |path: &str, headers: Vec<(&'static str, String)>| {
        let mut req = client.get(format!("{}{path}", server.base));
        for (k, v) in headers {
            req = req.header(k, v);
        }
        async move { req.send().await.expect("request") }
    };
    for (path, bypass) in [
        ("/maintenance.ics", false),
        ("/feed.atom", false),
        ("/feed.atom", true),
        ("/api/v1/services", false),
        ("/api/v1/services", true),
        ("/api/v2/summary.json", false),
        ("/pkg/vigie.css", false),
    ] {
        let auth = |mut h: Vec<(&'static str, String)>| {
            if bypass {
                h.push(("authorization", "Bearer not-a-token".to_owned()));
            }
            h
        };
        server.hub.check(&server.db).await;
        let first = get(path, auth(vec![])).await;
        assert_eq!(first.status(), 200, "{path}");
        let etag = first.headers()[header::ETAG]
            .to_str()
            .expect("etag")
            .to_owned();
        for validator in [
            etag.clone(),
            format!("W/{etag}"),
            format!("\"other\", {etag}"),
            "*".to_owned(),
        ] {
            let res = get(path, auth(vec![("if-none-match", validator.clone())])).await;
            assert_eq!(
                res.status(),
                304,
                "{path} (bypass {bypass}) for {validator}"
            );
            assert_eq!(
                res.headers()[header::ETAG].to_str().expect("etag"),
                etag,
                "{path}"
            );
            assert!(res.bytes().await.expect("body").is_empty(), "{path}");
        }
        let res = get(path, auth(vec![("if-none-match", "\"other\"".to_owned())])).await;
        assert_eq!(res.status(), 200, "{path} (bypass {bypass})");
        assert!(!res.bytes().await.expect("body").is_empty(), "{path}");
    }
}
