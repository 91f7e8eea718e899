//! The language of the page being rendered. The words themselves are in the `wording` crate,
//! which the console, feeds and badges share; choosing the language needs the request (on the
//! server) or the document (in the browser), so it lives here.

use domain::locale::Locale;

/// The locale of the page being rendered. On the server: `?lang=`, `Accept-Language`, then the
/// site default. In the browser: what the server wrote into `<html lang>`.
pub fn request_locale() -> Locale {
    #[cfg(feature = "ssr")]
    {
        use leptos::prelude::use_context;
        let default = use_context::<crate::context::AppContext>()
            .map(|c| c.default_locale)
            .unwrap_or_default();
        let Some(parts) = use_context::<http::request::Parts>() else {
            return default;
        };
        let query_lang = parts.uri.query().and_then(|q| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix("lang="))
                .map(str::to_owned)
        });
        let accept = parts
            .headers
            .get(http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        Locale::negotiate(query_lang.as_deref(), accept, default)
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
            .and_then(|e| e.get_attribute("lang"))
            .and_then(|l| Locale::from_tag(&l))
            .unwrap_or_default()
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        Locale::default()
    }
}
