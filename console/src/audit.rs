//! The audit log page: entries newest first, each read as a sentence ("a publié une mise à
//! jour · statut : identifié → résolu") rather than raw JSON, with the filter form and the pager.
//! Entries wrap on a phone instead of overflowing.

use chrono::{DateTime, Utc};
use domain::incident::{Impact, IncidentStatus, MaintenanceStatus};
use domain::staff::Role;
use domain::status::ComponentStatus;
use leptos::prelude::*;
use serde_json::Value;

use crate::clock::Clock;
use crate::fields::{Errors, Input};
use crate::shell::{Page, Section, Viewer};
use crate::words::L;

/// One entry of the log, as stored.
#[derive(Clone, Debug)]
pub struct Entry {
    pub at: DateTime<Utc>,
    pub actor_label: String,
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub ip: Option<String>,
    /// The details as stored: JSON, or a text shown as it is.
    pub details: String,
}

/// One page of the log and the filter that chose it.
pub struct Log {
    pub entries: Vec<Entry>,
    /// Entries matching the filter, on every page.
    pub total: u64,
    /// This page's number (from 1) and how many pages there are.
    pub page: u64,
    pub pages: u64,
    /// The filter applied (what the pager's links carry).
    pub action: String,
    pub actor: String,
    /// The filter as typed, shown back in its fields.
    pub typed_action: String,
    pub typed_actor: String,
}

/// What staff did, in words.
fn action_words(l: L, action: &str) -> Option<&'static str> {
    Some(match action {
        "incident.create" => l.t("a ouvert un incident", "opened an incident"),
        "incident.update" => l.t("a publié une mise à jour", "posted an update"),
        "incident.edit" => l.t("a modifié un incident", "edited an incident"),
        "incident.edit_update" => l.t(
            "a corrigé le texte d'une mise à jour",
            "edited an update's text",
        ),
        "incident_draft.proposed" => l.t(
            "a proposé un brouillon d'incident",
            "proposed an incident draft",
        ),
        "incident_draft.opened" => l.t(
            "a ouvert un brouillon en incident",
            "opened a draft as an incident",
        ),
        "incident_draft.dismissed" => l.t(
            "a écarté un brouillon d'incident",
            "dismissed an incident draft",
        ),
        "maintenance.create" => l.t("a planifié une maintenance", "scheduled a maintenance"),
        "maintenance.status" => l.t(
            "a changé l'état d'une maintenance",
            "changed a maintenance's status",
        ),
        "service.manual_status" => l.t("a fixé l'état d'un service", "set a service's status"),
        "session.login" => l.t("s'est connecté", "signed in"),
        "session.logout" => l.t("s'est déconnecté", "signed out"),
        "session.logout_everywhere" => l.t(
            "s'est déconnecté sur tous les appareils",
            "signed out on every device",
        ),
        "subscriber.create" => l.t("a créé un abonnement", "created a subscription"),
        "subscriber.delete" => l.t("a supprimé un abonnement", "deleted a subscription"),
        "subscriber.resume" => l.t("a relancé un webhook", "resumed a webhook"),
        "token.create" => l.t("a créé un jeton d'API", "created an API token"),
        "token.revoke" => l.t("a révoqué un jeton d'API", "revoked an API token"),
        "user.create" => l.t("a ajouté une personne", "added someone"),
        "user.password" => l.t("a changé un mot de passe", "changed a password"),
        "user.role" => l.t("a changé un rôle", "changed a role"),
        "user.totp_begin" => l.t(
            "a commencé à activer la double authentification",
            "began turning on two-factor sign-in",
        ),
        "user.totp_enable" => l.t(
            "a activé la double authentification",
            "turned on two-factor sign-in",
        ),
        "user.totp_disable" => l.t(
            "a désactivé la double authentification",
            "turned off two-factor sign-in",
        ),
        _ => return None,
    })
}

