//! Vigie's public pages as Leptos components. With `ssr` they render on the server and read
//! the store through `#[server]` functions. Leptos runs in islands mode: only the `#[island]`
//! components (the live overview, the theme toggle) are built for the browser (`hydrate`) and
//! take over there; every other part of a page is plain server HTML with no code shipped. The
//! two features never build together.

pub mod api;
pub mod codec;
pub mod components;
#[cfg(feature = "ssr")]
pub mod context;
pub mod i18n;
pub mod pages;
pub mod words;

use domain::locale::Locale;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{ParamSegment, SsrMode, StaticSegment};

use crate::components::site_chrome::SiteHeader;
use crate::pages::history::HistoryPage;
use crate::pages::home::HomePage;
use crate::pages::incident::IncidentPage;
use crate::pages::maintenance::MaintenancePage;
use crate::pages::not_found::NotFound;
use crate::pages::service::ServiceDetailPage;

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let locale = i18n::request_locale();
    let t = wording::texts(locale);
    let site = components::site_chrome::site_title();
    let og_url = page_url();
    view! {
        <!DOCTYPE html>
        <html lang=locale.code()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="stylesheet" href="/pkg/vigie.css"/>
                <link rel="icon" href=wording::FAVICON/>
                // Applies the reader's stored theme before the body paints (no flash).
                <script nonce=leptos::nonce::use_nonce()>{components::theme_toggle::EARLY_SCRIPT}</script>
                <meta name="description" content=t.meta_description/>
                {og("og:site_name", site)}
                {og("og:description", t.meta_description)}
                {og("og:type", "website")}
                {og("og:url", og_url)}
                {alternates(locale)}
                <link rel="alternate" type="application/rss+xml" href="/feed.rss" title=t.feed_rss()/>
                <link rel="alternate" type="application/atom+xml" href="/feed.atom" title=t.feed_atom()/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: locale, router and pages.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let locale: Locale = i18n::request_locale();
    provide_context(locale);
    let t = wording::texts(locale);
    view! {
        <a class="skip-link" href="#main">{t.skip_to_content}</a>
        <Router>
            <SiteHeader/>
            <main id="main">
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=StaticSegment("") view=HomePage ssr=SsrMode::Async/>
                    <Route
                        path=(StaticSegment("incidents"), ParamSegment("id"))
                        view=IncidentPage
                        ssr=SsrMode::Async
                    />
                    <Route path=StaticSegment("history") view=HistoryPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("maintenance") view=MaintenancePage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("services"), ParamSegment("slug")) view=ServiceDetailPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
        <footer class="site-footer">
            <p>{t.powered_by}</p>
        </footer>
    }
}

/// The canonical address of the page being rendered: `site.base_url` and the request path
/// (server only; the shell is never rendered in the browser).
fn page_url() -> String {
    #[cfg(feature = "ssr")]
    {
        let base = use_context::<context::AppContext>()
            .map(|c| c.base_url)
            .unwrap_or_default();
        let path = use_context::<http::request::Parts>()
            .map(|p| p.uri.path().to_owned())
            .unwrap_or_else(|| "/".to_owned());
        format!("{base}{path}")
    }
    #[cfg(not(feature = "ssr"))]
    {
        String::new()
    }
}

/// `<link rel="alternate" hreflang=…>` for the page in each other language: the same path
/// and query with `lang` set (server only, like [`page_url`]).
fn alternates(current: Locale) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let (base, path, query) = {
        let base = use_context::<context::AppContext>()
            .map(|c| c.base_url)
            .unwrap_or_default();
        let (path, query) = use_context::<http::request::Parts>()
            .map(|p| {
                (
                    p.uri.path().to_owned(),
                    p.uri.query().unwrap_or("").to_owned(),
                )
            })
            .unwrap_or_else(|| ("/".to_owned(), String::new()));
        (base, path, query)
    };
    #[cfg(not(feature = "ssr"))]
    let (base, path, query) = (String::new(), String::new(), String::new());
    Locale::ALL
        .into_iter()
        .filter(|l| *l != current)
        .map(|l| {
            let mut pairs: Vec<&str> = query
                .split('&')
                .filter(|p| !p.is_empty() && !p.starts_with("lang="))
                .collect();
            let lang = format!("lang={}", l.code());
            pairs.push(&lang);
            let href = format!("{base}{path}?{}", pairs.join("&"));
            view! { <link rel="alternate" hreflang=l.code() href=href/> }
        })
        .collect_view()
}

/// `<meta property=… content=…>`: Open Graph uses `property`, which the `view!` macro does not
/// know as a `<meta>` attribute.
fn og(property: &'static str, content: impl Into<String>) -> impl IntoView {
    use leptos::tachys::html::attribute::custom::CustomAttribute;
    leptos::html::meta()
        .attr("property", property)
        .attr("content", content.into())
}
