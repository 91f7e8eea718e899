//! The public response cache: pages, feeds and read APIs are rendered once per change and then
//! served from memory, already compressed, with a strong ETag and 304 on revalidation.
//!
//! An entry belongs to a *generation* of the change hub (crate::changes) and serves for
//! [`MAX_AGE`] at most after its rendering began: any change to the data starts a new
//! generation, so a reader never gets a page older than the last change; the age bounds how
//! old the page's own clock ("data as of …", staleness banners) can be. Concurrent misses for
//! the same key wait for one render (single flight), so a change under load costs one render,
//! not hundreds. An entry read in its last [`REFRESH_AHEAD`] is rendered again in the
//! background while it keeps serving, so under steady traffic no reader ever waits for the
//! clock's re-render (before, every reader arriving during it did, which was the bench's p99).
//!
//! Memory is bounded whatever the clients send:
//! - the cache weighs its entries in bytes (every compressed copy counted) and evicts the least
//!   recently used past a ceiling (`[server] cache_mb`, 64 MB by default);
//! - an entry is keyed on what its route reads: the path, the negotiated locale and the query
//!   parameters that route knows ([`query::params_read`]). Every other query parameter is removed
//!   before the route sees the request, so `/?b=1`, `/?b=2`… are all the `/` entry, and a
//!   thousand `Accept-Language` variants are at most one entry per language.
//!
//! The brotli and gzip copies are made once per rendering, on tokio's blocking pool, so a
//! large page compressing never holds up the async workers that serve everyone else.
//!
//! Storage is moka (weighed, least-recently-used); the single flight and the invalidation by
//! generation are ours, since the entry is made by an axum middleware's inner service.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domain::locale::Locale;
use tokio::sync::OnceCell;

use crate::assets::Encoding;
use crate::changes::Hub;

mod entry;
pub mod query;

use entry::{serve, Cached, Entry};
use query::{normalise_query, params_read, Normalised};

/// How long an entry may serve without a change, at most.
pub const MAX_AGE: Duration = Duration::from_secs(10);
/// An entry hit this close to [`MAX_AGE`] is rendered again in the background. Rendering and
/// compressing the overview of 100 services takes well under a second in a release build.
pub const REFRESH_AHEAD: Duration = Duration::from_secs(3);
/// The default byte ceiling of the cache (`[server] cache_mb`).
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// The largest body the cache reads into memory. The overview of a large catalog with its
/// 90-day bars runs to megabytes uncompressed (100 services: over 4 MB), so the bound is
/// generous; a body past it is a server error, never a truncated page.
const MAX_BODY: usize = 64 * 1024 * 1024;
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    /// Path and normalised query: what the route saw.
    target: String,
    /// The negotiated language (from `lang`, `Accept-Language`, the site's default).
    locale: Locale,
    generation: u64,
}

type Cell = Arc<OnceCell<Arc<Entry>>>;

/// Hits and misses since start (for `/metrics`).
#[derive(Debug, Default)]
pub struct Counters {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
}

/// The cache: finished entries weighed in bytes, and the renderings under way.
pub struct PageCache {
    hub: Arc<Hub>,
    default_locale: Locale,
    /// [`MAX_AGE`] and [`REFRESH_AHEAD`] (shorter in tests).
    max_age: Duration,
    refresh_ahead: Duration,
    entries: moka::sync::Cache<Key, Arc<Entry>>,
    /// One cell per key being rendered (single flight); removed when the rendering ends, so
    /// it holds at most one key per request in flight.
    rendering: Mutex<HashMap<Key, Cell>>,
    pub counters: Counters,
}

impl std::fmt::Debug for PageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageCache")
            .field("generation", &self.hub.generation())
            .field("bytes", &self.entries.weighted_size())
            .finish()
    }
}

impl PageCache {
    /// A cache holding at most `max_bytes` of responses; `default_locale` is the site's.
    pub fn new(hub: Arc<Hub>, default_locale: Locale, max_bytes: u64) -> Arc<Self> {
        Self::with_ages(hub, default_locale, max_bytes, MAX_AGE, REFRESH_AHEAD)
    }

