//! Incidents: opening one with its first update and affected services, posting updates
//! (each may change services' stated statuses), editing (history kept), and the reads the
//! public page, feeds and APIs make. Also the statuses staff set by hand on a service.
//!
//! Every write is one transaction that includes its audit event. Messages arrive with their
//! Markdown and the sanitised HTML rendered from it; both are stored, so readers never render.

pub mod drafts;
pub mod manual;
pub mod read;

use chrono::{DateTime, Utc};
use domain::incident::{Impact, IncidentStatus, IncidentView};
use domain::status::ComponentStatus;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::json;

use crate::audit::{self, Actor, WriteError};
use crate::entity::{incident, incident_service, incident_update, service};
use crate::StoreError;

/// A message in Markdown and the sanitised HTML rendered from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub markdown: String,
    pub html: String,
}

/// A new incident with its first update.
#[derive(Clone, Debug)]
pub struct NewIncident {
    pub title: String,
    pub impact: Impact,
    pub status: IncidentStatus,
    pub message: Message,
    pub services: Vec<(String, ComponentStatus)>,
    /// When the incident began, for write-ups made after the fact; `now` when `None`.
    pub started_at: Option<DateTime<Utc>>,
    pub notify: bool,
}

/// An update posted to an incident.
#[derive(Clone, Debug)]
pub struct NewUpdate {
    pub status: IncidentStatus,
    pub message: Message,
    /// Services whose stated status changes (new services join the incident).
    pub services: Vec<(String, ComponentStatus)>,
}

/// Changes to an incident's headline.
#[derive(Clone, Debug, Default)]
pub struct IncidentEdit {
    pub title: Option<String>,
    pub impact: Option<Impact>,
    pub started_at: Option<DateTime<Utc>>,
}

fn corrupt(what: &str, id: i64, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {id}: {value}"))
}

async fn check_services<C: ConnectionTrait>(
    conn: &C,
    services: &[(String, ComponentStatus)],
) -> Result<(), WriteError> {
    for (id, _) in services {
        let live = service::Entity::find_by_id(id.clone())
            .one(conn)
            .await?
            .is_some_and(|s| s.archived_at.is_none());
        if !live {
            return Err(WriteError::UnknownService(id.clone()));
        }
    }
    Ok(())
}

