//! The readers' side of subscriptions, all without JavaScript and without an account:
//!
//! - `GET /subscribe`: the form (address, language, whole page or chosen services);
//!   `POST /subscribe` and `POST /api/v1/subscribers` (JSON, 202) ask for a confirmation mail.
//!   The answer is the same whether the address is new, pending or already subscribed.
//! - `/subscribe/confirm?t=…`: the signed link of the confirmation mail (48 h). GET shows a
//!   button, POST confirms: mail scanners that follow links do not subscribe anyone.
//! - `/subscribe/unsubscribe?t=…`: GET shows a button; POST (also RFC 8058 one-click, from the
//!   mail client) deletes the address.
//! - `/subscribe/manage?t=…`: language and services, changed without an account.
//!
//! The subscriptions themselves, the mails and the outbox are [`notify`]'s; this module
//! is only their HTTP side, so that `notify` never needs the router's state.
//!
//! One file per step: [`ask`] (the form and the API that ask for a confirmation mail),
//! [`confirm`] (the confirmation link), [`manage`] (unsubscribing and preferences). The pages
//! are [`html`]'s, Leptos views from plain data (text escaped by construction), and their
//! words in both languages [`words`]'s.

mod ask;
mod confirm;
mod html;
mod manage;
mod words;

use std::collections::BTreeSet;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use domain::locale::Locale;
use serde::Deserialize;

use crate::state::AppState;

/// Most services one subscription may name.
const MAX_SERVICES: usize = 500;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/subscribe", get(ask::form).post(ask::form_post))
        .route(
            "/subscribe/confirm",
            get(confirm::show).post(confirm::submit),
        )
        .route(
            "/subscribe/unsubscribe",
            get(manage::unsubscribe_page).post(manage::unsubscribe_post),
        )
        .route("/subscribe/manage", get(manage::show).post(manage::save))
        .route("/api/v1/subscribers", post(ask::api_subscribe))
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
        .merge(crate::api::webhooks::router())
}

#[derive(Deserialize)]
struct LangQuery {
    lang: Option<String>,
    t: Option<String>,
}

fn locale(state: &AppState, query_lang: Option<&str>, headers: &HeaderMap) -> Locale {
    Locale::negotiate(
        query_lang,
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
        state.ctx.default_locale,
    )
}

/// A subscription page (from [`html`]) answered with `status`. Pages carrying a token in their
/// address send no referrer to other sites (`same-origin`); not `no-referrer`, with which
/// Chromium posts this page's forms with `Origin: null`, which the origin check refuses (the
/// subscribe form then never worked in a browser).
fn respond(status: StatusCode, page: String) -> Response {
    let mut res = (status, Html(page)).into_response();
    res.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// A page that only says `text` (a confirmation, or why not).
fn message(state: &AppState, l: Locale, status: StatusCode, title: &str, text: &str) -> Response {
    respond(status, html::message(l, &state.ctx.site_title, title, text))
}

/// Pairs of an `application/x-www-form-urlencoded` body (repeated keys kept).
fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .take(MAX_SERVICES + 16)
        .collect()
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The live services, id and name, in page order.
async fn services(state: &AppState) -> Vec<(String, String)> {
    store::subscribers::services(&state.ctx.db)
        .await
        .unwrap_or_default()
}

/// The services a form asks for: None for the whole page.
fn chosen_services(pairs: &[(String, String)]) -> Option<Vec<String>> {
    if field(pairs, "scope") == Some("all") {
        return None;
    }
    let list: BTreeSet<String> = pairs
        .iter()
        .filter(|(k, _)| k == "service")
        .map(|(_, v)| v.clone())
        .collect();
    if list.is_empty() {
        None
    } else {
        Some(list.into_iter().collect())
    }
}

/// The client's address as far as we can tell (proxies trusted as configured).
pub struct ClientIp(pub Option<String>);

impl axum::extract::FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            crate::auth::Client::from_parts(parts, &state.auth).ip_string(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_scope_all_means_whole_page() {
        let p = form_pairs(b"scope=all&service=web");
        assert_eq!(chosen_services(&p), None);
        let p = form_pairs(b"scope=services&service=web&service=db&service=web");
        assert_eq!(chosen_services(&p), Some(vec!["db".into(), "web".into()]));
    }
}
