//! `vigie export --out DIR`: the public site as static files, for a mirror on another provider
//! that stays up when everything else is down.
//!
//! The pages are rendered by the same router that serves them (no listening socket: requests
//! go straight into it), starting from the overview, the history, the maintenance page, the
//! feeds, `/maintenance.ics`, the Statuspage-compatible JSON and every service's badges, in
//! each language, and following every link of every page. Each address becomes a file:
//! `/services/web?lang=en` is `en/services/web/index.html`, `/feed.atom?lang=en` is
//! `en/feed.atom`, other query parameters become path segments (`history/page-2/`). Links are
//! rewritten relative to the page, so the copy works from any host and under any sub-path;
//! a link to something the copy does not hold (sign-in, live events) points to the live site.
//!
//! The copy carries no script (it reads fully without one, and nothing waits for `/events`)
//! and says at the top of each page when it was generated. It is built in a temporary
//! directory next to DIR and swapped in with two renames, so a reader never sees half a site.
//! `--watch` exports again after every change (and every five minutes, for the relative
//! times) and runs `--after CMD` each time (an `rsync` or `rclone` to another provider).
//!
//! The pages are read and rewritten with an HTML rewriter (lol_html), never as strings: it
//! finds the `href` and `src` attributes, removes the scripts and preloads, and puts the notice
//! at the top of `<body>`; what it does not touch is written back byte for byte.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use chrono::{DateTime, Utc};
use domain::config::Catalog;
use domain::locale::Locale;
use tower::ServiceExt;

/// Addresses exported at most (a bound on a runaway crawl).
const MAX_PAGES: usize = 20_000;
/// How often `--watch` exports even without a change.
const REFRESH_EVERY: Duration = Duration::from_secs(300);
/// How often `--watch` looks for a change.
const LOOK_EVERY: Duration = Duration::from_secs(2);

/// What `vigie export` was asked.
#[derive(Clone, Debug)]
pub struct Options {
    pub out: PathBuf,
    /// The live site's address, for links the copy does not hold (default: `site.base_url`).
    pub base_url: Option<String>,
    pub watch: bool,
    /// A shell command run after each export.
    pub after: Option<String>,
}

/// One exported response.
struct Fetched {
    content_type: String,
    body: Vec<u8>,
}

impl Fetched {
    fn is_html(&self) -> bool {
        self.content_type.starts_with("text/html")
    }
}

/// Runs `vigie export`.
pub async fn run(catalog: Catalog, database_url: &str, opts: Options) -> anyhow::Result<()> {
    let db = crate::startup::prepare_database(&catalog, database_url).await?;
    let hub = crate::changes::Hub::new();
    hub.check(&db).await;
    let addr: SocketAddr = ([127, 0, 0, 1], 0).into();
    // The export sends nothing: its notifier is never spawned.
    let notify = std::sync::Arc::new(notify::Notifier::new(db.clone(), &catalog).await?);
    let state = crate::startup::app_state(&catalog, db.clone(), hub.clone(), addr, notify);
    let app = crate::startup::router(state);
    let live = opts
        .base_url
        .clone()
        .unwrap_or_else(|| catalog.site.base_url.clone())
        .trim_end_matches('/')
        .to_owned();
    let mut mark = store::changes::watermark(&db).await.ok();
    loop {
        let n = export_once(&app, &catalog, &live, &opts.out).await?;
        println!("exported {n} files to {}", opts.out.display());
        if let Some(cmd) = &opts.after {
            let status = run_after(cmd).await;
            match status {
                Ok(s) if s.success() => {}
                Ok(s) => tracing::warn!(command = %cmd, status = %s, "--after command failed"),
                Err(e) => tracing::warn!(command = %cmd, error = %e, "--after command did not run"),
            }
        }
        if !opts.watch {
            return Ok(());
        }
        let since = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(LOOK_EVERY).await;
            let now = store::changes::watermark(&db).await.ok();
            if (now.is_some() && now != mark) || since.elapsed() >= REFRESH_EVERY {
                mark = now;
                hub.bump(crate::changes::Change::Data);
                break;
            }
        }
    }
}

/// Runs `cmd` with `sh -c` off the async threads.
async fn run_after(cmd: &str) -> std::io::Result<std::process::ExitStatus> {
    let cmd = cmd.to_owned();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new("sh").arg("-c").arg(cmd).status()
    })
    .await
    .map_err(std::io::Error::other)?
}

