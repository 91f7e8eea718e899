//! Makes sure the asset folder that the binary embeds exists, and that it holds at least the
//! stylesheet (copied from `style/`), so `cargo build`/`cargo test` work before `make build`.
//! `make build` overwrites it with the optimised wasm, JS glue and CSS.

use std::path::PathBuf;

fn main() {
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    let root = manifest.parent().map(PathBuf::from).unwrap_or_default();
    let pkg = root.join("target/site/pkg");
    let style = root.join("style/main.css");
    println!("cargo:rerun-if-changed={}", pkg.display());
    println!("cargo:rerun-if-changed={}", style.display());
    if let Err(e) = std::fs::create_dir_all(&pkg) {
        println!("cargo:warning=cannot create {}: {e}", pkg.display());
        return;
    }
    let css = pkg.join("vigie.css");
    let stale = match (std::fs::metadata(&style), std::fs::metadata(&css)) {
        (Ok(s), Ok(c)) => match (s.modified(), c.modified()) {
            (Ok(sm), Ok(cm)) => sm > cm,
            _ => true,
        },
        (Ok(_), Err(_)) => true,
        _ => false,
    };
    if stale {
        if let Err(e) = std::fs::copy(&style, &css) {
            println!("cargo:warning=cannot copy {}: {e}", style.display());
        }
        // Pre-compressed copies of the old stylesheet would now be wrong.
        for ext in ["br", "gz"] {
            let _ = std::fs::remove_file(pkg.join(format!("vigie.css.{ext}")));
        }
    }
}
