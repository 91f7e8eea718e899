//! `/admin/incidents`: the list, the new-incident form with the French and English write-up
//! templates and a Markdown preview, an incident's page with its updates and the form to post
//! the next one (which may change affected services' statuses).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, NaiveDateTime, Utc};
use domain::incident::{Impact, IncidentStatus, IncidentView};
use domain::status::ComponentStatus;
use serde::Deserialize;
use store::audit::WriteError;
use store::incidents::{NewIncident, NewUpdate};

use super::page::{csrf, esc, layout, options};
use super::{internal, templates};
use crate::auth::{Posted, Staff};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/incidents", get(list).post(create))
        .route("/admin/incidents/new", get(new_form))
        .route("/admin/incidents/{id}", get(show))
        .route("/admin/incidents/{id}/updates", post(update))
        .route(
            "/admin/incidents/{id}/updates/{update_id}/edit",
            post(edit_update),
        )
}

const STATUSES: [&str; 6] = [
    "", // no change
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
];

/// Parses `datetime-local` input (`2026-11-27T10:30`, UTC) or RFC 3339.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
                .ok()
                .map(|n| n.and_utc())
        })
}

/// Form message for a refused write, or the response to send instead.
// Handlers return the `Response` at once: boxing it would only add an allocation.
#[allow(clippy::result_large_err)]
pub fn write_error(e: WriteError) -> Result<String, Response> {
    match e {
        WriteError::Store(e) => Err(internal(e)),
        WriteError::NotFound => Err(StatusCode::NOT_FOUND.into_response()),
        e => Ok(e.to_string()),
    }
}

fn service_fields(services: &[(String, String)], prefill: &[(&str, &str)]) -> String {
    let rows: String = services
        .iter()
        .map(|(id, name)| {
            let current = prefill
                .iter()
                .find(|(s, _)| *s == id)
                .map_or("", |(_, st)| *st);
            format!(
                "<label>{name} <select name=\"service:{id}\">{opts}</select></label>",
                name = esc(name),
                id = esc(id),
                opts = options(&STATUSES, current),
            )
        })
        .collect();
    format!("<fieldset><legend>Services touchés · Affected services</legend>{rows}</fieldset>")
}

fn chosen_services(posted: &Posted) -> Result<Vec<(String, ComponentStatus)>, String> {
    posted
        .fields
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("service:")?, v.trim())))
        .filter(|(_, v)| !v.is_empty())
        .map(|(id, v)| {
            ComponentStatus::parse(v)
                .map(|s| (id.to_owned(), s))
                .ok_or_else(|| format!("services: unknown status `{v}`"))
        })
        .collect()
}

async fn list(State(state): State<AppState>, staff: Staff) -> Response {
    render_list(&state, &staff, None).await
}

/// `/admin/incidents`: the drafts Vigie proposes, the new-incident links and the incidents.
pub async fn render_list(state: &AppState, staff: &Staff, flash: Option<&str>) -> Response {
    let (incidents, drafts) = match tokio::try_join!(
        store::incidents::recent(&state.ctx.db, 0, 100),
        store::drafts::proposed(&state.ctx.db),
    ) {
        Ok(found) => found,
        Err(e) => return internal(e),
    };
    let rows: String = incidents
        .iter()
        .map(|i| {
            format!(
                "<li><a href=\"/admin/incidents/{id}\">{title}</a> — {status}, {impact}, {at}</li>",
                id = i.id,
                title = esc(&i.title),
                status = i.status.as_str(),
                impact = i.impact.as_str(),
                at = i.started_at.format("%Y-%m-%d %H:%M UTC"),
            )
        })
        .collect();
    let code = if flash.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    (
        code,
        Html(layout(
            "Incidents",
            Some(staff),
            flash,
            &format!(
                "{drafts}<p><a href=\"/admin/incidents/new?template=fr\">Nouvel incident (modèle français)</a> · \
                 <a href=\"/admin/incidents/new?template=en\">New incident (English template)</a></p>\
                 <ul class=\"incidents\">{rows}</ul>",
                drafts = super::drafts::section(state, staff, &drafts),
            ),
        )),
    )
        .into_response()
}

#[derive(Deserialize)]
struct NewQuery {
    template: Option<String>,
    /// A draft Vigie proposed, to start from.
    draft: Option<i64>,
}

struct Draft<'a> {
    title: &'a str,
    impact: &'a str,
    status: &'a str,
    message: &'a str,
    started_at: &'a str,
    services: Vec<(&'a str, &'a str)>,
    /// The proposed draft this incident is made from, if any.
    from_draft: Option<i64>,
}

