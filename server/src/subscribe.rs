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

use std::collections::BTreeSet;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use domain::locale::Locale;
use serde::Deserialize;
use serde_json::json;
use store::subscribers::{Subscriber, Wanted, EMAIL, WEBHOOK};

use crate::state::AppState;
use notify::mail::normalise_address;
use notify::token::{self, Confirm, Holder};
use notify::{esc, lang, Notifier};

/// Most services one subscription may name.
const MAX_SERVICES: usize = 500;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/subscribe", get(form).post(form_post))
        .route("/subscribe/confirm", get(confirm_page).post(confirm_post))
        .route(
            "/subscribe/unsubscribe",
            get(unsubscribe_page).post(unsubscribe_post),
        )
        .route("/subscribe/manage", get(manage_page).post(manage_post))
        .route("/api/v1/subscribers", post(api_subscribe))
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
        .merge(crate::api::webhooks::router())
}

// ---------------------------------------------------------------------------------------------
// Words
// ---------------------------------------------------------------------------------------------

struct Words {
    title: &'static str,
    intro: &'static str,
    email: &'static str,
    language: &'static str,
    what: &'static str,
    everything: &'static str,
    chosen: &'static str,
    submit: &'static str,
    sent: &'static str,
    confirm_title: &'static str,
    confirm_button: &'static str,
    confirmed: &'static str,
    expired: &'static str,
    bad_link: &'static str,
    unsub_title: &'static str,
    unsub_button: &'static str,
    unsubscribed: &'static str,
    manage_title: &'static str,
    save: &'static str,
    saved: &'static str,
    throttled: &'static str,
    off: &'static str,
    back: &'static str,
    secret: &'static str,
    bad_email: &'static str,
    bad_language: &'static str,
    bad_services: &'static str,
}

const FR: Words = Words {
    title: "S'abonner aux notifications",
    intro: "Recevez par courriel chaque mise à jour d'incident et chaque maintenance. \
            Un courriel de confirmation vous sera envoyé ; rien d'autre ne part avant que vous \
            l'ayez confirmé.",
    email: "Adresse électronique",
    language: "Langue des courriels",
    what: "Que voulez-vous recevoir ?",
    everything: "Toute la page",
    chosen: "Seulement ces services :",
    submit: "S'abonner",
    sent: "Si cette adresse peut être abonnée, un courriel de confirmation vient de lui être \
           envoyé. Ouvrez le lien qu'il contient (valable 48 heures).",
    confirm_title: "Confirmer l'abonnement",
    confirm_button: "Confirmer",
    confirmed: "C'est fait : vous recevrez les notifications. Chaque courriel contient un lien \
                pour gérer votre abonnement ou vous désabonner.",
    expired: "Ce lien a expiré. Abonnez-vous à nouveau pour en recevoir un autre.",
    bad_link: "Ce lien n'est pas valable (incomplet, modifié, ou l'abonnement n'existe plus).",
    unsub_title: "Se désabonner",
    unsub_button: "Me désabonner",
    unsubscribed: "Vous êtes désabonné : votre adresse a été effacée.",
    manage_title: "Gérer mon abonnement",
    save: "Enregistrer",
    saved: "Vos préférences sont enregistrées.",
    throttled: "Trop de demandes depuis votre connexion. Réessayez dans une heure.",
    off: "Les notifications par courriel ne sont pas activées sur cette page.",
    back: "Retour à la page d'état",
    secret: "Secret de signature du webhook (conservez-le, il n'est affiché qu'ici) :",
    bad_email: "Cette adresse n'est pas valable : saisissez une adresse électronique complète, \
                par exemple prenom.nom@exemple.fr (254 caractères au plus).",
    bad_language: "Choisissez le français ou l'anglais.",
    bad_services: "Un des services choisis n'est plus sur la page : choisissez parmi la liste.",
};

