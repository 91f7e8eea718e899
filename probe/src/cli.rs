//! `vigie probe`: runs every monitor once from this location and prints a table, the quickest
//! way for an operator to test a configuration.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::Arc;

use chrono::Utc;
use domain::config::{Catalog, MonitorKind, Slug};
use domain::status::CheckOutcome;
use domain::topology::{self, Owner};
use tokio::sync::Semaphore;

use crate::{Clients, ProbeError, ProbeResult};

/// One line of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub service: String,
    pub monitor: String,
    pub location: String,
    pub result: String,
    pub latency: String,
    pub reason: String,
}

/// Runs the monitors of `catalog` (only those of `service` when given) once, in parallel.
pub async fn probe_all(
    catalog: &Catalog,
    service: Option<&Slug>,
    source: Option<IpAddr>,
) -> Result<Vec<Row>, ProbeError> {
    let clients = Clients::new(source)?;
    let limit = Arc::new(Semaphore::new(64));
    let location = catalog.probe_location.to_string();
    let mut handles = Vec::new();
    for (key, m) in topology::monitors(catalog) {
        let owner = match &key.owner {
            Owner::Service(s) => s.to_string(),
            Owner::Host(h) => format!("host {h}"),
        };
        if let Some(only) = service {
            if key.owner != Owner::Service(only.clone()) {
                continue;
            }
        }
        let m = m.clone();
        let clients = clients.clone();
        let limit = limit.clone();
        handles.push(tokio::spawn(async move {
            let result = if m.kind() == MonitorKind::Push {
                None
            } else {
                let _permit = limit.acquire().await.ok();
                Some(crate::run(&m, &clients, Utc::now()).await)
            };
            (owner, key.monitor.to_string(), result)
        }));
    }
    let mut rows = Vec::with_capacity(handles.len());
    for h in handles {
        let Ok((service, monitor, result)) = h.await else {
            continue;
        };
        rows.push(row(service, monitor, &location, result));
    }
    Ok(rows)
}

fn row(service: String, monitor: String, location: &str, result: Option<ProbeResult>) -> Row {
    match result {
        None => Row {
            service,
            monitor,
            location: location.to_owned(),
            result: "push".into(),
            latency: "-".into(),
            // Never the token itself: this table is read over shoulders and pasted in tickets.
            reason: "waits for heartbeats at /api/v1/push/<its token>".into(),
        },
        Some(r) => Row {
            service,
            monitor,
            location: location.to_owned(),
            result: r.outcome.as_str().into(),
            latency: r
                .latency
                .map_or_else(|| "-".into(), |l| format!("{} ms", l.as_millis())),
            // In English words: the table is read in a terminal.
            reason: r
                .reason
                .as_deref()
                .map(|r| domain::reason::Reason::from_stored(r).to_string())
                .unwrap_or_default(),
        },
    }
}

/// The table, columns aligned, with a summary line.
pub fn render(rows: &[Row]) -> String {
    let header = Row {
        service: "SERVICE".into(),
        monitor: "MONITOR".into(),
        location: "LOCATION".into(),
        result: "RESULT".into(),
        latency: "LATENCY".into(),
        reason: "REASON".into(),
    };
    let all: Vec<&Row> = std::iter::once(&header).chain(rows).collect();
    let w = |f: fn(&Row) -> &str| all.iter().map(|r| f(r).chars().count()).max().unwrap_or(0);
    let widths = [
        w(|r| &r.service),
        w(|r| &r.monitor),
        w(|r| &r.location),
        w(|r| &r.result),
        w(|r| &r.latency),
    ];
    let mut out = String::new();
    for r in &all {
        let _ = writeln!(
            out,
            "{:<a$}  {:<b$}  {:<c$}  {:<d$}  {:>e$}  {}",
            r.service,
            r.monitor,
            r.location,
            r.result,
            r.latency,
            r.reason,
            a = widths[0],
            b = widths[1],
            c = widths[2],
            d = widths[3],
            e = widths[4],
        );
    }
    let count = |o: CheckOutcome| rows.iter().filter(|r| r.result == o.as_str()).count();
    let _ = writeln!(
        out,
        "{} monitors: {} up, {} degraded, {} down, {} push",
        rows.len(),
        count(CheckOutcome::Up),
        count(CheckOutcome::Degraded),
        count(CheckOutcome::Down),
        rows.iter().filter(|r| r.result == "push").count()
    );
    out.trim_end().to_owned()
}
