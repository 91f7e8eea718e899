//! `/`: the overview every reader opens first.

use domain::locale::Locale;
use leptos::prelude::*;

use crate::api::{get_home_extras, get_overview};
use crate::codec::SliceJson;
use crate::components::clock::UpdatedClock;
use crate::components::day_bar::DayBarLegend;
use crate::components::incident_card::IncidentCard;
use crate::components::maintenance_list::MaintenanceList;
use crate::components::service_group::ServiceGroup;
use crate::components::site_chrome::href;
use crate::components::site_chrome::{site_title, PageTitle};
use crate::words::{ExtrasWords, OverviewWords, RecentWords};
use domain::incident::RECENT_DAYS;
use wording::Texts;

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
    let t = wording::texts(locale);
    // Worded by the server in the page's language (`crate::words`), read back with the server
    // functions' JSON reader (`crate::codec`).
    let overview: Overview =
        Resource::new_with_options(|| (), move |_| get_overview(locale), false);
    let extras: Extras = Resource::new_with_options(|| (), move |_| get_home_extras(locale), false);
    follow_live_changes(overview, extras);
    // What the page showed last, to keep showing when a live reload fails, and the retry that
    // failure schedules (see `retry_later`).
    let last_good = StoredValue::new(None::<(OverviewWords, Option<ExtrasWords>)>);
    let retry = StoredValue::new(Retry::default());
    view! {
        <Transition fallback=move || view! { <p class="loading">{t.loading}</p> }>
            {move || Suspend::new(async move {
                let fresh_extras = extras.await;
                let fresh = overview.await;
                // A reload that failed (a 5xx, a network cut) does not blank what the reader
                // sees, nor leave it as it is for good: the last data stays up and is asked for
                // again shortly. Only a first load that fails shows the error.
                let failed = fresh.is_err() || fresh_extras.is_err();
                if failed {
                    retry_later(retry, overview, extras);
                } else {
                    retry.update_value(|r| r.failures = 0);
                }
                let kept = last_good.get_value();
                let shown = match (fresh, fresh_extras) {
                    (Ok(page), Ok(more)) => Some((page, Some(more))),
                    (Ok(page), Err(_)) => Some((page, kept.and_then(|(_, more)| more))),
                    (Err(_), _) => kept,
                };
                if let Some(good) = &shown {
                    last_good.set_value(Some(good.clone()));
                }
                match shown {
                    Some((page, extras)) => view! { <Overview page extras t/> }.into_any(),
                    None => {
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

type Overview = Resource<Result<OverviewWords, ServerFnError>, SliceJson>;
type Extras = Resource<Result<ExtrasWords, ServerFnError>, SliceJson>;

/// The retry after a failed live reload (only the browser retries).
#[derive(Clone, Copy, Debug, Default)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
struct Retry {
    /// Reloads failed in a row (the delay doubles with each, up to [`RETRY_MAX_SECS`]).
    failures: u32,
    /// A retry is already waiting: one failure schedules one retry.
    pending: bool,
}

/// The longest wait between two retries, so thousands of open pages during an outage ask at
/// most this often each.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const RETRY_MAX_SECS: u64 = 30;

/// In the hydrated page, reloads the overview again after 1, 2, 4… up to 30 s: the change
/// that started the failed reload must still reach the reader even if no other change
/// follows. (On the server a failed read is the page's 503; nothing to retry there.)
fn retry_later(retry: StoredValue<Retry>, overview: Overview, extras: Extras) {
    #[cfg(feature = "hydrate")]
    {
        let Retry { failures, pending } = retry.get_value();
        if pending {
            return;
        }
        retry.set_value(Retry {
            failures: failures.saturating_add(1),
            pending: true,
        });
        let secs = (1u64 << failures.min(5)).min(RETRY_MAX_SECS);
        set_timeout(
            move || {
                retry.update_value(|r| r.pending = false);
                overview.refetch();
                extras.refetch();
            },
            std::time::Duration::from_secs(secs),
        );
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (retry, overview, extras);
}

/// In the hydrated page, reloads the overview whenever `/events` reports a change, so statuses,
/// causes and the banner follow the engine without a page reload. `EventSource` reconnects by
/// itself after a network cut; without JS the server-rendered page stays as it is.
fn follow_live_changes(overview: Overview, extras: Extras) {
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
fn Overview(page: OverviewWords, extras: Option<ExtrasWords>, t: &'static Texts) -> impl IntoView {
    let extras = extras.unwrap_or_else(|| ExtrasWords {
        stale: None,
        data_as_of: None,
        locations: None,
        windows: Vec::new(),
        recent: Vec::new(),
    });
    let windows = extras.windows;
    let dates = std::sync::Arc::new(page.dates);
    view! {
        <header class="page-header">
            <h1>{page.title}</h1>
        </header>
        {extras.stale.map(|stale| view! {
            <p class="stale-banner" role="status">{stale}</p>
        }.into_any())}
        <section class=page.banner_class aria-live="polite">
            <p class="banner-text">{page.banner}</p>
            <p class="freshness">
                <UpdatedClock generated_ms=page.generated_ms attr=page.generated_attr local=page.updated_at/>
                {extras.data_as_of.map(|at| view! {
                    " · "
                    <time class="data-as-of" datetime=at.attr>{at.text}</time>
                }.into_any())}
                {extras.locations.map(|locations| view! {
                    " · "
                    <span class="locations-reporting">{locations}</span>
                })}
            </p>
        </section>
        {(!page.incidents.is_empty()).then(|| view! {
            <section class="incidents" aria-labelledby="incidents-title">
                <h2 id="incidents-title">{t.open_incidents()}</h2>
                {page.incidents.into_iter().map(|incident| view! { <IncidentCard incident/> }).collect_view()}
            </section>
        })}
        {(!windows.is_empty()).then(|| view! {
            <section class="home-maintenance" aria-labelledby="maintenance-title">
                <h2 id="maintenance-title">{t.home_maintenance()}</h2>
                <MaintenanceList windows/>
                <p><a href=href("/maintenance", &[])>{t.all_maintenance()}</a></p>
            </section>
        }.into_any())}
        {page.groups.into_iter().map(|group| view! { <ServiceGroup group dates=dates.clone()/> }).collect_view()}
        <DayBarLegend/>
        <RecentIncidents recent=extras.recent t/>
    }
}

/// Incidents resolved in the last days, so `/` keeps a trace of what happened once it is over.
#[component]
fn RecentIncidents(recent: Vec<RecentWords>, t: &'static Texts) -> impl IntoView {
    let list = if recent.is_empty() {
        view! { <p class="empty">{t.no_recent_incidents()}</p> }.into_any()
    } else {
        view! {
            <ul class="recent-incidents-list">
                {recent
                    .into_iter()
                    .map(|i| {
                        view! {
                            <li class=format!("recent-incident impact-{}", i.impact_class) data-incident=i.id>
                                <a class="entry-title" href=href(&format!("/incidents/{}", i.id), &[])>{i.title}</a>
                                <span class="entry-meta">
                                    {i.status} " · " {i.impact} " · "
                                    <time datetime=i.span.attr>{i.span.text}</time>
                                </span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <section class="recent-incidents" aria-labelledby="recent-incidents-title">
            <h2 id="recent-incidents-title">{t.recent_incidents(RECENT_DAYS)}</h2>
            {list}
            <p><a href=href("/history", &[])>{t.all_history()}</a></p>
        </section>
    }
}
