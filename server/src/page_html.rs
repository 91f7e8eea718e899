//! The last step of every rendered public page, once per rendering (the page cache then
//! serves the result as it is):
//!
//! - Inline scripts are allowed by their SHA-256 in the Content-Security-Policy instead of by
//!   the nonce leptos_axum gives each render. The theme script and the hydration bootstrap are
//!   the same on every page; the scripts carrying a page's data change with the data, so the
//!   hashes are taken from the rendering itself. A cached response is then byte-identical for
//!   every reader and still allows no inline script but its own.
//! - The nonce leaves the markup: Leptos also writes it into `crossorigin` (an invalid value
//!   there), which becomes `crossorigin=""` (anonymous, what a same-origin module load uses).
//! - Leptos's `<!>` hydration markers, a parse error in HTML ("bogus comment"), are written
//!   `<!---->`: both parse to the same empty comment node, so hydration sees the same DOM.
//!
//! Hand-written: no crate rewrites Leptos output, and a full HTML parse and re-serialisation
//! would change far more bytes than these. The scanner knows just enough HTML (quoted
//! attribute values, comments, raw-text `<script>` and `<style>`) never to touch a `<!>` or a
//! script that is not markup.

use base64::Engine;
use sha2::{Digest, Sha256};

/// A finished page and the `'sha256-…'` sources of its inline scripts, in document order,
/// without repeats.
pub struct Finished {
    pub html: Vec<u8>,
    pub script_hashes: Vec<String>,
}

/// Finishes `html`, rendered with `nonce` (as the page's policy named it). Without a nonce
/// (the console, whose policy allows no script at all) only the markers are rewritten.
pub fn finish(html: &[u8], nonce: Option<&str>) -> Finished {
    let (nonce_attr, crossorigin) = match nonce {
        Some(n) => (format!(" nonce=\"{n}\""), format!(" crossorigin=\"{n}\"")),
        None => (String::new(), String::new()),
    };
    let mut out = Vec::with_capacity(html.len() + html.len() / 32);
    let mut hashes: Vec<String> = Vec::new();
    let mut i = 0;
    while i < html.len() {
        let rest = &html[i..];
        if rest.starts_with(b"<!>") {
            out.extend_from_slice(b"<!---->");
            i += 3;
        } else if rest.starts_with(b"<!--") {
            let end = find(rest, b"-->", 4).map_or(rest.len(), |e| e + 3);
            out.extend_from_slice(&rest[..end]);
            i += end;
        } else if rest.starts_with(b"<") && rest.get(1).is_some_and(u8::is_ascii_alphabetic) {
            let tag_end = tag_end(rest);
            let tag = &rest[..tag_end];
            let name_end = tag[1..]
                .iter()
                .position(|b| !b.is_ascii_alphanumeric() && *b != b'-')
                .map_or(tag.len(), |p| p + 1);
            let name = tag[1..name_end].to_ascii_lowercase();
            let tag = if nonce.is_some() {
                replace(
                    &replace(tag, nonce_attr.as_bytes(), b""),
                    crossorigin.as_bytes(),
                    b" crossorigin=\"\"",
                )
            } else {
                tag.to_vec()
            };
            out.extend_from_slice(&tag);
            i += tag_end;
            if name == b"script" || name == b"style" {
                let close: &[u8] = if name == b"script" {
                    b"</script"
                } else {
                    b"</style"
                };
                let body_len = find(&html[i..], close, 0).unwrap_or(html.len() - i);
                let body = &html[i..i + body_len];
                if name == b"script" && nonce.is_some() && !has_src(&tag) {
                    let hash = format!(
                        "'sha256-{}'",
                        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body))
                    );
                    if !hashes.contains(&hash) {
                        hashes.push(hash);
                    }
                }
                out.extend_from_slice(body);
                i += body_len;
            }
        } else {
            // Plain text up to the next `<`.
            let next = rest[1..]
                .iter()
                .position(|b| *b == b'<')
                .map_or(rest.len(), |p| p + 1);
            out.extend_from_slice(&rest[..next]);
            i += next;
        }
    }
    Finished {
        html: out,
        script_hashes: hashes,
    }
}

/// The length of the start tag at the beginning of `s` (through its `>`), quotes respected.
fn tag_end(s: &[u8]) -> usize {
    let mut quote: Option<u8> = None;
    for (i, b) in s.iter().enumerate() {
        match (quote, *b) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(*b),
            (None, b'>') => return i + 1,
            _ => {}
        }
    }
    s.len()
}

fn has_src(tag: &[u8]) -> bool {
    tag.windows(5).any(|w| w.eq_ignore_ascii_case(b" src="))
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// `s` with every `from` replaced by `to` (an empty `from` replaces nothing).
fn replace(s: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    if from.is_empty() {
        return s.to_vec();
    }
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(s: &str) -> String {
        format!(
            "'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s.as_bytes()))
        )
    }

    #[test]
    fn scripts_are_hashed_nonces_leave_and_markers_become_comments() {
        let page = concat!(
            "<html><head><link rel=\"modulepreload\" href=\"/pkg/vigie.js\" crossorigin=\"N0nce\">",
            "<script nonce=\"N0nce\">a()</script>",
            "<script type=\"module\" nonce=\"N0nce\">b(\"<!>\")</script>",
            "<script src=\"/pkg/x.js\"></script><style>p::before{content:\"<!>\"}</style></head>",
            "<body><p title=\"<!>\">x<!>y</p><!-- <!> --><script nonce=\"N0nce\">a()</script>",
            "</body></html>"
        );
        let f = finish(page.as_bytes(), Some("N0nce"));
        let html = String::from_utf8(f.html).expect("utf-8");
        assert_eq!(
            html,
            concat!(
                "<html><head><link rel=\"modulepreload\" href=\"/pkg/vigie.js\" crossorigin=\"\">",
                "<script>a()</script>",
                "<script type=\"module\">b(\"<!>\")</script>",
                "<script src=\"/pkg/x.js\"></script><style>p::before{content:\"<!>\"}</style></head>",
                "<body><p title=\"<!>\">x<!---->y</p><!-- <!> --><script>a()</script>",
                "</body></html>"
            )
        );
        assert_eq!(f.script_hashes, vec![sha("a()"), sha("b(\"<!>\")")]);
    }

    #[test]
    fn a_page_without_scripts_has_no_hashes() {
        let f = finish(b"<p>plain</p>", Some("n"));
        assert!(f.script_hashes.is_empty());
        assert_eq!(f.html, b"<p>plain</p>");
        // Without a nonce (the console), only the markers change.
        let f = finish(b"<p>a<!>b</p><script nonce=\"n\">x</script>", None);
        assert!(f.script_hashes.is_empty());
        assert_eq!(f.html, b"<p>a<!---->b</p><script nonce=\"n\">x</script>");
    }
}
