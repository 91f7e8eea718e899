//! Remote probe agents' tokens: one catalog location each, shown once, stored as SHA-256,
//! revocable, audited. The batches agents send are `crate::agents`.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait};
use serde_json::json;

use super::{live, mark_used, mint, newest_first, revoke};
use crate::audit::{self, Actor, WriteError};
use crate::entity::{agent_token, location};
use crate::StoreError;

/// The prefix of an agent token, so secret scanners can recognise a leaked one.
pub const AGENT_TOKEN_PREFIX: &str = "vigie_agent_";

/// A token as staff see it (never its value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentToken {
    pub id: i64,
    pub location_id: String,
    pub label: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

fn from_model(m: agent_token::Model) -> AgentToken {
    AgentToken {
        id: m.id,
        location_id: m.location_id,
        label: m.label,
        prefix: m.prefix,
        created_at: m.created_at,
        last_used_at: m.last_used_at,
        revoked_at: m.revoked_at,
    }
}

/// Creates a token for an agent probing from `location_id`; returns its value (shown once).
pub async fn create_token(
    db: &DatabaseConnection,
    location_id: &str,
    label: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(String, AgentToken), WriteError> {
    let label = label.trim();
    if label.is_empty() || label.len() > 200 {
        return Err(WriteError::Invalid("label"));
    }
    let txn = crate::begin_write(db).await?;
    let known = location::Entity::find_by_id(location_id.to_owned())
        .one(&txn)
        .await?
        .is_some_and(|l| l.archived_at.is_none());
    if !known {
        return Err(WriteError::NotFound);
    }
    let minted = mint(AGENT_TOKEN_PREFIX);
    let model = agent_token::ActiveModel {
        location_id: Set(location_id.to_owned()),
        label: Set(label.to_owned()),
        token_hash: Set(minted.hash),
        prefix: Set(minted.shown),
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
        "agent_token.create",
        Some(("agent_token", model.id.to_string())),
        json!({ "location": location_id, "label": label }),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok((minted.value, from_model(model)))
}

/// The live token with value `value`, marked used at `now`; revoked tokens are not found.
pub async fn authenticate(
    db: &DatabaseConnection,
    value: &str,
    now: DateTime<Utc>,
) -> Result<Option<AgentToken>, StoreError> {
    let Some(t) = live::<agent_token::Entity>(value).one(db).await? else {
        return Ok(None);
    };
    mark_used::<agent_token::Entity>(db, t.id, now).await?;
    let mut token = from_model(t);
    token.last_used_at = Some(now);
    Ok(Some(token))
}

/// Revokes a token for good.
pub async fn revoke_token(
    db: &DatabaseConnection,
    id: i64,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<AgentToken, WriteError> {
    let audited = ("agent_token.revoke", "agent_token");
    let row = revoke::<agent_token::Entity>(
        db,
        id,
        actor,
        now,
        audited,
        |m| json!({ "location": m.location_id, "label": m.label }),
    )
    .await?;
    Ok(from_model(row))
}

/// Every agent token, newest first.
pub async fn list_tokens(db: &DatabaseConnection) -> Result<Vec<AgentToken>, StoreError> {
    Ok(newest_first::<agent_token::Entity>(db)
        .await?
        .into_iter()
        .map(from_model)
        .collect())
}
