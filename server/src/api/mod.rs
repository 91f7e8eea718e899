//! The JSON APIs. The Vigie write API under `/api/v1`, authenticated with bearer tokens:
//! errors are JSON, 401 without a valid token, 403 without the needed scope or role, 422 with
//! the offending field names for invalid input. The public reads (`/api/v1` GET routes in
//! [`read`], the Statuspage-compatible [`v2`], [`openapi`]'s document) are open to any origin.

pub mod agent;
pub mod caller;
pub mod drafts;
pub mod incidents;
pub mod openapi;
pub mod read;
pub mod v2;
pub mod webhooks;

use std::collections::BTreeMap;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use store::audit::WriteError;

/// An API failure and its status code (the only place these codes are chosen).
#[derive(Debug)]
pub enum ApiError {
    Unauthorized,
    Forbidden(&'static str),
    NotFound,
    /// A query the route cannot read (JSON 400 with this message).
    BadRequest(String),
    /// Field name → what is wrong with it.
    Validation(BTreeMap<String, String>),
    /// The request would repeat what is done already (JSON 409 with this message): nothing
    /// was written.
    Conflict(&'static str),
    /// Logged, never shown.
    Internal(String),
}

impl ApiError {
    pub fn field(name: &str, problem: impl Into<String>) -> Self {
        ApiError::Validation(BTreeMap::from([(name.to_owned(), problem.into())]))
    }
}

impl From<WriteError> for ApiError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::NotFound => ApiError::NotFound,
            WriteError::UnknownService(s) => {
                ApiError::field("services", format!("unknown service `{s}`"))
            }
            e @ WriteError::Transition { .. } => ApiError::field("status", e.to_string()),
            WriteError::Conflict => ApiError::field("id", "already exists"),
            WriteError::Invalid(f) => ApiError::field(f, "invalid"),
            WriteError::TooLong { field, max } => {
                ApiError::field(field, format!("at most {max} characters"))
            }
            WriteError::Store(e) => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<store::StoreError> for ApiError {
    fn from(e: store::StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                Json(json!({ "error": "unauthorized" })),
            )
                .into_response(),
            ApiError::Forbidden(needs) => (
                StatusCode::FORBIDDEN,
                Json(json!({ "error": "forbidden", "needs": needs })),
            )
                .into_response(),
            ApiError::NotFound => {
                (StatusCode::NOT_FOUND, Json(json!({ "error": "not_found" }))).into_response()
            }
            ApiError::BadRequest(message) => {
                (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
            }
            ApiError::Validation(fields) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({ "error": "validation", "fields": fields })),
            )
                .into_response(),
            ApiError::Conflict(message) => (
                StatusCode::CONFLICT,
                Json(json!({ "error": "conflict", "message": message })),
            )
                .into_response(),
            ApiError::Internal(e) => {
                tracing::error!(error = %e, "API request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(json!({ "error": "internal" })),
                )
                    .into_response()
            }
        }
    }
}

/// The `/api/v1` write routes, and the public reads with CORS open for GET and HEAD (write
/// routes get no CORS header: a browser on another origin cannot call them).
pub fn router() -> axum::Router<crate::state::AppState> {
    use axum::http::Method;
    use tower_http::cors::{Any, CorsLayer};
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::HEAD]);
    let public = read::router()
        .merge(v2::router())
        .merge(openapi::router())
        .layer(cors);
    incidents::router()
        .merge(drafts::router())
        .merge(agent::router())
        .layer(axum::extract::DefaultBodyLimit::max(256 * 1024))
        .merge(public)
}
