//! `vigie user add|passwd|list|disable|enable|role|reset-totp`: staff accounts from the server's
//! shell. Passwords come from
//! a terminal prompt or `--password-stdin`, never from the command line (where `ps` and shell
//! history would keep them).

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Subcommand, ValueEnum};
use domain::staff::Role;
use store::audit::{Actor, WriteError};

use super::MIN_PASSWORD_LEN;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RoleArg {
    Admin,
    Editor,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Admin => Role::Admin,
            RoleArg::Editor => Role::Editor,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a staff account.
    Add {
        email: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Read the password from the first line of standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password (signs the user out everywhere).
    Passwd {
        email: String,
        /// Read the password from the first line of standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List staff accounts.
    List,
    /// Remove a user's second factor (a lost phone): they sign in with their password alone
    /// and may enrol again from "My account".
    #[command(alias = "totp-off")]
    ResetTotp { email: String },
    /// Disable an account (someone leaves): their sessions end at once and their API tokens
    /// stop working. The last enabled admin cannot be disabled.
    Disable { email: String },
    /// Enable a disabled account again (their tokens work again; they sign in anew).
    Enable { email: String },
    /// Change an account's role. The last enabled admin cannot be demoted.
    Role {
        email: String,
        #[arg(value_enum)]
        role: RoleArg,
    },
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    let password = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("failed to read the password from standard input")?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        if !std::io::stdin().is_terminal() {
            bail!("no terminal to prompt on: use --password-stdin");
        }
        let first =
            rpassword::prompt_password("Password: ").context("failed to read the password")?;
        let again = rpassword::prompt_password("Again: ").context("failed to read the password")?;
        if first != again {
            bail!("the passwords differ");
        }
        first
    };
    if password.chars().count() < MIN_PASSWORD_LEN {
        bail!("the password must have at least {MIN_PASSWORD_LEN} characters");
    }
    Ok(password)
}

async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || store::users::hash_password(&password))
        .await
        .context("password hashing stopped")?
        .context("failed to hash the password")
}

async fn run_inner(database_url: &str, command: UserCommand) -> anyhow::Result<()> {
    let db = store::connect(database_url)
        .await
        .context("failed to connect to the database")?;
    store::migrate(&db)
        .await
        .context("failed to apply migrations")?;
    let now = chrono::Utc::now();
    match command {
        UserCommand::Add {
            email,
            role,
            password_stdin,
        } => {
            if !email.contains('@') {
                bail!("`{email}` is not an email address");
            }
            let hash = hash(read_password(password_stdin)?).await?;
            match store::users::create(&db, &email, role.into(), &hash, &Actor::cli(), now).await {
                Ok(u) => println!("created {} ({})", u.email, u.role.as_str()),
                Err(WriteError::Conflict) => bail!("a user with this email already exists"),
                Err(e) => return Err(e).context("failed to create the user"),
            }
        }
        UserCommand::Passwd {
            email,
            password_stdin,
        } => {
            let hash = hash(read_password(password_stdin)?).await?;
            match store::users::set_password(&db, &email, &hash, &Actor::cli(), now).await {
                Ok(u) => println!("password changed for {}; signed out everywhere", u.email),
                Err(WriteError::NotFound) => bail!("no user with this email"),
                Err(e) => return Err(e).context("failed to change the password"),
            }
        }
        UserCommand::ResetTotp { email } => {
            let user = find(&db, &email).await?;
            store::users::totp::totp_disable(&db, user.id, &Actor::cli(), now)
                .await
                .context("failed to remove the second factor")?;
            println!("second factor removed for {}", user.email);
        }
        UserCommand::Disable { email } => {
            let user = find(&db, &email).await?;
            store::users::set_disabled(&db, user.id, true, &Actor::cli(), now)
                .await
                .map_err(last_admin)?;
            println!(
                "{} disabled: signed out everywhere, API tokens refused",
                user.email
            );
        }
        UserCommand::Enable { email } => {
            let user = find(&db, &email).await?;
            store::users::set_disabled(&db, user.id, false, &Actor::cli(), now)
                .await
                .map_err(last_admin)?;
            println!("{} enabled", user.email);
        }
        UserCommand::Role { email, role } => {
            let user = find(&db, &email).await?;
            let role: Role = role.into();
            store::users::set_role(&db, user.id, role, &Actor::cli(), now)
                .await
                .map_err(last_admin)?;
            println!("{} is now {}", user.email, role.as_str());
        }
        UserCommand::List => {
            for u in store::users::list(&db)
                .await
                .context("failed to list users")?
            {
                let disabled = if u.disabled { " (disabled)" } else { "" };
                let totp = if u.totp { " (two-factor)" } else { "" };
                println!("{}\t{}{disabled}{totp}", u.email, u.role.as_str());
            }
        }
    }
    Ok(())
}

async fn find(db: &store::Db, email: &str) -> anyhow::Result<store::users::User> {
    store::users::find_by_email(db, email)
        .await
        .context("failed to read users")?
        .ok_or_else(|| anyhow::anyhow!("no user with this email"))
}

fn last_admin(e: WriteError) -> anyhow::Error {
    match e {
        WriteError::Invalid("last_admin") => {
            anyhow::anyhow!("this is the last enabled admin: make someone else admin first")
        }
        e => anyhow::Error::new(e).context("failed to change the user"),
    }
}

/// Runs a `vigie user …` command.
pub async fn run(database_url: &str, command: UserCommand) -> ExitCode {
    match run_inner(database_url, command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
