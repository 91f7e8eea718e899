//! Plays a scenario against a running Vigie: drives the simulated estate, reports backups to
//! the backup monitor's push URL, and posts staff incident updates through the write API,
//! exactly as a backup job and a staff member would.

use std::net::IpAddr;
use std::time::Duration;

use anyhow::Context;
use domain::config::{Catalog, Slug};
use serde_json::json;
use tokio::time::Instant;

use super::estate::{Estate, HostCondition};
use super::scenario::{Backup, Scenario, Step};

/// Where the player sends what it does.
pub struct Target<'a> {
    /// Base URL of the running Vigie, e.g. `http://127.0.0.1:8080`.
    pub base_url: String,
    /// Bearer token with the incidents scope, for staff actions.
    pub api_token: Option<String>,
    pub estate: &'a Estate,
    pub catalog: &'a Catalog,
    /// The probe locations and the source address each one's sockets bind to.
    pub locations: &'a [(Slug, IpAddr)],
    /// The token of the catalog's backup push monitor (the demo gives it one at start).
    pub backup_token: Option<String>,
}

impl Target<'_> {
    /// The source address of a probe location, by id.
    fn source_of(&self, location: &str) -> anyhow::Result<IpAddr> {
        self.locations
            .iter()
            .find(|(l, _)| l.as_str() == location)
            .map(|(_, ip)| *ip)
            .with_context(|| {
                let known: Vec<&str> = self.locations.iter().map(|(l, _)| l.as_str()).collect();
                format!(
                    "unknown probe location `{location}` (the demo probes from {})",
                    known.join(", ")
                )
            })
    }

    /// Every host and location the scenario names exists, so a typo fails at the start
    /// instead of silently doing nothing hours into the replay.
    fn check(&self, scenario: &Scenario) -> anyhow::Result<()> {
        for step in &scenario.steps {
            let hosts = step
                .cut
                .iter()
                .chain(&step.restore)
                .chain(step.degrade.iter().flat_map(|d| &d.hosts));
            for h in hosts {
                anyhow::ensure!(
                    self.catalog.hosts.iter().any(|c| c.id.as_str() == h),
                    "step at {}: unknown host `{h}`",
                    step.at
                );
            }
            for l in step.partition.iter().chain(&step.heal_partition) {
                self.source_of(l)
                    .with_context(|| format!("step at {}", step.at))?;
            }
        }
        Ok(())
    }
}

/// Reports one backup run to the backup monitor.
pub async fn report_backup(
    client: &reqwest::Client,
    target: &Target<'_>,
    backup: &Backup,
) -> anyhow::Result<()> {
    let token = target
        .backup_token
        .as_deref()
        .context("the catalog has no backup push monitor")?;
    let res = client
        .post(format!("{}/api/v1/push/{token}", target.base_url))
        .json(backup)
        .send()
        .await
        .context("failed to reach the push endpoint")?;
    anyhow::ensure!(
        res.status().is_success(),
        "push endpoint answered {}",
        res.status()
    );
    Ok(())
}

/// Runs every step at its time, `speed` times faster than the scenario's own pace.
pub async fn play(scenario: &Scenario, speed: f64, target: &Target<'_>) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .context("http client")?;
    target.check(scenario)?;
    let start = Instant::now();
    let mut incident: Option<String> = None;
    for step in &scenario.steps {
        tokio::time::sleep_until(start + scenario.real_offset(step, speed)).await;
        let lasts = |simulated: &str| scenario.real_duration(simulated, speed);
        apply(step, target, &client, &mut incident, lasts)
            .await
            .with_context(|| format!("step at {}", step.at))?;
    }
    Ok(())
}

async fn apply(
    step: &Step,
    target: &Target<'_>,
    client: &reqwest::Client,
    incident: &mut Option<String>,
    real_duration: impl Fn(&str) -> Duration,
) -> anyhow::Result<()> {
    if let Some(say) = &step.say {
        println!("[{:>6}] {say}", step.at);
    }
    let conditions = &target.estate.conditions;
    if let Some(d) = &step.degrade {
        for h in &d.hosts {
            conditions.set_host(
                h,
                HostCondition::Degraded {
                    extra_latency_ms: d.extra_latency_ms,
                    error_percent: d.error_percent,
                },
            );
        }
    }
    for h in &step.cut {
        conditions.set_host(h, HostCondition::Cut);
    }
    for h in &step.restore {
        conditions.set_host(h, HostCondition::Healthy);
    }
    for location in &step.partition {
        conditions.set_partitioned(target.source_of(location)?, true);
    }
    for location in &step.heal_partition {
        conditions.set_partitioned(target.source_of(location)?, false);
    }
    if let Some(b) = &step.backup {
        report_backup(client, target, b).await?;
    }
    if let Some(i) = &step.incident {
        let body = json!({
            "title": i.title,
            "impact": i.impact,
            "status": i.status,
            "message": i.message,
            "services": service_list(&i.services),
            "notify": true,
        });
        let created = staff_post(client, target, "/api/v1/incidents", &body).await?;
        let id = created.get("id").map(|v| {
            v.as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| v.to_string())
        });
        *incident = Some(id.context("the incident API returned no id")?);
    }
    if let Some(m) = &step.maintenance {
        let starts = chrono::Utc::now();
        let lasts =
            chrono::Duration::from_std(real_duration(&m.lasts)).context("maintenance duration")?;
        let body = json!({
            "title": m.title,
            "message": m.message,
            "starts_at": starts,
            "ends_at": starts + lasts,
            "services": m.services,
        });
        staff_post(client, target, "/api/v1/maintenances", &body).await?;
    }
    if let Some(u) = &step.incident_update {
        let id = incident
            .as_deref()
            .context("an incident update comes before any incident")?;
        let body = json!({ "status": u.status, "message": u.message, "services": service_list(&u.services) });
        staff_post(
            client,
            target,
            &format!("/api/v1/incidents/{id}/updates"),
            &body,
        )
        .await?;
    }
    Ok(())
}

/// `{service: status}` as the write API takes it: `[{"id": service, "status": status}]`.
fn service_list(services: &std::collections::BTreeMap<String, String>) -> serde_json::Value {
    services
        .iter()
        .map(|(id, status)| json!({ "id": id, "status": status }))
        .collect()
}

async fn staff_post(
    client: &reqwest::Client,
    target: &Target<'_>,
    path: &str,
    body: &serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    let token = target
        .api_token
        .as_deref()
        .context("staff actions need an API token")?;
    let res = client
        .post(format!("{}{path}", target.base_url))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .with_context(|| format!("failed to reach {path}"))?;
    let status = res.status();
    let json: serde_json::Value = res.json().await.unwrap_or(serde_json::Value::Null);
    anyhow::ensure!(status.is_success(), "{path} answered {status}: {json}");
    Ok(json)
}
