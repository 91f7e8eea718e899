//! Staff alerts: the `[[alerts]]` channels, what each service expects to receive, and the
//! secrets they need.
//!
//! The store decides alerts (one per cause, see `store::alerts`) and queues them in the
//! transaction of the status change or draft; the outbox fans each out to every channel here
//! (one delivery per channel, recipient = the channel's name) and [`super::Notifier`] sends it
//! with the same lease, backoff and at-most-once states as readers' messages.
//!
//! Secrets (webhook URLs that carry a key, bot and access tokens) come from `${env:NAME}` or
//! `${file:PATH}` settings (or the older `url_env` / `token_env`), are read when a message
//! leaves (a rotated file is picked up), and never appear in logs, errors or the delivery
//! log: errors from a call are reported without its URL.

use chrono::{DateTime, Utc};
use domain::config::notify::{AlertChannel, AlertKind, SecretRef};
use domain::locale::Locale;
use serde_json::{json, Value};
use store::outbox::AlertEvent;

use super::webhook::{CallError, Caller};

/// Longest text sent to a chat service (Discord refuses more than 2,000 characters).
const MAX_TEXT: usize = 1_900;

/// Reads a secret reference. The error names the reference, never the value.
fn read_secret(r: &SecretRef) -> Result<String, String> {
    match r {
        SecretRef::Env(name) => std::env::var(name)
            .map(|v| v.trim().to_owned())
            .map_err(|_| format!("environment variable {name} is not set")),
        SecretRef::File(path) => std::fs::read_to_string(path)
            .map(|v| v.trim().to_owned())
            .map_err(|e| format!("cannot read {path}: {}", e.kind())),
    }
}

/// A setting that is either a literal or a `${…}` reference, or an environment variable's name.
fn setting(value: Option<&str>, env: Option<&str>) -> Result<Option<String>, String> {
    if let Some(v) = value {
        return match SecretRef::parse(v) {
            Some(r) => read_secret(&r).map(Some),
            None => Ok(Some(v.to_owned())),
        };
    }
    match env {
        Some(name) => read_secret(&SecretRef::Env(name.to_owned())).map(Some),
        None => Ok(None),
    }
}

/// A channel's URL and token, read now.
struct Resolved {
    url: Option<String>,
    token: Option<String>,
}

fn resolve(c: &AlertChannel) -> Result<Resolved, String> {
    let url = setting(c.url.as_deref(), c.url_env.as_deref())?;
    let token = setting(c.token.as_deref(), c.token_env.as_deref())?;
    Ok(Resolved { url, token })
}

/// Channels whose secrets cannot be read right now, with why (logged at start, without values).
pub fn unreadable(channels: &[AlertChannel]) -> Vec<(String, String)> {
    channels
        .iter()
        .filter_map(|c| resolve(c).err().map(|e| (c.name.to_string(), e)))
        .collect()
}

/// An alert in words, in one language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Words {
    /// One line, with an emoji saying how bad.
    pub title: String,
    /// The lines after it: services, detail.
    pub lines: Vec<String>,
    /// An absolute address to look at.
    pub link: Option<String>,
    /// 1 (lowest) to 5 (urgent), as ntfy counts.
    pub priority: u8,
}

