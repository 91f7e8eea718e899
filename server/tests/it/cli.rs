//! The `vigie` binary's commands, run as a user would run them.

use std::process::Command;

fn vigie() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vigie"));
    cmd.env_remove("VIGIE_CONFIG")
        .env_remove("VIGIE_DATABASE_URL")
        .env_remove("VIGIE_LISTEN");
    cmd
}

fn humanoid() -> String {
    format!("{}/../config/humanoid.toml", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn check_config_summarises_a_valid_catalog() {
    let out = vigie()
        .args(["--config", &humanoid(), "check-config"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("OK, 11 services, 15 monitors, 15 hosts, 3 groups, 2 locations"),
        "{stdout}"
    );
    assert!(stdout.contains(" hosts"), "{stdout}");
}

#[test]
fn broken_config_names_file_line_and_key_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let text = std::fs::read_to_string(humanoid()).expect("read").replacen(
        "host = \"vm-forum\"",
        "host = \"vm-gone\"",
        1,
    );
    let line = text
        .lines()
        .position(|l| l.contains("vm-gone"))
        .expect("line")
        + 1;
    let path = dir.path().join("vigie.toml");
    std::fs::write(&path, text).expect("write");
    let db = dir.path().join("vigie.db");
    let db_url = format!("sqlite://{}?mode=rwc", db.display());

    for command in ["check-config", "serve"] {
        let out = vigie()
            .args([
                "--config",
                path.to_str().expect("utf-8"),
                "--database-url",
                &db_url,
                command,
            ])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{command}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let expected = format!(
            "{}:{line}:8: key `services[6].host`: unknown host `vm-gone`",
            path.display()
        );
        assert!(stderr.contains(&expected), "{command}: {stderr}");
    }
    assert!(!db.exists(), "nothing written for a bad configuration");
}

#[test]
fn syntax_error_is_reported_with_its_line() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("vigie.toml");
    std::fs::write(&path, "[site]\ntitle = \"x\"\n\n[[services]\nid = \"a\"\n").expect("write");
    let out = vigie()
        .args(["--config", path.to_str().expect("utf-8"), "check-config"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{}:4:", path.display())),
        "{stderr}"
    );
}

#[test]
fn migrate_creates_the_schema() {
    let dir = tempfile::tempdir().expect("dir");
    let db_url = format!("sqlite://{}?mode=rwc", dir.path().join("v.db").display());
    let out = vigie()
        .args(["--database-url", &db_url, "migrate"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("migrations applied on sqlite"));
}

#[test]
fn staff_accounts_are_added_listed_and_a_lost_second_factor_removed() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("dir");
    let db_url = format!("sqlite://{}?mode=rwc", dir.path().join("v.db").display());
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut child = vigie()
            .args(["--database-url", &db_url, "user"])
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run");
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(input.as_bytes())
                .expect("write");
        }
        let out = child.wait_with_output().expect("wait");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, _, err) = run(
        &[
            "add",
            "ed@example.org",
            "--role",
            "editor",
            "--password-stdin",
        ],
        Some("short\n"),
    );
    assert!(!ok && err.contains("at least"), "{err}");
    let (ok, out, err) = run(
        &[
            "add",
            "ed@example.org",
            "--role",
            "editor",
            "--password-stdin",
        ],
        Some("correct horse battery staple\n"),
    );
    assert!(ok, "{err}");
    assert!(out.contains("created ed@example.org (editor)"));

    // A second factor turned on (as the console does), then the phone is lost.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let db = store::connect(&db_url).await.expect("db");
        let id = store::users::list(&db).await.expect("list")[0].id;
        let actor = store::audit::Actor::cli();
        let now = chrono::Utc::now();
        // reset-totp needs no key: any key sealed it.
        let key = store::instance_key::InstanceKey::generate();
        let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
        store::users::totp::totp_begin(&db, &key, id, secret, &actor, now)
            .await
            .expect("begin");
        store::users::totp::totp_confirm(&db, &key, id, secret, 1, &actor, now)
            .await
            .expect("confirm");
    });
    let (_, out, _) = run(&["list"], None);
    assert!(out.contains("ed@example.org\teditor (two-factor)"), "{out}");
    let (ok, _, err) = run(&["reset-totp", "nobody@example.org"], None);
    assert!(!ok && err.contains("no user"), "{err}");
    let (ok, out, err) = run(&["reset-totp", "ED@example.org"], None);
    assert!(ok, "{err}");
    assert!(out.contains("second factor removed for ed@example.org"));
    let (_, out, _) = run(&["list"], None);
    assert!(out.contains("ed@example.org\teditor\n"), "{out}");
    let (ok, _, err) = run(&["totp-off", "ed@example.org"], None);
    assert!(ok, "the old name still works: {err}");

    // Offboarding: the only admin cannot be disabled or demoted; an editor is disabled
    // (their session ends), enabled again, and promoted.
    let (ok, _, err) = run(
        &[
            "add",
            "boss@example.org",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some("correct horse battery staple\n"),
    );
    assert!(ok, "{err}");
    let (ok, _, err) = run(&["disable", "boss@example.org"], None);
    assert!(!ok && err.contains("last enabled admin"), "{err}");
    let (ok, _, err) = run(&["role", "boss@example.org", "editor"], None);
    assert!(!ok && err.contains("last enabled admin"), "{err}");
    let (ok, _, err) = run(&["role", "ed@example.org", "owner"], None);
    assert!(!ok && err.contains("invalid value"), "{err}");
    let session = rt.block_on(async {
        let db = store::connect(&db_url).await.expect("db");
        let ed = store::users::find_by_email(&db, "ed@example.org")
            .await
            .expect("q")
            .expect("ed");
        store::sessions::start(&db, &ed, None, None, None, chrono::Utc::now())
            .await
            .expect("session")
            .0
    });
    let (ok, out, err) = run(&["disable", "ed@example.org"], None);
    assert!(ok, "{err}");
    assert!(out.contains("ed@example.org disabled"), "{out}");
    let (_, out, _) = run(&["list"], None);
    assert!(out.contains("ed@example.org\teditor (disabled)"), "{out}");
    let (ok, out, err) = run(&["enable", "ed@example.org"], None);
    assert!(ok, "{err}");
    assert!(out.contains("ed@example.org enabled"), "{out}");
    let (ok, out, err) = run(&["role", "ed@example.org", "admin"], None);
    assert!(ok, "{err}");
    assert!(out.contains("ed@example.org is now admin"), "{out}");
    let (_, out, _) = run(&["list"], None);
    assert!(out.contains("ed@example.org\tadmin\n"), "{out}");
    rt.block_on(async {
        let db = store::connect(&db_url).await.expect("db");
        let now = chrono::Utc::now();
        assert!(
            store::sessions::find(&db, &session, now)
                .await
                .expect("q")
                .is_none(),
            "disabling ended the session for good"
        );
        let actions: Vec<String> =
            store::audit::list(&db, &store::audit::AuditFilter::default(), 0, 100)
                .await
                .expect("audit")
                .0
                .into_iter()
                .map(|e| e.action)
                .collect();
        for a in ["user.disable", "user.enable", "user.role"] {
            assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
        }
    });
}

