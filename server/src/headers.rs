//! Security headers on every response: one Content-Security-Policy built here for the public
//! pages (Leptos' inline hydration scripts allowed by the per-request nonce that leptos_axum
//! provides, nothing else inline) and for everything else (no inline script at all), plus
//! nosniff, Referrer-Policy, X-Frame-Options and, when the client reached us over TLS (or a
//! trusted proxy says so), Strict-Transport-Security.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::auth::{AuthState, Client};

/// The directives every response shares; `script-src` is added per response. A macro so
/// the static policies are built at compile time with `concat!`. Style *attributes* are
/// allowed (`style-src-attr`): the 90-day bar positions its segments with CSS custom
/// properties (`style="--i:12"`); `<style>` elements and style sheets stay 'self' only, and
/// no inline script is ever allowed.
macro_rules! base {
    () => {
        "default-src 'self'; img-src 'self' data:; style-src 'self'; \
         style-src-attr 'unsafe-inline'; connect-src 'self'; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    };
}

/// The policy for a page whose inline scripts carry `nonce`. `'wasm-unsafe-eval'` lets the
/// browser compile the hydration wasm; it allows no JavaScript eval.
pub fn page_csp(nonce: &str) -> Option<HeaderValue> {
    // A nonce is base64url from leptos; refuse anything that could break out of the header.
    if nonce.is_empty()
        || !nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return None;
    }
    HeaderValue::from_str(&format!(
        "{}; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'",
        base!()
    ))
    .ok()
}

/// The policy for everything without a nonce: scripts from our origin only, none inline.
pub fn default_csp() -> HeaderValue {
    HeaderValue::from_static(concat!(base!(), "; script-src 'self' 'wasm-unsafe-eval'"))
}

/// The staff console runs no script at all.
pub fn console_csp() -> HeaderValue {
    HeaderValue::from_static(concat!(base!(), "; script-src 'none'"))
}

/// Adds the headers a handler did not set itself.
pub async fn secure(State(auth): State<AuthState>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let https = Client::from_parts(&parts, &auth).https;
    let mut res = next.run(Request::from_parts(parts, body)).await;
    let h = res.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, default_csp());
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !h.contains_key(header::REFERRER_POLICY) {
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        );
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_policy_allows_only_the_nonce_inline_and_refuses_odd_nonces() {
        let p = page_csp("abc-_09").expect("policy");
        let p = p.to_str().expect("ascii");
        assert!(p.contains("script-src 'self' 'nonce-abc-_09' 'wasm-unsafe-eval'"));
        assert!(!p
            .split(';')
            .any(|d| d.contains("script-src") && d.contains("unsafe-inline")));
        for d in [
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "object-src 'none'",
        ] {
            assert!(p.contains(d), "{d}");
        }
        assert!(page_csp("a'; script-src *").is_none());
        assert!(page_csp("").is_none());
    }
}
