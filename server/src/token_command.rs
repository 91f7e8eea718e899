//! `vigie token add|list|revoke` and `vigie agent-token create|list|revoke`: the tokens of
//! the write API and of remote probe agents, from the command line, so deployments and
//! scripts need no browser. A token is printed once, at creation (stdout, alone on its line,
//! for `$(vigie token add …)`); the database keeps only its SHA-256 (`store::tokens`). Every
//! change is audited as done from the command line.
//!
//! The listings write times on the site's clock, labelled as the pages label them
//! ("2026-12-07 17:42 (Paris time)"), or, with `--rfc3339`, as RFC 3339 with the site's UTC
//! offset for scripts. The site's timezone comes from the configuration file; without one
//! (none given and no `vigie.toml` here), times are UTC and say so.

use std::future::Future;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use clap::Subcommand;
use domain::staff::Scope;
use store::audit::{Actor, WriteError};

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
    /// List the tokens (never their values), one per line, tab-separated. Times are on the
    /// site's clock, labelled: `2026-12-07 17:42 (Paris time)`.
    List {
        #[command(flatten)]
        times: Times,
    },
    /// Revoke a token for good.
    Revoke {
        /// The token's id, as `list` shows it.
        id: i64,
    },
}

/// How a listing writes its times.
#[derive(Clone, Copy, Debug, clap::Args)]
pub struct Times {
    /// Write times as RFC 3339 with the site's UTC offset (`2026-12-07T17:42:00+01:00`), for
    /// scripts, instead of the labelled local time meant for people.
    #[arg(long)]
    pub rfc3339: bool,
}

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
    /// List the tokens (never their values), one per line, tab-separated. Times are on the
    /// site's clock, labelled: `2026-12-07 17:42 (Paris time)`.
    List {
        #[command(flatten)]
        times: Times,
    },
    /// Revoke a token for good.
    Revoke {
        /// The token's id, as `list` shows it.
        id: i64,
    },
}

/// Where the site's timezone is read from: the configuration file, and whether it was named
/// (`--config`, `VIGIE_CONFIG`) or is the default `vigie.toml`.
#[derive(Clone, Copy, Debug)]
pub struct Site<'a> {
    pub config: &'a Path,
    pub named: bool,
}

/// Runs a `token` command on the database at `database_url`.
pub async fn run(database_url: &str, site: Site<'_>, command: TokenCommand) -> ExitCode {
    let clock = match &command {
        TokenCommand::List { times } => match Clock::of(site, *times) {
            Ok(c) => c,
            Err(code) => return code,
        },
        _ => Clock::utc(),
    };
    exit_code(with_db(database_url, |db| api_token(db, command, clock)).await)
}

/// Runs an `agent-token` command on the database at `database_url`.
pub async fn run_agent(database_url: &str, site: Site<'_>, command: AgentTokenCommand) -> ExitCode {
    let clock = match &command {
        AgentTokenCommand::List { times } => match Clock::of(site, *times) {
            Ok(c) => c,
            Err(code) => return code,
        },
        _ => Clock::utc(),
    };
    exit_code(with_db(database_url, |db| agent_token(db, command, clock)).await)
}

/// How the listings write times: the site's timezone, labelled or RFC 3339.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    tz: Tz,
    rfc3339: bool,
}

impl Clock {
    fn utc() -> Self {
        Clock {
            tz: chrono_tz::UTC,
            rfc3339: false,
        }
    }

    /// The site's clock, read from its configuration. A configuration named but unusable is an
    /// error (exit 2, as every command that reads it); none at all is UTC, said on stderr.
    fn of(site: Site<'_>, times: Times) -> Result<Self, ExitCode> {
        let tz = match crate::config::load(site.config) {
            Ok(catalog) => catalog.site.timezone,
            Err(crate::config::LoadError::Missing(path)) if !site.named => {
                eprintln!(
                    "note: times in UTC (no configuration file at {} to read the site's timezone \
                     from; name one with --config FILE)",
                    path.display()
                );
                chrono_tz::UTC
            }
            Err(e) => {
                eprintln!("{e}");
                return Err(ExitCode::from(crate::config::EXIT_CONFIG));
            }
        };
        Ok(Clock {
            tz,
            rfc3339: times.rfc3339,
        })
    }

