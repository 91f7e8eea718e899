//! Conditional GET, once for everything served: the page cache, the feeds, the JSON reads and
//! the embedded assets all tag their bodies with [`etag`] and answer a request through
//! [`is_not_modified`] and [`not_modified`], so `If-None-Match` and `If-Modified-Since` mean the
//! same thing on every route, cached or not.
//!
//! Written here rather than taken from a crate: tower-http and axum-extra offer no validator
//! handling for bodies built in memory, and the rules (RFC 9110, 13.1) fit in a few lines.

use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// Marks a copy served in place of a fresh rendering, and says when that copy was rendered
/// (`crate::stale`). It stands in for one request only: the page cache never keeps a response
/// carrying it, so a passing failure is not frozen in for a whole generation.
pub const DATA_AS_OF: HeaderName = HeaderName::from_static("vigie-data-as-of");

/// A strong ETag for `body`: the first 128 bits of its SHA-256, quoted.
pub fn etag(body: &[u8]) -> HeaderValue {
    let digest = Sha256::digest(body);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    HeaderValue::from_str(&format!("\"{hex}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

/// Whether an `If-None-Match` list names `etag` (or is `*`). The comparison is weak, as
/// RFC 9110 asks for `If-None-Match`: `W/"x"` matches `"x"`.
pub fn none_match(if_none_match: Option<&HeaderValue>, etag: &HeaderValue) -> bool {
    let Some(list) = if_none_match.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let tag = etag.to_str().unwrap_or("").trim_start_matches("W/");
    list.split(',').any(|t| {
        let t = t.trim();
        t == "*" || t.trim_start_matches("W/") == tag
    })
}

/// Whether the request's validators say its copy is current: `If-None-Match` against `etag`,
/// or, only when the request has no `If-None-Match` (RFC 9110, 13.1.3), `If-Modified-Since`
/// against `last_modified`.
pub fn is_not_modified(
    request: &HeaderMap,
    etag: &HeaderValue,
    last_modified: Option<&HeaderValue>,
) -> bool {
    if let Some(list) = request.get(header::IF_NONE_MATCH) {
        return none_match(Some(list), etag);
    }
    let date = |v: Option<&HeaderValue>| {
        v.and_then(|v| v.to_str().ok())
            .and_then(|v| chrono::DateTime::parse_from_rfc2822(v).ok())
    };
    match (
        date(request.get(header::IF_MODIFIED_SINCE)),
        date(last_modified),
    ) {
        (Some(since), Some(modified)) => modified <= since,
        _ => false,
    }
}

/// The 304 for a response with `headers`: it keeps the headers a cache needs to refresh its
/// copy (ETag, Cache-Control, Vary, Content-Location, Last-Modified) and nothing else.
pub fn not_modified(headers: &HeaderMap) -> Response {
    let mut r = StatusCode::NOT_MODIFIED.into_response();
    for name in [
        header::ETAG,
        header::CACHE_CONTROL,
        header::VARY,
        header::CONTENT_LOCATION,
        header::LAST_MODIFIED,
    ] {
        for v in headers.get_all(&name) {
            r.headers_mut().append(name.clone(), v.clone());
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), HeaderValue::from_str(v).expect("value"));
        }
        h
    }

    #[test]
    fn the_same_body_gets_the_same_strong_tag() {
        assert_eq!(etag(b"abc"), etag(b"abc"));
        assert_ne!(etag(b"abc"), etag(b"abd"));
        let tag = etag(b"abc");
        let tag = tag.to_str().expect("ascii");
        assert!(
            tag.starts_with('"') && tag.ends_with('"') && tag.len() == 34,
            "{tag}"
        );
    }

    #[test]
    fn if_none_match_is_compared_weakly_and_wins_over_the_date() {
        let tag = etag(b"body");
        let t = tag.to_str().expect("ascii").to_owned();
        let new = "Mon, 01 Jan 2035 00:00:00 GMT";
        let modified = HeaderValue::from_static("Sat, 01 Jan 2000 00:00:00 GMT");
        let yes = |h: HeaderMap| assert!(is_not_modified(&h, &tag, Some(&modified)), "{h:?}");
        let no = |h: HeaderMap| assert!(!is_not_modified(&h, &tag, Some(&modified)), "{h:?}");
        yes(request(&[(header::IF_NONE_MATCH, &t)]));
        yes(request(&[(header::IF_NONE_MATCH, &format!("W/{t}"))]));
        yes(request(&[(header::IF_NONE_MATCH, &format!("\"x\", {t}"))]));
        yes(request(&[(header::IF_NONE_MATCH, "*")]));
        no(request(&[(header::IF_NONE_MATCH, "\"x\"")]));
        no(request(&[]));
        yes(request(&[(header::IF_MODIFIED_SINCE, new)]));
        no(request(&[(header::IF_MODIFIED_SINCE, "yesterday")]));
        // A tag that does not match is not overruled by a date that would.
        no(request(&[
            (header::IF_NONE_MATCH, "\"x\""),
            (header::IF_MODIFIED_SINCE, new),
        ]));
    }
}
