//! `/services/{slug}`: one service in detail. Status and cause, description and link, uptime
//! over 24 h / 7 d / 30 d / 90 d, the 90-day bar, the response-time chart with its range
//! switch (plain links, so it works without JS), the latest result per probe location, the
//! monitors, the incidents that touched it, and its feeds. Unknown slugs get the 404 page.

use domain::chart::ChartRange;
use domain::locale::Locale;
use domain::page::ServicePage;
use leptos::prelude::*;
use leptos_meta::Link;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::get_service;
use crate::components::day_bar::{DayBar, DayBarLegend};
use crate::components::latency_chart::LatencyChart;
use crate::components::site_chrome::{href, PageTitle};
use crate::components::status_label::StatusLabel;
use crate::pages::not_found::NotFound;
use crate::words::StatusWords;
use wording::Texts;

#[component]
pub fn ServiceDetailPage() -> impl IntoView {
    let locale = use_context::<Locale>().unwrap_or_default();
    let t = wording::texts(locale);
    let params = use_params_map();
    let query = use_query_map();
    let data = Resource::new(
        move || {
            (
                params.read().get("slug").unwrap_or_default(),
                query.read().get("range").unwrap_or_default(),
            )
        },
        |(slug, range)| get_service(slug, range),
    );
    // Keeps `?lang=` on the range links, so a reader who picked a language keeps it.
    let lang = move || query.read().get("lang");
    view! {
        <Suspense fallback=move || view! { <p class="loading">{t.loading}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Some(page)) => view! { <Detail page t lang=lang()/> }.into_any(),
                    Ok(None) => view! { <NotFound/> }.into_any(),
                    Err(_) => {
                        // Said with 503 on the server, so the last good page can stand in.
                        #[cfg(feature = "ssr")]
                        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
                            resp.set_status(http::StatusCode::SERVICE_UNAVAILABLE);
                        }
                        view! {
                            <PageTitle text=t.error_loading/>
                            <p class="error" role="alert">{t.error_loading}</p>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn Detail(page: ServicePage, t: &'static Texts, lang: Option<String>) -> impl IntoView {
    let s = page.service;
    let slug = s.slug.clone();
    let rss = format!("/services/{slug}/feed.rss");
    let atom = format!("/services/{slug}/feed.atom");
    let range = page.range;
    let lang_suffix = lang
        .filter(|l| Locale::from_tag(l).is_some())
        .map(|l| format!("&lang={l}"))
        .unwrap_or_default();
    let windows = [
        ("24h", page.uptime.h24),
        ("7d", page.uptime.d7),
        ("30d", page.uptime.d30),
        ("90d", page.uptime.d90),
    ];
    let [c_monitor, c_location, c_last, c_outcome, c_latency, c_reason] = t.location_columns();
    let tz = page.timezone.clone();
    let zone = page.timezone.clone();
    let cause = s
        .cause
        .as_ref()
        .map(|c| t.cause(c, s.cause_at.as_ref(), &page.timezone));
    // Every window lies within the bar's days: under an hour of data there is under an
    // hour in each window too, and no figure means anything yet.
    let coverage = domain::availability::Coverage::of(&s.days);
    let uptime_section = view! {
            <section class="uptime" aria-labelledby="uptime-title">
                <h2 id="uptime-title">{t.uptime_heading()}</h2>
                <dl class="uptime-windows">
                    {windows
                        .into_iter()
                        .map(|(w, pct)| view! {
                            <div class="uptime-window" data-window=w>
                                <dt>{t.range_label(w)}</dt>
                                <dd>{t.uptime_figure(pct, coverage)}</dd>
                            </div>
                        })
                        .collect_view()}
                </dl>
                <DayBar label=t.day_bar_name(&s.name, s.days.len()) days=crate::words::days(t, &s.days)/>
                <DayBarLegend/>
            </section>
    }
    .into_any();
    let latency_section = view! {
            <section class="latency" aria-labelledby="latency-heading">
                <h2 id="latency-heading">{t.response_time()}</h2>
                <nav class="range-switch" aria-label=t.period()>
                    {ChartRange::ALL
                        .into_iter()
                        .map(|r| {
                            let current = r == range;
                            view! {
                                <a
                                    href=format!("?range={}{}", r.as_str(), lang_suffix)
                                    aria-current=current.then_some("page")
                                >
                                    {t.range_label(r.as_str())}
                                </a>
                            }
                        })
                        .collect_view()}
                </nav>
                <LatencyChart service=s.name.clone() points=page.latency range timezone=tz.clone()/>
            </section>
    }
    .into_any();
    let locations_section = view! {
            <section class="locations" aria-labelledby="locations-title">
                <h2 id="locations-title">{t.locations_heading()}</h2>
                <div class="table-scroll">
                    <table>
                        <thead>
                            <tr>
                                <th scope="col">{c_monitor}</th>
                                <th scope="col">{c_location}</th>
                                <th scope="col">{c_last}</th>
                                <th scope="col">{c_outcome}</th>
                                <th scope="col">{c_latency}</th>
                                <th scope="col">{c_reason}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {page
                                .locations
                                .into_iter()
                                .map(|l| {
                                    let outcome_class = format!(
                                        "outcome outcome-{}",
                                        l.outcome.map_or("none", |o| o.as_str())
                                    );
                                    view! {
                                        <tr data-location=l.location_id.clone()>
                                            <td data-label=c_monitor>{l.monitor}</td>
                                            <td data-label=c_location>{l.location_name}</td>
                                            <td data-label=c_last>{l.last_at.map(|a| t.naive_date_time(a, &tz)).unwrap_or_default()}</td>
                                            <td data-label=c_outcome class=outcome_class>{t.outcome(l.outcome)}</td>
                                            <td data-label=c_latency>{l.latency_ms.map(|ms| t.ms(i64::from(ms))).unwrap_or_default()}</td>
                                            <td data-label=c_reason>{l.reason.as_ref().map(|r| t.reason(r, l.reason_at.as_ref(), &tz)).unwrap_or_default()}</td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                </div>
                <p class="chart-tz">{t.times_in(&tz)}</p>
            </section>
    }
    .into_any();
    let monitors_section = view! {
            <section class="monitors" aria-labelledby="monitors-title">
                <h2 id="monitors-title">{t.monitors_heading()}</h2>
                <ul>
                    {page
                        .monitors
                        .into_iter()
                        .map(|m| view! {
                            <li><strong>{m.id}</strong> " — " {t.monitor_line(&m.kind, m.interval_secs, m.locations)}</li>
                        })
                        .collect_view()}
                </ul>
            </section>
    }
    .into_any();
    let incidents_section = view! {
            <section class="service-incidents" aria-labelledby="service-incidents-title">
                <h2 id="service-incidents-title">{t.incidents_heading()}</h2>
                {if page.incidents.is_empty() {
                    view! { <p>{t.no_service_incidents()}</p> }.into_any()
                } else {
                    view! {
                        <ul>
                            {page
                                .incidents
                                .into_iter()
                                .map(|i| {
                                    let span = t.incident_span(i.started_at, i.resolved_at, &zone);
                                    view! {
                                        <li class=format!("incident-line impact-{}", i.impact.as_str())>
                                            <a href=href(&format!("/incidents/{}", i.id), &[])>{i.title}</a>
                                            " — "
                                            <span class="incident-state">{t.incident_status(i.status)}</span>
                                            " — "
                                            <span class="incident-span">{span}</span>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                    .into_any()
                }}
            </section>
    }
    .into_any();
    let feeds_section = view! {
            <section class="feeds" aria-labelledby="feeds-title">
                <h2 id="feeds-title">{t.feeds_heading()}</h2>
                <ul>
                    <li><a href=rss.clone() type="application/rss+xml">{t.feed_title("RSS", &s.name)}</a></li>
                    <li><a href=atom.clone() type="application/atom+xml">{t.feed_title("Atom", &s.name)}</a></li>
                </ul>
            </section>
    }
    .into_any();
    view! {
        <PageTitle text=format!("{} — {}", s.name, page.site_title)/>
        <Link rel="alternate" type_="application/rss+xml" title=t.feed_title("RSS", &s.name) href=rss.clone()/>
        <Link rel="alternate" type_="application/atom+xml" title=t.feed_title("Atom", &s.name) href=atom.clone()/>
        <p class="breadcrumb"><a href=href("/", &[])>{t.back_home}</a></p>
        <article class="service-page" data-service=slug.clone() data-status=s.state.css_class()>
            <header class="service-header">
                <h1>{s.name.clone()}</h1>
                <StatusLabel status=StatusWords::of(t, s.state)/>
                {cause.map(|c| view! { <p class="service-cause">{c}</p> })}
                {s.description.clone().map(|d| view! { <p class="service-description">{d}</p> })}
                {s.url.clone().map(|u| view! { <p class="service-url"><a href=u rel="noopener">{t.visit_service()}</a></p> })}
            </header>

            {uptime_section}

            {latency_section}

            {locations_section}

            {monitors_section}

            {incidents_section}

            {feeds_section}
        </article>
    }
    .into_any()
}
