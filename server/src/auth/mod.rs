//! Who is asking: the client's address and scheme (trusting `X-Forwarded-*` only from
//! configured proxies), staff sessions from the session cookie, CSRF and Origin checks on
//! every state-changing form, and bearer tokens for the write API.

pub mod hashing;
pub mod path;
pub mod throttle;
pub mod totp;
pub mod user_command;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use store::sessions::Session;
use store::users::User;
use subtle::ConstantTimeEq;

/// Name of the session cookie. Over TLS it is `__Host-vigie_session` (see [`Client::cookie`]).
pub const SESSION_COOKIE: &str = "vigie_session";
/// Name of the cookie carrying the sign-in form's CSRF value (double submit).
pub const LOGIN_CSRF_COOKIE: &str = "vigie_login_csrf";

/// Shortest password the console and the CLI accept.
pub const MIN_PASSWORD_LEN: usize = 12;

/// Authentication settings and state shared by every request.
#[derive(Clone, Debug, Default)]
pub struct AuthState {
    pub throttle: Arc<throttle::Throttle>,
    /// The bounded password-hashing slots every sign-in and password change goes through.
    pub hashing: Arc<hashing::Hashing>,
    /// Peers whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed.
    pub trusted_proxies: Arc<Vec<IpAddr>>,
    /// Set when `site.base_url` is https: cookies are always `Secure`.
    pub always_secure: bool,
    /// The site's language: the console's when a browser asks for none Vigie speaks.
    pub default_locale: domain::locale::Locale,
}

impl AuthState {
    /// Settings from `site.base_url` and `VIGIE_TRUSTED_PROXIES` (comma-separated addresses).
    pub fn new(base_url: &str, trusted_proxies: Option<&str>) -> Self {
        let proxies = trusted_proxies
            .unwrap_or("")
            .split(',')
            .filter_map(|s| {
                let s = s.trim();
                if s.is_empty() {
                    return None;
                }
                let parsed = s.parse::<IpAddr>();
                if parsed.is_err() {
                    tracing::warn!(
                        value = s,
                        "VIGIE_TRUSTED_PROXIES: not an IP address, ignored"
                    );
                }
                parsed.ok()
            })
            .collect();
        AuthState {
            throttle: Arc::default(),
            hashing: Arc::default(),
            trusted_proxies: Arc::new(proxies),
            always_secure: base_url.starts_with("https://"),
            default_locale: domain::locale::Locale::default(),
        }
    }
}

/// The client as far as we can tell: its address and whether it reached us over TLS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    pub ip: Option<IpAddr>,
    pub https: bool,
}

impl Client {
    pub fn from_parts(parts: &Parts, auth: &AuthState) -> Client {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let trusted = peer.is_some_and(|p| auth.trusted_proxies.contains(&p));
        if !trusted {
            return Client {
                ip: peer,
                https: auth.always_secure,
            };
        }
        let forwarded_ip = header_str(&parts.headers, "x-forwarded-for")
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse().ok());
        let forwarded_https = header_str(&parts.headers, "x-forwarded-proto")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
        Client {
            ip: forwarded_ip.or(peer),
            https: auth.always_secure || forwarded_https,
        }
    }

    pub fn ip_string(&self) -> Option<String> {
        self.ip.map(|ip| ip.to_string())
    }

    /// The `Set-Cookie` value for a cookie `name=value` living `max_age` seconds (0 deletes
    /// it). Over TLS the name gets the `__Host-` prefix, with which browsers only accept the
    /// cookie from this very host, over HTTPS, for the whole site: no subdomain or plain-HTTP
    /// page can plant or overwrite it.
    pub fn cookie(&self, name: &str, value: &str, max_age: i64) -> String {
        let secure = if self.https { "; Secure" } else { "" };
        let name = self.cookie_name(name);
        format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
    }

    /// The value of this site's cookie `name` in the request (under its `__Host-` name over
    /// TLS: a cookie without the prefix is then ignored).
    pub fn read_cookie<'a>(&self, headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
        cookie(headers, &self.cookie_name(name))
    }

    fn cookie_name(&self, name: &str) -> String {
        if self.https {
            format!("__Host-{name}")
        } else {
            name.to_owned()
        }
    }
}

/// The value of header `name`, when it is text.
pub fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The value of cookie `name` in the request, if any.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Constant-time equality of two secrets.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Whether the request's `Origin` (or, without it, `Referer`) is this site. Browsers send
/// `Origin` on every cross-site POST, so a foreign or `null` origin is refused; a request with
/// neither header (old clients) relies on the CSRF token alone.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(host) = header_str(headers, "host") else {
        return false;
    };
    let claimed = header_str(headers, "origin").or_else(|| header_str(headers, "referer"));
    match claimed {
        None => true,
        Some(o) => {
            let rest = o
                .strip_prefix("https://")
                .or_else(|| o.strip_prefix("http://"));
            rest.is_some_and(|r| r.split('/').next() == Some(host))
        }
    }
}

