//! Maintenance windows as a list: title, status, window in the site timezone, services
//! (linking to their pages) and the message (sanitised when staff wrote it), worded by the
//! server ([`crate::words::window`]).

use domain::locale::Locale;
use leptos::prelude::*;

use crate::components::site_chrome::href;
use crate::words::WindowWords;

#[component]
pub fn MaintenanceList(windows: Vec<WindowWords>) -> impl IntoView {
    let t = wording::texts(use_context::<Locale>().unwrap_or_default());
    view! {
        <ul class="maintenance-list">
            {windows
                .into_iter()
                .map(|w| {
                    let has_services = !w.services.is_empty();
                    let services = w
                        .services
                        .into_iter()
                        .map(|(id, name)| {
                            view! {
                                <li>
                                    <a href=href(&format!("/services/{id}"), &[])>
                                        {name}
                                    </a>
                                </li>
                            }
                        })
                        .collect_view();
                    view! {
                        <li
                            class=format!("maintenance maintenance-{}", w.status_class)
                            id=format!("maintenance-{}", w.id)
                            data-maintenance=w.id
                        >
                            <h3 class="maintenance-title">{w.title}</h3>
                            <p class="maintenance-meta">
                                <span class="maintenance-status">{w.status}</span>
                                " · "
                                <time datetime=w.window.attr>
                                    {w.window.text}
                                </time>
                            </p>
                            {has_services.then(|| view! {
                                <div class="maintenance-services">
                                    <span>{t.affected_services()}</span>
                                    <ul class="service-links">{services}</ul>
                                </div>
                            })}
                            <div class="maintenance-body" inner_html=w.html></div>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}
