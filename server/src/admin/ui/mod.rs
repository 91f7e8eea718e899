//! The console's view layer: the page around every console screen, its navigation and
//! notices, labelled form fields with their errors as sentences, status words, and times in
//! the site's timezone. Everything is Leptos `view!` rendered to a string on the server (the
//! same layer as the public pages), so text is escaped by construction; nothing hydrates and
//! the console's CSP allows no script.

mod clock;
mod fields;
mod flash;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use domain::incident::{Impact, IncidentStatus};
use domain::locale::Locale;
use domain::status::{ComponentStatus, ServiceState};
use leptos::prelude::*;
use store::users::Role;

pub use self::clock::{Clock, TimeError};
pub use self::fields::{
    csrf, described_by, field_error, field_id, options, select, textarea, textarea_text, Errors,
    Input,
};
pub use self::flash::{flash_code, flash_cookie, redirect_with, spend_flash, FLASH_COOKIE};
use crate::auth::Staff;

/// The staff member's language: every label and message of a page is in this one language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct L(pub Locale);

impl L {
    /// The French or the English text.
    pub fn t(self, fr: &'static str, en: &'static str) -> &'static str {
        match self.0 {
            Locale::Fr => fr,
            Locale::En => en,
        }
    }

    /// The French or the English text, built only for the language used.
    pub fn f(self, fr: impl FnOnce() -> String, en: impl FnOnce() -> String) -> String {
        match self.0 {
            Locale::Fr => fr(),
            Locale::En => en(),
        }
    }

    /// The public pages' words (status names, dates), in this language.
    pub fn texts(self) -> &'static app::i18n::Texts {
        app::i18n::texts(self.0)
    }

    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// A service status in words ("Panne majeure").
    pub fn status(self, s: ComponentStatus) -> &'static str {
        self.texts().state(ServiceState::Known(s))
    }

    /// A service state in words, "no data" included.
    pub fn state(self, s: ServiceState) -> &'static str {
        self.texts().state(s)
    }

    /// An incident status in words ("Cause identifiée").
    pub fn incident_status(self, s: IncidentStatus) -> &'static str {
        self.texts().incident_status(s)
    }

    /// An impact in words ("Majeur"), as the select offers it.
    pub fn impact(self, i: Impact) -> &'static str {
        match i {
            Impact::None => self.t("Aucun", "None"),
            Impact::Minor => self.t("Mineur", "Minor"),
            Impact::Major => self.t("Majeur", "Major"),
            Impact::Critical => self.t("Critique", "Critical"),
        }
    }

    pub fn role(self, r: Role) -> &'static str {
        match r {
            Role::Editor => self.t("rédaction", "editor"),
            Role::Admin => self.t("administration", "admin"),
        }
    }
}

impl Staff {
    /// The words of the staff member's language.
    pub fn l(&self) -> L {
        L(self.locale)
    }
}

/// The staff member's language: their browser's `Accept-Language`, else the site's default.
pub fn locale_of(headers: &HeaderMap, default: Locale) -> L {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    L(Locale::negotiate(None, accept, default))
}

/// Service statuses in the order a select offers them, best first.
pub const STATUSES: [ComponentStatus; 5] = [
    ComponentStatus::Operational,
    ComponentStatus::DegradedPerformance,
    ComponentStatus::PartialOutage,
    ComponentStatus::MajorOutage,
    ComponentStatus::UnderMaintenance,
];

/// Which part of the console a page belongs to (marks the navigation link).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    None,
    Incidents,
    Maintenance,
    Subscribers,
    Webhooks,
    Users,
    Tokens,
    Agents,
    Audit,
    Account,
}

/// A message on top of a page: a confirmation after a post, or the summary of errors.
#[derive(Clone, Debug)]
pub struct Notice {
    pub ok: bool,
    pub text: String,
    /// A link that goes with it: `(href, words)`, e.g. the public page just changed.
    pub link: Option<(String, String)>,
}

impl Notice {
    pub fn ok(text: impl Into<String>) -> Self {
        Notice {
            ok: true,
            text: text.into(),
            link: None,
        }
    }

    pub fn error(text: impl Into<String>) -> Self {
        Notice {
            ok: false,
            text: text.into(),
            link: None,
        }
    }

    pub fn with_link(mut self, href: impl Into<String>, words: impl Into<String>) -> Self {
        self.link = Some((href.into(), words.into()));
        self
    }
}

/// A whole console page to send.
pub struct Page<'a> {
    pub l: L,
    pub staff: Option<&'a Staff>,
    pub section: Section,
    pub title: String,
    pub status: StatusCode,
    pub notice: Option<Notice>,
}

