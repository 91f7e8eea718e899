//! Incident drafts the engine proposes (`store::drafts`): the loop that proposes them, their
//! place on `/admin/incidents`, the prefilled new-incident form made from one, and dismissal.
//! Nothing here publishes: a draft becomes an incident only when staff publish the form.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::Router;
use chrono::Utc;
use store::drafts::{Draft, DraftStatus};

use super::incidents::write_error;
use super::page::{csrf, esc};
use super::templates;
use crate::auth::{Posted, Staff};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/incidents/drafts/{id}/dismiss", post(dismiss))
}

/// Proposes a draft (`store::drafts::propose`, audited as Vigie itself) for the services in
/// `major_outage` for `after` with no open incident. The instance holding the cluster's clock calls it
/// (`crate::cluster`); errors are logged and the next look tries again.
pub async fn propose(db: &store::Db, after: std::time::Duration) {
    let after = chrono::Duration::from_std(after).unwrap_or(chrono::Duration::minutes(5));
    match store::drafts::propose(db, Utc::now(), after).await {
        Ok(Some(d)) => tracing::info!(
            draft = d.id,
            services = ?d.services.iter().map(|s| &s.id).collect::<Vec<_>>(),
            "incident draft proposed to staff"
        ),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "cannot propose incident drafts"),
    }
}

/// The drafts waiting on `/admin/incidents`, each with its services, since when and why, a
/// link to open it as an incident (French or English write-up) and a dismiss button.
pub fn section(state: &AppState, staff: &Staff, drafts: &[Draft]) -> String {
    if drafts.is_empty() {
        return String::new();
    }
    let items: String = drafts
        .iter()
        .map(|d| {
            let services: String = d
                .services
                .iter()
                .map(|s| {
                    format!(
                        "<li>{name} — panne majeure depuis {since}{cause}</li>",
                        name = esc(&s.name),
                        since = local_time(state, s.since),
                        cause = s.cause.as_deref().map_or(String::new(), |c| format!(
                            " ({})",
                            esc(&app::i18n::FR.cause(c))
                        )),
                    )
                })
                .collect();
            format!(
                "<li class=\"draft\" id=\"draft-{id}\"><ul>{services}</ul>\
                 <a href=\"/admin/incidents/new?draft={id}&amp;template=fr\">Ouvrir l'incident (français)</a> · \
                 <a href=\"/admin/incidents/new?draft={id}&amp;template=en\">Open the incident (English)</a> \
                 <form method=\"post\" action=\"/admin/incidents/drafts/{id}/dismiss\">{csrf}\
                 <button>Écarter · Dismiss</button></form></li>",
                id = d.id,
                csrf = csrf(staff),
            )
        })
        .collect();
    format!(
        "<section class=\"drafts\"><h2>Brouillons proposés par Vigie · Drafts proposed by Vigie</h2>\
         <p>Ces services sont en panne majeure sans incident ouvert. Rien n'est publié sans vous. \
         · These services are in major outage with no open incident. Nothing is published without you.</p>\
         <ul>{items}</ul></section>"
    )
}

/// `HH:MM` in the site's timezone.
fn local_time(state: &AppState, at: chrono::DateTime<Utc>) -> String {
    at.with_timezone(&state.ctx.timezone)
        .format("%H:%M")
        .to_string()
}

/// What the new-incident form starts from for `draft`: title, Markdown message and the
/// services (each `major_outage`), in `lang` (`fr` or `en`).
pub struct Prefill {
    pub title: String,
    pub message: String,
    pub services: Vec<String>,
}

pub fn prefill(state: &AppState, draft: &Draft, lang: &str) -> Prefill {
    let names: Vec<&str> = draft.services.iter().map(|s| s.name.as_str()).collect();
    let english = lang == "en";
    let list = match names.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!(
            "{} {} {last}",
            rest.join(", "),
            if english { "and" } else { "et" }
        ),
    };
    let since = local_time(state, draft.since);
    let template = templates::for_lang(if english { "en" } else { "fr" }).unwrap_or("");
    let message = if english {
        template.replace("[time]", &since)
    } else {
        template.replace("[heure]", &since)
    }
    .replace("[services]", &list);
    let title = if english {
        format!("{list} unavailable")
    } else {
        format!(
            "{list} inaccessible{}",
            if names.len() > 1 { "s" } else { "" }
        )
    };
    Prefill {
        title,
        message,
        services: draft.services.iter().map(|s| s.id.clone()).collect(),
    }
}

async fn dismiss(State(state): State<AppState>, Path(id): Path<i64>, posted: Posted) -> Response {
    let actor = posted.staff.actor();
    match store::drafts::decide(
        &state.ctx.db,
        id,
        DraftStatus::Dismissed,
        None,
        &actor,
        Utc::now(),
    )
    .await
    {
        Ok(()) => Redirect::to("/admin/incidents").into_response(),
        Err(store::audit::WriteError::Conflict) => {
            let flash = "Ce brouillon a déjà été traité · This draft was already handled";
            super::incidents::render_list(&state, &posted.staff, Some(flash)).await
        }
        Err(e) => match write_error(e) {
            Ok(msg) => (StatusCode::UNPROCESSABLE_ENTITY, msg).into_response(),
            Err(r) => r,
        },
    }
}
