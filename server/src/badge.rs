//! Embeddable SVG badges in the shields.io "flat" style: `/badge/{slug}.svg` (the service's
//! status in the site's language) and `/badge/{slug}/uptime.svg?days=30` (uptime over the
//! last 1 to 90 days). Each carries a `<title>` and an `aria-label` for screen readers.
//!
//! Drawn by hand: the badge crates on crates.io either measure text by loading a font (which
//! pulls a font-parsing stack into the binary) or are unmaintained. A badge only needs the
//! advance widths of Verdana 11 px, which fit in a small table.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{Duration, Utc};
use domain::status::{ComponentStatus, ServiceState};
use wording::{texts, Texts};

use crate::feeds::FeedError;
use crate::state::AppState;

/// Uptime window bounds, in days.
pub const MAX_DAYS: u32 = 90;
pub const DEFAULT_DAYS: u32 = 30;

const CACHE: &str = "max-age=60";

/// The badge routes. The status badge's segment is `{slug}.svg` whole: axum's router matches
/// whole path segments only.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/badge/{slug}", get(status_badge))
        .route("/badge/{slug}/uptime.svg", get(uptime_badge))
}

/// Advance widths of Verdana at 11 px for printable ASCII (U+0020 to U+007E), in pixels.
const VERDANA_11: [f32; 95] = [
    3.87, 4.33, 5.05, 9.0, 6.99, 11.84, 7.99, 2.95, 4.99, 4.99, 6.99, 9.0, 4.0, 4.99, 4.0, 4.99,
    6.99, 6.99, 6.99, 6.99, 6.99, 6.99, 6.99, 6.99, 6.99, 6.99, 4.99, 4.99, 9.0, 9.0, 9.0, 5.99,
    11.0, 7.52, 7.54, 7.68, 8.48, 6.96, 6.32, 8.53, 8.27, 4.63, 5.0, 7.62, 6.12, 9.27, 8.23, 8.66,
    6.63, 8.66, 7.65, 7.52, 6.78, 8.05, 7.52, 10.88, 7.54, 6.77, 7.54, 4.99, 4.99, 4.99, 9.0, 6.99,
    6.99, 6.61, 6.85, 5.73, 6.85, 6.55, 3.87, 6.85, 6.96, 3.02, 3.79, 6.51, 3.02, 10.7, 6.96, 6.68,
    6.85, 6.85, 4.69, 5.73, 4.33, 6.96, 6.51, 8.98, 6.51, 6.51, 5.78, 6.98, 4.99, 6.98, 9.0,
];

/// The ASCII letter an accented Latin letter is drawn like (same advance in Verdana).
fn base_letter(c: char) -> Option<char> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'A',
        'ç' => 'c',
        'Ç' => 'C',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'È' | 'É' | 'Ê' | 'Ë' => 'E',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'Ì' | 'Í' | 'Î' | 'Ï' => 'I',
        'ñ' => 'n',
        'Ñ' => 'N',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' => 'O',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'Ù' | 'Ú' | 'Û' | 'Ü' => 'U',
        'ý' | 'ÿ' => 'y',
        'Ý' | 'Ÿ' => 'Y',
        '\u{a0}' | '\u{202f}' => ' ',
        '’' | '‘' => '\'',
        '–' => '-',
        _ => return None,
    })
}

/// The width `text` takes in Verdana 11 px. Characters outside the table count as a wide
/// letter (an em dash, CJK), so the text never overflows its box.
pub fn text_width(text: &str) -> f32 {
    text.chars()
        .map(|c| {
            let c = base_letter(c).unwrap_or(c);
            match c {
                ' '..='~' => VERDANA_11[c as usize - 0x20],
                '—' | 'œ' | 'Œ' | 'æ' | 'Æ' => 11.0,
                c if (c as u32) < 0x2E80 => 7.0,
                _ => 11.0,
            }
        })
        .sum()
}

/// Colours with at least 4.5:1 contrast against the white text (WCAG AA).
pub mod colour {
    pub const LABEL: &str = "#555";
    pub const GREEN: &str = "#1a7f37";
    pub const YELLOW: &str = "#9a6700";
    pub const ORANGE: &str = "#bc4c00";
    pub const RED: &str = "#cf222e";
    pub const BLUE: &str = "#0969da";
    pub const GREY: &str = "#6e7781";
}

/// A flat badge: `label` on grey, `message` on `colour`.
///
/// Written with quick-xml's writer, which escapes every attribute value and text node it is
/// given: a service name is always text, whatever it holds.
pub fn render(label: &str, message: &str, colour: &str) -> String {
    let mut out = Vec::with_capacity(1536);
    // Writing into memory cannot fail; should it ever, the badge is empty rather than broken.
    match write_badge(
        &mut quick_xml::Writer::new(&mut out),
        label,
        message,
        colour,
    ) {
        Ok(()) => String::from_utf8(out).unwrap_or_default(),
        Err(_) => String::new(),
    }
}

