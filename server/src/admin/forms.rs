//! Pieces the incident forms share: one row per service with its status now and the new one
//! chosen by words, the message field with its templates, the checks a message passes before
//! it is published, the preview as readers will see it, and refused writes told as sentences.

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use domain::incident::{
    AffectedService, Impact, IncidentPage, IncidentStatus, IncidentUpdateView, UpdateEntry,
};
use domain::status::{ComponentStatus, ServiceState};
use domain::topology::Owner;
use leptos::prelude::*;
use store::audit::WriteError;

use super::internal;
use super::templates::{self, Kind};
use super::ui::{field_error, field_id, options, Errors, L, STATUSES};
use crate::auth::Posted;
use crate::state::AppState;

/// A service offered in a form: id, name and its status now.
#[derive(Clone, Debug)]
pub struct ServiceNow {
    pub id: String,
    pub name: String,
    pub now: ServiceState,
}

/// Every service staff may name, in page order, with its status now: the one stated in
/// `stated` (an incident's own services) or else the one the page shows.
pub async fn services_now(
    state: &AppState,
    stated: &[AffectedService],
) -> Result<Vec<ServiceNow>, store::StoreError> {
    let db = &state.ctx.db;
    let (services, current) =
        tokio::try_join!(store::incidents::services(db), store::status::current(db))?;
    let computed: HashMap<String, ServiceState> = current
        .into_iter()
        .filter_map(|c| match c.subject {
            Owner::Service(slug) => Some((slug.as_str().to_owned(), c.state)),
            Owner::Host(_) => None,
        })
        .collect();
    Ok(services
        .into_iter()
        .map(|(id, name)| {
            let now = stated
                .iter()
                .find(|s| s.service_id == id)
                .map(|s| ServiceState::Known(s.status))
                .or_else(|| computed.get(&id).copied())
                .unwrap_or(ServiceState::NoData);
            ServiceNow { id, name, now }
        })
        .collect())
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
                        {super::ui::status_badge(l, s.now)}
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

/// The posted service choices, by service id (blank = unchanged).
pub fn posted_services(posted: &Posted) -> HashMap<String, String> {
    posted
        .fields
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("service:")?.to_owned(), v.trim().to_owned())))
        .collect()
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
        {super::ui::textarea("message", l.t("Message aux lecteurs (Markdown)", "Message to readers (Markdown)").to_owned(), value, rows, errors)}
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

/// What a preview shows: the incident as the public page will render it after publishing.
pub struct Preview {
    pub id: i64,
    pub title: String,
    pub status: IncidentStatus,
    pub impact: Impact,
    pub started_at: DateTime<Utc>,
    pub services: Vec<AffectedService>,
    /// Published updates, newest first (empty for a new incident).
    pub earlier: Vec<IncidentUpdateView>,
    pub message_md: String,
}

/// The preview, rendered by the public incident page's own component: what readers will see.
pub fn preview(state: &AppState, l: L, p: Preview) -> impl IntoView {
    let tz = state.ctx.timezone;
    let site = |t: DateTime<Utc>| t.with_timezone(&tz).fixed_offset();
    let now = Utc::now();
    let mut updates: Vec<UpdateEntry> = vec![UpdateEntry {
        id: 0,
        status: p.status,
        message_html: crate::markdown::render(&p.message_md),
        created_at: site(now),
        edited_at: None,
    }];
    updates.extend(p.earlier.into_iter().map(|u| UpdateEntry {
        id: u.id,
        status: u.status,
        message_html: u.message_html,
        created_at: site(u.created_at),
        edited_at: u.edited_at.map(site),
    }));
    // The public page lists updates in the order the store gives them to it.
    updates.reverse();
    let (postmortem, updates): (Vec<_>, Vec<_>) = updates
        .into_iter()
        .partition(|u| u.status == IncidentStatus::Postmortem);
    let page = IncidentPage {
        generated_at: site(now),
        timezone: tz.name().to_owned(),
        id: p.id,
        title: p.title,
        status: p.status,
        impact: p.impact,
        started_at: site(p.started_at),
        resolved_at: (p.status == IncidentStatus::Resolved).then(|| site(now)),
        services: p.services,
        updates,
        postmortem,
    };
    provide_context(state.ctx.clone());
    provide_context(leptos::prelude::ArcRwSignal::new(
        leptos_router::location::Url::default(),
    ));
    let t = app::i18n::texts(l.0);
    view! {
        <section class="preview" aria-labelledby="preview-title">
            <h2 id="preview-title">{l.t("Aperçu : ce que les lecteurs verront", "Preview: what readers will see")}</h2>
            <div class="preview-frame">
                <app::pages::incident::Incident page t/>
            </div>
        </section>
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

/// A refused write as a sentence next to `field` (or on top), or the response to send
/// instead (not found, database trouble).
// Handlers return the `Response` at once: boxing it would only add an allocation.
#[allow(clippy::result_large_err)]
pub fn write_error(l: L, e: WriteError, errors: &mut Errors) -> Result<(), Response> {
    match e {
        WriteError::Store(e) => Err(internal(e)),
        WriteError::NotFound => Err(StatusCode::NOT_FOUND.into_response()),
        WriteError::UnknownService(id) => {
            errors.add(
                format!("service:{id}"),
                l.f(
                    || format!("Le service « {id} » n'existe plus : rechargez la page."),
                    || format!("Service “{id}” no longer exists: reload the page."),
                ),
            );
            Ok(())
        }
        WriteError::Transition { from, to } => {
            let word = |s: &str| {
                IncidentStatus::parse(s)
                    .map(|s| l.incident_status(s).to_owned())
                    .unwrap_or_else(|| s.to_owned())
            };
            let (from, to) = (word(from), word(to));
            errors.add(
                "status",
                l.f(
                    || format!("Un incident « {from} » ne peut pas passer à « {to} »."),
                    || format!("An incident that is “{from}” cannot become “{to}”."),
                ),
            );
            Ok(())
        }
        WriteError::Conflict => {
            errors.add(
                "",
                l.t(
                    "Cet élément existe déjà ou a été modifié entre-temps : rechargez la page.",
                    "This already exists or was changed in the meantime: reload the page.",
                ),
            );
            Ok(())
        }
        WriteError::TooLong { field, max } => {
            errors.add(
                field,
                l.f(
                    || format!("Au plus {max} caractères : raccourcissez le texte."),
                    || format!("At most {max} characters: shorten the text."),
                ),
            );
            Ok(())
        }
        WriteError::Invalid(field) => {
            let sentence = match field {
                "title" => l.t("Donnez un titre.", "Give a title."),
                "started_at" => l.t(
                    "Le début ne peut pas être dans le futur.",
                    "The start cannot be in the future.",
                ),
                "ends_at" => l.t(
                    "La fin doit venir après le début.",
                    "The end must come after the start.",
                ),
                "status" => l.t(
                    "Choisissez un état dans la liste.",
                    "Choose a status from the list.",
                ),
                "name" => l.t("Donnez un nom.", "Give a name."),
                "scopes" => l.t(
                    "Cochez au moins une permission.",
                    "Tick at least one permission.",
                ),
                _ => l.t(
                    "Cette valeur n'est pas acceptée.",
                    "This value is not accepted.",
                ),
            };
            errors.add(field, sentence);
            Ok(())
        }
    }
}
