//! Once-per-cluster work. Several `vigie serve` instances may share one PostgreSQL database;
//! the work that must happen once however many run (starting and completing maintenance
//! windows, proposing incident drafts, deleting raw results past retention and expired
//! sessions) runs on the one
//! instance holding the `clock` lease (`store::cluster::try_lease`).
//!
//! Every instance tries to take or renew the lease every half [`crate::admin::maintenance::CLOCK_EVERY`];
//! the lease lasts one whole interval. The holder renews it twice per lease, so one slow
//! round trip does not lose it; when the holder dies, the lease expires at most one interval
//! after its last renewal and another instance takes it at its next try: the work goes on
//! within one and a half intervals.

use std::sync::OnceLock;
use std::time::Duration;

use chrono::Utc;
use tokio::time::Instant;

/// The lease name of the cluster's clock.
pub const CLOCK_LEASE: &str = "clock";

/// How often raw results past retention are deleted.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// This process's name among the instances: host, process id and a random part (a restarted
/// process is a new instance). Logs and `cluster_leases.holder` show it.
pub fn instance_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "vigie".to_owned());
        format!("{host}:{}:{:08x}", std::process::id(), fastrand::u32(..))
    })
}

/// What the clock's holder does.
#[derive(Clone, Debug)]
pub struct Duties {
    /// A major outage this old gets an incident draft.
    pub draft_after: Duration,
    /// Raw results are kept this many days.
    pub raw_days: u32,
    /// The work interval; the lease lasts this long and is tried twice per interval.
    pub every: Duration,
}

/// Runs the cluster's clock forever on whichever instance holds its lease.
pub async fn run_clock(db: store::Db, duties: Duties) {
    let holder = instance_id();
    let mut tick = tokio::time::interval(duties.every / 2);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut held = false;
    let mut pruned: Option<Instant> = None;
    loop {
        tick.tick().await;
        match store::cluster::try_lease(&db, CLOCK_LEASE, holder, duties.every, Utc::now()).await {
            Ok(true) => {
                if !held {
                    tracing::info!(instance = holder, "this instance runs the cluster's clock");
                    held = true;
                }
                crate::admin::maintenance::advance(&db).await;
                crate::admin::drafts::propose(&db, duties.draft_after).await;
                if pruned.is_none_or(|at| at.elapsed() >= RETENTION_EVERY) {
                    pruned = Some(Instant::now());
                    match store::history::prune(&db, Utc::now(), duties.raw_days).await {
                        Ok(p) => {
                            tracing::debug!(raw = p.raw, rollups = p.rollups, "retention pass");
                        }
                        Err(e) => tracing::warn!(error = %e, "retention pass failed"),
                    }
                    // Expired sessions are refused already; this keeps the table from
                    // growing with every sign-in.
                    match store::sessions::purge_expired(&db, Utc::now()).await {
                        Ok(n) => tracing::debug!(sessions = n, "expired sessions purged"),
                        Err(e) => tracing::warn!(error = %e, "session purge failed"),
                    }
                }
            }
            Ok(false) => {
                if held {
                    tracing::info!(
                        instance = holder,
                        "another instance runs the cluster's clock"
                    );
                    held = false;
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot renew the cluster's clock lease"),
        }
    }
}
