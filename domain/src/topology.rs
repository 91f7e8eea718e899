//! The topology rollup: from monitor states and the hosting topology to one status per service,
//! with one cause.
//!
//! A service's status is the worst of its own monitors, of its host chain (a down host takes
//! down the VMs on it and their services, with the topmost down host named as cause) and of the
//! services it depends on (`partial_outage` unless the dependency is hard). An active
//! maintenance window shows `under_maintenance`; an open incident's stated status overrides
//! everything (staff know better than probes). When several contributors are equally bad the
//! deepest one is the cause: a host before a dependency before the service's own monitors, so
//! readers see one explanation instead of N alarms.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::{Catalog, Host, Monitor, Service, Slug};
use crate::reason::Reason;
use crate::status::{CheckOutcome, ComponentStatus, ServiceState};

/// Who a monitor belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum Owner {
    Service(Slug),
    Host(Slug),
}

/// A monitor's identity across restarts: `service/<id>/<monitor>` or `host/<id>/<monitor>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MonitorKey {
    pub owner: Owner,
    pub monitor: Slug,
}

impl MonitorKey {
    pub fn service(service: &Slug, monitor: &Slug) -> Self {
        MonitorKey {
            owner: Owner::Service(service.clone()),
            monitor: monitor.clone(),
        }
    }

    pub fn host(host: &Slug, monitor: &Slug) -> Self {
        MonitorKey {
            owner: Owner::Host(host.clone()),
            monitor: monitor.clone(),
        }
    }

    /// Parses the text form written by `Display`.
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.splitn(3, '/');
        let kind = parts.next()?;
        let owner = Slug::parse(parts.next()?).ok()?;
        let monitor = Slug::parse(parts.next()?).ok()?;
        let owner = match kind {
            "service" => Owner::Service(owner),
            "host" => Owner::Host(owner),
            _ => return None,
        };
        Some(MonitorKey { owner, monitor })
    }
}

impl fmt::Display for MonitorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.owner {
            Owner::Service(s) => write!(f, "service/{s}/{}", self.monitor),
            Owner::Host(h) => write!(f, "host/{h}/{}", self.monitor),
        }
    }
}

/// Every monitor of the catalog with its key: services' first, then hosts'.
pub fn monitors(catalog: &Catalog) -> impl Iterator<Item = (MonitorKey, &Monitor)> {
    let services = catalog.services.iter().flat_map(|s| {
        s.monitors
            .iter()
            .map(move |m| (MonitorKey::service(&s.id, &m.id), m))
    });
    let hosts = catalog.hosts.iter().flat_map(|h| {
        h.monitors
            .iter()
            .map(move |m| (MonitorKey::host(&h.id, &m.id), m))
    });
    services.chain(hosts)
}

/// A monitor's current state after confirmation and quorum. Absent from the input = no data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorStatus {
    pub outcome: CheckOutcome,
    /// The reason as the engine keeps it: a stored [`Reason`] (or, from an older version,
    /// words shown as they are).
    pub reason: Option<String>,
}

/// A maintenance window for some services.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MaintenanceWindow {
    pub services: Vec<Slug>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl MaintenanceWindow {
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.starts_at <= now && now < self.ends_at
    }
}

/// What the rollup reads besides the catalog.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    pub monitors: HashMap<MonitorKey, MonitorStatus>,
    pub maintenance: Vec<MaintenanceWindow>,
    /// The status an open incident states for a service.
    pub overrides: HashMap<Slug, ComponentStatus>,
}

/// Why a service or host has the status it has.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Cause {
    /// One of its own monitors.
    Monitor {
        monitor: Slug,
        outcome: CheckOutcome,
        reason: Option<Reason>,
    },
    /// A host in its chain is down.
    Host {
        host: Slug,
    },
    /// A service it depends on has an outage.
    Dependency {
        service: Slug,
    },
    Maintenance,
    Incident,
}

impl Cause {
    /// The stored form (JSON of the kind and its parameters), which pages word in the
    /// reader's language.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads the stored form; `None` for a value that is not one (never interpreted).
    pub fn from_stored(stored: &str) -> Option<Self> {
        serde_json::from_str(stored).ok()
    }

