//! Bounded cost per client: how the server accepts and keeps connections.
//!
//! One hostile client must not be able to make the page unreachable for everyone else by
//! holding sockets. So:
//! - a connection that sends no complete request head within the header-read timeout is
//!   closed (hyper starts that clock again whenever a keep-alive connection waits for its
//!   next request, so it is also the idle timeout between requests);
//! - a connection on which nothing is read or written for the idle timeout is closed, whatever
//!   it is doing (slow bodies, clients that never read their answer, idle HTTP/2);
//! - each address holds at most so many connections, and the process at most so many in all
//!   (kept below its file-handle limit, so the database and the probes always get theirs);
//! - `/events` streams are capped per address and in total ([`EventStreams`]).
//!
//! Over a ceiling the client is told so at once (429 or 503 with a sentence), never left
//! hanging. Every value has a default and an environment variable (see [`Limits::from_env`]).
//!
//! axum's own `serve` has no timeouts and no connection ceilings, hence this accept loop; it
//! is axum's, with hyper-util's connection builder and graceful shutdown, plus the above.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv6Addr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

/// What may answer a request before the router does (`None`: the router answers). Kept a
/// plain function so this module needs nothing of those above it.
pub type Front = Arc<dyn Fn(&Request<Incoming>) -> Option<axum::response::Response> + Send + Sync>;

/// File handles kept out of the connection budget: database pools, probe sockets, files.
const RESERVED_FILES: u64 = 512;

/// The ceilings and timeouts, with their defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// `VIGIE_HEADER_READ_TIMEOUT` (default 10 s): time to send a whole request head, and the
    /// longest a keep-alive connection may wait for its next request.
    pub header_read_timeout: Duration,
    /// `VIGIE_IDLE_TIMEOUT` (default 60 s): a connection with no byte read or written for this
    /// long is closed. `/events` sends something every 15 s, so open pages stay connected.
    pub idle_timeout: Duration,
    /// `VIGIE_MAX_CONNECTIONS` (default: the process's file-handle limit, raised to its hard
    /// limit at start, minus 512): open connections in all.
    pub max_connections: usize,
    /// `VIGIE_MAX_CONNECTIONS_PER_IP` (default 256): open connections per client address (an
    /// IPv6 /64 counts as one address). Trusted proxies (`VIGIE_TRUSTED_PROXIES`) are exempt:
    /// every reader arrives through them.
    pub max_connections_per_ip: usize,
    /// `VIGIE_MAX_EVENT_STREAMS` (default 10,000): open `/events` streams in all.
    pub max_event_streams: usize,
    /// `VIGIE_MAX_EVENT_STREAMS_PER_IP` (default 32): open `/events` streams per client
    /// address (behind a trusted proxy, the forwarded address).
    pub max_event_streams_per_ip: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 10_000,
            max_connections_per_ip: 256,
            max_event_streams: 10_000,
            max_event_streams_per_ip: 32,
        }
    }
}

impl Limits {
    /// The defaults, each replaced by its environment variable when set; the total connection
    /// ceiling defaults to the file-handle limit (raised to the hard limit) minus a reserve.
    pub fn from_env() -> anyhow::Result<Limits> {
        Self::from_lookup(|name| std::env::var(name).ok(), raise_file_limit())
    }

    fn from_lookup(
        var: impl Fn(&str) -> Option<String>,
        file_limit: Option<u64>,
    ) -> anyhow::Result<Limits> {
        let mut limits = Limits::default();
        if let Some(files) = file_limit {
            let budget = files.saturating_sub(RESERVED_FILES).max(64);
            limits.max_connections = usize::try_from(budget).unwrap_or(usize::MAX);
        }
        let duration = |name: &str, slot: &mut Duration| -> anyhow::Result<()> {
            if let Some(v) = var(name) {
                let d = humantime::parse_duration(v.trim()).map_err(|e| {
                    anyhow::anyhow!("{name}={v:?} is not a duration such as \"10s\": {e}")
                })?;
                anyhow::ensure!(!d.is_zero(), "{name} must be longer than zero");
                *slot = d;
            }
            Ok(())
        };
        let count = |name: &str, slot: &mut usize| -> anyhow::Result<()> {
            if let Some(v) = var(name) {
                let n: usize = v
                    .trim()
                    .parse()
                    .map_err(|_| anyhow::anyhow!("{name}={v:?} is not a whole number"))?;
                anyhow::ensure!(n > 0, "{name} must be at least 1");
                *slot = n;
            }
            Ok(())
        };
        duration("VIGIE_HEADER_READ_TIMEOUT", &mut limits.header_read_timeout)?;
        duration("VIGIE_IDLE_TIMEOUT", &mut limits.idle_timeout)?;
        count("VIGIE_MAX_CONNECTIONS", &mut limits.max_connections)?;
        count(
            "VIGIE_MAX_CONNECTIONS_PER_IP",
            &mut limits.max_connections_per_ip,
        )?;
        count("VIGIE_MAX_EVENT_STREAMS", &mut limits.max_event_streams)?;
        count(
            "VIGIE_MAX_EVENT_STREAMS_PER_IP",
            &mut limits.max_event_streams_per_ip,
        )?;
        Ok(limits)
    }
}

