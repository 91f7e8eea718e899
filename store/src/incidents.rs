//! Incidents: opening one with its first update and affected services, posting updates
//! (each may change services' stated statuses), editing (history kept), and the reads the
//! public page, feeds and APIs make. Also the statuses staff set by hand on a service.
//!
//! Every write is one transaction that includes its audit event. Messages arrive with their
//! Markdown and the sanitised HTML rendered from it; both are stored, so readers never render.

pub mod drafts;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::incident::{
    AffectedService, Impact, IncidentStatus, IncidentUpdateView, IncidentView, ManualStatus,
};
use domain::status::ComponentStatus;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;

use crate::audit::{self, Actor, WriteError};
use crate::entity::{incident, incident_service, incident_update, manual_status, service};
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
        crate::drafts::open_in(&txn, draft, inc.id, actor, now).await?;
    }
    set_services(&txn, inc.id, &new.services).await?;
    let update_id =
        insert_update(&txn, inc.id, new.status, &new.message, &new.services, now).await?;
    crate::outbox::queue_incident_update(&txn, inc.id, update_id, now).await?;
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
    get(db, inc.id).await?.ok_or(WriteError::NotFound)
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
    crate::outbox::queue_incident_update(&txn, incident_id, update_id, now).await?;
    txn.commit().await?;
    get(db, incident_id).await?.ok_or(WriteError::NotFound)
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
    get(db, incident_id).await?.ok_or(WriteError::NotFound)
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
    get(db, incident_id).await?.ok_or(WriteError::NotFound)
}

/// Earlier texts of an update, oldest first.
pub async fn update_history(
    db: &DatabaseConnection,
    update_id: i64,
) -> Result<Vec<String>, StoreError> {
    let Some(up) = incident_update::Entity::find_by_id(update_id)
        .one(db)
        .await?
    else {
        return Ok(Vec::new());
    };
    serde_json::from_str(&up.previous_md)
        .map_err(|_| corrupt("incident update", update_id, "previous_md"))
}

fn update_view(m: incident_update::Model) -> Result<IncidentUpdateView, StoreError> {
    Ok(IncidentUpdateView {
        id: m.id,
        status: IncidentStatus::parse(&m.status)
            .ok_or_else(|| corrupt("incident update", m.id, &m.status))?,
        message_md: m.message_md,
        message_html: m.message_html,
        created_at: m.created_at,
        edited_at: m.edited_at,
    })
}

/// Builds views for `incidents`, with every update (`all_updates`) or only the latest.
async fn views(
    db: &DatabaseConnection,
    incidents: Vec<incident::Model>,
    all_updates: bool,
) -> Result<Vec<IncidentView>, StoreError> {
    if incidents.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = incidents.iter().map(|i| i.id).collect();
    let names: HashMap<String, String> = service::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let mut services: HashMap<i64, Vec<AffectedService>> = HashMap::new();
    for row in incident_service::Entity::find()
        .filter(incident_service::Column::IncidentId.is_in(ids.clone()))
        .order_by_asc(incident_service::Column::ServiceId)
        .all(db)
        .await?
    {
        let status = ComponentStatus::parse(&row.status)
            .ok_or_else(|| corrupt("incident service of", row.incident_id, &row.status))?;
        services
            .entry(row.incident_id)
            .or_default()
            .push(AffectedService {
                name: names
                    .get(&row.service_id)
                    .cloned()
                    .unwrap_or_else(|| row.service_id.clone()),
                service_id: row.service_id,
                status,
            });
    }
    let mut updates: HashMap<i64, Vec<IncidentUpdateView>> = HashMap::new();
    for row in incident_update::Entity::find()
        .filter(incident_update::Column::IncidentId.is_in(ids))
        .order_by_desc(incident_update::Column::CreatedAt)
        .order_by_desc(incident_update::Column::Id)
        .all(db)
        .await?
    {
        let list = updates.entry(row.incident_id).or_default();
        if all_updates || list.is_empty() {
            list.push(update_view(row)?);
        }
    }
    incidents
        .into_iter()
        .map(|i| {
            Ok(IncidentView {
                status: IncidentStatus::parse(&i.status)
                    .ok_or_else(|| corrupt("incident", i.id, &i.status))?,
                impact: Impact::parse(&i.impact)
                    .ok_or_else(|| corrupt("incident", i.id, &i.impact))?,
                services: services.remove(&i.id).unwrap_or_default(),
                updates: updates.remove(&i.id).unwrap_or_default(),
                id: i.id,
                title: i.title,
                started_at: i.started_at,
                resolved_at: i.resolved_at,
                created_at: i.created_at,
                updated_at: i.updated_at,
            })
        })
        .collect()
}

/// An incident with all its updates, newest first.
pub async fn get(db: &DatabaseConnection, id: i64) -> Result<Option<IncidentView>, StoreError> {
    let Some(inc) = incident::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    Ok(views(db, vec![inc], true).await?.pop())
}