/// The name of a detail's key, in words.
fn key_words(l: L, key: &str) -> String {
    match key {
        "status" => l.t("statut", "status"),
        "impact" => l.t("impact", "impact"),
        "title" => l.t("titre", "title"),
        "role" => l.t("rôle", "role"),
        "email" => l.t("e-mail", "e-mail"),
        "name" => l.t("nom", "name"),
        "scopes" => l.t("permissions", "permissions"),
        "services" => l.t("services", "services"),
        "service" => l.t("service", "service"),
        "starts_at" => l.t("début", "start"),
        "ends_at" => l.t("fin", "end"),
        "started_at" => l.t("début", "start"),
        "note" => l.t("note", "note"),
        "incident" => l.t("incident", "incident"),
        "sessions" => l.t("sessions fermées", "sessions closed"),
        "owner" => l.t("propriétaire", "owner"),
        "hard" => l.t("définitif", "final"),
        other => return other.replace('_', " "),
    }
    .to_owned()
}

/// A stored value in words: statuses, impacts and roles named, times in the site's clock.
fn value_words(l: L, clock: &Clock, v: &Value) -> String {
    match v {
        Value::String(s) => {
            if let Some(st) = IncidentStatus::parse(s) {
                return l.incident_status(st).to_lowercase();
            }
            if let Some(st) = ComponentStatus::parse(s) {
                return l.status(st).to_lowercase();
            }
            if let Some(st) = MaintenanceStatus::parse(s) {
                return l.texts().maintenance_status(st).to_lowercase();
            }
            if let Some(i) = Impact::parse(s) {
                return l.impact(i).to_lowercase();
            }
            if let Some(r) = Role::parse(s) {
                return l.role(r).to_owned();
            }
            if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                return clock.show(t.with_timezone(&Utc));
            }
            s.clone()
        }
        Value::Bool(b) => if *b {
            l.t("oui", "yes")
        } else {
            l.t("non", "no")
        }
        .to_owned(),
        Value::Null => "—".to_owned(),
        Value::Array(items) => items
            .iter()
            .map(|i| value_words(l, clock, i))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(_) => details_words(l, clock, v).join(" · "),
        other => other.to_string(),
    }
}

/// An entry's details as short phrases: `{"from": "identified", "to": "resolved"}` reads
/// "statut : identifié → résolu"; other keys "clé : valeur". Text that is not JSON is shown
/// as it is.
fn details_words(l: L, clock: &Clock, details: &Value) -> Vec<String> {
    let sep = l.t(" : ", ": ");
    let Value::Object(map) = details else {
        return match details {
            Value::Null => Vec::new(),
            v => vec![value_words(l, clock, v)],
        };
    };
    let mut out = Vec::new();
    if let (Some(from), Some(to)) = (map.get("from"), map.get("to")) {
        out.push(format!(
            "{}{sep}{} → {}",
            key_words(l, "status"),
            value_words(l, clock, from),
            value_words(l, clock, to)
        ));
    }
    for (k, v) in map {
        if k == "from" || k == "to" {
            continue;
        }
        out.push(format!(
            "{}{sep}{}",
            key_words(l, k),
            value_words(l, clock, v)
        ));
    }
    out
}

fn target_words(l: L, e: &Entry) -> Option<String> {
    let kind = e.target_kind.as_deref()?;
    let id = e.target_id.as_deref().unwrap_or("");
    let word = match kind {
        "incident" => l.t("incident", "incident"),
        "incident_update" => l.t("mise à jour", "update"),
        "incident_draft" => l.t("brouillon", "draft"),
        "maintenance" => l.t("maintenance", "maintenance"),
        "service" => l.t("service", "service"),
        "user" => l.t("personne", "user"),
        "token" => l.t("jeton", "token"),
        "session" => l.t("session", "session"),
        other => other,
    };
    Some(format!("{word} {id}").trim().to_owned())
}

/// The link to page `p` of the log under the same filter.
fn page_link(action: &str, actor: &str, p: u64) -> String {
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    format!(
        "/admin/audit?page={p}&action={}&actor={}",
        enc(action),
        enc(actor)
    )
}

