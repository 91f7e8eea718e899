//! The catalog as code: the `vigie.toml` schema, its parsing and its validation.
//!
//! Parsing keeps the byte span of every id and reference so that each error names the file,
//! the line and column, and the offending key. Validation collects every error it finds
//! instead of stopping at the first, so an operator fixes a broken file in one pass.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::Spanned;

pub mod notify;

use crate::locale::Locale;

// ---------------------------------------------------------------------------------------------
// Validated catalog
// ---------------------------------------------------------------------------------------------

/// A validated configuration: every reference resolves, no id repeats, no cycle.
#[derive(Clone, Debug, PartialEq)]
pub struct Catalog {
    pub site: Site,
    pub retention: Retention,
    /// The location this instance probes from (`[probe] location`, default `local`).
    pub probe_location: Slug,
    /// How long a service stays in `major_outage`, with no open incident naming it, before
    /// Vigie proposes an incident draft to staff (`[probe] draft_after`, default 5 minutes).
    pub draft_after: Duration,
    /// How the server runs (`[server]`).
    pub server: ServerSettings,
    pub locations: Vec<Location>,
    pub hosts: Vec<Host>,
    pub groups: Vec<Group>,
    pub services: Vec<Service>,
    /// `[notifications]`: how readers' and staff's messages leave.
    pub notifications: notify::Notifications,
    /// `[[alerts]]`: the staff's alert channels.
    pub alerts: Vec<notify::AlertChannel>,
}

impl Catalog {
    pub fn monitor_count(&self) -> usize {
        self.services
            .iter()
            .map(|s| s.monitors.len())
            .sum::<usize>()
            + self.hosts.iter().map(|h| h.monitors.len()).sum::<usize>()
    }

