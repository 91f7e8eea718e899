//! `#[server]` functions: take the context, call one store function, return a DTO.

use domain::locale::Locale;
#[cfg(feature = "ssr")]
use domain::page::StatusPage;
use leptos::prelude::*;

/// The public overview: groups and services with their current state, worded in `lang`
/// (`crate::words`). A GET (`/_fn/overview?lang=fr`), so the server's page cache answers the
/// reloads of every open page after a change with one rendering per language.
#[server(prefix = "/_fn", endpoint = "overview", input = leptos::server_fn::codec::GetUrl)]
pub async fn get_overview(
    #[server(default)] lang: Locale,
) -> Result<crate::words::OverviewWords, ServerFnError> {
    let ctx = use_context::<crate::context::AppContext>()
        .ok_or_else(|| ServerFnError::new("server context missing"))?;
    let now = chrono::Utc::now();
    let groups = store::service_page::overview(&ctx.db, ctx.timezone, now)
        .await
        .map_err(|e| {
            leptos::logging::error!("overview: {e}");
            ServerFnError::new("the status data cannot be read right now")
        })?;
    let incidents = store::incidents::read::open_incidents(&ctx.db)
        .await
        .map_err(|e| {
            leptos::logging::error!("open incidents: {e}");
            ServerFnError::new("the status data cannot be read right now")
        })?;
    let tz = ctx.timezone;
    let local = |t| store::public_pages::site_time(t, tz);
    let incidents = incidents
        .into_iter()
        .map(|i| domain::incident::OpenIncident {
            latest: i
                .updates
                .into_iter()
                .next()
                .map(|u| domain::incident::UpdateEntry {
                    id: u.id,
                    status: u.status,
                    message_html: u.message_html,
                    created_at: local(u.created_at),
                    edited_at: u.edited_at.map(local),
                }),
            id: i.id,
            title: i.title,
            status: i.status,
            impact: i.impact,
            started_at: local(i.started_at),
            services: i.services,
        })
        .collect();
    let page = StatusPage {
        title: ctx.site_title.clone(),
        generated_at: now,
        generated_local: Some(local(now)),
        groups,
        incidents,
        timezone: tz.name().to_owned(),
    };
    Ok(crate::words::overview(lang, page))
}

// ---- Incident, history and maintenance pages ---------------------------------------------

/// Entries per `/history` page. Counted in entries rather than months: a month with a long
/// outage can hold dozens of updates-worth of incidents while quiet months hold none, so a
/// fixed number of entries keeps every page a predictable size on a phone; a month cut by
/// the page boundary shows its heading again on the next page.
pub const HISTORY_PER_PAGE: u64 = 20;

/// Past windows per `/maintenance` page.
pub const MAINTENANCE_PER_PAGE: u64 = 20;

#[cfg(feature = "ssr")]
fn page_context() -> Result<crate::context::AppContext, ServerFnError> {
    use_context::<crate::context::AppContext>()
        .ok_or_else(|| ServerFnError::new("server context missing"))
}

#[cfg(feature = "ssr")]
fn unreadable(what: &str, e: store::StoreError) -> ServerFnError {
    leptos::logging::error!("{what}: {e}");
    ServerFnError::new("the status data cannot be read right now")
}

/// `/incidents/{id}`: `None` when there is no such incident.
#[server(prefix = "/_fn", endpoint = "incident")]
pub async fn get_incident(
    id: i64,
) -> Result<Option<domain::incident::IncidentPage>, ServerFnError> {
    let ctx = page_context()?;
    store::public_pages::incident_page(&ctx.db, id, ctx.timezone, chrono::Utc::now())
        .await
        .map_err(|e| unreadable("incident page", e))
}

/// `/history?page=N`: `None` past the last page.
#[server(prefix = "/_fn", endpoint = "history")]
pub async fn get_history(
    page: u32,
) -> Result<Option<domain::incident::HistoryPage>, ServerFnError> {
    let ctx = page_context()?;
    store::public_pages::history(
        &ctx.db,
        ctx.timezone,
        chrono::Utc::now(),
        page,
        HISTORY_PER_PAGE,
        MAINTENANCE_PER_PAGE,
    )
    .await
    .map_err(|e| unreadable("history", e))
}

/// `/maintenance?page=N`: `None` past the last page of past windows.
#[server(prefix = "/_fn", endpoint = "maintenance")]
pub async fn get_maintenance(
    page: u32,
) -> Result<Option<domain::incident::MaintenancePage>, ServerFnError> {
    let ctx = page_context()?;
    store::public_pages::maintenance_page(
        &ctx.db,
        ctx.timezone,
        chrono::Utc::now(),
        page,
        MAINTENANCE_PER_PAGE,
    )
    .await
    .map_err(|e| unreadable("maintenance page", e))
}

/// What `/` shows beside the services: data freshness, maintenance and recent incidents,
/// worded in `lang`. A GET, like the overview, so the page cache answers the reload every open
/// page makes on each change.
#[server(prefix = "/_fn", endpoint = "home_extras", input = leptos::server_fn::codec::GetUrl)]
pub async fn get_home_extras(
    #[server(default)] lang: Locale,
) -> Result<crate::words::ExtrasWords, ServerFnError> {
    let ctx = page_context()?;
    let extras = store::public_pages::home_extras(&ctx.db, ctx.timezone, chrono::Utc::now())
        .await
        .map_err(|e| unreadable("home extras", e))?;
    Ok(crate::words::extras(lang, extras))
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
