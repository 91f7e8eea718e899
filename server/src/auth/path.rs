//! Path normalisation before routing: a request whose path is not in canonical form
//! (percent-encoded unreserved characters, `//`, `.` or `..` segments, backslashes) is
//! redirected to its canonical form, so `/%61dmin`, `//admin` or `/x/../admin` reach the same
//! guarded routes as `/admin` and never a route that forgot to guard itself.

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};

/// What stays encoded in a canonical path segment: everything but unreserved characters and
/// the sub-delimiters `:@!$&'()*+,;=` that RFC 3986 allows in a segment.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// The canonical form of `path`, or `None` when it cannot be a valid path (bad UTF-8, control
/// characters once decoded).
pub fn canonical(path: &str) -> Option<String> {
    let decoded = percent_decode_str(path).decode_utf8().ok()?;
    if decoded.chars().any(char::is_control) {
        return None;
    }
    let mut segments: Vec<&str> = Vec::new();
    for seg in decoded.split(['/', '\\']) {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::with_capacity(path.len());
    for s in &segments {
        out.push('/');
        out.extend(utf8_percent_encode(s, SEGMENT));
    }
    if out.is_empty() || (decoded.ends_with('/') && !segments.is_empty()) {
        out.push('/');
    }
    Some(out)
}

/// Middleware: passes canonical paths through, redirects the others (308, keeping the method
/// and query), refuses undecodable ones with 400.
pub async fn normalize(req: Request<Body>, next: Next) -> Response {
    let path = req.uri().path();
    match canonical(path) {
        Some(c) if c == path => next.run(req).await,
        Some(c) => {
            let target = match req.uri().query() {
                Some(q) => format!("{c}?{q}"),
                None => c,
            };
            match HeaderValue::from_str(&target) {
                Ok(v) => (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, v)]).into_response(),
                Err(_) => StatusCode::BAD_REQUEST.into_response(),
            }
        }
        None => (StatusCode::BAD_REQUEST, "bad request path").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn disguised_admin_paths_all_normalise_to_admin() {
        for p in [
            "/%61dmin",
            "//admin",
            "/admin/../admin",
            "/./admin",
            "/x/../admin",
            "/%2e%2e/admin",
            "/%2F/admin",
            "/\\admin",
            "/ADMIN/../admin",
        ] {
            assert_eq!(canonical(p), Some("/admin".to_owned()), "{p}");
        }
        assert_eq!(
            canonical("/%61dmin/users/"),
            Some("/admin/users/".to_owned())
        );
    }

    #[test]
    fn canonical_paths_are_left_alone() {
        for p in [
            "/",
            "/admin",
            "/services/forum",
            "/a%20b",
            "/pkg/vigie.css",
            "/x/",
        ] {
            assert_eq!(canonical(p).as_deref(), Some(p), "{p}");
        }
    }

    #[test]
    fn undecodable_or_control_paths_are_refused() {
        assert!(canonical("/%ff").is_none());
        assert!(canonical("/a%00b").is_none());
        assert!(canonical("/a%0d%0aSet-Cookie:x").is_none());
    }
}
