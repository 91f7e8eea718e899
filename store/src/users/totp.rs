//! The optional TOTP second factor in the database: the confirmed secret, the one being
//! enrolled, and the last time step used (a code is accepted once).
//!
//! Secrets are stored sealed with the instance key ([`crate::instance_key`]), bound to their
//! user: the database alone does not give them away. Clear secrets written by versions before
//! the key existed are sealed when an instance starts ([`seal_clear_totp`]); until then they
//! are still read, so an upgrade never locks anyone out.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter,
};
use serde_json::json;

use crate::audit::{self, Actor, WriteError};
use crate::entity::user;
use crate::instance_key::{is_sealed, InstanceKey};
use crate::StoreError;

/// What sealed TOTP secrets are bound to, with their user's id.
const PURPOSE: &str = "totp";

/// A user's TOTP secrets, opened: the confirmed one (required at sign-in) and the one being
/// enrolled.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TotpSecrets {
    pub confirmed: Option<String>,
    pub pending: Option<String>,
}

/// The TOTP secrets of user `id` (none for an unknown user). A sealed secret that `key` does
/// not open is `StoreError::Sealed`, whose message names the user and the fix: the caller
/// refuses the second factor, it never skips it.
pub async fn totp_secrets(
    db: &DatabaseConnection,
    key: &InstanceKey,
    id: i64,
) -> Result<TotpSecrets, StoreError> {
    let Some(m) = user::Entity::find_by_id(id).one(db).await? else {
        return Ok(TotpSecrets::default());
    };
    let open = |stored: Option<String>| -> Result<Option<String>, StoreError> {
        match stored {
            None => Ok(None),
            Some(s) if !is_sealed(&s) => Ok(Some(s)),
            Some(s) => key
                .open(PURPOSE, id, &s)
                .map(Some)
                .map_err(|_| unopened(id, &m.email)),
        }
    };
    Ok(TotpSecrets {
        confirmed: open(m.totp_secret.clone())?,
        pending: open(m.totp_pending.clone())?,
    })
}

fn unopened(id: i64, email: &str) -> StoreError {
    StoreError::Sealed(format!(
        "the TOTP secret of {email} (user {id}) does not open with this instance's key, so \
         their second factor cannot be checked and their sign-in is refused: start Vigie with \
         the key that sealed it (VIGIE_INSTANCE_KEY_FILE, `instance_key` under [server], or \
         the key file beside the SQLite database), or remove their second factor with \
         `vigie user reset-totp {email}`"
    ))
}

/// Starts enrolling a second factor: `secret` waits for its first code, stored sealed.
/// Replaces an earlier pending secret; a confirmed one stays in force until the new one is
/// confirmed.
pub async fn totp_begin(
    db: &DatabaseConnection,
    key: &InstanceKey,
    id: i64,
    secret: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), WriteError> {
    let sealed = key.seal(PURPOSE, id, secret);
    totp_write(db, id, actor, now, "user.totp_begin", |am| {
        am.totp_pending = Set(Some(sealed));
    })
    .await
}

/// Confirms the pending secret (its first code used time step `step`): from now on sign-in
/// asks for a code.
pub async fn totp_confirm(
    db: &DatabaseConnection,
    key: &InstanceKey,
    id: i64,
    secret: &str,
    step: i64,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), WriteError> {
    let sealed = key.seal(PURPOSE, id, secret);
    totp_write(db, id, actor, now, "user.totp_enable", |am| {
        am.totp_secret = Set(Some(sealed));
        am.totp_pending = Set(None);
        am.totp_last_step = Set(Some(step));
    })
    .await
}

/// Removes the second factor (the user's choice with a valid code, or an administrator's
/// recovery from the command line, which needs no key).
pub async fn totp_disable(
    db: &DatabaseConnection,
    id: i64,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), WriteError> {
    totp_write(db, id, actor, now, "user.totp_disable", |am| {
        am.totp_secret = Set(None);
        am.totp_pending = Set(None);
        am.totp_last_step = Set(None);
    })
    .await
}

