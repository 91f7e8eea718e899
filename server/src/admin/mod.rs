//! The staff console under `/admin`: sign-in and sign-out, incidents, maintenance, users, API
//! tokens, remote probe agents and the audit log, as server-rendered forms that work without JavaScript.
//!
//! Every handler but the sign-in form takes a [`Staff`] (or [`Posted`], which also checks
//! Origin and the CSRF token), so no console route answers without a live session.

pub mod account;
pub mod agents;
pub mod audit;
pub mod drafts;
pub mod forms;
pub mod incident;
pub mod incidents;
pub mod maintenance;
pub mod people;
pub mod secrets;
pub mod subscribers;
pub mod tokens;
pub mod ui;

use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use console::L;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::auth::{self, Client, Posted, Staff};
use crate::state::AppState;

/// The console's routes, with their security headers and body limit.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(home))
        .route("/admin/", get(home))
        .route("/admin/login", get(login_form).post(login))
        .route("/admin/logout", post(logout))
        .merge(account::router())
        .merge(agents::router())
        .merge(incidents::router())
        .merge(incident::router())
        .merge(audit::router())
        .merge(maintenance::router())
        .merge(people::router())
        .merge(subscribers::router())
        .merge(tokens::router())
        .layer(axum::extract::DefaultBodyLimit::max(256 * 1024))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            crate::headers::console_csp(),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

async fn home(_staff: Staff) -> Redirect {
    Redirect::to("/admin/incidents")
}

/// A server error page; the cause goes to the log only.
pub fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "console request failed");
    ui::html(
        StatusCode::INTERNAL_SERVER_ERROR,
        console::refusal::internal(),
    )
}

/// The 403 page, for a signed-in staff member whose role does not allow the page.
pub fn forbidden(staff: &Staff) -> Response {
    ui::html(
        StatusCode::FORBIDDEN,
        console::refusal::forbidden(staff.l(), staff.viewer()),
    )
}

impl Staff {
    /// `Err` with a 403 page unless the user has `role` or better. (It lives here, with the
    /// page it answers, so that `auth` needs nothing from the console.)
    // Handlers return the `Response` at once: boxing it would only add an allocation.
    #[allow(clippy::result_large_err)]
    pub fn require(&self, role: domain::staff::Role) -> Result<(), Response> {
        if self.session.user.role >= role {
            Ok(())
        } else {
            Err(forbidden(self))
        }
    }
}

/// The sign-in form, with `error` on top when the last attempt failed.
fn login_page(l: L, token: &str, error: Option<&str>, email: &str, status: StatusCode) -> Response {
    ui::html(status, console::login::page(l, token, error, email))
}

/// The sign-in form; sets the double-submit cookie its CSRF field must match.
async fn login_form(State(state): State<AppState>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let client = Client::from_parts(&parts, &state.auth);
    let token = store::tokens::random_secret();
    let l = ui::locale_of(&parts.headers, state.ctx.default_locale);
    (
        [(
            header::SET_COOKIE,
            client.cookie(auth::LOGIN_CSRF_COOKIE, &token, 3600),
        )],
        login_page(l, &token, None, "", StatusCode::OK),
    )
        .into_response()
}

