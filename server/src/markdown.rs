//! Staff messages: Markdown rendered with pulldown-cmark, then sanitised with ammonia, once,
//! when the message is written. Only http, https and mailto links survive; no script, no
//! event handler, no style, no frame, no form. The stored HTML is what readers get.

use std::collections::HashSet;
use std::sync::OnceLock;

use pulldown_cmark::{html, Options, Parser};

fn sanitizer() -> &'static ammonia::Builder<'static> {
    static BUILDER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    BUILDER.get_or_init(|| {
        let mut b = ammonia::Builder::default();
        b.url_schemes(HashSet::from(["http", "https", "mailto"]))
            .link_rel(Some("noopener noreferrer nofollow ugc"))
            .url_relative(ammonia::UrlRelative::PassThrough)
            .strip_comments(true);
        b
    })
}

/// Sanitised HTML for the Markdown `md`.
pub fn render(md: &str) -> String {
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    let parser = Parser::new_ext(md, opts);
    let mut raw = String::with_capacity(md.len() * 2);
    html::push_html(&mut raw, parser);
    sanitizer().clean(&raw).to_string()
}

/// The stored form of a message: its Markdown and the HTML rendered from it.
pub fn message(md: &str) -> store::incidents::Message {
    store::incidents::Message {
        markdown: md.to_owned(),
        html: render(md),
    }
}

#[cfg(test)]
mod tests {
    use super::render;

    // The corpus and the inertness check, shared with the server tests that read the payloads
    // back from the public pages and the feeds.
    include!("../tests/common/xss.rs");

    #[test]
    fn every_payload_of_the_xss_corpus_is_rendered_inert() {
        assert!(PAYLOADS.len() >= 30);
        let failures: Vec<String> = PAYLOADS
            .iter()
            .chain(BREAKERS)
            .filter_map(|p| is_inert(&render(p)).err())
            .collect();
        assert!(failures.is_empty(), "{failures:#?}");
    }

    #[test]
    fn ordinary_markdown_keeps_its_formatting_and_safe_links() {
        let html = render(
            "**Panne** du *forum* : voir [l'hébergeur](https://example.org).\n\n- un\n- deux",
        );
        assert!(html.contains("<strong>Panne</strong>"));
        assert!(html.contains("<em>forum</em>"));
        assert!(html.contains("href=\"https://example.org\""));
        assert!(html.contains("rel=\"noopener noreferrer nofollow ugc\""));
        assert!(html.contains("<li>deux</li>"));
    }

    #[test]
    fn text_that_looks_like_html_is_escaped_not_dropped() {
        let html = render("a < b && c > d");
        assert!(html.contains("a &lt; b &amp;&amp; c &gt; d"), "{html}");
    }
}
