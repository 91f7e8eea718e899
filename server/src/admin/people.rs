//! Admin-only pages: users and roles, API tokens (shown once, revocable) and the audit log.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use serde::Deserialize;
use store::audit::AuditFilter;
use store::tokens::Scope;
use store::users::Role;

use super::incidents::write_error;
use super::internal;
use super::page::{csrf, esc, layout};
use crate::auth::{Posted, Staff};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users).post(add_user))
        .route("/admin/tokens", get(tokens).post(add_token))
        .route("/admin/tokens/{id}/revoke", post(revoke_token))
        .route("/admin/audit", get(audit))
}

pub use crate::auth::MIN_PASSWORD_LEN;

async fn users_page(state: &AppState, staff: &Staff, flash: Option<&str>) -> Response {
    let list = match store::users::list(&state.ctx.db).await {
        Ok(l) => l,
        Err(e) => return internal(e),
    };
    let rows: String = list
        .iter()
        .map(|u| {
            let totp = if u.totp {
                " — double authentification · two-factor"
            } else {
                ""
            };
            format!("<li>{} — {}{totp}</li>", esc(&u.email), u.role.as_str())
        })
        .collect();
    let body = format!(
        "<ul>{rows}</ul><form method=\"post\" action=\"/admin/users\">{csrf}\
         <label>E-mail <input type=\"email\" name=\"email\" required></label>\
         <label>Rôle · Role <select name=\"role\"><option>editor</option><option>admin</option></select></label>\
         <label>Mot de passe · Password <input type=\"password\" name=\"password\" minlength=\"{MIN_PASSWORD_LEN}\" required></label>\
         <button>Ajouter · Add</button></form>",
        csrf = csrf(staff)
    );
    let code = if flash.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (
        code,
        Html(layout("Utilisateurs · Users", Some(staff), flash, &body)),
    )
        .into_response()
}

async fn users(State(state): State<AppState>, staff: Staff) -> Response {
    if let Err(r) = staff.require(Role::Admin) {
        return r;
    }
    users_page(&state, &staff, None).await
}

async fn add_user(State(state): State<AppState>, posted: Posted) -> Response {
    let staff = &posted.staff;
    if let Err(r) = staff.require(Role::Admin) {
        return r;
    }
    let email = posted.get("email").filter(|e| e.contains('@'));
    let role = posted.get("role").and_then(Role::parse);
    let password = posted
        .fields
        .iter()
        .find(|(k, _)| k == "password")
        .map(|(_, v)| v.clone())
        .filter(|p| p.chars().count() >= MIN_PASSWORD_LEN);
    let (Some(email), Some(role), Some(password)) = (email, role, password) else {
        let flash = format!(
            "À corriger · Please fix: email, role, password (≥ {MIN_PASSWORD_LEN} caractères · characters)"
        );
        return users_page(&state, staff, Some(&flash)).await;
    };
    let hash =
        match tokio::task::spawn_blocking(move || store::users::hash_password(&password)).await {
            Ok(Ok(h)) => h,
            Ok(Err(e)) => return internal(e),
            Err(e) => return internal(e),
        };
    match store::users::create(
        &state.ctx.db,
        email,
        role,
        &hash,
        &staff.actor(),
        Utc::now(),
    )
    .await
    {
        Ok(_) => Redirect::to("/admin/users").into_response(),
        Err(e) => match write_error(e) {
            Ok(msg) => users_page(&state, staff, Some(&msg)).await,
            Err(r) => r,
        },
    }
}

async fn tokens_page(
    state: &AppState,
    staff: &Staff,
    flash: Option<&str>,
    created: Option<&str>,
) -> Response {
    let list = match store::tokens::list(&state.ctx.db).await {
        Ok(l) => l,
        Err(e) => return internal(e),
    };
    let rows: String =
        list.iter()
            .map(|t| {
                let scopes: Vec<&str> = t.scopes.iter().map(|s| s.as_str()).collect();
                let state_cell = match t.revoked_at {
                    Some(at) => format!("révoqué · revoked {}", at.format("%Y-%m-%d %H:%M")),
                    None => format!(
                        "<form method=\"post\" action=\"/admin/tokens/{id}/revoke\">{csrf}\
                     <button>Révoquer · Revoke</button></form>",
                        id = t.id,
                        csrf = csrf(staff)
                    ),
                };
                format!(
                    "<li>{name} <code>{prefix}…</code> [{scopes}] — {used} {state_cell}</li>",
                    name = esc(&t.name),
                    prefix = esc(&t.prefix),
                    scopes = scopes.join(" "),
                    used = t.last_used_at.map_or(
                        "jamais utilisé · never used".to_owned(),
                        |u| format!("utilisé · used {}", u.format("%Y-%m-%d %H:%M UTC"))
                    ),
                )
            })
            .collect();
    let shown = created.map_or(String::new(), |v| {
        format!(
            "<p class=\"secret\">Copiez ce jeton maintenant, il ne sera plus affiché · \
             Copy this token now, it will not be shown again: <code>{}</code></p>",
            esc(v)
        )
    });
    let boxes: String = Scope::ALL
        .iter()
        .map(|s| {
            format!(
                "<label><input type=\"checkbox\" name=\"scopes\" value=\"{s}\"> {s}</label>",
                s = s.as_str()
            )
        })
        .collect();
    let body = format!(
        "{shown}<form method=\"post\" action=\"/admin/tokens\">{csrf}\
         <label>Nom · Name <input name=\"name\" required></label>{boxes}\
         <button>Créer · Create</button></form><ul>{rows}</ul>",
        csrf = csrf(staff)
    );
    let code = if flash.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (
        code,
        Html(layout("Jetons API · API tokens", Some(staff), flash, &body)),
    )
        .into_response()
}

