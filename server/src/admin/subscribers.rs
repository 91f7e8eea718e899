//! `/admin/subscribers` and `/admin/webhooks`: readers' subscriptions for staff (the pages are
//! `console::subscribers`). Counts per service, search by address, deletion, CSV export;
//! webhooks with their success rate, paused ones resumable, and the log of their latest
//! deliveries. Deleting and resuming are audited by the store (`subscriber.delete`,
//! `subscriber.resume`).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use console::{Clock, Notice};
use serde::Deserialize;
use store::subscribers::{EMAIL, WEBHOOK};

use super::internal;
use super::ui;
use super::ui::flash;
use crate::auth::{Posted, Staff};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/subscribers", get(list))
        .route("/admin/subscribers.csv", get(csv))
        .route("/admin/subscribers/{id}/delete", post(delete))
        .route("/admin/webhooks", get(webhooks))
        .route("/admin/webhooks/{id}/resume", post(resume))
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    page: Option<String>,
}

const PER_PAGE: u64 = 50;

async fn list(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(q): Query<SearchQuery>,
) -> Response {
    let l = staff.l();
    let db = &state.ctx.db;
    // Bounded (an address is at most a few hundred characters), and without control
    // characters (PostgreSQL refuses a NUL in a query parameter; no address holds one).
    let search: String =
        q.q.unwrap_or_default()
            .trim()
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
    let asked = q
        .page
        .as_deref()
        .and_then(|p| p.trim().parse::<u64>().ok())
        .unwrap_or(1)
        .clamp(1, i64::MAX as u64 / PER_PAGE);
    let found = tokio::try_join!(
        store::subscribers::list(db, None, Some(&search), asked - 1, PER_PAGE),
        store::subscribers::counts(db),
        store::subscribers::services(db),
    );
    let ((rows, total), counts, services) = match found {
        Ok(f) => f,
        Err(e) => return internal(e),
    };
    let pages = total.div_ceil(PER_PAGE).max(1);
    let clock = Clock {
        tz: state.ctx.timezone,
        l,
    };
    let notice = flash::flash_code(&headers)
        .filter(|c| c == "subscriber-deleted")
        .map(|_| Notice::ok(l.t("Abonnement supprimé.", "Subscription deleted.")));
    let shown = notice.is_some();
    let found = console::subscribers::Found {
        rows: rows.into_iter().map(subscription).collect(),
        total,
        page: asked.min(pages),
        pages,
    };
    let counts = console::subscribers::Counts {
        email: counts.email,
        webhook: counts.webhook,
        whole_page: counts.whole_page,
        per_service: counts.per_service,
    };
    let page = console::subscribers::list(
        staff.viewer(),
        clock,
        notice,
        &search,
        found,
        counts,
        services,
    );
    let res = ui::html(StatusCode::OK, page);
    if shown {
        flash::spend_flash(res, &staff)
    } else {
        res
    }
}

async fn csv(State(state): State<AppState>, _staff: Staff) -> Response {
    match store::subscribers::all(&state.ctx.db).await {
        Ok(rows) => (
            [
                (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    "attachment; filename=\"subscribers.csv\"",
                ),
            ],
            crate::api::webhooks::subscribers_csv_text(rows),
        )
            .into_response(),
        Err(e) => internal(e),
    }
}

async fn delete(State(state): State<AppState>, Path(id): Path<i64>, posted: Posted) -> Response {
    let staff = &posted.staff;
    match store::subscribers::delete(&state.ctx.db, id, Some(&staff.actor()), Utc::now()).await {
        Ok(true) => flash::redirect_with(staff, "/admin/subscribers", "subscriber-deleted"),
        Ok(false) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => internal(e),
    }
}

async fn webhooks(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    let l = staff.l();
    let db = &state.ctx.db;
    let found = tokio::try_join!(
        store::subscribers::list(db, Some(WEBHOOK), None, 0, 500),
        store::outbox::recent(db, Some("webhook"), None, 50),
    );
    let ((hooks, _), log) = match found {
        Ok(f) => f,
        Err(e) => return internal(e),
    };
    let clock = Clock {
        tz: state.ctx.timezone,
        l,
    };
    let notice = flash::flash_code(&headers)
        .filter(|c| c == "webhook-resumed")
        .map(|_| Notice::ok(l.t("Webhook relancé.", "Webhook resumed.")));
    let shown = notice.is_some();
    let hooks = hooks.into_iter().map(subscription).collect();
    let log = log.into_iter().map(delivery).collect();
    let page = console::subscribers::webhooks(staff.viewer(), clock, notice, hooks, log);
    let res = ui::html(StatusCode::OK, page);
    if shown {
        flash::spend_flash(res, &staff)
    } else {
        res
    }
}

async fn resume(State(state): State<AppState>, Path(id): Path<i64>, posted: Posted) -> Response {
    let staff = &posted.staff;
    match store::subscribers::get(&state.ctx.db, id).await {
        Ok(Some(s)) if s.kind == WEBHOOK => {}
        Ok(_) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => return internal(e),
    }
    match store::subscribers::resume(&state.ctx.db, id, &staff.actor(), Utc::now()).await {
        Ok(()) => flash::redirect_with(staff, "/admin/webhooks", "webhook-resumed"),
        Err(e) => internal(e),
    }
}

/// A stored subscription as the console shows it.
fn subscription(s: store::subscribers::Subscriber) -> console::subscribers::Subscription {
    console::subscribers::Subscription {
        id: s.id,
        email: s.kind == EMAIL,
        address: s.address,
        contact: s.contact,
        language: s.language,
        services: s.services,
        confirmed_at: s.confirmed_at,
        paused_at: s.paused_at,
        failures: s.failures,
        delivered: s.delivered,
        failed: s.failed,
    }
}

/// A stored delivery as the console's log shows it.
fn delivery(d: store::outbox::Delivery) -> console::subscribers::Delivery {
    console::subscribers::Delivery {
        subscriber_id: d.subscriber_id,
        recipient: d.recipient,
        state: d.state,
        attempts: d.attempts,
        last_error: d.last_error,
        response_code: d.response_code,
        created_at: d.created_at,
        sent_at: d.sent_at,
    }
}
