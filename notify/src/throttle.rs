//! Limits on subscription requests, so the form cannot be used to mail-bomb an address or
//! flood the outbox: per client address and per subscribed address, in fixed windows. Kept in
//! a bounded cache (moka): memory stays capped whatever the traffic; a restart forgets.

use std::time::Duration;

use moka::sync::Cache;

/// Requests one client address may make per window.
pub const PER_CLIENT: u32 = 10;
/// Confirmation mails one address may receive per window.
pub const PER_ADDRESS: u32 = 3;
/// The window.
pub const WINDOW: Duration = Duration::from_secs(60 * 60);
/// Keys remembered at most (oldest evicted first).
const CAPACITY: u64 = 100_000;

/// Counters per key.
#[derive(Clone)]
pub struct Limits {
    counts: Cache<String, u32>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            counts: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(WINDOW)
                .build(),
        }
    }
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Limits({} keys)", self.counts.entry_count())
    }
}

impl Limits {
    /// Counts one request under `key`; false when it goes over `max`.
    fn hit(&self, key: String, max: u32) -> bool {
        let n = self
            .counts
            .entry(key)
            .and_upsert_with(|e| e.map_or(1, |v| v.into_value().saturating_add(1)))
            .into_value();
        n <= max
    }

    /// Counts a request from client `ip`; false when it must be refused.
    pub fn client(&self, ip: &str) -> bool {
        self.hit(format!("ip:{ip}"), PER_CLIENT)
    }

    /// Counts a confirmation mail to `address`; false when none must be sent.
    pub fn address(&self, address: &str) -> bool {
        self.hit(format!("to:{address}"), PER_ADDRESS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_count_per_key() {
        let l = Limits::default();
        for _ in 0..PER_ADDRESS {
            assert!(l.address("a@example.org"));
        }
        assert!(!l.address("a@example.org"));
        assert!(l.address("b@example.org"));
        for _ in 0..PER_CLIENT {
            assert!(l.client("192.0.2.1"));
        }
        assert!(!l.client("192.0.2.1"));
        assert!(l.client("192.0.2.2"));
    }
}
