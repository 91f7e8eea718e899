//! What a validator would say of a page, as far as a parser can tell: HTML5 parse errors
//! (stray or misnested tags, bad attributes, a missing doctype), ids used twice, and
//! references (`aria-labelledby`, `aria-describedby`, `aria-controls`, `<label for>`, `href="#…"`)
//! to ids that are not on the page. The parser is Servo's html5ever, with its exact messages.

use std::collections::HashMap;

use html5ever::tendril::TendrilSink;
use html5ever::tree_builder::TreeBuilderOpts;
use html5ever::ParseOpts;
use markup5ever_rcdom::{Handle, NodeData, RcDom};

/// Every problem found in `html`: parse errors, then ids used twice, then dangling
/// references. Empty when the page is clean.
pub fn problems(html: &str) -> Vec<String> {
    let opts = ParseOpts {
        tree_builder: TreeBuilderOpts {
            exact_errors: true,
            ..Default::default()
        },
        ..Default::default()
    };
    // Leptos marks its placeholders with `<!>`: browsers read an empty comment, HTML5 calls
    // it a bogus comment. It is read here as the `<!---->` it stands for (Leptos writes it;
    // it is not ours to change), so that every error left is one of ours.
    let html = html.replace("<!>", "<!---->");
    let dom = html5ever::parse_document(RcDom::default(), opts).one(html);
    let mut out: Vec<String> = dom
        .errors
        .borrow()
        .iter()
        .map(|e| format!("parse error: {e}"))
        .collect();
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut refs: Vec<(String, String)> = Vec::new();
    walk(&dom.document, &mut ids, &mut refs);
    let mut twice: Vec<_> = ids.iter().filter(|(_, n)| **n > 1).collect();
    twice.sort();
    for (id, n) in twice {
        out.push(format!("id `{id}` used {n} times"));
    }
    for (attr, id) in refs {
        if !ids.contains_key(&id) {
            out.push(format!("{attr} points to `{id}`, which is not on the page"));
        }
    }
    out
}

fn walk(node: &Handle, ids: &mut HashMap<String, usize>, refs: &mut Vec<(String, String)>) {
    if let NodeData::Element { name, attrs, .. } = &node.data {
        for a in attrs.borrow().iter() {
            let value = a.value.to_string();
            match &*a.name.local {
                "id" => *ids.entry(value).or_default() += 1,
                "aria-labelledby" | "aria-describedby" | "aria-controls" => {
                    for id in value.split_whitespace() {
                        refs.push((a.name.local.to_string(), id.to_owned()));
                    }
                }
                "for" if &*name.local == "label" => refs.push(("label for".to_owned(), value)),
                "href" if value.len() > 1 && value.starts_with('#') => {
                    refs.push(("href".to_owned(), value[1..].to_owned()));
                }
                _ => {}
            }
        }
    }
    for child in node.children.borrow().iter() {
        walk(child, ids, refs);
    }
}
