//! `/api/v1/webhooks`: staff create, list, resume and delete webhook subscriptions and read
//! their delivery log. `GET /api/v1/subscribers` (search, counts per service),
//! `GET /api/v1/subscribers.csv` and `DELETE /api/v1/subscribers/{id}`: every subscriber. Bearer token with the `incidents:write` scope (who publishes incidents
//! decides where they go); every change audited.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use domain::staff::Scope;
use serde::Deserialize;
use serde_json::{json, Value};
use store::subscribers::{Subscriber, Wanted, WEBHOOK};

use super::caller::ApiCaller;
use super::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/webhooks", get(list).post(create))
        .route("/api/v1/webhooks/{id}", axum::routing::delete(remove))
        .route("/api/v1/webhooks/{id}/resume", post(resume))
        .route("/api/v1/webhooks/{id}/deliveries", get(deliveries))
        .route("/api/v1/subscribers", get(subscribers))
        .route("/api/v1/subscribers.csv", get(subscribers_csv))
        .route(
            "/api/v1/subscribers/{id}",
            axum::routing::delete(remove_subscriber),
        )
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
}

fn require(caller: &ApiCaller) -> Result<(), ApiError> {
    super::incidents::require(caller, Scope::IncidentsWrite)
}

/// What the console and the API show of a webhook: its success rate included.
pub fn describe(w: &Subscriber) -> Value {
    let total = w.delivered + w.failed;
    json!({
        "id": w.id,
        "url": w.address,
        "contact": w.contact,
        "language": w.language,
        "services": w.services,
        "created_by": w.created_by,
        "created_at": w.created_at,
        "paused_at": w.paused_at,
        "failures_in_a_row": w.failures,
        "delivered": w.delivered,
        "failed": w.failed,
        "success_rate": (total > 0).then(|| w.delivered as f64 / total as f64),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewWebhook {
    url: String,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    services: Option<Vec<String>>,
}

async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    body: Result<Json<NewWebhook>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require(&caller)?;
    let Json(req) = body.map_err(|e| ApiError::field("body", e.body_text()))?;
    if let Some(why) = state.notify.caller.refuse(&req.url) {
        return Err(ApiError::field("url", why));
    }
    let language = match req.language.as_deref() {
        None => state.ctx.default_locale,
        Some(l) => domain::locale::Locale::from_tag(l)
            .ok_or_else(|| ApiError::field("language", "must be \"fr\" or \"en\""))?,
    };
    let wanted = Wanted {
        kind: WEBHOOK.to_owned(),
        address: req.url.clone(),
        contact: None,
        language: language.code().to_owned(),
        services: req.services,
    };
    let sub =
        store::subscribers::confirm(&state.ctx.db, &wanted, Some(&caller.actor()), Utc::now())
            .await?;
    let mut body = describe(&sub);
    body["secret"] = json!(state.notify.webhook_secret(&sub));
    Ok((StatusCode::CREATED, Json(body)))
}

async fn list(State(state): State<AppState>, caller: ApiCaller) -> Result<Json<Value>, ApiError> {
    require(&caller)?;
    let (rows, total) =
        store::subscribers::list(&state.ctx.db, Some(WEBHOOK), None, 0, 1000).await?;
    Ok(Json(json!({
        "total": total,
        "webhooks": rows.iter().map(describe).collect::<Vec<_>>(),
    })))
}

async fn webhook(state: &AppState, id: i64) -> Result<Subscriber, ApiError> {
    match store::subscribers::get(&state.ctx.db, id).await? {
        Some(s) if s.kind == WEBHOOK => Ok(s),
        _ => Err(ApiError::NotFound),
    }
}

async fn remove(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    require(&caller)?;
    webhook(&state, id).await?;
    store::subscribers::delete(&state.ctx.db, id, Some(&caller.actor()), Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn resume(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    require(&caller)?;
    webhook(&state, id).await?;
    store::subscribers::resume(&state.ctx.db, id, &caller.actor(), Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn deliveries(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    require(&caller)?;
    let w = webhook(&state, id).await?;
    let log = store::outbox::recent(&state.ctx.db, Some("webhook"), Some(id), 200).await?;
    Ok(Json(json!({
        "webhook": describe(&w),
        "deliveries": log.iter().map(|d| json!({
            "id": d.id,
            "state": d.state,
            "attempts": d.attempts,
            "response_code": d.response_code,
            "last_error": d.last_error,
            "created_at": d.created_at,
            "sent_at": d.sent_at,
            "next_attempt_at": d.next_attempt_at,
        })).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
struct Search {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    page: Option<u64>,
}

const PER_PAGE: u64 = 100;

async fn subscribers(
    State(state): State<AppState>,
    caller: ApiCaller,
    axum::extract::Query(s): axum::extract::Query<Search>,
) -> Result<Json<Value>, ApiError> {
    require(&caller)?;
    let page = s.page.unwrap_or(0);
    let (rows, total) =
        store::subscribers::list(&state.ctx.db, None, s.q.as_deref(), page, PER_PAGE).await?;
    let counts = store::subscribers::counts(&state.ctx.db).await?;
    Ok(Json(json!({
        "total": total,
        "page": page,
        "per_page": PER_PAGE,
        "counts": {
            "email": counts.email,
            "webhook": counts.webhook,
            "whole_page": counts.whole_page,
            "per_service": counts.per_service,
        },
        "subscribers": rows.iter().map(|r| json!({
            "id": r.id,
            "kind": r.kind,
            "address": r.address,
            "contact": r.contact,
            "language": r.language,
            "services": r.services,
            "confirmed_at": r.confirmed_at,
            "paused_at": r.paused_at,
        })).collect::<Vec<_>>(),
    })))
}

/// One CSV field: quoted, quotes doubled, and a leading `= + - @` defused so a spreadsheet
/// never runs an address as a formula. (Four rules; no CSV crate is in the build.)
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The subscribers as CSV (API and console export): one line per subscriber, fields quoted
/// and formulas defused.
pub fn subscribers_csv_text(rows: Vec<Subscriber>) -> String {
    let mut out = String::from("id,kind,address,contact,language,services,confirmed_at\n");
    for r in rows {
        let services = r.services.map_or_else(|| "*".to_owned(), |s| s.join(" "));
        let line = [
            r.id.to_string(),
            r.kind,
            r.address,
            r.contact.unwrap_or_default(),
            r.language,
            services,
            r.confirmed_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        ]
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
        out.push_str(&line);
        out.push('\n');
    }
    out
}

async fn subscribers_csv(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    require(&caller)?;
    let rows = store::subscribers::all(&state.ctx.db).await?;
    let out = subscribers_csv_text(rows);
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"subscribers.csv\"",
            ),
            (axum::http::header::CACHE_CONTROL, "no-store"),
        ],
        out,
    )
        .into_response())
}

async fn remove_subscriber(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    require(&caller)?;
    if store::subscribers::delete(&state.ctx.db, id, Some(&caller.actor()), Utc::now()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("a\"b"), "\"a\"\"b\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "\"'=HYPERLINK(1)\"");
        assert_eq!(csv_field("a@example.org"), "\"a@example.org\"");
    }
}
