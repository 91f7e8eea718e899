//! Syncing the configured catalog into the database at start.
//!
//! Rows are matched by their configured ids. New ids are inserted, known ids updated (and
//! un-archived), and ids no longer configured are archived with their history kept.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use domain::config::{Catalog, Monitor, MonitorSpec};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter,
};

use crate::entity::{host, location, monitor, service, service_group};
use crate::StoreError;

/// What a sync changed, for the start-up log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub inserted: usize,
    pub updated: usize,
    pub archived: usize,
}

/// Makes the database catalog match `catalog`, in one transaction.
#[tracing::instrument(skip_all)]
pub async fn sync(
    db: &DatabaseConnection,
    catalog: &Catalog,
    now: DateTime<Utc>,
) -> Result<SyncReport, StoreError> {
    let txn = crate::begin_write(db).await?;
    let mut report = SyncReport::default();

    let existing: Vec<location::Model> = location::Entity::find().all(&txn).await?;
    let known: HashSet<String> = existing.iter().map(|r| r.id.clone()).collect();
    for l in &catalog.locations {
        let row = location::ActiveModel {
            id: Set(l.id.to_string()),
            name: Set(l.name.clone()),
            archived_at: Set(None),
        };
        upsert::<location::Entity, _>(&txn, row, known.contains(l.id.as_str()), &mut report)
            .await?;
    }
    let wanted: HashSet<&str> = catalog.locations.iter().map(|l| l.id.as_str()).collect();
    for r in existing
        .into_iter()
        .filter(|r| r.archived_at.is_none() && !wanted.contains(r.id.as_str()))
    {
        let mut row: location::ActiveModel = r.into();
        row.archived_at = Set(Some(now));
        location::Entity::update(row).exec(&txn).await?;
        report.archived += 1;
    }

    let existing: Vec<host::Model> = host::Entity::find().all(&txn).await?;
    let known: HashSet<String> = existing.iter().map(|r| r.id.clone()).collect();
    for (i, h) in catalog.hosts.iter().enumerate() {
        let row = host::ActiveModel {
            id: Set(h.id.to_string()),
            name: Set(h.name.clone()),
            kind: Set(h.kind.as_str().to_owned()),
            parent_id: Set(h.parent.as_ref().map(ToString::to_string)),
            position: Set(position(i)),
            archived_at: Set(None),
        };
        upsert::<host::Entity, _>(&txn, row, known.contains(h.id.as_str()), &mut report).await?;
    }
    let wanted: HashSet<&str> = catalog.hosts.iter().map(|h| h.id.as_str()).collect();
    for r in existing
        .into_iter()
        .filter(|r| r.archived_at.is_none() && !wanted.contains(r.id.as_str()))
    {
        let mut row: host::ActiveModel = r.into();
        row.archived_at = Set(Some(now));
        host::Entity::update(row).exec(&txn).await?;
        report.archived += 1;
    }

    let existing: Vec<service_group::Model> = service_group::Entity::find().all(&txn).await?;
    let known: HashSet<String> = existing.iter().map(|r| r.id.clone()).collect();
    for (i, g) in catalog.groups.iter().enumerate() {
        let row = service_group::ActiveModel {
            id: Set(g.id.to_string()),
            name: Set(g.name.clone()),
            position: Set(position(i)),
            archived_at: Set(None),
        };
        upsert::<service_group::Entity, _>(&txn, row, known.contains(g.id.as_str()), &mut report)
            .await?;
    }
    let wanted: HashSet<&str> = catalog.groups.iter().map(|g| g.id.as_str()).collect();
    for r in existing
        .into_iter()
        .filter(|r| r.archived_at.is_none() && !wanted.contains(r.id.as_str()))
    {
        let mut row: service_group::ActiveModel = r.into();
        row.archived_at = Set(Some(now));
        service_group::Entity::update(row).exec(&txn).await?;
        report.archived += 1;
    }

    let existing: Vec<service::Model> = service::Entity::find().all(&txn).await?;
    let known: HashSet<String> = existing.iter().map(|r| r.id.clone()).collect();
    for (i, s) in catalog.services.iter().enumerate() {
        let depends_on = serde_json::Value::Array(
            s.depends_on
                .iter()
                .map(|d| serde_json::json!({ "service": d.service.as_str(), "hard": d.hard }))
                .collect(),
        );
        let mut row = service::ActiveModel {
            id: Set(s.id.to_string()),
            name: Set(s.name.clone()),
            group_id: Set(s.group.to_string()),
            host_id: Set(s.host.as_ref().map(ToString::to_string)),
            description: Set(s.description.clone()),
            url: Set(s.url.clone()),
            depends_on: Set(depends_on.to_string()),
            position: Set(position(i)),
            archived_at: Set(None),
            ..Default::default()
        };
        let exists = known.contains(s.id.as_str());
        if !exists {
            row.created_at = Set(now);
        }
        upsert::<service::Entity, _>(&txn, row, exists, &mut report).await?;
    }
    let wanted: HashSet<&str> = catalog.services.iter().map(|s| s.id.as_str()).collect();
    for r in existing
        .into_iter()
        .filter(|r| r.archived_at.is_none() && !wanted.contains(r.id.as_str()))
    {
        let mut row: service::ActiveModel = r.into();
        row.archived_at = Set(Some(now));
        service::Entity::update(row).exec(&txn).await?;
        report.archived += 1;
    }

    sync_monitors(&txn, catalog, now, &mut report).await?;
    txn.commit().await?;
    Ok(report)
}

