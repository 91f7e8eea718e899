//! An open incident on the overview: title (linking to its page), impact, state, affected
//! services and the latest update, its times in the site timezone and labelled. The update's
//! HTML was sanitised when staff published it (pulldown-cmark + ammonia) and is inserted as
//! stored.

use domain::incident::OpenIncident;
use domain::locale::Locale;
use leptos::prelude::*;

use crate::components::site_chrome::href;

#[component]
pub fn IncidentCard(incident: OpenIncident, zone: String) -> impl IntoView {
    let t = wording::texts(use_context::<Locale>().unwrap_or_default());
    let services = incident
        .services
        .iter()
        .map(|s| s.name.clone())
        .collect::<Vec<_>>()
        .join(", ");
    let since = t.since(&incident.started_at, &zone);
    view! {
        <article class=format!("incident impact-{}", incident.impact.as_str()) data-incident=incident.id>
            <h3 class="incident-title">
                <a href=href(&format!("/incidents/{}", incident.id), &[])>{incident.title.clone()}</a>
            </h3>
            <p class="incident-meta">
                <span class="incident-state">{t.incident_status(incident.status)}</span>
                " · "
                <time datetime=incident.started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)>{since}</time>
            </p>
            {(!services.is_empty()).then(|| view! { <p class="incident-services">{t.affected(&services)}</p> })}
            {incident.latest.map(|u| view! {
                <div class="incident-update">
                    <p class="incident-update-meta">
                        <strong>{t.incident_status(u.status)}</strong>
                        " — "
                        <time datetime=u.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)>{t.date_time(&u.created_at, &zone)}</time>
                    </p>
                    <div class="incident-body" inner_html=u.message_html></div>
                </div>
            })}
        </article>
    }
}
