//! `/incidents/{id}`: one incident told in order: headline, impact, affected services with the
//! status each was given, duration, every update, and the postmortem when there is one.
//! Unknown or non-numeric ids get the 404 page.

use domain::incident::{IncidentPage as Story, UpdateEntry};
use domain::locale::Locale;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::api::get_incident;
use crate::components::site_chrome::{href, site_title, PageTitle};
use crate::components::status_label::StatusLabel;
use crate::pages::not_found::NotFound;
use crate::words::StatusWords;
use wording::Texts;

#[component]
pub fn IncidentPage() -> impl IntoView {
    let locale = use_context::<Locale>().unwrap_or_default();
    let t = wording::texts(locale);
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|s| s.parse::<i64>().ok()));
    let story = Resource::new(id, |id| async move {
        match id {
            Some(id) => get_incident(id).await,
            None => Ok(None),
        }
    });
    view! {
        <Suspense fallback=move || view! { <p class="loading">{t.loading}</p> }>
            {move || Suspend::new(async move {
                match story.await {
                    Ok(Some(page)) => view! { <Incident page t/> }.into_any(),
                    Ok(None) => view! { <NotFound/> }.into_any(),
                    Err(_) => view! { <LoadError t/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The page when the store cannot be read: said plainly, with status 503 on the server.
#[component]
pub fn LoadError(t: &'static Texts) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(http::StatusCode::SERVICE_UNAVAILABLE);
    }
    view! {
        <PageTitle text=t.error_loading/>
        <h1>{t.error_loading}</h1>
        <p><a href=href("/", &[])>{t.back_home}</a></p>
    }
}

/// One incident's story as readers see it. Public so the staff console's preview renders
/// exactly this.
#[component]
pub fn Incident(page: Story, t: &'static Texts) -> impl IntoView {
    let now = page.generated_at;
    let duration = match page.resolved_at {
        Some(end) => t.lasted((end - page.started_at).num_seconds()),
        None => t.ongoing_since(
            &page.started_at,
            (now - page.started_at).num_seconds(),
            &page.timezone,
        ),
    };
    let services = page
        .services
        .iter()
        .map(|s| {
            view! {
                <li class="affected-service" data-service=s.service_id.clone()>
                    <a href=href(&format!("/services/{}", s.service_id), &[])>{s.name.clone()}</a>
                    " "
                    <StatusLabel status=StatusWords::of(t, domain::status::ServiceState::Known(s.status))/>
                </li>
            }
        })
        .collect_view();
    let has_services = !page.services.is_empty();
    let title = format!("{} — {}", page.title, site_title());
    let updates = page.updates;
    let postmortem = page.postmortem;
    let zone = page.timezone.clone();
    let pm_zone = zone.clone();
    view! {
        <PageTitle text=title/>
        <article class=format!("incident-page impact-{}", page.impact.as_str()) data-incident=page.id>
            <header class="incident-head">
                <p class="eyebrow">{t.incident_word()}</p>
                <h1>{page.title.clone()}</h1>
                <p class="incident-meta">
                    <span class="incident-state">{t.incident_status(page.status)}</span>
                    " · "
                    <span class="incident-impact">{t.impact(page.impact)}</span>
                </p>
                <p class="incident-when">
                    <time datetime=page.started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)>{t.started(&page.started_at, &page.timezone)}</time>
                    {page.resolved_at.map(|r| view! {
                        " · "
                        <time datetime=r.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)>{t.resolved(&r, &zone)}</time>
                    })}
                </p>
                <p class="incident-duration">{duration}</p>
            </header>
            {has_services.then(|| view! {
                <section aria-labelledby="affected-title">
                    <h2 id="affected-title">{t.affected_services()}</h2>
                    <ul class="affected-services">{services}</ul>
                </section>
            }.into_any())}
            <section aria-labelledby="updates-title">
                <h2 id="updates-title">{t.updates()}</h2>
                {if updates.is_empty() {
                    view! { <p>{t.no_updates()}</p> }.into_any()
                } else {
                    view! { <Updates updates now t zone=zone.clone()/> }.into_any()
                }}
            </section>
            {(!postmortem.is_empty()).then(|| view! {
                <section class="postmortem" aria-labelledby="postmortem-title">
                    <h2 id="postmortem-title">{t.postmortem()}</h2>
                    <Updates updates=postmortem now t zone=pm_zone.clone()/>
                </section>
            }.into_any())}
            <p class="timezone-note">{t.times_in(&page.timezone)}</p>
        </article>
    }
}

#[component]
fn Updates(
    updates: Vec<UpdateEntry>,
    now: domain::incident::SiteTime,
    t: &'static Texts,
    zone: String,
) -> impl IntoView {
    view! {
        <ol class="incident-updates">
            {updates
                .into_iter()
                .map(|u| {
                    let ago = t.relative((now - u.created_at).num_seconds());
                    view! {
                        <li class="incident-update" data-update=u.id data-state=u.status.as_str()>
                            <p class="incident-update-meta">
                                <strong class="update-state">{t.incident_status(u.status)}</strong>
                                " — "
                                <time datetime=u.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)>
                                    {t.date_time(&u.created_at, &zone)}
                                </time>
                                " "
                                <span class="relative">{format!("({ago})")}</span>
                                {u.edited_at.map(|e| view! {
                                    " · "
                                    <span class="edited">{t.edited(&e, &zone)}</span>
                                })}
                            </p>
                            <div class="incident-body" inner_html=u.message_html></div>
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}
