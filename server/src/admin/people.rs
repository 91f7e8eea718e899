//! `/admin/users` (admins only): the team, each person's role and state, and the form that adds
//! someone (the page is `console::people`). API tokens are [`super::tokens`], the audit log
//! [`super::audit`].

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use console::people::UserForm;
use console::{Errors, Notice};
use domain::staff::Role;

use super::forms::refused;
use super::internal;
use super::ui;
use super::ui::flash;
use crate::auth::{Posted, Staff, MIN_PASSWORD_LEN};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users).post(add_user))
        .route("/admin/users/{id}/disable", post(disable_user))
        .route("/admin/users/{id}/enable", post(enable_user))
        .route("/admin/users/{id}/role", post(change_role))
}

async fn users_page(
    state: &AppState,
    staff: &Staff,
    form: UserForm,
    errors: Errors,
    notice: Option<Notice>,
) -> Response {
    let list = match store::users::list(&state.ctx.db).await {
        Ok(l) => l,
        Err(e) => return internal(e),
    };
    let l = staff.l();
    let status = ui::form_status(&errors);
    let list = list
        .into_iter()
        .map(|u| console::people::Member {
            id: u.id,
            email: u.email,
            role: u.role,
            disabled: u.disabled,
            totp: u.totp,
        })
        .collect();
    let page = console::people::page(
        l,
        staff.viewer(),
        staff.user().id,
        list,
        &form,
        &errors,
        notice,
        MIN_PASSWORD_LEN,
    );
    ui::html(status, page)
}

async fn users(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    if let Err(r) = staff.require(Role::Admin) {
        return r;
    }
    let l = staff.l();
    let notice = flash::flash_code(&headers).and_then(|c| match c.as_str() {
        "user-added" => Some(Notice::ok(l.t("Personne ajoutée.", "Person added."))),
        "user-disabled" => Some(Notice::ok(l.t(
            "Compte désactivé : ses sessions sont fermées et ses jetons refusés.",
            "Account disabled: its sessions are closed and its tokens refused.",
        ))),
        "user-enabled" => Some(Notice::ok(l.t(
            "Compte réactivé : la personne peut se connecter à nouveau.",
            "Account enabled: the person may sign in again.",
        ))),
        "user-role" => Some(Notice::ok(l.t("Rôle changé.", "Role changed."))),
        _ => None,
    });
    let shown = notice.is_some();
    let res = users_page(
        &state,
        &staff,
        UserForm::default(),
        Errors::default(),
        notice,
    )
    .await;
    if shown {
        flash::spend_flash(res, &staff)
    } else {
        res
    }
}

async fn add_user(State(state): State<AppState>, posted: Posted) -> Response {
    let staff = &posted.staff;
    if let Err(r) = staff.require(Role::Admin) {
        return r;
    }
    let l = staff.l();
    let form = UserForm {
        email: posted.get("email").unwrap_or("").to_owned(),
        role: posted.get("role").unwrap_or("").to_owned(),
    };
    let mut errors = Errors::default();
    if !form.email.contains('@') {
        errors.add(
            "email",
            l.t(
                "Saisissez une adresse e-mail, par exemple prenom@exemple.fr.",
                "Enter an e-mail address, for example name@example.org.",
            ),
        );
    }
    let role = Role::parse(&form.role);
    if role.is_none() {
        errors.add(
            "role",
            l.t(
                "Choisissez un rôle dans la liste.",
                "Choose a role from the list.",
            ),
        );
    }
    let password = posted
        .fields
        .iter()
        .find(|(k, _)| k == "password")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    if password.chars().count() < MIN_PASSWORD_LEN {
        errors.add(
            "password",
            l.f(
                || format!("Le mot de passe doit faire au moins {MIN_PASSWORD_LEN} caractères."),
                || format!("The password must be at least {MIN_PASSWORD_LEN} characters long."),
            ),
        );
    }
    let (Some(role), true) = (role, errors.is_empty()) else {
        return users_page(&state, staff, form, errors, None).await;
    };
    let hash = match state
        .auth
        .hashing
        .run(move |memory| store::users::hash_password_with(memory, &password))
        .await
    {
        Ok(Ok(h)) => h,
        Ok(Err(e)) => return internal(e),
        Err(crate::auth::hashing::Busy) => {
            let busy = console::Notice::error(console::login::SIGN_IN_BUSY);
            return users_page(&state, staff, form, errors, Some(busy)).await;
        }
    };
    match store::users::create(
        &state.ctx.db,
        &form.email,
        role,
        &hash,
        &staff.actor(),
        Utc::now(),
    )
    .await
    {
        Ok(_) => flash::redirect_with(staff, "/admin/users", "user-added"),
        Err(store::audit::WriteError::Conflict) => {
            errors.add(
                "email",
                l.t(
                    "Cette adresse a déjà un compte.",
                    "This address already has an account.",
                ),
            );
            users_page(&state, staff, form, errors, None).await
        }
        Err(e) => {
            refused(l, e, errors, |errors| {
                users_page(&state, staff, form, errors, None)
            })
            .await
        }
    }
}

/// Answers a change to someone's account: back to the team page with `done`, or the page
/// again with the reason it was refused.
async fn account_changed(
    state: &AppState,
    staff: &Staff,
    result: Result<store::users::User, store::audit::WriteError>,
    done: &str,
) -> Response {
    let l = staff.l();
    match result {
        Ok(_) => flash::redirect_with(staff, "/admin/users", done),
        Err(store::audit::WriteError::Invalid("last_admin")) => {
            let refused = Notice::error(l.t(
                "C'est le dernier compte d'administration actif : nommez d'abord une autre personne à l'administration.",
                "This is the last enabled admin account: make someone else admin first.",
            ));
            let mut res = users_page(
                state,
                staff,
                UserForm::default(),
                Errors::default(),
                Some(refused),
            )
            .await;
            *res.status_mut() = StatusCode::CONFLICT;
            res
        }
        Err(e) => {
            refused(l, e, Errors::default(), |errors| {
                users_page(state, staff, UserForm::default(), errors, None)
            })
            .await
        }
    }
}

async fn set_disabled(state: &AppState, posted: &Posted, id: i64, disabled: bool) -> Response {
    let staff = &posted.staff;
    if let Err(r) = staff.require(Role::Admin) {
        return r;
    }
    let result =
        store::users::set_disabled(&state.ctx.db, id, disabled, &staff.actor(), Utc::now()).await;
    let done = if disabled {
        "user-disabled"
    } else {
        "user-enabled"
    };
    account_changed(state, staff, result, done).await
}

async fn disable_user(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted,
) -> Response {
    set_disabled(&state, &posted, id, true).await
}

async fn enable_user(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted,
) -> Response {
    set_disabled(&state, &posted, id, false).await
}

async fn change_role(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted,
) -> Response {
    let staff = &posted.staff;
    if let Err(r) = staff.require(Role::Admin) {
        return r;
    }
    let Some(role) = posted.get("role").and_then(Role::parse) else {
        let l = staff.l();
        let bad = Notice::error(l.t(
            "Choisissez un rôle dans la liste.",
            "Choose a role from the list.",
        ));
        let mut res = users_page(
            &state,
            staff,
            UserForm::default(),
            Errors::default(),
            Some(bad),
        )
        .await;
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return res;
    };
    let result = store::users::set_role(&state.ctx.db, id, role, &staff.actor(), Utc::now()).await;
    account_changed(&state, staff, result, "user-role").await
}
