//! Probing divided between the instances of one location (several `vigie serve` on one
//! PostgreSQL database): each monitor is probed by one instance, not by all of them.
//!
//! Every (location, monitor) has a row in `probe_leases` naming the instance that probes it
//! and until when. Each instance also holds a membership lease in `cluster_leases`
//! (`probe-member/<location>/<instance>`), so the live instances of a location can be
//! counted. At each [`round`] an instance renews its membership and its rows, learns its fair
//! share (the monitors divided by the live instances, rounded up), and takes free or expired
//! rows up to that share with `SELECT … FOR UPDATE SKIP LOCKED`: instances taking at the
//! same moment never wait for each other and never take the same row. An instance holding
//! more than its share (another one joined) stops probing the excess and gives it up
//! ([`release`]); one that dies stops renewing, its rows expire and the survivors take them.
//!
//! The instances' clocks are compared, as for `store::cluster`: keep them in time (NTP).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, LockBehavior, LockType, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use crate::entity::{cluster_lease, probe_lease};
use crate::StoreError;

/// Prefix of the membership leases in `cluster_leases`.
const MEMBER_PREFIX: &str = "probe-member/";

/// How long a dead instance's membership row is kept before it is deleted (it stopped
/// counting when it expired; this only keeps the table small).
const FORGET_MEMBERS_AFTER: chrono::TimeDelta = chrono::TimeDelta::hours(1);

fn member_name(location: &str, holder: &str) -> String {
    format!("{MEMBER_PREFIX}{location}/{holder}")
}

fn until(now: DateTime<Utc>, ttl: Duration) -> DateTime<Utc> {
    now + chrono::TimeDelta::from_std(ttl).unwrap_or(chrono::TimeDelta::MAX)
}

