//! A service status as icon *and* words (never colour alone).

use domain::locale::Locale;
use domain::status::{ComponentStatus, ServiceState};
use leptos::prelude::*;

/// The icon shown beside a status word; hidden from screen readers, which read the word.
pub fn icon(state: ServiceState) -> &'static str {
    match state {
        ServiceState::NoData => "?",
        ServiceState::Known(ComponentStatus::Operational) => "✓",
        ServiceState::Known(ComponentStatus::UnderMaintenance) => "⚒",
        ServiceState::Known(ComponentStatus::DegradedPerformance) => "!",
        ServiceState::Known(ComponentStatus::PartialOutage) => "!",
        ServiceState::Known(ComponentStatus::MajorOutage) => "✕",
    }
}

#[component]
pub fn StatusLabel(state: ServiceState) -> impl IntoView {
    let t = crate::i18n::texts(use_context::<Locale>().unwrap_or_default());
    view! {
        <span class=format!("status status-{}", state.css_class())>
            <span class="status-icon" aria-hidden="true">{icon(state)}</span>
            " "
            <span class="status-text">{t.state(state)}</span>
        </span>
    }
}
