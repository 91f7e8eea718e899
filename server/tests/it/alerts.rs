//! Staff alerts end to end: `[[alerts]]` channels pointed at receivers on loopback that check
//! what each service expects (Slack, Discord, Teams, Telegram, ntfy, Matrix, the signed
//! webhook) and the e-mail channel against aiosmtpd. Status changes are recorded through the
//! store as the probe engine records them; the server's own outbox sender delivers.
//! Also: component status-change webhooks for subscribers.

use crate::common;

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, Method, StatusCode};
use chrono::{DateTime, Duration, Utc};
use common::smtp::Sink;
use common::{Probes, Server};
use domain::config::notify::{AlertChannel, AlertKind, Smtp};
use domain::config::Slug;
use domain::status::{ComponentStatus, ServiceState};
use domain::topology::{Owner, StatusChange};
use serde_json::Value;
use store::audit::Actor;
use store::subscribers::{Wanted, WEBHOOK};

/// One request a receiver got.
#[derive(Clone, Debug)]
struct Call {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Call {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// A receiver on 127.0.0.1 answering 200 to everything and keeping every request.
#[derive(Clone)]
struct Receiver {
    base: String,
    got: Arc<Mutex<Vec<Call>>>,
}

impl Receiver {
    async fn start() -> Receiver {
        let got: Arc<Mutex<Vec<Call>>> = Arc::default();
        let keep = got.clone();
        let app = axum::Router::new().fallback(
            move |method: Method,
                  uri: axum::http::Uri,
                  headers: HeaderMap,
                  body: axum::body::Bytes| {
                let keep = keep.clone();
                async move {
                    keep.lock().unwrap().push(Call {
                        method,
                        path: uri.path().to_owned(),
                        headers,
                        body: body.to_vec(),
                    });
                    (StatusCode::OK, "{\"ok\":true}")
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            base: format!("http://{addr}"),
            got,
        }
    }

    fn calls(&self) -> Vec<Call> {
        self.got.lock().unwrap().clone()
    }

    async fn wait_for(&self, n: usize) -> Vec<Call> {
        for _ in 0..300 {
            if self.calls().len() >= n {
                return self.calls();
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "{n} calls expected at {}, got {}",
            self.base,
            self.calls().len()
        );
    }
}

fn slug(s: &str) -> Slug {
    Slug::parse(s).unwrap()
}

fn channel(name: &str, kind: AlertKind) -> AlertChannel {
    AlertChannel {
        name: slug(name),
        kind,
        url: None,
        url_env: None,
        to: None,
        chat_id: None,
        room: None,
        token_env: None,
        token: None,
    }
}

const DOWN: ServiceState = ServiceState::Known(ComponentStatus::MajorOutage);
const UP: ServiceState = ServiceState::Known(ComponentStatus::Operational);
const MAINT: ServiceState = ServiceState::Known(ComponentStatus::UnderMaintenance);

fn change(
    subject: Owner,
    from: Option<ServiceState>,
    to: ServiceState,
    cause: Option<&str>,
    at: DateTime<Utc>,
) -> StatusChange {
    StatusChange {
        subject,
        from,
        to,
        cause: cause.map(str::to_owned),
        at,
    }
}

fn host(h: &str) -> Owner {
    Owner::Host(slug(h))
}
fn service(s: &str) -> Owner {
    Owner::Service(slug(s))
}

/// Waits until the outbox has nothing left to do.
async fn drained(db: &store::Db) {
    for _ in 0..300 {
        if store::outbox::send::waiting(db).await.unwrap() == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the outbox never drained");
}

/// Checks the signature header the way docs/notifications.md tells receivers to.
fn verify(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let sig = headers
        .get("x-vigie-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut t = "";
    let mut v1 = "";
    for part in sig.split(',') {
        match part.split_once('=') {
            Some(("t", x)) => t = x,
            Some(("v1", x)) => v1 = x,
            _ => {}
        }
    }
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let signed = [t.as_bytes(), b".", body].concat();
    hex::decode(v1).is_ok_and(|mac| ring::hmac::verify(&key, &signed, &mac).is_ok())
}

const TELEGRAM_TOKEN: &str = "123456:telegram-secret-token";

async fn every_channel_gets_one_alert_per_cause_in_the_shape_its_service_expects() {
    let sink = Sink::start(&[]);
    let names = [
        "slack", "discord", "teams", "telegram", "ntfy", "matrix", "webhook",
    ];
    let mut receivers = Vec::new();
    for _ in names {
        receivers.push(Receiver::start().await);
    }
    let r = |name: &str| receivers[names.iter().position(|n| *n == name).unwrap()].clone();
    let secrets = tempfile::tempdir().unwrap();
    let file = |name: &str, value: &str| {
        let p = secrets.path().join(name);
        std::fs::write(&p, format!("{value}\n")).unwrap();
        format!("${{file:{}}}", p.display())
    };
    // The same value in both database runs, so setting it from both is no race.
    std::env::set_var("VIGIE_TEST_ALERTS_TELEGRAM", TELEGRAM_TOKEN);

    let mut catalog = common::humanoid();
    catalog.notifications.allow_networks = vec!["127.0.0.0/8".into()];
    catalog.notifications.smtp = Some(Smtp {
        url: sink.url(),
        from: "status@example.org".into(),
        credentials_file: None,
    });
    let mut slack = channel("slack", AlertKind::Slack);
    slack.url = Some(file(
        "slack-url",
        &format!("{}/services/T0/B0/XXX", r("slack").base),
    ));
    let mut discord = channel("discord", AlertKind::Discord);
    discord.url = Some(format!("{}/api/webhooks/1/abc", r("discord").base));
    let mut teams = channel("teams", AlertKind::Teams);
    teams.url = Some(format!("{}/workflows/run", r("teams").base));
    let mut telegram = channel("telegram", AlertKind::Telegram);
    telegram.url = Some(r("telegram").base);
    telegram.chat_id = Some("-10042".into());
    telegram.token = Some("${env:VIGIE_TEST_ALERTS_TELEGRAM}".into());
    let mut ntfy = channel("ntfy", AlertKind::Ntfy);
    ntfy.url = Some(format!("{}/vigie-alerts", r("ntfy").base));
    ntfy.token = Some(file("ntfy-token", "tk_ntfy"));
    let mut matrix = channel("matrix", AlertKind::Matrix);
    matrix.url = Some(r("matrix").base);
    matrix.room = Some("!ops:example.org".into());
    matrix.token = Some(file("matrix-token", "syt_matrix"));
    let mut webhook = channel("webhook", AlertKind::Webhook);
    webhook.url = Some(format!("{}/hook", r("webhook").base));
    webhook.token = Some(file("webhook-secret", "whsec"));
    let mut email = channel("ops-mail", AlertKind::Email);
    email.to = Some("ops@example.org".into());
    catalog.alerts = vec![
        slack, discord, teams, telegram, ntfy, matrix, webhook, email,
    ];

    let app = Server::start(&catalog, Probes::Off).await;
    let db = &app.db;
    let t0 = Utc::now();
    let on_phys2 = ["frandroid", "appxoid", "lesardoises"];
    // The first look: everything up. No alert (nothing was in trouble).
    let mut first = vec![change(host("phys-2"), None, UP, None, t0)];
    first.extend(
        on_phys2
            .iter()
            .chain(&["mobs"])
            .map(|s| change(service(s), None, UP, None, t0)),
    );
    store::status::apply(db, &first).await.unwrap();

    // phys-2 dies: it, a VM on it and three services, in one decision.
    let t1 = t0 + Duration::seconds(10);
    let cause = domain::topology::Cause::Host {
        host: domain::config::Slug::parse("phys-2").expect("slug"),
    }
    .to_stored();
    let cause = cause.as_str();
    let mut down = vec![
        change(
            host("phys-2"),
            Some(UP),
            DOWN,
            Some("down: monitor ping down"),
            t1,
        ),
        change(host("vm-frandroid"), None, DOWN, Some(cause), t1),
    ];
    down.extend(
        on_phys2
            .iter()
            .map(|s| change(service(s), Some(UP), DOWN, Some(cause), t1)),
    );
    store::status::apply(db, &down).await.unwrap();

    for name in names {
        let calls = r(name).wait_for(1).await;
        let c = &calls[0];
        let v = c.json();
        let all = v.to_string();
        assert!(
            all.contains("phys-2") && all.contains("FrAndroid") && all.contains("LesArdoises"),
            "{name}: the host and every service it took down: {all}"
        );
        match name {
            "slack" => {
                assert_eq!(c.path, "/services/T0/B0/XXX");
                assert!(v["text"].as_str().unwrap().contains("Panne"));
                assert_eq!(v["blocks"][0]["type"], "header");
                assert_eq!(v["blocks"][1]["text"]["type"], "mrkdwn");
            }
            "discord" => {
                assert!(v["content"].as_str().unwrap().contains("phys-2"));
                assert!(v["embeds"][0]["title"].is_string());
                assert!(v["embeds"][0]["color"].is_u64());
                assert_eq!(v["allowed_mentions"]["parse"], serde_json::json!([]));
            }
            "teams" => {
                assert_eq!(v["type"], "message");
                let a = &v["attachments"][0];
                assert_eq!(a["contentType"], "application/vnd.microsoft.card.adaptive");
                assert_eq!(a["content"]["type"], "AdaptiveCard");
                assert_eq!(a["content"]["body"][0]["type"], "TextBlock");
            }
            "telegram" => {
                assert_eq!(c.path, format!("/bot{TELEGRAM_TOKEN}/sendMessage"));
                assert_eq!(v["chat_id"], "-10042");
                assert!(v["text"].as_str().unwrap().starts_with("🔴"));
            }
            "ntfy" => {
                assert_eq!(c.path, "/");
                assert_eq!(v["topic"], "vigie-alerts");
                assert_eq!(v["priority"], 5);
                assert_eq!(c.headers["authorization"], "Bearer tk_ntfy");
            }
            "matrix" => {
                assert_eq!(c.method, Method::PUT);
                let path = c.path.replace("%21", "!").replace("%3A", ":");
                assert!(
                    path.starts_with(
                        "/_matrix/client/v3/rooms/!ops:example.org/send/m.room.message/vigie-"
                    ),
                    "{path}"
                );
                assert_eq!(v["msgtype"], "m.text");
                assert_eq!(v["format"], "org.matrix.custom.html");
                assert_eq!(c.headers["authorization"], "Bearer syt_matrix");
            }
            "webhook" => {
                assert!(verify("whsec", &c.headers, &c.body), "signed");
                assert!(!verify("other", &c.headers, &c.body));
                assert_eq!(v["event_type"], "alert");
                assert_eq!(v["alert"]["kind"], "down");
                assert_eq!(v["alert"]["host"], "phys-2");
                assert_eq!(v["alert"]["services"].as_array().unwrap().len(), 3);
                assert!(v["page"]["id"].is_string());
            }
            _ => unreachable!(),
        }
    }
    let mails = sink.wait_for(1).await;
    assert_eq!(mails[0].to, "ops@example.org");
    assert!(mails[0].subject.contains("phys-2"), "{}", mails[0].subject);
    assert!(mails[0].text.contains("FrAndroid"));
    drained(db).await;
    for name in names {
        assert_eq!(r(name).calls().len(), 1, "{name}: one alert for one cause");
    }

    // Back up: one recovery alert per channel.
    let t2 = t1 + Duration::seconds(10);
    let mut up = vec![
        change(host("phys-2"), Some(DOWN), UP, None, t2),
        change(host("vm-frandroid"), Some(DOWN), UP, None, t2),
    ];
    up.extend(
        on_phys2
            .iter()
            .map(|s| change(service(s), Some(DOWN), UP, None, t2)),
    );
    store::status::apply(db, &up).await.unwrap();
    for name in names {
        let calls = r(name).wait_for(2).await;
        assert!(calls[1].json().to_string().contains("phys-2"), "{name}");
    }
    assert!(r("webhook").calls()[1].json()["alert"]["kind"] == "recovered");
    assert!(r("slack").calls()[1].json()["text"]
        .as_str()
        .unwrap()
        .contains("Rétabli"));

    // Maintenance starts and ends: no alert.
    let t3 = t2 + Duration::seconds(10);
    store::status::apply(
        db,
        &[change(
            service("mobs"),
            Some(UP),
            MAINT,
            Some("maintenance: scheduled maintenance"),
            t3,
        )],
    )
    .await
    .unwrap();
    store::status::apply(
        db,
        &[change(
            service("mobs"),
            Some(MAINT),
            UP,
            None,
            t3 + Duration::seconds(1),
        )],
    )
    .await
    .unwrap();
    drained(db).await;
    assert_eq!(r("discord").calls().len(), 2, "maintenance alerts nobody");

    // Flapping: down, up, down, up alert; the fifth change says it flaps; then silence.
    let mut at = t3 + Duration::seconds(10);
    let mut state = UP;
    for _ in 0..7 {
        let next = if state == UP { DOWN } else { UP };
        let cause = (next == DOWN).then_some("down: monitor home down");
        store::status::apply(db, &[change(service("mobs"), Some(state), next, cause, at)])
            .await
            .unwrap();
        state = next;
        at += Duration::seconds(30);
    }
    drained(db).await;
    let kinds: Vec<String> = r("webhook").calls()[2..]
        .iter()
        .map(|c| c.json()["alert"]["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kinds,
        ["down", "recovered", "down", "recovered", "flapping"],
        "one flapping alert, then nothing"
    );

    // A new incident draft is an alert too.
    store::incidents::drafts::propose(db, at + Duration::hours(1), Duration::minutes(5))
        .await
        .unwrap()
        .expect("mobs has been down long enough");
    let calls = r("webhook").wait_for(8).await;
    assert_eq!(calls[7].json()["alert"]["kind"], "draft");
    let t = r("telegram").wait_for(8).await[7].json()["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(t.contains("Brouillon") && t.contains("Mobs"), "{t}");

    // Secrets never reach the delivery log.
    drained(db).await;
    let log = store::outbox::recent(db, Some("alert"), None, 500)
        .await
        .unwrap();
    assert_eq!(log.len(), 8 * 8, "eight alerts to eight channels");
    for d in &log {
        assert_eq!(d.state, store::outbox::state::SENT, "{d:?}");
        let seen = format!("{d:?}");
        for secret in [TELEGRAM_TOKEN, "tk_ntfy", "syt_matrix", "whsec", "XXX"] {
            assert!(!seen.contains(secret), "{secret} in {seen}");
        }
    }
}

async fn webhook_subscribers_get_component_status_changes() {
    let mut catalog = common::humanoid();
    catalog.notifications.allow_networks = vec!["127.0.0.0/8".into()];
    let app = Server::start(&catalog, Probes::Off).await;
    let all = Receiver::start().await;
    let mobs_only = Receiver::start().await;
    for (r, services) in [(&all, None), (&mobs_only, Some(vec!["mobs".to_owned()]))] {
        store::subscribers::confirm(
            &app.db,
            &Wanted {
                kind: WEBHOOK.into(),
                address: format!("{}/hook", r.base),
                contact: None,
                language: "en".into(),
                services,
            },
            Some(&Actor::cli()),
            Utc::now(),
        )
        .await
        .unwrap();
    }
    let t0 = Utc::now();
    store::status::apply(
        &app.db,
        &[
            change(service("frandroid"), None, UP, None, t0),
            change(service("mobs"), None, UP, None, t0),
        ],
    )
    .await
    .unwrap();
    let t1 = t0 + Duration::seconds(5);
    store::status::apply(
        &app.db,
        &[change(
            service("frandroid"),
            Some(UP),
            DOWN,
            Some("down: monitor home down"),
            t1,
        )],
    )
    .await
    .unwrap();
    let c = &all.wait_for(1).await[0];
    let v = c.json();
    assert_eq!(v["event_type"], "component.updated");
    assert_eq!(v["component"]["id"], "frandroid");
    assert_eq!(v["component"]["name"], "FrAndroid");
    assert_eq!(v["component"]["status"], "major_outage");
    let u = &v["component_update"];
    assert_eq!(u["component_id"], "frandroid");
    assert_eq!(u["old_status"], "operational");
    assert_eq!(u["new_status"], "major_outage");
    assert_eq!(u["component_type"], "service");
    assert!(u["id"].is_string() && u["created_at"].is_string());
    assert!(v["meta"]["unsubscribe"].is_string() && v["page"]["id"].is_string());
    drained(&app.db).await;
    assert!(mobs_only.calls().is_empty(), "a change of another service");
    store::status::apply(
        &app.db,
        &[change(
            service("mobs"),
            Some(UP),
            MAINT,
            Some("maintenance: scheduled maintenance"),
            t1,
        )],
    )
    .await
    .unwrap();
    let v = mobs_only.wait_for(1).await[0].json();
    assert_eq!(v["component_update"]["new_status"], "under_maintenance");
    assert_eq!(all.wait_for(2).await.len(), 2);
}

/// A catalog whose alerts go to a signed webhook and an ntfy topic on loopback receivers.
async fn with_receivers() -> (domain::config::Catalog, Receiver, Receiver) {
    let hook = Receiver::start().await;
    let ntfy = Receiver::start().await;
    let mut catalog = common::humanoid();
    catalog.notifications.allow_networks = vec!["127.0.0.0/8".into()];
    let mut webhook = channel("webhook", AlertKind::Webhook);
    webhook.url = Some(format!("{}/hook", hook.base));
    // The same value in every test, so setting it from several is no race.
    std::env::set_var("VIGIE_TEST_ALERTS_HOOK_SECRET", "whsec-test");
    webhook.token = Some("${env:VIGIE_TEST_ALERTS_HOOK_SECRET}".into());
    let mut topic = channel("ntfy", AlertKind::Ntfy);
    topic.url = Some(format!("{}/vigie-alerts", ntfy.base));
    catalog.alerts = vec![webhook, topic];
    (catalog, hook, ntfy)
}

fn kinds(r: &Receiver) -> Vec<String> {
    r.calls()
        .iter()
        .map(|c| c.json()["alert"]["kind"].as_str().unwrap_or("?").to_owned())
        .collect()
}

/// phys-3 runs one VM and on it one service, Backups: while Backups is under maintenance the
/// host going down and coming back alerts nobody; once the maintenance is over it does.
async fn a_host_whose_every_service_is_in_maintenance_alerts_nobody() {
    let (catalog, hook, _ntfy) = with_receivers().await;
    let app = Server::start(&catalog, Probes::Off).await;
    let db = &app.db;
    let t0 = Utc::now();
    let s = Duration::seconds;
    store::status::apply(
        db,
        &[
            change(host("phys-3"), None, UP, None, t0),
            change(host("vm-backup"), None, UP, None, t0),
            change(service("backups"), None, UP, None, t0),
        ],
    )
    .await
    .unwrap();
    let maintenance = Some(r#"{"kind":"maintenance"}"#);
    store::status::apply(
        db,
        &[change(
            service("backups"),
            Some(UP),
            MAINT,
            maintenance,
            t0 + s(1),
        )],
    )
    .await
    .unwrap();
    let cause = domain::topology::Cause::Host {
        host: slug("phys-3"),
    }
    .to_stored();
    // The host is worked on: it goes down and comes back, its service stays in maintenance.
    let down = |at| {
        vec![
            change(
                host("phys-3"),
                Some(UP),
                DOWN,
                Some("down: monitor ping down"),
                at,
            ),
            change(host("vm-backup"), Some(UP), DOWN, Some(cause.as_str()), at),
        ]
    };
    let up = |at| {
        vec![
            change(host("phys-3"), Some(DOWN), UP, None, at),
            change(host("vm-backup"), Some(DOWN), UP, None, at),
        ]
    };
    store::status::apply(db, &down(t0 + s(2))).await.unwrap();
    store::status::apply(db, &up(t0 + s(3))).await.unwrap();
    drained(db).await;
    assert_eq!(
        kinds(&hook),
        Vec::<String>::new(),
        "nothing while in maintenance"
    );

    // The maintenance is over: the same host going down is news, and names its service.
    store::status::apply(
        db,
        &[change(service("backups"), Some(MAINT), UP, None, t0 + s(4))],
    )
    .await
    .unwrap();
    let mut again = down(t0 + s(5));
    again.push(change(
        service("backups"),
        Some(UP),
        DOWN,
        Some(cause.as_str()),
        t0 + s(5),
    ));
    store::status::apply(db, &again).await.unwrap();
    let calls = hook.wait_for(1).await;
    let alert = &calls[0].json()["alert"];
    assert_eq!(alert["kind"], "down");
    assert_eq!(alert["host"], "phys-3");
    assert_eq!(alert["services"][0]["id"], "backups");
}

/// The id of a service's monitor.
async fn monitor_id(db: &store::Db, service: &str, monitor: &str) -> i64 {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    store::entity::monitor::Entity::find()
        .filter(
            store::entity::monitor::Column::Key
                .eq(store::catalog::service_monitor_key(service, monitor)),
        )
        .one(db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("monitor {service}/{monitor}"))
        .id
}

/// Amsterdam alone sees two sites failing: one lower-priority "location" alert naming the
/// monitors (not a service-down alert), nothing more while it lasts, one "over" when it ends;
/// two instances recording the same trouble at once alert once; a service under maintenance
/// is left out.
async fn a_location_failing_alone_gets_one_lower_priority_alert_of_its_own() {
    let (catalog, hook, ntfy) = with_receivers().await;
    let app = Server::start(&catalog, Probes::Off).await;
    let db = &app.db;
    let frandroid = monitor_id(db, "frandroid", "home").await;
    let appxoid = monitor_id(db, "appxoid", "home").await;
    let mobs = monitor_id(db, "mobs", "home").await;
    let ams = |m: i64| (m, "amsterdam".to_owned());
    let paris = |m: i64| (m, "paris".to_owned());
    let t0 = Utc::now();
    let s = Duration::seconds;

    store::alerts::location::location_trouble(db, &[ams(frandroid), ams(appxoid)], t0)
        .await
        .unwrap();
    let calls = hook.wait_for(1).await;
    let alert = &calls[0].json()["alert"];
    assert_eq!(alert["kind"], "location", "{alert}");
    assert_eq!(alert["subject"], "location Amsterdam");
    assert!(
        alert["services"].as_array().unwrap().is_empty(),
        "no service is down"
    );
    assert_eq!(
        alert["monitors"],
        serde_json::json!(["FrAndroid / home", "appXoid / home"])
    );
    let push = ntfy.wait_for(1).await[0].json();
    assert_eq!(push["priority"], 2, "below a service down (5): {push}");
    assert!(
        push["title"].as_str().unwrap().contains("Amsterdam"),
        "{push}"
    );

    // Still in trouble, with one more monitor: no new alert. Two instances record Paris'
    // trouble at the same moment: one alert.
    store::alerts::location::location_trouble(
        db,
        &[ams(frandroid), ams(appxoid), ams(mobs)],
        t0 + s(1),
    )
    .await
    .unwrap();
    let both = [ams(frandroid), ams(appxoid), ams(mobs), paris(mobs)];
    let (a, b) = tokio::join!(
        store::alerts::location::location_trouble(db, &both, t0 + s(2)),
        store::alerts::location::location_trouble(db, &both, t0 + s(2)),
    );
    a.unwrap();
    b.unwrap();
    // Amsterdam agrees again; Paris' trouble goes on.
    store::alerts::location::location_trouble(db, &[paris(mobs)], t0 + s(3))
        .await
        .unwrap();
    drained(db).await;
    assert_eq!(kinds(&hook), ["location", "location", "location_over"]);
    let calls = hook.calls();
    assert_eq!(calls[1].json()["alert"]["subject"], "location Paris");
    assert_eq!(calls[2].json()["alert"]["subject"], "location Amsterdam");

    // Mobs under maintenance: its monitor failing from Amsterdam alone alerts nobody.
    store::status::apply(
        db,
        &[change(
            service("mobs"),
            None,
            MAINT,
            Some(r#"{"kind":"maintenance"}"#),
            t0 + s(4),
        )],
    )
    .await
    .unwrap();
    store::alerts::location::location_trouble(db, &[paris(mobs), ams(mobs)], t0 + s(5))
        .await
        .unwrap();
    drained(db).await;
    assert_eq!(hook.calls().len(), 3, "{:?}", kinds(&hook));
}

/// A service whose state keeps changing: each change alerts until the fifth within the
/// window, which is one "flapping" alert; then silence while it flaps.
async fn flapping_gets_one_flapping_alert() {
    let (catalog, hook, ntfy) = with_receivers().await;
    let app = Server::start(&catalog, Probes::Off).await;
    let db = &app.db;
    let mut at = Utc::now();
    store::status::apply(db, &[change(service("forum"), None, UP, None, at)])
        .await
        .unwrap();
    let mut state = UP;
    for _ in 0..12 {
        at += Duration::seconds(20);
        let next = if state == UP { DOWN } else { UP };
        let cause = (next == DOWN).then_some("down: monitor home down");
        store::status::apply(
            db,
            &[change(service("forum"), Some(state), next, cause, at)],
        )
        .await
        .unwrap();
        state = next;
    }
    drained(db).await;
    assert_eq!(
        kinds(&hook),
        ["down", "recovered", "down", "recovered", "flapping"]
    );
    let flapping = ntfy.calls()[4].json();
    assert!(
        flapping["title"].as_str().unwrap().contains("Forum"),
        "{flapping}"
    );
}

/// A TCP front to `to` that drops every connection from `from` while its flag is set, open
/// ones included: the network path between that source and the site is cut.
async fn front(
    to: std::net::SocketAddr,
    from: std::net::IpAddr,
) -> (std::net::SocketAddr, tokio::sync::watch::Sender<bool>) {
    let (cut, watch_cut) = tokio::sync::watch::channel(false);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut inbound, peer)) = listener.accept().await else {
                return;
            };
            let mut cut = watch_cut.clone();
            if peer.ip() == from && *cut.borrow() {
                continue; // closed at once
            }
            tokio::spawn(async move {
                let Ok(mut outbound) = tokio::net::TcpStream::connect(to).await else {
                    return;
                };
                tokio::select! {
                    _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                    _ = cut.wait_for(|c| *c), if peer.ip() == from => {}
                }
            });
        }
    });
    (addr, cut)
}

/// Polls `f` every 100 ms for at most `within`.
async fn until<F, Fut>(what: &str, within: std::time::Duration, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    while !f().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The real engine with two locations: central probes a loopback site from Paris, a
/// `vigie-agent` (the agent crate, as a task) probes it from Amsterdam with its own source
/// address. The path from Amsterdam to the site is cut: the agent's checks all fail while
/// Paris' pass. Exactly one lower-priority "location" alert for Amsterdam reaches the signed
/// webhook, no service goes down and no "down" alert is sent; once the path is back, one
/// "location_over" alert.
async fn a_location_cut_off_alone_alerts_once_through_the_engine() {
    let _serial = common::timing_sensitive().await;
    let site = {
        let app = axum::Router::new().fallback(|| async { "ok" });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    };
    let amsterdam: std::net::IpAddr = "127.0.0.2".parse().unwrap();
    let (target, cut) = front(site, amsterdam).await;
    let text = format!(
        r#"
[site]
title = "Alerts"
[probe]
location = "paris"
[[locations]]
id = "paris"
name = "Paris"
[[locations]]
id = "amsterdam"
name = "Amsterdam"
[[groups]]
id = "g"
name = "G"
[[services]]
id = "web"
name = "Web"
group = "g"
[[services.monitors]]
id = "home"
kind = "http"
target = "http://{target}/"
interval = "1s"
retry_interval = "500ms"
timeout = "800ms"
confirm = 2
recover = 1
locations = ["paris", "amsterdam"]
"#
    );
    let mut catalog = domain::config::parse("t.toml", &text).unwrap_or_else(|e| panic!("{e}"));
    let hook = Receiver::start().await;
    catalog.notifications.allow_networks = vec!["127.0.0.0/8".into()];
    let mut webhook = channel("webhook", AlertKind::Webhook);
    webhook.url = Some(format!("{}/hook", hook.base));
    std::env::set_var("VIGIE_TEST_ALERTS_HOOK_SECRET", "whsec-test");
    webhook.token = Some("${env:VIGIE_TEST_ALERTS_HOOK_SECRET}".into());
    catalog.alerts = vec![webhook];

    let app = Server::start(&catalog, Probes::On).await;
    let db = &app.db;
    let (token, _) =
        store::tokens::agent::create_token(db, "amsterdam", "ams-1", &Actor::cli(), Utc::now())
            .await
            .unwrap();
    let mut opts = agent::Options::new(&app.base, token);
    opts.source = Some(amsterdam);
    opts.poll_every = std::time::Duration::from_millis(500);
    opts.send_every = std::time::Duration::from_millis(200);
    let agent = tokio::spawn(agent::run(opts));
    let web = service("web");
    let status = || async {
        store::status::current(db)
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.subject == web)
            .map(|c| c.state)
    };
    let reporting = || async {
        store::agents::locations(db, Utc::now())
            .await
            .unwrap()
            .iter()
            .filter(|l| l.reporting)
            .count()
    };
    until(
        "both locations reporting, Web up",
        std::time::Duration::from_secs(30),
        || async { reporting().await == 2 && status().await == Some(UP) },
    )
    .await;
    let secs = std::time::Duration::from_secs;

    // Amsterdam's path to the site is cut: its own trouble, one alert.
    cut.send(true).unwrap();
    let calls = hook.wait_for(1).await;
    let alert = &calls[0].json()["alert"];
    assert_eq!(alert["kind"], "location", "{alert}");
    assert_eq!(alert["subject"], "location Amsterdam", "{alert}");
    assert_eq!(
        alert["monitors"],
        serde_json::json!(["Web / home"]),
        "{alert}"
    );
    assert!(
        alert["services"].as_array().unwrap().is_empty(),
        "no service is down: {alert}"
    );
    assert!(
        verify("whsec-test", &calls[0].headers, &calls[0].body),
        "signed with the channel's secret"
    );
    // Several intervals of trouble: nothing more, Web stays up, Amsterdam still reports.
    tokio::time::sleep(secs(5)).await;
    assert_eq!(kinds(&hook), ["location"]);
    assert_eq!(status().await, Some(UP));
    assert_eq!(reporting().await, 2, "Amsterdam reports its failures");

    // The path is back: the trouble is over, said once.
    cut.send(false).unwrap();
    let calls = hook.wait_for(2).await;
    assert_eq!(calls[1].json()["alert"]["kind"], "location_over");
    assert_eq!(calls[1].json()["alert"]["subject"], "location Amsterdam");
    assert!(verify("whsec-test", &calls[1].headers, &calls[1].body));
    tokio::time::sleep(secs(3)).await;
    drained(db).await;
    assert_eq!(kinds(&hook), ["location", "location_over"]);
    // Web was never anything but up.
    let events = store::status::events(db, &web).await.unwrap();
    assert!(
        events.iter().all(|e| e.to_status == "operational"),
        "no status change but the first look: {events:?}"
    );
    agent.abort();
}

on_both!(
    every_channel_gets_one_alert_per_cause_in_the_shape_its_service_expects,
    webhook_subscribers_get_component_status_changes,
    a_host_whose_every_service_is_in_maintenance_alerts_nobody,
    a_location_failing_alone_gets_one_lower_priority_alert_of_its_own,
    flapping_gets_one_flapping_alert,
    a_location_cut_off_alone_alerts_once_through_the_engine,
);