/// Raises the soft file-handle limit to the hard one (the usual server practice) and returns
/// the limit in force, if the platform has one.
fn raise_file_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => Some(n),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the file-handle limit");
            None
        }
    }
}

/// The address a ceiling counts: IPv4 as is (IPv4-mapped IPv6 too), IPv6 by its /64, which one
/// subscriber usually holds whole.
pub fn bucket(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Which ceiling refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// This address holds its share already (answer 429).
    PerAddress,
    /// The server holds all it may (answer 503).
    Total,
}

/// Counted slots, per address and in total. Memory is bounded: an address is in the map only
/// while it holds a slot, so the map never has more entries than the total ceiling.
#[derive(Debug)]
pub struct Slots {
    per_ip: usize,
    total: usize,
    held: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

impl Slots {
    pub fn new(per_ip: usize, total: usize) -> Arc<Slots> {
        Arc::new(Slots {
            per_ip,
            total,
            held: Mutex::new((0, HashMap::new())),
        })
    }

    /// A slot for `ip` (not counted against the per-address ceiling when `exempt`), or which
    /// ceiling refused it. The slot is given back when the returned guard drops.
    pub fn take(self: &Arc<Self>, ip: IpAddr, exempt: bool) -> Result<Slot, Refusal> {
        let ip = bucket(ip);
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if held.0 >= self.total {
            return Err(Refusal::Total);
        }
        let mine = held.1.entry(ip).or_insert(0);
        if !exempt && *mine >= self.per_ip {
            if *mine == 0 {
                held.1.remove(&ip);
            }
            return Err(Refusal::PerAddress);
        }
        *mine += 1;
        held.0 += 1;
        Ok(Slot {
            slots: self.clone(),
            ip,
        })
    }

    /// Slots held in all.
    pub fn in_use(&self) -> usize {
        self.held.lock().unwrap_or_else(|e| e.into_inner()).0
    }
}

/// One held slot; dropping it gives it back.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<Slots>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut held = self.slots.held.lock().unwrap_or_else(|e| e.into_inner());
        held.0 = held.0.saturating_sub(1);
        if let Some(n) = held.1.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                held.1.remove(&self.ip);
            }
        }
    }
}

/// The `/events` ceilings, given to the router as an extension; `crate::live` takes a slot per
/// stream and holds it as long as the stream is open.
#[derive(Clone, Debug)]
pub struct EventStreams(pub Arc<Slots>);

/// The answer written straight to a socket refused before HTTP: a complete HTTP/1.1 response
/// (browsers and scripts show the sentence), then the connection closes.
fn refusal_bytes(refusal: Refusal) -> Vec<u8> {
    let (status, text) = match refusal {
        Refusal::PerAddress => (
            "429 Too Many Requests",
            "Too many open connections from your address; close some and try again.\n",
        ),
        Refusal::Total => (
            "503 Service Unavailable",
            "The server is at its connection limit; try again in a moment.\n",
        ),
    };
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 10\r\n\
         Connection: close\r\nContent-Length: {}\r\n\r\n{text}",
        text.len()
    )
    .into_bytes()
}

/// Writes the refusal if the socket takes it at once (it always does on a fresh connection)
/// and closes. Never waits: a refused client costs no task and no timer.
fn refuse(stream: TcpStream, refusal: Refusal) {
    let _ = stream.try_write(&refusal_bytes(refusal));
    drop(stream);
}

