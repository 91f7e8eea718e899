//! What the pages listing tokens share (`tokens`: the write API's, `agents`: remote probe
//! agents'): a new token's value shown this once, when a token was last used, and the button
//! that revokes one or the time it was revoked.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::clock::Clock;

/// A secret just made (a token's value), shown this once with `text` saying so: the page is
/// the only place it ever appears, the database keeps its hash.
pub fn shown_once(text: &'static str, value: String) -> impl IntoView {
    view! {
        <div class="notice notice-ok secret" role="status">
            <p>{text}</p>
            <p><code>{value}</code></p>
        </div>
    }
}

/// When a token was last used, or that it never was.
pub fn last_used(clock: &Clock, at: Option<DateTime<Utc>>) -> String {
    let l = clock.l;
    at.map_or_else(
        || l.t("jamais utilisé", "never used").to_owned(),
        |u| {
            l.f(
                || format!("utilisé le {}", clock.show(u)),
                || format!("used {}", clock.show(u)),
            )
        },
    )
}

/// When token `name` was revoked, or the form that revokes it (posted to `action` with the
/// CSRF token `csrf`; the button names the token for screen readers).
pub fn revoke_cell(
    clock: &Clock,
    revoked_at: Option<DateTime<Utc>>,
    action: String,
    csrf: String,
    name: &str,
) -> AnyView {
    let l = clock.l;
    match revoked_at {
        Some(at) => view! {
            <p class="console-item-meta">
                {l.f(|| format!("révoqué le {}", clock.show(at)), || format!("revoked {}", clock.show(at)))}
            </p>
        }
        .into_any(),
        None => {
            let label = l.f(|| format!("Révoquer {name}"), || format!("Revoke {name}"));
            view! {
                <form method="post" action=action class="inline-form">
                    <input type="hidden" name="csrf" value=csrf/>
                    <button class="button-quiet" aria-label=label>{l.t("Révoquer", "Revoke")}</button>
                </form>
            }
            .into_any()
        }
    }
}
