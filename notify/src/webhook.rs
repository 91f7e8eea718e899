//! Webhooks: the payload (Atlassian Statuspage's webhook shape, so existing receivers parse
//! it, plus `event_type`), its signature, and delivery that cannot be turned against the
//! network Vigie runs in.
//!
//! Signature: header `X-Vigie-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` where the MAC
//! is computed under the subscription's secret over `<t>.<body>` (docs/notifications.md has a
//! receiver's check).
//!
//! Delivery: HTTPS only, except to networks in `notifications.allow_networks` (plain HTTP
//! allowed there); redirects are not followed; names are resolved and every address checked
//! before connecting (loopback, private, link-local, CGNAT, multicast and unspecified
//! addresses refused unless allowed), and the connection goes to the checked addresses only;
//! 10 s timeout.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ipnet::IpNet;
use ring::hmac;
use serde_json::{json, Value};
use store::outbox::{Event, IncidentEvent, MaintenanceEvent, ServiceRef};

/// How long a receiver has to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// The signature header.
pub const SIGNATURE_HEADER: &str = "X-Vigie-Signature";

/// `t=…,v1=…` for `body` signed at `t` under `secret`.
pub fn signature(secret: &str, t: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(t.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    format!("t={t},v1={}", hex::encode(ctx.sign().as_ref()))
}

/// Whether an address is one a webhook may reach without being allowed explicitly.
pub fn public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64) // 100.64.0.0/10, CGNAT
                || (o[0] == 198 && (o[1] & 0xfe) == 18) // 198.18.0.0/15, benchmarking
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] == 0x2001 && s[1] == 0x0db8)) // documentation
        }
    }
}

/// Which addresses one client may connect to.
#[derive(Clone, Debug)]
struct Policy {
    allow: Arc<Vec<IpNet>>,
    /// Plain HTTP: only allowed networks.
    allowed_only: bool,
}

impl Policy {
    fn permits(&self, ip: IpAddr) -> bool {
        let allowed = self.allow.iter().any(|n| n.contains(&ip));
        allowed || (!self.allowed_only && public(ip))
    }
}

impl reqwest::dns::Resolve for Policy {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| policy.permits(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(
                    format!("{host}: no address Vigie may call (private or refused)").into(),
                );
            }
            let addrs: reqwest::dns::Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// Two HTTP clients (HTTPS anywhere public or allowed; plain HTTP to allowed networks only)
/// that check every address they connect to.
#[derive(Clone, Debug)]
pub struct Caller {
    https: reqwest::Client,
    http: reqwest::Client,
    allow: Arc<Vec<IpNet>>,
}

/// What a call came to.
#[derive(Debug)]
pub enum CallError {
    Temporary(String, Option<i32>),
    Permanent(String, Option<i32>),
}

impl Caller {
    /// Clients for `allow_networks` (CIDR or single addresses, validated with the config).
    pub fn new(allow_networks: &[String]) -> anyhow::Result<Caller> {
        let allow: Vec<IpNet> = allow_networks
            .iter()
            .map(|n| {
                n.parse::<IpNet>()
                    .or_else(|_| n.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|e| anyhow::anyhow!("notifications.allow_networks `{n}`: {e}"))
            })
            .collect::<anyhow::Result<_>>()?;
        let allow = Arc::new(allow);
        let build = |allowed_only: bool| {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(TIMEOUT)
                .connect_timeout(TIMEOUT)
                .user_agent(concat!("Vigie/", env!("CARGO_PKG_VERSION"), " webhooks"))
                .dns_resolver(Arc::new(Policy {
                    allow: allow.clone(),
                    allowed_only,
                }))
                .build()
        };
        Ok(Caller {
            https: build(false)?,
            http: build(true)?,
            allow,
        })
    }

    /// Why `url` can never be called, if so (checked when a webhook is created, and again
    /// before every call; names are checked when they resolve).
    pub fn refuse(&self, url: &str) -> Option<String> {
        let u = match url::Url::parse(url) {
            Ok(u) => u,
            Err(e) => return Some(format!("not a URL: {e}")),
        };
        if url.len() > 2048 {
            return Some("longer than 2048 characters".into());
        }
        if !u.username().is_empty() || u.password().is_some() {
            return Some("must not carry credentials".into());
        }
        let literal = match u.host() {
            Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
            Some(url::Host::Domain(_)) => None,
            None => return Some("has no host".into()),
        };
        let policy = Policy {
            allow: self.allow.clone(),
            allowed_only: u.scheme() == "http",
        };
        match u.scheme() {
            "https" | "http" => {}
            _ => return Some("must be https (http only to allowed networks)".into()),
        }
        if let Some(ip) = literal {
            if !policy.permits(ip) {
                return Some(if u.scheme() == "http" {
                    "plain http only to networks in notifications.allow_networks".into()
                } else {
                    "private, loopback or link-local address".into()
                });
            }
        }
        None
    }

