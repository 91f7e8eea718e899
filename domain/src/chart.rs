//! The response-time chart of a service page, as pure maths: the ranges a reader can pick, how
//! the rollups of several monitors and locations become one p50 / p95 series, and the scales,
//! ticks and SVG path data of the server-rendered chart.
//!
//! Written by hand rather than with a plotting crate: the chart is a few lines of SVG that the
//! server and the hydrated page must render identically, and the plotting crates we know of
//! (plotters and friends) draw to their own backends, pull in font handling and do not build
//! the same way for wasm and for the server.

use chrono::{DateTime, NaiveDateTime, Timelike, Utc};
use serde::{Deserialize, Serialize};

/// The window a reader picks with the `?range=` links.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChartRange {
    /// Last 24 hours, one point per hour.
    #[default]
    Day,
    /// Last 7 days, one point per hour.
    Week,
    /// Last 30 days, one point per day.
    Month,
}

impl ChartRange {
    pub const ALL: [ChartRange; 3] = [ChartRange::Day, ChartRange::Week, ChartRange::Month];

    /// The value of the `range` query parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            ChartRange::Day => "24h",
            ChartRange::Week => "7d",
            ChartRange::Month => "30d",
        }
    }

    /// Reads `?range=`; anything unknown is `None` (the page then shows 24 h).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether points are hours (`true`) or days.
    pub fn hourly(self) -> bool {
        !matches!(self, ChartRange::Month)
    }

    /// The label time of a bucket starting at `start` (UTC): hourly buckets on the site's wall
    /// clock; daily buckets are UTC days (as the rollups are kept), so they are labelled with
    /// their UTC date. On the site's clock a UTC day would carry the date of the day before
    /// west of Greenwich, and a day that is not the one measured east of it after midnight.
    pub fn label_time(self, start: DateTime<Utc>, tz: chrono_tz::Tz) -> NaiveDateTime {
        use chrono::TimeZone;
        if self.hourly() {
            tz.from_utc_datetime(&start.naive_utc()).naive_local()
        } else {
            start.naive_utc()
        }
    }

    /// How many points the chart has.
    pub fn buckets(self) -> usize {
        match self {
            ChartRange::Day => 24,
            ChartRange::Week => 7 * 24,
            ChartRange::Month => 30,
        }
    }
}

/// One point of the chart: a bucket (hour or day) and its latencies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LatencyPoint {
    /// Start of the bucket (UTC).
    pub start: DateTime<Utc>,
    /// The same instant on the site's wall clock, for labels (computed on the server, so the
    /// browser needs no timezone database and hydration renders the same text).
    pub local: NaiveDateTime,
    pub p50_ms: Option<u32>,
    pub p95_ms: Option<u32>,
    /// Results behind this point, over every monitor and location.
    pub checks: u32,
}

/// What one monitor at one location measured in one bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BucketSample {
    pub checks: u32,
    pub p50_ms: Option<u32>,
    pub p95_ms: Option<u32>,
}

/// Combines the samples of one bucket (every monitor of the service, every location) into one
/// point: `(p50, p95, checks)`.
///
/// Quantiles of different populations cannot be merged exactly from the quantiles alone, so:
/// p50 is the mean of the samples' p50 weighted by their number of results (the typical
/// response a reader gets), and p95 is the *worst* sample's p95, so one slow location or one
/// slow monitor is never averaged away behind the others.
pub fn combine(samples: &[BucketSample]) -> (Option<u32>, Option<u32>, u32) {
    let checks: u32 = samples.iter().map(|s| s.checks).sum();
    let (sum, weight) = samples
        .iter()
        .filter_map(|s| s.p50_ms.map(|p| (f64::from(p), f64::from(s.checks.max(1)))))
        .fold((0.0, 0.0), |(s, w), (p, n)| (s + p * n, w + n));
    let p50 = (weight > 0.0).then(|| (sum / weight).round() as u32);
    let p95 = samples.iter().filter_map(|s| s.p95_ms).max();
    (p50, p95, checks)
}

