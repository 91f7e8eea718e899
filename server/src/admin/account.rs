//! `/admin/account`: a staff member's own second factor. Enrolment shows a new secret (and its
//! `otpauth://` address) and turns it on only once a code from the app confirms it; replacing it
//! (a new phone) or turning it off takes a current code of the factor in force, so a stolen
//! session cannot swap the second factor for the thief's. A lost phone is `vigie user reset-totp
//! EMAIL` on the server. The page itself is `console::account`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use console::account::TwoFactor;
use console::{Errors, Notice, L};

use super::internal;
use super::ui;
use super::ui::flash;
use crate::auth::{totp, Posted, Staff};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/account", get(show))
        .route("/admin/account/totp/begin", post(begin))
        .route("/admin/account/totp/confirm", post(confirm))
        .route("/admin/account/totp/disable", post(disable))
}

async fn render(
    state: &AppState,
    staff: &Staff,
    errors: Errors,
    notice: Option<Notice>,
) -> Response {
    let secrets = match super::totp_secrets(state, staff.user().id).await {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    let user = staff.user();
    let two_factor = match (secrets.confirmed.is_some(), secrets.pending) {
        (_, Some(secret)) => TwoFactor::Pending {
            url: totp::otpauth_url(&secret, &user.email, &state.ctx.site_title).unwrap_or_default(),
            secret,
        },
        (true, None) => TwoFactor::On,
        (false, None) if state.instance_key.is_none() => TwoFactor::NoKey,
        (false, None) => TwoFactor::Off,
    };
    let status = ui::form_status(&errors);
    let page = console::account::page(staff.l(), staff.viewer(), two_factor, &errors, notice);
    ui::html(status, page)
}

async fn show(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    let l = staff.l();
    let notice = flash::flash_code(&headers).and_then(|c| match c.as_str() {
        "totp-on" => Some(Notice::ok(l.t(
            "Double authentification activée : chaque connexion demandera un code.",
            "Two-factor sign-in is on: every sign-in will ask for a code.",
        ))),
        "totp-off" => Some(Notice::ok(l.t(
            "Double authentification désactivée.",
            "Two-factor sign-in is off.",
        ))),
        _ => None,
    });
    let shown = notice.is_some();
    let res = render(&state, &staff, Errors::default(), notice).await;
    if shown {
        flash::spend_flash(res, &staff)
    } else {
        res
    }
}

async fn begin(State(state): State<AppState>, posted: Posted) -> Response {
    let staff = &posted.staff;
    let id = staff.user().id;
    let Some(key) = state.instance_key.clone() else {
        let mut res = render(
            &state,
            staff,
            Errors::default(),
            Some(console::account::no_key(staff.l())),
        )
        .await;
        *res.status_mut() = StatusCode::CONFLICT;
        return res;
    };
    let on = match super::totp_secrets(&state, id).await {
        Ok(s) => s.confirmed.is_some(),
        Err(e) => return internal(e),
    };
    // A factor in force is replaced only with one of its current codes.
    if on {
        match super::second_factor(&state, id, posted.get("code").unwrap_or("")).await {
            Ok(true) => {}
            Ok(false) => return render(&state, staff, wrong_code(staff.l()), None).await,
            Err(e) => return internal(e),
        }
    }
    let secret = totp::new_secret();
    match store::users::totp::totp_begin(
        &state.ctx.db,
        &key,
        staff.user().id,
        &secret,
        &staff.actor(),
        Utc::now(),
    )
    .await
    {
        Ok(()) => axum::response::Redirect::to("/admin/account").into_response(),
        Err(e) => internal(e),
    }
}

fn wrong_code(l: L) -> Errors {
    let mut errors = Errors::default();
    errors.add(
        "code",
        l.t(
            "Code incorrect ou déjà utilisé : saisissez le code que votre application affiche maintenant.",
            "Wrong or already used code: enter the code your app shows now.",
        ),
    );
    errors
}

async fn confirm(State(state): State<AppState>, posted: Posted) -> Response {
    let staff = &posted.staff;
    let id = staff.user().id;
    let pending = match super::totp_secrets(&state, id).await {
        Ok(s) => s.pending,
        Err(e) => return internal(e),
    };
    // A pending secret exists only where a key sealed it.
    let Some(key) = state.instance_key.clone() else {
        return render(&state, staff, wrong_code(staff.l()), None).await;
    };
    let code = posted.get("code").unwrap_or("");
    let Some((secret, step)) = pending.and_then(|secret| {
        let step = totp::check(&secret, code, totp::now())?;
        Some((secret, step))
    }) else {
        return render(&state, staff, wrong_code(staff.l()), None).await;
    };
    match store::users::totp::totp_confirm(
        &state.ctx.db,
        &key,
        id,
        &secret,
        step,
        &staff.actor(),
        Utc::now(),
    )
    .await
    {
        Ok(()) => flash::redirect_with(staff, "/admin/account", "totp-on"),
        Err(e) => internal(e),
    }
}

async fn disable(State(state): State<AppState>, posted: Posted) -> Response {
    let staff = &posted.staff;
    let id = staff.user().id;
    match super::second_factor(&state, id, posted.get("code").unwrap_or("")).await {
        Ok(true) => {}
        Ok(false) => return render(&state, staff, wrong_code(staff.l()), None).await,
        Err(e) => return internal(e),
    }
    match store::users::totp::totp_disable(&state.ctx.db, id, &staff.actor(), Utc::now()).await {
        Ok(()) => flash::redirect_with(staff, "/admin/account", "totp-off"),
        Err(e) => internal(e),
    }
}
