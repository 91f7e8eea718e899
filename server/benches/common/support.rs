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

/// A child process, stopped and reaped when this goes out of scope (a benchmark that stops
/// early leaves no server behind). It is asked to stop first (SIGTERM), and killed only if it
/// is still there after 5 s: nginx's master killed outright leaves its workers running, and
/// they spun on the cores of every run that came after.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        use nix::sys::signal::{kill, Signal};
        use nix::unistd::Pid;
        if let Ok(pid) = i32::try_from(self.0.id()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
            let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
            while std::time::Instant::now() < until {
                if matches!(self.0.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
