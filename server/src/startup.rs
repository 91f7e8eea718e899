//! Building the application: database preparation, the router with its layers, serving.

use std::net::SocketAddr;

use anyhow::Context;
use app::context::AppContext;
use app::{shell, App};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, Request};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use domain::config::Catalog;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

use crate::state::AppState;

/// Connects, migrates and syncs the catalog: the database is ready to serve `catalog`.
pub async fn prepare_database(catalog: &Catalog, database_url: &str) -> anyhow::Result<store::Db> {
    let db = store::connect(database_url)
        .await
        .context("failed to connect to the database")?;
    store::migrate(&db)
        .await
        .context("failed to apply database migrations")?;
    // Instances started together sync one after the other, each seeing the previous one's rows.
    let lock = store::cluster::startup_lock(&db)
        .await
        .context("failed to take the start-up lock")?;
    let report = store::catalog::sync(&db, catalog, chrono::Utc::now())
        .await
        .context("failed to sync the catalog into the database")?;
    lock.release()
        .await
        .context("failed to release the start-up lock")?;
    tracing::info!(
        database = store::backend_name(&db),
        inserted = report.inserted,
        updated = report.updated,
        archived = report.archived,
        "catalog synced"
    );
    Ok(db)
}

/// `catalog` with its HTTP probes' `${env:…}` / `${file:…}` header values read
/// (`probe::secret::resolve_headers`); an error names every unreadable one.
pub fn with_secrets(catalog: &Catalog) -> anyhow::Result<Catalog> {
    let mut catalog = catalog.clone();
    probe::secret::resolve_headers(&mut catalog).map_err(|problems| {
        anyhow::anyhow!(
            "cannot read the secrets the configuration points at:\n  {}",
            problems.join("\n  ")
        )
    })?;
    Ok(catalog)
}

/// The Leptos options for the embedded site: output `vigie`, assets under `/pkg`.
pub fn leptos_options(listen: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("vigie")
        .site_pkg_dir("pkg")
        .site_root("target/site")
        .site_addr(listen)
        .build()
}

/// The app's routes, generated once per process. While Leptos generates a route list it
/// suppresses resource loading process-wide, and a resource first polled in that window never
/// loads (leptos-rs/leptos#4773): a page rendered meanwhile by another server of the same
/// process (the tests start many) hung forever. Generated once, before any server built from
/// it listens, the window can no longer overlap a rendering.
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let routes = route_list();
    let cache = state.cache.clone();
    let ctx = state.ctx.clone();
    let options = state.leptos_options.clone();
    let pages = Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            move || page_context(&ctx),
            move || shell(options.clone()),
        )
        .layer(axum::middleware::from_fn(crate::vary::accept_language));

    Router::new()
        .merge(crate::health::router())
        .merge(crate::live::router())
        .merge(crate::api::router())
        .merge(crate::admin::router())
        .merge(crate::feeds::router())
        .merge(crate::ical::router())
        .merge(crate::badge::router())
        .merge(crate::subscribe::router())
        .route("/pkg/{*path}", get(crate::assets::serve))
        .merge(pages)
        .merge(crate::metrics::router())
        .route_layer(axum::middleware::from_fn(crate::metrics::mark_route))
        .fallback(not_found)
        .layer(axum::middleware::map_response(scripts_inside_body))
        .layer(axum::middleware::map_response(html_is_revalidated))
        .layer(CompressionLayer::new().br(true).gzip(true))
        .layer(axum::middleware::from_fn_with_state(
            state.auth.clone(),
            crate::headers::secure,
        ))
        .layer(axum::middleware::from_fn_with_state(
            (state.hub.clone(), state.ctx.db.clone()),
            crate::changes::publish_writes,
        ))
        .layer(axum::middleware::from_fn_with_state(
            crate::stale::LastGood::new(
                state.hub.clone(),
                state.ctx.timezone,
                state.ctx.default_locale,
            ),
            crate::stale::layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            cache,
            crate::cache::layer,
        ))
        .layer(axum::middleware::from_fn(
            crate::cache::server_functions_read_only,
        ))
        .layer(axum::middleware::from_fn(crate::auth::path::normalize))
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn(crate::metrics::observe))
        .with_state(state)
}

