//! Three `vigie serve` processes on one PostgreSQL database (only with
//! `VIGIE_TEST_POSTGRES_URL`): started together they all come up (migrations and catalog sync
//! run once, one after the other); one runs the cluster's clock; killed with SIGKILL, its
//! lease is taken over by a survivor within two intervals; an outage decided by the
//! survivors at the same moment is recorded once; and a write made elsewhere reaches the
//! survivors' open pages within 2 s. Probing is divided between the instances of a location,
//! taken over when one dies and rebalanced when one joins later.

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

/// `n` instances started together on `database_url`, logging into `dir`, once every one is up.
fn start_all(
    config: &std::path::Path,
    database_url: &str,
    dir: &std::path::Path,
    n: usize,
) -> Instances {
    let pending: Vec<_> = (0..n)
        .map(|i| start(config, database_url, &dir.join(format!("vigie-{i}.log"))))
        .collect();
    let mut instances = Instances(Vec::new());
    for (child, rx) in pending {
        let base = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("every instance comes up");
        instances.0.push((child, base));
    }
    instances
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
    let mut instances = start_all(&config, &url, dir.path(), 3);
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

/// The catalog the division tests share: [`MONITORS`] TCP monitors at 2 s, in three services,
/// all probed from Paris, against `target`.
fn divided_catalog(target: std::net::SocketAddr) -> String {
    let mut text = String::from(
        "[site]\ntitle = \"Divided\"\n\n[probe]\nlocation = \"paris\"\n\n\
         [[groups]]\nid = \"g\"\nname = \"G\"\n",
    );
    for s in 0..3 {
        text.push_str(&format!(
            "\n[[services]]\nid = \"s{s}\"\nname = \"S{s}\"\ngroup = \"g\"\n"
        ));
        for m in 0..MONITORS / 3 {
            text.push_str(&format!(
                "\n[[services.monitors]]\nid = \"m{m}\"\nkind = \"tcp\"\ntarget = \"{target}\"\n\
                 interval = \"2s\"\ntimeout = \"1s\"\n"
            ));
        }
    }
    text
}

/// The division tests' monitors and their interval.
const MONITORS: usize = 12;
const INTERVAL: Duration = Duration::from_secs(2);

/// Monitors held per instance, once every monitor of Paris is held by a live lease.
async fn shares(db: store::Db) -> Option<std::collections::HashMap<String, usize>> {
    let now = chrono::Utc::now();
    let rows = store::probe_leases::holders(&db, "paris").await.ok()?;
    let mut per: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (_, holder, expires) in &rows {
        if expires < &now {
            return None;
        }
        *per.entry(holder.clone()?).or_default() += 1;
    }
    (rows.len() == MONITORS).then_some(per)
}

/// Waits (at most `within`) until the monitors are divided `ways` ways, equally; the shares.
async fn divided(
    db: &store::Db,
    ways: usize,
    within: Duration,
) -> std::collections::HashMap<String, usize> {
    wait_for(&format!("the monitors divided {ways} ways"), within, || {
        let db = db.clone();
        async move {
            shares(db)
                .await
                .filter(|p| p.len() == ways && p.values().all(|n| *n == MONITORS / ways))
        }
    })
    .await
}

/// Every monitor checked at least twice after `moment`, and never unchecked for more than two
/// intervals from `since` to now.
async fn checked_throughout(
    db: &store::Db,
    since: chrono::DateTime<chrono::Utc>,
    moment: chrono::DateTime<chrono::Utc>,
) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use std::collections::BTreeMap;
    use store::entity::check_result;
    let rows = check_result::Entity::find()
        .filter(check_result::Column::CheckedAt.gte(since))
        .all(db)
        .await
        .expect("checks");
    let mut times: BTreeMap<i64, Vec<chrono::DateTime<chrono::Utc>>> = BTreeMap::new();
    for r in rows {
        times.entry(r.monitor_id).or_default().push(r.checked_at);
    }
    assert_eq!(times.len(), MONITORS, "every monitor checked: {times:?}");
    let end = chrono::Utc::now();
    let limit = chrono::TimeDelta::from_std(INTERVAL * 2).expect("delta");
    for (id, mut at) in times {
        at.sort();
        let after = at.iter().filter(|t| **t > moment).count();
        assert!(after >= 2, "monitor {id} checked after {moment}: {at:?}");
        let gaps = at
            .windows(2)
            .map(|w| w[1] - w[0])
            .chain([end - at[at.len() - 1]]);
        for gap in gaps {
            assert!(gap <= limit, "monitor {id} unchecked for {gap}: {at:?}");
        }
    }
}

/// Each service went operational once, whoever probed it: no status event twice.
async fn each_service_operational_once(db: &store::Db) {
    for s in 0..3 {
        let owner = Owner::Service(Slug::parse(&format!("s{s}")).expect("slug"));
        let events = store::status::events(db, &owner).await.expect("events");
        let tos: Vec<&str> = events.iter().map(|e| e.to_status.as_str()).collect();
        assert_eq!(tos, ["operational"], "s{s}: {events:?}");
    }
}

