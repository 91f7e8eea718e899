//! `/admin/subscribers` and `/admin/webhooks`: readers' subscriptions for staff. Counts per
//! service, search by address, deletion, CSV export; webhooks with their success rate, paused
//! ones marked and resumable, and the log of their latest deliveries. Deleting and resuming
//! are audited by the store (`subscriber.delete`, `subscriber.resume`).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use leptos::prelude::*;
use serde::Deserialize;
use store::subscribers::{EMAIL, WEBHOOK};

use super::internal;
use super::ui::{self, Clock, Errors, Input, Notice, Page, Section};
use crate::auth::{Posted, Staff};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/subscribers", get(list))
        .route("/admin/subscribers.csv", get(csv))
        .route("/admin/subscribers/{id}/delete", post(delete))
        .route("/admin/webhooks", get(webhooks))
        .route("/admin/webhooks/{id}/resume", post(resume))
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    page: Option<String>,
}

const PER_PAGE: u64 = 50;

async fn list(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(q): Query<SearchQuery>,
) -> Response {
    let l = staff.l();
    let db = &state.ctx.db;
    // Bounded (an address is at most a few hundred characters), and without control
    // characters (PostgreSQL refuses a NUL in a query parameter; no address holds one).
    let search: String =
        q.q.unwrap_or_default()
            .trim()
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
    let asked = q
        .page
        .as_deref()
        .and_then(|p| p.trim().parse::<u64>().ok())
        .unwrap_or(1)
        .clamp(1, i64::MAX as u64 / PER_PAGE);
    let found = tokio::try_join!(
        store::subscribers::list(db, None, Some(&search), asked - 1, PER_PAGE),
        store::subscribers::counts(db),
        store::subscribers::services(db),
    );
    let ((rows, total), counts, services) = match found {
        Ok(f) => f,
        Err(e) => return internal(e),
    };
    let clock = Clock {
        tz: state.ctx.timezone,
        l,
    };
    let notice = ui::flash_code(&headers)
        .filter(|c| c == "subscriber-deleted")
        .map(|_| Notice::ok(l.t("Abonnement supprimé.", "Subscription deleted.")));
    let shown = notice.is_some();
    let names: HashMap<String, String> = services.iter().cloned().collect();
    let csrf = staff.session.csrf_token.clone();
    let errors = Errors::default();
    let pages = total.div_ceil(PER_PAGE).max(1);
    let page = asked.min(pages);
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let link = {
        let s = enc(&search);
        move |p: u64| format!("/admin/subscribers?page={p}&q={s}")
    };
    let res = Page::new(
        l,
        Some(&staff),
        Section::Subscribers,
        l.t("Abonnés", "Subscribers"),
    )
    .notice(notice)
    .render(move || {
        let per_service = services
            .iter()
            .map(|(id, name)| {
                let n = counts.per_service.get(id).copied().unwrap_or(0);
                view! { <tr><th scope="row">{name.clone()}</th><td class="count">{n}</td></tr> }
            })
            .collect_view();
        let items = rows
            .into_iter()
            .map(|s| {
                let kind = if s.kind == EMAIL {
                    l.t("e-mail", "e-mail")
                } else {
                    l.t("webhook", "webhook")
                };
                let wanted = match &s.services {
                    None => l.t("toute la page", "the whole page").to_owned(),
                    Some(list) => list
                        .iter()
                        .map(|id| names.get(id).cloned().unwrap_or_else(|| id.clone()))
                        .collect::<Vec<_>>()
                        .join(", "),
                };
                let state_words = match (s.confirmed_at, s.paused_at) {
                    (None, _) => l.t("non confirmé", "not confirmed").to_owned(),
                    (Some(_), Some(_)) => l.t("en pause", "paused").to_owned(),
                    (Some(t), None) => l.f(
                        || format!("confirmé le {}", clock.show(t)),
                        || format!("confirmed {}", clock.show(t)),
                    ),
                };
                let label = l.f(
                    || format!("Supprimer {}", s.address),
                    || format!("Delete {}", s.address),
                );
                view! {
                    <li class="console-item subscriber">
                        <p class="console-item-title"><span class="subscriber-address">{s.address.clone()}</span></p>
                        <p class="console-item-meta">
                            {kind} " · " {s.language.clone()} " · " {wanted} " · " {state_words}
                        </p>
                        <form method="post" action=format!("/admin/subscribers/{}/delete", s.id) class="inline-form">
                            <input type="hidden" name="csrf" value=csrf.clone()/>
                            <button class="button-quiet" aria-label=label>{l.t("Supprimer", "Delete")}</button>
                        </form>
                    </li>
                }
            })
            .collect_view();
        let prev = (page > 1).then(|| {
            view! { <a href=link(page - 1) rel="prev">{l.t("← Précédents", "← Previous")}</a> }
        });
        let next = (page < pages).then(|| {
            view! { <a href=link(page + 1) rel="next">{l.t("Suivants →", "Next →")}</a> }
        });
        let count = l.f(
            || format!("{total} abonnements · page {page} sur {pages}"),
            || format!("{total} subscriptions · page {page} of {pages}"),
        );
        view! {
            <section aria-labelledby="counts">
                <h2 id="counts">{l.t("Abonnés confirmés", "Confirmed subscribers")}</h2>
                <p class="subscriber-counts">
                    {l.f(
                        || format!("{} par e-mail, {} webhooks ; {} pour toute la page.", counts.email, counts.webhook, counts.whole_page),
                        || format!("{} by e-mail, {} webhooks; {} for the whole page.", counts.email, counts.webhook, counts.whole_page),
                    )}
                </p>
                <table class="console-table">
                    <caption>{l.t("Abonnés par service choisi", "Subscribers per chosen service")}</caption>
                    <thead><tr>
                        <th scope="col">{l.t("Service", "Service")}</th>
                        <th scope="col">{l.t("Abonnés", "Subscribers")}</th>
                    </tr></thead>
                    <tbody>{per_service}</tbody>
                </table>
                <p class="button-row"><a href="/admin/subscribers.csv" download="subscribers.csv">{l.t("Exporter en CSV", "Export as CSV")}</a></p>
            </section>
            <section aria-labelledby="list">
                <h2 id="list">{l.t("Abonnements", "Subscriptions")}</h2>
                <form method="get" action="/admin/subscribers" class="console-form filter-form">
                    {Input::new("q", l.t("Adresse contient", "Address contains"), &errors).value(search.clone()).view()}
                    <div class="button-row"><button class="button-secondary">{l.t("Chercher", "Search")}</button></div>
                </form>
                <nav class="pager" aria-label=l.t("Pages des abonnés", "Subscriber pages")>
                    <p>{count}</p>
                    <p class="button-row">{prev}{next}</p>
                </nav>
                <ul class="console-list">{items}</ul>
            </section>
        }
    });
    if shown {
        ui::spend_flash(res, &staff)
    } else {
        res
    }
}

