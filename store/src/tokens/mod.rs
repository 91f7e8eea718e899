//! Tokens: random values shown once and stored as SHA-256, revocable, with the time they were
//! last used. Every kind is made ([`mint`]) and looked up ([`live`], [`mark_used`]) the same
//! way: the write API's tokens ([`api`]), remote probe agents' tokens
//! ([`agent`]) and push monitors' tokens (`crate::push`, which keeps them per monitor). Also
//! the random secrets sessions and TOTP use.

pub mod agent;
pub mod api;

use chrono::{DateTime, Utc};
use rand::rngs::OsRng;
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Select,
};
use sha2::{Digest, Sha256};

use crate::audit::{self, Actor, WriteError};
use crate::entity::{agent_token, api_token};

/// 32 random bytes from the OS, hex-encoded.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// `n` random bytes from the operating system (TOTP secrets).
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

/// Hex SHA-256 of `secret`: what the database keeps instead of the secret.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new token, before it is stored.
pub(crate) struct Minted {
    /// The value, shown once to whoever made the token.
    pub value: String,
    /// What the database keeps instead ([`digest`]).
    pub hash: String,
    /// The first characters, so staff can tell tokens apart in a list.
    pub shown: String,
}

/// A new token: `prefix` (so secret scanners can recognise a leaked one) and a random secret.
pub(crate) fn mint(prefix: &str) -> Minted {
    let value = format!("{prefix}{}", random_secret());
    Minted {
        hash: digest(&value),
        shown: value.chars().take(prefix.len() + 6).collect(),
        value,
    }
}

/// A table of tokens: the columns every kind has.
pub(crate) trait TokenTable: EntityTrait {
    const ID: Self::Column;
    const HASH: Self::Column;
    const CREATED_AT: Self::Column;
    const LAST_USED_AT: Self::Column;
    const REVOKED_AT: Self::Column;
}

impl TokenTable for api_token::Entity {
    const ID: Self::Column = api_token::Column::Id;
    const HASH: Self::Column = api_token::Column::TokenHash;
    const CREATED_AT: Self::Column = api_token::Column::CreatedAt;
    const LAST_USED_AT: Self::Column = api_token::Column::LastUsedAt;
    const REVOKED_AT: Self::Column = api_token::Column::RevokedAt;
}

impl TokenTable for agent_token::Entity {
    const ID: Self::Column = agent_token::Column::Id;
    const HASH: Self::Column = agent_token::Column::TokenHash;
    const CREATED_AT: Self::Column = agent_token::Column::CreatedAt;
    const LAST_USED_AT: Self::Column = agent_token::Column::LastUsedAt;
    const REVOKED_AT: Self::Column = agent_token::Column::RevokedAt;
}

/// The token whose value is `value`, unless revoked: looked up by its digest, so the value
/// itself never reaches the database.
pub(crate) fn live<T: TokenTable>(value: &str) -> Select<T> {
    T::find()
        .filter(T::HASH.eq(digest(value)))
        .filter(T::REVOKED_AT.is_null())
}

/// Records that token `id` was used at `now`.
pub(crate) async fn mark_used<T: TokenTable>(
    db: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    T::update_many()
        .col_expr(T::LAST_USED_AT, Expr::value(now))
        .filter(T::ID.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Revokes token `id` at `now` and audits it in the same transaction (`action` on target
/// `kind` `id`, with what `details` says of the row), unless it was revoked already: then
/// nothing is written. The row as it stands afterwards.
pub(crate) async fn revoke<T: TokenTable>(
    db: &DatabaseConnection,
    id: i64,
    actor: &Actor,
    now: DateTime<Utc>,
    (action, kind): (&str, &str),
    details: impl FnOnce(&T::Model) -> serde_json::Value,
) -> Result<T::Model, WriteError> {
    let txn = crate::begin_write(db).await?;
    let revoked = T::update_many()
        .col_expr(T::REVOKED_AT, Expr::value(now))
        .filter(T::ID.eq(id))
        .filter(T::REVOKED_AT.is_null())
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    let row = T::find()
        .filter(T::ID.eq(id))
        .one(&txn)
        .await?
        .ok_or(WriteError::NotFound)?;
    if revoked {
        audit::record(
            &txn,
            actor,
            action,
            Some((kind, id.to_string())),
            details(&row),
            now,
        )
        .await?;
        txn.commit().await?;
    }
    Ok(row)
}

/// Every token of the table, newest first.
pub(crate) async fn newest_first<T: TokenTable>(
    db: &DatabaseConnection,
) -> Result<Vec<T::Model>, DbErr> {
    T::find()
        .order_by_desc(T::CREATED_AT)
        .order_by_desc(T::ID)
        .all(db)
        .await
}
