//! Late results: what a location saw while central could not hear it (a remote agent cut off
//! from central sends its buffered results once it is reachable again).
//!
//! Central decides current status from fresh results only, so results older than two
//! intervals never move a service now. But the outage they show happened, and the history
//! must say so at its true times. [`history`] replays the confirmed changes the late results
//! made at their location, in time order, through the same quorum and topology rollup as the
//! live engine, and returns the status changes of services and hosts with the times of the
//! results that made them: the history the page would have recorded had it heard them live.
//!
//! The engine that decides current statuses from fresh results may record the state the
//! replay ends in once more, at the time it decides it: the same state twice in a row, never
//! the outage twice.
//!
//! Only the late location's monitors move during the replay; every other (monitor, location)
//! keeps the state stored now, counted when it is fresh at the replayed moment (what central
//! knows of the other locations at that time is their current state, nothing better).

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::config::{Catalog, Slug};
use crate::quorum::{self, LocationReport, Verdict};
use crate::status::{CheckOutcome, ComponentStatus};
use crate::topology::{
    self, Inputs, MaintenanceWindow, MonitorKey, MonitorStatus, StatusChange, Topology,
};
use crate::uptime;

/// A monitor's stored state at one location, as the quorum reads it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LocationState {
    /// The newest result's time.
    pub last_at: Option<DateTime<Utc>>,
    /// The confirmed outcome.
    pub confirmed: Option<CheckOutcome>,
    /// The reason kept for the cause text.
    pub reason: Option<String>,
}

/// A confirmed change made at the late location by a result of a late batch (the late results
/// and, after them, the fresh ones of the same batch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LateChange {
    pub monitor: MonitorKey,
    pub from: Option<CheckOutcome>,
    pub to: CheckOutcome,
    /// The reason of the result that made it (for the cause text).
    pub reason: Option<String>,
    /// The result's own time.
    pub at: DateTime<Utc>,
}

/// What the replay reads besides the late changes.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    pub catalog: &'a Catalog,
    /// The location the late results come from.
    pub location: &'a str,
    /// Every stored (monitor, location) state, the late location's included.
    pub states: &'a HashMap<(MonitorKey, String), LocationState>,
    /// Maintenance windows that overlap the replayed time.
    pub maintenance: &'a [MaintenanceWindow],
    /// The statuses open incidents state.
    pub overrides: &'a HashMap<Slug, ComponentStatus>,
}

/// The status changes of services and hosts the late `changes` make, each at the time of the
/// result that made it, in time order. Empty when the late results change nothing a reader
/// sees (a monitor outvoted by other locations, a service in maintenance).
pub fn history(ctx: Context<'_>, changes: &[LateChange]) -> Vec<StatusChange> {
    let mut changes: Vec<&LateChange> = changes.iter().collect();
    changes.sort_by_key(|c| c.at);
    let Some(first) = changes.first() else {
        return Vec::new();
    };
    let mut prev = rollup_at(ctx, &changes, first.at, false);
    let mut out = Vec::new();
    let mut i = 0;
    while i < changes.len() {
        let at = changes[i].at;
        // Changes made by results of the same instant are one step.
        while i < changes.len() && changes[i].at == at {
            i += 1;
        }
        let now = rollup_at(ctx, &changes, at, true);
        out.extend(topology::changes(&prev, &now, at));
        prev = now;
    }
    out
}

