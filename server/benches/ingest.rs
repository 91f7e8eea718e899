//! Agent ingest benchmark (not a test): how many agent results central stores per second.
//!
//! The release `vigie serve` runs in its own process on SQLite (or PostgreSQL with
//! `--database-url`) with its probe engine on, as an operator runs it off-site: it probes
//! nothing itself (every monitor is probed from an agent location), and its engine folds the
//! agents' states into the quorum. N simulated agents, one per location, each with its own
//! agent token and its own keep-alive connection, post result batches to
//! `POST /api/v1/agent/results` over real HTTP, one batch in flight each (as `vigie-agent`
//! does: the next batch waits for the acknowledgement), as fast as central answers. The
//! results are what agents send: fresh, in time order per monitor, mostly `up` with an HTTP
//! status and a latency, a few monitors `down` with a reason, each batch under a new id.
//!
//! Prints results stored per second (from central's acknowledgements, not from what was sent),
//! central's CPU % of the machine's 2 cores and its peak RSS, the load generator's CPU (it runs
//! on the same 2 cores), and batch latency p50 / p99 / max. A warm-up of a few seconds comes
//! first and is not counted.
//!
//! `make bench-ingest` runs `cargo bench -p server --bench ingest -- [--agents 4]
//! [--monitors 1000] [--batch 100] [--seconds 30] [--database-url postgres://…] [--quick]`.
//! `--monitors` is the total, divided between the agents; `--quick` is a 3 s run to check the
//! harness (`cargo test --bench ingest` runs it in a debug build). A PostgreSQL database
//! should be a throwaway one (`scripts/pg-throwaway.sh`): the bench adds its catalog to it.

#[path = "common/support.rs"]
mod support;

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use domain::agent::{AgentResult, ResultBatch};
use support::{arg, num, Killed};

/// One catalog location per agent, `monitors` HTTP monitors divided between them (each probed
/// from one agent location only), and central's own location, which probes nothing.
fn catalog_toml(agents: usize, monitors: usize) -> String {
    let mut t = String::from(
        "[site]\ntitle = \"Ingest bench\"\ntimezone = \"Europe/Paris\"\n\n\
         [probe]\nlocation = \"central\"\n\n\
         [[locations]]\nid = \"central\"\nname = \"Central\"\n\n",
    );
    for a in 0..agents {
        t += &format!("[[locations]]\nid = \"agent-{a}\"\nname = \"Agent {a}\"\n\n");
    }
    for g in 0..10 {
        t += &format!("[[groups]]\nid = \"group-{g}\"\nname = \"Groupe {g}\"\n\n");
    }
    for s in 0..monitors {
        t += &format!(
            "[[services]]\nid = \"service-{s}\"\nname = \"Service {s}\"\ngroup = \"group-{}\"\n\n\
             [[services.monitors]]\nid = \"home\"\nkind = \"http\"\n\
             target = \"https://site-{s}.example.org/\"\ninterval = \"30s\"\n\
             locations = [\"agent-{}\"]\n\n",
            s % 10,
            s % agents
        );
    }
    t
}

/// CPU seconds (user + system) of `pid`, from /proc.
fn cpu_seconds(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let f: Vec<String> = s
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .map(str::to_owned)
                .collect();
            let utime: f64 = f.get(11)?.parse().ok()?;
            let stime: f64 = f.get(12)?.parse().ok()?;
            Some((utime + stime) / 100.0)
        })
        .unwrap_or(0.0)
}