    /// One line for `vigie check-config`.
    pub fn summary(&self) -> String {
        format!(
            "{} services, {} monitors, {} hosts, {} groups, {} locations",
            self.services.len(),
            self.monitor_count(),
            self.hosts.len(),
            self.groups.len(),
            self.locations.len()
        )
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Site {
    pub title: String,
    pub base_url: String,
    pub default_locale: Locale,
    /// The site's timezone (IANA name in the file): days, dates and times are shown in it.
    pub timezone: chrono_tz::Tz,
}

/// `[server]`: limits of the serving process.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerSettings {
    /// The byte ceiling of the public response cache (`cache_mb`, default 64 MB): what a
    /// flood of requests can make the process hold in rendered pages.
    pub cache_bytes: u64,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            cache_bytes: 64 * 1024 * 1024,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Retention {
    pub raw_days: u32,
}

/// An identifier made of lowercase ASCII letters, digits and dashes, usable in URLs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Slug(String);

impl Slug {
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-');
        if ok {
            Ok(Slug(s.to_owned()))
        } else {
            Err(format!(
                "`{s}` is not a valid id: use 1 to 64 lowercase letters, digits and inner dashes"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Location {
    pub id: Slug,
    pub name: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HostKind {
    Physical,
    Vm,
}

impl HostKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HostKind::Physical => "physical",
            HostKind::Vm => "vm",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Host {
    pub id: Slug,
    pub name: String,
    pub kind: HostKind,
    pub parent: Option<Slug>,
    pub monitors: Vec<Monitor>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub id: Slug,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Dependency {
    pub service: Slug,
    /// A hard dependency passes its outage on as is; a soft one as `partial_outage`.
    pub hard: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Service {
    pub id: Slug,
    pub name: String,
    pub group: Slug,
    pub host: Option<Slug>,
    pub depends_on: Vec<Dependency>,
    pub description: Option<String>,
    pub url: Option<String>,
    pub monitors: Vec<Monitor>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MonitorKind {
    Http,
    Keyword,
    Json,
    Tcp,
    Dns,
    Tls,
    Push,
}

impl MonitorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MonitorKind::Http => "http",
            MonitorKind::Keyword => "keyword",
            MonitorKind::Json => "json",
            MonitorKind::Tcp => "tcp",
            MonitorKind::Dns => "dns",
            MonitorKind::Tls => "tls",
            MonitorKind::Push => "push",
        }
    }
}

/// Kind-specific settings, kept as written so the probe engine can read them and the
/// database can store them as JSON.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expected_status: Vec<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_redirects: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_verify: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyword: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyword_absent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_pointer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_equals: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_type: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expected: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolver: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_degraded: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_down: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavour: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Monitor {
    /// Unique within its service or host.
    pub id: Slug,
    pub kind: MonitorKind,
    pub target: String,
    pub interval: Duration,
    pub timeout: Duration,
    pub retry_interval: Duration,
    pub confirm: u32,
    pub recover: u32,
    pub locations: Vec<Slug>,
    pub degraded_after_ms: Option<u64>,
    pub settings: MonitorSettings,
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// One problem in a configuration file, located precisely.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: key `{key}`: {message}")]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub key: String,
    pub message: String,
}

/// Every problem found in one file, in file order.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Raw schema, as written in the file
// ---------------------------------------------------------------------------------------------

type S = Spanned<String>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    site: RawSite,
    #[serde(default)]
    retention: Option<RawRetention>,
    #[serde(default)]
    probe: Option<RawProbe>,
    #[serde(default)]
    server: Option<RawServer>,
    #[serde(default)]
    locations: Vec<RawLocation>,
    #[serde(default)]
    hosts: Vec<RawHost>,
    #[serde(default)]
    groups: Vec<RawGroup>,
    #[serde(default)]
    services: Vec<RawService>,
    #[serde(default)]
    notifications: Option<notify::RawNotifications>,
    #[serde(default)]
    alerts: Vec<notify::RawAlert>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSite {
    title: String,
    #[serde(default)]
    base_url: Option<String>,
    #[serde(default)]
    default_locale: Option<S>,
    #[serde(default)]
    timezone: Option<S>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetention {
    raw_days: Spanned<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProbe {
    #[serde(default)]
    location: Option<S>,
    #[serde(default)]
    draft_after: Option<S>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    #[serde(default)]
    cache_mb: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLocation {
    id: S,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHost {
    id: S,
    name: Option<String>,
    kind: HostKind,
    #[serde(default)]
    parent: Option<S>,
    #[serde(default)]
    monitors: Vec<RawMonitor>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    id: S,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    id: S,
    name: String,
    group: S,
    #[serde(default)]
    host: Option<S>,
    #[serde(default)]
    depends_on: Vec<S>,
    #[serde(default)]
    depends_on_hard: Vec<S>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    monitors: Vec<RawMonitor>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMonitor {
    #[serde(default)]
    id: Option<S>,
    kind: MonitorKind,
    #[serde(default)]
    target: Option<S>,
    #[serde(default)]
    interval: Option<S>,
    #[serde(default)]
    timeout: Option<S>,
    #[serde(default)]
    retry_interval: Option<S>,
    #[serde(default)]
    confirm: Option<Spanned<u32>>,
    #[serde(default)]
    recover: Option<Spanned<u32>>,
    #[serde(default)]
    locations: Vec<S>,
    #[serde(default)]
    degraded_after_ms: Option<u64>,
    #[serde(flatten)]
    settings: MonitorSettings,
}

// ---------------------------------------------------------------------------------------------
// Parsing and validation
// ---------------------------------------------------------------------------------------------

const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);
const DEFAULT_DRAFT_AFTER: Duration = Duration::from_secs(5 * 60);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_CONFIRM: u32 = 2;
const DEFAULT_RAW_DAYS: u32 = 7;
/// The location of an instance that names none.
pub const DEFAULT_LOCATION: &str = "local";

/// Parses and validates the text of a configuration file named `file` (used in messages).
pub fn parse(file: &str, text: &str) -> Result<Catalog, ConfigErrors> {
    let located = Locator { file, text };
    let raw: RawConfig = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => return Err(ConfigErrors(vec![located.toml_error(&e)])),
    };
    let mut v = Validator {
        loc: located,
        errors: Vec::new(),
    };
    let catalog = v.catalog(raw);
    if v.errors.is_empty() {
        Ok(catalog)
    } else {
        v.errors.sort_by_key(|e| (e.line, e.column));
        Err(ConfigErrors(v.errors))
    }
}

/// Turns byte offsets into line and column, 1-based.
struct Locator<'a> {
    file: &'a str,
    text: &'a str,
}

impl Locator<'_> {
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }

    fn error(
        &self,
        offset: usize,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> ConfigError {
        let (line, column) = self.line_col(offset);
        ConfigError {
            file: self.file.to_owned(),
            line,
            column,
            key: key.into(),
            message: message.into(),
        }
    }

    /// A syntax or schema error from the TOML parser. Its key is the name left of `=` on the
    /// offending line, or the text the error points at (an unknown key points at the key).
    fn toml_error(&self, e: &toml::de::Error) -> ConfigError {
        let span = e.span().unwrap_or(0..0);
        let mut start = span.start.min(self.text.len());
        let mut end = span.end.clamp(start, self.text.len());
        // Kind-specific monitor settings are a flattened struct, for which the parser can only
        // point at the whole table: find the unknown key inside it.
        if let Some(name) = e
            .message()
            .split('`')
            .nth(1)
            .filter(|_| e.message().starts_with("unknown field"))
        {
            // The span covers the table header; its keys follow until the next header.
            let table = &self.text[start..];
            let mut offset = 0;
            for (n, line) in table.split_inclusive('\n').enumerate() {
                let trimmed = line.trim_start();
                if n > 0 && trimmed.starts_with('[') {
                    break;
                }
                if trimmed
                    .strip_prefix(name)
                    .is_some_and(|rest| rest.trim_start().starts_with('='))
                {
                    start += offset + (line.len() - trimmed.len());
                    end = start + name.len();
                    break;
                }
                offset += line.len();
            }
        }
        let line_start = self.text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = self.text[start..]
            .find('\n')
            .map_or(self.text.len(), |i| start + i);
        let line = &self.text[line_start..line_end];
        let pointed = self.text.get(start..end).unwrap_or("").trim();
        let key = match line.split_once('=') {
            Some((lhs, _)) if start - line_start > lhs.len() => lhs.trim().to_owned(),
            _ if !pointed.is_empty() && !pointed.contains('\n') => pointed
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            _ => line
                .trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
        };
        self.error(start, key, e.message().trim().to_owned())
    }
}

struct Validator<'a> {
    loc: Locator<'a>,
    errors: Vec<ConfigError>,
}

impl Validator<'_> {
    fn push(&mut self, offset: usize, key: impl Into<String>, message: impl Into<String>) {
        let e = self.loc.error(offset, key, message);
        self.errors.push(e);
    }

    fn slug(&mut self, value: &S, key: &str) -> Slug {
        match Slug::parse(value.get_ref()) {
            Ok(s) => s,
            Err(msg) => {
                self.push(value.span().start, key, msg);
                Slug(value.get_ref().clone())
            }
        }
    }

    fn duration(&mut self, value: &Option<S>, key: &str, default: Duration) -> Duration {
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
    fn unique_ids<'x>(
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

    fn reference(&mut self, value: &S, key: &str, known: &HashSet<String>, what: &str) -> Slug {
        if !known.contains(value.get_ref()) {
            self.push(
                value.span().start,
                key,
                format!("unknown {what} `{}`", value.get_ref()),
            );
        }
        Slug(value.get_ref().clone())
    }

    fn catalog(&mut self, raw: RawConfig) -> Catalog {
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

    fn monitors(
        &mut self,
        raw: &[RawMonitor],
        owner_key: &str,
        location_ids: &HashSet<String>,
        all_locations: &[Slug],
    ) -> Vec<Monitor> {
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(raw.len());
        for (j, m) in raw.iter().enumerate() {
            let key = format!("{owner_key}.monitors[{j}]");
            let id = match &m.id {
                Some(id) => {
                    let slug = self.slug(id, &format!("{key}.id"));
                    if !seen.insert(slug.clone()) {
                        self.push(
                            id.span().start,
                            format!("{key}.id"),
                            format!("duplicate monitor id `{}`", id.get_ref()),
                        );
                    }
                    slug
                }
                None => {
                    let slug = Slug(if j == 0 {
                        m.kind.as_str().to_owned()
                    } else {
                        format!("{}-{}", m.kind.as_str(), j + 1)
                    });
                    seen.insert(slug.clone());
                    slug
                }
            };
            let target = match (&m.target, m.kind) {
                (Some(t), _) => t.get_ref().clone(),
                (None, MonitorKind::Push) => String::new(),
                (None, kind) => {
                    let at = m.id.as_ref().map_or(0, |i| i.span().start);
                    self.push(
                        at,
                        format!("{key}.target"),
                        format!("a {} monitor needs a target", kind.as_str()),
                    );
                    String::new()
                }
            };
            let interval = self.duration(&m.interval, &format!("{key}.interval"), DEFAULT_INTERVAL);
            let timeout = self.duration(
                &m.timeout,
                &format!("{key}.timeout"),
                DEFAULT_TIMEOUT.min(interval),
            );
            let retry_interval = self.duration(
                &m.retry_interval,
                &format!("{key}.retry_interval"),
                (interval / 3).max(Duration::from_secs(1)).min(interval),
            );
            if let Some(t) = &m.timeout {
                if timeout > interval {
                    self.push(
                        t.span().start,
                        format!("{key}.timeout"),
                        "timeout must not exceed interval",
                    );
                }
            }
            if let Some(g) = &m.settings.grace {
                if humantime::parse_duration(g.trim()).is_err() {
                    let at = m.id.as_ref().map_or(0, |i| i.span().start);
                    self.push(
                        at,
                        format!("{key}.grace"),
                        format!("`{g}` is not a duration; write e.g. 30s, 5m, 1h"),
                    );
                }
            }
            self.kind_settings(m, &key);
            let count = |v: &mut Self, c: &Option<Spanned<u32>>, name: &str| match c {
                None => DEFAULT_CONFIRM,
                Some(c) if *c.get_ref() == 0 => {
                    v.push(
                        c.span().start,
                        format!("{key}.{name}"),
                        "must be at least 1",
                    );
                    DEFAULT_CONFIRM
                }
                Some(c) => *c.get_ref(),
            };
            let confirm = count(self, &m.confirm, "confirm");
            let recover = count(self, &m.recover, "recover");
            let locations = if m.locations.is_empty() {
                all_locations.to_vec()
            } else {
                m.locations
                    .iter()
                    .map(|l| {
                        self.reference(l, &format!("{key}.locations"), location_ids, "location")
                    })
                    .collect()
            };
            out.push(Monitor {
                id,
                kind: m.kind,
                target,
                interval,
                timeout,
                retry_interval,
                confirm,
                recover,
                locations,
                degraded_after_ms: m.degraded_after_ms,
                settings: m.settings.clone(),
            });
        }
        out
    }

    /// Where the setting `name` of the monitor anchored at `anchor` is written: the settings
    /// are a flattened table, so the parser keeps no span for them.
    fn setting_offset(&self, anchor: usize, name: &str) -> usize {
        let text = self.loc.text;
        let anchor = anchor.min(text.len());
        let table_start = text[..anchor].rfind("[[").unwrap_or(0);
        let mut offset = table_start;
        for (n, line) in text[table_start..].split_inclusive('\n').enumerate() {
            let trimmed = line.trim_start();
            if n > 0 && trimmed.starts_with('[') {
                break;
            }
            if trimmed
                .strip_prefix(name)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
            {
                return offset + (line.len() - trimmed.len());
            }
            offset += line.len();
        }
        anchor
    }

    /// Kind-specific settings: what each kind needs, and values the probes can use.
    fn kind_settings(&mut self, m: &RawMonitor, key: &str) {
        let anchor = m
            .target
            .as_ref()
            .map(|t| t.span().start)
            .or(m.id.as_ref().map(|i| i.span().start))
            .unwrap_or(0);
        let s = &m.settings;
        let mut problems: Vec<(&str, String)> = Vec::new();
        match m.kind {
            MonitorKind::Http | MonitorKind::Keyword | MonitorKind::Json => {
                if let Some(t) = &m.target {
                    let t = t.get_ref();
                    if !(t.starts_with("http://") || t.starts_with("https://")) {
                        problems
                            .push(("target", format!("`{t}` is not an http:// or https:// URL")));
                    }
                }
                if m.kind == MonitorKind::Keyword
                    && s.keyword.is_none()
                    && s.keyword_absent.is_none()
                {
                    problems.push((
                        "keyword",
                        "a keyword monitor needs `keyword` or `keyword_absent`".into(),
                    ));
                }
                if m.kind == MonitorKind::Json && s.json_pointer.is_none() {
                    problems.push(("json_pointer", "a json monitor needs `json_pointer`".into()));
                }
                if let Some(p) = &s.json_pointer {
                    if !p.is_empty() && !p.starts_with('/') {
                        problems.push((
                            "json_pointer",
                            format!("`{p}` is not a JSON pointer; write e.g. /status"),
                        ));
                    }
                }
                if let Some(method) = &s.method {
                    let ok = !method.is_empty() && method.bytes().all(|b| b.is_ascii_alphabetic());
                    if !ok {
                        problems.push(("method", format!("`{method}` is not an HTTP method")));
                    }
                }
                if let Some(bad) = s.expected_status.iter().find(|c| !(100..=599).contains(*c)) {
                    problems.push((
                        "expected_status",
                        format!("{bad} is not an HTTP status code"),
                    ));
                }
            }
            MonitorKind::Dns => {
                if let Some(r) = &s.record_type {
                    if !["A", "AAAA", "CNAME", "MX", "TXT", "NS"]
                        .contains(&r.to_ascii_uppercase().as_str())
                    {
                        problems.push((
                            "record_type",
                            format!("`{r}` is not one of A, AAAA, CNAME, MX, TXT, NS"),
                        ));
                    }
                }
                if let Some(r) = &s.resolver {
                    let r = r.trim();
                    let ok = r.parse::<std::net::SocketAddr>().is_ok()
                        || r.parse::<std::net::IpAddr>().is_ok();
                    if !ok {
                        problems.push((
                            "resolver",
                            format!("`{r}` is not an IP address (optionally with :port)"),
                        ));
                    }
                }
            }
            MonitorKind::Tls => {
                if let (Some(down), Some(degraded)) = (s.days_down, s.days_degraded) {
                    if down > degraded {
                        problems.push(("days_down", "must not exceed `days_degraded`".into()));
                    }
                }
            }
            MonitorKind::Push => {
                match &s.token {
                    None => problems.push(("token", "a push monitor needs a `token` (its heartbeat URL is /api/v1/push/<token>)".into())),
                    Some(t) if t.len() < 8 || !t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') => {
                        problems.push(("token", "use at least 8 letters, digits, `-` or `_`".into()));
                    }
                    Some(_) => {}
                }
                if let Some(f) = &s.flavour {
                    if f != "backup" {
                        problems.push((
                            "flavour",
                            format!("`{f}` is not a push flavour; the only one is `backup`"),
                        ));
                    }
                }
            }
            MonitorKind::Tcp => {}
        }
        for (name, message) in problems {
            let at = self.setting_offset(anchor, name);
            self.push(at, format!("{key}.{name}"), message);
        }
    }

    fn host_cycles(&mut self, hosts: &[RawHost]) {
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

    fn dependency_cycles(&mut self, services: &[RawService]) {
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

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[site]
title = "Test"

[[hosts]]
id = "phys-1"
kind = "physical"

[[hosts]]
id = "vm-db"
kind = "vm"
parent = "phys-1"

[[groups]]
id = "sites"
name = "Sites"

[[services]]
id = "db"
name = "Databases"
group = "sites"
host = "vm-db"

[[services.monitors]]
kind = "tcp"
target = "127.0.0.1:5432"
interval = "30s"

[[services]]
id = "web"
name = "Web"
group = "sites"
depends_on = ["db"]

[[services.monitors]]
kind = "http"
target = "http://127.0.0.1/"
keyword = "Hello"
"#;

    fn errors(text: &str) -> Vec<ConfigError> {
        match parse("vigie.toml", text) {
            Ok(_) => panic!("expected errors"),
            Err(ConfigErrors(e)) => e,
        }
    }

    #[test]
    fn a_valid_file_gives_a_catalog_with_defaults() {
        let c = parse("vigie.toml", GOOD).expect("valid");
        assert_eq!(c.services.len(), 2);
        assert_eq!(c.monitor_count(), 2);
        assert_eq!(c.probe_location.as_str(), "local");
        assert_eq!(c.draft_after, Duration::from_secs(300));
        let m = &c.services[0].monitors[0];
        assert_eq!(m.interval, Duration::from_secs(30));
        assert_eq!(m.confirm, 2);
        assert_eq!(m.locations, vec![Slug("local".into())]);
        assert_eq!(
            c.services[1].depends_on,
            vec![Dependency {
                service: Slug("db".into()),
                hard: false
            }]
        );
        assert_eq!(
            c.summary(),
            "2 services, 2 monitors, 2 hosts, 1 groups, 1 locations"
        );
    }

    #[test]
    fn the_timezone_is_an_iana_name_and_a_wrong_one_is_named_with_its_line() {
        let paris = parse("vigie.toml", GOOD).expect("valid");
        assert_eq!(paris.site.timezone, chrono_tz::Europe::Paris);
        let text = GOOD.replace(
            "title = \"Test\"",
            "title = \"Test\"\ntimezone = \"Europe/Pariss\"",
        );
        let e = &errors(&text)[0];
        assert_eq!(e.key, "site.timezone");
        assert_eq!(e.line, 4);
        assert!(e.message.contains("Europe/Pariss"), "{}", e.message);
        let text = GOOD.replace(
            "title = \"Test\"",
            "title = \"Test\"\ntimezone = \"America/Montreal\"",
        );
        let c = parse("vigie.toml", &text).expect("valid");
        assert_eq!(c.site.timezone, chrono_tz::America::Montreal);
    }

    #[test]
    fn the_cache_ceiling_defaults_to_64_mb_and_is_bounded() {
        let c = parse("vigie.toml", GOOD).expect("valid");
        assert_eq!(c.server.cache_bytes, 64 * 1024 * 1024);
        let text = format!("{GOOD}\n[server]\ncache_mb = 8\n");
        let c = parse("vigie.toml", &text).expect("valid");
        assert_eq!(c.server.cache_bytes, 8 * 1024 * 1024);
        let text = format!("{GOOD}\n[server]\ncache_mb = 0\n");
        let e = &errors(&text)[0];
        assert_eq!(e.key, "server.cache_mb");
        assert!(e.message.contains("1 to 65536 MB"), "{}", e.message);
    }

    #[test]
    fn syntax_error_names_line_column_and_key() {
        let text = GOOD.replace("name = \"Web\"", "name = \"Web");
        let e = &errors(&text)[0];
        assert_eq!(e.file, "vigie.toml");
        let line = text
            .lines()
            .position(|l| l.starts_with("name = \"Web"))
            .unwrap()
            + 1;
        assert_eq!(e.line, line);
        assert_eq!(e.key, "name");
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let text = GOOD.replace("keyword = \"Hello\"", "keywrod = \"Hello\"");
        let e = &errors(&text)[0];
        assert_eq!(e.key, "keywrod");
        assert_eq!(
            e.line,
            text.lines().position(|l| l.starts_with("keywrod")).unwrap() + 1
        );
        assert!(e.message.contains("unknown field"), "{}", e.message);
    }

    #[test]
    fn unknown_host_reference_is_reported_at_the_reference() {
        let text = GOOD.replace("host = \"vm-db\"", "host = \"vm-nope\"");
        let e = &errors(&text)[0];
        assert_eq!(e.key, "services[0].host");
        assert_eq!(
            e.line,
            text.lines()
                .position(|l| l.starts_with("host = \"vm-nope\""))
                .unwrap()
                + 1
        );
        assert_eq!(e.column, 8);
        assert!(e.message.contains("unknown host `vm-nope`"));
    }

    #[test]
    fn unknown_group_reference_is_reported() {
        let text = GOOD.replacen("group = \"sites\"", "group = \"nope\"", 1);
        assert!(errors(&text)
            .iter()
            .any(|e| e.key == "services[0].group" && e.message.contains("unknown group")));
    }

    #[test]
    fn duplicate_service_id_is_reported_on_the_second() {
        let text = GOOD
            .replace("id = \"web\"", "id = \"db\"")
            .replace("depends_on = [\"db\"]", "");
        let errs = errors(&text);
        assert!(
            errs.iter()
                .any(|e| e.key == "services[1].id"
                    && e.message.contains("duplicate service id `db`")),
            "{errs:?}"
        );
    }

    #[test]
    fn cycle_in_host_parents_is_reported() {
        let text = GOOD.replace(
            "id = \"phys-1\"\nkind = \"physical\"",
            "id = \"phys-1\"\nkind = \"vm\"\nparent = \"vm-db\"",
        );
        assert!(errors(&text)
            .iter()
            .any(|e| e.message.contains("cycle in parents")));
    }

    #[test]
    fn cycle_in_depends_on_is_reported() {
        let text = GOOD.replace(
            "host = \"vm-db\"",
            "host = \"vm-db\"\ndepends_on = [\"web\"]",
        );
        assert!(errors(&text)
            .iter()
            .any(|e| e.message.contains("through a cycle")));
    }

    #[test]
    fn bad_duration_is_reported_with_its_key() {
        let text = GOOD.replace("interval = \"30s\"", "interval = \"thirty seconds\"");
        let e = &errors(&text)[0];
        assert_eq!(e.key, "services[0].monitors[0].interval");
        assert!(e.message.contains("not a duration"));
    }

    #[test]
    fn draft_delay_is_read_and_checked() {
        let c = parse(
            "vigie.toml",
            &format!("{GOOD}\n[probe]\ndraft_after = \"15m\"\n"),
        )
        .expect("valid");
        assert_eq!(c.draft_after, Duration::from_secs(900));
        let text = format!("{GOOD}\n[probe]\ndraft_after = \"soon\"\n");
        let e = &errors(&text)[0];
        assert_eq!(e.key, "probe.draft_after");
        assert_eq!(e.line, text.lines().count());
    }

    #[test]
    fn vm_without_parent_and_bad_slug_are_both_reported() {
        let text = GOOD
            .replace("parent = \"phys-1\"\n", "")
            .replace("id = \"web\"", "id = \"Web Site\"");
        let errs = errors(&text);
        assert!(errs.iter().any(|e| e.message.contains("needs a parent")));
        assert!(errs.iter().any(|e| e.message.contains("not a valid id")));
    }

    #[test]
    fn http_monitor_without_target_is_reported() {
        let text = GOOD.replace("target = \"http://127.0.0.1/\"\n", "");
        assert!(errors(&text)
            .iter()
            .any(|e| e.key == "services[1].monitors[0].target"));
    }

    #[test]
    fn kind_specific_settings_are_checked_at_their_line() {
        let text = GOOD
            .replace("keyword = \"Hello\"", "kind_x = 1")
            .replace("kind_x = 1", "json_pointer = \"status\"")
            .replace(
                "target = \"http://127.0.0.1/\"",
                "target = \"127.0.0.1:80\"",
            );
        let errs = errors(&text);
        let pointer = errs
            .iter()
            .find(|e| e.key == "services[1].monitors[0].json_pointer")
            .unwrap_or_else(|| panic!("{errs:?}"));
        assert_eq!(
            pointer.line,
            text.lines()
                .position(|l| l.starts_with("json_pointer"))
                .unwrap()
                + 1
        );
        assert!(errs.iter().any(
            |e| e.key == "services[1].monitors[0].target" && e.message.contains("not an http")
        ));
    }

    #[test]
    fn monitors_of_each_kind_need_their_settings() {
        let monitor = |body: &str| {
            let text = format!(
                "[site]\ntitle = \"T\"\n[[groups]]\nid = \"g\"\nname = \"G\"\n[[services]]\nid = \"s\"\nname = \"S\"\ngroup = \"g\"\n[[services.monitors]]\n{body}\n"
            );
            parse("t.toml", &text)
                .err()
                .map(|e| e.0.into_iter().map(|e| e.message).collect::<Vec<_>>())
        };
        assert!(monitor("kind = \"keyword\"\ntarget = \"http://x/\"").is_some());
        assert!(monitor("kind = \"json\"\ntarget = \"http://x/\"").is_some());
        assert!(monitor("kind = \"dns\"\ntarget = \"x.test\"\nrecord_type = \"SRV\"").is_some());
        assert!(
            monitor("kind = \"dns\"\ntarget = \"x.test\"\nresolver = \"dns.google\"").is_some()
        );
        assert!(
            monitor("kind = \"tls\"\ntarget = \"x:443\"\ndays_down = 30\ndays_degraded = 7")
                .is_some()
        );
        assert!(monitor("kind = \"push\"").is_some());
        assert!(monitor("kind = \"push\"\ntoken = \"short\"").is_some());
        assert!(
            monitor("kind = \"push\"\ntoken = \"long-enough\"\nflavour = \"nightly\"").is_some()
        );
        assert!(
            monitor("kind = \"http\"\ntarget = \"http://x/\"\nexpected_status = [42]").is_some()
        );
        assert!(monitor("kind = \"http\"\ntarget = \"http://x/\"\nmethod = \"GE T\"").is_some());
        assert_eq!(
            monitor("kind = \"push\"\ntoken = \"long-enough\"\nflavour = \"backup\""),
            None
        );
        assert_eq!(monitor("kind = \"dns\"\ntarget = \"x.test\"\nrecord_type = \"mx\"\nresolver = \"127.0.0.1:53\""), None);
        assert_eq!(
            monitor("kind = \"json\"\ntarget = \"https://x/\"\njson_pointer = \"/a\""),
            None
        );
    }

    #[test]
    fn error_display_has_file_line_column_and_key() {
        let e = ConfigError {
            file: "a.toml".into(),
            line: 3,
            column: 7,
            key: "hosts[0].parent".into(),
            message: "unknown host `x`".into(),
        };
        assert_eq!(
            e.to_string(),
            "a.toml:3:7: key `hosts[0].parent`: unknown host `x`"
        );
    }

    #[test]
    fn the_shipped_humanoid_catalog_is_valid() {
        let text = include_str!("../../config/humanoid.toml");
        let c = parse("config/humanoid.toml", text).unwrap_or_else(|e| panic!("{e}"));
        let physical = c
            .hosts
            .iter()
            .filter(|h| h.kind == HostKind::Physical)
            .count();
        assert_eq!(physical, 4);
        for name in [
            "FrAndroid",
            "appXoid",
            "LesArdoises",
            "Android Bundle",
            "FraWin",
            "Mobs",
        ] {
            assert!(c.services.iter().any(|s| s.name == name), "{name} missing");
        }
    }
}
