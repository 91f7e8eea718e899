//! `/admin/incidents`: the drafts Vigie proposes, the incidents, and the new-incident form
//! (the pages are `console::incidents`). One incident's own page is in [`super::incident`].

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use console::forms::ServiceNow;
use console::incidents::NewForm;
use console::templates::{self, Kind};
use console::{Clock, Errors, Notice, L};
use domain::incident::{Impact, IncidentStatus};
use leptos::prelude::{AnyView, IntoAny};
use serde::Deserialize;
use store::incidents::drafts::DraftStatus;
use store::incidents::NewIncident;

use super::forms::{self, Preview};
use super::internal;
use super::ui;
use super::ui::flash;
use crate::auth::{Posted, Staff};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/incidents", get(list).post(create))
        .route("/admin/incidents/new", get(new_form))
        .route("/admin/incidents/drafts/{id}/dismiss", post(dismiss))
}

async fn list(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    let notice = flash::flash_code(&headers).and_then(|c| flash_notice(staff.l(), &c));
    let shown = notice.is_some();
    let res = render_list(&state, &staff, notice, StatusCode::OK).await;
    if shown {
        flash::spend_flash(res, &staff)
    } else {
        res
    }
}

fn flash_notice(l: L, code: &str) -> Option<Notice> {
    match code {
        "draft-dismissed" => Some(Notice::ok(l.t(
            "Brouillon écarté : rien n'a été publié.",
            "Draft dismissed: nothing was published.",
        ))),
        _ => None,
    }
}

/// `/admin/incidents`: the drafts Vigie proposes, the way to a new incident, the incidents.
pub async fn render_list(
    state: &AppState,
    staff: &Staff,
    notice: Option<Notice>,
    status: StatusCode,
) -> Response {
    let (incidents, drafts) = match tokio::try_join!(
        store::incidents::read::recent(&state.ctx.db, 0, 100),
        store::incidents::drafts::proposed(&state.ctx.db),
    ) {
        Ok(found) => found,
        Err(e) => return internal(e),
    };
    let drafts: Vec<_> = drafts.iter().map(super::drafts::proposal).collect();
    let page = console::incidents::list(
        staff.l(),
        staff.viewer(),
        notice,
        state.ctx.default_locale,
        state.ctx.timezone,
        incidents,
        &drafts,
    );
    ui::html(status, page)
}

#[derive(Deserialize)]
struct NewQuery {
    /// Language of the message template: `fr` or `en`.
    template: Option<String>,
    /// `short` (the default) or `full`.
    kind: Option<String>,
    /// A draft Vigie proposed, to start from.
    draft: Option<i64>,
}

/// The new-incident form as posted.
fn new_form_from(posted: &Posted) -> NewForm {
    let get = |k: &str| posted.get(k).unwrap_or("").to_owned();
    NewForm {
        title: get("title"),
        impact: get("impact"),
        status: get("status"),
        started_at: get("started_at"),
        message: posted
            .fields
            .iter()
            .find(|(k, _)| k == "message")
            .map(|(_, v)| v.clone())
            .unwrap_or_default(),
        services: forms::posted_services(posted),
        draft: posted.get("draft").and_then(|d| d.parse().ok()),
        notify: posted.get("notify").is_some(),
    }
}

