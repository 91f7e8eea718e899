//! The quorum rule over probe locations.
//!
//! A single vantage point cannot tell "the site is down" from "our probe's network is cut"
//! (one lesson of the Humanoid outage). Each location confirms its own state; a monitor is down only
//! when a strict majority of the locations that currently report agree. A location that
//! disagrees with the verdict by being worse is reported as that location's trouble.

use serde::{Deserialize, Serialize};

use crate::config::Slug;
use crate::status::CheckOutcome;

/// What one location currently says about a monitor; `None` is no (fresh) data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocationReport {
    pub location: Slug,
    pub outcome: Option<CheckOutcome>,
}

/// The monitor's state across locations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// No location has fresh data.
    NoData,
    Known {
        outcome: CheckOutcome,
        /// Locations that see worse than the verdict: their own trouble, not the service's.
        troubled: Vec<Slug>,
    },
}

impl Verdict {
    pub fn outcome(&self) -> Option<CheckOutcome> {
        match self {
            Verdict::NoData => None,
            Verdict::Known { outcome, .. } => Some(*outcome),
        }
    }
}

/// Applies the majority rule to the reports of a monitor's locations.
///
/// Only locations with data vote; the quorum is a strict majority of them, so one reporting
/// location decides alone, two must agree, and two out of three suffice.
pub fn decide(reports: &[LocationReport]) -> Verdict {
    let voting: Vec<(&Slug, CheckOutcome)> = reports
        .iter()
        .filter_map(|r| r.outcome.map(|o| (&r.location, o)))
        .collect();
    if voting.is_empty() {
        return Verdict::NoData;
    }
    let quorum = voting.len() / 2 + 1;
    let down = voting
        .iter()
        .filter(|(_, o)| *o == CheckOutcome::Down)
        .count();
    let not_up = voting
        .iter()
        .filter(|(_, o)| *o != CheckOutcome::Up)
        .count();
    let outcome = if down >= quorum {
        CheckOutcome::Down
    } else if not_up >= quorum {
        CheckOutcome::Degraded
    } else {
        CheckOutcome::Up
    };
    let worse = |o: CheckOutcome| match outcome {
        CheckOutcome::Up => o != CheckOutcome::Up,
        CheckOutcome::Degraded => o == CheckOutcome::Down,
        CheckOutcome::Down => false,
    };
    let mut troubled: Vec<Slug> = voting
        .iter()
        .filter(|(_, o)| worse(*o))
        .map(|(l, _)| (*l).clone())
        .collect();
    troubled.sort();
    Verdict::Known { outcome, troubled }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CheckOutcome::{Degraded, Down, Up};

    fn slug(s: &str) -> Slug {
        Slug::parse(s).expect("slug")
    }

    fn reports(list: &[(&str, Option<CheckOutcome>)]) -> Vec<LocationReport> {
        list.iter()
            .map(|(l, o)| LocationReport {
                location: slug(l),
                outcome: *o,
            })
            .collect()
    }

    fn known(outcome: CheckOutcome, troubled: &[&str]) -> Verdict {
        Verdict::Known {
            outcome,
            troubled: troubled.iter().map(|s| slug(s)).collect(),
        }
    }

    #[test]
    fn no_reports_is_no_data() {
        assert_eq!(decide(&[]), Verdict::NoData);
        assert_eq!(
            decide(&reports(&[("paris", None), ("amsterdam", None)])),
            Verdict::NoData
        );
    }

    #[test]
    fn a_single_location_decides_alone() {
        assert_eq!(decide(&reports(&[("paris", Some(Down))])), known(Down, &[]));
        assert_eq!(
            decide(&reports(&[("paris", Some(Down)), ("amsterdam", None)])),
            known(Down, &[])
        );
    }

    #[test]
    fn one_location_failing_alone_is_that_locations_trouble() {
        assert_eq!(
            decide(&reports(&[("paris", Some(Down)), ("amsterdam", Some(Up))])),
            known(Up, &["paris"])
        );
    }

    #[test]
    fn two_locations_must_both_agree_for_down() {
        assert_eq!(
            decide(&reports(&[
                ("paris", Some(Down)),
                ("amsterdam", Some(Down))
            ])),
            known(Down, &[])
        );
    }

    #[test]
    fn two_of_three_is_a_majority() {
        assert_eq!(
            decide(&reports(&[
                ("paris", Some(Down)),
                ("amsterdam", Some(Down)),
                ("berlin", Some(Up)),
            ])),
            known(Down, &[])
        );
        assert_eq!(
            decide(&reports(&[
                ("paris", Some(Down)),
                ("amsterdam", Some(Up)),
                ("berlin", Some(Up)),
            ])),
            known(Up, &["paris"])
        );
    }

    #[test]
    fn a_majority_of_not_up_without_a_majority_of_down_is_degraded() {
        assert_eq!(
            decide(&reports(&[
                ("paris", Some(Down)),
                ("amsterdam", Some(Degraded)),
                ("berlin", Some(Up)),
            ])),
            known(Degraded, &["paris"])
        );
    }

    #[test]
    fn silent_locations_do_not_vote() {
        assert_eq!(
            decide(&reports(&[
                ("paris", Some(Down)),
                ("amsterdam", Some(Down)),
                ("berlin", None),
            ])),
            known(Down, &[])
        );
    }

    #[test]
    fn troubled_locations_are_sorted() {
        assert_eq!(
            decide(&reports(&[
                ("zurich", Some(Down)),
                ("amsterdam", Some(Degraded)),
                ("paris", Some(Up)),
                ("berlin", Some(Up)),
                ("lyon", Some(Up)),
            ])),
            known(Up, &["amsterdam", "zurich"])
        );
    }
}