impl<'a> Page<'a> {
    pub fn new(l: L, staff: Option<&'a Staff>, section: Section, title: impl Into<String>) -> Self {
        Page {
            l,
            staff,
            section,
            title: title.into(),
            status: StatusCode::OK,
            notice: None,
        }
    }

    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn notice(mut self, notice: Option<Notice>) -> Self {
        self.notice = notice;
        self
    }

    /// Renders the page around `body` (built inside the page's reactive owner, so components
    /// may read context) and answers with it.
    pub fn render<V: IntoView + 'static>(self, body: impl FnOnce() -> V) -> Response {
        let status = self.status;
        let html = Owner::new().with(|| {
            provide_context(self.l.0);
            let body = body();
            document(self, body).to_html()
        });
        (status, Html(html)).into_response()
    }
}

fn document(page: Page<'_>, body: impl IntoView) -> impl IntoView {
    let l = page.l;
    let nav = page.staff.map(|s| nav(l, s, page.section));
    let notice = page.notice.map(|n| {
        let class = if n.ok {
            "notice notice-ok"
        } else {
            "notice notice-error"
        };
        let role = if n.ok { "status" } else { "alert" };
        view! {
            <div class=class role=role>
                <p>{n.text}</p>
                {n.link.map(|(href, words)| view! { <p><a href=href>{words}</a></p> })}
            </div>
        }
    });
    let title = page.title;
    view! {
        <!DOCTYPE html>
        <html lang=l.code()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <meta name="robots" content="noindex"/>
                <title>{format!("{title} — Vigie")}</title>
                <link rel="stylesheet" href="/pkg/vigie.css"/>
                <link rel="icon" href=app::FAVICON/>
            </head>
            <body class="console">
                <a class="skip-link" href="#main">{l.t("Aller au contenu", "Skip to content")}</a>
                <header class="console-header">
                    <p class="console-brand">
                        <a href="/admin/incidents">"Vigie"</a>
                        " "
                        <span>{l.t("console de l'équipe", "staff console")}</span>
                    </p>
                    {nav}
                </header>
                <main id="main" class="console-main">
                    <h1>{title}</h1>
                    {notice}
                    {body}
                </main>
            </body>
        </html>
    }
}

fn nav(l: L, staff: &Staff, section: Section) -> impl IntoView {
    let link = move |href: &'static str, words: &'static str, this: Section| {
        let current = (section == this).then_some("page");
        view! { <li><a href=href aria-current=current>{words}</a></li> }
    };
    let admin = (staff.user().role >= Role::Admin).then(|| {
        view! {
            {link("/admin/users", l.t("Équipe", "Team"), Section::Users)}
            {link("/admin/tokens", l.t("Jetons d'API", "API tokens"), Section::Tokens)}
            {link("/admin/agents", l.t("Agents de sonde", "Probe agents"), Section::Agents)}
            {link("/admin/audit", l.t("Journal", "Audit log"), Section::Audit)}
        }
    });
    let csrf = staff.session.csrf_token.clone();
    let who = format!("{} ({})", staff.user().email, l.role(staff.user().role));
    view! {
        <nav class="console-nav" aria-label=l.t("Console", "Console")>
            <ul>
                {link("/admin/incidents", l.t("Incidents", "Incidents"), Section::Incidents)}
                {link("/admin/maintenance", l.t("Maintenance", "Maintenance"), Section::Maintenance)}
                {link("/admin/subscribers", l.t("Abonnés", "Subscribers"), Section::Subscribers)}
                {link("/admin/webhooks", l.t("Webhooks", "Webhooks"), Section::Webhooks)}
                {admin}
                {link("/admin/account", l.t("Mon compte", "My account"), Section::Account)}
            </ul>
            <div class="console-account">
                <span class="console-who">{who}</span>
                <form method="post" action="/admin/logout">
                    <input type="hidden" name="csrf" value=csrf.clone()/>
                    <button class="button-quiet">{l.t("Se déconnecter", "Sign out")}</button>
                </form>
                <form method="post" action="/admin/logout">
                    <input type="hidden" name="csrf" value=csrf/>
                    <input type="hidden" name="everywhere" value="1"/>
                    <button class="button-quiet">
                        {l.t("Se déconnecter sur tous les appareils", "Sign out on every device")}
                    </button>
                </form>
            </div>
        </nav>
    }
}

/// A status as icon and words, in the public pages' colours.
pub fn status_badge(l: L, state: ServiceState) -> impl IntoView {
    view! {
        <span class=format!("status status-{}", state.css_class())>
            <span class="status-icon" aria-hidden="true">
                {app::components::status_label::icon(state)}
            </span>
            " "
            <span class="status-text">{l.state(state)}</span>
        </span>
    }
}
