//! The HTML notify sends: the readers' mails, the staff alert mail and the Matrix message's
//! formatted body. Leptos `view!` rendered to a string, as the console's and the subscription
//! pages are, so every text and attribute is escaped by construction. The only markup taken as
//! it is, is an update's message, sanitised when it was written (pulldown-cmark + ammonia).
//!
//! Words that sit next to each other are joined into one string before they reach a view, so a
//! sentence stays one text in the HTML. Leptos still separates neighbouring text nodes with an
//! empty comment (`<!>`), and marks the end of a list or an absent part with one: markers its
//! hydration needs, but a mail or a feed entry is never hydrated, and `<!>` is a parse error
//! in HTML. [`render`] takes them out with an HTML rewriter (lol_html), the one place that
//! does so for mails and for the server's feed entries.

use domain::locale::Locale;
use leptos::prelude::*;

/// The footer links of a subscriber's mail.
#[derive(Clone, Debug)]
pub struct Footer {
    pub manage: String,
    pub unsubscribe: String,
}

/// `view` as HTML, rendered inside a reactive owner of its own, without Leptos's empty
/// markers ([`without_markers`]).
pub fn render(view: impl IntoView + 'static) -> String {
    without_markers(&Owner::new().with(move || view.to_html()))
}

/// `html` without its empty comments (`<!>`, `<!---->`), the markers Leptos writes for its
/// hydration. Comments with words in them, text, and every other byte are left as they are:
/// the rewriter parses the HTML (so a `<!>` inside a script, a `<textarea>` or an attribute
/// value is not a comment and stays) and writes back only what it changed.
pub fn without_markers(html: &str) -> String {
    let settings = lol_html::RewriteStrSettings::new().append_document_content_handler(
        lol_html::doc_comments!(|c| {
            if c.text().is_empty() {
                c.remove();
            }
            Ok(())
        }),
    );
    // The rewriter refuses only markup whose parse it cannot be sure of (strict mode: text in a
    // `<select>` such as `<select><xmp><script>`, which views and sanitised messages never
    // hold); this handler cannot fail. Then the HTML as it was, markers and all (browsers and
    // mail clients read them as empty comments), is the right answer.
    lol_html::rewrite_str(html, settings).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "empty comments left in rendered HTML");
        html.to_owned()
    })
}

/// A whole mail: `title` in its head, `body` in a narrow sans-serif column.
pub fn document(l: Locale, title: &str, body: impl IntoView + 'static) -> String {
    let title = title.to_owned();
    render(view! {
        <!DOCTYPE html>
        <html lang=l.code()>
            <head>
                <meta charset="utf-8"/>
                <title>{title}</title>
            </head>
            <body style="font-family:sans-serif;max-width:40em">{body}</body>
        </html>
    })
}

/// The links at the foot of a subscriber's mail, with their words.
pub fn footer(f: &Footer, manage: &'static str, unsubscribe: &'static str) -> impl IntoView {
    let (manage_url, unsubscribe_url) = (f.manage.clone(), f.unsubscribe.clone());
    view! {
        <hr/>
        <p style="font-size:small">
            <a href=manage_url>{manage}</a>
            " · "
            <a href=unsubscribe_url>{unsubscribe}</a>
        </p>
    }
}

/// A heading line and a list of one line per item (`items` already worded).
pub fn list(head: &'static str, items: Vec<String>) -> impl IntoView {
    let items = items
        .into_iter()
        .map(|i| view! { <li>{i}</li> })
        .collect::<Vec<_>>();
    view! {
        <p>{head}</p>
        <ul>{items}</ul>
    }
}

/// Paragraphs of text, then a link whose words are `words` (the address itself when `None`).
pub fn paragraphs(lines: Vec<String>, link: Option<(String, Option<String>)>) -> impl IntoView {
    let lines = lines
        .into_iter()
        .map(|l| view! { <p>{l}</p> })
        .collect::<Vec<_>>();
    let link = link.map(|(href, words)| {
        let words = words.unwrap_or_else(|| href.clone());
        view! { <p><a href=href>{words}</a></p> }
    });
    view! { {lines} {link} }
}

/// The confirmation mail's body: what was asked, the link that confirms, what to do if not.
pub fn confirmation(
    intro: String,
    action: &'static str,
    link: String,
    ignore: &'static str,
) -> impl IntoView {
    let words = link.clone();
    view! {
        <p>{intro}</p>
        <p>{action}<br/><a href=link>{words}</a></p>
        <p>{ignore}</p>
    }
}

/// A readers' announcement: a heading, a line in bold (and what follows it), the message
/// (sanitised HTML), the services, a link and the footer.
pub struct Announcement<F, S> {
    pub title: String,
    pub strong: &'static str,
    /// After the bold words on the same line (`" — Posted on …"`), or a paragraph of its own.
    pub after_strong: Option<String>,
    pub news: Option<String>,
    /// Sanitised when it was written.
    pub message_html: String,
    pub services: S,
    pub link: String,
    pub link_words: String,
    pub footer: F,
}

