//! Remote probe agents: the result batches they send, stored once whatever the number of
//! times a batch is sent. Their tokens are kept with the other tokens (`crate::tokens::agent`).
//!
//! An agent sends raw results; central confirms them here with the same state machine as its
//! own engine (`MonitorState::observe`, the monitor's `confirm` / `recover`), from the state
//! stored for that monitor and location, so an agent's location is a location like any
//! other: its states sit beside the others' and the quorum reads them.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::config::{Catalog, Slug};
use domain::late::{LateChange, LocationState};
use domain::monitor_state::{MonitorState, Thresholds};
use domain::status::{CheckOutcome, ComponentStatus};
use domain::topology::{MaintenanceWindow, MonitorKey};
use domain::uptime;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};

use crate::checks::NewCheck;
use crate::entity::{agent_batch, location, monitor, monitor_state};
use crate::history::Observation;
use crate::StoreError;

/// Results in one batch, at most.
pub const MAX_BATCH: usize = 5_000;

/// One result an agent sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentResult {
    /// `service/<id>/<monitor>` or `host/<id>/<monitor>`.
    pub monitor: String,
    pub checked_at: DateTime<Utc>,
    pub outcome: CheckOutcome,
    pub latency_ms: Option<i32>,
    pub status_code: Option<i32>,
    pub reason: Option<String>,
}

/// What became of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ingested {
    /// Stored now, with this many results.
    Stored(usize),
    /// Stored before (the batch id is known): acknowledged, nothing written again.
    Replay,
}

/// Why a batch was refused (nothing of it is stored).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Invalid(String),
}

impl From<sea_orm::DbErr> for IngestError {
    fn from(e: sea_orm::DbErr) -> Self {
        IngestError::Store(StoreError::Db(e))
    }
}

