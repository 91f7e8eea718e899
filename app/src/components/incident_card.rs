//! An open incident on the overview: title (linking to its page), impact, state, affected
//! services and the latest update, its times in the site timezone and labelled, worded by the
//! server ([`crate::words`]). The update's HTML was sanitised when staff published it
//! (pulldown-cmark + ammonia) and is inserted as stored.

use leptos::prelude::*;

use crate::components::site_chrome::href;
use crate::words::IncidentWords;

#[component]
pub fn IncidentCard(incident: IncidentWords) -> impl IntoView {
    view! {
        <article class=format!("incident impact-{}", incident.impact) data-incident=incident.id>
            <h3 class="incident-title">
                <a href=href(&format!("/incidents/{}", incident.id), &[])>{incident.title}</a>
            </h3>
            <p class="incident-meta">
                <span class="incident-state">{incident.status}</span>
                " · "
                <time datetime=incident.since.attr>{incident.since.text}</time>
            </p>
            {incident.affected.map(|a| view! { <p class="incident-services">{a}</p> })}
            {incident.latest.map(|u| view! {
                <div class="incident-update">
                    <p class="incident-update-meta">
                        <strong>{u.status}</strong>
                        " — "
                        <time datetime=u.at.attr>{u.at.text}</time>
                    </p>
                    <div class="incident-body" inner_html=u.html></div>
                </div>
            })}
        </article>
    }
}
