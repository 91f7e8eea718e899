//! `/maintenance.ics`: the maintenance windows as an iCalendar feed (RFC 5545) that calendar
//! apps subscribe to. One VEVENT per window (upcoming, active, and those that ended in the
//! last 90 days), with a UID that never changes and a SEQUENCE that grows with staff changes.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use domain::incident::MaintenanceStatus;
use icalendar::{Calendar, Component, Event, EventLike, EventStatus};
use pulldown_cmark::{Event as Md, Parser, Tag, TagEnd};
use store::feeds::CalendarWindow;
use wording::{texts, Texts};

use crate::feeds::{conditional, FeedError};
use crate::state::AppState;

/// How far back ended windows stay in the calendar.
pub const PAST_DAYS: i64 = 90;

pub const CALENDAR_TYPE: &str = "text/calendar; charset=utf-8";

/// The calendar route.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/maintenance.ics", get(calendar))
        .layer(axum::middleware::from_fn(crate::vary::accept_language))
}

/// The plain text of a Markdown message for DESCRIPTION (calendar apps show it raw): text
/// and code kept, a line break after each block, link targets written after their text.
pub fn plain_text(markdown: &str) -> String {
    let mut out = String::new();
    let mut links: Vec<String> = Vec::new();
    for event in Parser::new(markdown) {
        match event {
            Md::Text(t) | Md::Code(t) => out.push_str(&t),
            Md::SoftBreak => out.push(' '),
            Md::HardBreak => out.push('\n'),
            Md::Start(Tag::Link { dest_url, .. }) => links.push(dest_url.to_string()),
            Md::End(TagEnd::Link) => {
                if let Some(url) = links.pop() {
                    out.push_str(&format!(" ({url})"));
                }
            }
            Md::Start(Tag::Item) => out.push_str("- "),
            Md::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item | TagEnd::CodeBlock) => {
                out.push('\n')
            }
            _ => {}
        }
    }
    out.trim().to_owned()
}

/// The UID of a window's event: stable for the life of the window.
pub fn uid(base: &str, id: i64) -> String {
    let host = base
        .split_once("://")
        .map_or(base, |(_, rest)| rest)
        .trim_end_matches('/');
    format!("maintenance-{id}@{host}")
}

/// One window's event. DTSTART and DTEND stay in UTC (machine fields); the DESCRIPTION a
/// person reads says the window in the site's timezone, labelled, in the calendar's language.
fn event(base: &str, w: &CalendarWindow, t: &Texts, tz: chrono_tz::Tz) -> Event {
    let local = |at| store::public_pages::site_time(at, tz);
    let (from, to, zone) = (local(w.starts_at), local(w.ends_at), tz.name());
    let mut description = t.maintenance_window(&from, &to, zone);
    // Where the window stands: begun (and until when), or over (and when).
    let stage = match w.status {
        MaintenanceStatus::InProgress => Some(t.maintenance_began(&from, &to, zone)),
        MaintenanceStatus::Completed if !w.cancelled => Some(t.maintenance_ended(&to, zone)),
        _ => None,
    };
    if let Some(stage) = stage {
        description.push('\n');
        description.push_str(&stage);
    }
    let message = plain_text(&w.message_md);
    if !message.is_empty() {
        description.push_str("\n\n");
        description.push_str(&message);
    }
    if !w.services.is_empty() {
        if !description.is_empty() {
            description.push_str("\n\n");
        }
        description.push_str(&t.services_concerned(&w.services.join(", ")));
    }
    let mut e = Event::new();
    e.uid(&uid(base, w.id))
        .timestamp(w.updated_at)
        .created(w.created_at)
        .last_modified(w.updated_at)
        .sequence(w.revision)
        .summary(&w.title)
        .description(&description)
        .url(&format!("{base}/maintenance#maintenance-{}", w.id))
        .starts(w.starts_at);
    // A window ended before it began was called off; it keeps its start and carries no end
    // (DTEND may not precede DTSTART).
    if w.cancelled {
        e.status(EventStatus::Cancelled);
    } else {
        // Every window staff schedule is a firm announcement; TENTATIVE never fits.
        e.status(EventStatus::Confirmed).ends(w.ends_at);
    }
    e.done()
}

async fn calendar(
    State(state): State<AppState>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Result<Response, FeedError> {
    let windows = store::feeds::calendar(&state.ctx.db, Utc::now(), PAST_DAYS).await?;
    let base = state.ctx.base_url.trim_end_matches('/');
    let t = texts(crate::feeds::feed_locale(&state, &uri, &headers));
    let mut cal = Calendar::new();
    cal.name(&t.calendar_name(&state.ctx.site_title));
    for w in &windows {
        cal.push(event(base, w, t, state.ctx.timezone));
    }
    let last_modified = windows.iter().map(|w| w.updated_at).max();
    let body = cal.done().to_string().into_bytes();
    Ok(conditional(
        &headers,
        CALENDAR_TYPE,
        "public, max-age=300",
        last_modified,
        body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_readable_plain_text() {
        let text = plain_text(
            "**Mise à jour** de la base.\n\n- arrêt\n- [détails](https://example.org/x)",
        );
        assert_eq!(
            text,
            "Mise à jour de la base.\n- arrêt\n- détails (https://example.org/x)"
        );
    }

    #[test]
    fn uid_names_the_window_and_the_site_host() {
        assert_eq!(
            uid("https://status.humanoid.fr/", 7),
            "maintenance-7@status.humanoid.fr"
        );
    }
}
