//! Fresh PostgreSQL databases for tests: one per test, on the server `VIGIE_TEST_POSTGRES_URL`
//! names, so tests never see each other's rows.

use std::sync::atomic::{AtomicU32, Ordering};

use sea_orm::ConnectionTrait;

/// Creates an empty database on the server of `admin_url`; returns its name and URL. The name
/// starts with `prefix` and holds the process id, a counter and the time, so concurrent tests
/// and test binaries never collide.
pub async fn fresh_database(admin_url: &str, prefix: &str) -> (String, String) {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        chrono::Utc::now().timestamp_micros()
    );
    let admin = store::connect(admin_url).await.expect("connect postgres");
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create database");
    let url = store::with_database(admin_url, &name);
    (name, url)
}
