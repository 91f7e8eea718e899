//! Asking for a subscription: `GET`/`POST /subscribe` (the form) and `POST /api/v1/subscribers`
//! (JSON, 202). Either queues a confirmation mail, and answers the same whether the address is
//! new, pending or already subscribed.

use std::collections::BTreeSet;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use domain::locale::Locale;
use notify::mail::normalise_address;
use notify::token::{self, Confirm};
use notify::Notifier;
use serde::Deserialize;
use serde_json::json;
use store::subscribers::{EMAIL, WEBHOOK};

use super::html::{self, Typed};
use super::words::words;
use super::{
    chosen_services, field, form_pairs, locale, message, respond, services, ClientIp, LangQuery,
    MAX_SERVICES,
};
use crate::state::AppState;

/// Why a subscription request was refused (the same for a new, pending or subscribed address).
enum Refusal {
    Off,
    Throttled,
    Invalid(&'static str, String),
    Internal,
}

/// Checks a request and, unless the address has had its share of mails this hour, queues a
/// confirmation mail. Returns the same thing for new, pending and subscribed addresses.
async fn ask(
    n: &Notifier,
    client_ip: Option<String>,
    address: &str,
    language: Option<&str>,
    services: Option<Vec<String>>,
    webhook: Option<&str>,
    default_locale: Locale,
) -> Result<(), Refusal> {
    if !n.email_enabled() {
        return Err(Refusal::Off);
    }
    let address = normalise_address(address).map_err(|m| Refusal::Invalid("email", m.into()))?;
    let language = match language {
        None | Some("") => default_locale,
        Some(code) => Locale::from_tag(code)
            .ok_or_else(|| Refusal::Invalid("language", "must be \"fr\" or \"en\"".into()))?,
    };
    if let Some(list) = &services {
        if list.len() > MAX_SERVICES {
            return Err(Refusal::Invalid("services", "too many services".into()));
        }
        let known: BTreeSet<String> = store::subscribers::services(&n.db)
            .await
            .map_err(|_| Refusal::Internal)?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        if let Some(bad) = list.iter().find(|s| !known.contains(*s)) {
            return Err(Refusal::Invalid(
                "services",
                format!("unknown service `{bad}`"),
            ));
        }
    }
    if let Some(url) = webhook {
        if let Some(why) = n.caller.refuse(url) {
            return Err(Refusal::Invalid("webhook", why));
        }
    }
    if !n.throttle.client(client_ip.as_deref().unwrap_or("unknown")) {
        return Err(Refusal::Throttled);
    }
    // Past its share, an address silently gets nothing more this hour: the answer must not
    // tell whether it was asked for before.
    if !n.throttle.address(&address) {
        tracing::info!("confirmation mail skipped: address throttled");
        return Ok(());
    }
    let now = Utc::now();
    let claims = Confirm {
        k: if webhook.is_some() { WEBHOOK } else { EMAIL }.to_owned(),
        a: webhook.map_or_else(|| address.clone(), str::to_owned),
        c: webhook.map(|_| address.clone()),
        l: language.code().to_owned(),
        s: services,
        x: (now + token::CONFIRM_VALID_FOR).timestamp(),
    };
    let link = format!(
        "{}/subscribe/confirm?t={}",
        n.site.base_url,
        n.signer.sign("confirm", &claims)
    );
    store::outbox::queue_direct(
        &n.db,
        "email",
        &address,
        "confirm",
        &json!({ "language": language.code(), "link": link, "webhook": webhook }),
        now,
    )
    .await
    .map_err(|e| {
        tracing::warn!(error = %e, "confirmation mail could not be queued");
        Refusal::Internal
    })?;
    n.wake.notify_one();
    Ok(())
}

pub(super) async fn form(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let l = locale(&state, q.lang.as_deref(), &headers);
    let w = words(l);
    if !state.notify.email_enabled() {
        return message(&state, l, StatusCode::NOT_FOUND, w.title, w.off);
    }
    let all = services(&state).await;
    let blank = Typed {
        email: String::new(),
        language: l.code().to_owned(),
        services: None,
    };
    let page = html::subscribe(l, &state.ctx.site_title, &all, &blank, None);
    respond(StatusCode::OK, page)
}

pub(super) async fn form_post(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    ClientIp(client_ip): ClientIp,
    body: Bytes,
) -> Response {
    let l = locale(&state, q.lang.as_deref(), &headers);
    let w = words(l);
    if !crate::auth::same_origin(&headers)
        && (headers.contains_key("origin") || headers.contains_key("referer"))
    {
        return message(&state, l, StatusCode::FORBIDDEN, w.title, w.bad_link);
    }
    let pairs = form_pairs(&body);
    let result = ask(
        &state.notify,
        client_ip,
        field(&pairs, "email").unwrap_or(""),
        field(&pairs, "language"),
        chosen_services(&pairs),
        None,
        l,
    )
    .await;
    match result {
        Ok(()) => message(&state, l, StatusCode::OK, w.title, w.sent),
        Err(Refusal::Off) => message(&state, l, StatusCode::NOT_FOUND, w.title, w.off),
        Err(Refusal::Throttled) => message(
            &state,
            l,
            StatusCode::TOO_MANY_REQUESTS,
            w.title,
            w.throttled,
        ),
        // The form again, as typed, with the reason beside its field in the page's language
        // (the API's reasons are for programs).
        Err(Refusal::Invalid(f, _)) => {
            let sentence = match f {
                "email" => w.bad_email,
                "language" => w.bad_language,
                _ => w.bad_services,
            };
            let typed = Typed {
                email: field(&pairs, "email").unwrap_or("").to_owned(),
                language: field(&pairs, "language")
                    .and_then(Locale::from_tag)
                    .unwrap_or(l)
                    .code()
                    .to_owned(),
                services: chosen_services(&pairs),
            };
            let all = services(&state).await;
            let page = html::subscribe(l, &state.ctx.site_title, &all, &typed, Some((f, sentence)));
            respond(StatusCode::UNPROCESSABLE_ENTITY, page)
        }
        Err(Refusal::Internal) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// The JSON body of `POST /api/v1/subscribers`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscribeRequest {
    pub email: String,
    #[serde(default)]
    pub language: Option<String>,
    /// Absent: the whole page.
    #[serde(default)]
    pub services: Option<Vec<String>>,
    /// A webhook URL to subscribe instead; `email` is then the contact address that
    /// confirms it.
    #[serde(default)]
    pub webhook: Option<String>,
}

pub(super) async fn api_subscribe(
    State(state): State<AppState>,
    ClientIp(client_ip): ClientIp,
    body: Result<Json<SubscribeRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(req) = match body {
        Ok(b) => b,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({ "error": e.body_text() })),
            )
                .into_response()
        }
    };
    let result = ask(
        &state.notify,
        client_ip,
        &req.email,
        req.language.as_deref(),
        req.services,
        req.webhook.as_deref(),
        state.ctx.default_locale,
    )
    .await;
    match result {
        Ok(()) => (
            StatusCode::ACCEPTED,
            Json(json!({
                "status": "pending_confirmation",
                "message": "if the address can be subscribed, a confirmation mail was sent to it"
            })),
        )
            .into_response(),
        Err(Refusal::Off) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "error": "e-mail notifications are not configured" })),
        )
            .into_response(),
        Err(Refusal::Throttled) => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "3600")],
            Json(json!({ "error": "too many requests; try again later" })),
        )
            .into_response(),
        Err(Refusal::Invalid(f, m)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "error": "invalid", "fields": { f: m } })),
        )
            .into_response(),
        Err(Refusal::Internal) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "error": "try again later" })),
        )
            .into_response(),
    }
}