impl Words {
    /// Title, lines and link as plain text.
    pub fn text(&self) -> String {
        let mut t = self.title.clone();
        for l in &self.lines {
            t.push('\n');
            t.push_str(l);
        }
        if let Some(link) = &self.link {
            t.push('\n');
            t.push_str(link);
        }
        truncate(&t, MAX_TEXT)
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// Puts an alert into words for staff reading `l`.
pub fn words(a: &AlertEvent, l: Locale, base_url: &str) -> Words {
    let fr = l == Locale::Fr;
    let subject = a
        .subject
        .clone()
        .or_else(|| a.host.as_ref().map(|h| format!("host {h}")))
        .unwrap_or_else(|| a.title.clone());
    let subject = match (fr, subject.strip_prefix("host ")) {
        (true, Some(h)) => format!("hôte {h}"),
        _ => match (fr, subject.strip_prefix("location ")) {
            (true, Some(l)) => format!("lieu {l}"),
            _ => subject,
        },
    };
    let names = a
        .services
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let (title, priority) = match (a.kind.as_str(), fr) {
        ("down", true) => (format!("🔴 Panne : {subject}"), 5),
        ("down", false) => (format!("🔴 Down: {subject}"), 5),
        ("degraded", true) => (format!("🟠 Dégradé : {subject}"), 4),
        ("degraded", false) => (format!("🟠 Degraded: {subject}"), 4),
        ("recovered", true) => (format!("✅ Rétabli : {subject}"), 3),
        ("recovered", false) => (format!("✅ Recovered: {subject}"), 3),
        ("flapping", true) => (format!("🔁 Instable : {subject}"), 4),
        ("flapping", false) => (format!("🔁 Flapping: {subject}"), 4),
        ("location", true) => (format!("📍 Souci d’un lieu de sonde : {subject}"), 2),
        ("location", false) => (format!("📍 Probe location trouble: {subject}"), 2),
        ("location_over", true) => (format!("📍 Fin du souci du lieu de sonde : {subject}"), 1),
        ("location_over", false) => (format!("📍 Probe location trouble over: {subject}"), 1),
        ("draft", true) => (format!("📝 Brouillon d’incident proposé : {names}"), 4),
        ("draft", false) => (format!("📝 Incident draft proposed: {names}"), 4),
        (_, _) => (a.title.clone(), 3),
    };
    let mut lines = Vec::new();
    if !a.services.is_empty() && a.kind != "draft" {
        lines.push(match (a.kind.as_str(), fr) {
            ("recovered", true) => format!("Services rétablis : {names}"),
            ("recovered", false) => format!("Services back: {names}"),
            (_, true) => format!("Services touchés : {names}"),
            (_, false) => format!("Services affected: {names}"),
        });
    }
    if !a.monitors.is_empty() {
        let list = a.monitors.join(", ");
        lines.push(if fr {
            format!("Sondes : {list}")
        } else {
            format!("Monitors: {list}")
        });
    }
    match (a.kind.as_str(), fr) {
        ("flapping", true) => lines.push(format!(
            "{} changements d’état en {} minutes : plus d’alerte pour lui tant qu’il oscille.",
            store::alerts::FLAP_CHANGES,
            store::alerts::flap_window().num_minutes()
        )),
        ("draft", true) => lines
            .push("Toujours en panne sans incident ouvert : publiez-le ou écartez-le.".to_owned()),
        ("location", true) => lines.push(
            "Ce lieu seul voit ces sondes en échec, les autres les voient en service : les \
             services ne sont pas en panne, le réseau ou la sonde de ce lieu l’est."
                .to_owned(),
        ),
        ("location_over", true) => {
            lines.push("Ce lieu s’accorde de nouveau avec les autres.".to_owned())
        }
        (_, _)
            if !a.detail.is_empty()
                && matches!(
                    a.kind.as_str(),
                    "flapping" | "draft" | "location" | "location_over"
                ) =>
        {
            lines.push(a.detail.clone())
        }
        _ => {}
    }
    Words {
        title,
        lines,
        link: a.link.as_ref().map(|l| {
            if l.starts_with('/') {
                format!("{base_url}{l}")
            } else {
                l.clone()
            }
        }),
        priority,
    }
}

/// Escapes text for Slack's mrkdwn, where only `&`, `<` and `>` are special: exactly what
/// the `html-escape` crate's text encoding replaces.
fn slack_escape(s: &str) -> String {
    html_escape::encode_text(s).into_owned()
}

/// Slack incoming webhook: `text` (notifications, fallback) and Block Kit `blocks`.
pub fn slack(w: &Words) -> Value {
    let mut body = w.lines.iter().map(|l| slack_escape(l)).collect::<Vec<_>>();
    if let Some(link) = &w.link {
        body.push(format!("<{}|Vigie>", slack_escape(link)));
    }
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": truncate(&w.title, 150), "emoji": true},
    })];
    if !body.is_empty() {
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": truncate(&body.join("\n"), 2_900)},
        }));
    }
    json!({ "text": slack_escape(&w.text()), "blocks": blocks })
}

