//! Uptime maths for the hourly and daily rollups: which stretch of time a result accounts for,
//! how that stretch splits across hour and day buckets, and a small latency histogram that can
//! be updated one result at a time and still answer p50 / p95.
//!
//! A result accounts for the time since the previous result of the same monitor and location.
//! When that gap is longer than [`STALE_AFTER_INTERVALS`] intervals (Vigie was not running, or
//! could not probe), only one interval is credited to the previous outcome and the rest is
//! no-data: Vigie's own downtime is never the watched service's downtime.

use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::status::CheckOutcome;

/// A result older than this many intervals is stale: "no data", never green.
pub const STALE_AFTER_INTERVALS: u32 = 3;

/// Whether a result taken at `at` is still fresh at `now` for a monitor checked every `interval`.
pub fn is_fresh(at: DateTime<Utc>, interval: Duration, now: DateTime<Utc>) -> bool {
    let limit = TimeDelta::from_std(interval * STALE_AFTER_INTERVALS).unwrap_or(TimeDelta::MAX);
    now - at <= limit
}

/// The size of a rollup bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Hour,
    Day,
}

impl Period {
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Hour => "hour",
            Period::Day => "day",
        }
    }

    fn delta(self) -> TimeDelta {
        match self {
            Period::Hour => TimeDelta::hours(1),
            Period::Day => TimeDelta::days(1),
        }
    }

    /// The start of the bucket holding `t` (UTC).
    pub fn bucket(self, t: DateTime<Utc>) -> DateTime<Utc> {
        t.duration_trunc(self.delta()).unwrap_or(t)
    }
}

/// What a stretch of time counts as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Coverage {
    Up,
    Degraded,
    Down,
    NoData,
}

impl From<CheckOutcome> for Coverage {
    fn from(o: CheckOutcome) -> Self {
        match o {
            CheckOutcome::Up => Coverage::Up,
            CheckOutcome::Degraded => Coverage::Degraded,
            CheckOutcome::Down => Coverage::Down,
        }
    }
}

/// A stretch of time `[start, end)` and what it counts as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub coverage: Coverage,
}

/// The time a new result at `at` accounts for, given the previous result of the same monitor
/// and location. The first result ever accounts for nothing; a result older than the previous
/// one (clock skew, out-of-order batches) accounts for nothing either.
pub fn spans(
    previous: Option<(DateTime<Utc>, CheckOutcome)>,
    at: DateTime<Utc>,
    interval: Duration,
) -> Vec<Span> {
    let Some((prev_at, prev)) = previous else {
        return Vec::new();
    };
    if at <= prev_at {
        return Vec::new();
    }
    let step = TimeDelta::from_std(interval).unwrap_or(TimeDelta::MAX);
    if is_fresh(prev_at, interval, at) {
        return vec![Span {
            start: prev_at,
            end: at,
            coverage: prev.into(),
        }];
    }
    let credited = prev_at.checked_add_signed(step).unwrap_or(at).min(at);
    vec![
        Span {
            start: prev_at,
            end: credited,
            coverage: prev.into(),
        },
        Span {
            start: credited,
            end: at,
            coverage: Coverage::NoData,
        },
    ]
}

/// Splits `span` at `period` boundaries: `(bucket start, milliseconds)` pairs, in order.
pub fn split(span: Span, period: Period) -> Vec<(DateTime<Utc>, i64)> {
    let mut out = Vec::new();
    let mut cur = span.start;
    while cur < span.end {
        let bucket = period.bucket(cur);
        let next = (bucket + period.delta()).min(span.end);
        out.push((bucket, (next - cur).num_milliseconds()));
        cur = next;
    }
    out
}

/// Upper bounds (ms) of the latency histogram's buckets; the last bucket is open.
pub const LATENCY_BOUNDS_MS: [u32; 20] = [
    5, 10, 20, 35, 50, 75, 100, 150, 200, 300, 500, 750, 1_000, 1_500, 2_000, 3_000, 5_000, 7_500,
    10_000, 30_000,
];

/// Counts of latencies per bucket of [`LATENCY_BOUNDS_MS`] (plus one open bucket), mergeable and
/// storable as text, with the exact maximum alongside.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatencyHistogram {
    pub counts: Vec<u32>,
    pub max_ms: Option<u32>,
}

impl LatencyHistogram {
    pub fn add(&mut self, ms: u32) {
        if self.counts.len() != LATENCY_BOUNDS_MS.len() + 1 {
            self.counts.resize(LATENCY_BOUNDS_MS.len() + 1, 0);
        }
        let i = LATENCY_BOUNDS_MS
            .iter()
            .position(|b| ms <= *b)
            .unwrap_or(LATENCY_BOUNDS_MS.len());
        self.counts[i] = self.counts[i].saturating_add(1);
        self.max_ms = Some(self.max_ms.map_or(ms, |m| m.max(ms)));
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().map(|c| u64::from(*c)).sum()
    }

    /// The `q`-quantile (0 < q ≤ 1) as the upper bound of its bucket, never above the maximum.
    pub fn quantile(&self, q: f64) -> Option<u32> {
        let total = self.total();
        if total == 0 {
            return None;
        }
        // Rank of the wanted sample, 1-based: ceil(q * total), at least 1.
        let wanted = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (i, c) in self.counts.iter().enumerate() {
            seen += u64::from(*c);
            if seen >= wanted {
                let bound = LATENCY_BOUNDS_MS.get(i).copied().unwrap_or(u32::MAX);
                return Some(self.max_ms.map_or(bound, |m| bound.min(m)));
            }
        }
        self.max_ms
    }

