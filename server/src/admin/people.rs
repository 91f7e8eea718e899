//! Admin-only pages: the team (users and roles) and API tokens (shown once, revocable). The
//! audit log is in [`super::audit`].

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use leptos::prelude::*;
use store::tokens::Scope;
use store::users::Role;

use super::forms::write_error;
use super::internal;
use super::ui::{self, Clock, Errors, Input, Notice, Page, Section, L};
use crate::auth::{Posted, Staff};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users).post(add_user))
        .route("/admin/users/{id}/disable", post(disable_user))
        .route("/admin/users/{id}/enable", post(enable_user))
        .route("/admin/users/{id}/role", post(change_role))
        .route("/admin/tokens", get(tokens).post(add_token))
        .route("/admin/tokens/{id}/revoke", post(revoke_token))
}

pub use crate::auth::MIN_PASSWORD_LEN;

/// What the new-user form holds when shown again (never the password).
#[derive(Clone, Debug, Default)]
struct UserForm {
    email: String,
    role: String,
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
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let notice = notice.or_else(|| errors.notice(l));
    let csrf = ui::csrf(staff);
    let csrf_token = staff.session.csrf_token.clone();
    let me = staff.user().id;
    Page::new(l, Some(staff), Section::Users, l.t("Équipe", "Team"))
        .status(status)
        .notice(notice)
        .render(move || {
            let rows = list
                .into_iter()
                .map(|u| {
                    let totp = u.totp.then(|| {
                        view! { " · " {l.t("double authentification", "two-factor sign-in")} }
                    });
                    let disabled = u.disabled.then(|| {
                        view! { " · " <strong>{l.t("désactivé", "disabled")}</strong> }
                    });
                    let you = (u.id == me).then(|| view! { " " {l.t("(vous)", "(you)")} });
                    let role_id = format!("role-{}", u.id);
                    let options = [Role::Editor, Role::Admin]
                        .into_iter()
                        .map(|r| {
                            let selected = r == u.role;
                            view! {
                                <option value=r.as_str() selected=selected>{l.role(r)}</option>
                            }
                        })
                        .collect_view();
                    let (toggle, toggle_label, toggle_class) = if u.disabled {
                        ("enable", l.t("Réactiver", "Enable"), "button-secondary")
                    } else {
                        ("disable", l.t("Désactiver", "Disable"), "button-quiet")
                    };
                    view! {
                        <li class="console-item">
                            <p class="console-item-title">{u.email.clone()}{you}</p>
                            <p class="console-item-meta">{l.role(u.role)}{totp}{disabled}</p>
                            <form method="post" action=format!("/admin/users/{}/role", u.id) class="inline-form">
                                <input type="hidden" name="csrf" value=csrf_token.clone()/>
                                <label for=role_id.clone()>{l.t("Rôle", "Role")}</label>
                                " "
                                <select id=role_id name="role">{options}</select>
                                " "
                                <button class="button-quiet">{l.t("Changer le rôle", "Change role")}</button>
                            </form>
                            <form method="post" action=format!("/admin/users/{}/{toggle}", u.id) class="inline-form">
                                <input type="hidden" name="csrf" value=csrf_token.clone()/>
                                <button class=toggle_class>{toggle_label}</button>
                            </form>
                        </li>
                    }
                })
                .collect_view();
            let roles = [Role::Editor, Role::Admin]
                .into_iter()
                .map(|r| (r.as_str().to_owned(), l.role(r).to_owned()))
                .collect();
            let role = if form.role.is_empty() { "editor".to_owned() } else { form.role.clone() };
            view! {
                <ul class="console-list">{rows}</ul>
                <section aria-labelledby="add-user">
                    <h2 id="add-user">{l.t("Ajouter une personne", "Add someone")}</h2>
                    <form method="post" action="/admin/users" class="console-form">
                        {csrf}
                        {Input::new("email", l.t("Adresse e-mail", "E-mail address"), &errors)
                            .kind("email").value(form.email.clone()).required().autocomplete("off").view()}
                        {ui::select("role", l.t("Rôle", "Role").to_owned(), roles, &role, &errors)}
                        {Input::new("password", l.t("Mot de passe", "Password"), &errors)
                            .kind("password")
                            .required()
                            .autocomplete("new-password")
                            .hint(l.f(
                                || format!("Au moins {MIN_PASSWORD_LEN} caractères. Transmettez-le à la personne par un autre canal."),
                                || format!("At least {MIN_PASSWORD_LEN} characters. Give it to the person through another channel."),
                            ))
                            .view()}
                        <div class="button-row form-actions">
                            <button class="button-primary">{l.t("Ajouter", "Add")}</button>
                        </div>
                    </form>
                </section>
            }
        })
}

