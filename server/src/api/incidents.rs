//! `/api/v1` incidents, updates, maintenance windows and manual service statuses. Everything
//! the console's forms can do.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{patch, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use domain::incident::{Impact, IncidentStatus, IncidentView, MaintenanceView, ManualStatus};
use domain::status::ComponentStatus;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use store::audit::WriteError;
use utoipa::{IntoResponses, ToSchema};

use super::read::schema::{ErrorBody, Incident, Maintenance};
use domain::staff::Scope;
use store::incidents::{IncidentEdit, NewIncident, NewUpdate};
use store::maintenance::NewMaintenance;

use super::caller::ApiCaller;
use super::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/incidents", post(create_incident))
        .route("/api/v1/incidents/{id}", patch(edit_incident))
        .route("/api/v1/incidents/{id}/updates", post(post_update))
        .route("/api/v1/incidents/{id}/resolve", post(resolve))
        .route(
            "/api/v1/incidents/{id}/updates/{update_id}",
            patch(edit_update),
        )
        .route("/api/v1/maintenances", post(create_maintenance))
        .route(
            "/api/v1/services/{id}/status",
            put(set_service_status).delete(clear_service_status),
        )
}

pub(crate) fn require(caller: &ApiCaller, scope: Scope) -> Result<(), ApiError> {
    if caller.token.allows(scope) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(scope.as_str()))
    }
}

/// Parses a JSON body; a malformed or mistyped body is a 422 naming what serde complained of.
fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::field("body", e.to_string()))
}

/// The body of a request to a write route that needs `scope`: the token's scope is checked
/// first (403), then the body is parsed (422, see [`body`]).
fn permitted_body<T: DeserializeOwned>(
    caller: &ApiCaller,
    scope: Scope,
    bytes: &Bytes,
) -> Result<T, ApiError> {
    require(caller, scope)?;
    body(bytes)
}

/// What every route of this module may answer besides its own responses, written once for
/// the OpenAPI document (the handlers answer these as [`ApiError`]s).
#[derive(IntoResponses)]
// Never built: a description of responses only.
#[allow(dead_code)]
pub(crate) enum WriteRefused {
    #[response(status = 401, description = "No valid token")]
    NoToken(ErrorBody),
    #[response(status = 403, description = "Token lacks the scope")]
    NoScope(ErrorBody),
    #[response(status = 422, description = "Invalid fields")]
    Invalid(ErrorBody),
}

#[derive(Deserialize, ToSchema)]
struct ServiceInput {
    id: String,
    status: String,
}

#[derive(Default)]
struct Problems(BTreeMap<String, String>);

impl Problems {
    fn add(&mut self, field: &str, problem: &str) {
        self.0
            .entry(field.to_owned())
            .or_insert_with(|| problem.to_owned());
    }

    fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.0))
        }
    }
}

fn services(input: Option<Vec<ServiceInput>>, p: &mut Problems) -> Vec<(String, ComponentStatus)> {
    input
        .unwrap_or_default()
        .into_iter()
        .filter_map(|s| match ComponentStatus::parse(&s.status) {
            Some(st) => Some((s.id, st)),
            None => {
                p.add("services", "status must be a component status");
                None
            }
        })
        .collect()
}

fn message(md: Option<String>, p: &mut Problems) -> String {
    match md {
        Some(m) if !m.trim().is_empty() && domain::limits::within(&m, domain::limits::MESSAGE) => m,
        Some(m) if !domain::limits::within(&m, domain::limits::MESSAGE) => {
            p.add(
                "message",
                &format!("at most {} characters", domain::limits::MESSAGE),
            );
            String::new()
        }
        _ => {
            p.add("message", "required");
            String::new()
        }
    }
}

