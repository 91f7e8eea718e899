//! What the server hands to pages and `#[server]` functions through Leptos context. Defined
//! here, in the library both sides link, so the router and the functions name the same type.

use domain::locale::Locale;
use store::Db;

#[derive(Clone, Debug)]
pub struct AppContext {
    pub db: Db,
    pub site_title: String,
    pub default_locale: Locale,
    /// The site's timezone (`[site] timezone`): every time readers see is in it.
    pub timezone: chrono_tz::Tz,
    /// The public address (`[site] base_url`), without a trailing slash: Open Graph URLs.
    pub base_url: String,
}