/// Discord webhook: `content` and one embed; no mention is ever parsed out of the text.
pub fn discord(w: &Words, at: DateTime<Utc>) -> Value {
    let color = match w.priority {
        5 => 0xd1_24_2f,
        4 => 0xe0_8a_00,
        3 => 0x1a_7f_37,
        _ => 0x57_60_6a,
    };
    let mut embed = json!({
        "title": truncate(&w.title, 256),
        "description": truncate(&w.lines.join("\n"), 4_000),
        "color": color,
        "timestamp": at.to_rfc3339(),
    });
    if let Some(link) = &w.link {
        embed["url"] = json!(link);
    }
    json!({
        "content": truncate(&w.title, MAX_TEXT),
        "embeds": [embed],
        "allowed_mentions": {"parse": []},
    })
}

/// Microsoft Teams through a Workflows webhook: a message with one Adaptive Card.
pub fn teams(w: &Words) -> Value {
    let mut body = vec![json!({
        "type": "TextBlock", "text": w.title, "weight": "Bolder", "size": "Medium", "wrap": true,
    })];
    for l in &w.lines {
        body.push(json!({"type": "TextBlock", "text": l, "wrap": true}));
    }
    let mut card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    });
    if let Some(link) = &w.link {
        card["actions"] = json!([{"type": "Action.OpenUrl", "title": "Vigie", "url": link}]);
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": card,
        }],
    })
}

/// Telegram Bot API `sendMessage`, plain text (no parse mode: nothing to escape).
pub fn telegram(w: &Words, chat_id: &str) -> Value {
    json!({
        "chat_id": chat_id,
        "text": w.text(),
        "disable_web_page_preview": true,
    })
}

/// ntfy's JSON publishing: the topic goes in the body, posted to the server's root.
pub fn ntfy(w: &Words, topic: &str) -> Value {
    let tags = match w.priority {
        5 => "rotating_light",
        4 => "warning",
        3 => "white_check_mark",
        _ => "round_pushpin",
    };
    let mut v = json!({
        "topic": topic,
        "title": w.title,
        "message": if w.lines.is_empty() { w.title.clone() } else { w.lines.join("\n") },
        "priority": w.priority,
        "tags": [tags],
    });
    if let Some(link) = &w.link {
        v["click"] = json!(link);
    }
    v
}

/// Matrix `m.room.message` event: plain body and HTML.
pub fn matrix(w: &Words) -> Value {
    let html = super::html::matrix(w.title.clone(), w.lines.clone(), w.link.clone());
    json!({
        "msgtype": "m.text",
        "body": w.text(),
        "format": "org.matrix.custom.html",
        "formatted_body": html,
    })
}

/// One HTTP call a channel needs. No `Debug`: its URL and bearer may be secrets.
pub struct Call {
    pub method: reqwest::Method,
    pub url: String,
    pub bearer: Option<String>,
    /// Signing secret (generic webhook): the body is signed like readers' webhooks.
    pub sign_with: Option<String>,
    pub body: Value,
}

