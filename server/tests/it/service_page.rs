//! `/services/{slug}` and the 90-day bars of `/`, over HTTP, with history seeded through the
//! store: status events (an outage three days ago, a partial outage now), probe results
//! (latency rollups, per-location latest results) and an incident.

use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use domain::config::Slug;
use domain::incident::{Impact, IncidentStatus};
use domain::monitor_state::MonitorState;
use domain::status::{CheckOutcome, ComponentStatus, ServiceState};
use domain::topology::{Owner, StatusChange};
use store::audit::Actor;
use store::checks::NewCheck;
use store::history::Observation;
use store::incidents::{Message, NewIncident, NewUpdate};

use crate::common;

struct TestApp {
    base: String,
    client: reqwest::Client,
    db: store::Db,
    _server: common::Server,
}

/// The Humanoid catalog on 127.0.0.1:0 with the probe engine off (its targets are public
/// addresses: the history here is seeded, not probed).
async fn spawn_app() -> TestApp {
    let server = common::Server::start(&common::humanoid(), common::Probes::Off).await;
    TestApp {
        base: server.base.clone(),
        client: common::client(),
        db: server.db.clone(),
        _server: server,
    }
}

impl TestApp {
    async fn get(&self, path: &str) -> (u16, String) {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        (status, res.text().await.expect("body"))
    }
}

fn frandroid() -> Owner {
    Owner::Service(Slug::parse("frandroid").expect("slug"))
}

async fn set_status(
    db: &store::Db,
    to: ComponentStatus,
    cause: Option<domain::topology::Cause>,
    at: DateTime<Utc>,
) {
    store::status::apply(
        db,
        &[StatusChange {
            subject: frandroid(),
            from: None,
            to: ServiceState::Known(to),
            cause: cause.map(|c| c.to_stored()),
            at,
        }],
    )
    .await
    .expect("status recorded");
}

fn observation(monitor_id: i64, location: &str, at: DateTime<Utc>, latency: i32) -> Observation {
    Observation {
        check: NewCheck {
            monitor_id,
            location_id: location.to_owned(),
            checked_at: at,
            outcome: CheckOutcome::Up,
            latency_ms: Some(latency),
            status_code: Some(200),
            reason: None,
        },
        interval: Duration::from_secs(30),
        state: MonitorState {
            confirmed: Some(CheckOutcome::Up),
            since: Some(at),
            candidate: Some(CheckOutcome::Up),
            streak: 2,
            last: Some(CheckOutcome::Up),
            last_at: Some(at),
            last_reason: None,
        },
        transition: None,
    }
}

/// What the seeded history is made of.
struct Seeded {
    outage_day: NaiveDate,
    incident_id: i64,
    now: DateTime<Utc>,
}

const INCIDENT_TITLE: &str = "Coupure des hôtes phys-1 et phys-2";

/// FrAndroid: operational from 10 days ago; a 6-hour major outage three days ago (08:00 to
/// 14:00 UTC, the same local day in Paris) with its incident; a partial outage for the last
/// 2 h 10 min. Probe results at Paris (≈120 ms) and Amsterdam (≈300 ms) every hour for a day,
/// every day for 30 days, and a fresh one now.
async fn seed(db: &store::Db) -> Seeded {
    let now = Utc::now();
    let outage_day = (now - TimeDelta::days(3)).date_naive();
    let outage_start = outage_day.and_hms_opt(8, 0, 0).expect("time").and_utc();
    let outage_end = outage_start + TimeDelta::hours(6);
    set_status(
        db,
        ComponentStatus::Operational,
        None,
        now - TimeDelta::days(10),
    )
    .await;
    set_status(
        db,
        ComponentStatus::MajorOutage,
        Some(domain::topology::Cause::Host {
            host: Slug::parse("phys-2").expect("slug"),
        }),
        outage_start,
    )
    .await;
    set_status(db, ComponentStatus::Operational, None, outage_end).await;
    set_status(
        db,
        ComponentStatus::PartialOutage,
        Some(domain::topology::Cause::Dependency {
            service: Slug::parse("databases").expect("slug"),
        }),
        now - TimeDelta::minutes(130),
    )
    .await;

    let message = |text: &str| Message {
        markdown: text.to_owned(),
        html: format!("<p>{text}</p>"),
    };
    let incident = store::incidents::open(
        db,
        &NewIncident {
            title: INCIDENT_TITLE.to_owned(),
            impact: Impact::Major,
            status: IncidentStatus::Investigating,
            message: message("Les sites sont injoignables."),
            services: vec![("frandroid".to_owned(), ComponentStatus::MajorOutage)],
            started_at: Some(outage_start),
            notify: false,
        },
        &Actor::cli(),
        outage_start + TimeDelta::minutes(5),
    )
    .await
    .expect("incident opened");
    store::incidents::post_update(
        db,
        incident.id,
        &NewUpdate {
            status: IncidentStatus::Resolved,
            message: message("Les hôtes sont rendus."),
            services: vec![("frandroid".to_owned(), ComponentStatus::Operational)],
        },
        &Actor::cli(),
        outage_end,
    )
    .await
    .expect("incident resolved");

    let monitor = store::checks::monitor_id(
        db,
        &store::catalog::service_monitor_key("frandroid", "home"),
    )
    .await
    .expect("monitor read")
    .expect("frandroid/home is in the catalog");
    let mut batch = Vec::new();
    for d in (1..30).rev() {
        let at = now - TimeDelta::days(d) + TimeDelta::minutes(1);
        batch.push(observation(monitor, "paris", at, 110));
        batch.push(observation(monitor, "amsterdam", at, 290));
    }
    for h in (1..24).rev() {
        let at = now - TimeDelta::hours(h);
        batch.push(observation(monitor, "paris", at, 120));
        batch.push(observation(monitor, "amsterdam", at, 300));
    }
    batch.push(observation(
        monitor,
        "paris",
        now - TimeDelta::seconds(2),
        123,
    ));
    batch.push(observation(
        monitor,
        "amsterdam",
        now - TimeDelta::seconds(2),
        310,
    ));
    store::history::record_batch(db, &batch)
        .await
        .expect("results recorded");
    Seeded {
        outage_day,
        incident_id: incident.id,
        now,
    }
}

