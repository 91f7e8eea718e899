//! `/admin/audit`: the audit log, newest first, filtered by action and by who, fifty a page.
//! Each entry reads as a sentence ("a publié une mise à jour · statut : identifié → résolu")
//! rather than raw JSON; entries wrap on a phone instead of overflowing.

use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use domain::incident::{Impact, IncidentStatus, MaintenanceStatus};
use domain::status::ComponentStatus;
use leptos::prelude::*;
use serde::Deserialize;
use serde_json::Value;
use store::audit::{AuditEntry, AuditFilter};
use store::users::Role;

use super::internal;
use super::ui::{Clock, Errors, Input, Page, Section, L};
use crate::auth::Staff;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/audit", get(audit))
}

/// Query of the page. `page` is read leniently: anything that is not a page number is the
/// first page, and a number past the end is the last page.
#[derive(Deserialize)]
struct AuditQuery {
    page: Option<String>,
    action: Option<String>,
    actor: Option<String>,
}

const PER_PAGE: u64 = 50;

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

fn target_words(l: L, e: &AuditEntry) -> Option<String> {
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

async fn audit(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<AuditQuery>,
) -> Response {
    if let Err(r) = staff.require(Role::Admin) {
        return r;
    }
    let l = staff.l();
    let clock = Clock {
        tz: state.ctx.timezone,
        l,
    };
    // PostgreSQL refuses a NUL in a text parameter (a 500): no action or actor holds one.
    let action = q.action.clone().unwrap_or_default().replace('\0', "");
    let actor = q.actor.clone().unwrap_or_default().replace('\0', "");
    let filter = AuditFilter {
        action: Some(action.clone()).filter(|a| !a.is_empty()),
        actor: Some(actor.clone()).filter(|a| !a.is_empty()),
    };
    // Pages are numbered from 1 for people; anything else is page 1. The bound keeps the
    // row offset within what a database takes (past the end is the last page anyway).
    let asked = q
        .page
        .as_deref()
        .and_then(|p| p.trim().parse::<u64>().ok())
        .unwrap_or(1)
        .clamp(1, i64::MAX as u64 / PER_PAGE);
    let db = &state.ctx.db;
    let (mut entries, total) = match store::audit::list(db, &filter, asked - 1, PER_PAGE).await {
        Ok(r) => r,
        Err(e) => return internal(e),
    };
    let pages = total.div_ceil(PER_PAGE).max(1);
    let page = asked.min(pages);
    if page != asked {
        entries = match store::audit::list(db, &filter, page - 1, PER_PAGE).await {
            Ok(r) => r.0,
            Err(e) => return internal(e),
        };
    }
    let link = move |p: u64| {
        let enc = |s: &str| {
            percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
        };
        format!(
            "/admin/audit?page={p}&action={}&actor={}",
            enc(&action),
            enc(&actor)
        )
    };
    let errors = Errors::default();
    let (action_value, actor_value) = (q.action.unwrap_or_default(), q.actor.unwrap_or_default());
    Page::new(l, Some(&staff), Section::Audit, l.t("Journal", "Audit log")).render(move || {
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