/// The call that delivers `a` to channel `c`. `delivery` is the outbox's id of this delivery:
/// Matrix's transaction id, so a retried PUT is one message.
pub fn call(
    c: &AlertChannel,
    w: &Words,
    webhook_body: impl FnOnce() -> Value,
    delivery: i64,
    at: DateTime<Utc>,
) -> Result<Call, String> {
    let r = resolve(c)?;
    let need_url = || {
        r.url
            .clone()
            .ok_or_else(|| format!("alert channel {} has no url", c.name))
    };
    let post = |url: String, body: Value| Call {
        method: reqwest::Method::POST,
        url,
        bearer: None,
        sign_with: None,
        body,
    };
    Ok(match c.kind {
        AlertKind::Slack => post(need_url()?, slack(w)),
        AlertKind::Discord => post(need_url()?, discord(w, at)),
        AlertKind::Teams => post(need_url()?, teams(w)),
        AlertKind::Telegram => {
            let base = r
                .url
                .clone()
                .unwrap_or_else(|| "https://api.telegram.org".to_owned());
            let token = r.token.clone().ok_or("no bot token")?;
            post(
                format!("{}/bot{token}/sendMessage", base.trim_end_matches('/')),
                telegram(w, c.chat_id.as_deref().unwrap_or_default()),
            )
        }
        AlertKind::Ntfy => {
            let topic_url = url::Url::parse(&need_url()?).map_err(|e| format!("url: {e}"))?;
            let mut segments: Vec<String> = topic_url
                .path_segments()
                .map(|s| s.filter(|p| !p.is_empty()).map(str::to_owned).collect())
                .unwrap_or_default();
            let topic = segments.pop().ok_or("the ntfy url names no topic")?;
            let mut root = topic_url.clone();
            root.set_path(&segments.join("/"));
            let mut call = post(root.to_string(), ntfy(w, &topic));
            call.bearer = r.token.clone();
            call
        }
        AlertKind::Matrix => {
            let mut u = url::Url::parse(&need_url()?).map_err(|e| format!("url: {e}"))?;
            let room = c.room.as_deref().unwrap_or_default();
            let txn = format!("vigie-{delivery}");
            u.path_segments_mut()
                .map_err(|()| "the matrix url cannot take a path".to_owned())?
                .pop_if_empty()
                .extend([
                    "_matrix",
                    "client",
                    "v3",
                    "rooms",
                    room,
                    "send",
                    "m.room.message",
                    txn.as_str(),
                ]);
            Call {
                method: reqwest::Method::PUT,
                url: u.to_string(),
                bearer: r.token.clone(),
                sign_with: None,
                body: matrix(w),
            }
        }
        AlertKind::Webhook => Call {
            sign_with: Some(r.token.clone().ok_or("no signing secret (token)")?),
            ..post(need_url()?, webhook_body())
        },
        AlertKind::Email => return Err("e-mail channels do not call".to_owned()),
    })
}

/// Makes `call` through the SSRF-safe caller. Errors never carry the URL (it may hold a key).
pub async fn send(caller: &Caller, call: Call) -> Result<i32, CallError> {
    caller
        .send(
            call.method,
            &call.url,
            call.bearer.as_deref(),
            call.sign_with.as_deref(),
            &call.body,
        )
        .await
}

/// The mail for an alert: subject = title, body = the lines and the link.
pub fn mail(w: &Words, site: &super::mail::Site) -> super::mail::Rendered {
    let html = super::html::alert(w.title.clone(), w.lines.clone(), w.link.clone());
    super::mail::Rendered {
        subject: format!("[{}] {}", site.title, w.title),
        text: w.text(),
        html,
        unsubscribe: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::outbox::ServiceRef;

    fn alert(kind: &str) -> AlertEvent {
        AlertEvent {
            kind: kind.into(),
            title: "host phys-2 is down".into(),
            host: Some("phys-2".into()),
            subject: Some("host phys-2".into()),
            services: vec![
                ServiceRef {
                    id: "web".into(),
                    name: "Web <prod>".into(),
                    status: "major_outage".into(),
                },
                ServiceRef {
                    id: "api".into(),
                    name: "API".into(),
                    status: "major_outage".into(),
                },
            ],
            monitors: Vec::new(),
            detail: String::new(),
            at: Utc::now(),
            link: Some("/admin".into()),
        }
    }

    #[test]
    fn words_name_the_cause_and_every_service_in_the_staffs_language() {
        let w = words(&alert("down"), Locale::En, "https://status.example.org");
        assert_eq!(w.title, "🔴 Down: host phys-2");
        assert_eq!(w.lines, ["Services affected: Web <prod>, API"]);
        assert_eq!(w.link.as_deref(), Some("https://status.example.org/admin"));
        let fr = words(&alert("recovered"), Locale::Fr, "https://s");
        assert_eq!(fr.title, "✅ Rétabli : hôte phys-2");
        assert!(fr.priority < w.priority);
    }

    #[test]
    fn slack_text_is_escaped_and_long_texts_are_cut() {
        let w = words(&alert("down"), Locale::En, "https://s");
        let v = slack(&w);
        assert!(v["text"].as_str().unwrap().contains("Web &lt;prod&gt;"));
        let long = Words {
            title: "x".repeat(5_000),
            lines: vec![],
            link: None,
            priority: 5,
        };
        assert_eq!(long.text().chars().count(), MAX_TEXT);
    }
}
