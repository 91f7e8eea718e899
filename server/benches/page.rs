//! Public page benchmark (not a test): Vigie against nginx serving the same bytes.
//!
//! Builds a catalog of 100 services in 10 groups, records 90 days of status history (a few
//! outages a week, some partial, a maintenance window, incidents with updates), then starts
//! the release `vigie serve` in its own process on SQLite with probes off, as an operator
//! would: its default log filter, so one access-log line per request goes to a file. It saves
//! what Vigie serves at each path (plain and gzip) into a directory, and starts Debian's nginx
//! on another loopback port serving those files in its usual configuration: as many worker
//! processes as Vigie has runtime threads, `sendfile on`, `tcp_nopush on`, an access log
//! written to a file, `gzip_static on` for the gzip copies (the nginx.conf used is printed and
//! saved with `--save`). Then `wrk`, on the same machine, against both one after the other,
//! with the same threads, connections, duration and `Accept-Encoding`, at each connection
//! count. Prints req/s, latency p50 / p99 of both and the ratio, for each path.
//!
//! `make bench-page` installs wrk and nginx when missing and runs
//! `cargo bench -p server --bench page -- [--connections 64,256] [--seconds 10]
//! [--threads 2] [--workers N] [--encoding gzip|identity] [--save DIR]`. `--workers` is
//! Vigie's runtime threads and nginx's worker processes (default: the machine's cores);
//! `--save` keeps the bytes served at each path and the nginx.conf in DIR.

#[path = "common/estate.rs"]
mod estate;
#[path = "common/support.rs"]
mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};
use axum::body::Bytes;
use support::{num, Killed};

const PATHS: [&str; 2] = ["/", "/api/v2/summary.json"];

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// nginx's configuration for the comparison: Debian's stock nginx.conf (sendfile, tcp_nopush,
/// an access log, gzip) with `gzip_static` so the gzip copy is served from its file as Vigie
/// serves it from memory, `workers` processes, and paths inside `dir`.
fn nginx_conf(dir: &Path, root: &Path, port: u16, workers: u64) -> String {
    format!(
        "daemon off;\n\
         worker_processes {workers};\n\
         pid {dir}/nginx.pid;\n\
         error_log {dir}/nginx-error.log;\n\
         events {{\n    worker_connections 4096;\n}}\n\
         http {{\n    sendfile on;\n    tcp_nopush on;\n    types_hash_max_size 2048;\n\
         \x20   types {{ text/html html; application/json json; }}\n\
         \x20   default_type application/octet-stream;\n\
         \x20   access_log {dir}/nginx-access.log;\n\
         \x20   gzip on;\n    gzip_static on;\n\
         \x20   client_body_temp_path {dir}/tmp;\n    proxy_temp_path {dir}/tmp;\n\
         \x20   fastcgi_temp_path {dir}/tmp;\n    uwsgi_temp_path {dir}/tmp;\n\
         \x20   scgi_temp_path {dir}/tmp;\n\
         \x20   server {{\n        listen 127.0.0.1:{port};\n        root {root};\n    }}\n}}\n",
        dir = dir.display(),
        root = root.display(),
    )
}

/// Starts nginx with `conf` in its own prefix directory `dir`.
fn start_nginx(dir: &Path, conf: &str) -> anyhow::Result<Killed> {
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf)?;
    std::fs::create_dir_all(dir.join("tmp"))?;
    let child = Command::new(nginx_bin())
        .arg("-c")
        .arg(&path)
        .arg("-p")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("cannot start nginx: run `make bench-page`, which installs it")?;
    Ok(Killed(child))
}

fn nginx_bin() -> &'static str {
    if Path::new("/usr/sbin/nginx").exists() {
        "/usr/sbin/nginx"
    } else {
        "nginx"
    }
}

/// Starts the release `vigie serve` on `port` with `workers` runtime threads, its log (the
/// access log included) written to `log`.
fn start_vigie(
    config: &Path,
    db_url: &str,
    port: u16,
    workers: u64,
    log: &Path,
) -> anyhow::Result<Killed> {
    let child = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("--config")
        .arg(config)
        .args(["--database-url", db_url, "serve", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .env("VIGIE_PROBES", "off")
        .env("TOKIO_WORKER_THREADS", workers.to_string())
        // Its default filter: info, so one access-log line per request.
        .env_remove("RUST_LOG")
        .env_remove("VIGIE_LOG_FORMAT")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log)?)
        .spawn()
        .context("cannot start vigie")?;
    Ok(Killed(child))
}

