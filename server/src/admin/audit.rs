//! `/admin/audit`: the audit log, newest first, filtered by action and by who, fifty a page
//! (the page itself is `console::audit`).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use domain::staff::Role;
use serde::Deserialize;
use store::audit::{AuditEntry, AuditFilter};

use super::{internal, ui};
use crate::auth::Staff;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/audit", get(audit))
}

/// Query of the page. `page` is read leniently: anything that is not a page number is the
/// first page, and a number past the end is the last page.
#[derive(Deserialize)]
struct AuditQuery {
    page: Option<String>,
    action: Option<String>,
    actor: Option<String>,
}

const PER_PAGE: u64 = 50;

async fn audit(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<AuditQuery>,
) -> Response {
    if let Err(r) = staff.require(Role::Admin) {
        return r;
    }
    let l = staff.l();
    let clock = staff.clock(&state);
    // PostgreSQL refuses a NUL in a text parameter (a 500): no action or actor holds one.
    let action = q.action.clone().unwrap_or_default().replace('\0', "");
    let actor = q.actor.clone().unwrap_or_default().replace('\0', "");
    let filter = AuditFilter {
        action: Some(action.clone()).filter(|a| !a.is_empty()),
        actor: Some(actor.clone()).filter(|a| !a.is_empty()),
    };
    // Pages are numbered from 1 for people; anything else is page 1. The bound keeps the
    // row offset within what a database takes (past the end is the last page anyway).
    let asked = q
        .page
        .as_deref()
        .and_then(|p| p.trim().parse::<u64>().ok())
        .unwrap_or(1)
        .clamp(1, i64::MAX as u64 / PER_PAGE);
    let db = &state.ctx.db;
    let (mut entries, total) = match store::audit::list(db, &filter, asked - 1, PER_PAGE).await {
        Ok(r) => r,
        Err(e) => return internal(e),
    };
    let pages = total.div_ceil(PER_PAGE).max(1);
    let page = asked.min(pages);
    if page != asked {
        entries = match store::audit::list(db, &filter, page - 1, PER_PAGE).await {
            Ok(r) => r.0,
            Err(e) => return internal(e),
        };
    }
    let log = console::audit::Log {
        entries: entries.into_iter().map(entry).collect(),
        total,
        page,
        pages,
        action,
        actor,
        typed_action: q.action.unwrap_or_default(),
        typed_actor: q.actor.unwrap_or_default(),
    };
    ui::html(
        StatusCode::OK,
        console::audit::page(l, staff.viewer(), clock, log),
    )
}

fn entry(e: AuditEntry) -> console::audit::Entry {
    console::audit::Entry {
        at: e.at,
        actor_label: e.actor_label,
        action: e.action,
        target_kind: e.target_kind,
        target_id: e.target_id,
        ip: e.ip,
        details: e.details,
    }
}
