//! Push tokens as an operator meets them: generated at the first start and printed once,
//! replaced with `vigie push-token` (the old one stops working on the running instance),
//! refused in clear in the file, and wrong ones rate-limited per client address.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const CATALOG: &str = "[site]\ntitle = \"Push\"\nbase_url = \"https://status.example.org\"\n\
    [[groups]]\nid = \"g\"\nname = \"G\"\n\
    [[services]]\nid = \"cron\"\nname = \"Cron\"\ngroup = \"g\"\n\
    [[services.monitors]]\nid = \"beat\"\nkind = \"push\"\ninterval = \"1h\"\n";

fn vigie(config: &std::path::Path, url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vigie"));
    cmd.env_remove("VIGIE_LISTEN")
        .env_remove("VIGIE_PROBES")
        .env("VIGIE_CONFIG", config)
        .env("VIGIE_DATABASE_URL", url);
    cmd
}

/// The token at the end of a line holding a heartbeat URL.
fn token_in(line: &str) -> Option<String> {
    let (_, token) = line.split_once("/api/v1/push/")?;
    Some(token.trim().to_owned())
}

async fn status(http: &reqwest::Client, base: &str, token: &str) -> u16 {
    http.post(format!("{base}/api/v1/push/{token}"))
        .send()
        .await
        .expect("post")
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_token_is_shown_once_and_a_replaced_one_stops_working() {
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("vigie.toml");
    std::fs::write(&config, CATALOG).expect("config");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("v.db").display());

    let mut child = vigie(&config, &url)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vigie serve starts");
    let (stdout, stderr) = (
        child.stdout.take().expect("stdout"),
        child.stderr.take().expect("stderr"),
    );
    let _serving = KillOnDrop(child);
    let (tx, rx) = std::sync::mpsc::channel();
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(u) = line.split(" on ").nth(1) {
                let _ = tx.send(("listen", u.trim().trim_end_matches('/').to_owned()));
            }
        }
    });
    let printed = Arc::new(std::sync::Mutex::new(String::new()));
    let seen = printed.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            seen.lock().expect("lock").push_str(&format!("{line}\n"));
            if let Some(t) = token_in(&line) {
                let _ = tx2.send(("token", t));
            }
        }
    });
    let (mut base, mut first) = (None, None);
    while base.is_none() || first.is_none() {
        let (what, v) = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server says where it listens and prints the new token");
        match what {
            "listen" => base = Some(v),
            _ => first = Some(v),
        }
    }
    let (base, first) = (base.expect("base"), first.expect("token"));
    assert!(first.len() >= 40, "at least 128 bits: {first}");
    assert!(
        printed
            .lock()
            .expect("lock")
            .contains("https://status.example.org/api/v1/push/"),
        "the URL is the site's"
    );
    let http = reqwest::Client::new();
    assert_eq!(status(&http, &base, &first).await, 200);
    assert_eq!(status(&http, &base, "vigie_push_0000").await, 404);

    // Only the hash is in the database.
    let db = store::connect(&url).await.expect("connect");
    let dump = store::push::token_hashes(&db, &[1, 2, 3, 4])
        .await
        .expect("read");
    assert_eq!(dump.len(), 1);
    let (hash, origin) = dump.values().next().expect("one").clone();
    assert_eq!(hash, store::tokens::digest(&first));
    assert_eq!(origin, store::push::GENERATED);

    // Replaced from the command line: printed once, the old one refused within seconds.
    let out = vigie(&config, &url)
        .args(["push-token", "service/cron/beat"])
        .output()
        .expect("push-token runs");
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let second = stdout.lines().next().expect("token line").trim().to_owned();
    assert_ne!(second, first);
    assert_eq!(
        token_in(stdout.lines().nth(1).expect("url line")),
        Some(second.clone())
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while status(&http, &base, &first).await != 404 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the old token still works"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(status(&http, &base, &second).await, 200);
    let filter = store::audit::AuditFilter {
        action: Some("push.token".into()),
        actor: None,
    };
    let (_, audited) = store::audit::list(&db, &filter, 1, 10)
        .await
        .expect("audit");
    assert_eq!(audited, 1, "the replacement is audited");

    // A restart generates nothing: the stored token stays in force.
    assert_eq!(
        printed
            .lock()
            .expect("lock")
            .matches("/api/v1/push/")
            .count(),
        1,
        "shown once"
    );
    let unknown = vigie(&config, &url)
        .args(["push-token", "service/cron/nope"])
        .output()
        .expect("runs");
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("service/cron/beat"));
}

#[test]
fn a_token_in_clear_in_the_file_is_refused_unprinted_and_a_referenced_one_is_not_replaced() {
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("vigie.toml");
    std::fs::write(
        &config,
        CATALOG.replace(
            "kind = \"push\"\n",
            "kind = \"push\"\ntoken = \"humanoid-nightly-backup\"\n",
        ),
    )
    .expect("config");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("v.db").display());
    let out = vigie(&config, &url)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("vigie push-token"), "{said}");
    assert!(!said.contains("humanoid-nightly-backup"), "{said}");
    assert!(!dir.path().join("v.db").exists(), "nothing written");

    std::fs::write(
        &config,
        CATALOG.replace(
            "kind = \"push\"\n",
            "kind = \"push\"\ntoken = \"${env:CRON_PUSH}\"\n",
        ),
    )
    .expect("config");
    let out = vigie(&config, &url)
        .args(["push-token", "service/cron/beat"])
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("environment variable CRON_PUSH"),
        "{out:?}"
    );
}

/// Wrong tokens from one address: 404 up to the allowance, then 429 with `Retry-After` for
/// anything from there (even the right token, or the limit would confirm a right guess);
/// another address is not affected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_tokens_are_limited_per_address() {
    let dir = tempfile::tempdir().expect("dir");
    let catalog = domain::config::parse("t.toml", CATALOG).expect("valid");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("v.db").display());
    let db = server::startup::prepare_database(&catalog, &url)
        .await
        .expect("database");
    let engine = probe::engine::start(
        Arc::new(catalog.clone()),
        db,
        probe::engine::EngineConfig::for_catalog(&catalog, None),
    )
    .await
    .expect("engine");
    let token = engine.take_new_tokens().remove(0).token;
    let guard = server::probing::PushGuard::new(Arc::new(Vec::new()));
    let app: axum::Router = server::probing::push_router(engine.heartbeats(), guard);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    let from = |ip: [u8; 4]| {
        reqwest::Client::builder()
            .local_address(std::net::IpAddr::from(ip))
            .build()
            .expect("client")
    };
    let (guesser, other) = (from([127, 0, 0, 2]), from([127, 0, 0, 3]));
    let base = format!("http://{addr}");
    for i in 0..server::probing::GUESSES_FREE {
        assert_eq!(status(&guesser, &base, &format!("guess-{i}")).await, 404);
    }
    let refused = guesser
        .post(format!("{base}/api/v1/push/guess-x"))
        .send()
        .await
        .expect("post");
    assert_eq!(refused.status(), 429);
    let wait: u64 = refused
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!(
        (1..=server::probing::GUESS_EVERY.as_secs()).contains(&wait),
        "{wait}"
    );
    assert_eq!(status(&guesser, &base, &token).await, 429);
    assert_eq!(status(&other, &base, &token).await, 200);
    assert_eq!(status(&other, &base, "guess-y").await, 404);
}
