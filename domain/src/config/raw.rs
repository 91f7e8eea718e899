//! The file as written: a mirror of the TOML with the byte span of every id and reference kept,
//! so that validation can say where each problem is. Unknown keys are refused here.

use serde::Deserialize;
use toml::Spanned;

use super::{notify, HostKind, MonitorKind, MonitorSettings};

pub(super) type S = Spanned<String>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) site: RawSite,
    #[serde(default)]
    pub(super) retention: Option<RawRetention>,
    #[serde(default)]
    pub(super) probe: Option<RawProbe>,
    #[serde(default)]
    pub(super) server: Option<RawServer>,
    #[serde(default)]
    pub(super) locations: Vec<RawLocation>,
    #[serde(default)]
    pub(super) hosts: Vec<RawHost>,
    #[serde(default)]
    pub(super) groups: Vec<RawGroup>,
    #[serde(default)]
    pub(super) services: Vec<RawService>,
    #[serde(default)]
    pub(super) notifications: Option<notify::RawNotifications>,
    #[serde(default)]
    pub(super) alerts: Vec<notify::RawAlert>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSite {
    pub(super) title: String,
    #[serde(default)]
    pub(super) base_url: Option<String>,
    #[serde(default)]
    pub(super) default_locale: Option<S>,
    #[serde(default)]
    pub(super) timezone: Option<S>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRetention {
    pub(super) raw_days: Spanned<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProbe {
    #[serde(default)]
    pub(super) location: Option<S>,
    #[serde(default)]
    pub(super) draft_after: Option<S>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServer {
    #[serde(default)]
    pub(super) cache_mb: Option<Spanned<u64>>,
    #[serde(default)]
    pub(super) instance_key: Option<S>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLocation {
    pub(super) id: S,
    pub(super) name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHost {
    pub(super) id: S,
    pub(super) name: Option<String>,
    pub(super) kind: HostKind,
    #[serde(default)]
    pub(super) parent: Option<S>,
    #[serde(default)]
    pub(super) monitors: Vec<RawMonitor>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGroup {
    pub(super) id: S,
    pub(super) name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawService {
    pub(super) id: S,
    pub(super) name: String,
    pub(super) group: S,
    #[serde(default)]
    pub(super) host: Option<S>,
    #[serde(default)]
    pub(super) depends_on: Vec<S>,
    #[serde(default)]
    pub(super) depends_on_hard: Vec<S>,
    #[serde(default)]
    pub(super) description: Option<String>,
    #[serde(default)]
    pub(super) url: Option<String>,
    #[serde(default)]
    pub(super) monitors: Vec<RawMonitor>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMonitor {
    #[serde(default)]
    pub(super) id: Option<S>,
    pub(super) kind: MonitorKind,
    #[serde(default)]
    pub(super) target: Option<S>,
    #[serde(default)]
    pub(super) interval: Option<S>,
    #[serde(default)]
    pub(super) timeout: Option<S>,
    #[serde(default)]
    pub(super) retry_interval: Option<S>,
    #[serde(default)]
    pub(super) confirm: Option<Spanned<u32>>,
    #[serde(default)]
    pub(super) recover: Option<Spanned<u32>>,
    #[serde(default)]
    pub(super) locations: Vec<S>,
    #[serde(default)]
    pub(super) degraded_after_ms: Option<u64>,
    #[serde(flatten)]
    pub(super) settings: MonitorSettings,
}
