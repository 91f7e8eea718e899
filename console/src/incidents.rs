//! `/admin/incidents`: the incident drafts Vigie proposes (each with its services, since when
//! and why, and the ways to open or dismiss it), the way to a new incident, the latest
//! incidents; the new-incident form (short first message or full write-up, French or English,
//! a preview as readers will see it), and what it starts with when made from a draft.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use domain::incident::{Impact, IncidentStatus, IncidentView};
use domain::locale::Locale;
use domain::topology::Cause;
use leptos::prelude::*;

use crate::clock::Clock;
use crate::fields::{csrf, select, Errors, Input};
use crate::forms::{message_field, service_rows, ServiceNow};
use crate::shell::{Notice, Page, Section, Viewer};
use crate::templates::{self, Kind};
use crate::words::L;

/// An incident draft the engine proposed.
#[derive(Clone, Debug)]
pub struct Proposal {
    pub id: i64,
    /// The earliest outage start among its services.
    pub since: DateTime<Utc>,
    /// Ordered by name.
    pub services: Vec<ProposedService>,
}

/// A service in a draft: down since `since`, for `cause`.
#[derive(Clone, Debug)]
pub struct ProposedService {
    pub id: String,
    pub name: String,
    pub since: DateTime<Utc>,
    pub cause: Option<Cause>,
}

/// The list page: drafts, then the latest incidents. `lang` is the site's default language
/// (the first template offered); `tz` the site's timezone.
pub fn list(
    l: L,
    viewer: Viewer,
    notice: Option<Notice>,
    lang: Locale,
    tz: Tz,
    incidents: Vec<IncidentView>,
    drafts: &[Proposal],
) -> String {
    let clock = Clock { tz, l };
    let drafts_view = section(l, &viewer.csrf, lang, tz, drafts);
    let lang = lang.code();
    let rows = incidents
        .into_iter()
        .map(|i| {
            let status_class = format!("incident-status incident-status-{}", i.status.as_str());
            view! {
                <li class="console-item">
                    <p class="console-item-title">
                        <a href=format!("/admin/incidents/{}", i.id)>{i.title}</a>
                    </p>
                    <p class="console-item-meta">
                        <span class=status_class>{l.incident_status(i.status)}</span>
                        " · "
                        {format!("{} {}", l.t("Impact", "Impact"), l.impact(i.impact).to_lowercase())}
                        " · "
                        {clock.show(i.started_at)}
                        " · "
                        <a href=format!("/incidents/{}", i.id)>{l.t("page publique", "public page")}</a>
                    </p>
                </li>
            }
        })
        .collect_view();
    let page = Page::new(
        l,
        Some(viewer),
        Section::Incidents,
        l.t("Incidents", "Incidents"),
    );
    page.notice(notice).render(move || {
        view! {
            {drafts_view}
            <p class="button-row">
                <a class="button button-primary" href=format!("/admin/incidents/new?template={lang}")>
                    {l.t("Nouvel incident", "New incident")}
                </a>
            </p>
            <h2>{l.t("Derniers incidents", "Latest incidents")}</h2>
            <ul class="console-list incidents">{rows}</ul>
        }
    })
}

/// What the new-incident form holds.
#[derive(Clone, Debug, Default)]
pub struct NewForm {
    pub title: String,
    pub impact: String,
    pub status: String,
    pub started_at: String,
    pub message: String,
    pub services: HashMap<String, String>,
    /// The proposed draft this incident is made from, if any.
    pub draft: Option<i64>,
    /// Whether e-mail and webhook subscribers are told of this incident and its updates
    /// (checked when the form is first shown).
    pub notify: bool,
}

