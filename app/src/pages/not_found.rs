//! The 404 page, with the right status code on the server.

use domain::locale::Locale;
use leptos::prelude::*;

use crate::components::site_chrome::{href, PageTitle};

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(http::StatusCode::NOT_FOUND);
    }
    let t = wording::texts(use_context::<Locale>().unwrap_or_default());
    view! {
        <PageTitle text=t.not_found/>
        <h1>{t.not_found}</h1>
        <p><a href=href("/", &[])>{t.back_home}</a></p>
    }
}
