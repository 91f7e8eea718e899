//! `#[server]` functions: take the context, call one store function, return a DTO.

use domain::page::StatusPage;
use leptos::prelude::*;

/// The public overview: groups and services with their current state. A GET, so the server's
/// page cache answers the reloads of every open page after a change with one rendering.
#[server(prefix = "/_fn", endpoint = "overview", input = leptos::server_fn::codec::GetUrl)]
pub async fn get_overview() -> Result<StatusPage, ServerFnError> {
    let ctx = use_context::<crate::context::AppContext>()
        .ok_or_else(|| ServerFnError::new("server context missing"))?;
    let now = chrono::Utc::now();
    let groups = store::overview::groups(&ctx.db, now).await.map_err(|e| {
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