/// The uptime the page must show over `[now - window, now)`: monitored time starts 10 days
/// ago; the outage weighs 6 h, the partial outage 30 % of its 2 h 10 min.
fn expected_uptime(window_hours: f64) -> f64 {
    let counted = window_hours.min(240.0);
    let partial = 0.3 * (130.0 / 60.0);
    let down = if window_hours >= 72.0 {
        6.0 + partial
    } else {
        partial
    };
    100.0 * (1.0 - down / counted)
}

fn fr_percent(p: f64) -> String {
    format!("{:.2} %", (p * 100.0).floor() / 100.0).replace('.', ",")
}

/// The `<li>` of one service on `/`.
fn service_item<'a>(html: &'a str, slug: &str) -> &'a str {
    let start = html
        .find(&format!("data-service=\"{slug}\""))
        .unwrap_or_else(|| panic!("{slug} is listed"));
    let rest = &html[start..];
    // Up to the next service.
    let end = rest[1..]
        .find("data-service=\"")
        .map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

/// The class of the day segment of `date` inside `html`.
fn day_class(html: &str, date: NaiveDate) -> String {
    let marker = format!("data-date=\"{}\"", date.format("%Y-%m-%d"));
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("a segment for {date}"));
    let open = html[..at].rfind("<g").expect("segment opens");
    let tag = &html[open..open + html[open..].find('>').expect("tag closes")];
    let class = tag
        .split("class=\"")
        .nth(1)
        .and_then(|c| c.split('"').next())
        .expect("segment has a class");
    class.to_owned()
}

/// The path data of the chart line with class `class`.
fn path_d(html: &str, class: &str) -> String {
    html.split("<path ")
        .skip(1)
        .map(|p| &p[..p.find('>').unwrap_or(p.len())])
        .find(|tag| tag.contains(&format!("class=\"{class}\"")))
        .and_then(|tag| tag.split("d=\"").nth(1))
        .and_then(|d| d.split('"').next())
        .unwrap_or_default()
        .to_owned()
}

