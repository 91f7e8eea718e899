//! Maintenance windows as a list: title, status, window in the site timezone, services
//! (linking to their pages) and the message (sanitised when staff wrote it).

use domain::incident::MaintenanceEntry;
use domain::locale::Locale;
use leptos::prelude::*;

use crate::components::site_chrome::href;

#[component]
pub fn MaintenanceList(windows: Vec<MaintenanceEntry>, zone: String) -> impl IntoView {
    let t = wording::texts(use_context::<Locale>().unwrap_or_default());
    view! {
        <ul class="maintenance-list">
            {windows
                .into_iter()
                .map(|w| {
                    let services = w
                        .services
                        .iter()
                        .map(|s| {
                            view! {
                                <li>
                                    <a href=href(&format!("/services/{}", s.service_id), &[])>
                                        {s.name.clone()}
                                    </a>
                                </li>
                            }
                        })
                        .collect_view();
                    view! {
                        <li
                            class=format!("maintenance maintenance-{}", w.status.as_str())
                            id=format!("maintenance-{}", w.id)
                            data-maintenance=w.id
                        >
                            <h3 class="maintenance-title">{w.title.clone()}</h3>
                            <p class="maintenance-meta">
                                <span class="maintenance-status">{t.maintenance_status(w.status)}</span>
                                " · "
                                <time datetime=w.starts_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)>
                                    {t.window(&w.starts_at, &w.ends_at, &zone)}
                                </time>
                            </p>
                            {(!w.services.is_empty()).then(|| view! {
                                <div class="maintenance-services">
                                    <span>{t.affected_services()}</span>
                                    <ul class="service-links">{services}</ul>
                                </div>
                            })}
                            <div class="maintenance-body" inner_html=w.message_html></div>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}
