//! `/admin/users` (admins only): the team, each person's role and state, and the form that
//! adds someone.

use domain::staff::Role;
use leptos::prelude::*;

use crate::fields::{csrf, select, Errors, Input};
use crate::shell::{Notice, Page, Section, Viewer};
use crate::words::L;

/// A staff account as the team page lists it.
#[derive(Clone, Debug)]
pub struct Member {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub disabled: bool,
    /// A second factor is required at sign-in.
    pub totp: bool,
}

/// What the new-user form holds when shown again (never the password).
#[derive(Clone, Debug, Default)]
pub struct UserForm {
    pub email: String,
    pub role: String,
}

/// The team page for `viewer` (whose id is `me`), with the new-user form as posted and its
/// errors. `min_password` is the shortest password accepted, said in the hint.
#[allow(clippy::too_many_arguments)]
pub fn page(
    l: L,
    viewer: Viewer,
    me: i64,
    list: Vec<Member>,
    form: &UserForm,
    errors: &Errors,
    notice: Option<Notice>,
    min_password: usize,
) -> String {
    let notice = notice.or_else(|| errors.notice(l));
    let csrf = csrf(&viewer.csrf);
    let csrf_token = viewer.csrf.clone();
    let form = form.clone();
    let errors = errors.clone();
    Page::new(l, Some(viewer), Section::Users, l.t("Équipe", "Team"))
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
                        {select("role", l.t("Rôle", "Role").to_owned(), roles, &role, &errors)}
                        {Input::new("password", l.t("Mot de passe", "Password"), &errors)
                            .kind("password")
                            .required()
                            .autocomplete("new-password")
                            .hint(l.f(
                                || format!("Au moins {min_password} caractères. Transmettez-le à la personne par un autre canal."),
                                || format!("At least {min_password} characters. Give it to the person through another channel."),
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