async fn login(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let client = Client::from_parts(&parts, &state.auth);
    let l = ui::locale_of(&parts.headers, state.ctx.default_locale);
    if !auth::same_origin(&parts.headers) {
        return (StatusCode::FORBIDDEN, "cross-origin request refused").into_response();
    }
    let login_cookie = client
        .read_cookie(&parts.headers, auth::LOGIN_CSRF_COOKIE)
        .map(str::to_owned);
    let previous = client
        .read_cookie(&parts.headers, auth::SESSION_COOKIE)
        .map(str::to_owned);
    let user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let fields = match auth::read_form(Request::from_parts(parts, body), &state).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let posted_token = auth::form_get(&fields, "csrf").unwrap_or("");
    // A non-empty pair that matches: an empty cookie and an empty field prove nothing.
    let pair_ok =
        login_cookie.is_some_and(|c| !c.is_empty() && auth::same_secret(&c, posted_token));
    if !pair_ok {
        return (StatusCode::FORBIDDEN, "invalid or missing CSRF token").into_response();
    }
    let email = store::users::normalize_email(auth::form_get(&fields, "email").unwrap_or(""));
    let password = fields
        .iter()
        .find(|(k, _)| k == "password")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let address = client.ip_string().unwrap_or_default();
    let again =
        |status: StatusCode, msg: &str| login_page(l, posted_token, Some(msg), &email, status);
    let ip = client
        .ip
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let attempt = match state.auth.throttle.begin(&email, ip, Instant::now()) {
        Ok(attempt) => attempt,
        Err(refused) => {
            tracing::warn!(address, "sign-in throttled");
            return (
                [(
                    header::RETRY_AFTER,
                    refused.wait.as_secs().max(1).to_string(),
                )],
                again(StatusCode::TOO_MANY_REQUESTS, console::login::throttled(l)),
            )
                .into_response();
        }
    };
    let found = match store::users::find_for_login(&state.ctx.db, &email).await {
        Ok(f) => f,
        Err(e) => return internal(e),
    };
    let verified = state
        .auth
        .hashing
        .run(move |memory| match found {
            Some((user, hash)) => {
                store::users::verify_password_with(memory, &hash, &password).then_some(user)
            }
            None => {
                store::users::verify_nothing_with(memory, &password);
                None
            }
        })
        .await;
    let user = match verified {
        Ok(Some(user)) => user,
        Ok(None) => {
            failed(&state, attempt).await;
            tracing::info!(address, "sign-in failed");
            return again(StatusCode::UNAUTHORIZED, console::login::bad_credentials(l));
        }
        Err(auth::hashing::Busy) => {
            tracing::warn!(address, "sign-in refused: password hashing busy");
            return (
                [(header::RETRY_AFTER, "1")],
                again(StatusCode::TOO_MANY_REQUESTS, console::login::SIGN_IN_BUSY),
            )
                .into_response();
        }
    };
    if user.totp {
        let code = auth::form_get(&fields, "code").unwrap_or("");
        let passed = match second_factor(&state, user.id, code).await {
            Ok(p) => p,
            // The key cannot open the secret (or there is none): the factor is refused, never
            // skipped. The reader gets the answer of a wrong code, so a right password is not
            // told apart; the log names the user and the fix.
            Err(e @ store::StoreError::Sealed(_)) => {
                tracing::error!(address, error = %e, "sign-in refused: second factor unreadable");
                false
            }
            Err(e) => return internal(e),
        };
        if !passed {
            failed(&state, attempt).await;
            tracing::info!(address, "sign-in failed: one-time code");
            return again(StatusCode::UNAUTHORIZED, console::login::bad_credentials(l));
        }
    }
    attempt.succeeded();
    let started = store::sessions::start(
        &state.ctx.db,
        &user,
        previous.as_deref(),
        client.ip_string().as_deref(),
        user_agent.as_deref(),
        Utc::now(),
    )
    .await;
    match started {
        Ok((cookie, session)) => {
            let max_age = (session.expires_at - Utc::now()).num_seconds().max(0);
            let mut res = Redirect::to("/admin/incidents").into_response();
            let headers = res.headers_mut();
            for c in [
                client.cookie(auth::SESSION_COOKIE, &cookie, max_age),
                client.cookie(auth::LOGIN_CSRF_COOKIE, "", 0),
            ] {
                if let Ok(v) = HeaderValue::from_str(&c) {
                    headers.append(header::SET_COOKIE, v);
                }
            }
            res
        }
        Err(e) => internal(e),
    }
}

/// Counts a failed sign-in; when it shows the account under attack from many addresses,
/// staff read it in the audit log (once an hour per account).
async fn failed(state: &AppState, attempt: auth::throttle::Attempt) {
    let Some(alert) = attempt.failed(Instant::now()) else {
        return;
    };
    tracing::warn!(
        account = alert.account,
        failures = alert.failures,
        "sign-in: account under attack from many addresses"
    );
    let recorded = store::audit::record(
        &state.ctx.db,
        &store::audit::Actor::system(),
        "auth.under_attack",
        Some(("account", alert.account.clone())),
        serde_json::json!({
            "email": alert.account,
            "failures_last_hour": alert.failures,
            "note": "each address now gets one free failure on this account",
        }),
        Utc::now(),
    )
    .await;
    if let Err(e) = recorded {
        tracing::error!(error = %e, "audit of an attack failed");
    }
}

/// Whether `code` is a fresh one-time code of user `id`'s confirmed second factor; its time
/// step is spent, so the same code never passes twice.
pub async fn second_factor(
    state: &AppState,
    id: i64,
    code: &str,
) -> Result<bool, store::StoreError> {
    let secrets = totp_secrets(state, id).await?;
    let Some(step) = secrets
        .confirmed
        .and_then(|s| auth::totp::check(&s, code, auth::totp::now()))
    else {
        return Ok(false);
    };
    store::users::totp::totp_spend(&state.ctx.db, id, step).await
}

/// The TOTP secrets of user `id`, opened with the instance key. Without a key (PostgreSQL
/// with none configured) no secret can be read: a user who has one gets `StoreError::Sealed`,
/// whose message says what to configure.
pub async fn totp_secrets(
    state: &AppState,
    id: i64,
) -> Result<store::users::totp::TotpSecrets, store::StoreError> {
    match &state.instance_key {
        Some(key) => store::users::totp::totp_secrets(&state.ctx.db, key, id).await,
        None => match store::users::get(&state.ctx.db, id).await? {
            Some(u) if u.totp => Err(store::StoreError::Sealed(format!(
                "{} has a TOTP second factor but this instance has no instance key to read it \
                 with: set {} on every instance (docs/security.md)",
                u.email,
                crate::instance_key::ENV_FILE
            ))),
            _ => Ok(store::users::totp::TotpSecrets::default()),
        },
    }
}

async fn logout(State(state): State<AppState>, posted: Posted) -> Response {
    let everywhere = posted.get("everywhere").is_some();
    let staff = &posted.staff;
    if let Err(e) = store::sessions::end(
        &state.ctx.db,
        &staff.session,
        everywhere,
        &staff.actor(),
        Utc::now(),
    )
    .await
    {
        return internal(e);
    }
    (
        [(
            header::SET_COOKIE,
            staff.client.cookie(auth::SESSION_COOKIE, "", 0),
        )],
        Redirect::to("/admin/login"),
    )
        .into_response()
}
