//! The reads of incidents: one with all its updates, the open ones, the recent ones, those
//! updated since a time, and the statuses open incidents state for their services.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::incident::{AffectedService, Impact, IncidentStatus, IncidentUpdateView, IncidentView};
use domain::status::ComponentStatus;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::corrupt;
use crate::entity::{incident, incident_service, incident_update, service};
use crate::StoreError;

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
