//! The mails readers receive: the confirmation of a subscription and the announcement of an
//! incident update or a maintenance move, each as plain text and HTML in the subscriber's
//! language, with a link to the page, a preferences link and a one-click unsubscribe link
//! (`List-Unsubscribe` + `List-Unsubscribe-Post`, RFC 8058). Also the SMTP transport.

use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::config::notify::Smtp;
use domain::dates;
use domain::locale::Locale;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use store::outbox::{Event, IncidentEvent, MaintenanceEvent, ServiceRef};

use crate::html::{self, Footer};

/// Longest e-mail address accepted (RFC 5321's path limit).
pub const MAX_ADDRESS: usize = 254;

/// A normalised e-mail address, or why not.
pub fn normalise_address(raw: &str) -> Result<String, &'static str> {
    let a = raw.trim().to_lowercase();
    if a.is_empty() || a.len() > MAX_ADDRESS {
        return Err("must be an e-mail address of at most 254 characters");
    }
    a.parse::<lettre::Address>()
        .map(|_| a.clone())
        .map_err(|_| "is not a valid e-mail address")
}

/// A mail ready to be wrapped: subject, both bodies, and the one-click unsubscribe address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub unsubscribe: Option<String>,
}

/// What every mail of one site needs.
#[derive(Clone, Debug)]
pub struct Site {
    pub title: String,
    /// Without a trailing slash.
    pub base_url: String,
    pub timezone: chrono_tz::Tz,
}

fn fr(l: Locale) -> bool {
    l == Locale::Fr
}

/// An incident status in words.
pub fn incident_status(l: Locale, s: &str) -> &'static str {
    match (fr(l), s) {
        (true, "investigating") => "Enquête en cours",
        (true, "identified") => "Cause identifiée",
        (true, "monitoring") => "Sous surveillance",
        (true, "resolved") => "Résolu",
        (true, "postmortem") => "Analyse publiée",
        (false, "investigating") => "Investigating",
        (false, "identified") => "Identified",
        (false, "monitoring") => "Monitoring",
        (false, "resolved") => "Resolved",
        (false, "postmortem") => "Postmortem",
        (true, _) => "Mise à jour",
        (false, _) => "Update",
    }
}

/// A service status in words.
pub fn service_status(l: Locale, s: &str) -> &'static str {
    match (fr(l), s) {
        (true, "operational") => "opérationnel",
        (true, "degraded_performance") => "performances dégradées",
        (true, "partial_outage") => "panne partielle",
        (true, "major_outage") => "panne majeure",
        (true, "under_maintenance") => "en maintenance",
        (false, "operational") => "operational",
        (false, "degraded_performance") => "degraded performance",
        (false, "partial_outage") => "partial outage",
        (false, "major_outage") => "major outage",
        (false, "under_maintenance") => "under maintenance",
        (true, _) => "état inconnu",
        (false, _) => "unknown",
    }
}

/// `at` as the pages write it, on the site's clock and labelled: "7 décembre 2026 à 17:42
/// (heure de Paris)" / "7 December 2026, 17:42 (Paris time)".
fn when(site: &Site, l: Locale, at: DateTime<Utc>) -> String {
    dates::date_time_in(l, at, site.timezone)
}

fn footer_text(l: Locale, f: &Footer) -> String {
    if fr(l) {
        format!(
            "\n--\nGérer mon abonnement : {}\nSe désabonner : {}\n",
            f.manage, f.unsubscribe
        )
    } else {
        format!(
            "\n--\nManage my subscription: {}\nUnsubscribe: {}\n",
            f.manage, f.unsubscribe
        )
    }
}

fn footer_html(l: Locale, f: &Footer) -> impl leptos::prelude::IntoView {
    let (manage, unsub) = if fr(l) {
        ("Gérer mon abonnement", "Se désabonner")
    } else {
        ("Manage my subscription", "Unsubscribe")
    };
    html::footer(f, manage, unsub)
}

