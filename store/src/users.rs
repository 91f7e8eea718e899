//! Staff accounts: argon2id password hashes, roles, and the queries sign-in needs.
//!
//! Hashing is CPU-bound and synchronous on purpose: callers on an async runtime run
//! [`hash_password`] and [`verify_password`] on a blocking thread.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{self, Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
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

pub mod totp;

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

/// The working memory of one argon2 computation (about 19 MiB with the default parameters),
/// kept and reused.
///
/// argon2 allocates and frees its whole memory on every hash. Freed on blocking threads, these
/// 19 MiB blocks stay in the allocator's per-thread arenas (glibc raises its mmap threshold
/// after the first free), so a sign-in flood left the process hundreds of megabytes larger
/// for good although only two hashes ever ran at once. The server keeps one `HashMemory` per
/// hashing slot: the memory is allocated once and a flood costs nothing more.
#[derive(Default)]
pub struct HashMemory(Vec<argon2::Block>);

impl std::fmt::Debug for HashMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HashMemory({} KiB)", self.0.len())
    }
}

impl HashMemory {
    /// At least `blocks` blocks, grown (once) if needed.
    fn blocks(&mut self, blocks: usize) -> &mut [argon2::Block] {
        if self.0.len() < blocks {
            self.0 = vec![argon2::Block::default(); blocks];
        }
        &mut self.0[..blocks]
    }
}

/// An argon2id PHC string for `password`, with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, StoreError> {
    hash_password_with(&mut HashMemory::default(), password)
}

/// [`hash_password`] in reused working memory.
pub fn hash_password_with(memory: &mut HashMemory, password: &str) -> Result<String, StoreError> {
    let fail =
        |e: &dyn std::fmt::Display| StoreError::Corrupt(format!("cannot hash password: {e}"));
    let salt = SaltString::generate(&mut OsRng);
    let argon = Argon2::default();
    let params = argon.params().clone();
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt.decode_b64(&mut salt_bytes).map_err(|e| fail(&e))?;
    let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = Output::init_with(output_len, |out| {
        argon
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt_raw,
                out,
                memory.blocks(params.block_count()),
            )
            .map_err(password_hash::Error::from)
    })
    .map_err(|e| fail(&e))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::default().into()),
        params: ParamsString::try_from(&params).map_err(|e| fail(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `hash`. A malformed hash never matches.
pub fn verify_password(hash: &str, password: &str) -> bool {
    verify_password_with(&mut HashMemory::default(), hash, password)
}

/// [`verify_password`] in reused working memory. Hashes of other argon2 variants, versions or
/// costs verify too (with memory grown to their cost).
pub fn verify_password_with(memory: &mut HashMemory, hash: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Ok(algorithm), Some(expected), Some(salt)) = (
        Algorithm::try_from(parsed.algorithm),
        parsed.hash,
        parsed.salt,
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_raw) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let blocks = params.block_count();
    let argon = Argon2::new(algorithm, version, params);
    let computed = Output::init_with(expected.len(), |out| {
        argon
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt_raw,
                out,
                memory.blocks(blocks),
            )
            .map_err(password_hash::Error::from)
    });
    // `Output`'s equality is constant-time.
    computed.is_ok_and(|c| c == expected)
}

/// Spends the time of one verification, so an unknown account answers as slowly as a wrong
/// password.
pub fn verify_nothing(password: &str) {
    verify_nothing_with(&mut HashMemory::default(), password)
}

/// [`verify_nothing`] in reused working memory.
pub fn verify_nothing_with(memory: &mut HashMemory, password: &str) {
    static DUMMY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    if let Some(hash) = DUMMY.get_or_init(|| hash_password("vigie-dummy-password").ok()) {
        let _ = verify_password_with(memory, hash, password);
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
/// ([`crate::tokens::api::authenticate`] skips disabled owners), so access stops at once on every
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

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    /// Cheap parameters keep the test quick; the code path is the same.
    fn argon(algorithm: Algorithm, m_kib: u32) -> Argon2<'static> {
        Argon2::new(
            algorithm,
            Version::V0x13,
            Params::new(m_kib, 1, 1, None).expect("params"),
        )
    }

    #[test]
    fn hashes_in_reused_memory_are_argon2id_phc_strings_that_argon2_itself_accepts() {
        let mut memory = HashMemory::default();
        let hash = hash_password_with(&mut memory, "correct horse").expect("hash");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        let parsed = PasswordHash::new(&hash).expect("phc");
        assert!(Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok());
        assert!(Argon2::default()
            .verify_password(b"correct horsf", &parsed)
            .is_err());
        assert!(verify_password_with(&mut memory, &hash, "correct horse"));
        assert!(!verify_password_with(&mut memory, &hash, "correct horsf"));
    }

    #[test]
    fn hashes_made_by_argon2_with_other_variants_and_costs_verify_in_one_reused_memory() {
        let mut memory = HashMemory::default();
        for (algorithm, m) in [
            (Algorithm::Argon2id, 64),
            (Algorithm::Argon2i, 256),
            (Algorithm::Argon2d, 32),
            (Algorithm::Argon2id, 128),
        ] {
            let salt = SaltString::generate(&mut OsRng);
            let hash = argon(algorithm, m)
                .hash_password(b"s3cret", &salt)
                .expect("hash")
                .to_string();
            assert!(verify_password_with(&mut memory, &hash, "s3cret"), "{hash}");
            assert!(!verify_password_with(&mut memory, &hash, "s3cre"), "{hash}");
            assert!(!verify_password_with(&mut memory, &hash, ""), "{hash}");
        }
        // The memory grew to the largest cost seen and no further.
        assert_eq!(memory.0.len(), 256);
    }

    #[test]
    fn malformed_hashes_never_match() {
        let mut memory = HashMemory::default();
        for hash in [
            "",
            "plain",
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ",
            "$argon2id$v=19$m=64,t=1,p=1$!!!$AAAA",
            "$argon2id$v=99$m=64,t=1,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA",
            "$argon2id$v=19$m=1,t=1,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA",
            "$scrypt$ln=4,r=8,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert!(!verify_password_with(&mut memory, hash, ""), "{hash:?}");
        }
    }
}
