//! Measurements of the scheduler and the engine: lock-free counters and latency histograms
//! read by the benchmarks ([`EngineStats`]), and the same events given to the `metrics`
//! facade under Prometheus names ([`describe`], [`BUCKETS`]) for whoever installs a recorder
//! (the server's `/metrics`). Without a recorder the facade calls do nothing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::config::MonitorKind;
use domain::status::CheckOutcome;
use domain::topology::MonitorKey;

/// Checks completed, by monitor kind and outcome.
pub const CHECKS_TOTAL: &str = "vigie_probe_checks_total";
/// How long each check took, by monitor kind (the timeout included when it ran out).
pub const CHECK_DURATION: &str = "vigie_probe_check_duration_seconds";
/// How late each check started against its schedule.
pub const SCHEDULE_LAG: &str = "vigie_probe_schedule_lag_seconds";
/// How long each batch of results took to write.
pub const WRITE_DURATION: &str = "vigie_database_write_duration_seconds";
/// Batches of results written, and batches that failed.
pub const WRITE_BATCHES_TOTAL: &str = "vigie_probe_write_batches_total";
pub const WRITE_ERRORS_TOTAL: &str = "vigie_probe_write_errors_total";
/// Results held in memory, not yet written (grows while the database is unreachable).
pub const UNWRITTEN: &str = "vigie_probe_unwritten_results";
/// When each TLS monitor's leaf certificate expires (Unix seconds): days left are
/// `(x - time()) / 86400`. A timestamp, not a countdown, so it is right between checks and
/// in base units.
pub const CERT_EXPIRY: &str = "vigie_certificate_expiry_timestamp_seconds";

/// Histogram bucket bounds (seconds) for the histograms above; a recorder renders them as
/// histograms with these buckets (the Prometheus exporter would make summaries otherwise).
pub const BUCKETS: &[(&str, &[f64])] = &[
    (
        CHECK_DURATION,
        &[
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
        ],
    ),
    (
        SCHEDULE_LAG,
        &[
            0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
        ],
    ),
    (
        WRITE_DURATION,
        &[
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
        ],
    ),
];

/// Gives the recorder the help text and unit of every series above.
pub fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        CHECKS_TOTAL,
        "Checks this process's probes completed, by monitor kind and outcome."
    );
    describe_histogram!(
        CHECK_DURATION,
        Unit::Seconds,
        "Time one check took, by monitor kind (its timeout when it ran out)."
    );
    describe_histogram!(
        SCHEDULE_LAG,
        Unit::Seconds,
        "How late checks started against their schedule (waiting for a concurrency permit included)."
    );
    describe_histogram!(
        WRITE_DURATION,
        Unit::Seconds,
        "Time to write one batch of probe results to the database."
    );
    describe_counter!(
        WRITE_BATCHES_TOTAL,
        "Batches of probe results written to the database (failed ones included)."
    );
    describe_counter!(
        WRITE_ERRORS_TOTAL,
        "Batches of probe results that could not be written (kept and retried)."
    );
    describe_gauge!(
        UNWRITTEN,
        "Probe results held in memory because they are not written yet."
    );
    describe_gauge!(
        CERT_EXPIRY,
        Unit::Seconds,
        "When the TLS monitor's leaf certificate expires, in Unix seconds, as last seen."
    );
}

/// One check done: its duration by kind, its outcome, and a certificate's expiry if it read
/// one. `lag` went to [`record_lag`] when the check started.
pub(crate) fn record_check(
    key: &MonitorKey,
    kind: MonitorKind,
    outcome: CheckOutcome,
    took: Duration,
    certificate_expires: Option<DateTime<Utc>>,
) {
    let kind = kind.as_str();
    metrics::histogram!(CHECK_DURATION, "kind" => kind).record(took.as_secs_f64());
    metrics::counter!(CHECKS_TOTAL, "kind" => kind, "outcome" => outcome.as_str()).increment(1);
    if let Some(expires) = certificate_expires {
        metrics::gauge!(CERT_EXPIRY, "monitor" => key.to_string()).set(expires.timestamp() as f64);
    }
}

/// How late one check started.
pub(crate) fn record_lag(lag: Duration) {
    metrics::histogram!(SCHEDULE_LAG).record(lag.as_secs_f64());
}

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
