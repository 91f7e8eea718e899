//! What the RSS/Atom feeds and the maintenance calendar read: one notice per incident update
//! and per maintenance event (scheduled, started, completed), newest first, site-wide or for
//! one service; and the maintenance windows with the revision count iCalendar wants.
//!
//! Maintenance notices are derived from the window itself, not from the audit log: a window
//! is announced when it is created, starts at `starts_at` and ends at `ends_at` (which
//! [`crate::maintenance::set_status`] moves to the moment staff end it early). So the notices
//! are right even on an instance that never ran [`crate::maintenance::advance`].

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use domain::incident::{AffectedService, IncidentStatus, MaintenanceStatus};
use domain::status::ComponentStatus;
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::entity::{
    audit_event, incident, incident_service, incident_update, maintenance, maintenance_service,
    service,
};
use crate::StoreError;

/// Which moment of a maintenance window a notice announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MaintenanceStage {
    Scheduled,
    Started,
    Completed,
}

impl MaintenanceStage {
    /// Stable word used in identifiers (`#maintenance-3-started`).
    pub fn as_str(self) -> &'static str {
        match self {
            MaintenanceStage::Scheduled => "scheduled",
            MaintenanceStage::Started => "started",
            MaintenanceStage::Completed => "completed",
        }
    }
}

/// What a notice is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoticeKind {
    IncidentUpdate {
        incident_id: i64,
        update_id: i64,
        status: IncidentStatus,
    },
    Maintenance {
        maintenance_id: i64,
        stage: MaintenanceStage,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
    },
}

/// One feed entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    /// The incident's or the window's title (without any state prefix).
    pub title: String,
    /// Sanitised when it was written: safe to publish as is.
    pub message_html: String,
    /// When the notice was published.
    pub published: DateTime<Utc>,
    /// When its text last changed (an edited update), else `published`.
    pub updated: DateTime<Utc>,
    /// Names of the services it touches, in id order.
    pub services: Vec<String>,
    /// The same services with the status the incident states for each (for a window:
    /// under maintenance), so an entry can say what each one is going through.
    pub affected: Vec<AffectedService>,
}

/// The newest notices and the newest time anything shown in them changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notices {
    /// Newest first.
    pub notices: Vec<Notice>,
    /// The latest of the notices' publication and edit times and of the edits of the
    /// incidents and windows they belong to (a renamed incident renames its entries);
    /// `None` when there is no notice.
    pub last_modified: Option<DateTime<Utc>>,
}

/// A maintenance window for the calendar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarWindow {
    pub id: i64,
    pub title: String,
    pub message_md: String,
    pub status: MaintenanceStatus,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Ended by staff before it began: nothing happened.
    pub cancelled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// How many times staff changed the window after creating it (audited changes).
    pub revision: u32,
    /// Names of the services it covers, in id order.
    pub services: Vec<String>,
}

/// A service's name, archived or not; `None` for an id that never existed. Feeds of an
/// archived service keep serving its history.
pub async fn service_name(db: &DatabaseConnection, id: &str) -> Result<Option<String>, StoreError> {
    Ok(service::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
        .map(|s| s.name))
}

/// Every service's name, by id.
pub(crate) async fn service_names(
    db: &DatabaseConnection,
) -> Result<HashMap<String, String>, StoreError> {
    Ok(service::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect())
}

fn corrupt(what: &str, id: i64, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {id}: {value}"))
}

/// The notices of a window that have happened by `now`, with their publication times. A
/// window recorded after the fact announces its past start and end when it was recorded.
fn maintenance_stages(
    m: &maintenance::Model,
    now: DateTime<Utc>,
) -> Result<Vec<(MaintenanceStage, DateTime<Utc>)>, StoreError> {
    let stored = MaintenanceStatus::parse(&m.status)
        .ok_or_else(|| corrupt("maintenance", m.id, &m.status))?;
    let status = stored.at(m.starts_at, m.ends_at, now);
    let mut out = vec![(MaintenanceStage::Scheduled, m.created_at)];
    let started = m.starts_at <= now && m.starts_at < m.ends_at;
    if started {
        out.push((MaintenanceStage::Started, m.starts_at.max(m.created_at)));
    }
    if status == MaintenanceStatus::Completed && started {
        out.push((MaintenanceStage::Completed, m.ends_at.max(m.created_at)));
    }
    Ok(out.into_iter().filter(|(_, at)| *at <= now).collect())
}

