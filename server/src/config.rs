//! Loading `vigie.toml` from disk into a validated [`Catalog`].

use std::path::{Path, PathBuf};

use domain::config::{Catalog, ConfigErrors};

/// Exit code for an invalid configuration (nothing was written).
pub const EXIT_CONFIG: u8 = 2;

/// Why the configuration could not be loaded. Its text is what the command line prints.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// No file at the path: the text says where Vigie looked and how to name another file.
    #[error("{}", missing_text(.0))]
    Missing(PathBuf),
    /// The file exists but cannot be read (permissions, a directory…).
    #[error("error: cannot read the configuration file {}: {error}", .path.display())]
    Unreadable {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The file is there but not valid: every problem with its line and key.
    #[error(transparent)]
    Invalid(#[from] ConfigErrors),
}

/// The message for a configuration file that does not exist. A relative path is shown with
/// the directory it was resolved against, since "vigie.toml" alone does not say where.
fn missing_text(path: &Path) -> String {
    let looked = if path.is_relative() {
        match std::env::current_dir() {
            Ok(dir) => format!("{} (in {})", path.display(), dir.display()),
            Err(_) => path.display().to_string(),
        }
    } else {
        path.display().to_string()
    };
    format!(
        "error: no configuration file at {looked}.\n\
         Name the catalog with `--config FILE` or the VIGIE_CONFIG environment variable \
         (config/humanoid.toml in the source tree is a complete example).\n\
         To try Vigie without one, `vigie demo` runs a simulated estate."
    )
}

/// Reads and validates the configuration file at `path`.
pub fn load(path: &Path) -> Result<Catalog, LoadError> {
    let name = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(LoadError::Missing(path.to_owned()))
        }
        Err(error) => {
            return Err(LoadError::Unreadable {
                path: path.to_owned(),
                error,
            })
        }
    };
    Ok(domain::config::parse(&name, &text)?)
}
