//! Test databases: a fresh SQLite file always, and a fresh PostgreSQL database whenever
//! `VIGIE_TEST_POSTGRES_URL` is set. The same test body runs on both (see `on_both!`).

#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

use sea_orm::{ConnectionTrait, DatabaseConnection};

/// A migrated database and what keeps it alive.
pub struct TestDb {
    pub db: DatabaseConnection,
    _dir: Option<tempfile::TempDir>,
}

pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("vigie.db").display()
    );
    let db = store::connect(&url).await.expect("connect sqlite");
    store::migrate(&db).await.expect("migrate sqlite");
    eprintln!("store test database: sqlite ({url})");
    TestDb {
        db,
        _dir: Some(dir),
    }
}

/// A fresh, migrated PostgreSQL database, or `None` when no server is configured. With
/// `VIGIE_REQUIRE_POSTGRES=1` (set by `make test`) a missing server fails the test instead.
pub async fn postgres() -> Option<TestDb> {
    let Ok(admin_url) = std::env::var("VIGIE_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("VIGIE_REQUIRE_POSTGRES").is_err(),
            "VIGIE_REQUIRE_POSTGRES is set but VIGIE_TEST_POSTGRES_URL is not"
        );
        eprintln!("store test database: postgres SKIPPED (VIGIE_TEST_POSTGRES_URL unset)");
        return None;
    };
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "vigie_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        chrono::Utc::now().timestamp_micros()
    );
    let admin = store::connect(&admin_url).await.expect("connect postgres");
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create database");
    let url = with_database(&admin_url, &name);
    let db = store::connect(&url).await.expect("connect test database");
    store::migrate(&db).await.expect("migrate postgres");
    eprintln!("store test database: postgres ({name})");
    Some(TestDb { db, _dir: None })
}

/// The URL of a fresh, empty (not migrated) PostgreSQL database, or `None` when no server is
/// configured.
pub async fn postgres_empty_url() -> Option<String> {
    let Ok(admin_url) = std::env::var("VIGIE_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("VIGIE_REQUIRE_POSTGRES").is_err(),
            "VIGIE_REQUIRE_POSTGRES is set but VIGIE_TEST_POSTGRES_URL is not"
        );
        eprintln!("store test database: postgres SKIPPED (VIGIE_TEST_POSTGRES_URL unset)");
        return None;
    };
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "vigie_empty_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        chrono::Utc::now().timestamp_micros()
    );
    let admin = store::connect(&admin_url).await.expect("connect postgres");
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create database");
    Some(with_database(&admin_url, &name))
}

/// Replaces the database name in a `postgres://user@host:port/db?opts` URL.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(i) => &base[..authority_start + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Runs `async fn $name(db: DatabaseConnection)` as two tests, `$name::sqlite` and
/// `$name::postgres`, so cargo's summary shows which database each ran on.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let t = $crate::common::sqlite().await;
                super::$name(t.db.clone()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(t) = $crate::common::postgres().await {
                    super::$name(t.db.clone()).await;
                }
            }
        }
    )+};
}
