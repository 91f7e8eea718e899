//! Public page benchmark (not a test): Vigie against nginx serving the same bytes.
//!
//! Builds a catalog of 100 services in 10 groups, records 90 days of status history (a few
//! outages a week, some partial, a maintenance window, incidents with updates), starts Vigie
//! on SQLite with probes off, saves what it serves at each path into a directory, starts
//! Debian's nginx on another loopback port serving those files, and runs `wrk` against both,
//! one after the other, with the same connections and duration. Prints req/s of both, the
//! ratio and latency p50 / p99 for each path.
//!
//! `make bench-page` installs wrk and nginx when missing and runs
//! `cargo bench -p server --bench page -- [--connections 256] [--seconds 10] [--threads 2]
//! [--save DIR]`; `--save` keeps a copy of the bytes served at each path in DIR.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};
use chrono::{TimeDelta, Utc};
use domain::config::Slug;
use domain::incident::{Impact, IncidentStatus};
use domain::status::{ComponentStatus, ServiceState};
use domain::topology::{Owner, StatusChange};

const SERVICES: usize = 100;
const GROUPS: usize = 10;
const PATHS: [&str; 2] = ["/", "/api/v2/summary.json"];

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn catalog_toml() -> String {
    let mut t = String::from(
        "[site]\ntitle = \"Bench — état des services\"\ntimezone = \"Europe/Paris\"\n\n",
    );
    for g in 0..GROUPS {
        t += &format!("[[groups]]\nid = \"group-{g}\"\nname = \"Groupe {g}\"\n\n");
    }
    for s in 0..SERVICES {
        t += &format!(
            "[[services]]\nid = \"service-{s}\"\nname = \"Service {s}\"\ngroup = \"group-{}\"\n\
             description = \"Le service numéro {s}.\"\n\n[[services.monitors]]\nkind = \"tcp\"\n\
             target = \"127.0.0.1:9\"\ninterval = \"60s\"\n\n",
            s % GROUPS
        );
    }
    t
}

