//! The simulated Humanoid estate: one small server per site and internal service, on loopback
//! ports, grouped on VMs and physical hosts exactly as the catalog says.
//!
//! Each simulated server sits behind its own accept loop, so the estate can do to it what a
//! hoster does to a real machine: a *cut* host black-holes every connection to the servers on
//! it (probes time out), a *degraded* link adds latency and errors, and a *partitioned* probe
//! source address gets its connections reset, which stages one probe location losing its
//! network while the sites are fine. Nothing in the probes knows this is a simulation.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use domain::config::{Catalog, MonitorKind, Slug};
use http_body_util::Full;
use hyper::http::{header, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

/// How a host's network behaves right now.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HostCondition {
    Healthy,
    /// Packets get through late and some requests fail (the subnet-mask mistake).
    Degraded {
        extra_latency_ms: u64,
        error_percent: u8,
    },
    /// The hoster pulled the plug: connections are black-holed.
    Cut,
}

/// The mutable state every simulated server consults on each connection and request.
#[derive(Debug, Default)]
pub struct Conditions {
    hosts: RwLock<HashMap<String, HostCondition>>,
    partitioned: RwLock<HashSet<IpAddr>>,
}

impl Conditions {
    pub fn set_host(&self, host: &str, condition: HostCondition) {
        if let Ok(mut h) = self.hosts.write() {
            if condition == HostCondition::Healthy {
                h.remove(host);
            } else {
                h.insert(host.to_owned(), condition);
            }
        }
    }

    pub fn host(&self, host: &str) -> HostCondition {
        self.hosts
            .read()
            .ok()
            .and_then(|h| h.get(host).copied())
            .unwrap_or(HostCondition::Healthy)
    }

    /// Resets every connection coming from `source` (a probe location's address) or lets it in.
    pub fn set_partitioned(&self, source: IpAddr, partitioned: bool) {
        if let Ok(mut p) = self.partitioned.write() {
            if partitioned {
                p.insert(source);
            } else {
                p.remove(&source);
            }
        }
    }

    fn is_partitioned(&self, source: IpAddr) -> bool {
        self.partitioned.read().is_ok_and(|p| p.contains(&source))
    }

    /// The worst condition along a chain of hosts (VM, then its physical host, …).
    fn chain(&self, chain: &[String]) -> HostCondition {
        let mut worst = HostCondition::Healthy;
        for host in chain {
            match self.host(host) {
                HostCondition::Cut => return HostCondition::Cut,
                d @ HostCondition::Degraded { .. } => worst = d,
                HostCondition::Healthy => {}
            }
        }
        worst
    }
}

/// What a simulated server speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Protocol {
    Http,
    Tcp,
}

/// One simulated server.
#[derive(Debug)]
struct Sim {
    name: String,
    description: String,
    /// The service's VM and its ancestors, nearest first.
    chain: Vec<String>,
    base_latency_ms: u64,
    protocol: Protocol,
}