/// Peak resident memory of `pid` in MB (VmHWM).
fn peak_rss_mb(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn start_vigie(config: &Path, db_url: &str, port: u16, log: &Path) -> anyhow::Result<Killed> {
    let child = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("--config")
        .arg(config)
        .args(["--database-url", db_url, "serve", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        // Its default log filter (info: one access-log line per request), to a file.
        .env_remove("RUST_LOG")
        .env_remove("VIGIE_LOG_FORMAT")
        .env_remove("VIGIE_PROBES")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log)?)
        .spawn()
        .context("cannot start vigie")?;
    Ok(Killed(child))
}

/// What one simulated agent did while counted.
#[derive(Default)]
struct Tally {
    stored: u64,
    batches: u64,
    failed: u64,
    first_failure: Option<String>,
    latencies_ms: Vec<f64>,
}

/// One agent: posts batches of `batch` results for its `monitors`, round-robin, one in flight,
/// until `stop`; counts only while `counting`.
async fn agent(
    base: String,
    token: String,
    id: usize,
    monitors: Vec<String>,
    batch: usize,
    counting: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) -> Tally {
    let http = reqwest::Client::builder()
        .user_agent("vigie-agent/bench")
        .timeout(Duration::from_secs(60))
        .build()
        .expect("an HTTP client");
    let mut tally = Tally::default();
    let mut rng = fastrand::Rng::with_seed(id as u64);
    let mut next = 0usize;
    let mut n = 0u64;
    let prefix = format!("bench-{:x}-{id}", chrono::Utc::now().timestamp_micros());
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let now = chrono::Utc::now();
        let results: Vec<AgentResult> = (0..batch)
            .map(|k| {
                let m = next % monitors.len();
                next += 1;
                // One monitor in fifty is down (its site refuses connections), the rest up
                // with their page's latency; stamped a microsecond apart, oldest first (so each
                // monitor's results stay in time order from one batch to the next).
                let at = now - chrono::TimeDelta::microseconds((batch - k) as i64);
                if m % 50 == 7 {
                    AgentResult {
                        monitor: monitors[m].clone(),
                        checked_at: at,
                        outcome: "down".into(),
                        latency_ms: None,
                        status_code: None,
                        reason: Some("connection refused (os error 111)".into()),
                    }
                } else {
                    AgentResult {
                        monitor: monitors[m].clone(),
                        checked_at: at,
                        outcome: "up".into(),
                        latency_ms: Some(rng.u32(20..400)),
                        status_code: Some(200),
                        reason: None,
                    }
                }
            })
            .collect();
        let body = ResultBatch {
            batch: format!("{prefix}-{n}"),
            results,
        };
        let sent = body.results.len() as u64;
        let t = Instant::now();
        let res = http
            .post(format!("{base}/api/v1/agent/results"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await;
        let outcome = match res {
            Ok(r) if r.status().is_success() => match r.json::<serde_json::Value>().await {
                Ok(v) if v["replay"] == false => Ok(v["stored"].as_u64().unwrap_or(0)),
                Ok(v) => Err(format!("unexpected answer {v}")),
                Err(e) => Err(e.to_string()),
            },
            Ok(r) => {
                let status = r.status();
                Err(format!("{status}: {}", r.text().await.unwrap_or_default()))
            }
            Err(e) => Err(e.to_string()),
        };
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        if !counting.load(Ordering::Relaxed) {
            continue;
        }
        match outcome {
            Ok(stored) => {
                tally.stored += stored;
                tally.batches += 1;
                tally.latencies_ms.push(ms);
                if stored != sent {
                    tally.first_failure.get_or_insert(format!(
                        "batch of {sent} acknowledged with {stored} stored"
                    ));
                }
            }
            Err(e) => {
                tally.failed += 1;
                tally.first_failure.get_or_insert(e);
            }
        }
    }
    tally
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let agents = num(&args, "--agents", if quick { 2 } else { 4 })?.max(1) as usize;
    let monitors = num(&args, "--monitors", if quick { 100 } else { 1000 })?.max(1) as usize;
    let batch = num(&args, "--batch", 100)?.clamp(1, store::agents::MAX_BATCH as u64) as usize;
    let seconds = num(&args, "--seconds", if quick { 3 } else { 30 })?.max(1);
    let warmup = if quick { 1 } else { 5 };
    if monitors < agents {
        bail!("--monitors must be at least --agents");
    }

    let dir = tempfile::tempdir()?;
    let db_url = arg(&args, "--database-url").unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("vigie.db").display()
        )
    });
    let backend = if db_url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let config = dir.path().join("bench.toml");
    std::fs::write(&config, catalog_toml(agents, monitors))?;
    let catalog = server::config::load(&config).map_err(|e| anyhow::anyhow!("{e}"))?;
    let rt = tokio::runtime::Runtime::new()?;

    // The database as `vigie serve` prepares it, and one agent token per location (as
    // `vigie agent-token create` makes them).
    let tokens = rt.block_on(async {
        let db = server::startup::prepare_database(&catalog, &db_url).await?;
        let mut tokens = Vec::new();
        for a in 0..agents {
            let (token, _) = store::tokens::agent::create_token(
                &db,
                &format!("agent-{a}"),
                "bench",
                &store::audit::Actor::cli(),
                chrono::Utc::now(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("agent token: {e:?}"))?;
            tokens.push(token);
        }
        db.close().await?;
        anyhow::Ok(tokens)
    })?;

    if cfg!(debug_assertions) {
        println!(
            "WARNING: a debug build (`cargo test --bench ingest`): the harness runs, but its \
             figures are not figures. `make bench-ingest` measures the release build."
        );
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let log = dir.path().join("vigie.log");
    let server = start_vigie(&config, &db_url, port, &log)?;
    let pid = server.0.id().to_string();
    let base = format!("http://127.0.0.1:{port}");
    let ready = rt.block_on(async {
        let http = reqwest::Client::new();
        for _ in 0..600 {
            if let Ok(r) = http.get(format!("{base}/api/v1/locations")).send().await {
                if r.status().is_success() {
                    return true;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    });
    if !ready {
        let mut text = String::new();
        std::fs::File::open(&log)?.read_to_string(&mut text)?;
        bail!("vigie did not answer within 60 s; its log:\n{text}");
    }

    let counting = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = tokens
        .into_iter()
        .enumerate()
        .map(|(a, token)| {
            let mine = (0..monitors)
                .filter(|s| s % agents == a)
                .map(|s| format!("service/service-{s}/home"))
                .collect();
            rt.spawn(agent(
                base.clone(),
                token,
                a,
                mine,
                batch,
                counting.clone(),
                stop.clone(),
            ))
        })
        .collect();
    std::thread::sleep(Duration::from_secs(warmup));
    let own = std::process::id().to_string();
    let (cpu0, own0) = (cpu_seconds(&pid), cpu_seconds(&own));
    let started = Instant::now();
    counting.store(true, Ordering::Relaxed);
    std::thread::sleep(Duration::from_secs(seconds));
    counting.store(false, Ordering::Relaxed);
    let wall = started.elapsed().as_secs_f64();
    let (cpu1, own1) = (cpu_seconds(&pid), cpu_seconds(&own));
    stop.store(true, Ordering::Relaxed);
    let tallies: Vec<Tally> = rt.block_on(async {
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await?);
        }
        anyhow::Ok(out)
    })?;
    let peak = peak_rss_mb(&pid);
    drop(server);

    let stored: u64 = tallies.iter().map(|t| t.stored).sum();
    let batches: u64 = tallies.iter().map(|t| t.batches).sum();
    let failed: u64 = tallies.iter().map(|t| t.failed).sum();
    let mut lat: Vec<f64> = tallies
        .iter()
        .flat_map(|t| t.latencies_ms.iter().copied())
        .collect();
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        lat.get(((lat.len().max(1) - 1) as f64 * p).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as f64;
    println!(
        "{backend}, {} build, {cores} cores: {agents} agents × {} monitors, batches of {batch} \
         results, {wall:.0} s after a {warmup} s warm-up",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        monitors / agents,
    );
    println!(
        "ingest: {:.0} results/s stored ({stored} results in {batches} batches, {failed} \
         batches failed); central: CPU {:.0}% of {cores} cores, peak RSS {peak:.0} MB; load \
         generator: CPU {:.0}% of {cores} cores; batch latency p50 {:.1} ms, p99 {:.1} ms, \
         max {:.1} ms",
        stored as f64 / wall,
        (cpu1 - cpu0) / wall / cores * 100.0,
        (own1 - own0) / wall / cores * 100.0,
        pct(0.5),
        pct(0.99),
        pct(1.0),
    );
    if let Some(why) = tallies.iter().find_map(|t| t.first_failure.clone()) {
        println!("first problem: {why}");
    }
    if batches == 0 {
        bail!("no batch was stored");
    }
    if failed > 0 {
        bail!("{failed} batches failed");
    }
    Ok(())
}
