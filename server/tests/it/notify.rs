//! E-mail notifications end to end, against a real SMTP server on loopback (aiosmtpd):
//! subscribe, confirm through the link received, an incident update arrives with working
//! one-click unsubscribe; a temporary 4xx then success; a crash between handing a mail over
//! and recording it never sends it twice; the per-minute ceiling.

use crate::common;

use chrono::{DateTime, Duration, Utc};
use common::smtp::Sink;
use common::{client, Probes, Server};
use domain::config::notify::Smtp;
use domain::incident::{Impact, IncidentStatus};
use domain::status::ComponentStatus;
use serde_json::json;
use store::audit::Actor;
use store::incidents::{Message, NewIncident, NewUpdate};
use store::maintenance::NewMaintenance;
use store::outbox::state;
use store::subscribers::{Wanted, EMAIL};

fn catalog_with(sink: &Sink) -> domain::config::Catalog {
    let mut c = common::humanoid();
    c.notifications.smtp = Some(Smtp {
        url: sink.url(),
        from: "Humanoid status <status@example.org>".into(),
        credentials_file: None,
    });
    c
}

fn incident(title: &str, services: &[&str]) -> NewIncident {
    NewIncident {
        title: title.into(),
        impact: Impact::Major,
        status: IncidentStatus::Investigating,
        message: Message {
            markdown: "We are **looking** into it.".into(),
            html: "<p>We are <strong>looking</strong> into it.</p>".into(),
        },
        services: services
            .iter()
            .map(|s| ((*s).to_owned(), ComponentStatus::MajorOutage))
            .collect(),
        started_at: None,
        notify: true,
    }
}

