//! Notifications: readers' e-mail subscriptions (double opt-in), and the sender that works
//! through the outbox (see `store::outbox`): one instance at a time, under a lease, within a
//! per-minute ceiling, retrying temporary failures with backoff and never sending a message
//! twice.
//!
//! - [`token`]: signed links (confirm, unsubscribe, preferences).
//! - [`mail`]: what the mails say, and the SMTP transport.
//! - [`html`]: the mails' HTML (and Matrix messages'), Leptos views rendered to a string.
//! - `/subscribe` and its links, `POST /api/v1/subscribers`: the server's `subscribe` module.
//! - [`throttle`]: per-address and per-client limits on subscription requests.
//! - [`webhook`]: the Statuspage-shaped payload, its signature, SSRF-safe delivery.
//!
//! Staff manage webhooks through the server's `api::webhooks` (`/api/v1/webhooks`).
//!
//! This crate knows nothing of HTTP serving or pages: the server hands it the database, the
//! catalog and a channel that rings on changes, and calls its functions from its handlers.

pub mod alerts;
pub mod html;
pub mod mail;
pub mod throttle;
pub mod token;
pub mod webhook;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::config::Catalog;
use domain::locale::Locale;
use futures::StreamExt;
use store::outbox::lease::Lease;
use store::outbox::send::Outcome;
use store::outbox::{self, Delivery};
use store::StoreError;
use tokio::sync::broadcast;

/// The lease row the senders compete for.
const LEASE: &str = "outbox";
/// Failed deliveries in a row after which a webhook is paused.
pub const PAUSE_AFTER: i32 = 10;
/// Attempts before a delivery is given up.
pub const MAX_ATTEMPTS: i32 = 8;

/// How the sender paces itself.
#[derive(Clone, Debug)]
pub struct Settings {
    /// At most this many messages handed over per minute (`notifications.per_minute`).
    pub per_minute: u32,
    /// How long finished messages are kept (`notifications.retention_days`).
    pub retention: chrono::Duration,
    /// How long the lease lasts without renewal: after a crash, another instance (or the
    /// restarted one) takes over this much later.
    pub lease_ttl: chrono::Duration,
    /// The first retry waits this long, each next one twice as long (capped at one hour).
    pub retry_base: chrono::Duration,
    /// Messages handed over at the same time.
    pub concurrency: usize,
}

impl Settings {
    pub fn from_catalog(catalog: &Catalog) -> Settings {
        Settings {
            per_minute: catalog.notifications.per_minute,
            retention: chrono::Duration::days(i64::from(catalog.notifications.retention_days)),
            lease_ttl: chrono::Duration::seconds(30),
            retry_base: chrono::Duration::seconds(30),
            concurrency: 8,
        }
    }

    /// When attempt number `attempts` (1-based) failed temporarily, the next one.
    pub fn next_attempt(&self, attempts: i32, now: DateTime<Utc>) -> DateTime<Utc> {
        let factor = 1i32 << (attempts - 1).clamp(0, 16);
        let wait = (self.retry_base * factor).min(chrono::Duration::hours(1));
        now + wait
    }
}

/// The notification engine of one instance.
pub struct Notifier {
    pub db: store::Db,
    pub signer: token::Signer,
    pub site: mail::Site,
    pub default_locale: Locale,
    pub mailer: Option<mail::Mailer>,
    /// Calls webhooks.
    pub caller: webhook::Caller,
    pub settings: Settings,
    pub throttle: throttle::Limits,
    /// This instance's name on the lease.
    pub holder: String,
    /// Rings when a write may have queued something.
    pub wake: tokio::sync::Notify,
    /// The staff's alert channels (`[[alerts]]`).
    pub alert_channels: Vec<domain::config::notify::AlertChannel>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("holder", &self.holder)
            .field("mailer", &self.mailer)
            .finish_non_exhaustive()
    }
}

