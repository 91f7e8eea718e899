//! `/admin/account`: a staff member's own second factor. Enrolment shows a new secret (and its
//! `otpauth://` address) and turns it on only once a code from the app confirms it; turning it
//! off takes a current code too. A lost phone is `vigie user totp-off EMAIL` on the server.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;

use super::internal;
use super::page::{csrf, esc, layout};
use crate::auth::{totp, Posted, Staff};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/account", get(show))
        .route("/admin/account/totp/begin", post(begin))
        .route("/admin/account/totp/confirm", post(confirm))
        .route("/admin/account/totp/disable", post(disable))
}

const CODE_FIELD: &str = "<label>Code à 6 chiffres · 6-digit code \
    <input name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" required></label>";

async fn render(state: &AppState, staff: &Staff, flash: Option<&str>) -> Response {
    let secrets = match store::users::totp_secrets(&state.ctx.db, staff.user().id).await {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    let user = staff.user();
    let csrf = csrf(staff);
    let body = match (&secrets.confirmed, &secrets.pending) {
        (_, Some(pending)) => {
            let url =
                totp::otpauth_url(pending, &user.email, &state.ctx.site_title).unwrap_or_default();
            format!(
                "<p>Ajoutez ce compte à votre application d'authentification (clé à saisir ou \
                 adresse otpauth), puis confirmez avec le code qu'elle affiche. · Add this \
                 account to your authenticator app (key or otpauth address), then confirm with \
                 the code it shows.</p>\
                 <p>Clé · Key: <code class=\"totp-secret\">{secret}</code></p>\
                 <p><code class=\"totp-url\">{url}</code></p>\
                 <form method=\"post\" action=\"/admin/account/totp/confirm\">{csrf}{CODE_FIELD}\
                 <button>Activer · Turn on</button></form>",
                secret = esc(pending),
                url = esc(&url),
            )
        }
        (Some(_), None) => format!(
            "<p>La double authentification est <strong>activée</strong>. · Two-factor sign-in \
             is <strong>on</strong>.</p>\
             <form method=\"post\" action=\"/admin/account/totp/disable\">{csrf}{CODE_FIELD}\
             <button>Désactiver · Turn off</button></form>"
        ),
        (None, None) => format!(
            "<p>La double authentification est désactivée : le mot de passe suffit pour se \
             connecter. · Two-factor sign-in is off: the password alone signs you in.</p>\
             <form method=\"post\" action=\"/admin/account/totp/begin\">{csrf}\
             <button>Activer la double authentification · Turn on two-factor sign-in</button>\
             </form>"
        ),
    };
    let code = if flash.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let title = format!("Mon compte · My account — {}", user.email);
    (code, Html(layout(&title, Some(staff), flash, &body))).into_response()
}

async fn show(State(state): State<AppState>, staff: Staff) -> Response {
    render(&state, &staff, None).await
}

async fn begin(State(state): State<AppState>, posted: Posted) -> Response {
    let staff = &posted.staff;
    let secret = totp::new_secret();
    match store::users::totp_begin(
        &state.ctx.db,
        staff.user().id,
        &secret,
        &staff.actor(),
        Utc::now(),
    )
    .await
    {
        Ok(()) => render(&state, staff, None).await,
        Err(e) => internal(e),
    }
}

const WRONG_CODE: &str = "Code incorrect ou déjà utilisé. Wrong or already used code.";

async fn confirm(State(state): State<AppState>, posted: Posted) -> Response {
    let staff = &posted.staff;
    let id = staff.user().id;
    let pending = match store::users::totp_secrets(&state.ctx.db, id).await {
        Ok(s) => s.pending,
        Err(e) => return internal(e),
    };
    let code = posted.get("code").unwrap_or("");
    let Some((secret, step)) = pending.and_then(|secret| {
        let step = totp::check(&secret, code, totp::now())?;
        Some((secret, step))
    }) else {
        return render(&state, staff, Some(WRONG_CODE)).await;
    };
    match store::users::totp_confirm(&state.ctx.db, id, &secret, step, &staff.actor(), Utc::now())
        .await
    {
        Ok(()) => Redirect::to("/admin/account").into_response(),
        Err(e) => internal(e),
    }
}

async fn disable(State(state): State<AppState>, posted: Posted) -> Response {
    let staff = &posted.staff;
    let id = staff.user().id;
    match super::second_factor(&state, id, posted.get("code").unwrap_or("")).await {
        Ok(true) => {}
        Ok(false) => return render(&state, staff, Some(WRONG_CODE)).await,
        Err(e) => return internal(e),
    }
    match store::users::totp_disable(&state.ctx.db, id, &staff.actor(), Utc::now()).await {
        Ok(()) => Redirect::to("/admin/account").into_response(),
        Err(e) => internal(e),
    }
}