/// The stable key of a service's monitor, as stored in `monitors.key`.
pub fn service_monitor_key(service: &str, monitor: &str) -> String {
    format!("service/{service}/{monitor}")
}

/// The stable key of a host's monitor, as stored in `monitors.key`.
pub fn host_monitor_key(host: &str, monitor: &str) -> String {
    format!("host/{host}/{monitor}")
}

async fn sync_monitors(
    txn: &DatabaseTransaction,
    catalog: &Catalog,
    now: DateTime<Utc>,
    report: &mut SyncReport,
) -> Result<(), StoreError> {
    let existing: Vec<monitor::Model> = monitor::Entity::find().all(txn).await?;
    let by_key: std::collections::HashMap<&str, &monitor::Model> =
        existing.iter().map(|m| (m.key.as_str(), m)).collect();
    let mut wanted = HashSet::new();
    let service_monitors = catalog.services.iter().flat_map(|s| {
        s.monitors.iter().map(move |m| {
            (
                service_monitor_key(s.id.as_str(), m.id.as_str()),
                Some(s.id.as_str()),
                None,
                m,
            )
        })
    });
    let host_monitors = catalog.hosts.iter().flat_map(|h| {
        h.monitors.iter().map(move |m| {
            (
                host_monitor_key(h.id.as_str(), m.id.as_str()),
                None,
                Some(h.id.as_str()),
                m,
            )
        })
    });
    for (key, service_id, host_id, m) in service_monitors.chain(host_monitors) {
        let mut row = monitor_row(m, service_id, host_id)?;
        row.key = Set(key.clone());
        match by_key.get(key.as_str()) {
            Some(old) => {
                row.id = Set(old.id);
                monitor::Entity::update(row).exec(txn).await?;
                report.updated += 1;
            }
            None => {
                monitor::Entity::insert(row).exec(txn).await?;
                report.inserted += 1;
            }
        }
        wanted.insert(key);
    }
    for old in existing
        .iter()
        .filter(|m| m.archived_at.is_none() && !wanted.contains(&m.key))
    {
        let mut row: monitor::ActiveModel = old.clone().into();
        row.archived_at = Set(Some(now));
        monitor::Entity::update(row).exec(txn).await?;
        report.archived += 1;
    }
    Ok(())
}

