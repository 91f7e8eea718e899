//! What the console's handlers add to the `console` crate's views: the staff member's language
//! and identity read from the request and session, the HTTP status of a page, and the
//! confirmations carried across a redirect (post, redirect, get).

mod flash;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use console::{Notice, Section, Viewer, L};
use domain::locale::Locale;
use leptos::prelude::IntoView;

pub use self::flash::{flash_code, flash_cookie, redirect_with, spend_flash, FLASH_COOKIE};
use crate::auth::Staff;

impl Staff {
    /// The words of the staff member's language.
    pub fn l(&self) -> L {
        L(self.locale)
    }

    /// The staff member as a console page shows them.
    pub fn viewer(&self) -> Viewer {
        Viewer {
            email: self.user().email.clone(),
            role: self.user().role,
            csrf: self.session.csrf_token.clone(),
        }
    }
}

/// The staff member's language: their browser's `Accept-Language`, else the site's default.
pub fn locale_of(headers: &HeaderMap, default: Locale) -> L {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    L::negotiate(accept, default)
}

/// A rendered console page, answered with `status`.
pub fn html(status: StatusCode, page: String) -> Response {
    (status, Html(page)).into_response()
}

/// A whole console page to send, for the handlers that still build their body inline: the
/// `console` crate's shell with the answer's status code.
pub struct Page<'a> {
    l: L,
    staff: Option<&'a Staff>,
    section: Section,
    title: String,
    status: StatusCode,
    notice: Option<Notice>,
}

impl<'a> Page<'a> {
    pub fn new(l: L, staff: Option<&'a Staff>, section: Section, title: impl Into<String>) -> Self {
        Page {
            l,
            staff,
            section,
            title: title.into(),
            status: StatusCode::OK,
            notice: None,
        }
    }

    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn notice(mut self, notice: Option<Notice>) -> Self {
        self.notice = notice;
        self
    }

    /// Renders the page around `body` and answers with it.
    pub fn render<V: IntoView + 'static>(self, body: impl FnOnce() -> V) -> Response {
        let page = console::Page::new(
            self.l,
            self.staff.map(Staff::viewer),
            self.section,
            self.title,
        )
        .notice(self.notice);
        html(self.status, page.render(body))
    }
}
