//! The console's view layer: the page around every console screen, its navigation and
//! notices, labelled form fields with their errors as sentences, status words, and times in
//! the site's timezone. Everything is Leptos `view!` rendered to a string on the server (the
//! same layer as the public pages), so text is escaped by construction; nothing hydrates and
//! the console's CSP allows no script.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use domain::incident::{Impact, IncidentStatus};
use domain::locale::Locale;
use domain::status::{ComponentStatus, ServiceState};
use leptos::prelude::*;
use store::users::Role;

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

/// The hidden CSRF field every state-changing form carries.
pub fn csrf(staff: &Staff) -> impl IntoView {
    view! { <input type="hidden" name="csrf" value=staff.session.csrf_token.clone()/> }
}

/// Errors of a posted form, each a sentence tied to its field.
#[derive(Clone, Debug, Default)]
pub struct Errors(Vec<(String, String)>);

impl Errors {
    pub fn add(&mut self, field: impl Into<String>, sentence: impl Into<String>) {
        self.0.push((field.into(), sentence.into()));
    }

    pub fn get(&self, field: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, s)| s.clone())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The notice on top of the page: how many fields need attention (the sentences are
    /// next to them). A single error without a field is shown in full.
    pub fn notice(&self, l: L) -> Option<Notice> {
        match self.0.as_slice() {
            [] => None,
            [(field, sentence)] if field.is_empty() => Some(Notice::error(sentence.clone())),
            [_] => Some(Notice::error(l.t(
                "Le formulaire n'a pas été enregistré : corrigez le champ signalé ci-dessous.",
                "The form was not saved: fix the field marked below.",
            ))),
            many => Some(Notice::error(l.f(
                || {
                    format!(
                        "Le formulaire n'a pas été enregistré : corrigez les {} champs signalés ci-dessous.",
                        many.len()
                    )
                },
                || {
                    format!(
                        "The form was not saved: fix the {} fields marked below.",
                        many.len()
                    )
                },
            ))),
        }
    }
}

/// The id of the control for field `name`.
pub fn field_id(name: &str) -> String {
    format!("f-{}", name.replace(':', "-"))
}

/// The sentence under a field when it was refused, tied to the control by `aria-describedby`.
pub fn field_error(name: &str, error: Option<String>) -> impl IntoView {
    error.map(|e| {
        view! { <p class="field-error" id=format!("{}-error", field_id(name))>{e}</p> }
    })
}

/// `aria-describedby` for a control: its hint and its error, when present.
pub fn described_by(name: &str, hint: bool, error: bool) -> Option<String> {
    let id = field_id(name);
    let mut ids = Vec::new();
    if hint {
        ids.push(format!("{id}-hint"));
    }
    if error {
        ids.push(format!("{id}-error"));
    }
    (!ids.is_empty()).then(|| ids.join(" "))
}

/// A labelled one-line text input with its hint and error.
pub struct Input<'a> {
    pub name: &'static str,
    pub label: String,
    pub value: String,
    pub kind: &'static str,
    pub hint: Option<String>,
    pub required: bool,
    pub errors: &'a Errors,
    pub autocomplete: Option<&'static str>,
}

impl<'a> Input<'a> {
    pub fn new(name: &'static str, label: impl Into<String>, errors: &'a Errors) -> Self {
        Input {
            name,
            label: label.into(),
            value: String::new(),
            kind: "text",
            hint: None,
            required: false,
            errors,
            autocomplete: None,
        }
    }

    pub fn value(mut self, v: impl Into<String>) -> Self {
        self.value = v.into();
        self
    }

    pub fn kind(mut self, k: &'static str) -> Self {
        self.kind = k;
        self
    }

