//! Reads for the public incident, history and maintenance pages and for the freshness line of
//! `/`. Times leave here converted to the site timezone ([`SiteTime`]), so pages only format.
//!
//! History and the maintenance archive load the incident and maintenance rows whole and page
//! them in memory: both tables hold one row per incident or window (hundreds over years, not
//! millions), and merging two tables into one dated list is simpler and exact this way.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, Utc};
use chrono_tz::Tz;
use domain::incident::{
    page_count, HistoryEntry, HistoryMonth, HistoryPage, HomeExtras, Impact, IncidentPage,
    IncidentStatus, IncidentUpdateView, MaintenanceEntry, MaintenancePage, MaintenanceStatus,
    RecentIncident, SiteTime, UpdateEntry, RECENT_DAYS,
};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use crate::entity::{incident, maintenance, monitor, monitor_state};
use crate::StoreError;

/// A probe result older than this many of its monitor's intervals is stale.
const STALE_AFTER_INTERVALS: i64 = 3;

/// How many upcoming windows `/` lists (the rest are on `/maintenance`).
const HOME_UPCOMING: usize = 5;

/// `t` in the site timezone.
pub fn site_time(t: DateTime<Utc>, tz: Tz) -> SiteTime {
    domain::dates::site_time(t, tz)
}

fn entry(u: IncidentUpdateView, tz: Tz) -> UpdateEntry {
    UpdateEntry {
        id: u.id,
        status: u.status,
        message_html: u.message_html,
        created_at: site_time(u.created_at, tz),
        edited_at: u.edited_at.map(|t| site_time(t, tz)),
    }
}

/// One incident with every update, newest first (what a reader coming back wants to see
/// first), and its postmortem apart.
#[tracing::instrument(skip(db, tz, now))]
pub async fn incident_page(
    db: &DatabaseConnection,
    id: i64,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<Option<IncidentPage>, StoreError> {
    let Some(view) = crate::incidents::read::get(db, id).await? else {
        return Ok(None);
    };
    let mut updates = Vec::new();
    let mut postmortem = Vec::new();
    // Stored newest first, as the page shows them.
    for u in view.updates {
        if u.status == IncidentStatus::Postmortem {
            postmortem.push(entry(u, tz));
        } else {
            updates.push(entry(u, tz));
        }
    }
    Ok(Some(IncidentPage {
        generated_at: site_time(now, tz),
        timezone: tz.name().to_owned(),
        id: view.id,
        title: view.title,
        status: view.status,
        impact: view.impact,
        started_at: site_time(view.started_at, tz),
        resolved_at: view.resolved_at.map(|t| site_time(t, tz)),
        services: view.services,
        updates,
        postmortem,
    }))
}

/// Every maintenance window with its status at `now`, latest start first.
async fn all_windows(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<Vec<(maintenance::Model, MaintenanceStatus)>, StoreError> {
    maintenance::Entity::find()
        .order_by_desc(maintenance::Column::StartsAt)
        .order_by_desc(maintenance::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|m| {
            let stored = MaintenanceStatus::parse(&m.status).ok_or_else(|| {
                StoreError::Corrupt(format!("maintenance {}: {}", m.id, m.status))
            })?;
            let status = stored.at(m.starts_at, m.ends_at, now);
            Ok((m, status))
        })
        .collect()
}

/// Windows as readers see them, with their services' names.
async fn entries(
    db: &DatabaseConnection,
    rows: Vec<(maintenance::Model, MaintenanceStatus)>,
    tz: Tz,
) -> Result<Vec<MaintenanceEntry>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|(m, _)| m.id).collect();
    let mut services = crate::maintenance::affected_services(db, ids).await?;
    Ok(rows
        .into_iter()
        .map(|(m, status)| MaintenanceEntry {
            services: services.remove(&m.id).unwrap_or_default(),
            id: m.id,
            title: m.title,
            status,
            starts_at: site_time(m.starts_at, tz),
            ends_at: site_time(m.ends_at, tz),
            message_html: m.message_html,
        })
        .collect())
}

/// Splits windows into (active, upcoming, past): active earliest first, upcoming soonest
/// first, past latest first.
type Window = (maintenance::Model, MaintenanceStatus);
fn split(all: Vec<Window>) -> (Vec<Window>, Vec<Window>, Vec<Window>) {
    let (mut active, mut upcoming, mut past) = (Vec::new(), Vec::new(), Vec::new());
    for w in all {
        if w.1 == MaintenanceStatus::Completed {
            past.push(w);
        } else if w.1.is_active() {
            active.push(w);
        } else {
            upcoming.push(w);
        }
    }
    active.reverse();
    upcoming.reverse();
    (active, upcoming, past)
}

/// `/maintenance`: every active and upcoming window, and page `page` (1-based) of the past
/// ones, `per_page` a page. `None` when `page` is past the last page.
#[tracing::instrument(skip(db, tz, now))]
pub async fn maintenance_page(
    db: &DatabaseConnection,
    tz: Tz,
    now: DateTime<Utc>,
    page: u32,
    per_page: u64,
) -> Result<Option<MaintenancePage>, StoreError> {
    let (active, upcoming, past) = split(all_windows(db, now).await?);
    let pages = page_count(past.len() as u64, per_page);
    if page == 0 || page > pages {
        return Ok(None);
    }
    let skip = (page as usize - 1) * per_page as usize;
    let past: Vec<Window> = past
        .into_iter()
        .skip(skip)
        .take(per_page as usize)
        .collect();
    Ok(Some(MaintenancePage {
        timezone: tz.name().to_owned(),
        active: entries(db, active, tz).await?,
        upcoming: entries(db, upcoming, tz).await?,
        past: entries(db, past, tz).await?,
        page,
        pages,
    }))
}

