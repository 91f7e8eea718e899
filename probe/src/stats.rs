//! Measurements of the scheduler and the engine: lock-free counters and latency histograms.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (ms) of the engine's latency histograms; the last bucket is open.
const BOUNDS_MS: [u64; 17] = [
    1, 2, 5, 10, 20, 50, 100, 200, 300, 500, 750, 1_000, 1_500, 2_000, 5_000, 10_000, 30_000,
];

/// A lock-free histogram of durations, read as upper-bound quantiles.
#[derive(Default)]
pub struct Histogram {
    counts: [AtomicU64; BOUNDS_MS.len() + 1],
}

impl Histogram {
    pub fn record(&self, d: Duration) {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let i = BOUNDS_MS
            .iter()
            .position(|b| ms <= *b)
            .unwrap_or(BOUNDS_MS.len());
        self.counts[i].fetch_add(1, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    /// The upper bound of the bucket holding the `q`-quantile; `None` when empty or in the
    /// open bucket above the last bound.
    pub fn quantile_ms(&self, q: f64) -> Option<u64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let wanted = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c.load(Ordering::Relaxed);
            if seen >= wanted {
                return BOUNDS_MS.get(i).copied();
            }
        }
        None
    }
}

/// What the scheduler and the engine measure about themselves (benchmarks, `/metrics`). The
/// scheduler fills `checks` and `lag`; the engine's collector the batch figures.
#[derive(Default)]
pub struct EngineStats {
    /// Checks completed.
    pub checks: AtomicU64,
    /// Batches written, and batches that failed.
    pub batches: AtomicU64,
    pub write_errors: AtomicU64,
    /// How late each check started against its schedule (permits included).
    pub lag: Histogram,
    /// How long each batch write took.
    pub write: Histogram,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_quantiles_are_bucket_upper_bounds() {
        let h = Histogram::default();
        assert_eq!(h.quantile_ms(0.5), None);
        for ms in [0, 3, 4, 40, 600] {
            h.record(Duration::from_millis(ms));
        }
        assert_eq!(h.count(), 5);
        assert_eq!(h.quantile_ms(0.5), Some(5));
        assert_eq!(h.quantile_ms(0.99), Some(750));
        h.record(Duration::from_secs(60));
        assert_eq!(h.quantile_ms(1.0), None, "open bucket");
    }
}
