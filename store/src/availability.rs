//! Per-day and per-window availability of services, from the status events the engine
//! recorded (what the page showed), maintenance windows and incidents. The maths are in
//! `domain::availability`; this module only gathers their inputs.

use std::collections::HashMap;

use chrono::{DateTime, Days, Utc};
use domain::availability::{self, DayStat, IncidentSpan, StateChange, Window};
use domain::status::ServiceState;
use sea_orm::sea_query::{Expr, Func, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};

use crate::entity::{
    incident, incident_service, maintenance, maintenance_service, service, status_event,
};
use crate::StoreError;

/// What the maths need for one service over a window.
#[derive(Default)]
struct Inputs {
    before: Option<ServiceState>,
    changes: Vec<StateChange>,
    maintenance: Vec<Window>,
    incidents: Vec<IncidentSpan>,
}

fn parse_state(s: &str) -> Result<ServiceState, StoreError> {
    ServiceState::parse(s).ok_or_else(|| StoreError::Corrupt(format!("unknown status `{s}`")))
}

/// Loads the inputs of `[from, now)` for `only` (one service) or every live service.
async fn inputs(
    db: &DatabaseConnection,
    only: Option<&str>,
    from: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<HashMap<String, Inputs>, StoreError> {
    let mut services = service::Entity::find().filter(service::Column::ArchivedAt.is_null());
    if let Some(slug) = only {
        services = services.filter(service::Column::Id.eq(slug));
    }
    let mut out: HashMap<String, Inputs> = services
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, Inputs::default()))
        .collect();
    if out.is_empty() {
        return Ok(out);
    }
    let ids: Vec<String> = out.keys().cloned().collect();

    // The state each service was in when the window opened: its latest event before `from`
    // (by time, not by id: late agent results add events after newer ones, and among events
    // of one instant the last recorded wins).
    let latest_before = Query::select()
        .column(status_event::Column::SubjectId)
        .expr(Func::max(Expr::col(status_event::Column::At)))
        .from(status_event::Entity)
        .and_where(status_event::Column::SubjectKind.eq("service"))
        .and_where(status_event::Column::SubjectId.is_in(ids.clone()))
        .and_where(status_event::Column::At.lt(from))
        .group_by_col(status_event::Column::SubjectId)
        .to_owned();
    let mut latest: HashMap<String, DateTime<Utc>> = HashMap::new();
    for row in db.query_all(&latest_before).await? {
        if let (Ok(id), Ok(at)) = (
            row.try_get_by_index::<String>(0),
            row.try_get_by_index::<DateTime<Utc>>(1),
        ) {
            latest.insert(id, at);
        }
    }
    if !latest.is_empty() {
        let mut at_latest = Condition::any();
        for (id, at) in &latest {
            at_latest = at_latest.add(
                Condition::all()
                    .add(status_event::Column::SubjectId.eq(id.as_str()))
                    .add(status_event::Column::At.eq(*at)),
            );
        }
        for e in status_event::Entity::find()
            .filter(status_event::Column::SubjectKind.eq("service"))
            .filter(at_latest)
            .order_by_asc(status_event::Column::Id)
            .all(db)
            .await?
        {
            if let Some(i) = out.get_mut(&e.subject_id) {
                i.before = Some(parse_state(&e.to_status)?);
            }
        }
    }

    for e in status_event::Entity::find()
        .filter(status_event::Column::SubjectKind.eq("service"))
        .filter(status_event::Column::SubjectId.is_in(ids.clone()))
        .filter(status_event::Column::At.gte(from))
        .filter(status_event::Column::At.lt(now))
        .order_by_asc(status_event::Column::At)
        .order_by_asc(status_event::Column::Id)
        .all(db)
        .await?
    {
        if let Some(i) = out.get_mut(&e.subject_id) {
            i.changes.push(StateChange {
                at: e.at,
                state: parse_state(&e.to_status)?,
            });
        }
    }

    // Maintenance windows overlapping the period (a window still scheduled counts from its
    // planned start: it was announced, readers were told).
    let windows: HashMap<i64, Window> = maintenance::Entity::find()
        .filter(maintenance::Column::StartsAt.lt(now))
        .filter(maintenance::Column::EndsAt.gt(from))
        .all(db)
        .await?
        .into_iter()
        .map(|m| {
            (
                m.id,
                Window {
                    start: m.starts_at,
                    end: m.ends_at,
                },
            )
        })
        .collect();
    if !windows.is_empty() {
        for link in maintenance_service::Entity::find()
            .filter(maintenance_service::Column::MaintenanceId.is_in(windows.keys().copied()))
            .filter(maintenance_service::Column::ServiceId.is_in(ids.clone()))
            .all(db)
            .await?
        {
            if let (Some(w), Some(i)) = (
                windows.get(&link.maintenance_id),
                out.get_mut(&link.service_id),
            ) {
                i.maintenance.push(*w);
            }
        }
    }

    // Incidents that touched the services during the period.
    let incidents: HashMap<i64, incident::Model> = incident::Entity::find()
        .filter(incident::Column::StartedAt.lt(now))
        .filter(
            Condition::any()
                .add(incident::Column::ResolvedAt.is_null())
                .add(incident::Column::ResolvedAt.gt(from)),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.id, i))
        .collect();
    if !incidents.is_empty() {
        for link in incident_service::Entity::find()
            .filter(incident_service::Column::IncidentId.is_in(incidents.keys().copied()))
            .filter(incident_service::Column::ServiceId.is_in(ids))
            .order_by_asc(incident_service::Column::IncidentId)
            .all(db)
            .await?
        {
            if let (Some(inc), Some(i)) = (
                incidents.get(&link.incident_id),
                out.get_mut(&link.service_id),
            ) {
                i.incidents.push(IncidentSpan {
                    id: inc.id,
                    title: inc.title.clone(),
                    start: inc.started_at,
                    end: inc.resolved_at,
                });
            }
        }
    }
    Ok(out)
}

