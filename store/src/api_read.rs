//! The reads behind the JSON APIs (`/api/v1` and the Statuspage-compatible `/api/v2`): the
//! catalog with each service's current state and timestamps, incidents with every update and
//! the statuses each update stated, monitors' latest results per location, and latency series
//! merged from the rollups' histograms. Every function is a pure read of the database at `now`.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use domain::incident::{IncidentView, MaintenanceView};
use domain::status::{CheckOutcome, ComponentStatus, ServiceState};
use domain::uptime::{LatencyHistogram, Period};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::entity::{
    check_result, current_status, incident, incident_update, maintenance, monitor, monitor_state,
    rollup, service, service_group,
};
use crate::StoreError;

/// A group of services, in page order.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupRow {
    pub id: String,
    pub name: String,
    pub position: i32,
    pub services: Vec<ServiceRow>,
}

/// A service with what readers see of it now.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceRow {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub url: Option<String>,
    pub group_id: String,
    pub position: i32,
    pub created_at: DateTime<Utc>,
    /// As on the public page: the engine's status, or no data once the probes went quiet.
    pub state: ServiceState,
    pub cause: Option<String>,
    /// Since when the stored status holds (`None` before the engine judged the service).
    pub since: Option<DateTime<Utc>>,
    /// When the engine last wrote the status (`None` before it judged the service).
    pub status_updated_at: Option<DateTime<Utc>>,
}

/// Groups in configured order with their live services, each in its current state at `now`.
/// The state comes from [`crate::overview::groups`], so the APIs never disagree with the page.
#[tracing::instrument(skip_all)]
pub async fn catalog(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<Vec<GroupRow>, StoreError> {
    let overview = crate::overview::groups(db, now).await?;
    let groups: HashMap<String, service_group::Model> = service_group::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|g| (g.id.clone(), g))
        .collect();
    let services: HashMap<String, service::Model> = service::Entity::find()
        .filter(service::Column::ArchivedAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect();
    let statuses: HashMap<String, current_status::Model> = current_status::Entity::find()
        .filter(current_status::Column::SubjectKind.eq("service"))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.subject_id.clone(), s))
        .collect();
    let mut out = Vec::with_capacity(overview.len());
    for g in overview {
        let position = groups.get(&g.id).map_or(0, |m| m.position);
        let mut rows = Vec::with_capacity(g.services.len());
        for v in g.services {
            let Some(s) = services.get(&v.slug) else {
                continue;
            };
            let stored = statuses.get(&v.slug);
            rows.push(ServiceRow {
                id: v.slug,
                name: v.name,
                description: v.description,
                url: v.url,
                group_id: g.id.clone(),
                position: s.position,
                created_at: s.created_at,
                state: v.state,
                cause: v
                    .cause
                    .as_ref()
                    .and_then(|c| domain::topology::sentence(v.state, c)),
                since: stored.map(|r| r.since),
                status_updated_at: stored.map(|r| r.updated_at),
            });
        }
        out.push(GroupRow {
            id: g.id,
            name: g.name,
            position,
            services: rows,
        });
    }
    Ok(out)
}

/// An incident with every update (newest first) and, per update id, the service statuses
/// that update stated (in service id order).
#[derive(Clone, Debug, PartialEq)]
pub struct IncidentDetail {
    pub incident: IncidentView,
    /// Whether staff asked for subscribers to be notified of this incident.
    pub notify: bool,
    pub stated: HashMap<i64, Vec<(String, ComponentStatus)>>,
}

/// Which incidents [`incidents`] returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncidentFilter {
    /// Not resolved and without postmortem, newest first.
    Unresolved,
    /// Any status, newest first, at most this many.
    Recent(u64),
}

