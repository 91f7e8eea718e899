//! A service status as icon *and* words (never colour alone).

use leptos::prelude::*;

use crate::words::StatusWords;

#[component]
pub fn StatusLabel(status: StatusWords) -> impl IntoView {
    view! {
        <span class=format!("status status-{}", status.class)>
            <span class="status-icon" aria-hidden="true">{status.icon}</span>
            " "
            <span class="status-text">{status.text}</span>
        </span>
    }
}
