//! A group of services that collapses. The toggle is disabled until the page is hydrated, so
//! without JS the group simply stays open and readable.

use leptos::prelude::*;

use crate::components::day_bar::{DayBar, Tips};
use crate::components::site_chrome::href;
use crate::components::status_label::StatusLabel;
use crate::words::{DayDate, GroupWords};

/// A group, worded by the server ([`crate::words`]); `dates` are the page's dates its bars'
/// days refer to.
#[component]
pub fn ServiceGroup(group: GroupWords, dates: std::sync::Arc<Vec<DayDate>>) -> impl IntoView {
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
                    <span class="group-count">{group.count}</span>
                </button>
            </h2>
            <ul id=list_id class="services" hidden=move || collapsed.get()>
                {group
                    .services
                    .into_iter()
                    .map(|s| {
                        let days = s.bar.days(&dates);
                        let slug = s.slug.clone();
                        let status_class = s.status.class.clone();
                        view! {
                            <li class="service" data-service=slug data-status=status_class>
                                <div class="service-main">
                                    <a class="service-name" href=href(&format!("/services/{}", s.slug), &[])>{s.name.clone()}</a>
                                    {s.description.clone().map(|d| view! { <span class="service-description">{d}</span> })}
                                    {s.cause.map(|c| view! { <span class="service-cause">{c}</span> })}
                                </div>
                                <StatusLabel status=s.status/>
                                <p class="service-uptime uptime-all">
                                    <span class="uptime-figure">{s.uptime}</span>
                                    " "
                                    <span class="uptime-over">{s.over}</span>
                                </p>
                                <p class="service-uptime uptime-mobile">
                                    <span class="uptime-figure">{s.uptime_recent}</span>
                                    " "
                                    <span class="uptime-over">{s.over_recent}</span>
                                </p>
                                <DayBar label=s.bar.label days tips=Tips::Shared { bar: s.slug }/>
                            </li>
                        }
                        .into_any()
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}
