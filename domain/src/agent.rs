//! What central and a remote probe agent say to each other (`GET /api/v1/agent/config`,
//! `POST /api/v1/agent/results`): plain serde types, shared so both sides read one definition.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::{Monitor, MonitorSpec, Slug};
use crate::topology::MonitorKey;

/// The monitors an agent's location probes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentConfig {
    pub location: String,
    pub monitors: Vec<AgentMonitor>,
}

/// One monitor as an agent receives it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentMonitor {
    /// `service/<id>/<monitor>` or `host/<id>/<monitor>`: results carry it back.
    pub key: String,
    pub target: String,
    pub interval_ms: u64,
    pub timeout_ms: u64,
    pub retry_interval_ms: u64,
    pub degraded_after_ms: Option<u64>,
    /// `kind` and that kind's `settings` (headers, keyword, expected status, …), side by
    /// side; push monitors never leave central.
    #[serde(flatten)]
    pub spec: MonitorSpec,
}

impl AgentMonitor {
    /// The monitor to run: central confirms results itself, so the agent confirms each at
    /// once (its retry interval still applies while a check fails).
    pub fn to_monitor(&self) -> Result<(MonitorKey, Monitor), String> {
        let key = MonitorKey::parse(&self.key).ok_or_else(|| format!("bad key {:?}", self.key))?;
        let id = self
            .key
            .rsplit('/')
            .next()
            .ok_or_else(|| format!("bad key {:?}", self.key))?;
        Ok((
            key,
            Monitor {
                id: Slug::parse(id)?,
                target: self.target.clone(),
                interval: Duration::from_millis(self.interval_ms.max(100)),
                timeout: Duration::from_millis(self.timeout_ms.max(1)),
                retry_interval: Duration::from_millis(self.retry_interval_ms.max(100)),
                confirm: 1,
                recover: 1,
                locations: Vec::new(),
                degraded_after_ms: self.degraded_after_ms,
                spec: self.spec.clone(),
            },
        ))
    }
}

/// One result an agent sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentResult {
    pub monitor: String,
    pub checked_at: DateTime<Utc>,
    /// `up`, `degraded` or `down`.
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A batch of results with its id: a batch sent twice is stored once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultBatch {
    pub batch: String,
    pub results: Vec<AgentResult>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{HttpSettings, MonitorKind};

    #[test]
    fn a_monitor_from_central_runs_as_configured() {
        let m = AgentMonitor {
            key: "service/web/home".into(),
            target: "https://example.org/".into(),
            interval_ms: 30_000,
            timeout_ms: 5_000,
            retry_interval_ms: 10_000,
            degraded_after_ms: Some(2_000),
            spec: MonitorSpec::Http(HttpSettings {
                keyword: Some("Welcome".into()),
                ..HttpSettings::default()
            }),
        };
        let text = serde_json::to_string(&m).expect("json");
        let wire: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(wire["kind"], "http");
        assert_eq!(wire["settings"], serde_json::json!({"keyword": "Welcome"}));
        let back: AgentMonitor = serde_json::from_str(&text).expect("parse");
        let (key, monitor) = back.to_monitor().expect("monitor");
        assert_eq!(key.to_string(), "service/web/home");
        assert_eq!(monitor.id.as_str(), "home");
        assert_eq!(monitor.interval, Duration::from_secs(30));
        assert_eq!(monitor.kind(), MonitorKind::Http);
        assert_eq!(monitor.spec, m.spec);
        assert!(AgentMonitor {
            key: "nonsense".into(),
            ..m
        }
        .to_monitor()
        .is_err());
    }
}