impl Notifier {
    /// The engine for `catalog` on `db`: reads (or creates) the installation's signing key
    /// and builds the SMTP transport if `[notifications.smtp]` is set.
    pub async fn new(db: store::Db, catalog: &Catalog) -> anyhow::Result<Notifier> {
        let key = outbox::instance_key(&db, "links").await?;
        let mailer = match &catalog.notifications.smtp {
            Some(smtp) => Some(mail::Mailer::new(smtp)?),
            None => None,
        };
        Ok(Notifier {
            db,
            signer: token::Signer::new(&key),
            site: mail::Site {
                title: catalog.site.title.clone(),
                base_url: catalog.site.base_url.trim_end_matches('/').to_owned(),
                timezone: catalog.site.timezone,
            },
            default_locale: catalog.site.default_locale,
            mailer,
            caller: webhook::Caller::new(&catalog.notifications.allow_networks)?,
            settings: Settings::from_catalog(catalog),
            throttle: throttle::Limits::default(),
            holder: format!(
                "{}-{}-{:08x}",
                std::process::id(),
                Utc::now().timestamp(),
                fastrand::u32(..)
            ),
            wake: tokio::sync::Notify::new(),
            alert_channels: catalog.alerts.clone(),
        })
        .inspect(|n| {
            for (channel, why) in alerts::unreadable(&n.alert_channels) {
                tracing::warn!(%channel, %why, "alert channel: its secret cannot be read now");
            }
        })
    }

    /// Whether readers can subscribe by e-mail (SMTP is configured).
    pub fn email_enabled(&self) -> bool {
        self.mailer.is_some()
    }