    /// `2026-12-07 17:42 (Paris time)`, with the zone's words from the pages
    /// (`domain::dates::zone_label`), or `2026-12-07T17:42:00+01:00` with `--rfc3339`.
    pub fn show(&self, t: DateTime<Utc>) -> String {
        let local = t.with_timezone(&self.tz);
        if self.rfc3339 {
            return local.to_rfc3339_opts(SecondsFormat::Secs, false);
        }
        let label = domain::dates::zone_label(domain::locale::Locale::En, self.tz.name());
        format!("{} ({label})", local.format("%Y-%m-%d %H:%M"))
    }
}

fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Connects to the database at `database_url`, migrated, and runs `command` on it.
async fn with_db<F, Fut>(database_url: &str, command: F) -> anyhow::Result<()>
where
    F: FnOnce(store::Db) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let db = store::connect(database_url)
        .await
        .context("failed to connect to the database")?;
    store::migrate(&db)
        .await
        .context("failed to apply database migrations")?;
    command(db).await
}

/// The listings' last columns: when the token was last used, and whether it is revoked.
fn usage(
    clock: &Clock,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
) -> String {
    format!(
        "last used {}{}",
        last_used_at.map_or("never".to_owned(), |t| clock.show(t)),
        revoked_at.map_or(String::new(), |t| format!("\trevoked {}", clock.show(t)))
    )
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

async fn api_token(db: store::Db, command: TokenCommand, clock: Clock) -> anyhow::Result<()> {
    let db = &db;
    let now = Utc::now();
    match command {
        TokenCommand::Add { name, user, scopes } => {
            let scopes = parse_scopes(&scopes)?;
            let email = store::users::normalize_email(&user);
            let owner = store::users::list(db)
                .await?
                .into_iter()
                .find(|u| u.email == email)
                .with_context(|| {
                    format!("no staff account `{user}`: add it with `vigie user add`")
                })?;
            anyhow::ensure!(!owner.disabled, "the account `{user}` is disabled");
            let (value, token) =
                match store::tokens::api::create(db, owner.id, &name, &scopes, &Actor::cli(), now)
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
        TokenCommand::List { .. } => {
            let users: std::collections::HashMap<i64, String> = store::users::list(db)
                .await?
                .into_iter()
                .map(|u| (u.id, u.email))
                .collect();
            for t in store::tokens::api::list(db).await? {
                let scopes: Vec<&str> = t.scopes.iter().map(|s| s.as_str()).collect();
                println!(
                    "{}\t{}\t{}…\t{}\t{}\tcreated {}\t{}",
                    t.id,
                    t.name,
                    t.prefix,
                    users.get(&t.user_id).map_or("?", String::as_str),
                    scopes.join(","),
                    clock.show(t.created_at),
                    usage(&clock, t.last_used_at, t.revoked_at),
                );
            }
        }
        TokenCommand::Revoke { id } => {
            match store::tokens::api::revoke(db, id, &Actor::cli(), now).await {
                Ok(t) => eprintln!("token {} `{}` revoked", t.id, t.name),
                Err(WriteError::NotFound) => anyhow::bail!("no token {id}"),
                Err(e) => return Err(e).context("cannot revoke the token"),
            }
        }
    }
    Ok(())
}

async fn agent_token(
    db: store::Db,
    command: AgentTokenCommand,
    clock: Clock,
) -> anyhow::Result<()> {
    let db = &db;
    let now = Utc::now();
    match command {
        AgentTokenCommand::Create { location, label } => {
            let (value, token) =
                match store::tokens::agent::create_token(db, &location, &label, &Actor::cli(), now).await
                {
                    Ok(t) => t,
                    Err(WriteError::NotFound) => anyhow::bail!(
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
        AgentTokenCommand::List { .. } => {
            for t in store::tokens::agent::list_tokens(db).await? {
                println!(
                    "{}\t{}\t{}…\t{}\tcreated {}\t{}",
                    t.id,
                    t.location_id,
                    t.prefix,
                    t.label,
                    clock.show(t.created_at),
                    usage(&clock, t.last_used_at, t.revoked_at),
                );
            }
        }
        AgentTokenCommand::Revoke { id } => {
            let t = store::tokens::agent::revoke_token(db, id, &Actor::cli(), now)
                .await
                .with_context(|| format!("cannot revoke agent token {id}"))?;
            println!("agent token {} ({}) revoked", t.id, t.location_id);
        }
    }
    Ok(())
}
