//! Abuse benchmark (not a test): what a hostile client costs the server.
//!
//! The server runs in a child process (this same binary, `--serve`), so its memory and file
//! handles are its own. Two measures, one after the other:
//!
//! 1. **Sign-in flood**: 64 clients post wrong passwords as fast as they can for 20 s, each
//!    request from a fresh loopback address (the worst case: no throttling counter ever
//!    reaches its limit, so every request asks for an argon2 verification). Reports the
//!    server's peak and final resident memory (target: under 300 MB), and how many attempts
//!    were checked (401) or told to come back (429).
//! 2. **Idle sockets**: 20,000 connections opened from one address (127.0.0.2) and left idle
//!    by two holder processes (one process cannot hold them all under a 20,000 file-handle
//!    limit), then 200 requests for `/` from another address. Reports the latency of `/`
//!    (target: p99 under 50 ms), the connections the server kept and its file handles.
//!
//! `make bench-abuse` installs wrk when missing and runs `cargo bench -p server --bench abuse --
//! [--flood-seconds 60] [--clients 64] [--seconds 20] [--sockets 20000]`.

#[path = "common/estate.rs"]
mod estate;
#[path = "common/support.rs"]
mod support;

use std::io::{BufRead, BufReader, Read};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use support::{num, Killed};

const PASSWORD: &str = "correct horse battery staple";

/// `--serve DB_URL CONFIG`: the server, probes off, on 127.0.0.1:0; prints its address and
/// runs until killed.
fn serve(db_url: &str, config: &str) -> anyhow::Result<()> {
    std::env::set_var("VIGIE_PROBES", "off");
    let catalog =
        server::config::load(std::path::Path::new(config)).map_err(|e| anyhow::anyhow!("{e}"))?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let running = server::startup::spawn(&catalog, db_url, "127.0.0.1:0".parse()?).await?;
        println!("ADDR {}", running.addr);
        running.task.await??;
        anyhow::Ok(())
    })
}

/// `--hold ADDR FROM N`: opens N connections to ADDR from FROM and keeps them until killed.
fn hold(addr: &str, from: &str, n: u64) -> anyhow::Result<()> {
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let addr: SocketAddr = addr.parse()?;
    let from: IpAddr = from.parse()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let held = rt.block_on(async {
        let mut held = Vec::new();
        for _ in 0..n {
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.bind(SocketAddr::new(from, 0))?;
            match socket.connect(addr).await {
                Ok(stream) => held.push(stream),
                Err(e) => {
                    eprintln!("holder: connection {} failed: {e}", held.len());
                    break;
                }
            }
        }
        anyhow::Ok(held)
    })?;
    println!("HELD {}", held.len());
    std::thread::sleep(Duration::from_secs(3600));
    Ok(())
}

/// Resident memory of `pid`, in MB.
fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

