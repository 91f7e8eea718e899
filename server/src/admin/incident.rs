//! `/admin/incidents/{id}`: one incident for on-call. Its headline with a link to the public
//! page; the form for the next update, whose status starts at the incident's current one and
//! whose service rows show each service's status now; the title and impact, editable; every
//! published update with its text editable. Every post ends in a redirect with a confirmation.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use domain::incident::{Impact, IncidentStatus, IncidentView};
use leptos::prelude::*;
use std::collections::HashMap;
use store::incidents::{IncidentEdit, NewUpdate};

use super::forms::{self, Preview};
use super::internal;
use super::ui::{self, Clock, Errors, Input, Notice, Page, Section, L};
use crate::auth::{Posted, Staff};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/incidents/{id}", get(show))
        .route("/admin/incidents/{id}/updates", post(update))
        .route("/admin/incidents/{id}/edit", post(edit))
        .route(
            "/admin/incidents/{id}/updates/{update_id}/edit",
            post(edit_update),
        )
}

/// What the page's forms hold when they are shown again.
#[derive(Clone, Debug, Default)]
struct Forms {
    /// The next update: status, message, service choices.
    status: String,
    message: String,
    services: HashMap<String, String>,
    /// The headline form.
    title: Option<String>,
    impact: Option<String>,
    /// The update whose text was refused, with that text.
    edited: Option<(i64, String)>,
    preview: bool,
}

fn confirmation(l: L, code: &str, id: i64) -> Option<Notice> {
    let text = match code {
        "incident-opened" => l.t("Incident publié.", "Incident published."),
        "update-posted" => l.t("Mise à jour publiée.", "Update published."),
        "incident-edited" => l.t("Titre et impact enregistrés.", "Title and impact saved."),
        "update-edited" => l.t("Texte de la mise à jour enregistré.", "Update text saved."),
        _ => return None,
    };
    Some(Notice::ok(text).with_link(
        format!("/incidents/{id}"),
        l.t("Voir la page publique", "See the public page"),
    ))
}

async fn show(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    let incident = match store::incidents::get(&state.ctx.db, id).await {
        Ok(Some(i)) => i,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => return internal(e),
    };
    let notice = ui::flash_code(&headers).and_then(|c| confirmation(staff.l(), &c, id));
    let shown = notice.is_some();
    let forms = Forms {
        status: incident.status.as_str().to_owned(),
        ..Forms::default()
    };
    let res = render(&state, &staff, &incident, forms, Errors::default(), notice).await;
    if shown {
        ui::spend_flash(res, &staff)
    } else {
        res
    }
}

