//! The public response cache: pages, feeds and read APIs are rendered once per change and then
//! served from memory, already compressed, with a strong ETag and 304 on revalidation.
//!
//! An entry belongs to a *generation* of the change hub (crate::changes) and to a short time
//! slot ([`MAX_AGE`]): any change to the data starts a new generation, so a reader never gets
//! a page older than the last change; the time slot bounds how old the page's own clock
//! ("data as of …", staleness banners) can be. Concurrent misses for the same key wait for
//! one render (single flight), so a change under load costs one render, not hundreds.
//!
//! The page's CSP nonce is part of the rendering, so readers of one cached rendering share its
//! nonce for at most [`MAX_AGE`] (or until the next change). The nonce still changes with every
//! rendering; what it guards against is script injected through content, and incident text is
//! sanitised before it is stored.
//!
//! Hand-written rather than a caching crate: the invalidation is ours (generation from the
//! store's watermark), and the entry must hold the compressed bytes per encoding.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use crate::assets::Encoding;
use crate::changes::Hub;

/// How long an entry may serve without a change, at most.
pub const MAX_AGE: Duration = Duration::from_secs(10);
/// Entries kept before the oldest generations are dropped.
const MAX_ENTRIES: usize = 4096;
/// The largest body the cache reads into memory. The overview of a large catalog with its
/// 90-day bars runs to megabytes uncompressed (100 services: over 4 MB), so the bound is
/// generous; a body past it is a server error, never a truncated page.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// Paths whose GET responses are public and the same for every reader of a language.
fn cacheable(path: &str) -> bool {
    path == "/"
        || path == "/history"
        || path == "/maintenance"
        || path == "/feed.rss"
        || path == "/feed.atom"
        || path == "/maintenance.ics"
        || path == "/api/openapi.json"
        || path == "/_fn/overview"
        || path.starts_with("/services/")
        || path.starts_with("/incidents/")
        || path.starts_with("/badge/")
        || path.starts_with("/api/v2/")
        || (path.starts_with("/api/v1/")
            && !path.starts_with("/api/v1/push")
            && !path.starts_with("/api/v1/admin"))
}

/// The ETag suffix of a compressed copy: each encoding has its own validator.
fn etag_suffix(encoding: Encoding) -> &'static str {
    match encoding {
        Encoding::Brotli => "-br",
        Encoding::Gzip => "-gz",
        Encoding::Identity => "",
    }
}

/// Whether a body of this type is worth compressing.
fn compressible(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            t.starts_with("text/")
                || t.contains("json")
                || t.contains("xml")
                || t.contains("javascript")
        })
}

fn compress(encoding: Encoding, body: &[u8]) -> Option<Bytes> {
    use std::io::Write;
    match encoding {
        Encoding::Identity => None,
        Encoding::Brotli => {
            let mut out = Vec::with_capacity(body.len() / 4);
            // Quality 9: paid once per change, saved on every reader's download.
            let params = brotli::enc::BrotliEncoderParams {
                quality: 9,
                ..Default::default()
            };
            brotli::BrotliCompress(&mut &body[..], &mut out, &params).ok()?;
            Some(Bytes::from(out))
        }
        Encoding::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(
                Vec::with_capacity(body.len() / 3),
                flate2::Compression::best(),
            );
            enc.write_all(body).ok()?;
            enc.finish().ok().map(Bytes::from)
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    uri: String,
    /// The reader's language preference (what the page's language is negotiated from).
    language: String,
    generation: u64,
    slot: u64,
}

/// A rendered response, ready to serve again.
#[derive(Clone, Debug)]
struct Cached {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    etag: HeaderValue,
}

/// One rendering and its compressed copies, made on first demand.
#[derive(Debug)]
struct Entry {
    plain: Cached,
    br: std::sync::OnceLock<Option<Cached>>,
    gz: std::sync::OnceLock<Option<Cached>>,
}

impl Entry {
    fn variant(&self, encoding: Encoding) -> &Cached {
        let slot = match encoding {
            Encoding::Identity => return &self.plain,
            Encoding::Brotli => &self.br,
            Encoding::Gzip => &self.gz,
        };
        let made = slot.get_or_init(|| {
            if !compressible(&self.plain.headers) || self.plain.body.len() < 256 {
                return None;
            }
            let body = compress(encoding, &self.plain.body)?;
            let mut headers = self.plain.headers.clone();
            if let Some(v) = encoding.header() {
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(v));
            }
            headers.remove(header::CONTENT_LENGTH);
            let tag = self
                .plain
                .etag
                .to_str()
                .unwrap_or("\"0\"")
                .trim_end_matches('"');
            let etag = HeaderValue::from_str(&format!("{tag}{}\"", etag_suffix(encoding)))
                .unwrap_or_else(|_| self.plain.etag.clone());
            headers.insert(header::ETAG, etag.clone());
            Some(Cached {
                status: self.plain.status,
                headers,
                body,
                etag,
            })
        });
        made.as_ref().unwrap_or(&self.plain)
    }
}

