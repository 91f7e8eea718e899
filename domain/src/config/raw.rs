//! The file as written: a mirror of the TOML with the byte span of every id and reference kept,
//! so that validation can say where each problem is. Unknown keys are refused here.

use serde::Deserialize;
use toml::Spanned;

use std::collections::BTreeMap;

use super::{notify, HostKind, MonitorKind};

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
    pub(super) settings: RawSettings,
}

/// Every kind's settings keys in one table, as the file may write them next to `kind`: a key
/// that no kind takes is refused here, with its line; one that another kind takes is refused
/// by validation, naming the monitor's kind (`monitors.rs`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSettings {
    #[serde(default)]
    pub(super) method: Option<String>,
    #[serde(default)]
    pub(super) headers: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) body: Option<String>,
    #[serde(default)]
    pub(super) expected_status: Vec<u16>,
    #[serde(default)]
    pub(super) follow_redirects: Option<bool>,
    #[serde(default)]
    pub(super) tls_verify: Option<bool>,
    #[serde(default)]
    pub(super) keyword: Option<String>,
    #[serde(default)]
    pub(super) keyword_absent: Option<String>,
    #[serde(default)]
    pub(super) json_pointer: Option<String>,
    #[serde(default)]
    pub(super) json_equals: Option<String>,
    #[serde(default)]
    pub(super) record_type: Option<String>,
    #[serde(default)]
    pub(super) expected: Vec<String>,
    #[serde(default)]
    pub(super) resolver: Option<String>,
    #[serde(default)]
    pub(super) send: Option<String>,
    #[serde(default)]
    pub(super) expect: Option<String>,
    #[serde(default)]
    pub(super) days_degraded: Option<u32>,
    #[serde(default)]
    pub(super) days_down: Option<u32>,
    #[serde(default)]
    pub(super) grace: Option<String>,
    #[serde(default)]
    pub(super) flavour: Option<String>,
    #[serde(default)]
    pub(super) token: Option<String>,
}

impl RawSettings {
    /// The keys written, in the order of this table.
    pub(super) fn written(&self) -> Vec<&'static str> {
        let set = [
            ("method", self.method.is_some()),
            ("headers", !self.headers.is_empty()),
            ("body", self.body.is_some()),
            ("expected_status", !self.expected_status.is_empty()),
            ("follow_redirects", self.follow_redirects.is_some()),
            ("tls_verify", self.tls_verify.is_some()),
            ("keyword", self.keyword.is_some()),
            ("keyword_absent", self.keyword_absent.is_some()),
            ("json_pointer", self.json_pointer.is_some()),
            ("json_equals", self.json_equals.is_some()),
            ("record_type", self.record_type.is_some()),
            ("expected", !self.expected.is_empty()),
            ("resolver", self.resolver.is_some()),
            ("send", self.send.is_some()),
            ("expect", self.expect.is_some()),
            ("days_degraded", self.days_degraded.is_some()),
            ("days_down", self.days_down.is_some()),
            ("grace", self.grace.is_some()),
            ("flavour", self.flavour.is_some()),
            ("token", self.token.is_some()),
        ];
        set.into_iter()
            .filter_map(|(name, written)| written.then_some(name))
            .collect()
    }
}