/// The services of an announcement: as text lines, and as the items of the HTML list (with
/// its heading), or nothing when there are none.
fn services_lines(
    l: Locale,
    services: &[ServiceRef],
    with_status: bool,
) -> (String, Option<(&'static str, Vec<String>)>) {
    if services.is_empty() {
        return (String::new(), None);
    }
    let head = if fr(l) {
        "Services concernés"
    } else {
        "Affected services"
    };
    // French sets a space before a colon; English does not.
    let colon = if fr(l) { " : " } else { ": " };
    let mut text = format!("{head}{}\n", colon.trim_end());
    let mut items = Vec::with_capacity(services.len());
    for s in services {
        let item = if with_status {
            format!("{}{colon}{}", s.name, service_status(l, &s.status))
        } else {
            s.name.clone()
        };
        text.push_str(&format!("- {item}\n"));
        items.push(item);
    }
    (text, Some((head, items)))
}

/// The mail asking to confirm a subscription. `webhook` names the URL when it is a webhook's.
pub fn confirmation(site: &Site, l: Locale, link: &str, webhook: Option<&str>) -> Rendered {
    let (subject, intro, action, ignore) = if fr(l) {
        (
            format!("Confirmez votre abonnement à {}", site.title),
            match webhook {
                Some(url) => format!(
                    "Quelqu'un (vous, sans doute) a demandé que {url} reçoive les notifications de {}.",
                    site.title
                ),
                None => format!(
                    "Quelqu'un (vous, sans doute) a demandé à recevoir par courriel les notifications de {}.",
                    site.title
                ),
            },
            "Pour confirmer, ouvrez ce lien (valable 48 heures) :",
            "Si vous n'avez rien demandé, ignorez ce message : rien ne vous sera envoyé.",
        )
    } else {
        (
            format!("Confirm your subscription to {}", site.title),
            match webhook {
                Some(url) => format!(
                    "Someone (probably you) asked for {url} to receive the notifications of {}.",
                    site.title
                ),
                None => format!(
                    "Someone (probably you) asked to receive the notifications of {} by e-mail.",
                    site.title
                ),
            },
            "To confirm, open this link (valid for 48 hours):",
            "If you did not ask for anything, ignore this message: nothing will be sent to you.",
        )
    };
    let text = format!("{intro}\n\n{action}\n{link}\n\n{ignore}\n");
    let html = html::document(
        l,
        &subject,
        html::confirmation(intro, action, link.to_owned(), ignore),
    );
    Rendered {
        subject,
        text,
        html,
        unsubscribe: None,
    }
}

fn incident_mail(site: &Site, l: Locale, i: &IncidentEvent, footer: &Footer) -> Rendered {
    let status = incident_status(l, i.update().map_or(&i.status, |u| &u.status));
    let subject = format!("[{}] {} — {}", site.title, i.title, status);
    let link = format!("{}/incidents/{}", site.base_url, i.id);
    let (svc_text, svc_html) = services_lines(l, &i.services, true);
    let (md, html_msg, at) = match i.update() {
        Some(u) => (u.markdown.as_str(), u.html.as_str(), u.created_at),
        None => ("", "", i.updated_at),
    };
    let (posted, read_more) = if fr(l) {
        ("Publié le", "Suivre l'incident")
    } else {
        ("Posted on", "Follow the incident")
    };
    let at = when(site, l, at);
    let text = format!(
        "{title}\n{status} — {posted} {at}\n\n{md}\n\n{svc_text}\n{read_more}{colon}{link}\n{footer}",
        title = i.title,
        colon = if fr(l) { " : " } else { ": " },
        footer = footer_text(l, footer),
    );
    let html = html::document(
        l,
        &subject,
        html::announcement(html::Announcement {
            title: i.title.clone(),
            strong: status,
            after_strong: Some(format!(" — {posted} {at}")),
            news: None,
            // Sanitised when it was written (pulldown-cmark + ammonia).
            message_html: html_msg.to_owned(),
            services: svc_html.map(|(head, items)| html::list(head, items)),
            link_words: read_more.to_owned(),
            link,
            footer: footer_html(l, footer),
        }),
    );
    Rendered {
        subject,
        text,
        html,
        unsubscribe: Some(footer.unsubscribe.clone()),
    }
}

fn maintenance_mail(
    site: &Site,
    l: Locale,
    what: &str,
    m: &MaintenanceEvent,
    footer: &Footer,
) -> Rendered {
    let head = match (fr(l), what) {
        (true, "scheduled") => "Maintenance programmée",
        (true, "started") => "Maintenance commencée",
        (true, _) => "Maintenance terminée",
        (false, "scheduled") => "Maintenance scheduled",
        (false, "started") => "Maintenance started",
        (false, _) => "Maintenance completed",
    };
    let subject = format!("[{}] {head} : {}", site.title, m.title);
    let subject = if fr(l) {
        subject
    } else {
        subject.replace(" : ", ": ")
    };
    let link = format!("{}/maintenance", site.base_url);
    // Each stage says what is new, in the words of the feeds and the calendar: the
    // announcement gives the window and the message; then that it began and until when; then
    // that it ended and when.
    let (from, to) = (
        dates::site_time(m.starts_at, site.timezone),
        dates::site_time(m.ends_at, site.timezone),
    );
    let zone = site.timezone.name();
    let (news, md, html_msg) = match what {
        "scheduled" => (
            dates::maintenance_window(l, &from, &to, zone),
            m.markdown.as_str(),
            m.html.as_str(),
        ),
        "started" => (dates::maintenance_began(l, &from, &to, zone), "", ""),
        _ => (dates::maintenance_ended(l, &to, zone), "", ""),
    };
    let (svc_text, svc_html) = services_lines(l, &m.services, false);
    let md = if md.is_empty() {
        String::new()
    } else {
        format!("{md}\n\n")
    };
    let text = format!(
        "{head}{colon}{title}\n{news}\n\n{md}{svc_text}\n{link}\n{footer}",
        title = m.title,
        colon = if fr(l) { " : " } else { ": " },
        footer = footer_text(l, footer),
    );
    let html = html::document(
        l,
        &subject,
        html::announcement(html::Announcement {
            title: m.title.clone(),
            strong: head,
            after_strong: None,
            news: Some(news),
            message_html: html_msg.to_owned(),
            services: svc_html.map(|(head, items)| html::list(head, items)),
            link_words: link.clone(),
            link,
            footer: footer_html(l, footer),
        }),
    );
    Rendered {
        subject,
        text,
        html,
        unsubscribe: Some(footer.unsubscribe.clone()),
    }
}

/// The mail announcing `event` to a subscriber. None for events readers do not receive.
pub fn event(site: &Site, l: Locale, event: &Event, footer: &Footer) -> Option<Rendered> {
    Some(match event {
        Event::IncidentUpdate(i) => incident_mail(site, l, i, footer),
        Event::MaintenanceScheduled(m) => maintenance_mail(site, l, "scheduled", m, footer),
        Event::MaintenanceStarted(m) => maintenance_mail(site, l, "started", m, footer),
        Event::MaintenanceCompleted(m) => maintenance_mail(site, l, "completed", m, footer),
        Event::Alert(_) | Event::ComponentUpdate(_) => return None,
    })
}

/// Wraps a rendered mail into a message from `from` to `to`, multipart/alternative, with the
/// RFC 8058 one-click headers when it has an unsubscribe address.
pub fn message(from: &Mailbox, to: &str, r: &Rendered) -> Result<Message, String> {
    let to: Mailbox = to.parse().map_err(|e| format!("bad recipient: {e}"))?;
    let mut b = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(r.subject.clone())
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".to_owned(),
        ));
    if let Some(u) = &r.unsubscribe {
        b = b
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{u}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_owned(),
            ));
    }
    b.multipart(MultiPart::alternative_plain_html(
        r.text.clone(),
        r.html.clone(),
    ))
    .map_err(|e| format!("mail could not be built: {e}"))
}

