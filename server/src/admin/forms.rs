//! Pieces the incident forms share that need the server: every service with its status now,
//! the posted service choices, the preview as readers will see it (the public page's own
//! component, with the site's context), and refused writes told as sentences. The rest of the
//! forms are `console::forms`.

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use console::forms::ServiceNow;
use console::{Errors, L};
use domain::incident::{
    AffectedService, Impact, IncidentPage, IncidentStatus, IncidentUpdateView, UpdateEntry,
};
use domain::status::ServiceState;
use domain::topology::Owner;
use leptos::prelude::*;
use store::audit::WriteError;

use super::internal;
use crate::auth::Posted;
use crate::state::AppState;

/// Every service staff may name, in page order, with its status now: the one stated in
/// `stated` (an incident's own services) or else the one the page shows.
pub async fn services_now(
    state: &AppState,
    stated: &[AffectedService],
) -> Result<Vec<ServiceNow>, store::StoreError> {
    let db = &state.ctx.db;
    let (services, current) = tokio::try_join!(
        store::incidents::read::services(db),
        store::status::current(db)
    )?;
    let computed: HashMap<String, ServiceState> = current
        .into_iter()
        .filter_map(|c| match c.subject {
            Owner::Service(slug) => Some((slug.as_str().to_owned(), c.state)),
            Owner::Host(_) => None,
        })
        .collect();
    Ok(services
        .into_iter()
        .map(|(id, name)| {
            let now = stated
                .iter()
                .find(|s| s.service_id == id)
                .map(|s| ServiceState::Known(s.status))
                .or_else(|| computed.get(&id).copied())
                .unwrap_or(ServiceState::NoData);
            ServiceNow { id, name, now }
        })
        .collect())
}

/// The posted service choices, by service id (blank = unchanged).
pub fn posted_services(posted: &Posted) -> HashMap<String, String> {
    posted
        .fields
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("service:")?.to_owned(), v.trim().to_owned())))
        .collect()
}

/// What a preview shows: the incident as the public page will render it after publishing.
pub struct Preview {
    pub id: i64,
    pub title: String,
    pub status: IncidentStatus,
    pub impact: Impact,
    pub started_at: DateTime<Utc>,
    pub services: Vec<AffectedService>,
    /// Published updates, newest first (empty for a new incident).
    pub earlier: Vec<IncidentUpdateView>,
    pub message_md: String,
}

/// The preview, rendered by the public incident page's own component: what readers will see.
pub fn preview(state: &AppState, l: L, p: Preview) -> impl IntoView {
    let tz = state.ctx.timezone;
    let site = |t: DateTime<Utc>| t.with_timezone(&tz).fixed_offset();
    let now = Utc::now();
    let mut updates: Vec<UpdateEntry> = vec![UpdateEntry {
        id: 0,
        status: p.status,
        message_html: crate::markdown::render(&p.message_md),
        created_at: site(now),
        edited_at: None,
    }];
    updates.extend(p.earlier.into_iter().map(|u| UpdateEntry {
        id: u.id,
        status: u.status,
        message_html: u.message_html,
        created_at: site(u.created_at),
        edited_at: u.edited_at.map(site),
    }));
    // The public page lists updates in the order the store gives them to it.
    updates.reverse();
    let (postmortem, updates): (Vec<_>, Vec<_>) = updates
        .into_iter()
        .partition(|u| u.status == IncidentStatus::Postmortem);
    let page = IncidentPage {
        generated_at: site(now),
        timezone: tz.name().to_owned(),
        id: p.id,
        title: p.title,
        status: p.status,
        impact: p.impact,
        started_at: site(p.started_at),
        resolved_at: (p.status == IncidentStatus::Resolved).then(|| site(now)),
        services: p.services,
        updates,
        postmortem,
    };
    provide_context(state.ctx.clone());
    provide_context(leptos::prelude::ArcRwSignal::new(
        leptos_router::location::Url::default(),
    ));
    let t = wording::texts(l.0);
    view! {
        <section class="preview" aria-labelledby="preview-title">
            <h2 id="preview-title">{l.t("Aperçu : ce que les lecteurs verront", "Preview: what readers will see")}</h2>
            <div class="preview-frame">
                <app::pages::incident::Incident page t/>
            </div>
        </section>
    }
}

/// A refused write as a sentence next to `field` (or on top), or the response to send
/// instead (not found, database trouble).
// Handlers return the `Response` at once: boxing it would only add an allocation.
#[allow(clippy::result_large_err)]
pub fn write_error(l: L, e: WriteError, errors: &mut Errors) -> Result<(), Response> {
    match e {
        WriteError::Store(e) => Err(internal(e)),
        WriteError::NotFound => Err(StatusCode::NOT_FOUND.into_response()),
        WriteError::UnknownService(id) => {
            errors.add(
                format!("service:{id}"),
                l.f(
                    || format!("Le service « {id} » n'existe plus : rechargez la page."),
                    || format!("Service “{id}” no longer exists: reload the page."),
                ),
            );
            Ok(())
        }
        WriteError::Transition { from, to } => {
            let word = |s: &str| {
                IncidentStatus::parse(s)
                    .map(|s| l.incident_status(s).to_owned())
                    .unwrap_or_else(|| s.to_owned())
            };
            let (from, to) = (word(from), word(to));
            errors.add(
                "status",
                l.f(
                    || format!("Un incident « {from} » ne peut pas passer à « {to} »."),
                    || format!("An incident that is “{from}” cannot become “{to}”."),
                ),
            );
            Ok(())
        }
        WriteError::Conflict => {
            errors.add(
                "",
                l.t(
                    "Cet élément existe déjà ou a été modifié entre-temps : rechargez la page.",
                    "This already exists or was changed in the meantime: reload the page.",
                ),
            );
            Ok(())
        }
        WriteError::TooLong { field, max } => {
            errors.add(
                field,
                l.f(
                    || format!("Au plus {max} caractères : raccourcissez le texte."),
                    || format!("At most {max} characters: shorten the text."),
                ),
            );
            Ok(())
        }
        WriteError::Invalid(field) => {
            let sentence = match field {
                "title" => l.t("Donnez un titre.", "Give a title."),
                "started_at" => l.t(
                    "Le début ne peut pas être dans le futur.",
                    "The start cannot be in the future.",
                ),
                "ends_at" => l.t(
                    "La fin doit venir après le début.",
                    "The end must come after the start.",
                ),
                "status" => l.t(
                    "Choisissez un état dans la liste.",
                    "Choose a status from the list.",
                ),
                "name" => l.t("Donnez un nom.", "Give a name."),
                "scopes" => l.t(
                    "Cochez au moins une permission.",
                    "Tick at least one permission.",
                ),
                _ => l.t(
                    "Cette valeur n'est pas acceptée.",
                    "This value is not accepted.",
                ),
            };
            errors.add(field, sentence);
            Ok(())
        }
    }
}

/// The page again with why write `e` was refused (`again` renders it with `errors` and the
/// reason), or the response to send instead (not found, database trouble).
pub async fn refused<F, Fut>(l: L, e: WriteError, mut errors: Errors, again: F) -> Response
where
    F: FnOnce(Errors) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    match write_error(l, e, &mut errors) {
        Ok(()) => again(errors).await,
        Err(r) => r,
    }
}