    fn with_ages(
        hub: Arc<Hub>,
        default_locale: Locale,
        max_bytes: u64,
        max_age: Duration,
        refresh_ahead: Duration,
    ) -> Arc<Self> {
        let entries = moka::sync::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|_: &Key, e: &Arc<Entry>| e.weight())
            .eviction_policy(moka::policy::EvictionPolicy::lru())
            // Past its age an entry can never be hit again: let it go.
            .time_to_live(max_age * 2)
            .build();
        Arc::new(PageCache {
            hub,
            default_locale,
            max_age,
            refresh_ahead,
            entries,
            rendering: Mutex::new(HashMap::new()),
            counters: Counters::default(),
        })
    }

    /// Entries held and their weight in bytes, after pending evictions are applied.
    pub fn usage(&self) -> (u64, u64) {
        self.entries.run_pending_tasks();
        (self.entries.entry_count(), self.entries.weighted_size())
    }

    fn cell(&self, key: &Key) -> Cell {
        let mut rendering = self.rendering.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(rendering.entry(key.clone()).or_default())
    }

    /// Renders `req` and keeps the result under `key` (the rendering of a miss, or the
    /// background refresh of an entry near its end); a response that may not be kept is
    /// handed back.
    async fn fill(
        &self,
        key: Key,
        req: Request,
        next: Next,
        previous: Option<Arc<Entry>>,
    ) -> Result<Arc<Entry>, NotCached> {
        let rendered = Instant::now();
        let plain = render(req, next).await?;
        let make = move || Entry::make(plain, rendered, previous.as_deref());
        match tokio::task::spawn_blocking(make).await {
            Ok(entry) => {
                let entry = Arc::new(entry);
                self.entries.insert(key, Arc::clone(&entry));
                Ok(entry)
            }
            Err(e) => {
                tracing::warn!(error = %e, "page cache: compression failed");
                Err(NotCached(StatusCode::SERVICE_UNAVAILABLE.into_response()))
            }
        }
    }
}

/// Removes a key's rendering cell when the request that fetched it ends (rendered, failed or
/// cancelled), unless a newer cell replaced it.
struct Rendering<'a> {
    cache: &'a PageCache,
    key: &'a Key,
    cell: Cell,
}

impl Drop for Rendering<'_> {
    fn drop(&mut self) {
        let mut rendering = self
            .cache
            .rendering
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if rendering
            .get(self.key)
            .is_some_and(|c| Arc::ptr_eq(c, &self.cell))
        {
            rendering.remove(self.key);
        }
    }
}

/// Why a response was not kept: it is served as is.
struct NotCached(Response);

async fn render(req: Request, next: Next) -> Result<Cached, NotCached> {
    let response = next.run(req).await;
    let keep = response.status() == StatusCode::OK
        && !response.headers().contains_key(header::SET_COOKIE)
        // A last good copy standing in for a failed rendering is served once, never kept: the
        // next request renders again instead of getting the old copy for a whole generation.
        && !response
            .headers()
            .contains_key(crate::conditional::DATA_AS_OF)
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
        None => crate::conditional::etag(&body),
    };
    let mut headers = parts.headers;
    headers.insert(header::ETAG, etag.clone());
    // Appended: a page whose language was negotiated already varies on Accept-Language.
    headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    Ok(Cached {
        status: parts.status,
        extensions: parts.extensions,
        headers,
        body,
        etag,
    })
}

/// The request's validators, kept aside while the inner layers render unconditionally.
struct Conditions(HeaderMap);

impl Conditions {
    fn of(request: &HeaderMap) -> Self {
        let mut kept = HeaderMap::new();
        for name in [header::IF_NONE_MATCH, header::IF_MODIFIED_SINCE] {
            if let Some(v) = request.get(&name) {
                kept.insert(name, v.clone());
            }
        }
        Conditions(kept)
    }
}

