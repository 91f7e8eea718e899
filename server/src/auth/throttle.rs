//! Sign-in throttling: failures are counted per account and per client address; past a
//! threshold each further attempt must wait, twice as long after every new failure (capped).
//! Kept in memory: a restart forgets, which only ever helps the rightful user.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed per account before waiting.
pub const ACCOUNT_FREE_FAILURES: u32 = 5;
/// Failures allowed per address before waiting (higher: offices share addresses).
pub const ADDRESS_FREE_FAILURES: u32 = 10;
/// The longest wait.
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// Failures older than this are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

#[derive(Clone, Copy, Debug)]
struct Entry {
    failures: u32,
    last: Instant,
}

/// Counts failed sign-ins.
#[derive(Debug, Default)]
pub struct Throttle {
    entries: Mutex<HashMap<String, Entry>>,
}

fn delay(failures: u32, free: u32) -> Duration {
    if failures < free {
        return Duration::ZERO;
    }
    let exp = (failures - free).min(10);
    Duration::from_secs(1u64 << exp).min(MAX_DELAY)
}

fn keys(account: &str, address: &str) -> [(String, u32); 2] {
    [
        (format!("account:{account}"), ACCOUNT_FREE_FAILURES),
        (format!("address:{address}"), ADDRESS_FREE_FAILURES),
    ]
}

impl Throttle {
    /// How long the client must still wait before trying `account` again, if at all.
    pub fn wait(&self, account: &str, address: &str, now: Instant) -> Option<Duration> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        keys(account, address)
            .iter()
            .filter_map(|(k, free)| {
                let e = entries.get(k)?;
                let until = e.last + delay(e.failures, *free);
                (until > now).then(|| until - now)
            })
            .max()
    }

    /// Records a failed attempt.
    pub fn failed(&self, account: &str, address: &str, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() > 100_000 {
            entries.retain(|_, e| now.duration_since(e.last) < FORGET_AFTER);
        }
        for (k, _) in keys(account, address) {
            let e = entries.entry(k).or_insert(Entry {
                failures: 0,
                last: now,
            });
            if now.duration_since(e.last) >= FORGET_AFTER {
                e.failures = 0;
            }
            e.failures += 1;
            e.last = now;
        }
    }

    /// A successful sign-in clears the account's count (not the address's).
    pub fn succeeded(&self, account: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(&format!("account:{account}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_account_failures_make_the_next_attempt_wait_longer_each_time() {
        let t = Throttle::default();
        let now = Instant::now();
        for _ in 0..4 {
            t.failed("a@x", "1.1.1.1", now);
            assert_eq!(t.wait("a@x", "1.1.1.1", now), None);
        }
        t.failed("a@x", "1.1.1.1", now);
        assert_eq!(t.wait("a@x", "2.2.2.2", now), Some(Duration::from_secs(1)));
        t.failed("a@x", "1.1.1.1", now);
        assert_eq!(t.wait("a@x", "2.2.2.2", now), Some(Duration::from_secs(2)));
        assert_eq!(
            t.wait("b@x", "2.2.2.2", now),
            None,
            "other accounts are free"
        );
        t.succeeded("a@x");
        assert_eq!(t.wait("a@x", "2.2.2.2", now), None);
    }

    #[test]
    fn one_address_trying_many_accounts_is_slowed_down() {
        let t = Throttle::default();
        let now = Instant::now();
        for i in 0..ADDRESS_FREE_FAILURES {
            t.failed(&format!("user{i}@x"), "6.6.6.6", now);
        }
        assert!(t.wait("fresh@x", "6.6.6.6", now).is_some());
        assert!(t.wait("fresh@x", "7.7.7.7", now).is_none());
    }

    #[test]
    fn delay_is_capped() {
        assert_eq!(delay(100, 5), MAX_DELAY);
    }
}
