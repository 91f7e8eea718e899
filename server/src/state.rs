//! The state every request handler may read, and how handlers take only the part they need
//! (`State<LeptosOptions>`, `State<AuthState>`, `State<store::Db>`, …).
//!
//! It sits below the handlers: it names the types of the parts (the app context, the auth
//! settings, the change hub, the page cache) and nothing else, so handlers import it without importing the
//! router, and the modules that define those parts never import it back.

use app::context::AppContext;
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use crate::auth::AuthState;
use crate::changes::Hub;

/// Everything a request handler may need.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub ctx: AppContext,
    pub auth: AuthState,
    /// Change generations and the broadcast that `/events` streams.
    pub hub: std::sync::Arc<Hub>,
    /// The public response cache (bounded in bytes).
    pub cache: std::sync::Arc<crate::cache::PageCache>,
    /// Subscriptions and the outbox sender.
    pub notify: std::sync::Arc<notify::Notifier>,
    /// Cancelled when the server shuts down: long-lived responses (`/events`) end on it.
    pub shutdown: tokio_util::sync::CancellationToken,
    /// The HTTP probes' header values by monitor key, as read at start (`${env:…}` /
    /// `${file:…}` resolved): the database keeps only their names, and remote agents get them
    /// from here with their configuration.
    pub probe_headers: std::sync::Arc<ProbeHeaders>,
    /// The key sealing TOTP secrets (`crate::instance_key`); `None` on a PostgreSQL instance
    /// without one configured, where no second factor can be turned on.
    pub instance_key: Option<std::sync::Arc<store::instance_key::InstanceKey>>,
    /// The catalog as read at start: late agent results are replayed through its topology.
    pub catalog: std::sync::Arc<domain::config::Catalog>,
}

/// Monitor key → header name → value.
pub type ProbeHeaders =
    std::collections::HashMap<String, std::collections::BTreeMap<String, String>>;

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for AuthState {
    fn from_ref(state: &AppState) -> Self {
        state.auth.clone()
    }
}

impl FromRef<AppState> for AppContext {
    fn from_ref(state: &AppState) -> Self {
        state.ctx.clone()
    }
}

impl FromRef<AppState> for store::Db {
    fn from_ref(state: &AppState) -> Self {
        state.ctx.db.clone()
    }
}

impl FromRef<AppState> for std::sync::Arc<Hub> {
    fn from_ref(state: &AppState) -> Self {
        state.hub.clone()
    }
}