/// Unknown paths get the app's 404 page (status 404, in the reader's language).
async fn not_found(State(state): State<AppState>, req: Request<Body>) -> Response {
    let ctx = state.ctx.clone();
    let options = state.leptos_options.clone();
    let handler = leptos_axum::render_app_to_stream_with_context(
        move || page_context(&ctx),
        move || shell(options.clone()),
    );
    let uri = req.uri().clone();
    let mut response = handler(req).await.into_response();
    crate::vary::mark(&uri, &mut response);
    response
}

/// What every Leptos render gets: the app context, and the page's Content-Security-Policy
/// naming the nonce leptos_axum gave this request's inline hydration scripts.
fn page_context(ctx: &AppContext) {
    provide_context(ctx.clone());
    if let (Some(nonce), Some(res)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) {
        if let Some(policy) = crate::headers::page_csp(&nonce) {
            res.insert_header(header::CONTENT_SECURITY_POLICY, policy);
        }
    }
}

/// HTML is always revalidated: it carries the live state.
async fn html_is_revalidated(mut response: Response) -> Response {
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    response
}

/// Leptos writes the scripts that carry a page's data after the shell's `</html>`. Browsers
/// move them into the body, but HTML5 calls it a parse error; they are moved here to just
/// before `</body>`, where they belong. (Leptos has no option for it; a page is rendered once
/// per change, so reading it whole here costs nothing that counts.) A public page is then
/// finished ([`crate::page_html`]): its inline scripts are allowed by hash instead of by
/// this render's nonce, and its markup is made valid HTML.
async fn scripts_inside_body(response: Response) -> Response {
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !is_html {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let html = match axum::body::to_bytes(body, 64 * 1024 * 1024).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "page body could not be read");
            return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let moved = tail_inside_body(&html);
    let html: &[u8] = moved.as_deref().unwrap_or(&html);
    let nonce = parts
        .headers
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::headers::nonce_of);
    let f = crate::page_html::finish(html, nonce.as_deref());
    let finished = match nonce {
        Some(_) => match crate::headers::page_csp_hashed(&f.script_hashes) {
            Some(policy) => {
                parts
                    .headers
                    .insert(header::CONTENT_SECURITY_POLICY, policy);
                f.html
            }
            // Not expected (hashes are base64); the nonce-bearing page stays as rendered.
            None => html.to_vec(),
        },
        None => f.html,
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(finished))
}

/// `html` with what follows its last `</body></html>` moved before it; None when nothing
/// follows. The last one is the shell's: the scripts after it carry their data escaped.
fn tail_inside_body(html: &[u8]) -> Option<Vec<u8>> {
    const END: &[u8] = b"</body></html>";
    let at = html.windows(END.len()).rposition(|w| w == END)?;
    let tail = &html[at + END.len()..];
    if tail.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    Some([&html[..at], tail, END].concat())
}

/// The state of an application serving `catalog` from `db` (listening on `addr`).
pub fn app_state(
    catalog: &Catalog,
    db: store::Db,
    hub: std::sync::Arc<crate::changes::Hub>,
    addr: SocketAddr,
    notify: std::sync::Arc<notify::Notifier>,
) -> AppState {
    let probe_headers = domain::topology::monitors(catalog)
        .filter_map(|(key, m)| {
            let headers = &m.spec.http()?.headers;
            (!headers.is_empty()).then(|| (key.to_string(), headers.clone()))
        })
        .collect();
    AppState {
        probe_headers: std::sync::Arc::new(probe_headers),
        instance_key: None,
        catalog: std::sync::Arc::new(catalog.clone()),
        shutdown: CancellationToken::new(),
        cache: crate::cache::PageCache::new(
            hub.clone(),
            catalog.site.default_locale,
            catalog.server.cache_bytes,
        ),
        hub: hub.clone(),
        leptos_options: leptos_options(addr),
        auth: crate::auth::AuthState {
            default_locale: catalog.site.default_locale,
            ..crate::auth::AuthState::new(
                &catalog.site.base_url,
                std::env::var("VIGIE_TRUSTED_PROXIES").ok().as_deref(),
            )
        },
        ctx: AppContext {
            db,
            site_title: catalog.site.title.clone(),
            default_locale: catalog.site.default_locale,
            timezone: catalog.site.timezone,
            base_url: catalog.site.base_url.trim_end_matches('/').to_owned(),
            email_subscriptions: notify.email_enabled(),
        },
        notify,
    }
}