fn names_of(affected: Option<&Vec<AffectedService>>) -> Vec<String> {
    affected
        .map(|a| a.iter().map(|s| s.name.clone()).collect())
        .unwrap_or_default()
}

/// A notice, the latest time its content depends on, and a tie-break key for notices
/// published in the same instant (kind, id, stage).
type Ranked = (Notice, DateTime<Utc>, (u8, i64, u8));

/// The newest `limit` notices at `now`, newest first: every incident update and every
/// maintenance notice, or only those touching `service` when given.
#[tracing::instrument(skip(db))]
pub async fn notices(
    db: &DatabaseConnection,
    service: Option<&str>,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Notices, StoreError> {
    let names = service_names(db).await?;

    // Incident updates: the newest `limit` are enough.
    let mut updates_q = incident_update::Entity::find()
        .filter(incident_update::Column::CreatedAt.lte(now))
        .order_by_desc(incident_update::Column::CreatedAt)
        .order_by_desc(incident_update::Column::Id)
        .limit(limit);
    if let Some(s) = service {
        updates_q = updates_q.filter(
            incident_update::Column::IncidentId.in_subquery(
                Query::select()
                    .column(incident_service::Column::IncidentId)
                    .from(incident_service::Entity)
                    .and_where(incident_service::Column::ServiceId.eq(s))
                    .to_owned(),
            ),
        );
    }
    let updates = updates_q.all(db).await?;
    let incident_ids: Vec<i64> = updates.iter().map(|u| u.incident_id).collect();
    let incidents: HashMap<i64, incident::Model> = incident::Entity::find()
        .filter(incident::Column::Id.is_in(incident_ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.id, i))
        .collect();
    let mut incident_services: HashMap<i64, Vec<AffectedService>> = HashMap::new();
    for row in incident_service::Entity::find()
        .filter(incident_service::Column::IncidentId.is_in(incident_ids))
        .order_by_asc(incident_service::Column::ServiceId)
        .all(db)
        .await?
    {
        let status = ComponentStatus::parse(&row.status)
            .ok_or_else(|| corrupt("incident service of", row.incident_id, &row.status))?;
        let name = names
            .get(&row.service_id)
            .cloned()
            .unwrap_or_else(|| row.service_id.clone());
        incident_services
            .entry(row.incident_id)
            .or_default()
            .push(AffectedService {
                service_id: row.service_id,
                name,
                status,
            });
    }

    // Maintenance windows: each notice's time is its window's `created_at`, `starts_at` or
    // `ends_at`, so the windows holding the newest `limit` notices are among the newest
    // `limit` by each of those three columns.
    let in_service = |q: sea_orm::Select<maintenance::Entity>| match service {
        Some(s) => q.filter(
            maintenance::Column::Id.in_subquery(
                Query::select()
                    .column(maintenance_service::Column::MaintenanceId)
                    .from(maintenance_service::Entity)
                    .and_where(maintenance_service::Column::ServiceId.eq(s))
                    .to_owned(),
            ),
        ),
        None => q,
    };
    let mut windows: BTreeMap<i64, maintenance::Model> = BTreeMap::new();
    for column in [
        maintenance::Column::CreatedAt,
        maintenance::Column::StartsAt,
        maintenance::Column::EndsAt,
    ] {
        for m in in_service(maintenance::Entity::find())
            .filter(column.lte(now))
            .order_by_desc(column)
            .order_by_desc(maintenance::Column::Id)
            .limit(limit)
            .all(db)
            .await?
        {
            windows.insert(m.id, m);
        }
    }
    let mut window_services: HashMap<i64, Vec<AffectedService>> = HashMap::new();
    for row in maintenance_service::Entity::find()
        .filter(maintenance_service::Column::MaintenanceId.is_in(windows.keys().copied()))
        .order_by_asc(maintenance_service::Column::ServiceId)
        .all(db)
        .await?
    {
        let name = names
            .get(&row.service_id)
            .cloned()
            .unwrap_or_else(|| row.service_id.clone());
        window_services
            .entry(row.maintenance_id)
            .or_default()
            .push(AffectedService {
                service_id: row.service_id,
                name,
                status: ComponentStatus::UnderMaintenance,
            });
    }

    let mut all: Vec<Ranked> = Vec::new();
    for u in updates {
        let Some(inc) = incidents.get(&u.incident_id) else {
            continue;
        };
        let status = IncidentStatus::parse(&u.status)
            .ok_or_else(|| corrupt("incident update", u.id, &u.status))?;
        let updated = u.edited_at.unwrap_or(u.created_at).max(u.created_at);
        all.push((
            Notice {
                kind: NoticeKind::IncidentUpdate {
                    incident_id: inc.id,
                    update_id: u.id,
                    status,
                },
                title: inc.title.clone(),
                message_html: u.message_html,
                published: u.created_at,
                updated,
                affected: incident_services.get(&inc.id).cloned().unwrap_or_default(),
                services: names_of(incident_services.get(&inc.id)),
            },
            inc.updated_at.min(now).max(updated),
            (0, u.id, 0),
        ));
    }
    for m in windows.values() {
        for (stage, at) in maintenance_stages(m, now)? {
            all.push((
                Notice {
                    kind: NoticeKind::Maintenance {
                        maintenance_id: m.id,
                        stage,
                        starts_at: m.starts_at,
                        ends_at: m.ends_at,
                    },
                    title: m.title.clone(),
                    message_html: m.message_html.clone(),
                    published: at,
                    updated: at,
                    affected: window_services.get(&m.id).cloned().unwrap_or_default(),
                    services: names_of(window_services.get(&m.id)),
                },
                m.updated_at.min(now).max(at),
                (1, m.id, stage as u8),
            ));
        }
    }
    all.sort_by_key(|n| std::cmp::Reverse((n.0.published, n.2)));
    all.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let last_modified = all.iter().map(|(_, changed, _)| *changed).max();
    Ok(Notices {
        notices: all.into_iter().map(|(n, _, _)| n).collect(),
        last_modified,
    })
}

/// Maintenance windows for the calendar at `now`: every upcoming and active one and those
/// that ended less than `past_days` ago, by start time.
#[tracing::instrument(skip(db))]
pub async fn calendar(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    past_days: i64,
) -> Result<Vec<CalendarWindow>, StoreError> {
    let since = now - chrono::Duration::days(past_days);
    let rows = maintenance::Entity::find()
        .filter(maintenance::Column::EndsAt.gte(since))
        .order_by_asc(maintenance::Column::StartsAt)
        .order_by_asc(maintenance::Column::Id)
        .all(db)
        .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|m| m.id).collect();
    let names = service_names(db).await?;
    let mut services: HashMap<i64, Vec<String>> = HashMap::new();
    for row in maintenance_service::Entity::find()
        .filter(maintenance_service::Column::MaintenanceId.is_in(ids.clone()))
        .order_by_asc(maintenance_service::Column::ServiceId)
        .all(db)
        .await?
    {
        let name = names
            .get(&row.service_id)
            .cloned()
            .unwrap_or(row.service_id);
        services.entry(row.maintenance_id).or_default().push(name);
    }
    // Changes staff made after creating a window (status set by hand, edits), from the audit
    // log; the moves time makes on its own (`actor_kind = system`) change nothing a calendar
    // shows.
    let mut revisions: HashMap<i64, u32> = HashMap::new();
    for e in audit_event::Entity::find()
        .filter(audit_event::Column::TargetKind.eq("maintenance"))
        .filter(audit_event::Column::TargetId.is_in(ids.iter().map(i64::to_string)))
        .filter(audit_event::Column::ActorKind.ne("system"))
        .filter(audit_event::Column::Action.ne("maintenance.create"))
        .all(db)
        .await?
    {
        if let Some(id) = e.target_id.and_then(|t| t.parse::<i64>().ok()) {
            *revisions.entry(id).or_default() += 1;
        }
    }
    rows.into_iter()
        .map(|m| {
            let stored = MaintenanceStatus::parse(&m.status)
                .ok_or_else(|| corrupt("maintenance", m.id, &m.status))?;
            Ok(CalendarWindow {
                status: stored.at(m.starts_at, m.ends_at, now),
                cancelled: m.ends_at <= m.starts_at,
                revision: revisions.get(&m.id).copied().unwrap_or(0),
                services: services.remove(&m.id).unwrap_or_default(),
                id: m.id,
                title: m.title,
                message_md: m.message_md,
                starts_at: m.starts_at,
                ends_at: m.ends_at,
                created_at: m.created_at,
                updated_at: m.updated_at,
            })
        })
        .collect()
}
