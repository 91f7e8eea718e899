//! Availability as readers see it: per local day (in the site's timezone) and over any window,
//! computed from a service's published status timeline — the statuses the page showed, with
//! their inherited causes — rather than from raw probe results, so the bars never disagree
//! with what the page said at the time.
//!
//! Weights (Statuspage's convention, so figures compare with pages readers know): a major
//! outage counts fully as downtime, a partial outage counts for [`PARTIAL_OUTAGE_WEIGHT`],
//! degraded performance counts as up. Time under maintenance and time without data are left
//! out of the ratio: a planned window is not an outage, and Vigie's own silence is never the
//! service's downtime.

use chrono::{DateTime, Days, NaiveDate, TimeDelta, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::status::{ComponentStatus, ServiceState};

/// The share of a partial outage's time that counts as downtime.
pub const PARTIAL_OUTAGE_WEIGHT: f64 = 0.3;

/// Weighted downtime up to this many minutes in a day is a minor day on the bar.
pub const MINOR_DAY_MAX_MINUTES: i64 = 30;
/// Weighted downtime up to this many minutes in a day is a major day; beyond, critical.
pub const MAJOR_DAY_MAX_MINUTES: i64 = 240;

/// A change of a service's published state, as the status events record it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateChange {
    pub at: DateTime<Utc>,
    pub state: ServiceState,
}

/// A stretch `[start, end)` of time, e.g. a maintenance window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// An incident that touched the service, for the days it overlaps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayIncident {
    pub id: i64,
    pub title: String,
}

/// An incident with its time span (`end` None while open).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncidentSpan {
    pub id: i64,
    pub title: String,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
}

/// One local day of one service. Zero durations, no status and no incidents are left out of
/// its JSON: a page carries 90 of these per service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DayStat {
    /// The local date, in the site's timezone.
    pub date: NaiveDate,
    /// Time with data, outside maintenance.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub counted_ms: i64,
    /// Weighted downtime: major outage 1.0, partial outage [`PARTIAL_OUTAGE_WEIGHT`].
    #[serde(default, skip_serializing_if = "is_zero")]
    pub downtime_ms: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub maintenance_ms: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub no_data_ms: i64,
    /// The worst status shown that day; None when the service had no data at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worst: Option<ComponentStatus>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incidents: Vec<DayIncident>,
    /// Today only: the status the service shows now. A day that is still going on reads at
    /// least as badly as the status beside it (a major outage that began ten minutes ago is
    /// an outage today, not a minor disruption).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<ComponentStatus>,
}

fn is_zero(ms: &i64) -> bool {
    *ms == 0
}

/// How a day looks on the bar, from best to worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BarLevel {
    NoData,
    Operational,
    Minor,
    Major,
    Critical,
}

impl BarLevel {
    pub fn css_class(self) -> &'static str {
        match self {
            BarLevel::NoData => "no-data",
            BarLevel::Operational => "operational",
            BarLevel::Minor => "minor",
            BarLevel::Major => "major",
            BarLevel::Critical => "critical",
        }
    }
}

impl DayStat {
    fn empty(date: NaiveDate) -> Self {
        DayStat {
            date,
            counted_ms: 0,
            downtime_ms: 0,
            maintenance_ms: 0,
            no_data_ms: 0,
            worst: None,
            incidents: Vec::new(),
            current: None,
        }
    }

    /// Uptime in percent (0–100), None when nothing was counted that day.
    pub fn uptime_pct(&self) -> Option<f64> {
        ratio(self.counted_ms, self.downtime_ms)
    }

    /// Weighted downtime in whole minutes, rounded up so a short outage never shows as zero.
    pub fn downtime_minutes(&self) -> i64 {
        (self.downtime_ms + 59_999) / 60_000
    }

    /// How the day looks: by its weighted downtime, but never better than the status shown
    /// now (today) nor than its share of downtime says (a day with half its counted time
    /// down is an outage however few minutes were counted).
    pub fn level(&self) -> BarLevel {
        if self.counted_ms == 0 {
            return BarLevel::NoData;
        }
        let by_minutes = match self.downtime_minutes() {
            0 if self.worst > Some(ComponentStatus::UnderMaintenance) => BarLevel::Minor,
            0 => BarLevel::Operational,
            m if m <= MINOR_DAY_MAX_MINUTES => BarLevel::Minor,
            m if m <= MAJOR_DAY_MAX_MINUTES => BarLevel::Major,
            _ => BarLevel::Critical,
        };
        let by_share = if self.downtime_ms * 2 >= self.counted_ms && self.downtime_ms > 0 {
            BarLevel::Major
        } else {
            BarLevel::Operational
        };
        let by_now = match self.current {
            Some(ComponentStatus::MajorOutage) => BarLevel::Major,
            Some(ComponentStatus::PartialOutage | ComponentStatus::DegradedPerformance) => {
                BarLevel::Minor
            }
            _ => BarLevel::Operational,
        };
        by_minutes.max(by_share).max(by_now)
    }
}