fn write_badge<W: std::io::Write>(
    xml: &mut quick_xml::Writer<W>,
    label: &str,
    message: &str,
    colour: &str,
) -> std::io::Result<()> {
    use quick_xml::events::BytesText;
    const PAD: f32 = 10.0;
    let lw_text = text_width(label).ceil();
    let mw_text = text_width(message).ceil();
    let lw = lw_text + PAD;
    let mw = mw_text + PAD;
    let [w, lx, mx] = [lw + mw, lw / 2.0, lw + mw / 2.0].map(|n| n.to_string());
    let [lw, mw, lw_text, mw_text] = [lw, mw, lw_text, mw_text].map(|n| n.to_string());
    let both = format!("{label}: {message}");
    xml.create_element("svg")
        .with_attributes([
            ("xmlns", "http://www.w3.org/2000/svg"),
            ("width", w.as_str()),
            ("height", "20"),
            ("role", "img"),
            ("aria-label", both.as_str()),
        ])
        .write_inner_content(|xml| {
            xml.create_element("title")
                .write_text_content(BytesText::new(&both))?;
            xml.create_element("linearGradient")
                .with_attributes([("id", "s"), ("x2", "0"), ("y2", "100%")])
                .write_inner_content(|xml| {
                    xml.create_element("stop")
                        .with_attributes([
                            ("offset", "0"),
                            ("stop-color", "#bbb"),
                            ("stop-opacity", ".1"),
                        ])
                        .write_empty()?;
                    xml.create_element("stop")
                        .with_attributes([("offset", "1"), ("stop-opacity", ".1")])
                        .write_empty()?;
                    Ok(())
                })?;
            xml.create_element("clipPath")
                .with_attribute(("id", "r"))
                .write_inner_content(|xml| {
                    xml.create_element("rect")
                        .with_attributes([
                            ("width", w.as_str()),
                            ("height", "20"),
                            ("rx", "3"),
                            ("fill", "#fff"),
                        ])
                        .write_empty()?;
                    Ok(())
                })?;
            xml.create_element("g")
                .with_attribute(("clip-path", "url(#r)"))
                .write_inner_content(|xml| {
                    xml.create_element("rect")
                        .with_attributes([
                            ("width", lw.as_str()),
                            ("height", "20"),
                            ("fill", colour::LABEL),
                        ])
                        .write_empty()?;
                    xml.create_element("rect")
                        .with_attributes([
                            ("x", lw.as_str()),
                            ("width", mw.as_str()),
                            ("height", "20"),
                            ("fill", colour),
                        ])
                        .write_empty()?;
                    xml.create_element("rect")
                        .with_attributes([
                            ("width", w.as_str()),
                            ("height", "20"),
                            ("fill", "url(#s)"),
                        ])
                        .write_empty()?;
                    Ok(())
                })?;
            xml.create_element("g")
                .with_attributes([
                    ("fill", "#fff"),
                    ("text-anchor", "middle"),
                    ("font-family", "Verdana,Geneva,DejaVu Sans,sans-serif"),
                    ("text-rendering", "geometricPrecision"),
                    ("font-size", "11"),
                    ("aria-hidden", "true"),
                ])
                .write_inner_content(|xml| {
                    // Each text twice: a shadow one pixel lower, then the text itself.
                    for (x, length, text) in [(&lx, &lw_text, label), (&mx, &mw_text, message)] {
                        xml.create_element("text")
                            .with_attributes([
                                ("x", x.as_str()),
                                ("y", "15"),
                                ("fill", "#010101"),
                                ("fill-opacity", ".3"),
                                ("textLength", length.as_str()),
                            ])
                            .write_text_content(BytesText::new(text))?;
                        xml.create_element("text")
                            .with_attributes([
                                ("x", x.as_str()),
                                ("y", "14"),
                                ("textLength", length.as_str()),
                            ])
                            .write_text_content(BytesText::new(text))?;
                    }
                    Ok(())
                })?;
            Ok(())
        })?;
    Ok(())
}

fn svg(body: String) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("image/svg+xml; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(CACHE)),
        ],
        body,
    )
        .into_response()
}