#[derive(Deserialize, ToSchema)]
struct CreateIncident {
    title: Option<String>,
    impact: Option<String>,
    status: Option<String>,
    message: Option<String>,
    services: Option<Vec<ServiceInput>>,
    started_at: Option<DateTime<Utc>>,
    #[serde(default)]
    notify: bool,
    /// A draft Vigie proposed (`GET /api/v1/drafts`) that this incident is made from: it is
    /// marked opened.
    draft: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/incidents", tag = "write", request_body = CreateIncident,
    security(("bearer" = ["incidents:write"])),
    responses((status = 201, description = "The new incident", body = Incident),
        WriteRefused))]
pub(crate) async fn create_incident(
    State(state): State<AppState>,
    caller: ApiCaller,
    bytes: Bytes,
) -> Result<(StatusCode, Json<IncidentView>), ApiError> {
    let req: CreateIncident = permitted_body(&caller, Scope::IncidentsWrite, &bytes)?;
    let mut p = Problems::default();
    let title = req
        .title
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| {
            p.add("title", "required");
            String::new()
        });
    let impact = req
        .impact
        .as_deref()
        .map_or(Some(Impact::None), Impact::parse)
        .unwrap_or_else(|| {
            p.add("impact", "one of none, minor, major, critical");
            Impact::None
        });
    let status = req
        .status
        .as_deref()
        .map_or(Some(IncidentStatus::Investigating), IncidentStatus::parse)
        .unwrap_or_else(|| {
            p.add("status", "an incident status");
            IncidentStatus::Investigating
        });
    let md = message(req.message, &mut p);
    let services = services(req.services, &mut p);
    p.finish()?;
    let new = NewIncident {
        title,
        impact,
        status,
        message: crate::markdown::message(&md),
        services,
        started_at: req.started_at,
        notify: req.notify,
    };
    let now = Utc::now();
    let actor = caller.actor();
    let view = match store::incidents::open_from_draft(&state.ctx.db, &new, req.draft, &actor, now)
        .await
    {
        Ok(view) => view,
        Err(WriteError::Conflict) => {
            return Err(ApiError::Conflict(
                "the draft was already opened or dismissed",
            ))
        }
        Err(WriteError::NotFound) => return Err(ApiError::field("draft", "unknown draft")),
        Err(e) => return Err(e.into()),
    };
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Deserialize, ToSchema)]
struct EditIncident {
    title: Option<String>,
    impact: Option<String>,
    started_at: Option<DateTime<Utc>>,
}

#[utoipa::path(patch, path = "/api/v1/incidents/{id}", tag = "write", request_body = EditIncident,
    params(("id" = i64, Path, description = "Incident number")),
    security(("bearer" = ["incidents:write"])),
    responses((status = 200, description = "The incident", body = Incident),
        (status = 404, description = "Unknown incident", body = ErrorBody),
        WriteRefused))]
