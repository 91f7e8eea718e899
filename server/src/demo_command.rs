//! `vigie demo`: the command-line side of the `demo` crate. The demo crate simulates the estate
//! and plays the scenarios; this module hands it the server to run ([`serve`]), so the demo
//! needs no web server of its own and never depends on this crate.
//!
//! The `demo` cargo feature links the demo crate in (`make run`, `make build-debug` and the
//! tests turn it on); without it `vigie demo` says how to get a binary that has it.

use std::net::SocketAddr;
use std::process::ExitCode;

#[cfg(feature = "demo")]
use crate::config::EXIT_CONFIG;

/// Starts Vigie for the demo on a socket the demo already bound (it builds its links from the
/// address it got): the database prepared, the catalog served, and the first probe location's
/// engine with its sockets bound to `source`.
#[cfg(feature = "demo")]
pub async fn serve(
    catalog: domain::config::Catalog,
    database_url: String,
    listener: tokio::net::TcpListener,
    source: std::net::IpAddr,
) -> anyhow::Result<demo::Served> {
    let running =
        crate::startup::spawn_on(&catalog, &database_url, listener, Some(Some(source))).await?;
    Ok(demo::Served {
        addr: running.addr,
        db: running.db,
        task: running.task,
    })
}

/// Starts the simulated estate and Vigie probing it, on `database_url` (what the tests and
/// `vigie demo` run).
#[cfg(feature = "demo")]
pub async fn start(
    catalog: &domain::config::Catalog,
    database_url: &str,
    listen: SocketAddr,
) -> anyhow::Result<demo::Demo> {
    let url = database_url.to_owned();
    demo::Demo::start(catalog, listen, move |catalog, listener, source| {
        serve(catalog, url, listener, source)
    })
    .await
}

/// `vigie demo`, when this binary was built with the `demo` feature.
#[cfg(feature = "demo")]
pub async fn run(
    config: Option<&std::path::Path>,
    database_url: &str,
    listen: SocketAddr,
    scenario: Option<String>,
    speed: f64,
    list: bool,
) -> ExitCode {
    use demo::scenario::{Scenario, BUILTIN};
    if list {
        for (name, _) in BUILTIN {
            match Scenario::builtin(name) {
                Ok(s) => println!("{name:<20} {}", s.description),
                Err(e) => eprintln!("{e}"),
            }
        }
        return ExitCode::SUCCESS;
    }
    if !(speed.is_finite() && speed > 0.0) {
        eprintln!("error: --speed must be a positive number");
        return ExitCode::from(EXIT_CONFIG);
    }
    let scenario = match scenario.as_deref().map(Scenario::builtin).transpose() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    // Without `--config` the demo runs the Humanoid catalog built into the binary, so it works
    // from any directory.
    let catalog = match config {
        Some(path) => crate::config::load(path),
        None => demo::humanoid_catalog().map_err(crate::config::LoadError::from),
    };
    let catalog = match catalog {
        Ok(c) => c,
        Err(errors) => {
            eprintln!("{errors}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    // The demo writes a simulated catalog, results and an admin with a token: only into a
    // database of its own, never into one a real instance uses.
    let database_url = if database_url == store::DEFAULT_DATABASE_URL {
        demo::DEMO_DATABASE_URL
    } else {
        database_url
    };
    if let Err(e) = demo_database_is_ours(database_url).await {
        eprintln!("error: {e:#}");
        return ExitCode::from(EXIT_CONFIG);
    }
    let url = database_url.to_owned();
    let vigie = move |catalog, listener, source| serve(catalog, url, listener, source);
    match demo::run(catalog, listen, vigie, scenario, speed).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `Err` with a sentence unless `database_url` is new or was created by the demo.
#[cfg(feature = "demo")]
async fn demo_database_is_ours(database_url: &str) -> anyhow::Result<()> {
    use anyhow::Context;
    let db = store::connect(database_url)
        .await
        .context("failed to connect to the demo's database")?;
    let ours = store::catalog::is_demo_database(&db, demo::DEMO_STAFF)
        .await
        .context("failed to read the demo's database")?;
    db.close().await.ok();
    if !ours {
        anyhow::bail!(
            "the database named by --database-url / VIGIE_DATABASE_URL holds data that is not \
             the demo's (staff accounts or a catalog): `vigie demo` writes a simulated catalog \
             and a staff account, so it refuses. Unset VIGIE_DATABASE_URL to use the demo's own \
             database ({}), or name a new one.",
            demo::DEMO_DATABASE_URL
        );
    }
    Ok(())
}

/// `vigie demo` in a binary built without the `demo` feature: says how to get one.
#[cfg(not(feature = "demo"))]
pub async fn run(
    _config: Option<&std::path::Path>,
    _database_url: &str,
    _listen: SocketAddr,
    _scenario: Option<String>,
    _speed: f64,
    _list: bool,
) -> ExitCode {
    eprintln!("{DEMO_MISSING}");
    ExitCode::FAILURE
}

/// What `vigie demo` prints when the binary was built without the demo.
pub const DEMO_MISSING: &str = "error: this vigie was built without the demo (the simulated \
     estate is left out of production builds). Run `make run` in a checkout of Vigie, or build \
     with `cargo build -p server --features demo`.";
