//! Sign-in throttling that nobody can turn against someone else.
//!
//! Attempts are counted per (account, address) and per address, never per account alone: a
//! stranger's failures from elsewhere can never refuse the right password from a clean
//! address. Each counter lets a few failures through for free, then each further attempt
//! waits, twice as long after every failure (capped at [`MAX_DELAY`]).
//!
//! An attempt is charged *before* its password is checked ([`Throttle::begin`]), under the
//! counter's lock, and refunded on success: forty concurrent guesses see the counter move
//! and at most the free budget is checked. An attempt that never reached a verdict (the
//! hashing slots were busy, the database failed) is refunded too.
//!
//! An account failing from many addresses ([`UNDER_ATTACK`] failures within an hour) is
//! *under attack*: from then on each address gets a single free failure on it instead of
//! [`PAIR_FREE_FAILURES`], and [`Attempt::failed`] says so once an hour, for the audit log.
//!
//! Counters live in a bounded cache (at most [`CAPACITY`] entries, least recently used evicted
//! first, forgotten after an hour without failures): memory stays bounded whatever the flood,
//! and a restart forgets, which only ever helps the rightful user.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use moka::sync::Cache;

/// Failures allowed per (account, address) before waiting.
pub const PAIR_FREE_FAILURES: u32 = 5;
/// Failures allowed per address, whatever the accounts, before waiting (higher: offices share
/// addresses).
pub const ADDRESS_FREE_FAILURES: u32 = 20;
/// Failures on one account, from all addresses within an hour, that mark it under attack.
pub const UNDER_ATTACK: u32 = 20;
/// The longest wait.
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// Counters unused for this long are forgotten.
pub const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);
/// Counters kept at most (each is a few dozen bytes plus the account's name).
pub const CAPACITY: u64 = 100_000;

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
enum Key {
    Pair(String, IpAddr),
    Address(IpAddr),
    Account(String),
}

#[derive(Debug)]
struct Counter {
    /// Attempts charged (failures, plus attempts still being checked).
    charged: u32,
    last: Instant,
    /// Account counters only: when staff were last told it is under attack.
    reported: Option<Instant>,
}

impl Counter {
    fn wait(&self, free: u32, now: Instant) -> Option<Duration> {
        if self.charged < free {
            return None;
        }
        let until = self.last + delay(self.charged + 1 - free);
        (until > now).then(|| until - now)
    }
}

/// The wait after `over` attempts beyond the free ones: 1 s, 2 s, 4 s… up to [`MAX_DELAY`].
fn delay(over: u32) -> Duration {
    Duration::from_secs(1u64 << over.saturating_sub(1).min(16)).min(MAX_DELAY)
}

/// Counts sign-in attempts.
pub struct Throttle {
    counters: Cache<Key, Arc<Mutex<Counter>>>,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle")
            .field("counters", &self.counters.entry_count())
            .finish()
    }
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle {
            counters: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_idle(FORGET_AFTER)
                .build(),
        }
    }
}

/// An attempt was refused: try again after `wait`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused {
    pub wait: Duration,
}

/// One charged attempt. Say how it ended with [`Attempt::failed`] or [`Attempt::succeeded`];
/// dropped without a verdict it is refunded.
#[derive(Debug)]
pub struct Attempt {
    throttle: Arc<Throttle>,
    account: String,
    address: IpAddr,
    settled: bool,
}

/// What a failure tells staff: the account just turned out to be under attack (once an hour
/// per account), with the number of failures seen within the hour.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnderAttack {
    pub account: String,
    pub failures: u32,
}

impl Throttle {
    fn counter(&self, key: Key, now: Instant) -> Arc<Mutex<Counter>> {
        let counter = self.counters.get_with(key, || {
            Arc::new(Mutex::new(Counter {
                charged: 0,
                last: now,
                reported: None,
            }))
        });
        {
            let mut c = counter.lock().unwrap_or_else(|e| e.into_inner());
            if now.saturating_duration_since(c.last) >= FORGET_AFTER {
                c.charged = 0;
            }
        }
        counter
    }

