//! `/admin/tokens` (admins only): the write API's tokens, each with its permissions and last
//! use, revocable; the form that creates one; a new token's value shown once.

use chrono::{DateTime, Utc};
use domain::staff::Scope;
use leptos::prelude::*;

use crate::clock::Clock;
use crate::fields::{field_error, field_id, Errors, Input};
use crate::secrets::{last_used, revoke_cell, shown_once};
use crate::shell::{Notice, Page, Section, Viewer};
use crate::words::L;

/// An API token as staff see it (never its value: only its first characters).
#[derive(Clone, Debug)]
pub struct Token {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

fn scope_words(l: L, s: Scope) -> &'static str {
    match s {
        Scope::IncidentsWrite => l.t("publier des incidents", "publish incidents"),
        Scope::MaintenanceWrite => l.t("planifier des maintenances", "schedule maintenance"),
        Scope::ServicesWrite => l.t("changer l'état des services", "change service statuses"),
    }
}

/// The tokens page, with the form as posted (`name`) and its errors, and the value of a token
/// just `created`.
pub fn page(
    viewer: Viewer,
    clock: Clock,
    list: Vec<Token>,
    name: &str,
    errors: &Errors,
    notice: Option<Notice>,
    created: Option<String>,
) -> String {
    let l = clock.l;
    let notice = notice.or_else(|| errors.notice(l));
    let csrf_token = viewer.csrf.clone();
    let errors = errors.clone();
    let name = name.to_owned();
    Page::new(l, Some(viewer), Section::Tokens, l.t("Jetons d'API", "API tokens"))
        .notice(notice)
        .render(move || {
            let shown = created.map(|v| {
                shown_once(
                    l.t(
                        "Jeton créé. Copiez-le maintenant : il ne sera plus affiché.",
                        "Token created. Copy it now: it will not be shown again.",
                    ),
                    v,
                )
            });
            let rows = list
                .into_iter()
                .map(|t| {
                    let scopes: Vec<&str> = t.scopes.iter().map(|s| scope_words(l, *s)).collect();
                    let used = last_used(&clock, t.last_used_at);
                    let state_cell = revoke_cell(
                        &clock,
                        t.revoked_at,
                        format!("/admin/tokens/{}/revoke", t.id),
                        csrf_token.clone(),
                        &t.name,
                    );
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
                    let id = field_id(&format!("scope-{}", s.as_str()));
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
                            {field_error("scopes", scope_error.clone())}
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
