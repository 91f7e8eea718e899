//! Probe engine benchmark (not a test): N HTTP monitors at one interval against a fast loopback
//! server run in a child process, for a given time, on SQLite or PostgreSQL. Prints one line:
//! monitors, checks/s, CPU % of 2 cores and CPU time per check, peak RSS while the catalog is
//! parsed and synced, RSS when the engine starts, peak RSS from then on (`peak_rss_probing`;
//! `peak_rss`, the whole run's, where the peak cannot be reset) and RSS at the end, schedule
//! lag p50 / p99, database write latency p99, checks done against checks due, the CPU per
//! check in the steady state (after the first interval, when the run is longer) and the
//! machine's load average.
//!
//! `cargo bench -p probe --bench probes -- [--monitors 10000] [--seconds 180]
//!  [--interval 30s] [--database-url URL]`

use std::io::{BufRead, BufReader, Write as _};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use probe::engine::{self, EngineConfig};

/// The allocator `vigie` runs with (server/src/main.rs), so memory and CPU are measured as
/// they are in production.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// The loopback target, in its own process so its CPU is not counted against the engine.
fn serve_target() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let app = axum::Router::new().fallback(|| async { "ok" });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("{}", listener.local_addr()?);
        std::io::stdout().flush()?;
        axum::serve(listener, app).await?;
        anyhow::Ok(())
    })
}