async fn service_page_shows_status_uptime_chart_locations_incidents_and_feeds() {
    let app = spawn_app().await;
    let seeded = seed(&app.db).await;
    let (status, html) = app.get("/services/frandroid").await;
    assert_eq!(status, 200);
    assert!(html.contains("<title>FrAndroid — Humanoid — état des services</title>"));
    assert!(html.contains("Panne partielle"), "status words");
    assert!(html.contains("dépend de databases"), "inherited cause");
    assert!(html.contains("Actualité Android, tests et bons plans."));
    assert!(html.contains("href=\"https://www.frandroid.com/\""));

    for (window, hours) in [
        ("24h", 24.0),
        ("7d", 168.0),
        ("30d", 720.0),
        ("90d", 2160.0),
    ] {
        let figure = fr_percent(expected_uptime(hours));
        let cell = format!("data-window=\"{window}\"");
        let at = html
            .find(&cell)
            .unwrap_or_else(|| panic!("{window} uptime"));
        assert!(
            html[at..at + 200].contains(&figure),
            "{window} uptime should read {figure}: {}",
            &html[at..at + 200]
        );
    }

    // The chart: both lines drawn, an accessible name, a summary, labelled axes.
    assert!(path_d(&html, "line p95").starts_with('M'), "p95 line drawn");
    assert!(path_d(&html, "line p50").starts_with('M'), "p50 line drawn");
    assert!(html.contains("Temps de réponse de FrAndroid sur 24 h"));
    assert!(html.contains("pire p95"), "text summary");
    assert!(html.contains(">200 ms</text>"), "value axis ticks");
    // Range switch as plain links, the current one marked.
    assert!(html.contains("href=\"?range=7d\""));
    assert!(html.contains("href=\"?range=30d\""));
    assert!(html.contains("href=\"?range=24h\" aria-current=\"page\""));

    // Latest result per location.
    assert!(html.contains("Amsterdam") && html.contains("Paris"));
    assert!(html.contains("123 ms") && html.contains("310 ms"));
    assert!(html.contains("En ligne"));
    // Monitors without their target.
    assert!(html.contains("http, toutes les 30 s"));

    // The incident, linked.
    assert!(html.contains(&format!(
        "<a href=\"/incidents/{}\">{INCIDENT_TITLE}</a>",
        seeded.incident_id
    )));
    assert!(html.contains("Résolu"));

    // Feeds: links in the page and autodiscovery in the head.
    let head = &html[..html.find("</head>").expect("head")];
    assert!(head.contains("rel=\"alternate\""));
    assert!(head.contains("href=\"/services/frandroid/feed.rss\""));
    assert!(head.contains("href=\"/services/frandroid/feed.atom\""));

    // The bar on the service page shows the outage day, and its tooltip is in the markup
    // (the page has no island): localised date, uptime, the incident linked.
    assert!(day_class(&html, seeded.outage_day).starts_with("day day-"));
    assert!(!day_class(&html, seeded.outage_day).starts_with("day day-operational"));
    let seg = segment(&html, seeded.outage_day);
    let tip = &seg[seg.find("<div class=\"day-tip").expect("the day's tooltip")..];
    assert!(tip.contains(&format!(">{}</p>", fr_date(seeded.outage_day))));
    assert!(
        tip.contains("75,00 % · Panne majeure"),
        "18 of 24 hours up: {tip}"
    );
    assert!(tip.contains(&format!(
        "<a href=\"/incidents/{}\">{INCIDENT_TITLE}</a>",
        seeded.incident_id
    )));
    assert_eq!(
        html.matches("<div class=\"day-tip").count(),
        90,
        "one per day"
    );
}

/// The markup of the day segment of `date`, up to its end.
fn segment(html: &str, date: NaiveDate) -> &str {
    let marker = format!("data-date=\"{}\"", date.format("%Y-%m-%d"));
    let seg = &html[html.find(&marker).expect("segment")..];
    &seg[..seg.find("</g>").expect("segment closes")]
}

/// A date as the French pages write it: "3 novembre 2026" (issue 15: one date format per
/// language, the long one everywhere but the chart's axis).
fn fr_date(date: NaiveDate) -> String {
    const MONTHS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    format!(
        "{} {} {}",
        date.day(),
        MONTHS[date.month0() as usize],
        date.year()
    )
}

async fn service_page_switches_range_and_speaks_english() {
    let app = spawn_app().await;
    let seeded = seed(&app.db).await;
    let (status, html) = app.get("/services/frandroid?range=30d").await;
    assert_eq!(status, 200);
    assert!(html.contains("href=\"?range=30d\" aria-current=\"page\""));
    assert!(html.contains("Temps de réponse de FrAndroid sur 30 jours"));
    assert!(path_d(&html, "line p95").starts_with('M'), "daily p95 line");
    // The daily axis is labelled with the site's dates: the last label is today in Paris.
    let today = seeded
        .now
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive();
    let months = [
        "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
        "déc.",
    ];
    let label = format!("{} {}</text>", today.day(), months[today.month0() as usize]);
    assert!(html.contains(&label), "axis label {label}");

    let (status, html) = app.get("/services/frandroid?range=7d&lang=en").await;
    assert_eq!(status, 200);
    assert!(html.contains("<html lang=\"en\""));
    assert!(html.contains("Partial outage"));
    assert!(html.contains("FrAndroid response time over 7 days"));
    let figure = format!("{:.2}%", (expected_uptime(24.0) * 100.0).floor() / 100.0);
    assert!(html.contains(&figure), "English number format {figure}");
    // The language is kept on the range links, and on the incident links of the list and of
    // the bar's tooltips.
    assert!(html.contains("href=\"?range=30d&amp;lang=en\""));
    let incident = format!("href=\"/incidents/{}?lang=en\"", seeded.incident_id);
    assert_eq!(html.matches(&incident).count(), 2, "{incident}");
}