async fn tokens(State(state): State<AppState>, staff: Staff) -> Response {
    if let Err(r) = staff.require(Role::Admin) {
        return r;
    }
    tokens_page(&state, &staff, None, None).await
}

async fn add_token(State(state): State<AppState>, posted: Posted) -> Response {
    let staff = &posted.staff;
    if let Err(r) = staff.require(Role::Admin) {
        return r;
    }
    let scopes: Vec<Scope> = posted
        .all("scopes")
        .into_iter()
        .filter_map(Scope::parse)
        .collect();
    let name = posted.get("name").unwrap_or("");
    match store::tokens::create(
        &state.ctx.db,
        staff.user().id,
        name,
        &scopes,
        &staff.actor(),
        Utc::now(),
    )
    .await
    {
        Ok((value, _)) => tokens_page(&state, staff, None, Some(&value)).await,
        Err(e) => match write_error(e) {
            Ok(_) => {
                tokens_page(
                    &state,
                    staff,
                    Some("À corriger · Please fix: name, scopes"),
                    None,
                )
                .await
            }
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
    match store::tokens::revoke(&state.ctx.db, id, &staff.actor(), Utc::now()).await {
        Ok(_) => Redirect::to("/admin/tokens").into_response(),
        Err(e) => match write_error(e) {
            Ok(msg) => tokens_page(&state, staff, Some(&msg), None).await,
            Err(r) => r,
        },
    }
}

#[derive(Deserialize)]
struct AuditQuery {
    page: Option<u64>,
    action: Option<String>,
    actor: Option<String>,
}

const PER_PAGE: u64 = 50;

async fn audit(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<AuditQuery>,
) -> Response {
    if let Err(r) = staff.require(Role::Admin) {
        return r;
    }
    let page = q.page.unwrap_or(0);
    let filter = AuditFilter {
        action: q.action.clone(),
        actor: q.actor.clone(),
    };
    let (entries, total) = match store::audit::list(&state.ctx.db, &filter, page, PER_PAGE).await {
        Ok(r) => r,
        Err(e) => return internal(e),
    };
    let rows: String = entries
        .iter()
        .map(|e| {
            format!(
                "<tr><td>{at}</td><td>{who}</td><td>{action}</td><td>{target}</td><td>{ip}</td><td><code>{details}</code></td></tr>",
                at = e.at.format("%Y-%m-%d %H:%M:%S UTC"),
                who = esc(&e.actor_label),
                action = esc(&e.action),
                target = esc(&format!(
                    "{} {}",
                    e.target_kind.as_deref().unwrap_or(""),
                    e.target_id.as_deref().unwrap_or("")
                )),
                ip = esc(e.ip.as_deref().unwrap_or("")),
                details = esc(&e.details),
            )
        })
        .collect();
    let keep = format!(
        "&amp;action={}&amp;actor={}",
        esc(&urlencode(q.action.as_deref().unwrap_or(""))),
        esc(&urlencode(q.actor.as_deref().unwrap_or("")))
    );
    let prev = if page > 0 {
        format!("<a href=\"/admin/audit?page={}{keep}\">←</a>", page - 1)
    } else {
        String::new()
    };
    let next = if (page + 1) * PER_PAGE < total {
        format!("<a href=\"/admin/audit?page={}{keep}\">→</a>", page + 1)
    } else {
        String::new()
    };
    let body = format!(
        "<form method=\"get\" action=\"/admin/audit\">\
         <label>Action <input name=\"action\" value=\"{action}\" placeholder=\"incident.\"></label>\
         <label>Qui · Who <input name=\"actor\" value=\"{actor}\"></label><button>Filtrer · Filter</button></form>\
         <p>{total} entrées · entries {prev} {next}</p>\
         <table><thead><tr><th>Quand · When</th><th>Qui · Who</th><th>Action</th><th>Cible · Target</th><th>IP</th><th>Détails · Details</th></tr></thead>\
         <tbody>{rows}</tbody></table>",
        action = esc(q.action.as_deref().unwrap_or("")),
        actor = esc(q.actor.as_deref().unwrap_or("")),
    );
    Html(layout("Journal · Audit log", Some(&staff), None, &body)).into_response()
}

fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}