async fn render_new(
    state: &AppState,
    staff: &Staff,
    draft: &Draft<'_>,
    flash: Option<&str>,
    preview: Option<String>,
) -> Response {
    let services = match store::incidents::services(&state.ctx.db).await {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    let preview = preview.map_or(String::new(), |html| {
        format!("<section class=\"preview\"><h2>Aperçu · Preview</h2>{html}</section>")
    });
    let body = format!(
        "{preview}<form method=\"post\" action=\"/admin/incidents\">{csrf}{from_draft}\
         <label>Titre · Title <input name=\"title\" value=\"{title}\" required></label>\
         <label>Impact <select name=\"impact\">{impacts}</select></label>\
         <label>État · Status <select name=\"status\">{statuses}</select></label>\
         <label>Début (UTC, si antérieur) · Started at (UTC, if earlier) \
         <input type=\"datetime-local\" name=\"started_at\" value=\"{started}\"></label>\
         {services}\
         <label>Message (Markdown) <textarea name=\"message\" rows=\"18\" required>{message}</textarea></label>\
         <label><input type=\"checkbox\" name=\"notify\" value=\"1\" checked> Notifier · Notify</label>\
         <button name=\"action\" value=\"preview\">Aperçu · Preview</button> \
         <button name=\"action\" value=\"publish\">Publier · Publish</button></form>",
        csrf = csrf(staff),
        from_draft = draft.from_draft.map_or(String::new(), |id| format!(
            "<input type=\"hidden\" name=\"draft\" value=\"{id}\">"
        )),
        title = esc(draft.title),
        impacts = options(&Impact::ALL.map(Impact::as_str), draft.impact),
        statuses = options(
            &IncidentStatus::ALL[..4].iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            draft.status
        ),
        started = esc(draft.started_at),
        services = service_fields(&services, &draft.services),
        message = esc(draft.message),
    );
    let status = if flash.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (
        status,
        Html(layout(
            "Nouvel incident · New incident",
            Some(staff),
            flash,
            &body,
        )),
    )
        .into_response()
}

async fn new_form(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<NewQuery>,
) -> Response {
    let lang = q.template.as_deref().unwrap_or("fr");
    let template = templates::for_lang(lang).unwrap_or("");
    let Some(id) = q.draft else {
        let draft = Draft {
            title: "",
            impact: "major",
            status: "investigating",
            message: template,
            started_at: "",
            services: vec![],
            from_draft: None,
        };
        return render_new(&state, &staff, &draft, None, None).await;
    };
    let proposed = match store::drafts::get(&state.ctx.db, id).await {
        Ok(Some(d)) => d,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => return internal(e),
    };
    if proposed.status != store::drafts::DraftStatus::Proposed {
        let flash = "Ce brouillon a déjà été traité · This draft was already handled";
        return render_list(&state, &staff, Some(flash)).await;
    }
    let prefill = super::drafts::prefill(&state, &proposed, lang);
    let started = proposed.since.format("%Y-%m-%dT%H:%M").to_string();
    let draft = Draft {
        title: &prefill.title,
        impact: "major",
        status: "investigating",
        message: &prefill.message,
        started_at: &started,
        services: prefill
            .services
            .iter()
            .map(|s| (s.as_str(), "major_outage"))
            .collect(),
        from_draft: Some(id),
    };
    render_new(&state, &staff, &draft, None, None).await
}

async fn create(State(state): State<AppState>, posted: Posted) -> Response {
    let staff = &posted.staff;
    let draft = Draft {
        title: posted.get("title").unwrap_or(""),
        impact: posted.get("impact").unwrap_or(""),
        status: posted.get("status").unwrap_or(""),
        message: posted.get("message").unwrap_or(""),
        started_at: posted.get("started_at").unwrap_or(""),
        services: posted
            .fields
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("service:")?, v.as_str())))
            .collect(),
        from_draft: posted.get("draft").and_then(|d| d.parse().ok()),
    };
    if posted.get("action") == Some("preview") {
        let html = crate::markdown::render(draft.message);
        return render_new(&state, staff, &draft, None, Some(html)).await;
    }
    let mut problems = Vec::new();
    if draft.title.is_empty() {
        problems.push("title: obligatoire · required".to_owned());
    }
    if draft.message.is_empty() {
        problems.push("message: obligatoire · required".to_owned());
    }
    let impact = Impact::parse(draft.impact);
    if impact.is_none() {
        problems.push("impact".to_owned());
    }
    let status = IncidentStatus::parse(draft.status).filter(|s| *s != IncidentStatus::Postmortem);
    if status.is_none() {
        problems.push("status".to_owned());
    }
    let started_at = if draft.started_at.is_empty() {
        None
    } else {
        let parsed = parse_time(draft.started_at);
        if parsed.is_none() {
            problems.push("started_at".to_owned());
        }
        parsed
    };
    let services = chosen_services(&posted).unwrap_or_else(|e| {
        problems.push(e);
        Vec::new()
    });
    if !problems.is_empty() {
        let flash = format!("À corriger · Please fix: {}", problems.join(", "));
        return render_new(&state, staff, &draft, Some(&flash), None).await;
    }
    let (Some(impact), Some(status)) = (impact, status) else {
        return StatusCode::UNPROCESSABLE_ENTITY.into_response();
    };
    let new = NewIncident {
        title: draft.title.to_owned(),
        impact,
        status,
        message: crate::markdown::message(draft.message),
        services,
        started_at,
        notify: posted.get("notify").is_some(),
    };
    let now = Utc::now();
    match store::incidents::open(&state.ctx.db, &new, &staff.actor(), now).await {
        Ok(view) => {
            if let Some(d) = draft.from_draft {
                store::drafts::mark_opened(&state.ctx.db, d, view.id, &staff.actor(), now).await;
            }
            Redirect::to(&format!("/admin/incidents/{}", view.id)).into_response()
        }
        Err(e) => match write_error(e) {
            Ok(msg) => render_new(&state, staff, &draft, Some(&msg), None).await,
            Err(r) => r,
        },
    }
}