/// 90 days of history: every service up from day one, then outages at pseudo-random times.
async fn seed(db: &store::Db) -> anyhow::Result<()> {
    let now = Utc::now();
    let start = now - TimeDelta::days(90);
    let mut changes = Vec::new();
    let mut rng = fastrand::Rng::with_seed(42);
    for s in 0..SERVICES {
        let slug = Slug::parse(&format!("service-{s}")).map_err(anyhow::Error::msg)?;
        let change = |at, to| StatusChange {
            subject: Owner::Service(slug.clone()),
            from: None,
            to: ServiceState::Known(to),
            cause: None,
            at,
        };
        changes.push(change(start, ComponentStatus::Operational));
        let mut at = start;
        loop {
            at += TimeDelta::hours(rng.i64(24..24 * 14));
            if at >= now - TimeDelta::hours(2) {
                break;
            }
            let kind = if rng.bool() {
                ComponentStatus::MajorOutage
            } else {
                ComponentStatus::PartialOutage
            };
            changes.push(change(at, kind));
            at += TimeDelta::minutes(rng.i64(5..240));
            changes.push(change(at, ComponentStatus::Operational));
        }
    }
    // In time order, as the engine writes them.
    changes.sort_by_key(|c| c.at);
    store::status::apply(db, &changes).await?;
    for i in 0..12 {
        let started = now - TimeDelta::days(7 * i + 1);
        let incident = store::incidents::open(
            db,
            &store::incidents::NewIncident {
                title: format!("Incident {i} : sites lents"),
                impact: Impact::Minor,
                status: IncidentStatus::Investigating,
                message: store::incidents::Message {
                    markdown: "Nous enquêtons.".into(),
                    html: "<p>Nous enquêtons.</p>".into(),
                },
                services: vec![(format!("service-{i}"), ComponentStatus::PartialOutage)],
                started_at: Some(started),
                notify: false,
            },
            &store::audit::Actor::cli(),
            started,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        if i > 0 {
            store::incidents::post_update(
                db,
                incident.id,
                &store::incidents::NewUpdate {
                    status: IncidentStatus::Resolved,
                    message: store::incidents::Message {
                        markdown: "Résolu.".into(),
                        html: "<p>Résolu.</p>".into(),
                    },
                    services: vec![],
                },
                &store::audit::Actor::cli(),
                started + TimeDelta::hours(2),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        }
    }
    Ok(())
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Starts nginx serving `root` on `port`, in its own prefix directory.
fn start_nginx(dir: &Path, root: &Path, port: u16) -> anyhow::Result<Killed> {
    let conf = dir.join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "daemon off;\nworker_processes 1;\nerror_log {dir}/error.log;\npid {dir}/nginx.pid;\n\
             events {{ worker_connections 4096; }}\n\
             http {{\n  access_log off;\n  types {{ text/html html; application/json json; }}\n\
               client_body_temp_path {dir}/tmp;\n  proxy_temp_path {dir}/tmp;\n\
               fastcgi_temp_path {dir}/tmp;\n  uwsgi_temp_path {dir}/tmp;\n  scgi_temp_path {dir}/tmp;\n\
               server {{\n    listen 127.0.0.1:{port};\n    root {root};\n    etag on;\n\
                 location = / {{ try_files /index.html =404; }}\n  }}\n}}\n",
            dir = dir.display(),
            root = root.display(),
        ),
    )?;
    std::fs::create_dir_all(dir.join("tmp"))?;
    let child = Command::new(nginx_bin())
        .arg("-c")
        .arg(&conf)
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

fn wrk(url: &str, threads: u64, connections: u64, seconds: u64) -> anyhow::Result<Run> {
    let out = Command::new("wrk")
        .args([
            "-t",
            &threads.to_string(),
            "-c",
            &connections.to_string(),
            "-d",
            &format!("{seconds}s"),
            "--latency",
            url,
        ])
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

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let connections = arg(&args, "--connections", 256);
    let seconds = arg(&args, "--seconds", 10);
    let threads = arg(&args, "--threads", 2);
    let save = args
        .iter()
        .position(|a| a == "--save")
        .and_then(|i| args.get(i + 1))
        .map(std::path::PathBuf::from);

    let dir = tempfile::tempdir()?;
    let db_url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("vigie.db").display()
    );
    let catalog =
        domain::config::parse("bench.toml", &catalog_toml()).map_err(|e| anyhow::anyhow!("{e}"))?;
    // Set before any thread exists: the page is measured, not the probes.
    std::env::set_var("VIGIE_PROBES", "off");
    std::env::set_var("RUST_LOG", "error");
    let rt = tokio::runtime::Runtime::new()?;
    let running = rt.block_on(async {
        let running = server::startup::spawn(&catalog, &db_url, "127.0.0.1:0".parse()?).await?;
        let db = store::connect(&db_url).await?;
        seed(&db).await?;
        running.hub.check(&db).await;
        anyhow::Ok(running)
    })?;
    let vigie = format!("http://{}", running.addr);

    // The same bytes, as static files.
    let root = dir.path().join("static");
    std::fs::create_dir_all(root.join("api/v2"))?;
    let mut present = Vec::new();
    for path in PATHS {
        let body = rt.block_on(async {
            let res = reqwest::get(format!("{vigie}{path}")).await?;
            let status = res.status();
            // What a browser downloads: the same path, brotli-compressed.
            let brotli = reqwest::Client::new()
                .get(format!("{vigie}{path}"))
                .header("accept-encoding", "br")
                .send()
                .await?
                .bytes()
                .await?
                .len();
            anyhow::Ok((status, res.bytes().await?, brotli))
        })?;
        if !body.0.is_success() {
            println!("{path}: Vigie answers {} — skipped", body.0);
            continue;
        }
        let file = if path == "/" {
            root.join("index.html")
        } else {
            root.join(path.trim_start_matches('/'))
        };
        std::fs::write(&file, &body.1)?;
        if let Some(save) = &save {
            std::fs::create_dir_all(save)?;
            std::fs::copy(&file, save.join(file.file_name().unwrap_or_default()))?;
        }
        present.push((path, body.1.len(), body.2));
    }
    let nginx_port = free_port()?;
    let _nginx = start_nginx(dir.path(), &root, nginx_port)?;
    std::thread::sleep(Duration::from_millis(500));
    let nginx = format!("http://127.0.0.1:{nginx_port}");

    // The server runs on the runtime's threads while wrk runs here.
    let _keep = rt.enter();
    println!(
        "{SERVICES} services, 90 days of history; wrk -t{threads} -c{connections} -d{seconds}s, \
         identity encoding, one after the other on this machine ({} cores)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    for (path, bytes, brotli) in present {
        let v = wrk(&format!("{vigie}{path}"), threads, connections, seconds)?;
        let n = wrk(&format!("{nginx}{path}"), threads, connections, seconds)?;
        println!(
            "{path} ({bytes} B, {brotli} B brotli): vigie {:.0} req/s p50 {:.2} ms p99 {:.2} ms | nginx {:.0} req/s \
             p50 {:.2} ms p99 {:.2} ms | vigie/nginx {:.0} %{}{}",
            v.rps,
            v.p50_ms,
            v.p99_ms,
            n.rps,
            n.p50_ms,
            n.p99_ms,
            100.0 * v.rps / n.rps,
            if v.errors.is_empty() {
                ""
            } else {
                " | vigie: "
            },
            v.errors,
        );
    }
    drop(running);
    Ok(())
}
