//! Three `vigie serve` processes on one PostgreSQL database (only with
//! `VIGIE_TEST_POSTGRES_URL`): started together they all come up (migrations and catalog sync
//! run once, one after the other); one runs the cluster's clock; killed with SIGKILL, its
//! lease is taken over by a survivor within two intervals; an outage decided by the
//! survivors at the same moment is recorded once; and a write made elsewhere reaches the
//! survivors' open pages within 2 s.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use domain::config::Slug;
use domain::topology::Owner;

/// Kills every instance still running when the test ends, whatever happens.
struct Instances(Vec<(Child, String)>);

impl Drop for Instances {
    fn drop(&mut self) {
        for (child, _) in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts `vigie serve` on 127.0.0.1:0, its log in `log`; the receiver gets its base URL.
fn start(
    config: &std::path::Path,
    database_url: &str,
    log: &std::path::Path,
) -> (Child, std::sync::mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("VIGIE_CONFIG", config)
        .env("VIGIE_DATABASE_URL", database_url)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).expect("log file"))
        .spawn()
        .expect("vigie starts");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.split(" on ").nth(1) {
                let _ = tx.send(url.trim().trim_end_matches('/').to_owned());
            }
        }
    });
    (child, rx)
}

async fn wait_for<T, F, Fut>(what: &str, within: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The process id in a lease holder (`host:pid:random`).
fn pid_of(holder: &str) -> u32 {
    holder
        .split(':')
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("holder names its pid")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_kill_one() {
    let _alone = common::timing_sensitive().await;
    let Ok(admin) = std::env::var("VIGIE_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("VIGIE_REQUIRE_POSTGRES").is_err(),
            "VIGIE_REQUIRE_POSTGRES is set but VIGIE_TEST_POSTGRES_URL is not"
        );
        eprintln!("cluster test: postgres SKIPPED");
        return;
    };
    let (url, _) = common::POSTGRES
        .scope(Some(admin), common::fresh_database())
        .await;
    // The target: a TCP port that accepts while its task runs.
    let target = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let serve_target = || {
        tokio::spawn(async move {
            let l = tokio::net::TcpListener::bind(target).await.expect("rebind");
            loop {
                let _ = l.accept().await;
            }
        })
    };
    let mut target_task = serve_target();
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("vigie.toml");
    std::fs::write(
        &config,
        format!(
            "[site]\ntitle = \"Cluster\"\n\n[[groups]]\nid = \"g\"\nname = \"G\"\n\n\
             [[services]]\nid = \"web\"\nname = \"Web\"\ngroup = \"g\"\n\n\
             [[services.monitors]]\nid = \"port\"\nkind = \"tcp\"\ntarget = \"{target}\"\n\
             interval = \"500ms\"\ntimeout = \"300ms\"\nconfirm = 2\nrecover = 2\n"
        ),
    )
    .expect("config");

    // Started together, on a database nobody migrated yet.
    let mut instances = Instances(Vec::new());
    let mut pending = Vec::new();
    for i in 0..3 {
        pending.push(start(
            &config,
            &url,
            &dir.path().join(format!("vigie-{i}.log")),
        ));
    }
    for (child, rx) in pending {
        let base = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("every instance comes up");
        instances.0.push((child, base));
    }
    let db = store::connect(&url).await.expect("connect");
    let web = Owner::Service(Slug::parse("web").expect("slug"));
    let status = |db: store::Db| async move {
        store::status::current(&db)
            .await
            .ok()?
            .into_iter()
            .find(|c| c.subject == Owner::Service(Slug::parse("web").expect("slug")))
            .map(|c| c.state.css_class())
    };
    wait_for("web operational", Duration::from_secs(30), || {
        let db = db.clone();
        async move { (status(db).await? == "operational").then_some(()) }
    })
    .await;

    // Open pages on every instance.
    let client = reqwest::Client::new();
    let mut streams = Vec::new();
    for (_, base) in &instances.0 {
        let r = client
            .get(format!("{base}/events"))
            .send()
            .await
            .expect("events");
        streams.push(r);
    }

    // Kill the instance that runs the clock.
    let (holder, _) = wait_for("a clock holder", Duration::from_secs(30), || {
        let db = db.clone();
        async move {
            store::cluster::lease_holder(&db, server::cluster::CLOCK_LEASE)
                .await
                .ok()
                .flatten()
        }
    })
    .await;
    let dead = instances
        .0
        .iter()
        .position(|(c, _)| c.id() == pid_of(&holder))
        .expect("the holder is one of ours");
    let (mut child, _) = instances.0.remove(dead);
    streams.remove(dead);
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let killed = Instant::now();
    let interval = server::admin::maintenance::CLOCK_EVERY;
    let (taker, _) = wait_for("the lease taken over", interval * 3, || {
        let db = db.clone();
        let holder = holder.clone();
        async move {
            store::cluster::lease_holder(&db, server::cluster::CLOCK_LEASE)
                .await
                .ok()
                .flatten()
                .filter(|(h, _)| *h != holder)
        }
    })
    .await;
    let took = killed.elapsed();
    assert!(
        took <= interval * 2,
        "taken over after {took:?}, more than two intervals of {interval:?}"
    );
    assert!(instances.0.iter().any(|(c, _)| c.id() == pid_of(&taker)));

    // A write made elsewhere (here: straight into the database) reaches the survivors' open
    // pages within 2 s.
    let wrote = Instant::now();
    store::maintenance::schedule(
        &db,
        &store::maintenance::NewMaintenance {
            title: "Window".into(),
            message: server::markdown::message("m"),
            starts_at: chrono::Utc::now() + chrono::Duration::hours(1),
            ends_at: chrono::Utc::now() + chrono::Duration::hours(2),
            services: vec!["web".into()],
        },
        &store::audit::Actor::cli(),
        chrono::Utc::now(),
    )
    .await
    .expect("schedule");
    for s in &mut streams {
        let mut text = String::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while !text.contains("event: resync") {
            match tokio::time::timeout_at(deadline, s.chunk()).await {
                Ok(Ok(Some(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
                other => panic!(
                    "no resync within 2 s of the write ({:?} after it): {other:?} {text}",
                    wrote.elapsed()
                ),
            }
        }
    }

    // The target goes down, then comes back: the survivors decide both at about the same
    // moment, and each change is recorded once.
    target_task.abort();
    let _ = target_task.await;
    wait_for("web in major outage", Duration::from_secs(30), || {
        let db = db.clone();
        async move { (status(db).await? == "major_outage").then_some(()) }
    })
    .await;
    // Both survivors have had time to confirm it too.
    tokio::time::sleep(Duration::from_secs(3)).await;
    target_task = serve_target();
    wait_for("web operational again", Duration::from_secs(30), || {
        let db = db.clone();
        async move { (status(db).await? == "operational").then_some(()) }
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    target_task.abort();
    let events = store::status::events(&db, &web).await.expect("events");
    let tos: Vec<&str> = events.iter().map(|e| e.to_status.as_str()).collect();
    assert_eq!(
        tos,
        ["operational", "major_outage", "operational"],
        "each change once: {events:?}"
    );
    // The survivors still serve their pages.
    for (_, base) in &instances.0 {
        let r = client.get(format!("{base}/")).send().await.expect("page");
        assert_eq!(r.status(), 200);
    }
}
