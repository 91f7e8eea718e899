//! The audit log: every state-changing action staff make, written in the same transaction as
//! the change itself, and the paged, filterable list the console shows. Also the error type
//! shared by staff writes.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::entity::audit_event;
use crate::StoreError;

/// Why a staff write was refused. Database error text stays in logs.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("not found")]
    NotFound,
    #[error("unknown service `{0}`")]
    UnknownService(String),
    #[error("an incident that is {from} cannot become {to}")]
    Transition {
        from: &'static str,
        to: &'static str,
    },
    #[error("already exists")]
    Conflict,
    #[error("{0}")]
    Invalid(&'static str),
    /// `field` is longer than its limit (`max` characters, see `domain::limits`).
    #[error("{field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
}

/// `Err(TooLong)` when `value` has more than `max` characters: every write checks its text
/// fields with this, against the limits of `domain::limits`.
/// A NUL character is refused too (`Invalid(field)`): it is no text, and PostgreSQL rejects it.
pub fn limit(field: &'static str, value: &str, max: usize) -> Result<(), WriteError> {
    if value.contains('\0') {
        Err(WriteError::Invalid(field))
    } else if domain::limits::within(value, max) {
        Ok(())
    } else {
        Err(WriteError::TooLong { field, max })
    }
}

impl From<sea_orm::DbErr> for WriteError {
    fn from(e: sea_orm::DbErr) -> Self {
        WriteError::Store(StoreError::Db(e))
    }
}

/// Who acted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActorKind {
    /// A signed-in staff member.
    User,
    /// An API token (its id is the token's id).
    Token,
    /// The `vigie` command line on the server itself.
    Cli,
    /// Vigie itself (time-driven changes).
    System,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::Token => "token",
            ActorKind::Cli => "cli",
            ActorKind::System => "system",
        }
    }
}

/// Who acted and from where, as the audit log records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: Option<i64>,
    /// e.g. the user's email, or `token ci (alice@example.org)`.
    pub label: String,
    pub ip: Option<String>,
}

impl Actor {
    pub fn cli() -> Self {
        Actor {
            kind: ActorKind::Cli,
            id: None,
            label: "command line".to_owned(),
            ip: None,
        }
    }

    pub fn system() -> Self {
        Actor {
            kind: ActorKind::System,
            id: None,
            label: "vigie".to_owned(),
            ip: None,
        }
    }
}

/// One audit log entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_kind: String,
    pub actor_label: String,
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub ip: Option<String>,
    pub details: String,
}

/// Records `action` by `actor` on `target` (kind, id). Pass the transaction of the change.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    action: &str,
    target: Option<(&str, String)>,
    details: serde_json::Value,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let (target_kind, target_id) = match target {
        Some((k, id)) => (Some(k.to_owned()), Some(id)),
        None => (None, None),
    };
    audit_event::Entity::insert(audit_event::ActiveModel {
        at: Set(at),
        actor_kind: Set(actor.kind.as_str().to_owned()),
        actor_id: Set(actor.id),
        actor_label: Set(actor.label.clone()),
        action: Set(action.to_owned()),
        target_kind: Set(target_kind),
        target_id: Set(target_id),
        ip: Set(actor.ip.clone()),
        details: Set(details.to_string()),
        ..Default::default()
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Filters for [`list`]; empty fields match everything.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Exact action, e.g. `incident.create`, or a prefix ending with `.`: `incident.`.
    pub action: Option<String>,
    /// Substring of the actor's label.
    pub actor: Option<String>,
}

/// A page of the audit log, newest first, and the total number of matching entries.
#[tracing::instrument(skip(db))]
pub async fn list(
    db: &DatabaseConnection,
    filter: &AuditFilter,
    page: u64,
    per_page: u64,
) -> Result<(Vec<AuditEntry>, u64), StoreError> {
    let mut q = audit_event::Entity::find();
    if let Some(a) = filter.action.as_deref().filter(|a| !a.is_empty()) {
        q = if a.ends_with('.') {
            q.filter(audit_event::Column::Action.starts_with(a))
        } else {
            q.filter(audit_event::Column::Action.eq(a))
        };
    }
    if let Some(who) = filter.actor.as_deref().filter(|a| !a.is_empty()) {
        q = q.filter(audit_event::Column::ActorLabel.contains(who));
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(audit_event::Column::At)
        .order_by_desc(audit_event::Column::Id)
        .offset(page.saturating_mul(per_page))
        .limit(per_page)
        .all(db)
        .await?;
    Ok((
        rows.into_iter()
            .map(|r| AuditEntry {
                id: r.id,
                at: r.at,
                actor_kind: r.actor_kind,
                actor_label: r.actor_label,
                action: r.action,
                target_kind: r.target_kind,
                target_id: r.target_id,
                ip: r.ip,
                details: r.details,
            })
            .collect(),
        total,
    ))
}
