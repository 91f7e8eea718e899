//! What each kind of monitor is told to do: one settings type per kind, so a TCP monitor
//! cannot carry a JSON pointer and each probe reads only its own kind's settings.
//!
//! `http`, `keyword` and `json` monitors share [`HttpSettings`]: the latter two are an HTTP
//! request with a body check that they require (validation says so), and an `http` monitor
//! may add the same checks (the shipped catalog's `http` monitors look for a keyword).
//!
//! Each settings type is a flat JSON object (absent values left out): that is what the
//! database keeps in `monitors.settings`, next to the kind in `monitors.kind`. Reading one
//! back ignores keys that are not the kind's (rows written before this type existed may hold
//! some: the configuration did not refuse them then).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::MonitorKind;

/// A monitor's kind with that kind's settings. On the agent wire it reads
/// `{"kind": "tcp", "settings": {"send": …}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "settings", rename_all = "lowercase")]
pub enum MonitorSpec {
    Http(HttpSettings),
    Keyword(HttpSettings),
    Json(HttpSettings),
    Tcp(TcpSettings),
    Dns(DnsSettings),
    Tls(TlsSettings),
    Push(PushSettings),
}

/// `http`, `keyword` and `json`: the request and what the answer must hold.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpSettings {
    /// `GET` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Values may be `${env:NAME}` / `${file:PATH}` references until the probe resolves them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Any of 200–399 when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expected_status: Vec<u16>,
    /// `true` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_redirects: Option<bool>,
    /// `true` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_verify: Option<bool>,
    /// Text the body must contain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyword: Option<String>,
    /// Text the body must not contain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyword_absent: Option<String>,
    /// Where in the JSON body to look (`/status`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_pointer: Option<String>,
    /// What the value at `json_pointer` must equal (strings compared unquoted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_equals: Option<String>,
}

/// `tcp`: a connection, optionally a line sent and text awaited.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TcpSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<String>,
}

/// `dns`: one lookup and the values its answer must include.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DnsSettings {
    /// `A` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_type: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expected: Vec<String>,
    /// The system's resolver when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolver: Option<String>,
}

/// `tls`: how close to its expiry a certificate may be.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TlsSettings {
    /// `true` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_verify: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_degraded: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_down: Option<u32>,
}

/// `push`: heartbeats Vigie waits for.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PushSettings {
    /// Time allowed beyond the interval, as written (`10m`); validated when parsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace: Option<String>,
    /// `backup` for backup reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavour: Option<String>,
    /// Where the token is (`${env:NAME}` / `${file:PATH}`), never the token; none: generated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl MonitorKind {
    pub const ALL: [MonitorKind; 7] = [
        MonitorKind::Http,
        MonitorKind::Keyword,
        MonitorKind::Json,
        MonitorKind::Tcp,
        MonitorKind::Dns,
        MonitorKind::Tls,
        MonitorKind::Push,
    ];

    /// The settings keys a monitor of this kind takes, as written in the file.
    pub fn setting_keys(self) -> &'static [&'static str] {
        match self {
            MonitorKind::Http | MonitorKind::Keyword | MonitorKind::Json => &[
                "method",
                "headers",
                "body",
                "expected_status",
                "follow_redirects",
                "tls_verify",
                "keyword",
                "keyword_absent",
                "json_pointer",
                "json_equals",
            ],
            MonitorKind::Tcp => &["send", "expect"],
            MonitorKind::Dns => &["record_type", "expected", "resolver"],
            MonitorKind::Tls => &["tls_verify", "days_degraded", "days_down"],
            MonitorKind::Push => &["grace", "flavour", "token"],
        }
    }
}

impl MonitorSpec {
    /// A monitor of `kind` with every setting at its default.
    pub fn new(kind: MonitorKind) -> Self {
        match kind {
            MonitorKind::Http => MonitorSpec::Http(HttpSettings::default()),
            MonitorKind::Keyword => MonitorSpec::Keyword(HttpSettings::default()),
            MonitorKind::Json => MonitorSpec::Json(HttpSettings::default()),
            MonitorKind::Tcp => MonitorSpec::Tcp(TcpSettings::default()),
            MonitorKind::Dns => MonitorSpec::Dns(DnsSettings::default()),
            MonitorKind::Tls => MonitorSpec::Tls(TlsSettings::default()),
            MonitorKind::Push => MonitorSpec::Push(PushSettings::default()),
        }
    }

    pub fn kind(&self) -> MonitorKind {
        match self {
            MonitorSpec::Http(_) => MonitorKind::Http,
            MonitorSpec::Keyword(_) => MonitorKind::Keyword,
            MonitorSpec::Json(_) => MonitorKind::Json,
            MonitorSpec::Tcp(_) => MonitorKind::Tcp,
            MonitorSpec::Dns(_) => MonitorKind::Dns,
            MonitorSpec::Tls(_) => MonitorKind::Tls,
            MonitorSpec::Push(_) => MonitorKind::Push,
        }
    }

    /// The HTTP settings of an `http`, `keyword` or `json` monitor.
    pub fn http(&self) -> Option<&HttpSettings> {
        match self {
            MonitorSpec::Http(s) | MonitorSpec::Keyword(s) | MonitorSpec::Json(s) => Some(s),
            _ => None,
        }
    }

    /// The HTTP settings of an `http`, `keyword` or `json` monitor, to change.
    pub fn http_mut(&mut self) -> Option<&mut HttpSettings> {
        match self {
            MonitorSpec::Http(s) | MonitorSpec::Keyword(s) | MonitorSpec::Json(s) => Some(s),
            _ => None,
        }
    }

