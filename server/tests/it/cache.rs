//! The public response cache over real HTTP: ETag and 304, one compressed copy per encoding,
//! and a staff write showing on the next request (the change hub starts a new generation).

use std::io::Read;
use std::time::{Duration, Instant};

use domain::incident::{Impact, IncidentStatus};
use domain::status::ComponentStatus;
use reqwest::header;

use crate::common;

struct App {
    base: String,
    db: store::Db,
    cache: std::sync::Arc<server::cache::PageCache>,
    client: reqwest::Client,
    _server: common::Server,
}

/// The Humanoid catalog with its probes off: no probe may change what the page shows
/// during these tests.
async fn spawn_app() -> App {
    let server = common::Server::start(&common::humanoid(), common::Probes::Off).await;
    App {
        base: server.base.clone(),
        db: server.db.clone(),
        cache: server.cache.clone(),
        client: common::client(),
        _server: server,
    }
}

impl App {
    async fn get(&self, path: &str, headers: &[(header::HeaderName, &str)]) -> reqwest::Response {
        let mut req = self.client.get(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(k, *v);
        }
        req.send().await.expect("request")
    }
}

fn etag(res: &reqwest::Response) -> String {
    res.headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .expect("an ETag")
        .to_owned()
}

async fn pages_revalidate_with_304_and_each_encoding_has_its_own_copy() {
    let app = spawn_app().await;
    let first = app.get("/", &[]).await;
    assert_eq!(first.status(), 200);
    let tag = etag(&first);
    let plain = first.text().await.expect("body");
    assert!(plain.contains("FrAndroid"));

    let again = app.get("/", &[(header::IF_NONE_MATCH, &tag)]).await;
    assert_eq!(again.status(), 304);
    assert_eq!(etag(&again), tag);
    assert!(again.bytes().await.expect("body").is_empty());

    let br = app.get("/", &[(header::ACCEPT_ENCODING, "gzip, br")]).await;
    assert_eq!(br.status(), 200);
    assert_eq!(br.headers()[header::CONTENT_ENCODING], "br");
    let br_tag = etag(&br);
    assert_ne!(br_tag, tag, "a compressed body has its own validator");
    let bytes = br.bytes().await.expect("body");
    let mut html = String::new();
    brotli::Decompressor::new(&bytes[..], 4096)
        .read_to_string(&mut html)
        .expect("valid brotli");
    assert_eq!(html, plain, "the same page, compressed");

    let gz = app.get("/", &[(header::ACCEPT_ENCODING, "gzip")]).await;
    assert_eq!(gz.headers()[header::CONTENT_ENCODING], "gzip");

    // HEAD answers the headers of the cached page without a body.
    let head = app
        .client
        .head(format!("{}/", app.base))
        .send()
        .await
        .expect("head");
    assert_eq!(head.status(), 200);
    assert_eq!(etag(&head), tag);

    // The language is part of the key: English readers get the English page.
    let en = app
        .get("/", &[(header::ACCEPT_LANGUAGE, "en-GB,en;q=0.9")])
        .await;
    assert!(en.text().await.expect("body").contains("<html lang=\"en\""));
    let fr = app.get("/", &[]).await;
    assert!(fr.text().await.expect("body").contains("<html lang=\"fr\""));
}