/// The addresses every export starts from.
fn seeds(catalog: &Catalog) -> Vec<String> {
    let mut out = Vec::new();
    let roots = [
        "/",
        "/history",
        "/maintenance",
        "/feed.rss",
        "/feed.atom",
        "/maintenance.ics",
    ];
    for root in roots {
        out.push(root.to_owned());
        for l in Locale::ALL {
            out.push(format!("{root}?lang={}", l.code()));
        }
    }
    for api in [
        "summary",
        "status",
        "components",
        "incidents",
        "incidents/unresolved",
        "scheduled-maintenances",
        "scheduled-maintenances/upcoming",
        "scheduled-maintenances/active",
    ] {
        out.push(format!("/api/v2/{api}.json"));
    }
    for s in &catalog.services {
        out.push(format!("/services/{}", s.id.as_str()));
        out.push(format!("/badge/{}", s.id.as_str()));
        out.push(format!("/badge/{}/uptime.svg", s.id.as_str()));
    }
    out
}

/// Renders one address through the router.
async fn fetch(app: &axum::Router, uri: &str) -> anyhow::Result<Option<Fetched>> {
    let mut req = Request::get(uri)
        .body(Body::empty())
        .context("bad address")?;
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 0))));
    let response = app.clone().oneshot(req).await.context("rendering failed")?;
    if response.status() != StatusCode::OK {
        tracing::debug!(uri, status = %response.status(), "not exported");
        return Ok(None);
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024 * 1024)
        .await
        .context("reading a response")?;
    Ok(Some(Fetched {
        content_type,
        body: body.to_vec(),
    }))
}

/// The address a link of the page at `page` leads to, when it stays on the site: `/…`, or
/// `?…` (the same path with another query). `link` is the attribute's value as text.
fn site_address(link: &str, page: &str) -> Option<String> {
    if link.starts_with('/') && !link.starts_with("//") {
        Some(link.to_owned())
    } else if link.starts_with('?') {
        let path = page.split(['?', '#']).next().unwrap_or(page);
        Some(format!("{path}{link}"))
    } else {
        None
    }
}

/// The attributes that hold a link.
const LINK_ATTRIBUTES: [&str; 2] = ["href", "src"];

/// The text of an attribute value as lol_html hands it (the markup between the quotes, with
/// its character references: `?a=1&amp;b=2`). Decoded by html-escape, the crate Leptos escapes
/// attributes with.
fn attribute_text(markup: &str) -> String {
    html_escape::decode_html_entities(markup).into_owned()
}

/// `text` as an attribute value for lol_html's `set_attribute`, which takes markup: it adds
/// the quotes and escapes `"`, but writes `&` as it is, so `&amp;` in the text would come back
/// as `&`. html-escape, the crate Leptos escapes attributes with, writes the references.
fn attribute_markup(text: &str) -> String {
    html_escape::encode_double_quoted_attribute(text).into_owned()
}

/// The addresses an HTML page links to on the site (`href` and `src` attributes).
fn links(html: &str, page: &str) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    let settings = lol_html::RewriteStrSettings::new().append_element_content_handler(
        lol_html::element!("[href], [src]", |el| {
            for name in LINK_ATTRIBUTES {
                if let Some(v) = el.get_attribute(name) {
                    out.extend(site_address(&attribute_text(&v), page));
                }
            }
            Ok(())
        }),
    );
    lol_html::rewrite_str(html, settings)
        .with_context(|| format!("cannot read the links of {page}"))?;
    Ok(out)
}

/// `uri` without its fragment.
fn strip_fragment(uri: &str) -> &str {
    uri.split('#').next().unwrap_or(uri)
}

/// Whether an address belongs in the copy.
fn exportable(uri: &str) -> bool {
    let path = uri.split('?').next().unwrap_or(uri);
    path.starts_with("/pkg/") || crate::cache::query::params_read(path).is_some()
}

/// A path segment made only of safe characters.
fn segment(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The file an address is written to, relative to the copy's root.
pub fn file_for(uri: &str, html: bool) -> String {
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let mut params: BTreeMap<String, String> = BTreeMap::new();
    for kv in query.split('&').filter(|kv| !kv.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        params.entry(segment(k)).or_insert_with(|| segment(v));
    }
    let lang = params.remove("lang");
    let mut parts: Vec<String> = Vec::new();
    if let Some(l) = lang.filter(|l| !l.is_empty()) {
        parts.push(l);
    }
    let segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty() && *s != "." && *s != "..")
        .map(segment)
        .collect();
    let extras: Vec<String> = params.iter().map(|(k, v)| format!("{k}-{v}")).collect();
    if html {
        parts.extend(segs);
        parts.extend(extras);
        parts.push("index.html".to_owned());
    } else {
        let (last, dirs) = segs
            .split_last()
            .map_or_else(|| ("index".to_owned(), &[][..]), |(l, d)| (l.clone(), d));
        parts.extend(dirs.iter().cloned());
        parts.extend(extras);
        parts.push(last);
    }
    parts.join("/")
}

