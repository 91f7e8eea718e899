//! Validation of the raw file into a [`Catalog`]: ids, references, durations, cycles. Every
//! problem is collected with its place, so an operator fixes a broken file in one pass. The
//! monitors' own checks are in `monitors.rs`.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use super::locator::Locator;
use super::raw::*;
use super::*;
use crate::locale::Locale;

pub(super) struct Validator<'a> {
    pub(super) loc: Locator<'a>,
    pub(super) errors: Vec<ConfigError>,
}

impl Validator<'_> {
    pub(super) fn push(
        &mut self,
        offset: usize,
        key: impl Into<String>,
        message: impl Into<String>,
    ) {
        let e = self.loc.error(offset, key, message);
        self.errors.push(e);
    }

    pub(super) fn slug(&mut self, value: &S, key: &str) -> Slug {
        match Slug::parse(value.get_ref()) {
            Ok(s) => s,
            Err(msg) => {
                self.push(value.span().start, key, msg);
                Slug(value.get_ref().clone())
            }
        }
    }

    pub(super) fn duration(&mut self, value: &Option<S>, key: &str, default: Duration) -> Duration {
        let Some(value) = value else { return default };
        match humantime::parse_duration(value.get_ref().trim()) {
            Ok(d) if d >= Duration::from_millis(100) => d,
            Ok(_) => {
                self.push(value.span().start, key, "duration must be at least 100ms");
                default
            }
            Err(e) => {
                self.push(
                    value.span().start,
                    key,
                    format!(
                        "`{}` is not a duration ({e}); write e.g. 30s, 5m, 1h",
                        value.get_ref()
                    ),
                );
                default
            }
        }
    }

    /// Registers ids of one kind, reporting duplicates; returns the set of known ids.
    pub(super) fn unique_ids<'x>(
        &mut self,
        ids: impl Iterator<Item = (&'x S, String)>,
        what: &str,
    ) -> HashSet<String> {
        let mut seen: HashMap<String, ()> = HashMap::new();
        for (id, key) in ids {
            if seen.insert(id.get_ref().clone(), ()).is_some() {
                self.push(
                    id.span().start,
                    key,
                    format!("duplicate {what} id `{}`", id.get_ref()),
                );
            }
        }
        seen.into_keys().collect()
    }

    pub(super) fn reference(
        &mut self,
        value: &S,
        key: &str,
        known: &HashSet<String>,
        what: &str,
    ) -> Slug {
        if !known.contains(value.get_ref()) {
            self.push(
                value.span().start,
                key,
                format!("unknown {what} `{}`", value.get_ref()),
            );
        }
        Slug(value.get_ref().clone())
    }

    pub(super) fn catalog(&mut self, raw: RawConfig) -> Catalog {
        let default_locale = match &raw.site.default_locale {
            None => Locale::Fr,
            Some(l) => Locale::from_tag(l.get_ref()).unwrap_or_else(|| {
                self.push(
                    l.span().start,
                    "site.default_locale",
                    format!("unsupported locale `{}`: use fr or en", l.get_ref()),
                );
                Locale::Fr
            }),
        };
        let site = Site {
            title: raw.site.title,
            base_url: raw
                .site
                .base_url
                .unwrap_or_else(|| "http://127.0.0.1:8080".to_owned()),
            default_locale,
            timezone: match &raw.site.timezone {
                None => chrono_tz::Europe::Paris,
                Some(tz) => tz.get_ref().parse().unwrap_or_else(|_| {
                    self.push(
                        tz.span().start,
                        "site.timezone",
                        format!(
                            "unknown timezone `{}`: use an IANA name such as Europe/Paris",
                            tz.get_ref()
                        ),
                    );
                    chrono_tz::Europe::Paris
                }),
            },
        };
        let retention = Retention {
            raw_days: match &raw.retention {
                None => DEFAULT_RAW_DAYS,
                Some(r) if *r.raw_days.get_ref() == 0 => {
                    self.push(
                        r.raw_days.span().start,
                        "retention.raw_days",
                        "must be at least 1 day",
                    );
                    DEFAULT_RAW_DAYS
                }
                Some(r) => *r.raw_days.get_ref(),
            },
        };

        // Locations: when none is declared, the instance's own location is the only one.
        let mut locations: Vec<Location> = raw
            .locations
            .iter()
            .enumerate()
            .map(|(i, l)| Location {
                id: self.slug(&l.id, &format!("locations[{i}].id")),
                name: l.name.clone().unwrap_or_else(|| l.id.get_ref().clone()),
            })
            .collect();
        let mut location_ids = self.unique_ids(
            raw.locations
                .iter()
                .enumerate()
                .map(|(i, l)| (&l.id, format!("locations[{i}].id"))),
            "location",
        );
        let probe_location = match raw.probe.as_ref().and_then(|p| p.location.as_ref()) {
            Some(location) => {
                if !raw.locations.is_empty() {
                    self.reference(location, "probe.location", &location_ids, "location")
                } else {
                    self.slug(location, "probe.location")
                }
            }
            None => Slug(DEFAULT_LOCATION.to_owned()),
        };
        let draft_after = self.duration(
            &raw.probe.as_ref().and_then(|p| p.draft_after.clone()),
            "probe.draft_after",
            DEFAULT_DRAFT_AFTER,
        );
        if locations.is_empty() {
            locations.push(Location {
                id: probe_location.clone(),
                name: probe_location.to_string(),
            });
            location_ids.insert(probe_location.to_string());
        }
        let all_locations: Vec<Slug> = locations.iter().map(|l| l.id.clone()).collect();

        // Hosts
        let host_ids = self.unique_ids(
            raw.hosts
                .iter()
                .enumerate()
                .map(|(i, h)| (&h.id, format!("hosts[{i}].id"))),
            "host",
        );
        let mut hosts = Vec::with_capacity(raw.hosts.len());
        for (i, h) in raw.hosts.iter().enumerate() {
            let id = self.slug(&h.id, &format!("hosts[{i}].id"));
            let parent = h
                .parent
                .as_ref()
                .map(|p| self.reference(p, &format!("hosts[{i}].parent"), &host_ids, "host"));
            match (h.kind, &h.parent) {
                (HostKind::Vm, None) => self.push(
                    h.id.span().start,
                    format!("hosts[{i}].parent"),
                    format!("vm `{}` needs a parent physical host", h.id.get_ref()),
                ),
                (HostKind::Physical, Some(p)) => self.push(
                    p.span().start,
                    format!("hosts[{i}].parent"),
                    "a physical host has no parent",
                ),
                _ => {}
            }
            let monitors = self.monitors(
                &h.monitors,
                &format!("hosts[{i}]"),
                &location_ids,
                &all_locations,
            );
            hosts.push(Host {
                id,
                name: h.name.clone().unwrap_or_else(|| h.id.get_ref().clone()),
                kind: h.kind,
                parent,
                monitors,
            });
        }
        self.host_cycles(&raw.hosts);

        // Groups
        let group_ids = self.unique_ids(
            raw.groups
                .iter()
                .enumerate()
                .map(|(i, g)| (&g.id, format!("groups[{i}].id"))),
            "group",
        );
        let groups = raw
            .groups
            .iter()
            .enumerate()
            .map(|(i, g)| Group {
                id: self.slug(&g.id, &format!("groups[{i}].id")),
                name: g.name.clone(),
            })
            .collect();

        // Services
        let service_ids = self.unique_ids(
            raw.services
                .iter()
                .enumerate()
                .map(|(i, s)| (&s.id, format!("services[{i}].id"))),
            "service",
        );
        let mut services = Vec::with_capacity(raw.services.len());
        for (i, s) in raw.services.iter().enumerate() {
            let key = format!("services[{i}]");
            let id = self.slug(&s.id, &format!("{key}.id"));
            let group = self.reference(&s.group, &format!("{key}.group"), &group_ids, "group");
            let host = s
                .host
                .as_ref()
                .map(|h| self.reference(h, &format!("{key}.host"), &host_ids, "host"));
            let mut depends_on = Vec::new();
            for (list, hard, name) in [
                (&s.depends_on, false, "depends_on"),
                (&s.depends_on_hard, true, "depends_on_hard"),
            ] {
                for d in list {
                    let dkey = format!("{key}.{name}");
                    if d.get_ref() == s.id.get_ref() {
                        self.push(
                            d.span().start,
                            dkey,
                            format!("service `{}` cannot depend on itself", s.id.get_ref()),
                        );
                        continue;
                    }
                    let service = self.reference(d, &dkey, &service_ids, "service");
                    depends_on.push(Dependency { service, hard });
                }
            }
            let monitors = self.monitors(&s.monitors, &key, &location_ids, &all_locations);
            services.push(Service {
                id,
                name: s.name.clone(),
                group,
                host,
                depends_on,
                description: s.description.clone(),
                url: s.url.clone(),
                monitors,
            });
        }
        self.dependency_cycles(&raw.services);

        let mut server = ServerSettings::default();
        if let Some(mb) = raw.server.as_ref().and_then(|s| s.cache_mb.as_ref()) {
            if (1..=65_536).contains(mb.get_ref()) {
                server.cache_bytes = mb.get_ref() * 1024 * 1024;
            } else {
                self.push(
                    mb.span().start,
                    "server.cache_mb",
                    format!(
                        "the cache ceiling must be 1 to 65536 MB, not {}",
                        mb.get_ref()
                    ),
                );
            }
        }

        if let Some(k) = raw.server.as_ref().and_then(|s| s.instance_key.as_ref()) {
            match notify::SecretRef::parse(k.get_ref()) {
                Some(r) => server.instance_key = Some(r),
                // Said without the value: it may be the key itself.
                None => self.push(
                    k.span().start,
                    "server.instance_key",
                    "the key does not belong in the file: use ${file:PATH} or ${env:NAME}"
                        .to_owned(),
                ),
            }
        }

        let mut problems = Vec::new();
        let notifications = notify::notifications(raw.notifications, &mut problems);
        let alerts = notify::alerts(raw.alerts, &mut problems);
        for (offset, key, message) in problems {
            self.push(offset, key, message);
        }

        Catalog {
            site,
            retention,
            probe_location,
            draft_after,
            server,
            locations,
            hosts,
            groups,
            services,
            notifications,
            alerts,
        }
    }

    pub(super) fn host_cycles(&mut self, hosts: &[RawHost]) {
        let parent: HashMap<&str, &S> = hosts
            .iter()
            .filter_map(|h| h.parent.as_ref().map(|p| (h.id.get_ref().as_str(), p)))
            .collect();
        for (i, h) in hosts.iter().enumerate() {
            let start = h.id.get_ref().as_str();
            let mut cur = start;
            let mut steps = 0;
            while let Some(p) = parent.get(cur) {
                cur = p.get_ref().as_str();
                steps += 1;
                if cur == start {
                    if let Some(p) = &h.parent {
                        self.push(
                            p.span().start,
                            format!("hosts[{i}].parent"),
                            format!("host `{start}` is its own ancestor (cycle in parents)"),
                        );
                    }
                    break;
                }
                if steps > hosts.len() {
                    break;
                }
            }
        }
    }

    pub(super) fn dependency_cycles(&mut self, services: &[RawService]) {
        let edges: HashMap<&str, Vec<&str>> = services
            .iter()
            .map(|s| {
                let deps = s
                    .depends_on
                    .iter()
                    .chain(&s.depends_on_hard)
                    .map(|d| d.get_ref().as_str())
                    .collect();
                (s.id.get_ref().as_str(), deps)
            })
            .collect();
        for (i, s) in services.iter().enumerate() {
            let start = s.id.get_ref().as_str();
            // Depth-first search from each service for a path back to itself.
            let mut stack: Vec<&str> = edges.get(start).cloned().unwrap_or_default();
            let mut visited = HashSet::new();
            let mut found = false;
            while let Some(n) = stack.pop() {
                if n == start {
                    found = true;
                    break;
                }
                if visited.insert(n) {
                    if let Some(next) = edges.get(n) {
                        stack.extend(next.iter().copied());
                    }
                }
            }
            if found {
                let at = s
                    .depends_on
                    .first()
                    .or(s.depends_on_hard.first())
                    .map_or(s.id.span().start, |d| d.span().start);
                self.push(
                    at,
                    format!("services[{i}].depends_on"),
                    format!("service `{start}` depends on itself through a cycle"),
                );
            }
        }
    }
}
