//! Stale-while-error: when the database is unreachable, the public side keeps answering from
//! the last good renderings, and says so.
//!
//! [`DbHealth`](crate::changes::DbHealth) follows the change hub's watcher (a look at the store every 500 ms): one
//! failed look marks the database lost, the next successful one marks it back. The
//! [`layer`] keeps, for every public GET (pages, feeds, read APIs, badges), the last response
//! rendered while the database answered, bounded in bytes. While the database is lost (or when
//! a rendering fails with a server error) it serves that copy with status 200:
//!
//! - HTML gets a notice at the top of the body, in the page's language ("Information as of
//!   10:42 — the status service cannot reach its database");
//! - every copy carries `Vigie-Data-As-Of` (when it was rendered) and
//!   `Vigie-Database-Unreachable-Since` (RFC 3339), and JSON, feeds and badges keep their
//!   exact shape;
//! - writes (console forms, write API, heartbeats) get a clear 503 instead of a failure
//!   halfway.
//!
//! A copy is only served once a successful look at the database *followed* its rendering:
//! a page rendered in the instant the database went away may hold an error, and is never
//! taken for a good one. Recovery needs no restart: the pool reconnects, the next look
//! succeeds, the hub starts a new generation and pages render afresh.
//!
//! Hand-written: it is a few dozen lines over the page cache's own idea of what is public
//! (`crate::cache::query::params_read`), and no caching crate keeps "last good, confirmed after".

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use domain::locale::Locale;

use crate::conditional::DATA_AS_OF;

/// Bytes of copies kept, in total; the least recently stored go first.
const MAX_BYTES: usize = 48 * 1024 * 1024;
/// A response larger than this is not kept.
const MAX_ONE: usize = 16 * 1024 * 1024;

/// Since when the database has been unreachable.
pub const UNREACHABLE_SINCE: HeaderName =
    HeaderName::from_static("vigie-database-unreachable-since");

/// One kept response.
#[derive(Clone, Debug)]
struct Kept {
    headers: HeaderMap,
    body: Bytes,
    /// When its rendering was complete.
    done: Instant,
    rendered: DateTime<Utc>,
}

/// The newest rendering of a key, and the newest one a successful look confirmed.
#[derive(Debug, Default)]
struct Slot {
    confirmed: Option<Kept>,
    pending: Option<Kept>,
    stored: u64,
}

impl Slot {
    fn bytes(&self) -> usize {
        self.confirmed.as_ref().map_or(0, |c| c.body.len())
            + self.pending.as_ref().map_or(0, |c| c.body.len())
    }

    /// The best copy a look at `reached` confirms.
    fn good(&self, reached: Option<Instant>) -> Option<&Kept> {
        let reached = reached?;
        match &self.pending {
            Some(p) if p.done < reached => Some(p),
            _ => self.confirmed.as_ref().filter(|c| c.done < reached),
        }
    }
}

/// The last good public responses, and what the notice needs.
pub struct LastGood {
    hub: Arc<crate::changes::Hub>,
    timezone: chrono_tz::Tz,
    default_locale: Locale,
    slots: Mutex<Slots>,
}

#[derive(Default)]
struct Slots {
    by_key: HashMap<String, Slot>,
    bytes: usize,
    counter: u64,
}

