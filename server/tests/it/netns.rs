//! The Humanoid outage replayed across real networks: Linux network namespaces joined by veth
//! pairs, a bridge and two routers, so that every probe, every agent's upload and every page
//! request crosses real interfaces, and a cut is a link set down as the hoster did it.
//!
//! ```text
//!   phys-1 10.231.1.11 ─┐                        ┌─ offsite 10.231.2.2: `vigie serve` (location offsite)
//!   phys-2 10.231.1.12 ─┤ hoster: bridge br      │
//!   phys-3 10.231.1.13 ─┼─ 10.231.1.1 ── uplink ── net (the internet, a router)
//!   rack   10.231.1.20 ─┘   (router)             │  └─ away 10.231.4.2: agent `away`, the reader
//!     └─ rack's own uplink 10.231.3.2 ───────────┘
//! ```
//!
//! Each physical host serves its sites (HTTP on port 80, a greeting on 22 and 3306) from a
//! thread that entered its namespace; central is the real `vigie serve` binary and the two
//! agents the real `vigie-agent` binary, each started with `ip netns exec`: one inside `rack`
//! (location `hoster`, on the hoster's LAN), one inside `away` (location `away`). The agent
//! binary is `VIGIE_AGENT_BIN`, else the one cargo builds beside `vigie` (`cargo build -p
//! agent` is run first with the test's own profile and target directory, so it is never
//! stale). The test's own requests leave from `away`.
//!
//! It runs on SQLite, and again on PostgreSQL when `VIGIE_TEST_POSTGRES_URL` is set (required
//! with `VIGIE_REQUIRE_POSTGRES=1`): central, inside `offsite`, reaches the server through its
//! Unix socket (asked of the server: `unix_socket_directories`), which no network namespace
//! hides, in a fresh database.
//!
//! The hoster cuts phys-1 and phys-2 (their bridge ports down) and the rack's uplink: exactly
//! their services go to major outage with the host as cause, phys-3's stay up, the rack's
//! location goes stale and turns nothing red; the uplink returns, the rack's agent replays what
//! it saw, and the outage is in the history once. Then phys-2 alone is cut and given back
//! while the rack is still cut off: the rack's late replay of an outage already over records
//! nothing more. The public page answers every poll throughout.
//!
//! Creating namespaces needs root and `ip` (iproute2): where that fails the test says why and
//! returns. Names are `vgnetns<pid>-<role>`, so two runs never collide; every namespace (and
//! with it every veth and the bridge, all created inside namespaces) is deleted by a guard,
//! also on a panic, and leftovers of a killed earlier run (a pid no longer alive) are removed
//! first.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::Duration;

use axum::extract::Path as UrlPath;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::time::Instant;

/// Every namespace of this test starts so; the pid that follows tells a live run's from a
/// killed one's.
const PREFIX: &str = "vgnetns";
/// Where central listens, inside `offsite`.
const CENTRAL: &str = "10.231.2.2:8080";
/// The physical hosts on the hoster's LAN: id, address, the services they carry.
const HOSTS: [(&str, &str, &[&str]); 3] = [
    ("phys-1", "10.231.1.11", &["forum", "databases"]),
    ("phys-2", "10.231.1.12", &["frandroid", "appxoid"]),
    ("phys-3", "10.231.1.13", &["backups"]),
];
/// The services the cut takes down, each with its host.
const CUT: [(&str, &str); 4] = [
    ("forum", "phys-1"),
    ("databases", "phys-1"),
    ("frandroid", "phys-2"),
    ("appxoid", "phys-2"),
];
/// Conditions get this long; a healthy run needs a few seconds for each.
const PATIENCE: Duration = Duration::from_secs(90);

/// Runs `ip ARGS`; the error names the command and what `ip` said.
fn ip(args: &[&str]) -> Result<String, String> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `ip {}`: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "`ip {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// `ip` that must succeed once namespaces are known to work.
fn ip_ok(args: &[&str]) {
    if let Err(e) = ip(args) {
        panic!("{e}");
    }
}

/// Deletes the namespaces of earlier runs whose process is gone (killed before its guard
/// ran); a live run's are left alone.
fn remove_leftovers() {
    let Ok(list) = ip(&["netns", "list"]) else {
        return;
    };
    for name in list.lines().filter_map(|l| l.split_whitespace().next()) {
        let Some(pid) = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            eprintln!("netns: removing {name}, left by an earlier run (pid {pid} is gone)");
            let _ = ip(&["netns", "del", name]);
        }
    }
}

