//! `/admin/tokens` (admins only): the write API's tokens, each with its permissions and last
//! use, revocable, and the form that creates one (the page is `console::tokens`). A new
//! token's value is shown once (`ui::shown_once`); the database keeps its SHA-256. Creating
//! and revoking are audited by the store, the same functions `vigie token` uses.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use console::{Clock, Errors, Notice};
use domain::staff::{Role, Scope};

use super::forms::write_error;
use super::internal;
use super::ui;
use super::ui::shown_once::API_TOKEN;
use crate::auth::{Posted, Staff};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/tokens", get(tokens).post(add_token))
        .route("/admin/tokens/{id}/revoke", post(revoke_token))
}

async fn tokens_page(
    state: &AppState,
    staff: &Staff,
    name: String,
    errors: Errors,
    notice: Option<Notice>,
    created: Option<String>,
) -> Response {
    let list = match store::tokens::api::list(&state.ctx.db).await {
        Ok(l) => l,
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
    let list = list
        .into_iter()
        .map(|t| console::tokens::Token {
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            scopes: t.scopes,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
        })
        .collect();
    let page = console::tokens::page(staff.viewer(), clock, list, &name, &errors, notice, created);
    ui::html(status, page)
}

async fn tokens(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    if let Err(r) = staff.require(Role::Admin) {
        return r;
    }
    let l = staff.l();
    let created = API_TOKEN.waiting(&headers);
    let notice = ui::flash_code(&headers)
        .filter(|c| c == "token-revoked")
        .map(|_| {
            Notice::ok(l.t(
                "Jeton révoqué : il ne donne plus accès.",
                "Token revoked: it no longer gives access.",
            ))
        });
    let spend = created.is_some();
    let flash = notice.is_some();
    let mut res = tokens_page(
        &state,
        &staff,
        String::new(),
        Errors::default(),
        notice,
        created,
    )
    .await;
    if spend {
        res = API_TOKEN.spend(res, &staff);
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
    let scopes: Vec<Scope> = posted
        .all("scopes")
        .into_iter()
        .filter_map(Scope::parse)
        .collect();
    let name = posted.get("name").unwrap_or("").to_owned();
    let mut errors = Errors::default();
    if name.is_empty() {
        errors.add(
            "name",
            l.t(
                "Donnez un nom qui dit à quoi sert le jeton.",
                "Give a name that says what the token is for.",
            ),
        );
    }
    if scopes.is_empty() {
        errors.add(
            "scopes",
            l.t(
                "Cochez au moins une permission.",
                "Tick at least one permission.",
            ),
        );
    }
    if !errors.is_empty() {
        return tokens_page(&state, staff, name, errors, None, None).await;
    }
    match store::tokens::api::create(
        &state.ctx.db,
        staff.user().id,
        &name,
        &scopes,
        &staff.actor(),
        Utc::now(),
    )
    .await
    {
        Ok((value, _)) => API_TOKEN.redirect(staff, &value),
        Err(e) => match write_error(l, e, &mut errors) {
            Ok(()) => tokens_page(&state, staff, name, errors, None, None).await,
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
    match store::tokens::api::revoke(&state.ctx.db, id, &staff.actor(), Utc::now()).await {
        Ok(_) => ui::redirect_with(staff, "/admin/tokens", "token-revoked"),
        Err(e) => {
            let mut errors = Errors::default();
            match write_error(l, e, &mut errors) {
                Ok(()) => tokens_page(&state, staff, String::new(), errors, None, None).await,
                Err(r) => r,
            }
        }
    }
}