/// Stores the batch `batch_id` of results from `location_id`, once: in one transaction the
/// batch id is claimed (a second attempt finds it and is a [`Ingested::Replay`]) and the
/// results are confirmed and written like the engine's own. Results must be for monitors
/// probed from that location, and none stamped more than `max_ahead` past `now`.
///
/// Late results (no longer fresh at `now`, `domain::uptime::is_fresh`: the agent could not
/// reach central) are history, not news: the live engine's quorum leaves them out, so they
/// never move a current status. When one of them makes a confirmed change, the batch's
/// changes (that one and those after it) are replayed here through `catalog`'s topology
/// (`domain::late`) into status events at the results' own times, in the same transaction as
/// the batch claim, so a replayed batch adds nothing and the outage is recorded once. The
/// live engine still sets the current status from the fresh results, and may record the
/// state it reaches once more, at the time it decides it.
pub async fn ingest(
    db: &DatabaseConnection,
    catalog: &Catalog,
    location_id: &str,
    batch_id: &str,
    results: &[AgentResult],
    now: DateTime<Utc>,
    max_ahead: Duration,
) -> Result<Ingested, IngestError> {
    if batch_id.is_empty() || batch_id.len() > 100 {
        return Err(IngestError::Invalid(
            "`batch` must be 1 to 100 characters".into(),
        ));
    }
    if results.len() > MAX_BATCH {
        return Err(IngestError::Invalid(format!(
            "a batch holds at most {MAX_BATCH} results"
        )));
    }
    let ahead = chrono::TimeDelta::from_std(max_ahead).unwrap_or(chrono::TimeDelta::MAX);
    if let Some(r) = results.iter().find(|r| r.checked_at > now + ahead) {
        return Err(IngestError::Invalid(format!(
            "a result of {} is stamped {}, more than {} s ahead of central's clock",
            r.monitor,
            r.checked_at.to_rfc3339(),
            max_ahead.as_secs()
        )));
    }
    // The monitors this location probes.
    let mut monitors: HashMap<String, monitor::Model> = HashMap::new();
    for m in monitor::Entity::find()
        .filter(monitor::Column::ArchivedAt.is_null())
        .all(db)
        .await?
    {
        let locations: Vec<String> = serde_json::from_str(&m.locations).unwrap_or_default();
        if locations.iter().any(|l| l == location_id) {
            monitors.insert(m.key.clone(), m);
        }
    }
    if let Some(r) = results.iter().find(|r| !monitors.contains_key(&r.monitor)) {
        return Err(IngestError::Invalid(format!(
            "monitor {} is not probed from {location_id}",
            r.monitor
        )));
    }

    // What the replay of late results reads besides the states, read before the write
    // transaction (staff inputs; SQLite allows one writer).
    let late_of = |r: &AgentResult| {
        let interval = Duration::from_millis(
            u64::try_from(monitors[&r.monitor].interval_ms).unwrap_or(60_000),
        );
        !uptime::is_fresh(r.checked_at, interval, now)
    };
    let late_span = results
        .iter()
        .filter(|r| late_of(r))
        .map(|r| r.checked_at)
        .fold(None, |span: Option<(DateTime<Utc>, DateTime<Utc>)>, at| {
            Some(span.map_or((at, at), |(a, b)| (a.min(at), b.max(at))))
        });
    let staff = match late_span {
        Some((from, to)) => Some(staff_inputs(db, from, to).await?),
        None => None,
    };

    let txn = crate::begin_write(db).await?;
    let claimed = agent_batch::Entity::insert(agent_batch::ActiveModel {
        location_id: Set(location_id.to_owned()),
        batch_id: Set(batch_id.to_owned()),
        received_at: Set(now),
        results: Set(i32::try_from(results.len()).unwrap_or(i32::MAX)),
    })
    .on_conflict(
        OnConflict::columns([
            agent_batch::Column::LocationId,
            agent_batch::Column::BatchId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    if claimed == 0 {
        txn.commit().await?;
        return Ok(Ingested::Replay);
    }
    // Confirmation resumes from the stored state of each monitor at this location.
    let ids: Vec<i64> = monitors.values().map(|m| m.id).collect();
    let mut states: HashMap<i64, MonitorState> = HashMap::new();
    for (id, loc, s) in crate::history::load_states_of(&txn, &ids, location_id).await? {
        debug_assert_eq!(loc, location_id);
        states.insert(id, s);
    }
    let mut ordered: Vec<&AgentResult> = results.iter().collect();
    ordered.sort_by_key(|r| r.checked_at);
    // The late results replace what central recorded since it last heard this location.
    let heard = ordered
        .iter()
        .filter_map(|r| states.get(&monitors[&r.monitor].id)?.last_at)
        .min();
    // Every confirmed change the batch makes: replayed into the history when one of them is
    // late (those after it too, so the history goes on from the late ones at true times).
    let mut late = Vec::new();
    let mut any_late = false;
    let mut batch = Vec::with_capacity(ordered.len());
    for r in ordered {
        let m = &monitors[&r.monitor];
        let state = states.entry(m.id).or_default();
        // A result older than the newest known one is history, not news.
        if state.last_at.is_some_and(|at| r.checked_at < at) {
            continue;
        }
        let transition = state.observe(
            r.outcome,
            r.reason.clone(),
            r.checked_at,
            Thresholds {
                confirm: u32::try_from(m.confirm).unwrap_or(1),
                recover: u32::try_from(m.recover).unwrap_or(1),
            },
        );
        if let (Some(t), Some(monitor)) = (&transition, MonitorKey::parse(&m.key)) {
            any_late |= late_of(r);
            late.push(LateChange {
                monitor,
                from: t.from,
                to: t.to,
                reason: r.reason.clone(),
                at: t.at,
            });
        }
        batch.push(Observation {
            check: NewCheck {
                monitor_id: m.id,
                location_id: location_id.to_owned(),
                checked_at: r.checked_at,
                outcome: r.outcome,
                latency_ms: r.latency_ms,
                status_code: r.status_code,
                reason: r.reason.clone(),
            },
            interval: Duration::from_millis(u64::try_from(m.interval_ms).unwrap_or(60_000)),
            state: state.clone(),
            transition,
        });
    }
    let stored = batch.len();
    crate::history::record_batch_in(&txn, &batch).await?;
    if let (Some((_, last_late)), Some(staff), true) = (late_span, staff, any_late) {
        let mut keys: HashMap<i64, MonitorKey> = HashMap::new();
        for m in monitor::Entity::find()
            .filter(monitor::Column::ArchivedAt.is_null())
            .all(&txn)
            .await?
        {
            if let Some(k) = MonitorKey::parse(&m.key) {
                keys.insert(m.id, k);
            }
        }
        let states: HashMap<(MonitorKey, String), LocationState> =
            crate::history::load_states_in(&txn)
                .await?
                .into_iter()
                .filter_map(|(id, loc, s)| {
                    Some((
                        (keys.get(&id)?.clone(), loc),
                        LocationState {
                            last_at: s.last_at,
                            confirmed: s.confirmed,
                            reason: s.last_reason,
                        },
                    ))
                })
                .collect();
        let changes = domain::late::history(
            domain::late::Context {
                catalog,
                location: location_id,
                states: &states,
                maintenance: &staff.maintenance,
                overrides: &staff.overrides,
            },
            &late,
        );
        let from = heard.unwrap_or_else(|| late.iter().map(|c| c.at).min().unwrap_or(last_late));
        let to = late
            .iter()
            .map(|c| c.at)
            .max()
            .unwrap_or(last_late)
            .max(last_late);
        tracing::info!(
            location = location_id,
            late = late.len(),
            changes = changes.len(),
            "late agent results replayed into the history"
        );
        crate::status::record_past(&txn, &changes, (from, to)).await?;
    }
    txn.commit().await?;
    Ok(Ingested::Stored(stored))
}

/// Maintenance windows overlapping `[from, to]` and the statuses open incidents state: what
/// the topology reads besides the monitors when late results are replayed.
struct StaffInputs {
    maintenance: Vec<MaintenanceWindow>,
    overrides: HashMap<Slug, ComponentStatus>,
}

async fn staff_inputs(
    db: &DatabaseConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<StaffInputs, StoreError> {
    let maintenance = crate::maintenance::overlapping(db, from, to)
        .await?
        .into_iter()
        .map(|w| MaintenanceWindow {
            services: w
                .services
                .iter()
                .filter_map(|s| Slug::parse(&s.service_id).ok())
                .collect(),
            starts_at: w.starts_at,
            ends_at: w.ends_at,
        })
        .collect();
    let overrides = crate::incidents::read::stated_statuses(db)
        .await?
        .into_iter()
        .filter_map(|(id, s)| Some((Slug::parse(&id).ok()?, s)))
        .collect();
    Ok(StaffInputs {
        maintenance,
        overrides,
    })
}

/// A probe location and whether it reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocationReport {
    pub id: String,
    pub name: String,
    /// The newest result stored from it.
    pub last_report_at: Option<DateTime<Utc>>,
    /// Whether that result is at most two intervals old (its shortest monitor interval).
    pub reporting: bool,
}

/// Every active location, with its newest result and whether it still reports at `now`: a
/// location silent for two intervals is stale, and its verdicts have left the quorum.
pub async fn locations(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<Vec<LocationReport>, StoreError> {
    let mut shortest: HashMap<String, i64> = HashMap::new();
    let interval_of: HashMap<i64, i64> = monitor::Entity::find()
        .filter(monitor::Column::ArchivedAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|m| {
            let locations: Vec<String> = serde_json::from_str(&m.locations).unwrap_or_default();
            for l in locations {
                let e = shortest.entry(l).or_insert(m.interval_ms);
                *e = (*e).min(m.interval_ms);
            }
            (m.id, m.interval_ms)
        })
        .collect();
    let mut newest: HashMap<String, DateTime<Utc>> = HashMap::new();
    for s in monitor_state::Entity::find().all(db).await? {
        if !interval_of.contains_key(&s.monitor_id) {
            continue;
        }
        if let Some(at) = s.last_at {
            let e = newest.entry(s.location_id).or_insert(at);
            *e = (*e).max(at);
        }
    }
    Ok(location::Entity::find()
        .filter(location::Column::ArchivedAt.is_null())
        .order_by_asc(location::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|l| {
            let last = newest.get(&l.id).copied();
            let window = chrono::TimeDelta::milliseconds(
                shortest
                    .get(&l.id)
                    .copied()
                    .unwrap_or(60_000)
                    .saturating_mul(2),
            );
            LocationReport {
                reporting: last.is_some_and(|at| now - at <= window),
                last_report_at: last,
                name: l.name,
                id: l.id,
            }
        })
        .collect())
}

/// The active monitors probed from `location_id`.
pub async fn monitors_of(
    db: &DatabaseConnection,
    location_id: &str,
) -> Result<Vec<monitor::Model>, StoreError> {
    Ok(monitor::Entity::find()
        .filter(monitor::Column::ArchivedAt.is_null())
        .order_by_asc(monitor::Column::Key)
        .all(db)
        .await?
        .into_iter()
        .filter(|m| {
            serde_json::from_str::<Vec<String>>(&m.locations)
                .is_ok_and(|l| l.iter().any(|l| l == location_id))
        })
        .collect())
}