    /// The instant the cause's reason names (a heartbeat's), if any.
    pub fn instant(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        match self {
            Cause::Monitor {
                reason: Some(r), ..
            } => r.instant(),
            _ => None,
        }
    }
}

/// The English words of a cause (logs, the JSON APIs).
impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Monitor {
                monitor,
                reason: Some(r),
                ..
            } => write!(f, "monitor {monitor}: {r}"),
            Cause::Monitor {
                monitor, outcome, ..
            } => write!(f, "monitor {monitor} {}", outcome.as_str()),
            Cause::Host { host } => write!(f, "host {host} unreachable"),
            Cause::Dependency { service } => write!(f, "depends on {service}"),
            Cause::Maintenance => f.write_str("scheduled maintenance"),
            Cause::Incident => f.write_str("stated by an open incident"),
        }
    }
}

/// The status of one service or host, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollup {
    pub state: ServiceState,
    /// Set whenever the state is not operational and not no data.
    pub cause: Option<Cause>,
}

impl Rollup {
    const NO_DATA: Rollup = Rollup {
        state: ServiceState::NoData,
        cause: None,
    };

    fn known(status: ComponentStatus, cause: Option<Cause>) -> Self {
        Rollup {
            state: ServiceState::Known(status),
            cause: if status == ComponentStatus::Operational {
                None
            } else {
                cause
            },
        }
    }

    /// The cause as stored with the status ([`Cause::to_stored`]): what status events and the
    /// current status keep, and what the engine compares to tell a change.
    pub fn stored_cause(&self) -> Option<String> {
        let cause = self.cause.as_ref()?;
        self.sentence()?;
        Some(cause.to_stored())
    }

    /// The English sentence of the status and its cause, e.g. `down: host phys-2 unreachable`
    /// (logs, tests and the JSON API).
    pub fn sentence(&self) -> Option<String> {
        sentence(self.state, self.cause.as_ref()?)
    }

    fn status(&self) -> Option<ComponentStatus> {
        match self.state {
            ServiceState::Known(s) => Some(s),
            ServiceState::NoData => None,
        }
    }
}

/// `down: host phys-2 unreachable`: a status and its cause in English; `None` when the
/// status needs no cause (operational, no data).
pub fn sentence(state: ServiceState, cause: &Cause) -> Option<String> {
    let word = match state {
        ServiceState::Known(ComponentStatus::MajorOutage) => "down",
        ServiceState::Known(ComponentStatus::PartialOutage) => "partial outage",
        ServiceState::Known(ComponentStatus::DegradedPerformance) => "degraded",
        ServiceState::Known(ComponentStatus::UnderMaintenance) => "maintenance",
        ServiceState::Known(ComponentStatus::Operational) | ServiceState::NoData => return None,
    };
    Some(format!("{word}: {cause}"))
}

/// Every service's and host's status.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Topology {
    pub services: BTreeMap<Slug, Rollup>,
    pub hosts: BTreeMap<Slug, Rollup>,
}

/// Computes the status of every service and host of `catalog` at `now`.
pub fn rollup(catalog: &Catalog, inputs: &Inputs, now: DateTime<Utc>) -> Topology {
    let hosts: HashMap<&Slug, &Host> = catalog.hosts.iter().map(|h| (&h.id, h)).collect();
    let services: HashMap<&Slug, &Service> = catalog.services.iter().map(|s| (&s.id, s)).collect();
    let mut r = Roller {
        inputs,
        now,
        hosts,
        services,
        service_memo: HashMap::new(),
        visiting: HashSet::new(),
    };
    let host_rollups = catalog
        .hosts
        .iter()
        .map(|h| (h.id.clone(), r.host(h)))
        .collect();
    let service_rollups = catalog
        .services
        .iter()
        .map(|s| (s.id.clone(), r.service(s)))
        .collect();
    Topology {
        services: service_rollups,
        hosts: host_rollups,
    }
}

/// Contributors of equal status are ranked by how deep a cause they are.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Depth {
    Monitor,
    Dependency,
    Host,
}

struct Roller<'a> {
    inputs: &'a Inputs,
    now: DateTime<Utc>,
    hosts: HashMap<&'a Slug, &'a Host>,
    services: HashMap<&'a Slug, &'a Service>,
    service_memo: HashMap<Slug, Rollup>,
    visiting: HashSet<Slug>,
}

