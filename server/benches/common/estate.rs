//! The estate both page benchmarks serve: 100 services in 10 groups with 90 days of status
//! history (a few outages a week, some partial) and a dozen incidents with updates. Included by
//! `page.rs` and `abuse.rs` with `#[path]` (a folder under benches/ is not a bench target).

use chrono::{TimeDelta, Utc};
use domain::config::Slug;
use domain::incident::{Impact, IncidentStatus};
use domain::status::{ComponentStatus, ServiceState};
use domain::topology::{Owner, StatusChange};

pub const SERVICES: usize = 100;
pub const GROUPS: usize = 10;

/// The catalog: every monitor a TCP check of a closed port (the benchmarks run with probes
/// off, so none ever runs).
pub fn catalog_toml() -> String {
    let mut t = String::from(
        "[site]\ntitle = \"Bench — état des services\"\ntimezone = \"Europe/Paris\"\n\n",
    );
    for g in 0..GROUPS {
        t += &format!("[[groups]]\nid = \"group-{g}\"\nname = \"Groupe {g}\"\n\n");
    }
    for s in 0..SERVICES {
        t += &format!(
            "[[services]]\nid = \"service-{s}\"\nname = \"Service {s}\"\ngroup = \"group-{}\"\n\
             description = \"Le service numéro {s}.\"\n\n[[services.monitors]]\nkind = \"tcp\"\n\
             target = \"127.0.0.1:9\"\ninterval = \"60s\"\n\n",
            s % GROUPS
        );
    }
    t
}

/// 90 days of history: every service up from day one, then outages at pseudo-random times.
pub async fn seed(db: &store::Db) -> anyhow::Result<()> {
    let now = Utc::now();
    let start = now - TimeDelta::days(90);
    let mut changes = Vec::new();
    let mut rng = fastrand::Rng::with_seed(42);
    for s in 0..SERVICES {
        let slug = Slug::parse(&format!("service-{s}")).map_err(anyhow::Error::msg)?;
        let change = |at, to| StatusChange {
            subject: Owner::Service(slug.clone()),
            from: None,
            to: ServiceState::Known(to),
            cause: None,
            at,
        };
        changes.push(change(start, ComponentStatus::Operational));
        let mut at = start;
        loop {
            at += TimeDelta::hours(rng.i64(24..24 * 14));
            if at >= now - TimeDelta::hours(2) {
                break;
            }
            let kind = if rng.bool() {
                ComponentStatus::MajorOutage
            } else {
                ComponentStatus::PartialOutage
            };
            changes.push(change(at, kind));
            at += TimeDelta::minutes(rng.i64(5..240));
            changes.push(change(at, ComponentStatus::Operational));
        }
    }
    // In time order, as the engine writes them.
    changes.sort_by_key(|c| c.at);
    store::status::apply(db, &changes).await?;
    for i in 0..12 {
        let started = now - TimeDelta::days(7 * i + 1);
        let incident = store::incidents::open(
            db,
            &store::incidents::NewIncident {
                title: format!("Incident {i} : sites lents"),
                impact: Impact::Minor,
                status: IncidentStatus::Investigating,
                message: store::incidents::Message {
                    markdown: "Nous enquêtons.".into(),
                    html: "<p>Nous enquêtons.</p>".into(),
                },
                services: vec![(format!("service-{i}"), ComponentStatus::PartialOutage)],
                started_at: Some(started),
                notify: false,
            },
            &store::audit::Actor::cli(),
            started,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        if i > 0 {
            store::incidents::post_update(
                db,
                incident.id,
                &store::incidents::NewUpdate {
                    status: IncidentStatus::Resolved,
                    message: store::incidents::Message {
                        markdown: "Résolu.".into(),
                        html: "<p>Résolu.</p>".into(),
                    },
                    services: vec![],
                },
                &store::audit::Actor::cli(),
                started + TimeDelta::hours(2),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        }
    }
    Ok(())
}
