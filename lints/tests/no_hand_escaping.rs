//! No HTML or XML escaped by hand (see `lints::escaping`): a failure names each file, line and
//! mark. Render the text with a Leptos view (`view! { … }.to_html()`), quick-xml's writer or the
//! feed crates, and edit finished HTML with lol_html; if a mark must stay, add it to
//! `lints::escaping::ALLOWED` with the reason.

use std::path::Path;

#[test]
fn no_html_is_escaped_by_hand() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root");
    let mut found = Vec::new();
    let mut files = 0;
    for entry in std::fs::read_dir(root).expect("workspace root") {
        let dir = entry.expect("entry").path();
        let src = dir.join("src");
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        if !dir.join("Cargo.toml").is_file() || !src.is_dir() || name == "lints" {
            continue;
        }
        let sources = lints::imports::read_sources(&src).expect("sources");
        files += sources.len();
        found.extend(lints::escaping::marks(name, &sources));
    }
    assert!(
        files >= 100,
        "found only {files} source files under {}",
        root.display()
    );
    let (refused, unused) = lints::escaping::judge(&found, lints::escaping::ALLOWED);
    let refused: Vec<String> = refused
        .iter()
        .map(|f| format!("{}:{}: {}", f.file.display(), f.line, f.mark))
        .collect();
    assert!(
        refused.is_empty(),
        "HTML escaped by hand (render it with a view, or edit it with lol_html):\n{}",
        refused.join("\n")
    );
    let unused: Vec<String> = unused
        .iter()
        .map(|a| format!("{}: {}", a.file, a.mark))
        .collect();
    assert!(
        unused.is_empty(),
        "lints::escaping::ALLOWED lists marks that are gone; remove them:\n{}",
        unused.join("\n")
    );
}
