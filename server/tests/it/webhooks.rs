//! Webhook subscriptions against receivers on loopback: created by staff through the API (and
//! refused for private targets), the Statuspage-shaped payload signed with the subscription's
//! secret, redirects not followed, a reader's webhook through the same double opt-in, and a
//! webhook paused after ten failures in a row.

use crate::common;

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use chrono::{Duration, Utc};
use common::smtp::Sink;
use common::{client, Probes, Server};
use domain::config::notify::Smtp;
use domain::incident::{Impact, IncidentStatus};
use domain::staff::Role;
use domain::staff::Scope;
use domain::status::ComponentStatus;
use serde_json::{json, Value};
use store::audit::Actor;
use store::incidents::{Message, NewIncident};
use store::subscribers::{Wanted, WEBHOOK};

/// One call a receiver got: path, headers, body.
type Call = (String, HeaderMap, Vec<u8>);

/// A receiver on 127.0.0.1: keeps every request and answers with `status` (a 302 to `/other`
/// when it is 302).
#[derive(Clone)]
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Call>>>,
}

impl Receiver {
    async fn start(status: u16) -> Receiver {
        let got: Arc<Mutex<Vec<Call>>> = Arc::default();
        let keep = got.clone();
        let app = axum::Router::new().fallback(
            move |uri: axum::http::Uri, headers: HeaderMap, body: axum::body::Bytes| {
                let keep = keep.clone();
                async move {
                    keep.lock()
                        .unwrap()
                        .push((uri.path().to_owned(), headers, body.to_vec()));
                    let code = StatusCode::from_u16(status).unwrap();
                    (code, [("location", "/other")], "")
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            url: format!("http://{addr}/hook"),
            got,
        }
    }

    fn requests(&self) -> Vec<Call> {
        self.got.lock().unwrap().clone()
    }

    async fn wait_for(&self, n: usize) -> Vec<Call> {
        for _ in 0..300 {
            if self.requests().len() >= n {
                return self.requests();
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("{n} calls expected, got {}", self.requests().len());
    }
}

fn catalog(sink: Option<&Sink>) -> domain::config::Catalog {
    let mut c = common::humanoid();
    c.notifications.allow_networks = vec!["127.0.0.0/8".into()];
    c.notifications.smtp = sink.map(|s| Smtp {
        url: s.url(),
        from: "status@example.org".into(),
        credentials_file: None,
    });
    c
}

fn incident(title: &str) -> NewIncident {
    NewIncident {
        title: title.into(),
        impact: Impact::Major,
        status: IncidentStatus::Investigating,
        message: Message {
            markdown: "Looking into it.".into(),
            html: "<p>Looking into it.</p>".into(),
        },
        services: vec![("frandroid".into(), ComponentStatus::MajorOutage)],
        started_at: None,
        notify: true,
    }
}

/// Checks the signature header the way docs/notifications.md tells receivers to.
fn verify(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let Some(sig) = headers
        .get("x-vigie-signature")
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
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
    let Ok(mac) = hex::decode(v1) else {
        return false;
    };
    ring::hmac::verify(&key, &signed, &mac).is_ok()
}

async fn staff_create_a_webhook_that_receives_signed_statuspage_payloads() {
    let app = Server::start(&catalog(None), Probes::Off).await;
    let hash = store::users::hash_password("correct horse battery").unwrap();
    let user = store::users::create(
        &app.db,
        "ops@example.org",
        Role::Editor,
        &hash,
        &Actor::cli(),
        Utc::now(),
    )
    .await
    .unwrap();
    let (token, _) = store::tokens::api::create(
        &app.db,
        user.id,
        "t",
        &[Scope::IncidentsWrite],
        &Actor::cli(),
        Utc::now(),
    )
    .await
    .unwrap();
    let c = client();
    let hooks = format!("{}/api/v1/webhooks", app.base);

    assert_eq!(
        c.post(&hooks)
            .json(&json!({"url": "https://example.org/h"}))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    for bad in [
        "http://10.0.0.1/h",
        "https://169.254.169.254/latest",
        "https://[::1]/h",
        "ftp://example.org/",
        "http://93.184.216.34/h",
    ] {
        let r = c
            .post(&hooks)
            .bearer_auth(&token)
            .json(&json!({"url": bad}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{bad}");
    }

    let good = Receiver::start(200).await;
    let redirecting = Receiver::start(302).await;
    let mut secrets = Vec::new();
    for r in [&good, &redirecting] {
        let created = c
            .post(&hooks)
            .bearer_auth(&token)
            .json(&json!({"url": r.url, "language": "en"}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        let body: Value = created.json().await.unwrap();
        secrets.push(body["secret"].as_str().unwrap().to_owned());
    }
    let inc = store::incidents::open(
        &app.db,
        &incident("FrAndroid down"),
        &Actor::cli(),
        Utc::now(),
    )
    .await
    .unwrap();

    let calls = good.wait_for(1).await;
    let (path, headers, body) = &calls[0];
    assert_eq!(path, "/hook");
    assert!(verify(&secrets[0], headers, body), "signature checks out");
    assert!(
        !verify(&secrets[1], headers, body),
        "and only with its own secret"
    );
    let v: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(v["event_type"], "incident.updated");
    assert!(v["meta"]["unsubscribe"]
        .as_str()
        .unwrap()
        .contains("/subscribe/unsubscribe?t="));
    assert!(v["meta"]["documentation"].is_string());
    assert!(v["meta"]["generated_at"].is_string());
    assert!(v["page"]["id"].is_string());
    assert!(v["page"]["status_indicator"].is_string());
    assert!(v["page"]["status_description"].is_string());
    let i = &v["incident"];
    assert_eq!(i["id"], inc.id.to_string());
    assert_eq!(i["name"], "FrAndroid down");
    assert_eq!(i["status"], "investigating");
    assert_eq!(i["impact"], "major");
    assert_eq!(i["incident_updates"][0]["body"], "Looking into it.");
    assert_eq!(i["incident_updates"][0]["status"], "investigating");
    assert_eq!(i["components"][0]["id"], "frandroid");
    assert_eq!(i["components"][0]["status"], "major_outage");

    // The redirect was not followed: its target was never called, and the call failed.
    let calls = redirecting.wait_for(1).await;
    assert!(calls.iter().all(|(p, _, _)| p == "/hook"));
    let list: Value = c
        .get(&hooks)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 2);
    let id = list["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["url"] == redirecting.url.as_str())
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    for _ in 0..100 {
        let log: Value = c
            .get(format!("{hooks}/{id}/deliveries"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if log["deliveries"][0]["response_code"] == 302 {
            assert_eq!(log["deliveries"][0]["state"], "pending", "retried later");
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let r = c
        .delete(format!("{hooks}/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let actions: Vec<String> = store::audit::list(&app.db, &Default::default(), 0, 100)
        .await
        .unwrap()
        .0
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.contains(&"subscriber.create".to_owned())
            && actions.contains(&"subscriber.delete".to_owned())
    );
}

async fn a_reader_subscribes_a_webhook_through_a_confirmed_contact_address() {
    let sink = Sink::start(&[]);
    let app = Server::start(&catalog(Some(&sink)), Probes::Off).await;
    let hook = Receiver::start(204).await;
    let c = client();
    let r = c
        .post(format!("{}/api/v1/subscribers", app.base))
        .json(&json!({"email": "dev@example.org", "webhook": hook.url, "language": "en"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let r = c
        .post(format!("{}/api/v1/subscribers", app.base))
        .json(&json!({"email": "dev@example.org", "webhook": "http://192.168.1.1/h"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let mail = &sink.wait_for(1).await[0];
    assert_eq!(mail.to, "dev@example.org");
    assert!(mail.text.contains(&hook.url));
    let link = mail
        .link("http://127.0.0.1:8080/subscribe/confirm?t=")
        .unwrap();
    let t = link.split("t=").nth(1).unwrap();
    assert!(store::subscribers::find(&app.db, WEBHOOK, &hook.url)
        .await
        .unwrap()
        .is_none());
    let page = c
        .post(format!("{}/subscribe/confirm", app.base))
        .form(&[("t", t)])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    let sub = store::subscribers::find(&app.db, WEBHOOK, &hook.url)
        .await
        .unwrap()
        .expect("confirmed");
    assert_eq!(sub.contact.as_deref(), Some("dev@example.org"));
    store::incidents::open(&app.db, &incident("Down"), &Actor::cli(), Utc::now())
        .await
        .unwrap();
    let calls = hook.wait_for(1).await;
    // The secret shown on the confirmation page verifies the call.
    let secret = page
        .split("<code>")
        .nth(1)
        .unwrap()
        .split("</code>")
        .next()
        .unwrap();
    assert!(verify(secret, &calls[0].1, &calls[0].2));
}

async fn ten_failures_in_a_row_pause_a_webhook() {
    let failing = Receiver::start(500).await;
    let catalog = catalog(None);
    let (url, _dir) = common::fresh_database().await;
    let db = server::startup::prepare_database(&catalog, &url)
        .await
        .unwrap();
    store::subscribers::confirm(
        &db,
        &Wanted {
            kind: WEBHOOK.into(),
            address: failing.url.clone(),
            contact: None,
            language: "fr".into(),
            services: None,
        },
        Some(&Actor::cli()),
        Utc::now(),
    )
    .await
    .unwrap();
    let n = notify::Notifier::new(db.clone(), &catalog).await.unwrap();
    let now = Utc::now();
    for i in 0..11 {
        store::incidents::open(&db, &incident(&format!("Panne {i}")), &Actor::cli(), now)
            .await
            .unwrap();
    }
    // Ten first attempts fail; the tenth pauses the webhook and cancels what is left.
    n.tick(now).await.unwrap();
    assert_eq!(failing.requests().len(), 10);
    let sub = store::subscribers::find(&db, WEBHOOK, &failing.url)
        .await
        .unwrap()
        .unwrap();
    assert!(sub.paused_at.is_some());
    assert_eq!(sub.failures, 10);
    // Nothing more goes out, even after every backoff.
    n.tick(now + Duration::hours(3)).await.unwrap();
    store::incidents::open(&db, &incident("Encore"), &Actor::cli(), now)
        .await
        .unwrap();
    n.tick(now + Duration::hours(4)).await.unwrap();
    assert_eq!(failing.requests().len(), 10);
    let log = store::outbox::recent(&db, Some("webhook"), None, 100)
        .await
        .unwrap();
    assert!(log
        .iter()
        .any(|d| d.state == store::outbox::state::CANCELLED));
}

async fn staff_list_search_export_and_delete_subscribers() {
    let app = Server::start(&catalog(None), Probes::Off).await;
    let hash = store::users::hash_password("correct horse battery").unwrap();
    let user = store::users::create(
        &app.db,
        "ops@example.org",
        Role::Editor,
        &hash,
        &Actor::cli(),
        Utc::now(),
    )
    .await
    .unwrap();
    let (token, _) = store::tokens::api::create(
        &app.db,
        user.id,
        "t",
        &[Scope::IncidentsWrite],
        &Actor::cli(),
        Utc::now(),
    )
    .await
    .unwrap();
    for (a, services) in [
        ("ann@example.org", Some(vec!["frandroid".to_owned()])),
        ("=bob@example.org", None),
    ] {
        store::subscribers::confirm(
            &app.db,
            &Wanted {
                kind: "email".into(),
                address: a.into(),
                contact: None,
                language: "fr".into(),
                services,
            },
            None,
            Utc::now(),
        )
        .await
        .unwrap();
    }
    let c = client();
    let url = format!("{}/api/v1/subscribers", app.base);
    assert_eq!(c.get(&url).send().await.unwrap().status(), 401);
    let all: Value = c
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all["total"], 2);
    assert_eq!(all["counts"]["email"], 2);
    assert_eq!(all["counts"]["whole_page"], 1);
    assert_eq!(all["counts"]["per_service"]["frandroid"], 1);
    let found: Value = c
        .get(format!("{url}?q=ANN"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["total"], 1);
    let id = found["subscribers"][0]["id"].as_i64().unwrap();
    let csv = c
        .get(format!("{url}.csv"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    let csv = csv.text().await.unwrap();
    assert!(
        csv.contains("\"ann@example.org\"") && csv.contains("\"'=bob@example.org\""),
        "{csv}"
    );
    assert_eq!(
        c.delete(format!("{url}/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        c.delete(format!("{url}/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert!(
        store::subscribers::find(&app.db, "email", "ann@example.org")
            .await
            .unwrap()
            .is_none()
    );
    let audit = store::audit::list(&app.db, &Default::default(), 0, 100)
        .await
        .unwrap()
        .0;
    let entry = audit
        .iter()
        .find(|e| e.action == "subscriber.delete")
        .expect("audited");
    assert!(!entry.details.contains("ann@"), "the log keeps no address");
}

on_both!(
    staff_list_search_export_and_delete_subscribers,
    staff_create_a_webhook_that_receives_signed_statuspage_payloads,
    a_reader_subscribes_a_webhook_through_a_confirmed_contact_address,
    ten_failures_in_a_row_pause_a_webhook,
);
