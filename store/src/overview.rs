//! The public overview: groups and services with the status the probe engine computed (the
//! topology rollup, with its cause), never shown as green once its data is stale.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use domain::page::{GroupView, ServiceView};
use domain::status::ServiceState;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use crate::entity::{current_status, monitor, monitor_state, service, service_group};
use crate::StoreError;

/// A result older than this many intervals is stale: the service shows "no data", never green.
const STALE_AFTER_INTERVALS: i32 = 3;

/// Groups in configured order, each with its services and their current state at `now`.
///
/// The state is the engine's stored status (`current_statuses`). It counts only while at least
/// one of the service's monitors has a result fresher than three intervals: when the probes
/// stop (the engine or its database is gone), readers see "no data", not a stale green.
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
    let states = monitor_state::Entity::find().all(db).await?;
    let statuses: HashMap<String, current_status::Model> = current_status::Entity::find()
        .filter(current_status::Column::SubjectKind.eq("service"))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.subject_id.clone(), s))
        .collect();

    // Services with at least one fresh monitor result.
    let monitor_by_id: HashMap<i64, &monitor::Model> = monitors.iter().map(|m| (m.id, m)).collect();
    let mut fresh: HashMap<&str, bool> = HashMap::new();
    for s in &states {
        let (Some(m), Some(at)) = (monitor_by_id.get(&s.monitor_id), s.last_at) else {
            continue;
        };
        let Some(service_id) = m.service_id.as_deref() else {
            continue;
        };
        let fresh_for = Duration::milliseconds(m.interval_ms) * STALE_AFTER_INTERVALS;
        if now - at <= fresh_for {
            fresh.insert(service_id, true);
        }
    }
    let has_monitors: std::collections::HashSet<&str> = monitors
        .iter()
        .filter_map(|m| m.service_id.as_deref())
        .collect();

    let mut out = Vec::with_capacity(groups.len());
    for g in groups {
        let mut views = Vec::new();
        for s in services.iter().filter(|s| s.group_id == g.id) {
            let stored = statuses.get(&s.id);
            let is_fresh = !has_monitors.contains(s.id.as_str())
                || fresh.get(s.id.as_str()).copied().unwrap_or(false);
            let (state, cause) = match stored {
                Some(row) if is_fresh => {
                    let state = ServiceState::parse(&row.status).ok_or_else(|| {
                        StoreError::Corrupt(format!("service {} has status {:?}", s.id, row.status))
                    })?;
                    (
                        state,
                        row.cause
                            .as_deref()
                            .and_then(domain::topology::Cause::from_stored),
                    )
                }
                _ => (ServiceState::NoData, None),
            };
            views.push(ServiceView {
                slug: s.id.clone(),
                name: s.name.clone(),
                description: s.description.clone(),
                url: s.url.clone(),
                state,
                cause,
                // Set where the site's timezone is known (crate::service_page).
                cause_at: None,
                uptime_90d: None,
                days: Vec::new(),
            });
        }
        out.push(GroupView {
            id: g.id,
            name: g.name,
            services: views,
        });
    }
    Ok(out)
}