const EN: Words = Words {
    title: "Subscribe to notifications",
    intro: "Get every incident update and every maintenance by e-mail. A confirmation mail \
            will be sent to you; nothing else goes out before you confirm it.",
    email: "E-mail address",
    language: "Language of the mails",
    what: "What do you want to receive?",
    everything: "The whole page",
    chosen: "Only these services:",
    submit: "Subscribe",
    sent: "If this address can be subscribed, a confirmation mail has just been sent to it. \
           Open the link it contains (valid for 48 hours).",
    confirm_title: "Confirm the subscription",
    confirm_button: "Confirm",
    confirmed: "Done: you will receive the notifications. Every mail has a link to manage \
                your subscription or unsubscribe.",
    expired: "This link has expired. Subscribe again to get a new one.",
    bad_link: "This link is not valid (incomplete, altered, or the subscription no longer exists).",
    unsub_title: "Unsubscribe",
    unsub_button: "Unsubscribe me",
    unsubscribed: "You are unsubscribed: your address has been erased.",
    manage_title: "Manage my subscription",
    save: "Save",
    saved: "Your preferences are saved.",
    throttled: "Too many requests from your connection. Try again in an hour.",
    off: "E-mail notifications are not enabled on this page.",
    back: "Back to the status page",
    secret: "The webhook's signing secret (keep it; it is shown only here):",
    bad_email: "This address is not valid: enter a whole e-mail address, for example \
                first.last@example.org (at most 254 characters).",
    bad_language: "Choose French or English.",
    bad_services: "One of the services chosen is no longer on the page: choose from the list.",
};