fn ratio(counted_ms: i64, downtime_ms: i64) -> Option<f64> {
    (counted_ms > 0).then(|| 100.0 * (counted_ms - downtime_ms).max(0) as f64 / counted_ms as f64)
}

/// Uptime in percent over several days together (time-weighted), None without data.
pub fn uptime_pct(days: &[DayStat]) -> Option<f64> {
    let counted = days.iter().map(|d| d.counted_ms).sum();
    let down = days.iter().map(|d| d.downtime_ms).sum();
    ratio(counted, down)
}

/// Less counted time than this gives no uptime figure: "0,00 %" nine seconds after start says
/// nothing true about a service, it only repeats the status shown beside it.
pub const MIN_COUNTED_FOR_FIGURE_MS: i64 = 3_600_000;

/// How much of a run of days has data: what an uptime figure over them stands on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Days with some counted time.
    pub days: usize,
    /// Counted time over all of them.
    pub counted_ms: i64,
}

impl Coverage {
    pub fn of(days: &[DayStat]) -> Coverage {
        Coverage {
            days: days.iter().filter(|d| d.counted_ms > 0).count(),
            counted_ms: days.iter().map(|d| d.counted_ms).sum(),
        }
    }

    /// Enough counted time for a figure to mean something.
    pub fn enough(&self) -> bool {
        self.counted_ms >= MIN_COUNTED_FOR_FIGURE_MS
    }
}

/// Counted and weighted-down milliseconds of a window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub counted_ms: i64,
    pub downtime_ms: i64,
    pub maintenance_ms: i64,
    pub no_data_ms: i64,
    pub worst: Option<ComponentStatus>,
}

impl Tally {
    pub fn uptime_pct(&self) -> Option<f64> {
        ratio(self.counted_ms, self.downtime_ms)
    }
}

/// Tallies `[from, to)` of a timeline. `before` is the state in force at `from` (the last
/// change before it, if any); `changes` are sorted by time. Time after `now` is not counted.
pub fn tally(
    before: Option<ServiceState>,
    changes: &[StateChange],
    maintenance: &[Window],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Tally {
    let to = to.min(now);
    let mut t = Tally::default();
    if to <= from {
        return t;
    }
    let mut state = before.unwrap_or(ServiceState::NoData);
    let mut cursor = from;
    for change in changes.iter().filter(|c| c.at < to) {
        if change.at > cursor {
            add(&mut t, state, cursor, change.at, maintenance);
            cursor = change.at;
        }
        state = change.state;
    }
    add(&mut t, state, cursor, to, maintenance);
    t
}

/// Adds `[start, end)` spent in `state`, minus what maintenance windows cover.
fn add(
    t: &mut Tally,
    state: ServiceState,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    maintenance: &[Window],
) {
    let total = (end - start).num_milliseconds();
    if total <= 0 {
        return;
    }
    let planned = covered_ms(maintenance, start, end);
    t.maintenance_ms += planned;
    let rest = total - planned;
    match state {
        ServiceState::NoData => t.no_data_ms += rest,
        ServiceState::Known(ComponentStatus::UnderMaintenance) => t.maintenance_ms += rest,
        ServiceState::Known(s) => {
            if rest > 0 {
                t.counted_ms += rest;
                t.downtime_ms += match s {
                    ComponentStatus::MajorOutage => rest,
                    ComponentStatus::PartialOutage => {
                        (rest as f64 * PARTIAL_OUTAGE_WEIGHT).round() as i64
                    }
                    _ => 0,
                };
            }
        }
    }
    if let ServiceState::Known(s) = state {
        if rest > 0 || planned > 0 {
            let shown = if rest > 0 {
                s
            } else {
                ComponentStatus::UnderMaintenance
            };
            t.worst = t.worst.max(Some(shown));
        }
    }
}

/// Milliseconds of `[start, end)` covered by the union of `windows`.
fn covered_ms(windows: &[Window], start: DateTime<Utc>, end: DateTime<Utc>) -> i64 {
    let mut parts: Vec<(DateTime<Utc>, DateTime<Utc>)> = windows
        .iter()
        .map(|w| (w.start.max(start), w.end.min(end)))
        .filter(|(s, e)| s < e)
        .collect();
    parts.sort();
    let mut total = 0;
    let mut reach = start;
    for (s, e) in parts {
        let s = s.max(reach);
        if e > s {
            total += (e - s).num_milliseconds();
            reach = e;
        }
    }
    total
}

/// The UTC instant a local date starts at (the earliest, across a DST gap).
pub fn local_midnight<Tz: TimeZone>(tz: &Tz, date: NaiveDate) -> DateTime<Utc> {
    let naive = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(a, _) => a.with_timezone(&Utc),
        // Midnight skipped by a DST jump (some zones): the day starts an hour later.
        chrono::LocalResult::None => tz
            .from_local_datetime(&(naive + TimeDelta::hours(1)))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&naive)),
    }
}