async fn totp_write(
    db: &DatabaseConnection,
    id: i64,
    actor: &Actor,
    now: DateTime<Utc>,
    action: &str,
    change: impl FnOnce(&mut user::ActiveModel),
) -> Result<(), WriteError> {
    let txn = crate::begin_write(db).await?;
    let found = user::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(WriteError::NotFound)?;
    let email = found.email.clone();
    let mut am: user::ActiveModel = found.into();
    change(&mut am);
    am.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        action,
        Some(("user", id.to_string())),
        json!({ "email": email }),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Spends TOTP time step `step` for user `id`: true once per step and only forward, so a
/// code seen by someone else cannot be replayed, even by a second instance.
pub async fn totp_spend(db: &DatabaseConnection, id: i64, step: i64) -> Result<bool, StoreError> {
    let res = user::Entity::update_many()
        .col_expr(user::Column::TotpLastStep, Expr::value(step))
        .filter(user::Column::Id.eq(id))
        .filter(
            Condition::any()
                .add(user::Column::TotpLastStep.is_null())
                .add(user::Column::TotpLastStep.lt(step)),
        )
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

fn has_a_secret() -> Condition {
    Condition::any()
        .add(user::Column::TotpSecret.is_not_null())
        .add(user::Column::TotpPending.is_not_null())
}

/// How many users hold a TOTP secret, confirmed or pending (sealed or not).
pub async fn totp_count(db: &DatabaseConnection) -> Result<u64, StoreError> {
    Ok(user::Entity::find()
        .filter(has_a_secret())
        .count(db)
        .await?)
}

/// Seals with `key` every TOTP secret still stored in clear (written before the instance key
/// existed), in one transaction; returns how many values it sealed. Idempotent: sealed values
/// are left alone, and each row is rewritten only if it still holds the clear value read, so
/// instances starting together do not undo each other's work.
pub async fn seal_clear_totp(
    db: &DatabaseConnection,
    key: &InstanceKey,
) -> Result<u64, StoreError> {
    let txn = crate::begin_write(db).await?;
    let rows = user::Entity::find()
        .filter(has_a_secret())
        .all(&txn)
        .await?;
    let mut sealed = 0;
    for m in rows {
        for (column, value) in [
            (user::Column::TotpSecret, &m.totp_secret),
            (user::Column::TotpPending, &m.totp_pending),
        ] {
            let Some(clear) = value.as_deref().filter(|v| !is_sealed(v)) else {
                continue;
            };
            let res = user::Entity::update_many()
                .col_expr(column, Expr::value(key.seal(PURPOSE, m.id, clear)))
                .filter(user::Column::Id.eq(m.id))
                .filter(column.eq(clear))
                .exec(&txn)
                .await?;
            sealed += res.rows_affected;
        }
    }
    txn.commit().await?;
    Ok(sealed)
}

/// The e-mail addresses of users whose sealed TOTP secret `key` does not open (checked at
/// start, so a wrong key is told at once rather than at someone's sign-in).
pub async fn totp_unopened(
    db: &DatabaseConnection,
    key: &InstanceKey,
) -> Result<Vec<String>, StoreError> {
    let rows = user::Entity::find().filter(has_a_secret()).all(db).await?;
    Ok(rows
        .into_iter()
        .filter(|m| {
            [&m.totp_secret, &m.totp_pending]
                .into_iter()
                .flatten()
                .any(|s| is_sealed(s) && key.open(PURPOSE, m.id, s).is_err())
        })
        .map(|m| m.email)
        .collect())
}

/// Re-seals every TOTP secret (confirmed and pending) from the instance key `old` to `new`, in
/// one transaction: either every secret opens with `old` and all are re-sealed, or nothing is
/// written and the error names the first user whose secret does not open. Secrets still in
/// clear are sealed with `new` on the way. Returns how many values were written.
pub async fn reseal_totp(
    db: &DatabaseConnection,
    old: &InstanceKey,
    new: &InstanceKey,
) -> Result<u64, StoreError> {
    let txn = crate::begin_write(db).await?;
    let rows = user::Entity::find()
        .filter(has_a_secret())
        .all(&txn)
        .await?;
    let mut written = 0;
    for m in rows {
        for (column, value) in [
            (user::Column::TotpSecret, &m.totp_secret),
            (user::Column::TotpPending, &m.totp_pending),
        ] {
            let Some(stored) = value.as_deref() else {
                continue;
            };
            let clear = if is_sealed(stored) {
                zeroize::Zeroizing::new(
                    old.open(PURPOSE, m.id, stored)
                        .map_err(|_| unopened(m.id, &m.email))?,
                )
            } else {
                zeroize::Zeroizing::new(stored.to_owned())
            };
            let res = user::Entity::update_many()
                .col_expr(column, Expr::value(new.seal(PURPOSE, m.id, &clear)))
                .filter(user::Column::Id.eq(m.id))
                .filter(column.eq(stored))
                .exec(&txn)
                .await?;
            written += res.rows_affected;
        }
    }
    txn.commit().await?;
    Ok(written)
}
