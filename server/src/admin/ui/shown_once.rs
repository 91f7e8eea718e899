//! A new token's value (the write API's, a remote agent's) carried to the page shown after the
//! redirect, once, in a cookie: HttpOnly, SameSite=Strict, only sent to that page's path, gone
//! after a minute or as soon as the page has shown it. The value lives nowhere else (the
//! database keeps its hash), so it cannot be shown twice, and reloading the page creates
//! nothing.

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::auth::Staff;

/// Which value, and which page shows it.
pub struct ShownOnce {
    cookie: &'static str,
    path: &'static str,
}

/// A new write-API token, shown on `/admin/tokens`.
pub const API_TOKEN: ShownOnce = ShownOnce {
    cookie: "vigie_new_token",
    path: "/admin/tokens",
};

/// A new agent token, shown on `/admin/agents`.
pub const AGENT_TOKEN: ShownOnce = ShownOnce {
    cookie: "vigie_new_agent_token",
    path: "/admin/agents",
};

impl ShownOnce {
    fn set_cookie(&self, res: &mut Response, staff: &Staff, value: &str, max_age: i64) {
        let secure = if staff.client.https { "; Secure" } else { "" };
        let (name, path) = (self.cookie, self.path);
        if let Ok(v) = HeaderValue::from_str(&format!(
            "{name}={value}; Path={path}; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
        )) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }

    /// The path of the page that shows the value.
    pub fn path(&self) -> &'static str {
        self.path
    }

    /// The redirect (303) to the page that shows `value`, carrying it for a minute.
    pub fn redirect(&self, staff: &Staff, value: &str) -> Response {
        let mut res = axum::response::Redirect::to(self.path).into_response();
        self.set_cookie(&mut res, staff, value, 60);
        res
    }

    /// The value waiting to be shown, if any.
    pub fn waiting(&self, headers: &HeaderMap) -> Option<String> {
        crate::auth::cookie(headers, self.cookie)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    /// `res` (the page that showed the value) with the cookie deleted.
    pub fn spend(&self, mut res: Response, staff: &Staff) -> Response {
        self.set_cookie(&mut res, staff, "", 0);
        res
    }
}