    /// Runs the sender until the process ends: a pass at once, then after every message on
    /// `changes` (the server passes its change hub's broadcast: a write anywhere may have
    /// queued something), every wake-up and at least every second. What the messages say does
    /// not matter, only that they come; a lagging or closed channel leaves the one-second pace.
    pub fn spawn<C: Clone + Send + 'static>(
        self: &Arc<Self>,
        changes: broadcast::Receiver<C>,
    ) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        let mut changes = Some(changes);
        tokio::spawn(async move {
            let mut last_purge = DateTime::<Utc>::MIN_UTC;
            loop {
                let now = Utc::now();
                let busy = match me.tick(now).await {
                    Ok(n) => n > 0,
                    Err(e) => {
                        tracing::warn!(error = %e, "notification outbox pass failed");
                        false
                    }
                };
                if now - last_purge > chrono::Duration::hours(1) {
                    last_purge = now;
                    match outbox::send::purge(&me.db, me.settings.retention, now).await {
                        Ok(n) if n > 0 => tracing::info!(rows = n, "old notifications purged"),
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "notification purge failed"),
                    }
                }
                if busy {
                    continue;
                }
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    () = me.wake.notified() => {}
                    r = next_change(&mut changes) => {
                        // Nothing will ring again: the clock and wake-ups go on alone, rather
                        // than a closed channel answering at once forever.
                        if matches!(r, Err(broadcast::error::RecvError::Closed)) {
                            changes = None;
                        }
                    }
                }
            }
        })
    }

    /// One pass: take or renew the lease (settling interrupted sends when newly taken), fan
    /// queued notifications out, then send what is due within the per-minute ceiling.
    /// Returns the number of deliveries attempted.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        match outbox::lease::take_lease(&self.db, LEASE, &self.holder, self.settings.lease_ttl, now)
            .await?
        {
            Lease::Elsewhere => return Ok(0),
            Lease::Taken => {
                let n = outbox::send::settle_interrupted(&self.db, now).await?;
                if n > 0 {
                    tracing::warn!(
                        deliveries = n,
                        "messages interrupted while sending are marked unknown, not resent"
                    );
                }
            }
            Lease::Renewed => {}
        }
        let channels: Vec<String> = self
            .alert_channels
            .iter()
            .map(|c| c.name.to_string())
            .collect();
        outbox::send::fan_out(&self.db, &channels, now).await?;
        let sent = outbox::send::sent_last_minute(&self.db, now).await?;
        let budget = u64::from(self.settings.per_minute).saturating_sub(sent);
        if budget == 0 {
            return Ok(0);
        }
        let batch = outbox::send::due(&self.db, now, budget.min(100)).await?;
        if batch.is_empty() {
            return Ok(0);
        }
        let ids: HashSet<i64> = batch.iter().filter_map(|d| d.notification_id).collect();
        let notifications = outbox::send::notifications(&self.db, &ids).await?;
        let n = batch.len();
        // A webhook's deliveries go one after the other, in order (its receiver sees events in
        // the order they happened, and a pause stops the rest), and so do an alert channel's
        // (`down` before `recovered`); mails go side by side.
        let mut chains: Vec<Vec<Delivery>> = Vec::new();
        let mut chain_of: std::collections::HashMap<(i64, String), usize> = Default::default();
        for d in batch {
            let key = match (d.channel.as_str(), d.subscriber_id) {
                ("webhook", Some(sid)) => Some((sid, String::new())),
                ("alert", _) => Some((-1, d.recipient.clone())),
                _ => None,
            };
            match key {
                Some(key) => match chain_of.get(&key) {
                    Some(&i) => chains[i].push(d),
                    None => {
                        chain_of.insert(key, chains.len());
                        chains.push(vec![d]);
                    }
                },
                None => chains.push(vec![d]),
            }
        }
        let notifications = &notifications;
        let results: Vec<Result<(), StoreError>> = futures::stream::iter(chains)
            .map(|chain| async move {
                for d in chain {
                    let event = d
                        .notification_id
                        .and_then(|id| notifications.get(&id))
                        .map(|n| &n.event);
                    self.deliver(d, event, now).await?;
                }
                Ok(())
            })
            .buffer_unordered(self.settings.concurrency.max(1))
            .collect()
            .await;
        for r in results {
            r?;
        }
        Ok(n)
    }

    /// Claims, sends and records one delivery.
    async fn deliver(
        &self,
        d: Delivery,
        event: Option<&outbox::Event>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if !outbox::send::claim(&self.db, d.id).await? {
            return Ok(());
        }
        let attempts = d.attempts + 1;
        let outcome = match self.attempt(&d, event).await {
            Attempt::Sent(code) => Outcome::Sent { code },
            Attempt::Temporary(error, code) if attempts < MAX_ATTEMPTS => Outcome::Retry {
                error,
                code,
                at: self.settings.next_attempt(attempts, Utc::now().max(now)),
            },
            Attempt::Temporary(error, code) | Attempt::Permanent(error, code) => {
                Outcome::Failed { error, code }
            }
        };
        if let Outcome::Failed { error, .. } | Outcome::Retry { error, .. } = &outcome {
            tracing::warn!(delivery = d.id, channel = %d.channel, error = %error, "delivery failed");
        }
        let paused =
            outbox::send::record(&self.db, &d, &outcome, PAUSE_AFTER, Utc::now().max(now)).await?;
        if paused {
            tracing::warn!(
                subscriber = d.subscriber_id,
                "webhook paused after {PAUSE_AFTER} failures in a row"
            );
        }
        Ok(())
    }

    /// One attempt at handing `d` over.
    async fn attempt(&self, d: &Delivery, event: Option<&outbox::Event>) -> Attempt {
        match d.channel.as_str() {
            "email" => self.attempt_mail(d, event).await,
            "webhook" => self.attempt_webhook(d, event).await,
            "alert" => self.attempt_alert(d, event).await,
            other => Attempt::Permanent(format!("unknown channel {other}"), None),
        }
    }

    async fn attempt_mail(&self, d: &Delivery, event: Option<&outbox::Event>) -> Attempt {
        let Some(mailer) = &self.mailer else {
            return Attempt::Temporary("no [notifications.smtp] configured".into(), None);
        };
        let rendered = match d.kind.as_str() {
            "confirm" => {
                let l = lang(d.payload.get("language").and_then(|v| v.as_str()));
                let link = d.payload.get("link").and_then(|v| v.as_str()).unwrap_or("");
                let webhook = d.payload.get("webhook").and_then(|v| v.as_str());
                mail::confirmation(&self.site, l, link, webhook)
            }
            "event" => {
                let Some(event) = event else {
                    return Attempt::Permanent("its notification is gone".into(), None);
                };
                let sub = match d.subscriber_id {
                    Some(id) => store::subscribers::get(&self.db, id).await,
                    None => Ok(None),
                };
                let sub = match sub {
                    Ok(Some(s)) => s,
                    Ok(None) => return Attempt::Permanent("no such subscriber".into(), None),
                    Err(e) => return Attempt::Temporary(e.to_string(), None),
                };
                let footer = self.footer(&sub);
                match mail::event(&self.site, lang(Some(&sub.language)), event, &footer) {
                    Some(r) => r,
                    None => return Attempt::Permanent("not a reader's event".into(), None),
                }
            }
            other => return Attempt::Permanent(format!("unknown mail kind {other}"), None),
        };
        let msg = match mail::message(&mailer.from, &d.recipient, &rendered) {
            Ok(m) => m,
            Err(e) => return Attempt::Permanent(e, None),
        };
        match mailer.send(msg).await {
            Ok(()) => Attempt::Sent(Some(250)),
            Err(mail::SendError::Temporary(e, c)) => Attempt::Temporary(e, c),
            Err(mail::SendError::Permanent(e, c)) => Attempt::Permanent(e, c),
        }
    }

    async fn attempt_webhook(&self, d: &Delivery, event: Option<&outbox::Event>) -> Attempt {
        let Some(event) = event else {
            return Attempt::Permanent("its notification is gone".into(), None);
        };
        let sub = match d.subscriber_id {
            Some(id) => store::subscribers::get(&self.db, id).await,
            None => Ok(None),
        };
        let sub = match sub {
            Ok(Some(s)) => s,
            Ok(None) => return Attempt::Permanent("no such webhook".into(), None),
            Err(e) => return Attempt::Temporary(e.to_string(), None),
        };
        let now = Utc::now();
        let page = match self.page_info(lang(Some(&sub.language)), now).await {
            Ok(p) => p,
            Err(e) => return Attempt::Temporary(e.to_string(), None),
        };
        let footer = self.footer(&sub);
        let body = webhook::payload(event, &page, &self.site.base_url, &footer.unsubscribe, now);
        match self
            .caller
            .post(&sub.address, &self.webhook_secret(&sub), &body)
            .await
        {
            Ok(code) => Attempt::Sent(Some(code)),
            Err(webhook::CallError::Temporary(e, c)) => Attempt::Temporary(e, c),
            Err(webhook::CallError::Permanent(e, c)) => Attempt::Permanent(e, c),
        }
    }

    /// Sends an alert to the channel named by the delivery's recipient.
    async fn attempt_alert(&self, d: &Delivery, event: Option<&outbox::Event>) -> Attempt {
        let Some(event @ outbox::Event::Alert(a)) = event else {
            return Attempt::Permanent("its alert is gone".into(), None);
        };
        let Some(channel) = self
            .alert_channels
            .iter()
            .find(|c| c.name.as_str() == d.recipient)
        else {
            return Attempt::Permanent("no such alert channel in the configuration".into(), None);
        };
        let words = alerts::words(a, self.default_locale, &self.site.base_url);
        if channel.kind == domain::config::notify::AlertKind::Email {
            let Some(mailer) = &self.mailer else {
                return Attempt::Temporary("no [notifications.smtp] configured".into(), None);
            };
            let to = channel.to.as_deref().unwrap_or_default();
            let msg = match mail::message(&mailer.from, to, &alerts::mail(&words, &self.site)) {
                Ok(m) => m,
                Err(e) => return Attempt::Permanent(e, None),
            };
            return match mailer.send(msg).await {
                Ok(()) => Attempt::Sent(Some(250)),
                Err(mail::SendError::Temporary(e, c)) => Attempt::Temporary(e, c),
                Err(mail::SendError::Permanent(e, c)) => Attempt::Permanent(e, c),
            };
        }
        let now = Utc::now();
        let page = if channel.kind == domain::config::notify::AlertKind::Webhook {
            match self.page_info(self.default_locale, now).await {
                Ok(p) => Some(p),
                Err(e) => return Attempt::Temporary(e.to_string(), None),
            }
        } else {
            None
        };
        let webhook_body = || match &page {
            Some(p) => webhook::payload(event, p, &self.site.base_url, "", now),
            None => serde_json::Value::Null,
        };
        let call = match alerts::call(channel, &words, webhook_body, d.id, a.at) {
            Ok(c) => c,
            // A secret that cannot be read may be there on the next try (a mounted file).
            Err(e) => return Attempt::Temporary(e, None),
        };
        match alerts::send(&self.caller, call).await {
            Ok(code) => Attempt::Sent(Some(code)),
            Err(webhook::CallError::Temporary(e, c)) => Attempt::Temporary(e, c),
            Err(webhook::CallError::Permanent(e, c)) => Attempt::Permanent(e, c),
        }
    }

    /// The page's id and overall status, as `/api/v2/status.json` says it.
    pub async fn page_info(
        &self,
        l: Locale,
        now: DateTime<Utc>,
    ) -> Result<webhook::PageInfo, StoreError> {
        let states: Vec<domain::status::ServiceState> = store::api_read::catalog(&self.db, now)
            .await?
            .iter()
            .flat_map(|g| g.services.iter().map(|s| s.state))
            .collect();
        let impacts: Vec<domain::incident::Impact> =
            store::incidents::read::open_incidents(&self.db)
                .await?
                .into_iter()
                .map(|i| i.impact)
                .collect();
        let maintenance = !store::maintenance::active(&self.db, now).await?.is_empty();
        let (indicator, description) =
            domain::statuspage::page_status(&states, &impacts, maintenance, l);
        Ok(webhook::PageInfo {
            id: domain::statuspage::page_id(&self.site.base_url),
            status_indicator: serde_json::to_value(indicator)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            status_description: description.to_owned(),
        })
    }

    /// A webhook's signing secret: derived from the installation key, its id and URL, so it
    /// is never stored; shown to whoever created it.
    pub fn webhook_secret(&self, sub: &store::subscribers::Subscriber) -> String {
        self.signer
            .derive(&format!("webhook:{}:{}", sub.id, sub.address))
    }

    /// The preferences and unsubscribe links of a subscriber.
    pub fn footer(&self, sub: &store::subscribers::Subscriber) -> html::Footer {
        let holder = token::Holder {
            id: sub.id,
            a: sub.address.clone(),
        };
        html::Footer {
            manage: format!(
                "{}/subscribe/manage?t={}",
                self.site.base_url,
                self.signer.sign("manage", &holder)
            ),
            unsubscribe: format!(
                "{}/subscribe/unsubscribe?t={}",
                self.site.base_url,
                self.signer.sign("unsubscribe", &holder)
            ),
        }
    }
}

/// The next message on `changes`, or never once it is gone.
async fn next_change<C: Clone>(
    changes: &mut Option<broadcast::Receiver<C>>,
) -> Result<C, broadcast::error::RecvError> {
    match changes {
        Some(c) => c.recv().await,
        None => std::future::pending().await,
    }
}

/// What one attempt came to.
enum Attempt {
    Sent(Option<i32>),
    Temporary(String, Option<i32>),
    Permanent(String, Option<i32>),
}

/// A stored language code as a locale (French when unknown).
pub fn lang(code: Option<&str>) -> Locale {
    code.and_then(Locale::from_tag).unwrap_or(Locale::Fr)
}
