//! "Updated 12 s ago": counts from the server's `generated_at`. The server renders the
//! absolute time ("Mis à jour à 10:42:05 (heure de Paris)"), which stays true with JS off;
//! the hydrated page renders the same text first (hydration matches), then its effect turns
//! it into a relative time that ticks every second.

use domain::locale::Locale;
use leptos::prelude::*;

#[component]
pub fn UpdatedClock(
    /// When the server assembled the page, in milliseconds since the epoch.
    generated_ms: i64,
    /// The same instant in RFC 3339, for `datetime`.
    attr: String,
    /// The same instant in words in the site timezone, for the text shown without JS.
    local: Option<String>,
) -> impl IntoView {
    let t = wording::texts(use_context::<Locale>().unwrap_or_default());
    let (now_ms, set_now_ms) = signal(generated_ms);
    let (ticking, set_ticking) = signal(false);
    // Effects run only in the browser, after hydration.
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
        set_ticking.set(true);
    });
    let seconds = move || ((now_ms.get() - generated_ms).max(0) / 1000) as u64;
    let text = move || match (ticking.get(), &local) {
        (false, Some(at)) => at.clone(),
        _ => t.updated_ago(seconds()),
    };
    view! {
        <time class="updated-clock" datetime=attr>
            {text}
        </time>
    }
}
