//! RSS 2.0 and Atom 1.0 feeds of incident updates and maintenance notices, site-wide and per
//! service, with conditional GET (strong ETag, Last-Modified, 304). Also the helpers the
//! calendar and the badges share: the response with validators and the JSON error.
//!
//! Entry ids never change when a text is edited: an update is
//! `{base_url}/incidents/{id}#update-{update_id}`, a maintenance notice
//! `{base_url}/maintenance#maintenance-{id}-{stage}`.

use atom_syndication as atom;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use domain::locale::Locale;
use serde_json::json;
use store::feeds::{MaintenanceStage, Notice, NoticeKind, Notices};
use wording::{texts, Texts, WindowStage};

use crate::state::AppState;

/// Entries per feed.
pub const FEED_LENGTH: u64 = 50;

pub const RSS_TYPE: &str = "application/rss+xml; charset=utf-8";
pub const ATOM_TYPE: &str = "application/atom+xml; charset=utf-8";

/// The feed routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/feed.rss", get(site_rss))
        .route("/feed.atom", get(site_atom))
        .route("/services/{slug}/feed.rss", get(service_rss))
        .route("/services/{slug}/feed.atom", get(service_atom))
        .layer(axum::middleware::from_fn(crate::vary::accept_language))
}

/// A failed feed, calendar or badge request, answered as JSON `{"error": …}`.
#[derive(Debug)]
pub enum FeedError {
    NotFound(String),
    BadRequest(String),
    /// Logged, never shown.
    Internal(String),
}

impl From<store::StoreError> for FeedError {
    fn from(e: store::StoreError) -> Self {
        FeedError::Internal(e.to_string())
    }
}

impl IntoResponse for FeedError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            FeedError::NotFound(m) => (StatusCode::NOT_FOUND, m),
            FeedError::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            FeedError::Internal(e) => {
                tracing::error!(error = %e, "feed request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error".to_owned(),
                )
            }
        };
        (status, Json(json!({ "error": message }))).into_response()
    }
}

/// A body served with a strong ETag (SHA-256 of the bytes) and, when known, Last-Modified;
/// answers 304 without a body when the request's validators match. `If-None-Match` wins
/// over `If-Modified-Since` (RFC 9110 §13.2.2).
pub fn conditional(
    request: &HeaderMap,
    content_type: &'static str,
    cache_control: &'static str,
    last_modified: Option<DateTime<Utc>>,
    body: Vec<u8>,
) -> Response {
    let etag = crate::conditional::etag(&body);
    // HTTP dates have whole seconds; compare at that precision.
    let last_modified = last_modified.and_then(|t| DateTime::from_timestamp(t.timestamp(), 0));
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    headers.insert(header::ETAG, etag.clone());
    if let Some(t) = last_modified {
        let text = t.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        if let Ok(v) = HeaderValue::from_str(&text) {
            headers.insert(header::LAST_MODIFIED, v);
        }
    }
    if crate::conditional::is_not_modified(request, &etag, headers.get(header::LAST_MODIFIED)) {
        return crate::conditional::not_modified(&headers);
    }
    (StatusCode::OK, headers, body).into_response()
}

/// What a feed is about: the whole site or one service.
struct Scope {
    /// `(slug, name)` for a service feed.
    service: Option<(String, String)>,
}

impl Scope {
    async fn of(state: &AppState, slug: Option<String>) -> Result<Self, FeedError> {
        let Some(slug) = slug else {
            return Ok(Scope { service: None });
        };
        match store::feeds::service_name(&state.ctx.db, &slug).await? {
            Some(name) => Ok(Scope {
                service: Some((slug, name)),
            }),
            None => Err(FeedError::NotFound(format!("unknown service `{slug}`"))),
        }
    }

    fn title(&self, site: &str) -> String {
        match &self.service {
            Some((_, name)) => format!("{site} — {name}"),
            None => site.to_owned(),
        }
    }

    /// The page the feed stands for.
    fn page(&self, base: &str) -> String {
        match &self.service {
            Some((slug, _)) => format!("{base}/services/{slug}"),
            None => format!("{base}/"),
        }
    }

