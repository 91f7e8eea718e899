//! Staff alerts and component updates, decided from recorded status changes and queued in the
//! transaction that records them (so a committed change is always announced, a rolled-back
//! one never, and several instances deciding the same change announce it once: only the rows
//! [`crate::status::apply`] really changed reach here).
//!
//! One alert per cause: a host going down and every service it took down (their cause names
//! it) make one `down` alert naming the host and the services; a service down because a
//! service it depends on is down joins that service's alert. Its recovery makes one
//! `recovered` alert. Moves into or out of maintenance alert nobody. A subject that changed
//! state [`FLAP_CHANGES`] times within [`FLAP_WINDOW`] gets one `flapping` alert, then
//! nothing until it settles. A host whose every service is under maintenance alerts nobody
//! either, going down or coming back: the work on it is planned.
//!
//! A probe location that alone sees monitors failing (the others and the quorum see them up)
//! is that location's trouble, not the services': [`location::location_trouble`] records it and queues
//! one lower-priority `location` alert when it begins and one `location_over` when it ends.

pub mod location;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use domain::status::{ComponentStatus, ServiceState};
use domain::topology::Owner;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::entity::{current_status, host, service, status_event};
use crate::outbox::{self, AlertEvent, ComponentEvent, Event, ServiceRef};
use crate::StoreError;

/// State changes within [`FLAP_WINDOW`] that make a subject flapping.
pub const FLAP_CHANGES: usize = 5;
/// The window in which state changes are counted for flapping.
pub fn flap_window() -> Duration {
    Duration::minutes(30)
}
/// See [`flap_window`].
pub const FLAP_WINDOW: &str = "30 minutes";

/// One recorded change of a service or host: its stored state before and after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Moved {
    pub subject: Owner,
    /// The stored state before (`None`: never recorded).
    pub from: Option<ServiceState>,
    pub to: ServiceState,
    /// The cause before and after, as stored (`domain::topology::Cause::to_stored`).
    pub old_cause: Option<String>,
    pub new_cause: Option<String>,
}

/// What a stored cause points at: the host or service whose trouble this is (a host
/// unreachable, a dependency), read from its data (`domain::topology::Cause::to_stored`).
pub fn cause_root(cause: &str) -> Option<Owner> {
    match domain::topology::Cause::from_stored(cause)? {
        domain::topology::Cause::Host { host } => Some(Owner::Host(host)),
        domain::topology::Cause::Dependency { service } => Some(Owner::Service(service)),
        _ => None,
    }
}

fn is_trouble(s: Option<ServiceState>) -> bool {
    matches!(
        s,
        Some(ServiceState::Known(
            ComponentStatus::MajorOutage
                | ComponentStatus::PartialOutage
                | ComponentStatus::DegradedPerformance
        ))
    )
}

fn is_maintenance(s: Option<ServiceState>) -> bool {
    s == Some(ServiceState::Known(ComponentStatus::UnderMaintenance))
}

/// An alert decided from a batch of changes, before flapping is considered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decided {
    /// The subject the alert is about: the host or service at the root of the cause.
    pub root: Owner,
    /// `down`, `degraded` or `recovered`.
    pub kind: &'static str,
    /// The services it names, with their new state.
    pub services: Vec<(String, ServiceState)>,
}

