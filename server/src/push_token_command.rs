//! `vigie push-token MONITOR`: gives a push monitor a new generated token (256 bits), printed
//! once with its heartbeat URL; the database keeps its SHA-256 only. The old token stops
//! working on every running instance within seconds (they read the hashes again every few
//! seconds). Audited as `push.token`, done from the command line.
//!
//! A monitor whose configuration points at its token (`token = "${env:NAME}"` or
//! `"${file:PATH}"`) is refused: its token is changed where it lives.

use anyhow::Context;
use domain::config::notify::SecretRef;
use domain::config::{Catalog, MonitorKind, MonitorSpec};
use domain::topology;
use store::audit::{Actor, WriteError};

/// Runs `vigie push-token MONITOR` for `catalog` on `database_url`; the token goes to stdout
/// alone on its first line (for `$(vigie push-token … | head -1)`), the URL on the second.
pub async fn run(catalog: &Catalog, database_url: &str, monitor: &str) -> anyhow::Result<()> {
    let push: Vec<_> = topology::monitors(catalog)
        .filter(|(_, m)| m.kind() == MonitorKind::Push)
        .collect();
    let Some((key, m)) = push.iter().find(|(k, _)| k.to_string() == monitor.trim()) else {
        let known: Vec<String> = push.iter().map(|(k, _)| k.to_string()).collect();
        anyhow::bail!(
            "no push monitor `{monitor}` in the configuration; its push monitors: {}",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        );
    };
    let token = match &m.spec {
        MonitorSpec::Push(s) => s.token.as_deref(),
        _ => None,
    };
    if let Some(r) = token.and_then(SecretRef::parse) {
        let place = match r {
            SecretRef::Env(name) => format!("the environment variable {name}"),
            SecretRef::File(path) => format!("the file {path}"),
        };
        anyhow::bail!(
            "the token of {key} is read from {place} (its `token` setting): change it there, \
             or delete that setting to have Vigie generate one"
        );
    }
    // The monitor's row exists once the catalog is synced (as `vigie serve` does).
    let db = crate::startup::prepare_database(catalog, database_url).await?;
    let token = store::push::new_token();
    match store::push::replace_token(
        &db,
        &key.to_string(),
        &token,
        &Actor::cli(),
        chrono::Utc::now(),
    )
    .await
    {
        Ok(()) => {}
        Err(WriteError::NotFound) => anyhow::bail!("push monitor {key} is not in the database"),
        Err(e) => return Err(e).context("failed to store the new token"),
    }
    println!("{token}");
    println!(
        "{}/api/v1/push/{token}",
        catalog.site.base_url.trim_end_matches('/')
    );
    eprintln!(
        "New token for {key}, shown once (only its hash is kept). The previous one stops \
         working within seconds on every running instance."
    );
    Ok(())
}