/// Refuses anything but GET on the Leptos server functions. The page's islands call only the
/// GET ones (cached); the others serve server-side rendering, which calls them in process,
/// so a POST from outside could only be a way to make the database work without the cache.
pub async fn server_functions_read_only(req: Request, next: Next) -> Response {
    let read = matches!(*req.method(), Method::GET | Method::HEAD);
    if !read && req.uri().path().starts_with("/_fn/") {
        let mut r = (
            StatusCode::METHOD_NOT_ALLOWED,
            "Vigie's page data is read with GET.\n",
        )
            .into_response();
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let is_fn = req.uri().path().starts_with("/_fn/");
    let res = next.run(req).await;
    // The method router answers a GET on a POST-only function with an empty 405: say why.
    if is_fn
        && res.status() == StatusCode::METHOD_NOT_ALLOWED
        && axum::body::HttpBody::size_hint(res.body()).exact() == Some(0)
    {
        let (mut parts, _) = res.into_parts();
        parts.headers.remove(header::CONTENT_LENGTH);
        parts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        return Response::from_parts(
            parts,
            Body::from("This page data is only read by Vigie's own pages.\n"),
        );
    }
    res
}

impl PageCache {
    /// A fresh hit for this request, answered before routing (crate::limits calls it first
    /// for every request): the very response [`layer`] would give, without the router and the
    /// layers around it. `None` for anything else (not a cacheable read, a path not in
    /// canonical form, a miss, an entry due for its background rendering): the request then
    /// takes the whole way, where [`layer`] decides as before.
    ///
    /// On a busy day nearly every request is such a hit; answering it here, without the
    /// middleware stack, is what lets Vigie serve its page about as fast as nginx serves a file.
    pub fn fresh_hit(&self, method: &Method, uri: &Uri, headers: &HeaderMap) -> Option<Response> {
        let path = uri.path();
        if crate::auth::path::canonical(path).as_deref() != Some(path) {
            return None;
        }
        let key = self.key(method, uri, headers)?;
        let hit = self.entries.get(&key)?;
        if hit.rendered.elapsed() >= self.max_age.saturating_sub(self.refresh_ahead) {
            return None;
        }
        self.counters.hits.fetch_add(1, Ordering::Relaxed);
        Some(serve(
            hit.variant(Encoding::negotiate(headers)),
            method,
            headers,
        ))
    }

    /// The entry a request reads, or `None` for a request the cache leaves to the route: not a
    /// GET or HEAD, a path it does not keep, credentials, or (on a strict route) parameters
    /// the route does not know, which it answers 400 and which is not kept.
    fn key(&self, method: &Method, uri: &Uri, headers: &HeaderMap) -> Option<Key> {
        if method != Method::GET && method != Method::HEAD {
            return None;
        }
        let path = uri.path();
        let params = params_read(path)?;
        if headers.contains_key(header::AUTHORIZATION) {
            return None;
        }
        let Normalised {
            query,
            lang,
            dropped,
        } = normalise_query(uri.query(), params.names);
        if dropped && params.strict {
            return None;
        }
        let locale = Locale::negotiate(
            lang.map(Locale::code),
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
            self.default_locale,
        );
        let target = if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        };
        Some(Key {
            target,
            locale,
            generation: self.hub.generation(),
        })
    }
}