impl<'a> Roller<'a> {
    /// Worst of the owner's monitors; `None` when none has data.
    fn own(&self, owner: &Owner, monitors: &[Monitor]) -> Option<(ComponentStatus, Cause)> {
        monitors
            .iter()
            .filter_map(|m| {
                let key = MonitorKey {
                    owner: owner.clone(),
                    monitor: m.id.clone(),
                };
                self.inputs.monitors.get(&key).map(|s| {
                    (
                        s.outcome.component_status(),
                        Cause::Monitor {
                            monitor: m.id.clone(),
                            outcome: s.outcome,
                            reason: s.reason.as_deref().map(Reason::from_stored),
                        },
                    )
                })
            })
            // First of the worst, in configured order.
            .fold(
                None,
                |best: Option<(ComponentStatus, Cause)>, c| match best {
                    Some(b) if b.0 >= c.0 => Some(b),
                    _ => Some(c),
                },
            )
    }

    /// Whether a host's own monitors say it is down.
    fn host_itself_down(&self, host: &Host) -> bool {
        self.own(&Owner::Host(host.id.clone()), &host.monitors)
            .is_some_and(|(s, _)| s == ComponentStatus::MajorOutage)
    }

    /// The topmost down host in the chain starting at `start` (itself included).
    fn down_root(&self, start: &Slug) -> Option<Slug> {
        let mut root = None;
        let mut cur = self.hosts.get(start).copied();
        let mut steps = 0;
        while let Some(h) = cur {
            if self.host_itself_down(h) {
                root = Some(h.id.clone());
            }
            steps += 1;
            if steps > self.hosts.len() {
                break; // a cycle; validation forbids it, but never loop forever
            }
            cur = h.parent.as_ref().and_then(|p| self.hosts.get(p).copied());
        }
        root
    }

    fn host(&self, host: &Host) -> Rollup {
        let own = self.own(&Owner::Host(host.id.clone()), &host.monitors);
        let above = host.parent.as_ref().and_then(|p| self.down_root(p));
        if let Some(root) = above {
            return Rollup::known(
                ComponentStatus::MajorOutage,
                Some(Cause::Host { host: root }),
            );
        }
        match own {
            Some((status, cause)) => Rollup::known(status, Some(cause)),
            // A host without monitors is assumed up unless its chain says otherwise.
            None if host.monitors.is_empty() => Rollup::known(ComponentStatus::Operational, None),
            None => Rollup::NO_DATA,
        }
    }

    fn service(&mut self, service: &'a Service) -> Rollup {
        if let Some(r) = self.service_memo.get(&service.id) {
            return r.clone();
        }
        if !self.visiting.insert(service.id.clone()) {
            // A dependency cycle (validation forbids it): this edge contributes nothing.
            return Rollup::NO_DATA;
        }
        let computed = self.computed(service);
        self.visiting.remove(&service.id);
        let overridden = if let Some(stated) = self.inputs.overrides.get(&service.id) {
            // Staff's word wins, but when the probes say the same the page keeps their more
            // precise cause ("host phys-2 unreachable" rather than "stated by an incident").
            if computed.status() == Some(*stated) {
                computed
            } else {
                Rollup::known(*stated, Some(Cause::Incident))
            }
        } else if self
            .inputs
            .maintenance
            .iter()
            .any(|w| w.is_active(self.now) && w.services.contains(&service.id))
        {
            Rollup::known(ComponentStatus::UnderMaintenance, Some(Cause::Maintenance))
        } else {
            computed
        };
        self.service_memo
            .insert(service.id.clone(), overridden.clone());
        overridden
    }

