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
use domain::config::Slug;
use domain::notify_config::{AlertChannel, AlertKind, Smtp};
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
        if store::outbox::waiting(db).await.unwrap() == 0 {
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
    store::drafts::propose(db, at + Duration::hours(1), Duration::minutes(5))
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

on_both!(
    every_channel_gets_one_alert_per_cause_in_the_shape_its_service_expects,
    webhook_subscribers_get_component_status_changes,
);