/// The colour of a service state.
pub fn state_colour(state: ServiceState) -> &'static str {
    match state {
        ServiceState::NoData => colour::GREY,
        ServiceState::Known(ComponentStatus::Operational) => colour::GREEN,
        ServiceState::Known(ComponentStatus::UnderMaintenance) => colour::BLUE,
        ServiceState::Known(ComponentStatus::DegradedPerformance) => colour::YELLOW,
        ServiceState::Known(ComponentStatus::PartialOutage) => colour::ORANGE,
        ServiceState::Known(ComponentStatus::MajorOutage) => colour::RED,
    }
}

/// The colour of an uptime percentage.
pub fn uptime_colour(pct: Option<f64>) -> &'static str {
    match pct {
        None => colour::GREY,
        Some(p) if p >= 99.9 => colour::GREEN,
        Some(p) if p >= 99.0 => colour::YELLOW,
        Some(p) if p >= 95.0 => colour::ORANGE,
        Some(_) => colour::RED,
    }
}

/// `(name, state)` of a live service, as the public page shows it (stale data is no data).
async fn service_state(state: &AppState, slug: &str) -> Result<(String, ServiceState), FeedError> {
    let groups = store::overview::groups(&state.ctx.db, Utc::now()).await?;
    groups
        .into_iter()
        .flat_map(|g| g.services)
        .find(|s| s.slug == slug)
        .map(|s| (s.name, s.state))
        .ok_or_else(|| FeedError::NotFound(format!("unknown service `{slug}`")))
}

async fn status_badge(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, FeedError> {
    let Some(slug) = file.strip_suffix(".svg") else {
        return Err(FeedError::NotFound(format!("no badge `{file}`")));
    };
    let (name, current) = service_state(&state, slug).await?;
    let t: &Texts = texts(state.ctx.default_locale);
    Ok(svg(render(&name, t.state(current), state_colour(current))))
}

/// Reads `days` (1 to 90, default 30) from the query.
pub fn parse_days(query: &HashMap<String, String>) -> Result<u32, String> {
    let Some(raw) = query.get("days") else {
        return Ok(DEFAULT_DAYS);
    };
    match raw.trim().parse::<u32>() {
        Ok(d) if (1..=MAX_DAYS).contains(&d) => Ok(d),
        _ => Err(format!(
            "`days` must be a whole number of days from 1 to {MAX_DAYS}, not `{raw}`"
        )),
    }
}

async fn uptime_badge(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, FeedError> {
    let days = parse_days(&query).map_err(FeedError::BadRequest)?;
    let (name, _) = service_state(&state, &slug).await?;
    let now = Utc::now();
    let pct = store::availability::uptime(
        &state.ctx.db,
        &slug,
        now - Duration::days(i64::from(days)),
        now,
    )
    .await?;
    let t = texts(state.ctx.default_locale);
    let message = match pct {
        Some(p) => t.percent(p),
        None => t.state(ServiceState::NoData).to_owned(),
    };
    let label = format!("{name} · {}", t.uptime_over(days));
    Ok(svg(render(&label, &message, uptime_colour(pct))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wider_text_makes_a_wider_badge() {
        assert!(text_width("Panne majeure") > text_width("Opérationnel") - 20.0);
        assert!(text_width("WWW") > text_width("iii"));
        assert_eq!(text_width("é"), text_width("e"));
    }

    #[test]
    fn days_outside_one_to_ninety_are_refused() {
        let q = |v: &str| HashMap::from([("days".to_owned(), v.to_owned())]);
        assert_eq!(parse_days(&HashMap::new()), Ok(30));
        assert_eq!(parse_days(&q("7")), Ok(7));
        assert!(parse_days(&q("0")).is_err());
        assert!(parse_days(&q("91")).is_err());
        assert!(parse_days(&q("abc")).is_err());
        assert!(parse_days(&q("-3")).is_err());
    }

    #[test]
    fn badge_text_is_escaped() {
        let svg = render("A&B <x>", "ok", colour::GREEN);
        assert!(svg.contains("A&amp;B &lt;x&gt;"), "{svg}");
        assert!(!svg.contains("<x>"), "{svg}");
        let svg = render("\"><script>alert(1)</script>", "ok", colour::GREEN);
        assert!(!svg.contains("<script"), "{svg}");
        assert!(
            svg.contains("aria-label=\"&quot;&gt;&lt;script&gt;"),
            "{svg}"
        );
    }

    #[test]
    fn badge_keeps_its_shape() {
        let svg = render("FrAndroid", "Opérationnel", colour::GREEN);
        assert!(
            svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\""),
            "{svg}"
        );
        assert!(
            svg.contains("<title>FrAndroid: Opérationnel</title>"),
            "{svg}"
        );
        assert_eq!(svg.matches("<text ").count(), 4, "{svg}");
        assert!(svg.ends_with("</text></g></svg>"), "{svg}");
    }
}