/// Groups a batch of changes by root cause and decides one alert per group (pure: the tests
/// and the store share it).
pub fn decide(changes: &[Moved]) -> Vec<Decided> {
    let by_subject: HashMap<&Owner, &Moved> = changes.iter().map(|m| (&m.subject, m)).collect();
    // The root of a change: follow the cause (new one, or the old one for a recovery) through
    // changes of the same batch, a few steps at most (the catalog refuses dependency loops).
    let root_of = |m: &Moved| -> Owner {
        let mut at = m;
        let mut root = m.subject.clone();
        for _ in 0..8 {
            let cause = at.new_cause.as_deref().or(at.old_cause.as_deref());
            let Some(next) = cause.and_then(cause_root) else {
                break;
            };
            root = next.clone();
            match by_subject.get(&next) {
                Some(n) if n.subject != at.subject => at = n,
                _ => break,
            }
        }
        root
    };
    let mut groups: BTreeMap<Owner, Vec<&Moved>> = BTreeMap::new();
    for m in changes {
        // Maintenance is planned: going into it is no news, nor coming back from it healthy
        // (no trouble before); coming back from it still down is.
        if is_maintenance(Some(m.to)) {
            continue;
        }
        groups.entry(root_of(m)).or_default().push(m);
    }
    let mut out = Vec::new();
    for (root, members) in groups {
        if !members.iter().any(|m| m.from != Some(m.to)) {
            continue; // causes moved, states did not
        }
        // The root's own change says what happened; without one, the worst member's.
        let lead = members
            .iter()
            .find(|m| m.subject == root)
            .copied()
            .or_else(|| members.iter().copied().max_by_key(|m| rank(m.to)));
        let Some(lead) = lead else { continue };
        let kind = match lead.to {
            ServiceState::Known(ComponentStatus::MajorOutage) => "down",
            ServiceState::Known(
                ComponentStatus::PartialOutage | ComponentStatus::DegradedPerformance,
            ) => "degraded",
            ServiceState::Known(ComponentStatus::Operational) if is_trouble(lead.from) => {
                "recovered"
            }
            _ => continue, // from or to no data, or no trouble before
        };
        if lead.from == Some(lead.to) && kind != "recovered" {
            // The root was already in this state (its alert went out): a service joining it
            // is not a new cause.
            continue;
        }
        let services = members
            .iter()
            .filter_map(|m| match &m.subject {
                Owner::Service(s) => Some((s.as_str().to_owned(), m.to)),
                Owner::Host(_) => None,
            })
            .collect();
        out.push(Decided {
            root,
            kind,
            services,
        });
    }
    out
}

fn rank(s: ServiceState) -> u8 {
    match s {
        ServiceState::Known(ComponentStatus::MajorOutage) => 4,
        ServiceState::Known(ComponentStatus::PartialOutage) => 3,
        ServiceState::Known(ComponentStatus::DegradedPerformance) => 2,
        ServiceState::Known(_) => 1,
        ServiceState::NoData => 0,
    }
}

fn subject_key(o: &Owner) -> (&'static str, &str) {
    match o {
        Owner::Service(s) => ("service", s.as_str()),
        Owner::Host(h) => ("host", h.as_str()),
    }
}

/// State changes of `subject` recorded in the flapping window before `now`.
async fn recent_state_changes<C: ConnectionTrait>(
    conn: &C,
    subject: &Owner,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let (kind, id) = subject_key(subject);
    let rows = status_event::Entity::find()
        .filter(status_event::Column::SubjectKind.eq(kind))
        .filter(status_event::Column::SubjectId.eq(id))
        .filter(status_event::Column::At.gt(now - flap_window()))
        .all(conn)
        .await?;
    // A first record and moves into or out of maintenance are not trouble coming and going.
    let maintenance = ComponentStatus::UnderMaintenance.as_str();
    Ok(rows
        .iter()
        .filter(|r| {
            r.from_status
                .as_deref()
                .is_some_and(|f| f != r.to_status && f != maintenance)
                && r.to_status != maintenance
        })
        .count())
}

