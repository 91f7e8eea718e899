//! No two modules of a workspace crate import each other, directly or around a loop (see
//! `lints::imports`). A failure names each loop and every reference inside it: move the shared
//! item below both modules (as `AppState` lives in `server/src/state.rs`, below the handlers).

use std::path::Path;

#[test]
fn no_crate_has_an_import_loop_between_its_modules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root");
    let mut report = String::new();
    let mut crates = 0;
    for entry in std::fs::read_dir(root).expect("workspace root") {
        let dir = entry.expect("entry").path();
        let src = dir.join("src");
        if !dir.join("Cargo.toml").is_file() || !src.is_dir() {
            continue;
        }
        crates += 1;
        let files = lints::imports::read_sources(&src).expect("sources");
        for (modules, refs) in lints::imports::loops(&lints::imports::references(&files)) {
            let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("?");
            report.push_str(&format!(
                "{name}: {} import each other:\n",
                modules.join(", ")
            ));
            for r in refs {
                report.push_str(&format!(
                    "  {} -> {}  ({name}/src/{}:{})\n",
                    r.from,
                    r.to,
                    r.file.display(),
                    r.line
                ));
            }
        }
    }
    assert!(
        crates >= 6,
        "found only {crates} crates under {}",
        root.display()
    );
    assert!(report.is_empty(), "import loops:\n{report}");
}
