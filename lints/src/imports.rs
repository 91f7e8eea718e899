//! Module references of a crate, read from its source, and the loops among them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One place a module names another: `from` refers to `crate::to` at `file:line`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reference {
    pub from: String,
    pub to: String,
    pub file: PathBuf,
    pub line: usize,
}

/// The top-level module a file of `src/` belongs to; `None` for the crate root
/// (`lib.rs`, `main.rs`), which declares every module and so is no module of its own.
pub fn module_of(relative: &Path) -> Option<String> {
    let mut parts = relative.components();
    let first = parts.next()?.as_os_str().to_str()?;
    if parts.next().is_some() {
        return Some(first.to_owned());
    }
    let name = first.strip_suffix(".rs")?;
    (!matches!(name, "lib" | "main")).then(|| name.to_owned())
}

/// The source with comments and the contents of string and character literals blanked out
/// (newlines kept, so line numbers still hold).
pub fn code_only(src: &str) -> String {
    blanked(src, false)
}

/// The source with its comments blanked out and its string and character literals kept
/// (newlines kept, so line numbers still hold).
pub fn without_comments(src: &str) -> String {
    blanked(src, true)
}

/// The source with comments blanked out, and string and character literals too unless
/// `keep_literals`.
fn blanked(src: &str, keep_literals: bool) -> String {
    let chars: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    // A character of a literal: itself, or blanked.
    let lit = |c: char| if keep_literals { c } else { blank(c) };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r'
            && matches!(next, Some('"' | '#'))
            && !chars[..i]
                .last()
                .is_some_and(|p| p.is_alphanumeric() || *p == '_')
        {
            // A raw string r"…" or r#"…"#: it ends at a quote followed by as many hashes.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            out.extend(chars[i..=j].iter().map(|c| lit(*c)));
            i = j + 1;
            while i < chars.len() {
                if chars[i] == '"' && (1..=hashes).all(|k| chars.get(i + k) == Some(&'#')) {
                    out.extend(chars[i..=i + hashes].iter().map(|c| lit(*c)));
                    i += hashes + 1;
                    break;
                }
                out.push(lit(chars[i]));
                i += 1;
            }
        } else if c == '"' {
            out.push(lit(c));
            i += 1;
            while i < chars.len() {
                match chars[i] {
                    '\\' => {
                        out.push(lit('\\'));
                        if let Some(e) = chars.get(i + 1) {
                            out.push(lit(*e));
                        }
                        i += 2;
                    }
                    '"' => {
                        out.push(lit('"'));
                        i += 1;
                        break;
                    }
                    other => {
                        out.push(lit(other));
                        i += 1;
                    }
                }
            }
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{..}') or a lifetime ('a): only the former
            // closes with a quote within a few characters.
            let close = if next == Some('\\') {
                (i + 2..chars.len().min(i + 12)).find(|&k| chars[k] == '\'')
            } else {
                Some(i + 2).filter(|&k| chars.get(k) == Some(&'\''))
            };
            match close {
                Some(end) => {
                    out.extend(chars[i..=end].iter().map(|c| lit(*c)));
                    i = end + 1;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The first path segments after each `crate::` in `code` (already [`code_only`]), with their
/// line: `crate::a::b` gives `a`; `crate::{a::x, b}` gives `a` and `b`.
pub fn crate_paths(code: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let bytes: Vec<char> = code.chars().collect();
    let needle: Vec<char> = "crate::".chars().collect();
    let mut i = 0;
    while i + needle.len() <= bytes.len() {
        if bytes[i..i + needle.len()] != needle[..]
            || (i > 0 && (is_ident(bytes[i - 1]) || bytes[i - 1] == '$'))
        {
            i += 1;
            continue;
        }
        let line = bytes[..i].iter().filter(|c| **c == '\n').count() + 1;
        let mut j = i + needle.len();
        while bytes.get(j).is_some_and(|c| c.is_whitespace()) {
            j += 1;
        }
        if bytes.get(j) == Some(&'{') {
            // A group: the first segment of each item at depth one.
            let mut depth = 0;
            let mut expect_item = true;
            while j < bytes.len() {
                let c = bytes[j];
                match c {
                    '{' => {
                        depth += 1;
                        expect_item = depth == 1;
                    }
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => expect_item = true,
                    c if expect_item && depth == 1 && is_ident(c) => {
                        let start = j;
                        while bytes.get(j).is_some_and(|c| is_ident(*c)) {
                            j += 1;
                        }
                        out.push((bytes[start..j].iter().collect(), line));
                        expect_item = false;
                        continue;
                    }
                    _ => {}
                }
                j += 1;
            }
        } else {
            let start = j;
            while bytes.get(j).is_some_and(|c| is_ident(*c)) {
                j += 1;
            }
            if j > start {
                out.push((bytes[start..j].iter().collect(), line));
            }
        }
        i = j.max(i + 1);
    }
    out
}

/// Every reference between two different top-level modules of the crate whose `src/` is
/// given, from the files listed as (path relative to `src/`, text).
pub fn references(files: &[(PathBuf, String)]) -> Vec<Reference> {
    let modules: BTreeSet<String> = files.iter().filter_map(|(p, _)| module_of(p)).collect();
    let mut out = BTreeSet::new();
    for (path, text) in files {
        let Some(from) = module_of(path) else {
            continue;
        };
        for (to, line) in crate_paths(&code_only(text)) {
            if to != from && modules.contains(&to) {
                out.insert(Reference {
                    from: from.clone(),
                    to,
                    file: path.clone(),
                    line,
                });
            }
        }
    }
    out.into_iter().collect()
}

/// The groups of modules that reach each other (strongly connected components with more
/// than one module), each sorted, with the references inside it.
pub fn loops(refs: &[Reference]) -> Vec<(Vec<String>, Vec<Reference>)> {
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in refs {
        graph.entry(&r.from).or_default().insert(&r.to);
        graph.entry(&r.to).or_default();
    }
    // Reachability is enough at this size (tens of modules): two modules are in one loop
    // when each reaches the other.
    let reach = |start: &str| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![start];
        while let Some(n) = todo.pop() {
            for m in graph.get(n).into_iter().flatten() {
                if seen.insert(*m) {
                    todo.push(m);
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&str, BTreeSet<&str>> = graph.keys().map(|n| (*n, reach(n))).collect();
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    for n in graph.keys() {
        if done.contains(*n) || !reached[n].contains(n) {
            continue;
        }
        let group: Vec<String> = graph
            .keys()
            .filter(|m| reached[n].contains(*m) && reached[*m].contains(n))
            .map(|m| (*m).to_owned())
            .collect();
        done.extend(group.iter().cloned());
        let inside = refs
            .iter()
            .filter(|r| group.contains(&r.from) && group.contains(&r.to))
            .cloned()
            .collect();
        out.push((group, inside));
    }
    out
}

/// The `.rs` files under `src`, as (path relative to `src`, text), sorted.
pub fn read_sources(src: &Path) -> std::io::Result<Vec<(PathBuf, String)>> {
    let mut out = Vec::new();
    let mut todo = vec![src.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path)?;
                let rel = path.strip_prefix(src).unwrap_or(&path).to_path_buf();
                out.push((rel, text));
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> Vec<(PathBuf, String)> {
        list.iter()
            .map(|(p, t)| (PathBuf::from(p), (*t).to_owned()))
            .collect()
    }

    #[test]
    fn files_belong_to_their_top_level_module() {
        assert_eq!(
            module_of(Path::new("startup.rs")).as_deref(),
            Some("startup")
        );
        assert_eq!(
            module_of(Path::new("admin/mod.rs")).as_deref(),
            Some("admin")
        );
        assert_eq!(
            module_of(Path::new("admin/x/y.rs")).as_deref(),
            Some("admin")
        );
        assert_eq!(module_of(Path::new("lib.rs")), None);
        assert_eq!(module_of(Path::new("main.rs")), None);
    }

    #[test]
    fn paths_are_read_from_code_not_comments_or_strings() {
        let src = "use crate::a::X;\n// crate::b\n/* crate::c */ let s = \"crate::d\";\n\
                   let c = '\"'; fn f<'a>(x: &'a crate::e::T) {}\n\
                   let r = r#\"crate::g\"#; $crate::h; use crate::{i::J, k, l::{m, n}};";
        let found: Vec<String> = crate_paths(&code_only(src))
            .into_iter()
            .map(|(m, _)| m)
            .collect();
        assert_eq!(found, ["a", "e", "i", "k", "l"]);
        assert_eq!(crate_paths(&code_only(src))[1].1, 4, "line numbers hold");
    }

    #[test]
    fn a_loop_through_three_modules_is_found_and_a_chain_is_not() {
        let chain = files(&[
            (
                "lib.rs",
                "pub mod a; pub mod b; pub mod c; use crate::a::X;",
            ),
            ("a.rs", "use crate::b::Y;"),
            ("b/mod.rs", "use crate::c::Z; use crate::b::inner::W;"),
            ("c.rs", "pub struct Z;"),
        ]);
        assert!(loops(&references(&chain)).is_empty());
        let looped = files(&[
            ("a.rs", "use crate::b::Y;"),
            ("b/mod.rs", "use crate::c::Z;"),
            ("c.rs", "fn f() -> crate::a::X { todo!() }"),
            ("d.rs", "use crate::a::X;"),
        ]);
        let found = loops(&references(&looped));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, ["a", "b", "c"]);
        assert_eq!(found[0].1.len(), 3);
    }
}