async fn set_services<C: ConnectionTrait>(
    conn: &C,
    incident_id: i64,
    services: &[(String, ComponentStatus)],
) -> Result<(), StoreError> {
    if services.is_empty() {
        return Ok(());
    }
    incident_service::Entity::insert_many(services.iter().map(|(id, status)| {
        incident_service::ActiveModel {
            incident_id: Set(incident_id),
            service_id: Set(id.clone()),
            status: Set(status.as_str().to_owned()),
        }
    }))
    .on_conflict(
        OnConflict::columns([
            incident_service::Column::IncidentId,
            incident_service::Column::ServiceId,
        ])
        .update_column(incident_service::Column::Status)
        .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

fn statuses_json(services: &[(String, ComponentStatus)]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = services
        .iter()
        .map(|(id, s)| (id.clone(), json!(s.as_str())))
        .collect();
    serde_json::Value::Object(map).to_string()
}

async fn insert_update<C: ConnectionTrait>(
    conn: &C,
    incident_id: i64,
    status: IncidentStatus,
    message: &Message,
    services: &[(String, ComponentStatus)],
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let m = incident_update::ActiveModel {
        incident_id: Set(incident_id),
        status: Set(status.as_str().to_owned()),
        message_md: Set(message.markdown.clone()),
        message_html: Set(message.html.clone()),
        service_statuses: Set(statuses_json(services)),
        created_at: Set(now),
        edited_at: Set(None),
        previous_md: Set("[]".to_owned()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(m.id)
}

/// Opens an incident with its first update.
pub async fn open(
    db: &DatabaseConnection,
    new: &NewIncident,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<IncidentView, WriteError> {
    open_from_draft(db, new, None, actor, now).await
}

/// Opens an incident with its first update, made from the proposed draft `draft` if given.
///
/// A draft is opened once: its change from proposed to opened is a conditional update in the
/// incident's own transaction, so of two concurrent opens of one draft (API, console, or two
/// instances) one commits and the other gets [`WriteError::Conflict`] with nothing written.
/// An unknown draft is [`WriteError::NotFound`].
#[tracing::instrument(skip_all, fields(title = %new.title, draft))]
pub async fn open_from_draft(
    db: &DatabaseConnection,
    new: &NewIncident,
    draft: Option<i64>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<IncidentView, WriteError> {
    let title = new.title.trim();
    if title.is_empty() {
        return Err(WriteError::Invalid("title"));
    }
    crate::audit::limit("title", title, domain::limits::TITLE)?;
    crate::audit::limit("message", &new.message.markdown, domain::limits::MESSAGE)?;
    if new.status == IncidentStatus::Postmortem {
        return Err(WriteError::Invalid("status"));
    }
    let started_at = new.started_at.unwrap_or(now);
    if started_at > now {
        return Err(WriteError::Invalid("started_at"));
    }
    let txn = crate::begin_write(db).await?;
    check_services(&txn, &new.services).await?;
    let inc = incident::ActiveModel {
        title: Set(title.to_owned()),
        status: Set(new.status.as_str().to_owned()),
        impact: Set(new.impact.as_str().to_owned()),
        notify: Set(new.notify),
        started_at: Set(started_at),
        resolved_at: Set((!new.status.is_open()).then_some(now)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    if let Some(draft) = draft {
        drafts::open_in(&txn, draft, inc.id, actor, now).await?;
    }
    set_services(&txn, inc.id, &new.services).await?;
    let update_id =
        insert_update(&txn, inc.id, new.status, &new.message, &new.services, now).await?;
    crate::outbox::announce::queue_incident_update(&txn, inc.id, update_id, now).await?;
    audit::record(
        &txn,
        actor,
        "incident.create",
        Some(("incident", inc.id.to_string())),
        json!({ "title": title, "status": new.status.as_str(), "impact": new.impact.as_str() }),
        now,
    )
    .await?;
    txn.commit().await?;
    read::get(db, inc.id).await?.ok_or(WriteError::NotFound)
}

/// Posts an update; checks the status transition and records resolution time.
#[tracing::instrument(skip(db, update, actor))]
pub async fn post_update(
    db: &DatabaseConnection,
    incident_id: i64,
    update: &NewUpdate,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<IncidentView, WriteError> {
    crate::audit::limit("message", &update.message.markdown, domain::limits::MESSAGE)?;
    let txn = crate::begin_write(db).await?;
    // Locked until commit (PostgreSQL; SQLite's write transaction holds the whole database):
    // concurrent updates of one incident are checked one after the other.
    let inc = incident::Entity::find_by_id(incident_id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(WriteError::NotFound)?;
    let from = IncidentStatus::parse(&inc.status)
        .ok_or_else(|| corrupt("incident", inc.id, &inc.status))?;
    if update.status == IncidentStatus::Resolved && !from.is_open() {
        // Resolving twice (a double click, two staff at once) adds nothing.
        return Err(WriteError::Conflict);
    }
    if !from.can_become(update.status) {
        return Err(WriteError::Transition {
            from: from.as_str(),
            to: update.status.as_str(),
        });
    }
    check_services(&txn, &update.services).await?;
    set_services(&txn, incident_id, &update.services).await?;
    let update_id = insert_update(
        &txn,
        incident_id,
        update.status,
        &update.message,
        &update.services,
        now,
    )
    .await?;
    let resolved_at = match (from.is_open(), update.status.is_open()) {
        (true, false) => Some(now),
        (_, true) => None,
        (false, false) => inc.resolved_at,
    };
    let mut am: incident::ActiveModel = inc.into();
    am.status = Set(update.status.as_str().to_owned());
    am.resolved_at = Set(resolved_at);
    am.updated_at = Set(now);
    am.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        "incident.update",
        Some(("incident", incident_id.to_string())),
        json!({ "from": from.as_str(), "to": update.status.as_str() }),
        now,
    )
    .await?;
    // Queued after the incident row has its new status, so the announcement carries it.
    crate::outbox::announce::queue_incident_update(&txn, incident_id, update_id, now).await?;
    txn.commit().await?;
    read::get(db, incident_id)
        .await?
        .ok_or(WriteError::NotFound)
}

/// Changes an incident's title, impact or start time.
#[tracing::instrument(skip(db, edit, actor))]
pub async fn edit(
    db: &DatabaseConnection,
    incident_id: i64,
    edit: &IncidentEdit,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<IncidentView, WriteError> {
    let txn = crate::begin_write(db).await?;
    let inc = incident::Entity::find_by_id(incident_id)
        .one(&txn)
        .await?
        .ok_or(WriteError::NotFound)?;
    let mut am: incident::ActiveModel = inc.into();
    let mut changed = serde_json::Map::new();
    if let Some(t) = &edit.title {
        let t = t.trim();
        if t.is_empty() {
            return Err(WriteError::Invalid("title"));
        }
        crate::audit::limit("title", t, domain::limits::TITLE)?;
        am.title = Set(t.to_owned());
        changed.insert("title".into(), json!(t));
    }
    if let Some(i) = edit.impact {
        am.impact = Set(i.as_str().to_owned());
        changed.insert("impact".into(), json!(i.as_str()));
    }
    if let Some(s) = edit.started_at {
        if s > now {
            return Err(WriteError::Invalid("started_at"));
        }
        am.started_at = Set(s);
        changed.insert("started_at".into(), json!(s));
    }
    am.updated_at = Set(now);
    am.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        "incident.edit",
        Some(("incident", incident_id.to_string())),
        serde_json::Value::Object(changed),
        now,
    )
    .await?;
    txn.commit().await?;
    read::get(db, incident_id)
        .await?
        .ok_or(WriteError::NotFound)
}

/// Replaces the text of a published update, keeping the earlier text in its history.
#[tracing::instrument(skip(db, message, actor))]
pub async fn edit_update(
    db: &DatabaseConnection,
    update_id: i64,
    message: &Message,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<IncidentView, WriteError> {
    crate::audit::limit("message", &message.markdown, domain::limits::MESSAGE)?;
    let txn = crate::begin_write(db).await?;
    let up = incident_update::Entity::find_by_id(update_id)
        .one(&txn)
        .await?
        .ok_or(WriteError::NotFound)?;
    let incident_id = up.incident_id;
    let mut history: Vec<String> = serde_json::from_str(&up.previous_md).unwrap_or_default();
    history.push(up.message_md.clone());
    let mut am: incident_update::ActiveModel = up.into();
    am.message_md = Set(message.markdown.clone());
    am.message_html = Set(message.html.clone());
    am.edited_at = Set(Some(now));
    am.previous_md = Set(json!(history).to_string());
    am.update(&txn).await?;
    incident::Entity::update_many()
        .col_expr(
            incident::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(incident::Column::Id.eq(incident_id))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        actor,
        "incident.edit_update",
        Some(("incident_update", update_id.to_string())),
        json!({ "incident": incident_id }),
        now,
    )
    .await?;
    txn.commit().await?;
    read::get(db, incident_id)
        .await?
        .ok_or(WriteError::NotFound)
}