async fn render_new(
    state: &AppState,
    staff: &Staff,
    form: NewForm,
    errors: Errors,
    preview: bool,
    status: StatusCode,
) -> Response {
    let services = match forms::services_now(state, &[]).await {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    let l = staff.l();
    let clock = staff.clock(state);
    let preview = preview.then(|| preview_of(&form, &services, &clock));
    let preview = preview.map(|p| {
        let state = state.clone();
        Box::new(move || forms::preview(&state, l, p).into_any()) as Box<dyn FnOnce() -> AnyView>
    });
    let page =
        console::incidents::new_page(staff.viewer(), clock, services, &form, &errors, preview);
    ui::html(status, page)
}

fn preview_of(form: &NewForm, services: &[ServiceNow], clock: &Clock) -> Preview {
    let mut ignored = Errors::default();
    let changes = console::forms::chosen_services(clock.l, &form.services, &mut ignored);
    Preview {
        id: 0,
        title: form.title.clone(),
        status: IncidentStatus::parse(&form.status).unwrap_or(IncidentStatus::Investigating),
        impact: Impact::parse(&form.impact).unwrap_or(Impact::Major),
        started_at: clock.parse(&form.started_at).unwrap_or_else(|_| Utc::now()),
        services: console::forms::preview_services(services, &[], &changes),
        earlier: Vec::new(),
        message_md: form.message.clone(),
    }
}

async fn new_form(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<NewQuery>,
) -> Response {
    let lang = match q.template.as_deref() {
        Some("en") => "en",
        Some("fr") => "fr",
        _ => state.ctx.default_locale.code(),
    };
    let kind = q
        .kind
        .as_deref()
        .and_then(Kind::parse)
        .unwrap_or(Kind::Short);
    let Some(id) = q.draft else {
        let form = NewForm {
            impact: "major".to_owned(),
            status: "investigating".to_owned(),
            message: templates::get(lang, kind).unwrap_or("").to_owned(),
            notify: true,
            ..NewForm::default()
        };
        return render_new(
            &state,
            &staff,
            form,
            Errors::default(),
            false,
            StatusCode::OK,
        )
        .await;
    };
    let proposed = match store::incidents::drafts::get(&state.ctx.db, id).await {
        Ok(Some(d)) => d,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => return internal(e),
    };
    let l = staff.l();
    if proposed.status != store::incidents::drafts::DraftStatus::Proposed {
        return render_list(
            &state,
            &staff,
            Some(already_handled(l)),
            StatusCode::CONFLICT,
        )
        .await;
    }
    let prefill = console::incidents::prefill(
        state.ctx.timezone,
        &super::drafts::proposal(&proposed),
        lang,
        kind,
    );
    let clock = staff.clock(&state);
    let form = NewForm {
        title: prefill.title,
        impact: "major".to_owned(),
        status: "investigating".to_owned(),
        started_at: clock.input_value(proposed.since),
        message: prefill.message,
        services: prefill
            .services
            .into_iter()
            .map(|s| (s, "major_outage".to_owned()))
            .collect(),
        draft: Some(id),
        notify: true,
    };
    render_new(
        &state,
        &staff,
        form,
        Errors::default(),
        false,
        StatusCode::OK,
    )
    .await
}

/// The notice for a draft someone else already opened or dismissed.
pub fn already_handled(l: L) -> Notice {
    Notice::error(l.t(
        "Ce brouillon a déjà été traité (ouvert ou écarté) : rien n'a été publié de plus.",
        "This draft was already handled (opened or dismissed): nothing more was published.",
    ))
}

async fn create(State(state): State<AppState>, posted: Posted) -> Response {
    let staff = &posted.staff;
    let l = staff.l();
    let mut form = new_form_from(&posted);
    let action = posted.get("action").unwrap_or("publish");
    if action == "preview" {
        return render_new(&state, staff, form, Errors::default(), true, StatusCode::OK).await;
    }
    if let Some(template) = console::forms::template_action(action) {
        form.message = template.to_owned();
        return render_new(
            &state,
            staff,
            form,
            Errors::default(),
            false,
            StatusCode::OK,
        )
        .await;
    }
    let clock = staff.clock(&state);
    let mut errors = Errors::default();
    if form.title.trim().is_empty() {
        errors.add(
            "title",
            l.t(
                "Donnez un titre : c'est la première ligne que les lecteurs voient.",
                "Give a title: it is the first line readers see.",
            ),
        );
    }
    let impact = Impact::parse(&form.impact);
    if impact.is_none() {
        errors.add(
            "impact",
            l.t(
                "Choisissez un impact dans la liste.",
                "Choose an impact from the list.",
            ),
        );
    }
    let status = IncidentStatus::parse(&form.status).filter(|s| *s != IncidentStatus::Postmortem);
    if status.is_none() {
        errors.add(
            "status",
            l.t(
                "Choisissez un état dans la liste.",
                "Choose a status from the list.",
            ),
        );
    }
    let started_at = if form.started_at.is_empty() {
        None
    } else {
        match clock.parse(&form.started_at) {
            Ok(t) if t > Utc::now() => {
                errors.add(
                    "started_at",
                    l.t(
                        "Le début ne peut pas être dans le futur : laissez vide pour maintenant.",
                        "The start cannot be in the future: leave it empty for now.",
                    ),
                );
                None
            }
            Ok(t) => Some(t),
            Err(e) => {
                errors.add("started_at", clock.error(e));
                None
            }
        }
    };
    let services = console::forms::chosen_services(l, &form.services, &mut errors);
    console::forms::check_message(l, &form.message, &mut errors);
    let (Some(impact), Some(status), true) = (impact, status, errors.is_empty()) else {
        return render_new(
            &state,
            staff,
            form,
            errors,
            false,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let new = NewIncident {
        title: form.title.trim().to_owned(),
        impact,
        status,
        message: crate::markdown::message(&form.message),
        services,
        started_at,
        notify: form.notify,
    };
    let now = Utc::now();
    let opened =
        store::incidents::open_from_draft(&state.ctx.db, &new, form.draft, &staff.actor(), now)
            .await;
    match opened {
        // The draft was opened or dismissed meanwhile (by someone else, or a second click):
        // nothing was created.
        Err(store::audit::WriteError::Conflict | store::audit::WriteError::NotFound)
            if form.draft.is_some() =>
        {
            render_list(
                &state,
                staff,
                Some(already_handled(l)),
                StatusCode::CONFLICT,
            )
            .await
        }
        Ok(view) => flash::redirect_with(
            staff,
            &format!("/admin/incidents/{}", view.id),
            "incident-opened",
        ),
        Err(e) => match forms::write_error(l, e, &mut errors) {
            Ok(()) => {
                render_new(
                    &state,
                    staff,
                    form,
                    errors,
                    false,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            Err(r) => r,
        },
    }
}

/// Dismisses a draft Vigie proposed; a draft already opened or dismissed is a conflict.
async fn dismiss(State(state): State<AppState>, Path(id): Path<i64>, posted: Posted) -> Response {
    let actor = posted.staff.actor();
    match store::incidents::drafts::decide(
        &state.ctx.db,
        id,
        DraftStatus::Dismissed,
        None,
        &actor,
        Utc::now(),
    )
    .await
    {
        Ok(()) => flash::redirect_with(&posted.staff, "/admin/incidents", "draft-dismissed"),
        Err(store::audit::WriteError::Conflict) => {
            let notice = already_handled(posted.staff.l());
            render_list(&state, &posted.staff, Some(notice), StatusCode::CONFLICT).await
        }
        Err(e) => {
            let mut errors = console::Errors::default();
            match forms::write_error(posted.staff.l(), e, &mut errors) {
                Ok(()) => {
                    render_list(
                        &state,
                        &posted.staff,
                        errors.notice(posted.staff.l()),
                        StatusCode::UNPROCESSABLE_ENTITY,
                    )
                    .await
                }
                Err(r) => r,
            }
        }
    }
}
