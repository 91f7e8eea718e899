//! The response-time chart of a service page, as pure maths: the ranges a reader can pick, how
//! the rollups of several monitors and locations become one p50 / p95 series, and the scales,
//! ticks and SVG path data of the server-rendered chart.
//!
//! Written by hand rather than with a plotting crate: the chart is a few lines of SVG that the
//! server and the hydrated page must render identically, and the plotting crates we know of
//! (plotters and friends) draw to their own backends, pull in font handling and do not build
//! the same way for wasm and for the server.

use chrono::{DateTime, Days, NaiveDateTime, TimeDelta, TimeZone, Timelike, Utc};
use serde::{Deserialize, Serialize};

use crate::availability::{local_midnight, local_today};

/// The window a reader picks with the `?range=` links.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChartRange {
    /// Last 24 hours, one point per hour.
    #[default]
    Day,
    /// Last 7 days, one point per hour.
    Week,
    /// Last 30 days, one point per day of the site's clock (local midnight to local midnight,
    /// so 23 or 25 hours on the days the clocks change).
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

/// One bucket of the chart: `[start, end)` in UTC and its label time on the site's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bucket {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub local: NaiveDateTime,
}

/// The buckets of `range`, oldest first, ending with the one holding `now`: UTC hours (as the
/// hourly rollups are kept) labelled on the site's wall clock for 24 h and 7 days; for 30 days
/// the site's local days, from one local midnight to the next, so a reader in Paris sees
/// "3 nov." for what happened on the 3rd in Paris, and a DST day holds its 23 or 25 hours.
pub fn buckets(range: ChartRange, tz: chrono_tz::Tz, now: DateTime<Utc>) -> Vec<Bucket> {
    let n = range.buckets();
    if range.hourly() {
        let last = crate::uptime::Period::Hour.bucket(now);
        return (0..n)
            .rev()
            .map(|back| {
                let start = last - TimeDelta::hours(back as i64);
                Bucket {
                    start,
                    end: start + TimeDelta::hours(1),
                    local: tz.from_utc_datetime(&start.naive_utc()).naive_local(),
                }
            })
            .collect();
    }
    let today = local_today(&tz, now);
    (0..n)
        .rev()
        .filter_map(|back| today.checked_sub_days(Days::new(back as u64)))
        .map(|date| Bucket {
            start: local_midnight(&tz, date),
            end: date
                .checked_add_days(Days::new(1))
                .map_or(DateTime::<Utc>::MAX_UTC, |next| local_midnight(&tz, next)),
            local: date.and_time(chrono::NaiveTime::MIN),
        })
        .collect()
}