/// A "nice" step (1, 2 or 5 times a power of ten) at least `raw`.
pub fn nice_step(raw: f64) -> f64 {
    if !raw.is_finite() || raw <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    let fraction = raw / magnitude;
    let nice = if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

/// Value ticks from 0 to at least `max`, about `target` intervals, at nice steps. The last tick
/// is the top of the scale. With no data (`max` ≤ 0) the scale is 0–100.
pub fn ticks(max: f64, target: usize) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        100.0
    };
    let step = nice_step(max / target.max(1) as f64);
    let n = (max / step).ceil().max(1.0) as usize;
    (0..=n).map(|i| i as f64 * step).collect()
}

/// A linear map from a value domain onto a pixel range (the range may run backwards, as the
/// y axis of an SVG does).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale {
    pub domain: (f64, f64),
    pub range: (f64, f64),
}

impl Scale {
    pub fn map(&self, v: f64) -> f64 {
        let (d0, d1) = self.domain;
        let (r0, r1) = self.range;
        if d1 == d0 {
            return r0;
        }
        r0 + (v - d0) / (d1 - d0) * (r1 - r0)
    }
}

/// SVG path data through `values` (index `i` at `x(i)`, value at `y.map(v)`). A missing value
/// breaks the line (no data is never drawn as a slope); an isolated point becomes a
/// zero-length segment, which a round line cap draws as a dot.
pub fn path(values: &[Option<u32>], x: impl Fn(usize) -> f64, y: &Scale) -> String {
    let mut d = String::new();
    let mut drawing = false;
    for (i, v) in values.iter().enumerate() {
        let Some(v) = v else {
            drawing = false;
            continue;
        };
        let (px, py) = (x(i), y.map(f64::from(*v)));
        let next_missing = values.get(i + 1).is_none_or(Option::is_none);
        if !d.is_empty() {
            d.push(' ');
        }
        if drawing {
            d.push_str(&format!("L{px:.1} {py:.1}"));
        } else if next_missing {
            d.push_str(&format!("M{px:.1} {py:.1} L{px:.1} {py:.1}"));
        } else {
            d.push_str(&format!("M{px:.1} {py:.1}"));
        }
        drawing = true;
    }
    d
}

