//! `vigie token add|list|revoke`: API tokens from the command line, so deployments and
//! scripts need no browser. A token is printed once, at creation (stdout, alone on its line,
//! for `$(vigie token add …)`); the database keeps its SHA-256. Every change is audited as
//! done from the command line.

use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use store::audit::{Actor, WriteError};
use store::tokens::Scope;

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token NAME for the staff account EMAIL (printed once).
    Add {
        /// What the token is for, e.g. `deploy-script`.
        name: String,
        /// The staff account the token acts as.
        #[arg(long)]
        user: String,
        /// What it may do: incidents:write, maintenance:write, services:write (repeatable).
        #[arg(long = "scope", required = true, num_args = 1..)]
        scopes: Vec<String>,
    },
    /// List the tokens (never their values).
    List,
    /// Revoke a token for good.
    Revoke {
        /// The token's id, as `list` shows it.
        id: i64,
    },
}

/// Runs a `token` command on the database at `database_url`.
pub async fn run(database_url: &str, command: TokenCommand) -> ExitCode {
    match run_inner(database_url, command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn parse_scopes(given: &[String]) -> anyhow::Result<Vec<Scope>> {
    let mut scopes = Vec::new();
    for s in given.iter().flat_map(|s| s.split([',', ' '])) {
        if s.is_empty() {
            continue;
        }
        let scope = Scope::parse(s).with_context(|| {
            let known: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
            format!("unknown scope `{s}`: use {}", known.join(", "))
        })?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    Ok(scopes)
}

async fn run_inner(database_url: &str, command: TokenCommand) -> anyhow::Result<()> {
    let db = store::connect(database_url)
        .await
        .context("failed to connect to the database")?;
    store::migrate(&db)
        .await
        .context("failed to apply database migrations")?;
    let now = chrono::Utc::now();
    match command {
        TokenCommand::Add { name, user, scopes } => {
            let scopes = parse_scopes(&scopes)?;
            let email = store::users::normalize_email(&user);
            let owner = store::users::list(&db)
                .await?
                .into_iter()
                .find(|u| u.email == email)
                .with_context(|| {
                    format!("no staff account `{user}`: add it with `vigie user add`")
                })?;
            anyhow::ensure!(!owner.disabled, "the account `{user}` is disabled");
            let (value, token) = match store::tokens::create(
                &db,
                owner.id,
                &name,
                &scopes,
                &Actor::cli(),
                now,
            )
            .await
            {
                Ok(t) => t,
                Err(WriteError::Invalid(what)) => anyhow::bail!("the token's {what} is empty"),
                Err(e) => return Err(e).context("cannot create the token"),
            };
            println!("{value}");
            eprintln!(
                "token {} `{}` for {} created: it is shown once, keep it now",
                token.id, token.name, owner.email
            );
        }
        TokenCommand::List => {
            let users: std::collections::HashMap<i64, String> = store::users::list(&db)
                .await?
                .into_iter()
                .map(|u| (u.id, u.email))
                .collect();
            for t in store::tokens::list(&db).await? {
                let scopes: Vec<&str> = t.scopes.iter().map(|s| s.as_str()).collect();
                println!(
                    "{}\t{}\t{}…\t{}\t{}\tcreated {}\tlast used {}{}",
                    t.id,
                    t.name,
                    t.prefix,
                    users.get(&t.user_id).map_or("?", String::as_str),
                    scopes.join(","),
                    t.created_at.format("%Y-%m-%d %H:%M"),
                    t.last_used_at.map_or("never".to_owned(), |u| u
                        .format("%Y-%m-%d %H:%M")
                        .to_string()),
                    if t.revoked_at.is_some() {
                        "\trevoked"
                    } else {
                        ""
                    }
                );
            }
        }
        TokenCommand::Revoke { id } => {
            match store::tokens::revoke(&db, id, &Actor::cli(), now).await {
                Ok(t) => eprintln!("token {} `{}` revoked", t.id, t.name),
                Err(WriteError::NotFound) => anyhow::bail!("no token {id}"),
                Err(e) => return Err(e).context("cannot revoke the token"),
            }
        }
    }
    Ok(())
}
