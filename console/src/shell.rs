//! The page around every console screen: its head, the navigation with the signed-in staff
//! member and the sign-out forms, and the notice on top (a confirmation or the errors' summary).

use domain::staff::Role;
use domain::status::ServiceState;
use leptos::prelude::*;

use crate::words::L;

/// Who is signed in, as the page shows them: their address, their role, and the CSRF token
/// the sign-out forms carry.
#[derive(Clone, Debug)]
pub struct Viewer {
    pub email: String,
    pub role: Role,
    pub csrf: String,
}

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

/// A whole console page: the shell around a body.
pub struct Page {
    pub l: L,
    /// `None` before sign-in (and on the error pages that may come before it): no navigation.
    pub viewer: Option<Viewer>,
    pub section: Section,
    pub title: String,
    pub notice: Option<Notice>,
}

impl Page {
    pub fn new(l: L, viewer: Option<Viewer>, section: Section, title: impl Into<String>) -> Self {
        Page {
            l,
            viewer,
            section,
            title: title.into(),
            notice: None,
        }
    }

    pub fn notice(mut self, notice: Option<Notice>) -> Self {
        self.notice = notice;
        self
    }

    /// The HTML of the page around `body` (built inside the page's reactive owner, so
    /// components may read context).
    pub fn render<V: IntoView + 'static>(self, body: impl FnOnce() -> V) -> String {
        Owner::new().with(|| {
            provide_context(self.l.0);
            let body = body();
            document(self, body).to_html()
        })
    }
}

fn document(page: Page, body: impl IntoView) -> impl IntoView {
    let l = page.l;
    let nav = page.viewer.map(|v| nav(l, v, page.section));
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
                <link rel="icon" href=wording::FAVICON/>
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

fn nav(l: L, viewer: Viewer, section: Section) -> impl IntoView {
    let link = move |href: &'static str, words: &'static str, this: Section| {
        let current = (section == this).then_some("page");
        view! { <li><a href=href aria-current=current>{words}</a></li> }
    };
    let admin = (viewer.role >= Role::Admin).then(|| {
        view! {
            {link("/admin/users", l.t("Équipe", "Team"), Section::Users)}
            {link("/admin/tokens", l.t("Jetons d'API", "API tokens"), Section::Tokens)}
            {link("/admin/agents", l.t("Agents de sonde", "Probe agents"), Section::Agents)}
            {link("/admin/audit", l.t("Journal", "Audit log"), Section::Audit)}
        }
    });
    let csrf = viewer.csrf;
    let who = format!("{} ({})", viewer.email, l.role(viewer.role));
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
                {wording::status_icon(state)}
            </span>
            " "
            <span class="status-text">{l.state(state)}</span>
        </span>
    }
}