/// A monitor's settings as stored (the kind's own, a flat JSON object): without HTTP header
/// values (they may be credentials, read from `${env:…}` / `${file:…}`) nor the push token.
/// Only the headers' names are kept, so the database says which headers a probe sends, never
/// what.
fn stored_settings(m: &Monitor) -> Result<String, serde_json::Error> {
    let mut spec = m.spec.clone();
    match &mut spec {
        MonitorSpec::Http(s) | MonitorSpec::Keyword(s) | MonitorSpec::Json(s) => {
            for value in s.headers.values_mut() {
                value.clear();
            }
        }
        MonitorSpec::Push(s) => s.token = None,
        MonitorSpec::Tcp(_) | MonitorSpec::Dns(_) | MonitorSpec::Tls(_) => {}
    }
    spec.settings_json()
}

fn monitor_row(
    m: &Monitor,
    service_id: Option<&str>,
    host_id: Option<&str>,
) -> Result<monitor::ActiveModel, StoreError> {
    let ms = |d: std::time::Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    let locations: Vec<&str> = m.locations.iter().map(|l| l.as_str()).collect();
    Ok(monitor::ActiveModel {
        service_id: Set(service_id.map(str::to_owned)),
        host_id: Set(host_id.map(str::to_owned)),
        kind: Set(m.kind().as_str().to_owned()),
        target: Set(m.target.clone()),
        interval_ms: Set(ms(m.interval)),
        timeout_ms: Set(ms(m.timeout)),
        retry_interval_ms: Set(ms(m.retry_interval)),
        confirm: Set(i32::try_from(m.confirm).unwrap_or(i32::MAX)),
        recover: Set(i32::try_from(m.recover).unwrap_or(i32::MAX)),
        locations: Set(
            serde_json::to_string(&locations).map_err(|e| StoreError::Corrupt(e.to_string()))?
        ),
        degraded_after_ms: Set(m
            .degraded_after_ms
            .map(|v| i64::try_from(v).unwrap_or(i64::MAX))),
        settings: Set(stored_settings(m).map_err(|e| StoreError::Corrupt(e.to_string()))?),
        archived_at: Set(None),
        ..Default::default()
    })
}

fn position(i: usize) -> i32 {
    i32::try_from(i).unwrap_or(i32::MAX)
}

async fn upsert<E, A>(
    txn: &DatabaseTransaction,
    row: A,
    exists: bool,
    report: &mut SyncReport,
) -> Result<(), StoreError>
where
    E: EntityTrait<ActiveModel = A>,
    A: sea_orm::ActiveModelTrait<Entity = E> + sea_orm::ActiveModelBehavior + Send,
    E::Model: sea_orm::IntoActiveModel<A>,
{
    if exists {
        E::update(row).exec(txn).await?;
        report.updated += 1;
    } else {
        E::insert(row).exec(txn).await?;
        report.inserted += 1;
    }
    Ok(())
}

/// Ids of services currently archived (removed from the configuration), for tests and tools.
pub async fn archived_services(db: &DatabaseConnection) -> Result<Vec<String>, StoreError> {
    Ok(service::Entity::find()
        .filter(service::Column::ArchivedAt.is_not_null())
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect())
}

/// Whether `db` is one `vigie demo` may write into: it holds no table at all (new), or its
/// only staff account is the demo's (`demo_staff`, which the demo creates at its first start).
/// A database with any other account, or with a catalog but no demo account, belongs to
/// someone else; so does one whose users cannot be read (another schema, an older Vigie).
pub async fn is_demo_database(
    db: &DatabaseConnection,
    demo_staff: &str,
) -> Result<bool, StoreError> {
    use sea_orm::PaginatorTrait;
    if crate::backup::is_empty(db).await? {
        return Ok(true);
    }
    let Ok(users) = crate::entity::user::Entity::find().all(db).await else {
        return Ok(false);
    };
    if users.iter().any(|u| u.email != demo_staff) {
        return Ok(false);
    }
    if users.is_empty() {
        // A catalog without the demo's account: a real instance before its first staff.
        let services = service::Entity::find().count(db).await.unwrap_or(1);
        return Ok(services == 0);
    }
    Ok(true)
}