/// The first instant of the `days`-day local window that ends today.
fn window_start(tz: chrono_tz::Tz, now: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    let today = availability::local_today(&tz, now);
    let first = today
        .checked_sub_days(Days::new(u64::from(days.saturating_sub(1))))
        .unwrap_or(today);
    availability::local_midnight(&tz, first)
}

/// The last `days` local days (oldest first, ending today) of every live service, by slug.
#[tracing::instrument(skip(db))]
pub async fn daily(
    db: &DatabaseConnection,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
    days: u32,
) -> Result<HashMap<String, Vec<DayStat>>, StoreError> {
    let from = window_start(tz, now, days);
    Ok(inputs(db, None, from, now)
        .await?
        .into_iter()
        .map(|(slug, i)| {
            let stats = availability::daily(
                &tz,
                now,
                days,
                i.before,
                &i.changes,
                &i.maintenance,
                &i.incidents,
            );
            (slug, stats)
        })
        .collect())
}

/// The last `days` local days of one service; None when no live service has that slug.
pub async fn daily_for(
    db: &DatabaseConnection,
    slug: &str,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
    days: u32,
) -> Result<Option<Vec<DayStat>>, StoreError> {
    let from = window_start(tz, now, days);
    Ok(inputs(db, Some(slug), from, now)
        .await?
        .remove(slug)
        .map(|i| {
            availability::daily(
                &tz,
                now,
                days,
                i.before,
                &i.changes,
                &i.maintenance,
                &i.incidents,
            )
        }))
}

/// Uptime in percent of one service over `[from, to)` (e.g. the last 24 hours); `Ok(None)`
/// when nothing was counted (no data, or all under maintenance) or the slug is unknown.
pub async fn uptime(
    db: &DatabaseConnection,
    slug: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Option<f64>, StoreError> {
    Ok(inputs(db, Some(slug), from, to)
        .await?
        .remove(slug)
        .and_then(|i| {
            availability::tally(i.before, &i.changes, &i.maintenance, from, to, to).uptime_pct()
        }))
}