/// The new-incident form with `errors`, and the `preview` when asked for (the public page's
/// own component, which the caller sets up; it runs inside the page).
pub fn new_page(
    viewer: Viewer,
    clock: Clock,
    services: Vec<ServiceNow>,
    form: &NewForm,
    errors: &Errors,
    preview: Option<Box<dyn FnOnce() -> AnyView>>,
) -> String {
    let l = clock.l;
    let notice = errors.notice(l);
    let csrf = csrf(&viewer.csrf);
    let form = form.clone();
    let errors = errors.clone();
    Page::new(l, Some(viewer), Section::Incidents, l.t("Nouvel incident", "New incident"))
        .notice(notice)
        .render(move || {
            let preview = preview.map(|p| p());
            let impacts: Vec<(String, String)> = Impact::ALL
                .iter()
                .map(|i| (i.as_str().to_owned(), l.impact(*i).to_owned()))
                .collect();
            let statuses: Vec<(String, String)> = IncidentStatus::ALL[..4]
                .iter()
                .map(|s| (s.as_str().to_owned(), l.incident_status(*s).to_owned()))
                .collect();
            let started_label = l.f(
                || format!("Début de l'incident ({})", clock.zone_words()),
                || format!("Incident start ({})", clock.zone_words()),
            );
            view! {
                {preview}
                <form method="post" action="/admin/incidents" class="console-form">
                    {csrf}
                    {form.draft.map(|id| view! { <input type="hidden" name="draft" value=id/> })}
                    {Input::new("title", l.t("Titre", "Title"), &errors).value(form.title.clone()).required().view()}
                    <div class="field-pair">
                        {select("impact", l.t("Impact", "Impact").to_owned(), impacts, &form.impact, &errors)}
                        {select("status", l.t("État de l'incident", "Incident status").to_owned(), statuses, &form.status, &errors)}
                    </div>
                    {Input::new("started_at", started_label, &errors)
                        .kind("datetime-local")
                        .value(form.started_at.clone())
                        .hint(l.t("Laissez vide si l'incident commence maintenant.", "Leave empty if the incident starts now."))
                        .view()}
                    {service_rows(
                        l,
                        l.t("Services touchés", "Affected services"),
                        l.t("Non touché", "Not affected"),
                        &services,
                        &form.services,
                        &errors,
                    )}
                    {message_field(l, form.message.clone(), 12, &errors, true)}
                    <div class="check">
                        <input type="checkbox" id="notify" name="notify" value="1" checked=form.notify/>
                        <label for="notify">
                            {l.t(
                                "Prévenir les abonnés (courriel, webhooks) de cet incident et de ses mises à jour",
                                "Tell subscribers (e-mail, webhooks) of this incident and its updates",
                            )}
                        </label>
                    </div>
                    <div class="button-row form-actions">
                        <button class="button-secondary" name="action" value="preview">
                            {l.t("Aperçu", "Preview")}
                        </button>
                        <button class="button-primary" name="action" value="publish">
                            {l.t("Publier", "Publish")}
                        </button>
                    </div>
                </form>
            }
        })
}

