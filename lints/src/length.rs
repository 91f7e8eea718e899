//! Source files short enough to read: no file of a crate's `src/` holds more than
//! [`MAX_CODE_LINES`] lines of code before its test module, unless its first doc comment says
//! why in a line that starts with [`EXCUSE`].
//!
//! A line of code is a line that still holds something once comments are blanked out
//! ([`crate::imports::code_only`]): blank lines and comment lines (doc comments included) do
//! not count, string literals do. Counting stops at the file's test module: a top-level
//! `#[cfg(test)]` followed, after any other attributes, by a `mod` item. A `#[cfg(test)]` on
//! anything else (a helper function, an import) does not stop the count. Migrations
//! (`migrations/src/mYYYYMMDD_…`) are history that is never edited, and are left out.

use std::path::{Path, PathBuf};

/// Lines of code a file may hold before its test module.
pub const MAX_CODE_LINES: usize = 600;

/// How a long file's first doc comment begins the line that says why it is long (a `//!` line
/// whose text starts with these words, e.g. `//! Long because the table of every key ...`).
pub const EXCUSE: &str = "Long because";

/// Lines of code in `src` before its test module.
pub fn code_lines(src: &str) -> usize {
    let code = crate::imports::code_only(src);
    let lines: Vec<&str> = code.lines().collect();
    let end = test_module_start(&lines).unwrap_or(lines.len());
    lines[..end].iter().filter(|l| !l.trim().is_empty()).count()
}

/// The index of the line `#[cfg(test)]` that opens the file's test module, if any.
pub(crate) fn test_module_start(lines: &[&str]) -> Option<usize> {
    lines.iter().enumerate().find_map(|(i, line)| {
        if line.trim_end() != "#[cfg(test)]" {
            return None;
        }
        let item = lines[i + 1..]
            .iter()
            .map(|l| l.trim_end())
            .find(|l| !l.is_empty() && !l.starts_with("#["))?;
        let item = item.strip_prefix("pub ").unwrap_or(item);
        item.starts_with("mod ").then_some(i)
    })
}

/// Whether the file's first doc comment (its leading `//!` lines) holds a line starting with
/// [`EXCUSE`].
pub fn explains_length(src: &str) -> bool {
    src.lines()
        .map(str::trim_start)
        .skip_while(|l| l.is_empty())
        .take_while(|l| l.starts_with("//!"))
        .any(|l| l.trim_start_matches("//!").trim_start().starts_with(EXCUSE))
}

/// Whether a file of `src/` (a path relative to its crate) is left out: a migration.
pub fn is_migration(crate_name: &str, relative: &Path) -> bool {
    crate_name == "migrations"
        && relative
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| {
                n.len() > 9 && n.starts_with('m') && n[1..9].bytes().all(|b| b.is_ascii_digit())
            })
}

/// Every file over [`MAX_CODE_LINES`] without the [`EXCUSE`] line, of the crate `name` whose
/// `src/` files are `files` (paths relative to `src/`): its path and its lines of code.
pub fn too_long(name: &str, files: &[(PathBuf, String)]) -> Vec<(PathBuf, usize)> {
    files
        .iter()
        .filter(|(path, _)| !is_migration(name, path))
        .filter_map(|(path, text)| {
            let n = code_lines(text);
            (n > MAX_CODE_LINES && !explains_length(text)).then(|| (path.clone(), n))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(n: usize) -> String {
        (0..n).map(|i| format!("const C{i}: u8 = 0;\n")).collect()
    }

    #[test]
    fn comments_and_blank_lines_do_not_count_strings_do() {
        let src = "//! Doc.\n\n/// An item.\nfn f() {\n    // a note\n    let s = \"\n\";\n}\n";
        assert_eq!(code_lines(src), 4);
    }

    #[test]
    fn counting_stops_at_the_test_module_only() {
        let body = lines_of(3);
        let with_tests = format!("{body}#[cfg(test)]\nmod tests {{\n{}}}\n", lines_of(50));
        assert_eq!(code_lines(&with_tests), 3);
        let attrs = format!("{body}#[cfg(test)]\n#[allow(dead_code)]\npub mod tests;\n");
        assert_eq!(code_lines(&attrs), 3);
        // A test-only helper in the middle is code like any other.
        let helper = format!("{body}#[cfg(test)]\nfn helper() {{}}\n{}", lines_of(2));
        assert_eq!(code_lines(&helper), 3 + 2 + 2);
    }

    #[test]
    fn a_long_file_passes_only_with_its_reason_in_the_first_doc_comment() {
        let long = lines_of(MAX_CODE_LINES + 1);
        let files = |text: String| vec![(PathBuf::from("big.rs"), text)];
        assert_eq!(
            too_long("store", &files(long.clone())),
            vec![(PathBuf::from("big.rs"), MAX_CODE_LINES + 1)]
        );
        let excused = format!("//! Big things.\n//!\n//! Long because one table.\n\n{long}");
        assert!(too_long("store", &files(excused)).is_empty());
        // The reason must be in the file's own first doc comment, not further down.
        let later = format!("//! Big things.\n\n{long}/// Long because one table.\nfn f() {{}}\n");
        assert_eq!(too_long("store", &files(later)).len(), 1);
        assert!(too_long("store", &files(lines_of(MAX_CODE_LINES))).is_empty());
    }

    #[test]
    fn migrations_are_left_out_but_not_their_helpers() {
        assert!(is_migration(
            "migrations",
            Path::new("m20261207_000460_what.rs")
        ));
        assert!(!is_migration("migrations", Path::new("helpers.rs")));
        assert!(!is_migration(
            "store",
            Path::new("m20261207_000460_what.rs")
        ));
    }
}