/// The namespaces of this run; dropping it deletes them, and with them every interface in
/// them (a veth pair goes with either end).
struct Network {
    run: String,
    made: Vec<String>,
}

impl Network {
    fn ns(&self, role: &str) -> String {
        format!("{}-{role}", self.run)
    }

    fn add(&mut self, role: &str) -> Result<(), String> {
        let name = self.ns(role);
        ip(&["netns", "add", &name])?;
        self.made.push(name.clone());
        ip(&["-n", &name, "link", "set", "dev", "lo", "up"])?;
        Ok(())
    }

    /// A veth pair from `a`'s `a_dev` to `b`'s `b_dev`, both ends created in their namespace
    /// (nothing ever appears in the test's own), with an address on either end unless `None`.
    fn link(
        &self,
        a: &str,
        a_dev: &str,
        a_addr: Option<&str>,
        b: &str,
        b_dev: &str,
        b_addr: Option<&str>,
    ) {
        let (na, nb) = (self.ns(a), self.ns(b));
        ip_ok(&[
            "link", "add", "name", a_dev, "netns", &na, "type", "veth", "peer", "name", b_dev,
            "netns", &nb,
        ]);
        for (ns, dev, addr) in [(&na, a_dev, a_addr), (&nb, b_dev, b_addr)] {
            if let Some(addr) = addr {
                ip_ok(&["-n", ns, "addr", "add", addr, "dev", dev]);
            }
            ip_ok(&["-n", ns, "link", "set", "dev", dev, "up"]);
        }
    }

    fn route(&self, role: &str, to: &str, via: &str) {
        ip_ok(&["-n", &self.ns(role), "route", "add", to, "via", via]);
    }

    fn forward(&self, role: &str) {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.ns(role), "sh", "-c"])
            .arg("echo 1 > /proc/sys/net/ipv4/ip_forward")
            .output()
            .expect("run ip netns exec");
        assert!(
            out.status.success(),
            "cannot turn forwarding on in {role}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The network of the module's header. `Err` (why) when namespaces cannot be made here.
    fn build() -> Result<Network, String> {
        remove_leftovers();
        let mut net = Network {
            run: format!("{PREFIX}{}", std::process::id()),
            made: Vec::new(),
        };
        // The first namespace tells whether this machine lets us: not root, no `ip`, no netns.
        net.add("net")?;
        for role in [
            "hoster", "phys-1", "phys-2", "phys-3", "rack", "offsite", "away",
        ] {
            net.add(role)
                .map_err(|e| format!("{e} (after `net` was made)"))?;
        }
        // The internet: a router between the hoster, central, the rack's uplink and the reader.
        net.link(
            "hoster",
            "uplink",
            Some("10.231.0.2/30"),
            "net",
            "hoster",
            Some("10.231.0.1/30"),
        );
        net.link(
            "offsite",
            "uplink",
            Some("10.231.2.2/30"),
            "net",
            "offsite",
            Some("10.231.2.1/30"),
        );
        net.link(
            "rack",
            "uplink",
            Some("10.231.3.2/30"),
            "net",
            "rack",
            Some("10.231.3.1/30"),
        );
        net.link(
            "away",
            "uplink",
            Some("10.231.4.2/30"),
            "net",
            "away",
            Some("10.231.4.1/30"),
        );
        net.route("net", "10.231.1.0/24", "10.231.0.2");
        net.forward("net");
        // The hoster: a bridge, its LAN's gateway, one port per physical host and the rack.
        let hoster = net.ns("hoster");
        ip_ok(&["-n", &hoster, "link", "add", "name", "br", "type", "bridge"]);
        ip_ok(&["-n", &hoster, "addr", "add", "10.231.1.1/24", "dev", "br"]);
        ip_ok(&["-n", &hoster, "link", "set", "dev", "br", "up"]);
        for (role, addr) in [
            ("phys-1", "10.231.1.11/24"),
            ("phys-2", "10.231.1.12/24"),
            ("phys-3", "10.231.1.13/24"),
            ("rack", "10.231.1.20/24"),
        ] {
            net.link(role, "lan", Some(addr), "hoster", role, None);
            ip_ok(&["-n", &hoster, "link", "set", "dev", role, "master", "br"]);
        }
        net.route("hoster", "default", "10.231.0.1");
        net.forward("hoster");
        for role in ["phys-1", "phys-2", "phys-3"] {
            net.route(role, "default", "10.231.1.1");
        }
        // The rack reaches the hosts on the LAN and everything else by its own uplink.
        net.route("rack", "default", "10.231.3.1");
        net.route("offsite", "default", "10.231.2.1");
        net.route("away", "default", "10.231.4.1");
        Ok(net)
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        for name in self.made.iter().rev() {
            if let Err(e) = ip(&["netns", "del", name]) {
                eprintln!("netns: {e}");
            }
        }
    }
}

