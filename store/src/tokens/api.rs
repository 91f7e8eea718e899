//! The write API's tokens: scoped, owned by a staff account, revocable, with the time they
//! were last used.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait};
use serde_json::json;

use super::{live, mark_used, mint, newest_first};
use crate::audit::{self, Actor, ActorKind, WriteError};
use crate::entity::{api_token, user};
use crate::users::User;
use crate::StoreError;
use domain::staff::Scope;

/// The prefix of every API token, so secret scanners can recognise a leaked one.
pub const TOKEN_PREFIX: &str = "vigie_";

/// A token as staff see it (never its value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub user_id: i64,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }

    /// The audit actor for requests made with this token by `owner`.
    pub fn actor(&self, owner: &User, ip: Option<&str>) -> Actor {
        Actor {
            kind: ActorKind::Token,
            id: Some(self.id),
            label: format!("token {} ({})", self.name, owner.email),
            ip: ip.map(str::to_owned),
        }
    }
}

fn from_model(m: api_token::Model) -> ApiToken {
    ApiToken {
        id: m.id,
        name: m.name,
        prefix: m.prefix,
        scopes: m
            .scopes
            .split_whitespace()
            .filter_map(Scope::parse)
            .collect(),
        user_id: m.user_id,
        created_at: m.created_at,
        last_used_at: m.last_used_at,
        revoked_at: m.revoked_at,
    }
}

/// Creates a token for `owner`; returns its value (shown once) and the stored token.
#[tracing::instrument(skip(db, actor))]
pub async fn create(
    db: &DatabaseConnection,
    owner_id: i64,
    name: &str,
    scopes: &[Scope],
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(String, ApiToken), WriteError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(WriteError::Invalid("name"));
    }
    crate::audit::limit("name", name, domain::limits::NAME)?;
    if scopes.is_empty() {
        return Err(WriteError::Invalid("scopes"));
    }
    let minted = mint(TOKEN_PREFIX);
    let txn = crate::begin_write(db).await?;
    if user::Entity::find_by_id(owner_id)
        .one(&txn)
        .await?
        .is_none()
    {
        return Err(WriteError::NotFound);
    }
    let scopes_text = scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let model = api_token::ActiveModel {
        name: Set(name.to_owned()),
        token_hash: Set(minted.hash),
        prefix: Set(minted.shown),
        scopes: Set(scopes_text.clone()),
        user_id: Set(owner_id),
        created_at: Set(now),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        "token.create",
        Some(("token", model.id.to_string())),
        json!({ "name": name, "scopes": scopes_text, "owner": owner_id }),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok((minted.value, from_model(model)))
}

/// The live token with value `value` and its owner, marking it used at `now`. Revoked tokens
/// and tokens of disabled users are not found.
pub async fn authenticate(
    db: &DatabaseConnection,
    value: &str,
    now: DateTime<Utc>,
) -> Result<Option<(ApiToken, User)>, StoreError> {
    let Some((t, Some(u))) = live::<api_token::Entity>(value)
        .find_also_related(user::Entity)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if u.disabled_at.is_some() {
        return Ok(None);
    }
    mark_used::<api_token::Entity>(db, t.id, now).await?;
    let mut token = from_model(t);
    token.last_used_at = Some(now);
    Ok(Some((token, User::try_from(u)?)))
}

/// Revokes a token for good.
#[tracing::instrument(skip(db, actor))]
pub async fn revoke(
    db: &DatabaseConnection,
    id: i64,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<ApiToken, WriteError> {
    let audited = ("token.revoke", "token");
    let row = super::revoke::<api_token::Entity>(
        db,
        id,
        actor,
        now,
        audited,
        |m| json!({ "name": m.name }),
    )
    .await?;
    Ok(from_model(row))
}

/// Every token, newest first.
pub async fn list(db: &DatabaseConnection) -> Result<Vec<ApiToken>, StoreError> {
    Ok(newest_first::<api_token::Entity>(db)
        .await?
        .into_iter()
        .map(from_model)
        .collect())
}
