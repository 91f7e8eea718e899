//! Light / dark / system theme. Without JS the page follows `prefers-color-scheme` and this
//! control stays hidden (it could do nothing). In the hydrated page the choice is stored in
//! `localStorage` and written to `<html data-theme>`; a small script in the document head
//! (see `shell`) applies the stored choice before first paint, so there is no flash.

use domain::locale::Locale;
use leptos::prelude::*;

/// The `localStorage` key holding `light` or `dark` (absent: follow the system).
pub const STORAGE_KEY: &str = "vigie-theme";

/// Run in `<head>` before the body paints; kept tiny and free of user input.
pub const EARLY_SCRIPT: &str = "try{var t=localStorage.getItem('vigie-theme');if(t==='light'||t==='dark'){document.documentElement.setAttribute('data-theme',t)}}catch(e){}";

const CHOICES: [&str; 3] = ["light", "dark", "system"];

/// An island: hydrated on every page, with the page's language as its prop.
#[island]
pub fn ThemeToggle(locale: Locale) -> impl IntoView {
    let t = wording::texts(locale);
    let (choice, set_choice) = signal("system");
    let (hydrated, set_hydrated) = signal(false);
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(stored) = storage().and_then(|s| s.get_item(STORAGE_KEY).ok().flatten()) {
            if let Some(c) = CHOICES.into_iter().find(|c| *c == stored) {
                set_choice.set(c);
            }
        }
        set_hydrated.set(true);
    });
    let buttons = CHOICES
        .into_iter()
        .map(|c| {
            view! {
                <button
                    type="button"
                    data-theme-choice=c
                    aria-pressed=move || (choice.get() == c).to_string()
                    on:click=move |_| {
                        set_choice.set(c);
                        apply(c);
                    }
                >
                    {t.theme_choice(c)}
                </button>
            }
        })
        .collect_view();
    view! {
        <div class="theme-toggle" role="group" aria-label=t.theme() hidden=move || !hydrated.get()>
            {buttons}
        </div>
    }
}

#[cfg(feature = "hydrate")]
fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

/// Stores the choice and applies it to the document.
fn apply(choice: &'static str) {
    #[cfg(feature = "hydrate")]
    {
        let root = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element());
        let store = storage();
        if choice == "system" {
            if let Some(s) = store {
                let _ = s.remove_item(STORAGE_KEY);
            }
            if let Some(r) = root {
                let _ = r.remove_attribute("data-theme");
            }
        } else {
            if let Some(s) = store {
                let _ = s.set_item(STORAGE_KEY, choice);
            }
            if let Some(r) = root {
                let _ = r.set_attribute("data-theme", choice);
            }
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = choice;
}