/// The link from the file `from` to the file `to` (both relative to the root); a link to an
/// `index.html` names its directory.
pub fn relative(from: &str, to: &str) -> String {
    let from_dir: Vec<&str> = from.split('/').collect();
    let from_dir = &from_dir[..from_dir.len().saturating_sub(1)];
    let target = to.strip_suffix("index.html").unwrap_or(to);
    let to_parts: Vec<&str> = target.split('/').collect();
    let common = from_dir
        .iter()
        .zip(to_parts.iter())
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = "../".repeat(from_dir.len() - common);
    out.push_str(&to_parts[common..].join("/"));
    if out.is_empty() {
        "./".to_owned()
    } else {
        out
    }
}

/// `html` with its scripts and preloads removed, its site-relative links pointing into the
/// copy (or to the live site), and the "generated at" notice (markup, [`generated_notice`]) at
/// the top of its body.
fn rewrite(
    html: &str,
    page: &str,
    own: &str,
    files: &HashMap<String, String>,
    live: &str,
    notice: &str,
) -> anyhow::Result<String> {
    // Where a link of this page points in the copy, as text.
    let point = |link: &str| -> Option<String> {
        let address = site_address(link, page)?;
        let (target, fragment) = match address.split_once('#') {
            Some((t, f)) => (t, format!("#{f}")),
            None => (address.as_str(), String::new()),
        };
        Some(match files.get(target) {
            Some(file) => format!("{}{fragment}", relative(own, file)),
            None => format!("{live}{address}"),
        })
    };
    let banner = notice_banner(notice);
    fn remove(el: &mut lol_html::html_content::Element<'_, '_>) -> lol_html::HandlerResult {
        el.remove();
        Ok(())
    }
    let settings = lol_html::RewriteStrSettings::new()
        .append_element_content_handler(lol_html::element!("script", remove))
        .append_element_content_handler(lol_html::element!(
            "link[rel~=modulepreload], link[rel~=preload]",
            remove
        ))
        .append_element_content_handler(lol_html::element!("[href], [src]", |el| {
            for name in LINK_ATTRIBUTES {
                let Some(v) = el.get_attribute(name) else {
                    continue;
                };
                if let Some(to) = point(&attribute_text(&v)) {
                    el.set_attribute(name, &attribute_markup(&to))?;
                }
            }
            Ok(())
        }))
        .append_element_content_handler(lol_html::element!("body", |el| {
            el.prepend(&banner, lol_html::html_content::ContentType::Html);
            Ok(())
        }));
    lol_html::rewrite_str(html, settings).with_context(|| format!("cannot rewrite {page}"))
}

/// The banner at the top of every page of the copy around `notice` (markup, rendered by
/// [`generated_notice`]).
fn notice_banner(notice: &str) -> String {
    use leptos::prelude::*;
    let notice = notice.to_owned();
    Owner::new().with(move || {
        view! {
            <div
                class="mirror-notice"
                role="note"
                style="background:#e7f1ff;color:#0b2a4a;border-bottom:2px solid #2f6fb5;padding:.6rem 1rem;text-align:center"
                inner_html=notice
            ></div>
        }
        .to_html()
    })
}

/// The notice on every page of the copy, in `locale`, its time written as the pages write
/// theirs: "Copie statique générée le 7 décembre 2026 à 17:42 (heure de Paris)".
fn generated_notice(
    locale: Locale,
    generated: DateTime<Utc>,
    tz: chrono_tz::Tz,
    live: &str,
) -> String {
    use leptos::prelude::*;
    let at =
        wording::texts(locale).date_time(&generated.with_timezone(&tz).fixed_offset(), tz.name());
    let (before, words) = match locale {
        Locale::Fr => (
            format!("Copie statique générée le {at} — "),
            "la page de statut en direct",
        ),
        Locale::En => (
            format!("Static copy generated on {at} — "),
            "the live status page",
        ),
    };
    // A Leptos view, so the time and the address are escaped by construction.
    let href = format!("{live}/");
    Owner::new().with(move || view! { {before}<a href=href>{words}</a> }.to_html())
}

