//! The subscription pages, each a function from plain data (no request, no database) to a whole
//! HTML page: Leptos `view!` rendered to a string, as the console's pages are, so every text and
//! attribute is escaped by construction. A small self-contained page in the site's style sheet.
//!
//! Words that sit next to each other are joined into one string before they reach a view, so a
//! sentence stays one text in the HTML: Leptos separates two neighbouring text nodes with an
//! empty comment (`<!>`), as it marks the end of a list or an absent part.

use domain::locale::Locale;
use leptos::prelude::*;

use super::words::words;

/// What a reader typed into the subscribe form.
pub(super) struct Typed {
    pub(super) email: String,
    pub(super) language: String,
    /// `None`: the whole page.
    pub(super) services: Option<Vec<String>>,
}

/// A form refused: which field (`email`, `language`, `services`) and why, in a sentence.
pub(super) type Refused<'a> = Option<(&'a str, &'a str)>;

/// The page around `body`: `title` (with the site's) and a link back to the status page.
fn page(l: Locale, site: &str, title: &str, body: impl IntoView + 'static) -> String {
    let code = l.code();
    let head_title = format!("{title} — {site}");
    let title = title.to_owned();
    let home = format!("/?lang={code}");
    let back = words(l).back;
    Owner::new().with(move || {
        view! {
            <!DOCTYPE html>
            <html lang=code>
                <head>
                    <meta charset="utf-8"/>
                    <meta name="viewport" content="width=device-width, initial-scale=1"/>
                    <meta name="robots" content="noindex"/>
                    <title>{head_title}</title>
                    <link rel="stylesheet" href="/pkg/vigie.css"/>
                    <link rel="icon" href=wording::FAVICON/>
                </head>
                <body class="subscribe-page">
                    <main id="main">
                        <h1>{title}</h1>
                        {body}
                        <p><a href=home>{back}</a></p>
                    </main>
                </body>
            </html>
        }
        .to_html()
    })
}

/// A page that only says `text` (a confirmation, or why not), announced to screen readers.
pub(super) fn message(l: Locale, site: &str, title: &str, text: &str) -> String {
    let text = text.to_owned();
    page(l, site, title, view! { <p role="status">{text}</p> })
}

/// A sentence saying why a field was refused, beside it, announced; `id` is what the field's
/// `aria-describedby` names.
fn refusal(id: &'static str, sentence: String) -> impl IntoView {
    view! { <p class="field-error" id=id role="alert">{sentence}</p> }
}

/// The language of the mails: a `<select>` with `selected` chosen.
fn language_select(l: Locale, selected: &str) -> impl IntoView {
    let options = [("fr", "Français"), ("en", "English")]
        .into_iter()
        .map(|(code, name)| {
            let on = code == selected;
            view! { <option value=code selected=on>{name}</option> }
        })
        .collect::<Vec<_>>();
    let label = format!("{} ", words(l).language);
    view! {
        <p>
            <label>{label}<select name="language">{options}</select></label>
        </p>
    }
}

/// The whole page or the services chosen (`None`: the whole page), among `all` (id, name).
fn service_choices(
    l: Locale,
    all: &[(String, String)],
    chosen: Option<&[String]>,
) -> impl IntoView {
    let w = words(l);
    let everything = chosen.is_none();
    let items = all
        .iter()
        .map(|(id, name)| {
            let on = chosen.is_some_and(|c| c.contains(id));
            let (id, name) = (id.clone(), format!(" {name}"));
            view! {
                <li>
                    <label><input type="checkbox" name="service" value=id checked=on/>{name}</label>
                </li>
            }
        })
        .collect::<Vec<_>>();
    view! {
        <fieldset>
            <legend>{w.what}</legend>
            <p>
                <label>
                    <input type="radio" name="scope" value="all" checked=everything/>
                    {format!(" {}", w.everything)}
                </label>
            </p>
            <p>
                <label>
                    <input type="radio" name="scope" value="services" checked=!everything/>
                    {format!(" {}", w.chosen)}
                </label>
            </p>
            <ul>{items}</ul>
        </fieldset>
    }
}

/// A form of one button that posts the token `t` to `action`.
fn button_form(action: String, t: String, label: &'static str) -> impl IntoView {
    view! {
        <form method="post" action=action>
            <input type="hidden" name="t" value=t/>
            <p><button>{label}</button></p>
        </form>
    }
}

/// The subscribe form, showing back what the reader `typed` and, when it was refused, why, as
/// a sentence beside the field it is about.
pub(super) fn subscribe(
    l: Locale,
    site: &str,
    all: &[(String, String)],
    typed: &Typed,
    refused: Refused,
) -> String {
    let w = words(l);
    let said = |f: &str| {
        refused
            .filter(|(field, _)| *field == f)
            .map(|(_, m)| m.to_owned())
    };
    let email_error = said("email").map(|m| refusal("email-error", m));
    let invalid = email_error.is_some();
    let body = view! {
        <p>{w.intro}</p>
        <form method="post" action=format!("/subscribe?lang={}", l.code())>
            <p>
                <label>
                    {format!("{} ", w.email)}
                    <input
                        type="email"
                        name="email"
                        required=true
                        maxlength="254"
                        autocomplete="email"
                        value=typed.email.clone()
                        aria-invalid=invalid.then_some("true")
                        aria-describedby=invalid.then_some("email-error")
                        autofocus=invalid
                    />
                </label>
            </p>
            {email_error}
            {language_select(l, &typed.language)}
            {said("language").map(|m| refusal("language-error", m))}
            {said("services").map(|m| refusal("services-error", m))}
            {service_choices(l, all, typed.services.as_deref())}
            <p><button>{w.submit}</button></p>
        </form>
    };
    page(l, site, w.title, body)
}

