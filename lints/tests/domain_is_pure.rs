//! `domain` does no I/O and never reads the clock (see `lints::purity`): a failure names each
//! file, line and forbidden path, or each dependency that is not on the allowed list. Move the
//! I/O to `store` or `server` and pass its result (or `now`) in as a parameter.

use std::path::Path;

#[test]
fn domain_does_no_io_and_never_reads_the_clock() {
    let domain = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .join("domain");
    let files = lints::imports::read_sources(&domain.join("src")).expect("domain sources");
    assert!(files.len() >= 5, "found only {} files", files.len());
    let uses: Vec<String> = lints::purity::impure_uses(&files)
        .into_iter()
        .map(|(file, line, path)| format!("domain/src/{}:{line}: {path}", file.display()))
        .collect();
    assert!(uses.is_empty(), "domain does I/O:\n{}", uses.join("\n"));
    let manifest = std::fs::read_to_string(domain.join("Cargo.toml")).expect("manifest");
    let deps = lints::purity::unexpected_dependencies(&manifest);
    assert!(
        deps.is_empty(),
        "domain depends on crates not on lints::purity::ALLOWED_DEPENDENCIES: {deps:?}"
    );
}
