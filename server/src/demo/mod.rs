//! `vigie demo`: the Humanoid estate simulated on loopback, probed for real, and the outage
//! replayed from a scenario file. The demo only drives the estate and calls the public HTTP
//! API; the page, the store and the probe engine run exactly as in production.

pub mod estate;
pub mod player;
pub mod scenario;

use std::net::SocketAddr;

use anyhow::Context;
use domain::config::Catalog;

use self::estate::Estate;
use self::player::Target;
use self::scenario::{Backup, Scenario};

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
struct Staff {
    email: &'static str,
    password: String,
    api_token: String,
}

const DEMO_STAFF: &str = "staff@humanoid.demo";

/// A fresh password for the demo's staff account and a token with the incident scope, made
/// through the same store calls as `vigie user add` and the tokens page.
async fn staff_login(database_url: &str) -> anyhow::Result<Staff> {
    use store::audit::Actor;
    use store::users::{self, Role};
    let db = store::connect(database_url).await?;
    let password = store::tokens::random_secret();
    let hash = users::hash_password(&password)?;
    let now = chrono::Utc::now();
    let actor = Actor::cli();
    let user = match users::find_for_login(&db, DEMO_STAFF).await? {
        Some(_) => users::set_password(&db, DEMO_STAFF, &hash, &actor, now).await?,
        None => users::create(&db, DEMO_STAFF, Role::Admin, &hash, &actor, now).await?,
    };
    let scopes = [
        store::tokens::Scope::IncidentsWrite,
        store::tokens::Scope::MaintenanceWrite,
    ];
    let (api_token, _) =
        store::tokens::create(&db, user.id, "demo scenario player", &scopes, &actor, now).await?;
    Ok(Staff {
        email: DEMO_STAFF,
        password,
        api_token,
    })
}

/// `vigie demo`: starts the simulated estate, Vigie probing it, and plays `scenario` if given.
pub async fn run(
    catalog: Catalog,
    database_url: &str,
    listen: SocketAddr,
    scenario: Option<Scenario>,
    speed: f64,
) -> anyhow::Result<()> {
    let estate = Estate::start(&catalog)
        .await
        .context("failed to start the simulated estate")?;
    let demo = estate.rewrite(&catalog);
    let running = crate::startup::spawn(&demo, database_url, listen).await?;
    let base_url = format!("http://{}", running.addr);
    let staff = staff_login(database_url)
        .await
        .context("failed to create the demo's staff login")?;
    println!("Vigie demo: the simulated Humanoid estate, probed live.");
    println!("  public page:   {base_url}/");
    println!(
        "  staff sign-in: {base_url}/admin/login  {}  password {}",
        staff.email, staff.password
    );
    let target = Target {
        base_url,
        api_token: Some(staff.api_token),
        estate: &estate,
        catalog: &demo,
    };
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
    running
        .task
        .await
        .context("server task failed")?
        .context("server stopped with an error")?;
    Ok(())
}
