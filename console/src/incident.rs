//! `/admin/incidents/{id}`: one incident for on-call. Its headline with a link to the public
//! page; the form for the next update, whose status starts at the incident's current one and
//! whose service rows show each service's status now; the title and impact, editable; every
//! published update with its text editable.

use std::collections::HashMap;

use domain::incident::{Impact, IncidentStatus, IncidentView};
use leptos::prelude::*;

use crate::clock::Clock;
use crate::fields::{field_error, field_id, select, textarea_text, Errors, Input};
use crate::forms::{message_field, service_rows, ServiceNow};
use crate::shell::{Notice, Page, Section, Viewer};

/// What the page's forms hold when they are shown again.
#[derive(Clone, Debug, Default)]
pub struct Forms {
    /// The next update: status, message, service choices.
    pub status: String,
    pub message: String,
    pub services: HashMap<String, String>,
    /// The headline form.
    pub title: Option<String>,
    pub impact: Option<String>,
    /// The update whose text was refused, with that text.
    pub edited: Option<(i64, String)>,
    pub preview: bool,
}

/// The incident's page. `preview`, when asked for, renders the incident as readers will see
/// it (the public page's own component, which the caller sets up); it runs inside the page.
#[allow(clippy::too_many_arguments)]
pub fn page(
    viewer: Viewer,
    clock: Clock,
    incident: IncidentView,
    services: Vec<ServiceNow>,
    forms: &Forms,
    errors: &Errors,
    notice: Option<Notice>,
    preview: Option<Box<dyn FnOnce() -> AnyView>>,
) -> String {
    let l = clock.l;
    let notice = notice.or_else(|| errors.notice(l));
    let id = incident.id;
    let staff_csrf = viewer.csrf.clone();
    let forms = forms.clone();
    let errors = errors.clone();
    Page::new(l, Some(viewer), Section::Incidents, incident.title.clone())
        .notice(notice)
        .render(move || {
            let csrf = move || view! { <input type="hidden" name="csrf" value=staff_csrf.clone()/> };
            let preview = preview.map(|p| p());
            let next: Vec<(String, String)> = IncidentStatus::ALL
                .into_iter()
                .filter(|s| incident.status.can_become(*s))
                .map(|s| (s.as_str().to_owned(), l.incident_status(s).to_owned()))
                .collect();
            let impacts: Vec<(String, String)> = Impact::ALL
                .iter()
                .map(|i| (i.as_str().to_owned(), l.impact(*i).to_owned()))
                .collect();
            let impact_now = forms
                .impact
                .clone()
                .unwrap_or_else(|| incident.impact.as_str().to_owned());
            let title_now = forms.title.clone().unwrap_or_else(|| incident.title.clone());
            let updates = incident
                .updates
                .iter()
                .map(|u| {
                    let (text, error) = match &forms.edited {
                        Some((uid, text)) if *uid == u.id => (text.clone(), errors.get("message")),
                        _ => (u.message_md.clone(), None),
                    };
                    let field = format!("edit-{}", u.id);
                    let field_id = field_id(&field);
                    let open = error.is_some();
                    let describe = error.is_some().then(|| format!("{field_id}-error"));
                    view! {
                        <li class="console-update" id=format!("update-{}", u.id)>
                            <p class="console-update-meta">
                                <strong>{l.incident_status(u.status)}</strong>
                                " — "
                                {clock.show(u.created_at)}
                                {u.edited_at.map(|_| view! { " " <span class="edited">{l.t("(modifié)", "(edited)")}</span> })}
                            </p>
                            <div class="incident-body" inner_html=u.message_html.clone()></div>
                            <details open=open>
                                <summary>{l.t("Modifier le texte", "Edit the text")}</summary>
                                <form method="post" action=format!("/admin/incidents/{id}/updates/{}/edit", u.id) class="console-form">
                                    {csrf()}
                                    <div class="field">
                                        <label for=field_id.clone()>{l.t("Texte (Markdown)", "Text (Markdown)")}</label>
                                        <textarea id=field_id name="message" rows=6 required=true aria-describedby=describe inner_html=textarea_text(&text)></textarea>
                                        {field_error(&field, error)}
                                    </div>
                                    <div class="button-row">
                                        <button class="button-secondary">{l.t("Enregistrer le texte", "Save the text")}</button>
                                    </div>
                                </form>
                            </details>
                        </li>
                    }
                })
                .collect_view();
            let message_errors = if forms.edited.is_some() { Errors::default() } else { errors.clone() };
            view! {
                <p class="incident-summary">
                    <span class=format!("incident-status incident-status-{}", incident.status.as_str())>
                        {l.incident_status(incident.status)}
                    </span>
                    " · "
                    {format!("{} {}", l.t("Impact", "Impact"), l.impact(incident.impact).to_lowercase())}
                    " · "
                    {l.f(|| format!("depuis le {}", clock.show(incident.started_at)), || format!("since {}", clock.show(incident.started_at)))}
                </p>
                <p><a href=format!("/incidents/{id}")>{l.t("Voir la page publique", "See the public page")}</a></p>
                {preview}
                <section aria-labelledby="next-update">
                    <h2 id="next-update">{l.t("Publier une mise à jour", "Post an update")}</h2>
                    <form method="post" action=format!("/admin/incidents/{id}/updates") class="console-form">
                        {csrf()}
                        {select("status", l.t("État de l'incident", "Incident status").to_owned(), next, &forms.status, &message_errors)}
                        {service_rows(
                            l,
                            l.t("Services", "Services"),
                            l.t("Inchangé", "Unchanged"),
                            &services,
                            &forms.services,
                            &message_errors,
                        )}
                        {message_field(l, forms.message.clone(), 8, &message_errors, false)}
                        <div class="button-row form-actions">
                            <button class="button-secondary" name="action" value="preview">{l.t("Aperçu", "Preview")}</button>
                            <button class="button-primary" name="action" value="publish">{l.t("Publier la mise à jour", "Post the update")}</button>
                        </div>
                    </form>
                </section>
                <section aria-labelledby="headline">
                    <h2 id="headline">{l.t("Titre et impact", "Title and impact")}</h2>
                    <form method="post" action=format!("/admin/incidents/{id}/edit") class="console-form">
                        {csrf()}
                        {Input::new("title", l.t("Titre", "Title"), &message_errors).value(title_now).required().view()}
                        {select("impact", l.t("Impact", "Impact").to_owned(), impacts, &impact_now, &message_errors)}
                        <div class="button-row">
                            <button class="button-secondary">{l.t("Enregistrer le titre et l'impact", "Save title and impact")}</button>
                        </div>
                    </form>
                </section>
                <section aria-labelledby="published">
                    <h2 id="published">{l.t("Mises à jour publiées", "Published updates")}</h2>
                    <ol class="console-updates">{updates}</ol>
                </section>
            }
        })
}
