//! Rotating the instance key: every TOTP secret re-sealed from the old key to the new one in
//! one transaction, or nothing written when one of them does not open with the old key.

mod common;

use chrono::Utc;
use domain::staff::Role;
use sea_orm::DatabaseConnection;
use store::audit::Actor;
use store::instance_key::InstanceKey;

async fn user_with_totp(
    db: &DatabaseConnection,
    key: &InstanceKey,
    email: &str,
    secret: &str,
) -> i64 {
    let now = Utc::now();
    let u = store::users::create(db, email, Role::Editor, "$argon2id$x", &Actor::cli(), now)
        .await
        .expect("user");
    store::users::totp::totp_begin(db, key, u.id, secret, &Actor::cli(), now)
        .await
        .expect("begin");
    store::users::totp::totp_confirm(db, key, u.id, secret, 1, &Actor::cli(), now)
        .await
        .expect("confirm");
    u.id
}

async fn every_secret_moves_to_the_new_key_or_none_does(db: DatabaseConnection) {
    let (old, new, other) = (
        InstanceKey::generate(),
        InstanceKey::generate(),
        InstanceKey::generate(),
    );
    let a = user_with_totp(&db, &old, "a@example.org", "JBSWY3DPEHPK3PXP").await;
    let b = user_with_totp(&db, &old, "b@example.org", "KRSXG5CTMVRXEZLU").await;
    store::users::totp::totp_begin(&db, &old, b, "GEZDGNBVGY3TQOJQ", &Actor::cli(), Utc::now())
        .await
        .expect("a pending secret too");

    // With a key that did not seal them: refused, naming a user, nothing written.
    let err = store::users::totp::reseal_totp(&db, &other, &new)
        .await
        .expect_err("the wrong old key");
    assert!(err.to_string().contains("@example.org"), "{err}");
    assert_eq!(
        store::users::totp::totp_secrets(&db, &old, a)
            .await
            .expect("old still opens")
            .confirmed
            .as_deref(),
        Some("JBSWY3DPEHPK3PXP")
    );

    let written = store::users::totp::reseal_totp(&db, &old, &new)
        .await
        .expect("rotated");
    assert_eq!(written, 3, "two confirmed secrets and one pending");
    let sb = store::users::totp::totp_secrets(&db, &new, b)
        .await
        .expect("new opens");
    assert_eq!(sb.confirmed.as_deref(), Some("KRSXG5CTMVRXEZLU"));
    assert_eq!(sb.pending.as_deref(), Some("GEZDGNBVGY3TQOJQ"));
    assert!(
        store::users::totp::totp_secrets(&db, &old, a)
            .await
            .is_err(),
        "the old key no longer opens them"
    );
    assert!(store::users::totp::totp_unopened(&db, &new)
        .await
        .expect("q")
        .is_empty());
}

on_both!(every_secret_moves_to_the_new_key_or_none_does);
