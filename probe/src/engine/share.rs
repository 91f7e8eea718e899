//! Probing divided between the instances of one location (several `vigie serve` on one
//! PostgreSQL database): this instance probes only the monitors whose lease it holds
//! (`store::probe_leases`), and a keeper task renews, takes and gives up leases as instances
//! join and die, starting and stopping the monitors' checks to match.
//!
//! Timing: a lease lasts a third of the location's shortest monitor interval (between
//! 250 ms and 20 s) and is renewed four times per lease. When an instance dies, its leases
//! expire at most one lease after its last renewal; a survivor takes them at its next round
//! and checks the overdue monitors within a quarter of their interval. A monitor last
//! checked just before the death is checked again within
//! `interval + lease + lease/4 + interval/4` (1.67 intervals), never more than two.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;

use crate::checks::{Checks, Job};

/// The shortest and longest lease.
const MIN_LEASE: Duration = Duration::from_millis(250);
const MAX_LEASE: Duration = Duration::from_secs(20);

/// How long a lease lasts for monitors whose shortest interval is `shortest`.
pub(super) fn lease_for(shortest: Duration) -> Duration {
    (shortest / 3).clamp(MIN_LEASE, MAX_LEASE)
}

/// The keeper of this instance's share of a location's monitors.
pub(super) struct Keeper {
    pub(super) db: store::Db,
    pub(super) location: String,
    pub(super) instance: String,
    /// Every monitor of the location, by database id (their states are read again when
    /// taken over).
    pub(super) jobs: HashMap<i64, Job>,
    pub(super) ids: Vec<i64>,
    pub(super) lease: Duration,
    /// The checks this instance runs; `None` once the engine stopped.
    pub(super) checks: Arc<Mutex<Option<Checks>>>,
    /// The monitors being probed here.
    pub(super) held: BTreeSet<i64>,
    /// What the last round found held in the store, minus what was given up since; `None`
    /// when unknown (first round, or a round failed midway), so the next round reads it.
    pub(super) stored: Option<Vec<i64>>,
    /// Whether this instance holds every monitor of the location (the collector then needs
    /// no other instance's states of this location).
    pub(super) whole: Arc<AtomicBool>,
}

impl Keeper {
    /// The first round, before any check starts: the monitors to probe at once.
    pub(super) async fn first(&mut self) -> Result<Vec<Job>, store::StoreError> {
        let now = Utc::now();
        store::probe_leases::ensure(&self.db, &self.location, &self.ids, now).await?;
        let share = store::probe_leases::round(
            &self.db,
            &self.location,
            &self.instance,
            &self.ids,
            self.lease,
            now,
            None,
        )
        .await?;
        self.held = share.held.iter().copied().collect();
        self.stored = Some(share.held.clone());
        self.whole
            .store(self.held.len() == self.ids.len(), Ordering::Relaxed);
        tracing::info!(
            instance = %self.instance,
            location = %self.location,
            monitors = self.held.len(),
            of = self.ids.len(),
            instances = share.members,
            "probing this instance's share of the location"
        );
        self.jobs_for(&share.held).await
    }

    /// Jobs for `ids`, with the states stored for them at this location.
    async fn jobs_for(&self, ids: &[i64]) -> Result<Vec<Job>, store::StoreError> {
        let states: HashMap<i64, _> = store::history::load_states_of(&self.db, ids, &self.location)
            .await?
            .into_iter()
            .map(|(id, _, s)| (id, s))
            .collect();
        Ok(ids
            .iter()
            .filter_map(|id| {
                let mut job = self.jobs.get(id)?.clone();
                if let Some(s) = states.get(id) {
                    job.state = s.clone();
                }
                Some(job)
            })
            .collect())
    }

    /// Rounds forever, four per lease.
    pub(super) async fn run(mut self) {
        let mut tick = tokio::time::interval(self.lease / 4);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            if let Err(e) = self.round().await {
                // The checks running go on: while the database cannot be reached nobody else
                // can take them, and probing must not stop (results are buffered).
                tracing::warn!(error = %e, "cannot renew this instance's probe leases");
            }
        }
    }

    fn with_checks(&self, f: impl FnOnce(&Checks)) {
        let guard = self.checks.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(checks) = guard.as_ref() {
            f(checks);
        }
    }

    async fn round(&mut self) -> Result<(), store::StoreError> {
        // Unknown until this round completes: an error midway leaves it to be read again.
        let previous = self.stored.take();
        let share = store::probe_leases::round(
            &self.db,
            &self.location,
            &self.instance,
            &self.ids,
            self.lease,
            Utc::now(),
            previous.as_deref(),
        )
        .await?;
        let mut now_held: BTreeSet<i64> = share.held.iter().copied().collect();
        // More than the fair share (an instance joined): the highest ids go, stopped here
        // before they are given up, so two instances never probe one monitor at once.
        let excess: Vec<i64> = now_held
            .iter()
            .rev()
            .take(now_held.len().saturating_sub(share.fair))
            .copied()
            .collect();
        for id in &excess {
            now_held.remove(id);
        }
        let lost: Vec<i64> = self.held.difference(&now_held).copied().collect();
        let gained: Vec<i64> = now_held.difference(&self.held).copied().collect();
        if !lost.is_empty() {
            self.with_checks(|checks| {
                for id in &lost {
                    if let Some(job) = self.jobs.get(id) {
                        checks.remove(&job.key);
                    }
                }
            });
            for id in &lost {
                self.held.remove(id);
            }
        }
        if !excess.is_empty() {
            store::probe_leases::release(
                &self.db,
                &self.location,
                &self.instance,
                &excess,
                Utc::now(),
            )
            .await?;
        }
        // Held in the store once the excess is given up.
        let stored: Vec<i64> = now_held.iter().copied().collect();
        if !gained.is_empty() {
            let jobs = self.jobs_for(&gained).await?;
            self.with_checks(|checks| {
                for job in jobs {
                    checks.add(job);
                }
            });
            self.held.extend(gained.iter().copied());
        }
        self.stored = Some(stored);
        self.whole
            .store(self.held.len() == self.ids.len(), Ordering::Relaxed);
        if !lost.is_empty() || !gained.is_empty() {
            tracing::info!(
                instance = %self.instance,
                location = %self.location,
                gained = gained.len(),
                given_up = lost.len(),
                monitors = self.held.len(),
                instances = share.members,
                "probe share changed"
            );
        }
        Ok(())
    }
}
