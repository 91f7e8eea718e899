//! `/subscribe/confirm?t=…`: the signed link of the confirmation mail (48 h). GET shows a
//! button, POST confirms: mail scanners that follow links do not subscribe anyone.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use notify::token::Confirm;
use notify::{lang, Notifier};
use store::subscribers::{Wanted, WEBHOOK};

use super::words::words;
use super::{field, form_pairs, html, locale, message, respond, LangQuery};
use crate::state::AppState;

fn confirm_claims(n: &Notifier, t: &str) -> Result<Confirm, bool> {
    let claims: Confirm = n.signer.verify("confirm", t).ok_or(false)?;
    if claims.expired(Utc::now()) {
        return Err(true);
    }
    Ok(claims)
}

pub(super) async fn show(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let t = q.t.unwrap_or_default();
    let fallback = locale(&state, q.lang.as_deref(), &headers);
    match confirm_claims(&state.notify, &t) {
        Ok(c) => {
            let l = lang(Some(&c.l));
            let who = c.c.unwrap_or(c.a);
            respond(
                StatusCode::OK,
                html::confirm(l, &state.ctx.site_title, who, t),
            )
        }
        Err(expired) => {
            let w = words(fallback);
            let text = if expired { w.expired } else { w.bad_link };
            message(&state, fallback, StatusCode::GONE, w.confirm_title, text)
        }
    }
}

pub(super) async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    let t = field(&pairs, "t").unwrap_or("");
    let fallback = locale(&state, None, &headers);
    let c = match confirm_claims(&state.notify, t) {
        Ok(c) => c,
        Err(expired) => {
            let w = words(fallback);
            let text = if expired { w.expired } else { w.bad_link };
            return message(&state, fallback, StatusCode::GONE, w.confirm_title, text);
        }
    };
    let l = lang(Some(&c.l));
    let w = words(l);
    let wanted = Wanted {
        kind: c.k.clone(),
        address: c.a.clone(),
        contact: c.c.clone(),
        language: c.l.clone(),
        services: c.s.clone(),
    };
    match store::subscribers::confirm(&state.ctx.db, &wanted, None, Utc::now()).await {
        Ok(sub) => {
            let manage = state.notify.footer(&sub).manage;
            let secret = (sub.kind == WEBHOOK).then(|| state.notify.webhook_secret(&sub));
            respond(
                StatusCode::OK,
                html::confirmed(l, &state.ctx.site_title, secret, manage),
            )
        }
        // A service removed from the page since the mail was sent.
        Err(store::audit::WriteError::UnknownService(_)) => {
            message(&state, l, StatusCode::GONE, w.confirm_title, w.expired)
        }
        Err(e) => {
            tracing::warn!(error = %e, "subscription could not be confirmed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
