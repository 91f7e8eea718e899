//! The statuses staff set by hand on a service, outside any incident.

use chrono::{DateTime, Utc};
use domain::incident::ManualStatus;
use domain::status::ComponentStatus;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait, QueryOrder};
use serde_json::json;

use super::check_services;
use crate::audit::{self, Actor, WriteError};
use crate::entity::manual_status;
use crate::StoreError;

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
    if let Some(note) = note {
        crate::audit::limit("note", note, domain::limits::NOTE)?;
    }
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