    fn under_attack(&self, account: &str, now: Instant) -> bool {
        self.counters
            .get(&Key::Account(account.to_owned()))
            .is_some_and(|c| {
                let c = c.lock().unwrap_or_else(|e| e.into_inner());
                c.charged >= UNDER_ATTACK && now.saturating_duration_since(c.last) < FORGET_AFTER
            })
    }

    /// Charges an attempt on `account` from `address`, or says how long to wait. Check and
    /// charge happen under the counters' locks: concurrent attempts are counted one by one.
    pub fn begin(
        self: &Arc<Self>,
        account: &str,
        address: IpAddr,
        now: Instant,
    ) -> Result<Attempt, Refused> {
        let address = crate::limits::bucket(address);
        let pair_free = if self.under_attack(account, now) {
            1
        } else {
            PAIR_FREE_FAILURES
        };
        let by_address = self.counter(Key::Address(address), now);
        let by_pair = self.counter(Key::Pair(account.to_owned(), address), now);
        // Always this order (address, then pair), so two attempts never wait on each other.
        let mut a = by_address.lock().unwrap_or_else(|e| e.into_inner());
        let mut p = by_pair.lock().unwrap_or_else(|e| e.into_inner());
        let wait = [a.wait(ADDRESS_FREE_FAILURES, now), p.wait(pair_free, now)]
            .into_iter()
            .flatten()
            .max();
        if let Some(wait) = wait {
            return Err(Refused { wait });
        }
        for c in [&mut *a, &mut *p] {
            c.charged += 1;
            c.last = now;
        }
        Ok(Attempt {
            throttle: self.clone(),
            account: account.to_owned(),
            address,
            settled: false,
        })
    }

    fn refund(&self, key: Key, all: bool) {
        if let Some(c) = self.counters.get(&key) {
            let mut c = c.lock().unwrap_or_else(|e| e.into_inner());
            c.charged = if all { 0 } else { c.charged.saturating_sub(1) };
        }
    }
}

impl Attempt {
    /// The password or code was wrong: the charge stays. Returns `Some` when this failure
    /// shows the account under attack and staff have not been told within the hour.
    pub fn failed(mut self, now: Instant) -> Option<UnderAttack> {
        self.settled = true;
        // The wait runs from the verdict, not from the start of a check that took a while.
        for key in [
            Key::Pair(self.account.clone(), self.address),
            Key::Address(self.address),
        ] {
            if let Some(c) = self.throttle.counters.get(&key) {
                let mut c = c.lock().unwrap_or_else(|e| e.into_inner());
                c.last = c.last.max(now);
            }
        }
        let account = self
            .throttle
            .counter(Key::Account(self.account.clone()), now);
        let mut c = account.lock().unwrap_or_else(|e| e.into_inner());
        c.charged += 1;
        c.last = now;
        let due = c
            .reported
            .is_none_or(|at| now.saturating_duration_since(at) >= FORGET_AFTER);
        (c.charged >= UNDER_ATTACK && due).then(|| {
            c.reported = Some(now);
            UnderAttack {
                account: self.account.clone(),
                failures: c.charged,
            }
        })
    }