impl LastGood {
    pub fn new(
        hub: Arc<crate::changes::Hub>,
        timezone: chrono_tz::Tz,
        default_locale: Locale,
    ) -> Arc<Self> {
        Arc::new(LastGood {
            hub,
            timezone,
            default_locale,
            slots: Mutex::new(Slots::default()),
        })
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, Slots> {
        match self.slots.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn keep(&self, key: String, copy: Kept) {
        let reached = self.hub.health.last_reached();
        let mut slots = self.slots();
        slots.counter += 1;
        let stored = slots.counter;
        let slot = slots.by_key.entry(key).or_default();
        let before = slot.bytes();
        // The previous rendering becomes the fallback once a look has confirmed it.
        // (Of two unconfirmed renderings, the older one is dropped.)
        if let Some(p) = slot.pending.take() {
            if reached.is_some_and(|r| p.done < r) {
                slot.confirmed = Some(p);
            }
        }
        slot.pending = Some(copy);
        slot.stored = stored;
        let after = slot.bytes();
        slots.bytes = slots.bytes + after - before;
        while slots.bytes > MAX_BYTES {
            let Some(oldest) = slots
                .by_key
                .iter()
                .min_by_key(|(_, s)| s.stored)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(s) = slots.by_key.remove(&oldest) {
                slots.bytes -= s.bytes();
            }
        }
    }

    /// The good copy for `key`, else for the same address in another language.
    fn find(&self, key: &str, uri: &str) -> Option<Kept> {
        let reached = self.hub.health.last_reached();
        let slots = self.slots();
        if let Some(c) = slots.by_key.get(key).and_then(|s| s.good(reached)) {
            return Some(c.clone());
        }
        slots
            .by_key
            .iter()
            .filter(|(k, _)| k.split('\n').next() == Some(uri))
            .filter_map(|(_, s)| s.good(reached))
            .max_by_key(|c| c.done)
            .cloned()
    }

    /// `copy` served while the database is unreachable since `since`.
    fn serve(&self, copy: Kept, since: Option<DateTime<Utc>>, head: bool) -> Response {
        let mut headers = copy.headers;
        // The copy with a notice is another representation: its validators are the cache's.
        headers.remove(header::ETAG);
        headers.remove(header::CONTENT_LENGTH);
        let stamp = |t: DateTime<Utc>| {
            HeaderValue::from_str(&t.to_rfc3339_opts(SecondsFormat::Secs, true))
                .unwrap_or(HeaderValue::from_static(""))
        };
        headers.insert(DATA_AS_OF, stamp(copy.rendered));
        if let Some(s) = since {
            headers.insert(UNREACHABLE_SINCE, stamp(s));
        }
        let is_html = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
        let body = if head {
            Bytes::new()
        } else if is_html {
            Bytes::from(self.with_notice(&copy.body, copy.rendered))
        } else {
            copy.body
        };
        let mut r = Response::new(Body::from(body));
        *r.headers_mut() = headers;
        r
    }

    /// `html` with the notice right after `<body …>`, in the page's own language.
    fn with_notice(&self, html: &[u8], rendered: DateTime<Utc>) -> Vec<u8> {
        let locale = page_locale(html).unwrap_or(self.default_locale);
        // "10:42 (heure de Paris)": the site's clock, named as on every page.
        let time = domain::dates::time_of_day(
            locale,
            &domain::dates::site_time(rendered, self.timezone),
            self.timezone.name(),
        );
        let notice = notice(locale, &time);
        let banner = {
            use leptos::prelude::*;
            Owner::new().with(move || {
                view! {
                    <div
                        class="stale-notice"
                        role="status"
                        style="background:#fff3cd;color:#3d2e00;border-bottom:2px solid #b58900;padding:.6rem 1rem;text-align:center;font-weight:600"
                    >
                        {notice}
                    </div>
                }
                .to_html()
            })
        };
        prepend_to_body(html, &banner)
    }
}

/// The notice, in `locale`, for data as of `time` (already in the site's timezone, labelled).
pub fn notice(locale: Locale, time: &str) -> String {
    match locale {
        Locale::Fr => format!(
            "Informations à jour à {time} — le service de statut ne parvient pas à joindre sa base de données"
        ),
        Locale::En => format!(
            "Information as of {time} — the status service cannot reach its database"
        ),
    }
}

/// The `lang` of the page's `<html>` element.
pub(crate) fn page_locale(html: &[u8]) -> Option<Locale> {
    let head = &html[..html.len().min(2048)];
    let text = std::str::from_utf8(head).ok().or_else(|| {
        // A cut in the middle of a character: the valid prefix.
        std::str::from_utf8(&head[..head.len().saturating_sub(3)]).ok()
    })?;
    let at = text.find("<html")?;
    let rest = &text[at..];
    let lang = rest.split("lang=\"").nth(1)?.split('"').next()?;
    Locale::from_tag(lang)
}

/// `html` with `markup` at the start of its `<body>`, put there by an HTML rewriter (lol_html)
/// that writes every other byte back as it was. A page without a `<body>` tag, or one the
/// rewriter refuses, is left as it is.
fn prepend_to_body(html: &[u8], markup: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(html.len() + markup.len());
    let settings = lol_html::Settings::new().append_element_content_handler(lol_html::element!(
        "body",
        |el| {
            el.prepend(markup, lol_html::html_content::ContentType::Html);
            Ok(())
        }
    ));
    let done = {
        let mut rewriter = lol_html::HtmlRewriter::new(settings, |chunk: &[u8]| {
            out.extend_from_slice(chunk);
        });
        match rewriter.write(html) {
            Ok(()) => rewriter.end(),
            Err(e) => Err(e),
        }
    };
    match done {
        Ok(()) => out,
        Err(e) => {
            tracing::warn!(error = %e, "the stale notice was left out of a page");
            html.to_vec()
        }
    }
}

/// The answer to a write, or to a staff page, while the database is unreachable.
fn unavailable(path: &str, since: DateTime<Utc>) -> Response {
    let since_text = since.to_rfc3339_opts(SecondsFormat::Secs, true);
    let message = "The status service cannot reach its database: nothing was saved. \
                   Try again in a moment.";
    let mut r = if path.starts_with("/api/") {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({
                "error": message,
                "database_unreachable_since": since_text,
            })),
        )
            .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            format!(
                "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
                 <title>Database unreachable</title></head><body><main><h1>Database unreachable</h1>\
                 <p>{message}</p><p lang=\"fr\">Le service de statut ne parvient pas à joindre sa \
                 base de données : rien n'a été enregistré. Réessayez dans un instant.</p>\
                 </main></body></html>"
            ),
        )
            .into_response()
    };
    let h = r.headers_mut();
    h.insert(header::RETRY_AFTER, HeaderValue::from_static("10"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&since_text) {
        h.insert(UNREACHABLE_SINCE, v);
    }
    r
}