async fn subscribe_reader_through_the_link_then_updates_arrive_until_one_click_unsubscribe() {
    let sink = Sink::start(&[]);
    let app = Server::start(&catalog_with(&sink), Probes::Off).await;
    let c = client();

    // Every public page's subscribe menu leads to the form, in the page's language.
    for (path, link, words) in [
        ("/", "/subscribe?lang=fr", "Par e-mail"),
        ("/?lang=en", "/subscribe?lang=en", "By e-mail"),
        ("/history?lang=en", "/subscribe?lang=en", "By e-mail"),
        ("/maintenance", "/subscribe?lang=fr", "Par e-mail"),
        (
            "/services/frandroid?lang=en",
            "/subscribe?lang=en",
            "By e-mail",
        ),
    ] {
        let html = c
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let menu = &html[html.find("<details class=\"subscribe\"").expect("menu")..];
        let menu = &menu[..menu.find("</details>").expect("menu ends")];
        assert!(
            menu.contains(&format!("<a href=\"{link}\">{words}</a>")),
            "{path}: {menu}"
        );
    }

    let form = c
        .get(format!("{}/subscribe?lang=en", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    let html = form.text().await.unwrap();
    assert!(html.contains("name=\"email\"") && html.contains("value=\"frandroid\""));

    let ask = json!({ "email": "Reader@Example.org", "language": "en", "services": ["frandroid"] });
    let first = c
        .post(format!("{}/api/v1/subscribers", app.base))
        .json(&ask)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 202);
    let first_body = first.text().await.unwrap();
    // Bad input is named.
    let bad = c
        .post(format!("{}/api/v1/subscribers", app.base))
        .json(&json!({ "email": "nope", "services": ["no-such-service"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let bad = c
        .post(format!("{}/api/v1/subscribers", app.base))
        .json(&json!({ "email": "x@example.org", "services": ["no-such-service"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("no-such-service"));

    let mails = sink.wait_for(1).await;
    assert_eq!(mails[0].to, "reader@example.org");
    assert!(mails[0].subject.contains("Confirm"), "{}", mails[0].subject);
    assert!(!mails[0].html.is_empty(), "an HTML part too");
    // Nothing is stored about an address nobody confirmed.
    assert!(
        store::subscribers::find(&app.db, EMAIL, "reader@example.org")
            .await
            .unwrap()
            .is_none()
    );
    let link = mails[0]
        .link(&format!("{}/subscribe/confirm?t=", "http://127.0.0.1:8080"))
        .expect("a confirmation link to the site's base_url");
    let link = link.replace("http://127.0.0.1:8080", &app.base);
    let t = link.split("t=").nth(1).unwrap().to_owned();

    // Opening the link only shows a button; posting it confirms.
    let shown = c.get(&link).send().await.unwrap();
    assert_eq!(shown.status(), 200);
    assert!(
        store::subscribers::find(&app.db, EMAIL, "reader@example.org")
            .await
            .unwrap()
            .is_none()
    );
    let confirmed = c
        .post(format!("{}/subscribe/confirm", app.base))
        .form(&[("t", t.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), 200);
    let sub = store::subscribers::find(&app.db, EMAIL, "reader@example.org")
        .await
        .unwrap()
        .expect("subscribed");
    assert_eq!(sub.services, Some(vec!["frandroid".to_owned()]));

    // Asking again for a subscribed address answers exactly the same.
    let again = c
        .post(format!("{}/api/v1/subscribers", app.base))
        .json(&ask)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 202);
    assert_eq!(again.text().await.unwrap(), first_body);
    let after_again = sink.wait_for(2).await;
    assert!(after_again[1].subject.contains("Confirm"));

    // An incident on another service does not concern this reader; one on theirs does.
    let now = Utc::now();
    store::incidents::open(
        &app.db,
        &incident("Other site down", &["appxoid"]),
        &Actor::cli(),
        now,
    )
    .await
    .unwrap();
    let inc = store::incidents::open(
        &app.db,
        &incident("FrAndroid is down", &["frandroid"]),
        &Actor::cli(),
        now,
    )
    .await
    .unwrap();
    let mails = sink.wait_for(3).await;
    let m = &mails[2];
    assert_eq!(m.to, "reader@example.org");
    assert!(m.subject.contains("FrAndroid is down") && m.subject.contains("Investigating"));
    assert!(m.text.contains("We are **looking** into it."));
    assert!(m.text.contains("FrAndroid: major outage"), "{}", m.text);
    assert!(m.html.contains("<strong>looking</strong>"));
    assert!(m.text.contains(&format!("/incidents/{}", inc.id)));
    assert!(m.text.contains("/subscribe/manage?t="));
    assert_eq!(
        m.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let unsubscribe = m.header("List-Unsubscribe").expect("List-Unsubscribe");
    let unsubscribe = unsubscribe
        .trim_start_matches('<')
        .trim_end_matches('>')
        .replace("http://127.0.0.1:8080", &app.base);

    // The preferences page opens without an account.
    let manage = m
        .link("http://127.0.0.1:8080/subscribe/manage?t=")
        .unwrap()
        .replace("http://127.0.0.1:8080", &app.base);
    let page = c.get(&manage).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("reader@example.org"));

    // RFC 8058 one-click: a POST with that body, no cookie, no page.
    let gone = c
        .post(&unsubscribe)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 200);
    assert!(
        store::subscribers::find(&app.db, EMAIL, "reader@example.org")
            .await
            .unwrap()
            .is_none()
    );

    // The next update reaches nobody.
    store::incidents::post_update(
        &app.db,
        inc.id,
        &NewUpdate {
            status: IncidentStatus::Resolved,
            message: Message {
                markdown: "Fixed.".into(),
                html: "<p>Fixed.</p>".into(),
            },
            services: vec![("frandroid".into(), ComponentStatus::Operational)],
        },
        &Actor::cli(),
        Utc::now(),
    )
    .await
    .unwrap();
    for _ in 0..100 {
        if store::outbox::send::waiting(&app.db).await.unwrap() == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(store::outbox::send::waiting(&app.db).await.unwrap(), 0);
    assert_eq!(sink.mails().len(), 3);
    // The used link is dead.
    let again = c.get(&unsubscribe).send().await.unwrap();
    assert_eq!(again.status(), 404);
}

/// A migrated database with the catalog and one confirmed subscriber, and a notifier on it
/// (driven by hand, `now` chosen by the test).
async fn notifier_on(
    sink: &Sink,
    subscribers: &[&str],
) -> (notify::Notifier, store::Db, Option<tempfile::TempDir>) {
    let french: Vec<(&str, &str)> = subscribers.iter().map(|a| (*a, "fr")).collect();
    notifier_with(sink, &french).await
}

/// The same with each subscriber's language: `(address, "fr" | "en")`.
async fn notifier_with(
    sink: &Sink,
    subscribers: &[(&str, &str)],
) -> (notify::Notifier, store::Db, Option<tempfile::TempDir>) {
    let catalog = catalog_with(sink);
    let (url, dir) = common::fresh_database().await;
    let db = server::startup::prepare_database(&catalog, &url)
        .await
        .unwrap();
    for (a, language) in subscribers {
        store::subscribers::confirm(
            &db,
            &Wanted {
                kind: EMAIL.into(),
                address: (*a).into(),
                contact: None,
                language: (*language).into(),
                services: None,
            },
            None,
            Utc::now(),
        )
        .await
        .unwrap();
    }
    let n = notify::Notifier::new(db.clone(), &catalog).await.unwrap();
    (n, db, dir)
}

/// Sends every message due at `now`, however many ticks the ceiling takes.
async fn drain(n: &notify::Notifier, now: DateTime<Utc>) {
    for _ in 0..20 {
        if n.tick(now).await.unwrap() == 0 {
            return;
        }
    }
}

/// Issue 15, one clock: a subscriber's mail says every time as the pages do, on the site's
/// clock with the zone named, in the subscriber's language ("7 décembre 2026 à 17:42 (heure
/// de Paris)" / "7 December 2026, 17:42 (Paris time)"), and a maintenance mail says where the
/// window stands with the feeds' words, summer time included.
async fn mails_say_every_time_as_the_pages_do_in_the_subscribers_language() {
    let sink = Sink::start(&[]);
    let (n, db, _dir) = notifier_with(
        &sink,
        &[("lea@example.org", "fr"), ("sam@example.org", "en")],
    )
    .await;
    let utc = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    // 16:42 UTC in December is 17:42 in Paris.
    let posted = utc("2026-12-07T16:42:00Z");
    store::incidents::open(
        &db,
        &incident("Panne", &["frandroid"]),
        &Actor::cli(),
        posted,
    )
    .await
    .unwrap();
    drain(&n, posted).await;
    let mails = sink.wait_for(2).await;
    let to = |who: &str| {
        mails
            .iter()
            .find(|m| m.to == who)
            .unwrap_or_else(|| panic!("no mail to {who}"))
            .clone()
    };
    let (fr, en) = (to("lea@example.org"), to("sam@example.org"));
    assert!(
        fr.text
            .contains("Enquête en cours — Publié le 7 décembre 2026 à 17:42 (heure de Paris)"),
        "{}",
        fr.text
    );
    assert!(
        fr.html
            .contains("Publié le 7 décembre 2026 à 17:42 (heure de Paris)"),
        "{}",
        fr.html
    );
    assert!(
        en.text
            .contains("Investigating — Posted on 7 December 2026, 17:42 (Paris time)"),
        "{}",
        en.text
    );
    for m in [&fr, &en] {
        assert!(
            !m.text.contains("07/12/2026") && !m.text.contains("(CET)"),
            "{}",
            m.text
        );
    }

    // A window on 5 July 2027, 22:00 to 23:30 in Paris (summer time: UTC+2).
    let (from, until) = (utc("2027-07-05T20:00:00Z"), utc("2027-07-05T21:30:00Z"));
    store::maintenance::schedule(
        &db,
        &NewMaintenance {
            title: "Mise à jour du forum".into(),
            message: Message {
                markdown: "Courte coupure.".into(),
                html: "<p>Courte coupure.</p>".into(),
            },
            starts_at: from,
            ends_at: until,
            services: vec!["frandroid".into()],
        },
        &Actor::cli(),
        posted,
    )
    .await
    .unwrap();
    drain(&n, posted).await;
    // Started, then completed: each stage says something new.
    store::maintenance::advance(&db, from + Duration::minutes(1))
        .await
        .unwrap();
    drain(&n, from + Duration::minutes(1)).await;
    store::maintenance::advance(&db, until + Duration::minutes(1))
        .await
        .unwrap();
    drain(&n, until + Duration::minutes(1)).await;
    let mails = sink.wait_for(8).await;
    let of = |who: &str, head: &str| {
        mails
            .iter()
            .find(|m| m.to == who && m.subject.contains(head))
            .unwrap_or_else(|| panic!("no mail to {who} with {head}"))
            .clone()
    };
    let window_fr = "Fenêtre : le 5 juillet 2027 de 22:00 à 23:30 (heure de Paris)";
    let window_en = "Window: 5 July 2027, 22:00 to 23:30 (Paris time)";
    let scheduled = of("lea@example.org", "Maintenance programmée");
    assert!(scheduled.text.contains(window_fr), "{}", scheduled.text);
    assert!(scheduled.html.contains(window_fr), "{}", scheduled.html);
    let started = of("lea@example.org", "Maintenance commencée");
    assert!(
        started.text.contains(
            "Maintenance commencée le 5 juillet 2027 à 22:00 (heure de Paris) ; fin prévue le 5 juillet 2027 à 23:30 (heure de Paris)."
        ),
        "{}",
        started.text
    );
    assert!(scheduled.text.contains("Courte coupure."));
    // Later stages do not repeat the announcement.
    assert!(
        !started.text.contains("Courte coupure."),
        "{}",
        started.text
    );
    let announced = of("sam@example.org", "Maintenance scheduled");
    assert!(announced.text.contains(window_en), "{}", announced.text);
    let over = of("sam@example.org", "Maintenance completed");
    assert!(
        over.html
            .contains("<p>Maintenance ended on 5 July 2027, 23:30 (Paris time).</p>"),
        "{}",
        over.html
    );
    assert!(
        !over.text.contains(window_en) && !over.text.contains("Courte coupure."),
        "{}",
        over.text
    );
}

async fn a_temporary_refusal_is_retried_after_its_backoff_then_delivered() {
    let sink = Sink::start(&["--fail-first", "1"]);
    let (n, db, _dir) = notifier_on(&sink, &["a@example.org"]).await;
    let now = Utc::now();
    store::incidents::open(&db, &incident("Panne", &["frandroid"]), &Actor::cli(), now)
        .await
        .unwrap();
    assert_eq!(n.tick(now).await.unwrap(), 1);
    let d = &store::outbox::recent(&db, Some("email"), None, 10)
        .await
        .unwrap()[0];
    assert_eq!(d.state, state::PENDING);
    assert_eq!(d.attempts, 1);
    assert_eq!(d.response_code, Some(451));
    assert!(d.next_attempt_at > now);
    assert!(sink.mails().is_empty());
    // Not due yet: nothing happens.
    assert_eq!(n.tick(now).await.unwrap(), 0);
    // After the backoff it leaves, once.
    assert_eq!(n.tick(d.next_attempt_at).await.unwrap(), 1);
    let mails = sink.wait_for(1).await;
    assert!(mails[0].subject.contains("Panne") && mails[0].subject.contains("Enquête en cours"));
    let d = &store::outbox::recent(&db, Some("email"), None, 10)
        .await
        .unwrap()[0];
    assert_eq!(d.state, state::SENT);
    assert_eq!(
        n.tick(d.next_attempt_at + Duration::hours(2))
            .await
            .unwrap(),
        0
    );
    assert_eq!(sink.mails().len(), 1);
}

async fn a_crash_between_handing_over_and_recording_never_sends_twice() {
    // The server keeps the mail, then is slow to answer: the sender is stopped meanwhile.
    let sink = Sink::start(&["--delay", "5"]);
    let (first, db, _dir) = notifier_on(&sink, &["a@example.org"]).await;
    let now = Utc::now();
    store::incidents::open(&db, &incident("Panne", &["frandroid"]), &Actor::cli(), now)
        .await
        .unwrap();
    let crashed = tokio::time::timeout(std::time::Duration::from_secs(2), first.tick(now)).await;
    assert!(crashed.is_err(), "the pass was cut short while sending");
    assert_eq!(sink.wait_for(1).await.len(), 1, "the server has the mail");
    let d = &store::outbox::recent(&db, Some("email"), None, 10)
        .await
        .unwrap()[0];
    assert_eq!(d.state, state::SENDING);

    // Another instance (or the restarted one) takes over once the lease has lapsed.
    let catalog = catalog_with(&sink);
    let second = notify::Notifier::new(db.clone(), &catalog).await.unwrap();
    assert_eq!(
        second.tick(now).await.unwrap(),
        0,
        "the lease is still held"
    );
    let later = now + Duration::seconds(31);
    assert_eq!(second.tick(later).await.unwrap(), 0);
    let d = &store::outbox::recent(&db, Some("email"), None, 10)
        .await
        .unwrap()[0];
    assert_eq!(d.state, state::UNKNOWN);
    assert_eq!(second.tick(later + Duration::hours(2)).await.unwrap(), 0);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(sink.mails().len(), 1, "never sent twice");
}

async fn the_per_minute_ceiling_holds_messages_back_until_the_next_minute() {
    let sink = Sink::start(&[]);
    let (mut n, db, _dir) =
        notifier_on(&sink, &["a@example.org", "b@example.org", "c@example.org"]).await;
    n.settings.per_minute = 2;
    let now = Utc::now();
    store::incidents::open(&db, &incident("Panne", &["frandroid"]), &Actor::cli(), now)
        .await
        .unwrap();
    assert_eq!(n.tick(now).await.unwrap(), 2);
    assert_eq!(n.tick(now + Duration::seconds(10)).await.unwrap(), 0);
    assert_eq!(n.tick(now + Duration::seconds(61)).await.unwrap(), 1);
    assert_eq!(sink.wait_for(3).await.len(), 3);
}

/// Issue 16, the reader's form without JavaScript: an address the browser lets through but
/// Vigie refuses brings the form back as typed (address, language, services), with the reason
/// beside the field in the page's language, and sends nothing.
async fn a_refused_address_brings_the_form_back_as_typed_with_the_reason_in_the_readers_language() {
    let sink = Sink::start(&[]);
    let app = Server::start(&catalog_with(&sink), Probes::Off).await;
    let c = client();
    // Two dots in a row: `type="email"` accepts it, RFC 5322 does not.
    let typed = "jean..dupont@example.org";
    for (lang, said, not_said) in [
        (
            "fr",
            "saisissez une adresse électronique complète, par exemple prenom.nom@exemple.fr",
            "This address",
        ),
        (
            "en",
            "This address is not valid: enter a whole e-mail address, for example first.last@example.org",
            "Cette adresse",
        ),
    ] {
        let r = c
            .post(format!("{}/subscribe?lang={lang}", app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "email={}&language=en&scope=services&service=frandroid",
                typed.replace('@', "%40")
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{lang}");
        let html = r.text().await.unwrap();
        assert!(html.contains(said), "{lang}: {html}");
        assert!(!html.contains(not_said), "{lang}: one language: {html}");
        assert!(!html.contains("is not a valid e-mail address"), "{html}");
        // Beside its field, announced, and the field says it is wrong.
        assert!(html.contains("id=\"email-error\" role=\"alert\""), "{html}");
        assert!(html.contains("aria-describedby=\"email-error\""), "{html}");
        // Nothing typed is lost.
        assert!(html.contains(&format!("value=\"{typed}\"")), "{html}");
        assert!(html.contains("<option value=\"en\" selected>"), "{html}");
        assert!(
            html.contains("name=\"scope\" value=\"services\" checked"),
            "{html}"
        );
        assert!(
            html.contains("name=\"service\" value=\"frandroid\" checked"),
            "{html}"
        );
        assert!(
            !html.contains("name=\"service\" value=\"appxoid\" checked"),
            "{html}"
        );
    }
    // The address corrected, the same form goes through.
    let ok = c
        .post(format!("{}/subscribe?lang=fr", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=jean.dupont%40example.org&language=fr&scope=all")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let mails = sink.wait_for(1).await;
    assert_eq!(
        mails.len(),
        1,
        "one confirmation, for the corrected address"
    );
    assert_eq!(mails[0].to, "jean.dupont@example.org");
}

async fn an_expired_or_altered_confirmation_link_is_refused() {
    let sink = Sink::start(&[]);
    let app = Server::start(&catalog_with(&sink), Probes::Off).await;
    let n = notify::Notifier::new(app.db.clone(), &catalog_with(&sink))
        .await
        .unwrap();
    let claims = notify::token::Confirm {
        k: EMAIL.into(),
        a: "late@example.org".into(),
        c: None,
        l: "en".into(),
        s: None,
        x: (Utc::now() - Duration::minutes(1)).timestamp(),
    };
    let expired = n.signer.sign("confirm", &claims);
    let c = client();
    for t in [expired.clone(), format!("{expired}x"), "junk".into()] {
        let r = c
            .post(format!("{}/subscribe/confirm", app.base))
            .form(&[("t", t.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 410);
    }
    assert!(store::subscribers::find(&app.db, EMAIL, "late@example.org")
        .await
        .unwrap()
        .is_none());
}

on_both!(
    subscribe_reader_through_the_link_then_updates_arrive_until_one_click_unsubscribe,
    mails_say_every_time_as_the_pages_do_in_the_subscribers_language,
    a_temporary_refusal_is_retried_after_its_backoff_then_delivered,
    a_crash_between_handing_over_and_recording_never_sends_twice,
    the_per_minute_ceiling_holds_messages_back_until_the_next_minute,
    an_expired_or_altered_confirmation_link_is_refused,
    a_refused_address_brings_the_form_back_as_typed_with_the_reason_in_the_readers_language,
);