/// The local date of `now` in `tz`.
pub fn local_today<Tz: TimeZone>(tz: &Tz, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(tz).date_naive()
}

/// The last `days` local days (oldest first, ending with today) of one service's timeline.
pub fn daily<Tz: TimeZone>(
    tz: &Tz,
    now: DateTime<Utc>,
    days: u32,
    before: Option<ServiceState>,
    changes: &[StateChange],
    maintenance: &[Window],
    incidents: &[IncidentSpan],
) -> Vec<DayStat> {
    let today = local_today(tz, now);
    let Some(first) = today.checked_sub_days(Days::new(u64::from(days.saturating_sub(1)))) else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(days as usize);
    let mut state = before;
    let mut idx = 0;
    for date in first.iter_days().take(days as usize) {
        let start = local_midnight(tz, date);
        let end = date
            .succ_opt()
            .map(|d| local_midnight(tz, d))
            .unwrap_or(start + TimeDelta::days(1));
        // The changes before this day set the state it opens with.
        while idx < changes.len() && changes[idx].at <= start {
            state = Some(changes[idx].state);
            idx += 1;
        }
        let within: Vec<StateChange> = changes[idx..]
            .iter()
            .take_while(|c| c.at < end)
            .copied()
            .collect();
        let t = tally(state, &within, maintenance, start, end, now);
        let mut day = DayStat::empty(date);
        day.counted_ms = t.counted_ms;
        day.downtime_ms = t.downtime_ms;
        day.maintenance_ms = t.maintenance_ms;
        day.no_data_ms = t.no_data_ms;
        day.worst = t.worst;
        if start <= now && now < end {
            let shown = within
                .iter()
                .take_while(|c| c.at <= now)
                .last()
                .map(|c| c.state)
                .or(state);
            day.current = match shown {
                Some(ServiceState::Known(s)) => Some(s),
                _ => None,
            };
        }
        day.incidents = incidents
            .iter()
            .filter(|i| i.start < end && i.end.is_none_or(|e| e > start) && i.start <= now)
            .map(|i| DayIncident {
                id: i.id,
                title: i.title.clone(),
            })
            .collect();
        out.push(day);
    }
    out
}

/// Serde for a service's consecutive days as runs of alike days, each run its length and its
/// first day: `[[30,{"date":"2026-08-31","counted_ms":86400000,"worst":"operational"}],…]`.
/// `/` sends 90 days per service to its island and most of them are alike, so this keeps its
/// hydration data small. Days that do not follow each other never share a run.
pub mod day_runs {
    use super::DayStat;
    use chrono::Days;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Longer runs are refused rather than expanded: no bar is a century long.
    const MAX_RUN: u32 = 36_525;

