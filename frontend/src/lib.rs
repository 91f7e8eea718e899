//! The browser entry point: hydrates the page's islands (the live overview, the theme
//! toggle); everything else stays the server's HTML and ships no code.

// Links the app crate, whose `#[island]` components export their hydrate functions: Rust does
// not link a dependency that no code names.
use app as _;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
