//! Credentials the configuration points at: an HTTP probe's header from `${file:…}` reaches
//! the probed site, and the database holds only the header's name (SQLite and PostgreSQL).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use sea_orm::{ConnectionTrait, Statement};

on_both!(a_header_from_a_file_reaches_the_site_and_never_the_database);

async fn a_header_from_a_file_reaches_the_site_and_never_the_database() {
    // The probed site answers 200 only with the right credential, and counts those requests.
    let authorised = Arc::new(AtomicUsize::new(0));
    let seen = authorised.clone();
    let app = axum::Router::new().route(
        "/api",
        get(move |headers: HeaderMap| {
            let seen = seen.clone();
            async move {
                if headers
                    .get("authorization")
                    .is_some_and(|v| v == "Bearer probe-s3cret-value")
                {
                    seen.fetch_add(1, Ordering::SeqCst);
                    StatusCode::OK
                } else {
                    StatusCode::UNAUTHORIZED
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let site = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().expect("dir");
    let secret = dir.path().join("shop-api");
    std::fs::write(&secret, "Bearer probe-s3cret-value\n").expect("secret");
    let text = format!(
        "[site]\ntitle = \"Secrets\"\n[[groups]]\nid = \"g\"\nname = \"G\"\n\
         [[services]]\nid = \"shop\"\nname = \"Shop\"\ngroup = \"g\"\n\
         [[services.monitors]]\nid = \"api\"\nkind = \"http\"\ntarget = \"http://{site}/api\"\n\
         interval = \"300ms\"\nheaders = {{ Authorization = \"${{file:{}}}\", Accept = \"text/plain\" }}\n",
        secret.display()
    );
    let catalog = domain::config::parse("t.toml", &text).expect("valid");
    let server = crate::common::Server::start(&catalog, crate::common::Probes::On).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while authorised.load(Ordering::SeqCst) == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the probe never sent the credential read from the file"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let row = server
        .db
        .query_one_raw(Statement::from_string(
            server.db.get_database_backend(),
            "SELECT settings FROM monitors WHERE key = 'service/shop/api'",
        ))
        .await
        .expect("query")
        .expect("the monitor's row");
    let settings: String = row.try_get_by_index(0).expect("settings");
    assert!(!settings.contains("s3cret"), "{settings}");
    assert!(!settings.contains("${file:"), "{settings}");
    let stored: serde_json::Value = serde_json::from_str(&settings).expect("JSON");
    assert_eq!(
        stored["headers"],
        serde_json::json!({ "Accept": "", "Authorization": "" }),
        "names only"
    );
}

/// An unreadable reference stops the start before anything is written, naming the monitor
/// and the header but no value.
#[tokio::test]
async fn an_unreadable_header_secret_stops_the_start() {
    let text = "[site]\ntitle = \"Secrets\"\n[[groups]]\nid = \"g\"\nname = \"G\"\n\
         [[services]]\nid = \"shop\"\nname = \"Shop\"\ngroup = \"g\"\n\
         [[services.monitors]]\nid = \"api\"\nkind = \"http\"\ntarget = \"http://127.0.0.1:9/\"\n\
         headers = { Authorization = \"${env:VIGIE_TEST_UNSET_SHOP_KEY}\" }\n";
    let catalog = domain::config::parse("t.toml", text).expect("valid");
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("v.db").display());
    let e = match server::startup::spawn(&catalog, &url, "127.0.0.1:0".parse().expect("addr")).await
    {
        Ok(_) => panic!("started without its secret"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        e.contains("service shop, monitor api: header `Authorization`: environment variable VIGIE_TEST_UNSET_SHOP_KEY is not set"),
        "{e}"
    );
    assert!(!dir.path().join("v.db").exists(), "nothing written");
}
