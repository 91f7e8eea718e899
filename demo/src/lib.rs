//! `vigie demo`: the Humanoid estate simulated on loopback, probed for real, and the outage
//! replayed from a scenario file. The demo only drives the estate and calls the public HTTP
//! API; the page, the store and the probe engine run exactly as in production.
//!
//! This crate does not know the web server: [`Demo::start`] takes the function that starts one
//! (the `vigie` binary passes its own, see `server/src/demo_command.rs`), so the demo depends
//! on `probe`, `store` and `domain` and never on `server`. The `vigie` binary links it only with
//! its `demo` cargo feature (`make run`, `make build-debug` and the tests turn it on): the
//! production binary carries no simulated estate. The Humanoid catalog and the scenarios are
//! embedded, so `vigie demo` runs from any directory without `--config`.

pub mod estate;
pub mod player;
pub mod scenario;

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use domain::config::{Catalog, MonitorKind, MonitorSpec, Slug};

use self::estate::Estate;
use self::player::Target;
use self::scenario::{Backup, Scenario};
use probe::engine::{self, Engine, EngineConfig};

/// The Humanoid catalog, as shipped in `config/humanoid.toml`, built into the binary.
pub const HUMANOID_TOML: &str = include_str!("../../config/humanoid.toml");

/// The embedded Humanoid catalog, parsed and validated like any configuration file (errors
/// name it `config/humanoid.toml (embedded)`).
pub fn humanoid_catalog() -> Result<Catalog, domain::config::ConfigErrors> {
    domain::config::parse("config/humanoid.toml (embedded)", HUMANOID_TOML)
}

/// The nightly backup as the demo's backup job reports it at start: restored and verified.
fn healthy_backup() -> Backup {
    Backup {
        verified: true,
        bytes: 48_318_382_080,
        sha256: Some("3b7e1f0a9c2d4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f".into()),
        restored_in_s: Some(2650),
    }
}

/// The staff account the demo creates (or resets) and the API token its scenarios post with.
pub struct Staff {
    pub email: &'static str,
    pub password: String,
    pub api_token: String,
}

/// The demo's staff account; a database whose only account is this one is the demo's.
pub const DEMO_STAFF: &str = "staff@humanoid.demo";

/// The demo's own database when none is named (`--database-url` / `VIGIE_DATABASE_URL`):
/// never the server's default `vigie.db`.
pub const DEMO_DATABASE_URL: &str = "sqlite://vigie-demo.db?mode=rwc";

/// A fresh password for the demo's staff account and a token with the incident scope, made
/// through the same store calls as `vigie user add` and the tokens page.
async fn staff_login(db: &store::Db) -> anyhow::Result<Staff> {
    use domain::staff::Role;
    use store::audit::Actor;
    use store::users;
    let password = store::tokens::random_secret();
    let hash = users::hash_password(&password)?;
    let now = chrono::Utc::now();
    let actor = Actor::cli();
    let user = match users::find_for_login(db, DEMO_STAFF).await? {
        Some(_) => users::set_password(db, DEMO_STAFF, &hash, &actor, now).await?,
        None => users::create(db, DEMO_STAFF, Role::Admin, &hash, &actor, now).await?,
    };
    let scopes = [
        domain::staff::Scope::IncidentsWrite,
        domain::staff::Scope::MaintenanceWrite,
    ];
    let (api_token, _) =
        store::tokens::api::create(db, user.id, "demo scenario player", &scopes, &actor, now)
            .await?;
    Ok(Staff {
        email: DEMO_STAFF,
        password,
        api_token,
    })
}

/// How the demo probes. The scenarios compress an hour into seconds while the probes keep real
/// time, so the demo checks every 10 s (Humanoid's catalog says 30 s) to see a step that lasts
/// a simulated half hour; the timeout stays well above the slowest degraded answer (2.5 s more
/// than usual), so a slow site reads slow, not down.
const DEMO_INTERVAL: Duration = Duration::from_secs(10);
const DEMO_RETRY: Duration = Duration::from_secs(2);
const DEMO_TIMEOUT: Duration = Duration::from_secs(4);

