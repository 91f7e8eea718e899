// An XSS corpus and the check that rendered HTML is inert. Included (`include!`) by the
// Markdown renderer's unit tests and by `server/tests/common`: one list for both.

/// Script tags, event handlers, javascript:/data:/vbscript: URLs (plain, encoded,
/// obfuscated), SVG, MathML, iframes, forms, styles and Markdown link tricks.
pub const PAYLOADS: &[&str] = &[
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
    // Found by an outside attack: a title that closes `<title>` and redirects every reader.
    "Panne</title><meta http-equiv=\"refresh\" content=\"1;url=https://evil.example/\"><h1>Fake</h1><title>",
    "\"><script>alert(1)</script>",
    "'><img src=x onerror=alert(1)>",
    "</script><script>alert(1)</script>",
    "]]><script>alert(1)</script>",
];

/// Values that break out of a context rather than inject markup: an attribute value (single or
/// double quoted), a `<textarea>`, JSON inside a script (`</script>`, the line separators
/// U+2028/U+2029 that end a JavaScript string), CDATA in a feed, and the line breaks that
/// would start a new iCalendar property or e-mail header. Kept apart from `PAYLOADS` (which
/// fill a feed's 50 entries exactly); the tests of every context use both.
pub const BREAKERS: &[&str] = &[
    "\"'><x y=",
    "\" onmouseover=\"alert(1)\" x=\"",
    "' onmouseover='alert(1)' x='",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "\u{2028}\u{2029}</script><script>alert(1)</script>",
    "{\"a\":\"</script><script>alert(1)</script>\"}",
    "]]><x>",
    "Fin\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:Injecté\r\nX-INJECTED:1",
    "Fin\nX-Injected: 1\nBcc: evil@example.org",
    "&lt;script&gt;alert(1)&lt;/script&gt; &amp;lt;",
];

pub fn is_inert(html: &str) -> Result<(), String> {
    let lower = html.to_ascii_lowercase();
    for bad in [
        "<script", "<iframe", "<object", "<embed", "<svg", "<math", "<style", "<form", "<input",
        "<meta", "<base", "<link", "style=", "srcdoc", "<!--",
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