/// Moves the calling thread into namespace `ns`: the sockets it opens from then on live there.
fn enter(ns: &str) -> Result<(), String> {
    let file = std::fs::File::open(format!("/run/netns/{ns}"))
        .map_err(|e| format!("cannot open /run/netns/{ns}: {e}"))?;
    nix::sched::setns(file, nix::sched::CloneFlags::CLONE_NEWNET)
        .map_err(|e| format!("cannot enter namespace {ns}: {e}"))
}

/// Threads that run inside a namespace until told to stop; dropping this stops and joins them.
struct Threads {
    stop: watch::Sender<bool>,
    running: Mutex<Vec<JoinHandle<()>>>,
}

impl Threads {
    fn new() -> Self {
        Threads {
            stop: watch::channel(false).0,
            running: Mutex::new(Vec::new()),
        }
    }

    /// Runs `work()` on a thread of its own, inside `ns`, on a single-threaded runtime (so
    /// every socket it opens is opened on that thread, in that namespace).
    fn spawn<F, Fut>(&self, ns: String, what: &str, work: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()>,
    {
        let mut stop = self.stop.subscribe();
        let what = what.to_owned();
        let handle = std::thread::Builder::new()
            .name(what.clone())
            .spawn(move || {
                if let Err(e) = enter(&ns) {
                    eprintln!("netns: {what}: {e}");
                    return;
                }
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async move {
                    tokio::select! {
                        () = work() => {}
                        _ = stop.wait_for(|s| *s) => {}
                    }
                });
            })
            .expect("spawn thread");
        self.running.lock().expect("lock").push(handle);
    }
}

impl Drop for Threads {
    fn drop(&mut self) {
        self.stop.send_replace(true);
        for handle in self
            .running
            .get_mut()
            .map(std::mem::take)
            .unwrap_or_default()
        {
            let _ = handle.join();
        }
    }
}

/// A physical host's services: its sites over HTTP on port 80 (`/<service>`), a greeting on
/// 22 (its SSH, the host's own monitor) and on 3306 (the database).
async fn serve_host(host: &'static str, addr: &'static str, services: &'static [&'static str]) {
    let ip: Ipv4Addr = addr.parse().expect("address");
    let app = Router::new().route(
        "/{service}",
        get(move |UrlPath(service): UrlPath<String>| async move {
            if services.contains(&service.as_str()) {
                Ok(format!("{service} on {host}"))
            } else {
                Err(axum::http::StatusCode::NOT_FOUND)
            }
        }),
    );
    let bind = |port| async move {
        TcpListener::bind(SocketAddr::from((ip, port)))
            .await
            .unwrap_or_else(|e| panic!("{host}: cannot bind {ip}:{port}: {e}"))
    };
    let web = bind(80).await;
    let ssh = bind(22).await;
    let db = bind(3306).await;
    tokio::join!(
        async { axum::serve(web, app).await.expect("serve") },
        greet(ssh, format!("SSH-2.0-{host}\r\n")),
        greet(db, format!("{host} database ready\r\n")),
    );
}

async fn greet(listener: TcpListener, greeting: String) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let greeting = greeting.clone();
        tokio::spawn(async move {
            let _ = stream.write_all(greeting.as_bytes()).await;
        });
    }
}