/// The demo variant of a catalog, before its targets are pointed at the simulated estate.
///
/// Push monitors (the nightly backup) hear heartbeats at the server that serves the page, so
/// only that server's location judges them; and each heartbeat stands for a whole nightly run,
/// so its verdict is taken at once (`confirm = recover = 1`) instead of waiting for the
/// real-time re-judgement a minute later, by which time the scenario is hours further on.
pub fn demo_variant(catalog: &Catalog) -> Catalog {
    let mut out = catalog.clone();
    let home = out.probe_location.clone();
    let monitors = out
        .services
        .iter_mut()
        .flat_map(|s| s.monitors.iter_mut())
        .chain(out.hosts.iter_mut().flat_map(|h| h.monitors.iter_mut()));
    for m in monitors {
        if m.kind() == MonitorKind::Push {
            m.locations = vec![home.clone()];
            m.confirm = 1;
            m.recover = 1;
        } else {
            if let MonitorSpec::Tcp(tcp) = &mut m.spec {
                // The kernel completes a TCP handshake before the simulation sees the
                // connection, so a bare connect test would pass against a cut host or from a
                // partitioned location. The demo's TCP monitors wait for the simulated
                // service's greeting instead, as a check of a real SSH or MySQL banner does.
                tcp.expect
                    .get_or_insert_with(|| estate::TCP_GREETING.to_owned());
            }
            m.interval = m.interval.min(DEMO_INTERVAL);
            m.timeout = m.timeout.min(DEMO_TIMEOUT);
            m.retry_interval = m.retry_interval.min(DEMO_RETRY).min(m.interval);
        }
    }
    out
}

/// The probe locations the demo runs and the loopback address each one's sockets bind to: the
/// catalog's own location (whose engine serves the page and hears push heartbeats) at
/// 127.0.0.2, then the other locations at 127.0.0.3, 127.0.0.4, … On Linux the whole of
/// 127.0.0.0/8 is local, so each location is a distinct client address the simulated servers
/// can tell apart (and refuse, to stage a partition).
pub fn vantages(catalog: &Catalog) -> anyhow::Result<Vec<(Slug, IpAddr)>> {
    let home = catalog.probe_location.clone();
    let others = catalog
        .locations
        .iter()
        .map(|l| l.id.clone())
        .filter(|l| *l != catalog.probe_location);
    std::iter::once(home)
        .chain(others)
        .enumerate()
        .map(|(i, loc)| {
            let last = u8::try_from(i + 2)
                .ok()
                .filter(|n| *n < 255)
                .context("the demo runs at most 253 probe locations")?;
            Ok((loc, IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))))
        })
        .collect()
}

/// The Vigie server the host binary started for the demo (see [`Demo::start`]).
pub struct Served {
    /// Where it answers.
    pub addr: SocketAddr,
    /// The database it serves from; the demo's other locations write to it too.
    pub db: store::Db,
    /// The HTTP server's task, which runs until the server shuts down.
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// A running demo: the estate, Vigie serving it with one probe engine per location, all on one
/// database, and the staff login the scenarios use.
pub struct Demo {
    pub base_url: String,
    /// The catalog Vigie runs: the demo variant pointed at the simulated estate.
    pub catalog: Catalog,
    pub estate: Estate,
    /// Each probe location and its source address; the first one serves the page.
    pub locations: Vec<(Slug, IpAddr)>,
    pub db: store::Db,
    pub staff: Staff,
    /// The HTTP server (with the first location's engine riding in its router).
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
    /// The engines of the other locations, writing to the same database. Dropping the demo
    /// stops them.
    pub engines: Vec<Engine>,
    /// The backup push monitor's token, generated at this start (the player reports backups
    /// with it; only its hash is stored).
    pub backup_token: Option<String>,
}

/// The backup push monitor's token for one demo run, handed to the engines the way an operator
/// would: a file (mode 0600) the catalog points at with `${file:…}`, read when each engine
/// starts (which stores its hash) and deleted once they all have.
struct TokenFile {
    path: std::path::PathBuf,
    token: String,
}

impl TokenFile {
    /// Points `catalog`'s backup monitor at a new token in a new file (`None` without one).
    fn give(catalog: &mut Catalog) -> anyhow::Result<Option<TokenFile>> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let Some(push) = catalog
            .services
            .iter_mut()
            .flat_map(|s| s.monitors.iter_mut())
            .find_map(|m| match &mut m.spec {
                MonitorSpec::Push(s) if s.flavour.as_deref() == Some("backup") => Some(s),
                _ => None,
            })
        else {
            return Ok(None);
        };
        let token = store::push::new_token();
        let path = std::env::temp_dir().join(format!(
            "vigie-demo-push-{}-{}",
            std::process::id(),
            &token[token.len() - 8..]
        ));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("failed to write {}", path.display()))?;
        file.write_all(token.as_bytes())
            .with_context(|| format!("failed to write {}", path.display()))?;
        push.token = Some(format!("${{file:{}}}", path.display()));
        Ok(Some(TokenFile { path, token }))
    }
}