/// The SMTP side: a pooled transport and the sender's address.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    pub from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mailer(from {})", self.from)
    }
}

/// How handing a mail over went.
#[derive(Debug)]
pub enum SendError {
    /// 4xx, or the server could not be reached: try again later.
    Temporary(String, Option<i32>),
    /// 5xx or a malformed message: give up.
    Permanent(String, Option<i32>),
}

impl Mailer {
    /// A mailer for `[notifications.smtp]`, with credentials from its file or the environment.
    pub fn new(smtp: &Smtp) -> anyhow::Result<Mailer> {
        let url = url::Url::parse(&smtp.url)
            .map_err(|e| anyhow::anyhow!("notifications.smtp.url: {e}"))?;
        let host = url
            .host_str()
            .ok_or_else(|| anyhow::anyhow!("notifications.smtp.url has no host"))?
            .to_owned();
        let tls_params = || {
            TlsParameters::new(host.clone())
                .map_err(|e| anyhow::anyhow!("notifications.smtp.url: TLS: {e}"))
        };
        let (tls, default_port) = match url.scheme() {
            "smtps" => (Tls::Wrapper(tls_params()?), 465),
            "smtp" => (Tls::Opportunistic(tls_params()?), 25),
            other => anyhow::bail!("notifications.smtp.url: unknown scheme {other}"),
        };
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(url.port().unwrap_or(default_port))
            .tls(tls)
            .timeout(Some(Duration::from_secs(30)));
        if let Some((user, pass)) = credentials(smtp)? {
            b = b.credentials(Credentials::new(user, pass));
        }
        let from: Mailbox = smtp
            .from
            .parse()
            .map_err(|e| anyhow::anyhow!("notifications.smtp.from: {e}"))?;
        Ok(Mailer {
            transport: b.build(),
            from,
        })
    }

