//! Logging setup: `tracing` with a `RUST_LOG` filter, to stderr. `VIGIE_LOG_FORMAT=json`
//! writes one JSON object per line (for a log collector) instead of text.
//!
//! Lines reach stderr through a writer thread (tracing-appender's non-blocking writer): the
//! thread that logs formats its line in memory and queues it; the writer thread writes what
//! has queued up in one `write`, so a busy server (one access-log line per request) makes one
//! system call per batch of lines instead of one per request, off the async workers. Nothing
//! is dropped: when the queue (128k lines) is full because stderr cannot keep up, the logging
//! thread waits, as it did when it wrote itself. The guard [`init`] returns writes out what is
//! queued when it is dropped, at the end of `main`.

use std::io::BufWriter;

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

/// Whether `VIGIE_LOG_FORMAT` asks for JSON lines (`json`, any case); anything else is text.
pub fn json_requested(value: Option<&str>) -> bool {
    value.is_some_and(|v| v.trim().eq_ignore_ascii_case("json"))
}

/// Installs the subscriber; keep the guard alive until the process ends (dropping it writes
/// out the lines still queued).
#[must_use = "dropping the guard stops the log writer"]
pub fn init() -> WorkerGuard {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,tower_http=info"));
    // Colours for a terminal only: a log file or a journal gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("vigie-log")
        // The thread hands the buffer each queued line and flushes once the queue is empty,
        // so the lines that queued up while it was writing go out in one `write`.
        .finish(BufWriter::with_capacity(64 * 1024, std::io::stderr()));
    // A second init (tests) is harmless: keep the first subscriber.
    if json_requested(std::env::var("VIGIE_LOG_FORMAT").ok().as_deref()) {
        let _ = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_env_filter(filter)
            .with_writer(writer)
            .try_init();
    } else {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(writer)
            .with_ansi(ansi)
            .try_init();
    }
    guard
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_json_selects_json_lines() {
        assert!(super::json_requested(Some("json")));
        assert!(super::json_requested(Some(" JSON ")));
        assert!(!super::json_requested(Some("text")));
        assert!(!super::json_requested(None));
    }
}
