//! A probe location failing alone: the pairs (monitor, location) only that location sees
//! failing are rows, and a location's first pair and its last one queue its `location` and
//! `location_over` alerts.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use domain::status::ComponentStatus;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::entity::{current_status, location, location_trouble, monitor};
use crate::outbox::{self, AlertEvent, Event};
use crate::StoreError;

/// Records which monitors each probe location alone sees failing, `troubled` being every such
/// (monitor id, location id) pair the engine sees now, and queues one `location` alert when a
/// location's trouble begins (its first pair) and one `location_over` when it ends (its last
/// pair gone): one alert per location, however many monitors it fails.
///
/// Monitors of services under maintenance are left as they stand (no alert while in
/// maintenance). Several instances judging alike alert once: the pairs are rows, and only the
/// instance whose insert or delete really changes them decides.
pub async fn location_trouble(
    db: &DatabaseConnection,
    troubled: &[(i64, String)],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let txn = crate::begin_write(db).await?;
    let stored: Vec<location_trouble::Model> = location_trouble::Entity::find()
        .order_by_asc(location_trouble::Column::MonitorId)
        .order_by_asc(location_trouble::Column::LocationId)
        .lock_exclusive()
        .all(&txn)
        .await?;
    let before: HashSet<(i64, String)> = stored
        .iter()
        .map(|r| (r.monitor_id, r.location_id.clone()))
        .collect();
    let wanted: HashSet<(i64, String)> = troubled.iter().cloned().collect();
    if before == wanted {
        return Ok(txn.commit().await?);
    }
    let monitors: HashMap<i64, monitor::Model> = monitor::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let maintenance: HashSet<String> = current_status::Entity::find()
        .filter(current_status::Column::SubjectKind.eq("service"))
        .filter(current_status::Column::Status.eq(ComponentStatus::UnderMaintenance.as_str()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|r| r.subject_id)
        .collect();
    let frozen = |id: i64| {
        monitors
            .get(&id)
            .and_then(|m| m.service_id.as_ref())
            .is_some_and(|s| maintenance.contains(s))
    };
    let had: HashSet<&str> = before.iter().map(|(_, l)| l.as_str()).collect();
    // Location → monitors this transaction added or removed.
    let mut added: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    let mut removed: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    for (m, l) in wanted.difference(&before) {
        if frozen(*m) || !monitors.contains_key(m) {
            continue;
        }
        let n = location_trouble::Entity::insert(location_trouble::ActiveModel {
            monitor_id: Set(*m),
            location_id: Set(l.clone()),
            since: Set(now),
        })
        .on_conflict(
            OnConflict::columns([
                location_trouble::Column::MonitorId,
                location_trouble::Column::LocationId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        if n > 0 {
            added.entry(l.clone()).or_default().insert(*m);
        }
    }
    for (m, l) in before.difference(&wanted) {
        if frozen(*m) {
            continue;
        }
        let n = location_trouble::Entity::delete_many()
            .filter(location_trouble::Column::MonitorId.eq(*m))
            .filter(location_trouble::Column::LocationId.eq(l.as_str()))
            .exec(&txn)
            .await?
            .rows_affected;
        if n > 0 {
            removed.entry(l.clone()).or_default().insert(*m);
        }
    }
    let after: Vec<location_trouble::Model> = location_trouble::Entity::find().all(&txn).await?;
    let left = |l: &str| after.iter().filter(|r| r.location_id == l).count();
    let names: HashMap<String, String> = location::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|l| (l.id, l.name))
        .collect();
    let service_ids: Vec<String> = monitors
        .values()
        .filter_map(|m| m.service_id.clone())
        .collect();
    let service_names = outbox::service_names(&txn, &service_ids).await?;
    // "FrAndroid / home", or "host phys-2 / ping".
    let label = |id: &i64| -> String {
        let Some(m) = monitors.get(id) else {
            return format!("monitor {id}");
        };
        let slug = m.key.rsplit('/').next().unwrap_or(&m.key);
        match (&m.service_id, &m.host_id) {
            (Some(s), _) => format!(
                "{} / {slug}",
                service_names.get(s).map_or(s.as_str(), String::as_str)
            ),
            (None, Some(h)) => format!("host {h} / {slug}"),
            (None, None) => m.key.clone(),
        }
    };
    for (l, ids) in &added {
        if had.contains(l.as_str()) || left(l) != ids.len() {
            continue; // its trouble had begun already
        }
        let name = names.get(l).map_or(l.as_str(), String::as_str);
        let list = ids.iter().map(label).collect::<Vec<_>>().join(", ");
        let event = Event::Alert(AlertEvent {
            kind: "location".to_owned(),
            title: format!("probe location {name} alone sees monitors failing"),
            host: None,
            subject: Some(format!("location {name}")),
            services: Vec::new(),
            monitors: ids.iter().map(label).collect(),
            detail: format!(
                "Failing from {name} only, up from the other locations: {list}. The services \
                 are not down; this location's network or probe is."
            ),
            at: now,
            link: Some("/admin".to_owned()),
        });
        outbox::queue(&txn, &event, now).await?;
    }
    for l in removed.keys() {
        if left(l) > 0 {
            continue;
        }
        let name = names.get(l).map_or(l.as_str(), String::as_str);
        let since = stored
            .iter()
            .filter(|r| &r.location_id == l)
            .map(|r| r.since)
            .min();
        let lasted = since
            .map(|s| format!(" after {} min", (now - s).num_minutes().max(0)))
            .unwrap_or_default();
        let event = Event::Alert(AlertEvent {
            kind: "location_over".to_owned(),
            title: format!("probe location {name}: its own trouble is over"),
            host: None,
            subject: Some(format!("location {name}")),
            services: Vec::new(),
            monitors: removed[l].iter().map(label).collect(),
            detail: format!("{name} agrees with the other locations again{lasted}."),
            at: now,
            link: Some("/admin".to_owned()),
        });
        outbox::queue(&txn, &event, now).await?;
    }
    txn.commit().await?;
    Ok(())
}
