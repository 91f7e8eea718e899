//! TOTP secrets at rest: sealed with the instance key in the database (never the secret nor
//! its base32 there), read back after a restart, sealed at start where an older version left
//! them in clear, and refused — never skipped — with a wrong or missing key. SQLite and
//! PostgreSQL.

use domain::staff::Role;
use reqwest::{Client, StatusCode};
use sea_orm::{ConnectionTrait, Statement};
use server::auth::totp;

use crate::common::{self, browser};
use crate::staff::{TestApp, PASSWORD};

const EMAIL: &str = "ed@example.org";

fn app(server: common::Server) -> TestApp {
    TestApp {
        base: server.base.clone(),
        db: server.db.clone(),
        _server: server,
    }
}

/// Every stored TOTP value (secret and pending), as the database holds it.
async fn stored(db: &store::Db) -> Vec<String> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT totp_secret, totp_pending FROM users ORDER BY id",
        ))
        .await
        .expect("select");
    rows.iter()
        .flat_map(|r| {
            ["totp_secret", "totp_pending"]
                .map(|c| r.try_get::<Option<String>>("", c).expect("column"))
        })
        .flatten()
        .collect()
}

/// None of `values` holds `secret` (base32, in any case) or its bytes in hex; each is sealed.
fn assert_sealed(values: &[String], secret: &str) {
    assert!(!values.is_empty(), "a secret is stored");
    let bytes = totp_rs::Secret::try_from_base32(secret).expect("base32");
    let hex = hex::encode(bytes.as_ref());
    for v in values {
        assert!(v.starts_with("v1:"), "sealed: {v}");
        for clear in [secret.to_owned(), secret.to_lowercase(), hex.clone()] {
            assert!(!v.contains(&clear), "{v} holds the secret");
        }
    }
}

/// Forgets the time steps already used, so the current code may be used again.
async fn forget_steps(db: &store::Db) {
    db.execute_unprepared("UPDATE users SET totp_last_step = NULL")
        .await
        .expect("forget steps");
}

/// Turns a second factor on through the console; returns its secret.
async fn enrol(app: &TestApp, c: &Client) -> String {
    let csrf = app.page_csrf(c, "/admin/account").await;
    let res = c
        .post(format!("{}/admin/account/totp/begin", app.base))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("begin");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = c
        .get(format!("{}/admin/account", app.base))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    let secret = page
        .split_once("class=\"totp-secret\">")
        .and_then(|(_, rest)| rest.split_once('<'))
        .map(|(s, _)| s.to_owned())
        .expect("the secret is shown");
    // Pending, it is sealed already.
    assert_sealed(&stored(&app.db).await, &secret);
    let code = totp::code_at(&secret, totp::now()).expect("code");
    let res = c
        .post(format!("{}/admin/account/totp/confirm", app.base))
        .form(&[("csrf", csrf.as_str()), ("code", code.as_str())])
        .send()
        .await
        .expect("confirm");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    secret
}

/// Signs in with the password and the current code (steps forgotten first).
async fn sign_in(app: &TestApp, secret: &str) -> StatusCode {
    forget_steps(&app.db).await;
    let code = totp::code_at(secret, totp::now()).expect("code");
    app.login_with_code(&browser(), EMAIL, PASSWORD, &code)
        .await
        .status()
}

