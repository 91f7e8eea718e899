//! Pieces the incident forms share: one row per service with its status now and the new one
//! chosen by words, the message field with its templates, and the checks a message passes
//! before it is published.

use std::collections::HashMap;

use domain::incident::AffectedService;
use domain::status::{ComponentStatus, ServiceState};
use leptos::prelude::*;

use crate::fields::{field_error, field_id, options, textarea, Errors};
use crate::shell::status_badge;
use crate::templates::{self, Kind};
use crate::words::{L, STATUSES};

/// A service offered in a form: id, name and its status now.
#[derive(Clone, Debug)]
pub struct ServiceNow {
    pub id: String,
    pub name: String,
    pub now: ServiceState,
}

/// The service rows: name, status now, and a select of new statuses in words whose first
/// choice (`keep`) changes nothing. `chosen` holds posted values by service id.
pub fn service_rows(
    l: L,
    legend: &'static str,
    keep: &'static str,
    services: &[ServiceNow],
    chosen: &HashMap<String, String>,
    errors: &Errors,
) -> impl IntoView {
    let rows = services
        .iter()
        .map(|s| {
            let name = format!("service:{}", s.id);
            let id = field_id(&name);
            let now_id = format!("{id}-now");
            let error = errors.get(&name);
            let describe = match error {
                Some(_) => format!("{now_id} {id}-error"),
                None => now_id.clone(),
            };
            let mut values = vec![(String::new(), keep.to_owned())];
            values.extend(
                STATUSES
                    .iter()
                    .map(|st| (st.as_str().to_owned(), l.status(*st).to_owned())),
            );
            let selected = chosen.get(&s.id).cloned().unwrap_or_default();
            let invalid = error.is_some().then_some("true");
            view! {
                <div class="service-row" data-service=s.id.clone()>
                    <label class="service-row-name" for=id.clone()>{s.name.clone()}</label>
                    <p class="service-row-now" id=now_id>
                        <span class="service-row-now-label">{l.t("Maintenant :", "Now:")}</span>
                        " "
                        {status_badge(l, s.now)}
                    </p>
                    <select id=id name=name.clone() aria-describedby=describe aria-invalid=invalid>
                        {options(values, &selected)}
                    </select>
                    {field_error(&name, error)}
                </div>
            }
        })
        .collect_view();
    view! {
        <fieldset class="service-rows">
            <legend>{legend}</legend>
            <p class="field-hint">
                {l.t(
                    "Choisissez le nouvel état des services concernés ; les autres restent tels quels.",
                    "Choose the new status of the services concerned; the others stay as they are.",
                )}
            </p>
            {rows}
        </fieldset>
    }
}

/// The services whose status changes, each checked; a value that is not a status gets an
/// error next to its row.
pub fn chosen_services(
    l: L,
    chosen: &HashMap<String, String>,
    errors: &mut Errors,
) -> Vec<(String, ComponentStatus)> {
    let mut out = Vec::new();
    for (id, v) in chosen {
        if v.is_empty() {
            continue;
        }
        match ComponentStatus::parse(v) {
            Some(s) => out.push((id.clone(), s)),
            None => errors.add(
                format!("service:{id}"),
                l.t(
                    "Choisissez un état dans la liste.",
                    "Choose a status from the list.",
                ),
            ),
        }
    }
    out.sort();
    out
}

/// The message field with buttons that put a template in it (they keep the rest of the
/// form, write nothing, and skip the browser's required-field checks).
pub fn message_field(
    l: L,
    value: String,
    rows: u32,
    errors: &Errors,
    short: bool,
) -> impl IntoView {
    let buttons = [
        (
            short,
            "template:fr:short",
            l.t("Message court (français)", "Short message (French)"),
        ),
        (
            true,
            "template:fr:full",
            l.t("Compte rendu complet (français)", "Full write-up (French)"),
        ),
        (
            short,
            "template:en:short",
            l.t("Message court (anglais)", "Short message (English)"),
        ),
        (
            true,
            "template:en:full",
            l.t("Compte rendu complet (anglais)", "Full write-up (English)"),
        ),
    ]
    .into_iter()
    .filter(|(shown, _, _)| *shown)
    .map(|(_, value, words)| {
        view! {
            <button class="button-quiet" name="action" value=value formnovalidate=true>
                {words}
            </button>
        }
    })
    .collect_view();
    view! {
        {textarea("message", l.t("Message aux lecteurs (Markdown)", "Message to readers (Markdown)").to_owned(), value, rows, errors)}
        <div class="template-choice">
            <p class="field-hint">
                {l.t(
                    "Remplacer le message par un modèle. Les passages [entre crochets] sont à remplacer avant de publier.",
                    "Replace the message with a template. Passages [in brackets] must be replaced before publishing.",
                )}
            </p>
            <div class="button-row">{buttons}</div>
        </div>
    }
}

/// The template a `template:LANG:KIND` action asks for.
pub fn template_action(action: &str) -> Option<&'static str> {
    let mut parts = action.strip_prefix("template:")?.split(':');
    let lang = parts.next()?;
    let kind = Kind::parse(parts.next()?)?;
    templates::get(lang, kind)
}

/// Checks a message about to be published: not blank, no blank of a template left.
pub fn check_message(l: L, markdown: &str, errors: &mut Errors) {
    if markdown.trim().is_empty() {
        errors.add(
            "message",
            l.t(
                "Écrivez le message que les lecteurs verront.",
                "Write the message readers will see.",
            ),
        );
        return;
    }
    let left = templates::placeholders(markdown, 3);
    if !left.is_empty() {
        let quoted: Vec<String> = left
            .iter()
            .map(|p| {
                let mut body: String = p.chars().take(40).collect();
                if body.len() < p.len() {
                    body.push('…');
                }
                l.f(|| format!("« {body} »"), || format!("“{body}”"))
            })
            .collect();
        let list = quoted.join(", ");
        errors.add(
            "message",
            l.f(
                || format!("Le message contient encore des passages du modèle à remplacer : {list}. Remplacez-les ou supprimez-les, puis publiez."),
                || format!("The message still has template passages to replace: {list}. Replace or remove them, then publish."),
            ),
        );
    }
}

/// The services as the preview lists them: those chosen, with their new status, and those
/// already in the incident.
pub fn preview_services(
    services: &[ServiceNow],
    stated: &[AffectedService],
    changes: &[(String, ComponentStatus)],
) -> Vec<AffectedService> {
    services
        .iter()
        .filter_map(|s| {
            let status = changes
                .iter()
                .find(|(id, _)| *id == s.id)
                .map(|(_, st)| *st)
                .or_else(|| {
                    stated
                        .iter()
                        .find(|a| a.service_id == s.id)
                        .map(|a| a.status)
                })?;
            Some(AffectedService {
                service_id: s.id.clone(),
                name: s.name.clone(),
                status,
            })
        })
        .collect()
}
