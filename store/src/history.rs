//! Probe history: batched result writes that keep per-location monitor states, monitor status
//! events and the hourly / daily rollups up to date in the same transaction; rollup reads; raw
//! retention.
//!
//! Rollups are maintained incrementally: each result adds the time since the previous result
//! of its monitor and location (split at hour and day boundaries, gaps longer than three
//! intervals counted as no-data) and its latency to a histogram, so a 90-day bar reads one row
//! per day instead of every raw result.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use domain::monitor_state::{MonitorState, Transition};
use domain::status::CheckOutcome;
use domain::uptime::{self, Coverage, LatencyHistogram, Period};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder,
};

use crate::checks::NewCheck;
use crate::entity::{check_result, monitor_state, rollup, status_event};
use crate::StoreError;

/// Rollups are kept this long: the 90-day bars and a year of history, with room to spare.
pub const ROLLUP_RETENTION_DAYS: i64 = 400;

/// Rows per INSERT, well under SQLite's bound-parameter limit.
const CHUNK: usize = 500;

/// One probe result with the monitor state it led to.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    pub check: NewCheck,
    /// The monitor's interval, to tell a gap (no-data) from normal spacing.
    pub interval: Duration,
    /// The state after this result.
    pub state: MonitorState,
    /// The confirmed change this result caused, recorded as a monitor event.
    pub transition: Option<Transition>,
}

/// Writes a batch of results in one transaction: raw rows, monitor events, rollups, states.
#[tracing::instrument(skip_all, fields(n = batch.len()))]
pub async fn record_batch(
    db: &DatabaseConnection,
    batch: &[Observation],
) -> Result<(), StoreError> {
    if batch.is_empty() {
        return Ok(());
    }
    let txn = crate::begin_write(db).await?;
    record_batch_in(&txn, batch).await?;
    txn.commit().await?;
    Ok(())
}