    fn feed_url(&self, base: &str, ext: &str) -> String {
        match &self.service {
            Some((slug, _)) => format!("{base}/services/{slug}/feed.{ext}"),
            None => format!("{base}/feed.{ext}"),
        }
    }
}

/// The site's base URL without its trailing slash.
fn base_url(state: &AppState) -> &str {
    state.ctx.base_url.trim_end_matches('/')
}

/// An entry's title: "[Résolu] Panne des sites", "[Maintenance planifiée] Mise à jour".
pub fn entry_title(t: &Texts, notice: &Notice) -> String {
    let prefix = match &notice.kind {
        NoticeKind::IncidentUpdate { status, .. } => t.incident_status(*status),
        NoticeKind::Maintenance { stage, .. } => match stage {
            MaintenanceStage::Scheduled => t.maintenance_scheduled(),
            MaintenanceStage::Started => t.maintenance_started(),
            MaintenanceStage::Completed => t.maintenance_completed(),
        },
    };
    format!("[{prefix}] {}", notice.title)
}

/// The entry's permanent id, which no edit changes.
fn entry_id(base: &str, notice: &Notice) -> String {
    match &notice.kind {
        NoticeKind::IncidentUpdate {
            incident_id,
            update_id,
            ..
        } => format!("{base}/incidents/{incident_id}#update-{update_id}"),
        NoticeKind::Maintenance {
            maintenance_id,
            stage,
            ..
        } => format!(
            "{base}/maintenance#maintenance-{maintenance_id}-{}",
            stage.as_str()
        ),
    }
}

/// The page a reader opens from the entry.
fn entry_link(base: &str, notice: &Notice) -> String {
    match &notice.kind {
        NoticeKind::IncidentUpdate { incident_id, .. } => format!("{base}/incidents/{incident_id}"),
        NoticeKind::Maintenance { maintenance_id, .. } => {
            format!("{base}/maintenance#maintenance-{maintenance_id}")
        }
    }
}

/// Each line a paragraph, as HTML: Leptos views rendered to a string, without Leptos's
/// hydration markers (an entry is never hydrated), as the mails are.
fn paragraphs(lines: impl IntoIterator<Item = String>) -> String {
    use leptos::prelude::*;
    let ps = lines
        .into_iter()
        .map(|l| view! { <p>{l}</p> })
        .collect::<Vec<_>>();
    notify::html::render(ps)
}