    /// Signed in: this (account, address) starts afresh, and the address gets its charge back.
    pub fn succeeded(mut self) {
        self.settled = true;
        self.throttle
            .refund(Key::Pair(self.account.clone(), self.address), true);
        self.throttle.refund(Key::Address(self.address), false);
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if !self.settled {
            self.throttle
                .refund(Key::Pair(self.account.clone(), self.address), false);
            self.throttle.refund(Key::Address(self.address), false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn five_failures_from_one_address_make_it_wait_longer_each_time_there_only() {
        let t = Arc::new(Throttle::default());
        let now = Instant::now();
        for _ in 0..PAIR_FREE_FAILURES {
            let attempt = t.begin("a@x", ip("1.1.1.1"), now).expect("free");
            assert_eq!(attempt.failed(now), None);
        }
        let refused = t.begin("a@x", ip("1.1.1.1"), now).expect_err("waits");
        assert_eq!(refused.wait, Duration::from_secs(1));
        let later = now + Duration::from_secs(1);
        t.begin("a@x", ip("1.1.1.1"), later)
            .expect("after the wait")
            .failed(later);
        assert_eq!(
            t.begin("a@x", ip("1.1.1.1"), later)
                .expect_err("waits")
                .wait,
            Duration::from_secs(2)
        );
        // Another address is not refused, and its success does not clear the first one.
        t.begin("a@x", ip("2.2.2.2"), later)
            .expect("clean address")
            .succeeded();
        assert!(t.begin("a@x", ip("1.1.1.1"), later).is_err());
    }

    #[test]
    fn concurrent_attempts_are_charged_before_they_are_checked() {
        let t = Arc::new(Throttle::default());
        let now = Instant::now();
        let held: Vec<_> = (0..40)
            .filter_map(|_| t.begin("a@x", ip("1.1.1.1"), now).ok())
            .collect();
        assert_eq!(held.len(), PAIR_FREE_FAILURES as usize);
        // Attempts that never reached a verdict are given back.
        drop(held);
        assert!(t.begin("a@x", ip("1.1.1.1"), now).is_ok());
    }

    #[test]
    fn one_address_trying_many_accounts_is_slowed_down_and_others_are_not() {
        let t = Arc::new(Throttle::default());
        let now = Instant::now();
        for i in 0..ADDRESS_FREE_FAILURES {
            t.begin(&format!("user{i}@x"), ip("6.6.6.6"), now)
                .expect("free")
                .failed(now);
        }
        assert!(t.begin("fresh@x", ip("6.6.6.6"), now).is_err());
        assert!(t.begin("fresh@x", ip("7.7.7.7"), now).is_ok());
    }

    #[test]
    fn an_account_failing_from_many_addresses_is_reported_once_and_gets_one_guess_per_address() {
        let t = Arc::new(Throttle::default());
        let now = Instant::now();
        let mut reports = Vec::new();
        for i in 0..UNDER_ATTACK + 5 {
            let attempt = t
                .begin("boss@x", ip(&format!("10.0.{}.{}", i / 200, i % 200)), now)
                .expect("a clean address is never refused");
            reports.extend(attempt.failed(now));
        }
        assert_eq!(
            reports,
            vec![UnderAttack {
                account: "boss@x".into(),
                failures: UNDER_ATTACK
            }]
        );
        let fresh = ip("192.0.2.1");
        t.begin("boss@x", fresh, now).expect("clean").failed(now);
        assert!(
            t.begin("boss@x", fresh, now).is_err(),
            "under attack: one free failure per address"
        );
        t.begin("boss@x", ip("192.0.2.2"), now)
            .expect("the right password from a clean address is still checked")
            .succeeded();
    }

    #[test]
    fn an_ipv6_64_is_one_address() {
        let t = Arc::new(Throttle::default());
        let now = Instant::now();
        for i in 0..PAIR_FREE_FAILURES {
            t.begin("a@x", ip(&format!("2001:db8::{i:x}")), now)
                .expect("free")
                .failed(now);
        }
        assert!(t.begin("a@x", ip("2001:db8::ffff"), now).is_err());
        assert!(t.begin("a@x", ip("2001:db8:0:1::1"), now).is_ok());
    }

    #[test]
    fn delay_doubles_and_is_capped() {
        assert_eq!(delay(1), Duration::from_secs(1));
        assert_eq!(delay(3), Duration::from_secs(4));
        assert_eq!(delay(100), MAX_DELAY);
    }
}