/// Incidents with all their updates and what each update stated for services.
#[tracing::instrument(skip(db))]
pub async fn incidents(
    db: &DatabaseConnection,
    filter: IncidentFilter,
) -> Result<Vec<IncidentDetail>, StoreError> {
    let mut q = incident::Entity::find()
        .select_only()
        .column(incident::Column::Id)
        .order_by_desc(incident::Column::StartedAt)
        .order_by_desc(incident::Column::Id);
    q = match filter {
        IncidentFilter::Unresolved => {
            let open: Vec<&str> = domain::incident::IncidentStatus::ALL
                .into_iter()
                .filter(|s| s.is_open())
                .map(|s| s.as_str())
                .collect();
            q.filter(incident::Column::Status.is_in(open))
        }
        IncidentFilter::Recent(limit) => q.limit(limit),
    };
    let ids: Vec<i64> = q.into_tuple().all(db).await?;
    let mut stated = stated_statuses(db, &ids).await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        // An incident deleted between the two reads is simply left out.
        if let Some(d) = incident_with(db, id, stated.remove(&id).unwrap_or_default()).await? {
            out.push(d);
        }
    }
    Ok(out)
}

/// One incident with all its updates and what each stated.
pub async fn incident(
    db: &DatabaseConnection,
    id: i64,
) -> Result<Option<IncidentDetail>, StoreError> {
    let stated = stated_statuses(db, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    incident_with(db, id, stated).await
}

async fn incident_with(
    db: &DatabaseConnection,
    id: i64,
    stated: HashMap<i64, Vec<(String, ComponentStatus)>>,
) -> Result<Option<IncidentDetail>, StoreError> {
    let Some(row) = incident::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let Some(incident) = crate::incidents::read::get(db, id).await? else {
        return Ok(None);
    };
    Ok(Some(IncidentDetail {
        incident,
        notify: row.notify,
        stated,
    }))
}

/// The latest change anything public went through: a service status written by the engine,
/// an incident or a maintenance window (Statuspage's `page.updated_at`).
pub async fn last_change(db: &DatabaseConnection) -> Result<Option<DateTime<Utc>>, StoreError> {
    let status: Option<Option<DateTime<Utc>>> = current_status::Entity::find()
        .select_only()
        .column_as(current_status::Column::UpdatedAt.max(), "m")
        .into_tuple()
        .one(db)
        .await?;
    let inc: Option<Option<DateTime<Utc>>> = incident::Entity::find()
        .select_only()
        .column_as(incident::Column::UpdatedAt.max(), "m")
        .into_tuple()
        .one(db)
        .await?;
    let maint: Option<Option<DateTime<Utc>>> = maintenance::Entity::find()
        .select_only()
        .column_as(maintenance::Column::UpdatedAt.max(), "m")
        .into_tuple()
        .one(db)
        .await?;
    Ok([status, inc, maint].into_iter().flatten().flatten().max())
}

/// Per incident, per update id: the service statuses the update stated.
async fn stated_statuses(
    db: &DatabaseConnection,
    incident_ids: &[i64],
) -> Result<HashMap<i64, HashMap<i64, Vec<(String, ComponentStatus)>>>, StoreError> {
    if incident_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, i64, String)> = incident_update::Entity::find()
        .select_only()
        .column(incident_update::Column::Id)
        .column(incident_update::Column::IncidentId)
        .column(incident_update::Column::ServiceStatuses)
        .filter(incident_update::Column::IncidentId.is_in(incident_ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    let mut out: HashMap<i64, HashMap<i64, Vec<(String, ComponentStatus)>>> = HashMap::new();
    for (update_id, incident_id, json) in rows {
        let map: BTreeMap<String, String> = serde_json::from_str(&json).map_err(|_| {
            StoreError::Corrupt(format!("incident update {update_id}: service_statuses"))
        })?;
        let list = map
            .into_iter()
            .map(|(service, status)| {
                ComponentStatus::parse(&status)
                    .map(|s| (service, s))
                    .ok_or_else(|| {
                        StoreError::Corrupt(format!("incident update {update_id}: {status}"))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.entry(incident_id).or_default().insert(update_id, list);
    }
    Ok(out)
}

/// How many incidents exist (for paging).
pub async fn incident_count(db: &DatabaseConnection) -> Result<u64, StoreError> {
    Ok(incident::Entity::find().count(db).await?)
}

/// How many maintenance windows exist (for paging).
pub async fn maintenance_count(db: &DatabaseConnection) -> Result<u64, StoreError> {
    Ok(maintenance::Entity::find().count(db).await?)
}

/// Windows for the Statuspage lists: the `limit` latest by start, with status at `now`.
pub async fn maintenances(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<MaintenanceView>, StoreError> {
    crate::maintenance::recent(db, now, 0, limit).await
}

/// The latest result of a monitor at one location.
#[derive(Clone, Debug, PartialEq)]
pub struct LocationResult {
    pub location_id: String,
    /// The confirmed outcome at this location (after `confirm` / `recover` agreement).
    pub confirmed: Option<CheckOutcome>,
    pub outcome: Option<CheckOutcome>,
    pub checked_at: Option<DateTime<Utc>>,
    pub latency_ms: Option<i32>,
    pub status_code: Option<i32>,
    pub reason: Option<String>,
}

/// A monitor of a service and its latest result at each location.
#[derive(Clone, Debug, PartialEq)]
pub struct MonitorLatest {
    pub id: i64,
    /// The monitor's configured name (the last part of its key).
    pub name: String,
    pub kind: String,
    pub interval_ms: i64,
    pub locations: Vec<LocationResult>,
}

/// Ids of the live monitors of a service, with their rows, by id.
async fn service_monitors(
    db: &DatabaseConnection,
    service_id: &str,
) -> Result<Vec<monitor::Model>, StoreError> {
    Ok(monitor::Entity::find()
        .filter(monitor::Column::ServiceId.eq(service_id))
        .filter(monitor::Column::ArchivedAt.is_null())
        .order_by_asc(monitor::Column::Key)
        .all(db)
        .await?)
}

/// The monitors of `service_id` with their latest result per location.
#[tracing::instrument(skip(db))]
pub async fn monitors(
    db: &DatabaseConnection,
    service_id: &str,
) -> Result<Vec<MonitorLatest>, StoreError> {
    let monitors = service_monitors(db, service_id).await?;
    if monitors.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = monitors.iter().map(|m| m.id).collect();
    let states = monitor_state::Entity::find()
        .filter(monitor_state::Column::MonitorId.is_in(ids.clone()))
        .order_by_asc(monitor_state::Column::LocationId)
        .all(db)
        .await?;
    let latest_ids: Vec<Option<i64>> = check_result::Entity::find()
        .select_only()
        .column_as(check_result::Column::Id.max(), "id")
        .filter(check_result::Column::MonitorId.is_in(ids))
        .group_by(check_result::Column::MonitorId)
        .group_by(check_result::Column::LocationId)
        .into_tuple()
        .all(db)
        .await?;
    let latest_ids: Vec<i64> = latest_ids.into_iter().flatten().collect();
    let latest: HashMap<(i64, String), check_result::Model> = if latest_ids.is_empty() {
        HashMap::new()
    } else {
        check_result::Entity::find()
            .filter(check_result::Column::Id.is_in(latest_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|r| ((r.monitor_id, r.location_id.clone()), r))
            .collect()
    };
    let outcome = |s: Option<&str>| s.and_then(CheckOutcome::parse);
    Ok(monitors
        .into_iter()
        .map(|m| {
            let mut locations: Vec<LocationResult> = states
                .iter()
                .filter(|s| s.monitor_id == m.id)
                .map(|s| {
                    let raw = latest.get(&(m.id, s.location_id.clone()));
                    LocationResult {
                        location_id: s.location_id.clone(),
                        confirmed: outcome(s.confirmed.as_deref()),
                        outcome: outcome(s.last_outcome.as_deref()),
                        checked_at: s.last_at,
                        latency_ms: raw.and_then(|r| r.latency_ms),
                        status_code: raw.and_then(|r| r.status_code),
                        reason: s.last_reason.as_deref().map(english_reason),
                    }
                })
                .collect();
            // Raw results kept after their state row (e.g. a location since removed).
            for ((mid, loc), r) in &latest {
                if *mid == m.id && !locations.iter().any(|l| &l.location_id == loc) {
                    locations.push(LocationResult {
                        location_id: loc.clone(),
                        confirmed: None,
                        outcome: CheckOutcome::parse(&r.outcome),
                        checked_at: Some(r.checked_at),
                        latency_ms: r.latency_ms,
                        status_code: r.status_code,
                        reason: r.reason.as_deref().map(english_reason),
                    });
                }
            }
            locations.sort_by(|a, b| a.location_id.cmp(&b.location_id));
            MonitorLatest {
                name: m.key.rsplit('/').next().unwrap_or(&m.key).to_owned(),
                id: m.id,
                kind: m.kind,
                interval_ms: m.interval_ms,
                locations,
            }
        })
        .collect())
}

/// One point of a latency series: the bucket's start and its quantiles over every location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LatencyPoint {
    pub at: DateTime<Utc>,
    pub p50_ms: Option<u32>,
    pub p95_ms: Option<u32>,
    pub checks: i64,
}

/// A monitor's latency series.
#[derive(Clone, Debug, PartialEq)]
pub struct LatencySeries {
    pub monitor_id: i64,
    pub name: String,
    pub points: Vec<LatencyPoint>,
}

/// p50 / p95 per `period` bucket in `[from, to)` for each monitor of `service_id`. The
/// locations' histograms are merged before taking quantiles, so the p95 is the p95 of every
/// sample, not an average of per-location p95s.
#[tracing::instrument(skip(db))]
pub async fn latency(
    db: &DatabaseConnection,
    service_id: &str,
    period: Period,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<LatencySeries>, StoreError> {
    let monitors = service_monitors(db, service_id).await?;
    let mut out = Vec::with_capacity(monitors.len());
    for m in monitors {
        let rows = rollup::Entity::find()
            .filter(rollup::Column::MonitorId.eq(m.id))
            .filter(rollup::Column::Period.eq(period.as_str()))
            .filter(rollup::Column::BucketStart.gte(from))
            .filter(rollup::Column::BucketStart.lt(to))
            .order_by_asc(rollup::Column::BucketStart)
            .all(db)
            .await?;
        let mut buckets: BTreeMap<DateTime<Utc>, (LatencyHistogram, i64)> = BTreeMap::new();
        for r in rows {
            let hist = LatencyHistogram::from_text(
                &r.latency_histogram,
                r.latency_max_ms.and_then(|v| u32::try_from(v).ok()),
            )
            .ok_or_else(|| {
                StoreError::Corrupt(format!("rollup of monitor {}: histogram", r.monitor_id))
            })?;
            let (acc, checks) = buckets.entry(r.bucket_start).or_default();
            merge(acc, &hist);
            *checks += i64::from(r.checks);
        }
        out.push(LatencySeries {
            monitor_id: m.id,
            name: m.key.rsplit('/').next().unwrap_or(&m.key).to_owned(),
            points: buckets
                .into_iter()
                .map(|(at, (h, checks))| LatencyPoint {
                    at,
                    p50_ms: h.quantile(0.5),
                    p95_ms: h.quantile(0.95),
                    checks,
                })
                .collect(),
        });
    }
    Ok(out)
}

fn merge(acc: &mut LatencyHistogram, h: &LatencyHistogram) {
    if acc.counts.len() < h.counts.len() {
        acc.counts.resize(h.counts.len(), 0);
    }
    for (a, c) in acc.counts.iter_mut().zip(&h.counts) {
        *a = a.saturating_add(*c);
    }
    acc.max_ms = match (acc.max_ms, h.max_ms) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    };
}

/// Whether a live (not archived) service has this id.
pub async fn service_exists(db: &DatabaseConnection, id: &str) -> Result<bool, StoreError> {
    Ok(service::Entity::find_by_id(id.to_owned())
        .filter(service::Column::ArchivedAt.is_null())
        .one(db)
        .await?
        .is_some())
}

/// A stored probe reason in English words: the read API's `reason` stays a sentence.
fn english_reason(stored: &str) -> String {
    domain::reason::Reason::from_stored(stored).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_histograms_count_every_sample_and_keep_the_larger_maximum() {
        let mut a = LatencyHistogram::default();
        a.add(10);
        let mut b = LatencyHistogram::default();
        b.add(900);
        b.add(20);
        merge(&mut a, &b);
        assert_eq!(a.total(), 3);
        assert_eq!(a.max_ms, Some(900));
    }
}