    /// Hands `msg` to the SMTP server.
    pub async fn send(&self, msg: Message) -> Result<(), SendError> {
        match self.transport.send(msg).await {
            Ok(_) => Ok(()),
            Err(e) => {
                let code = e.status().map(|c| i32::from(u16::from(c)));
                if e.is_permanent() {
                    Err(SendError::Permanent(e.to_string(), code))
                } else {
                    Err(SendError::Temporary(e.to_string(), code))
                }
            }
        }
    }
}

/// `username:password` from `credentials_file`, else from `VIGIE_SMTP_USERNAME` and
/// `VIGIE_SMTP_PASSWORD`, else none.
fn credentials(smtp: &Smtp) -> anyhow::Result<Option<(String, String)>> {
    if let Some(path) = &smtp.credentials_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("notifications.smtp.credentials_file {path}: {e}"))?;
        let line = text.lines().next().unwrap_or("").trim_end();
        let (u, p) = line.split_once(':').ok_or_else(|| {
            anyhow::anyhow!(
                "notifications.smtp.credentials_file {path}: expected username:password"
            )
        })?;
        return Ok(Some((u.to_owned(), p.to_owned())));
    }
    match (
        std::env::var("VIGIE_SMTP_USERNAME"),
        std::env::var("VIGIE_SMTP_PASSWORD"),
    ) {
        (Ok(u), Ok(p)) => Ok(Some((u, p))),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_and_lowercased() {
        assert_eq!(
            normalise_address("  Alice@Example.ORG ").unwrap(),
            "alice@example.org"
        );
        assert!(normalise_address("not an address").is_err());
        assert!(normalise_address("").is_err());
        assert!(normalise_address(&format!("{}@x.org", "a".repeat(300))).is_err());
    }

    fn site() -> Site {
        Site {
            title: "Humanoid".into(),
            base_url: "https://status.example.org".into(),
            timezone: chrono_tz::Europe::Paris,
        }
    }

    #[test]
    fn confirmation_mail_carries_the_link_in_both_bodies_and_escapes_it() {
        let r = confirmation(&site(), Locale::En, "https://s/x?t=a&b", None);
        assert!(r.text.contains("https://s/x?t=a&b"));
        assert!(r.html.contains("https://s/x?t=a&amp;b"));
        assert!(r.subject.contains("Confirm"));
        let fr = confirmation(&site(), Locale::Fr, "https://s/x", None);
        assert!(fr.subject.starts_with("Confirmez"));
    }

    #[test]
    fn one_click_headers_are_set() {
        let from: Mailbox = "Status <status@example.org>".parse().unwrap();
        let r = Rendered {
            subject: "s".into(),
            text: "t".into(),
            html: "<p>h</p>".into(),
            unsubscribe: Some("https://s/unsubscribe?t=x".into()),
        };
        let m =
            String::from_utf8(message(&from, "a@example.org", &r).unwrap().formatted()).unwrap();
        assert!(
            m.contains("List-Unsubscribe: <https://s/unsubscribe?t=x>"),
            "{m}"
        );
        assert!(m.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(m.contains("multipart/alternative"));
    }
}