/// The running estate: where each simulated server listens, and the knobs to break them.
pub struct Estate {
    pub conditions: Arc<Conditions>,
    /// Listening address of each service's (or host's) simulated server, by id.
    services: HashMap<String, SocketAddr>,
    hosts: HashMap<String, SocketAddr>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Estate {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Estate {
    /// Starts one loopback server for every service and host of `catalog` that has an HTTP or
    /// TCP monitor.
    pub async fn start(catalog: &Catalog) -> std::io::Result<Self> {
        let conditions = Arc::new(Conditions::default());
        let parents: HashMap<&str, &str> = catalog
            .hosts
            .iter()
            .filter_map(|h| h.parent.as_ref().map(|p| (h.id.as_str(), p.as_str())))
            .collect();
        let chain_of = |host: Option<&Slug>| {
            let mut chain = Vec::new();
            let mut cur = host.map(Slug::as_str);
            while let Some(h) = cur {
                chain.push(h.to_owned());
                cur = parents.get(h).copied();
            }
            chain
        };
        let mut estate = Estate {
            conditions,
            services: HashMap::new(),
            hosts: HashMap::new(),
            tasks: Vec::new(),
        };
        for s in &catalog.services {
            let Some(protocol) = protocol_of(s.monitors.iter().map(|m| m.kind())) else {
                continue;
            };
            let sim = Sim {
                name: s.name.clone(),
                description: s.description.clone().unwrap_or_default(),
                chain: chain_of(s.host.as_ref()),
                base_latency_ms: base_latency(s.id.as_str()),
                protocol,
            };
            let addr = estate.spawn(sim).await?;
            estate.services.insert(s.id.to_string(), addr);
        }
        for h in &catalog.hosts {
            let Some(protocol) = protocol_of(h.monitors.iter().map(|m| m.kind())) else {
                continue;
            };
            let sim = Sim {
                name: h.name.clone(),
                description: String::new(),
                chain: chain_of(Some(&h.id)),
                base_latency_ms: 2,
                protocol,
            };
            let addr = estate.spawn(sim).await?;
            estate.hosts.insert(h.id.to_string(), addr);
        }
        Ok(estate)
    }

    async fn spawn(&mut self, sim: Sim) -> std::io::Result<SocketAddr> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(accept_loop(
            listener,
            Arc::new(sim),
            self.conditions.clone(),
        ));
        self.tasks.push(task);
        Ok(addr)
    }

    /// The catalog with every HTTP and TCP monitor pointed at its simulated server.
    pub fn rewrite(&self, catalog: &Catalog) -> Catalog {
        let mut out = catalog.clone();
        for s in &mut out.services {
            if let Some(addr) = self.services.get(s.id.as_str()) {
                for m in &mut s.monitors {
                    retarget(m, *addr);
                }
            }
        }
        for h in &mut out.hosts {
            if let Some(addr) = self.hosts.get(h.id.as_str()) {
                for m in &mut h.monitors {
                    retarget(m, *addr);
                }
            }
        }
        out
    }

    /// Where the simulated server of `service` listens.
    pub fn service_addr(&self, service: &str) -> Option<SocketAddr> {
        self.services.get(service).copied()
    }
}

fn retarget(m: &mut domain::config::Monitor, addr: SocketAddr) {
    match m.kind() {
        MonitorKind::Http | MonitorKind::Keyword | MonitorKind::Json => {
            m.target = format!("http://{addr}/")
        }
        MonitorKind::Tcp => m.target = addr.to_string(),
        MonitorKind::Dns | MonitorKind::Tls | MonitorKind::Push => {}
    }
}

fn protocol_of(kinds: impl Iterator<Item = MonitorKind>) -> Option<Protocol> {
    let mut found = None;
    for k in kinds {
        match k {
            MonitorKind::Http | MonitorKind::Keyword | MonitorKind::Json => {
                return Some(Protocol::Http)
            }
            MonitorKind::Tcp => found = Some(Protocol::Tcp),
            _ => {}
        }
    }
    found
}

/// A stable, plausible base latency per service (30 to 120 ms), so each site has its own profile.
fn base_latency(id: &str) -> u64 {
    let h = id
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    30 + h % 91
}

/// How long a black-holed connection is held before the simulated host lets go of it: longer
/// than any probe timeout, so the probe sees a timeout as it would against a dead host.
const BLACKHOLE: Duration = Duration::from_secs(120);

async fn accept_loop(listener: TcpListener, sim: Arc<Sim>, conditions: Arc<Conditions>) {
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            continue;
        };
        if conditions.is_partitioned(peer.ip()) {
            // The probe location's network is cut: its connection is closed at once.
            drop(stream);
            continue;
        }
        if conditions.chain(&sim.chain) == HostCondition::Cut {
            tokio::spawn(async move {
                tokio::time::sleep(BLACKHOLE).await;
                drop(stream);
            });
            continue;
        }
        let sim = sim.clone();
        let conditions = conditions.clone();
        tokio::spawn(async move {
            match sim.protocol {
                Protocol::Http => serve_http(stream, peer, sim, conditions).await,
                Protocol::Tcp => serve_tcp(stream, sim, conditions).await,
            }
        });
    }
}