type Cell = Arc<OnceCell<Entry>>;

/// The cache: entries by key, each filled once.
pub struct PageCache {
    hub: Arc<Hub>,
    started: Instant,
    entries: Mutex<HashMap<Key, Cell>>,
}

impl std::fmt::Debug for PageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageCache")
            .field("generation", &self.hub.generation())
            .finish()
    }
}

impl PageCache {
    pub fn new(hub: Arc<Hub>) -> Arc<Self> {
        Arc::new(PageCache {
            hub,
            started: Instant::now(),
            entries: Mutex::new(HashMap::new()),
        })
    }

    fn cell(&self, key: Key) -> Cell {
        let mut entries = match self.entries.lock() {
            Ok(e) => e,
            Err(poisoned) => poisoned.into_inner(),
        };
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
            // Keep only the current generation and slot; older entries can never be hit.
            entries.retain(|k, _| k.generation == key.generation && k.slot == key.slot);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        Arc::clone(entries.entry(key).or_default())
    }
}

/// Why a response was not kept: it is served as is.
struct NotCached(Response);

async fn render(req: Request, next: Next) -> Result<Cached, NotCached> {
    let response = next.run(req).await;
    let keep = response.status() == StatusCode::OK
        && !response.headers().contains_key(header::SET_COOKIE)
        && !response
            .headers()
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("no-store") || v.contains("private"))
        && !response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
    if !keep {
        return Err(NotCached(response));
    }
    let (parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "page cache: response body could not be read");
            return Err(NotCached(StatusCode::INTERNAL_SERVER_ERROR.into_response()));
        }
    };
    let etag = match parts.headers.get(header::ETAG) {
        Some(e) => e.clone(),
        None => {
            let digest = Sha256::digest(&body);
            let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
            HeaderValue::from_str(&format!("\"{hex}\""))
                .unwrap_or(HeaderValue::from_static("\"0\""))
        }
    };
    let mut headers = parts.headers;
    headers.insert(header::ETAG, etag.clone());
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    Ok(Cached {
        status: parts.status,
        headers,
        body,
        etag,
    })
}

fn matches(if_none_match: Option<&HeaderValue>, etag: &HeaderValue) -> bool {
    let Some(v) = if_none_match.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let tag = etag.to_str().unwrap_or("");
    v.split(',').any(|t| {
        let t = t.trim();
        t == "*" || t.trim_start_matches("W/") == tag.trim_start_matches("W/")
    })
}

/// `If-Modified-Since` counts only without `If-None-Match` (RFC 9110, 13.1.3).
fn not_modified_since(cached: &Cached, conditions: &Conditions) -> bool {
    if conditions.if_none_match.is_some() {
        return false;
    }
    let parse = |v: Option<&HeaderValue>| {
        v.and_then(|v| v.to_str().ok())
            .and_then(|v| chrono::DateTime::parse_from_rfc2822(v).ok())
    };
    match (
        parse(conditions.if_modified_since.as_ref()),
        parse(cached.headers.get(header::LAST_MODIFIED)),
    ) {
        (Some(since), Some(modified)) => modified <= since,
        _ => false,
    }
}

/// The request's validators, kept aside while the inner layers render unconditionally.
struct Conditions {
    if_none_match: Option<HeaderValue>,
    if_modified_since: Option<HeaderValue>,
}

