//! The page's overall status in Statuspage's words (indicator and sentence) and its stable id:
//! pure functions shared by the `/api/v2` reads and the webhook payloads, so that neither
//! imports the other.

use crate::locale::Locale;
use crate::status::{ComponentStatus, PageIndicator, ServiceState};

/// A short stable id for the page, from its public address (FNV-1a, written out here because
/// it must never change between Rust versions, which `std`'s hasher does not promise).
pub fn page_id(base_url: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in base_url.trim_end_matches('/').bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{:012x}", h & 0xffff_ffff_ffff)
}

/// The page indicator and its sentence, from the services' states, the open incidents'
/// impacts and whether a maintenance window is active.
pub fn page_status(
    states: &[ServiceState],
    open_impacts: &[crate::incident::Impact],
    maintenance_active: bool,
    locale: Locale,
) -> (PageIndicator, &'static str) {
    use crate::incident::Impact as I;
    let fr = locale == Locale::Fr;
    let pick = |en: &'static str, f: &'static str| if fr { f } else { en };
    let worst = states
        .iter()
        .filter_map(|s| match s {
            ServiceState::Known(c) => Some(*c),
            ServiceState::NoData => None,
        })
        .max();
    let no_data = states
        .iter()
        .filter(|s| **s == ServiceState::NoData)
        .count();
    let impact = open_impacts.iter().copied().max().unwrap_or(I::None);
    if impact == I::Critical {
        return (
            PageIndicator::Critical,
            pick("Critical Service Outage", "Panne critique"),
        );
    }
    if worst == Some(ComponentStatus::MajorOutage) || impact == I::Major {
        return (
            PageIndicator::Major,
            pick("Major Service Outage", "Panne majeure"),
        );
    }
    if worst == Some(ComponentStatus::PartialOutage) {
        return (
            PageIndicator::Minor,
            pick("Partial System Outage", "Panne partielle"),
        );
    }
    if worst == Some(ComponentStatus::DegradedPerformance) {
        return (
            PageIndicator::Minor,
            pick(
                "Partially Degraded Service",
                "Service partiellement dégradé",
            ),
        );
    }
    if impact == I::Minor {
        return (
            PageIndicator::Minor,
            pick("Minor Service Outage", "Panne mineure"),
        );
    }
    if no_data > 0 && no_data == states.len() {
        return (
            PageIndicator::Minor,
            pick(
                "No Recent Monitoring Data",
                "Aucune donnée de surveillance récente",
            ),
        );
    }
    if no_data > 0 {
        return (
            PageIndicator::Minor,
            pick(
                "Some Services Without Recent Data",
                "Certains services sans données récentes",
            ),
        );
    }
    if maintenance_active || worst == Some(ComponentStatus::UnderMaintenance) {
        return (
            PageIndicator::Maintenance,
            pick("Service Under Maintenance", "Maintenance en cours"),
        );
    }
    (
        PageIndicator::None,
        pick(
            "All Systems Operational",
            "Tous les systèmes sont opérationnels",
        ),
    )
}