/// Exports once into `out` (built beside it, then swapped in); returns the number of files.
pub async fn export_once(
    app: &axum::Router,
    catalog: &Catalog,
    live: &str,
    out: &Path,
) -> anyhow::Result<usize> {
    let generated: DateTime<Utc> = Utc::now();
    let mut fetched: HashMap<String, Fetched> = HashMap::new();
    let mut queue: VecDeque<String> = seeds(catalog).into();
    let mut seen: std::collections::HashSet<String> = queue.iter().cloned().collect();
    while let Some(uri) = queue.pop_front() {
        if fetched.len() >= MAX_PAGES {
            tracing::warn!(max = MAX_PAGES, "export stopped at its bound");
            break;
        }
        let Some(f) = fetch(app, &uri).await? else {
            continue;
        };
        if f.is_html() {
            for link in links(&String::from_utf8_lossy(&f.body), &uri)? {
                let link = strip_fragment(&link).to_owned();
                if exportable(&link) && seen.insert(link.clone()) {
                    queue.push_back(link);
                }
            }
        }
        fetched.insert(uri, f);
    }
    let files: HashMap<String, String> = fetched
        .iter()
        .map(|(uri, f)| (uri.clone(), file_for(uri, f.is_html())))
        .collect();
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let name = out
        .file_name()
        .context("--out must name a directory")?
        .to_string_lossy()
        .into_owned();
    let building = parent.join(format!(".{name}.building-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    for (uri, f) in &fetched {
        let file = &files[uri];
        let path = building.join(file);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let body = if f.is_html() {
            let html = String::from_utf8_lossy(&f.body);
            let locale = crate::stale::page_locale(&f.body).unwrap_or(catalog.site.default_locale);
            rewrite(
                &html,
                uri,
                file,
                &files,
                live,
                &generated_notice(locale, generated, catalog.site.timezone, live),
            )?
            .into_bytes()
        } else {
            f.body.clone()
        };
        std::fs::write(&path, body).with_context(|| format!("cannot write {}", path.display()))?;
    }
    // The swap: the old copy steps aside, the new one takes its name, the old one goes.
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    let had_old = out.exists();
    if had_old {
        std::fs::rename(out, &old).with_context(|| format!("cannot move {}", out.display()))?;
    }
    std::fs::rename(&building, out).with_context(|| format!("cannot create {}", out.display()))?;
    if had_old {
        let _ = std::fs::remove_dir_all(&old);
    }
    Ok(fetched.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stamp_is_written_as_the_pages_write_times() {
        let at = DateTime::parse_from_rfc3339("2026-12-07T16:42:30Z")
            .expect("time")
            .with_timezone(&Utc);
        let paris = chrono_tz::Europe::Paris;
        let fr = generated_notice(Locale::Fr, at, paris, "https://status.example");
        assert!(
            fr.starts_with("Copie statique générée le 7 décembre 2026 à 17:42 (heure de Paris) — "),
            "{fr}"
        );
        let en = generated_notice(Locale::En, at, paris, "https://status.example");
        assert!(
            en.starts_with("Static copy generated on 7 December 2026, 17:42 (Paris time) — "),
            "{en}"
        );
        // Summer time, and a site on UTC.
        let july = at + chrono::TimeDelta::days(210);
        assert!(generated_notice(Locale::En, july, paris, "x")
            .starts_with("Static copy generated on 5 July 2027, 18:42 (Paris time) — "));
        assert!(generated_notice(Locale::En, at, chrono_tz::UTC, "x")
            .starts_with("Static copy generated on 7 December 2026, 16:42 (UTC) — "));
        // The address stays inside its attribute.
        let hostile = generated_notice(Locale::En, at, chrono_tz::UTC, "x\"><script>");
        assert!(
            hostile.ends_with("<a href=\"x&quot;&gt;&lt;script&gt;/\">the live status page</a>"),
            "{hostile}"
        );
    }

    #[test]
    fn addresses_become_files() {
        assert_eq!(file_for("/", true), "index.html");
        assert_eq!(file_for("/?lang=en", true), "en/index.html");
        assert_eq!(
            file_for("/services/web?lang=en", true),
            "en/services/web/index.html"
        );
        assert_eq!(
            file_for("/history?page=2&lang=fr", true),
            "fr/history/page-2/index.html"
        );
        assert_eq!(file_for("/feed.atom?lang=en", false), "en/feed.atom");
        assert_eq!(
            file_for("/api/v2/summary.json", false),
            "api/v2/summary.json"
        );
        assert_eq!(file_for("/pkg/vigie.css", false), "pkg/vigie.css");
        assert_eq!(
            file_for("/services/../../etc", true),
            "services/etc/index.html"
        );
    }

    #[test]
    fn links_are_relative_to_the_page() {
        assert_eq!(
            relative("index.html", "services/web/index.html"),
            "services/web/"
        );
        assert_eq!(
            relative("en/services/web/index.html", "en/index.html"),
            "../../"
        );
        assert_eq!(
            relative("en/services/web/index.html", "pkg/vigie.css"),
            "../../../pkg/vigie.css"
        );
        assert_eq!(relative("index.html", "index.html"), "./");
        assert_eq!(
            relative("history/index.html", "history/page-2/index.html"),
            "page-2/"
        );
    }

    #[test]
    fn pages_lose_scripts_and_point_into_the_copy() {
        let files: HashMap<String, String> = [
            ("/".to_owned(), "index.html".to_owned()),
            (
                "/services/web?lang=en".to_owned(),
                "en/services/web/index.html".to_owned(),
            ),
            ("/pkg/vigie.css".to_owned(), "pkg/vigie.css".to_owned()),
        ]
        .into();
        let page = "<html lang=\"en\"><head><link rel=\"stylesheet\" href=\"/pkg/vigie.css\"/>\
                    <link rel=\"modulepreload\" href=\"/pkg/vigie.js\"><script nonce=\"x\">a()</script>\
                    </head><body><a href=\"/services/web?lang=en#top\">w</a><a href=\"/admin\">s</a>\
                    <a href=\"https://example.org/\">e</a><a href=\"?lang=fr&amp;x=1\">q</a>\
                    <a href='/services/web?lang=en'>single quotes</a>\
                    <a href=\"/x?q=&quot;&gt;&lt;script&gt;\">hostile</a>\
                    <a href=\"/y?a=&amp;amp;\">reference as text</a></body></html>";
        let out = rewrite(
            page,
            "/?lang=en",
            "en/index.html",
            &files,
            "https://status.example",
            "N",
        )
        .expect("rewritten");
        assert!(!out.contains("<script"), "{out}");
        assert!(!out.contains("modulepreload"));
        assert!(out.contains("href=\"../pkg/vigie.css\""), "{out}");
        assert!(out.contains("href=\"services/web/#top\""), "{out}");
        assert!(out.contains("href=\"services/web/\""), "{out}");
        assert!(
            out.contains("href=\"https://status.example/admin\""),
            "{out}"
        );
        assert!(out.contains("href=\"https://example.org/\""));
        assert!(
            out.contains("href=\"https://status.example/?lang=fr&amp;x=1\""),
            "{out}"
        );
        // A hostile link stays inside its attribute, and text that reads like a reference
        // stays text.
        assert!(
            out.contains("href=\"https://status.example/x?q=&quot;&gt;&lt;script&gt;\">hostile"),
            "{out}"
        );
        assert!(
            out.contains("href=\"https://status.example/y?a=&amp;amp;\""),
            "{out}"
        );
        // The notice is the first thing in the body.
        let body = out.split_once("<body>").expect("body").1;
        let tag = &body[..body.find('>').expect("tag")];
        assert!(
            tag.starts_with("<div") && tag.contains("class=\"mirror-notice\""),
            "{out}"
        );
        assert!(body[tag.len()..].starts_with(">N</div><a "), "{out}");
        // What the rewriter does not touch is written back as it was.
        assert!(out.starts_with("<html lang=\"en\"><head><link rel=\"stylesheet\""));
        assert!(
            out.ends_with(">reference as text</a></body></html>"),
            "{out}"
        );
    }

    #[test]
    fn links_are_the_site_addresses_of_attributes() {
        let page = "<a href=\"/a?x=1&amp;y=2\">a</a><img src=\"/pkg/i.svg\" alt=\"\">\
                    <a href=\"?page=2\">b</a><a href='/single'>c</a><a href=\"//cdn.example/x\">d</a>\
                    <a href=\"https://example.org/\">e</a>\
                    <script>let s = 'href=\"/not-a-link\"';</script><!-- href=\"/nor-this\" -->";
        assert_eq!(
            links(page, "/history?lang=en").expect("links"),
            ["/a?x=1&y=2", "/pkg/i.svg", "/history?page=2", "/single"]
        );
    }
}