/// A running server: its address, its database and the task serving it.
pub struct Running {
    pub addr: SocketAddr,
    /// The change hub: `hub.check(&db)` publishes a write made outside this process at once.
    pub hub: std::sync::Arc<crate::changes::Hub>,
    pub db: store::Db,
    /// The public response cache (tests read its size).
    pub cache: std::sync::Arc<crate::cache::PageCache>,
    /// Cancel it to shut the server down as SIGTERM does.
    pub shutdown: CancellationToken,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// How long a shutdown may take in all: systemd's default stop timeout is far longer, but a
/// restart should be quick, and a client that keeps a connection open must not hold it up.
pub const SHUTDOWN_WITHIN: Duration = Duration::from_secs(5);

/// Prepares the database and starts serving on `listen` (port 0 picks a free port), probing
/// from the source address `VIGIE_PROBE_SOURCE` names.
pub async fn spawn(
    catalog: &Catalog,
    database_url: &str,
    listen: SocketAddr,
) -> anyhow::Result<Running> {
    let source = crate::probing::source_from_env()?;
    spawn_probing_from(catalog, database_url, listen, source).await
}

/// As [`spawn`], the probe engine's sockets bound to `source` (`vigie demo` runs its first
/// location this way).
pub async fn spawn_probing_from(
    catalog: &Catalog,
    database_url: &str,
    listen: SocketAddr,
    source: Option<std::net::IpAddr>,
) -> anyhow::Result<Running> {
    spawn_with(catalog, database_url, listen, Some(source)).await
}

/// As [`spawn`], without the probe engine (a page-only instance): what `VIGIE_PROBES=off` does
/// for `vigie serve`, but for this server alone, so that tests sharing a process can run some
/// servers with probes and some without.
pub async fn spawn_without_probes(
    catalog: &Catalog,
    database_url: &str,
    listen: SocketAddr,
) -> anyhow::Result<Running> {
    spawn_with(catalog, database_url, listen, None).await
}

/// `probing`: `None`, no probe engine; `Some(source)`, the engine with its sockets bound to
/// `source` (unless `VIGIE_PROBES=off`).
async fn spawn_with(
    catalog: &Catalog,
    database_url: &str,
    listen: SocketAddr,
    probing: Option<Option<std::net::IpAddr>>,
) -> anyhow::Result<Running> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("failed to listen on {listen}"))?;
    spawn_on(catalog, database_url, listener, probing).await
}

/// As [`spawn_with`], serving on a socket already bound (the demo binds first, to build its
/// links from the address it got).
pub async fn spawn_on(
    catalog: &Catalog,
    database_url: &str,
    listener: tokio::net::TcpListener,
    probing: Option<Option<std::net::IpAddr>>,
) -> anyhow::Result<Running> {
    // Header credentials are read before anything is written, and kept in memory only.
    let catalog = &with_secrets(catalog)?;
    let instance_key = crate::instance_key::load(&catalog.server, database_url)?;
    let db = prepare_database(catalog, database_url).await?;
    crate::instance_key::prepare(instance_key.as_deref(), &db).await?;
    let addr = listener
        .local_addr()
        .context("failed to read the listening address")?;
    let hub = crate::changes::Hub::new();
    // The baseline is taken before the first request, so no early page outlives a write.
    hub.check(&db).await;
    hub.watch(db.clone());
    let notify = std::sync::Arc::new(notify::Notifier::new(db.clone(), catalog).await?);
    notify.spawn(hub.subscribe());
    let state = AppState {
        instance_key,
        ..app_state(catalog, db, hub.clone(), addr, notify)
    };
    let shutdown = state.shutdown.clone();
    // The metrics recorder exists before the first request is counted. Its histograms keep
    // every sample until an upkeep folds them into buckets, which a scrape does; without a
    // scraper that was 8 bytes held per request forever, so the process folds them itself.
    let metrics = crate::metrics::handle();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(5));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            metrics.run_upkeep();
        }
    });
    tokio::spawn(crate::assets::warm());
    tokio::spawn(crate::cluster::run_clock(
        state.ctx.db.clone(),
        crate::cluster::Duties {
            draft_after: catalog.draft_after,
            raw_days: catalog.retention.raw_days,
            every: crate::admin::maintenance::CLOCK_EVERY,
        },
    ));
    let (app, engine) = match probing {
        Some(source) => {
            crate::probing::attach(
                router(state.clone()),
                catalog,
                state.ctx.db.clone(),
                source,
                (
                    &hub,
                    crate::probing::PushGuard::new(state.auth.trusted_proxies.clone()),
                ),
            )
            .await?
        }
        None => (router(state.clone()), None),
    };
    let stop = shutdown.clone();
    tokio::spawn(async move {
        tokio::select! {
            () = shutdown_signal() => stop.cancel(),
            () = stop.cancelled() => {}
        }
    });
    let limits = crate::limits::Limits::from_env()?;
    let proxies = state.auth.trusted_proxies.clone();
    let task = tokio::spawn(serve_until_shutdown(
        listener,
        app,
        state.cache.clone(),
        (limits, proxies),
        shutdown.clone(),
        engine,
    ));
    Ok(Running {
        addr,
        shutdown,
        cache: state.cache.clone(),
        hub,
        db: state.ctx.db.clone(),
        task,
    })
}

