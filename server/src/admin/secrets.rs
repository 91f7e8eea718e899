//! What the two token pages do alike: `/admin/tokens` (the write API's tokens,
//! [`super::tokens`]) and `/admin/agents` (remote probe agents' tokens, [`super::agents`]).
//! Both are for admins only; the page shown after a redirect spends the new value it shows once
//! and the revocation notice it shows once; a creation goes back to the page with the new value
//! or with why it was refused; a revocation likewise. Each page says what differs through
//! [`TokenPage`]: its form, its wording, and its store functions, which write the audit lines.

use std::future::Future;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, Utc};
use console::{Errors, Notice, L};
use domain::staff::Role;
use store::audit::{Actor, WriteError};

use super::forms::refused;
use super::ui::flash;
use super::ui::shown_once::ShownOnce;
use crate::auth::{Posted, Staff};
use crate::state::AppState;

/// One token page: what the shared handlers need to know of it.
pub trait TokenPage {
    /// The form's fields as posted, shown again when a creation is refused (empty on a fresh
    /// page).
    type Form: Default + Send + Sync;
    /// Where a new token's value waits to be shown once, and the page's path.
    const ONCE: ShownOnce;
    /// The confirmation code a revocation leaves for the page.
    const REVOKED: &'static str;

    /// The notice the page shows once after a revocation.
    fn revoked_notice(l: L) -> &'static str;

    /// A store refusal of a creation that names one of the form's fields: the field and the
    /// sentence. `None` leaves it to the console's usual sentences.
    fn creation_refused(_l: L, _e: &WriteError) -> Option<(&'static str, &'static str)> {
        None
    }

    /// The page, with the form as posted, its errors, a notice and a new token's value.
    fn page(
        state: &AppState,
        staff: &Staff,
        form: Self::Form,
        errors: Errors,
        notice: Option<Notice>,
        created: Option<String>,
    ) -> impl Future<Output = Response> + Send;

    /// The posted form, and what is wrong with it.
    fn read_form(posted: &Posted) -> (Self::Form, Errors);

    /// Creates the token `form` describes (the store audits it): its value.
    fn create(
        state: &AppState,
        staff: &Staff,
        form: &Self::Form,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<String, WriteError>> + Send;

    /// Revokes token `id` (the store audits it).
    fn revoke(
        state: &AppState,
        id: i64,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), WriteError>> + Send;
}

/// `GET`: the page, spending the new value and the revocation notice it shows.
pub async fn show<P: TokenPage>(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = staff.require(Role::Admin) {
        return r;
    }
    let l = staff.l();
    let created = P::ONCE.waiting(&headers);
    let notice = flash::flash_code(&headers)
        .filter(|c| c == P::REVOKED)
        .map(|_| Notice::ok(P::revoked_notice(l)));
    let spend = created.is_some();
    let flash = notice.is_some();
    let mut res = P::page(
        &state,
        &staff,
        P::Form::default(),
        Errors::default(),
        notice,
        created,
    )
    .await;
    if spend {
        res = P::ONCE.spend(res, &staff);
    }
    if flash {
        res = flash::spend_flash(res, &staff);
    }
    res
}

/// `POST`: a new token, shown once after the redirect; or the page again with why the form
/// (then the store) refused it.
pub async fn create<P: TokenPage>(State(state): State<AppState>, posted: Posted) -> Response {
    let staff = &posted.staff;
    if let Err(r) = staff.require(Role::Admin) {
        return r;
    }
    let l = staff.l();
    let (form, mut errors) = P::read_form(&posted);
    if !errors.is_empty() {
        return P::page(&state, staff, form, errors, None, None).await;
    }
    match P::create(&state, staff, &form, Utc::now()).await {
        Ok(value) => P::ONCE.redirect(staff, &value),
        Err(e) => match P::creation_refused(l, &e) {
            Some((field, why)) => {
                errors.add(field, why);
                P::page(&state, staff, form, errors, None, None).await
            }
            None => {
                refused(l, e, errors, |errors| {
                    P::page(&state, staff, form, errors, None, None)
                })
                .await
            }
        },
    }
}

/// `POST …/{id}/revoke`: back to the page with the revocation notice, or the page with why it
/// was refused.
pub async fn revoke<P: TokenPage>(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted,
) -> Response {
    let staff = &posted.staff;
    if let Err(r) = staff.require(Role::Admin) {
        return r;
    }
    match P::revoke(&state, id, &staff.actor(), Utc::now()).await {
        Ok(()) => flash::redirect_with(staff, P::ONCE.path(), P::REVOKED),
        Err(e) => {
            refused(staff.l(), e, Errors::default(), |errors| {
                P::page(&state, staff, P::Form::default(), errors, None, None)
            })
            .await
        }
    }
}