/// The drafts waiting on `/admin/incidents`, each with its services, since when and why, a
/// link to open it as an incident (French or English message) and a dismiss button.
fn section(l: L, csrf_token: &str, lang: Locale, tz: Tz, drafts: &[Proposal]) -> Option<AnyView> {
    if drafts.is_empty() {
        return None;
    }
    let other = if lang == Locale::Fr {
        Locale::En
    } else {
        Locale::Fr
    };
    let language = |x: Locale| match x {
        Locale::Fr => l.t("en français", "in French"),
        Locale::En => l.t("en anglais", "in English"),
    };
    let texts = l.texts();
    let items = drafts
        .iter()
        .map(|d| {
            let services = d
                .services
                .iter()
                .map(|s| {
                    let since = local_time(tz, s.since, l.0);
                    let line = l.f(
                        || format!("{} — panne majeure depuis {since}", s.name),
                        || format!("{} — major outage since {since}", s.name),
                    );
                    let cause = s.cause.as_ref().map(|c| {
                        let at = c.instant().map(|t| t.with_timezone(&tz).fixed_offset());
                        format!(" ({})", texts.cause(c, at.as_ref(), tz.name()))
                    });
                    view! { <li>{line}{cause}</li> }
                })
                .collect_view();
            let id = d.id;
            view! {
                <li class="draft console-item" id=format!("draft-{id}")>
                    <ul>{services}</ul>
                    <div class="button-row">
                        <a class="button button-primary" href=format!("/admin/incidents/new?draft={id}&template={}", lang.code())>
                            {l.f(|| format!("Ouvrir l'incident ({})", language(lang)), || format!("Open the incident ({})", language(lang)))}
                        </a>
                        <a class="button button-secondary" href=format!("/admin/incidents/new?draft={id}&template={}", other.code())>
                            {l.f(|| format!("Ouvrir l'incident ({})", language(other)), || format!("Open the incident ({})", language(other)))}
                        </a>
                        <form method="post" action=format!("/admin/incidents/drafts/{id}/dismiss")>
                            {csrf(csrf_token)}
                            <button class="button-quiet">{l.t("Écarter", "Dismiss")}</button>
                        </form>
                    </div>
                </li>
            }
        })
        .collect_view();
    Some(
        view! {
            <section class="drafts" aria-labelledby="drafts-title">
                <h2 id="drafts-title">{l.t("Brouillons proposés par Vigie", "Drafts proposed by Vigie")}</h2>
                <p>
                    {l.t(
                        "Ces services sont en panne majeure sans incident ouvert. Rien n'est publié sans vous.",
                        "These services are in major outage with no open incident. Nothing is published without you.",
                    )}
                </p>
                <ul class="console-list">{items}</ul>
            </section>
        }
        .into_any(),
    )
}

/// "05:20 (heure de Paris)": a time in the site's timezone, labelled in `l`'s words (it goes
/// into messages readers see, so it says which clock it is on).
fn local_time(tz: Tz, at: DateTime<Utc>, l: Locale) -> String {
    domain::dates::time_of_day(l, &domain::dates::site_time(at, tz), tz.name())
}

/// What the new-incident form starts from for `draft`: title, Markdown message and the
/// services (each `major_outage`), in `lang` (`fr` or `en`).
pub struct Prefill {
    pub title: String,
    pub message: String,
    pub services: Vec<String>,
}

/// The form's content for `draft`: a title naming the services, and the short first message
/// (publishable as is: the time and the services are filled in) or the full write-up with
/// those two blanks filled.
pub fn prefill(tz: Tz, draft: &Proposal, lang: &str, kind: Kind) -> Prefill {
    let names: Vec<&str> = draft.services.iter().map(|s| s.name.as_str()).collect();
    let english = lang == "en";
    let list = match names.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!(
            "{} {} {last}",
            rest.join(", "),
            if english { "and" } else { "et" }
        ),
    };
    let several = names.len() > 1;
    let since = local_time(
        tz,
        draft.since,
        if english { Locale::En } else { Locale::Fr },
    );
    let message = match kind {
        Kind::Short if english => format!(
            "Since **{since}**, {list} {} unavailable. We are investigating and will keep you posted here. Next update within 30 minutes.\n",
            if several { "are" } else { "is" }
        ),
        Kind::Short => format!(
            "Depuis **{since}**, {list} {}. Nous enquêtons et vous tiendrons informés ici. Prochain point d'ici 30 minutes.\n",
            if several { "sont inaccessibles" } else { "est inaccessible" }
        ),
        Kind::Full => {
            let template = templates::get(if english { "en" } else { "fr" }, Kind::Full).unwrap_or("");
            if english {
                template.replace("[time]", &since)
            } else {
                template.replace("[heure]", &since)
            }
            .replace("[services]", &list)
        }
    };
    let title = if english {
        format!("{list} unavailable")
    } else {
        format!("{list} inaccessible{}", if several { "s" } else { "" })
    };
    Prefill {
        title,
        message,
        services: draft.services.iter().map(|s| s.id.clone()).collect(),
    }
}