/// The chart's points: each sample `(start of its UTC hour, what was measured)` goes to the
/// bucket its hour starts in, and each bucket's samples are combined ([`combine`]). Samples
/// outside every bucket are left out. Where the site's offset is not a whole hour (India,
/// Newfoundland), the hour that straddles local midnight counts for the day it starts in: the
/// rollups are not kept finer than an hour.
pub fn points(buckets: &[Bucket], samples: &[(DateTime<Utc>, BucketSample)]) -> Vec<LatencyPoint> {
    let mut grouped: Vec<Vec<BucketSample>> = vec![Vec::new(); buckets.len()];
    for (at, sample) in samples {
        // Buckets are sorted and contiguous: the first whose end is after `at`.
        let i = buckets.partition_point(|b| b.end <= *at);
        if buckets.get(i).is_some_and(|b| b.start <= *at) {
            grouped[i].push(*sample);
        }
    }
    buckets
        .iter()
        .zip(grouped)
        .map(|(b, samples)| {
            let (p50_ms, p95_ms, checks) = combine(&samples);
            LatencyPoint {
                start: b.start,
                local: b.local,
                p50_ms,
                p95_ms,
                checks,
            }
        })
        .collect()
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

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("valid")
    }

    fn sample(p50: u32, p95: u32) -> BucketSample {
        BucketSample {
            checks: 10,
            p50_ms: Some(p50),
            p95_ms: Some(p95),
        }
    }

    #[test]
    fn hourly_buckets_are_utc_hours_labelled_on_the_site_clock() {
        let la = chrono_tz::America::Los_Angeles;
        let b = buckets(ChartRange::Day, la, utc(2026, 11, 20, 0, 42));
        assert_eq!(b.len(), 24);
        let last = b.last().expect("a bucket");
        assert_eq!(last.start, utc(2026, 11, 20, 0, 0));
        assert_eq!(last.end, utc(2026, 11, 20, 1, 0));
        // 2026-11-20 00:00 UTC is 2026-11-19 16:00 in Los Angeles.
        assert_eq!(last.local, local(19, 16, 0));
        let paris = buckets(
            ChartRange::Week,
            chrono_tz::Europe::Paris,
            utc(2026, 11, 20, 0, 5),
        );
        assert_eq!(paris.len(), 168);
        assert_eq!(paris.last().expect("a bucket").local, local(20, 1, 0));
    }

    #[test]
    fn thirty_days_are_the_sites_days_and_a_dst_day_has_its_real_length() {
        let paris = chrono_tz::Europe::Paris;
        // 2026-11-10 23:30 UTC is already the 11th in Paris (UTC+1): today is the 11th.
        let b = buckets(ChartRange::Month, paris, utc(2026, 11, 10, 23, 30));
        assert_eq!(b.len(), 30);
        let today = b.last().expect("today");
        assert_eq!(today.local, local(11, 0, 0));
        assert_eq!(today.start, utc(2026, 11, 10, 23, 0));
        assert_eq!(today.end, utc(2026, 11, 11, 23, 0));
        // Oldest first, every day touching the next.
        assert_eq!(b[0].local.date().to_string(), "2026-10-13");
        assert!(b.windows(2).all(|w| w[0].end == w[1].start));
        // Clocks went back on 25 October 2026: that day lasts 25 hours, 22:00 to 23:00 UTC.
        let dst = b
            .iter()
            .find(|d| d.local.date().to_string() == "2026-10-25")
            .expect("the DST day");
        assert_eq!(dst.start, utc(2026, 10, 24, 22, 0));
        assert_eq!(dst.end, utc(2026, 10, 25, 23, 0));
        assert_eq!((dst.end - dst.start).num_hours(), 25);
        // And forward on 29 March 2026: 23 hours.
        let spring = buckets(ChartRange::Month, paris, utc(2026, 4, 10, 12, 0));
        let short = spring
            .iter()
            .find(|d| d.local.date().to_string() == "2026-03-29")
            .expect("the spring DST day");
        assert_eq!((short.end - short.start).num_hours(), 23);
    }

    #[test]
    fn hours_near_midnight_go_to_the_sites_day_not_the_utc_one() {
        let paris = chrono_tz::Europe::Paris;
        let b = buckets(ChartRange::Month, paris, utc(2026, 11, 20, 12, 0));
        let day = |d: &str| {
            b.iter()
                .position(|x| x.local.date().to_string() == d)
                .expect("a day")
        };
        let points = points(
            &b,
            &[
                // 22:00 UTC on the 14th is 23:00 in Paris: still the 14th.
                (utc(2026, 11, 14, 22, 0), sample(100, 200)),
                // 23:00 UTC on the 14th is midnight in Paris: the 15th.
                (utc(2026, 11, 14, 23, 0), sample(300, 900)),
                // Two hours of the 16th: weighted p50, worst p95.
                (utc(2026, 11, 16, 8, 0), sample(100, 150)),
                (utc(2026, 11, 16, 9, 0), sample(200, 400)),
                // Before the first day and after today: left out.
                (utc(2026, 10, 1, 0, 0), sample(1, 1)),
                (utc(2026, 11, 21, 0, 0), sample(1, 1)),
            ],
        );
        assert_eq!(points.len(), 30);
        assert_eq!(points[day("2026-11-14")].p95_ms, Some(200));
        assert_eq!(points[day("2026-11-15")].p95_ms, Some(900));
        assert_eq!(points[day("2026-11-15")].local, local(15, 0, 0));
        assert_eq!(points[day("2026-11-16")].p50_ms, Some(150));
        assert_eq!(points[day("2026-11-16")].p95_ms, Some(400));
        assert_eq!(points[day("2026-11-16")].checks, 20);
        let counted: u32 = points.iter().map(|p| p.checks).sum();
        assert_eq!(counted, 40, "samples outside the 30 days are left out");
    }

    #[test]
    fn a_dst_day_gathers_its_twenty_five_hours() {
        let paris = chrono_tz::Europe::Paris;
        let b = buckets(ChartRange::Month, paris, utc(2026, 11, 1, 12, 0));
        let hours: Vec<_> = (0..25)
            .map(|h| {
                (
                    utc(2026, 10, 24, 22, 0) + TimeDelta::hours(h),
                    sample(100, 100),
                )
            })
            .collect();
        let points = points(&b, &hours);
        let dst = points
            .iter()
            .find(|p| p.local.date().to_string() == "2026-10-25")
            .expect("the DST day");
        assert_eq!(dst.checks, 250, "all 25 hours of the day");
        assert_eq!(points.iter().map(|p| p.checks).sum::<u32>(), 250);
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
