//! What the benchmarks need to run other programs: their command-line values, and a child
//! process killed when its guard goes. Included by `page.rs`, `abuse.rs` and `ingest.rs` with
//! `#[path]` (a folder under benches/ is not a bench target).

use std::process::Child;

use anyhow::Context;

/// The value after `name` on the command line (`--database-url postgres://…`), if given.
pub fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// The number after `name` on the command line (`--seconds 10`), `default` when absent; an
/// error naming the flag when what follows it is not a number.
pub fn num(args: &[String], name: &str, default: u64) -> anyhow::Result<u64> {
    arg(args, name).map_or(Ok(default), |v| {
        v.parse()
            .with_context(|| format!("{name} wants a number, not {v:?}"))
    })
}

/// A child process, killed and reaped when this goes out of scope (a benchmark that stops
/// early leaves no server behind).
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
