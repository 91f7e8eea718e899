//! Status vocabulary, shared with Statuspage so its clients work.

use serde::{Deserialize, Serialize};

/// Outcome of one probe run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    Up,
    Degraded,
    Down,
}

impl CheckOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckOutcome::Up => "up",
            CheckOutcome::Degraded => "degraded",
            CheckOutcome::Down => "down",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "up" => Some(CheckOutcome::Up),
            "degraded" => Some(CheckOutcome::Degraded),
            "down" => Some(CheckOutcome::Down),
            _ => None,
        }
    }

    /// The component status a service shows when this is the worst of its monitors.
    pub fn component_status(self) -> ComponentStatus {
        match self {
            CheckOutcome::Up => ComponentStatus::Operational,
            CheckOutcome::Degraded => ComponentStatus::DegradedPerformance,
            CheckOutcome::Down => ComponentStatus::MajorOutage,
        }
    }
}

/// Component status, Statuspage vocabulary. Ordered from best to worst, except maintenance
/// which is shown apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentStatus {
    Operational,
    UnderMaintenance,
    DegradedPerformance,
    PartialOutage,
    MajorOutage,
}

impl ComponentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ComponentStatus::Operational => "operational",
            ComponentStatus::UnderMaintenance => "under_maintenance",
            ComponentStatus::DegradedPerformance => "degraded_performance",
            ComponentStatus::PartialOutage => "partial_outage",
            ComponentStatus::MajorOutage => "major_outage",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ComponentStatus::Operational,
            ComponentStatus::UnderMaintenance,
            ComponentStatus::DegradedPerformance,
            ComponentStatus::PartialOutage,
            ComponentStatus::MajorOutage,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

/// What a reader is told about a service: a known status, or no data (never green).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "status")]
pub enum ServiceState {
    NoData,
    Known(ComponentStatus),
}

impl ServiceState {
    /// CSS-friendly name, also used as a stable machine-readable attribute in the page.
    pub fn css_class(self) -> &'static str {
        match self {
            ServiceState::NoData => "no_data",
            ServiceState::Known(s) => s.as_str(),
        }
    }

    /// Reads back [`Self::css_class`]'s text, as stored in the database.
    pub fn parse(s: &str) -> Option<Self> {
        if s == "no_data" {
            Some(ServiceState::NoData)
        } else {
            ComponentStatus::parse(s).map(ServiceState::Known)
        }
    }

    /// Worst of the latest monitor outcomes; no outcome at all is no data.
    pub fn from_outcomes(outcomes: impl IntoIterator<Item = CheckOutcome>) -> Self {
        outcomes
            .into_iter()
            .map(CheckOutcome::component_status)
            .max()
            .map_or(ServiceState::NoData, ServiceState::Known)
    }
}

/// The page-wide indicator (Statuspage `status.indicator`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageIndicator {
    None,
    Minor,
    Major,
    Critical,
    Maintenance,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_without_results_has_no_data_never_operational() {
        assert_eq!(ServiceState::from_outcomes([]), ServiceState::NoData);
    }

    #[test]
    fn service_state_is_the_worst_monitor_outcome() {
        let s = ServiceState::from_outcomes([
            CheckOutcome::Up,
            CheckOutcome::Down,
            CheckOutcome::Degraded,
        ]);
        assert_eq!(s, ServiceState::Known(ComponentStatus::MajorOutage));
        let s = ServiceState::from_outcomes([CheckOutcome::Up, CheckOutcome::Degraded]);
        assert_eq!(s, ServiceState::Known(ComponentStatus::DegradedPerformance));
    }

    #[test]
    fn check_outcome_round_trips_through_its_text() {
        for o in [CheckOutcome::Up, CheckOutcome::Degraded, CheckOutcome::Down] {
            assert_eq!(CheckOutcome::parse(o.as_str()), Some(o));
        }
        assert_eq!(CheckOutcome::parse("green"), None);
    }

    #[test]
    fn service_state_round_trips_through_its_text() {
        let mut all = vec![ServiceState::NoData];
        all.extend(
            [
                ComponentStatus::Operational,
                ComponentStatus::UnderMaintenance,
                ComponentStatus::DegradedPerformance,
                ComponentStatus::PartialOutage,
                ComponentStatus::MajorOutage,
            ]
            .map(ServiceState::Known),
        );
        for s in all {
            assert_eq!(ServiceState::parse(s.css_class()), Some(s));
        }
        assert_eq!(ServiceState::parse("green"), None);
    }
}