/// A fresh PostgreSQL database, a TCP target that accepts everything and the division
/// catalog written to a file; `None` (the test skipped) without PostgreSQL.
async fn divided_setup() -> Option<(
    String,
    tempfile::TempDir,
    std::path::PathBuf,
    tokio::task::JoinHandle<()>,
)> {
    let Ok(admin) = std::env::var("VIGIE_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("VIGIE_REQUIRE_POSTGRES").is_err(),
            "VIGIE_REQUIRE_POSTGRES is set but VIGIE_TEST_POSTGRES_URL is not"
        );
        eprintln!("cluster division test: postgres SKIPPED");
        return None;
    };
    let (url, _) = common::POSTGRES
        .scope(Some(admin), common::fresh_database())
        .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let target = listener.local_addr().expect("addr");
    let target_task = tokio::spawn(async move {
        loop {
            let _ = listener.accept().await;
        }
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("vigie.toml");
    std::fs::write(&config, divided_catalog(target)).expect("config");
    Some((url, dir, config, target_task))
}

/// Probing divided, not repeated (PostgreSQL only): three instances of one location share
/// twelve monitors, four each, so the checks per interval are those of one instance, not
/// three. One instance killed with SIGKILL: its monitors are taken over by the survivors, none
/// goes unchecked for more than two intervals, and no status event is recorded twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probing_is_divided_and_a_dead_instance_share_is_taken_over() {
    use std::collections::HashSet;

    let _alone = common::timing_sensitive().await;
    let Some((url, dir, config, target_task)) = divided_setup().await else {
        return;
    };

    let mut instances = start_all(&config, &url, dir.path(), 3);
    let db = store::connect(&url).await.expect("connect");

    // Each instance holds its share: four monitors each, every monitor held once.
    let per = divided(&db, 3, Duration::from_secs(30)).await;
    let pids: HashSet<u32> = per.keys().map(|h| pid_of(h)).collect();
    assert_eq!(
        pids,
        instances
            .0
            .iter()
            .map(|(c, _)| c.id())
            .collect::<HashSet<_>>(),
        "each instance holds a share"
    );

    // Not tripled: over five intervals, about one check per monitor per interval.
    let from = chrono::Utc::now();
    tokio::time::sleep(INTERVAL * 5).await;
    let to = chrono::Utc::now();
    let checks = store::checks::count_between(&db, from, to)
        .await
        .expect("count");
    let once = (MONITORS * 5) as u64;
    assert!(
        checks >= once / 2 && checks <= once * 3 / 2,
        "{checks} checks in five intervals of {MONITORS} monitors: one instance's worth is {once}"
    );

    // One instance dies: its share goes to the survivors.
    let (mut child, _) = instances.0.remove(0);
    let dead = per
        .keys()
        .find(|h| pid_of(h) == child.id())
        .expect("the dead one held a share")
        .clone();
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let killed = chrono::Utc::now();
    let per = wait_for("the dead instance's share taken over", INTERVAL * 5, || {
        let db = db.clone();
        let dead = dead.clone();
        async move {
            shares(db).await.filter(|p| {
                !p.contains_key(&dead) && p.len() == 2 && p.values().all(|n| *n == MONITORS / 2)
            })
        }
    })
    .await;
    assert!(per
        .keys()
        .all(|h| instances.0.iter().any(|(c, _)| c.id() == pid_of(h))));
    tokio::time::sleep(INTERVAL * 3).await;

    // No monitor unchecked for more than two intervals around the death.
    checked_throughout(&db, killed - chrono::TimeDelta::seconds(6), killed).await;
    each_service_operational_once(&db).await;
    target_task.abort();
}

/// An instance joining later gets its fair share (PostgreSQL only): two instances share the
/// twelve monitors six and six; a third started afterwards ends up with four, the others
/// giving two each up, while no monitor goes unchecked for more than two intervals and no
/// status event is recorded twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_joining_later_gets_its_fair_share() {
    let _alone = common::timing_sensitive().await;
    let Some((url, dir, config, target_task)) = divided_setup().await else {
        return;
    };
    let mut instances = start_all(&config, &url, dir.path(), 2);
    let db = store::connect(&url).await.expect("connect");
    divided(&db, 2, Duration::from_secs(30)).await;
    // Two intervals of the pair alone, then the third joins.
    tokio::time::sleep(INTERVAL * 2).await;

    let joined = chrono::Utc::now();
    let (child, rx) = start(&config, &url, &dir.path().join("vigie-late.log"));
    let base = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the late instance comes up");
    let late_pid = child.id();
    instances.0.push((child, base));
    let per = divided(&db, 3, INTERVAL * 15).await;
    assert!(
        per.keys().any(|h| pid_of(h) == late_pid),
        "the late instance holds a share: {per:?}"
    );
    assert!(per
        .keys()
        .all(|h| instances.0.iter().any(|(c, _)| c.id() == pid_of(h))));
    tokio::time::sleep(INTERVAL * 3).await;

    // Around the handover, every monitor kept being checked.
    checked_throughout(&db, joined - chrono::TimeDelta::seconds(6), joined).await;
    each_service_operational_once(&db).await;
    target_task.abort();
}