fn serve(cached: &Cached, method: &Method, conditions: &Conditions) -> Response {
    if matches(conditions.if_none_match.as_ref(), &cached.etag)
        || not_modified_since(cached, conditions)
    {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        for name in [
            header::ETAG,
            header::CACHE_CONTROL,
            header::VARY,
            header::CONTENT_LOCATION,
            header::LAST_MODIFIED,
        ] {
            if let Some(v) = cached.headers.get(&name) {
                r.headers_mut().insert(name, v.clone());
            }
        }
        return r;
    }
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(cached.body.clone())
    };
    let mut r = Response::new(body);
    *r.status_mut() = cached.status;
    *r.headers_mut() = cached.headers.clone();
    r
}

/// The middleware: serves cacheable GETs from memory, renders misses once.
pub async fn layer(State(cache): State<Arc<PageCache>>, mut req: Request, next: Next) -> Response {
    let method = req.method().clone();
    if !(method == Method::GET || method == Method::HEAD) || !cacheable(req.uri().path()) {
        return next.run(req).await;
    }
    let headers = req.headers();
    if headers.contains_key(header::AUTHORIZATION) {
        return next.run(req).await;
    }
    let encoding = Encoding::negotiate(headers);
    let conditions = Conditions {
        if_none_match: headers.get(header::IF_NONE_MATCH).cloned(),
        if_modified_since: headers.get(header::IF_MODIFIED_SINCE).cloned(),
    };
    let key = Key {
        uri: req.uri().to_string(),
        language: headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .take(64)
            .collect(),
        generation: cache.hub.generation(),
        slot: cache.started.elapsed().as_secs() / MAX_AGE.as_secs(),
    };
    // The inner layers render the full, uncompressed body once (HEAD included), and never
    // see a conditional request; the compressed copies are made here from that one rendering.
    let h = req.headers_mut();
    h.remove(header::IF_NONE_MATCH);
    h.remove(header::IF_MODIFIED_SINCE);
    h.remove(header::ACCEPT_ENCODING);
    *req.method_mut() = Method::GET;

    let cell = cache.cell(key);
    if let Some(hit) = cell.get() {
        return serve(hit.variant(encoding), &method, &conditions);
    }
    let mut uncached = None;
    let result = cell
        .get_or_try_init(|| async {
            match render(req, next).await {
                Ok(plain) => Ok(Entry {
                    plain,
                    br: std::sync::OnceLock::new(),
                    gz: std::sync::OnceLock::new(),
                }),
                Err(NotCached(r)) => {
                    uncached = Some(r);
                    Err(())
                }
            }
        })
        .await;
    match (result, uncached) {
        (Ok(entry), _) => serve(entry.variant(encoding), &method, &conditions),
        (Err(()), Some(r)) => r,
        // Unreachable in practice: an init that failed always left its response.
        (Err(()), None) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(accept: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(accept).unwrap_or(HeaderValue::from_static("")),
        );
        h
    }

    #[test]
    fn encodings_are_negotiated_with_refusals_honoured() {
        assert_eq!(
            Encoding::negotiate(&headers("gzip, deflate, br")),
            Encoding::Brotli
        );
        assert_eq!(Encoding::negotiate(&headers("gzip")), Encoding::Gzip);
        assert_eq!(
            Encoding::negotiate(&headers("br;q=0, gzip")),
            Encoding::Gzip
        );
        assert_eq!(
            Encoding::negotiate(&headers("identity")),
            Encoding::Identity
        );
        assert_eq!(Encoding::negotiate(&HeaderMap::new()), Encoding::Identity);
    }

    #[test]
    fn private_and_streaming_routes_are_never_cached() {
        assert!(cacheable("/"));
        assert!(cacheable("/api/v2/summary.json"));
        assert!(cacheable("/services/frandroid"));
        assert!(!cacheable("/admin"));
        assert!(!cacheable("/admin/login"));
        assert!(!cacheable("/events"));
        assert!(!cacheable("/api/v1/push/abc"));
        assert!(!cacheable("/healthz"));
        assert!(!cacheable("/readyz"));
    }

    #[test]
    fn if_none_match_accepts_lists_weak_tags_and_star() {
        let tag = HeaderValue::from_static("\"abc\"");
        let v = |s: &'static str| HeaderValue::from_static(s);
        assert!(matches(Some(&v("\"abc\"")), &tag));
        assert!(matches(Some(&v("\"x\", W/\"abc\"")), &tag));
        assert!(matches(Some(&v("*")), &tag));
        assert!(!matches(Some(&v("\"abd\"")), &tag));
        assert!(!matches(None, &tag));
    }
}