/// A `kB` field of /proc/self/status (`VmHWM`, `VmRSS`).
fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU seconds (user + system) and peak RSS (kB) of this process, from /proc.
fn usage() -> (f64, u64) {
    let cpu = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let after = s.rsplit_once(')')?.1.to_owned();
            let f: Vec<&str> = after.split_whitespace().collect();
            let utime: f64 = f.get(11)?.parse().ok()?;
            let stime: f64 = f.get(12)?.parse().ok()?;
            Some((utime + stime) / 100.0)
        })
        .unwrap_or(0.0);
    (cpu, status_kb("VmHWM:"))
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--serve-target") {
        return serve_target();
    }
    let monitors: usize = arg(&args, "--monitors").map_or(Ok(10_000), |v| v.parse())?;
    let seconds: u64 = arg(&args, "--seconds").map_or(Ok(180), |v| v.parse())?;
    let interval = arg(&args, "--interval").unwrap_or_else(|| "30s".into());
    let interval_d = humantime::parse_duration(&interval).context("bad --interval")?;

    let mut child = Command::new(std::env::current_exe()?)
        .arg("--serve-target")
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot start the target server")?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("no stdout")?).read_line(&mut line)?;
    let target = line.trim().to_owned();

    let dir = tempfile::tempdir()?;
    let url = arg(&args, "--database-url").unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        )
    });
    let mut text =
        String::from("[site]\ntitle = \"Bench\"\n[[groups]]\nid = \"g\"\nname = \"G\"\n");
    for i in 0..monitors {
        text.push_str(&format!(
            "[[services]]\nid = \"s{i}\"\nname = \"S{i}\"\ngroup = \"g\"\n\
             [[services.monitors]]\nid = \"home\"\nkind = \"http\"\ntarget = \"http://{target}/s{i}\"\ninterval = \"{interval}\"\n"
        ));
    }
    let catalog = domain::config::parse("bench.toml", &text).map_err(|e| anyhow::anyhow!("{e}"))?;
    // As `vigie serve`, which keeps the catalog, not the file's text.
    drop(text);

    // The recorder `vigie serve` installs, folded every 5 s as there: the checks' metrics
    // cost here what they cost in production.
    let mut recorder = metrics_exporter_prometheus::PrometheusBuilder::new();
    for (name, buckets) in probe::stats::BUCKETS {
        recorder = recorder.set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Full((*name).to_owned()),
            buckets,
        )?;
    }
    let metrics = recorder.install_recorder()?;
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_secs(5));
        metrics.run_upkeep();
    });

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = rt.block_on(async {
        // Migrated and synced, as `vigie serve` prepares it.
        let db = store::connect(&url).await?;
        store::migrate(&db).await?;
        store::catalog::sync(&db, &catalog, chrono::Utc::now()).await?;
        let cfg = EngineConfig::for_catalog(&catalog, None);
        let rss_start_kb = status_kb("VmRSS:");
        // The peak so far is the configuration's parsing and sync; the peak is then reset
        // (Linux: `5` to clear_refs) so the engine's own peak is measured apart.
        let setup_peak_kb = status_kb("VmHWM:");
        let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        let running = engine::start(Arc::new(catalog), db, cfg).await?;
        let stats = running.stats();
        let (cpu0, _) = usage();
        let started = Instant::now();
        // After the first interval every monitor has its first result (on a fresh database,
        // each one a status change): from then on the engine runs in its steady state, which
        // is measured apart too when the run is longer than one interval.
        let total = Duration::from_secs(seconds);
        let steady = if total > interval_d {
            tokio::time::sleep(interval_d).await;
            let (cpu, _) = usage();
            let checks = stats.checks.load(std::sync::atomic::Ordering::Relaxed);
            Some((Instant::now(), cpu, checks))
        } else {
            None
        };
        tokio::time::sleep(total.saturating_sub(started.elapsed())).await;
        let ended = Instant::now();
        let wall = ended.duration_since(started).as_secs_f64();
        let (cpu1, hwm_kb) = usage();
        let rss_end_kb = status_kb("VmRSS:");
        let checks = stats.checks.load(std::sync::atomic::Ordering::Relaxed);
        let due = (monitors as f64 * wall / interval_d.as_secs_f64()).floor() as u64;
        let steady = steady.map_or_else(
            || "steady_state=none (run not longer than one interval)".to_owned(),
            |(at, cpu, done)| {
                let checks = checks.saturating_sub(done);
                let span = ended.duration_since(at).as_secs_f64();
                format!(
                    "steady_state(after the first interval, {:.0}s)=[cpu={:.1}% of 2 cores cpu_per_check={:.3} ms]",
                    span,
                    (cpu1 - cpu) / span / 2.0 * 100.0,
                    (cpu1 - cpu) * 1000.0 / checks.max(1) as f64,
                )
            },
        );
        let q = |h: &probe::stats::Histogram, q: f64| {
            h.quantile_ms(q)
                .map_or_else(|| ">30000 ms".to_owned(), |v| format!("≤{v} ms"))
        };
        println!(
            "backend={} monitors={monitors} interval={interval} run={wall:.0}s checks/s={:.1} \
             cpu={:.1}% of 2 cores cpu_per_check={:.3} ms setup_peak_rss={} MB rss_at_start={} MB \
             peak_rss{}={} MB rss_at_end={} MB lag_p50={} lag_p99={} db_write_p99={} checks={checks} due≈{due} \
             write_errors={} {steady} load_average={}",
            if url.starts_with("postgres") {
                "postgres"
            } else {
                "sqlite"
            },
            checks as f64 / wall,
            (cpu1 - cpu0) / wall / 2.0 * 100.0,
            (cpu1 - cpu0) * 1000.0 / checks.max(1) as f64,
            setup_peak_kb / 1024,
            rss_start_kb / 1024,
            if reset { "_probing" } else { "" },
            hwm_kb / 1024,
            rss_end_kb / 1024,
            q(&stats.lag, 0.5),
            q(&stats.lag, 0.99),
            q(&stats.write, 0.99),
            stats
                .write_errors
                .load(std::sync::atomic::Ordering::Relaxed),
            std::fs::read_to_string("/proc/loadavg")
                .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
                .unwrap_or_default(),
        );
        drop(running);
        anyhow::Ok(())
    });
    let _ = child.kill();
    let _ = child.wait();
    result
}
