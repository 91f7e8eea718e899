//! `/`: the overview every reader opens first.

use domain::locale::Locale;
use domain::page::StatusPage;
use domain::status::{ComponentStatus, ServiceState};
use leptos::prelude::*;
use leptos_meta::{Meta, Title};

use crate::api::get_overview;
use crate::components::clock::UpdatedClock;
use crate::components::day_bar::DayBarLegend;
use crate::components::incident_card::IncidentCard;
use crate::components::service_group::ServiceGroup;
use crate::i18n::Texts;

#[component]
pub fn HomePage() -> impl IntoView {
    let locale = use_context::<Locale>().unwrap_or_default();
    let t = crate::i18n::texts(locale);
    let overview = Resource::new(|| (), |_| get_overview());
    follow_live_changes(overview);
    view! {
        <Transition fallback=move || view! { <p class="loading">{t.loading}</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(page) => view! { <Overview page t locale/> }.into_any(),
                    Err(_) => view! {
                        <Title text=t.error_loading/>
                        <p class="error" role="alert">{t.error_loading}</p>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

type Overview = Resource<Result<StatusPage, ServerFnError>>;

/// In the hydrated page, reloads the overview whenever `/events` reports a change, so statuses,
/// causes and the banner follow the engine without a page reload. `EventSource` reconnects by
/// itself after a network cut; without JS the server-rendered page stays as it is.
fn follow_live_changes(overview: Overview) {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use wasm_bindgen::closure::Closure;
        use wasm_bindgen::JsCast;
        let Ok(source) = web_sys::EventSource::new("/events") else {
            return;
        };
        let reload = Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| {
            overview.refetch();
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
    let _ = overview;
}

#[component]
fn Overview(page: StatusPage, t: &'static Texts, locale: Locale) -> impl IntoView {
    let states: Vec<ServiceState> = page
        .groups
        .iter()
        .flat_map(|g| g.services.iter().map(|s| s.state))
        .collect();
    let banner = banner(&states, t);
    let banner_class = format!("banner banner-{}", banner.0);
    view! {
        <Title text=page.title.clone()/>
        <Meta name="description" content=t.meta_description/>
        <header class="page-header">
            <h1>{page.title.clone()}</h1>
            <nav class="lang-switch" aria-label=t.language>
                {domain::locale::Locale::ALL
                    .into_iter()
                    .map(|l| {
                        let current = l == locale;
                        view! {
                            <a
                                href=format!("?lang={}", l.code())
                                hreflang=l.code()
                                lang=l.code()
                                aria-current=if current { Some("true") } else { None }
                            >
                                {l.code().to_uppercase()}
                            </a>
                        }
                    })
                    .collect_view()}
            </nav>
        </header>
        <section class=banner_class aria-live="polite">
            <p class="banner-text">{banner.1}</p>
            <p class="freshness">
                <UpdatedClock generated_at=page.generated_at/>
            </p>
        </section>
        {(!page.incidents.is_empty()).then(|| view! {
            <section class="incidents" aria-labelledby="incidents-title">
                <h2 id="incidents-title">{t.open_incidents()}</h2>
                {page.incidents.into_iter().map(|i| view! { <IncidentCard incident=i/> }).collect_view()}
            </section>
        })}
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
