//! `/healthz` (the process answers) and `/readyz` (the database answers). Both are public, so
//! they say no more than up or down and since when: no version, no database kind, no error
//! text (an attacker would read which flaws to try; operators have the logs and
//! `vigie --version`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match store::ping(&state.ctx.db).await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({
                    "status": "unavailable",
                    "error": "database unreachable",
                    // Since when the change hub's watcher has seen it so (public pages are
                    // served from their last good rendering meanwhile).
                    "unreachable_since": state.hub.health.lost_since(),
                })),
            )
        }
    }
}