/// Adds a free row for each of `monitor_ids` at `location` that has none yet.
pub async fn ensure(
    db: &DatabaseConnection,
    location: &str,
    monitor_ids: &[i64],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for chunk in monitor_ids.chunks(500) {
        let rows = chunk.iter().map(|id| probe_lease::ActiveModel {
            location_id: Set(location.to_owned()),
            monitor_id: Set(*id),
            holder: Set(None),
            expires_at: Set(now),
        });
        probe_lease::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([
                    probe_lease::Column::LocationId,
                    probe_lease::Column::MonitorId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// What a round decided for one instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Share {
    /// The monitors this instance holds now, ascending: it probes exactly these.
    pub held: Vec<i64>,
    /// Its fair share: when `held` is longer, the excess should be given up ([`release`]).
    pub fair: usize,
    /// Live instances of the location, this one included.
    pub members: usize,
}

/// One round for instance `holder` at `location`, among `monitor_ids` (the location's
/// monitors): renews its membership and the rows it holds until `now + ttl`, then takes free
/// or expired rows up to its fair share.
pub async fn round(
    db: &DatabaseConnection,
    location: &str,
    holder: &str,
    monitor_ids: &[i64],
    ttl: Duration,
    now: DateTime<Utc>,
) -> Result<Share, StoreError> {
    crate::cluster::try_lease(db, &member_name(location, holder), holder, ttl, now).await?;
    let prefix = format!("{MEMBER_PREFIX}{location}/");
    let members = cluster_lease::Entity::find()
        .filter(cluster_lease::Column::Name.starts_with(prefix.as_str()))
        .filter(cluster_lease::Column::ExpiresAt.gte(now))
        .count(db)
        .await?;
    let members = usize::try_from(members).unwrap_or(usize::MAX).max(1);
    cluster_lease::Entity::delete_many()
        .filter(cluster_lease::Column::Name.starts_with(prefix.as_str()))
        .filter(cluster_lease::Column::ExpiresAt.lt(now - FORGET_MEMBERS_AFTER))
        .exec(db)
        .await?;
    let fair = monitor_ids.len().div_ceil(members);
    let expires = until(now, ttl);

    // Looked up once per renewed row: a set, not a scan of the list (100,000 monitors).
    let known: std::collections::HashSet<i64> = monitor_ids.iter().copied().collect();
    let txn = db.begin().await?;
    // Renewed whether or not they had expired, unless another instance took them meanwhile
    // (then the holder differs and the row is not touched).
    let mut held: Vec<i64> = probe_lease::Entity::update_many()
        .col_expr(probe_lease::Column::ExpiresAt, Expr::value(expires))
        .filter(probe_lease::Column::LocationId.eq(location))
        .filter(probe_lease::Column::Holder.eq(holder))
        .exec_with_returning(&txn)
        .await?
        .into_iter()
        .map(|r| r.monitor_id)
        .filter(|id| known.contains(id))
        .collect();
    if held.len() < fair {
        let want = u64::try_from(fair - held.len()).unwrap_or(u64::MAX);
        let mut free = probe_lease::Entity::find()
            .select_only()
            .column(probe_lease::Column::MonitorId)
            .filter(probe_lease::Column::LocationId.eq(location))
            .filter(probe_lease::Column::MonitorId.is_in(monitor_ids.iter().copied()))
            .filter(
                Condition::any()
                    .add(probe_lease::Column::Holder.is_null())
                    .add(probe_lease::Column::ExpiresAt.lt(now)),
            )
            .order_by_asc(probe_lease::Column::MonitorId)
            .limit(want);
        if db.get_database_backend() == DbBackend::Postgres {
            // Rows another instance is taking right now are skipped, not waited for.
            free = free.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let free: Vec<i64> = free.into_tuple().all(&txn).await?;
        if !free.is_empty() {
            probe_lease::Entity::update_many()
                .col_expr(probe_lease::Column::Holder, Expr::value(holder))
                .col_expr(probe_lease::Column::ExpiresAt, Expr::value(expires))
                .filter(probe_lease::Column::LocationId.eq(location))
                .filter(probe_lease::Column::MonitorId.is_in(free.iter().copied()))
                .exec(&txn)
                .await?;
            held.extend(free);
        }
    }
    txn.commit().await?;
    held.sort_unstable();
    Ok(Share {
        held,
        fair,
        members,
    })
}

/// Gives up `monitor_ids` at `location` if `holder` holds them: another instance takes them
/// at its next round. Call it once they are no longer probed here.
pub async fn release(
    db: &DatabaseConnection,
    location: &str,
    holder: &str,
    monitor_ids: &[i64],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if monitor_ids.is_empty() {
        return Ok(());
    }
    probe_lease::Entity::update_many()
        .col_expr(probe_lease::Column::Holder, Expr::value(None::<String>))
        .col_expr(probe_lease::Column::ExpiresAt, Expr::value(now))
        .filter(probe_lease::Column::LocationId.eq(location))
        .filter(probe_lease::Column::Holder.eq(holder))
        .filter(probe_lease::Column::MonitorId.is_in(monitor_ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// Leaves the location (a clean stop): every row `holder` holds is given up and its
/// membership ends, so the others take its monitors at their next round.
pub async fn leave(
    db: &DatabaseConnection,
    location: &str,
    holder: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    probe_lease::Entity::update_many()
        .col_expr(probe_lease::Column::Holder, Expr::value(None::<String>))
        .col_expr(probe_lease::Column::ExpiresAt, Expr::value(now))
        .filter(probe_lease::Column::LocationId.eq(location))
        .filter(probe_lease::Column::Holder.eq(holder))
        .exec(db)
        .await?;
    crate::cluster::release_lease(db, &member_name(location, holder), holder).await
}

/// Every row of `location`: monitor id, holder, expiry (for tests and diagnostics).
pub async fn holders<C: ConnectionTrait>(
    db: &C,
    location: &str,
) -> Result<Vec<(i64, Option<String>, DateTime<Utc>)>, StoreError> {
    Ok(probe_lease::Entity::find()
        .filter(probe_lease::Column::LocationId.eq(location))
        .order_by_asc(probe_lease::Column::MonitorId)
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.monitor_id, r.holder, r.expires_at))
        .collect())
}

/// Whether instances of one location may share this database, so probing is divided:
/// PostgreSQL. SQLite serves one instance, which probes every monitor itself.
pub fn divided(db: &DatabaseConnection) -> bool {
    db.get_database_backend() == DbBackend::Postgres
}
