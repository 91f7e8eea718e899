//! Loading `vigie.toml` from disk into a validated [`Catalog`].

use std::path::Path;

use domain::config::{Catalog, ConfigError, ConfigErrors};

/// Reads and validates the configuration file at `path`.
pub fn load(path: &Path) -> Result<Catalog, ConfigErrors> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigErrors(vec![ConfigError {
            file: name.clone(),
            line: 0,
            column: 0,
            key: "-".into(),
            message: format!("cannot read the file: {e}"),
        }])
    })?;
    domain::config::parse(&name, &text)
}
