//! `/admin/agents` (admins only): remote probe agents for staff. Each catalog location with
//! its state ("Amsterdam: no report since 10:42 (Paris time)", in the site's time zone), the
//! agent tokens with their location, and a form that creates one. A new token is shown once
//! (carried to the page after the redirect in a short-lived HttpOnly cookie, as API tokens
//! are); the database keeps its SHA-256. Creating and revoking are audited by the store
//! (`agent_token.create`, `agent_token.revoke`), the same functions `vigie agent-token` uses.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use store::agents::LocationReport;
use store::users::Role;

use super::forms::write_error;
use super::internal;
use super::ui::{self, Clock, Errors, Input, Notice, Page, Section};
use crate::auth::{Posted, Staff};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/agents", get(agents).post(add_token))
        .route("/admin/agents/{id}/revoke", post(revoke_token))
}

/// The cookie carrying a new agent token's value to the page after the redirect, once: only
/// sent to `/admin/agents`, gone after a minute or when shown.
const NEW_TOKEN_COOKIE: &str = "vigie_new_agent_token";

fn token_cookie(staff: &Staff, value: &str, max_age: i64) -> Option<HeaderValue> {
    let secure = if staff.client.https { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{NEW_TOKEN_COOKIE}={value}; Path=/admin/agents; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .ok()
}

/// A time as staff read it in a location's state: "10:42" today, the whole date otherwise,
/// always in the site's zone.
fn when(clock: &Clock, at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let local = at.with_timezone(&clock.tz);
    if local.date_naive() == now.with_timezone(&clock.tz).date_naive() {
        // Labelled as the public pages label a time: "10:42 (Paris time)".
        format!("{} ({})", local.format("%H:%M"), clock.zone_words())
    } else {
        clock.show(at)
    }
}

/// One location's state in a sentence: "Amsterdam : aucun rapport depuis 10:42 (heure de
/// Paris)" / "Amsterdam: no report since 10:42 (Paris time)".
pub fn location_sentence(clock: &Clock, r: &LocationReport, now: DateTime<Utc>) -> String {
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

async fn agents_page(
    state: &AppState,
    staff: &Staff,
    form: (String, String),
    errors: Errors,
    notice: Option<Notice>,
    created: Option<String>,
) -> Response {
    let now = Utc::now();
    let found = tokio::try_join!(
        store::agents::locations(&state.ctx.db, now),
        store::agents::list_tokens(&state.ctx.db),
    );
    let (locations, tokens) = match found {
        Ok(f) => f,
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
    let names: std::collections::HashMap<String, String> = locations
        .iter()
        .map(|r| (r.id.clone(), r.name.clone()))
        .collect();
    let (location, label) = form;
    Page::new(
        l,
        Some(staff),
        Section::Agents,
        l.t("Agents de sonde", "Probe agents"),
    )
    .status(status)
    .notice(notice)
    .render(move || {
        let shown = created.map(|v| {
            view! {
                <div class="notice notice-ok secret" role="status">
                    <p>{l.t(
                        "Jeton d'agent créé. Copiez-le maintenant : il ne sera plus affiché.",
                        "Agent token created. Copy it now: it will not be shown again.",
                    )}</p>
                    <p><code>{v}</code></p>
                </div>
            }
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
                let used = t.last_used_at.map_or_else(
                    || l.t("jamais utilisé", "never used").to_owned(),
                    |u| {
                        l.f(
                            || format!("utilisé le {}", clock.show(u)),
                            || format!("used {}", clock.show(u)),
                        )
                    },
                );
                let state_cell = match t.revoked_at {
                    Some(at) => view! {
                        <p class="console-item-meta">
                            {l.f(|| format!("révoqué le {}", clock.show(at)), || format!("revoked {}", clock.show(at)))}
                        </p>
                    }
                    .into_any(),
                    None => {
                        let label = l.f(
                            || format!("Révoquer {}", t.label),
                            || format!("Revoke {}", t.label),
                        );
                        view! {
                            <form method="post" action=format!("/admin/agents/{}/revoke", t.id) class="inline-form">
                                <input type="hidden" name="csrf" value=csrf_token.clone()/>
                                <button class="button-quiet" aria-label=label>{l.t("Révoquer", "Revoke")}</button>
                            </form>
                        }
                        .into_any()
                    }
                };
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
                    {ui::select(
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

async fn agents(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    if let Err(r) = staff.require(Role::Admin) {
        return r;
    }
    let l = staff.l();
    let created = crate::auth::cookie(&headers, NEW_TOKEN_COOKIE)
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    let notice = ui::flash_code(&headers)
        .filter(|c| c == "agent-token-revoked")
        .map(|_| {
            Notice::ok(l.t(
                "Jeton d'agent révoqué : l'agent ne peut plus rien envoyer.",
                "Agent token revoked: the agent can no longer send anything.",
            ))
        });
    let spend = created.is_some();
    let flash = notice.is_some();
    let mut res = agents_page(
        &state,
        &staff,
        (String::new(), String::new()),
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
    let location = posted.get("location").unwrap_or("").trim().to_owned();
    let label = posted.get("label").unwrap_or("").to_owned();
    let mut errors = Errors::default();
    if label.trim().is_empty() {
        errors.add(
            "label",
            l.t(
                "Donnez un nom qui dit où tourne l'agent.",
                "Give a label that says where the agent runs.",
            ),
        );
    }
    if !errors.is_empty() {
        return agents_page(&state, staff, (location, label), errors, None, None).await;
    }
    match store::agents::create_token(&state.ctx.db, &location, &label, &staff.actor(), Utc::now())
        .await
    {
        Ok((value, _)) => {
            let mut res = axum::response::Redirect::to("/admin/agents").into_response();
            if let Some(v) = token_cookie(staff, &value, 60) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res
        }
        Err(store::audit::WriteError::NotFound) => {
            errors.add(
                "location",
                l.t(
                    "Cet emplacement n'est pas dans le catalogue : choisissez-en un dans la liste.",
                    "This location is not in the catalog: choose one from the list.",
                ),
            );
            agents_page(&state, staff, (location, label), errors, None, None).await
        }
        Err(store::audit::WriteError::Invalid("label")) => {
            errors.add(
                "label",
                l.t(
                    "Un nom de 1 à 200 caractères.",
                    "A label of 1 to 200 characters.",
                ),
            );
            agents_page(&state, staff, (location, label), errors, None, None).await
        }
        Err(e) => match write_error(l, e, &mut errors) {
            Ok(()) => agents_page(&state, staff, (location, label), errors, None, None).await,
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
    match store::agents::revoke_token(&state.ctx.db, id, &staff.actor(), Utc::now()).await {
        Ok(_) => ui::redirect_with(staff, "/admin/agents", "agent-token-revoked"),
        Err(e) => {
            let mut errors = Errors::default();
            match write_error(l, e, &mut errors) {
                Ok(()) => {
                    agents_page(
                        &state,
                        staff,
                        (String::new(), String::new()),
                        errors,
                        None,
                        None,
                    )
                    .await
                }
                Err(r) => r,
            }
        }
    }
}