    /// POSTs `body` signed under `secret`.
    pub async fn post(&self, url: &str, secret: &str, body: &Value) -> Result<i32, CallError> {
        if let Some(why) = self.refuse(url) {
            return Err(CallError::Permanent(why, None));
        }
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        let t = Utc::now().timestamp();
        let client = if url.starts_with("http://") {
            &self.http
        } else {
            &self.https
        };
        let res = client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature(secret, t, &bytes))
            .body(bytes)
            .send()
            .await;
        match res {
            Ok(r) => {
                let code = i32::from(r.status().as_u16());
                if r.status().is_success() {
                    Ok(code)
                } else if r.status() == reqwest::StatusCode::GONE {
                    Err(CallError::Permanent("410 Gone".into(), Some(code)))
                } else {
                    Err(CallError::Temporary(format!("HTTP {code}"), Some(code)))
                }
            }
            Err(e) => {
                // The chain says why (refused address, timeout, TLS), without the body.
                let mut why = e.to_string();
                let mut src = std::error::Error::source(&e);
                while let Some(s) = src {
                    why.push_str(": ");
                    why.push_str(&s.to_string());
                    src = s.source();
                }
                Err(CallError::Temporary(why, None))
            }
        }
    }
}

impl Caller {
    /// Sends `body` as JSON with `method` (alert channels: Slack, Matrix…), with a bearer
    /// token and a signature when given. The URL may carry a secret (Slack's, Telegram's
    /// token): errors are reported without it.
    pub async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        bearer: Option<&str>,
        sign_with: Option<&str>,
        body: &Value,
    ) -> Result<i32, CallError> {
        if let Some(why) = self.refuse(url) {
            return Err(CallError::Permanent(why, None));
        }
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        let client = if url.starts_with("http://") {
            &self.http
        } else {
            &self.https
        };
        let mut req = client
            .request(method, url)
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        if let Some(secret) = sign_with {
            let t = Utc::now().timestamp();
            req = req.header(SIGNATURE_HEADER, signature(secret, t, &bytes));
        }
        match req.body(bytes).send().await {
            Ok(r) => {
                let code = i32::from(r.status().as_u16());
                if r.status().is_success() {
                    Ok(code)
                } else if matches!(r.status().as_u16(), 401 | 403 | 404 | 410) {
                    // A revoked token or a deleted hook does not come back by retrying.
                    Err(CallError::Permanent(format!("HTTP {code}"), Some(code)))
                } else {
                    Err(CallError::Temporary(format!("HTTP {code}"), Some(code)))
                }
            }
            Err(e) => {
                let e = e.without_url();
                let mut why = e.to_string();
                let mut src = std::error::Error::source(&e);
                while let Some(s) = src {
                    why.push_str(": ");
                    why.push_str(&s.to_string());
                    src = s.source();
                }
                Err(CallError::Temporary(why, None))
            }
        }
    }
}

/// The page part of a payload.
#[derive(Clone, Debug)]
pub struct PageInfo {
    pub id: String,
    pub status_indicator: String,
    pub status_description: String,
}

fn components(services: &[ServiceRef], at: DateTime<Utc>) -> Vec<Value> {
    services
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "name": s.name,
                "status": s.status,
                "created_at": at,
                "updated_at": at,
                "position": 0,
                "description": null,
                "showcase": true,
                "group_id": null,
                "group": false,
                "only_show_if_degraded": false,
            })
        })
        .collect()
}

fn incident_body(i: &IncidentEvent, base: &str) -> Value {
    let updates: Vec<Value> = i
        .updates
        .iter()
        .map(|u| {
            json!({
                "id": u.id.to_string(),
                "incident_id": i.id.to_string(),
                "status": u.status,
                "body": u.markdown,
                "created_at": u.created_at,
                "updated_at": u.created_at,
                "display_at": u.created_at,
                "affected_components": null,
                "deliver_notifications": true,
                "custom_tweet": null,
                "tweet_id": null,
            })
        })
        .collect();
    json!({
        "id": i.id.to_string(),
        "name": i.title,
        "status": i.status,
        "impact": i.impact,
        "created_at": i.created_at,
        "updated_at": i.updated_at,
        "started_at": i.started_at,
        "monitoring_at": null,
        "resolved_at": i.resolved_at,
        "shortlink": format!("{base}/incidents/{}", i.id),
        "scheduled_for": null,
        "scheduled_until": null,
        "scheduled_remind_prior": false,
        "scheduled_reminded_at": null,
        "impact_override": null,
        "scheduled_auto_in_progress": true,
        "scheduled_auto_completed": true,
        "backfilled": false,
        "incident_updates": updates,
        "components": components(&i.services, i.updated_at),
    })
}

