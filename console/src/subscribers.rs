//! `/admin/subscribers` and `/admin/webhooks`: readers' subscriptions for staff. Counts per
//! service, search by address, deletion; webhooks with their success rate, paused ones marked
//! and resumable, and the log of their latest deliveries.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::clock::Clock;
use crate::fields::{Errors, Input};
use crate::shell::{Notice, Page, Section, Viewer};

/// A reader's subscription: an e-mail address or a webhook.
#[derive(Clone, Debug)]
pub struct Subscription {
    pub id: i64,
    /// An e-mail address (else a webhook's URL).
    pub email: bool,
    pub address: String,
    /// For a webhook a reader created: the address that confirmed it.
    pub contact: Option<String>,
    pub language: String,
    /// `None`: the whole page.
    pub services: Option<Vec<String>>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub paused_at: Option<DateTime<Utc>>,
    /// Failures in a row (a webhook is paused after too many).
    pub failures: i32,
    pub delivered: i64,
    pub failed: i64,
}

/// Confirmed subscribers, by kind and per service.
#[derive(Clone, Debug, Default)]
pub struct Counts {
    pub email: u64,
    pub webhook: u64,
    pub whole_page: u64,
    /// Service id → subscribers who chose it.
    pub per_service: BTreeMap<String, u64>,
}

/// One delivery to a webhook, as the log shows it.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub subscriber_id: Option<i64>,
    pub recipient: String,
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub response_code: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// One page of the subscriptions matching `search`.
pub struct Found {
    pub rows: Vec<Subscription>,
    /// Subscriptions matching, on every page.
    pub total: u64,
    /// This page's number (from 1) and how many pages there are.
    pub page: u64,
    pub pages: u64,
}

/// The subscribers page: the counts (`services` are `(id, name)`), the search form and one
/// page of subscriptions, each with its delete button.
pub fn list(
    viewer: Viewer,
    clock: Clock,
    notice: Option<Notice>,
    search: &str,
    found: Found,
    counts: Counts,
    services: Vec<(String, String)>,
) -> String {
    let l = clock.l;
    let Found {
        rows,
        total,
        page,
        pages,
    } = found;
    let names: HashMap<String, String> = services.iter().cloned().collect();
    let csrf = viewer.csrf.clone();
    let errors = Errors::default();
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let link = {
        let s = enc(search);
        move |p: u64| format!("/admin/subscribers?page={p}&q={s}")
    };
    let search = search.to_owned();
    Page::new(
        l,
        Some(viewer),
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
                let kind = if s.email {
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
    })
}

/// The webhooks page: each subscribed webhook with its success rate (paused ones with a resume
/// button), and the latest deliveries.
pub fn webhooks(
    viewer: Viewer,
    clock: Clock,
    notice: Option<Notice>,
    hooks: Vec<Subscription>,
    log: Vec<Delivery>,
) -> String {
    let l = clock.l;
    let urls: HashMap<i64, String> = hooks.iter().map(|h| (h.id, h.address.clone())).collect();
    let csrf = viewer.csrf.clone();
    Page::new(l, Some(viewer), Section::Webhooks, l.t("Webhooks", "Webhooks"))
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
        })
}
