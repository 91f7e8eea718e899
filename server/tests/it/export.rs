//! `vigie export`: the Humanoid catalog with an incident is exported by the real binary, the
//! copy is served under a sub-path by a plain static file server (Python's `http.server`) on
//! loopback, and every link of every page is followed: nothing is missing, the feeds parse,
//! and the copy's `summary.json` equals the live one at export time.

use crate::common;

use std::collections::{HashSet, VecDeque};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use chrono::{DateTime, TimeDelta, Utc};
use common::{client, humanoid, humanoid_path, Probes, Server};
use domain::incident::{Impact, IncidentStatus};
use domain::locale::Locale;
use domain::status::ComponentStatus;
use store::audit::Actor;
use store::incidents::NewIncident;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The site-relative and relative links of an HTML page.
fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "src=\""] {
        for (at, _) in html.match_indices(attr) {
            let rest = &html[at + attr.len()..];
            if let Some(end) = rest.find('"') {
                out.push(rest[..end].replace("&amp;", "&"));
            }
        }
    }
    out
}

/// The copy's stamp as the pages write a time, for the minute the export started and the one
/// it ended in: "7 décembre 2026 à 17:42 (heure de Paris)".
fn stamp(locale: Locale, (from, to): (DateTime<Utc>, DateTime<Utc>)) -> (String, String) {
    let tz = chrono_tz::Europe::Paris;
    let t = wording::texts(locale);
    let at = |when: DateTime<Utc>| t.date_time(&when.with_timezone(&tz).fixed_offset(), tz.name());
    (at(from), at(to))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exported_copy_is_whole_from_a_sub_path() {
    let server = Server::start(&humanoid(), Probes::Off).await;
    let now = Utc::now();
    let incident = store::incidents::open(
        &server.db,
        &NewIncident {
            title: "FrAndroid injoignable".into(),
            impact: Impact::Major,
            status: IncidentStatus::Investigating,
            message: server::markdown::message("Nous **enquêtons**."),
            services: vec![("frandroid".into(), ComponentStatus::MajorOutage)],
            started_at: Some(now - TimeDelta::hours(1)),
            notify: false,
        },
        &Actor::cli(),
        now - TimeDelta::minutes(50),
    )
    .await
    .expect("open");
    server.hub.check(&server.db).await;
    let http = client();
    let live: serde_json::Value = http
        .get(format!("{}/api/v2/summary.json", server.base))
        .send()
        .await
        .expect("live summary")
        .json()
        .await
        .expect("JSON");

    let root = tempfile::tempdir().expect("temp dir");
    let out = root.path().join("mirror");
    let started = Utc::now();
    let status = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["export", "--out"])
        .arg(&out)
        .args(["--base-url", "https://status.example.org"])
        .env("VIGIE_CONFIG", humanoid_path())
        .env("VIGIE_DATABASE_URL", &server.database_url)
        .env("VIGIE_PROBES", "off")
        .status()
        .expect("vigie export runs");
    assert!(status.success());
    let exported_at = (started, Utc::now());
    assert!(out.join("index.html").is_file());
    assert!(out.join("en/index.html").is_file());
    assert!(
        std::fs::read_dir(root.path()).expect("list").count() == 1,
        "only the copy is left beside it"
    );

    // A plain static server, the copy under /mirror/.
    let mut python = Command::new("python3")
        .args([
            "-u",
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            "0",
            "--directory",
        ])
        .arg(root.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 http.server");
    let stdout = python.stdout.take().expect("stdout");
    let _python = Killed(python);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("banner");
    let port: u16 = line
        .split("port ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    let base = reqwest::Url::parse(&format!("http://127.0.0.1:{port}/mirror/")).expect("url");

    let mut queue: VecDeque<reqwest::Url> = [base.clone(), base.join("en/").expect("url")].into();
    let mut seen: HashSet<String> = queue.iter().map(ToString::to_string).collect();
    let mut pages = 0;
    let mut files = 0;
    while let Some(url) = queue.pop_front() {
        let r = http.get(url.clone()).send().await.expect("mirror answers");
        assert_eq!(r.status(), 200, "{url} is missing from the copy");
        files += 1;
        let html = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/html"));
        let body = r.text().await.expect("body");
        if !html {
            continue;
        }
        pages += 1;
        assert!(!body.contains("<script"), "{url} carries a script");
        assert!(
            body.contains("Copie statique générée le") || body.contains("Static copy generated on"),
            "{url} does not say when it was generated"
        );
        // Written as the pages write times: long date, the site's clock, labelled.
        let (fr, en) = (
            stamp(Locale::Fr, exported_at),
            stamp(Locale::En, exported_at),
        );
        assert!(
            body.contains(&fr.0)
                || body.contains(&fr.1)
                || body.contains(&en.0)
                || body.contains(&en.1),
            "{url} stamp is not {} nor {}: {}",
            fr.0,
            en.0,
            body[body.find("mirror-notice").unwrap_or(0)..]
                .chars()
                .take(300)
                .collect::<String>()
        );
        for link in links(&body) {
            let Ok(target) = url.join(&link) else {
                continue;
            };
            if target.host_str() != Some("127.0.0.1") || target.port() != Some(port) {
                continue;
            }
            assert!(
                target.path().starts_with("/mirror/"),
                "{url} links out of the sub-path: {link}"
            );
            // A static server ignores queries: a link with one would show the wrong page.
            assert_eq!(target.query(), None, "{url} links to {link}");
            let mut target = target;
            target.set_fragment(None);
            if seen.insert(target.to_string()) {
                queue.push_back(target);
            }
        }
    }
    assert!(pages > 20, "only {pages} pages");
    let incident_page = base
        .join(&format!("incidents/{}/", incident.id))
        .expect("url");
    assert!(
        seen.contains(incident_page.as_str()),
        "the incident page was linked"
    );
    eprintln!("crawled {files} files ({pages} pages) of the copy");

    for feed in ["feed.atom", "feed.rss", "en/feed.atom"] {
        let bytes = http
            .get(base.join(feed).expect("url"))
            .send()
            .await
            .expect("feed")
            .bytes()
            .await
            .expect("body");
        let parsed = feed_rs::parser::parse(&bytes[..]).unwrap_or_else(|e| panic!("{feed}: {e}"));
        assert!(!parsed.entries.is_empty(), "{feed} has the incident");
    }
    let copy: serde_json::Value = http
        .get(base.join("api/v2/summary.json").expect("url"))
        .send()
        .await
        .expect("summary")
        .json()
        .await
        .expect("JSON");
    assert_eq!(copy, live);
    let ics = http
        .get(base.join("maintenance.ics").expect("url"))
        .send()
        .await
        .expect("ics")
        .text()
        .await
        .expect("text");
    assert!(ics.starts_with("BEGIN:VCALENDAR"));
}
