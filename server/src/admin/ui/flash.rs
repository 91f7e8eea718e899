//! Confirmations carried across the redirect after a post (post, redirect, get).

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::auth::Staff;

/// The short-lived cookie that carries a confirmation across the redirect after a post
/// (post, redirect, get): a reload shows the page without posting again, and without the
/// confirmation, which is shown once.
pub const FLASH_COOKIE: &str = "vigie_flash";

/// The `Set-Cookie` value for a confirmation `code` (a fixed word, never user input).
pub fn flash_cookie(staff: &Staff, code: &str) -> String {
    let secure = if staff.client.https { "; Secure" } else { "" };
    format!("{FLASH_COOKIE}={code}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=60{secure}")
}

/// The confirmation code waiting in the request, if any.
pub fn flash_code(headers: &HeaderMap) -> Option<String> {
    crate::auth::cookie(headers, FLASH_COOKIE)
        .filter(|v| !v.is_empty() && v.len() <= 64)
        .map(str::to_owned)
}

/// A redirect (303) to `to` that leaves confirmation `code` for the next page.
pub fn redirect_with(staff: &Staff, to: &str, code: &str) -> Response {
    let mut res = axum::response::Redirect::to(to).into_response();
    if let Ok(v) = HeaderValue::from_str(&flash_cookie(staff, code)) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// Adds the header that spends a shown confirmation to `res`.
pub fn spend_flash(mut res: Response, staff: &Staff) -> Response {
    let secure = if staff.client.https { "; Secure" } else { "" };
    let value =
        format!("{FLASH_COOKIE}=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0{secure}");
    if let Ok(v) = HeaderValue::from_str(&value) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}
