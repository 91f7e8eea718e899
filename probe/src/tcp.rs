//! TCP probes: connect (from the configured source address), optionally send a line and expect
//! a substring in the answer.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use domain::config::{Monitor, TcpSettings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::{split_host_port, ProbeResult};

/// Resolves `target` and connects to its first address, bound to `source` when given.
pub async fn connect(
    target: &str,
    default_port: u16,
    source: Option<IpAddr>,
) -> Result<TcpStream, String> {
    let (host, port) = split_host_port(target, default_port)
        .ok_or_else(|| format!("invalid target {target:?}"))?;
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    // Use an address of the same family as the source address, when one is set.
    let addr = addrs
        .iter()
        .find(|a| source.is_none_or(|s| s.is_ipv4() == a.is_ipv4()))
        .copied()
        .ok_or_else(|| format!("no usable address for {host}"))?;
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|e| format!("cannot open a socket: {e}"))?;
    if let Some(ip) = source {
        socket
            .bind(SocketAddr::new(ip, 0))
            .map_err(|e| format!("cannot bind source address {ip}: {e}"))?;
    }
    socket
        .connect(addr)
        .await
        .map_err(|e| format!("cannot connect to {addr}: {e}"))
}

/// Runs one TCP check (the caller applies the timeout).
pub async fn check(monitor: &Monitor, s: &TcpSettings, source: Option<IpAddr>) -> ProbeResult {
    let started = Instant::now();
    let mut stream = match connect(&monitor.target, 0, source).await {
        Ok(s) => s,
        Err(reason) => return ProbeResult::down(reason).with_latency(started.elapsed()),
    };
    if let Some(line) = &s.send {
        let mut data = line.clone().into_bytes();
        if !line.ends_with('\n') {
            data.extend_from_slice(b"\r\n");
        }
        if let Err(e) = stream.write_all(&data).await {
            return ProbeResult::down(format!("cannot send: {e}")).with_latency(started.elapsed());
        }
    }
    if let Some(expect) = &s.expect {
        let mut buf = Vec::with_capacity(512);
        let mut chunk = [0u8; 512];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) => break,
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    if String::from_utf8_lossy(&buf).contains(expect.as_str()) || buf.len() > 8192 {
                        break;
                    }
                }
                Err(e) => {
                    return ProbeResult::down(format!("cannot read: {e}"))
                        .with_latency(started.elapsed())
                }
            }
        }
        let text = String::from_utf8_lossy(&buf);
        if !text.contains(expect.as_str()) {
            let first = text
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(80)
                .collect::<String>();
            return ProbeResult::down(format!("expected {expect:?}, got {first:?}"))
                .with_latency(started.elapsed());
        }
    }
    ProbeResult::up(started.elapsed())
}
