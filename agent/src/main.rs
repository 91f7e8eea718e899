//! `vigie-agent`: a remote probe location for central Vigie (see the crate's documentation).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;

/// Probe central Vigie's monitors of one location from here and send the results to central.
#[derive(Parser, Debug)]
#[command(name = "vigie-agent", version)]
struct Args {
    /// Central Vigie's base URL, e.g. https://status.example.org
    #[arg(long, env = "VIGIE_AGENT_CENTRAL")]
    central: String,
    /// The agent token from `vigie agent-token create`. Prefer VIGIE_AGENT_TOKEN or
    /// --token-file: a command-line argument is visible to every user in `ps`.
    #[arg(long, env = "VIGIE_AGENT_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// A file holding the agent token (its first line).
    #[arg(long, conflicts_with = "token")]
    token_file: Option<PathBuf>,
    /// Local address the probes' sockets bind to.
    #[arg(long, env = "VIGIE_PROBE_SOURCE")]
    source: Option<IpAddr>,
    /// How often the configuration is asked for (it is cheap when unchanged).
    #[arg(long, default_value = "30s", value_parser = humantime_duration)]
    poll_every: Duration,
    /// How often the results gathered meanwhile are sent to central (one batch at a time).
    #[arg(long, default_value = "2s", value_parser = humantime_duration)]
    send_every: Duration,
    /// Results kept while central is unreachable (the oldest are dropped beyond).
    #[arg(long, default_value_t = agent::MAX_BUFFERED)]
    max_buffered: usize,
}

fn humantime_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim()).map_err(|e| format!("`{s}`: {e} (e.g. 30s, 2m)"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let token = match (&args.token, &args.token_file) {
        (Some(t), _) => t.clone(),
        (None, Some(path)) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the token file {}", path.display()))?
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned(),
        (None, None) => anyhow::bail!(
            "no agent token: set VIGIE_AGENT_TOKEN, or pass --token-file (or --token)"
        ),
    };
    let token = token.trim().to_owned();
    anyhow::ensure!(!token.is_empty(), "the agent token is empty");
    let mut opts = agent::Options::new(args.central, token);
    opts.source = args.source;
    opts.poll_every = args.poll_every;
    opts.send_every = args.send_every;
    opts.max_buffered = args.max_buffered;
    tracing::info!(central = %opts.central, source = ?opts.source, "vigie-agent starting");
    agent::run(opts).await
}
