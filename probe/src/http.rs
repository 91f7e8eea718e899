//! HTTP(S) probes (`http`, `keyword`, `json` kinds): method, headers, body, expected status,
//! redirects, TLS verification, keyword present or absent, JSON pointer equality.

use std::time::Instant;

use domain::config::{HttpSettings, Monitor, MonitorKind};
use domain::reason::Reason;
use domain::status::CheckOutcome;
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::Method;

use crate::{short_error, Clients, ProbeResult};

/// At most this much of a body is read to look for keywords or JSON.
const MAX_BODY: usize = 2 * 1024 * 1024;

/// Runs one HTTP check of `monitor` (an `http`, `keyword` or `json` one, with its settings
/// `s`); the caller applies the timeout.
pub async fn check(monitor: &Monitor, s: &HttpSettings, clients: &Clients) -> ProbeResult {
    let method = match s.method.as_deref().map(str::to_ascii_uppercase) {
        None => Method::GET,
        Some(m) => match Method::from_bytes(m.as_bytes()) {
            Ok(m) => m,
            Err(_) => return ProbeResult::down(format!("invalid HTTP method {m:?}")),
        },
    };
    let client = clients.http(
        s.follow_redirects.unwrap_or(true),
        s.tls_verify.unwrap_or(true),
    );
    let mut req = client.request(method, &monitor.target);
    for (k, v) in &s.headers {
        match (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            (Ok(k), Ok(v)) => req = req.header(k, v),
            _ => return ProbeResult::down(format!("invalid header {k:?}")),
        }
    }
    if let Some(body) = &s.body {
        req = req.body(body.clone());
    }
    let started = Instant::now();
    let mut resp = match req.send().await {
        Ok(r) => r,
        Err(e) => return ProbeResult::down(describe(&e)).with_latency(started.elapsed()),
    };
    let status = resp.status().as_u16();
    let expected_ok = if s.expected_status.is_empty() {
        (200..400).contains(&status)
    } else {
        s.expected_status.contains(&status)
    };
    let needs_body = s.keyword.is_some()
        || s.keyword_absent.is_some()
        || s.json_pointer.is_some()
        || monitor.kind() != MonitorKind::Http;
    let mut body = Vec::new();
    if needs_body && expected_ok {
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    let room = MAX_BODY.saturating_sub(body.len());
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if body.len() >= MAX_BODY {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    return ProbeResult::down(format!("reading the body: {}", describe(&e)))
                        .with_latency(started.elapsed())
                        .with_status(status)
                }
            }
        }
    }
    // Time to the full answer the reader would wait for.
    let latency = started.elapsed();
    let result = |outcome, reason: Option<String>| ProbeResult {
        outcome,
        latency: Some(latency),
        status_code: Some(status),
        reason,
        certificate_expires: None,
    };
    if !expected_ok {
        let wanted = if s.expected_status.is_empty() {
            "200-399".to_owned()
        } else {
            s.expected_status
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        return result(
            CheckOutcome::Down,
            Some(
                Reason::HttpStatus {
                    status,
                    expected: wanted,
                }
                .to_stored(),
            ),
        );
    }
    let text = String::from_utf8_lossy(&body);
    if let Some(k) = &s.keyword {
        if !text.contains(k.as_str()) {
            let why = Reason::KeywordMissing { keyword: k.clone() };
            return result(CheckOutcome::Down, Some(why.to_stored()));
        }
    }
    if let Some(k) = &s.keyword_absent {
        if text.contains(k.as_str()) {
            let why = Reason::KeywordPresent { keyword: k.clone() };
            return result(CheckOutcome::Down, Some(why.to_stored()));
        }
    }
    if monitor.kind() == MonitorKind::Json || s.json_pointer.is_some() {
        let value: serde_json::Value = match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => return result(CheckOutcome::Down, Some(format!("invalid JSON: {e}"))),
        };
        if let Some(pointer) = &s.json_pointer {
            let Some(found) = value.pointer(pointer) else {
                return result(
                    CheckOutcome::Down,
                    Some(format!("JSON pointer {pointer} not found")),
                );
            };
            if let Some(want) = &s.json_equals {
                let got = match found {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                if &got != want {
                    return result(
                        CheckOutcome::Down,
                        Some(format!("JSON {pointer} is {got:?}, expected {want:?}")),
                    );
                }
            }
        }
    }
    result(CheckOutcome::Up, None)
}

impl ProbeResult {
    fn with_status(mut self, status: u16) -> Self {
        self.status_code = Some(status);
        self
    }
}

/// A short, stable reason for a failed request.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".to_owned()
    } else if e.is_redirect() {
        "too many redirects".to_owned()
    } else if e.is_connect() {
        format!("cannot connect: {}", root_cause(e))
    } else {
        short_error(e)
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(s) = cur.source() {
        cur = s;
    }
    cur.to_string()
}