    pub fn hint(mut self, h: impl Into<String>) -> Self {
        self.hint = Some(h.into());
        self
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub fn autocomplete(mut self, a: &'static str) -> Self {
        self.autocomplete = Some(a);
        self
    }

    pub fn view(self) -> impl IntoView {
        let id = field_id(self.name);
        let error = self.errors.get(self.name);
        let describe = described_by(self.name, self.hint.is_some(), error.is_some());
        let invalid = error.is_some().then_some("true");
        let hint_id = format!("{id}-hint");
        view! {
            <div class="field">
                <label for=id.clone()>{self.label}</label>
                {self.hint.map(|h| view! { <p class="field-hint" id=hint_id>{h}</p> })}
                <input
                    id=id
                    type=self.kind
                    name=self.name
                    value=self.value
                    required=self.required
                    autocomplete=self.autocomplete
                    aria-describedby=describe
                    aria-invalid=invalid
                />
                {field_error(self.name, error)}
            </div>
        }
    }
}

/// A labelled Markdown textarea with its error.
pub fn textarea(
    name: &'static str,
    label: String,
    value: String,
    rows: u32,
    errors: &Errors,
) -> impl IntoView {
    let id = field_id(name);
    let error = errors.get(name);
    let describe = described_by(name, false, error.is_some());
    let invalid = error.is_some().then_some("true");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <textarea
                id=id
                name=name
                rows=rows
                required=true
                aria-describedby=describe
                aria-invalid=invalid
                inner_html=textarea_text(&value)
            ></textarea>
            {field_error(name, error)}
        </div>
    }
}

/// The markup for a `<textarea>`'s text. Leptos does not escape a textarea's children, so
/// its text is escaped here (`</textarea>` in a message must stay text). The leading newline
/// keeps a text that starts with one: HTML drops the first newline after `<textarea>`.
pub fn textarea_text(text: &str) -> String {
    format!("\n{}", html_escape::encode_text(text))
}

/// `<option>`s: `(value, words)`, the one equal to `selected` preselected.
pub fn options(values: Vec<(String, String)>, selected: &str) -> impl IntoView {
    values
        .into_iter()
        .map(|(value, words)| {
            let sel = value == selected;
            view! { <option value=value selected=sel>{words}</option> }
        })
        .collect_view()
}

/// A labelled select with its error.
pub fn select(
    name: &'static str,
    label: String,
    values: Vec<(String, String)>,
    selected: &str,
    errors: &Errors,
) -> impl IntoView {
    let id = field_id(name);
    let error = errors.get(name);
    let describe = described_by(name, false, error.is_some());
    let invalid = error.is_some().then_some("true");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select id=id name=name aria-describedby=describe aria-invalid=invalid>
                {options(values, selected)}
            </select>
            {field_error(name, error)}
        </div>
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

/// The site's clock: times shown and typed in the site's timezone, labelled.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    pub tz: Tz,
    pub l: L,
}

/// Why a typed time was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeError {
    /// Not a date and time at all.
    Unreadable,
    /// A time skipped when clocks go forward.
    Skipped,
}

impl Clock {
    /// "heure de Paris" / "Paris time": the name staff read beside every time.
    pub fn zone_words(&self) -> String {
        let name = self.tz.name();
        if name == "UTC" || name == "Etc/UTC" {
            return "UTC".to_owned();
        }
        let city = name.rsplit('/').next().unwrap_or(name).replace('_', " ");
        self.l
            .f(|| format!("heure de {city}"), || format!("{city} time"))
    }

    /// A time as the public pages write it, with the zone named:
    /// "7 décembre 2026 à 09:40 (heure de Paris)".
    pub fn show(&self, at: DateTime<Utc>) -> String {
        // The public pages' clock names the zone itself.
        self.l
            .texts()
            .date_time(&at.with_timezone(&self.tz).fixed_offset(), self.tz.name())
    }

