//! Security headers on every response: one Content-Security-Policy built here for the public
//! pages (Leptos' inline scripts allowed by their SHA-256, taken from the finished rendering,
//! see crate::page_html; the render itself is given a policy naming its nonce, which the
//! finishing step replaces), and for everything else (no inline script at all), plus
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

/// The nonce a render's policy (from [`page_csp`]) names, if any.
pub fn nonce_of(policy: &str) -> Option<String> {
    let at = policy.find("'nonce-")? + 7;
    let len = policy[at..].find('\'')?;
    Some(policy[at..at + len].to_owned()).filter(|n| !n.is_empty())
}

/// The policy for a finished page: its inline scripts allowed by their `'sha256-…'` sources,
/// nothing else inline. `None` if a source is not base64 (it could break out of the header).
pub fn page_csp_hashed(hashes: &[String]) -> Option<HeaderValue> {
    let valid = |h: &String| {
        h.strip_prefix("'sha256-")
            .and_then(|h| h.strip_suffix('\''))
            .is_some_and(|b| {
                b.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='))
            })
    };
    if !hashes.iter().all(valid) {
        return None;
    }
    let mut sources = String::new();
    for h in hashes {
        sources.push(' ');
        sources.push_str(h);
    }
    HeaderValue::from_str(&format!(
        "{}; script-src 'self'{sources} 'wasm-unsafe-eval'",
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

    #[test]
    fn finished_policy_names_the_hashes_and_refuses_anything_else() {
        let p = page_csp_hashed(&["'sha256-AbC+/9='".to_owned()]).expect("policy");
        let p = p.to_str().expect("ascii");
        assert!(
            p.ends_with("; script-src 'self' 'sha256-AbC+/9=' 'wasm-unsafe-eval'"),
            "{p}"
        );
        assert!(!p.contains("nonce"));
        assert!(page_csp_hashed(&["'sha256-x'; script-src *'".to_owned()]).is_none());
        assert!(page_csp_hashed(&["'unsafe-inline'".to_owned()]).is_none());
        let rendered = page_csp("abc-_09").expect("policy");
        assert_eq!(
            nonce_of(rendered.to_str().expect("ascii")).as_deref(),
            Some("abc-_09")
        );
        assert_eq!(nonce_of(p), None);
    }
}
