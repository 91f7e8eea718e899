//! Incident drafts the engine proposes (`store::incidents::drafts`): the loop that proposes them, and
//! a stored draft as the console shows it (`console::incidents` shows them on
//! `/admin/incidents` and makes the new-incident form's content from one; dismissing one is
//! on [`super::incidents`]).
//! Nothing here publishes: a draft becomes an incident only when staff publish the form.

use chrono::Utc;
use console::incidents::{Proposal, ProposedService};
use store::incidents::drafts::Draft;

/// Proposes a draft (`store::incidents::drafts::propose`, audited as Vigie itself) for the services in
/// `major_outage` for `after` with no open incident. The instance holding the cluster's clock calls it
/// (`crate::cluster`); errors are logged and the next look tries again.
pub async fn propose(db: &store::Db, after: std::time::Duration) {
    let after = chrono::Duration::from_std(after).unwrap_or(chrono::Duration::minutes(5));
    match store::incidents::drafts::propose(db, Utc::now(), after).await {
        Ok(Some(d)) => tracing::info!(
            draft = d.id,
            services = ?d.services.iter().map(|s| &s.id).collect::<Vec<_>>(),
            "incident draft proposed to staff"
        ),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "cannot propose incident drafts"),
    }
}

/// A stored draft as the console shows it.
pub fn proposal(d: &Draft) -> Proposal {
    Proposal {
        id: d.id,
        since: d.since,
        services: d
            .services
            .iter()
            .map(|s| ProposedService {
                id: s.id.clone(),
                name: s.name.clone(),
                since: s.since,
                cause: s.cause.clone(),
            })
            .collect(),
    }
}