/// Which points get a label on the time axis: every 6 hours of the site's clock for 24 h,
/// each local midnight for 7 days, every 7th day (ending today) for 30 days. When the site's
/// offset is not a whole hour no hourly bucket starts on those hours: then every quarter of
/// the range is labelled.
pub fn time_ticks(locals: &[NaiveDateTime], range: ChartRange) -> Vec<usize> {
    let n = locals.len();
    let picked: Vec<usize> = match range {
        ChartRange::Day => (0..n)
            .filter(|i| locals[*i].minute() == 0 && locals[*i].hour().is_multiple_of(6))
            .collect(),
        ChartRange::Week => (0..n)
            .filter(|i| locals[*i].minute() == 0 && locals[*i].hour() == 0)
            .collect(),
        ChartRange::Month => (0..n).filter(|i| (n - 1 - i).is_multiple_of(7)).collect(),
    };
    if !picked.is_empty() || n == 0 {
        return picked;
    }
    let step = (n / 4).max(1);
    (0..n)
        .filter(|i| (n - 1 - i).is_multiple_of(step))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn local(d: u32, h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, d)
            .and_then(|d| d.and_hms_opt(h, m, 0))
            .expect("valid time")
    }

    #[test]
    fn daily_points_carry_their_utc_date_and_hourly_points_the_site_clock() {
        use chrono::TimeZone;
        let day = Utc
            .with_ymd_and_hms(2026, 11, 20, 0, 0, 0)
            .single()
            .expect("valid");
        let la = chrono_tz::America::Los_Angeles;
        // 2026-11-20 00:00 UTC is 2026-11-19 16:00 in Los Angeles: the day measured is the 20th.
        assert_eq!(ChartRange::Month.label_time(day, la), local(20, 0, 0));
        assert_eq!(ChartRange::Day.label_time(day, la), local(19, 16, 0));
        assert_eq!(
            ChartRange::Week.label_time(day, chrono_tz::Europe::Paris),
            local(20, 1, 0)
        );
    }

    #[test]
    fn ranges_read_back_from_the_query_and_unknown_ones_are_refused() {
        for r in ChartRange::ALL {
            assert_eq!(ChartRange::parse(r.as_str()), Some(r));
        }
        assert_eq!(ChartRange::parse("1y"), None);
        assert_eq!(ChartRange::Week.buckets(), 168);
        assert!(!ChartRange::Month.hourly());
    }

    #[test]
    fn p50_is_weighted_by_results_and_p95_is_the_worst_location() {
        let (p50, p95, checks) = combine(&[
            BucketSample {
                checks: 30,
                p50_ms: Some(100),
                p95_ms: Some(200),
            },
            BucketSample {
                checks: 10,
                p50_ms: Some(300),
                p95_ms: Some(900),
            },
        ]);
        assert_eq!(p50, Some(150));
        assert_eq!(p95, Some(900));
        assert_eq!(checks, 40);
    }

    #[test]
    fn a_bucket_without_latencies_has_no_point() {
        assert_eq!(combine(&[]), (None, None, 0));
        let push_only = BucketSample {
            checks: 4,
            p50_ms: None,
            p95_ms: None,
        };
        assert_eq!(combine(&[push_only]), (None, None, 4));
    }

    #[test]
    fn steps_are_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(nice_step(0.7), 1.0);
        assert_eq!(nice_step(130.0), 200.0);
        assert_eq!(nice_step(260.0), 500.0);
        assert_eq!(nice_step(600.0), 1000.0);
        assert_eq!(nice_step(0.0), 1.0);
        assert_eq!(nice_step(f64::NAN), 1.0);
    }

    #[test]
    fn ticks_start_at_zero_and_cover_the_maximum() {
        assert_eq!(ticks(480.0, 4), vec![0.0, 200.0, 400.0, 600.0]);
        assert_eq!(ticks(400.0, 4), vec![0.0, 100.0, 200.0, 300.0, 400.0]);
        assert_eq!(ticks(0.0, 4), vec![0.0, 50.0, 100.0]);
        assert_eq!(ticks(3.0, 4), vec![0.0, 1.0, 2.0, 3.0]);
    }

    #[test]
    fn scales_map_linearly_and_may_run_backwards() {
        let y = Scale {
            domain: (0.0, 400.0),
            range: (200.0, 0.0),
        };
        assert_eq!(y.map(0.0), 200.0);
        assert_eq!(y.map(400.0), 0.0);
        assert_eq!(y.map(100.0), 150.0);
        let flat = Scale {
            domain: (5.0, 5.0),
            range: (10.0, 20.0),
        };
        assert_eq!(flat.map(5.0), 10.0);
    }

    #[test]
    fn missing_values_break_the_line_and_lone_points_become_dots() {
        let y = Scale {
            domain: (0.0, 100.0),
            range: (100.0, 0.0),
        };
        let d = path(
            &[Some(10), Some(20), None, Some(50), None],
            |i| i as f64 * 10.0,
            &y,
        );
        assert_eq!(d, "M0.0 90.0 L10.0 80.0 M30.0 50.0 L30.0 50.0");
        assert_eq!(path(&[None, None], |i| i as f64, &y), "");
    }

    #[test]
    fn time_axis_labels_six_hourly_midnights_or_weeks() {
        let day: Vec<NaiveDateTime> = (0..24).map(|h| local(27, h, 0)).collect();
        assert_eq!(time_ticks(&day, ChartRange::Day), vec![0, 6, 12, 18]);
        let week: Vec<NaiveDateTime> = (0..48)
            .map(|i| local(20 + (i + 5) / 24, (i + 5) % 24, 0))
            .collect();
        assert_eq!(time_ticks(&week, ChartRange::Week), vec![19, 43]);
        let month: Vec<NaiveDateTime> = (0..30).map(|_| local(1, 0, 0)).collect();
        assert_eq!(
            time_ticks(&month, ChartRange::Month),
            vec![1, 8, 15, 22, 29]
        );
    }

    #[test]
    fn half_hour_offsets_still_get_time_labels() {
        let day: Vec<NaiveDateTime> = (0..24).map(|h| local(27, h, 30)).collect();
        assert_eq!(time_ticks(&day, ChartRange::Day), vec![5, 11, 17, 23]);
    }
}