#[test]
fn every_command_has_help() {
    for cmd in [
        &["--help"][..],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["check-config", "--help"],
    ] {
        let out = vigie().args(cmd).output().expect("run");
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains("Usage:"));
    }
}

/// `vigie token add|list|revoke` against a real SQLite database: the value is printed once
/// and works, `list` never shows it, revoking stops it, and both changes are audited.
#[test]
fn api_tokens_are_created_listed_and_revoked_from_the_command_line() {
    let dir = tempfile::tempdir().expect("dir");
    let db_url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("vigie.db").display()
    );
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let db = rt.block_on(async {
        let db = store::connect(&db_url).await.expect("connect");
        store::migrate(&db).await.expect("migrate");
        let hash = store::users::hash_password("correct horse battery staple").expect("hash");
        store::users::create(
            &db,
            "ops@example.org",
            domain::staff::Role::Editor,
            &hash,
            &store::audit::Actor::cli(),
            chrono::Utc::now(),
        )
        .await
        .expect("user");
        db
    });
    let run = |args: &[&str]| {
        vigie()
            .args(["--database-url", &db_url])
            .args(args)
            .output()
            .expect("run")
    };

    let bad = run(&[
        "token",
        "add",
        "deploy",
        "--user",
        "ops@example.org",
        "--scope",
        "root",
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown scope `root`"));
    let nobody = run(&[
        "token",
        "add",
        "deploy",
        "--user",
        "x@example.org",
        "--scope",
        "incidents:write",
    ]);
    assert!(!nobody.status.success());
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("no staff account"));

    let out = run(&[
        "token",
        "add",
        "deploy",
        "--user",
        "OPS@example.org",
        "--scope",
        "incidents:write",
        "--scope",
        "maintenance:write",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value = String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();
    assert_eq!(value.lines().count(), 1, "only the token on stdout");
    let (token, owner) = rt
        .block_on(store::tokens::api::authenticate(
            &db,
            &value,
            chrono::Utc::now(),
        ))
        .expect("authenticate")
        .expect("the printed token works");
    assert_eq!(owner.email, "ops@example.org");
    assert_eq!(
        token.scopes,
        vec![
            domain::staff::Scope::IncidentsWrite,
            domain::staff::Scope::MaintenanceWrite
        ]
    );

    let list = run(&["token", "list"]);
    let listed = String::from_utf8_lossy(&list.stdout).to_string();
    assert!(
        listed.contains("deploy") && listed.contains("ops@example.org"),
        "{listed}"
    );
    assert!(!listed.contains(&value), "list must not show the value");
    // Times on the site's clock, labelled as the pages label them; without a configuration
    // they are UTC and say so.
    let created = rt
        .block_on(store::tokens::api::list(&db))
        .expect("tokens")
        .into_iter()
        .find(|t| t.id == token.id)
        .expect("listed")
        .created_at;
    let paris = created.with_timezone(&chrono_tz::Europe::Paris);
    let with_config = |args: &[&str]| {
        vigie()
            .args(["--database-url", &db_url, "--config", &humanoid()])
            .args(args)
            .output()
            .expect("run")
    };
    let local = String::from_utf8_lossy(&with_config(&["token", "list"]).stdout).to_string();
    let expected = format!("created {} (Paris time)", paris.format("%Y-%m-%d %H:%M"));
    assert!(local.contains(&expected), "{expected} in {local}");
    // The check above used the token: its last use is on the same clock.
    assert_eq!(local.matches(" (Paris time)").count(), 2, "{local}");
    let script =
        String::from_utf8_lossy(&with_config(&["token", "list", "--rfc3339"]).stdout).to_string();
    let stamp = script
        .split("created ")
        .nth(1)
        .and_then(|r| r.split('\t').next())
        .expect("a created column");
    let parsed = chrono::DateTime::parse_from_rfc3339(stamp).expect("RFC 3339");
    assert_eq!(parsed.timestamp(), created.timestamp(), "{stamp}");
    assert_eq!(
        *parsed.offset(),
        chrono::Offset::fix(paris.offset()),
        "the site's offset: {stamp}"
    );
    assert!(
        String::from_utf8_lossy(
            &vigie()
                .args(["token", "list", "--help"])
                .output()
                .expect("run")
                .stdout
        )
        .contains("--rfc3339"),
        "--help says how to get the scripts' format"
    );
    let bare = vigie()
        .current_dir(dir.path())
        .args(["--database-url", &db_url, "token", "list"])
        .output()
        .expect("run");
    let utc = format!("created {} (UTC)", created.format("%Y-%m-%d %H:%M"));
    assert!(
        String::from_utf8_lossy(&bare.stdout).contains(&utc),
        "{utc}"
    );
    assert!(String::from_utf8_lossy(&bare.stderr).contains("times in UTC"));
    let missing = vigie()
        .args([
            "--database-url",
            &db_url,
            "--config",
            "/nonexistent/vigie.toml",
        ])
        .args(["token", "list"])
        .output()
        .expect("run");
    assert_eq!(
        missing.status.code(),
        Some(2),
        "a named configuration must exist"
    );

    let revoke = run(&["token", "revoke", &token.id.to_string()]);
    assert!(
        revoke.status.success(),
        "{}",
        String::from_utf8_lossy(&revoke.stderr)
    );
    assert!(rt
        .block_on(store::tokens::api::authenticate(
            &db,
            &value,
            chrono::Utc::now()
        ))
        .expect("authenticate")
        .is_none());
    assert!(String::from_utf8_lossy(&run(&["token", "list"]).stdout).contains("revoked"));
    assert!(!run(&["token", "revoke", "999"]).status.success());

    let actions: Vec<String> = rt.block_on(async {
        use sea_orm::{ConnectionTrait, Statement};
        db.query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT action FROM audit_events ORDER BY id",
        ))
        .await
        .expect("audit")
        .iter()
        .map(|r| r.try_get::<String>("", "action").expect("action"))
        .collect()
    });
    assert!(actions.iter().any(|a| a == "token.create"), "{actions:?}");
    assert!(actions.iter().any(|a| a == "token.revoke"), "{actions:?}");
}