    /// The settings alone, as the flat JSON object the database stores.
    pub fn settings_json(&self) -> Result<String, serde_json::Error> {
        match self {
            MonitorSpec::Http(s) | MonitorSpec::Keyword(s) | MonitorSpec::Json(s) => {
                serde_json::to_string(s)
            }
            MonitorSpec::Tcp(s) => serde_json::to_string(s),
            MonitorSpec::Dns(s) => serde_json::to_string(s),
            MonitorSpec::Tls(s) => serde_json::to_string(s),
            MonitorSpec::Push(s) => serde_json::to_string(s),
        }
    }

    /// A monitor of `kind` with the settings stored as `json` (see [`Self::settings_json`]);
    /// keys of other kinds are ignored.
    pub fn from_settings_json(kind: MonitorKind, json: &str) -> Result<Self, serde_json::Error> {
        Ok(match kind {
            MonitorKind::Http => MonitorSpec::Http(serde_json::from_str(json)?),
            MonitorKind::Keyword => MonitorSpec::Keyword(serde_json::from_str(json)?),
            MonitorKind::Json => MonitorSpec::Json(serde_json::from_str(json)?),
            MonitorKind::Tcp => MonitorSpec::Tcp(serde_json::from_str(json)?),
            MonitorKind::Dns => MonitorSpec::Dns(serde_json::from_str(json)?),
            MonitorKind::Tls => MonitorSpec::Tls(serde_json::from_str(json)?),
            MonitorKind::Push => MonitorSpec::Push(serde_json::from_str(json)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_are_stored_flat_and_read_back_by_kind() {
        let spec = MonitorSpec::Json(HttpSettings {
            expected_status: vec![200],
            json_pointer: Some("/status".into()),
            ..HttpSettings::default()
        });
        let json = spec.settings_json().expect("json");
        assert_eq!(
            json,
            r#"{"expected_status":[200],"json_pointer":"/status"}"#
        );
        assert_eq!(
            MonitorSpec::from_settings_json(MonitorKind::Json, &json).expect("read"),
            spec
        );
        // A row written when the file could give a TCP monitor a JSON pointer: the pointer
        // is not the kind's, so it is left behind.
        let spec = MonitorSpec::from_settings_json(
            MonitorKind::Tcp,
            r#"{"send":"PING","json_pointer":"/status"}"#,
        )
        .expect("read");
        assert_eq!(
            spec,
            MonitorSpec::Tcp(TcpSettings {
                send: Some("PING".into()),
                expect: None
            })
        );
        assert_eq!(spec.settings_json().expect("json"), r#"{"send":"PING"}"#);
        assert!(MonitorSpec::from_settings_json(MonitorKind::Dns, r#"{"expected":"x"}"#).is_err());
    }

    /// `setting_keys` is what validation accepts: it must name every field of the kind's
    /// type and nothing else.
    #[test]
    fn each_kind_lists_exactly_the_keys_of_its_settings_type() {
        let full = |kind| -> MonitorSpec {
            let http = HttpSettings {
                method: Some("GET".into()),
                headers: [("a".to_owned(), "b".to_owned())].into(),
                body: Some(String::new()),
                expected_status: vec![200],
                follow_redirects: Some(true),
                tls_verify: Some(true),
                keyword: Some(String::new()),
                keyword_absent: Some(String::new()),
                json_pointer: Some(String::new()),
                json_equals: Some(String::new()),
            };
            match kind {
                MonitorKind::Http => MonitorSpec::Http(http),
                MonitorKind::Keyword => MonitorSpec::Keyword(http),
                MonitorKind::Json => MonitorSpec::Json(http),
                MonitorKind::Tcp => MonitorSpec::Tcp(TcpSettings {
                    send: Some(String::new()),
                    expect: Some(String::new()),
                }),
                MonitorKind::Dns => MonitorSpec::Dns(DnsSettings {
                    record_type: Some(String::new()),
                    expected: vec![String::new()],
                    resolver: Some(String::new()),
                }),
                MonitorKind::Tls => MonitorSpec::Tls(TlsSettings {
                    tls_verify: Some(true),
                    days_degraded: Some(1),
                    days_down: Some(1),
                }),
                MonitorKind::Push => MonitorSpec::Push(PushSettings {
                    grace: Some(String::new()),
                    flavour: Some(String::new()),
                    token: Some(String::new()),
                }),
            }
        };
        for kind in MonitorKind::ALL {
            let json = full(kind).settings_json().expect("json");
            let value: serde_json::Value = serde_json::from_str(&json).expect("object");
            let mut keys: Vec<&str> = value
                .as_object()
                .expect("object")
                .keys()
                .map(String::as_str)
                .collect();
            keys.sort_unstable();
            let mut listed = kind.setting_keys().to_vec();
            listed.sort_unstable();
            assert_eq!(keys, listed, "{kind:?}");
        }
    }

    #[test]
    fn on_the_wire_the_kind_and_its_settings_sit_side_by_side() {
        let spec = MonitorSpec::Tls(TlsSettings {
            days_down: Some(3),
            ..TlsSettings::default()
        });
        let value = serde_json::to_value(&spec).expect("json");
        assert_eq!(
            value,
            serde_json::json!({"kind": "tls", "settings": {"days_down": 3}})
        );
        assert_eq!(
            serde_json::from_value::<MonitorSpec>(value).expect("read"),
            spec
        );
        for kind in MonitorKind::ALL {
            assert_eq!(MonitorSpec::new(kind).kind(), kind);
        }
    }
}