/// The key of a public GET: its address and the reader's negotiated language.
fn key(req: &Request, default: Locale) -> (String, String) {
    let uri = req.uri().to_string();
    let query_lang = req.uri().query().and_then(|q| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("lang="))
            .map(str::to_owned)
    });
    let locale = Locale::negotiate(
        query_lang.as_deref(),
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
        default,
    );
    (format!("{uri}\n{}", locale.code()), uri)
}

/// The middleware (inside the page cache: it sees each rendering once, uncompressed).
pub async fn layer(State(last): State<Arc<LastGood>>, req: Request, next: Next) -> Response {
    let lost = last.hub.health.lost_since();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let reads = matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !reads || path.starts_with("/admin") {
        if let Some(since) = lost {
            // Sign-in and console pages need the database as much as writes do.
            return unavailable(&path, since);
        }
        return next.run(req).await;
    }
    if crate::cache::query::params_read(&path).is_none()
        || req.headers().contains_key(header::AUTHORIZATION)
    {
        return next.run(req).await;
    }
    let (key, uri) = key(&req, last.default_locale);
    let head = method == Method::HEAD;
    if lost.is_some() {
        if let Some(copy) = last.find(&key, &uri) {
            return last.serve(copy, lost, head);
        }
        return next.run(req).await;
    }
    let response = next.run(req).await;
    if response.status().is_server_error() {
        if path.starts_with("/_fn/") && last.hub.health.lost_since().is_none() {
            // The live page's data while the database answers: an older copy would be taken
            // for the current state (a window just scheduled, missing, with nothing to say
            // so). The error goes through; the page keeps what it shows and asks again.
            return response;
        }
        if let Some(copy) = last.find(&key, &uri) {
            return last.serve(copy, last.hub.health.lost_since(), head);
        }
        return response;
    }
    if response.status() != StatusCode::OK || head {
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, MAX_ONE).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "stale copy: response body could not be read");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    last.keep(
        key,
        Kept {
            headers: parts.headers.clone(),
            body: body.clone(),
            done: Instant::now(),
            rendered: Utc::now(),
        },
    );
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notice_goes_after_the_body_tag_in_the_page_language() {
        let last = LastGood::new(
            crate::changes::Hub::new(),
            chrono_tz::Europe::Paris,
            Locale::Fr,
        );
        let at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, 7, 9, 42, 0)
            .single()
            .expect("time");
        let page = br#"<!DOCTYPE html><html lang="en" dir="ltr"><head></head><body class="x"><main>hi</main></body></html>"#;
        let out = String::from_utf8(last.with_notice(page, at)).expect("utf-8");
        // Right after the body tag, the rest of the page as it was.
        let body = out.split_once("<body class=\"x\">").expect("body").1;
        let tag = &body[..body.find('>').expect("tag")];
        assert!(
            tag.starts_with("<div")
                && tag.contains("class=\"stale-notice\"")
                && tag.contains("role=\"status\""),
            "{out}"
        );
        assert!(out.contains(
            "Information as of 10:42 (Paris time) — the status service cannot reach its database</div><main>"
        ));
        assert!(out.starts_with(
            "<!DOCTYPE html><html lang=\"en\" dir=\"ltr\"><head></head><body class=\"x\"><div"
        ));
        assert!(
            out.ends_with("</div><main>hi</main></body></html>"),
            "{out}"
        );
        let fr = br#"<html lang="fr"><body><p>x</p></body></html>"#;
        let out = String::from_utf8(last.with_notice(fr, at)).expect("utf-8");
        assert!(
            out.contains("Informations à jour à 10:42 (heure de Paris)"),
            "{out}"
        );
        assert_eq!(last.with_notice(b"no body here", at), b"no body here");
    }

    #[test]
    fn a_copy_is_good_only_once_a_later_look_reached_the_database() {
        let hub = crate::changes::Hub::new();
        let last = LastGood::new(hub.clone(), chrono_tz::UTC, Locale::Fr);
        let copy = |n: u8| Kept {
            headers: HeaderMap::new(),
            body: Bytes::from(vec![n]),
            done: Instant::now(),
            rendered: Utc::now(),
        };
        last.keep("/\nfr".into(), copy(1));
        assert!(last.find("/\nfr", "/").is_none(), "nothing confirmed it");
        std::thread::sleep(std::time::Duration::from_millis(2));
        hub.health.reached(Instant::now());
        assert_eq!(last.find("/\nfr", "/").expect("good").body[..], [1]);
        assert_eq!(
            last.find("/\nen", "/").expect("other language").body[..],
            [1]
        );
        // A newer rendering, not yet confirmed: the confirmed one is served.
        last.keep("/\nfr".into(), copy(2));
        assert_eq!(last.find("/\nfr", "/").expect("good").body[..], [1]);
        std::thread::sleep(std::time::Duration::from_millis(2));
        hub.health.reached(Instant::now());
        assert_eq!(last.find("/\nfr", "/").expect("good").body[..], [2]);
        assert!(last.find("/x\nfr", "/x").is_none());
    }

    #[test]
    fn health_flips_once_each_way() {
        let h = crate::changes::DbHealth::default();
        assert!(!h.reached(Instant::now()), "was never lost");
        let now = Utc::now();
        assert!(h.lost(now));
        assert!(!h.lost(now + chrono::TimeDelta::seconds(1)), "still lost");
        assert_eq!(h.lost_since(), Some(now));
        assert!(h.reached(Instant::now()));
        assert_eq!(h.lost_since(), None);
    }
}