/// Waits until `url` answers 200, for at most 30 s.
async fn ready(client: &reqwest::Client, url: &str) -> anyhow::Result<()> {
    for _ in 0..300 {
        if let Ok(r) = client.get(url).send().await {
            if r.status().is_success() {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("{url} did not answer within 30 s")
}

/// One wrk run: requests per second and latency percentiles (ms).
struct Run {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: String,
}

fn millis(v: &str) -> Option<f64> {
    let (num, unit) = v.split_at(v.find(|c: char| c.is_alphabetic())?);
    let n: f64 = num.parse().ok()?;
    Some(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => return None,
    })
}

/// What `wrk` is given besides the URL.
struct Load<'a> {
    threads: u64,
    connections: u64,
    seconds: u64,
    accept_encoding: Option<&'a str>,
}

fn wrk(url: &str, load: &Load) -> anyhow::Result<Run> {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t",
        &load.threads.to_string(),
        "-c",
        &load.connections.to_string(),
        "-d",
        &format!("{}s", load.seconds),
        "--latency",
    ]);
    if let Some(enc) = load.accept_encoding {
        cmd.args(["-H", &format!("Accept-Encoding: {enc}")]);
    }
    let out = cmd
        .arg(url)
        .output()
        .context("cannot run wrk: run `make bench-page`, which installs it")?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!("wrk failed: {text}{}", String::from_utf8_lossy(&out.stderr));
    }
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(1))
            .map(str::to_owned)
    };
    let rps = field("Requests/sec:")
        .and_then(|v| v.parse().ok())
        .context("wrk printed no Requests/sec")?;
    let p50 = field("50%").and_then(|v| millis(&v)).unwrap_or(f64::NAN);
    let p99 = field("99%").and_then(|v| millis(&v)).unwrap_or(f64::NAN);
    let errors = text
        .lines()
        .filter(|l| l.contains("Non-2xx") || l.contains("Socket errors"))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("; ");
    Ok(Run {
        rps,
        p50_ms: p50,
        p99_ms: p99,
        errors,
    })
}