/// `vigie serve` from a directory without `vigie.toml` says which file it looked for, how to
/// name another, and that the demo needs none; exit 2, nothing written.
#[test]
fn missing_config_says_where_it_looked_and_what_to_do() {
    let dir = tempfile::tempdir().expect("dir");
    for command in ["serve", "check-config"] {
        let out = vigie()
            .current_dir(dir.path())
            .arg(command)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{command}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let looked = dir.path().canonicalize().expect("canonical");
        assert!(
            stderr.contains(&format!(
                "no configuration file at vigie.toml (in {})",
                looked.display()
            )),
            "{command}: {stderr}"
        );
        assert!(stderr.contains("--config FILE"), "{stderr}");
        assert!(stderr.contains("VIGIE_CONFIG"), "{stderr}");
        assert!(stderr.contains("`vigie demo`"), "{stderr}");
        assert!(!stderr.contains(":0:0:"), "{stderr}");
    }
    assert!(
        std::fs::read_dir(dir.path())
            .expect("list")
            .next()
            .is_none(),
        "nothing written"
    );
}

/// A database URL's password never reaches the terminal, whatever the error (the driver's own
/// message quotes the URL whole, and anyhow's chain printed it three times).
#[test]
fn no_error_prints_a_database_password() {
    let password = "s3cretPW-9f2";
    for url in [
        format!("postgres://bob:{password}@host:notaport/db"),
        format!("postgres://bob:{password} x@@/db"),
        format!("mysqlx://bob:{password}@h/db"),
        format!("postgres://127.0.0.1:1/db?user=bob&password={password}&x=y"),
    ] {
        for command in [&["migrate"][..], &["user", "list"], &["token", "list"]] {
            let out = vigie()
                .args(["--database-url", url.as_str()])
                .args(command)
                .output()
                .expect("run");
            let stderr = String::from_utf8_lossy(&out.stderr);
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(!out.status.success(), "{command:?} {url}");
            assert!(stderr.contains("error"), "{command:?}: {stderr}");
            assert!(
                !stderr.contains(password) && !stdout.contains(password),
                "{command:?} {url}: {stderr}{stdout}"
            );
        }
    }
}