/// The topology at `at`, the late location's monitors taking the outcome their late changes
/// give them at that instant (`inclusive`: the changes made at `at` count).
fn rollup_at(
    ctx: Context<'_>,
    changes: &[&LateChange],
    at: DateTime<Utc>,
    inclusive: bool,
) -> Topology {
    // Per monitor: its outcome and reason at `at`, from the late changes.
    let mut late: HashMap<&MonitorKey, (Option<CheckOutcome>, Option<&str>)> = HashMap::new();
    for c in changes {
        let happened = if inclusive { c.at <= at } else { c.at < at };
        if happened {
            late.insert(&c.monitor, (Some(c.to), c.reason.as_deref()));
        } else {
            // Before its first change, the monitor was in the state that change left.
            late.entry(&c.monitor).or_insert((c.from, None));
        }
    }
    let mut monitors = HashMap::new();
    for (key, m) in topology::monitors(ctx.catalog) {
        let mut reasons: Vec<(CheckOutcome, Option<&str>)> = Vec::new();
        let reports: Vec<LocationReport> = m
            .locations
            .iter()
            .map(|loc| {
                let (outcome, reason) = match late.get(&key) {
                    Some(&(outcome, reason)) if loc.as_str() == ctx.location => (outcome, reason),
                    _ => {
                        let s = ctx.states.get(&(key.clone(), loc.as_str().to_owned()));
                        let fresh = s.and_then(|s| {
                            s.last_at
                                .filter(|last| uptime::is_fresh(*last, m.interval, at))
                                .and(s.confirmed)
                        });
                        (fresh, s.and_then(|s| s.reason.as_deref()))
                    }
                };
                if let Some(o) = outcome {
                    reasons.push((o, reason));
                }
                LocationReport {
                    location: loc.clone(),
                    outcome,
                }
            })
            .collect();
        if let Verdict::Known { outcome, .. } = quorum::decide(&reports) {
            // The reason of a location that agrees with the verdict, as the live engine does.
            let reason = reasons
                .iter()
                .find(|(o, _)| *o == outcome)
                .and_then(|(_, r)| r.map(str::to_owned));
            monitors.insert(key, MonitorStatus { outcome, reason });
        }
    }
    let inputs = Inputs {
        monitors,
        maintenance: ctx.maintenance.to_vec(),
        overrides: ctx.overrides.clone(),
    };
    topology::rollup(ctx.catalog, &inputs, at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;
    use crate::status::ServiceState;
    use crate::topology::Owner;
    use chrono::TimeZone;

    const CATALOG: &str = r#"
[site]
title = "T"
[probe]
location = "paris"
[[locations]]
id = "paris"
name = "Paris"
[[locations]]
id = "amsterdam"
name = "Amsterdam"
[[locations]]
id = "london"
name = "London"
[[groups]]
id = "g"
name = "G"
[[services]]
id = "web"
name = "Web"
group = "g"
[[services.monitors]]
id = "home"
kind = "http"
target = "http://127.0.0.1:9/"
interval = "60s"
locations = ["amsterdam"]
[[services]]
id = "api"
name = "API"
group = "g"
[[services.monitors]]
id = "ping"
kind = "http"
target = "http://127.0.0.1:9/"
interval = "60s"
locations = ["amsterdam", "london", "paris"]
"#;

    fn at(min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 10, min, 0)
            .single()
            .expect("time")
    }

    fn key(text: &str) -> MonitorKey {
        MonitorKey::parse(text).expect("key")
    }

    fn up_at(min: u32) -> LocationState {
        LocationState {
            last_at: Some(at(min)),
            confirmed: Some(CheckOutcome::Up),
            reason: None,
        }
    }

    fn change(monitor: &str, from: CheckOutcome, to: CheckOutcome, min: u32) -> LateChange {
        LateChange {
            monitor: key(monitor),
            from: Some(from),
            to,
            reason: (to != CheckOutcome::Up).then(|| "HTTP 503".to_owned()),
            at: at(min),
        }
    }

    fn replay(
        states: &HashMap<(MonitorKey, String), LocationState>,
        changes: &[LateChange],
    ) -> Vec<StatusChange> {
        let catalog = parse("t.toml", CATALOG).expect("catalog");
        history(
            Context {
                catalog: &catalog,
                location: "amsterdam",
                states,
                maintenance: &[],
                overrides: &HashMap::new(),
            },
            changes,
        )
    }

    fn web() -> Owner {
        Owner::Service(Slug::parse("web").expect("slug"))
    }

    #[test]
    fn an_outage_seen_only_late_is_history_at_the_results_times() {
        let mut states = HashMap::new();
        states.insert((key("service/web/home"), "amsterdam".into()), up_at(30));
        let out = replay(
            &states,
            &[
                change("service/web/home", CheckOutcome::Up, CheckOutcome::Down, 10),
                change("service/web/home", CheckOutcome::Down, CheckOutcome::Up, 13),
            ],
        );
        let seen: Vec<(ServiceState, DateTime<Utc>)> = out
            .iter()
            .filter(|c| c.subject == web())
            .map(|c| (c.to, c.at))
            .collect();
        assert_eq!(
            seen,
            vec![
                (ServiceState::Known(ComponentStatus::MajorOutage), at(10)),
                (ServiceState::Known(ComponentStatus::Operational), at(13)),
            ]
        );
        let down = out.iter().find(|c| c.subject == web()).expect("down");
        assert_eq!(
            down.from,
            Some(ServiceState::Known(ComponentStatus::Operational))
        );
        assert!(down.cause.is_some(), "the cause is kept: {down:?}");
    }

    #[test]
    fn a_late_location_outvoted_by_fresh_ones_changes_nothing() {
        let mut states = HashMap::new();
        states.insert((key("service/api/ping"), "london".into()), up_at(12));
        states.insert((key("service/api/ping"), "paris".into()), up_at(12));
        let out = replay(
            &states,
            &[
                change("service/api/ping", CheckOutcome::Up, CheckOutcome::Down, 10),
                change("service/api/ping", CheckOutcome::Down, CheckOutcome::Up, 13),
            ],
        );
        assert_eq!(out, Vec::new());
    }

    #[test]
    fn other_locations_count_only_when_fresh_at_the_replayed_time() {
        // London's and Paris' newest results are an hour older than the late ones: at 10:10
        // Amsterdam alone votes, and its outage is the service's.
        let mut states = HashMap::new();
        let old = LocationState {
            last_at: Some(at(10) - chrono::TimeDelta::hours(1)),
            confirmed: Some(CheckOutcome::Up),
            reason: None,
        };
        states.insert((key("service/api/ping"), "london".into()), old.clone());
        states.insert((key("service/api/ping"), "paris".into()), old);
        let out = replay(
            &states,
            &[change(
                "service/api/ping",
                CheckOutcome::Up,
                CheckOutcome::Down,
                10,
            )],
        );
        let api = Owner::Service(Slug::parse("api").expect("slug"));
        assert_eq!(
            out.iter()
                .filter(|c| c.subject == api)
                .map(|c| c.to)
                .collect::<Vec<_>>(),
            vec![ServiceState::Known(ComponentStatus::MajorOutage)]
        );
    }

    #[test]
    fn no_late_change_is_no_history() {
        assert_eq!(replay(&HashMap::new(), &[]), Vec::new());
    }
}