async fn secrets_are_sealed_at_rest_and_sign_in_works_after_a_restart() {
    let keys = tempfile::tempdir().expect("dir");
    let (catalog, key) = common::with_instance_key(&common::humanoid(), keys.path(), "k");
    let first = app(common::Server::start(&catalog, common::Probes::Off).await);
    let url = first._server.database_url.clone();
    let c = first.signed_in(EMAIL, Role::Editor).await;
    let secret = enrol(&first, &c).await;
    assert_sealed(&stored(&first.db).await, &secret);
    let id = store::users::list(&first.db).await.expect("list")[0].id;
    let opened = store::users::totp::totp_secrets(&first.db, &key, id)
        .await
        .expect("open");
    assert_eq!(opened.confirmed.as_deref(), Some(secret.as_str()));
    assert_eq!(sign_in(&first, &secret).await, StatusCode::SEE_OTHER);

    // After a restart with the same key: the same factor signs in.
    let again = app(
        common::Server::start_on(&catalog, &url, common::Probes::Off)
            .await
            .expect("restart"),
    );
    assert_eq!(sign_in(&again, &secret).await, StatusCode::SEE_OTHER);
    // The password alone never signs in.
    let res = again.login(&browser(), EMAIL, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // Another key: the instance starts (others may sign in) but this factor is refused,
    // with the answer of a wrong code; the right key still takes the same code.
    let (other, _) = common::with_instance_key(&common::humanoid(), keys.path(), "other");
    let wrong = app(common::Server::start_on(&other, &url, common::Probes::Off)
        .await
        .expect("starts with another key"));
    assert_eq!(sign_in(&wrong, &secret).await, StatusCode::UNAUTHORIZED);
    let res = wrong.login(&browser(), EMAIL, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "no bypass");
    assert_eq!(sign_in(&again, &secret).await, StatusCode::SEE_OTHER);
    assert_sealed(&stored(&again.db).await, &secret);

    // No key configured: SQLite uses the key file beside the database (not this one, so the
    // factor is refused); PostgreSQL, which makes none up, refuses to start and says what to do.
    let unkeyed = common::Server::start_on(&common::humanoid(), &url, common::Probes::Off).await;
    if url.starts_with("postgres") {
        let e = format!("{:#}", unkeyed.err().expect("refused"));
        assert!(e.contains("VIGIE_INSTANCE_KEY_FILE"), "{e}");
        assert!(e.contains("TOTP"), "{e}");
    } else {
        let unkeyed = app(unkeyed.expect("starts"));
        assert_eq!(sign_in(&unkeyed, &secret).await, StatusCode::UNAUTHORIZED);
    }
}

async fn clear_secrets_left_by_an_older_version_are_sealed_at_start() {
    const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    let keys = tempfile::tempdir().expect("dir");
    let (catalog, key) = common::with_instance_key(&common::humanoid(), keys.path(), "k");
    let old = app(common::Server::start(&catalog, common::Probes::Off).await);
    let url = old._server.database_url.clone();
    let ed = old.user(EMAIL, Role::Editor).await;
    let al = old.user("al@example.org", Role::Admin).await;
    // What a version before the instance key wrote: the secrets in clear.
    old.db
        .execute_unprepared(&format!(
            "UPDATE users SET totp_secret = '{SECRET}' WHERE id = {}",
            ed.id
        ))
        .await
        .expect("clear secret");
    old.db
        .execute_unprepared(&format!(
            "UPDATE users SET totp_pending = '{SECRET}' WHERE id = {}",
            al.id
        ))
        .await
        .expect("clear pending");

    let upgraded = app(
        common::Server::start_on(&catalog, &url, common::Probes::Off)
            .await
            .expect("start"),
    );
    let values = stored(&upgraded.db).await;
    assert_eq!(values.len(), 2);
    assert_sealed(&values, SECRET);
    for id in [ed.id, al.id] {
        let s = store::users::totp::totp_secrets(&upgraded.db, &key, id)
            .await
            .expect("open");
        assert_eq!(s.confirmed.or(s.pending).as_deref(), Some(SECRET));
    }
    assert_eq!(sign_in(&upgraded, SECRET).await, StatusCode::SEE_OTHER);

    // Starting again changes nothing: sealed values are left as they are.
    let _again = common::Server::start_on(&catalog, &url, common::Probes::Off)
        .await
        .expect("start again");
    assert_eq!(stored(&upgraded.db).await, values);
}

on_both!(
    secrets_are_sealed_at_rest_and_sign_in_works_after_a_restart,
    clear_secrets_left_by_an_older_version_are_sealed_at_start,
);