pub(crate) async fn edit_incident(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    bytes: Bytes,
) -> Result<Json<IncidentView>, ApiError> {
    let req: EditIncident = permitted_body(&caller, Scope::IncidentsWrite, &bytes)?;
    let mut p = Problems::default();
    let impact = match req.impact.as_deref() {
        None => None,
        Some(i) => {
            let parsed = Impact::parse(i);
            if parsed.is_none() {
                p.add("impact", "one of none, minor, major, critical");
            }
            parsed
        }
    };
    if req.title.as_deref().is_some_and(|t| t.trim().is_empty()) {
        p.add("title", "must not be blank");
    }
    p.finish()?;
    let edit = IncidentEdit {
        title: req.title,
        impact,
        started_at: req.started_at,
    };
    Ok(Json(
        store::incidents::edit(&state.ctx.db, id, &edit, &caller.actor(), Utc::now()).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
struct PostUpdate {
    status: Option<String>,
    message: Option<String>,
    services: Option<Vec<ServiceInput>>,
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/updates", tag = "write", request_body = PostUpdate,
    params(("id" = i64, Path, description = "Incident number")),
    security(("bearer" = ["incidents:write"])),
    responses((status = 201, description = "The incident with the new update", body = Incident),
        (status = 409, description = "A resolution of an incident already resolved: nothing was added", body = ErrorBody),
        (status = 404, description = "Unknown incident", body = ErrorBody),
        WriteRefused))]
pub(crate) async fn post_update(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<IncidentView>), ApiError> {
    let req: PostUpdate = permitted_body(&caller, Scope::IncidentsWrite, &bytes)?;
    let mut p = Problems::default();
    let status = req.status.as_deref().and_then(IncidentStatus::parse);
    if status.is_none() {
        p.add("status", "an incident status");
    }
    let md = message(req.message, &mut p);
    let services = services(req.services, &mut p);
    p.finish()?;
    let update = NewUpdate {
        status: status.unwrap_or(IncidentStatus::Investigating),
        message: crate::markdown::message(&md),
        services,
    };
    let view = publish(&state, &caller, id, &update).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Deserialize, ToSchema)]
struct Resolve {
    message: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/resolve", tag = "write", request_body(content = Option<Resolve>, description = "Optional closing message"),
    params(("id" = i64, Path, description = "Incident number")),
    security(("bearer" = ["incidents:write"])),
    responses((status = 200, description = "The resolved incident; its services are stated operational", body = Incident),
        (status = 409, description = "Already resolved: nothing was added", body = ErrorBody),
        (status = 404, description = "Unknown incident", body = ErrorBody),
        WriteRefused))]
pub(crate) async fn resolve(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    bytes: Bytes,
) -> Result<Json<IncidentView>, ApiError> {
    require(&caller, Scope::IncidentsWrite)?;
    let req: Resolve = if bytes.is_empty() {
        Resolve { message: None }
    } else {
        body(&bytes)?
    };
    let db = &state.ctx.db;
    let current = store::incidents::read::get(db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    // Resolving puts every affected service back to operational.
    let services = current
        .services
        .iter()
        .map(|s| (s.service_id.clone(), ComponentStatus::Operational))
        .collect();
    let md = req
        .message
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| "Resolved.".to_owned());
    let update = NewUpdate {
        status: IncidentStatus::Resolved,
        message: crate::markdown::message(&md),
        services,
    };
    Ok(Json(publish(&state, &caller, id, &update).await?))
}

/// Adds `update` to incident `id`. A conflict means the incident was resolved already (maybe
/// a moment ago, by someone else), so nothing was added.
async fn publish(
    state: &AppState,
    caller: &ApiCaller,
    id: i64,
    update: &NewUpdate,
) -> Result<IncidentView, ApiError> {
    store::incidents::post_update(&state.ctx.db, id, update, &caller.actor(), Utc::now())
        .await
        .map_err(|e| match e {
            WriteError::Conflict => ApiError::Conflict("the incident is already resolved"),
            e => e.into(),
        })
}

#[derive(Deserialize, ToSchema)]
struct CreateMaintenance {
    title: Option<String>,
    message: Option<String>,
    starts_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
    #[serde(default)]
    services: Vec<String>,
}

#[utoipa::path(post, path = "/api/v1/maintenances", tag = "write", request_body = CreateMaintenance,
    security(("bearer" = ["maintenance:write"])),
    responses((status = 201, description = "The scheduled window", body = Maintenance),
        WriteRefused))]
