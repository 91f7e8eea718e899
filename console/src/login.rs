//! The sign-in page: e-mail, password and, when the account has it on, the one-time code.

use leptos::prelude::*;

use crate::fields::{Errors, Input};
use crate::shell::{Notice, Page, Section};
use crate::words::L;

/// The sign-in form carrying CSRF `token`, with `error` on top when the last attempt failed
/// and the `email` typed then.
pub fn page(l: L, token: &str, error: Option<&str>, email: &str) -> String {
    let token = token.to_owned();
    let email = email.to_owned();
    Page::new(l, None, Section::None, l.t("Connexion", "Sign in"))
        .notice(error.map(Notice::error))
        .render(move || {
            let errors = Errors::default();
            view! {
                <form method="post" action="/admin/login" class="console-form login-form">
                    <input type="hidden" name="csrf" value=token/>
                    {Input::new("email", l.t("Adresse e-mail", "E-mail address"), &errors)
                        .kind("email").value(email).required().autocomplete("email").view()}
                    {Input::new("password", l.t("Mot de passe", "Password"), &errors)
                        .kind("password").required().autocomplete("current-password").view()}
                    {Input::new("code", l.t("Code à usage unique", "One-time code"), &errors)
                        .autocomplete("one-time-code")
                        .hint(l.t(
                            "Seulement si la double authentification est activée sur votre compte.",
                            "Only if two-factor sign-in is on for your account.",
                        ))
                        .view()}
                    <div class="button-row form-actions">
                        <button class="button-primary">{l.t("Se connecter", "Sign in")}</button>
                    </div>
                </form>
            }
        })
}

/// The one message for an unknown account, a wrong password and a missing or wrong one-time
/// code: none of them tells an attacker which part was right.
pub fn bad_credentials(l: L) -> &'static str {
    l.t(
        "Adresse e-mail, mot de passe ou code incorrect.",
        "Incorrect e-mail address, password or code.",
    )
}

/// Too many sign-ins at once: the next attempt is tried again shortly.
pub const SIGN_IN_BUSY: &str = "Trop de connexions en cours : réessayez dans un instant. \
     Too many sign-ins at once: try again in a moment.";

/// Too many failed attempts from this address or on this account.
pub fn throttled(l: L) -> &'static str {
    l.t(
        "Trop de tentatives : réessayez dans quelques minutes.",
        "Too many attempts: try again in a few minutes.",
    )
}