async fn serve_http(
    stream: TcpStream,
    peer: SocketAddr,
    sim: Arc<Sim>,
    conditions: Arc<Conditions>,
) {
    let peer = peer.ip();
    let service = hyper::service::service_fn(move |_req| {
        let (sim, conditions) = (sim.clone(), conditions.clone());
        async move { Ok::<_, Infallible>(page(&sim, &conditions, peer).await) }
    });
    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// The site's home page, after its latency, or the failure its host's condition causes.
async fn page(sim: &Sim, conditions: &Conditions, peer: IpAddr) -> Response<Full<Bytes>> {
    // Conditions are read per request too: a kept-alive connection must see a cut.
    if conditions.is_partitioned(peer) || conditions.chain(&sim.chain) == HostCondition::Cut {
        tokio::time::sleep(BLACKHOLE).await;
    }
    let (extra, error_percent) = match conditions.chain(&sim.chain) {
        HostCondition::Degraded {
            extra_latency_ms,
            error_percent,
        } => (extra_latency_ms, error_percent),
        _ => (0, 0),
    };
    tokio::time::sleep(Duration::from_millis(jitter(sim.base_latency_ms) + extra)).await;
    if error_percent > 0 && fastrand::u8(0..100) < error_percent {
        let mut res = Response::new(Full::from("Erreur 502: la base de données ne répond pas"));
        *res.status_mut() = StatusCode::BAD_GATEWAY;
        return res;
    }
    let mut res = Response::new(Full::from(home_page(&sim.name, &sim.description)));
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    res
}

/// A simulated site's home page: its name as title and heading, and its description.
///
/// Written with quick-xml's writer (as the server's badges are), which escapes every text and
/// attribute it is given: the demo renders no page with Leptos (check-deps keeps it out). The
/// writer's syntax is also HTML's here: void elements are written `<meta …/>` and no other
/// element is empty.
pub fn home_page(name: &str, description: &str) -> Vec<u8> {
    use quick_xml::events::{BytesText, Event};
    let mut xml = quick_xml::Writer::new(Vec::with_capacity(256));
    let written: std::io::Result<()> = (|| {
        xml.write_event(Event::DocType(BytesText::from_escaped("html")))?;
        xml.create_element("html")
            .with_attribute(("lang", "fr"))
            .write_inner_content(|xml| {
                xml.create_element("head").write_inner_content(|xml| {
                    xml.create_element("meta")
                        .with_attribute(("charset", "utf-8"))
                        .write_empty()?;
                    xml.create_element("title")
                        .write_text_content(BytesText::new(name))?;
                    Ok(())
                })?;
                xml.create_element("body").write_inner_content(|xml| {
                    xml.create_element("h1")
                        .write_text_content(BytesText::new(name))?;
                    xml.create_element("p")
                        .write_text_content(BytesText::new(description))?;
                    Ok(())
                })?;
                Ok(())
            })?;
        Ok(())
    })();
    // Writing into memory cannot fail; should it ever, the page is empty rather than broken.
    match written {
        Ok(()) => xml.into_inner(),
        Err(_) => Vec::new(),
    }
}

/// What every simulated TCP service says once connected (after its name).
pub const TCP_GREETING: &str = "ready";

async fn serve_tcp(mut stream: TcpStream, sim: Arc<Sim>, conditions: Arc<Conditions>) {
    let extra = match conditions.chain(&sim.chain) {
        HostCondition::Degraded {
            extra_latency_ms, ..
        } => extra_latency_ms,
        _ => 0,
    };
    tokio::time::sleep(Duration::from_millis(
        jitter(sim.base_latency_ms) / 4 + extra,
    ))
    .await;
    let _ = stream
        .write_all(format!("{} {TCP_GREETING}\r\n", sim.name).as_bytes())
        .await;
    let _ = stream.shutdown().await;
}

/// ±20 % of noise around a base latency, and now and then (1 in 200) a slow answer.
fn jitter(base: u64) -> u64 {
    let spread = (base / 5).max(1);
    let v = base - spread + fastrand::u64(0..=2 * spread);
    if fastrand::u16(0..200) == 0 {
        v * 4
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_site_page_is_html_whose_words_are_text() {
        let page = String::from_utf8(home_page("Forum & co", "")).expect("UTF-8");
        assert_eq!(
            page,
            "<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"/>\
             <title>Forum &amp; co</title></head><body><h1>Forum &amp; co</h1><p></p></body></html>"
        );
        let hostile = String::from_utf8(home_page("x</title><script>", "<img src=x onerror=a()>"))
            .expect("UTF-8");
        assert!(
            !hostile.contains("<script") && !hostile.contains("<img"),
            "{hostile}"
        );
        assert!(
            hostile.contains("<title>x&lt;/title&gt;&lt;script&gt;</title>"),
            "{hostile}"
        );
    }
}
