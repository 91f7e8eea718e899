//! Where this instance's key comes from, and what start does with it. The key
//! (`store::instance_key`) seals the staff's TOTP secrets in the database; it never lives there.
//!
//! The rule, first match wins:
//! 1. `VIGIE_INSTANCE_KEY_FILE`: the file holding the key;
//! 2. `instance_key` under `[server]`: `"${file:PATH}"` or `"${env:NAME}"` (never the key);
//! 3. on SQLite, the file `<database file>.key` beside the database, created with mode 0600 on
//!    the first start (an in-memory database gets a key that lives as long as the process);
//! 4. on PostgreSQL with nothing configured, no key. Instances sharing a database must share
//!    its key, and a key each made up for itself would not be shared, so none is made up: the
//!    console refuses to turn on a second factor (saying why), and start is refused once any
//!    user has a TOTP secret, with a message saying what to configure.
//!
//! With a key, start seals the secrets older versions stored in clear, and says in the log
//! which users' secrets the key does not open (their sign-in is refused until it is fixed).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use domain::config::notify::SecretRef;
use domain::config::ServerSettings;
use store::instance_key::InstanceKey;

/// The environment variable naming the key file (it wins over the configuration).
pub const ENV_FILE: &str = "VIGIE_INSTANCE_KEY_FILE";

/// Where the key comes from, by the rule above.
#[derive(Debug, PartialEq, Eq)]
enum Source {
    Configured(SecretRef, &'static str),
    SqliteFile(PathBuf),
    Memory,
    None,
}

fn source(settings: &ServerSettings, database_url: &str) -> Source {
    if let Some(path) = std::env::var_os(ENV_FILE).filter(|p| !p.is_empty()) {
        return Source::Configured(
            SecretRef::File(path.to_string_lossy().into_owned()),
            ENV_FILE,
        );
    }
    if let Some(r) = &settings.instance_key {
        return Source::Configured(r.clone(), "server.instance_key");
    }
    match sqlite_file(database_url) {
        Some(Some(file)) => {
            let mut name = file.file_name().unwrap_or_default().to_os_string();
            name.push(".key");
            Source::SqliteFile(file.with_file_name(name))
        }
        Some(None) => Source::Memory,
        None => Source::None,
    }
}

/// For a SQLite URL, its file (`None` for an in-memory database); `None` for another database.
fn sqlite_file(url: &str) -> Option<Option<PathBuf>> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    let memory = path.is_empty() || path == ":memory:" || rest.contains("mode=memory");
    Some((!memory).then(|| PathBuf::from(path)))
}

/// This instance's key by the rule above (`None`: PostgreSQL without one). Read before the
/// database is touched, so an unreadable key stops the start with nothing written. Never
/// prints the key; an error names where it was looked for.
pub fn load(
    settings: &ServerSettings,
    database_url: &str,
) -> anyhow::Result<Option<Arc<InstanceKey>>> {
    let key = match source(settings, database_url) {
        Source::Configured(r, setting) => {
            let text =
                zeroize::Zeroizing::new(probe::secret::read(&r).map_err(|e| {
                    anyhow::anyhow!("cannot read the instance key ({setting}): {e}")
                })?);
            InstanceKey::parse(&text)
                .with_context(|| format!("the instance key named by {setting} is not valid"))?
        }
        Source::SqliteFile(path) => {
            let (key, created) = InstanceKey::load_or_create(&path).with_context(|| {
                format!(
                    "cannot read or create the instance key file {} (or set {ENV_FILE})",
                    path.display()
                )
            })?;
            if created {
                tracing::info!(
                    file = %path.display(),
                    "instance key created: keep a copy of this file, apart from the database's backups"
                );
            }
            key
        }
        Source::Memory => InstanceKey::generate(),
        Source::None => return Ok(None),
    };
    Ok(Some(Arc::new(key)))
}

/// The database made ready for `key`: secrets stored in clear sealed, and the users whose
/// secrets it does not open named in the log; without a key, start refused when anyone has a
/// second factor (it could not be checked).
pub async fn prepare(key: Option<&InstanceKey>, db: &store::Db) -> anyhow::Result<()> {
    let key = match key {
        Some(key) => key,
        None => {
            let holders = store::users::totp::totp_count(db).await?;
            anyhow::ensure!(
                holders == 0,
                "{holders} staff member(s) have a TOTP second factor, and this PostgreSQL \
                 instance has no instance key to read it with: set {ENV_FILE} to a file holding \
                 the key (`openssl rand -hex 32`), the same file on every instance sharing the \
                 database (see docs/security.md)"
            );
            tracing::info!(
                "no instance key (PostgreSQL, {ENV_FILE} unset): the console will not turn on \
                 TOTP second factors until one is set"
            );
            return Ok(());
        }
    };
    let sealed = store::users::totp::seal_clear_totp(db, key)
        .await
        .context("failed to seal the TOTP secrets stored in clear")?;
    if sealed > 0 {
        tracing::info!(sealed, "TOTP secrets stored in clear are now sealed");
    }
    let unopened = store::users::totp::totp_unopened(db, key).await?;
    if !unopened.is_empty() {
        tracing::error!(
            users = %unopened.join(", "),
            "these users' TOTP secrets do not open with this instance key, so their sign-in \
             is refused: start Vigie with the key that sealed them ({ENV_FILE}, instance_key \
             under [server], or the key file beside the SQLite database), or remove their \
             second factor with `vigie user reset-totp EMAIL`"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_sits_beside_the_sqlite_database_and_postgres_has_none() {
        let s = ServerSettings::default();
        assert_eq!(
            source(&s, "sqlite:///var/lib/vigie/vigie.db?mode=rwc"),
            Source::SqliteFile("/var/lib/vigie/vigie.db.key".into())
        );
        assert_eq!(
            source(&s, "sqlite://vigie.db?mode=rwc"),
            Source::SqliteFile("vigie.db.key".into())
        );
        assert_eq!(source(&s, "sqlite::memory:"), Source::Memory);
        assert_eq!(source(&s, "sqlite://x.db?mode=memory"), Source::Memory);
        assert_eq!(source(&s, "postgres://v@h/db"), Source::None);
        let configured = ServerSettings {
            instance_key: Some(SecretRef::Env("K".into())),
            ..ServerSettings::default()
        };
        assert_eq!(
            source(&configured, "sqlite://vigie.db?mode=rwc"),
            Source::Configured(SecretRef::Env("K".into()), "server.instance_key")
        );
    }
}