/// The test's catalog: second-scale intervals, every monitor probed from the three locations.
fn catalog() -> String {
    let timing = r#"interval = "2s"
retry_interval = "1s"
timeout = "1500ms"
confirm = 2
recover = 2
locations = ["offsite", "hoster", "away"]"#;
    let mut toml = format!(
        r#"[site]
title = "Hoster outage"
base_url = "http://{CENTRAL}"
default_locale = "en"
timezone = "UTC"

[probe]
location = "offsite"

[[locations]]
id = "offsite"
name = "Offsite (central)"

[[locations]]
id = "hoster"
name = "Inside the hoster"

[[locations]]
id = "away"
name = "Elsewhere"

[[groups]]
id = "sites"
name = "Sites"
"#
    );
    for (host, addr, services) in HOSTS {
        toml.push_str(&format!(
            "\n[[hosts]]\nid = \"{host}\"\nname = \"Physical server {host}\"\nkind = \"physical\"\n\n\
             [[hosts.monitors]]\nid = \"ssh\"\nkind = \"tcp\"\ntarget = \"{addr}:22\"\n{timing}\n"
        ));
        for service in services {
            toml.push_str(&format!(
                "\n[[hosts]]\nid = \"vm-{service}\"\nname = \"VM {service}\"\nkind = \"vm\"\nparent = \"{host}\"\n"
            ));
        }
    }
    for (host, addr, services) in HOSTS {
        for service in services {
            let monitor = if *service == "databases" {
                format!("id = \"port\"\nkind = \"tcp\"\ntarget = \"{addr}:3306\"")
            } else {
                format!("id = \"home\"\nkind = \"http\"\ntarget = \"http://{addr}/{service}\"")
            };
            toml.push_str(&format!(
                "\n[[services]]\nid = \"{service}\"\nname = \"{service} ({host})\"\ngroup = \"sites\"\n\
                 host = \"vm-{service}\"\n\n[[services.monitors]]\n{monitor}\n{timing}\n"
            ));
        }
    }
    toml
}

/// The `vigie` binary; killed when dropped.
struct Central {
    child: Child,
    log: std::path::PathBuf,
}

