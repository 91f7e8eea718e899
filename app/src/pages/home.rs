//! `/`: the overview every reader opens first.

use domain::locale::Locale;
use domain::page::StatusPage;
use domain::status::ServiceState;
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
use domain::incident::{HomeExtras, RecentIncident, RECENT_DAYS};
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
    // Read back with the server functions' JSON reader: see `crate::codec`.
    let overview: Overview = Resource::new_with_options(|| (), |_| get_overview(), false);
    let extras: Extras = Resource::new_with_options(|| (), |_| get_home_extras(), false);
    follow_live_changes(overview, extras);
    // What the page showed last, to keep showing when a live reload fails, and the retry that
    // failure schedules (see `retry_later`).
    let last_good = StoredValue::new(None::<(StatusPage, Option<HomeExtras>)>);
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
                    Some((page, extras)) => view! { <Overview page extras t locale/> }.into_any(),
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

type Overview = Resource<Result<StatusPage, ServerFnError>, SliceJson>;
type Extras = Resource<Result<HomeExtras, ServerFnError>, SliceJson>;

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

/// "2 of 3 probe locations reporting", in the reader's language.
fn locations_reporting(locale: Locale, reporting: u32, total: u32) -> String {
    match locale {
        Locale::Fr if reporting > 1 => {
            format!("{reporting} emplacements de sonde sur {total} répondent")
        }
        Locale::Fr => format!("{reporting} emplacement de sonde sur {total} répond"),
        Locale::En => format!("{reporting} of {total} probe locations reporting"),
    }
}

#[component]
fn Overview(
    page: StatusPage,
    extras: Option<HomeExtras>,
    t: &'static Texts,
    locale: Locale,
) -> impl IntoView {
    let extras = extras.unwrap_or_else(|| HomeExtras {
        timezone: String::new(),
        data_as_of: None,
        stale: false,
        active_maintenance: Vec::new(),
        upcoming_maintenance: Vec::new(),
        recent_incidents: Vec::new(),
        locations: None,
    });
    let recent = extras.recent_incidents;
    let zone = page.timezone.clone();
    let stale_since = extras.data_as_of.filter(|_| extras.stale);
    let data_as_of = extras.data_as_of;
    let mut windows = extras.active_maintenance;
    windows.extend(extras.upcoming_maintenance);
    let banner = banner(&page, t);
    let banner_class = format!("banner banner-{}", banner.0);
    view! {
        <header class="page-header">
            <h1>{page.title.clone()}</h1>
        </header>
        {stale_since.map(|since| view! {
            <p class="stale-banner" role="status">{t.stale(&since, &zone)}</p>
        }.into_any())}
        <section class=banner_class aria-live="polite">
            <p class="banner-text">{banner.1}</p>
            <p class="freshness">
                <UpdatedClock generated_at=page.generated_at local=page.generated_local zone=zone.clone()/>
                {data_as_of.map(|at| view! {
                    " · "
                    <time class="data-as-of" datetime=at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)>{t.data_as_of(&at, &zone)}</time>
                }.into_any())}
                {extras.locations.map(|(reporting, total)| view! {
                    " · "
                    <span class="locations-reporting">{locations_reporting(locale, reporting, total)}</span>
                })}
            </p>
        </section>
        {(!page.incidents.is_empty()).then(|| view! {
            <section class="incidents" aria-labelledby="incidents-title">
                <h2 id="incidents-title">{t.open_incidents()}</h2>
                {page.incidents.into_iter().map(|i| view! { <IncidentCard incident=i zone=zone.clone()/> }).collect_view()}
            </section>
        })}
        {(!windows.is_empty()).then(|| view! {
            <section class="home-maintenance" aria-labelledby="maintenance-title">
                <h2 id="maintenance-title">{t.home_maintenance()}</h2>
                <MaintenanceList windows zone=zone.clone()/>
                <p><a href=href("/maintenance", &[])>{t.all_maintenance()}</a></p>
            </section>
        }.into_any())}
        {page.groups.into_iter().map(|g| view! { <ServiceGroup group=g zone=zone.clone()/> }).collect_view()}
        <DayBarLegend/>
        <RecentIncidents recent t zone=zone.clone()/>
    }
}

/// Incidents resolved in the last days, so `/` keeps a trace of what happened once it is over.
#[component]
fn RecentIncidents(recent: Vec<RecentIncident>, t: &'static Texts, zone: String) -> impl IntoView {
    let list = if recent.is_empty() {
        view! { <p class="empty">{t.no_recent_incidents()}</p> }.into_any()
    } else {
        view! {
            <ul class="recent-incidents-list">
                {recent
                    .into_iter()
                    .map(|i| {
                        let span = match i.resolved_at {
                            Some(end) => format!(
                                "{} · {}",
                                t.date_time(&i.started_at, &zone),
                                t.lasted((end - i.started_at).num_seconds())
                            ),
                            None => t.date_time(&i.started_at, &zone),
                        };
                        view! {
                            <li class=format!("recent-incident impact-{}", i.impact.as_str()) data-incident=i.id>
                                <a class="entry-title" href=href(&format!("/incidents/{}", i.id), &[])>{i.title}</a>
                                <span class="entry-meta">
                                    {t.incident_status(i.status)} " · " {t.impact(i.impact)} " · "
                                    <time datetime=i.started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)>{span}</time>
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

/// The banner's class and sentence for the current states and open incidents.
fn banner(page: &StatusPage, t: &'static Texts) -> (&'static str, String) {
    use domain::banner::BannerLevel as L;
    let states: Vec<ServiceState> = page
        .groups
        .iter()
        .flat_map(|g| g.services.iter().map(|s| s.state))
        .collect();
    let impacts: Vec<_> = page.incidents.iter().map(|i| i.impact).collect();
    let b = domain::banner::banner(&states, &impacts);
    let text = match b.level {
        L::Major | L::Minor if b.from_incidents => {
            t.banner_incidents(b.level == L::Major, b.incidents)
        }
        L::Major => t.banner_major(b.affected),
        L::Minor => t.banner_minor(b.affected),
        L::Maintenance => t.banner_maintenance.to_owned(),
        L::Operational if b.partial_data => t.banner_operational_partial_data.to_owned(),
        L::Operational => t.banner_operational.to_owned(),
        L::NoData => t.banner_no_data.to_owned(),
    };
    (b.level.css_class(), text)
}