/// The body `url` answers with `accept_encoding` (raw bytes: reqwest decompresses nothing
/// here), and the `Content-Encoding` it was sent with.
async fn fetch(
    client: &reqwest::Client,
    url: &str,
    accept_encoding: Option<&str>,
) -> anyhow::Result<(Bytes, Option<String>)> {
    let mut req = client.get(url);
    if let Some(enc) = accept_encoding {
        req = req.header("accept-encoding", enc);
    }
    let res = req.send().await?;
    if !res.status().is_success() {
        bail!("{url} answered {}", res.status());
    }
    let encoding = res
        .headers()
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Ok((res.bytes().await?, encoding))
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let connections: Vec<u64> = args
        .iter()
        .position(|a| a == "--connections")
        .and_then(|i| args.get(i + 1))
        .map_or_else(
            || vec![64, 256],
            |v| v.split(',').filter_map(|c| c.trim().parse().ok()).collect(),
        );
    let seconds = num(&args, "--seconds", 10)?;
    let threads = num(&args, "--threads", 2)?;
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u64);
    let workers = num(&args, "--workers", cores)?;
    let encoding = args
        .iter()
        .position(|a| a == "--encoding")
        .and_then(|i| args.get(i + 1))
        .map_or("gzip", String::as_str);
    let accept_encoding = match encoding {
        "gzip" => Some("gzip"),
        "identity" => None,
        other => bail!("--encoding {other}: gzip or identity"),
    };
    let save = args
        .iter()
        .position(|a| a == "--save")
        .and_then(|i| args.get(i + 1))
        .map(std::path::PathBuf::from);

    if cfg!(debug_assertions) {
        println!(
            "WARNING: a debug build (`cargo test --bench page`): the harness runs, but its \
             figures are not figures. `make bench-page` measures the release build."
        );
    }
    let dir = tempfile::tempdir()?;
    // nginx's workers may run as another user: they must be able to read the files.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))?;
    let db_url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("vigie.db").display()
    );
    let config = dir.path().join("bench.toml");
    std::fs::write(&config, estate::catalog_toml())?;
    let catalog = server::config::load(&config).map_err(|e| anyhow::anyhow!("{e}"))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let db = server::startup::prepare_database(&catalog, &db_url).await?;
        estate::seed(&db).await?;
        drop(db);
        anyhow::Ok(())
    })?;

    let vigie_port = free_port()?;
    let vigie_log = dir.path().join("vigie.log");
    let _vigie = start_vigie(&config, &db_url, vigie_port, workers, &vigie_log)?;
    let vigie = format!("http://127.0.0.1:{vigie_port}");
    let client = reqwest::Client::new();
    rt.block_on(ready(&client, &format!("{vigie}/healthz")))?;

    // The same bytes, as static files: plain, and the gzip copy beside it for gzip_static.
    let root = dir.path().join("static");
    std::fs::create_dir_all(root.join("api/v2"))?;
    let mut sizes = Vec::new();
    for path in PATHS {
        let (plain, gzip, brotli) = rt.block_on(async {
            let url = format!("{vigie}{path}");
            let plain = fetch(&client, &url, None).await?;
            let gzip = fetch(&client, &url, Some("gzip")).await?;
            let brotli = fetch(&client, &url, Some("br")).await?;
            anyhow::Ok((plain, gzip, brotli))
        })?;
        if plain.1.is_some() || gzip.1.as_deref() != Some("gzip") {
            bail!("{path}: Vigie did not answer plain and gzip as asked");
        }
        let file = if path == "/" {
            root.join("index.html")
        } else {
            root.join(path.trim_start_matches('/'))
        };
        std::fs::write(&file, &plain.0)?;
        let mut gz = file.clone().into_os_string();
        gz.push(".gz");
        std::fs::write(&gz, &gzip.0)?;
        if let Some(save) = &save {
            std::fs::create_dir_all(save)?;
            std::fs::copy(&file, save.join(file.file_name().unwrap_or_default()))?;
        }
        sizes.push((path, plain.0.len(), gzip.0.len(), brotli.0.len()));
    }
    let nginx_port = free_port()?;
    let conf = nginx_conf(dir.path(), &root, nginx_port, workers);
    let _nginx = start_nginx(dir.path(), &conf)?;
    let nginx = format!("http://127.0.0.1:{nginx_port}");
    rt.block_on(async {
        ready(&client, &format!("{nginx}/")).await?;
        // nginx must serve byte for byte what Vigie serves, in the measured encoding.
        for path in PATHS {
            let v = fetch(&client, &format!("{vigie}{path}"), accept_encoding).await?;
            let n = fetch(&client, &format!("{nginx}{path}"), accept_encoding).await?;
            if v != n {
                bail!("{path}: nginx does not serve the bytes Vigie serves ({encoding})");
            }
        }
        anyhow::Ok(())
    })?;
    if let Some(save) = &save {
        std::fs::write(save.join("nginx.conf"), &conf)?;
    }

    println!(
        "{} services, 90 days of history. This machine: {cores} cores. vigie serve \
         ({}, SQLite, probes off, {workers} runtime threads, access log to a file) and \
         nginx {} ({workers} worker processes, sendfile on, access log to a file, gzip_static), \
         one after the other; wrk -t{threads} -d{seconds}s{} on the same machine.",
        estate::SERVICES,
        if cfg!(debug_assertions) {
            "DEBUG build"
        } else {
            "release"
        },
        nginx_version(),
        accept_encoding.map_or(String::new(), |e| format!(" -H 'Accept-Encoding: {e}'")),
    );
    println!("nginx.conf:\n{conf}");
    for (path, plain, gzip, brotli) in &sizes {
        println!("{path}: {plain} B plain, {gzip} B gzip, {brotli} B brotli");
    }
    println!(
        "| path | connections | vigie req/s | vigie p50 / p99 ms | nginx req/s | nginx p50 / p99 ms | vigie/nginx |"
    );
    println!("|---|---|---|---|---|---|---|");
    for path in PATHS {
        for &c in &connections {
            let load = Load {
                threads,
                connections: c,
                seconds,
                accept_encoding,
            };
            let v = wrk(&format!("{vigie}{path}"), &load)?;
            let n = wrk(&format!("{nginx}{path}"), &load)?;
            println!(
                "| `{path}` | {c} | {:.0} | {:.2} / {:.2} | {:.0} | {:.2} / {:.2} | {:.2}× |{}",
                v.rps,
                v.p50_ms,
                v.p99_ms,
                n.rps,
                n.p50_ms,
                n.p99_ms,
                v.rps / n.rps,
                [("vigie", &v.errors), ("nginx", &n.errors)]
                    .iter()
                    .filter(|(_, e)| !e.is_empty())
                    .map(|(who, e)| format!(" {who}: {e}"))
                    .collect::<String>(),
            );
        }
    }
    let lines = std::fs::read_to_string(&vigie_log).map_or(0, |l| {
        l.lines().filter(|l| l.contains("vigie::access")).count()
    });
    println!("vigie wrote {lines} access-log lines");
    Ok(())
}

fn nginx_version() -> String {
    Command::new(nginx_bin())
        .arg("-v")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stderr).trim().to_owned())
        .and_then(|v| v.rsplit('/').next().map(str::to_owned))
        .unwrap_or_default()
}