impl Central {
    fn log(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Central {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn vigie() -> Command {
    without_settings(Command::new(env!("CARGO_BIN_EXE_vigie")))
}

/// `cmd` without the caller's Vigie settings: the test's flags say everything.
fn without_settings(mut cmd: Command) -> Command {
    for var in [
        "VIGIE_CONFIG",
        "VIGIE_DATABASE_URL",
        "VIGIE_LISTEN",
        "VIGIE_PROBES",
        "VIGIE_PROBE_SOURCE",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

async fn json(http: &reqwest::Client, path: &str) -> Result<Value, String> {
    let url = format!("http://{CENTRAL}{path}");
    let response = http
        .get(&url)
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("{url}: HTTP {status}"));
    }
    response.json().await.map_err(|e| format!("{url}: {e}"))
}

/// Each service's status on `/api/v2/summary.json`.
async fn summary(http: &reqwest::Client) -> Result<Vec<(String, String)>, String> {
    let s = json(http, "/api/v2/summary.json").await?;
    Ok(s["components"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|c| c["group"] == false)
        .map(|c| {
            (
                c["id"].as_str().unwrap_or_default().to_owned(),
                c["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect())
}

fn status_of<'a>(list: &'a [(String, String)], id: &str) -> &'a str {
    list.iter()
        .find(|(s, _)| s == id)
        .map_or("absent", |(_, status)| status.as_str())
}

async fn location_states(http: &reqwest::Client) -> Result<Vec<(String, String)>, String> {
    let list = json(http, "/api/v1/locations").await?;
    Ok(list["locations"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|l| {
            (
                l["id"].as_str().unwrap_or_default().to_owned(),
                l["state"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect())
}

/// Waits until `check` says `Ok(true)`, for [`PATIENCE`] at most; the failure says what was
/// last seen.
async fn until<F, Fut>(what: &str, central: &Central, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool, String>>,
{
    let deadline = Instant::now() + PATIENCE;
    let mut seen = String::new();
    loop {
        match check().await {
            Ok(true) => {
                eprintln!("netns: {what}");
                return;
            }
            Ok(false) => {}
            Err(e) => seen = e,
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; last seen: {seen}\ncentral's log:\n{}",
            central.log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Polls the public page until told to stop; returns the number of answers and every failure.
async fn poll_page(mut stop: watch::Receiver<bool>) -> (usize, Vec<String>) {
    let http = crate::common::client();
    let (mut ok, mut failures) = (0, Vec::new());
    while !*stop.borrow() {
        match http.get(format!("http://{CENTRAL}/")).send().await {
            Ok(r) if r.status().is_success() => ok += 1,
            Ok(r) => failures.push(format!("{}: HTTP {}", Utc::now(), r.status())),
            Err(e) => failures.push(format!("{}: {e}", Utc::now())),
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(300)) => {}
            _ = stop.changed() => {}
        }
    }
    (ok, failures)
}

fn token(database_url: &str, location: &str) -> String {
    let out = vigie()
        .args([
            "--database-url",
            database_url,
            "agent-token",
            "create",
            "--location",
            location,
            "--label",
            location,
        ])
        .output()
        .expect("run vigie agent-token create");
    assert!(
        out.status.success(),
        "agent-token create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The `vigie-agent` binary: `VIGIE_AGENT_BIN`, else cargo's build of it beside `vigie`, made
/// now with the same profile and target directory (cargo does nothing when it is up to date).
fn agent_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("VIGIE_AGENT_BIN") {
        return bin.into();
    }
    let vigie = Path::new(env!("CARGO_BIN_EXE_vigie"));
    let dir = vigie.parent().expect("vigie's directory");
    let profile = match dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev",
        Some(other) => other,
    };
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "-p",
            "agent",
            "--bin",
            "vigie-agent",
            "--profile",
            profile,
        ])
        .env("CARGO_TARGET_DIR", dir.parent().expect("target directory"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("run cargo build -p agent");
    assert!(status.success(), "cargo build -p agent failed");
    dir.join("vigie-agent")
}

/// A `vigie-agent` process inside a namespace; killed when dropped.
struct Agent(Child);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the agent binary in namespace `ns` with `token` (given in the environment, as the
/// README advises), its log in `log`.
fn start_agent(bin: &Path, ns: &str, token: &str, log: &Path) -> Agent {
    let out = std::fs::File::create(log).expect("agent log");
    let child = without_settings(Command::new("ip"))
        .args(["netns", "exec", ns])
        .arg(bin)
        .args(["--central", &format!("http://{CENTRAL}")])
        // Sooner than the defaults, for a test of about a minute (the location is stale after
        // two of the monitors' 2 s intervals without a result).
        .args(["--poll-every", "500ms", "--send-every", "300ms"])
        .env("VIGIE_AGENT_TOKEN", token)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("agent log"))
        .stderr(out)
        .spawn()
        .expect("start vigie-agent");
    Agent(child)
}

/// A fresh database on the PostgreSQL server at `admin_url`, as a URL through the server's
/// Unix socket (reachable from every namespace, unlike its loopback address).
async fn postgres_database(admin_url: &str) -> String {
    use sea_orm::{ConnectionTrait, Statement};
    let (tcp, _) = crate::common::POSTGRES
        .scope(Some(admin_url.to_owned()), crate::common::fresh_database())
        .await;
    let db = store::connect(&tcp).await.expect("connect postgres");
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SHOW unix_socket_directories",
        ))
        .await
        .expect("SHOW unix_socket_directories")
        .expect("a row");
    let dirs: String = row.try_get_by_index(0).expect("unix_socket_directories");
    let socket_dir = dirs
        .split(',')
        .map(str::trim)
        .find(|d| d.starts_with('/'))
        .unwrap_or_else(|| panic!("the PostgreSQL server has no Unix socket ({dirs:?})"));
    let url = url::Url::parse(&tcp).expect("database URL");
    format!(
        "postgres://{}@localhost:{}{}?host={socket_dir}",
        url.username(),
        url.port().unwrap_or(5432),
        url.path()
    )
}

#[test]
fn the_hoster_cuts_two_hosts_and_the_rack_uplink() {
    replay(None);
}

#[test]
fn the_hoster_cuts_two_hosts_and_the_rack_uplink_on_postgres() {
    match std::env::var("VIGIE_TEST_POSTGRES_URL") {
        Ok(url) => replay(Some(url)),
        Err(_) => {
            assert!(
                std::env::var("VIGIE_REQUIRE_POSTGRES").is_err(),
                "VIGIE_REQUIRE_POSTGRES is set but VIGIE_TEST_POSTGRES_URL is not"
            );
            eprintln!("netns: postgres SKIPPED (VIGIE_TEST_POSTGRES_URL is not set)");
        }
    }
}

/// The replay on SQLite (`None`) or on the PostgreSQL server at this URL.
fn replay(postgres: Option<String>) {
    // Second-scale probe intervals: not beside other tests whose verdict depends on timing.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _timing = rt.block_on(crate::common::timing_sensitive());
    let net = match Network::build() {
        Ok(net) => net,
        Err(why) => {
            eprintln!("netns: SKIPPED, network namespaces cannot be made here: {why}");
            return;
        }
    };
    let agent_bin = agent_bin();
    let dir = tempfile::tempdir().expect("dir");
    let threads = std::sync::Arc::new(Threads::new());
    for (host, addr, services) in HOSTS {
        threads.spawn(net.ns(host), host, move || serve_host(host, addr, services));
    }

    let config = dir.path().join("vigie.toml");
    std::fs::write(&config, catalog()).expect("write catalog");
    let database_url = match &postgres {
        Some(admin) => rt.block_on(postgres_database(admin)),
        None => format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("vigie.db").display()
        ),
    };
    eprintln!("netns: central's database: {database_url}");
    let log = dir.path().join("central.log");
    let out = std::fs::File::create(&log).expect("log");
    let child = without_settings(Command::new("ip"))
        .args(["netns", "exec", &net.ns("offsite")])
        .arg(env!("CARGO_BIN_EXE_vigie"))
        .args(["--config"])
        .arg(&config)
        .args([
            "--database-url",
            &database_url,
            "serve",
            "--listen",
            CENTRAL,
        ])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("log"))
        .stderr(out)
        .spawn()
        .expect("start vigie serve in offsite");
    let central = std::sync::Arc::new(Central { child, log });

    // The reader (and the test's every request) is in `away`, on the far side of the internet.
    let reader = {
        let net_run = net.run.clone();
        let central = central.clone();
        let logs = dir.path().to_owned();
        std::thread::Builder::new()
            .name("reader".into())
            .spawn(move || {
                enter(&format!("{net_run}-away")).expect("enter away");
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime")
                    .block_on(scenario(net_run, central, database_url, (agent_bin, logs)));
            })
            .expect("spawn reader")
    };
    let result = reader.join();
    drop(threads);
    drop(central);
    drop(net);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// The namespace of `role` in run `run` (the reader's thread holds no [`Network`]).
fn ns(run: &str, role: &str) -> String {
    format!("{run}-{role}")
}

fn set_link(run: &str, role: &str, dev: &str, up: bool) {
    ip_ok(&[
        "-n",
        &ns(run, role),
        "link",
        "set",
        "dev",
        dev,
        if up { "up" } else { "down" },
    ]);
}

async fn scenario(
    run: String,
    central: std::sync::Arc<Central>,
    database_url: String,
    (agent_bin, logs): (PathBuf, PathBuf),
) {
    let http = crate::common::client();
    let c = &central;
    until("central answers", c, || async {
        json(&http, "/api/v1/locations").await.map(|_| true)
    })
    .await;
    let (stop_poll, polling) = watch::channel(false);
    let poller = tokio::spawn(poll_page(polling));

    // Killed when the scenario ends, a failed assertion included.
    let _agents: Vec<Agent> = [("hoster", "rack"), ("away", "away")]
        .into_iter()
        .map(|(location, role)| {
            let token = token(&database_url, location);
            let log = logs.join(format!("agent-{location}.log"));
            start_agent(&agent_bin, &ns(&run, role), &token, &log)
        })
        .collect();
    until(
        "every location reports and every service is up",
        c,
        || async {
            let locations = location_states(&http).await?;
            let services = summary(&http).await?;
            let ok = locations.len() == 3
                && locations.iter().all(|(_, s)| s == "reporting")
                && services.len() == 5
                && services.iter().all(|(_, s)| s == "operational");
            if ok {
                Ok(true)
            } else {
                Err(format!("locations {locations:?}, services {services:?}"))
            }
        },
    )
    .await;

    // The hoster cuts phys-1 and phys-2 (their ports on its bridge) and the rack's uplink.
    let cut_at = Utc::now();
    set_link(&run, "hoster", "phys-1", false);
    set_link(&run, "hoster", "phys-2", false);
    set_link(&run, "net", "rack", false);
    until(
        "phys-1's and phys-2's services down with their host as cause, phys-3's up, the rack stale",
        c,
        || async {
            let services = summary(&http).await?;
            let locations = location_states(&http).await?;
            let causes = json(&http, "/api/v1/services").await?;
            let cause_of = |id: &str| {
                causes
                    .as_array()
                    .and_then(|l| l.iter().find(|s| s["slug"] == id))
                    .and_then(|s| s["cause"].as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            let down = CUT.iter().all(|(s, host)| {
                status_of(&services, s) == "major_outage"
                    && cause_of(s) == format!("down: host {host} unreachable")
            });
            let rack = locations
                .iter()
                .find(|(l, _)| l == "hoster")
                .map(|(_, s)| s.as_str());
            if down && status_of(&services, "backups") == "operational" && rack == Some("stale") {
                Ok(true)
            } else {
                let causes: Vec<String> = CUT.iter().map(|(s, _)| cause_of(s)).collect();
                Err(format!(
                    "services {services:?}, causes {causes:?}, locations {locations:?}"
                ))
            }
        },
    )
    .await;
    // The public page names the hosts, in the site's language.
    let page = http
        .get(format!("http://{CENTRAL}/"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("page body");
    for host in ["phys-1", "phys-2"] {
        assert!(
            page.contains(&format!("host {host} unreachable")),
            "the public page does not name {host} as the cause:\n{page}"
        );
    }
    assert!(!page.contains("host phys-3 unreachable"), "{page}");

    // The uplink returns: the rack's agent sends what it saw while cut off.
    let back_at = Utc::now();
    set_link(&run, "net", "rack", true);
    let db = store::connect(&database_url)
        .await
        .expect("central's database");
    let ssh = |host: &'static str| {
        let db = &db;
        async move {
            store::checks::monitor_id(db, &format!("host/{host}/ssh"))
                .await
                .expect("monitor id")
                .unwrap_or_else(|| panic!("{host}'s monitor"))
        }
    };
    let (ssh1, ssh2) = (ssh("phys-1").await, ssh("phys-2").await);
    // What the rack's agent said of a monitor, in the order it checked.
    let rack_history = |monitor: i64| {
        let db = &db;
        async move {
            use store::entity::check_result;
            check_result::Entity::find()
                .filter(check_result::Column::MonitorId.eq(monitor))
                .filter(check_result::Column::LocationId.eq("hoster"))
                .order_by_asc(check_result::Column::CheckedAt)
                .all(db)
                .await
                .map_err(|e| e.to_string())
        }
    };
    until(
        "the rack reports again and its results from while it was cut off are in",
        c,
        || async {
            let locations = location_states(&http).await?;
            let rack = locations
                .iter()
                .any(|(l, s)| l == "hoster" && s == "reporting");
            let history = rack_history(ssh1).await?;
            let replayed = history
                .iter()
                .any(|r| r.checked_at > cut_at && r.checked_at < back_at && r.outcome == "down");
            let after = history.iter().any(|r| r.checked_at > back_at);
            Ok(rack && replayed && after)
        },
    )
    .await;

    // The hoster gives the hosts back.
    set_link(&run, "hoster", "phys-1", true);
    set_link(&run, "hoster", "phys-2", true);
    until("every service up again", c, || async {
        let services = summary(&http).await?;
        if services.iter().all(|(_, s)| s == "operational") {
            Ok(true)
        } else {
            Err(format!("{services:?}"))
        }
    })
    .await;

    // The outage is in the history once per service, though the rack replayed it late.
    for (service, _) in CUT {
        let events = service_events(&db, service).await;
        let outages = events.iter().filter(|e| e.starts_outage()).count();
        assert_eq!(outages, 1, "{service}: one outage in {events:#?}");
        assert_eq!(
            events.last().map(|e| e.to.as_str()),
            Some("operational"),
            "{service}: {events:?}"
        );
    }
    let backups = service_events(&db, "backups").await;
    assert!(
        backups.iter().all(|e| e.to == "operational"),
        "phys-3's service never left operational: {backups:?}"
    );
    // The rack's own record of phys-1: one run of failures, each check stored once.
    let history = rack_history(ssh1).await.expect("history");
    let outcomes: Vec<&str> = history.iter().map(|r| r.outcome.as_str()).collect();
    let runs = outcomes
        .iter()
        .enumerate()
        .filter(|(i, o)| **o == "down" && (*i == 0 || outcomes[i - 1] != "down"))
        .count();
    assert_eq!(runs, 1, "one outage in the rack's history: {outcomes:?}");
    let mut times: Vec<DateTime<Utc>> = history.iter().map(|r| r.checked_at).collect();
    times.dedup();
    assert_eq!(
        times.len(),
        history.len(),
        "a result stored twice: {outcomes:?}"
    );

    // Again for phys-2, but the hoster gives it back before the rack's uplink returns: the
    // rack's replay then tells of an outage already over, and must not record it again.
    let cut_at = Utc::now();
    set_link(&run, "hoster", "phys-2", false);
    set_link(&run, "net", "rack", false);
    until(
        "phys-2's services down again, the rack stale",
        c,
        || async {
            let services = summary(&http).await?;
            let locations = location_states(&http).await?;
            let ok = ["frandroid", "appxoid"]
                .iter()
                .all(|s| status_of(&services, s) == "major_outage")
                && ["forum", "databases", "backups"]
                    .iter()
                    .all(|s| status_of(&services, s) == "operational")
                && locations.iter().any(|(l, s)| l == "hoster" && s == "stale");
            if ok {
                Ok(true)
            } else {
                Err(format!("services {services:?}, locations {locations:?}"))
            }
        },
    )
    .await;
    set_link(&run, "hoster", "phys-2", true);
    until(
        "phys-2's services up, the rack still cut off",
        c,
        || async {
            let services = summary(&http).await?;
            if services.iter().all(|(_, s)| s == "operational") {
                Ok(true)
            } else {
                Err(format!("{services:?}"))
            }
        },
    )
    .await;
    let back_at = Utc::now();
    set_link(&run, "net", "rack", true);
    until(
        "the rack's results of the second cut are in, the recovery among them",
        c,
        || async {
            let history = rack_history(ssh2).await?;
            let during: Vec<&str> = history
                .iter()
                .filter(|r| r.checked_at > cut_at && r.checked_at < back_at)
                .map(|r| r.outcome.as_str())
                .collect();
            let after = history.iter().any(|r| r.checked_at > back_at);
            Ok(during.contains(&"down") && during.last() == Some(&"up") && after)
        },
    )
    .await;
    for service in ["frandroid", "appxoid"] {
        let events = service_events(&db, service).await;
        let outages = events.iter().filter(|e| e.starts_outage()).count();
        assert_eq!(outages, 2, "{service}: two outages in {events:#?}");
        assert_eq!(
            events.last().map(|e| e.to.as_str()),
            Some("operational"),
            "{service}: {events:?}"
        );
    }
    for service in ["forum", "databases"] {
        let events = service_events(&db, service).await;
        let outages = events.iter().filter(|e| e.starts_outage()).count();
        assert_eq!(outages, 1, "{service}: one outage in {events:#?}");
    }
    let backups = service_events(&db, "backups").await;
    assert!(
        backups.iter().all(|e| e.to == "operational"),
        "phys-3's service never left operational: {backups:?}"
    );
    assert_runs(&rack_history(ssh2).await.expect("history"), 2);

    stop_poll.send_replace(true);
    let (answers, failures) = poller.await.expect("poller");
    assert!(answers > 0, "the page was never polled");
    assert!(
        failures.is_empty(),
        "the public page failed {} times out of {}: {failures:?}",
        failures.len(),
        answers + failures.len()
    );
    eprintln!("netns: the public page answered all {answers} polls");
}

/// The rack's results of one monitor hold `outages` runs of failures, each check once.
fn assert_runs(history: &[store::entity::check_result::Model], outages: usize) {
    let outcomes: Vec<&str> = history.iter().map(|r| r.outcome.as_str()).collect();
    let runs = outcomes
        .iter()
        .enumerate()
        .filter(|(i, o)| **o == "down" && (*i == 0 || outcomes[i - 1] != "down"))
        .count();
    assert_eq!(runs, outages, "outages in the rack's history: {outcomes:?}");
    let mut times: Vec<DateTime<Utc>> = history.iter().map(|r| r.checked_at).collect();
    times.dedup();
    assert_eq!(
        times.len(),
        history.len(),
        "a result stored twice: {outcomes:?}"
    );
}

/// A service's status events: from, to, cause, when.
async fn service_events(db: &store::Db, service: &str) -> Vec<Event> {
    let owner =
        domain::topology::Owner::Service(domain::config::Slug::parse(service).expect("slug"));
    store::status::events(db, &owner)
        .await
        .expect("events")
        .into_iter()
        .map(|e| Event {
            from: e.from_status,
            to: e.to_status,
            cause: e.cause,
            at: e.at,
        })
        .collect()
}

#[derive(Debug)]
#[allow(dead_code)] // `cause` and `at` are read by the failure messages
struct Event {
    from: Option<String>,
    to: String,
    cause: Option<String>,
    at: DateTime<Utc>,
}

impl Event {
    /// Whether the service entered an outage here (a change of cause within one is not).
    fn starts_outage(&self) -> bool {
        self.to == "major_outage" && self.from.as_deref() != Some("major_outage")
    }
}
