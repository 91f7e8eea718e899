//! The overview's banner: one sentence for the whole site, from the services' states *and* the
//! open incidents. Probes alone are not the whole truth: staff may open a major incident
//! before any probe sees it, or with no service attached (a payment provider down, a leak),
//! and a green "all systems operational" above it would contradict the page.

use serde::{Deserialize, Serialize};

use crate::incident::Impact;
use crate::status::{ComponentStatus, ServiceState};

/// How bad the banner reads, from best to worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BannerLevel {
    /// No service has data yet and no incident is open.
    NoData,
    Operational,
    Maintenance,
    /// Degraded performance or partial outage somewhere, or an open minor incident.
    Minor,
    /// A major outage somewhere, or an open major or critical incident.
    Major,
}

impl BannerLevel {
    /// The CSS class suffix, in the services' status vocabulary.
    pub fn css_class(self) -> &'static str {
        match self {
            BannerLevel::NoData => "no_data",
            BannerLevel::Operational => "operational",
            BannerLevel::Maintenance => "under_maintenance",
            BannerLevel::Minor => "degraded_performance",
            BannerLevel::Major => "major_outage",
        }
    }
}

/// What the banner says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Banner {
    pub level: BannerLevel,
    /// Services neither operational nor under maintenance.
    pub affected: usize,
    /// Whether the level comes from open incidents rather than from the services: the banner
    /// then speaks of incidents, since no service it could count is affected.
    pub from_incidents: bool,
    /// Open incidents of at least minor impact.
    pub incidents: usize,
    /// Some services have no fresh data (only said when everything else is operational).
    pub partial_data: bool,
}

/// The banner for these service states and the impacts of the open incidents.
pub fn banner(states: &[ServiceState], open_incident_impacts: &[Impact]) -> Banner {
    let known: Vec<ComponentStatus> = states
        .iter()
        .filter_map(|s| match s {
            ServiceState::Known(c) => Some(*c),
            ServiceState::NoData => None,
        })
        .collect();
    let affected = known
        .iter()
        .filter(|c| {
            !matches!(
                c,
                ComponentStatus::Operational | ComponentStatus::UnderMaintenance
            )
        })
        .count();
    let by_services = match known.iter().max() {
        None => BannerLevel::NoData,
        Some(ComponentStatus::MajorOutage) => BannerLevel::Major,
        Some(ComponentStatus::PartialOutage | ComponentStatus::DegradedPerformance) => {
            BannerLevel::Minor
        }
        Some(ComponentStatus::UnderMaintenance) => BannerLevel::Maintenance,
        Some(ComponentStatus::Operational) => BannerLevel::Operational,
    };
    let incident_level = |i: &Impact| match i {
        Impact::Critical | Impact::Major => Some(BannerLevel::Major),
        Impact::Minor => Some(BannerLevel::Minor),
        Impact::None => None,
    };
    let by_incidents = open_incident_impacts
        .iter()
        .filter_map(incident_level)
        .max();
    let incidents = open_incident_impacts
        .iter()
        .filter(|i| incident_level(i).is_some())
        .count();
    let (level, from_incidents) = match by_incidents {
        Some(l) if l > by_services => (l, true),
        _ => (by_services, false),
    };
    Banner {
        level,
        affected,
        from_incidents,
        incidents,
        partial_data: level == BannerLevel::Operational && known.len() < states.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ComponentStatus::*;

    fn k(s: ComponentStatus) -> ServiceState {
        ServiceState::Known(s)
    }

    #[test]
    fn a_major_incident_with_no_service_attached_is_never_under_a_green_banner() {
        let b = banner(&[k(Operational), k(Operational)], &[Impact::Major]);
        assert_eq!(b.level, BannerLevel::Major);
        assert!(b.from_incidents);
        assert_eq!(b.incidents, 1);
        let b = banner(&[k(Operational)], &[Impact::Critical, Impact::Minor]);
        assert_eq!((b.level, b.incidents), (BannerLevel::Major, 2));
    }

    #[test]
    fn a_minor_incident_reads_as_a_disruption_and_an_impactless_one_changes_nothing() {
        let b = banner(&[k(Operational)], &[Impact::Minor]);
        assert_eq!(b.level, BannerLevel::Minor);
        let b = banner(&[k(Operational)], &[Impact::None]);
        assert_eq!(b.level, BannerLevel::Operational);
        assert!(!b.from_incidents);
    }

    #[test]
    fn services_worse_than_the_incidents_keep_their_count() {
        let b = banner(&[k(MajorOutage), k(PartialOutage)], &[Impact::Minor]);
        assert_eq!(b.level, BannerLevel::Major);
        assert!(!b.from_incidents);
        assert_eq!(b.affected, 2);
    }

    #[test]
    fn probes_alone_behave_as_before() {
        assert_eq!(banner(&[], &[]).level, BannerLevel::NoData);
        assert_eq!(
            banner(&[ServiceState::NoData], &[]).level,
            BannerLevel::NoData
        );
        assert_eq!(
            banner(&[ServiceState::NoData], &[Impact::Major]).level,
            BannerLevel::Major
        );
        let b = banner(&[k(Operational), ServiceState::NoData], &[]);
        assert_eq!(b.level, BannerLevel::Operational);
        assert!(b.partial_data);
        assert_eq!(
            banner(&[k(UnderMaintenance), k(Operational)], &[]).level,
            BannerLevel::Maintenance
        );
        assert_eq!(
            banner(&[k(DegradedPerformance)], &[]).level,
            BannerLevel::Minor
        );
    }
}
