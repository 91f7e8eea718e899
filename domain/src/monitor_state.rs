//! The confirmation state machine of one monitor at one location.
//!
//! A single failed probe is not an outage: a monitor changes state only after `confirm`
//! consecutive results agree on something worse than its current state, and comes back only
//! after `recover` consecutive results agree on something better. While results disagree with the confirmed state the monitor is "failing" and the
//! scheduler re-checks it sooner (`retry_interval`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::status::CheckOutcome;

/// The confirmed state of a monitor at one location, plus the streak that may change it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorState {
    /// The confirmed outcome; `None` until the first confirmation (no data yet).
    pub confirmed: Option<CheckOutcome>,
    /// Since when `confirmed` holds.
    pub since: Option<DateTime<Utc>>,
    /// The outcome of the current run of identical results.
    pub candidate: Option<CheckOutcome>,
    /// How many consecutive results equal `candidate`.
    pub streak: u32,
    /// The newest raw result and when it was taken.
    pub last: Option<CheckOutcome>,
    pub last_at: Option<DateTime<Utc>>,
    /// The reason of the newest non-`up` result, kept until the monitor is confirmed up again,
    /// for the cause text.
    pub last_reason: Option<String>,
}

/// A confirmed change of a monitor's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    pub from: Option<CheckOutcome>,
    pub to: CheckOutcome,
    pub at: DateTime<Utc>,
}

/// How many agreeing results a move needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thresholds {
    /// Results needed to move to a worse state (also the first non-`up` state).
    pub confirm: u32,
    /// Results needed to move to a better state.
    pub recover: u32,
}

/// Rank of an outcome, higher is worse.
fn rank(o: CheckOutcome) -> u8 {
    match o {
        CheckOutcome::Up => 0,
        CheckOutcome::Degraded => 1,
        CheckOutcome::Down => 2,
    }
}

impl MonitorState {
    /// Feeds one result taken at `at`; returns the transition it confirms, if any.
    pub fn observe(
        &mut self,
        outcome: CheckOutcome,
        reason: Option<String>,
        at: DateTime<Utc>,
        t: Thresholds,
    ) -> Option<Transition> {
        self.last = Some(outcome);
        self.last_at = Some(at);
        // A success while still confirmed down keeps the failure's reason: the cause readers
        // see does not flicker while recovery is being confirmed.
        if outcome != CheckOutcome::Up {
            self.last_reason = reason;
        }
        if self.candidate == Some(outcome) {
            self.streak = self.streak.saturating_add(1);
        } else {
            self.candidate = Some(outcome);
            self.streak = 1;
        }
        if self.confirmed == Some(outcome) {
            if outcome == CheckOutcome::Up {
                self.last_reason = None;
            }
            return None;
        }
        let needed = match self.confirmed {
            // A first `up` needs no confirmation: there is nothing to recover from.
            None if outcome == CheckOutcome::Up => 1,
            None => t.confirm,
            Some(cur) if rank(outcome) > rank(cur) => t.confirm,
            Some(_) => t.recover,
        }
        .max(1);
        if self.streak < needed {
            return None;
        }
        let from = self.confirmed.replace(outcome);
        if outcome == CheckOutcome::Up {
            self.last_reason = None;
        }
        self.since = Some(at);
        Some(Transition {
            from,
            to: outcome,
            at,
        })
    }

    /// True while the newest result disagrees with an `up` confirmed state, or the monitor is
    /// not up: the scheduler then uses the shorter retry interval.
    pub fn is_failing(&self) -> bool {
        matches!(self.last, Some(o) if o != CheckOutcome::Up)
            || matches!(self.confirmed, Some(o) if o != CheckOutcome::Up)
    }