/// Serves `app` on `listener` within `limits` until `shutdown` completes, then waits for the
/// open connections to finish (graceful shutdown). Clients in `trusted_proxies` are exempt
/// from the per-address connection ceiling. Every request is first offered to `front`, which
/// may answer it without the router (the page cache's fresh hits, see `crate::startup`).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    front: Option<Front>,
    limits: Limits,
    trusted_proxies: Arc<Vec<IpAddr>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let streams = EventStreams(Slots::new(
        limits.max_event_streams_per_ip,
        limits.max_event_streams,
    ));
    let app = app.layer(axum::Extension(streams));
    let connections = Slots::new(limits.max_connections_per_ip, limits.max_connections);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    tracing::info!(?limits, "connection limits");
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let exempt = trusted_proxies.contains(&peer.ip());
        let slot = match connections.take(peer.ip(), exempt) {
            Ok(slot) => slot,
            Err(refusal) => {
                tracing::debug!(%peer, ?refusal, "connection refused");
                refuse(stream, refusal);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let activity = Activity::new();
        let io = TokioIo::new(Tracked {
            inner: stream,
            activity: activity.clone(),
        });
        let (app, front) = (app.clone(), front.clone());
        let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
            if let Some(res) = front.as_ref().and_then(|answer| answer(&req)) {
                return futures::future::Either::Left(std::future::ready(Ok(res)));
            }
            req.extensions_mut().insert(ConnectInfo(peer));
            futures::future::Either::Right(app.clone().oneshot(req.map(Body::new)))
        });
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let (first, idle) = (limits.header_read_timeout, limits.idle_timeout);
        tokio::spawn(async move {
            let conn = builder
                .serve_connection_with_upgrades(io, service)
                .into_owned();
            let conn = watcher.watch(conn);
            tokio::select! {
                result = conn => {
                    if let Err(e) = result {
                        tracing::trace!(%peer, error = %e, "connection ended with an error");
                    }
                }
                () = activity.idle_for(first, idle) => {
                    tracing::debug!(%peer, "idle connection closed");
                }
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// An accept error: per-connection ones (the client left) are ignored; running out of file
/// handles or memory waits a little, so the loop does not spin while the process recovers.
async fn accept_error(e: io::Error) {
    use io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted
    ) {
        return;
    }
    tracing::error!(error = %e, "accept error");
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// When a connection last moved a byte, in milliseconds since it was opened (0: it has not
/// sent a byte yet).
#[derive(Clone, Debug)]
struct Activity {
    opened: Instant,
    last_ms: Arc<AtomicU64>,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            opened: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms.max(1), Ordering::Relaxed);
    }

    /// Completes once the connection has sent nothing for `first` since it opened, or, once it
    /// has, moved no byte for `idle`. (hyper's header-read timeout starts only once the
    /// protocol is known, i.e. after the first bytes: a silent connection is closed here.)
    async fn idle_for(&self, first: Duration, idle: Duration) {
        loop {
            let last_ms = self.last_ms.load(Ordering::Relaxed);
            let deadline = if last_ms == 0 {
                self.opened + first
            } else {
                self.opened + Duration::from_millis(last_ms) + idle
            };
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline.into()).await;
        }
    }
}

/// A socket that notes every read and write in its [`Activity`].
struct Tracked {
    inner: TcpStream,
    activity: Activity,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(res, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        res
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(res, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        res
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(res, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        res
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_hold_and_each_variable_replaces_its_value() {
        let none = Limits::from_lookup(|_| None, None).expect("defaults");
        assert_eq!(none, Limits::default());
        let from_files = Limits::from_lookup(|_| None, Some(20_000)).expect("limit");
        assert_eq!(from_files.max_connections, 19_488);
        let set = Limits::from_lookup(
            |name| match name {
                "VIGIE_HEADER_READ_TIMEOUT" => Some("3s".into()),
                "VIGIE_MAX_EVENT_STREAMS_PER_IP" => Some("2".into()),
                _ => None,
            },
            None,
        )
        .expect("set");
        assert_eq!(set.header_read_timeout, Duration::from_secs(3));
        assert_eq!(set.max_event_streams_per_ip, 2);
        for (name, bad) in [
            ("VIGIE_IDLE_TIMEOUT", "soon"),
            ("VIGIE_IDLE_TIMEOUT", "0s"),
            ("VIGIE_MAX_CONNECTIONS", "-1"),
            ("VIGIE_MAX_CONNECTIONS_PER_IP", "0"),
        ] {
            let err = Limits::from_lookup(|n| (n == name).then(|| bad.to_owned()), None)
                .expect_err(bad)
                .to_string();
            assert!(err.contains(name), "{err}");
        }
    }

    #[test]
    fn slots_are_counted_per_address_and_in_total_and_given_back() {
        let slots = Slots::new(2, 3);
        let a: IpAddr = "10.0.0.1".parse().expect("ip");
        let b: IpAddr = "10.0.0.2".parse().expect("ip");
        let a1 = slots.take(a, false).expect("first");
        let _a2 = slots.take(a, false).expect("second");
        assert_eq!(slots.take(a, false).err(), Some(Refusal::PerAddress));
        let _b1 = slots.take(b, false).expect("another address");
        assert_eq!(slots.take(b, true).err(), Some(Refusal::Total));
        drop(a1);
        assert_eq!(slots.in_use(), 2);
        let _a3 = slots.take(a, false).expect("given back");
        assert_eq!(slots.held.lock().expect("lock").1.len(), 2);
    }

    #[test]
    fn an_ipv6_subscriber_counts_as_its_64() {
        let one: IpAddr = "2001:db8:1:2::1".parse().expect("ip");
        let two: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("ip");
        let other: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(bucket(one), bucket(two));
        assert_ne!(bucket(one), bucket(other));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().expect("ip");
        assert_eq!(bucket(mapped), "192.0.2.1".parse::<IpAddr>().expect("ip"));
    }
}