/// Queues the alerts and component updates for `changes`, recorded at `now` in the caller's
/// transaction (called by [`crate::status::apply`] before its events are inserted).
pub(crate) async fn queue_for_changes<C: ConnectionTrait>(
    conn: &C,
    changes: &[Moved],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let ids: Vec<String> = changes
        .iter()
        .filter_map(|m| match &m.subject {
            Owner::Service(s) => Some(s.as_str().to_owned()),
            Owner::Host(_) => None,
        })
        .collect();
    let names = outbox::service_names(conn, &ids).await?;
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_owned());

    // Component updates for webhook subscribers: every state change of a known service.
    for m in changes {
        let (Owner::Service(s), Some(from)) = (&m.subject, m.from) else {
            continue;
        };
        if from == m.to || from == ServiceState::NoData || m.to == ServiceState::NoData {
            continue;
        }
        let event = Event::ComponentUpdate(ComponentEvent {
            id: s.as_str().to_owned(),
            name: name(s.as_str()),
            old_status: from.css_class().to_owned(),
            new_status: m.to.css_class().to_owned(),
            created_at: now,
        });
        outbox::queue(conn, &event, now).await?;
    }

    let mut under_maintenance = MaintenanceView::default();
    for d in decide(changes) {
        if let (Owner::Host(h), true) = (&d.root, d.services.is_empty()) {
            if under_maintenance
                .all_services_of(conn, h.as_str(), changes)
                .await?
            {
                continue;
            }
        }
        // This change is counted too: it is not inserted yet.
        let changes_so_far = recent_state_changes(conn, &d.root, now).await? + 1;
        let kind = match changes_so_far {
            n if n == FLAP_CHANGES => "flapping",
            n if n > FLAP_CHANGES => continue, // already told it flaps
            _ => d.kind,
        };
        let services: Vec<ServiceRef> = d
            .services
            .iter()
            .map(|(id, state)| ServiceRef {
                id: id.clone(),
                name: name(id),
                status: state.css_class().to_owned(),
            })
            .collect();
        let (subject_name, host) = match &d.root {
            Owner::Host(h) => (format!("host {h}"), Some(h.as_str().to_owned())),
            Owner::Service(s) => (name(s.as_str()), None),
        };
        let list = services
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let title = match kind {
            "down" => format!("{subject_name} is down"),
            "degraded" => format!("{subject_name} is degraded"),
            "recovered" => format!("{subject_name} recovered"),
            _ => format!("{subject_name} is flapping"),
        };
        let detail = match (kind, services.is_empty()) {
            ("flapping", _) => format!(
                "{FLAP_CHANGES} status changes within {FLAP_WINDOW}; no more alerts for it \
                 until it settles"
            ),
            (_, true) => String::new(),
            ("recovered", false) => format!("Back: {list}"),
            (_, false) => format!("Affected services: {list}"),
        };
        let link = match &d.root {
            Owner::Service(s) => Some(format!("/services/{s}")),
            Owner::Host(_) => Some("/admin".to_owned()),
        };
        let event = Event::Alert(AlertEvent {
            kind: kind.to_owned(),
            title,
            host,
            subject: Some(subject_name),
            services,
            monitors: Vec::new(),
            detail,
            at: now,
            link,
        });
        outbox::queue(conn, &event, now).await?;
    }
    Ok(())
}

/// Hosts' parents, services' hosts, and the services under maintenance.
type Loaded = (
    HashMap<String, Option<String>>,
    Vec<(String, String)>,
    HashSet<String>,
);

/// Answers "is every service on this host under maintenance?" for the hosts of one batch,
/// reading the hosts, services and stored statuses once.
#[derive(Default)]
struct MaintenanceView {
    loaded: Option<Loaded>,
}

