//! `Vary: Accept-Language` on the responses whose language was chosen from that header: the
//! public pages and the feeds, when the address names no language (`?lang=fr` fixes it, and
//! then the header plays no part). Shared caches and browsers then never hand a French page
//! to an English reader.

use axum::extract::Request;
use axum::http::{header, HeaderValue, Uri};
use axum::middleware::Next;
use axum::response::Response;
use domain::locale::Locale;

/// The language the address asks for explicitly (`?lang=en`), if it is one Vigie speaks.
pub fn explicit_lang(uri: &Uri) -> Option<Locale> {
    uri.query()?
        .split('&')
        .find_map(|kv| kv.strip_prefix("lang="))
        .and_then(Locale::from_tag)
}

/// Adds `Vary: Accept-Language` to `response` unless `uri` names its language.
pub fn mark(uri: &Uri, response: &mut Response) {
    if explicit_lang(uri).is_none() {
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("accept-language"));
    }
}

/// The middleware form of [`mark`], for routers whose every response is negotiated.
pub async fn accept_language(req: Request, next: Next) -> Response {
    let uri = req.uri().clone();
    let mut response = next.run(req).await;
    mark(&uri, &mut response);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_known_language_in_the_address_makes_the_header_irrelevant() {
        let uri = |s: &str| s.parse::<Uri>().expect("uri");
        assert_eq!(explicit_lang(&uri("/?lang=en")), Some(Locale::En));
        assert_eq!(explicit_lang(&uri("/x?range=7d&lang=fr")), Some(Locale::Fr));
        assert_eq!(explicit_lang(&uri("/?lang=xx")), None);
        assert_eq!(explicit_lang(&uri("/")), None);
    }
}
