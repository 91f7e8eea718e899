//! A group of services that collapses. The toggle is disabled until the page is hydrated, so
//! without JS the group simply stays open and readable.

use domain::locale::Locale;
use domain::page::GroupView;
use leptos::prelude::*;

use crate::components::day_bar::{DayBar, Tips, MOBILE_DAYS};
use crate::components::site_chrome::href;
use crate::components::status_label::StatusLabel;

#[component]
pub fn ServiceGroup(
    group: GroupView,
    /// The site's timezone (IANA name), which causes' times are given in.
    zone: String,
) -> impl IntoView {
    let t = wording::texts(use_context::<Locale>().unwrap_or_default());
    // Collapsed groups are remembered across live reloads of the overview.
    let folded = use_context::<RwSignal<std::collections::HashSet<String>>>()
        .unwrap_or_else(|| RwSignal::new(Default::default()));
    let group_id = group.id.clone();
    let collapsed = {
        let id = group_id.clone();
        Signal::derive(move || folded.with(|f| f.contains(&id)))
    };
    let toggle = move |_| {
        folded.update(|f| {
            if !f.remove(&group_id) {
                f.insert(group_id.clone());
            }
        })
    };
    let (hydrated, set_hydrated) = signal(false);
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| set_hydrated.set(true));
    let list_id = format!("group-{}", group.id);
    let count = group.services.len();
    let title_id = format!("{list_id}-title");
    let labelled_by = title_id.clone();
    let controls = list_id.clone();
    view! {
        <section class="group" aria-labelledby=labelled_by>
            <h2 id=title_id class="group-title">
                <button
                    type="button"
                    class="group-toggle"
                    aria-expanded=move || (!collapsed.get()).to_string()
                    aria-controls=controls
                    disabled=move || !hydrated.get()
                    on:click=toggle
                >
                    <span class="group-chevron" aria-hidden="true"></span>
                    <span class="group-name">{group.name.clone()}</span>
                    <span class="group-count">{t.service_count(count)}</span>
                </button>
            </h2>
            <ul id=list_id class="services" hidden=move || collapsed.get()>
                {group
                    .services
                    .into_iter()
                    .map(|s| {
                        let coverage = domain::availability::Coverage::of(&s.days);
                        let uptime = t.uptime_figure(s.uptime_90d, coverage);
                        let over = t.uptime_over_days(coverage.days);
                        // Narrow screens show the last 30 days of the bar: the figure
                        // beside it is over those same days there.
                        let recent = &s.days[s.days.len().saturating_sub(MOBILE_DAYS)..];
                        let recent_coverage = domain::availability::Coverage::of(recent);
                        let uptime_recent = t.uptime_figure(
                            domain::availability::uptime_pct(recent),
                            recent_coverage,
                        );
                        let over_recent = t.uptime_over_days(recent_coverage.days);
                        view! {
                            <li class="service" data-service=s.slug.clone() data-status=s.state.css_class()>
                                <div class="service-main">
                                    <a class="service-name" href=href(&format!("/services/{}", s.slug), &[])>{s.name.clone()}</a>
                                    {s.description.clone().map(|d| view! { <span class="service-description">{d}</span> })}
                                    {s.cause.as_ref().map(|c| view! { <span class="service-cause">{t.cause(c, s.cause_at.as_ref(), &zone)}</span> })}
                                </div>
                                <StatusLabel state=s.state/>
                                <p class="service-uptime uptime-all">
                                    <span class="uptime-figure">{uptime}</span>
                                    " "
                                    <span class="uptime-over">{over}</span>
                                </p>
                                <p class="service-uptime uptime-mobile">
                                    <span class="uptime-figure">{uptime_recent}</span>
                                    " "
                                    <span class="uptime-over">{over_recent}</span>
                                </p>
                                <DayBar name=s.name.clone() days=s.days tips=Tips::Shared { bar: s.slug.clone() }/>
                            </li>
                        }
                        .into_any()
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}
