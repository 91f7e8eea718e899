//! The command line: `vigie serve`, `vigie migrate`, `vigie check-config`, `vigie probe`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::EXIT_CONFIG;

#[derive(Debug, Parser)]
#[command(
    name = "vigie",
    version,
    about = "Vigie: a self-hosted public status page"
)]
pub struct Cli {
    /// Configuration file (the catalog of services, hosts and monitors) [default: vigie.toml;
    /// `vigie demo` uses its embedded Humanoid catalog].
    #[arg(long, global = true, env = "VIGIE_CONFIG")]
    pub config: Option<PathBuf>,

    /// Database URL: `sqlite://FILE?mode=rwc` or `postgres://USER@HOST/DB`.
    // `--help` never shows the environment's value: it may hold a password.
    #[arg(long, global = true, env = "VIGIE_DATABASE_URL", hide_env_values = true, default_value = store::DEFAULT_DATABASE_URL)]
    pub database_url: String,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the status page: migrate, sync the catalog, serve HTTP.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "VIGIE_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Simulate the Humanoid estate on loopback, probe it for real, and replay a scenario.
    Demo {
        /// Address to listen on.
        #[arg(long, env = "VIGIE_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Scenario to play (`--list` shows them); without one the estate just runs healthy.
        #[arg(long)]
        scenario: Option<String>,
        /// How many times faster than the scenario's own pace.
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// List the scenarios and exit.
        #[arg(long)]
        list: bool,
    },
    /// Validate the configuration file and print a one-line summary.
    CheckConfig,
    /// Manage API tokens (`add`, `list`, `revoke`): the token is printed once.
    Token {
        #[command(subcommand)]
        command: crate::token_command::TokenCommand,
    },
    /// Give a push monitor (e.g. `service/backups/nightly`) a new generated token, printed
    /// once; the previous one stops working.
    PushToken {
        /// The push monitor: `service/<service>/<monitor>` or `host/<host>/<monitor>`.
        monitor: String,
    },
    /// Manage remote probe agents' tokens (`create`, `list`, `revoke`).
    AgentToken {
        #[command(subcommand)]
        command: crate::token_command::AgentTokenCommand,
    },
    /// Write the public site as static files (a mirror for another provider).
    Export {
        /// Directory to write (replaced whole, never half-written).
        #[arg(long)]
        out: std::path::PathBuf,
        /// The live site's address, for the links the copy does not hold (default: the
        /// catalog's `site.base_url`).
        #[arg(long)]
        base_url: Option<String>,
        /// Export again after every change, until stopped.
        #[arg(long)]
        watch: bool,
        /// Shell command run after each export (e.g. an rsync to another provider).
        #[arg(long, requires = "watch")]
        after: Option<String>,
    },
    /// Manage staff accounts (`add`, `passwd`, `list`, `disable`, `enable`, `role`,
    /// `reset-totp`).
    User {
        #[command(subcommand)]
        command: crate::auth::user_command::UserCommand,
    },
    /// Copy the database to FILE (SQLite: VACUUM INTO; PostgreSQL: pg_dump) with a manifest
    /// of row counts beside it (FILE.manifest.json).
    Backup {
        /// Where to write the backup (replaced whole once complete, never half-written).
        #[arg(long)]
        out: PathBuf,
        /// Restore the copy into a scratch database and compare row counts per table.
        #[arg(long)]
        verify: bool,
        /// A `backup` push monitor's URL (`https://…/api/v1/push/TOKEN`): the outcome is
        /// sent there (the backup is then always verified first).
        #[arg(long, env = "VIGIE_BACKUP_REPORT_TO", hide_env_values = true)]
        report_to: Option<String>,
    },
    /// Restore a backup into the configured database, which must hold no table; with
    /// --verify, into a scratch database instead, comparing row counts with the manifest.
    Restore {
        /// The backup file (its FILE.manifest.json beside it).
        file: PathBuf,
        /// Only check: restore into a scratch database, compare, and drop it.
        #[arg(long)]
        verify: bool,
    },
    /// The instance key (`rotate`: re-seal the stored secrets with a new key).
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Run every monitor once from this location and print a table of results.
    Probe {
        /// Only the monitors of this service.
        #[arg(long)]
        service: Option<String>,
        /// Local address the probes' sockets bind to (a probe location on this machine).
        #[arg(long, env = "VIGIE_PROBE_SOURCE")]
        source: Option<std::net::IpAddr>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Re-seal every sealed secret (staff's TOTP secrets) with the key in FILE, in one
    /// transaction; then give every instance that key and restart them.
    Rotate {
        /// A file holding the new key: 64 hexadecimal digits or base64 (`openssl rand -hex 32`).
        #[arg(long)]
        new_key_file: PathBuf,
    },
}

/// The configuration file every command but `demo` reads when `--config` is not given.
pub const DEFAULT_CONFIG: &str = "vigie.toml";

impl Cli {
    /// The configuration file to read: `--config` (or `VIGIE_CONFIG`), else `vigie.toml`.
    pub fn config_path(&self) -> PathBuf {
        self.config
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG))
    }
}

