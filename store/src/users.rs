//! Staff accounts: argon2id password hashes, roles, and the queries sign-in needs.
//!
//! Hashing is CPU-bound and synchronous on purpose: callers on an async runtime run
//! [`hash_password`] and [`verify_password`] on a blocking thread.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};
use serde_json::json;

use crate::audit::{self, Actor, WriteError};
use crate::entity::{session, user};
use crate::StoreError;
use domain::staff::Role;

mod totp;
pub use totp::*;

/// A staff member, without the password hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub disabled: bool,
    /// A TOTP second factor is required at sign-in.
    pub totp: bool,
}

impl TryFrom<user::Model> for User {
    type Error = StoreError;
    fn try_from(m: user::Model) -> Result<Self, StoreError> {
        Ok(User {
            id: m.id,
            role: Role::parse(&m.role)
                .ok_or_else(|| StoreError::Corrupt(format!("user {}: role {}", m.id, m.role)))?,
            email: m.email,
            created_at: m.created_at,
            disabled: m.disabled_at.is_some(),
            totp: m.totp_secret.is_some(),
        })
    }
}

/// Emails are compared trimmed and lower-cased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// An argon2id PHC string for `password`, with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, StoreError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Corrupt(format!("cannot hash password: {e}")))
}

/// Whether `password` matches the PHC string `hash`. A malformed hash never matches.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Spends the time of one verification, so an unknown account answers as slowly as a wrong
/// password.
pub fn verify_nothing(password: &str) {
    static DUMMY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    if let Some(hash) = DUMMY.get_or_init(|| hash_password("vigie-dummy-password").ok()) {
        let _ = verify_password(hash, password);
    }
}

