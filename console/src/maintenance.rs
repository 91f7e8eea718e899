//! `/admin/maintenance`: the windows and the form to schedule one, with times typed in the
//! site's timezone.

use domain::incident::MaintenanceView;
use leptos::prelude::*;

use crate::clock::Clock;
use crate::fields::{csrf, field_id, textarea, Errors, Input};
use crate::shell::{Notice, Page, Section, Viewer};

/// What the scheduling form holds when it is shown again.
#[derive(Clone, Debug, Default)]
pub struct Form {
    pub title: String,
    pub starts_at: String,
    pub ends_at: String,
    pub message: String,
    pub services: Vec<String>,
}

/// The page: the scheduling form (with `errors` beside its fields, summed up on top unless
/// `notice` says something else) and the latest `windows`. `services` are `(id, name)`.
pub fn page(
    viewer: Viewer,
    clock: Clock,
    form: &Form,
    errors: &Errors,
    notice: Option<Notice>,
    windows: Vec<MaintenanceView>,
    services: Vec<(String, String)>,
) -> String {
    let l = clock.l;
    let notice = notice.or_else(|| errors.notice(l));
    let csrf = csrf(&viewer.csrf);
    let form = form.clone();
    let errors = errors.clone();
    Page::new(l, Some(viewer), Section::Maintenance, l.t("Maintenance", "Maintenance"))
        .notice(notice)
        .render(move || {
            let words = l.texts();
            let rows = windows
                .into_iter()
                .map(|m| {
                    view! {
                        <li class="console-item maintenance-item">
                            <p class="console-item-title">{m.title}</p>
                            <p class="console-item-meta">
                                <span class="maintenance-state">{words.maintenance_status(m.status)}</span>
                                " · "
                                {l.f(
                                    || format!("du {} au {}", clock.show(m.starts_at), clock.show(m.ends_at)),
                                    || format!("from {} to {}", clock.show(m.starts_at), clock.show(m.ends_at)),
                                )}
                            </p>
                        </li>
                    }
                })
                .collect_view();
            let boxes = services
                .into_iter()
                .map(|(id, name)| {
                    let checked = form.services.contains(&id);
                    let box_id = field_id(&format!("services-{id}"));
                    view! {
                        <div class="check">
                            <input type="checkbox" id=box_id.clone() name="services" value=id checked=checked/>
                            <label for=box_id>{name}</label>
                        </div>
                    }
                })
                .collect_view();
            let zone = clock.zone_words();
            view! {
                <section aria-labelledby="schedule">
                    <h2 id="schedule">{l.t("Planifier une maintenance", "Schedule a maintenance")}</h2>
                    <form method="post" action="/admin/maintenance" class="console-form">
                        {csrf}
                        {Input::new("title", l.t("Titre", "Title"), &errors).value(form.title.clone()).required().view()}
                        <div class="field-pair">
                            {Input::new("starts_at", l.f(|| format!("Début ({zone})"), || format!("Start ({zone})")), &errors)
                                .kind("datetime-local").value(form.starts_at.clone()).required().view()}
                            {Input::new("ends_at", l.f(|| format!("Fin ({zone})"), || format!("End ({zone})")), &errors)
                                .kind("datetime-local").value(form.ends_at.clone()).required().view()}
                        </div>
                        <fieldset class="checks">
                            <legend>{l.t("Services concernés", "Services concerned")}</legend>
                            {boxes}
                        </fieldset>
                        {textarea("message", l.t("Message aux lecteurs (Markdown)", "Message to readers (Markdown)").to_owned(), form.message.clone(), 6, &errors)}
                        <div class="button-row form-actions">
                            <button class="button-primary">{l.t("Planifier", "Schedule")}</button>
                        </div>
                    </form>
                </section>
                <section aria-labelledby="windows">
                    <h2 id="windows">{l.t("Maintenances", "Maintenance windows")}</h2>
                    <ul class="console-list">{rows}</ul>
                </section>
            }
        })
}
