//! `/history?page=N`: incidents and maintenance windows by month (site timezone), newest
//! first, paged with plain links that work without JS.

use domain::incident::{HistoryEntry, HistoryPage as History};
use domain::locale::Locale;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::get_history;
use crate::components::site_chrome::{href, site_title, PageTitle};
use crate::pages::incident::LoadError;
use crate::pages::not_found::NotFound;
use wording::Texts;

/// The `page` query value: absent means 1; anything that is not a positive number is no page.
pub fn requested_page() -> impl Fn() -> Option<u32> + Copy + Send + Sync + 'static {
    let query = use_query_map();
    move || {
        query.with(|q| match q.get("page") {
            None => Some(1),
            Some(p) => p.parse::<u32>().ok().filter(|p| *p > 0),
        })
    }
}

#[component]
pub fn HistoryPage() -> impl IntoView {
    let t = wording::texts(use_context::<Locale>().unwrap_or_default());
    let page = requested_page();
    let history = Resource::new(page, |page| async move {
        match page {
            Some(p) => get_history(p).await,
            None => Ok(None),
        }
    });
    view! {
        <Suspense fallback=move || view! { <p class="loading">{t.loading}</p> }>
            {move || Suspend::new(async move {
                match history.await {
                    Ok(Some(h)) => view! { <HistoryView history=h t/> }.into_any(),
                    Ok(None) => view! { <NotFound/> }.into_any(),
                    Err(_) => view! { <LoadError t/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn HistoryView(history: History, t: &'static Texts) -> impl IntoView {
    let title = format!("{} — {}", t.nav_history(), site_title());
    let empty = history.months.is_empty();
    let zone = history.timezone.clone();
    let months = history
        .months
        .into_iter()
        .map(|m| {
            let id = format!("month-{}-{:02}", m.year, m.month);
            let heading = t.month_year(m.year, m.month);
            let labelled_by = id.clone();
            view! {
                <section class="history-month" aria-labelledby=labelled_by>
                    <h2 id=id>{heading}</h2>
                    <ul class="history-entries">
                        {m.entries.into_iter().map(|e| view! { <Entry entry=e t zone=zone.clone()/> }).collect_view()}
                    </ul>
                </section>
            }
        })
        .collect_view();
    view! {
        <PageTitle text=title/>
        <h1>{t.history_title()}</h1>
        {empty.then(|| view! { <p class="empty">{t.history_empty()}</p> })}
        {months}
        <Pager base="/history" page=history.page pages=history.pages t/>
        <p class="timezone-note">{t.times_in(&history.timezone)}</p>
    }
}

#[component]
fn Entry(entry: HistoryEntry, t: &'static Texts, zone: String) -> impl IntoView {
    match entry {
        HistoryEntry::Incident {
            id,
            title,
            status,
            impact,
            started_at,
            resolved_at,
        } => {
            let span = match resolved_at {
                Some(end) => format!(
                    "{} · {}",
                    t.date_time(&started_at, &zone),
                    t.lasted((end - started_at).num_seconds())
                ),
                None => t.date_time(&started_at, &zone),
            };
            view! {
                <li class=format!("history-entry history-incident impact-{}", impact.as_str()) data-incident=id>
                    <span class="entry-kind">{t.incident_word()}</span>
                    <a class="entry-title" href=href(&format!("/incidents/{id}"), &[])>{title}</a>
                    <span class="entry-meta">
                        {t.incident_status(status)} " · " {t.impact(impact)} " · "
                        <time datetime=started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)>{span}</time>
                    </span>
                </li>
            }
            .into_any()
        }
        HistoryEntry::Maintenance {
            id,
            title,
            status,
            starts_at,
            ends_at,
            page,
        } => {
            let target = if page > 1 {
                href("/maintenance", &[("page", page.to_string())])
            } else {
                href("/maintenance", &[])
            };
            view! {
                <li class="history-entry history-maintenance" data-maintenance=id>
                    <span class="entry-kind">{t.maintenance_word()}</span>
                    <a class="entry-title" href=format!("{target}#maintenance-{id}")>{title}</a>
                    <span class="entry-meta">
                        {t.maintenance_status(status)} " · "
                        <time datetime=starts_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)>{t.window(&starts_at, &ends_at, &zone)}</time>
                    </span>
                </li>
            }
            .into_any()
        }
    }
}

/// "← Newer · Page 2 of 5 · Older →" as plain links.
#[component]
pub fn Pager(base: &'static str, page: u32, pages: u32, t: &'static Texts) -> impl IntoView {
    let link = move |p: u32| {
        if p == 1 {
            href(base, &[])
        } else {
            href(base, &[("page", p.to_string())])
        }
    };
    (pages > 1).then(|| {
        view! {
            <nav class="pager" aria-label=t.pagination()>
                {(page > 1).then(|| view! { <a rel="prev" href=link(page - 1)>{t.newer()}</a> })}
                <span class="pager-position" aria-current="page">{t.page_of(page, pages)}</span>
                {(page < pages).then(|| view! { <a rel="next" href=link(page + 1)>{t.older()}</a> })}
            </nav>
        }
    })
}