async fn users(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    if let Err(r) = staff.require(Role::Admin) {
        return r;
    }
    let l = staff.l();
    let notice = ui::flash_code(&headers).and_then(|c| match c.as_str() {
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
        ui::spend_flash(res, &staff)
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
        .run(move || store::users::hash_password(&password))
        .await
    {
        Ok(Ok(h)) => h,
        Ok(Err(e)) => return internal(e),
        Err(crate::auth::hashing::Busy) => {
            let busy = ui::Notice::error(super::SIGN_IN_BUSY);
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
        Ok(_) => ui::redirect_with(staff, "/admin/users", "user-added"),
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
        Err(e) => match write_error(l, e, &mut errors) {
            Ok(()) => users_page(&state, staff, form, errors, None).await,
            Err(r) => r,
        },
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
        Ok(_) => ui::redirect_with(staff, "/admin/users", done),
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
            let mut errors = Errors::default();
            match write_error(l, e, &mut errors) {
                Ok(()) => users_page(state, staff, UserForm::default(), errors, None).await,
                Err(r) => r,
            }
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

/// The cookie that carries a new token's value to the page shown after the redirect, once:
/// HttpOnly, SameSite=Strict, only sent to `/admin/tokens`, gone after a minute or when shown.
/// The value lives nowhere else (the database keeps its hash), so it cannot be shown twice,
/// and reloading that page creates nothing.
const NEW_TOKEN_COOKIE: &str = "vigie_new_token";

fn token_cookie(staff: &Staff, value: &str, max_age: i64) -> Option<HeaderValue> {
    let secure = if staff.client.https { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{NEW_TOKEN_COOKIE}={value}; Path=/admin/tokens; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .ok()
}

fn scope_words(l: L, s: Scope) -> &'static str {
    match s {
        Scope::IncidentsWrite => l.t("publier des incidents", "publish incidents"),
        Scope::MaintenanceWrite => l.t("planifier des maintenances", "schedule maintenance"),
        Scope::ServicesWrite => l.t("changer l'état des services", "change service statuses"),
    }
}

async fn tokens_page(
    state: &AppState,
    staff: &Staff,
    name: String,
    errors: Errors,
    notice: Option<Notice>,
    created: Option<String>,
) -> Response {
    let list = match store::tokens::list(&state.ctx.db).await {
        Ok(l) => l,
        Err(e) => return internal(e),
    };
    let l = staff.l();
    let clock = Clock {
        tz: state.ctx.timezone,
        l,
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let notice = notice.or_else(|| errors.notice(l));
    let csrf_token = staff.session.csrf_token.clone();
    Page::new(l, Some(staff), Section::Tokens, l.t("Jetons d'API", "API tokens"))
        .status(status)
        .notice(notice)
        .render(move || {
            let shown = created.map(|v| {
                view! {
                    <div class="notice notice-ok secret" role="status">
                        <p>{l.t("Jeton créé. Copiez-le maintenant : il ne sera plus affiché.", "Token created. Copy it now: it will not be shown again.")}</p>
                        <p><code>{v}</code></p>
                    </div>
                }
            });
            let rows = list
                .into_iter()
                .map(|t| {
                    let scopes: Vec<&str> = t.scopes.iter().map(|s| scope_words(l, *s)).collect();
                    let used = t.last_used_at.map_or_else(
                        || l.t("jamais utilisé", "never used").to_owned(),
                        |u| l.f(|| format!("utilisé le {}", clock.show(u)), || format!("used {}", clock.show(u))),
                    );
                    let state_cell = match t.revoked_at {
                        Some(at) => view! {
                            <p class="console-item-meta">
                                {l.f(|| format!("révoqué le {}", clock.show(at)), || format!("revoked {}", clock.show(at)))}
                            </p>
                        }
                        .into_any(),
                        None => view! {
                            <form method="post" action=format!("/admin/tokens/{}/revoke", t.id)>
                                <input type="hidden" name="csrf" value=csrf_token.clone()/>
                                <button class="button-quiet">{l.t("Révoquer", "Revoke")}</button>
                            </form>
                        }
                        .into_any(),
                    };
                    view! {
                        <li class="console-item">
                            <p class="console-item-title">{t.name} " " <code>{format!("{}…", t.prefix)}</code></p>
                            <p class="console-item-meta">{scopes.join(", ")} " · " {used}</p>
                            {state_cell}
                        </li>
                    }
                })
                .collect_view();
            let boxes = Scope::ALL
                .iter()
                .map(|s| {
                    let id = ui::field_id(&format!("scope-{}", s.as_str()));
                    view! {
                        <div class="check">
                            <input type="checkbox" id=id.clone() name="scopes" value=s.as_str()/>
                            <label for=id>{scope_words(l, *s)}</label>
                        </div>
                    }
                })
                .collect_view();
            let scope_error = errors.get("scopes");
            view! {
                {shown}
                <section aria-labelledby="new-token">
                    <h2 id="new-token">{l.t("Créer un jeton", "Create a token")}</h2>
                    <form method="post" action="/admin/tokens" class="console-form">
                        <input type="hidden" name="csrf" value=csrf_token.clone()/>
                        {Input::new("name", l.t("Nom (à quoi il sert)", "Name (what it is for)"), &errors).value(name.clone()).required().view()}
                        <fieldset class="checks" aria-describedby=scope_error.as_ref().map(|_| "f-scopes-error")>
                            <legend>{l.t("Permissions", "Permissions")}</legend>
                            {boxes}
                            {ui::field_error("scopes", scope_error.clone())}
                        </fieldset>
                        <div class="button-row form-actions">
                            <button class="button-primary">{l.t("Créer", "Create")}</button>
                        </div>
                    </form>
                </section>
                <section aria-labelledby="tokens">
                    <h2 id="tokens">{l.t("Jetons", "Tokens")}</h2>
                    <ul class="console-list">{rows}</ul>
                </section>
            }
        })
}

async fn tokens(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    if let Err(r) = staff.require(Role::Admin) {
        return r;
    }
    let l = staff.l();
    let created = crate::auth::cookie(&headers, NEW_TOKEN_COOKIE)
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    let notice = ui::flash_code(&headers)
        .filter(|c| c == "token-revoked")
        .map(|_| {
            Notice::ok(l.t(
                "Jeton révoqué : il ne donne plus accès.",
                "Token revoked: it no longer gives access.",
            ))
        });
    let spend = created.is_some();
    let flash = notice.is_some();
    let mut res = tokens_page(
        &state,
        &staff,
        String::new(),
        Errors::default(),
        notice,
        created,
    )
    .await;
    if spend {
        if let Some(v) = token_cookie(&staff, "", 0) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    if flash {
        res = ui::spend_flash(res, &staff);
    }
    res
}

async fn add_token(State(state): State<AppState>, posted: Posted) -> Response {
    let staff = &posted.staff;
    if let Err(r) = staff.require(Role::Admin) {
        return r;
    }
    let l = staff.l();
    let scopes: Vec<Scope> = posted
        .all("scopes")
        .into_iter()
        .filter_map(Scope::parse)
        .collect();
    let name = posted.get("name").unwrap_or("").to_owned();
    let mut errors = Errors::default();
    if name.is_empty() {
        errors.add(
            "name",
            l.t(
                "Donnez un nom qui dit à quoi sert le jeton.",
                "Give a name that says what the token is for.",
            ),
        );
    }
    if scopes.is_empty() {
        errors.add(
            "scopes",
            l.t(
                "Cochez au moins une permission.",
                "Tick at least one permission.",
            ),
        );
    }
    if !errors.is_empty() {
        return tokens_page(&state, staff, name, errors, None, None).await;
    }
    match store::tokens::create(
        &state.ctx.db,
        staff.user().id,
        &name,
        &scopes,
        &staff.actor(),
        Utc::now(),
    )
    .await
    {
        Ok((value, _)) => {
            let mut res = axum::response::Redirect::to("/admin/tokens").into_response();
            if let Some(v) = token_cookie(staff, &value, 60) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res
        }
        Err(e) => match write_error(l, e, &mut errors) {
            Ok(()) => tokens_page(&state, staff, name, errors, None, None).await,
            Err(r) => r,
        },
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted,
) -> Response {
    let staff = &posted.staff;
    if let Err(r) = staff.require(Role::Admin) {
        return r;
    }
    let l = staff.l();
    match store::tokens::revoke(&state.ctx.db, id, &staff.actor(), Utc::now()).await {
        Ok(_) => ui::redirect_with(staff, "/admin/tokens", "token-revoked"),
        Err(e) => {
            let mut errors = Errors::default();
            match write_error(l, e, &mut errors) {
                Ok(()) => tokens_page(&state, staff, String::new(), errors, None, None).await,
                Err(r) => r,
            }
        }
    }
}