/// The middleware: serves cacheable GETs from memory, renders misses once.
pub async fn layer(State(cache): State<Arc<PageCache>>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let Some(key) = cache.key(&method, req.uri(), req.headers()) else {
        return next.run(req).await;
    };
    let encoding = Encoding::negotiate(req.headers());

    if let Some(hit) = cache.entries.get(&key) {
        let age = hit.rendered.elapsed();
        if age < cache.max_age {
            cache.counters.hits.fetch_add(1, Ordering::Relaxed);
            let response = serve(hit.variant(encoding), &method, req.headers());
            // Near its end, one request (the first to see it) starts the next rendering,
            // and is served this one meanwhile, as everyone else is.
            if age >= cache.max_age.saturating_sub(cache.refresh_ahead)
                && !hit.refreshing.swap(true, Ordering::AcqRel)
            {
                if let Ok(uri) = key.target.parse::<Uri>() {
                    let req = for_rendering(req, uri, &key);
                    cache.counters.misses.fetch_add(1, Ordering::Relaxed);
                    let cache = Arc::clone(&cache);
                    tokio::spawn(async move {
                        // A response that may not be kept (the route failed): the entry
                        // serves until its end, then a reader renders again.
                        let _ = cache.fill(key, req, next, Some(hit)).await;
                    });
                }
            }
            return response;
        }
    }
    let conditions = Conditions::of(req.headers());
    let req = match key.target.parse::<Uri>() {
        Ok(uri) => for_rendering(req, uri, &key),
        Err(_) => return next.run(req).await,
    };
    cache.counters.misses.fetch_add(1, Ordering::Relaxed);
    let cell = cache.cell(&key);
    let _rendering = Rendering {
        cache: &cache,
        key: &key,
        cell: Arc::clone(&cell),
    };
    let mut job = Some((req, next));
    let mut uncached = None;
    let result = cell
        .get_or_try_init(|| async {
            let Some((req, next)) = job.take() else {
                return Err(());
            };
            cache
                .fill(key.clone(), req, next, None)
                .await
                .map_err(|NotCached(r)| {
                    uncached = Some(r);
                })
        })
        .await;
    match (result, uncached) {
        (Ok(entry), _) => serve(entry.variant(encoding), &method, &conditions.0),
        (Err(()), Some(r)) => r,
        // The rendering was lost (a panic in compression): a retry will render again.
        (Err(()), None) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// The request the inner layers render for `key`: exactly what the key holds (`uri`, its
/// target parsed; the negotiated language), unconditional, uncompressed, and a GET even for a
/// HEAD, so that one full rendering serves every variant.
fn for_rendering(mut req: Request, uri: Uri, key: &Key) -> Request {
    *req.uri_mut() = uri;
    let h = req.headers_mut();
    h.remove(header::IF_NONE_MATCH);
    h.remove(header::IF_MODIFIED_SINCE);
    h.remove(header::ACCEPT_ENCODING);
    h.insert(
        header::ACCEPT_LANGUAGE,
        HeaderValue::from_static(key.locale.code()),
    );
    *req.method_mut() = Method::GET;
    req
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

    /// A router with the cache in front of two counting routes.
    fn app(cache: &Arc<PageCache>, renders: &Arc<AtomicU64>) -> axum::Router {
        use axum::routing::get;
        let home = Arc::clone(renders);
        let services = Arc::clone(renders);
        axum::Router::new()
            .route(
                "/",
                get(move || async move {
                    home.fetch_add(1, Ordering::Relaxed);
                    (
                        [(header::CONTENT_TYPE, "text/html")],
                        "<p>home</p>".repeat(100),
                    )
                }),
            )
            .route(
                "/services/{n}",
                get(
                    move |axum::extract::Path(n): axum::extract::Path<u64>| async move {
                        services.fetch_add(1, Ordering::Relaxed);
                        // 32 KiB that compress badly, so every copy weighs about as much.
                        let mut rng = fastrand::Rng::with_seed(n);
                        let body: String = (0..32 * 1024).map(|_| rng.alphanumeric()).collect();
                        ([(header::CONTENT_TYPE, "text/html")], body)
                    },
                ),
            )
            .layer(axum::middleware::from_fn_with_state(
                Arc::clone(cache),
                layer,
            ))
    }

    async fn get(app: &axum::Router, uri: &str, language: &str) -> Response {
        use tower::ServiceExt;
        let req = Request::builder()
            .uri(uri)
            .header(header::ACCEPT_ENCODING, "gzip, br")
            .header(header::ACCEPT_LANGUAGE, language)
            .body(Body::empty())
            .expect("request");
        app.clone().oneshot(req).await.expect("response")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_thousand_unknown_queries_and_languages_make_no_new_entry() {
        let cache = PageCache::new(Hub::new(), Locale::Fr, DEFAULT_MAX_BYTES);
        let renders = Arc::new(AtomicU64::new(0));
        let app = app(&cache, &renders);
        let first = get(&app, "/", "fr").await;
        assert_eq!(first.status(), StatusCode::OK);
        let tag = first.headers()[header::ETAG].clone();
        assert_eq!(cache.usage().0, 1);
        for n in 0..1000 {
            let res = get(&app, &format!("/?b={n}&utm_source={n}"), &format!("fr-{n}")).await;
            assert_eq!(res.status(), StatusCode::OK);
            assert_eq!(
                res.headers()[header::ETAG],
                tag,
                "request {n} got another rendering"
            );
        }
        assert_eq!(cache.usage().0, 1, "unknown parameters created entries");
        assert_eq!(
            renders.load(Ordering::Relaxed),
            1,
            "the page was rendered again"
        );
        // The other language is one more entry, whatever the spelling of the header.
        for n in 0..100 {
            get(&app, "/", &format!("en-{n},en;q=0.9")).await;
        }
        assert_eq!(cache.usage().0, 2);
        assert_eq!(cache.counters.misses.load(Ordering::Relaxed), 2);
    }

    /// An entry read near its end is rendered again in the background: the reader gets the
    /// current entry at once, the next rendering replaces it, and a rendering with the same
    /// bytes keeps the same validators.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_entry_near_its_end_is_refreshed_without_a_reader_waiting() {
        let max_age = Duration::from_millis(1500);
        let cache = PageCache::with_ages(
            Hub::new(),
            Locale::Fr,
            DEFAULT_MAX_BYTES,
            max_age,
            Duration::from_millis(600),
        );
        let renders = Arc::new(AtomicU64::new(0));
        let app = app(&cache, &renders);
        let t0 = tokio::time::Instant::now();
        let first = get(&app, "/", "fr").await;
        let tag = first.headers()[header::ETAG].clone();
        assert_eq!(renders.load(Ordering::Relaxed), 1);
        // Before the refresh window: served from memory, nothing rendered.
        get(&app, "/", "fr").await;
        assert_eq!(renders.load(Ordering::Relaxed), 1);
        tokio::time::sleep_until(t0 + Duration::from_millis(1000)).await;
        // In the window: this reader is served the entry and starts the next rendering.
        let near_end = get(&app, "/", "fr").await;
        assert_eq!(near_end.headers()[header::ETAG], tag);
        let started = Instant::now();
        while renders.load(Ordering::Relaxed) < 2 {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "no background rendering"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Once it is in, the entry serves past the first one's end (1.5 s) without another
        // render (its own window opens at about 1.9 s).
        tokio::time::sleep_until(t0 + Duration::from_millis(1650)).await;
        let later = get(&app, "/", "fr").await;
        assert_eq!(later.status(), StatusCode::OK);
        assert_eq!(later.headers()[header::ETAG], tag, "same bytes, same tag");
        assert_eq!(renders.load(Ordering::Relaxed), 2, "one refresh, no miss");
        assert_eq!(cache.counters.hits.load(Ordering::Relaxed), 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_byte_ceiling_holds_under_many_distinct_pages() {
        const CEILING: u64 = 512 * 1024;
        let cache = PageCache::new(Hub::new(), Locale::Fr, CEILING);
        let renders = Arc::new(AtomicU64::new(0));
        let app = app(&cache, &renders);
        for n in 0..200 {
            let res = get(&app, &format!("/services/{n}"), "fr").await;
            assert_eq!(res.status(), StatusCode::OK);
            let body = axum::body::to_bytes(res.into_body(), usize::MAX)
                .await
                .expect("body");
            assert!(!body.is_empty());
        }
        let (entries, bytes) = cache.usage();
        // 200 pages of 32 KiB, each held plain, brotli and gzip: over 12 MB unbounded.
        assert!(bytes <= CEILING, "{bytes} bytes held, ceiling {CEILING}");
        assert!(entries >= 1, "the cache still keeps what fits");
        assert!(entries < 200);
    }
}
