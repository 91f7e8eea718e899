//! Database URLs (SQLite file, PostgreSQL database name) and the PostgreSQL client tools.

use std::path::PathBuf;

use anyhow::ensure;

pub(crate) fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// The file of a `sqlite://FILE?…` (or `sqlite:FILE`) URL.
pub(crate) fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// A PostgreSQL client tool on PATH, or a clear error saying what to install.
pub(crate) fn tool(name: &'static str) -> anyhow::Result<&'static str> {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()))
        .unwrap_or(false);
    ensure!(
        found,
        "{name} is not on PATH: PostgreSQL backups need the PostgreSQL client tools \
         (Debian: apt install postgresql-client, same major version as the server or newer)"
    );
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_file_is_read_from_the_url() {
        assert_eq!(
            sqlite_file("sqlite:///var/lib/vigie/vigie.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/vigie/vigie.db"))
        );
        assert_eq!(
            sqlite_file("sqlite://vigie.db?mode=rwc"),
            Some(PathBuf::from("vigie.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://x@h/db"), None);
    }
}
