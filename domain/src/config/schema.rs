//! The validated catalog: the types the rest of Vigie reads once a file has passed
//! validation, and the located errors when it has not.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{notify, MonitorSpec};
use crate::locale::Locale;

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
    /// Where the instance key is (`instance_key = "${file:PATH}"` or `"${env:NAME}"`): the
    /// 256 bits that seal TOTP secrets in the database. Never the key itself.
    pub instance_key: Option<notify::SecretRef>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            cache_bytes: 64 * 1024 * 1024,
            instance_key: None,
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
pub struct Slug(pub(super) String);

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

#[derive(Clone, Debug, PartialEq)]
pub struct Monitor {
    /// Unique within its service or host.
    pub id: Slug,
    pub target: String,
    pub interval: Duration,
    pub timeout: Duration,
    pub retry_interval: Duration,
    pub confirm: u32,
    pub recover: u32,
    pub locations: Vec<Slug>,
    pub degraded_after_ms: Option<u64>,
    /// The kind and its own settings.
    pub spec: MonitorSpec,
}

impl Monitor {
    pub fn kind(&self) -> MonitorKind {
        self.spec.kind()
    }
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