impl MaintenanceView {
    /// True when host `h` (or a VM on it, at any depth) runs at least one service and every
    /// one of them is under maintenance, in `changes` or else as stored.
    async fn all_services_of<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        h: &str,
        changes: &[Moved],
    ) -> Result<bool, StoreError> {
        if self.loaded.is_none() {
            let parents: HashMap<String, Option<String>> = host::Entity::find()
                .filter(host::Column::ArchivedAt.is_null())
                .all(conn)
                .await?
                .into_iter()
                .map(|h| (h.id, h.parent_id))
                .collect();
            let services: Vec<(String, String)> = service::Entity::find()
                .filter(service::Column::ArchivedAt.is_null())
                .all(conn)
                .await?
                .into_iter()
                .filter_map(|s| Some((s.id, s.host_id?)))
                .collect();
            let maintenance = ComponentStatus::UnderMaintenance.as_str();
            let mut in_maintenance: HashSet<String> = current_status::Entity::find()
                .filter(current_status::Column::SubjectKind.eq("service"))
                .filter(current_status::Column::Status.eq(maintenance))
                .all(conn)
                .await?
                .into_iter()
                .map(|r| r.subject_id)
                .collect();
            for m in changes {
                if let Owner::Service(s) = &m.subject {
                    if is_maintenance(Some(m.to)) {
                        in_maintenance.insert(s.as_str().to_owned());
                    } else {
                        in_maintenance.remove(s.as_str());
                    }
                }
            }
            self.loaded = Some((parents, services, in_maintenance));
        }
        let Some((parents, services, in_maintenance)) = &self.loaded else {
            return Ok(false);
        };
        let mut any = false;
        for (service, host) in services {
            if stands_on(parents, host, h) {
                if !in_maintenance.contains(service) {
                    return Ok(false);
                }
                any = true;
            }
        }
        Ok(any)
    }
}

/// Whether `host` is `h` or stands on it (a VM on it, at any depth; a few levels at most).
fn stands_on<'a>(parents: &'a HashMap<String, Option<String>>, mut host: &'a str, h: &str) -> bool {
    for _ in 0..8 {
        if host == h {
            return true;
        }
        match parents.get(host) {
            Some(Some(p)) => host = p,
            _ => return false,
        }
    }
    false
}