/// [`record_batch`] inside the caller's write transaction.
pub(crate) async fn record_batch_in(
    txn: &sea_orm::DatabaseTransaction,
    batch: &[Observation],
) -> Result<(), StoreError> {
    if batch.is_empty() {
        return Ok(());
    }

    let mut ordered: Vec<&Observation> = batch.iter().collect();
    ordered.sort_by_key(|o| o.check.checked_at);

    // Writing first takes SQLite's write lock at once (waiting on the busy timeout): a
    // transaction that reads first and writes later fails with "database is locked" when
    // another writer committed in between.
    let checks: Vec<NewCheck> = ordered.iter().map(|o| o.check.clone()).collect();
    for chunk in checks.chunks(CHUNK) {
        crate::checks::record_in(txn, chunk).await?;
    }

    // Previous result per (monitor, location), from the stored states.
    let monitor_ids: BTreeSet<i64> = batch.iter().map(|o| o.check.monitor_id).collect();
    let mut previous: HashMap<(i64, String), (DateTime<Utc>, CheckOutcome)> = HashMap::new();
    for s in monitor_state::Entity::find()
        .filter(monitor_state::Column::MonitorId.is_in(monitor_ids.iter().copied()))
        .all(txn)
        .await?
    {
        if let (Some(at), Some(o)) = (s.last_at, s.last_outcome.as_deref()) {
            if let Some(o) = CheckOutcome::parse(o) {
                previous.insert((s.monitor_id, s.location_id), (at, o));
            }
        }
    }

    let mut acc: HashMap<RollupKey, Acc> = HashMap::new();
    let mut latest_state: HashMap<(i64, String), &MonitorState> = HashMap::new();
    let mut events = Vec::new();
    for o in &ordered {
        let c = &o.check;
        let key = (c.monitor_id, c.location_id.clone());
        let prev = previous.get(&key).copied();
        for span in uptime::spans(prev, c.checked_at, o.interval) {
            for period in [Period::Hour, Period::Day] {
                for (bucket, ms) in uptime::split(span, period) {
                    acc.entry(RollupKey::new(c, period, bucket))
                        .or_default()
                        .add_time(span.coverage, ms);
                }
            }
        }
        for period in [Period::Hour, Period::Day] {
            let a = acc
                .entry(RollupKey::new(c, period, period.bucket(c.checked_at)))
                .or_default();
            a.checks += 1;
            if let Some(ms) = c.latency_ms.and_then(|l| u32::try_from(l).ok()) {
                a.latency.add(ms);
            }
        }
        if prev.is_none_or(|(at, _)| at < c.checked_at) {
            previous.insert(key.clone(), (c.checked_at, c.outcome));
        }
        latest_state.insert(key, &o.state);
        if let Some(t) = &o.transition {
            events.push(status_event::ActiveModel {
                subject_kind: Set("monitor".into()),
                subject_id: Set(c.monitor_id.to_string()),
                location_id: Set(Some(c.location_id.clone())),
                from_status: Set(t.from.map(|f| f.as_str().to_owned())),
                to_status: Set(t.to.as_str().to_owned()),
                cause: Set(c.reason.clone()),
                at: Set(t.at),
                ..Default::default()
            });
        }
    }

    for chunk in events.chunks(CHUNK) {
        status_event::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    merge_rollups(txn, &monitor_ids, acc).await?;
    save_states(txn, latest_state).await?;
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct RollupKey {
    monitor_id: i64,
    location_id: String,
    period: Period,
    bucket: DateTime<Utc>,
}

impl RollupKey {
    fn new(c: &NewCheck, period: Period, bucket: DateTime<Utc>) -> Self {
        RollupKey {
            monitor_id: c.monitor_id,
            location_id: c.location_id.clone(),
            period,
            bucket,
        }
    }
}

#[derive(Default)]
struct Acc {
    up: i64,
    degraded: i64,
    down: i64,
    no_data: i64,
    checks: i32,
    latency: LatencyHistogram,
}

impl Acc {
    fn add_time(&mut self, coverage: Coverage, ms: i64) {
        let slot = match coverage {
            Coverage::Up => &mut self.up,
            Coverage::Degraded => &mut self.degraded,
            Coverage::Down => &mut self.down,
            Coverage::NoData => &mut self.no_data,
        };
        *slot = slot.saturating_add(ms);
    }
}

async fn merge_rollups(
    txn: &DatabaseTransaction,
    monitor_ids: &BTreeSet<i64>,
    acc: HashMap<RollupKey, Acc>,
) -> Result<(), StoreError> {
    if acc.is_empty() {
        return Ok(());
    }
    let buckets: BTreeSet<DateTime<Utc>> = acc.keys().map(|k| k.bucket).collect();
    let existing: HashMap<RollupKey, rollup::Model> = rollup::Entity::find()
        .filter(rollup::Column::MonitorId.is_in(monitor_ids.iter().copied()))
        .filter(rollup::Column::BucketStart.is_in(buckets))
        .all(txn)
        .await?
        .into_iter()
        .filter_map(|r| {
            let period = match r.period.as_str() {
                "hour" => Period::Hour,
                "day" => Period::Day,
                _ => return None,
            };
            Some((
                RollupKey {
                    monitor_id: r.monitor_id,
                    location_id: r.location_id.clone(),
                    period,
                    bucket: r.bucket_start,
                },
                r,
            ))
        })
        .collect();
    let mut rows = Vec::with_capacity(acc.len());
    for (key, mut a) in acc {
        if let Some(old) = existing.get(&key) {
            let mut hist = LatencyHistogram::from_text(
                &old.latency_histogram,
                old.latency_max_ms.and_then(|m| u32::try_from(m).ok()),
            )
            .ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "rollup of monitor {} has histogram {:?}",
                    old.monitor_id, old.latency_histogram
                ))
            })?;
            for (i, c) in a.latency.counts.iter().enumerate() {
                if hist.counts.len() < a.latency.counts.len() {
                    hist.counts.resize(a.latency.counts.len(), 0);
                }
                hist.counts[i] = hist.counts[i].saturating_add(*c);
            }
            hist.max_ms = match (hist.max_ms, a.latency.max_ms) {
                (Some(x), Some(y)) => Some(x.max(y)),
                (x, y) => x.or(y),
            };
            a.latency = hist;
            a.up = a.up.saturating_add(old.up_ms);
            a.degraded = a.degraded.saturating_add(old.degraded_ms);
            a.down = a.down.saturating_add(old.down_ms);
            a.no_data = a.no_data.saturating_add(old.no_data_ms);
            a.checks = a.checks.saturating_add(old.checks);
        }
        let ms = |v: Option<u32>| v.map(|v| i32::try_from(v).unwrap_or(i32::MAX));
        rows.push(rollup::ActiveModel {
            monitor_id: Set(key.monitor_id),
            location_id: Set(key.location_id),
            period: Set(key.period.as_str().to_owned()),
            bucket_start: Set(key.bucket),
            up_ms: Set(a.up),
            degraded_ms: Set(a.degraded),
            down_ms: Set(a.down),
            no_data_ms: Set(a.no_data),
            checks: Set(a.checks),
            latency_histogram: Set(a.latency.to_text()),
            latency_p50_ms: Set(ms(a.latency.quantile(0.5))),
            latency_p95_ms: Set(ms(a.latency.quantile(0.95))),
            latency_max_ms: Set(ms(a.latency.max_ms)),
        });
    }
    let on_conflict = OnConflict::columns([
        rollup::Column::MonitorId,
        rollup::Column::LocationId,
        rollup::Column::Period,
        rollup::Column::BucketStart,
    ])
    .update_columns([
        rollup::Column::UpMs,
        rollup::Column::DegradedMs,
        rollup::Column::DownMs,
        rollup::Column::NoDataMs,
        rollup::Column::Checks,
        rollup::Column::LatencyHistogram,
        rollup::Column::LatencyP50Ms,
        rollup::Column::LatencyP95Ms,
        rollup::Column::LatencyMaxMs,
    ])
    .to_owned();
    for chunk in rows.chunks(CHUNK) {
        rollup::Entity::insert_many(chunk.to_vec())
            .on_conflict(on_conflict.clone())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

async fn save_states(
    txn: &DatabaseTransaction,
    states: HashMap<(i64, String), &MonitorState>,
) -> Result<(), StoreError> {
    let rows: Vec<monitor_state::ActiveModel> = states
        .into_iter()
        .map(
            |((monitor_id, location_id), s)| monitor_state::ActiveModel {
                monitor_id: Set(monitor_id),
                location_id: Set(location_id),
                confirmed: Set(s.confirmed.map(|o| o.as_str().to_owned())),
                since: Set(s.since),
                candidate: Set(s.candidate.map(|o| o.as_str().to_owned())),
                streak: Set(i32::try_from(s.streak).unwrap_or(i32::MAX)),
                last_outcome: Set(s.last.map(|o| o.as_str().to_owned())),
                last_at: Set(s.last_at),
                last_reason: Set(s.last_reason.clone()),
            },
        )
        .collect();
    let on_conflict = OnConflict::columns([
        monitor_state::Column::MonitorId,
        monitor_state::Column::LocationId,
    ])
    .update_columns([
        monitor_state::Column::Confirmed,
        monitor_state::Column::Since,
        monitor_state::Column::Candidate,
        monitor_state::Column::Streak,
        monitor_state::Column::LastOutcome,
        monitor_state::Column::LastAt,
        monitor_state::Column::LastReason,
    ])
    .to_owned();
    for chunk in rows.chunks(CHUNK) {
        monitor_state::Entity::insert_many(chunk.to_vec())
            .on_conflict(on_conflict.clone())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// Every stored monitor state: `(monitor id, location, state)`, to resume after a restart.
pub async fn load_states(
    db: &DatabaseConnection,
) -> Result<Vec<(i64, String, MonitorState)>, StoreError> {
    states_where(db, None).await
}

/// [`load_states`] in the caller's transaction.
pub(crate) async fn load_states_in<C: sea_orm::ConnectionTrait>(
    txn: &C,
) -> Result<Vec<(i64, String, MonitorState)>, StoreError> {
    states_where(txn, None).await
}

/// The monitor states other locations (other instances, agents) wrote: the quorum reads them.
pub async fn load_states_elsewhere(
    db: &DatabaseConnection,
    location: &str,
) -> Result<Vec<(i64, String, MonitorState)>, StoreError> {
    states_where(db, Some(location)).await
}

/// The stored states of `monitor_ids` at `location` (in the caller's transaction, if any):
/// an instance taking monitors over from another continues their confirmation.
pub async fn load_states_of<C: sea_orm::ConnectionTrait>(
    txn: &C,
    monitor_ids: &[i64],
    location: &str,
) -> Result<Vec<(i64, String, MonitorState)>, StoreError> {
    let mut out = Vec::with_capacity(monitor_ids.len());
    // PostgreSQL takes at most 65,535 bound parameters: a location may have more monitors.
    for chunk in monitor_ids.chunks(10_000) {
        let rows = monitor_state::Entity::find()
            .filter(monitor_state::Column::LocationId.eq(location))
            .filter(monitor_state::Column::MonitorId.is_in(chunk.iter().copied()))
            .all(txn)
            .await?;
        for row in rows {
            out.push(state_of(row)?);
        }
    }
    Ok(out)
}

fn state_of(r: monitor_state::Model) -> Result<(i64, String, MonitorState), StoreError> {
    let outcome = |v: Option<String>, what: &str| -> Result<Option<CheckOutcome>, StoreError> {
        v.map(|s| {
            CheckOutcome::parse(&s)
                .ok_or_else(|| StoreError::Corrupt(format!("monitor state {what} is {s:?}")))
        })
        .transpose()
    };
    Ok((
        r.monitor_id,
        r.location_id,
        MonitorState {
            confirmed: outcome(r.confirmed, "confirmed")?,
            since: r.since,
            candidate: outcome(r.candidate, "candidate")?,
            streak: u32::try_from(r.streak).unwrap_or(0),
            last: outcome(r.last_outcome, "last outcome")?,
            last_at: r.last_at,
            last_reason: r.last_reason,
        },
    ))
}

async fn states_where<C: sea_orm::ConnectionTrait>(
    db: &C,
    not_location: Option<&str>,
) -> Result<Vec<(i64, String, MonitorState)>, StoreError> {
    let outcome = |v: Option<String>, what: &str| -> Result<Option<CheckOutcome>, StoreError> {
        v.map(|s| {
            CheckOutcome::parse(&s)
                .ok_or_else(|| StoreError::Corrupt(format!("monitor state {what} is {s:?}")))
        })
        .transpose()
    };
    let mut query = monitor_state::Entity::find();
    if let Some(l) = not_location {
        query = query.filter(monitor_state::Column::LocationId.ne(l));
    }
    query
        .all(db)
        .await?
        .into_iter()
        .map(|r| {
            Ok((
                r.monitor_id,
                r.location_id,
                MonitorState {
                    confirmed: outcome(r.confirmed, "confirmed")?,
                    since: r.since,
                    candidate: outcome(r.candidate, "candidate")?,
                    streak: u32::try_from(r.streak).unwrap_or(0),
                    last: outcome(r.last_outcome, "last outcome")?,
                    last_at: r.last_at,
                    last_reason: r.last_reason,
                },
            ))
        })
        .collect()
}

/// One rollup row, as the uptime bars read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rollup {
    pub location_id: String,
    pub bucket_start: DateTime<Utc>,
    pub up_ms: i64,
    pub degraded_ms: i64,
    pub down_ms: i64,
    pub no_data_ms: i64,
    pub checks: i32,
    pub latency_p50_ms: Option<i32>,
    pub latency_p95_ms: Option<i32>,
    pub latency_max_ms: Option<i32>,
}

/// A monitor's rollups of `period` with buckets in `[from, to)`, oldest first.
pub async fn rollups(
    db: &DatabaseConnection,
    monitor_id: i64,
    period: Period,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Rollup>, StoreError> {
    Ok(rollup::Entity::find()
        .filter(rollup::Column::MonitorId.eq(monitor_id))
        .filter(rollup::Column::Period.eq(period.as_str()))
        .filter(rollup::Column::BucketStart.gte(from))
        .filter(rollup::Column::BucketStart.lt(to))
        .order_by_asc(rollup::Column::BucketStart)
        .order_by_asc(rollup::Column::LocationId)
        .all(db)
        .await?
        .into_iter()
        .map(|r| Rollup {
            location_id: r.location_id,
            bucket_start: r.bucket_start,
            up_ms: r.up_ms,
            degraded_ms: r.degraded_ms,
            down_ms: r.down_ms,
            no_data_ms: r.no_data_ms,
            checks: r.checks,
            latency_p50_ms: r.latency_p50_ms,
            latency_p95_ms: r.latency_p95_ms,
            latency_max_ms: r.latency_max_ms,
        })
        .collect())
}

/// What a retention pass deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub raw: u64,
    pub rollups: u64,
}

/// Deletes raw results older than `raw_days` and rollups older than 400 days, as of `now`.
#[tracing::instrument(skip(db))]
pub async fn prune(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    raw_days: u32,
) -> Result<Pruned, StoreError> {
    let raw = check_result::Entity::delete_many()
        .filter(check_result::Column::CheckedAt.lt(now - TimeDelta::days(i64::from(raw_days))))
        .exec(db)
        .await?
        .rows_affected;
    let rollups = rollup::Entity::delete_many()
        .filter(rollup::Column::BucketStart.lt(now - TimeDelta::days(ROLLUP_RETENTION_DAYS)))
        .exec(db)
        .await?
        .rows_affected;
    Ok(Pruned { raw, rollups })
}

/// Monitor status events of one monitor, oldest first.
pub async fn monitor_events(
    db: &DatabaseConnection,
    monitor_id: i64,
) -> Result<Vec<status_event::Model>, StoreError> {
    Ok(status_event::Entity::find()
        .filter(status_event::Column::SubjectKind.eq("monitor"))
        .filter(status_event::Column::SubjectId.eq(monitor_id.to_string()))
        .order_by_asc(status_event::Column::At)
        .order_by_asc(status_event::Column::Id)
        .all(db)
        .await?)
}