async fn csv(State(state): State<AppState>, _staff: Staff) -> Response {
    match store::subscribers::all(&state.ctx.db).await {
        Ok(rows) => (
            [
                (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    "attachment; filename=\"subscribers.csv\"",
                ),
            ],
            crate::api::webhooks::subscribers_csv_text(rows),
        )
            .into_response(),
        Err(e) => internal(e),
    }
}

async fn delete(State(state): State<AppState>, Path(id): Path<i64>, posted: Posted) -> Response {
    let staff = &posted.staff;
    match store::subscribers::delete(&state.ctx.db, id, Some(&staff.actor()), Utc::now()).await {
        Ok(true) => ui::redirect_with(staff, "/admin/subscribers", "subscriber-deleted"),
        Ok(false) => axum::http::StatusCode::NOT_FOUND.into_response(),
        Err(e) => internal(e),
    }
}

async fn webhooks(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    let l = staff.l();
    let db = &state.ctx.db;
    let found = tokio::try_join!(
        store::subscribers::list(db, Some(WEBHOOK), None, 0, 500),
        store::outbox::recent(db, Some("webhook"), None, 50),
    );
    let ((hooks, _), log) = match found {
        Ok(f) => f,
        Err(e) => return internal(e),
    };
    let clock = Clock {
        tz: state.ctx.timezone,
        l,
    };
    let notice = ui::flash_code(&headers)
        .filter(|c| c == "webhook-resumed")
        .map(|_| Notice::ok(l.t("Webhook relancé.", "Webhook resumed.")));
    let shown = notice.is_some();
    let urls: HashMap<i64, String> = hooks.iter().map(|h| (h.id, h.address.clone())).collect();
    let csrf = staff.session.csrf_token.clone();
    let res = Page::new(l, Some(&staff), Section::Webhooks, l.t("Webhooks", "Webhooks"))
        .notice(notice)
        .render(move || {
            let items = hooks
                .into_iter()
                .map(|h| {
                    let total = h.delivered + h.failed;
                    let rate = if total == 0 {
                        l.t("aucun envoi encore", "nothing sent yet").to_owned()
                    } else {
                        let pct = h.delivered * 100 / total;
                        l.f(
                            || format!("{pct} % réussis ({} sur {total})", h.delivered),
                            || format!("{pct}% succeeded ({} of {total})", h.delivered),
                        )
                    };
                    let paused = h.paused_at.map(|t| {
                        let label = l.f(
                            || format!("Relancer {}", h.address),
                            || format!("Resume {}", h.address),
                        );
                        view! {
                            <p class="webhook-paused">
                                <strong>{l.f(
                                    || format!("En pause depuis le {} après {} échecs de suite.", clock.show(t), h.failures),
                                    || format!("Paused since {} after {} failures in a row.", clock.show(t), h.failures),
                                )}</strong>
                            </p>
                            <form method="post" action=format!("/admin/webhooks/{}/resume", h.id) class="inline-form">
                                <input type="hidden" name="csrf" value=csrf.clone()/>
                                <button class="button-secondary" aria-label=label>{l.t("Relancer", "Resume")}</button>
                            </form>
                        }
                    });
                    view! {
                        <li class="console-item webhook">
                            <p class="console-item-title"><span class="webhook-url">{h.address.clone()}</span></p>
                            <p class="console-item-meta">
                                <span class="webhook-rate">{rate}</span>
                                {h.contact.clone().map(|c| view! { " · " {c} })}
                            </p>
                            {paused}
                        </li>
                    }
                })
                .collect_view();
            let rows = log
                .into_iter()
                .map(|d| {
                    let url = d
                        .subscriber_id
                        .and_then(|id| urls.get(&id).cloned())
                        .unwrap_or_else(|| d.recipient.clone());
                    let when = d.sent_at.unwrap_or(d.created_at);
                    view! {
                        <tr>
                            <td><time datetime=when.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)>{clock.show(when)}</time></td>
                            <td class="webhook-url">{url}</td>
                            <td class="delivery-state">{d.state.clone()}</td>
                            <td>{d.response_code.map(|c| c.to_string()).unwrap_or_else(|| "—".to_owned())}</td>
                            <td>{d.attempts}</td>
                            <td>{d.last_error.clone().unwrap_or_default()}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <section aria-labelledby="hooks">
                    <h2 id="hooks">{l.t("Webhooks abonnés", "Subscribed webhooks")}</h2>
                    <ul class="console-list">{items}</ul>
                </section>
                <section aria-labelledby="log">
                    <h2 id="log">{l.t("Derniers envois", "Latest deliveries")}</h2>
                    <table class="console-table delivery-log">
                        <thead><tr>
                            <th scope="col">{l.t("Quand", "When")}</th>
                            <th scope="col">{l.t("Adresse", "URL")}</th>
                            <th scope="col">{l.t("État", "State")}</th>
                            <th scope="col">{l.t("Réponse", "Response")}</th>
                            <th scope="col">{l.t("Essais", "Attempts")}</th>
                            <th scope="col">{l.t("Erreur", "Error")}</th>
                        </tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </section>
            }
        });
    if shown {
        ui::spend_flash(res, &staff)
    } else {
        res
    }
}

async fn resume(State(state): State<AppState>, Path(id): Path<i64>, posted: Posted) -> Response {
    let staff = &posted.staff;
    match store::subscribers::get(&state.ctx.db, id).await {
        Ok(Some(s)) if s.kind == WEBHOOK => {}
        Ok(_) => return axum::http::StatusCode::NOT_FOUND.into_response(),
        Err(e) => return internal(e),
    }
    match store::subscribers::resume(&state.ctx.db, id, &staff.actor(), Utc::now()).await {
        Ok(()) => ui::redirect_with(staff, "/admin/webhooks", "webhook-resumed"),
        Err(e) => internal(e),
    }
}
