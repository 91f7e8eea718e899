//! `/admin/account`: a staff member's own second factor. Enrolment shows a new secret (and its
//! `otpauth://` address) and turns it on only once a code from the app confirms it; replacing it
//! (a new phone) or turning it off takes a current code of the factor in force, so a stolen
//! session cannot swap the second factor for the thief's. A lost phone is `vigie user reset-totp EMAIL` on the server.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use console::{Errors, Input, Notice, Section, L};
use leptos::prelude::*;

use super::internal;
use super::ui::{self, Page};
use crate::auth::{totp, Posted, Staff};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/account", get(show))
        .route("/admin/account/totp/begin", post(begin))
        .route("/admin/account/totp/confirm", post(confirm))
        .route("/admin/account/totp/disable", post(disable))
}

fn code_field(l: L, errors: &Errors) -> impl IntoView {
    Input::new(
        "code",
        l.t(
            "Code à 6 chiffres de votre application",
            "6-digit code from your app",
        ),
        errors,
    )
    .autocomplete("one-time-code")
    .required()
    .view()
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
    let l = staff.l();
    let user = staff.user();
    let pending_url = secrets.pending.as_ref().map(|pending| {
        (
            pending.clone(),
            totp::otpauth_url(pending, &user.email, &state.ctx.site_title).unwrap_or_default(),
        )
    });
    let on = secrets.confirmed.is_some();
    let keyed = state.instance_key.is_some();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let notice = notice.or_else(|| errors.notice(l));
    let csrf = console::csrf(&staff.session.csrf_token);
    let title = l.f(
        || format!("Mon compte — {}", user.email),
        || format!("My account — {}", user.email),
    );
    Page::new(l, Some(staff), Section::Account, title)
        .status(status)
        .notice(notice)
        .render(move || {
            let body = match (on, pending_url) {
                (_, Some((secret, url))) => view! {
                    <p>
                        {l.t(
                            "Ajoutez ce compte à votre application d'authentification (clé à saisir ou adresse otpauth), puis confirmez avec le code qu'elle affiche.",
                            "Add this account to your authenticator app (key or otpauth address), then confirm with the code it shows.",
                        )}
                    </p>
                    <p>{l.t("Clé :", "Key:")} " " <code class="totp-secret">{secret}</code></p>
                    <p><code class="totp-url">{url}</code></p>
                    <form method="post" action="/admin/account/totp/confirm" class="console-form">
                        {csrf}
                        {code_field(l, &errors)}
                        <div class="button-row"><button class="button-primary">{l.t("Activer", "Turn on")}</button></div>
                    </form>
                }
                .into_any(),
                (true, None) => view! {
                    <p>
                        {l.t("La double authentification est ", "Two-factor sign-in is ")}
                        <strong>{l.t("activée", "on")}</strong>
                        "."
                    </p>
                    <form method="post" action="/admin/account/totp/disable" class="console-form">
                        {csrf}
                        {code_field(l, &errors)}
                        <div class="button-row">
                            <button class="button-secondary">{l.t("Désactiver", "Turn off")}</button>
                            " "
                            <button class="button-secondary" formaction="/admin/account/totp/begin">
                                {l.t("Changer d'application ou de téléphone", "Move to another app or phone")}
                            </button>
                        </div>
                    </form>
                }
                .into_any(),
                (false, None) if !keyed => view! {
                    <p>
                        {l.t(
                            "La double authentification est désactivée : le mot de passe suffit pour se connecter.",
                            "Two-factor sign-in is off: the password alone signs you in.",
                        )}
                    </p>
                    <p>{no_key(l).text}</p>
                }
                .into_any(),
                (false, None) => view! {
                    <p>
                        {l.t(
                            "La double authentification est désactivée : le mot de passe suffit pour se connecter.",
                            "Two-factor sign-in is off: the password alone signs you in.",
                        )}
                    </p>
                    <form method="post" action="/admin/account/totp/begin" class="console-form">
                        {csrf}
                        <div class="button-row">
                            <button class="button-primary">
                                {l.t("Activer la double authentification", "Turn on two-factor sign-in")}
                            </button>
                        </div>
                    </form>
                }
                .into_any(),
            };
            view! {
                <section aria-labelledby="two-factor">
                    <h2 id="two-factor">{l.t("Double authentification", "Two-factor sign-in")}</h2>
                    {body}
                </section>
            }
        })
}

async fn show(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    let l = staff.l();
    let notice = ui::flash_code(&headers).and_then(|c| match c.as_str() {
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
        ui::spend_flash(res, &staff)
    } else {
        res
    }
}

/// Why a second factor cannot be turned on here: no instance key to seal it with.
fn no_key(l: L) -> Notice {
    Notice::error(l.t(
        "La double authentification demande une clé d'instance sur ce serveur : un administrateur doit définir VIGIE_INSTANCE_KEY_FILE (voir docs/security.md).",
        "Two-factor sign-in needs an instance key on this server: an administrator must set VIGIE_INSTANCE_KEY_FILE (see docs/security.md).",
    ))
}

async fn begin(State(state): State<AppState>, posted: Posted) -> Response {
    let staff = &posted.staff;
    let id = staff.user().id;
    let Some(key) = state.instance_key.clone() else {
        let mut res = render(&state, staff, Errors::default(), Some(no_key(staff.l()))).await;
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
    match store::users::totp_begin(
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
    match store::users::totp_confirm(
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
        Ok(()) => ui::redirect_with(staff, "/admin/account", "totp-on"),
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
    match store::users::totp_disable(&state.ctx.db, id, &staff.actor(), Utc::now()).await {
        Ok(()) => ui::redirect_with(staff, "/admin/account", "totp-off"),
        Err(e) => internal(e),
    }
}
