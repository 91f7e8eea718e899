//! Test databases: a fresh SQLite file always, and a fresh PostgreSQL database whenever
//! `VIGIE_TEST_POSTGRES_URL` is set. The same test body runs on both (see `on_both!`).

#![allow(dead_code)]

use sea_orm::DatabaseConnection;

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

/// The PostgreSQL server tests may use, or `None` when none is configured. With
/// `VIGIE_REQUIRE_POSTGRES=1` (set by `make test`) a missing server fails the test instead.
fn postgres_admin_url() -> Option<String> {
    let Ok(admin_url) = std::env::var("VIGIE_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("VIGIE_REQUIRE_POSTGRES").is_err(),
            "VIGIE_REQUIRE_POSTGRES is set but VIGIE_TEST_POSTGRES_URL is not"
        );
        eprintln!("store test database: postgres SKIPPED (VIGIE_TEST_POSTGRES_URL unset)");
        return None;
    };
    Some(admin_url)
}

/// A fresh, migrated PostgreSQL database, or `None` when no server is configured (see
/// [`postgres_admin_url`]).
pub async fn postgres() -> Option<TestDb> {
    let admin_url = postgres_admin_url()?;
    let (name, url) = testkit::postgres::fresh_database(&admin_url, "vigie_test").await;
    let db = store::connect(&url).await.expect("connect test database");
    store::migrate(&db).await.expect("migrate postgres");
    eprintln!("store test database: postgres ({name})");
    Some(TestDb { db, _dir: None })
}

/// The URL of a fresh, empty (not migrated) PostgreSQL database, or `None` when no server is
/// configured.
pub async fn postgres_empty_url() -> Option<String> {
    let admin_url = postgres_admin_url()?;
    let (_, url) = testkit::postgres::fresh_database(&admin_url, "vigie_empty").await;
    Some(url)
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
