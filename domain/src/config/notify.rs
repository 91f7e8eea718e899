//! The notification settings of `vigie.toml`: `[notifications]` (SMTP for e-mail, the
//! per-minute ceiling, the private networks webhooks may reach) and `[[alerts]]` (the staff's
//! alert channels). Credentials never live in the file: SMTP's come from the environment or
//! a file named here, alert tokens from environment variables named here.

use serde::Deserialize;
use toml::Spanned;

use crate::config::Slug;

/// `[notifications]`, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notifications {
    pub smtp: Option<Smtp>,
    /// The most messages (mails, webhook calls, alerts) handed over per minute.
    pub per_minute: u32,
    /// Networks (CIDR, or a single address) that webhooks and alert channels may reach
    /// although they are private, loopback or link-local; plain HTTP is allowed to them too.
    pub allow_networks: Vec<String>,
    /// Days a sent message (and the webhook delivery log) is kept.
    pub retention_days: u32,
}

impl Default for Notifications {
    fn default() -> Self {
        Notifications {
            smtp: None,
            per_minute: DEFAULT_PER_MINUTE,
            allow_networks: Vec::new(),
            retention_days: DEFAULT_RETENTION_DAYS,
        }
    }
}

/// `[notifications.smtp]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Smtp {
    /// `smtp://host:port` (STARTTLS when the server offers it, plain otherwise) or
    /// `smtps://host:port` (TLS from the first byte). Never carries credentials.
    pub url: String,
    /// The `From:` of every mail, e.g. `Humanoid status <status@example.org>`.
    pub from: String,
    /// A file holding `username:password` (one line). Without it, `VIGIE_SMTP_USERNAME` and
    /// `VIGIE_SMTP_PASSWORD` are read; without those, no authentication.
    pub credentials_file: Option<String>,
}

/// Where a staff alert goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertKind {
    Email,
    Slack,
    Discord,
    Teams,
    Telegram,
    Ntfy,
    Matrix,
    Webhook,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Email => "email",
            AlertKind::Slack => "slack",
            AlertKind::Discord => "discord",
            AlertKind::Teams => "teams",
            AlertKind::Telegram => "telegram",
            AlertKind::Ntfy => "ntfy",
            AlertKind::Matrix => "matrix",
            AlertKind::Webhook => "webhook",
        }
    }
}

/// One `[[alerts]]` channel, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertChannel {
    pub name: Slug,
    pub kind: AlertKind,
    /// The webhook URL (Slack, Discord, Teams, generic webhook), the topic URL (ntfy), the
    /// homeserver (Matrix) or the Bot API base (Telegram, default `https://api.telegram.org`).
    pub url: Option<String>,
    /// An environment variable holding the URL instead (Slack's and Discord's carry a secret).
    pub url_env: Option<String>,
    /// E-mail: the address alerts go to.
    pub to: Option<String>,
    /// Telegram: the chat.
    pub chat_id: Option<String>,
    /// Matrix: the room id.
    pub room: Option<String>,
    /// An environment variable holding the token: Telegram's bot token, Matrix's access
    /// token, ntfy's bearer token, the generic webhook's signing secret.
    pub token_env: Option<String>,
    /// The token as a reference, `${env:NAME}` or `${file:PATH}` (never the token itself).
    pub token: Option<String>,
}

/// Where a secret setting points: `${env:NAME}` or `${file:PATH}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretRef {
    Env(String),
    File(String),
}

impl SecretRef {
    /// Reads `${env:NAME}` or `${file:PATH}`; `None` for anything else.
    pub fn parse(s: &str) -> Option<SecretRef> {
        let inner = s.trim().strip_prefix("${")?.strip_suffix('}')?;
        let (kind, what) = inner.split_once(':')?;
        let what = what.trim();
        if what.is_empty() {
            return None;
        }
        match kind.trim() {
            "env" => Some(SecretRef::Env(what.to_owned())),
            "file" => Some(SecretRef::File(what.to_owned())),
            _ => None,
        }
    }
}

