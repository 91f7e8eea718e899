//! `/admin/incidents/{id}`: one incident for on-call (the page is `console::incident`): the
//! next update, the title and impact, every published update's text. Every post ends in a
//! redirect with a confirmation.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use console::incident::Forms;
use console::{Errors, Notice, L};
use domain::incident::{Impact, IncidentStatus, IncidentView};
use leptos::prelude::{AnyView, IntoAny};
use store::incidents::{IncidentEdit, NewUpdate};

use super::forms::{self, Preview};
use super::internal;
use super::ui;
use super::ui::flash;
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
    let incident = match store::incidents::read::get(&state.ctx.db, id).await {
        Ok(Some(i)) => i,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => return internal(e),
    };
    let notice = flash::flash_code(&headers).and_then(|c| confirmation(staff.l(), &c, id));
    let shown = notice.is_some();
    let forms = Forms {
        status: incident.status.as_str().to_owned(),
        ..Forms::default()
    };
    let res = render(&state, &staff, &incident, forms, Errors::default(), notice).await;
    if shown {
        flash::spend_flash(res, &staff)
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
    let clock = staff.clock(state);
    let status = ui::form_status(&errors);
    let preview = forms.preview.then(|| {
        let mut ignored = Errors::default();
        let changes = console::forms::chosen_services(l, &forms.services, &mut ignored);
        Preview {
            id: incident.id,
            title: incident.title.clone(),
            status: IncidentStatus::parse(&forms.status).unwrap_or(incident.status),
            impact: incident.impact,
            started_at: incident.started_at,
            services: console::forms::preview_services(&services, &incident.services, &changes),
            earlier: incident.updates.clone(),
            message_md: forms.message.clone(),
        }
    });
    let preview = preview.map(|p| {
        let state = state.clone();
        Box::new(move || forms::preview(&state, l, p).into_any()) as Box<dyn FnOnce() -> AnyView>
    });
    let page = console::incident::page(
        staff.viewer(),
        clock,
        incident.clone(),
        services,
        &forms,
        &errors,
        notice,
        preview,
    );
    ui::html(status, page)
}

async fn load(state: &AppState, id: i64) -> Result<IncidentView, Response> {
    match store::incidents::read::get(&state.ctx.db, id).await {
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
    if let Some(template) = console::forms::template_action(action) {
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
    let services = console::forms::chosen_services(l, &forms.services, &mut errors);
    console::forms::check_message(l, &forms.message, &mut errors);
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
        Ok(_) => flash::redirect_with(staff, &format!("/admin/incidents/{id}"), "update-posted"),
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
        return flash::redirect_with(staff, &format!("/admin/incidents/{id}"), "incident-edited");
    }
    match store::incidents::edit(&state.ctx.db, id, &change, &staff.actor(), Utc::now()).await {
        Ok(_) => flash::redirect_with(staff, &format!("/admin/incidents/{id}"), "incident-edited"),
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
    console::forms::check_message(l, &message, &mut errors);
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
        Ok(_) => flash::redirect_with(staff, &format!("/admin/incidents/{id}"), "update-edited"),
        Err(e) => match forms::write_error(l, e, &mut errors) {
            Ok(()) => render(&state, staff, &incident, forms, errors, None).await,
            Err(r) => r,
        },
    }
}