/// Serves until `shutdown` is cancelled, then shuts down cleanly within [`SHUTDOWN_WITHIN`]:
/// no new connection is accepted, `/events` streams end (they watch the same token),
/// requests under way finish, and the probe engine writes the results it holds. A
/// connection still open after 4 s is left behind (the process exits).
async fn serve_until_shutdown(
    listener: tokio::net::TcpListener,
    app: Router,
    cache: std::sync::Arc<crate::cache::PageCache>,
    (limits, trusted_proxies): (crate::limits::Limits, std::sync::Arc<Vec<std::net::IpAddr>>),
    shutdown: CancellationToken,
    engine: Option<std::sync::Arc<probe::engine::Engine>>,
) -> std::io::Result<()> {
    const REQUESTS_WITHIN: Duration = Duration::from_secs(4);
    // Timeouts and connection ceilings: crate::limits.
    // A fresh cache hit is answered before routing (crate::cache::PageCache::fresh_hit),
    // counted and logged as the router's outermost layer would.
    let front: crate::limits::Front = std::sync::Arc::new(move |req| {
        let started = std::time::Instant::now();
        let res = cache.fresh_hit(req.method(), req.uri(), req.headers())?;
        crate::metrics::record(crate::metrics::method_label(req.method()), &res, started);
        Some(res)
    });
    let server = crate::limits::serve(
        listener,
        app,
        Some(front),
        limits,
        trusted_proxies,
        shutdown.clone().cancelled_owned(),
    );
    let result = tokio::select! {
        r = server => r,
        () = async {
            shutdown.cancelled().await;
            tokio::time::sleep(REQUESTS_WITHIN).await;
        } => {
            tracing::warn!("connections still open {REQUESTS_WITHIN:?} after shutdown began: leaving them");
            Ok(())
        }
    };
    if let Some(engine) = engine {
        engine.stop(SHUTDOWN_WITHIN - REQUESTS_WITHIN).await;
    }
    tracing::info!("stopped");
    result
}

/// `vigie serve`: runs until Ctrl-C or SIGTERM.
pub async fn serve(catalog: Catalog, database_url: &str, listen: SocketAddr) -> anyhow::Result<()> {
    let running = spawn(&catalog, database_url, listen).await?;
    println!(
        "Vigie is serving {} on http://{}/",
        catalog.site.title, running.addr
    );
    running
        .task
        .await
        .context("server task failed")?
        .context("server stopped with an error")?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::tail_inside_body;

    #[test]
    fn scripts_after_the_document_move_into_the_body() {
        let page = b"<p title=\"</body></html>\">x</p></body></html><script>a=1</script>";
        assert_eq!(
            tail_inside_body(page).as_deref(),
            Some(&b"<p title=\"</body></html>\">x</p><script>a=1</script></body></html>"[..])
        );
        assert_eq!(tail_inside_body(b"<p>x</p></body></html>\n"), None);
        assert_eq!(tail_inside_body(b"no document"), None);
    }
}
