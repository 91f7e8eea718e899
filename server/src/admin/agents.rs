//! `/admin/agents` (admins only): remote probe agents for staff (the page is
//! `console::agents`). Each catalog location with its state, the agent tokens with their
//! location, and a form that creates one. A new token is shown once (`ui::shown_once`, as API
//! tokens are); the database keeps its SHA-256. Creating and revoking are audited by the store
//! (`agent_token.create`, `agent_token.revoke`), the same functions `vigie agent-token` uses.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use console::{Clock, Errors, Notice};
use domain::staff::Role;

use super::forms::write_error;
use super::internal;
use super::ui;
use super::ui::shown_once::AGENT_TOKEN;
use crate::auth::{Posted, Staff};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/agents", get(agents).post(add_token))
        .route("/admin/agents/{id}/revoke", post(revoke_token))
}

async fn agents_page(
    state: &AppState,
    staff: &Staff,
    form: (String, String),
    errors: Errors,
    notice: Option<Notice>,
    created: Option<String>,
) -> Response {
    let now = Utc::now();
    let found = tokio::try_join!(
        store::agents::locations(&state.ctx.db, now),
        store::tokens::agent::list_tokens(&state.ctx.db),
    );
    let (locations, tokens) = match found {
        Ok(f) => f,
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
    let (location, label) = form;
    let shown = console::agents::Shown {
        location,
        label,
        errors,
        notice,
        created,
    };
    let locations = locations
        .into_iter()
        .map(|r| console::agents::Location {
            id: r.id,
            name: r.name,
            last_report_at: r.last_report_at,
            reporting: r.reporting,
        })
        .collect();
    let tokens = tokens
        .into_iter()
        .map(|t| console::agents::Token {
            id: t.id,
            location_id: t.location_id,
            label: t.label,
            prefix: t.prefix,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
        })
        .collect();
    let page = console::agents::page(staff.viewer(), clock, now, shown, locations, tokens);
    ui::html(status, page)
}

async fn agents(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    if let Err(r) = staff.require(Role::Admin) {
        return r;
    }
    let l = staff.l();
    let created = AGENT_TOKEN.waiting(&headers);
    let notice = ui::flash_code(&headers)
        .filter(|c| c == "agent-token-revoked")
        .map(|_| {
            Notice::ok(l.t(
                "Jeton d'agent révoqué : l'agent ne peut plus rien envoyer.",
                "Agent token revoked: the agent can no longer send anything.",
            ))
        });
    let spend = created.is_some();
    let flash = notice.is_some();
    let mut res = agents_page(
        &state,
        &staff,
        (String::new(), String::new()),
        Errors::default(),
        notice,
        created,
    )
    .await;
    if spend {
        res = AGENT_TOKEN.spend(res, &staff);
    }
    if flash {
        res = ui::spend_flash(res, &staff);
    }
    res
}

async fn add_token(State(state): State<AppState>, posted: Posted) -> Response {
    let staff = &posted.staff;
    if let Err(r) = staff.require(Role::Admin) {
        return r;
    }
    let l = staff.l();
    let location = posted.get("location").unwrap_or("").trim().to_owned();
    let label = posted.get("label").unwrap_or("").to_owned();
    let mut errors = Errors::default();
    if label.trim().is_empty() {
        errors.add(
            "label",
            l.t(
                "Donnez un nom qui dit où tourne l'agent.",
                "Give a label that says where the agent runs.",
            ),
        );
    }
    if !errors.is_empty() {
        return agents_page(&state, staff, (location, label), errors, None, None).await;
    }
    match store::tokens::agent::create_token(
        &state.ctx.db,
        &location,
        &label,
        &staff.actor(),
        Utc::now(),
    )
    .await
    {
        Ok((value, _)) => AGENT_TOKEN.redirect(staff, &value),
        Err(store::audit::WriteError::NotFound) => {
            errors.add(
                "location",
                l.t(
                    "Cet emplacement n'est pas dans le catalogue : choisissez-en un dans la liste.",
                    "This location is not in the catalog: choose one from the list.",
                ),
            );
            agents_page(&state, staff, (location, label), errors, None, None).await
        }
        Err(store::audit::WriteError::Invalid("label")) => {
            errors.add(
                "label",
                l.t(
                    "Un nom de 1 à 200 caractères.",
                    "A label of 1 to 200 characters.",
                ),
            );
            agents_page(&state, staff, (location, label), errors, None, None).await
        }
        Err(e) => match write_error(l, e, &mut errors) {
            Ok(()) => agents_page(&state, staff, (location, label), errors, None, None).await,
            Err(r) => r,
        },
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted,
) -> Response {
    let staff = &posted.staff;
    if let Err(r) = staff.require(Role::Admin) {
        return r;
    }
    let l = staff.l();
    match store::tokens::agent::revoke_token(&state.ctx.db, id, &staff.actor(), Utc::now()).await {
        Ok(_) => ui::redirect_with(staff, "/admin/agents", "agent-token-revoked"),
        Err(e) => {
            let mut errors = Errors::default();
            match write_error(l, e, &mut errors) {
                Ok(()) => {
                    agents_page(
                        &state,
                        staff,
                        (String::new(), String::new()),
                        errors,
                        None,
                        None,
                    )
                    .await
                }
                Err(r) => r,
            }
        }
    }
}
