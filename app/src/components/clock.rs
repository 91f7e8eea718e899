//! "Updated 12 s ago": counts from the server's `generated_at`. The server renders the first
//! value; only the hydrated page ticks, so the text is the same on both sides at hydration.

use chrono::{DateTime, Utc};
use domain::locale::Locale;
use leptos::prelude::*;

#[component]
pub fn UpdatedClock(generated_at: DateTime<Utc>) -> impl IntoView {
    let t = crate::i18n::texts(use_context::<Locale>().unwrap_or_default());
    let generated_ms = generated_at.timestamp_millis();
    let (now_ms, set_now_ms) = signal(generated_ms);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            let tick = move || set_now_ms.set(js_sys::Date::now() as i64);
            tick();
            if let Ok(handle) = set_interval_with_handle(tick, std::time::Duration::from_secs(1)) {
                on_cleanup(move || handle.clear());
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = set_now_ms;
    });
    let seconds = move || ((now_ms.get() - generated_ms).max(0) / 1000) as u64;
    view! {
        <time class="updated-clock" datetime=generated_at.to_rfc3339()>
            {move || t.updated_ago(seconds())}
        </time>
    }
}
