//! `domain` does no I/O and never reads the clock: it is the crate both the server and the
//! browser build, and its rules are tested with the time as a parameter. This check reads the
//! source (comments and string literals blanked) for the paths that would break that, and the
//! crate's manifest for dependencies that do I/O.

use std::path::PathBuf;

/// Paths that read or write the outside world, or read the clock. `std::net` is not listed
/// whole: parsing an address (`IpAddr`, `SocketAddr`) is pure; the sockets are listed instead.
pub const FORBIDDEN_PATHS: &[&str] = &[
    "std::fs",
    "std::io",
    "std::env",
    "std::process",
    "std::thread",
    "TcpStream",
    "TcpListener",
    "UdpSocket",
    "tokio",
    "reqwest",
    "sea_orm",
    "hickory",
    "Utc::now",
    "Local::now",
    "SystemTime",
    "Instant::now",
    "println!",
    "eprintln!",
    "print!",
    "dbg!",
];

/// The dependencies `domain` may have: pure data, parsing and time arithmetic.
pub const ALLOWED_DEPENDENCIES: &[&str] = &[
    "serde",
    "serde_json",
    "chrono",
    "chrono-tz",
    "thiserror",
    "toml",
    "humantime",
];

/// Every forbidden path used in `files`: (file, line, path).
pub fn impure_uses(files: &[(PathBuf, String)]) -> Vec<(PathBuf, usize, &'static str)> {
    let mut out = Vec::new();
    for (file, text) in files {
        let code = crate::imports::code_only(text);
        for (n, line) in code.lines().enumerate() {
            for path in FORBIDDEN_PATHS {
                if contains_word(line, path) {
                    out.push((file.clone(), n + 1, *path));
                }
            }
        }
    }
    out
}

/// `needle` in `line`, not as the tail or head of a longer identifier (`eprint!` does not
/// match `print!`, `my_tokio` does not match `tokio`).
fn contains_word(line: &str, needle: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    line.match_indices(needle).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + needle.len()..].chars().next();
        let glued_after = needle.ends_with(ident) && after.is_some_and(ident);
        !before.is_some_and(ident) && !glued_after
    })
}

/// The dependency names of a `Cargo.toml`'s `[dependencies]` table not in
/// [`ALLOWED_DEPENDENCIES`] (dev-dependencies are the tests' business).
pub fn unexpected_dependencies(manifest: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_deps = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if !in_deps || line.is_empty() || line.starts_with('#') {
            continue;
        }
        let name = line
            .split(['=', '.'])
            .next()
            .unwrap_or_default()
            .trim()
            .trim_matches('"');
        if !name.is_empty() && !ALLOWED_DEPENDENCIES.contains(&name) {
            out.push(name.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Vec<(PathBuf, usize, &'static str)> {
        impure_uses(&[(PathBuf::from("x.rs"), text.to_owned())])
    }

    #[test]
    fn io_and_the_clock_are_caught_comments_and_strings_are_not() {
        assert_eq!(one("let t = std::fs::read(p);")[0].2, "std::fs");
        assert_eq!(one("fn f() {}\nlet n = Utc::now();")[0].1, 2);
        assert_eq!(one("use tokio::net::TcpStream;").len(), 2);
        assert_eq!(one("println!(\"x\");")[0].2, "println!");
        assert!(one("// std::fs is not used here\nlet s = \"Utc::now\";").is_empty());
        assert!(one("let a: std::net::IpAddr = s.parse()?;").is_empty());
        assert!(one("let my_tokio_like = 1; eprint_it();").is_empty());
    }

    #[test]
    fn only_listed_dependencies_pass() {
        let manifest = "[package]\nname = \"domain\"\n\n[dependencies]\nserde.workspace = true\n\
                        tokio = { version = \"1\" }\n\"reqwest\" = \"0.12\"\n\n\
                        [dev-dependencies]\ntempfile = \"3\"\n";
        assert_eq!(unexpected_dependencies(manifest), ["tokio", "reqwest"]);
    }
}
