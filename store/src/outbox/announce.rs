//! The announcements queued in a writer's transaction: an incident update, a maintenance
//! window's move, and one-off messages (a confirmation mail, a test alert).

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::{queue, service_names, Event, IncidentEvent, MaintenanceEvent, ServiceRef, UpdateRef};
use crate::entity::{
    incident, incident_service, incident_update, maintenance, maintenance_service,
};
use crate::StoreError;

/// Queues the announcement of update `update_id` of incident `incident_id`, unless staff
/// chose not to notify for this incident. Called by [`crate::incidents`] in its transaction.
pub(crate) async fn queue_incident_update<C: ConnectionTrait>(
    conn: &C,
    incident_id: i64,
    update_id: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let Some(inc) = incident::Entity::find_by_id(incident_id).one(conn).await? else {
        return Ok(());
    };
    if !inc.notify {
        return Ok(());
    }
    let updates = incident_update::Entity::find()
        .filter(incident_update::Column::IncidentId.eq(incident_id))
        .order_by_desc(incident_update::Column::CreatedAt)
        .order_by_desc(incident_update::Column::Id)
        .all(conn)
        .await?;
    let rows = incident_service::Entity::find()
        .filter(incident_service::Column::IncidentId.eq(incident_id))
        .order_by_asc(incident_service::Column::ServiceId)
        .all(conn)
        .await?;
    let ids: Vec<String> = rows.iter().map(|r| r.service_id.clone()).collect();
    let names = service_names(conn, &ids).await?;
    let event = Event::IncidentUpdate(IncidentEvent {
        id: inc.id,
        title: inc.title,
        impact: inc.impact,
        status: inc.status,
        started_at: inc.started_at,
        created_at: inc.created_at,
        updated_at: inc.updated_at,
        resolved_at: inc.resolved_at,
        update_id,
        updates: updates
            .into_iter()
            .map(|u| UpdateRef {
                id: u.id,
                status: u.status,
                markdown: u.message_md,
                html: u.message_html,
                created_at: u.created_at,
            })
            .collect(),
        services: rows
            .into_iter()
            .map(|r| ServiceRef {
                name: names
                    .get(&r.service_id)
                    .cloned()
                    .unwrap_or_else(|| r.service_id.clone()),
                id: r.service_id,
                status: r.status,
            })
            .collect(),
    });
    queue(conn, &event, now).await
}

/// Which maintenance move is announced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaintenanceMove {
    Scheduled,
    Started,
    Completed,
}

/// Queues the announcement of a maintenance window's move. Called by
/// [`crate::maintenance`] in its transaction.
pub(crate) async fn queue_maintenance<C: ConnectionTrait>(
    conn: &C,
    maintenance_id: i64,
    what: MaintenanceMove,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let Some(m) = maintenance::Entity::find_by_id(maintenance_id)
        .one(conn)
        .await?
    else {
        return Ok(());
    };
    let ids: Vec<String> = maintenance_service::Entity::find()
        .filter(maintenance_service::Column::MaintenanceId.eq(maintenance_id))
        .order_by_asc(maintenance_service::Column::ServiceId)
        .all(conn)
        .await?
        .into_iter()
        .map(|r| r.service_id)
        .collect();
    let names = service_names(conn, &ids).await?;
    let body = MaintenanceEvent {
        id: m.id,
        title: m.title,
        markdown: m.message_md,
        html: m.message_html,
        status: m.status,
        starts_at: m.starts_at,
        ends_at: m.ends_at,
        created_at: m.created_at,
        services: ids
            .into_iter()
            .map(|id| ServiceRef {
                name: names.get(&id).cloned().unwrap_or_else(|| id.clone()),
                id,
                status: "under_maintenance".to_owned(),
            })
            .collect(),
    };
    let event = match what {
        MaintenanceMove::Scheduled => Event::MaintenanceScheduled(body),
        MaintenanceMove::Started => Event::MaintenanceStarted(body),
        MaintenanceMove::Completed => Event::MaintenanceCompleted(body),
    };
    queue(conn, &event, now).await
}
