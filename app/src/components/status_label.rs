//! A service status as icon *and* words (never colour alone).

use domain::locale::Locale;
use domain::status::ServiceState;
use leptos::prelude::*;

#[component]
pub fn StatusLabel(state: ServiceState) -> impl IntoView {
    let t = wording::texts(use_context::<Locale>().unwrap_or_default());
    view! {
        <span class=format!("status status-{}", state.css_class())>
            <span class="status-icon" aria-hidden="true">{wording::status_icon(state)}</span>
            " "
            <span class="status-text">{t.state(state)}</span>
        </span>
    }
}