    /// The value of a `datetime-local` input for `at`, in the site's zone.
    pub fn input_value(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.tz)
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    }

    /// Reads a `datetime-local` value typed in the site's zone (`2026-12-07T09:40`, seconds
    /// allowed), or a full RFC 3339 time with its offset. A time that occurs twice when clocks
    /// go back is the first of the two.
    pub fn parse(&self, s: &str) -> Result<DateTime<Utc>, TimeError> {
        let s = s.trim();
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Ok(t.with_timezone(&Utc));
        }
        let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
            .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
            .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M"))
            .map_err(|_| TimeError::Unreadable)?;
        self.tz
            .from_local_datetime(&naive)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .ok_or(TimeError::Skipped)
    }

    /// The sentence for a refused time in field `what` ("Début").
    pub fn error(&self, e: TimeError) -> String {
        let zone = self.zone_words();
        match e {
            TimeError::Unreadable => self.l.f(
                || format!("Saisissez une date et une heure, par exemple 2026-12-07 09:40 ({zone})."),
                || format!("Enter a date and a time, for example 2026-12-07 09:40 ({zone})."),
            ),
            TimeError::Skipped => self.l.f(
                || format!("Cette heure n'existe pas ce jour-là ({zone}) : les horloges avancent d'une heure. Choisissez une heure après le changement."),
                || format!("This time does not exist that day ({zone}): clocks go forward an hour. Pick a time after the change."),
            ),
        }
    }
}

/// The short-lived cookie that carries a confirmation across the redirect after a post
/// (post, redirect, get): a reload shows the page without posting again, and without the
/// confirmation, which is shown once.
pub const FLASH_COOKIE: &str = "vigie_flash";

/// The `Set-Cookie` value for a confirmation `code` (a fixed word, never user input).
pub fn flash_cookie(staff: &Staff, code: &str) -> String {
    let secure = if staff.client.https { "; Secure" } else { "" };
    format!("{FLASH_COOKIE}={code}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=60{secure}")
}

/// The confirmation code waiting in the request, if any.
pub fn flash_code(headers: &HeaderMap) -> Option<String> {
    crate::auth::cookie(headers, FLASH_COOKIE)
        .filter(|v| !v.is_empty() && v.len() <= 64)
        .map(str::to_owned)
}

/// A redirect (303) to `to` that leaves confirmation `code` for the next page.
pub fn redirect_with(staff: &Staff, to: &str, code: &str) -> Response {
    let mut res = axum::response::Redirect::to(to).into_response();
    if let Ok(v) = HeaderValue::from_str(&flash_cookie(staff, code)) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// Adds the header that spends a shown confirmation to `res`.
pub fn spend_flash(mut res: Response, staff: &Staff) -> Response {
    let secure = if staff.client.https { "; Secure" } else { "" };
    let value =
        format!("{FLASH_COOKIE}=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0{secure}");
    if let Ok(v) = HeaderValue::from_str(&value) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paris() -> Clock {
        Clock {
            tz: chrono_tz::Europe::Paris,
            l: L(Locale::Fr),
        }
    }

    #[test]
    fn local_times_are_read_in_the_site_zone() {
        let c = paris();
        let winter = c.parse("2026-12-07T05:20").expect("time");
        assert_eq!(winter.to_rfc3339(), "2026-12-07T04:20:00+00:00");
        let summer = c.parse("2026-07-01T22:00").expect("time");
        assert_eq!(summer.to_rfc3339(), "2026-07-01T20:00:00+00:00");
        assert_eq!(c.input_value(winter), "2026-12-07T05:20");
        assert_eq!(c.parse("demain"), Err(TimeError::Unreadable));
        // 29 March 2026, 02:30 does not exist in Paris; 25 October 02:30 exists twice.
        assert_eq!(c.parse("2026-03-29T02:30"), Err(TimeError::Skipped));
        let twice = c.parse("2026-10-25T02:30").expect("time");
        assert_eq!(twice.to_rfc3339(), "2026-10-25T00:30:00+00:00");
        assert_eq!(c.zone_words(), "heure de Paris");
    }

    #[test]
    fn text_in_a_page_is_escaped_by_construction() {
        let html = Owner::new().with(|| {
            let evil = "<script>alert(1)</script>\"'".to_owned();
            let attr = evil.clone();
            view! { <p title=attr>{evil}</p> }.to_html()
        });
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(
            !html.contains("title=\"<script>alert(1)</script>\"\""),
            "{html}"
        );
        let html = Owner::new().with(|| {
            let errors = Errors::default();
            textarea(
                "message",
                "Message".to_owned(),
                "a</textarea><script>alert(1)</script>".to_owned(),
                3,
                &errors,
            )
            .to_html()
        });
        assert!(
            html.contains(">\na&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;</textarea>"),
            "{html}"
        );
    }
}