/// Creates a user from an already computed hash (see [`hash_password`]).
#[tracing::instrument(skip(db, password_hash, actor))]
pub async fn create(
    db: &DatabaseConnection,
    email: &str,
    role: Role,
    password_hash: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<User, WriteError> {
    let email = normalize_email(email);
    crate::audit::limit("email", &email, domain::limits::EMAIL)?;
    let txn = crate::begin_write(db).await?;
    if user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(WriteError::Conflict);
    }
    let model = user::ActiveModel {
        email: Set(email.clone()),
        password_hash: Set(password_hash.to_owned()),
        role: Set(role.as_str().to_owned()),
        created_at: Set(now),
        password_changed_at: Set(now),
        disabled_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        "user.create",
        Some(("user", model.id.to_string())),
        json!({ "email": email, "role": role.as_str() }),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(User::try_from(model)?)
}

/// Replaces a user's password and signs them out everywhere.
#[tracing::instrument(skip(db, password_hash, actor))]
pub async fn set_password(
    db: &DatabaseConnection,
    email: &str,
    password_hash: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<User, WriteError> {
    let email = normalize_email(email);
    let txn = crate::begin_write(db).await?;
    let Some(found) = user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .one(&txn)
        .await?
    else {
        return Err(WriteError::NotFound);
    };
    let id = found.id;
    let mut am: user::ActiveModel = found.into();
    am.password_hash = Set(password_hash.to_owned());
    am.password_changed_at = Set(now);
    let model = am.update(&txn).await?;
    session::Entity::delete_many()
        .filter(session::Column::UserId.eq(id))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        actor,
        "user.password",
        Some(("user", id.to_string())),
        json!({ "email": email }),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(User::try_from(model)?)
}

/// Refuses, inside `txn`, a change that would leave no enabled admin: somebody must still be
/// able to manage the team from the console.
async fn keep_an_admin(
    txn: &impl sea_orm::ConnectionTrait,
    leaving: i64,
) -> Result<(), WriteError> {
    use sea_orm::PaginatorTrait;
    let others = user::Entity::find()
        .filter(user::Column::Role.eq(Role::Admin.as_str()))
        .filter(user::Column::DisabledAt.is_null())
        .filter(user::Column::Id.ne(leaving))
        .count(txn)
        .await?;
    if others == 0 {
        return Err(WriteError::Invalid("last_admin"));
    }
    Ok(())
}

/// Changes a user's role. Demoting the last enabled admin is refused
/// (`WriteError::Invalid("last_admin")`).
#[tracing::instrument(skip(db, actor))]
pub async fn set_role(
    db: &DatabaseConnection,
    id: i64,
    role: Role,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<User, WriteError> {
    let txn = crate::begin_write(db).await?;
    let found = user::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(WriteError::NotFound)?;
    let before = found.role.clone();
    if before == role.as_str() {
        return Ok(User::try_from(found)?);
    }
    if before == Role::Admin.as_str() && found.disabled_at.is_none() {
        keep_an_admin(&txn, id).await?;
    }
    let email = found.email.clone();
    let mut am: user::ActiveModel = found.into();
    am.role = Set(role.as_str().to_owned());
    let model = am.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        "user.role",
        Some(("user", id.to_string())),
        json!({ "email": email, "from": before, "role": role.as_str() }),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(User::try_from(model)?)
}

/// Disables (`disabled = true`) or enables a user. Disabling ends every session of theirs in
/// the same transaction, and from then on their API tokens are refused
/// ([`crate::tokens::authenticate`] skips disabled owners), so access stops at once on every
/// instance. Enabling gives back their tokens but no session: they sign in again. Disabling
/// the last enabled admin is refused (`WriteError::Invalid("last_admin")`); doing what is
/// already done changes nothing and writes no audit entry.
#[tracing::instrument(skip(db, actor))]
pub async fn set_disabled(
    db: &DatabaseConnection,
    id: i64,
    disabled: bool,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<User, WriteError> {
    let txn = crate::begin_write(db).await?;
    let found = user::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(WriteError::NotFound)?;
    if found.disabled_at.is_some() == disabled {
        return Ok(User::try_from(found)?);
    }
    if disabled && found.role == Role::Admin.as_str() {
        keep_an_admin(&txn, id).await?;
    }
    let email = found.email.clone();
    let mut am: user::ActiveModel = found.into();
    am.disabled_at = Set(disabled.then_some(now));
    let model = am.update(&txn).await?;
    let sessions = if disabled {
        session::Entity::delete_many()
            .filter(session::Column::UserId.eq(id))
            .exec(&txn)
            .await?
            .rows_affected
    } else {
        0
    };
    audit::record(
        &txn,
        actor,
        if disabled {
            "user.disable"
        } else {
            "user.enable"
        },
        Some(("user", id.to_string())),
        json!({ "email": email, "sessions_ended": sessions }),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(User::try_from(model)?)
}

/// A user by e-mail address (compared as [`normalize_email`] does), disabled or not.
pub async fn find_by_email(
    db: &DatabaseConnection,
    email: &str,
) -> Result<Option<User>, StoreError> {
    user::Entity::find()
        .filter(user::Column::Email.eq(normalize_email(email)))
        .one(db)
        .await?
        .map(User::try_from)
        .transpose()
}

/// Every user, by email.
pub async fn list(db: &DatabaseConnection) -> Result<Vec<User>, StoreError> {
    user::Entity::find()
        .order_by_asc(user::Column::Email)
        .all(db)
        .await?
        .into_iter()
        .map(User::try_from)
        .collect()
}

/// A user and their password hash, for sign-in. Disabled users are not found.
pub async fn find_for_login(
    db: &DatabaseConnection,
    email: &str,
) -> Result<Option<(User, String)>, StoreError> {
    let found = user::Entity::find()
        .filter(user::Column::Email.eq(normalize_email(email)))
        .filter(user::Column::DisabledAt.is_null())
        .one(db)
        .await?;
    match found {
        Some(m) => {
            let hash = m.password_hash.clone();
            Ok(Some((User::try_from(m)?, hash)))
        }
        None => Ok(None),
    }
}

/// A user by id.
pub async fn get(db: &DatabaseConnection, id: i64) -> Result<Option<User>, StoreError> {
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(User::try_from)
        .transpose()
}
