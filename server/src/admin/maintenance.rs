//! `/admin/maintenance`: the windows and the form to schedule one.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use store::maintenance::NewMaintenance;

use super::incidents::{parse_time, write_error};
use super::internal;
use super::page::{csrf, esc, layout};
use crate::auth::{Posted, Staff};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/maintenance", get(list).post(create))
}

async fn render(
    state: &AppState,
    staff: &Staff,
    flash: Option<&str>,
    posted: Option<&Posted>,
) -> Response {
    let db = &state.ctx.db;
    let (windows, services) = match (
        store::maintenance::recent(db, Utc::now(), 0, 100).await,
        store::incidents::services(db).await,
    ) {
        (Ok(w), Ok(s)) => (w, s),
        (Err(e), _) | (_, Err(e)) => return internal(e),
    };
    let field = |name: &str| posted.and_then(|p| p.get(name)).unwrap_or("");
    let chosen = posted.map(|p| p.all("services")).unwrap_or_default();
    let rows: String = windows
        .iter()
        .map(|m| {
            format!(
                "<li>{title} — {status}, {from} → {to}</li>",
                title = esc(&m.title),
                status = m.status.as_str(),
                from = m.starts_at.format("%Y-%m-%d %H:%M"),
                to = m.ends_at.format("%Y-%m-%d %H:%M UTC"),
            )
        })
        .collect();
    let boxes: String = services
        .iter()
        .map(|(id, name)| {
            let checked = if chosen.contains(&id.as_str()) { " checked" } else { "" };
            format!(
                "<label><input type=\"checkbox\" name=\"services\" value=\"{id}\"{checked}> {name}</label>",
                id = esc(id),
                name = esc(name)
            )
        })
        .collect();
    let body = format!(
        "<form method=\"post\" action=\"/admin/maintenance\">{csrf}\
         <label>Titre · Title <input name=\"title\" value=\"{title}\" required></label>\
         <label>Début (UTC) · Starts (UTC) <input type=\"datetime-local\" name=\"starts_at\" value=\"{starts}\" required></label>\
         <label>Fin (UTC) · Ends (UTC) <input type=\"datetime-local\" name=\"ends_at\" value=\"{ends}\" required></label>\
         <fieldset><legend>Services</legend>{boxes}</fieldset>\
         <label>Message (Markdown) <textarea name=\"message\" rows=\"6\" required>{message}</textarea></label>\
         <button>Planifier · Schedule</button></form><ul>{rows}</ul>",
        csrf = csrf(staff),
        title = esc(field("title")),
        starts = esc(field("starts_at")),
        ends = esc(field("ends_at")),
        message = esc(field("message")),
    );
    let code = if flash.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (code, Html(layout("Maintenance", Some(staff), flash, &body))).into_response()
}

async fn list(State(state): State<AppState>, staff: Staff) -> Response {
    render(&state, &staff, None, None).await
}

async fn create(State(state): State<AppState>, posted: Posted) -> Response {
    let staff = &posted.staff;
    let title = posted.get("title");
    let message = posted.get("message");
    let starts = posted.get("starts_at").and_then(parse_time);
    let ends = posted.get("ends_at").and_then(parse_time);
    let (Some(title), Some(message), Some(starts_at), Some(ends_at)) =
        (title, message, starts, ends)
    else {
        let flash = "À corriger · Please fix: title, starts_at, ends_at, message";
        return render(&state, staff, Some(flash), Some(&posted)).await;
    };
    let new = NewMaintenance {
        title: title.to_owned(),
        message: crate::markdown::message(message),
        starts_at,
        ends_at,
        services: posted
            .all("services")
            .into_iter()
            .map(str::to_owned)
            .collect(),
    };
    match store::maintenance::schedule(&state.ctx.db, &new, &staff.actor(), Utc::now()).await {
        Ok(_) => Redirect::to("/admin/maintenance").into_response(),
        Err(e) => match write_error(e) {
            Ok(msg) => render(&state, staff, Some(&msg), Some(&posted)).await,
            Err(r) => r,
        },
    }
}

/// How often [`advance`] is due (it runs twice as often) to look for windows to start or complete: a window moves at most
/// this late.
pub const CLOCK_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Starts and completes windows on time: persists the moves time made since the last look
/// (`store::maintenance::advance`, audited as Vigie itself). The instance holding the
/// cluster's clock calls it every half [`CLOCK_EVERY`] (`crate::cluster`). Errors are
/// logged; the next look tries again.
pub async fn advance(db: &store::Db) {
    match store::maintenance::advance(db, Utc::now()).await {
        Ok(moves) => {
            for m in moves {
                tracing::info!(
                    maintenance = m.id,
                    from = m.from.as_str(),
                    to = m.to.as_str(),
                    "maintenance window moved"
                );
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot advance maintenance windows"),
    }
}