/// `vigie demo` refuses a database that holds someone else's data (a staff account that is
/// not the demo's), exits 2 with a sentence, and writes nothing into it.
#[test]
fn the_demo_refuses_a_database_it_did_not_create() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("dir");
    let db_url = format!("sqlite://{}?mode=rwc", dir.path().join("prod.db").display());
    let mut add = vigie()
        .args(["--database-url", &db_url, "user", "add", "ops@example.org"])
        .args(["--role", "admin", "--password-stdin"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("run");
    add.stdin
        .take()
        .expect("stdin")
        .write_all(b"correct horse battery staple\n")
        .expect("write");
    assert!(add.wait().expect("wait").success());
    // Were the refusal to regress, the demo would start and serve forever: it gets 60 s.
    let mut demo = vigie()
        .args(["--config", &humanoid(), "--database-url", &db_url])
        .args(["demo", "--listen", "127.0.0.1:0"])
        .env_remove("VIGIE_DATABASE_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while demo.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = demo.kill();
            panic!("vigie demo started on a database it did not create instead of refusing");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let out = demo.wait_with_output().expect("output");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not the demo's"), "{stderr}");
    assert!(stderr.contains("vigie-demo.db"), "{stderr}");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let db = store::connect(&db_url).await.expect("db");
        let users = store::users::list(&db).await.expect("users");
        assert_eq!(users.len(), 1, "no demo account written");
        assert!(!store::catalog::is_demo_database(&db, demo::DEMO_STAFF)
            .await
            .expect("q"));
        let fresh = format!("sqlite://{}?mode=rwc", dir.path().join("new.db").display());
        let fresh = store::connect(&fresh).await.expect("db");
        assert!(store::catalog::is_demo_database(&fresh, demo::DEMO_STAFF)
            .await
            .expect("q"));
    });
}

