//! `/maintenance?page=N`: windows in progress, to come, and past (paged).

use domain::incident::MaintenancePage as Windows;
use domain::locale::Locale;
use leptos::prelude::*;

use crate::api::get_maintenance;
use crate::components::maintenance_list::MaintenanceList;
use crate::components::site_chrome::{site_title, PageTitle};
use crate::pages::history::{requested_page, Pager};
use crate::pages::incident::LoadError;
use crate::pages::not_found::NotFound;
use wording::Texts;

#[component]
pub fn MaintenancePage() -> impl IntoView {
    let t = wording::texts(use_context::<Locale>().unwrap_or_default());
    let page = requested_page();
    let windows = Resource::new(page, |page| async move {
        match page {
            Some(p) => get_maintenance(p).await,
            None => Ok(None),
        }
    });
    view! {
        <Suspense fallback=move || view! { <p class="loading">{t.loading}</p> }>
            {move || Suspend::new(async move {
                match windows.await {
                    Ok(Some(w)) => view! { <WindowsView windows=w t/> }.into_any(),
                    Ok(None) => view! { <NotFound/> }.into_any(),
                    Err(_) => view! { <LoadError t/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn WindowsView(windows: Windows, t: &'static Texts) -> impl IntoView {
    let title = format!("{} — {}", t.maintenance_title(), site_title());
    let zone = windows.timezone.clone();
    let section = |id: &'static str,
                   heading: &'static str,
                   list: Vec<domain::incident::MaintenanceEntry>,
                   none: &'static str| {
        view! {
            <section class=format!("maintenance-section {id}") aria-labelledby=id>
                <h2 id=id>{heading}</h2>
                {if list.is_empty() {
                    view! { <p class="empty">{none}</p> }.into_any()
                } else {
                    let windows = list
                        .into_iter()
                        .map(|w| crate::words::window(t, w, &zone))
                        .collect::<Vec<_>>();
                    view! { <MaintenanceList windows/> }.into_any()
                }}
            </section>
        }
    };
    view! {
        <PageTitle text=title/>
        <h1>{t.maintenance_title()}</h1>
        {section("maintenance-active", t.maintenance_active(), windows.active, t.no_active_maintenance())}
        {section("maintenance-upcoming", t.maintenance_upcoming(), windows.upcoming, t.no_upcoming_maintenance())}
        {section("maintenance-past", t.maintenance_past(), windows.past, t.no_past_maintenance())}
        <Pager base="/maintenance" page=windows.page pages=windows.pages t/>
        <p class="timezone-note">{t.times_in(&windows.timezone)}</p>
    }
}