async fn a_staff_write_shows_on_the_next_requests_without_waiting_for_expiry() {
    let app = spawn_app().await;
    let before = app.get("/", &[]).await;
    let tag = etag(&before);
    assert!(!before
        .text()
        .await
        .expect("body")
        .contains("Sites injoignables"));

    // Staff (here, through the store as another process would) open an incident.
    store::incidents::open(
        &app.db,
        &store::incidents::NewIncident {
            title: "Sites injoignables".into(),
            impact: Impact::Major,
            status: IncidentStatus::Investigating,
            message: store::incidents::Message {
                markdown: "Nous enquêtons.".into(),
                html: "<p>Nous enquêtons.</p>".into(),
            },
            services: vec![("frandroid".into(), ComponentStatus::MajorOutage)],
            started_at: None,
            notify: false,
        },
        &store::audit::Actor::cli(),
        chrono::Utc::now(),
    )
    .await
    .expect("incident");

    // The hub looks every 500 ms; the page must change well before the cache's own expiry.
    let started = Instant::now();
    loop {
        let res = app.get("/", &[(header::IF_NONE_MATCH, &tag)]).await;
        if res.status() == 200 {
            assert_ne!(etag(&res), tag);
            let html = res.text().await.expect("body");
            assert!(
                html.contains("Sites injoignables"),
                "the new page shows the incident"
            );
            break;
        }
        assert_eq!(res.status(), 304);
        assert!(
            started.elapsed() < server::cache::MAX_AGE,
            "the write did not reach the page before the cache expired by itself"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn private_routes_and_errors_are_never_served_from_the_cache() {
    let app = spawn_app().await;
    let missing = app.get("/services/nope-nope", &[]).await;
    assert_eq!(missing.status(), 404);
    assert!(missing.headers().get(header::ETAG).is_none());
    let login = app.get("/admin/login", &[]).await;
    assert!(login.headers().get(header::ETAG).is_none());
    let health = app.get("/healthz", &[]).await;
    assert!(health.headers().get(header::ETAG).is_none());
}

/// A flood of unique query strings (what grew the process by gigabytes) is the one `/`
/// rendering; the page's live data is read with GET only.
async fn unknown_query_parameters_make_no_new_rendering() {
    let app = spawn_app().await;
    let first = app.get("/", &[(header::ACCEPT_ENCODING, "br")]).await;
    assert_eq!(first.status(), 200);
    let (entries, _) = app.cache.usage();
    let misses = app
        .cache
        .counters
        .misses
        .load(std::sync::atomic::Ordering::Relaxed);
    for n in 0..1000 {
        let res = app
            .get(&format!("/?b={n}"), &[(header::ACCEPT_ENCODING, "br")])
            .await;
        assert_eq!(res.status(), 200);
    }
    let (after, bytes) = app.cache.usage();
    let misses_after = app
        .cache
        .counters
        .misses
        .load(std::sync::atomic::Ordering::Relaxed);
    // One more rendering at most: the 10-second slot may turn over during the loop.
    assert!(after <= entries + 1, "{entries} entries became {after}");
    assert!(
        misses_after <= misses + 1,
        "{} renderings for 1,000 requests",
        misses_after - misses
    );
    assert!(bytes <= server::cache::DEFAULT_MAX_BYTES);

    let post = app
        .client
        .post(format!("{}/_fn/home_extras", app.base))
        .send()
        .await
        .expect("post");
    assert_eq!(post.status(), 405);
    let extras = app.get("/_fn/home_extras", &[]).await;
    assert_eq!(extras.status(), 200);
    assert!(
        extras.headers().get(header::ETAG).is_some(),
        "served by the cache"
    );
}

/// Sets incident `id`'s stored status as is (a fault a read cannot get past), without touching
/// `updated_at`: the change hub sees nothing, so the cache's generation stays the same.
async fn set_stored_status(db: &store::Db, id: i64, status: &str, resolved: bool) {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
    use store::entity::incident;
    let row = incident::Entity::find_by_id(id)
        .one(db)
        .await
        .expect("read")
        .expect("the incident");
    let mut row: incident::ActiveModel = row.into();
    row.status = Set(status.to_owned());
    if resolved {
        row.resolved_at = Set(Some(chrono::Utc::now()));
    }
    row.update(db).await.expect("write");
}

/// A rendering that fails while the database answers (here a row a read cannot get past):
/// the live page's data says so with its error, never with an older copy the page would take
/// for the current state (the end2end maintenance window that an open page missed); a
/// document gets its last good copy for that one request; and the cache keeps neither, so
/// once the fault is gone the very next request renders afresh, in the same generation.
async fn a_failed_rendering_is_never_kept_nor_passed_off_as_live_data() {
    let app = spawn_app().await;
    let hub = app._server.hub.clone();
    let id = store::incidents::open(
        &app.db,
        &store::incidents::NewIncident {
            title: "Disque plein".into(),
            impact: Impact::Minor,
            status: IncidentStatus::Investigating,
            message: store::incidents::Message {
                markdown: "Nous enquêtons.".into(),
                html: "<p>Nous enquêtons.</p>".into(),
            },
            services: Vec::new(),
            started_at: None,
            notify: false,
        },
        &store::audit::Actor::cli(),
        chrono::Utc::now(),
    )
    .await
    .expect("incident")
    .id;
    // Resolved: listed among the recent incidents the live page's extras carry.
    set_stored_status(&app.db, id, "resolved", true).await;
    hub.invalidate();
    let page = format!("/incidents/{id}");
    let extras = app.get("/_fn/home_extras", &[]).await;
    assert_eq!(extras.status(), 200);
    assert!(extras.text().await.expect("body").contains("Disque plein"));
    let good = app.get(&page, &[]).await;
    assert_eq!(good.status(), 200);
    // A look at the database after these renderings makes them last good copies.
    tokio::time::sleep(Duration::from_millis(20)).await;
    hub.check(&app.db).await;

    set_stored_status(&app.db, id, "bogus", false).await;
    hub.invalidate();
    let failed = app.get("/_fn/home_extras", &[]).await;
    assert!(
        failed.status().is_server_error(),
        "the live data answered {} instead of its error",
        failed.status()
    );
    assert!(failed.headers().get("vigie-data-as-of").is_none());
    let stand_in = app.get(&page, &[]).await;
    assert_eq!(stand_in.status(), 200, "a document gets its last good copy");
    assert!(stand_in.headers().get("vigie-data-as-of").is_some());

    // Repaired without a change the hub would notice: nothing of the failure was kept.
    set_stored_status(&app.db, id, "resolved", false).await;
    let again = app.get(&page, &[]).await;
    assert_eq!(again.status(), 200);
    assert!(
        again.headers().get("vigie-data-as-of").is_none(),
        "the stand-in copy was kept by the cache"
    );
    let extras = app.get("/_fn/home_extras", &[]).await;
    assert_eq!(extras.status(), 200);
    assert!(extras.text().await.expect("body").contains("Disque plein"));
}

/// Fresh hits are answered before routing (crate::limits asks the cache first): the answer
/// must be the one the router's layers give, header for header, and a path that is not in
/// canonical form must still take the router's way (its redirect), cached page or not.
async fn hits_answered_before_routing_are_the_routers_answers() {
    let app = spawn_app().await;
    let gz = [(header::ACCEPT_ENCODING, "gzip")];
    // A miss: rendered and answered by the cache layer inside the router.
    let first = app.get("/incidents/999999", &[]).await;
    assert_eq!(first.status(), 404, "not cached: the router answers");
    let rendered = app.get("/", &gz).await;
    let hits = app
        .cache
        .counters
        .hits
        .load(std::sync::atomic::Ordering::Relaxed);
    let hit = app.get("/", &gz).await;
    assert_eq!(
        app.cache
            .counters
            .hits
            .load(std::sync::atomic::Ordering::Relaxed),
        hits + 1,
        "the second request is a hit"
    );
    assert_eq!(rendered.status(), hit.status());
    let names = |r: &reqwest::Response| {
        let mut v: Vec<(String, String)> = r
            .headers()
            .iter()
            .filter(|(k, _)| *k != header::DATE)
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("?").to_owned()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(&rendered), names(&hit));
    for wanted in [
        "content-security-policy",
        "x-content-type-options",
        "etag",
        "vary",
        "cache-control",
    ] {
        assert!(hit.headers().contains_key(wanted), "{wanted} missing");
    }
    assert_eq!(
        rendered.bytes().await.expect("body"),
        hit.bytes().await.expect("body")
    );
    // Revalidation and HEAD on the hit.
    let tag = app.get("/", &[]).await;
    let tag = etag(&tag);
    assert_eq!(
        app.get("/", &[(header::IF_NONE_MATCH, &tag)])
            .await
            .status(),
        304
    );
    // Not canonical: redirected, never served from memory under another spelling.
    // (The client would remove dot segments itself: percent-encoded letters it keeps.)
    assert_eq!(app.get("/history", &[]).await.status(), 200);
    assert_eq!(app.get("/history", &[]).await.status(), 200);
    let odd = app.get("/%68istory", &[]).await;
    assert_eq!(odd.status(), 308, "/%68istory");
    assert_eq!(odd.headers()[header::LOCATION], "/history");
    // With credentials a read is never answered from the cache.
    let before = app
        .cache
        .counters
        .hits
        .load(std::sync::atomic::Ordering::Relaxed);
    let _ = app
        .get(
            "/api/v2/summary.json",
            &[(header::AUTHORIZATION, "Bearer nope")],
        )
        .await;
    assert_eq!(
        app.cache
            .counters
            .hits
            .load(std::sync::atomic::Ordering::Relaxed),
        before
    );
}

on_both!(
    hits_answered_before_routing_are_the_routers_answers,
    a_failed_rendering_is_never_kept_nor_passed_off_as_live_data,
    unknown_query_parameters_make_no_new_rendering,
    pages_revalidate_with_304_and_each_encoding_has_its_own_copy,
    a_staff_write_shows_on_the_next_requests_without_waiting_for_expiry,
    private_routes_and_errors_are_never_served_from_the_cache,
);