/// Runs a parsed command line; the exit code says how it went.
pub async fn run(cli: Cli) -> ExitCode {
    let config = cli.config_path();
    match cli.command {
        Command::CheckConfig => match crate::config::load(&config) {
            Ok(catalog) => {
                println!("{}: OK, {}", config.display(), catalog.summary());
                ExitCode::SUCCESS
            }
            Err(errors) => {
                eprintln!("{errors}");
                ExitCode::from(EXIT_CONFIG)
            }
        },
        Command::Migrate => report(migrate(&cli.database_url).await),
        Command::User { command } => {
            crate::auth::user_command::run(&cli.database_url, command).await
        }
        Command::Demo {
            listen,
            scenario,
            speed,
            list,
        } => {
            crate::demo_command::run(
                cli.config.as_deref(),
                &cli.database_url,
                listen,
                scenario,
                speed,
                list,
            )
            .await
        }
        Command::Probe { service, source } => {
            let catalog = match crate::config::load(&config) {
                Ok(c) => c,
                Err(errors) => {
                    eprintln!("{errors}");
                    return ExitCode::from(EXIT_CONFIG);
                }
            };
            report(probe(&catalog, service.as_deref(), source).await)
        }
        Command::Backup {
            out,
            verify,
            report_to,
        } => backup::backup(&cli.database_url, &out, verify, report_to.as_deref()).await,
        Command::Restore { file, verify } => {
            backup::restore(&cli.database_url, &file, verify).await
        }
        Command::Token { command } => {
            let site = crate::token_command::Site {
                config: &config,
                named: cli.config.is_some(),
            };
            crate::token_command::run(&cli.database_url, site, command).await
        }
        Command::Key {
            command: KeyCommand::Rotate { new_key_file },
        } => {
            let catalog = match crate::config::load(&config) {
                Ok(c) => c,
                Err(errors) => {
                    eprintln!("{errors}");
                    return ExitCode::from(EXIT_CONFIG);
                }
            };
            match crate::key_command::rotate(&catalog, &cli.database_url, &new_key_file).await {
                Ok(told) => {
                    println!("{told}");
                    ExitCode::SUCCESS
                }
                Err(e) => report(Err(e)),
            }
        }
        Command::PushToken { monitor } => {
            let catalog = match crate::config::load(&config) {
                Ok(c) => c,
                Err(errors) => {
                    eprintln!("{errors}");
                    return ExitCode::from(EXIT_CONFIG);
                }
            };
            report(crate::push_token_command::run(&catalog, &cli.database_url, &monitor).await)
        }
        Command::AgentToken { command } => {
            let site = crate::token_command::Site {
                config: &config,
                named: cli.config.is_some(),
            };
            crate::token_command::run_agent(&cli.database_url, site, command).await
        }
        Command::Export {
            out,
            base_url,
            watch,
            after,
        } => {
            let catalog = match crate::config::load(&config) {
                Ok(c) => c,
                Err(errors) => {
                    eprintln!("{errors}");
                    return ExitCode::from(EXIT_CONFIG);
                }
            };
            let opts = crate::export::Options {
                out,
                base_url,
                watch,
                after,
            };
            report(crate::export::run(catalog, &cli.database_url, opts).await)
        }
        Command::Serve { listen } => {
            // The configuration is checked before anything touches the database.
            let catalog = match crate::config::load(&config) {
                Ok(c) => c,
                Err(errors) => {
                    eprintln!("{errors}");
                    return ExitCode::from(EXIT_CONFIG);
                }
            };
            report(crate::startup::serve(catalog, &cli.database_url, listen).await)
        }
    }
}

fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn probe(
    catalog: &domain::config::Catalog,
    service: Option<&str>,
    source: Option<std::net::IpAddr>,
) -> anyhow::Result<()> {
    let only = match service {
        Some(s) => {
            let slug = domain::config::Slug::parse(s).map_err(anyhow::Error::msg)?;
            anyhow::ensure!(
                catalog.services.iter().any(|x| x.id == slug),
                "no service `{s}` in the configuration"
            );
            Some(slug)
        }
        None => None,
    };
    let catalog = &crate::startup::with_secrets(catalog)?;
    let rows = probe::cli::probe_all(catalog, only.as_ref(), source)
        .await
        .context("failed to prepare the probes")?;
    println!("{}", probe::cli::render(&rows));
    Ok(())
}

async fn migrate(database_url: &str) -> anyhow::Result<()> {
    let db = store::connect(database_url)
        .await
        .context("failed to connect to the database")?;
    store::migrate(&db)
        .await
        .context("failed to apply migrations")?;
    let applied = store::applied_migrations(&db)
        .await
        .context("failed to list migrations")?;
    println!(
        "{} migrations applied on {}",
        applied.len(),
        store::backend_name(&db)
    );
    Ok(())
}