/// Kills the child process when the test ends, whichever way it ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `vigie demo --scenario humanoid-outage` from an empty directory, with no `--config` and no
/// database URL: the embedded Humanoid catalog and scenario run, the scenario's incident is
/// published through the real API, and the demo's database is made in that directory.
#[tokio::test]
async fn demo_plays_the_outage_from_an_empty_directory_without_a_config() {
    use std::io::BufRead;
    // The demo probes every few seconds: its timing must not compete with other such tests.
    let _timing = crate::common::timing_sensitive().await;
    let dir = tempfile::tempdir().expect("dir");
    let mut child = vigie()
        .current_dir(dir.path())
        .args([
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--scenario",
            "humanoid-outage",
            "--speed",
            "100",
        ])
        .env("RUST_LOG", "warn")
        .env_remove("VIGIE_PROBES")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run vigie demo");
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    let mut child = KillOnDrop(child);
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx2.send(line);
        }
    });
    let mut output = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !output.contains("Scenario `humanoid-outage` finished") {
        while let Ok(line) = rx.try_recv() {
            output.push_str(&line);
            output.push('\n');
        }
        if let Ok(Some(status)) = child.0.try_wait() {
            panic!("vigie demo exited ({status}):\n{output}");
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the scenario did not finish:\n{output}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let base = output
        .lines()
        .find_map(|l| l.trim().strip_prefix("public page:"))
        .map(|u| u.trim().trim_end_matches('/').to_owned())
        .unwrap_or_else(|| panic!("no public page address:\n{output}"));
    let incidents: serde_json::Value = reqwest::get(format!("{base}/api/v2/incidents.json"))
        .await
        .expect("get incidents")
        .json()
        .await
        .expect("json");
    let names: Vec<&str> = incidents["incidents"]
        .as_array()
        .expect("incidents")
        .iter()
        .filter_map(|i| i["name"].as_str())
        .collect();
    assert!(
        names.contains(&"Tous les sites Humanoid sont inaccessibles"),
        "{names:?}\n{output}"
    );
    assert!(
        dir.path().join("vigie-demo.db").exists(),
        "the demo's own database is made here"
    );

    // Every link the demo hands out points where it listens (a free port here), not at the
    // catalog's production address: the incident's shortlink, the page's URL, feed links,
    // og:url on the page itself.
    let port = base.rsplit(':').next().unwrap_or_default();
    assert_ne!(
        port, "8080",
        "the test needs a port other than the catalog's"
    );
    let incident = incidents["incidents"]
        .as_array()
        .and_then(|list| list.first())
        .expect("an incident");
    let shortlink = incident["shortlink"].as_str().unwrap_or_default();
    assert!(
        shortlink.starts_with(&format!("{base}/incidents/")),
        "{shortlink} is not under {base}"
    );
    let summary: serde_json::Value = reqwest::get(format!("{base}/api/v2/summary.json"))
        .await
        .expect("summary")
        .json()
        .await
        .expect("json");
    assert_eq!(
        summary["page"]["url"]
            .as_str()
            .map(|u| u.trim_end_matches('/')),
        Some(base.as_str())
    );
    for path in ["/feed.atom", "/feed.rss", "/"] {
        let text = reqwest::get(format!("{base}{path}"))
            .await
            .expect(path)
            .text()
            .await
            .expect("body");
        assert!(
            text.contains(&format!("{base}/")),
            "{path} names no link under {base}"
        );
        assert!(
            !text.contains("127.0.0.1:8080"),
            "{path} still points at the catalog's base_url"
        );
    }
}

/// `vigie key rotate`: the TOTP secrets sealed with the key file beside the SQLite database
/// open with the new key afterwards and no longer with the old one; a second run (the old key
/// no longer opens them) and an invalid new key are refused, naming why, with nothing written.
#[test]
fn the_instance_key_is_rotated_in_one_go_or_not_at_all() {
    let dir = tempfile::tempdir().expect("dir");
    let db_path = dir.path().join("v.db");
    let db_url = format!("sqlite://{}?mode=rwc", db_path.display());
    let hex = |b: u8| format!("{b:02x}").repeat(32);
    let (old_hex, new_hex) = (hex(0x11), hex(0x22));
    std::fs::write(dir.path().join("v.db.key"), &old_hex).expect("old key");
    let new_file = dir.path().join("new.key");
    std::fs::write(&new_file, format!("{new_hex}\n")).expect("new key");
    let old = store::instance_key::InstanceKey::parse(&old_hex).expect("old");
    let new = store::instance_key::InstanceKey::parse(&new_hex).expect("new");
    let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let id = rt.block_on(async {
        let db = store::connect(&db_url).await.expect("db");
        store::migrate(&db).await.expect("migrate");
        let (actor, now) = (store::audit::Actor::cli(), chrono::Utc::now());
        let u = store::users::create(
            &db,
            "ed@example.org",
            domain::staff::Role::Editor,
            "$argon2id$x",
            &actor,
            now,
        )
        .await
        .expect("user");
        store::users::totp::totp_begin(&db, &old, u.id, secret, &actor, now)
            .await
            .expect("begin");
        store::users::totp::totp_confirm(&db, &old, u.id, secret, 1, &actor, now)
            .await
            .expect("confirm");
        u.id
    });
    let rotate = |file: &std::path::Path| {
        let out = vigie()
            .args(["--config", &humanoid(), "--database-url", &db_url])
            .args(["key", "rotate", "--new-key-file"])
            .arg(file)
            .output()
            .expect("run");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let opens = |key: &store::instance_key::InstanceKey| {
        rt.block_on(async {
            let db = store::connect(&db_url).await.expect("db");
            store::users::totp::totp_secrets(&db, key, id)
                .await
                .ok()
                .and_then(|s| s.confirmed)
        })
    };

    let bad = dir.path().join("bad.key");
    std::fs::write(&bad, "not a key").expect("bad key");
    let (ok, _, err) = rotate(&bad);
    assert!(!ok && err.contains("is not valid"), "{err}");
    assert_eq!(opens(&old).as_deref(), Some(secret), "nothing written");

    let (ok, out, err) = rotate(&new_file);
    assert!(ok, "{err}");
    assert!(out.contains("1 sealed secret(s) now open"), "{out}");
    assert!(
        !out.contains(&new_hex) && !err.contains(&new_hex),
        "the key is never printed"
    );
    assert_eq!(opens(&new).as_deref(), Some(secret));
    assert_eq!(opens(&old), None, "the old key no longer opens it");

    // The key file still holds the old key: the secrets do not open with it, nothing moves.
    let other = dir.path().join("other.key");
    std::fs::write(&other, hex(0x33)).expect("other key");
    let (ok, _, err) = rotate(&other);
    assert!(!ok && err.contains("ed@example.org"), "{err}");
    assert_eq!(opens(&new).as_deref(), Some(secret), "nothing written");
}