/// `/history`: incidents and maintenance windows that have begun, newest first, page `page`
/// (1-based) of `per_page` entries, grouped by month in the site timezone. `None` when `page`
/// is past the last page. `maintenance_per_page` is `/maintenance`'s page size, so a past
/// window links to the page that lists it.
#[tracing::instrument(skip(db, tz, now))]
pub async fn history(
    db: &DatabaseConnection,
    tz: Tz,
    now: DateTime<Utc>,
    page: u32,
    per_page: u64,
    maintenance_per_page: u64,
) -> Result<Option<HistoryPage>, StoreError> {
    let incidents = incident::Entity::find()
        .filter(incident::Column::StartedAt.lte(now))
        .all(db)
        .await?;
    let every_window = all_windows(db, now).await?;
    let (_, _, past) = split(every_window.clone());
    let past_page: HashMap<i64, u32> = past
        .iter()
        .enumerate()
        .map(|(i, (m, _))| (m.id, (i as u64 / maintenance_per_page.max(1)) as u32 + 1))
        .collect();
    let windows: Vec<Window> = every_window
        .into_iter()
        .filter(|(m, _)| m.starts_at <= now)
        .collect();

    let mut all: Vec<(DateTime<Utc>, i64, HistoryEntry)> =
        Vec::with_capacity(incidents.len() + windows.len());
    for i in incidents {
        let status = IncidentStatus::parse(&i.status)
            .ok_or_else(|| StoreError::Corrupt(format!("incident {}: {}", i.id, i.status)))?;
        let impact = Impact::parse(&i.impact)
            .ok_or_else(|| StoreError::Corrupt(format!("incident {}: {}", i.id, i.impact)))?;
        all.push((
            i.started_at,
            i.id,
            HistoryEntry::Incident {
                id: i.id,
                title: i.title,
                status,
                impact,
                started_at: site_time(i.started_at, tz),
                resolved_at: i.resolved_at.map(|t| site_time(t, tz)),
            },
        ));
    }
    for (m, status) in windows {
        all.push((
            m.starts_at,
            m.id,
            HistoryEntry::Maintenance {
                page: past_page.get(&m.id).copied().unwrap_or(1),
                id: m.id,
                title: m.title,
                status,
                starts_at: site_time(m.starts_at, tz),
                ends_at: site_time(m.ends_at, tz),
            },
        ));
    }
    // Newest first; same instant: the higher id (written later) first.
    all.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));

    let pages = page_count(all.len() as u64, per_page);
    if page == 0 || page > pages {
        return Ok(None);
    }
    let skip = (page as usize - 1) * per_page as usize;
    let mut months: Vec<HistoryMonth> = Vec::new();
    for (_, _, e) in all.into_iter().skip(skip).take(per_page as usize) {
        let began = e.began();
        let (year, month) = (began.year(), began.month());
        match months.last_mut() {
            Some(m) if m.year == year && m.month == month => m.entries.push(e),
            _ => months.push(HistoryMonth {
                year,
                month,
                entries: vec![e],
            }),
        }
    }
    Ok(Some(HistoryPage {
        timezone: tz.name().to_owned(),
        page,
        pages,
        months,
    }))
}

/// Freshness of the probe data, the maintenance and the recent incidents `/` shows.
#[tracing::instrument(skip_all)]
pub async fn home_extras(
    db: &DatabaseConnection,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<HomeExtras, StoreError> {
    let intervals: HashMap<i64, i64> = monitor::Entity::find()
        .filter(monitor::Column::ArchivedAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m.interval_ms))
        .collect();
    let mut newest: Option<DateTime<Utc>> = None;
    let mut any_fresh = false;
    for s in monitor_state::Entity::find().all(db).await? {
        let (Some(interval), Some(at)) = (intervals.get(&s.monitor_id), s.last_at) else {
            continue;
        };
        newest = newest.max(Some(at));
        if now - at <= Duration::milliseconds(*interval) * STALE_AFTER_INTERVALS as i32 {
            any_fresh = true;
        }
    }
    let (active, mut upcoming, _) = split(all_windows(db, now).await?);
    upcoming.truncate(HOME_UPCOMING);
    let recent_incidents = incident::Entity::find()
        .filter(incident::Column::ResolvedAt.gte(now - Duration::days(RECENT_DAYS)))
        .filter(incident::Column::StartedAt.lte(now))
        .order_by_desc(incident::Column::StartedAt)
        .order_by_desc(incident::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|i| {
            let status = IncidentStatus::parse(&i.status)
                .ok_or_else(|| StoreError::Corrupt(format!("incident {}: {}", i.id, i.status)))?;
            let impact = Impact::parse(&i.impact)
                .ok_or_else(|| StoreError::Corrupt(format!("incident {}: {}", i.id, i.impact)))?;
            Ok(RecentIncident {
                id: i.id,
                title: i.title,
                status,
                impact,
                started_at: site_time(i.started_at, tz),
                resolved_at: i.resolved_at.map(|t| site_time(t, tz)),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?
        .into_iter()
        .filter(|i| !i.status.is_open())
        .collect();
    let locations = crate::agents::locations(db, now).await?;
    let reporting = locations.iter().filter(|l| l.reporting).count();
    Ok(HomeExtras {
        locations: (locations.len() > 1).then(|| {
            (
                u32::try_from(reporting).unwrap_or(u32::MAX),
                u32::try_from(locations.len()).unwrap_or(u32::MAX),
            )
        }),
        timezone: tz.name().to_owned(),
        data_as_of: newest.map(|t| site_time(t, tz)),
        stale: newest.is_some() && !any_fresh,
        active_maintenance: entries(db, active, tz).await?,
        upcoming_maintenance: entries(db, upcoming, tz).await?,
        recent_incidents,
    })
}
