//! `#[server]` functions: take the context, call one store function, return a DTO.

use domain::page::StatusPage;
use leptos::prelude::*;

/// The public overview: groups and services with their current state.
#[server(prefix = "/_fn", endpoint = "overview")]
pub async fn get_overview() -> Result<StatusPage, ServerFnError> {
    let ctx = use_context::<crate::context::AppContext>()
        .ok_or_else(|| ServerFnError::new("server context missing"))?;
    let now = chrono::Utc::now();
    let groups = store::service_page::overview(&ctx.db, ctx.timezone, now)
        .await
        .map_err(|e| {
            leptos::logging::error!("overview: {e}");
            ServerFnError::new("the status data cannot be read right now")
        })?;
    let incidents = store::incidents::open_incidents(&ctx.db)
        .await
        .map_err(|e| {
            leptos::logging::error!("open incidents: {e}");
            ServerFnError::new("the status data cannot be read right now")
        })?;
    Ok(StatusPage {
        title: ctx.site_title.clone(),
        generated_at: now,
        groups,
        incidents,
    })
}

/// `/services/{slug}`: one service in detail; `None` when no live service has that slug.
/// `range` is the chart's window (`24h`, `7d`, `30d`; anything else reads as `24h`).
#[server(prefix = "/_fn", endpoint = "service")]
pub async fn get_service(
    slug: String,
    range: String,
) -> Result<Option<domain::page::ServicePage>, ServerFnError> {
    let ctx = use_context::<crate::context::AppContext>()
        .ok_or_else(|| ServerFnError::new("server context missing"))?;
    let range = domain::chart::ChartRange::parse(&range).unwrap_or_default();
    store::service_page::page(
        &ctx.db,
        &slug,
        &ctx.site_title,
        ctx.timezone,
        chrono::Utc::now(),
        range,
    )
    .await
    .map_err(|e| {
        leptos::logging::error!("service page {slug}: {e}");
        ServerFnError::new("the status data cannot be read right now")
    })
}
