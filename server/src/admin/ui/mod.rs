//! What the console's handlers add to the `console` crate's views: the staff member's language
//! and identity read from the request and session, the HTTP status of a page, and the
//! confirmations carried across a redirect (post, redirect, get: [`flash`]); a new token's value shown
//! once is [`shown_once`].

pub mod flash;
pub mod shown_once;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use console::{Clock, Errors, Viewer, L};
use domain::locale::Locale;

use crate::auth::Staff;
use crate::state::AppState;

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

    /// Times as the staff member reads them: the site's zone, their words.
    pub fn clock(&self, state: &AppState) -> Clock {
        Clock {
            tz: state.ctx.timezone,
            l: self.l(),
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

/// The status of a page with a form: 422 when it shows the form's errors, else 200.
pub fn form_status(errors: &Errors) -> StatusCode {
    if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}
