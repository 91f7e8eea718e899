//! What the server tests share: a fresh database per test (SQLite, or PostgreSQL inside
//! `on_both!`), the real server started on 127.0.0.1:0 with a catalog, and HTTP clients that
//! give up instead of hanging.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use domain::config::Catalog;

pub mod html;
pub mod smtp;
pub mod xss;

tokio::task_local! {
    /// The PostgreSQL server URL the current test runs on; unset or `None`: SQLite.
    pub static POSTGRES: Option<String>;
}

/// A request that takes longer is a hung server: the test fails and says which URL.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The shipped Humanoid catalog.
pub fn humanoid_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/humanoid.toml")
}

pub fn humanoid() -> Catalog {
    server::config::load(&humanoid_path()).expect("the shipped catalog is valid")
}

/// The database URL for one test: a fresh PostgreSQL database inside `on_both!`'s
/// `postgres` case, else a fresh SQLite file (kept alive by the returned directory).
pub async fn fresh_database() -> (String, Option<tempfile::TempDir>) {
    match POSTGRES.try_with(Clone::clone).ok().flatten() {
        Some(admin_url) => {
            let (name, url) = testkit::postgres::fresh_database(&admin_url, "vigie_server").await;
            eprintln!("server test database: postgres ({name})");
            (url, None)
        }
        None => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("vigie.db").display()
            );
            (url, Some(dir))
        }
    }
}

/// Runs `async fn $name()` (which calls `Server::start`) as `$name::sqlite` and
/// `$name::postgres`, the latter when `VIGIE_TEST_POSTGRES_URL` is set (required with
/// `VIGIE_REQUIRE_POSTGRES=1`), like store/tests/common's `on_both!`.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::common::POSTGRES.scope(None, super::$name()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                match std::env::var("VIGIE_TEST_POSTGRES_URL") {
                    Ok(url) => $crate::common::POSTGRES.scope(Some(url), super::$name()).await,
                    Err(_) => {
                        assert!(
                            std::env::var("VIGIE_REQUIRE_POSTGRES").is_err(),
                            "VIGIE_REQUIRE_POSTGRES is set but VIGIE_TEST_POSTGRES_URL is not"
                        );
                        eprintln!("server test database: postgres SKIPPED");
                    }
                }
            }
        }
    )+};
}

/// Held for the whole of a test whose verdict depends on timing with short probe intervals
/// (several instances, a database stopped mid-run, the demo's outage): such tests run one at a
/// time, so two of them never starve each other of the machine's two cores. Other tests still
/// run beside them.
pub async fn timing_sensitive() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// A running server and a second connection to its database (to seed and inspect it).
pub struct Server {
    pub base: String,
    pub db: store::Db,
    /// The server's change hub: `hub.check(&db)` has it notice a write made through `db`
    /// at once, instead of on its next periodic look.
    pub hub: std::sync::Arc<server::changes::Hub>,
    /// The server's page cache (its size and counters).
    pub cache: std::sync::Arc<server::cache::PageCache>,
    pub database_url: String,
    _dir: Option<tempfile::TempDir>,
}

/// Whether the probe engine runs: the shipped catalog's targets are public addresses, so
/// tests that seed their own history turn it off.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Probes {
    On,
    Off,
}

impl Server {
    /// `catalog` served on 127.0.0.1:0 over a fresh database.
    pub async fn start(catalog: &Catalog, probes: Probes) -> Server {
        let (url, dir) = fresh_database().await;
        let listen = "127.0.0.1:0".parse().expect("addr");
        // Not VIGIE_PROBES=off: that is process-wide, and the tests of one binary share a process.
        let running = match probes {
            Probes::On => server::startup::spawn(catalog, &url, listen).await,
            Probes::Off => server::startup::spawn_without_probes(catalog, &url, listen).await,
        }
        .expect("server starts");
        let db = store::connect(&url).await.expect("second connection");
        Server {
            base: format!("http://{}", running.addr),
            hub: running.hub.clone(),
            cache: running.cache.clone(),
            db,
            database_url: url,
            _dir: dir,
        }
    }

    /// Another instance serving `catalog` over the database at `url`, as after a restart or
    /// an upgrade; the error is the one `vigie serve` would print.
    pub async fn start_on(catalog: &Catalog, url: &str, probes: Probes) -> anyhow::Result<Server> {
        let listen = "127.0.0.1:0".parse().expect("addr");
        let running = match probes {
            Probes::On => server::startup::spawn(catalog, url, listen).await,
            Probes::Off => server::startup::spawn_without_probes(catalog, url, listen).await,
        }?;
        let db = store::connect(url).await.expect("second connection");
        Ok(Server {
            base: format!("http://{}", running.addr),
            hub: running.hub.clone(),
            cache: running.cache.clone(),
            db,
            database_url: url.to_owned(),
            _dir: None,
        })
    }
}

/// `catalog` reading its instance key from a new key file in `dir`, and that key.
pub fn with_instance_key(
    catalog: &Catalog,
    dir: &Path,
    name: &str,
) -> (Catalog, store::instance_key::InstanceKey) {
    let path = dir.join(name);
    let (key, _) = store::instance_key::InstanceKey::load_or_create(&path).expect("key file");
    let mut catalog = catalog.clone();
    catalog.server.instance_key = Some(domain::config::notify::SecretRef::File(
        path.display().to_string(),
    ));
    (catalog, key)
}

/// A client that follows no redirect (tests look at them) and never waits forever.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("client")
}

/// As [`client`], keeping cookies like a browser.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("client")
}

/// A stored cause as the English sentence the engine used to store (`down: host phys-1
/// unreachable`), so tests keep reading what readers are told.
#[allow(dead_code)]
pub fn cause_sentence(state: domain::status::ServiceState, stored: Option<&str>) -> Option<String> {
    let cause = domain::topology::Cause::from_stored(stored?)?;
    domain::topology::sentence(state, &cause)
}

/// The stored form of a cause, for seeding statuses.
#[allow(dead_code)]
pub fn stored_cause(cause: domain::topology::Cause) -> String {
    cause.to_stored()
}
