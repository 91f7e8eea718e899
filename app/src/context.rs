//! What the server hands to pages and `#[server]` functions through Leptos context. Defined
//! here, in the library both sides link, so the router and the functions name the same type.

use domain::locale::Locale;
use store::Db;

#[derive(Clone, Debug)]
pub struct AppContext {
    pub db: Db,
    pub site_title: String,
    pub default_locale: Locale,
    /// The site's timezone: local days of the uptime bars, times shown to readers.
    pub timezone: chrono_tz::Tz,
    /// The public address (`site.base_url`), for absolute links in feeds and meta tags.
    pub base_url: String,
    /// Whether readers can subscribe by e-mail (SMTP is configured): the subscribe menu
    /// offers `/subscribe` only then, since without it that page has nothing to offer.
    pub email_subscriptions: bool,
}