    /// The delay before the next check: `retry` while failing, `interval` otherwise.
    pub fn next_delay(&self, interval: Duration, retry: Duration) -> Duration {
        if self.is_failing() {
            retry.min(interval)
        } else {
            interval
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use CheckOutcome::{Degraded, Down, Up};

    const T: Thresholds = Thresholds {
        confirm: 2,
        recover: 3,
    };

    fn at(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + s, 0)
            .single()
            .expect("time")
    }

    fn feed(state: &mut MonitorState, outcomes: &[CheckOutcome]) -> Vec<Transition> {
        let mut out = Vec::new();
        for (i, o) in outcomes.iter().enumerate() {
            let i = i64::try_from(i).expect("small");
            if let Some(t) = state.observe(*o, Some("boom".into()), at(i), T) {
                out.push(t);
            }
        }
        out
    }

    #[test]
    fn first_up_result_is_confirmed_at_once() {
        let mut s = MonitorState::default();
        let t = feed(&mut s, &[Up]);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].from, None);
        assert_eq!(s.confirmed, Some(Up));
    }

    #[test]
    fn first_down_result_needs_confirmation() {
        let mut s = MonitorState::default();
        assert!(feed(&mut s, &[Down]).is_empty());
        assert_eq!(s.confirmed, None);
        let t = s.observe(Down, None, at(10), T).expect("confirmed");
        assert_eq!(t.to, Down);
        assert_eq!(s.since, Some(at(10)));
    }

    #[test]
    fn a_single_failure_does_not_change_an_up_monitor() {
        let mut s = MonitorState::default();
        let t = feed(&mut s, &[Up, Down, Up, Down, Up]);
        assert_eq!(t.len(), 1, "only the initial up: {t:?}");
        assert_eq!(s.confirmed, Some(Up));
    }

    #[test]
    fn confirm_consecutive_failures_take_it_down() {
        let mut s = MonitorState::default();
        let t = feed(&mut s, &[Up, Down, Down]);
        assert_eq!(t.last().map(|t| (t.from, t.to)), Some((Some(Up), Down)));
        assert_eq!(s.since, Some(at(2)));
    }

    #[test]
    fn recovery_needs_recover_consecutive_successes() {
        let mut s = MonitorState::default();
        feed(&mut s, &[Up, Down, Down]);
        assert!(s.observe(Up, None, at(10), T).is_none());
        assert!(s.observe(Up, None, at(11), T).is_none());
        assert!(s.observe(Down, None, at(12), T).is_none());
        assert!(s.observe(Up, None, at(13), T).is_none());
        assert!(s.observe(Up, None, at(14), T).is_none());
        let t = s.observe(Up, None, at(15), T).expect("recovered");
        assert_eq!((t.from, t.to), (Some(Down), Up));
    }

    #[test]
    fn degraded_is_confirmed_like_down_and_down_to_degraded_is_a_recovery() {
        let mut s = MonitorState::default();
        feed(&mut s, &[Up, Degraded, Degraded]);
        assert_eq!(s.confirmed, Some(Degraded));
        s.observe(Down, None, at(10), T);
        let t = s.observe(Down, None, at(11), T).expect("down");
        assert_eq!(t.from, Some(Degraded));
        s.observe(Degraded, None, at(12), T);
        s.observe(Degraded, None, at(13), T);
        assert_eq!(s.confirmed, Some(Down), "recovery needs 3");
        s.observe(Degraded, None, at(14), T);
        assert_eq!(s.confirmed, Some(Degraded));
    }

    #[test]
    fn confirm_of_one_reacts_to_the_first_failure() {
        let mut s = MonitorState::default();
        let one = Thresholds {
            confirm: 1,
            recover: 1,
        };
        s.observe(Up, None, at(0), one);
        assert!(s.observe(Down, None, at(1), one).is_some());
        assert!(s.observe(Up, None, at(2), one).is_some());
    }

    #[test]
    fn zero_thresholds_behave_as_one() {
        let mut s = MonitorState::default();
        let zero = Thresholds {
            confirm: 0,
            recover: 0,
        };
        assert!(s.observe(Down, None, at(0), zero).is_some());
    }

    #[test]
    fn failing_monitor_is_rechecked_at_the_retry_interval() {
        let interval = Duration::from_secs(60);
        let retry = Duration::from_secs(20);
        let mut s = MonitorState::default();
        assert_eq!(s.next_delay(interval, retry), interval);
        s.observe(Up, None, at(0), T);
        assert_eq!(s.next_delay(interval, retry), interval);
        s.observe(Down, Some("timeout".into()), at(1), T);
        assert!(s.is_failing());
        assert_eq!(s.next_delay(interval, retry), retry);
        assert_eq!(s.last_reason.as_deref(), Some("timeout"));
        s.observe(Up, None, at(2), T);
        assert_eq!(s.last_reason, None);
        assert_eq!(s.next_delay(interval, retry), interval);
    }

    #[test]
    fn the_failure_reason_stays_while_recovery_is_being_confirmed() {
        let mut s = MonitorState::default();
        feed(&mut s, &[Up, Down, Down]);
        assert_eq!(s.last_reason.as_deref(), Some("boom"));
        s.observe(Up, None, at(10), T);
        assert_eq!(s.last_reason.as_deref(), Some("boom"));
        s.observe(Up, None, at(11), T);
        s.observe(Up, None, at(12), T);
        assert_eq!(s.confirmed, Some(Up));
        assert_eq!(s.last_reason, None);
    }

    #[test]
    fn a_down_monitor_stays_on_retry_until_recovered() {
        let interval = Duration::from_secs(60);
        let retry = Duration::from_secs(20);
        let mut s = MonitorState::default();
        feed(&mut s, &[Up, Down, Down]);
        s.observe(Up, None, at(5), T);
        assert_eq!(s.next_delay(interval, retry), retry);
    }

    #[test]
    fn retry_longer_than_interval_is_capped() {
        let mut s = MonitorState::default();
        s.observe(Down, None, at(0), T);
        assert_eq!(
            s.next_delay(Duration::from_secs(10), Duration::from_secs(30)),
            Duration::from_secs(10)
        );
    }
}