/// The 30-day chart's days are Paris days: a slow hour at 23:30 UTC belongs to the next day
/// in Paris (UTC+1 or +2), and the chart says so in its summary and under it.
async fn thirty_day_chart_groups_by_the_sites_day() {
    let app = spawn_app().await;
    let seeded = seed(&app.db).await;
    let utc_day = (seeded.now - TimeDelta::days(5)).date_naive();
    let paris_day = utc_day.succ_opt().expect("a next day");
    let monitor = store::checks::monitor_id(
        &app.db,
        &store::catalog::service_monitor_key("frandroid", "home"),
    )
    .await
    .expect("monitor read")
    .expect("frandroid/home is in the catalog");
    let late = utc_day.and_hms_opt(23, 30, 0).expect("time").and_utc();
    store::history::record_batch(&app.db, &[observation(monitor, "paris", late, 4_321)])
        .await
        .expect("result recorded");

    let (status, html) = app.get("/services/frandroid?range=30d").await;
    assert_eq!(status, 200);
    let summary = &html[html.find("<p class=\"chart-summary\">").expect("summary")..];
    let summary = &summary[..summary.find("</p>").expect("summary ends")];
    assert!(
        summary.contains(&format!("({}).", fr_date(paris_day))),
        "the slow hour is on {paris_day} in Paris: {summary}"
    );
    assert!(html.contains("Un point par jour, de minuit à minuit (heure de Paris)."));
    assert!(!html.contains("UTC"), "no UTC day left on the page");

    let (_, html) = app.get("/services/frandroid?range=30d&lang=en").await;
    assert!(html.contains("One point per day, midnight to midnight (Paris time)."));
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let today = seeded
        .now
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive();
    let label = format!("{} {}</text>", today.day(), months[today.month0() as usize]);
    assert!(
        html.contains(&label),
        "the last axis label is today in Paris: {label}"
    );
}

async fn unknown_service_is_the_404_page() {
    let app = spawn_app().await;
    let (status, html) = app.get("/services/no-such-service").await;
    assert_eq!(status, 404);
    assert!(html.contains("Page introuvable"));
    let (status, _) = app.get("/services/no-such-service?range=30d").await;
    assert_eq!(status, 404);
}

async fn overview_bars_show_the_outage_day_with_its_incident_and_link_each_service() {
    let app = spawn_app().await;
    let seeded = seed(&app.db).await;
    let (status, html) = app.get("/").await;
    assert_eq!(status, 200);
    let item = service_item(&html, "frandroid");
    assert!(
        item.contains("href=\"/services/frandroid\""),
        "name links to the page"
    );
    assert!(
        item.contains("<svg class=\"day-bar\""),
        "the bar's markup contract"
    );
    assert_eq!(
        item.matches("data-date=").count(),
        90,
        "one segment per day"
    );
    // Six hours of major outage: the worst level of the bar.
    assert!(
        day_class(item, seeded.outage_day).starts_with("day day-critical"),
        "outage day is critical: {}",
        day_class(item, seeded.outage_day)
    );
    let calm = seeded.outage_day - TimeDelta::days(2);
    assert!(day_class(item, calm).starts_with("day day-operational"));
    let before = seeded.outage_day - TimeDelta::days(20);
    assert!(
        day_class(item, before).starts_with("day day-no-data"),
        "before monitoring began there is no data, never green"
    );
    // The outage day names itself in its title: localised date, uptime, the incident. Its
    // visible tooltip is drawn by the island (one per bar), so no segment carries one.
    let seg = segment(item, seeded.outage_day);
    let title = format!(
        "<title>{} — 75,00 % · Panne majeure — {INCIDENT_TITLE}</title>",
        fr_date(seeded.outage_day)
    );
    assert!(seg.contains(&title), "{title} in {seg}");
    assert!(seg.contains("tabindex=\"0\""), "focusable");
    assert!(!html.contains("day-tip"), "no tooltip markup in the page");
    // The 90-day figure and the legend in words.
    assert!(item.contains(&fr_percent(expected_uptime(2160.0))));
    assert!(html.contains("Légende des barres de disponibilité"));
    assert!(html.contains("Panne majeure"));
    // A service without history: every day is no data, the figure says so.
    let forum = service_item(&html, "forum");
    assert_eq!(forum.matches("day day-no-data").count(), 90);
}

on_both!(
    service_page_shows_status_uptime_chart_locations_incidents_and_feeds,
    service_page_switches_range_and_speaks_english,
    thirty_day_chart_groups_by_the_sites_day,
    unknown_service_is_the_404_page,
    overview_bars_show_the_outage_day_with_its_incident_and_link_each_service,
);
