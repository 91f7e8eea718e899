//! Validation of monitors: the settings every monitor shares (interval, timeout, retries,
//! locations) and what each kind needs.

use std::collections::HashSet;
use std::time::Duration;

use toml::Spanned;

use super::raw::*;
use super::validate::Validator;
use super::*;

impl Validator<'_> {
    pub(super) fn monitors(
        &mut self,
        raw: &[RawMonitor],
        owner_key: &str,
        location_ids: &HashSet<String>,
        all_locations: &[Slug],
    ) -> Vec<Monitor> {
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(raw.len());
        for (j, m) in raw.iter().enumerate() {
            let key = format!("{owner_key}.monitors[{j}]");
            let id = match &m.id {
                Some(id) => {
                    let slug = self.slug(id, &format!("{key}.id"));
                    if !seen.insert(slug.clone()) {
                        self.push(
                            id.span().start,
                            format!("{key}.id"),
                            format!("duplicate monitor id `{}`", id.get_ref()),
                        );
                    }
                    slug
                }
                None => {
                    let slug = Slug(if j == 0 {
                        m.kind.as_str().to_owned()
                    } else {
                        format!("{}-{}", m.kind.as_str(), j + 1)
                    });
                    seen.insert(slug.clone());
                    slug
                }
            };
            let target = match (&m.target, m.kind) {
                (Some(t), _) => t.get_ref().clone(),
                (None, MonitorKind::Push) => String::new(),
                (None, kind) => {
                    let at = m.id.as_ref().map_or(0, |i| i.span().start);
                    self.push(
                        at,
                        format!("{key}.target"),
                        format!("a {} monitor needs a target", kind.as_str()),
                    );
                    String::new()
                }
            };
            let interval = self.duration(&m.interval, &format!("{key}.interval"), DEFAULT_INTERVAL);
            let timeout = self.duration(
                &m.timeout,
                &format!("{key}.timeout"),
                DEFAULT_TIMEOUT.min(interval),
            );
            let retry_interval = self.duration(
                &m.retry_interval,
                &format!("{key}.retry_interval"),
                (interval / 3).max(Duration::from_secs(1)).min(interval),
            );
            if let Some(t) = &m.timeout {
                if timeout > interval {
                    self.push(
                        t.span().start,
                        format!("{key}.timeout"),
                        "timeout must not exceed interval",
                    );
                }
            }
            let spec = self.kind_settings(m, &key);
            let count = |v: &mut Self, c: &Option<Spanned<u32>>, name: &str| match c {
                None => DEFAULT_CONFIRM,
                Some(c) if *c.get_ref() == 0 => {
                    v.push(
                        c.span().start,
                        format!("{key}.{name}"),
                        "must be at least 1",
                    );
                    DEFAULT_CONFIRM
                }
                Some(c) => *c.get_ref(),
            };
            let confirm = count(self, &m.confirm, "confirm");
            let recover = count(self, &m.recover, "recover");
            let locations = if m.locations.is_empty() {
                all_locations.to_vec()
            } else {
                m.locations
                    .iter()
                    .map(|l| {
                        self.reference(l, &format!("{key}.locations"), location_ids, "location")
                    })
                    .collect()
            };
            out.push(Monitor {
                id,
                target,
                interval,
                timeout,
                retry_interval,
                confirm,
                recover,
                locations,
                degraded_after_ms: m.degraded_after_ms,
                spec,
            });
        }
        out
    }

    /// Where the setting `name` of the monitor anchored at `anchor` is written: the settings
    /// are a flattened table, so the parser keeps no span for them.
    pub(super) fn setting_offset(&self, anchor: usize, name: &str) -> usize {
        let text = self.loc.text;
        let anchor = anchor.min(text.len());
        let table_start = text[..anchor].rfind("[[").unwrap_or(0);
        let mut offset = table_start;
        for (n, line) in text[table_start..].split_inclusive('\n').enumerate() {
            let trimmed = line.trim_start();
            if n > 0 && trimmed.starts_with('[') {
                break;
            }
            if trimmed
                .strip_prefix(name)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
            {
                return offset + (line.len() - trimmed.len());
            }
            offset += line.len();
        }
        anchor
    }

    /// Kind-specific settings: only the kind's own keys, what each kind needs, and values the
    /// probes can use.
    pub(super) fn kind_settings(&mut self, m: &RawMonitor, key: &str) -> MonitorSpec {
        let anchor = m
            .target
            .as_ref()
            .map(|t| t.span().start)
            .or(m.id.as_ref().map(|i| i.span().start))
            .unwrap_or(0);
        let s = &m.settings;
        let mut problems: Vec<(&str, String)> = Vec::new();
        let own = m.kind.setting_keys();
        for name in s.written().into_iter().filter(|n| !own.contains(n)) {
            problems.push((name, not_the_kinds(m.kind, name)));
        }
        match m.kind {
            MonitorKind::Http | MonitorKind::Keyword | MonitorKind::Json => {
                if let Some(t) = &m.target {
                    let t = t.get_ref();
                    if !(t.starts_with("http://") || t.starts_with("https://")) {
                        problems
                            .push(("target", format!("`{t}` is not an http:// or https:// URL")));
                    }
                }
                if m.kind == MonitorKind::Keyword
                    && s.keyword.is_none()
                    && s.keyword_absent.is_none()
                {
                    problems.push((
                        "keyword",
                        "a keyword monitor needs `keyword` or `keyword_absent`".into(),
                    ));
                }
                if m.kind == MonitorKind::Json && s.json_pointer.is_none() {
                    problems.push(("json_pointer", "a json monitor needs `json_pointer`".into()));
                }
                if let Some(p) = &s.json_pointer {
                    if !p.is_empty() && !p.starts_with('/') {
                        problems.push((
                            "json_pointer",
                            format!("`{p}` is not a JSON pointer; write e.g. /status"),
                        ));
                    }
                }
                if let Some(method) = &s.method {
                    let ok = !method.is_empty() && method.bytes().all(|b| b.is_ascii_alphabetic());
                    if !ok {
                        problems.push(("method", format!("`{method}` is not an HTTP method")));
                    }
                }
                if let Some(bad) = s.expected_status.iter().find(|c| !(100..=599).contains(*c)) {
                    problems.push((
                        "expected_status",
                        format!("{bad} is not an HTTP status code"),
                    ));
                }
            }
            MonitorKind::Dns => {
                if let Some(r) = &s.record_type {
                    if !["A", "AAAA", "CNAME", "MX", "TXT", "NS"]
                        .contains(&r.to_ascii_uppercase().as_str())
                    {
                        problems.push((
                            "record_type",
                            format!("`{r}` is not one of A, AAAA, CNAME, MX, TXT, NS"),
                        ));
                    }
                }
                if let Some(r) = &s.resolver {
                    let r = r.trim();
                    let ok = r.parse::<std::net::SocketAddr>().is_ok()
                        || r.parse::<std::net::IpAddr>().is_ok();
                    if !ok {
                        problems.push((
                            "resolver",
                            format!("`{r}` is not an IP address (optionally with :port)"),
                        ));
                    }
                }
            }
            MonitorKind::Tls => {
                if let (Some(down), Some(degraded)) = (s.days_down, s.days_degraded) {
                    if down > degraded {
                        problems.push(("days_down", "must not exceed `days_degraded`".into()));
                    }
                }
            }
            MonitorKind::Push => {
                if let Some(g) = &s.grace {
                    if humantime::parse_duration(g.trim()).is_err() {
                        problems.push((
                            "grace",
                            format!("`{g}` is not a duration; write e.g. 30s, 5m, 1h"),
                        ));
                    }
                }
                // The token is a secret: the file only says where it is. Without one, Vigie
                // generates it (`vigie push-token`, or at the first start) and keeps its hash.
                // Said without the value: it may be the token itself.
                if s.token
                    .as_deref()
                    .is_some_and(|t| super::notify::SecretRef::parse(t).is_none())
                {
                    problems.push((
                        "token",
                        "push tokens do not belong in the file: delete this line and run \
                         `vigie push-token service/<service>/<monitor>` for a generated one, or give it as \
                         ${env:NAME} or ${file:PATH} (see docs/security.md)"
                            .into(),
                    ));
                }
                if let Some(f) = &s.flavour {
                    if f != "backup" {
                        problems.push((
                            "flavour",
                            format!("`{f}` is not a push flavour; the only one is `backup`"),
                        ));
                    }
                }
            }
            MonitorKind::Tcp => {}
        }
        for (name, message) in problems {
            let at = self.setting_offset(anchor, name);
            self.push(at, format!("{key}.{name}"), message);
        }
        spec(m.kind, s)
    }
}

