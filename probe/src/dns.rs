//! DNS probes: resolve a name's records of one type (A, AAAA, CNAME, MX, TXT, NS) against a
//! given resolver (`resolver = "ip[:port]"`, else the first `nameserver` of
//! `/etc/resolv.conf`) and compare them with the expected values.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::Instant;

use domain::config::{DnsSettings, Monitor};
use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::proto::xfer::Protocol;
use hickory_resolver::{ResolveErrorKind, Resolver};

use crate::ProbeResult;

/// The resolver a monitor asks: its `resolver` setting or the system's first nameserver.
fn resolver_addr(setting: Option<&str>) -> Result<SocketAddr, String> {
    let text = match setting {
        Some(s) => s.trim().to_owned(),
        None => std::fs::read_to_string("/etc/resolv.conf")
            .ok()
            .and_then(|conf| {
                conf.lines().find_map(|l| {
                    l.trim()
                        .strip_prefix("nameserver")
                        .map(|rest| rest.trim().to_owned())
                })
            })
            .ok_or("no resolver configured and none in /etc/resolv.conf")?,
    };
    if let Ok(addr) = SocketAddr::from_str(&text) {
        return Ok(addr);
    }
    IpAddr::from_str(&text)
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| format!("invalid resolver {text:?}: use ip or ip:port"))
}

/// Text of one record as written in `expected`: no trailing dot on names, MX as `pref host`.
fn record_text(r: &RData) -> String {
    let name = |n: &hickory_resolver::Name| n.to_utf8().trim_end_matches('.').to_owned();
    match r {
        RData::A(a) => a.0.to_string(),
        RData::AAAA(a) => a.0.to_string(),
        RData::CNAME(c) => name(&c.0),
        RData::NS(n) => name(&n.0),
        RData::MX(mx) => format!("{} {}", mx.preference(), name(mx.exchange())),
        RData::TXT(t) => t
            .txt_data()
            .iter()
            .map(|d| String::from_utf8_lossy(d).into_owned())
            .collect::<String>(),
        other => other.to_string(),
    }
}

/// Runs one DNS check (the caller applies the timeout).
pub async fn check(monitor: &Monitor, s: &DnsSettings, source: Option<IpAddr>) -> ProbeResult {
    let rtype = s.record_type.as_deref().unwrap_or("A").to_ascii_uppercase();
    let record_type = match rtype.as_str() {
        "A" => RecordType::A,
        "AAAA" => RecordType::AAAA,
        "CNAME" => RecordType::CNAME,
        "MX" => RecordType::MX,
        "TXT" => RecordType::TXT,
        "NS" => RecordType::NS,
        other => return ProbeResult::down(format!("unsupported record type {other}")),
    };
    let server = match resolver_addr(s.resolver.as_deref()) {
        Ok(a) => a,
        Err(reason) => return ProbeResult::down(reason),
    };
    let mut config = ResolverConfig::new();
    for protocol in [Protocol::Udp, Protocol::Tcp] {
        let mut ns = NameServerConfig::new(server, protocol);
        ns.bind_addr = source.map(|ip| SocketAddr::new(ip, 0));
        config.add_name_server(ns);
    }
    let mut builder = Resolver::builder_with_config(config, TokioConnectionProvider::default());
    let opts = builder.options_mut();
    opts.timeout = monitor.timeout;
    opts.attempts = 1;
    opts.cache_size = 0;
    opts.use_hosts_file = ResolveHosts::Never;
    opts.edns0 = true;
    let resolver = builder.build();
    let name = monitor.target.trim();
    let started = Instant::now();
    let lookup = match resolver.lookup(name, record_type).await {
        Ok(l) => l,
        Err(e) => {
            let reason = match e.kind() {
                ResolveErrorKind::Proto(p) if p.is_no_records_found() => {
                    format!("no {rtype} record for {name}")
                }
                _ => format!("{rtype} {name}: {e}"),
            };
            return ProbeResult::down(reason).with_latency(started.elapsed());
        }
    };
    let latency = started.elapsed();
    let mut found: Vec<String> = lookup
        .record_iter()
        .filter(|r| r.record_type() == record_type)
        .map(|r| record_text(r.data()))
        .collect();
    found.sort();
    found.dedup();
    if found.is_empty() {
        return ProbeResult::down(format!("no {rtype} record for {name}")).with_latency(latency);
    }
    let missing: Vec<&String> = s
        .expected
        .iter()
        .filter(|want| {
            let want = want.trim().trim_end_matches('.');
            !found.iter().any(|f| f.eq_ignore_ascii_case(want))
        })
        .collect();
    if !missing.is_empty() {
        return ProbeResult::down(format!(
            "{rtype} {name} is {}, expected {}",
            found.join(", "),
            missing
                .iter()
                .map(|m| m.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .with_latency(latency);
    }
    ProbeResult::up(latency)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolver_setting_accepts_ip_and_ip_port() {
        assert_eq!(
            resolver_addr(Some("127.0.0.1:5353")),
            Ok("127.0.0.1:5353".parse().expect("addr"))
        );
        assert_eq!(
            resolver_addr(Some("::1")),
            Ok("[::1]:53".parse().expect("addr"))
        );
        assert!(resolver_addr(Some("dns.example")).is_err());
    }
}