impl Drop for TokenFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Demo {
    /// Starts the simulated estate and Vigie on `listen`, probing the estate from every location
    /// of `catalog`.
    ///
    /// `serve(catalog, listener, source)` starts Vigie itself: it prepares the database, serves
    /// the demo's catalog on `listener` and runs the first location's probe engine with its
    /// sockets bound to `source`. The caller supplies it (and the database it serves from), so
    /// that this crate needs no web server.
    ///
    /// The locations run as engines inside this process rather than as child processes: they
    /// share the server's database pool (on SQLite, one writer connection in one process, no
    /// cross-process lock contention), start and stop with the demo, and need no second
    /// catalog file or port. Each engine is exactly what a separate `vigie serve` or agent
    /// would run: it writes its own results and reads the other locations' states from the
    /// database before applying the quorum.
    pub async fn start<S, F>(
        catalog: &Catalog,
        listen: SocketAddr,
        serve: S,
    ) -> anyhow::Result<Self>
    where
        S: FnOnce(Catalog, tokio::net::TcpListener, IpAddr) -> F,
        F: Future<Output = anyhow::Result<Served>>,
    {
        let variant = demo_variant(catalog);
        let estate = Estate::start(&variant)
            .await
            .context("failed to start the simulated estate")?;
        let mut demo = estate.rewrite(&variant);
        let locations = vantages(&demo)?;
        let (_, home_source) = locations[0].clone();
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("failed to listen on {listen}"))?;
        // Feed links, og:url and the /api/v2 shortlink point where this demo answers, not at
        // the catalog's production address.
        demo.site.base_url = public_url(listener.local_addr()?);
        let token_file = TokenFile::give(&mut demo)?;
        let running = serve(demo.clone(), listener, home_source).await?;
        let shared = Arc::new(demo.clone());
        let mut engines = Vec::new();
        for (location, source) in locations.iter().skip(1) {
            let mut cfg = EngineConfig::for_catalog(&demo, Some(*source));
            cfg.location = location.clone();
            let engine = engine::start(shared.clone(), running.db.clone(), cfg)
                .await
                .with_context(|| format!("failed to start the probe engine of {location}"))?;
            engines.push(engine);
        }
        // Every engine has read the token and stored its hash: the file goes.
        let backup_token = token_file.as_ref().map(|f| f.token.clone());
        drop(token_file);
        let staff = staff_login(&running.db)
            .await
            .context("failed to create the demo's staff login")?;
        Ok(Demo {
            base_url: public_url(running.addr),
            catalog: demo,
            estate,
            locations,
            db: running.db,
            staff,
            server: running.task,
            engines,
            backup_token,
        })
    }

    /// Where the scenario player sends what it does.
    pub fn target(&self) -> Target<'_> {
        Target {
            base_url: self.base_url.clone(),
            api_token: Some(self.staff.api_token.clone()),
            estate: &self.estate,
            catalog: &self.catalog,
            locations: &self.locations,
            backup_token: self.backup_token.clone(),
        }
    }
}

/// `http://127.0.0.1:8080`: the address a browser on this machine opens for a server bound to
/// `addr` (an unspecified address, `0.0.0.0` or `::`, answers on loopback too).
pub fn public_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(v4) if v4.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(v6) if v6.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

/// `vigie demo`: starts the simulated estate, Vigie probing it (through `serve`, as in
/// [`Demo::start`]), and plays `scenario` if given.
pub async fn run<S, F>(
    catalog: Catalog,
    listen: SocketAddr,
    serve: S,
    scenario: Option<Scenario>,
    speed: f64,
) -> anyhow::Result<()>
where
    S: FnOnce(Catalog, tokio::net::TcpListener, IpAddr) -> F,
    F: Future<Output = anyhow::Result<Served>>,
{
    let demo = Demo::start(&catalog, listen, serve).await?;
    let base_url = &demo.base_url;
    println!("Vigie demo: the simulated Humanoid estate, probed live.");
    println!("  public page:   {base_url}/");
    println!(
        "  staff sign-in: {base_url}/admin/login  {}  password {}",
        demo.staff.email, demo.staff.password
    );
    let from: Vec<String> = demo
        .locations
        .iter()
        .map(|(l, ip)| format!("{l} ({ip})"))
        .collect();
    println!("  probing from:  {}", from.join(", "));
    let target = demo.target();
    let client = reqwest::Client::new();
    player::report_backup(&client, &target, &healthy_backup())
        .await
        .context("failed to report the first backup")?;
    if let Some(s) = scenario {
        println!(
            "Playing scenario `{}` at speed {speed}: {}",
            s.name, s.description
        );
        player::play(&s, speed, &target)
            .await
            .with_context(|| format!("scenario {} failed", s.name))?;
        println!(
            "Scenario `{}` finished; Vigie keeps running (Ctrl-C to stop).",
            s.name
        );
    }
    // The estate and the other locations' engines live on in `demo` while the server runs.
    let mut demo = demo;
    (&mut demo.server)
        .await
        .context("server task failed")?
        .context("server stopped with an error")?;
    Ok(())
}
