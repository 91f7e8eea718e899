//! `/`: the overview every reader opens first.

use domain::locale::Locale;
use domain::page::StatusPage;
use domain::status::{ComponentStatus, ServiceState};
use leptos::prelude::*;

use crate::api::{get_home_extras, get_overview};
use crate::components::clock::UpdatedClock;
use crate::components::day_bar::DayBarLegend;
use crate::components::incident_card::IncidentCard;
use crate::components::maintenance_list::MaintenanceList;
use crate::components::service_group::ServiceGroup;
use crate::components::site_chrome::{site_title, PageTitle};
use crate::i18n::Texts;
use domain::incident::HomeExtras;

#[component]
pub fn HomePage() -> impl IntoView {
    let locale = use_context::<Locale>().unwrap_or_default();
    view! {
        <PageTitle text=site_title()/>
        <HomeLive locale/>
    }
}

/// The live part of `/`, an island: the only page content built for the browser. It reloads
/// its data on every change `/events` reports.
#[island]
fn HomeLive(locale: Locale) -> impl IntoView {
    provide_context(locale);
    // Groups the reader folded, kept while the overview reloads live.
    provide_context(RwSignal::new(std::collections::HashSet::<String>::new()));
    // The day bar's day the reader looks at, kept the same way.
    provide_context(crate::components::day_bar::LookedAt::new());
    let t = crate::i18n::texts(locale);
    let overview = Resource::new(|| (), |_| get_overview());
    let extras = Resource::new(|| (), |_| get_home_extras());
    follow_live_changes(overview, extras);
    view! {
        <Transition fallback=move || view! { <p class="loading">{t.loading}</p> }>
            {move || Suspend::new(async move {
                let extras = extras.await.ok();
                match overview.await {
                    Ok(page) => view! { <Overview page extras t locale/> }.into_any(),
                    Err(_) => {
                        // Said with 503 on the server, so the last good page can stand in.
                        #[cfg(feature = "ssr")]
                        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
                            resp.set_status(http::StatusCode::SERVICE_UNAVAILABLE);
                        }
                        view! {
                            <p class="error" role="alert">{t.error_loading}</p>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

type Overview = Resource<Result<StatusPage, ServerFnError>>;

/// In the hydrated page, reloads the overview whenever `/events` reports a change, so statuses,
/// causes and the banner follow the engine without a page reload. `EventSource` reconnects by
/// itself after a network cut; without JS the server-rendered page stays as it is.
fn follow_live_changes(overview: Overview, extras: Resource<Result<HomeExtras, ServerFnError>>) {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use wasm_bindgen::closure::Closure;
        use wasm_bindgen::JsCast;
        let Ok(source) = web_sys::EventSource::new("/events") else {
            return;
        };
        let reload = Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| {
            overview.refetch();
            extras.refetch();
        });
        // `open` fires on every (re)connection: changes made between the server render and the
        // subscription, or during a network cut, are caught up then.
        for event in ["open", "status", "incident", "resync"] {
            let _ = source.add_event_listener_with_callback(event, reload.as_ref().unchecked_ref());
        }
        // The page owns the stream for its whole life.
        reload.forget();
        std::mem::forget(source);
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (overview, extras);
}

#[component]
fn Overview(
    page: StatusPage,
    extras: Option<HomeExtras>,
    t: &'static Texts,
    locale: Locale,
) -> impl IntoView {
    let _ = locale;
    let extras = extras.unwrap_or_else(|| HomeExtras {
        timezone: String::new(),
        data_as_of: None,
        stale: false,
        active_maintenance: Vec::new(),
        upcoming_maintenance: Vec::new(),
    });
    let stale_since = extras.data_as_of.filter(|_| extras.stale);
    let data_as_of = extras.data_as_of;
    let mut windows = extras.active_maintenance;
    windows.extend(extras.upcoming_maintenance);
    let states: Vec<ServiceState> = page
        .groups
        .iter()
        .flat_map(|g| g.services.iter().map(|s| s.state))
        .collect();
    let banner = banner(&states, t);
    let banner_class = format!("banner banner-{}", banner.0);
    view! {
        <header class="page-header">
            <h1>{page.title.clone()}</h1>
        </header>
        {stale_since.map(|since| view! {
            <p class="stale-banner" role="status">{t.stale(&since)}</p>
        }.into_any())}
        <section class=banner_class aria-live="polite">
            <p class="banner-text">{banner.1}</p>
            <p class="freshness">
                <UpdatedClock generated_at=page.generated_at/>
                {data_as_of.map(|at| view! {
                    " · "
                    <time class="data-as-of" datetime=at.to_rfc3339()>{t.data_as_of(&at)}</time>
                }.into_any())}
            </p>
        </section>
        {(!page.incidents.is_empty()).then(|| view! {
            <section class="incidents" aria-labelledby="incidents-title">
                <h2 id="incidents-title">{t.open_incidents()}</h2>
                {page.incidents.into_iter().map(|i| view! { <IncidentCard incident=i/> }).collect_view()}
            </section>
        })}
        {(!windows.is_empty()).then(|| view! {
            <section class="home-maintenance" aria-labelledby="maintenance-title">
                <h2 id="maintenance-title">{t.home_maintenance()}</h2>
                <MaintenanceList windows/>
                <p><a href=crate::components::site_chrome::href("/maintenance", &[])>{t.all_maintenance()}</a></p>
            </section>
        }.into_any())}
        {page.groups.into_iter().map(|g| view! { <ServiceGroup group=g/> }).collect_view()}
        <DayBarLegend/>
    }
}

/// The banner's class and sentence for the current states.
fn banner(states: &[ServiceState], t: &'static Texts) -> (&'static str, String) {
    let known: Vec<ComponentStatus> = states
        .iter()
        .filter_map(|s| match s {
            ServiceState::Known(c) => Some(*c),
            ServiceState::NoData => None,
        })
        .collect();
    if known.is_empty() {
        return ("no_data", t.banner_no_data.to_owned());
    }
    let affected = known
        .iter()
        .filter(|c| {
            !matches!(
                c,
                ComponentStatus::Operational | ComponentStatus::UnderMaintenance
            )
        })
        .count();
    match known.iter().max() {
        Some(ComponentStatus::MajorOutage) => ("major_outage", t.banner_major(affected)),
        Some(ComponentStatus::PartialOutage | ComponentStatus::DegradedPerformance) => {
            ("degraded_performance", t.banner_minor(affected))
        }
        Some(ComponentStatus::UnderMaintenance) => {
            ("under_maintenance", t.banner_maintenance.to_owned())
        }
        _ if known.len() < states.len() => {
            ("operational", t.banner_operational_partial_data.to_owned())
        }
        _ => ("operational", t.banner_operational.to_owned()),
    }
}