/// The audit log page.
pub fn page(l: L, viewer: Viewer, clock: Clock, log: Log) -> String {
    let Log {
        entries,
        total,
        page,
        pages,
        action,
        actor,
        typed_action,
        typed_actor,
    } = log;
    let link = move |p: u64| page_link(&action, &actor, p);
    let errors = Errors::default();
    let (action_value, actor_value) = (typed_action, typed_actor);
    Page::new(l, Some(viewer), Section::Audit, l.t("Journal", "Audit log")).render(move || {
        let rows = entries
            .into_iter()
            .map(|e| {
                let details: Value = serde_json::from_str(&e.details)
                    .unwrap_or_else(|_| Value::String(e.details.clone()));
                let phrases = details_words(l, &clock, &details);
                let what = action_words(l, &e.action);
                let target = target_words(l, &e);
                view! {
                    <li class="console-item audit-entry">
                        <p class="console-item-meta">
                            <time datetime=e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)>{clock.show(e.at)}</time>
                            {e.ip.map(|ip| view! { " · " <span class="audit-ip">{ip}</span> })}
                        </p>
                        <p class="console-item-title">
                            <span class="audit-who">{e.actor_label}</span>
                            " "
                            {match what {
                                Some(w) => view! { <span class="audit-what">{w}</span> }.into_any(),
                                None => view! { <code class="audit-what">{e.action.clone()}</code> }.into_any(),
                            }}
                            {target.map(|t| view! { " · " <span class="audit-target">{t}</span> })}
                        </p>
                        {(!phrases.is_empty()).then(|| view! {
                            <ul class="audit-details">
                                {phrases.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                            </ul>
                        })}
                    </li>
                }
            })
            .collect_view();
        let prev = (page > 1).then(|| {
            view! { <a href=link(page - 1) rel="prev">{l.t("← Plus récentes", "← Newer")}</a> }
        });
        let next = (page < pages).then(|| {
            view! { <a href=link(page + 1) rel="next">{l.t("Plus anciennes →", "Older →")}</a> }
        });
        let count = l.f(
            || format!("{total} entrées · page {page} sur {pages}"),
            || format!("{total} entries · page {page} of {pages}"),
        );
        view! {
            <form method="get" action="/admin/audit" class="console-form filter-form">
                <div class="field-pair">
                    {Input::new("action", l.t("Action (ex. incident.)", "Action (e.g. incident.)"), &errors).value(action_value).view()}
                    {Input::new("actor", l.t("Qui", "Who"), &errors).value(actor_value).view()}
                </div>
                <div class="button-row"><button class="button-secondary">{l.t("Filtrer", "Filter")}</button></div>
            </form>
            <nav class="pager" aria-label=l.t("Pages du journal", "Log pages")>
                <p>{count}</p>
                <p class="button-row">{prev}{next}</p>
            </nav>
            <ul class="console-list audit">{rows}</ul>
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::locale::Locale;

    #[test]
    fn details_read_as_words() {
        let l = L(Locale::Fr);
        let clock = Clock {
            tz: chrono_tz::Europe::Paris,
            l,
        };
        let d: Value =
            serde_json::from_str(r#"{"from":"identified","to":"resolved"}"#).expect("json");
        assert_eq!(
            details_words(l, &clock, &d),
            ["statut : cause identifiée → résolu"]
        );
        let d: Value = serde_json::from_str(
            r#"{"title":"Forum","status":"investigating","impact":"major","starts_at":"2026-12-07T04:20:00Z"}"#,
        )
        .expect("json");
        let words = details_words(l, &clock, &d).join(" | ");
        assert!(words.contains("titre : Forum"), "{words}");
        assert!(words.contains("statut : enquête en cours"), "{words}");
        assert!(words.contains("impact : majeur"), "{words}");
        assert!(
            words.contains("début : 7 décembre 2026 à 05:20 (heure de Paris)"),
            "{words}"
        );
        let en = L(Locale::En);
        let clock = Clock {
            tz: chrono_tz::UTC,
            l: en,
        };
        let d: Value =
            serde_json::from_str(r#"{"role":"admin","scopes":["incidents:write"]}"#).expect("json");
        assert_eq!(
            details_words(en, &clock, &d),
            ["role: admin", "permissions: incidents:write"]
        );
    }
}
