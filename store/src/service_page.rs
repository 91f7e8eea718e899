//! What the public pages show of services beyond their current state: the overview with each
//! service's 90-day bar, and the service page (`/services/{slug}`) with its uptime windows,
//! response-time series, per-location latest results, monitors and incidents.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use domain::chart::{self, BucketSample, ChartRange, LatencyPoint};
use domain::incident::{Impact, IncidentStatus};
use domain::page::{
    GroupView, LocationResult, MonitorView, ServiceIncident, ServicePage, UptimeWindows,
};
use domain::status::CheckOutcome;
use domain::uptime::Period;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::entity::{check_result, incident, incident_service, location, monitor, monitor_state};
use crate::StoreError;

/// Days on the bar.
pub const BAR_DAYS: u32 = 90;

/// Incidents listed on a service page.
const INCIDENTS_SHOWN: u64 = 20;

fn local(tz: Tz, t: DateTime<Utc>) -> NaiveDateTime {
    tz.from_utc_datetime(&t.naive_utc()).naive_local()
}

/// The overview's groups (see [`crate::overview::groups`]), each service with its 90 local
/// days and its 90-day uptime.
#[tracing::instrument(skip_all)]
pub async fn overview(
    db: &DatabaseConnection,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<Vec<GroupView>, StoreError> {
    let mut groups = crate::overview::groups(db, now).await?;
    let mut days = crate::availability::daily(db, tz, now, BAR_DAYS).await?;
    for s in groups.iter_mut().flat_map(|g| g.services.iter_mut()) {
        s.cause_at = cause_at(s, tz);
        s.days = days.remove(&s.slug).unwrap_or_default();
        s.uptime_90d = domain::availability::uptime_pct(&s.days);
    }
    Ok(groups)
}

/// The instant a service's cause names (a heartbeat's), in the site's timezone.
fn cause_at(s: &domain::page::ServiceView, tz: Tz) -> Option<domain::incident::SiteTime> {
    let at = s.cause.as_ref()?.instant()?;
    Some(crate::public_pages::site_time(at, tz))
}

/// Everything `/services/{slug}` shows, or `None` when no live service has that slug.
#[tracing::instrument(skip(db, site_title, tz))]
pub async fn page(
    db: &DatabaseConnection,
    slug: &str,
    site_title: &str,
    tz: Tz,
    now: DateTime<Utc>,
    range: ChartRange,
) -> Result<Option<ServicePage>, StoreError> {
    // The same state, cause and staleness rule as the overview.
    let Some(mut service) = crate::overview::groups(db, now)
        .await?
        .into_iter()
        .flat_map(|g| g.services)
        .find(|s| s.slug == slug)
    else {
        return Ok(None);
    };
    service.cause_at = cause_at(&service, tz);
    service.days = crate::availability::daily_for(db, slug, tz, now, BAR_DAYS)
        .await?
        .unwrap_or_default();
    service.uptime_90d = domain::availability::uptime_pct(&service.days);
    let uptime = UptimeWindows {
        h24: crate::availability::uptime(db, slug, now - TimeDelta::hours(24), now).await?,
        d7: crate::availability::uptime(db, slug, now - TimeDelta::days(7), now).await?,
        d30: crate::availability::uptime(db, slug, now - TimeDelta::days(30), now).await?,
        d90: service.uptime_90d,
    };

    let monitors = monitor::Entity::find()
        .filter(monitor::Column::ServiceId.eq(slug))
        .filter(monitor::Column::ArchivedAt.is_null())
        .order_by_asc(monitor::Column::Id)
        .all(db)
        .await?;
    let latency = latency(db, &monitors, tz, now, range).await?;
    let locations = latest_results(db, &monitors, tz).await?;
    let monitor_views = monitors
        .iter()
        .map(|m| MonitorView {
            id: monitor_name(&m.key).to_owned(),
            kind: m.kind.clone(),
            interval_secs: m.interval_ms / 1000,
            locations: serde_json::from_str::<Vec<String>>(&m.locations)
                .map(|l| l.len())
                .unwrap_or(0),
        })
        .collect();
    let incidents = incidents(db, slug, tz).await?;
    Ok(Some(ServicePage {
        site_title: site_title.to_owned(),
        generated_at: now,
        timezone: tz.name().to_owned(),
        service,
        uptime,
        range,
        latency,
        locations,
        monitors: monitor_views,
        incidents,
    }))
}

/// `service/frandroid/home` → `home`.
fn monitor_name(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

/// The chart's points: one per bucket of `range`, ending with the bucket holding `now`, each
/// combining every monitor and location of the service (see [`chart::combine`] for how).
/// Read from the hourly rollups whatever the range, so the 30 days are grouped by the site's
/// local days ([`chart::buckets`]) rather than by the UTC days the daily rollups are kept in.
async fn latency(
    db: &DatabaseConnection,
    monitors: &[monitor::Model],
    tz: Tz,
    now: DateTime<Utc>,
    range: ChartRange,
) -> Result<Vec<LatencyPoint>, StoreError> {
    let buckets = chart::buckets(range, tz, now);
    let (Some(first), Some(last)) = (buckets.first(), buckets.last()) else {
        return Ok(Vec::new());
    };
    let mut samples = Vec::new();
    for m in monitors {
        for r in crate::history::rollups(db, m.id, Period::Hour, first.start, last.end).await? {
            samples.push((
                r.bucket_start,
                BucketSample {
                    checks: u32::try_from(r.checks).unwrap_or(0),
                    p50_ms: r.latency_p50_ms.and_then(|v| u32::try_from(v).ok()),
                    p95_ms: r.latency_p95_ms.and_then(|v| u32::try_from(v).ok()),
                },
            ));
        }
    }
    Ok(chart::points(&buckets, &samples))
}

/// The newest result of every monitor at every location, with its latency.
async fn latest_results(
    db: &DatabaseConnection,
    monitors: &[monitor::Model],
    tz: Tz,
) -> Result<Vec<LocationResult>, StoreError> {
    let names: HashMap<String, String> = location::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.id, l.name))
        .collect();
    let by_id: HashMap<i64, &monitor::Model> = monitors.iter().map(|m| (m.id, m)).collect();
    let states = monitor_state::Entity::find()
        .filter(monitor_state::Column::MonitorId.is_in(by_id.keys().copied()))
        .order_by_asc(monitor_state::Column::MonitorId)
        .order_by_asc(monitor_state::Column::LocationId)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(states.len());
    for s in states {
        let Some(m) = by_id.get(&s.monitor_id) else {
            continue;
        };
        let latency_ms = match s.last_at {
            Some(at) => check_result::Entity::find()
                .filter(check_result::Column::MonitorId.eq(s.monitor_id))
                .filter(check_result::Column::LocationId.eq(s.location_id.clone()))
                .filter(check_result::Column::CheckedAt.eq(at))
                .limit(1)
                .one(db)
                .await?
                .and_then(|c| c.latency_ms),
            None => None,
        };
        let outcome = s
            .last_outcome
            .as_deref()
            .map(|o| {
                CheckOutcome::parse(o)
                    .ok_or_else(|| StoreError::Corrupt(format!("monitor state outcome {o:?}")))
            })
            .transpose()?;
        let reason = s
            .last_reason
            .as_deref()
            .map(domain::reason::Reason::from_stored);
        out.push(LocationResult {
            monitor: monitor_name(&m.key).to_owned(),
            location_name: names
                .get(&s.location_id)
                .cloned()
                .unwrap_or_else(|| s.location_id.clone()),
            location_id: s.location_id,
            last_at: s.last_at.map(|t| local(tz, t)),
            outcome,
            latency_ms,
            reason_at: reason
                .as_ref()
                .and_then(domain::reason::Reason::instant)
                .map(|t| crate::public_pages::site_time(t, tz)),
            reason,
        });
    }
    Ok(out)
}

/// Incidents that named `slug` among their affected services, newest first.
pub async fn incidents(
    db: &DatabaseConnection,
    slug: &str,
    tz: Tz,
) -> Result<Vec<ServiceIncident>, StoreError> {
    let ids: Vec<i64> = incident_service::Entity::find()
        .filter(incident_service::Column::ServiceId.eq(slug))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.incident_id)
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    incident::Entity::find()
        .filter(incident::Column::Id.is_in(ids))
        .order_by_desc(incident::Column::StartedAt)
        .order_by_desc(incident::Column::Id)
        .limit(INCIDENTS_SHOWN)
        .all(db)
        .await?
        .into_iter()
        .map(|i| {
            let corrupt = |v: &str| StoreError::Corrupt(format!("incident {}: {v}", i.id));
            Ok(ServiceIncident {
                status: IncidentStatus::parse(&i.status).ok_or_else(|| corrupt(&i.status))?,
                impact: Impact::parse(&i.impact).ok_or_else(|| corrupt(&i.impact))?,
                id: i.id,
                title: i.title,
                started_at: local(tz, i.started_at),
                resolved_at: i.resolved_at.map(|t| local(tz, t)),
            })
        })
        .collect()
}
