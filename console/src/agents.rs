//! `/admin/agents` (admins only): remote probe agents. Each catalog location with its state
//! ("Amsterdam: no report since 10:42 (Paris time)", in the site's time zone), the agent tokens
//! with their location, and a form that creates one; a new token's value is shown once.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::clock::Clock;
use crate::fields::{select, Errors, Input};
use crate::secrets::{last_used, revoke_cell, shown_once};
use crate::shell::{Notice, Page, Section, Viewer};

/// A catalog location and whether an agent reports from it.
#[derive(Clone, Debug)]
pub struct Location {
    pub id: String,
    pub name: String,
    /// The newest result stored from it.
    pub last_report_at: Option<DateTime<Utc>>,
    /// Whether that result is recent enough for the location to count in the quorum.
    pub reporting: bool,
}

/// An agent token (its value is never kept: only its first characters).
#[derive(Clone, Debug)]
pub struct Token {
    pub id: i64,
    pub location_id: String,
    pub label: String,
    pub prefix: String,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What the page shows besides the catalog: the form as posted (location, label) with its
/// errors, a notice, and the value of a token just created.
pub struct Shown {
    pub location: String,
    pub label: String,
    pub errors: Errors,
    pub notice: Option<Notice>,
    pub created: Option<String>,
}

/// A time as staff read it in a location's state: "10:42" today, the whole date otherwise,
/// always in the site's zone.
fn when(clock: &Clock, at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let local = at.with_timezone(&clock.tz);
    if local.date_naive() == now.with_timezone(&clock.tz).date_naive() {
        // Labelled as the public pages label a time: "10:42 (Paris time)".
        clock.time_of_day(at)
    } else {
        clock.show(at)
    }
}

/// One location's state in a sentence: "Amsterdam : aucun rapport depuis 10:42 (heure de
/// Paris)" / "Amsterdam: no report since 10:42 (Paris time)".
pub fn location_sentence(clock: &Clock, r: &Location, now: DateTime<Utc>) -> String {
    let l = clock.l;
    let name = &r.name;
    match (r.reporting, r.last_report_at) {
        (true, Some(at)) => {
            let t = when(clock, at, now);
            l.f(
                || format!("{name} : rapporte (dernier rapport à {t})"),
                || format!("{name}: reporting (last report {t})"),
            )
        }
        (_, Some(at)) => {
            let t = when(clock, at, now);
            l.f(
                || format!("{name} : aucun rapport depuis {t}"),
                || format!("{name}: no report since {t}"),
            )
        }
        (_, None) => l.f(
            || format!("{name} : aucun rapport reçu"),
            || format!("{name}: no report yet"),
        ),
    }
}

/// The page at `now`.
pub fn page(
    viewer: Viewer,
    clock: Clock,
    now: DateTime<Utc>,
    shown: Shown,
    locations: Vec<Location>,
    tokens: Vec<Token>,
) -> String {
    let l = clock.l;
    let Shown {
        location,
        label,
        errors,
        notice,
        created,
    } = shown;
    let notice = notice.or_else(|| errors.notice(l));
    let csrf_token = viewer.csrf.clone();
    let names: std::collections::HashMap<String, String> = locations
        .iter()
        .map(|r| (r.id.clone(), r.name.clone()))
        .collect();
    Page::new(
        l,
        Some(viewer),
        Section::Agents,
        l.t("Agents de sonde", "Probe agents"),
    )
    .notice(notice)
    .render(move || {
        let shown = created.map(|v| {
            shown_once(
                l.t(
                    "Jeton d'agent créé. Copiez-le maintenant : il ne sera plus affiché.",
                    "Agent token created. Copy it now: it will not be shown again.",
                ),
                v,
            )
        });
        let states = locations
            .iter()
            .map(|r| {
                let class = if r.reporting {
                    "location-state reporting"
                } else {
                    "location-state stale"
                };
                view! { <li class=class>{location_sentence(&clock, r, now)}</li> }
            })
            .collect_view();
        let choices: Vec<(String, String)> = locations
            .iter()
            .map(|r| (r.id.clone(), format!("{} ({})", r.name, r.id)))
            .collect();
        let rows = tokens
            .into_iter()
            .map(|t| {
                let place = names
                    .get(&t.location_id)
                    .cloned()
                    .unwrap_or_else(|| t.location_id.clone());
                let used = last_used(&clock, t.last_used_at);
                let state_cell = revoke_cell(
                    &clock,
                    t.revoked_at,
                    format!("/admin/agents/{}/revoke", t.id),
                    csrf_token.clone(),
                    &t.label,
                );
                view! {
                    <li class="console-item agent-token">
                        <p class="console-item-title">{t.label.clone()} " " <code>{format!("{}…", t.prefix)}</code></p>
                        <p class="console-item-meta">{place} " · " {used}</p>
                        {state_cell}
                    </li>
                }
            })
            .collect_view();
        view! {
            {shown}
            <section aria-labelledby="locations">
                <h2 id="locations">{l.t("Emplacements de sonde", "Probe locations")}</h2>
                <ul class="console-list location-states">{states}</ul>
            </section>
            <section aria-labelledby="new-agent-token">
                <h2 id="new-agent-token">{l.t("Créer un jeton d'agent", "Create an agent token")}</h2>
                <form method="post" action="/admin/agents" class="console-form">
                    <input type="hidden" name="csrf" value=csrf_token.clone()/>
                    {select(
                        "location",
                        l.t("Emplacement sondé par l'agent", "Location the agent probes from").to_owned(),
                        choices,
                        &location,
                        &errors,
                    )}
                    {Input::new("label", l.t("Nom (la machine de l'agent)", "Label (the agent's machine)"), &errors)
                        .value(label.clone()).required().view()}
                    <div class="button-row form-actions">
                        <button class="button-primary">{l.t("Créer", "Create")}</button>
                    </div>
                </form>
            </section>
            <section aria-labelledby="agent-tokens">
                <h2 id="agent-tokens">{l.t("Jetons d'agent", "Agent tokens")}</h2>
                <ul class="console-list">{rows}</ul>
            </section>
        }
    })
}
