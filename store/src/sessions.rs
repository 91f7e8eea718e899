//! Browser sessions, stored in the database so every instance knows them and logout is real.
//! The cookie carries a random value; the table keeps only its SHA-256.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::json;

use crate::audit::{self, Actor, ActorKind};
use crate::entity::{session, user};
use crate::tokens::{digest, random_secret};
use crate::users::User;
use crate::StoreError;

/// How long a session lives without a new sign-in.
pub const SESSION_TTL: Duration = Duration::hours(12);

/// A live session and its owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// SHA-256 of the cookie value.
    pub id: String,
    pub user: User,
    /// The value every state-changing form must echo.
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// Signs `user` in: ends the session the browser presented (if any, so a planted session id
/// never survives a sign-in), creates a fresh one and audits it, in one transaction. Returns
/// the cookie value, shown this once.
#[tracing::instrument(skip(db, previous_cookie, user_agent), fields(user = user.id))]
pub async fn start(
    db: &DatabaseConnection,
    user: &User,
    previous_cookie: Option<&str>,
    ip: Option<&str>,
    user_agent: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(String, Session), StoreError> {
    let cookie = random_secret();
    let csrf = random_secret();
    let txn = crate::begin_write(db).await?;
    if let Some(prev) = previous_cookie {
        session::Entity::delete_by_id(digest(prev))
            .exec(&txn)
            .await?;
    }
    let id = digest(&cookie);
    let expires_at = now + SESSION_TTL;
    session::Entity::insert(session::ActiveModel {
        id: Set(id.clone()),
        user_id: Set(user.id),
        csrf_token: Set(csrf.clone()),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(expires_at),
        ip: Set(ip.map(str::to_owned)),
        user_agent: Set(user_agent.map(|u| u.chars().take(300).collect())),
    })
    .exec_without_returning(&txn)
    .await?;
    audit::record(
        &txn,
        &actor_for(user, ip),
        "session.login",
        Some(("user", user.id.to_string())),
        json!({}),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok((
        cookie,
        Session {
            id,
            user: user.clone(),
            csrf_token: csrf,
            expires_at,
        },
    ))
}

/// The audit actor for a signed-in user.
pub fn actor_for(user: &User, ip: Option<&str>) -> Actor {
    Actor {
        kind: ActorKind::User,
        id: Some(user.id),
        label: user.email.clone(),
        ip: ip.map(str::to_owned),
    }
}

/// The live session for a cookie value: not expired, owner not disabled.
pub async fn find(
    db: &DatabaseConnection,
    cookie: &str,
    now: DateTime<Utc>,
) -> Result<Option<Session>, StoreError> {
    let Some((s, Some(u))) = session::Entity::find_by_id(digest(cookie))
        .find_also_related(user::Entity)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if s.expires_at <= now || u.disabled_at.is_some() {
        return Ok(None);
    }
    Ok(Some(Session {
        id: s.id,
        user: User::try_from(u)?,
        csrf_token: s.csrf_token,
        expires_at: s.expires_at,
    }))
}

/// Signs out one session (`everywhere = false`) or every session of its user.
#[tracing::instrument(skip(db, session, actor), fields(user = session.user.id))]
pub async fn end(
    db: &DatabaseConnection,
    session: &Session,
    everywhere: bool,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let txn = crate::begin_write(db).await?;
    let deleted = if everywhere {
        session::Entity::delete_many()
            .filter(session::Column::UserId.eq(session.user.id))
            .exec(&txn)
            .await?
    } else {
        session::Entity::delete_by_id(session.id.clone())
            .exec(&txn)
            .await?
    };
    audit::record(
        &txn,
        actor,
        if everywhere {
            "session.logout_everywhere"
        } else {
            "session.logout"
        },
        Some(("user", session.user.id.to_string())),
        json!({ "sessions": deleted.rows_affected }),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(deleted.rows_affected)
}

/// Deletes expired sessions; returns how many.
pub async fn purge_expired(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, StoreError> {
    Ok(session::Entity::delete_many()
        .filter(session::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?
        .rows_affected)
}
