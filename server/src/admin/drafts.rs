//! Incident drafts the engine proposes (`store::drafts`): the loop that proposes them, their
//! place on `/admin/incidents`, and what the new-incident form made from one starts with
//! (dismissing one is on [`super::incidents`]).
//! Nothing here publishes: a draft becomes an incident only when staff publish the form.

use chrono::Utc;
use domain::locale::Locale;
use leptos::prelude::*;
use store::drafts::Draft;

use super::templates::{self, Kind};
use super::ui;
use crate::auth::Staff;
use crate::state::AppState;

/// Proposes a draft (`store::drafts::propose`, audited as Vigie itself) for the services in
/// `major_outage` for `after` with no open incident. The instance holding the cluster's clock calls it
/// (`crate::cluster`); errors are logged and the next look tries again.
pub async fn propose(db: &store::Db, after: std::time::Duration) {
    let after = chrono::Duration::from_std(after).unwrap_or(chrono::Duration::minutes(5));
    match store::drafts::propose(db, Utc::now(), after).await {
        Ok(Some(d)) => tracing::info!(
            draft = d.id,
            services = ?d.services.iter().map(|s| &s.id).collect::<Vec<_>>(),
            "incident draft proposed to staff"
        ),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "cannot propose incident drafts"),
    }
}

/// The drafts waiting on `/admin/incidents`, each with its services, since when and why, a
/// link to open it as an incident (French or English message) and a dismiss button.
pub fn section(state: &AppState, staff: &Staff, drafts: &[Draft]) -> Option<AnyView> {
    if drafts.is_empty() {
        return None;
    }
    let l = staff.l();
    let lang = state.ctx.default_locale;
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
                    let since = local_time(state, s.since, l.texts());
                    let line = l.f(
                        || format!("{} — panne majeure depuis {since}", s.name),
                        || format!("{} — major outage since {since}", s.name),
                    );
                    let cause = s.cause.as_ref().map(|c| {
                        let tz = state.ctx.timezone;
                        let at = c
                            .instant()
                            .map(|t| store::public_pages::site_time(t, tz));
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
                            {ui::csrf(staff)}
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

/// "05:20 (heure de Paris)": a time in the site's timezone, labelled in the words of
/// `texts` (it goes into messages readers see, so it says which clock it is on).
fn local_time(state: &AppState, at: chrono::DateTime<Utc>, texts: &app::i18n::Texts) -> String {
    let tz = state.ctx.timezone;
    format!(
        "{} ({})",
        at.with_timezone(&tz).format("%H:%M"),
        texts.zone_label(tz.name())
    )
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
pub fn prefill(state: &AppState, draft: &Draft, lang: &str, kind: Kind) -> Prefill {
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
        state,
        draft.since,
        app::i18n::texts(if english { Locale::En } else { Locale::Fr }),
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
