//! `/admin/account`: a staff member's own second factor. Off (with the button that begins
//! enrolment, or why it cannot begin), being enrolled (the new secret and its `otpauth://`
//! address, and the code that confirms it), or on (turned off or moved to another phone with a
//! current code).

use leptos::prelude::*;

use crate::fields::{csrf, Errors, Input};
use crate::shell::{Notice, Page, Section, Viewer};
use crate::words::L;

/// Where the staff member's second factor stands.
#[derive(Clone, Debug)]
pub enum TwoFactor {
    /// Off, and this server can seal a secret (it has an instance key).
    Off,
    /// Off, and it cannot be turned on: no instance key on this server.
    NoKey,
    /// A new secret waits for a code that confirms it: the secret and its `otpauth://` address.
    Pending { secret: String, url: String },
    /// On: every sign-in asks for a code.
    On,
}

/// Why a second factor cannot be turned on here: no instance key to seal it with.
pub fn no_key(l: L) -> Notice {
    Notice::error(l.t(
        "La double authentification demande une clé d'instance sur ce serveur : un administrateur doit définir VIGIE_INSTANCE_KEY_FILE (voir docs/security.md).",
        "Two-factor sign-in needs an instance key on this server: an administrator must set VIGIE_INSTANCE_KEY_FILE (see docs/security.md).",
    ))
}

fn code_field(l: L, errors: &Errors) -> impl IntoView {
    Input::new(
        "code",
        l.t(
            "Code à 6 chiffres de votre application",
            "6-digit code from your app",
        ),
        errors,
    )
    .autocomplete("one-time-code")
    .required()
    .view()
}

/// The account page of `viewer`, with the code field's `errors` and a `notice` on top.
pub fn page(
    l: L,
    viewer: Viewer,
    two_factor: TwoFactor,
    errors: &Errors,
    notice: Option<Notice>,
) -> String {
    let notice = notice.or_else(|| errors.notice(l));
    let csrf = csrf(&viewer.csrf);
    let title = l.f(
        || format!("Mon compte — {}", viewer.email),
        || format!("My account — {}", viewer.email),
    );
    let errors = errors.clone();
    Page::new(l, Some(viewer), Section::Account, title)
        .notice(notice)
        .render(move || {
            let body = match two_factor {
                TwoFactor::Pending { secret, url } => view! {
                    <p>
                        {l.t(
                            "Ajoutez ce compte à votre application d'authentification (clé à saisir ou adresse otpauth), puis confirmez avec le code qu'elle affiche.",
                            "Add this account to your authenticator app (key or otpauth address), then confirm with the code it shows.",
                        )}
                    </p>
                    <p>{l.t("Clé :", "Key:")} " " <code class="totp-secret">{secret}</code></p>
                    <p><code class="totp-url">{url}</code></p>
                    <form method="post" action="/admin/account/totp/confirm" class="console-form">
                        {csrf}
                        {code_field(l, &errors)}
                        <div class="button-row"><button class="button-primary">{l.t("Activer", "Turn on")}</button></div>
                    </form>
                }
                .into_any(),
                TwoFactor::On => view! {
                    <p>
                        {l.t("La double authentification est ", "Two-factor sign-in is ")}
                        <strong>{l.t("activée", "on")}</strong>
                        "."
                    </p>
                    <form method="post" action="/admin/account/totp/disable" class="console-form">
                        {csrf}
                        {code_field(l, &errors)}
                        <div class="button-row">
                            <button class="button-secondary">{l.t("Désactiver", "Turn off")}</button>
                            " "
                            <button class="button-secondary" formaction="/admin/account/totp/begin">
                                {l.t("Changer d'application ou de téléphone", "Move to another app or phone")}
                            </button>
                        </div>
                    </form>
                }
                .into_any(),
                TwoFactor::NoKey => view! {
                    <p>
                        {l.t(
                            "La double authentification est désactivée : le mot de passe suffit pour se connecter.",
                            "Two-factor sign-in is off: the password alone signs you in.",
                        )}
                    </p>
                    <p>{no_key(l).text}</p>
                }
                .into_any(),
                TwoFactor::Off => view! {
                    <p>
                        {l.t(
                            "La double authentification est désactivée : le mot de passe suffit pour se connecter.",
                            "Two-factor sign-in is off: the password alone signs you in.",
                        )}
                    </p>
                    <form method="post" action="/admin/account/totp/begin" class="console-form">
                        {csrf}
                        <div class="button-row">
                            <button class="button-primary">
                                {l.t("Activer la double authentification", "Turn on two-factor sign-in")}
                            </button>
                        </div>
                    </form>
                }
                .into_any(),
            };
            view! {
                <section aria-labelledby="two-factor">
                    <h2 id="two-factor">{l.t("Double authentification", "Two-factor sign-in")}</h2>
                    {body}
                </section>
            }
        })
}