async fn render_incident(
    state: &AppState,
    staff: &Staff,
    incident: &IncidentView,
    flash: Option<&str>,
    message: &str,
) -> Response {
    let services = match store::incidents::services(&state.ctx.db).await {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    let affected: String = incident
        .services
        .iter()
        .map(|s| format!("<li>{}: {}</li>", esc(&s.name), s.status.as_str()))
        .collect();
    let updates: String = incident
        .updates
        .iter()
        .map(|u| {
            format!(
                "<article><h3>{status} — {at}{edited}</h3>{html}\
                 <details><summary>Modifier le texte · Edit the text</summary>\
                 <form method=\"post\" action=\"/admin/incidents/{id}/updates/{uid}/edit\">{csrf}\
                 <label>Message (Markdown) <textarea name=\"message\" rows=\"6\" required>{md}</textarea></label>\
                 <button>Enregistrer · Save</button></form></details></article>",
                id = incident.id,
                uid = u.id,
                csrf = csrf(staff),
                md = esc(&u.message_md),
                status = u.status.as_str(),
                at = u.created_at.format("%Y-%m-%d %H:%M UTC"),
                edited = if u.edited_at.is_some() {
                    " (modifié · edited)"
                } else {
                    ""
                },
                html = u.message_html,
            )
        })
        .collect();
    let next: Vec<&str> = IncidentStatus::ALL
        .into_iter()
        .filter(|s| incident.status.can_become(*s))
        .map(IncidentStatus::as_str)
        .collect();
    let body = format!(
        "<p>{status} · {impact} · {started}</p><ul>{affected}</ul>\
         <form method=\"post\" action=\"/admin/incidents/{id}/updates\">{csrf}\
         <label>État · Status <select name=\"status\">{next}</select></label>{services}\
         <label>Message (Markdown) <textarea name=\"message\" rows=\"8\" required>{message}</textarea></label>\
         <button>Publier la mise à jour · Post update</button></form>{updates}",
        status = incident.status.as_str(),
        impact = incident.impact.as_str(),
        started = incident.started_at.format("%Y-%m-%d %H:%M UTC"),
        id = incident.id,
        csrf = csrf(staff),
        next = options(&next, ""),
        services = service_fields(&services, &[]),
        message = esc(message),
    );
    let code = if flash.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (
        code,
        Html(layout(&incident.title, Some(staff), flash, &body)),
    )
        .into_response()
}

async fn show(State(state): State<AppState>, staff: Staff, Path(id): Path<i64>) -> Response {
    match store::incidents::get(&state.ctx.db, id).await {
        Ok(Some(i)) => render_incident(&state, &staff, &i, None, "").await,
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => internal(e),
    }
}

async fn update(State(state): State<AppState>, Path(id): Path<i64>, posted: Posted) -> Response {
    let staff = &posted.staff;
    let db = &state.ctx.db;
    let incident = match store::incidents::get(db, id).await {
        Ok(Some(i)) => i,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => return internal(e),
    };
    let message = posted.get("message").unwrap_or("");
    let status = posted.get("status").and_then(IncidentStatus::parse);
    let services = chosen_services(&posted);
    let (Some(status), Ok(services), false) = (status, &services, message.is_empty()) else {
        let flash = "À corriger · Please fix: status, message, services";
        return render_incident(&state, staff, &incident, Some(flash), message).await;
    };
    let update = NewUpdate {
        status,
        message: crate::markdown::message(message),
        services: services.clone(),
    };
    match store::incidents::post_update(db, id, &update, &staff.actor(), Utc::now()).await {
        Ok(_) => Redirect::to(&format!("/admin/incidents/{id}")).into_response(),
        Err(e) => match write_error(e) {
            Ok(msg) => render_incident(&state, staff, &incident, Some(&msg), message).await,
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
    let db = &state.ctx.db;
    let incident = match store::incidents::get(db, id).await {
        Ok(Some(i)) if i.updates.iter().any(|u| u.id == update_id) => i,
        Ok(_) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => return internal(e),
    };
    let message = posted.get("message").unwrap_or("");
    if message.trim().is_empty() {
        let flash = "À corriger · Please fix: message";
        return render_incident(&state, staff, &incident, Some(flash), "").await;
    }
    let text = crate::markdown::message(message);
    match store::incidents::edit_update(db, update_id, &text, &staff.actor(), Utc::now()).await {
        Ok(_) => Redirect::to(&format!("/admin/incidents/{id}")).into_response(),
        Err(e) => match write_error(e) {
            Ok(msg) => render_incident(&state, staff, &incident, Some(&msg), "").await,
            Err(r) => r,
        },
    }
}