fn start_server(db_url: &str, config: &std::path::Path) -> anyhow::Result<(Killed, String)> {
    let mut child = Command::new(std::env::current_exe()?)
        .args(["--serve", db_url])
        .arg(config)
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().context("server stdout")?;
    let child = Killed(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let Some(addr) = line.trim().strip_prefix("ADDR ") else {
        bail!("the server did not start: {line:?}");
    };
    Ok((child, addr.to_owned()))
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--serve") {
        let get = |k| args.get(i + k).context("--serve DB_URL CONFIG");
        return serve(get(1)?, get(2)?);
    }
    if let Some(i) = args.iter().position(|a| a == "--hold") {
        let get = |k| args.get(i + k).context("--hold ADDR FROM N");
        return hold(get(1)?, get(2)?, get(3)?.parse()?);
    }
    let flood_seconds = num(&args, "--flood-seconds", 60)?;
    let clients = num(&args, "--clients", 64)?;
    let seconds = num(&args, "--seconds", 20)?;
    let sockets = num(&args, "--sockets", 20_000)?;

    let dir = tempfile::tempdir()?;
    let db_url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("vigie.db").display()
    );
    let config = dir.path().join("bench.toml");
    std::fs::write(&config, estate::catalog_toml())?;
    let catalog = server::config::load(&config).map_err(|e| anyhow::anyhow!("{e}"))?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let db = server::startup::prepare_database(&catalog, &db_url).await?;
        estate::seed(&db).await?;
        let hash = store::users::hash_password(PASSWORD)?;
        store::users::create(
            &db,
            "alice@example.org",
            domain::staff::Role::Admin,
            &hash,
            &store::audit::Actor::cli(),
            chrono::Utc::now(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        anyhow::Ok(())
    })?;
    if cfg!(debug_assertions) {
        println!(
            "WARNING: a debug build (`cargo test --bench abuse`): the harness runs, but its \
             figures are not figures. `make bench-abuse` measures the release build."
        );
    }
    let (server, addr) = start_server(&db_url, &config)?;
    let pid = server.0.id();
    let base = format!("http://{addr}");
    println!(
        "Vigie (release build) in its own process; {} cores on this machine",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{} services, 90 days of history; idle server: {:.0} MB resident",
        estate::SERVICES,
        rss_mb(pid)
    );

    // 1. Query-string flood.
    query_flood(&rt, &base, pid, dir.path(), flood_seconds)?;

    // 2. Sign-in flood.
    let before = rss_mb(pid);
    let checked = Arc::new(AtomicU64::new(0));
    let busy = Arc::new(AtomicU64::new(0));
    let other = Arc::new(AtomicU64::new(0));
    let peak = rt.block_on(async {
        let stop = Instant::now() + Duration::from_secs(seconds);
        let mut tasks = Vec::new();
        for c in 0..clients {
            let (base, checked, busy, other) =
                (base.clone(), checked.clone(), busy.clone(), other.clone());
            tasks.push(tokio::spawn(async move {
                let mut n: u32 = 0;
                while Instant::now() < stop {
                    n += 1;
                    // A fresh address each time: 127.<client>.<n>.
                    let from = Ipv4Addr::new(127, (c % 250 + 1) as u8, (n >> 8) as u8, n as u8);
                    let Ok(client) = reqwest::Client::builder()
                        .local_address(IpAddr::V4(from))
                        .timeout(Duration::from_secs(30))
                        .build()
                    else {
                        continue;
                    };
                    let email = if n.is_multiple_of(2) {
                        "alice@example.org".to_owned()
                    } else {
                        format!("{:016x}@example.net", fastrand::u64(..))
                    };
                    let res = client
                        .post(format!("{base}/admin/login"))
                        .header("cookie", "vigie_login_csrf=pair")
                        .form(&[
                            ("csrf", "pair"),
                            ("email", email.as_str()),
                            ("password", "wrong password"),
                        ])
                        .send()
                        .await;
                    let counter = match res.map(|r| r.status().as_u16()) {
                        Ok(401) => &checked,
                        Ok(429) => &busy,
                        _ => &other,
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        let mut peak: f64 = 0.0;
        while Instant::now() < stop {
            peak = peak.max(rss_mb(pid));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        for t in tasks {
            let _ = t.await;
        }
        peak.max(rss_mb(pid))
    });
    std::thread::sleep(Duration::from_secs(2));
    let after = rss_mb(pid);
    println!(
        "sign-in flood, {clients} clients × {seconds} s, a fresh source address each time and a \
         fresh e-mail address every other time: {before:.0} MB before, peak {peak:.0} MB, \
         {after:.0} MB after, grew {:+.0} MB (targets: peak < 300 MB, growth < 50 MB); {} checked \
         (401), {} told to come back (429), {} other",
        after - before,
        checked.load(Ordering::Relaxed),
        busy.load(Ordering::Relaxed),
        other.load(Ordering::Relaxed),
    );

    // 3. Idle sockets from one address, then `/` from another.
    let per_holder = sockets.div_ceil(2);
    let mut holders = Vec::new();
    let mut held = 0;
    for _ in 0..2 {
        let mut child = Command::new(std::env::current_exe()?)
            .args(["--hold", &addr, "127.0.0.2", &per_holder.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut out = String::new();
        let mut stdout = child.stdout.take().context("holder stdout")?;
        let holder = Killed(child);
        let mut byte = [0u8; 1];
        while stdout.read(&mut byte)? == 1 && byte[0] != b'\n' {
            out.push(byte[0] as char);
        }
        held += out
            .trim()
            .strip_prefix("HELD ")
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
        holders.push(holder);
    }
    std::thread::sleep(Duration::from_millis(500));
    let files = open_files(pid);
    let mut latencies = rt.block_on(async {
        let client = reqwest::Client::builder()
            .local_address(IpAddr::V4(Ipv4Addr::LOCALHOST))
            .timeout(Duration::from_secs(30))
            .build()?;
        let mut out = Vec::new();
        for _ in 0..200 {
            let t = Instant::now();
            let res = client.get(format!("{base}/")).send().await?;
            let ok = res.status().is_success();
            res.bytes().await?;
            if !ok {
                bail!("`/` did not answer 200 with the sockets open");
            }
            out.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        anyhow::Ok(out)
    })?;
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize];
    println!(
        "{held} sockets opened from 127.0.0.2 and left idle; the server holds {files} file \
         handles; `/` from 127.0.0.1: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (target < 50 ms)",
        pct(0.5),
        pct(0.99),
        pct(1.0),
    );
    drop(holders);
    drop(server);
    Ok(())
}

/// The query-string flood: wrk asks for `/` with a query string and an `Accept-Language` new
/// on every request while the server's resident memory is sampled.
fn query_flood(
    rt: &tokio::runtime::Runtime,
    base: &str,
    pid: u32,
    dir: &std::path::Path,
    seconds: u64,
) -> anyhow::Result<()> {
    if Command::new("wrk").arg("--version").output().is_err() {
        bail!("wrk is not installed (`make bench-abuse` installs it)");
    }
    // Warm the page cache with what readers ask for, so the baseline holds a rendering.
    rt.block_on(async {
        let client = reqwest::Client::new();
        for _ in 0..50 {
            client.get(format!("{base}/")).send().await?.bytes().await?;
        }
        anyhow::Ok(())
    })?;
    let script = dir.join("flood.lua");
    std::fs::write(
        &script,
        r#"
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
local n = 0
function request()
  n = n + 1
  return wrk.format("GET", "/?b=" .. id .. "-" .. n, { ["Accept-Language"] = "x-" .. id .. n })
end
"#,
    )?;
    let before = rss_mb(pid);
    let mut wrk = Command::new("wrk")
        .args(["-t2", "-c32", &format!("-d{seconds}s"), "-s"])
        .arg(&script)
        .arg(format!("{base}/"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("cannot start wrk")?;
    let mut peak = before;
    while wrk.try_wait()?.is_none() {
        peak = peak.max(rss_mb(pid));
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut out = String::new();
    if let Some(mut stdout) = wrk.stdout.take() {
        stdout.read_to_string(&mut out)?;
    }
    std::thread::sleep(Duration::from_secs(5));
    let after = rss_mb(pid);
    let rate = out
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .map_or("?", str::trim)
        .to_owned();
    let non_2xx = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("Non-2xx or 3xx responses:"))
        .map_or("0", str::trim)
        .to_owned();
    println!(
        "query-string flood, wrk -t2 -c32 -d{seconds}s, a new query string and Accept-Language on \
         every request to `/`: {rate} req/s ({non_2xx} not 2xx/3xx); {before:.0} MB before, peak \
         {peak:.0} MB, {after:.0} MB 5 s after, grew {:+.0} MB (target < 20 MB)",
        after - before
    );
    Ok(())
}
