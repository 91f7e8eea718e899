//! `/admin/maintenance`: the windows and the form to schedule one (the page is
//! `console::maintenance`), with times typed in the site's timezone; and the clock that starts
//! and completes windows on time.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use console::maintenance::Form;
use console::{Errors, Notice};
use store::maintenance::NewMaintenance;

use super::forms;
use super::internal;
use super::ui;
use super::ui::flash;
use crate::auth::{Posted, Staff};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/maintenance", get(list).post(create))
}

async fn render(
    state: &AppState,
    staff: &Staff,
    form: Form,
    errors: Errors,
    notice: Option<Notice>,
) -> Response {
    let db = &state.ctx.db;
    let (windows, services) = match tokio::try_join!(
        store::maintenance::recent(db, Utc::now(), 0, 100),
        store::incidents::read::services(db),
    ) {
        Ok(found) => found,
        Err(e) => return internal(e),
    };
    let clock = staff.clock(state);
    let status = ui::form_status(&errors);
    let page = console::maintenance::page(
        staff.viewer(),
        clock,
        &form,
        &errors,
        notice,
        windows,
        services,
    );
    ui::html(status, page)
}

async fn list(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    let l = staff.l();
    let notice = flash::flash_code(&headers)
        .filter(|c| c == "maintenance-scheduled")
        .map(|_| {
            Notice::ok(l.t("Maintenance planifiée.", "Maintenance scheduled.")).with_link(
                "/maintenance",
                l.t("Voir la page publique", "See the public page"),
            )
        });
    let shown = notice.is_some();
    let res = render(&state, &staff, Form::default(), Errors::default(), notice).await;
    if shown {
        flash::spend_flash(res, &staff)
    } else {
        res
    }
}

async fn create(State(state): State<AppState>, posted: Posted) -> Response {
    let staff = &posted.staff;
    let l = staff.l();
    let clock = staff.clock(&state);
    let form = Form {
        title: posted.get("title").unwrap_or("").to_owned(),
        starts_at: posted.get("starts_at").unwrap_or("").to_owned(),
        ends_at: posted.get("ends_at").unwrap_or("").to_owned(),
        message: posted.get("message").unwrap_or("").to_owned(),
        services: posted
            .all("services")
            .into_iter()
            .map(str::to_owned)
            .collect(),
    };
    let mut errors = Errors::default();
    if form.title.is_empty() {
        errors.add("title", l.t("Donnez un titre.", "Give a title."));
    }
    let mut time = |field: &'static str, value: &str| {
        if value.is_empty() {
            errors.add(
                field,
                l.t(
                    "Saisissez une date et une heure.",
                    "Enter a date and a time.",
                ),
            );
            return None;
        }
        clock
            .parse(value)
            .map_err(|e| errors.add(field, clock.error(e)))
            .ok()
    };
    let starts = time("starts_at", &form.starts_at);
    let ends = time("ends_at", &form.ends_at);
    if let (Some(s), Some(e)) = (starts, ends) {
        if e <= s {
            errors.add(
                "ends_at",
                l.t(
                    "La fin doit venir après le début.",
                    "The end must come after the start.",
                ),
            );
        }
    }
    console::forms::check_message(l, &form.message, &mut errors);
    let (Some(starts_at), Some(ends_at), true) = (starts, ends, errors.is_empty()) else {
        return render(&state, staff, form, errors, None).await;
    };
    let new = NewMaintenance {
        title: form.title.clone(),
        message: crate::markdown::message(&form.message),
        starts_at,
        ends_at,
        services: form.services.clone(),
    };
    match store::maintenance::schedule(&state.ctx.db, &new, &staff.actor(), Utc::now()).await {
        Ok(_) => flash::redirect_with(staff, "/admin/maintenance", "maintenance-scheduled"),
        Err(e) => match forms::write_error(l, e, &mut errors) {
            Ok(()) => render(&state, staff, form, errors, None).await,
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
