//! Building the application: database preparation, the router with its layers, serving.

use std::net::SocketAddr;

use anyhow::Context;
use app::context::AppContext;
use app::{shell, App};
use axum::body::Body;
use axum::extract::{FromRef, State};
use axum::http::{header, HeaderValue, Request};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use domain::config::Catalog;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// Everything a request handler may need.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub ctx: AppContext,
    pub auth: crate::auth::AuthState,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// Connects, migrates and syncs the catalog: the database is ready to serve `catalog`.
pub async fn prepare_database(catalog: &Catalog, database_url: &str) -> anyhow::Result<store::Db> {
    let db = store::connect(database_url)
        .await
        .context("failed to connect to the database")?;
    store::migrate(&db)
        .await
        .context("failed to apply database migrations")?;
    let report = store::catalog::sync(&db, catalog, chrono::Utc::now())
        .await
        .context("failed to sync the catalog into the database")?;
    tracing::info!(
        database = store::backend_name(&db),
        inserted = report.inserted,
        updated = report.updated,
        archived = report.archived,
        "catalog synced"
    );
    Ok(db)
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

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let ctx = state.ctx.clone();
    let options = state.leptos_options.clone();
    let pages = Router::new().leptos_routes_with_context(
        &state,
        routes,
        move || provide_context(ctx.clone()),
        move || shell(options.clone()),
    );

    Router::new()
        .merge(crate::health::router())
        .merge(crate::live::router())
        .merge(crate::api::router())
        .merge(crate::admin::router())
        .route("/pkg/{*path}", get(crate::assets::serve))
        .merge(pages)
        .fallback(not_found)
        .layer(axum::middleware::map_response(html_is_revalidated))
        .layer(CompressionLayer::new().br(true).gzip(true))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .layer(axum::middleware::from_fn(crate::auth::path::normalize))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Unknown paths get the app's 404 page (status 404, in the reader's language).
async fn not_found(State(state): State<AppState>, req: Request<Body>) -> Response {
    let ctx = state.ctx.clone();
    let options = state.leptos_options.clone();
    let handler = leptos_axum::render_app_to_stream_with_context(
        move || provide_context(ctx.clone()),
        move || shell(options.clone()),
    );
    handler(req).await.into_response()
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

/// A running server: its address and the task serving it.
pub struct Running {
    pub addr: SocketAddr,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Prepares the database and starts serving on `listen` (port 0 picks a free port).
pub async fn spawn(
    catalog: &Catalog,
    database_url: &str,
    listen: SocketAddr,
) -> anyhow::Result<Running> {
    let db = prepare_database(catalog, database_url).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("failed to listen on {listen}"))?;
    let addr = listener
        .local_addr()
        .context("failed to read the listening address")?;
    let state = AppState {
        leptos_options: leptos_options(addr),
        auth: crate::auth::AuthState::new(
            &catalog.site.base_url,
            std::env::var("VIGIE_TRUSTED_PROXIES").ok().as_deref(),
        ),
        ctx: AppContext {
            db,
            site_title: catalog.site.title.clone(),
            default_locale: catalog.site.default_locale,
            timezone: catalog.site.timezone,
            base_url: catalog.site.base_url.trim_end_matches('/').to_owned(),
        },
    };
    tokio::spawn(crate::assets::warm());
    let app = crate::probe::attach(router(state.clone()), catalog, state.ctx.db.clone()).await?;
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await
    });
    Ok(Running { addr, task })
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