pub(crate) async fn create_maintenance(
    State(state): State<AppState>,
    caller: ApiCaller,
    bytes: Bytes,
) -> Result<(StatusCode, Json<MaintenanceView>), ApiError> {
    let req: CreateMaintenance = permitted_body(&caller, Scope::MaintenanceWrite, &bytes)?;
    let mut p = Problems::default();
    let title = req.title.filter(|t| !t.trim().is_empty());
    if title.is_none() {
        p.add("title", "required");
    }
    let md = message(req.message, &mut p);
    if req.starts_at.is_none() {
        p.add("starts_at", "required (RFC 3339)");
    }
    if req.ends_at.is_none() {
        p.add("ends_at", "required (RFC 3339)");
    }
    if let (Some(s), Some(e)) = (req.starts_at, req.ends_at) {
        if e <= s {
            p.add("ends_at", "must be after starts_at");
        }
    }
    p.finish()?;
    let (Some(title), Some(starts_at), Some(ends_at)) = (title, req.starts_at, req.ends_at) else {
        return Err(ApiError::field("body", "incomplete"));
    };
    let new = NewMaintenance {
        title,
        message: crate::markdown::message(&md),
        starts_at,
        ends_at,
        services: req.services,
    };
    let view =
        store::maintenance::schedule(&state.ctx.db, &new, &caller.actor(), Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Deserialize, ToSchema)]
struct SetStatus {
    status: Option<String>,
    note: Option<String>,
}

#[utoipa::path(put, path = "/api/v1/services/{id}/status", tag = "write", request_body = SetStatus,
    params(("id" = String, Path, description = "Service id")),
    security(("bearer" = ["services:write"])),
    responses((status = 200, description = "The status now set by hand: `{service_id, status, note, set_at}`"),
        WriteRefused))]
pub(crate) async fn set_service_status(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Json<Option<ManualStatus>>, ApiError> {
    let req: SetStatus = permitted_body(&caller, Scope::ServicesWrite, &bytes)?;
    let status = req
        .status
        .as_deref()
        .and_then(ComponentStatus::parse)
        .ok_or_else(|| ApiError::field("status", "a component status"))?;
    let set = store::incidents::manual::set_manual_status(
        &state.ctx.db,
        &id,
        Some(status),
        req.note.as_deref().filter(|n| !n.trim().is_empty()),
        &caller.actor(),
        Utc::now(),
    )
    .await?;
    Ok(Json(set))
}

#[utoipa::path(delete, path = "/api/v1/services/{id}/status", tag = "write",
    params(("id" = String, Path, description = "Service id")),
    security(("bearer" = ["services:write"])),
    responses((status = 204, description = "The status set by hand is cleared"),
        WriteRefused))]
pub(crate) async fn clear_service_status(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    require(&caller, Scope::ServicesWrite)?;
    store::incidents::manual::set_manual_status(
        &state.ctx.db,
        &id,
        None,
        None,
        &caller.actor(),
        Utc::now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct EditUpdate {
    /// The new Markdown text of the update.
    message: Option<String>,
}

/// Replaces an update's text; the earlier text stays in its history and the public page marks
/// the update as edited.
#[utoipa::path(patch, path = "/api/v1/incidents/{id}/updates/{update_id}", tag = "write", request_body = EditUpdate,
    params(("id" = i64, Path, description = "Incident number"),
        ("update_id" = i64, Path, description = "Update number")),
    security(("bearer" = ["incidents:write"])),
    responses((status = 200, description = "The incident with the edited update", body = Incident),
        (status = 404, description = "Unknown incident, or the update is not one of its", body = ErrorBody),
        WriteRefused))]
pub(crate) async fn edit_update(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, update_id)): Path<(i64, i64)>,
    bytes: Bytes,
) -> Result<Json<IncidentView>, ApiError> {
    let req: EditUpdate = permitted_body(&caller, Scope::IncidentsWrite, &bytes)?;
    let mut p = Problems::default();
    let md = message(req.message, &mut p);
    p.finish()?;
    let db = &state.ctx.db;
    // The update must belong to the incident named in the path.
    let belongs = store::incidents::read::get(db, id)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .is_some_and(|i| i.updates.iter().any(|u| u.id == update_id));
    if !belongs {
        return Err(ApiError::NotFound);
    }
    let view = store::incidents::edit_update(
        db,
        update_id,
        &crate::markdown::message(&md),
        &caller.actor(),
        Utc::now(),
    )
    .await?;
    Ok(Json(view))
}