fn maintenance_body(m: &MaintenanceEvent, base: &str) -> Value {
    json!({
        "id": format!("m{}", m.id),
        "name": m.title,
        "status": m.status,
        "impact": "maintenance",
        "created_at": m.created_at,
        "updated_at": m.created_at,
        "started_at": m.starts_at,
        "monitoring_at": null,
        "resolved_at": (m.status == "completed").then_some(m.ends_at),
        "shortlink": format!("{base}/maintenance"),
        "scheduled_for": m.starts_at,
        "scheduled_until": m.ends_at,
        "backfilled": false,
        "incident_updates": [{
            "id": format!("m{}-{}", m.id, m.status),
            "incident_id": format!("m{}", m.id),
            "status": m.status,
            "body": m.markdown,
            "created_at": m.created_at,
            "updated_at": m.created_at,
            "display_at": m.created_at,
        }],
        "components": components(&m.services, m.created_at),
    })
}

/// The `event_type` of an event.
pub fn event_type(e: &Event) -> &'static str {
    match e {
        Event::IncidentUpdate(_) => "incident.updated",
        Event::MaintenanceScheduled(_) => "maintenance.scheduled",
        Event::MaintenanceStarted(_) => "maintenance.started",
        Event::MaintenanceCompleted(_) => "maintenance.completed",
        Event::Alert(_) => "alert",
        Event::ComponentUpdate(_) => "component.updated",
    }
}

/// The payload of `event` for one subscription (`unsubscribe`: its own link).
pub fn payload(
    event: &Event,
    page: &PageInfo,
    base: &str,
    unsubscribe: &str,
    now: DateTime<Utc>,
) -> Value {
    let mut body = json!({
        "meta": {
            "unsubscribe": unsubscribe,
            "documentation": format!("{base}/api/openapi.json"),
            "generated_at": now,
        },
        "page": {
            "id": page.id,
            "status_indicator": page.status_indicator,
            "status_description": page.status_description,
        },
        "event_type": event_type(event),
    });
    let (key, value) = match event {
        Event::IncidentUpdate(i) => ("incident", incident_body(i, base)),
        Event::MaintenanceScheduled(m)
        | Event::MaintenanceStarted(m)
        | Event::MaintenanceCompleted(m) => ("incident", maintenance_body(m, base)),
        Event::Alert(a) => ("alert", serde_json::to_value(a).unwrap_or(Value::Null)),
        Event::ComponentUpdate(c) => {
            body["component"] = json!({
                "id": c.id,
                "name": c.name,
                "status": c.new_status,
                "created_at": c.created_at,
                "updated_at": c.created_at,
                "position": 0,
                "description": null,
                "showcase": true,
                "group_id": null,
                "group": false,
                "only_show_if_degraded": false,
            });
            (
                "component_update",
                json!({
                    "id": format!("{}-{}", c.id, c.created_at.timestamp_millis()),
                    "component_id": c.id,
                    "component_type": "service",
                    "old_status": c.old_status,
                    "new_status": c.new_status,
                    "created_at": c.created_at,
                }),
            )
        }
    };
    body[key] = value;
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "224.0.0.1",
        ] {
            assert!(!public(a.parse().unwrap()), "{a}");
        }
        for a in ["93.184.216.34", "2606:4700::1111"] {
            assert!(public(a.parse().unwrap()), "{a}");
        }
    }

    #[test]
    fn urls_are_refused_for_scheme_credentials_and_private_literals() {
        let c = Caller::new(&["127.0.0.0/8".into()]).unwrap();
        assert!(c.refuse("https://example.org/hook").is_none());
        assert!(
            c.refuse("http://127.0.0.1:9/hook").is_none(),
            "allowed network"
        );
        assert!(
            c.refuse("http://example.org/hook").is_none(),
            "checked when resolved"
        );
        assert!(
            c.refuse("http://93.184.216.34/hook").is_some(),
            "plain http to the world"
        );
        assert!(c.refuse("https://10.0.0.1/hook").is_some());
        assert!(c.refuse("https://[::1]/hook").is_some());
        assert!(c.refuse("https://u:p@example.org/").is_some());
        assert!(c.refuse("ftp://example.org/").is_some());
        let strict = Caller::new(&[]).unwrap();
        assert!(strict.refuse("http://127.0.0.1:9/hook").is_some());
        assert!(strict.refuse("https://169.254.169.254/latest").is_some());
    }

    #[test]
    fn signature_is_hmac_of_timestamp_dot_body() {
        // Computed independently: printf '1700000000.{}' | openssl dgst -sha256 -hmac secret
        assert_eq!(
            signature("secret", 1_700_000_000, b"{}"),
            "t=1700000000,v1=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
        );
    }
}