async fn render(
    state: &AppState,
    staff: &Staff,
    incident: &IncidentView,
    forms: Forms,
    errors: Errors,
    notice: Option<Notice>,
) -> Response {
    let services = match forms::services_now(state, &incident.services).await {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    let l = staff.l();
    let clock = Clock {
        tz: state.ctx.timezone,
        l,
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let notice = notice.or_else(|| errors.notice(l));
    let preview = forms.preview.then(|| {
        let mut ignored = Errors::default();
        let changes = forms::chosen_services(l, &forms.services, &mut ignored);
        Preview {
            id: incident.id,
            title: incident.title.clone(),
            status: IncidentStatus::parse(&forms.status).unwrap_or(incident.status),
            impact: incident.impact,
            started_at: incident.started_at,
            services: forms::preview_services(&services, &incident.services, &changes),
            earlier: incident.updates.clone(),
            message_md: forms.message.clone(),
        }
    });
    let id = incident.id;
    let incident = incident.clone();
    let state = state.clone();
    let staff_csrf = staff.session.csrf_token.clone();
    Page::new(l, Some(staff), Section::Incidents, incident.title.clone())
        .status(status)
        .notice(notice)
        .render(move || {
            let csrf = move || view! { <input type="hidden" name="csrf" value=staff_csrf.clone()/> };
            let preview = preview.map(|p| forms::preview(&state, l, p));
            let next: Vec<(String, String)> = IncidentStatus::ALL
                .into_iter()
                .filter(|s| incident.status.can_become(*s))
                .map(|s| (s.as_str().to_owned(), l.incident_status(s).to_owned()))
                .collect();
            let impacts: Vec<(String, String)> = Impact::ALL
                .iter()
                .map(|i| (i.as_str().to_owned(), l.impact(*i).to_owned()))
                .collect();
            let impact_now = forms
                .impact
                .clone()
                .unwrap_or_else(|| incident.impact.as_str().to_owned());
            let title_now = forms.title.clone().unwrap_or_else(|| incident.title.clone());
            let updates = incident
                .updates
                .iter()
                .map(|u| {
                    let (text, error) = match &forms.edited {
                        Some((uid, text)) if *uid == u.id => (text.clone(), errors.get("message")),
                        _ => (u.message_md.clone(), None),
                    };
                    let field = format!("edit-{}", u.id);
                    let field_id = ui::field_id(&field);
                    let open = error.is_some();
                    let describe = error.is_some().then(|| format!("{field_id}-error"));
                    view! {
                        <li class="console-update" id=format!("update-{}", u.id)>
                            <p class="console-update-meta">
                                <strong>{l.incident_status(u.status)}</strong>
                                " — "
                                {clock.show(u.created_at)}
                                {u.edited_at.map(|_| view! { " " <span class="edited">{l.t("(modifié)", "(edited)")}</span> })}
                            </p>
                            <div class="incident-body" inner_html=u.message_html.clone()></div>
                            <details open=open>
                                <summary>{l.t("Modifier le texte", "Edit the text")}</summary>
                                <form method="post" action=format!("/admin/incidents/{id}/updates/{}/edit", u.id) class="console-form">
                                    {csrf()}
                                    <div class="field">
                                        <label for=field_id.clone()>{l.t("Texte (Markdown)", "Text (Markdown)")}</label>
                                        <textarea id=field_id name="message" rows=6 required=true aria-describedby=describe inner_html=ui::textarea_text(&text)></textarea>
                                        {ui::field_error(&field, error)}
                                    </div>
                                    <div class="button-row">
                                        <button class="button-secondary">{l.t("Enregistrer le texte", "Save the text")}</button>
                                    </div>
                                </form>
                            </details>
                        </li>
                    }
                })
                .collect_view();
            let message_errors = if forms.edited.is_some() { Errors::default() } else { errors.clone() };
            view! {
                <p class="incident-summary">
                    <span class=format!("incident-status incident-status-{}", incident.status.as_str())>
                        {l.incident_status(incident.status)}
                    </span>
                    " · "
                    {format!("{} {}", l.t("Impact", "Impact"), l.impact(incident.impact).to_lowercase())}
                    " · "
                    {l.f(|| format!("depuis le {}", clock.show(incident.started_at)), || format!("since {}", clock.show(incident.started_at)))}
                </p>
                <p><a href=format!("/incidents/{id}")>{l.t("Voir la page publique", "See the public page")}</a></p>
                {preview}
                <section aria-labelledby="next-update">
                    <h2 id="next-update">{l.t("Publier une mise à jour", "Post an update")}</h2>
                    <form method="post" action=format!("/admin/incidents/{id}/updates") class="console-form">
                        {csrf()}
                        {ui::select("status", l.t("État de l'incident", "Incident status").to_owned(), next, &forms.status, &message_errors)}
                        {forms::service_rows(
                            l,
                            l.t("Services", "Services"),
                            l.t("Inchangé", "Unchanged"),
                            &services,
                            &forms.services,
                            &message_errors,
                        )}
                        {forms::message_field(l, forms.message.clone(), 8, &message_errors, false)}
                        <div class="button-row form-actions">
                            <button class="button-secondary" name="action" value="preview">{l.t("Aperçu", "Preview")}</button>
                            <button class="button-primary" name="action" value="publish">{l.t("Publier la mise à jour", "Post the update")}</button>
                        </div>
                    </form>
                </section>
                <section aria-labelledby="headline">
                    <h2 id="headline">{l.t("Titre et impact", "Title and impact")}</h2>
                    <form method="post" action=format!("/admin/incidents/{id}/edit") class="console-form">
                        {csrf()}
                        {Input::new("title", l.t("Titre", "Title"), &message_errors).value(title_now).required().view()}
                        {ui::select("impact", l.t("Impact", "Impact").to_owned(), impacts, &impact_now, &message_errors)}
                        <div class="button-row">
                            <button class="button-secondary">{l.t("Enregistrer le titre et l'impact", "Save title and impact")}</button>
                        </div>
                    </form>
                </section>
                <section aria-labelledby="published">
                    <h2 id="published">{l.t("Mises à jour publiées", "Published updates")}</h2>
                    <ol class="console-updates">{updates}</ol>
                </section>
            }
        })
}

async fn load(state: &AppState, id: i64) -> Result<IncidentView, Response> {
    match store::incidents::get(&state.ctx.db, id).await {
        Ok(Some(i)) => Ok(i),
        Ok(None) => Err(StatusCode::NOT_FOUND.into_response()),
        Err(e) => Err(internal(e)),
    }
}

async fn update(State(state): State<AppState>, Path(id): Path<i64>, posted: Posted) -> Response {
    let staff = &posted.staff;
    let l = staff.l();
    let incident = match load(&state, id).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    let mut forms = Forms {
        status: posted.get("status").unwrap_or("").to_owned(),
        message: posted
            .fields
            .iter()
            .find(|(k, _)| k == "message")
            .map(|(_, v)| v.clone())
            .unwrap_or_default(),
        services: forms::posted_services(&posted),
        ..Forms::default()
    };
    let action = posted.get("action").unwrap_or("publish");
    if action == "preview" {
        forms.preview = true;
        return render(&state, staff, &incident, forms, Errors::default(), None).await;
    }
    if let Some(template) = forms::template_action(action) {
        forms.message = template.to_owned();
        return render(&state, staff, &incident, forms, Errors::default(), None).await;
    }
    let mut errors = Errors::default();
    let status = IncidentStatus::parse(&forms.status);
    if status.is_none() {
        errors.add(
            "status",
            l.t(
                "Choisissez l'état de l'incident dans la liste.",
                "Choose the incident's status from the list.",
            ),
        );
    }
    let services = forms::chosen_services(l, &forms.services, &mut errors);
    forms::check_message(l, &forms.message, &mut errors);
    let (Some(status), true) = (status, errors.is_empty()) else {
        return render(&state, staff, &incident, forms, errors, None).await;
    };
    let update = NewUpdate {
        status,
        message: crate::markdown::message(&forms.message),
        services,
    };
    match store::incidents::post_update(&state.ctx.db, id, &update, &staff.actor(), Utc::now())
        .await
    {
        Ok(_) => ui::redirect_with(staff, &format!("/admin/incidents/{id}"), "update-posted"),
        // Resolving an incident already resolved (a second click, two staff at once): 409,
        // nothing added.
        Err(store::audit::WriteError::Conflict) => {
            errors.add(
                "",
                l.t(
                    "Cet incident est déjà résolu : rien n'a été ajouté.",
                    "This incident is already resolved: nothing was added.",
                ),
            );
            let page = render(&state, staff, &incident, forms, errors, None).await;
            (StatusCode::CONFLICT, page).into_response()
        }
        Err(e) => match forms::write_error(l, e, &mut errors) {
            Ok(()) => render(&state, staff, &incident, forms, errors, None).await,
            Err(r) => r,
        },
    }
}

/// Changes the incident's title and impact.
async fn edit(State(state): State<AppState>, Path(id): Path<i64>, posted: Posted) -> Response {
    let staff = &posted.staff;
    let l = staff.l();
    let incident = match load(&state, id).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    let title = posted.get("title").unwrap_or("").to_owned();
    let impact_field = posted.get("impact").unwrap_or("").to_owned();
    let mut errors = Errors::default();
    if title.is_empty() {
        errors.add(
            "title",
            l.t(
                "Donnez un titre : c'est la première ligne que les lecteurs voient.",
                "Give a title: it is the first line readers see.",
            ),
        );
    }
    let impact = Impact::parse(&impact_field);
    if impact.is_none() {
        errors.add(
            "impact",
            l.t(
                "Choisissez un impact dans la liste.",
                "Choose an impact from the list.",
            ),
        );
    }
    let forms = Forms {
        status: incident.status.as_str().to_owned(),
        title: Some(title.clone()),
        impact: Some(impact_field),
        ..Forms::default()
    };
    if !errors.is_empty() {
        return render(&state, staff, &incident, forms, errors, None).await;
    }
    let change = IncidentEdit {
        title: (title != incident.title).then_some(title),
        impact: impact.filter(|i| *i != incident.impact),
        started_at: None,
    };
    if change.title.is_none() && change.impact.is_none() {
        return ui::redirect_with(staff, &format!("/admin/incidents/{id}"), "incident-edited");
    }
    match store::incidents::edit(&state.ctx.db, id, &change, &staff.actor(), Utc::now()).await {
        Ok(_) => ui::redirect_with(staff, &format!("/admin/incidents/{id}"), "incident-edited"),
        Err(e) => match forms::write_error(l, e, &mut errors) {
            Ok(()) => render(&state, staff, &incident, forms, errors, None).await,
            Err(r) => r,
        },
    }
}

/// Replaces an update's text (the earlier text stays in its history).
async fn edit_update(
    State(state): State<AppState>,
    Path((id, update_id)): Path<(i64, i64)>,
    posted: Posted,
) -> Response {
    let staff = &posted.staff;
    let l = staff.l();
    let incident = match load(&state, id).await {
        Ok(i) if i.updates.iter().any(|u| u.id == update_id) => i,
        Ok(_) => return StatusCode::NOT_FOUND.into_response(),
        Err(r) => return r,
    };
    let message = posted
        .fields
        .iter()
        .find(|(k, _)| k == "message")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let mut errors = Errors::default();
    forms::check_message(l, &message, &mut errors);
    let forms = Forms {
        status: incident.status.as_str().to_owned(),
        edited: Some((update_id, message.clone())),
        ..Forms::default()
    };
    if !errors.is_empty() {
        return render(&state, staff, &incident, forms, errors, None).await;
    }
    let text = crate::markdown::message(&message);
    match store::incidents::edit_update(&state.ctx.db, update_id, &text, &staff.actor(), Utc::now())
        .await
    {
        Ok(_) => ui::redirect_with(staff, &format!("/admin/incidents/{id}"), "update-edited"),
        Err(e) => match forms::write_error(l, e, &mut errors) {
            Ok(()) => render(&state, staff, &incident, forms, errors, None).await,
            Err(r) => r,
        },
    }
}