/// The entry's HTML: the stored, already sanitised message; a maintenance notice adds its
/// window. The paragraphs built here are Leptos views rendered to a string (escaped by
/// construction), followed by the sanitised message; the feed crates escape the whole entry
/// again as XML.
fn entry_html(t: &Texts, tz: chrono_tz::Tz, notice: &Notice) -> String {
    let local = |at| store::public_pages::site_time(at, tz);
    // Which services, and the status each has now (incident: the one staff stated; window:
    // under maintenance). Statuses are kept per incident, not per update, so the words say
    // "current".
    let affected = (!notice.affected.is_empty()).then(|| {
        let list = notice
            .affected
            .iter()
            .map(|s| {
                format!(
                    "{} ({})",
                    s.name,
                    t.state(domain::status::ServiceState::Known(s.status))
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        t.services_now(&list)
    });
    match &notice.kind {
        NoticeKind::IncidentUpdate { .. } => {
            format!("{}{}", paragraphs(affected), notice.message_html)
        }
        NoticeKind::Maintenance {
            starts_at,
            ends_at,
            stage,
            ..
        } => {
            // Each stage says what is new: the announcement (window, services, message), then
            // that it began and until when, then that it ended and when.
            let (from, to, zone) = (local(*starts_at), local(*ends_at), tz.name());
            let (news, stage, message) = match stage {
                MaintenanceStage::Scheduled => (
                    t.maintenance_window(&from, &to, zone),
                    WindowStage::Scheduled,
                    notice.message_html.as_str(),
                ),
                MaintenanceStage::Started => (
                    t.maintenance_began(&from, &to, zone),
                    WindowStage::Started,
                    "",
                ),
                MaintenanceStage::Completed => {
                    (t.maintenance_ended(&to, zone), WindowStage::Completed, "")
                }
            };
            let services = notice
                .affected
                .iter()
                .map(|s| t.window_service(&s.name, stage))
                .collect::<Vec<_>>()
                .join(", ");
            let services = (!services.is_empty()).then(|| t.services_concerned(&services));
            format!(
                "{}{message}",
                paragraphs(std::iter::once(news).chain(services))
            )
        }
    }
}

/// The feed's language: `?lang=` (the per-language address pages link to), then the
/// reader's `Accept-Language`, then the site default.
pub fn feed_locale(state: &AppState, uri: &Uri, headers: &HeaderMap) -> Locale {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    crate::vary::explicit_lang(uri)
        .or_else(|| accept.and_then(Locale::from_accept_language))
        .unwrap_or(state.ctx.default_locale)
}

/// `?lang=xx` for the feed's own addresses when the request named its language.
fn lang_query(uri: &Uri) -> String {
    crate::vary::explicit_lang(uri)
        .map(|l| format!("?lang={}", l.code()))
        .unwrap_or_default()
}

async fn load(
    state: &AppState,
    slug: Option<String>,
    locale: Locale,
) -> Result<(Scope, Notices, &'static Texts), FeedError> {
    let scope = Scope::of(state, slug).await?;
    let notices = store::feeds::notices(
        &state.ctx.db,
        scope.service.as_ref().map(|(s, _)| s.as_str()),
        Utc::now(),
        FEED_LENGTH,
    )
    .await?;
    Ok((scope, notices, texts(locale)))
}

/// The RSS 2.0 document.
fn rss_body(
    state: &AppState,
    scope: &Scope,
    notices: &Notices,
    t: &Texts,
    locale: Locale,
    lang: &str,
) -> Vec<u8> {
    use rss::extension::{Extension, ExtensionMap};
    let base = base_url(state);
    let title = scope.title(&state.ctx.site_title);
    let items: Vec<rss::Item> = notices
        .notices
        .iter()
        .map(|n| rss::Item {
            title: Some(entry_title(t, n)),
            link: Some(entry_link(base, n)),
            description: Some(entry_html(t, state.ctx.timezone, n)),
            guid: Some(rss::Guid {
                value: entry_id(base, n),
                permalink: false,
            }),
            pub_date: Some(n.published.to_rfc2822()),
            categories: n
                .services
                .iter()
                .map(|s| rss::Category {
                    name: s.clone(),
                    domain: None,
                })
                .collect(),
            ..Default::default()
        })
        .collect();
    // The self link (`<atom:link rel="self">`) that feed validators ask for.
    let self_link = Extension {
        name: "atom:link".to_owned(),
        attrs: [
            (
                "href".to_owned(),
                format!("{}{lang}", scope.feed_url(base, "rss")),
            ),
            ("rel".to_owned(), "self".to_owned()),
            ("type".to_owned(), "application/rss+xml".to_owned()),
        ]
        .into(),
        ..Default::default()
    };
    let mut extensions = ExtensionMap::new();
    extensions
        .entry("atom".to_owned())
        .or_default()
        .insert("link".to_owned(), vec![self_link]);
    let channel = rss::Channel {
        title: title.clone(),
        link: scope.page(base),
        description: t.feed_description(&title),
        language: Some(locale.code().to_owned()),
        generator: Some("Vigie".to_owned()),
        last_build_date: notices.last_modified.map(|d| d.to_rfc2822()),
        pub_date: notices.notices.first().map(|n| n.published.to_rfc2822()),
        ttl: Some("5".to_owned()),
        items,
        extensions,
        namespaces: [("atom".to_owned(), "http://www.w3.org/2005/Atom".to_owned())].into(),
        ..Default::default()
    };
    channel.to_string().into_bytes()
}

/// The Atom 1.0 document.
fn atom_body(
    state: &AppState,
    scope: &Scope,
    notices: &Notices,
    t: &Texts,
    locale: Locale,
    lang_query: &str,
) -> Vec<u8> {
    let base = base_url(state);
    let title = scope.title(&state.ctx.site_title);
    let lang = locale.code().to_owned();
    let author = atom::Person {
        name: state.ctx.site_title.clone(),
        uri: Some(format!("{base}/")),
        ..Default::default()
    };
    let entries: Vec<atom::Entry> = notices
        .notices
        .iter()
        .map(|n| atom::Entry {
            title: atom::Text::plain(entry_title(t, n)),
            id: entry_id(base, n),
            updated: n.updated.fixed_offset(),
            published: Some(n.published.fixed_offset()),
            links: vec![atom::Link {
                href: entry_link(base, n),
                rel: "alternate".to_owned(),
                mime_type: Some("text/html".to_owned()),
                ..Default::default()
            }],
            categories: n
                .services
                .iter()
                .map(|s| atom::Category {
                    term: s.clone(),
                    ..Default::default()
                })
                .collect(),
            content: Some(atom::Content {
                base: Some(format!("{base}/")),
                lang: Some(lang.clone()),
                value: Some(entry_html(t, state.ctx.timezone, n)),
                content_type: Some("html".to_owned()),
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect();
    // An empty feed still needs an `updated`; the Unix epoch says "nothing yet" and is stable.
    let updated = notices.last_modified.unwrap_or(DateTime::UNIX_EPOCH);
    let feed = atom::Feed {
        title: atom::Text::plain(title.clone()),
        subtitle: Some(atom::Text::plain(t.feed_description(&title))),
        id: scope.feed_url(base, "atom"),
        updated: updated.fixed_offset(),
        authors: vec![author],
        generator: Some(atom::Generator {
            value: "Vigie".to_owned(),
            ..Default::default()
        }),
        links: vec![
            atom::Link {
                href: format!("{}{lang_query}", scope.feed_url(base, "atom")),
                rel: "self".to_owned(),
                mime_type: Some("application/atom+xml".to_owned()),
                ..Default::default()
            },
            atom::Link {
                href: scope.page(base),
                rel: "alternate".to_owned(),
                mime_type: Some("text/html".to_owned()),
                ..Default::default()
            },
        ],
        lang: Some(lang),
        entries,
        ..Default::default()
    };
    feed.to_string().into_bytes()
}

/// Feeds are revalidated on every poll: the ETag makes that a 304 most of the time.
const FEED_CACHE: &str = "public, max-age=60";

async fn rss_response(
    state: AppState,
    uri: Uri,
    headers: HeaderMap,
    slug: Option<String>,
) -> Result<Response, FeedError> {
    let locale = feed_locale(&state, &uri, &headers);
    let (scope, notices, t) = load(&state, slug, locale).await?;
    let body = rss_body(&state, &scope, &notices, t, locale, &lang_query(&uri));
    Ok(conditional(
        &headers,
        RSS_TYPE,
        FEED_CACHE,
        notices.last_modified,
        body,
    ))
}

async fn atom_response(
    state: AppState,
    uri: Uri,
    headers: HeaderMap,
    slug: Option<String>,
) -> Result<Response, FeedError> {
    let locale = feed_locale(&state, &uri, &headers);
    let (scope, notices, t) = load(&state, slug, locale).await?;
    let body = atom_body(&state, &scope, &notices, t, locale, &lang_query(&uri));
    Ok(conditional(
        &headers,
        ATOM_TYPE,
        FEED_CACHE,
        notices.last_modified,
        body,
    ))
}

async fn site_rss(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, FeedError> {
    rss_response(state, uri, headers, None).await
}

async fn site_atom(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, FeedError> {
    atom_response(state, uri, headers, None).await
}

async fn service_rss(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, FeedError> {
    rss_response(state, uri, headers, Some(slug)).await
}

async fn service_atom(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, FeedError> {
    atom_response(state, uri, headers, Some(slug)).await
}
