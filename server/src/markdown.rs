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

    /// Script tags, event handlers, javascript:/data:/vbscript: URLs (plain, encoded,
    /// obfuscated), SVG, MathML, iframes, forms, styles and Markdown link tricks.
    const PAYLOADS: &[&str] = &[
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        "<scr<script>ipt>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<img src=\"x\" ONERROR=\"alert(1)\">",
        "<body onload=alert(1)>",
        "<svg onload=alert(1)>",
        "<svg><script>alert(1)</script></svg>",
        "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
        "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
        "<iframe src=\"javascript:alert(1)\"></iframe>",
        "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
        "<object data=\"data:text/html,<script>alert(1)</script>\"></object>",
        "<embed src=\"javascript:alert(1)\">",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
        "<a href=\"java\tscript:alert(1)\">x</a>",
        "<a href=\"&#106;avascript:alert(1)\">x</a>",
        "<a href=\"vbscript:msgbox(1)\">x</a>",
        "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
        "[x](javascript:alert(1))",
        "[x](JAVASCRIPT:alert(1))",
        "[x](javascript&#58;alert(1))",
        "[x](data:text/html,<script>alert(1)</script>)",
        "[x]( javascript:alert(1) )",
        "[x][r]\n\n[r]: javascript:alert(1)",
        "<javascript:alert(1)>",
        "![x](javascript:alert(1))",
        "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
        "[x](https://ok.example \"title\" onmouseover=alert(1))",
        "<div style=\"background:url(javascript:alert(1))\">x</div>",
        "<style>body{background:url(javascript:alert(1))}</style>",
        "<form action=\"javascript:alert(1)\"><button>x</button></form>",
        "<input autofocus onfocus=alert(1)>",
        "<details open ontoggle=alert(1)>",
        "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
        "<base href=\"javascript:alert(1)//\">",
        "<link rel=stylesheet href=\"javascript:alert(1)\">",
        "<a href=\"https://ok.example\" onclick=\"alert(1)\">x</a>",
        "<p onmouseover=\"alert(1)\">x</p>",
        "<!--<script>alert(1)</script>-->",
        "<img src=\"x` `<script>alert(1)</script>\"` `>",
        "<a href=\"&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;:alert(1)\">x</a>",
        "<video><source onerror=\"alert(1)\"></video>",
        "<table background=\"javascript:alert(1)\"><tr><td>x</td></tr></table>",
    ];

    fn is_inert(html: &str) -> Result<(), String> {
        let lower = html.to_ascii_lowercase();
        for bad in [
            "<script", "<iframe", "<object", "<embed", "<svg", "<math", "<style", "<form",
            "<input", "<meta", "<base", "<link", "style=", "srcdoc", "<!--",
        ] {
            if lower.contains(bad) {
                return Err(format!("`{bad}` survived: {html}"));
            }
        }
        // Every URL attribute is relative or http(s)/mailto (text may mention `javascript:`).
        for attr in ["href=\"", "src=\"", "action=\"", "background=\""] {
            for (i, _) in lower.match_indices(attr) {
                let value = &lower[i + attr.len()..];
                let value = &value[..value.find('"').unwrap_or(value.len())];
                let scheme_end = value.find(':');
                let first_slash = value.find(['/', '?', '#']);
                if let Some(end) = scheme_end {
                    if first_slash.is_none_or(|s| end < s)
                        && !matches!(&value[..end], "http" | "https" | "mailto")
                    {
                        return Err(format!("URL `{value}` survived: {html}"));
                    }
                }
            }
        }
        // No attribute named on… anywhere inside a tag.
        let mut in_tag = false;
        let bytes = lower.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'<' => in_tag = true,
                b'>' => in_tag = false,
                b'o' if in_tag
                    && i > 0
                    && bytes[i - 1].is_ascii_whitespace()
                    && bytes.get(i + 1) == Some(&b'n') =>
                {
                    return Err(format!("event handler survived: {html}"));
                }
                _ => {}
            }
        }
        Ok(())
    }

    #[test]
    fn every_payload_of_the_xss_corpus_is_rendered_inert() {
        assert!(PAYLOADS.len() >= 30);
        let failures: Vec<String> = PAYLOADS
            .iter()
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