    /// Compact text for a database column: the counts, comma-separated.
    pub fn to_text(&self) -> String {
        self.counts
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Reads [`Self::to_text`]'s output back; `max_ms` is kept in its own column.
    pub fn from_text(text: &str, max_ms: Option<u32>) -> Option<Self> {
        let counts = if text.is_empty() {
            Vec::new()
        } else {
            text.split(',')
                .map(|c| c.parse().ok())
                .collect::<Option<Vec<u32>>>()?
        };
        if !counts.is_empty() && counts.len() != LATENCY_BOUNDS_MS.len() + 1 {
            return None;
        }
        Some(LatencyHistogram { counts, max_ms })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 27, h, m, s)
            .single()
            .expect("time")
    }

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn first_result_accounts_for_nothing() {
        assert!(spans(None, t(12, 0, 0), MIN).is_empty());
    }

    #[test]
    fn a_result_accounts_for_the_time_since_the_previous_one_at_the_previous_outcome() {
        let s = spans(Some((t(12, 0, 0), CheckOutcome::Down)), t(12, 1, 0), MIN);
        assert_eq!(
            s,
            vec![Span {
                start: t(12, 0, 0),
                end: t(12, 1, 0),
                coverage: Coverage::Down
            }]
        );
    }

    #[test]
    fn a_gap_longer_than_three_intervals_is_no_data_after_one_interval() {
        let s = spans(Some((t(12, 0, 0), CheckOutcome::Up)), t(12, 10, 0), MIN);
        assert_eq!(
            s,
            vec![
                Span {
                    start: t(12, 0, 0),
                    end: t(12, 1, 0),
                    coverage: Coverage::Up
                },
                Span {
                    start: t(12, 1, 0),
                    end: t(12, 10, 0),
                    coverage: Coverage::NoData
                },
            ]
        );
        // Exactly three intervals is still fresh.
        assert_eq!(
            spans(Some((t(12, 0, 0), CheckOutcome::Up)), t(12, 3, 0), MIN).len(),
            1
        );
    }

    #[test]
    fn results_out_of_order_account_for_nothing() {
        assert!(spans(Some((t(12, 0, 0), CheckOutcome::Up)), t(11, 59, 0), MIN).is_empty());
        assert!(spans(Some((t(12, 0, 0), CheckOutcome::Up)), t(12, 0, 0), MIN).is_empty());
    }

    #[test]
    fn a_span_across_an_hour_boundary_is_split_between_both_hours() {
        let span = Span {
            start: t(12, 59, 30),
            end: t(13, 0, 45),
            coverage: Coverage::Up,
        };
        assert_eq!(
            split(span, Period::Hour),
            vec![(t(12, 0, 0), 30_000), (t(13, 0, 0), 45_000)]
        );
        assert_eq!(split(span, Period::Day), vec![(t(0, 0, 0), 75_000)]);
    }

    #[test]
    fn a_span_across_midnight_is_split_between_both_days() {
        let start = t(23, 59, 0);
        let end = start + TimeDelta::minutes(2);
        let parts = split(
            Span {
                start,
                end,
                coverage: Coverage::Down,
            },
            Period::Day,
        );
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], (t(0, 0, 0), 60_000));
        assert_eq!(parts[1].0, t(0, 0, 0) + TimeDelta::days(1));
        assert_eq!(parts[1].1, 60_000);
    }

    #[test]
    fn a_long_gap_spreads_over_every_hour_it_covers() {
        let parts = split(
            Span {
                start: t(10, 30, 0),
                end: t(13, 15, 0),
                coverage: Coverage::NoData,
            },
            Period::Hour,
        );
        let ms: Vec<i64> = parts.iter().map(|p| p.1).collect();
        assert_eq!(ms, vec![1_800_000, 3_600_000, 3_600_000, 900_000]);
    }

    #[test]
    fn freshness_is_three_intervals() {
        assert!(is_fresh(t(12, 0, 0), MIN, t(12, 3, 0)));
        assert!(!is_fresh(t(12, 0, 0), MIN, t(12, 3, 1)));
    }

    #[test]
    fn histogram_answers_quantiles_and_the_exact_maximum() {
        let mut h = LatencyHistogram::default();
        assert_eq!(h.quantile(0.5), None);
        for ms in [12, 15, 18, 40, 45, 90, 120, 130, 140, 2_400] {
            h.add(ms);
        }
        assert_eq!(h.total(), 10);
        assert_eq!(h.quantile(0.5), Some(50));
        assert_eq!(h.quantile(0.95), Some(2_400), "capped by the maximum");
        assert_eq!(h.quantile(0.1), Some(20));
        assert_eq!(h.max_ms, Some(2_400));
        h.add(60_000);
        assert_eq!(h.quantile(1.0), Some(60_000));
    }

    #[test]
    fn histogram_round_trips_through_text() {
        let mut h = LatencyHistogram::default();
        h.add(3);
        h.add(700);
        let back = LatencyHistogram::from_text(&h.to_text(), h.max_ms).expect("parses");
        assert_eq!(back, h);
        assert_eq!(
            LatencyHistogram::from_text("", None),
            Some(LatencyHistogram::default())
        );
        assert_eq!(LatencyHistogram::from_text("1,2", None), None);
        assert_eq!(LatencyHistogram::from_text("x", None), None);
    }
}
