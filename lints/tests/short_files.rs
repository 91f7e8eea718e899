//! No source file is too long to read (see `lints::length`): a failure names each file of a
//! crate's `src/` with more than 600 lines of code before its test module. Split it by concern
//! (a folder module with one file per part), or, when its length is its nature, say why in its
//! first doc comment, in a line starting with "Long because".

use std::path::Path;

#[test]
fn no_source_file_is_over_600_lines_of_code_unless_it_says_why() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root");
    let mut report = String::new();
    let mut files = 0;
    for entry in std::fs::read_dir(root).expect("workspace root") {
        let dir = entry.expect("entry").path();
        let src = dir.join("src");
        if !dir.join("Cargo.toml").is_file() || !src.is_dir() {
            continue;
        }
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        let sources = lints::imports::read_sources(&src).expect("sources");
        files += sources.len();
        for (path, lines) in lints::length::too_long(name, &sources) {
            report.push_str(&format!(
                "{name}/src/{}: {lines} lines of code before its tests (at most {})\n",
                path.display(),
                lints::length::MAX_CODE_LINES
            ));
        }
    }
    assert!(
        files >= 100,
        "found only {files} source files under {}",
        root.display()
    );
    assert!(
        report.is_empty(),
        "files too long, without a line starting with {:?} in their first doc comment:\n{report}",
        lints::length::EXCUSE
    );
}
