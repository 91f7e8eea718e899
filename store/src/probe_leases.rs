//! Probing divided between the instances of one location (several `vigie serve` on one
//! PostgreSQL database): each monitor is probed by one instance, not by all of them.
//!
//! Every (location, monitor) has a row in `probe_leases` naming the instance that probes it.
//! Each instance holds a membership lease in `cluster_leases`
//! (`probe-member/<location>/<instance>`), so the live instances of a location can be
//! counted, and a row stays its holder's while that membership lives (or while the row's own
//! `expires_at`, set when it was taken, is ahead): at each [`round`] an instance renews its
//! membership only, one row, not one row per monitor (with 100,000 monitors, renewing every
//! row was an UPDATE of 100,000 rows every 2.5 s). It learns its fair share (the monitors
//! divided by the live instances, rounded up), and takes free rows, or rows whose holder's
//! membership and own expiry both passed, up to that share with `SELECT … FOR UPDATE SKIP
//! LOCKED`: instances taking at the same moment never wait for each other and never take
//! the same row. An instance holding more than its share (another one joined) stops probing
//! the excess and gives it up ([`release`]); one that dies stops renewing its membership, it
//! expires and the survivors take its rows.
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

/// Monitor ids per statement: PostgreSQL takes at most 65,535 bound parameters, and a
/// location may have 100,000 monitors.
const IDS_PER_STATEMENT: usize = 10_000;

/// One round for instance `holder` at `location`, among `monitor_ids` (the location's
/// monitors): renews its membership until `now + ttl`, then takes free or abandoned rows up
/// to its fair share.
///
/// `previous` is what the previous round returned as held (minus what was [`release`]d
/// since): when the membership had not lapsed before this renewal, nobody could take those
/// rows, so they are not read again. `None` (the first round, or after an error) reads them.
pub async fn round(
    db: &DatabaseConnection,
    location: &str,
    holder: &str,
    monitor_ids: &[i64],
    ttl: Duration,
    now: DateTime<Utc>,
    previous: Option<&[i64]>,
) -> Result<Share, StoreError> {
    let name = member_name(location, holder);
    let lived_until = crate::cluster::lease_holder(db, &name)
        .await?
        .filter(|(h, _)| h == holder)
        .map(|(_, until)| until);
    crate::cluster::try_lease(db, &name, holder, ttl, now).await?;
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

    // Looked up once per held row: a set, not a scan of the list (100,000 monitors).
    let known: std::collections::HashSet<i64> = monitor_ids.iter().copied().collect();
    let continuous = lived_until.is_some_and(|until| until >= now);
    let mut held: Vec<i64> = match previous {
        Some(previous) if continuous => previous
            .iter()
            .copied()
            .filter(|id| known.contains(id))
            .collect(),
        // The membership lapsed (or this is the first round): another instance may have
        // taken some rows meanwhile, so they are read.
        _ => probe_lease::Entity::find()
            .select_only()
            .column(probe_lease::Column::MonitorId)
            .filter(probe_lease::Column::LocationId.eq(location))
            .filter(probe_lease::Column::Holder.eq(holder))
            .into_tuple::<i64>()
            .all(db)
            .await?
            .into_iter()
            .filter(|id| known.contains(id))
            .collect(),
    };
    if held.len() < fair {
        let txn = db.begin().await?;
        // A row is free when nobody holds it, or when its own expiry and its holder's
        // membership have both passed (the holder died or lost the database).
        let abandoned = Expr::cust_with_values(
            r#"NOT EXISTS (SELECT 1 FROM "cluster_leases" WHERE "cluster_leases"."name" = $1 || "probe_leases"."holder" AND "cluster_leases"."expires_at" >= $2)"#,
            [
                sea_orm::Value::from(prefix.clone()),
                sea_orm::Value::from(now),
            ],
        );
        for chunk in monitor_ids.chunks(IDS_PER_STATEMENT) {
            if held.len() >= fair {
                break;
            }
            let want = u64::try_from(fair - held.len()).unwrap_or(u64::MAX);
            let mut free = probe_lease::Entity::find()
                .select_only()
                .column(probe_lease::Column::MonitorId)
                .filter(probe_lease::Column::LocationId.eq(location))
                .filter(probe_lease::Column::MonitorId.is_in(chunk.iter().copied()))
                .filter(
                    Condition::any()
                        .add(probe_lease::Column::Holder.is_null())
                        .add(
                            Condition::all()
                                .add(probe_lease::Column::ExpiresAt.lt(now))
                                .add(abandoned.clone()),
                        ),
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
    }
    held.sort_unstable();
    held.dedup();
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
    for chunk in monitor_ids.chunks(IDS_PER_STATEMENT) {
        probe_lease::Entity::update_many()
            .col_expr(probe_lease::Column::Holder, Expr::value(None::<String>))
            .col_expr(probe_lease::Column::ExpiresAt, Expr::value(now))
            .filter(probe_lease::Column::LocationId.eq(location))
            .filter(probe_lease::Column::Holder.eq(holder))
            .filter(probe_lease::Column::MonitorId.is_in(chunk.iter().copied()))
            .exec(db)
            .await?;
    }
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

/// Every row of `location`: monitor id, holder, and until when the holder keeps it (the
/// later of the row's own expiry and the holder's membership), for tests and diagnostics.
pub async fn holders<C: ConnectionTrait>(
    db: &C,
    location: &str,
) -> Result<Vec<(i64, Option<String>, DateTime<Utc>)>, StoreError> {
    let prefix = format!("{MEMBER_PREFIX}{location}/");
    let members: std::collections::HashMap<String, DateTime<Utc>> = cluster_lease::Entity::find()
        .filter(cluster_lease::Column::Name.starts_with(prefix.as_str()))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|m| {
            Some((
                m.name.strip_prefix(prefix.as_str())?.to_owned(),
                m.expires_at,
            ))
        })
        .collect();
    Ok(probe_lease::Entity::find()
        .filter(probe_lease::Column::LocationId.eq(location))
        .order_by_asc(probe_lease::Column::MonitorId)
        .all(db)
        .await?
        .into_iter()
        .map(|r| {
            let member = r.holder.as_ref().and_then(|h| members.get(h)).copied();
            let until = member.map_or(r.expires_at, |m| m.max(r.expires_at));
            (r.monitor_id, r.holder, until)
        })
        .collect())
}

/// Whether instances of one location may share this database, so probing is divided:
/// PostgreSQL. SQLite serves one instance, which probes every monitor itself.
pub fn divided(db: &DatabaseConnection) -> bool {
    db.get_database_backend() == DbBackend::Postgres
}