/// The page a confirmation link opens: whose subscription (`who`) and the button that
/// confirms it with the token `t`.
pub(super) fn confirm(l: Locale, site: &str, who: String, t: String) -> String {
    let w = words(l);
    let body = view! {
        <p>{who}</p>
        {button_form("/subscribe/confirm".to_owned(), t, w.confirm_button)}
    };
    page(l, site, w.confirm_title, body)
}

/// The page after confirming: done, the webhook's signing secret when it is one (shown only
/// here), and the link to the preferences.
pub(super) fn confirmed(l: Locale, site: &str, secret: Option<String>, manage: String) -> String {
    let w = words(l);
    let secret = secret.map(|s| view! { <p>{format!("{} ", w.secret)}<code>{s}</code></p> });
    let body = view! {
        <p role="status">{w.confirmed}</p>
        {secret}
        <p><a href=manage>{w.manage_title}</a></p>
    };
    page(l, site, w.confirm_title, body)
}

/// The page an unsubscribe link opens: the address and the button that erases it.
pub(super) fn unsubscribe(l: Locale, site: &str, address: String, t: String) -> String {
    let w = words(l);
    let body = view! {
        <p>{address}</p>
        {button_form("/subscribe/unsubscribe".to_owned(), t, w.unsub_button)}
    };
    page(l, site, w.unsub_title, body)
}

/// A subscriber's preferences, in the language `l` of their mails.
pub(super) struct Preferences<'a> {
    pub(super) address: &'a str,
    pub(super) language: &'a str,
    /// `None`: the whole page.
    pub(super) services: Option<&'a [String]>,
    /// The token of the manage link, posted back with the form.
    pub(super) t: &'a str,
    /// Where the unsubscribe button posts (its own signed link).
    pub(super) unsubscribe: String,
}

/// The preferences page (after a save, `saved` says so on top).
pub(super) fn manage(
    l: Locale,
    site: &str,
    p: Preferences,
    all: &[(String, String)],
    saved: bool,
) -> String {
    let w = words(l);
    let saved = saved.then(|| view! { <p role="status">{w.saved}</p> });
    let body = view! {
        {saved}
        <p>{p.address.to_owned()}</p>
        <form method="post" action="/subscribe/manage">
            <input type="hidden" name="t" value=p.t.to_owned()/>
            {language_select(l, p.language)}
            {service_choices(l, all, p.services)}
            <p><button>{w.save}</button></p>
        </form>
        {button_form(p.unsubscribe, String::new(), w.unsub_button)}
    };
    page(l, site, w.manage_title, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "<script>alert(\"x\")</script>&'";

    #[test]
    fn typed_text_and_names_are_escaped_in_text_and_attributes() {
        let all = vec![(HOSTILE.to_owned(), HOSTILE.to_owned())];
        let typed = Typed {
            email: HOSTILE.to_owned(),
            language: "en".to_owned(),
            services: Some(vec![HOSTILE.to_owned()]),
        };
        let html = subscribe(Locale::En, HOSTILE, &all, &typed, Some(("email", HOSTILE)));
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        // In an attribute, the quote is escaped too.
        assert!(
            html.contains("value=\"&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;'\""),
            "{html}"
        );
        let html = manage(
            Locale::Fr,
            "Site",
            Preferences {
                address: HOSTILE,
                language: "fr",
                services: None,
                t: "a\"b",
                unsubscribe: "/subscribe/unsubscribe?t=\"><script>".to_owned(),
            },
            &all,
            true,
        );
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("value=\"a\"b\""), "{html}");
    }

    #[test]
    fn the_form_shows_back_what_was_typed_and_the_reason_beside_its_field() {
        let all = vec![
            ("web".to_owned(), "Web".to_owned()),
            ("db".to_owned(), "Base".to_owned()),
        ];
        let typed = Typed {
            email: "a..b@example.org".to_owned(),
            language: "en".to_owned(),
            services: Some(vec!["db".to_owned()]),
        };
        let html = subscribe(Locale::Fr, "Site", &all, &typed, Some(("email", "Non.")));
        assert!(
            html.starts_with("<!DOCTYPE html><html lang=\"fr\">"),
            "{html}"
        );
        assert!(html.contains("value=\"a..b@example.org\""), "{html}");
        assert!(
            html.contains("aria-describedby=\"email-error\" autofocus"),
            "{html}"
        );
        assert!(
            html.contains("id=\"email-error\" role=\"alert\" class=\"field-error\">Non.</p>"),
            "{html}"
        );
        assert!(html.contains("<option value=\"en\" selected>"), "{html}");
        assert!(
            html.contains("name=\"scope\" value=\"services\" checked"),
            "{html}"
        );
        assert!(
            html.contains("name=\"service\" value=\"db\" checked"),
            "{html}"
        );
        assert!(
            !html.contains("name=\"service\" value=\"web\" checked"),
            "{html}"
        );
        let blank = Typed {
            email: String::new(),
            language: "fr".to_owned(),
            services: None,
        };
        let html = subscribe(Locale::En, "Site", &all, &blank, None);
        assert!(!html.contains("aria-invalid"), "{html}");
        assert!(
            html.contains("name=\"scope\" value=\"all\" checked"),
            "{html}"
        );
    }
}
