//! `/subscribe/unsubscribe?t=…` (GET shows a button; POST, also RFC 8058 one-click from the
//! mail client, deletes the address) and `/subscribe/manage?t=…` (language and services,
//! changed without an account).

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use domain::locale::Locale;
use notify::lang;
use notify::token::Holder;
use store::subscribers::Subscriber;

use super::html::{self, Preferences};
use super::words::words;
use super::{chosen_services, field, form_pairs, locale, message, respond, services, LangQuery};
use crate::state::AppState;

/// The subscriber a holder token names, if it still exists with the same address.
async fn holder(state: &AppState, purpose: &str, t: &str) -> Option<Subscriber> {
    let h: Holder = state.notify.signer.verify(purpose, t)?;
    let sub = store::subscribers::get(&state.ctx.db, h.id).await.ok()??;
    (sub.address == h.a).then_some(sub)
}

pub(super) async fn unsubscribe_page(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let t = q.t.unwrap_or_default();
    match holder(&state, "unsubscribe", &t).await {
        Some(sub) => {
            let l = lang(Some(&sub.language));
            let page = html::unsubscribe(l, &state.ctx.site_title, sub.address, t);
            respond(StatusCode::OK, page)
        }
        None => {
            let l = locale(&state, q.lang.as_deref(), &headers);
            let w = words(l);
            message(&state, l, StatusCode::NOT_FOUND, w.unsub_title, w.bad_link)
        }
    }
}

/// Unsubscribes: the token comes from the address (RFC 8058's one-click POST, whose body is
/// `List-Unsubscribe=One-Click`) or from the page's form.
pub(super) async fn unsubscribe_post(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    let t =
        q.t.clone()
            .or_else(|| field(&pairs, "t").map(str::to_owned))
            .unwrap_or_default();
    let fallback = locale(&state, q.lang.as_deref(), &headers);
    let Some(sub) = holder(&state, "unsubscribe", &t).await else {
        let w = words(fallback);
        return message(
            &state,
            fallback,
            StatusCode::NOT_FOUND,
            w.unsub_title,
            w.bad_link,
        );
    };
    let l = lang(Some(&sub.language));
    let w = words(l);
    match store::subscribers::delete(&state.ctx.db, sub.id, None, Utc::now()).await {
        Ok(_) => message(&state, l, StatusCode::OK, w.unsub_title, w.unsubscribed),
        Err(e) => {
            tracing::warn!(error = %e, "unsubscribe failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// The preferences page of `sub`, reached with the manage token `t`.
fn manage_page(
    state: &AppState,
    sub: &Subscriber,
    t: &str,
    all: &[(String, String)],
    saved: bool,
) -> Response {
    let l = lang(Some(&sub.language));
    let unsubscribe = format!(
        "/subscribe/unsubscribe?t={}",
        state.notify.signer.sign(
            "unsubscribe",
            &Holder {
                id: sub.id,
                a: sub.address.clone()
            }
        )
    );
    let preferences = Preferences {
        address: &sub.address,
        language: &sub.language,
        services: sub.services.as_deref(),
        t,
        unsubscribe,
    };
    let page = html::manage(l, &state.ctx.site_title, preferences, all, saved);
    respond(StatusCode::OK, page)
}

pub(super) async fn show(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let t = q.t.unwrap_or_default();
    let Some(sub) = holder(&state, "manage", &t).await else {
        let l = locale(&state, q.lang.as_deref(), &headers);
        let w = words(l);
        return message(&state, l, StatusCode::NOT_FOUND, w.manage_title, w.bad_link);
    };
    let all = services(&state).await;
    manage_page(&state, &sub, &t, &all, false)
}

pub(super) async fn save(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    let t = field(&pairs, "t").unwrap_or("").to_owned();
    let Some(sub) = holder(&state, "manage", &t).await else {
        let l = locale(&state, None, &headers);
        let w = words(l);
        return message(&state, l, StatusCode::NOT_FOUND, w.manage_title, w.bad_link);
    };
    let language = field(&pairs, "language")
        .and_then(Locale::from_tag)
        .unwrap_or(lang(Some(&sub.language)));
    let chosen = chosen_services(&pairs);
    let result = store::subscribers::set_preferences(
        &state.ctx.db,
        sub.id,
        language.code(),
        &chosen,
        None,
        Utc::now(),
    )
    .await;
    let w = words(language);
    match result {
        Ok(sub) => {
            let all = services(&state).await;
            manage_page(&state, &sub, &t, &all, true)
        }
        Err(store::audit::WriteError::UnknownService(s)) => message(
            &state,
            language,
            StatusCode::UNPROCESSABLE_ENTITY,
            w.manage_title,
            &format!("{}: {s}", w.bad_link),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "preferences could not be saved");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