    pub fn serialize<S: Serializer>(days: &[DayStat], s: S) -> Result<S::Ok, S::Error> {
        let mut runs: Vec<(u32, &DayStat)> = Vec::new();
        for day in days {
            match runs.last_mut() {
                Some((n, first)) if continues(first, *n, day) => *n += 1,
                _ => runs.push((1, day)),
            }
        }
        runs.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<DayStat>, D::Error> {
        let runs = Vec::<(u32, DayStat)>::deserialize(d)?;
        let mut days = Vec::new();
        for (n, first) in runs {
            if n > MAX_RUN {
                return Err(serde::de::Error::custom(format!(
                    "a run of {n} days (at most {MAX_RUN})"
                )));
            }
            for k in 0..n {
                let date = first
                    .date
                    .checked_add_days(Days::new(k.into()))
                    .ok_or_else(|| serde::de::Error::custom("a run ends past the last date"))?;
                days.push(DayStat {
                    date,
                    ..first.clone()
                });
            }
        }
        Ok(days)
    }

    /// Whether `day` is the day after a run of `n` days from `first`, and alike.
    fn continues(first: &DayStat, n: u32, day: &DayStat) -> bool {
        first.date.checked_add_days(Days::new(n.into())) == Some(day.date)
            && first.counted_ms == day.counted_ms
            && first.downtime_ms == day.downtime_ms
            && first.maintenance_ms == day.maintenance_ms
            && first.no_data_ms == day.no_data_ms
            && first.worst == day.worst
            && first.incidents == day.incidents
            && first.current == day.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_travels_as_compact_json_and_comes_back_whole() {
        let empty = DayStat {
            date: NaiveDate::from_ymd_opt(2026, 9, 1).expect("date"),
            counted_ms: 0,
            downtime_ms: 0,
            maintenance_ms: 0,
            no_data_ms: 86_400_000,
            worst: None,
            incidents: Vec::new(),
            current: None,
        };
        let json = serde_json::to_string(&empty).expect("json");
        assert_eq!(json, r#"{"date":"2026-09-01","no_data_ms":86400000}"#);
        assert_eq!(serde_json::from_str::<DayStat>(&json).expect("back"), empty);
        let busy = DayStat {
            counted_ms: 86_400_000,
            downtime_ms: 3_600_000,
            no_data_ms: 0,
            worst: Some(ComponentStatus::MajorOutage),
            incidents: vec![DayIncident {
                id: 7,
                title: "Panne".into(),
            }],
            ..empty
        };
        let json = serde_json::to_string(&busy).expect("json");
        assert_eq!(serde_json::from_str::<DayStat>(&json).expect("back"), busy);
    }
    use crate::status::ComponentStatus::*;
    use chrono_tz::Europe::Paris;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn known(s: ComponentStatus) -> ServiceState {
        ServiceState::Known(s)
    }

    fn change(t: &str, s: ServiceState) -> StateChange {
        StateChange {
            at: at(t),
            state: s,
        }
    }

    #[test]
    fn a_major_outage_counts_fully_and_a_partial_one_at_its_weight() {
        let from = at("2026-11-27T00:00:00Z");
        let to = at("2026-11-27T10:00:00Z");
        let changes = [
            change("2026-11-27T01:00:00Z", known(MajorOutage)),
            change("2026-11-27T02:00:00Z", known(PartialOutage)),
            change("2026-11-27T04:00:00Z", known(Operational)),
        ];
        let t = tally(Some(known(Operational)), &changes, &[], from, to, to);
        assert_eq!(t.counted_ms, 10 * 3_600_000);
        // 1 h major + 2 h partial × 0.3 = 1.6 h.
        assert_eq!(t.downtime_ms, 5_760_000);
        assert_eq!(t.worst, Some(MajorOutage));
        let pct = t.uptime_pct().unwrap_or_default();
        assert!((pct - 84.0).abs() < 1e-9, "{pct}");
    }

    #[test]
    fn maintenance_and_no_data_are_left_out_of_the_ratio() {
        let from = at("2026-11-27T00:00:00Z");
        let to = at("2026-11-27T04:00:00Z");
        // Down all along, but 2 h of it inside a planned window and 1 h before any data.
        let changes = [change("2026-11-27T01:00:00Z", known(MajorOutage))];
        let window = [Window {
            start: at("2026-11-27T02:00:00Z"),
            end: at("2026-11-27T04:00:00Z"),
        }];
        let t = tally(None, &changes, &window, from, to, to);
        assert_eq!(t.no_data_ms, 3_600_000);
        assert_eq!(t.maintenance_ms, 2 * 3_600_000);
        assert_eq!(t.counted_ms, 3_600_000);
        assert_eq!(t.uptime_pct(), Some(0.0));
        // A day with nothing but a window and silence has no uptime figure at all.
        let quiet = tally(None, &[], &window, from, to, to);
        assert_eq!(quiet.uptime_pct(), None);
    }

    #[test]
    fn the_under_maintenance_state_is_not_downtime() {
        let from = at("2026-11-27T00:00:00Z");
        let to = at("2026-11-27T02:00:00Z");
        let changes = [change("2026-11-27T01:00:00Z", known(UnderMaintenance))];
        let t = tally(Some(known(Operational)), &changes, &[], from, to, to);
        assert_eq!(t.counted_ms, 3_600_000);
        assert_eq!(t.maintenance_ms, 3_600_000);
        assert_eq!(t.uptime_pct(), Some(100.0));
    }

    #[test]
    fn overlapping_windows_are_not_counted_twice() {
        let w = [
            Window {
                start: at("2026-11-27T01:00:00Z"),
                end: at("2026-11-27T03:00:00Z"),
            },
            Window {
                start: at("2026-11-27T02:00:00Z"),
                end: at("2026-11-27T04:00:00Z"),
            },
        ];
        let ms = covered_ms(&w, at("2026-11-27T00:00:00Z"), at("2026-11-27T05:00:00Z"));
        assert_eq!(ms, 3 * 3_600_000);
    }

    #[test]
    fn days_start_at_local_midnight_in_the_site_timezone() {
        // 23:30 UTC on the 26th is 00:30 on the 27th in Paris (UTC+1 in November).
        let now = at("2026-11-27T12:00:00Z");
        let changes = [
            change("2026-11-26T23:30:00Z", known(MajorOutage)),
            change("2026-11-27T00:30:00Z", known(Operational)),
        ];
        let days = daily(&Paris, now, 2, Some(known(Operational)), &changes, &[], &[]);
        assert_eq!(days.len(), 2);
        assert_eq!(
            days[0].date,
            NaiveDate::from_ymd_opt(2026, 11, 26).unwrap_or_default()
        );
        assert_eq!(
            days[0].downtime_ms, 0,
            "the outage belongs to the 27th in Paris"
        );
        assert_eq!(days[1].downtime_ms, 3_600_000);
        assert_eq!(days[1].level(), BarLevel::Major);
        // Today counts only up to now: 13 h in Paris at 12:00 UTC.
        assert_eq!(days[1].counted_ms, 13 * 3_600_000);
    }

    #[test]
    fn a_dst_day_has_its_real_length() {
        // 25 October 2026: Paris goes back from UTC+2 to UTC+1, a 25-hour day.
        let now = at("2026-10-26T12:00:00Z");
        let days = daily(&Paris, now, 2, Some(known(Operational)), &[], &[], &[]);
        assert_eq!(days[0].counted_ms, 25 * 3_600_000);
    }

    #[test]
    fn bar_levels_follow_downtime_minutes_and_no_data_is_grey() {
        let mut d = DayStat::empty(NaiveDate::default());
        assert_eq!(d.level(), BarLevel::NoData);
        d.counted_ms = 86_400_000;
        d.worst = Some(Operational);
        assert_eq!(d.level(), BarLevel::Operational);
        d.worst = Some(DegradedPerformance);
        assert_eq!(d.level(), BarLevel::Minor, "a slow day is not a green day");
        d.downtime_ms = 20 * 60_000;
        assert_eq!(d.level(), BarLevel::Minor);
        d.downtime_ms = 2 * 3_600_000;
        assert_eq!(d.level(), BarLevel::Major);
        d.downtime_ms = 5 * 3_600_000;
        assert_eq!(d.level(), BarLevel::Critical);
        assert_eq!(d.level().css_class(), "critical");
        // One second of outage still shows: minutes round up.
        d.downtime_ms = 1_000;
        assert_eq!(d.downtime_minutes(), 1);
    }

    #[test]
    fn incidents_are_listed_on_every_day_they_overlap_and_aggregate_uptime_is_time_weighted() {
        let now = at("2026-11-27T23:00:00Z");
        let incidents = [IncidentSpan {
            id: 7,
            title: "Panne des sites".into(),
            start: at("2026-11-26T20:00:00Z"),
            end: None,
        }];
        let changes = [change("2026-11-26T22:00:00Z", known(MajorOutage))];
        let days = daily(
            &Utc,
            now,
            3,
            Some(known(Operational)),
            &changes,
            &[],
            &incidents,
        );
        assert!(days[0].incidents.is_empty());
        assert_eq!(days[1].incidents.len(), 1);
        assert_eq!(days[2].incidents[0].title, "Panne des sites");
        // 2 h down on the 26th, 23 h down on the 27th, out of 24 h + 24 h + 23 h counted.
        let pct = uptime_pct(&days).unwrap_or_default();
        let expected = 100.0 * (71.0 - 25.0) / 71.0;
        assert!((pct - expected).abs() < 1e-9, "{pct} vs {expected}");
    }

    #[test]
    fn today_during_a_major_outage_reads_as_an_outage_whatever_its_minutes() {
        // Ten minutes into a major outage, late in an otherwise fine day.
        let now = at("2026-11-27T20:10:00Z");
        let changes = [change("2026-11-27T20:00:00Z", known(MajorOutage))];
        let days = daily(&Utc, now, 2, Some(known(Operational)), &changes, &[], &[]);
        assert_eq!(days[1].current, Some(MajorOutage));
        assert_eq!(
            days[0].current, None,
            "only today carries the status shown now"
        );
        assert_eq!(days[1].downtime_minutes(), 10);
        assert_eq!(days[1].level(), BarLevel::Major);
        // The same ten minutes on a past day, over: a minor day.
        let later = days[1].clone();
        let past = DayStat {
            current: None,
            ..later
        };
        assert_eq!(past.level(), BarLevel::Minor);
        // Twenty minutes counted, fifteen of them down: an outage, not a minor disruption.
        let short = DayStat {
            counted_ms: 20 * 60_000,
            downtime_ms: 15 * 60_000,
            worst: Some(MajorOutage),
            ..DayStat::empty(days[0].date)
        };
        assert_eq!(short.level(), BarLevel::Major);
    }

    #[test]
    fn coverage_counts_only_days_with_data_and_wants_an_hour_for_a_figure() {
        let d = |n: u32, counted_ms: i64| DayStat {
            counted_ms,
            ..DayStat::empty(NaiveDate::from_ymd_opt(2026, 11, n).expect("date"))
        };
        let c = Coverage::of(&[d(1, 0), d(2, 0), d(3, 9_000)]);
        assert_eq!(c.days, 1);
        assert!(!c.enough(), "nine seconds of data is no uptime figure");
        let c = Coverage::of(&[d(1, 0), d(2, 86_400_000), d(3, 3_600_000)]);
        assert_eq!(c.days, 2);
        assert!(c.enough());
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Bar {
        #[serde(with = "day_runs")]
        days: Vec<DayStat>,
    }

    fn full_day(date: NaiveDate, downtime_ms: i64) -> DayStat {
        DayStat {
            counted_ms: 86_400_000,
            downtime_ms,
            worst: Some(if downtime_ms > 0 {
                ComponentStatus::MajorOutage
            } else {
                ComponentStatus::Operational
            }),
            ..DayStat::empty(date)
        }
    }

    #[test]
    fn alike_days_travel_as_runs_and_come_back_whole() {
        let first = NaiveDate::from_ymd_opt(2026, 8, 31).expect("date");
        let days: Vec<DayStat> = (0..90)
            .map(|k| {
                let date = first + Days::new(k);
                match k {
                    0..=9 => DayStat::empty(date),
                    40 => full_day(date, 3_600_000),
                    _ => full_day(date, 0),
                }
            })
            .collect();
        let bar = Bar { days };
        let json = serde_json::to_string(&bar).expect("serialise");
        // No data, 30 calm days, the outage, 49 calm days.
        assert_eq!(json.matches("\"date\"").count(), 4, "{json}");
        assert!(
            json.starts_with(r#"{"days":[[10,{"date":"2026-08-31"}],[30,"#),
            "{json}"
        );
        let back: Bar = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, bar);
    }

    #[test]
    fn days_that_do_not_follow_each_other_are_not_merged() {
        let d = |day| NaiveDate::from_ymd_opt(2026, 11, day).expect("date");
        let bar = Bar {
            days: vec![full_day(d(1), 0), full_day(d(2), 0), full_day(d(5), 0)],
        };
        let json = serde_json::to_string(&bar).expect("serialise");
        assert_eq!(json.matches("\"date\"").count(), 2, "{json}");
        assert_eq!(
            serde_json::from_str::<Bar>(&json).expect("deserialise"),
            bar
        );
    }

    #[test]
    fn an_absurd_run_is_refused_not_expanded() {
        let json = r#"{"days":[[4000000000,{"date":"2026-11-01"}]]}"#;
        let err = serde_json::from_str::<Bar>(json).expect_err("refused");
        assert!(
            err.to_string().contains("a run of 4000000000 days"),
            "{err}"
        );
    }
}
