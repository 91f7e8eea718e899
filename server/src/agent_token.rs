//! `vigie agent-token create|list|revoke`: the tokens remote probe agents use, one catalog
//! location each. A token is printed once, at creation; the database keeps its SHA-256.
//! Every change is audited as done from the command line.

use std::process::ExitCode;

use clap::Subcommand;
use store::audit::Actor;

#[derive(Debug, Subcommand)]
pub enum AgentTokenCommand {
    /// Create a token for an agent probing from LOCATION (printed once).
    Create {
        /// The catalog location the agent probes from.
        #[arg(long)]
        location: String,
        /// What the token is for, e.g. the machine the agent runs on.
        #[arg(long)]
        label: String,
    },
    /// List the tokens (never their values).
    List,
    /// Revoke a token for good.
    Revoke {
        /// The token's id, as `list` shows it.
        id: i64,
    },
}

/// Runs an `agent-token` command on the database at `database_url`.
pub async fn run(database_url: &str, command: AgentTokenCommand) -> ExitCode {
    match run_inner(database_url, command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run_inner(database_url: &str, command: AgentTokenCommand) -> anyhow::Result<()> {
    use anyhow::Context;
    let db = store::connect(database_url)
        .await
        .context("failed to connect to the database")?;
    store::migrate(&db)
        .await
        .context("failed to apply database migrations")?;
    let now = chrono::Utc::now();
    match command {
        AgentTokenCommand::Create { location, label } => {
            let (value, token) =
                match store::agents::create_token(&db, &location, &label, &Actor::cli(), now)
                    .await
                {
                    Ok(t) => t,
                    Err(store::audit::WriteError::NotFound) => anyhow::bail!(
                        "no location `{location}` in the database: add it to the catalog and start vigie once"
                    ),
                    Err(e) => return Err(e).context("cannot create the token"),
                };
            println!("{value}");
            eprintln!(
                "agent token {} for location {} created: it is shown once, keep it now",
                token.id, token.location_id
            );
        }
        AgentTokenCommand::List => {
            for t in store::agents::list_tokens(&db).await? {
                println!(
                    "{}\t{}\t{}…\t{}\tcreated {}\tlast used {}{}",
                    t.id,
                    t.location_id,
                    t.prefix,
                    t.label,
                    t.created_at.format("%Y-%m-%d %H:%M"),
                    t.last_used_at.map_or("never".to_owned(), |u| u
                        .format("%Y-%m-%d %H:%M")
                        .to_string()),
                    if t.revoked_at.is_some() {
                        "\trevoked"
                    } else {
                        ""
                    },
                );
            }
        }
        AgentTokenCommand::Revoke { id } => {
            let t = store::agents::revoke_token(&db, id, &Actor::cli(), now)
                .await
                .with_context(|| format!("cannot revoke agent token {id}"))?;
            println!("agent token {} ({}) revoked", t.id, t.location_id);
        }
    }
    Ok(())
}
