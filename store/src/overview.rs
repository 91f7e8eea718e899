//! The public overview: groups and services with the status their latest results give.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use domain::page::{GroupView, ServiceView};
use domain::status::{CheckOutcome, ServiceState};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use crate::entity::{monitor, service, service_group};
use crate::StoreError;

/// A result older than this many intervals is stale: the service shows "no data", never green.
const STALE_AFTER_INTERVALS: i32 = 3;

/// Groups in configured order, each with its services and their current state at `now`.
#[tracing::instrument(skip_all)]
pub async fn groups(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<Vec<GroupView>, StoreError> {
    let groups = service_group::Entity::find()
        .filter(service_group::Column::ArchivedAt.is_null())
        .order_by_asc(service_group::Column::Position)
        .all(db)
        .await?;
    let services = service::Entity::find()
        .filter(service::Column::ArchivedAt.is_null())
        .order_by_asc(service::Column::Position)
        .all(db)
        .await?;
    let monitors = monitor::Entity::find()
        .filter(monitor::Column::ArchivedAt.is_null())
        .filter(monitor::Column::ServiceId.is_not_null())
        .all(db)
        .await?;
    let latest = crate::checks::latest(db).await?;

    let monitor_by_id: HashMap<i64, &monitor::Model> = monitors.iter().map(|m| (m.id, m)).collect();
    let mut outcomes: HashMap<&str, Vec<CheckOutcome>> = HashMap::new();
    for r in &latest {
        let Some(m) = monitor_by_id.get(&r.monitor_id) else {
            continue;
        };
        let Some(service_id) = m.service_id.as_deref() else {
            continue;
        };
        let fresh_for = Duration::milliseconds(m.interval_ms) * STALE_AFTER_INTERVALS;
        if now - r.checked_at > fresh_for {
            continue;
        }
        let outcome = CheckOutcome::parse(&r.outcome).ok_or_else(|| {
            StoreError::Corrupt(format!("check result {} has outcome {:?}", r.id, r.outcome))
        })?;
        outcomes.entry(service_id).or_default().push(outcome);
    }

    Ok(groups
        .into_iter()
        .map(|g| GroupView {
            services: services
                .iter()
                .filter(|s| s.group_id == g.id)
                .map(|s| ServiceView {
                    slug: s.id.clone(),
                    name: s.name.clone(),
                    description: s.description.clone(),
                    url: s.url.clone(),
                    state: ServiceState::from_outcomes(
                        outcomes.remove(s.id.as_str()).unwrap_or_default(),
                    ),
                })
                .collect(),
            id: g.id,
            name: g.name,
        })
        .collect())
}