/// Open incidents (not resolved), newest first, each with its latest update and its
/// affected services: what the public page shows on top.
pub async fn open_incidents(db: &DatabaseConnection) -> Result<Vec<IncidentView>, StoreError> {
    let open: Vec<&str> = IncidentStatus::ALL
        .into_iter()
        .filter(|s| s.is_open())
        .map(IncidentStatus::as_str)
        .collect();
    let rows = incident::Entity::find()
        .filter(incident::Column::Status.is_in(open))
        .order_by_desc(incident::Column::StartedAt)
        .order_by_desc(incident::Column::Id)
        .all(db)
        .await?;
    views(db, rows, false).await
}

/// Incidents by start time, newest first, `offset` skipped, at most `limit`, each with its
/// latest update: history pages and feeds.
pub async fn recent(
    db: &DatabaseConnection,
    offset: u64,
    limit: u64,
) -> Result<Vec<IncidentView>, StoreError> {
    let rows = incident::Entity::find()
        .order_by_desc(incident::Column::StartedAt)
        .order_by_desc(incident::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    views(db, rows, false).await
}

/// Incidents updated since `since`, each with all its updates (feeds, live stream catch-up).
pub async fn updated_since(
    db: &DatabaseConnection,
    since: DateTime<Utc>,
) -> Result<Vec<IncidentView>, StoreError> {
    let rows = incident::Entity::find()
        .filter(incident::Column::UpdatedAt.gte(since))
        .order_by_desc(incident::Column::UpdatedAt)
        .all(db)
        .await?;
    views(db, rows, true).await
}

/// Sets (`Some`) or clears (`None`) the status staff state for a service outside any incident.
#[tracing::instrument(skip(db, actor))]
pub async fn set_manual_status(
    db: &DatabaseConnection,
    service_id: &str,
    status: Option<ComponentStatus>,
    note: Option<&str>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Option<ManualStatus>, WriteError> {
    let txn = crate::begin_write(db).await?;
    check_services(
        &txn,
        &[(service_id.to_owned(), ComponentStatus::Operational)],
    )
    .await?;
    let result = match status {
        Some(s) => {
            manual_status::Entity::insert(manual_status::ActiveModel {
                service_id: Set(service_id.to_owned()),
                status: Set(s.as_str().to_owned()),
                note: Set(note.map(str::to_owned)),
                set_at: Set(now),
            })
            .on_conflict(
                OnConflict::column(manual_status::Column::ServiceId)
                    .update_columns([
                        manual_status::Column::Status,
                        manual_status::Column::Note,
                        manual_status::Column::SetAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
            Some(ManualStatus {
                service_id: service_id.to_owned(),
                status: s,
                note: note.map(str::to_owned),
                set_at: now,
            })
        }
        None => {
            manual_status::Entity::delete_by_id(service_id.to_owned())
                .exec(&txn)
                .await?;
            None
        }
    };
    audit::record(
        &txn,
        actor,
        "service.manual_status",
        Some(("service", service_id.to_owned())),
        json!({ "status": status.map(ComponentStatus::as_str), "note": note }),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(result)
}

/// Every status set by hand, by service id.
pub async fn manual_statuses(db: &DatabaseConnection) -> Result<Vec<ManualStatus>, StoreError> {
    manual_status::Entity::find()
        .order_by_asc(manual_status::Column::ServiceId)
        .all(db)
        .await?
        .into_iter()
        .map(|m| {
            Ok(ManualStatus {
                status: ComponentStatus::parse(&m.status).ok_or_else(|| {
                    StoreError::Corrupt(format!("manual status {}: {}", m.service_id, m.status))
                })?,
                service_id: m.service_id,
                note: m.note,
                set_at: m.set_at,
            })
        })
        .collect()
}

/// Services staff may name in an incident or a window: `(id, name)`, in page order.
pub async fn services(db: &DatabaseConnection) -> Result<Vec<(String, String)>, StoreError> {
    Ok(service::Entity::find()
        .filter(service::Column::ArchivedAt.is_null())
        .order_by_asc(service::Column::Position)
        .order_by_asc(service::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect())
}

/// The status each service has in open incidents, the worst when several state one: what
/// the topology rollup lets override the computed status (staff know better than probes).
pub async fn stated_statuses(
    db: &DatabaseConnection,
) -> Result<HashMap<String, ComponentStatus>, StoreError> {
    let open: Vec<&str> = IncidentStatus::ALL
        .into_iter()
        .filter(|s| s.is_open())
        .map(IncidentStatus::as_str)
        .collect();
    let ids: Vec<i64> = incident::Entity::find()
        .filter(incident::Column::Status.is_in(open))
        .all(db)
        .await?
        .into_iter()
        .map(|i| i.id)
        .collect();
    let mut out: HashMap<String, ComponentStatus> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    for row in incident_service::Entity::find()
        .filter(incident_service::Column::IncidentId.is_in(ids))
        .all(db)
        .await?
    {
        let status = ComponentStatus::parse(&row.status)
            .ok_or_else(|| corrupt("incident service of", row.incident_id, &row.status))?;
        out.entry(row.service_id)
            .and_modify(|s| *s = (*s).max(status))
            .or_insert(status);
    }
    Ok(out)
}