/// An incident update or a maintenance stage, as the body of a mail.
pub fn announcement<F, S>(a: Announcement<F, S>) -> impl IntoView
where
    F: IntoView + 'static,
    S: IntoView + 'static,
{
    let news = a.news.map(|n| view! { <p>{n}</p> });
    view! {
        <h1>{a.title}</h1>
        <p><strong>{a.strong}</strong>{a.after_strong}</p>
        {news}
        <div inner_html=a.message_html></div>
        {a.services}
        <p><a href=a.link>{a.link_words}</a></p>
        {a.footer}
    }
}

/// Lines under a title in bold, and a link named `link_words`, separated by line breaks: the
/// formatted body of a Matrix message.
pub fn matrix(title: String, lines: Vec<String>, link: Option<String>) -> String {
    let lines = lines
        .into_iter()
        .map(|l| view! { <br/>{l} })
        .collect::<Vec<_>>();
    let link = link.map(|href| view! { <br/><a href=href>"Vigie"</a> });
    render(view! { <strong>{title}</strong>{lines}{link} })
}

/// A fragment of paragraphs with the first in bold: the HTML part of a staff alert mail.
pub fn alert(title: String, lines: Vec<String>, link: Option<String>) -> String {
    let body = paragraphs(lines, link.map(|l| (l, None)));
    render(view! { <p><strong>{title}</strong></p>{body} })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "<img src=x onerror=alert(1)>\"'&";

    #[test]
    fn text_and_addresses_are_escaped_and_only_the_message_is_taken_as_html() {
        let footer = Footer {
            manage: format!("https://s/m?t={HOSTILE}"),
            unsubscribe: "https://s/u?a=1&b=2".to_owned(),
        };
        let body = announcement(Announcement {
            title: HOSTILE.to_owned(),
            strong: "Résolu",
            after_strong: Some(format!(" — {HOSTILE}")),
            news: Some(HOSTILE.to_owned()),
            message_html: "<p><em>sanitised</em></p>".to_owned(),
            services: list("Services", vec![HOSTILE.to_owned()]),
            link: HOSTILE.to_owned(),
            link_words: HOSTILE.to_owned(),
            footer: footer_view(&footer),
        });
        let html = document(Locale::Fr, HOSTILE, body);
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;img"), "{html}");
        assert!(
            html.contains("<div><p><em>sanitised</em></p></div>"),
            "{html}"
        );
        assert!(html.contains("href=\"https://s/u?a=1&amp;b=2\""), "{html}");
        assert!(
            html.starts_with("<!DOCTYPE html><html lang=\"fr\">"),
            "{html}"
        );

        let m = matrix(
            HOSTILE.to_owned(),
            vec![HOSTILE.to_owned()],
            Some(HOSTILE.to_owned()),
        );
        assert!(!m.contains("<img"), "{m}");
        assert!(m.starts_with("<strong>&lt;img"), "{m}");
        assert!(m.contains("<br>&lt;img"), "{m}");
        let a = alert(
            "t".to_owned(),
            vec!["a < b".to_owned()],
            Some("https://x/?a&b".to_owned()),
        );
        assert_eq!(
            a,
            "<p><strong>t</strong></p><p>a &lt; b</p><p><a href=\"https://x/?a&amp;b\">https://x/?a&amp;b</a></p>"
        );
    }

    #[test]
    fn leptos_markers_leave_and_nothing_else_changes() {
        // Two neighbouring texts, an absent part and a list: Leptos marks each with `<!>`.
        let raw = Owner::new().with(|| {
            let absent: Option<String> = None;
            view! { <p>"a"{"b".to_owned()}</p>{absent}<ul>{vec![view! { <li>"x"</li> }]}</ul> }
                .to_html()
        });
        assert!(
            raw.contains("<!>"),
            "Leptos no longer writes markers: {raw}"
        );
        let absent: Option<String> = None;
        let html = render(
            view! { <p>"a"{"b".to_owned()}</p>{absent}<ul>{vec![view! { <li>"x"</li> }]}</ul> },
        );
        assert_eq!(html, "<p>ab</p><ul><li>x</li></ul>");
        // Only empty comments are markers; markup that only looks like one is not touched.
        let kept = "<!-- kept --><p title=\"<!>\">a<!---->b</p><script>x(\"<!>\")</script>\
                    <textarea><!></textarea>";
        assert_eq!(
            without_markers(kept),
            "<!-- kept --><p title=\"<!>\">ab</p><script>x(\"<!>\")</script>\
             <textarea><!></textarea>"
        );
        // A whole mail keeps its doctype.
        let doc = document(Locale::En, "t", view! { <p>"a"{"b".to_owned()}</p> });
        assert!(
            doc.starts_with("<!DOCTYPE html><html lang=\"en\">"),
            "{doc}"
        );
        assert!(!doc.contains("<!>"), "{doc}");
    }

    fn footer_view(f: &Footer) -> impl IntoView {
        footer(f, "Gérer", "Se désabonner")
    }
}