    fn computed(&mut self, service: &'a Service) -> Rollup {
        let mut contributors: Vec<(ComponentStatus, Depth, Cause)> = Vec::new();
        let own = self.own(&Owner::Service(service.id.clone()), &service.monitors);
        let has_data = own.is_some();
        if let Some((status, cause)) = own {
            contributors.push((status, Depth::Monitor, cause));
        }
        if let Some(root) = service.host.as_ref().and_then(|h| self.down_root(h)) {
            contributors.push((
                ComponentStatus::MajorOutage,
                Depth::Host,
                Cause::Host { host: root },
            ));
        }
        for dep in &service.depends_on {
            let Some(target) = self.services.get(&dep.service).copied() else {
                continue;
            };
            let Some(status) = self.service(target).status() else {
                continue;
            };
            let passed = match status {
                ComponentStatus::MajorOutage | ComponentStatus::PartialOutage if !dep.hard => {
                    Some(ComponentStatus::PartialOutage)
                }
                ComponentStatus::MajorOutage
                | ComponentStatus::PartialOutage
                | ComponentStatus::DegradedPerformance
                    if dep.hard =>
                {
                    Some(status)
                }
                _ => None,
            };
            if let Some(s) = passed {
                contributors.push((
                    s,
                    Depth::Dependency,
                    Cause::Dependency {
                        service: dep.service.clone(),
                    },
                ));
            }
        }
        // Worst status first, then the deepest cause; the first such contributor wins.
        let worst = contributors.into_iter().fold(
            None,
            |best: Option<(ComponentStatus, Depth, Cause)>, c| match &best {
                Some(b) if (b.0, b.1) >= (c.0, c.1) => best,
                _ => Some(c),
            },
        );
        match worst {
            Some((status, _, cause)) => Rollup::known(status, Some(cause)),
            None if has_data => Rollup::known(ComponentStatus::Operational, None),
            None => Rollup::NO_DATA,
        }
    }
}

/// What changed between two rollups, for events and the live broadcast.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub subject: Owner,
    pub from: Option<ServiceState>,
    pub to: ServiceState,
    /// `stored_cause()` of the new rollup: the stored form of its [`Cause`].
    pub cause: Option<String>,
    pub at: DateTime<Utc>,
}