pub(crate) const DEFAULT_PER_MINUTE: u32 = 600;
pub(crate) const DEFAULT_RETENTION_DAYS: u32 = 30;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNotifications {
    #[serde(default)]
    smtp: Option<RawSmtp>,
    #[serde(default)]
    per_minute: Option<Spanned<u32>>,
    #[serde(default)]
    allow_networks: Vec<Spanned<String>>,
    #[serde(default)]
    retention_days: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSmtp {
    url: Spanned<String>,
    from: Spanned<String>,
    #[serde(default)]
    credentials_file: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAlert {
    name: Spanned<String>,
    kind: AlertKind,
    #[serde(default)]
    url: Option<Spanned<String>>,
    #[serde(default)]
    url_env: Option<String>,
    #[serde(default)]
    to: Option<Spanned<String>>,
    #[serde(default)]
    chat_id: Option<String>,
    #[serde(default)]
    room: Option<String>,
    #[serde(default)]
    token_env: Option<String>,
    #[serde(default)]
    token: Option<Spanned<String>>,
}

/// An error found while validating: byte offset, key, message.
pub(crate) type Problem = (usize, String, String);

/// Whether `s` is an address or a CIDR network (`10.0.0.0/8`, `::1/128`, `127.0.0.1`).
pub fn is_network(s: &str) -> bool {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let Ok(ip) = addr.parse::<std::net::IpAddr>() else {
        return false;
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    len.is_none_or(|l| l.parse::<u8>().is_ok_and(|l| l <= max))
}

pub(crate) fn notifications(
    raw: Option<RawNotifications>,
    out: &mut Vec<Problem>,
) -> Notifications {
    let Some(raw) = raw else {
        return Notifications::default();
    };
    let smtp = raw.smtp.map(|s| {
        let url = s.url.get_ref().trim();
        let scheme_ok = url.starts_with("smtp://") || url.starts_with("smtps://");
        if !scheme_ok {
            out.push((
                s.url.span().start,
                "notifications.smtp.url".into(),
                "use smtp://host:port (STARTTLS or plain) or smtps://host:port (TLS)".into(),
            ));
        } else if url.split("://").nth(1).is_some_and(|rest| {
            rest.split(['/', '?'])
                .next()
                .is_some_and(|auth| auth.contains('@'))
        }) {
            out.push((
                s.url.span().start,
                "notifications.smtp.url".into(),
                "credentials do not belong in the file: use credentials_file or \
                 VIGIE_SMTP_USERNAME / VIGIE_SMTP_PASSWORD"
                    .into(),
            ));
        }
        let from = s.from.get_ref().trim();
        if !from.contains('@') {
            out.push((
                s.from.span().start,
                "notifications.smtp.from".into(),
                format!("`{from}` is not an e-mail address"),
            ));
        }
        Smtp {
            url: url.to_owned(),
            from: from.to_owned(),
            credentials_file: s.credentials_file,
        }
    });
    let per_minute = match raw.per_minute {
        Some(p) if *p.get_ref() == 0 => {
            out.push((
                p.span().start,
                "notifications.per_minute".into(),
                "must be at least 1".into(),
            ));
            DEFAULT_PER_MINUTE
        }
        Some(p) => *p.get_ref(),
        None => DEFAULT_PER_MINUTE,
    };
    let retention_days = match raw.retention_days {
        Some(p) if *p.get_ref() == 0 => {
            out.push((
                p.span().start,
                "notifications.retention_days".into(),
                "must be at least 1".into(),
            ));
            DEFAULT_RETENTION_DAYS
        }
        Some(p) => *p.get_ref(),
        None => DEFAULT_RETENTION_DAYS,
    };
    let mut allow_networks = Vec::new();
    for n in raw.allow_networks {
        if is_network(n.get_ref().trim()) {
            allow_networks.push(n.get_ref().trim().to_owned());
        } else {
            out.push((
                n.span().start,
                "notifications.allow_networks".into(),
                format!(
                    "`{}` is not an address or a network such as 10.0.0.0/8",
                    n.get_ref()
                ),
            ));
        }
    }
    Notifications {
        smtp,
        per_minute,
        allow_networks,
        retention_days,
    }
}

pub(crate) fn alerts(raw: Vec<RawAlert>, out: &mut Vec<Problem>) -> Vec<AlertChannel> {
    let mut seen = std::collections::HashSet::new();
    let mut channels = Vec::new();
    for (i, a) in raw.into_iter().enumerate() {
        let key = format!("alerts[{i}]");
        let name = match Slug::parse(a.name.get_ref()) {
            Ok(s) => s,
            Err(m) => {
                out.push((a.name.span().start, format!("{key}.name"), m));
                continue;
            }
        };
        if !seen.insert(name.clone()) {
            out.push((
                a.name.span().start,
                format!("{key}.name"),
                format!("duplicate alert channel `{name}`"),
            ));
        }
        let at = a.name.span().start;
        let needs = |what: &str, ok: bool, out: &mut Vec<Problem>| {
            if !ok {
                out.push((
                    at,
                    format!("{key}.{what}"),
                    format!("a {} channel needs `{what}`", a.kind.as_str()),
                ));
            }
        };
        let has_url = a.url.is_some() || a.url_env.is_some();
        let has_token = a.token.is_some() || a.token_env.is_some();
        match a.kind {
            AlertKind::Email => needs("to", a.to.is_some(), out),
            AlertKind::Telegram => {
                needs("chat_id", a.chat_id.is_some(), out);
                needs("token", has_token, out);
            }
            AlertKind::Matrix => {
                needs("url", has_url, out);
                needs("room", a.room.is_some(), out);
                needs("token", has_token, out);
            }
            _ => needs("url", has_url, out),
        }
        if let Some(u) = &a.url {
            let v = u.get_ref();
            if !(v.starts_with("https://")
                || v.starts_with("http://")
                || SecretRef::parse(v).is_some())
            {
                out.push((
                    u.span().start,
                    format!("{key}.url"),
                    "not an http(s) URL, nor ${env:NAME} or ${file:PATH}".to_owned(),
                ));
            }
        }
        if let Some(t) = &a.token {
            if SecretRef::parse(t.get_ref()).is_none() {
                // Said without the value: it may be the token itself.
                out.push((
                    t.span().start,
                    format!("{key}.token"),
                    "tokens do not belong in the file: use ${env:NAME} or ${file:PATH}".to_owned(),
                ));
            }
        }
        if let Some(t) = &a.to {
            if !t.get_ref().contains('@') {
                out.push((
                    t.span().start,
                    format!("{key}.to"),
                    format!("`{}` is not an e-mail address", t.get_ref()),
                ));
            }
        }
        channels.push(AlertChannel {
            name,
            kind: a.kind,
            url: a.url.map(|u| u.into_inner()),
            url_env: a.url_env,
            to: a.to.map(|t| t.into_inner()),
            chat_id: a.chat_id,
            room: a.room,
            token_env: a.token_env,
            token: a.token.map(|t| t.into_inner()),
        });
    }
    channels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_and_alerts_parse_with_defaults() {
        let c = crate::config::parse(
            "t.toml",
            "[site]\ntitle = \"x\"\n[notifications]\nallow_networks = [\"127.0.0.0/8\"]\n\
             [notifications.smtp]\nurl = \"smtp://127.0.0.1:2525\"\nfrom = \"s@example.org\"\n\
             [[alerts]]\nname = \"ops\"\nkind = \"slack\"\nurl_env = \"SLACK_URL\"\n",
        )
        .unwrap();
        assert_eq!(c.notifications.per_minute, DEFAULT_PER_MINUTE);
        assert_eq!(c.notifications.smtp.unwrap().url, "smtp://127.0.0.1:2525");
        assert_eq!(c.alerts[0].kind, AlertKind::Slack);
        let none = crate::config::parse("t.toml", "[site]\ntitle = \"x\"\n").unwrap();
        assert_eq!(none.notifications, Notifications::default());
    }

    #[test]
    fn credentials_in_the_file_and_bad_values_are_refused_with_their_key() {
        let e = crate::config::parse(
            "t.toml",
            "[site]\ntitle = \"x\"\n[notifications]\nper_minute = 0\nallow_networks = [\"lan\"]\n\
             [notifications.smtp]\nurl = \"smtp://u:secret@mail:25\"\nfrom = \"nobody\"\n\
             [[alerts]]\nname = \"tg\"\nkind = \"telegram\"\n",
        )
        .unwrap_err();
        let keys: Vec<&str> = e.0.iter().map(|e| e.key.as_str()).collect();
        for k in [
            "notifications.per_minute",
            "notifications.allow_networks",
            "notifications.smtp.url",
            "notifications.smtp.from",
            "alerts[0].chat_id",
            "alerts[0].token",
        ] {
            assert!(keys.contains(&k), "{k} missing from {keys:?}");
        }
        assert!(!e.to_string().contains("secret"));
    }

    #[test]
    fn secrets_are_references_and_a_literal_token_is_refused_unprinted() {
        assert_eq!(
            SecretRef::parse("${env:SLACK_URL}"),
            Some(SecretRef::Env("SLACK_URL".into()))
        );
        assert_eq!(
            SecretRef::parse("${file:/run/secrets/tg}"),
            Some(SecretRef::File("/run/secrets/tg".into()))
        );
        assert_eq!(SecretRef::parse("${env:}"), None);
        assert_eq!(SecretRef::parse("https://example.org"), None);
        let ok = crate::config::parse(
            "t.toml",
            "[site]\ntitle = \"x\"\n[[alerts]]\nname = \"tg\"\nkind = \"telegram\"\n\
             chat_id = \"42\"\ntoken = \"${file:/run/secrets/tg}\"\n\
             [[alerts]]\nname = \"slack\"\nkind = \"slack\"\nurl = \"${env:SLACK_URL}\"\n",
        )
        .unwrap();
        assert_eq!(ok.alerts.len(), 2);
        let e = crate::config::parse(
            "t.toml",
            "[site]\ntitle = \"x\"\n[[alerts]]\nname = \"tg\"\nkind = \"telegram\"\n\
             chat_id = \"42\"\ntoken = \"123456:SECRETBOTTOKEN\"\n",
        )
        .unwrap_err();
        assert!(e.0.iter().any(|e| e.key == "alerts[0].token"));
        assert!(!e.to_string().contains("SECRETBOTTOKEN"));
    }

    #[test]
    fn networks_are_addresses_or_cidr() {
        assert!(is_network("127.0.0.0/8"));
        assert!(is_network("10.1.2.3"));
        assert!(is_network("::1/128"));
        assert!(!is_network("10.0.0.0/33"));
        assert!(!is_network("example.org"));
        assert!(!is_network("10.0.0.0/x"));
    }
}