fn words(l: Locale) -> &'static Words {
    match l {
        Locale::Fr => &FR,
        _ => &EN,
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn locale(state: &AppState, query_lang: Option<&str>, headers: &HeaderMap) -> Locale {
    Locale::negotiate(
        query_lang,
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
        state.ctx.default_locale,
    )
}

/// A small self-contained page in the site's style sheet. Pages carrying a token in their
/// address send no referrer to other sites (`same-origin`); not `no-referrer`, with which
/// Chromium posts this page's forms with `Origin: null`, which the origin check refuses (the
/// subscribe form then never worked in a browser).
fn page(state: &AppState, l: Locale, status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"{code}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\">\
         <title>{title} — {site}</title><link rel=\"stylesheet\" href=\"/pkg/vigie.css\">\
         <link rel=\"icon\" href=\"{icon}\"></head>\
         <body class=\"subscribe-page\"><main id=\"main\"><h1>{title}</h1>{body}\
         <p><a href=\"/?lang={code}\">{back}</a></p></main></body></html>",
        code = l.code(),
        title = esc(title),
        site = esc(&state.ctx.site_title),
        icon = esc(wording::FAVICON),
        back = esc(words(l).back),
    );
    let mut res = (status, Html(html)).into_response();
    res.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn message(state: &AppState, l: Locale, status: StatusCode, title: &str, text: &str) -> Response {
    page(
        state,
        l,
        status,
        title,
        &format!("<p role=\"status\">{}</p>", esc(text)),
    )
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

fn service_choices(l: Locale, all: &[(String, String)], chosen: Option<&[String]>) -> String {
    let w = words(l);
    let everything = chosen.is_none();
    let mut html = format!(
        "<fieldset><legend>{what}</legend>\
         <p><label><input type=\"radio\" name=\"scope\" value=\"all\"{c1}> {every}</label></p>\
         <p><label><input type=\"radio\" name=\"scope\" value=\"services\"{c2}> {chosen}</label></p><ul>",
        what = esc(w.what),
        every = esc(w.everything),
        chosen = esc(w.chosen),
        c1 = if everything { " checked" } else { "" },
        c2 = if everything { "" } else { " checked" },
    );
    for (id, name) in all {
        let on = chosen.is_some_and(|c| c.contains(id));
        html.push_str(&format!(
            "<li><label><input type=\"checkbox\" name=\"service\" value=\"{}\"{}> {}</label></li>",
            esc(id),
            if on { " checked" } else { "" },
            esc(name)
        ));
    }
    html.push_str("</ul></fieldset>");
    html
}

fn language_select(l: Locale, selected: &str) -> String {
    let mut html = format!(
        "<p><label>{} <select name=\"language\">",
        esc(words(l).language)
    );
    for (code, name) in [("fr", "Français"), ("en", "English")] {
        html.push_str(&format!(
            "<option value=\"{code}\"{}>{name}</option>",
            if code == selected { " selected" } else { "" }
        ));
    }
    html.push_str("</select></label></p>");
    html
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

// ---------------------------------------------------------------------------------------------
// Asking
// ---------------------------------------------------------------------------------------------

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

#[derive(Deserialize)]
struct LangQuery {
    lang: Option<String>,
    t: Option<String>,
}

/// The subscribe form, showing back what the reader typed and, when it was refused, why,
/// as a sentence beside the field it is about.
fn subscribe_form(
    l: Locale,
    all: &[(String, String)],
    typed: &Typed,
    error: Option<(&str, &str)>,
) -> String {
    let w = words(l);
    let said = |f: &str| error.filter(|(field, _)| *field == f).map(|(_, m)| m);
    let sentence = |id: &str, m: &str| {
        format!(
            "<p class=\"field-error\" id=\"{id}\" role=\"alert\">{}</p>",
            esc(m)
        )
    };
    let (email_error, email_attrs) = match said("email") {
        Some(m) => (
            sentence("email-error", m),
            " aria-invalid=\"true\" aria-describedby=\"email-error\" autofocus",
        ),
        None => (String::new(), ""),
    };
    let language_error = said("language")
        .map(|m| sentence("language-error", m))
        .unwrap_or_default();
    let services_error = said("services")
        .map(|m| sentence("services-error", m))
        .unwrap_or_default();
    format!(
        "<p>{intro}</p><form method=\"post\" action=\"/subscribe?lang={code}\">\
         <p><label>{email} <input type=\"email\" name=\"email\" required maxlength=\"254\" \
         autocomplete=\"email\" value=\"{value}\"{email_attrs}></label></p>{email_error}\
         {lang}{language_error}{services_error}{choices}<p><button>{submit}</button></p></form>",
        intro = esc(w.intro),
        code = l.code(),
        email = esc(w.email),
        value = esc(&typed.email),
        lang = language_select(l, &typed.language),
        choices = service_choices(l, all, typed.services.as_deref()),
        submit = esc(w.submit),
    )
}

/// What a reader typed into the subscribe form.
struct Typed {
    email: String,
    language: String,
    services: Option<Vec<String>>,
}

async fn form(
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
    let body = subscribe_form(l, &all, &blank, None);
    page(&state, l, StatusCode::OK, w.title, &body)
}

async fn form_post(
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
            let body = subscribe_form(l, &all, &typed, Some((f, sentence)));
            page(&state, l, StatusCode::UNPROCESSABLE_ENTITY, w.title, &body)
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

async fn api_subscribe(
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

// ---------------------------------------------------------------------------------------------
// Confirming
// ---------------------------------------------------------------------------------------------

fn button_form(action: &str, t: &str, label: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{}\"><input type=\"hidden\" name=\"t\" value=\"{}\">\
         <p><button>{}</button></p></form>",
        esc(action),
        esc(t),
        esc(label)
    )
}

fn confirm_claims(n: &Notifier, t: &str) -> Result<Confirm, bool> {
    let claims: Confirm = n.signer.verify("confirm", t).ok_or(false)?;
    if claims.expired(Utc::now()) {
        return Err(true);
    }
    Ok(claims)
}

async fn confirm_page(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let t = q.t.unwrap_or_default();
    let fallback = locale(&state, q.lang.as_deref(), &headers);
    match confirm_claims(&state.notify, &t) {
        Ok(c) => {
            let l = lang(Some(&c.l));
            let w = words(l);
            let body = format!(
                "<p>{}</p>{}",
                esc(&c.c.clone().unwrap_or(c.a.clone())),
                button_form("/subscribe/confirm", &t, w.confirm_button)
            );
            page(&state, l, StatusCode::OK, w.confirm_title, &body)
        }
        Err(expired) => {
            let w = words(fallback);
            let text = if expired { w.expired } else { w.bad_link };
            message(&state, fallback, StatusCode::GONE, w.confirm_title, text)
        }
    }
}

async fn confirm_post(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
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
            let footer = state.notify.footer(&sub);
            let secret = if sub.kind == WEBHOOK {
                format!(
                    "<p>{} <code>{}</code></p>",
                    esc(w.secret),
                    esc(&state.notify.webhook_secret(&sub))
                )
            } else {
                String::new()
            };
            let body = format!(
                "<p role=\"status\">{}</p>{secret}<p><a href=\"{}\">{}</a></p>",
                esc(w.confirmed),
                esc(&footer.manage),
                esc(w.manage_title)
            );
            page(&state, l, StatusCode::OK, w.confirm_title, &body)
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

// ---------------------------------------------------------------------------------------------
// Unsubscribing and preferences
// ---------------------------------------------------------------------------------------------

/// The subscriber a holder token names, if it still exists with the same address.
async fn holder(state: &AppState, purpose: &str, t: &str) -> Option<Subscriber> {
    let h: Holder = state.notify.signer.verify(purpose, t)?;
    let sub = store::subscribers::get(&state.ctx.db, h.id).await.ok()??;
    (sub.address == h.a).then_some(sub)
}

async fn unsubscribe_page(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let t = q.t.unwrap_or_default();
    match holder(&state, "unsubscribe", &t).await {
        Some(sub) => {
            let l = lang(Some(&sub.language));
            let w = words(l);
            let body = format!(
                "<p>{}</p>{}",
                esc(&sub.address),
                button_form("/subscribe/unsubscribe", &t, w.unsub_button)
            );
            page(&state, l, StatusCode::OK, w.unsub_title, &body)
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
async fn unsubscribe_post(
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

fn manage_form(state: &AppState, sub: &Subscriber, t: &str, all: &[(String, String)]) -> String {
    let l = lang(Some(&sub.language));
    let w = words(l);
    let _ = state;
    format!(
        "<p>{addr}</p><form method=\"post\" action=\"/subscribe/manage\">\
         <input type=\"hidden\" name=\"t\" value=\"{t}\">{lang}{choices}\
         <p><button>{save}</button></p></form>{unsub}",
        addr = esc(&sub.address),
        t = esc(t),
        lang = language_select(l, &sub.language),
        choices = service_choices(l, all, sub.services.as_deref()),
        save = esc(w.save),
        unsub = button_form(
            &format!(
                "/subscribe/unsubscribe?t={}",
                state.notify.signer.sign(
                    "unsubscribe",
                    &Holder {
                        id: sub.id,
                        a: sub.address.clone()
                    }
                )
            ),
            "",
            w.unsub_button
        ),
    )
}

async fn manage_page(
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
    let l = lang(Some(&sub.language));
    let all = services(&state).await;
    let body = manage_form(&state, &sub, &t, &all);
    page(&state, l, StatusCode::OK, words(l).manage_title, &body)
}

async fn manage_post(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
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
    let services = chosen_services(&pairs);
    let result = store::subscribers::set_preferences(
        &state.ctx.db,
        sub.id,
        language.code(),
        &services,
        None,
        Utc::now(),
    )
    .await;
    let w = words(language);
    match result {
        Ok(sub) => {
            let all = self::services(&state).await;
            let body = format!(
                "<p role=\"status\">{}</p>{}",
                esc(w.saved),
                manage_form(&state, &sub, &t, &all)
            );
            page(&state, language, StatusCode::OK, w.manage_title, &body)
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