/// A signed-in staff member (from the session cookie). Without a live session, pages
/// redirect to the sign-in form.
#[derive(Clone, Debug)]
pub struct Staff {
    pub session: Session,
    pub client: Client,
    /// The language the console speaks to them: their browser's, else the site's.
    pub locale: domain::locale::Locale,
}

impl Staff {
    pub fn user(&self) -> &User {
        &self.session.user
    }

    pub fn actor(&self) -> store::audit::Actor {
        store::sessions::actor_for(&self.session.user, self.client.ip_string().as_deref())
    }
}

impl<S> FromRequestParts<S> for Staff
where
    S: Send + Sync,
    AuthState: FromRef<S>,
    store::Db: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let auth = AuthState::from_ref(state);
        let client = Client::from_parts(parts, &auth);
        let locale = domain::locale::Locale::negotiate(
            None,
            header_str(&parts.headers, "accept-language"),
            auth.default_locale,
        );
        let Some(value) = client.read_cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(Redirect::to("/admin/login").into_response());
        };
        match store::sessions::find(&store::Db::from_ref(state), value, chrono::Utc::now()).await {
            Ok(Some(session)) => Ok(Staff {
                session,
                client,
                locale,
            }),
            Ok(None) => Err(Redirect::to("/admin/login").into_response()),
            Err(e) => {
                tracing::error!(error = %e, "session lookup failed");
                Err(StatusCode::SERVICE_UNAVAILABLE.into_response())
            }
        }
    }
}

/// A state-changing form from a signed-in staff member, checked for Origin and CSRF token
/// before the handler sees it. Fields keep their order and may repeat (checkboxes).
#[derive(Clone, Debug)]
pub struct Posted {
    pub staff: Staff,
    pub fields: Vec<(String, String)>,
}

impl Posted {
    /// The first value of `name`, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        form_get(&self.fields, name)
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// The first non-blank value of `name` in decoded form fields, trimmed.
pub fn form_get<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// Reads an `application/x-www-form-urlencoded` body.
pub async fn read_form<S: Send + Sync>(
    req: Request,
    state: &S,
) -> Result<Vec<(String, String)>, Response> {
    let bytes = Bytes::from_request(req, state)
        .await
        .map_err(IntoResponse::into_response)?;
    serde_urlencoded::from_bytes(&bytes)
        .map_err(|_| (StatusCode::BAD_REQUEST, "malformed form").into_response())
}

impl<S> FromRequest<S> for Posted
where
    S: Send + Sync,
    AuthState: FromRef<S>,
    store::Db: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let staff = Staff::from_request_parts(&mut parts, state).await?;
        if !same_origin(&parts.headers) {
            tracing::warn!(user = staff.user().id, "cross-origin form refused");
            return Err((StatusCode::FORBIDDEN, "cross-origin request refused").into_response());
        }
        let fields = read_form(Request::from_parts(parts, body), state).await?;
        let token_ok =
            form_get(&fields, "csrf").is_some_and(|t| same_secret(t, &staff.session.csrf_token));
        if !token_ok {
            tracing::warn!(
                user = staff.user().id,
                "form without a valid CSRF token refused"
            );
            return Err((StatusCode::FORBIDDEN, "invalid or missing CSRF token").into_response());
        }
        Ok(Posted { staff, fields })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn foreign_or_null_origin_is_not_same_origin() {
        assert!(same_origin(&headers(&[
            ("host", "status.example"),
            ("origin", "https://status.example")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "status.example"),
            ("origin", "https://evil.example")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "status.example"),
            ("origin", "null")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "status.example"),
            ("referer", "https://status.example.evil/x")
        ])));
        assert!(same_origin(&headers(&[("host", "status.example")])));
    }

    #[test]
    fn cookie_is_found_among_several() {
        let h = headers(&[("cookie", "a=1; vigie_session=abc; b=2")]);
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn over_tls_cookies_take_the_host_prefix_and_only_prefixed_ones_are_read() {
        let tls = Client {
            ip: None,
            https: true,
        };
        let set = tls.cookie(SESSION_COOKIE, "abc", 60);
        assert!(
            set.starts_with("__Host-vigie_session=abc; Path=/;"),
            "{set}"
        );
        assert!(set.ends_with("; Secure"), "{set}");
        let h = headers(&[("cookie", "vigie_session=planted; __Host-vigie_session=real")]);
        assert_eq!(tls.read_cookie(&h, SESSION_COOKIE), Some("real"));
        let h = headers(&[("cookie", "vigie_session=planted")]);
        assert_eq!(tls.read_cookie(&h, SESSION_COOKIE), None);
        let plain = Client {
            ip: None,
            https: false,
        };
        assert!(plain
            .cookie(SESSION_COOKIE, "abc", 60)
            .starts_with("vigie_session=abc;"));
    }

    #[test]
    fn secrets_compare_only_when_equal() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }
}
