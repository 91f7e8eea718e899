//! `/api/v1/drafts`: the incident drafts Vigie proposes (`store::incidents::drafts`), as the console shows
//! them. A draft becomes an incident with `POST /api/v1/incidents` and `"draft": id`; it is
//! dismissed here. Staff only: the `incidents:write` scope, no CORS.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use domain::staff::Scope;
use serde::Serialize;
use store::audit::WriteError;
use store::incidents::drafts::DraftStatus;
use utoipa::ToSchema;

use super::caller::ApiCaller;
use super::read::schema::ErrorBody;
use super::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/drafts", get(list))
        .route("/api/v1/drafts/{id}/dismiss", post(dismiss))
}

/// A service in a draft.
#[derive(Serialize, ToSchema)]
pub struct DraftService {
    pub id: String,
    pub name: String,
    /// When its major outage began.
    pub since: DateTime<Utc>,
    /// The engine's cause, e.g. `down: host phys-2 unreachable`.
    pub cause: Option<String>,
}

/// An incident draft waiting for staff.
#[derive(Serialize, ToSchema)]
pub struct Draft {
    pub id: i64,
    /// The earliest outage start among its services.
    pub since: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub services: Vec<DraftService>,
}

#[derive(Serialize, ToSchema)]
pub struct Drafts {
    pub drafts: Vec<Draft>,
}

fn require(caller: &ApiCaller) -> Result<(), ApiError> {
    super::incidents::require(caller, Scope::IncidentsWrite)
}

#[utoipa::path(get, path = "/api/v1/drafts", tag = "write",
    security(("bearer" = ["incidents:write"])),
    responses((status = 200, description = "Drafts waiting for staff, newest first", body = Drafts),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Token lacks the scope", body = ErrorBody)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Drafts>, ApiError> {
    require(&caller)?;
    let drafts = store::incidents::drafts::proposed(&state.ctx.db).await?;
    Ok(Json(Drafts {
        drafts: drafts
            .into_iter()
            .map(|d| Draft {
                id: d.id,
                since: d.since,
                created_at: d.created_at,
                services: d
                    .services
                    .into_iter()
                    .map(|s| DraftService {
                        id: s.id,
                        name: s.name,
                        since: s.since,
                        // The API keeps its sentence: a draft is for a major outage.
                        cause: s.cause.as_ref().and_then(|c| {
                            domain::topology::sentence(
                                domain::status::ServiceState::Known(
                                    domain::status::ComponentStatus::MajorOutage,
                                ),
                                c,
                            )
                        }),
                    })
                    .collect(),
            })
            .collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/drafts/{id}/dismiss", tag = "write",
    params(("id" = i64, Path, description = "Draft number")),
    security(("bearer" = ["incidents:write"])),
    responses((status = 204, description = "Dismissed"),
        (status = 404, description = "Unknown draft", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Token lacks the scope", body = ErrorBody),
        (status = 422, description = "Already opened or dismissed", body = ErrorBody)))]
pub(crate) async fn dismiss(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    require(&caller)?;
    let actor = caller.actor();
    match store::incidents::drafts::decide(
        &state.ctx.db,
        id,
        DraftStatus::Dismissed,
        None,
        &actor,
        Utc::now(),
    )
    .await
    {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(WriteError::Conflict) => Err(ApiError::field("id", "already opened or dismissed")),
        Err(e) => Err(e.into()),
    }
}