/// Services and hosts whose state or cause differs between `old` and `new`.
pub fn changes(old: &Topology, new: &Topology, at: DateTime<Utc>) -> Vec<StatusChange> {
    let diff = |olds: &BTreeMap<Slug, Rollup>,
                news: &BTreeMap<Slug, Rollup>,
                wrap: fn(Slug) -> Owner|
     -> Vec<StatusChange> {
        news.iter()
            .filter(|(id, r)| olds.get(*id) != Some(*r))
            .map(|(id, r)| StatusChange {
                subject: wrap(id.clone()),
                from: olds.get(id).map(|o| o.state),
                to: r.state,
                cause: r.stored_cause(),
                at,
            })
            .collect()
    };
    let mut out = diff(&old.services, &new.services, Owner::Service);
    out.extend(diff(&old.hosts, &new.hosts, Owner::Host));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;
    use chrono::TimeZone;
    use ComponentStatus::*;

    const CATALOG: &str = r#"
[site]
title = "T"

[[hosts]]
id = "phys-1"
kind = "physical"
[[hosts.monitors]]
id = "ssh"
kind = "tcp"
target = "127.0.0.1:22"

[[hosts]]
id = "vm-a"
kind = "vm"
parent = "phys-1"
[[hosts.monitors]]
id = "ssh"
kind = "tcp"
target = "127.0.0.1:22"

[[hosts]]
id = "vm-b"
kind = "vm"
parent = "phys-1"

[[hosts]]
id = "phys-2"
kind = "physical"

[[groups]]
id = "g"
name = "G"

[[services]]
id = "db"
name = "DB"
group = "g"
host = "vm-a"
[[services.monitors]]
id = "port"
kind = "tcp"
target = "127.0.0.1:5432"

[[services]]
id = "web"
name = "Web"
group = "g"
host = "phys-2"
depends_on = ["db"]
[[services.monitors]]
id = "home"
kind = "http"
target = "http://127.0.0.1/"
[[services.monitors]]
id = "api"
kind = "http"
target = "http://127.0.0.1/api"

[[services]]
id = "forum"
name = "Forum"
group = "g"
host = "phys-2"
depends_on_hard = ["db"]
[[services.monitors]]
id = "home"
kind = "http"
target = "http://127.0.0.1/"

[[services]]
id = "files"
name = "Files"
group = "g"
host = "vm-b"
[[services.monitors]]
id = "nfs"
kind = "tcp"
target = "127.0.0.1:2049"
"#;

    fn slug(s: &str) -> Slug {
        Slug::parse(s).expect("slug")
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0)
            .single()
            .expect("time")
    }

    fn all_up(c: &Catalog) -> Inputs {
        Inputs {
            monitors: monitors(c)
                .map(|(k, _)| {
                    (
                        k,
                        MonitorStatus {
                            outcome: CheckOutcome::Up,
                            reason: None,
                        },
                    )
                })
                .collect(),
            ..Inputs::default()
        }
    }

    fn set(inputs: &mut Inputs, key: &str, outcome: CheckOutcome, reason: Option<&str>) {
        inputs.monitors.insert(
            MonitorKey::parse(key).expect("key"),
            MonitorStatus {
                outcome,
                reason: reason.map(str::to_owned),
            },
        );
    }

    fn catalog() -> Catalog {
        parse("t.toml", CATALOG).expect("valid")
    }

    fn status(t: &Topology, id: &str) -> ServiceState {
        t.services[&slug(id)].state
    }

    fn cause(t: &Topology, id: &str) -> Option<String> {
        t.services[&slug(id)].sentence()
    }

    #[test]
    fn monitor_key_round_trips_through_its_text() {
        for text in ["service/web/home", "host/phys-1/ssh"] {
            let k = MonitorKey::parse(text).expect("parses");
            assert_eq!(k.to_string(), text);
        }
        assert_eq!(MonitorKey::parse("disk/x/y"), None);
        assert_eq!(MonitorKey::parse("service/x"), None);
        assert_eq!(MonitorKey::parse("service/X/y"), None);
    }

    #[test]
    fn everything_up_is_operational_without_cause() {
        let c = catalog();
        let t = rollup(&c, &all_up(&c), now());
        for r in t.services.values().chain(t.hosts.values()) {
            assert_eq!(r.state, ServiceState::Known(Operational));
            assert_eq!(r.cause, None);
        }
    }

    #[test]
    fn no_results_at_all_is_no_data_never_operational() {
        let c = catalog();
        let t = rollup(&c, &Inputs::default(), now());
        for id in ["db", "web", "forum", "files"] {
            assert_eq!(status(&t, id), ServiceState::NoData, "{id}");
        }
        assert_eq!(t.hosts[&slug("phys-1")].state, ServiceState::NoData);
        // A host without monitors has nothing that could say it is down.
        assert_eq!(
            t.hosts[&slug("phys-2")].state,
            ServiceState::Known(Operational)
        );
    }

    #[test]
    fn a_service_is_the_worst_of_its_own_monitors_with_that_monitor_as_cause() {
        let c = catalog();
        let mut i = all_up(&c);
        set(
            &mut i,
            "service/web/api",
            CheckOutcome::Degraded,
            Some("slow: 2300 ms"),
        );
        let t = rollup(&c, &i, now());
        assert_eq!(status(&t, "web"), ServiceState::Known(DegradedPerformance));
        assert_eq!(
            cause(&t, "web").as_deref(),
            Some("degraded: monitor api: slow: 2300 ms")
        );
        set(&mut i, "service/web/home", CheckOutcome::Down, None);
        let t = rollup(&c, &i, now());
        assert_eq!(status(&t, "web"), ServiceState::Known(MajorOutage));
        assert_eq!(cause(&t, "web").as_deref(), Some("down: monitor home down"));
    }

    #[test]
    fn a_service_with_some_monitors_reporting_uses_those() {
        let c = catalog();
        let mut i = Inputs::default();
        set(&mut i, "service/web/home", CheckOutcome::Up, None);
        let t = rollup(&c, &i, now());
        assert_eq!(status(&t, "web"), ServiceState::Known(Operational));
    }

    #[test]
    fn service_on_cut_host_is_down_with_host_as_cause() {
        let c = catalog();
        let mut i = all_up(&c);
        set(
            &mut i,
            "host/phys-1/ssh",
            CheckOutcome::Down,
            Some("timeout"),
        );
        let t = rollup(&c, &i, now());
        assert_eq!(status(&t, "db"), ServiceState::Known(MajorOutage));
        assert_eq!(
            cause(&t, "db").as_deref(),
            Some("down: host phys-1 unreachable")
        );
        // vm-b has no monitor of its own but sits on phys-1.
        assert_eq!(status(&t, "files"), ServiceState::Known(MajorOutage));
        assert_eq!(
            t.hosts[&slug("vm-b")].cause,
            Some(Cause::Host {
                host: slug("phys-1")
            })
        );
        assert_eq!(
            t.hosts[&slug("phys-1")].state,
            ServiceState::Known(MajorOutage)
        );
    }

    #[test]
    fn the_topmost_down_host_is_the_cause_even_when_the_vm_is_down_too() {
        let c = catalog();
        let mut i = all_up(&c);
        set(&mut i, "host/phys-1/ssh", CheckOutcome::Down, None);
        set(&mut i, "host/vm-a/ssh", CheckOutcome::Down, None);
        set(
            &mut i,
            "service/db/port",
            CheckOutcome::Down,
            Some("refused"),
        );
        let t = rollup(&c, &i, now());
        assert_eq!(
            cause(&t, "db").as_deref(),
            Some("down: host phys-1 unreachable")
        );
        assert_eq!(
            t.hosts[&slug("vm-a")].cause,
            Some(Cause::Host {
                host: slug("phys-1")
            })
        );
    }

    #[test]
    fn a_down_vm_takes_its_services_down_but_not_its_siblings() {
        let c = catalog();
        let mut i = all_up(&c);
        set(&mut i, "host/vm-a/ssh", CheckOutcome::Down, None);
        let t = rollup(&c, &i, now());
        assert_eq!(
            cause(&t, "db").as_deref(),
            Some("down: host vm-a unreachable")
        );
        assert_eq!(status(&t, "files"), ServiceState::Known(Operational));
        assert_eq!(
            t.hosts[&slug("phys-1")].state,
            ServiceState::Known(Operational)
        );
    }

    #[test]
    fn a_degraded_host_does_not_take_services_down() {
        let c = catalog();
        let mut i = all_up(&c);
        set(&mut i, "host/phys-1/ssh", CheckOutcome::Degraded, None);
        let t = rollup(&c, &i, now());
        assert_eq!(status(&t, "db"), ServiceState::Known(Operational));
        assert_eq!(
            t.hosts[&slug("phys-1")].state,
            ServiceState::Known(DegradedPerformance)
        );
    }

    #[test]
    fn a_soft_dependency_outage_is_a_partial_outage_caused_by_the_dependency() {
        let c = catalog();
        let mut i = all_up(&c);
        set(
            &mut i,
            "service/db/port",
            CheckOutcome::Down,
            Some("refused"),
        );
        let t = rollup(&c, &i, now());
        assert_eq!(status(&t, "db"), ServiceState::Known(MajorOutage));
        assert_eq!(status(&t, "web"), ServiceState::Known(PartialOutage));
        assert_eq!(
            cause(&t, "web").as_deref(),
            Some("partial outage: depends on db")
        );
    }

    #[test]
    fn a_hard_dependency_outage_passes_on_as_is() {
        let c = catalog();
        let mut i = all_up(&c);
        set(&mut i, "service/db/port", CheckOutcome::Down, None);
        let t = rollup(&c, &i, now());
        assert_eq!(status(&t, "forum"), ServiceState::Known(MajorOutage));
        assert_eq!(cause(&t, "forum").as_deref(), Some("down: depends on db"));
        set(&mut i, "service/db/port", CheckOutcome::Degraded, None);
        let t = rollup(&c, &i, now());
        assert_eq!(
            status(&t, "forum"),
            ServiceState::Known(DegradedPerformance)
        );
        assert_eq!(
            status(&t, "web"),
            ServiceState::Known(Operational),
            "a soft dependency's slowness is not passed on"
        );
    }

    #[test]
    fn own_outage_worse_than_dependency_keeps_the_own_cause() {
        let c = catalog();
        let mut i = all_up(&c);
        set(&mut i, "service/db/port", CheckOutcome::Down, None);
        set(
            &mut i,
            "service/web/home",
            CheckOutcome::Down,
            Some("HTTP 500"),
        );
        let t = rollup(&c, &i, now());
        assert_eq!(status(&t, "web"), ServiceState::Known(MajorOutage));
        assert_eq!(
            cause(&t, "web").as_deref(),
            Some("down: monitor home: HTTP 500")
        );
    }

    #[test]
    fn host_cause_wins_over_an_equally_bad_own_monitor() {
        let c = catalog();
        let mut i = all_up(&c);
        set(&mut i, "host/phys-1/ssh", CheckOutcome::Down, None);
        set(
            &mut i,
            "service/db/port",
            CheckOutcome::Down,
            Some("timeout"),
        );
        let t = rollup(&c, &i, now());
        assert_eq!(
            t.services[&slug("db")].cause,
            Some(Cause::Host {
                host: slug("phys-1")
            })
        );
    }

    #[test]
    fn dependency_on_a_service_without_data_changes_nothing() {
        let c = catalog();
        let mut i = all_up(&c);
        i.monitors
            .remove(&MonitorKey::parse("service/db/port").expect("key"));
        let t = rollup(&c, &i, now());
        assert_eq!(status(&t, "db"), ServiceState::NoData);
        assert_eq!(status(&t, "web"), ServiceState::Known(Operational));
    }

    #[test]
    fn a_host_without_data_is_no_data_but_does_not_take_services_down() {
        let c = catalog();
        let mut i = all_up(&c);
        i.monitors
            .remove(&MonitorKey::parse("host/phys-1/ssh").expect("key"));
        let t = rollup(&c, &i, now());
        assert_eq!(t.hosts[&slug("phys-1")].state, ServiceState::NoData);
        assert_eq!(status(&t, "db"), ServiceState::Known(Operational));
    }

    #[test]
    fn active_maintenance_shows_under_maintenance_and_stops_at_its_end() {
        let c = catalog();
        let mut i = all_up(&c);
        set(&mut i, "service/db/port", CheckOutcome::Down, None);
        i.maintenance.push(MaintenanceWindow {
            services: vec![slug("db")],
            starts_at: now() - chrono::Duration::hours(1),
            ends_at: now() + chrono::Duration::hours(1),
        });
        let t = rollup(&c, &i, now());
        assert_eq!(status(&t, "db"), ServiceState::Known(UnderMaintenance));
        assert_eq!(
            cause(&t, "db").as_deref(),
            Some("maintenance: scheduled maintenance")
        );
        assert_eq!(
            status(&t, "web"),
            ServiceState::Known(Operational),
            "planned work on a dependency is not an outage"
        );
        let later = rollup(&c, &i, now() + chrono::Duration::hours(2));
        assert_eq!(status(&later, "db"), ServiceState::Known(MajorOutage));
        let earlier = rollup(&c, &i, now() - chrono::Duration::hours(2));
        assert_eq!(status(&earlier, "db"), ServiceState::Known(MajorOutage));
    }

    #[test]
    fn an_open_incident_overrides_computed_status_and_maintenance() {
        let c = catalog();
        let mut i = all_up(&c);
        i.overrides.insert(slug("web"), PartialOutage);
        i.overrides.insert(slug("db"), Operational);
        set(&mut i, "service/db/port", CheckOutcome::Down, None);
        i.maintenance.push(MaintenanceWindow {
            services: vec![slug("web")],
            starts_at: now() - chrono::Duration::hours(1),
            ends_at: now() + chrono::Duration::hours(1),
        });
        let t = rollup(&c, &i, now());
        assert_eq!(status(&t, "web"), ServiceState::Known(PartialOutage));
        assert_eq!(t.services[&slug("web")].cause, Some(Cause::Incident));
        assert_eq!(status(&t, "db"), ServiceState::Known(Operational));
        assert_eq!(t.services[&slug("db")].cause, None);
        // Dependents see the stated status, not the computed one.
        assert_eq!(status(&t, "forum"), ServiceState::Known(Operational));
    }

    #[test]
    fn a_stated_status_the_probes_agree_with_keeps_the_probes_cause() {
        let c = catalog();
        let mut i = all_up(&c);
        set(&mut i, "service/db/port", CheckOutcome::Down, None);
        let computed = rollup(&c, &i, now()).services[&slug("db")].cause.clone();
        assert!(computed.is_some() && computed != Some(Cause::Incident));
        i.overrides.insert(slug("db"), MajorOutage);
        let t = rollup(&c, &i, now());
        assert_eq!(status(&t, "db"), ServiceState::Known(MajorOutage));
        assert_eq!(t.services[&slug("db")].cause, computed);
    }

    #[test]
    fn changes_list_only_what_moved_with_its_cause() {
        let c = catalog();
        let before = rollup(&c, &all_up(&c), now());
        let mut i = all_up(&c);
        set(&mut i, "host/vm-a/ssh", CheckOutcome::Down, None);
        let after = rollup(&c, &i, now());
        let ch = changes(&before, &after, now());
        let subjects: Vec<String> = ch
            .iter()
            .map(|c| match &c.subject {
                Owner::Service(s) => format!("service {s}"),
                Owner::Host(h) => format!("host {h}"),
            })
            .collect();
        assert_eq!(
            subjects,
            vec!["service db", "service forum", "service web", "host vm-a"]
        );
        assert_eq!(ch[0].from, Some(ServiceState::Known(Operational)));
        assert_eq!(ch[0].to, ServiceState::Known(MajorOutage));
        // Stored as data: the kind and its parameters.
        assert_eq!(
            ch[0].cause.as_deref().and_then(Cause::from_stored),
            Some(Cause::Host { host: slug("vm-a") })
        );
        assert!(changes(&after, &after, now()).is_empty());
        let first = changes(&Topology::default(), &before, now());
        assert_eq!(first.len(), 4 + 4);
        assert!(first.iter().all(|c| c.from.is_none()));
    }

    /// The outage this product exists for: physical hosts 1 and 2 vanish. Every service on
    /// them is down with its host named; everything else keeps its own status.
    #[test]
    fn humanoid_outage_phys_1_and_phys_2_cut_takes_down_exactly_their_services() {
        let text = include_str!("../../config/humanoid.toml");
        let c = parse("config/humanoid.toml", text).expect("valid");
        let mut i = all_up(&c);
        // The hosts' SSH checks fail, and so does every probe of a service living on them.
        let on = |h: &str| -> Vec<&str> {
            match h {
                "phys-1" => vec!["databases", "forum"],
                _ => vec![
                    "frandroid",
                    "appxoid",
                    "lesardoises",
                    "android-bundle",
                    "frawin",
                    "mobs",
                    "project-files",
                ],
            }
        };
        for host in ["phys-1", "phys-2"] {
            set(
                &mut i,
                &format!("host/{host}/ssh"),
                CheckOutcome::Down,
                Some("timeout"),
            );
            for s in on(host) {
                for (k, _) in monitors(&c).filter(|(k, _)| k.owner == Owner::Service(slug(s))) {
                    i.monitors.insert(
                        k,
                        MonitorStatus {
                            outcome: CheckOutcome::Down,
                            reason: Some("connection timed out".into()),
                        },
                    );
                }
            }
        }
        let t = rollup(&c, &i, now());
        for host in ["phys-1", "phys-2"] {
            for s in on(host) {
                assert_eq!(status(&t, s), ServiceState::Known(MajorOutage), "{s}");
                assert_eq!(
                    cause(&t, s),
                    Some(format!("down: host {host} unreachable")),
                    "{s}"
                );
            }
        }
        let down: Vec<&str> = t
            .services
            .iter()
            .filter(|(_, r)| r.state == ServiceState::Known(MajorOutage))
            .map(|(id, _)| id.as_str())
            .collect();
        assert_eq!(down.len(), 9, "{down:?}");
        for s in ["backups", "database-replica"] {
            assert_eq!(status(&t, s), ServiceState::Known(Operational), "{s}");
        }
        for h in ["phys-3", "phys-4", "vm-backup", "vm-db-replica"] {
            assert_eq!(
                t.hosts[&slug(h)].state,
                ServiceState::Known(Operational),
                "{h}"
            );
        }
        assert_eq!(
            t.hosts[&slug("vm-frandroid")].cause,
            Some(Cause::Host {
                host: slug("phys-2")
            })
        );
    }

    #[test]
    fn humanoid_phys_1_alone_cut_leaves_the_sites_in_partial_outage_through_the_databases() {
        let text = include_str!("../../config/humanoid.toml");
        let c = parse("config/humanoid.toml", text).expect("valid");
        let mut i = all_up(&c);
        set(&mut i, "host/phys-1/ssh", CheckOutcome::Down, None);
        let t = rollup(&c, &i, now());
        assert_eq!(
            cause(&t, "forum").as_deref(),
            Some("down: host phys-1 unreachable")
        );
        assert_eq!(status(&t, "frandroid"), ServiceState::Known(PartialOutage));
        assert_eq!(
            cause(&t, "frandroid").as_deref(),
            Some("partial outage: depends on databases")
        );
    }
}