/// Queues the alert for a new incident draft, in the caller's transaction.
pub(crate) async fn queue_draft<C: ConnectionTrait>(
    conn: &C,
    draft_id: i64,
    services: &[(String, Option<String>)],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let ids: Vec<String> = services.iter().map(|(id, _)| id.clone()).collect();
    let names = outbox::service_names(conn, &ids).await?;
    let refs: Vec<ServiceRef> = services
        .iter()
        .map(|(id, _)| ServiceRef {
            id: id.clone(),
            name: names.get(id).cloned().unwrap_or_else(|| id.clone()),
            status: ComponentStatus::MajorOutage.as_str().to_owned(),
        })
        .collect();
    let list = refs
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let causes: Vec<&str> = services.iter().filter_map(|(_, c)| c.as_deref()).collect();
    let host = causes.iter().find_map(|c| match cause_root(c) {
        Some(Owner::Host(h)) => Some(h.as_str().to_owned()),
        _ => None,
    });
    let event = Event::Alert(AlertEvent {
        kind: "draft".to_owned(),
        title: format!("Incident draft proposed: {list}"),
        host,
        subject: None,
        services: refs,
        monitors: Vec::new(),
        detail: "Still down with no open incident: open it as an incident or dismiss it."
            .to_owned(),
        at: now,
        link: Some(format!("/admin/drafts/{draft_id}")),
    });
    outbox::queue(conn, &event, now).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::config::Slug;
    use domain::topology::Cause;

    fn slug(s: &str) -> Slug {
        Slug::parse(s).unwrap()
    }
    const DOWN: ServiceState = ServiceState::Known(ComponentStatus::MajorOutage);
    const UP: ServiceState = ServiceState::Known(ComponentStatus::Operational);
    const PARTIAL: ServiceState = ServiceState::Known(ComponentStatus::PartialOutage);
    const MAINT: ServiceState = ServiceState::Known(ComponentStatus::UnderMaintenance);

    fn host_cause(h: &str) -> Option<String> {
        Some(Cause::Host { host: slug(h) }.to_stored())
    }

    fn moved(
        subject: Owner,
        from: ServiceState,
        to: ServiceState,
        old: Option<String>,
        new: Option<String>,
    ) -> Moved {
        Moved {
            subject,
            from: Some(from),
            to,
            old_cause: old,
            new_cause: new,
        }
    }

    #[test]
    fn causes_in_the_engines_words_point_at_their_root() {
        assert_eq!(
            cause_root(&host_cause("phys-2").unwrap()),
            Some(Owner::Host(slug("phys-2")))
        );
        let dep = Cause::Dependency {
            service: slug("auth"),
        }
        .to_stored();
        assert_eq!(cause_root(&dep), Some(Owner::Service(slug("auth"))));
        let monitor = Cause::Monitor {
            monitor: slug("home"),
            outcome: domain::status::CheckOutcome::Down,
            reason: None,
        };
        assert_eq!(cause_root(&monitor.to_stored()), None);
        // Words are not data: a sentence points nowhere.
        assert_eq!(cause_root("down: host phys-2 unreachable"), None);
    }

    #[test]
    fn a_host_down_is_one_alert_naming_every_service_it_took_down() {
        let mut batch = vec![
            moved(
                Owner::Host(slug("phys-2")),
                UP,
                DOWN,
                None,
                Some("down: monitor ping down".into()),
            ),
            moved(
                Owner::Host(slug("vm-7")),
                UP,
                DOWN,
                None,
                host_cause("phys-2"),
            ),
        ];
        for s in ["web", "api", "shop"] {
            batch.push(moved(
                Owner::Service(slug(s)),
                UP,
                DOWN,
                None,
                host_cause("phys-2"),
            ));
        }
        // A service depending on one of them is part of the same cause.
        batch.push(moved(
            Owner::Service(slug("blog")),
            UP,
            PARTIAL,
            None,
            Some(
                Cause::Dependency {
                    service: slug("api"),
                }
                .to_stored(),
            ),
        ));
        // A service down for its own reason is a separate alert.
        batch.push(moved(
            Owner::Service(slug("mail")),
            UP,
            DOWN,
            None,
            Some("down: monitor smtp down".into()),
        ));
        let d = decide(&batch);
        assert_eq!(d.len(), 2, "{d:?}");
        let host = d
            .iter()
            .find(|d| d.root == Owner::Host(slug("phys-2")))
            .unwrap();
        assert_eq!(host.kind, "down");
        let names: Vec<&str> = host.services.iter().map(|s| s.0.as_str()).collect();
        assert_eq!(names, ["web", "api", "shop", "blog"]);
        assert_eq!(
            d.iter()
                .find(|d| d.root == Owner::Service(slug("mail")))
                .unwrap()
                .kind,
            "down"
        );

        // Recovery: the old causes group it the same way.
        let back: Vec<Moved> = batch
            .iter()
            .map(|m| Moved {
                from: Some(m.to),
                to: UP,
                old_cause: m.new_cause.clone(),
                new_cause: None,
                subject: m.subject.clone(),
            })
            .collect();
        let d = decide(&back);
        assert_eq!(d.len(), 2);
        assert!(d.iter().all(|d| d.kind == "recovered"));
    }

    #[test]
    fn maintenance_no_data_and_cause_only_moves_alert_nobody() {
        let web = Owner::Service(slug("web"));
        let quiet = [
            moved(web.clone(), UP, MAINT, None, Some("maintenance: x".into())),
            moved(web.clone(), MAINT, UP, None, None),
            moved(web.clone(), ServiceState::NoData, UP, None, None),
            moved(web.clone(), UP, ServiceState::NoData, None, None),
            moved(
                web.clone(),
                DOWN,
                DOWN,
                Some("down: monitor a down".into()),
                Some("down: monitor b down".into()),
            ),
        ];
        for m in quiet {
            assert!(decide(std::slice::from_ref(&m)).is_empty(), "{m:?}");
        }
        // Coming out of maintenance still down does alert.
        let after = moved(
            web.clone(),
            MAINT,
            DOWN,
            None,
            Some("down: monitor a down".into()),
        );
        assert_eq!(decide(&[after])[0].kind, "down");
        // A first look finding a service down does alert.
        let first = Moved {
            subject: web,
            from: None,
            to: DOWN,
            old_cause: None,
            new_cause: Some("down: monitor a down".into()),
        };
        assert_eq!(decide(&[first])[0].kind, "down");
    }
}
