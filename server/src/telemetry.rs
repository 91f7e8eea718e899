//! Logging setup: `tracing` with a `RUST_LOG` filter, to stderr. `VIGIE_LOG_FORMAT=json`
//! writes one JSON object per line (for a log collector) instead of text.

use tracing_subscriber::EnvFilter;

/// Whether `VIGIE_LOG_FORMAT` asks for JSON lines (`json`, any case); anything else is text.
pub fn json_requested(value: Option<&str>) -> bool {
    value.is_some_and(|v| v.trim().eq_ignore_ascii_case("json"))
}

pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,tower_http=info"));
    // A second init (tests) is harmless: keep the first subscriber.
    if json_requested(std::env::var("VIGIE_LOG_FORMAT").ok().as_deref()) {
        let _ = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .try_init();
        return;
    }
    // Colours for a terminal only: a log file or a journal gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .try_init();
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
