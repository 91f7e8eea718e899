//! The site header on every page: the site title linking home, the main navigation, the
//! language switch and the theme toggle. Plus the helpers pages use to keep an explicit
//! `?lang=` on their internal links, so a reader who picked a language keeps it without JS.

use domain::locale::Locale;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::components::theme_toggle::ThemeToggle;

/// The site's name, known to both sides: the server reads the configuration; the browser
/// reads back what the server wrote into `<meta property="og:site_name">`.
pub fn site_title() -> String {
    #[cfg(feature = "ssr")]
    {
        use_context::<crate::context::AppContext>()
            .map(|c| c.site_title)
            .unwrap_or_else(|| "Vigie".to_owned())
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| {
                d.query_selector("meta[property='og:site_name']")
                    .ok()
                    .flatten()
            })
            .and_then(|e| e.get_attribute("content"))
            .unwrap_or_else(|| "Vigie".to_owned())
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        "Vigie".to_owned()
    }
}

/// The page's `<title>` and its Open Graph title: a shared link names the page, not only the
/// site.
///
/// `leptos_meta` writes a `<Title>`'s text into the server's `<head>` as it is, unescaped
/// (leptos_meta 0.8.7, and 0.9.0-rc1 still; attributes such as `og:title`'s `content` are
/// escaped by the view layer): an incident titled `x</title><meta http-equiv=refresh …>` would
/// become markup. So on the server the text is first rendered by the view layer as any text
/// node of a page is (`to_html`, escaped by construction), and leptos_meta is handed that
/// markup; in the browser `document.title` is set as text and needs nothing.
#[component]
pub fn PageTitle(#[prop(into)] text: String) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let title = text.clone().to_html();
    #[cfg(not(feature = "ssr"))]
    let title = text.clone();
    view! {
        <leptos_meta::Title text=title/>
        <leptos_meta::Meta property="og:title" content=text/>
    }
}

/// The `lang` the current URL asked for explicitly, if any.
pub fn explicit_lang() -> Option<String> {
    // Islands have no router in the browser: read the address itself.
    #[cfg(feature = "hydrate")]
    {
        let search = web_sys::window()?.location().search().ok()?;
        search
            .trim_start_matches('?')
            .split('&')
            .find_map(|pair| pair.strip_prefix("lang="))
            .map(str::to_owned)
    }
    #[cfg(not(feature = "hydrate"))]
    leptos_router::hooks::use_query_map().with_untracked(|q| q.get("lang"))
}

/// `path` with `extra` query pairs and the current explicit `lang`, if any.
pub fn href(path: &str, extra: &[(&str, String)]) -> String {
    let mut pairs: Vec<String> = extra.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if let Some(lang) = explicit_lang().and_then(|l| Locale::from_tag(&l)) {
        pairs.push(format!("lang={}", lang.code()));
    }
    if pairs.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", pairs.join("&"))
    }
}

#[component]
pub fn SiteHeader() -> impl IntoView {
    let locale = use_context::<Locale>().unwrap_or_default();
    let t = wording::texts(locale);
    let location = use_location();
    let path = location.pathname.get_untracked();
    let query = location.query.get_untracked();
    let section = |p: &str| -> bool {
        match p {
            "/" => path == "/" || path.starts_with("/services/"),
            other => {
                path.starts_with(other) || (other == "/history" && path.starts_with("/incidents/"))
            }
        }
    };
    let nav = [
        ("/", t.nav_status()),
        ("/history", t.nav_history()),
        ("/maintenance", t.nav_maintenance()),
    ]
    .into_iter()
    .map(|(p, label)| {
        let current = section(p);
        view! {
            <li>
                <a href=href(p, &[]) aria-current=current.then_some("page")>{label}</a>
            </li>
        }
    })
    .collect_view();
    // The language switch keeps the path and every other query value, and reloads the page
    // (`rel="external"`): the whole document, `<html lang>` included, changes language.
    let langs = Locale::ALL
        .into_iter()
        .map(|l| {
            let mut pairs: Vec<String> = query
                .clone()
                .into_iter()
                .filter(|(k, _)| k != "lang")
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            pairs.push(format!("lang={}", l.code()));
            let target = format!("{path}?{}", pairs.join("&"));
            let current = l == locale;
            view! {
                <a
                    href=target
                    rel="external"
                    hreflang=l.code()
                    lang=l.code()
                    aria-current=if current { Some("true") } else { None }
                >
                    {l.code().to_uppercase()}
                </a>
            }
        })
        .collect_view();
    view! {
        <header class="site-header">
            <a class="site-title" href=href("/", &[])>{site_title()}</a>
            <nav class="site-nav" aria-label=t.nav_label()>
                <ul>{nav}</ul>
            </nav>
            <div class="site-tools">
                <Subscribe locale/>
                <nav class="lang-switch" aria-label=t.language>{langs}</nav>
                <ThemeToggle locale/>
            </div>
        </header>
    }
}

/// "S'abonner": the site's feeds and maintenance calendar in the page's language, on every
/// public page, and the e-mail subscription form when the site can send mail. A `<details>`
/// opens without JS.
#[component]
fn Subscribe(locale: Locale) -> impl IntoView {
    let t = wording::texts(locale);
    let lang = locale.code();
    let email = email_subscriptions().then(|| {
        view! {
            <li><a href=format!("/subscribe?lang={lang}")>{t.email_link()}</a></li>
        }
    });
    view! {
        <details class="subscribe">
            <summary>{t.subscribe()}</summary>
            <ul>
                {email}
                <li><a href=format!("/feed.rss?lang={lang}") type="application/rss+xml">{t.feed_rss()}</a></li>
                <li><a href=format!("/feed.atom?lang={lang}") type="application/atom+xml">{t.feed_atom()}</a></li>
                <li><a href=format!("/maintenance.ics?lang={lang}") type="text/calendar">{t.calendar_link()}</a></li>
            </ul>
        </details>
    }
}

/// Whether readers can subscribe by e-mail here. Only the server knows (the header is never
/// hydrated: it sits outside the islands).
fn email_subscriptions() -> bool {
    #[cfg(feature = "ssr")]
    {
        use_context::<crate::context::AppContext>().is_some_and(|c| c.email_subscriptions)
    }
    #[cfg(not(feature = "ssr"))]
    {
        false
    }
}
