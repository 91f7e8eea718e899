//! No HTML or XML escaped by hand: text reaches markup through a layer that escapes by
//! construction (a Leptos view rendered to a string, quick-xml's writer, the feed crates), and
//! finished HTML is edited through an HTML rewriter (lol_html), never as a string.
//!
//! The check reads each crate's `src/` with comments blanked (string literals kept), up to its
//! test module, for the marks hand escaping leaves ([`MARKS`]): a call into the html-escape
//! crate, a function of one's own named `esc…`, a replacement of `&`, `<` or `>`, a character
//! reference written in a literal (`&quot;`, `&#39;`: a quote escaped for HTML). Doubling a
//! quote, as CSV and SQL identifiers do, is not HTML and not a mark. What must stay is on [`ALLOWED`], one entry per
//! file and mark, with the reason; an entry that no longer matches anything is reported too,
//! so the list shrinks with the code. The `lints` crate itself is not read (its marks are
//! these strings).

use std::path::{Path, PathBuf};

/// What hand escaping looks like in the source (comments blanked, literals kept).
pub const MARKS: &[&str] = &[
    "html_escape::",
    "fn esc",
    ".replace(\"&",
    ".replace('&'",
    ".replace(\"<",
    ".replace('<'",
    ".replace(\">",
    ".replace('>'",
    "&amp;",
    "&lt;",
    "&gt;",
    "&quot;",
    "&#",
    "&apos;",
];

/// A mark that stays in one file, and why.
pub struct Allowed {
    /// The file, from the workspace root: `notify/src/alerts.rs`.
    pub file: &'static str,
    pub mark: &'static str,
    pub why: &'static str,
}

/// Every mark that stays.
pub const ALLOWED: &[Allowed] = &[
    Allowed {
        file: "notify/src/alerts.rs",
        mark: "html_escape::",
        why: "Slack's mrkdwn escapes `&`, `<` and `>` in message text: a rule of Slack's \
              protocol, not HTML, written with html-escape's text encoder",
    },
    Allowed {
        file: "server/src/export.rs",
        mark: "html_escape::",
        why: "lol_html hands attribute values as markup (`get_attribute` keeps the \
              references) and takes them back as markup (`set_attribute` escapes `\"` only): \
              the static copy decodes and encodes link values with html-escape, the crate \
              Leptos escapes attributes with",
    },
];

/// One mark found: its file (from the workspace root), line and mark.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub file: PathBuf,
    pub line: usize,
    pub mark: &'static str,
}

/// Every mark in `files` (paths relative to the crate's `src/`) of the crate `name`, before
/// each file's test module.
pub fn marks(name: &str, files: &[(PathBuf, String)]) -> Vec<Found> {
    let mut out = Vec::new();
    for (path, text) in files {
        let code = crate::imports::without_comments(text);
        let lines: Vec<&str> = code.lines().collect();
        let end = crate::length::test_module_start(&lines).unwrap_or(lines.len());
        for (n, line) in lines[..end].iter().enumerate() {
            for mark in MARKS {
                if line.contains(mark) {
                    out.push(Found {
                        file: Path::new(name).join("src").join(path),
                        line: n + 1,
                        mark,
                    });
                }
            }
        }
    }
    out
}

/// The marks not on `allowed`, and the entries of `allowed` that match none of `found`.
pub fn judge<'a>(found: &[Found], allowed: &'a [Allowed]) -> (Vec<Found>, Vec<&'a Allowed>) {
    let is_allowed =
        |f: &Found, a: &Allowed| Path::new(a.file) == f.file.as_path() && a.mark == f.mark;
    let refused = found
        .iter()
        .filter(|f| !allowed.iter().any(|a| is_allowed(f, a)))
        .cloned()
        .collect();
    let unused = allowed
        .iter()
        .filter(|a| !found.iter().any(|f| is_allowed(f, a)))
        .collect();
    (refused, unused)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(src: &str) -> Vec<(usize, &'static str)> {
        marks("x", &[(PathBuf::from("a.rs"), src.to_owned())])
            .into_iter()
            .map(|f| (f.line, f.mark))
            .collect()
    }

    #[test]
    fn hand_escaping_is_found_outside_comments_and_tests() {
        let src = "fn esc(s: &str) -> String {\n\
                   \x20   s.replace('&', \"&amp;\").replace(\"<\", \"&lt;\")\n\
                   }\n\
                   // html_escape::encode_text is mentioned, not called\n\
                   fn f() { html_escape::encode_text(\"x\"); }\n\
                   #[cfg(test)]\n\
                   mod tests { const A: &str = \"&amp;\"; }\n";
        assert_eq!(
            found(src),
            [
                (1, "fn esc"),
                (2, ".replace('&'"),
                (2, ".replace(\"<"),
                (2, "&amp;"),
                (2, "&lt;"),
                (5, "html_escape::"),
            ]
        );
        assert!(found("let page = view! { <p>{text}</p> }.to_html();").is_empty());
    }

    #[test]
    fn an_allowance_covers_one_file_and_mark_and_unused_ones_are_reported() {
        let f = |file: &str, mark| Found {
            file: PathBuf::from(file),
            line: 1,
            mark,
        };
        let allowed = [
            Allowed {
                file: "a/src/x.rs",
                mark: "html_escape::",
                why: "",
            },
            Allowed {
                file: "a/src/gone.rs",
                mark: "&amp;",
                why: "",
            },
        ];
        let (refused, unused) = judge(
            &[
                f("a/src/x.rs", "html_escape::"),
                f("a/src/x.rs", "&lt;"),
                f("b/src/x.rs", "html_escape::"),
            ],
            &allowed,
        );
        assert_eq!(
            refused,
            [f("a/src/x.rs", "&lt;"), f("b/src/x.rs", "html_escape::")]
        );
        assert_eq!(unused.len(), 1);
        assert_eq!(unused[0].file, "a/src/gone.rs");
    }
}