/// Why `name` is refused on a monitor of `kind`: whose setting it is, and what `kind` takes.
fn not_the_kinds(kind: MonitorKind, name: &str) -> String {
    let owners: Vec<&str> = MonitorKind::ALL
        .iter()
        .filter(|k| k.setting_keys().contains(&name))
        .map(|k| k.as_str())
        .collect();
    let owners = match owners.as_slice() {
        [] => String::new(),
        [one] => format!(" (that is for {one} monitors)"),
        [init @ .., last] => format!(" (that is for {} and {last} monitors)", init.join(", ")),
    };
    format!(
        "a {} monitor has no `{name}`{owners}; its settings are {}",
        kind.as_str(),
        kind.setting_keys().join(", ")
    )
}

/// The settings of `kind` out of the file's table (the other kinds' keys were refused).
fn spec(kind: MonitorKind, s: &RawSettings) -> MonitorSpec {
    let http = || HttpSettings {
        method: s.method.clone(),
        headers: s.headers.clone(),
        body: s.body.clone(),
        expected_status: s.expected_status.clone(),
        follow_redirects: s.follow_redirects,
        tls_verify: s.tls_verify,
        keyword: s.keyword.clone(),
        keyword_absent: s.keyword_absent.clone(),
        json_pointer: s.json_pointer.clone(),
        json_equals: s.json_equals.clone(),
    };
    match kind {
        MonitorKind::Http => MonitorSpec::Http(http()),
        MonitorKind::Keyword => MonitorSpec::Keyword(http()),
        MonitorKind::Json => MonitorSpec::Json(http()),
        MonitorKind::Tcp => MonitorSpec::Tcp(TcpSettings {
            send: s.send.clone(),
            expect: s.expect.clone(),
        }),
        MonitorKind::Dns => MonitorSpec::Dns(DnsSettings {
            record_type: s.record_type.clone(),
            expected: s.expected.clone(),
            resolver: s.resolver.clone(),
        }),
        MonitorKind::Tls => MonitorSpec::Tls(TlsSettings {
            tls_verify: s.tls_verify,
            days_degraded: s.days_degraded,
            days_down: s.days_down,
        }),
        MonitorKind::Push => MonitorSpec::Push(PushSettings {
            grace: s.grace.clone(),
            flavour: s.flavour.clone(),
            token: s.token.clone(),
        }),
    }
}
