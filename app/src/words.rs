//! The live overview as the browser receives it: already worded by the server, in the reader's
//! language. The island on `/` only lays these words out and keeps them live, so its wasm
//! carries no date parsing or formatting, no float formatting, no wording of causes and no
//! status rules (issue #13: the first visit to `/` has a 250 KB budget, wasm included). The
//! service and maintenance pages lay out the same pieces, built by the same functions, so a day
//! bar or a maintenance window reads alike on every page.
//!
//! The builders (`overview`, `extras`, `days`, `window`) run on the server only: the island
//! never calls them, so the linker leaves them out of the wasm.

use chrono::{NaiveDate, SecondsFormat};
use domain::availability::{Coverage, DayIncident, DayStat};
use domain::incident::{HomeExtras, MaintenanceEntry, OpenIncident, RecentIncident, SiteTime};
use domain::locale::Locale;
use domain::page::{GroupView, ServiceView, StatusPage};
use domain::status::ServiceState;
use serde::{Deserialize, Serialize};
use wording::Texts;

/// Days of a bar shown on narrow screens (the stylesheet hides the others).
pub const MOBILE_DAYS: usize = 30;

/// The overview's part of `/` (from [`StatusPage`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OverviewWords {
    pub title: String,
    /// When the server assembled it, in milliseconds since the epoch: the relative clock
    /// counts from it.
    pub generated_ms: i64,
    /// The same instant, in RFC 3339 (UTC), for `<time datetime>`.
    pub generated_attr: String,
    /// "Mis à jour à 10:42:05 (heure de Paris)": the clock's text until it ticks.
    pub updated_at: Option<String>,
    /// The banner's class (`banner banner-major`…) and sentence.
    pub banner_class: String,
    pub banner: String,
    pub incidents: Vec<IncidentWords>,
    pub groups: Vec<GroupWords>,
    /// The dates the bars' days are on, each said once for the page ([`DayRun::first`]).
    pub dates: Vec<DayDate>,
}

/// A `<time>`: its machine form and its words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stamp {
    pub attr: String,
    pub text: String,
}

/// An open incident's card.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncidentWords {
    pub id: i64,
    pub title: String,
    /// `minor`, `major`…, for the class.
    pub impact: String,
    pub status: String,
    pub since: Stamp,
    /// "Services touchés : …", when it names any.
    pub affected: Option<String>,
    pub latest: Option<UpdateWords>,
}

/// An incident's latest update; `html` was sanitised when staff published it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UpdateWords {
    pub status: String,
    pub at: Stamp,
    pub html: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupWords {
    pub id: String,
    pub name: String,
    /// "3 services".
    pub count: String,
    pub services: Vec<ServiceWords>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceWords {
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub status: StatusWords,
    /// Why it is not operational, in words.
    pub cause: Option<String>,
    /// The uptime figure and what it is over, for the whole bar and for the days narrow
    /// screens show.
    pub uptime: String,
    pub over: String,
    pub uptime_recent: String,
    pub over_recent: String,
    pub bar: BarWords,
}

/// A status as its class, icon and words (never colour alone).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusWords {
    /// `operational`, `major_outage`, `no_data`…
    pub class: String,
    pub icon: String,
    pub text: String,
}

impl StatusWords {
    pub fn of(t: &Texts, state: ServiceState) -> Self {
        StatusWords {
            class: state.css_class().to_owned(),
            icon: wording::status_icon(state).to_owned(),
            text: t.state(state).to_owned(),
        }
    }
}

/// A service's 90-day bar, as runs of alike days.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BarWords {
    /// Its accessible name.
    pub label: String,
    pub runs: Vec<DayRun>,
}

/// `n` days in a row that read alike but for their date: a page carries 90 days per service
/// and most of them are alike.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DayRun {
    /// The first day's date, as an index into the page's dates; the next ones follow it.
    pub first: u32,
    pub n: u32,
    /// "99,95 % · Perturbation mineure".
    pub summary: String,
    /// `operational`, `minor`…, for the class.
    pub level: String,
    pub incidents: Vec<DayIncident>,
}

/// A day of the bars: `2026-12-07` and "7 décembre 2026".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DayDate {
    pub attr: String,
    pub text: String,
}

/// One day of a bar as the bar shows it (not sent: the island makes these from the runs).
#[derive(Clone, Debug, PartialEq)]
pub struct Day {
    pub date: DayDate,
    pub summary: String,
    pub level: String,
    pub incidents: Vec<DayIncident>,
}

impl BarWords {
    /// The bar's days, oldest first; a run pointing past `dates` ends there.
    pub fn days(&self, dates: &[DayDate]) -> Vec<Day> {
        let mut days = Vec::new();
        for run in &self.runs {
            let from = run.first as usize;
            let to = from.saturating_add(run.n as usize).min(dates.len());
            for date in dates.get(from..to).unwrap_or_default() {
                days.push(Day {
                    date: date.clone(),
                    summary: run.summary.clone(),
                    level: run.level.clone(),
                    incidents: run.incidents.clone(),
                });
            }
        }
        days
    }
}

/// What `/` shows beside the services (from [`HomeExtras`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExtrasWords {
    /// The stale banner, when the probes stopped reporting.
    pub stale: Option<String>,
    pub data_as_of: Option<Stamp>,
    /// "2 of 3 probe locations reporting".
    pub locations: Option<String>,
    /// Active windows, then the soonest upcoming ones.
    pub windows: Vec<WindowWords>,
    pub recent: Vec<RecentWords>,
}

/// A maintenance window; `html` was sanitised when staff wrote it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WindowWords {
    pub id: i64,
    pub title: String,
    /// `scheduled`, `in_progress`…, for the class.
    pub status_class: String,
    pub status: String,
    pub window: Stamp,
    /// Each service's id and name.
    pub services: Vec<(String, String)>,
    pub html: String,
}

/// An incident resolved in the last days.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecentWords {
    pub id: i64,
    pub title: String,
    pub impact_class: String,
    pub status: String,
    pub impact: String,
    /// Its start, and in words its start and how long it lasted.
    pub span: Stamp,
}

fn attr(at: &SiteTime) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Words the overview (server only).
pub fn overview(locale: Locale, page: StatusPage) -> OverviewWords {
    let t = wording::texts(locale);
    let zone = page.timezone.as_str();
    let (level, banner) = banner(&page, t);
    let mut all: Vec<NaiveDate> = page
        .groups
        .iter()
        .flat_map(|g| {
            g.services
                .iter()
                .flat_map(|s| s.days.iter().map(|d| d.date))
        })
        .collect();
    all.sort_unstable();
    all.dedup();
    let dates = all.iter().map(|d| day_date(t, *d)).collect();
    let incidents = page
        .incidents
        .into_iter()
        .map(|i| incident(t, i, zone))
        .collect();
    let groups = page
        .groups
        .into_iter()
        .map(|g| group(t, g, zone, &all))
        .collect();
    OverviewWords {
        title: page.title,
        generated_ms: page.generated_at.timestamp_millis(),
        generated_attr: page.generated_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        updated_at: page.generated_local.map(|at| t.updated_at(&at, zone)),
        banner_class: format!("banner banner-{level}"),
        banner,
        incidents,
        groups,
        dates,
    }
}

fn incident(t: &Texts, i: OpenIncident, zone: &str) -> IncidentWords {
    let names: Vec<&str> = i.services.iter().map(|s| s.name.as_str()).collect();
    IncidentWords {
        id: i.id,
        title: i.title,
        impact: i.impact.as_str().to_owned(),
        status: t.incident_status(i.status).to_owned(),
        since: Stamp {
            attr: attr(&i.started_at),
            text: t.since(&i.started_at, zone),
        },
        affected: (!names.is_empty()).then(|| t.affected(&names.join(", "))),
        latest: i.latest.map(|u| UpdateWords {
            status: t.incident_status(u.status).to_owned(),
            at: Stamp {
                attr: attr(&u.created_at),
                text: t.date_time(&u.created_at, zone),
            },
            html: u.message_html,
        }),
    }
}

fn group(t: &Texts, g: GroupView, zone: &str, dates: &[NaiveDate]) -> GroupWords {
    GroupWords {
        count: t.service_count(g.services.len()),
        id: g.id,
        name: g.name,
        services: g
            .services
            .into_iter()
            .map(|s| service(t, s, zone, dates))
            .collect(),
    }
}

fn service(t: &Texts, s: ServiceView, zone: &str, dates: &[NaiveDate]) -> ServiceWords {
    let coverage = Coverage::of(&s.days);
    // Narrow screens show the last days of the bar: the figure beside it is over those same
    // days there.
    let recent = &s.days[s.days.len().saturating_sub(MOBILE_DAYS)..];
    let recent_coverage = Coverage::of(recent);
    ServiceWords {
        uptime: t.uptime_figure(s.uptime_90d, coverage),
        over: t.uptime_over_days(coverage.days),
        uptime_recent: t.uptime_figure(domain::availability::uptime_pct(recent), recent_coverage),
        over_recent: t.uptime_over_days(recent_coverage.days),
        status: StatusWords::of(t, s.state),
        cause: s
            .cause
            .as_ref()
            .map(|c| t.cause(c, s.cause_at.as_ref(), zone)),
        bar: BarWords {
            label: t.day_bar_name(&s.name, s.days.len()),
            runs: runs(t, &s.days, dates),
        },
        slug: s.slug,
        name: s.name,
        description: s.description,
    }
}

/// The bar's days as runs; `dates` holds every day's date, sorted.
fn runs(t: &Texts, days: &[DayStat], dates: &[NaiveDate]) -> Vec<DayRun> {
    let mut runs: Vec<DayRun> = Vec::new();
    for day in days {
        let Ok(at) = dates.binary_search(&day.date) else {
            continue;
        };
        let at = u32::try_from(at).unwrap_or(u32::MAX);
        let (summary, level) = (summary(t, day), day.level().css_class());
        match runs.last_mut() {
            Some(r)
                if r.first.checked_add(r.n) == Some(at)
                    && r.summary == summary
                    && r.level == level
                    && r.incidents == day.incidents =>
            {
                r.n += 1
            }
            _ => runs.push(DayRun {
                first: at,
                n: 1,
                summary,
                level: level.to_owned(),
                incidents: day.incidents.clone(),
            }),
        }
    }
    runs
}

/// A bar's days, for a page that renders them on the server only (the service page).
pub fn days(t: &Texts, days: &[DayStat]) -> Vec<Day> {
    days.iter()
        .map(|d| Day {
            date: day_date(t, d.date),
            summary: summary(t, d),
            level: d.level().css_class().to_owned(),
            incidents: d.incidents.clone(),
        })
        .collect()
}

fn day_date(t: &Texts, date: NaiveDate) -> DayDate {
    DayDate {
        attr: date.format("%Y-%m-%d").to_string(),
        text: t.date(date),
    }
}

/// The day's uptime in words; a day without data says so once, not as its uptime and again
/// as its level.
fn summary(t: &Texts, day: &DayStat) -> String {
    let uptime = t.uptime(day.uptime_pct());
    let words = t.bar_level(day.level());
    if uptime == words {
        uptime
    } else {
        format!("{uptime} · {words}")
    }
}

/// The banner's level (its class) and sentence for the current states and open incidents.
fn banner(page: &StatusPage, t: &Texts) -> (&'static str, String) {
    use domain::banner::BannerLevel as L;
    let states: Vec<ServiceState> = page
        .groups
        .iter()
        .flat_map(|g| g.services.iter().map(|s| s.state))
        .collect();
    let impacts: Vec<_> = page.incidents.iter().map(|i| i.impact).collect();
    let b = domain::banner::banner(&states, &impacts);
    let text = match b.level {
        L::Major | L::Minor if b.from_incidents => {
            t.banner_incidents(b.level == L::Major, b.incidents)
        }
        L::Major => t.banner_major(b.affected),
        L::Minor => t.banner_minor(b.affected),
        L::Maintenance => t.banner_maintenance.to_owned(),
        L::Operational if b.partial_data => t.banner_operational_partial_data.to_owned(),
        L::Operational => t.banner_operational.to_owned(),
        L::NoData => t.banner_no_data.to_owned(),
    };
    (b.level.css_class(), text)
}

/// Words what `/` shows beside the services (server only).
pub fn extras(locale: Locale, extras: HomeExtras) -> ExtrasWords {
    let t = wording::texts(locale);
    let zone = extras.timezone.as_str();
    let mut windows: Vec<WindowWords> = extras
        .active_maintenance
        .into_iter()
        .map(|w| window(t, w, zone))
        .collect();
    windows.extend(
        extras
            .upcoming_maintenance
            .into_iter()
            .map(|w| window(t, w, zone)),
    );
    ExtrasWords {
        stale: extras
            .data_as_of
            .filter(|_| extras.stale)
            .map(|since| t.stale(&since, zone)),
        data_as_of: extras.data_as_of.map(|at| Stamp {
            attr: attr(&at),
            text: t.data_as_of(&at, zone),
        }),
        locations: extras
            .locations
            .map(|(reporting, total)| locations_reporting(locale, reporting, total)),
        recent: extras
            .recent_incidents
            .into_iter()
            .map(|i| recent(t, i, zone))
            .collect(),
        windows,
    }
}

/// A maintenance window in words (server only).
pub fn window(t: &Texts, w: MaintenanceEntry, zone: &str) -> WindowWords {
    WindowWords {
        id: w.id,
        title: w.title,
        status_class: w.status.as_str().to_owned(),
        status: t.maintenance_status(w.status).to_owned(),
        window: Stamp {
            attr: attr(&w.starts_at),
            text: t.window(&w.starts_at, &w.ends_at, zone),
        },
        services: w
            .services
            .into_iter()
            .map(|s| (s.service_id, s.name))
            .collect(),
        html: w.message_html,
    }
}

fn recent(t: &Texts, i: RecentIncident, zone: &str) -> RecentWords {
    let text = match i.resolved_at {
        Some(end) => format!(
            "{} · {}",
            t.date_time(&i.started_at, zone),
            t.lasted((end - i.started_at).num_seconds())
        ),
        None => t.date_time(&i.started_at, zone),
    };
    RecentWords {
        id: i.id,
        title: i.title,
        impact_class: i.impact.as_str().to_owned(),
        status: t.incident_status(i.status).to_owned(),
        impact: t.impact(i.impact),
        span: Stamp {
            attr: attr(&i.started_at),
            text,
        },
    }
}

/// "2 of 3 probe locations reporting", in the reader's language.
fn locations_reporting(locale: Locale, reporting: u32, total: u32) -> String {
    match locale {
        Locale::Fr if reporting > 1 => {
            format!("{reporting} emplacements de sonde sur {total} répondent")
        }
        Locale::Fr => format!("{reporting} emplacement de sonde sur {total} répond"),
        Locale::En => format!("{reporting} of {total} probe locations reporting"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::availability::DayStat;
    use domain::status::ComponentStatus;

    fn day(date: NaiveDate, downtime_ms: i64, incident: Option<&str>) -> DayStat {
        DayStat {
            date,
            counted_ms: 86_400_000,
            downtime_ms,
            maintenance_ms: 0,
            no_data_ms: 0,
            worst: Some(if downtime_ms > 0 {
                ComponentStatus::MajorOutage
            } else {
                ComponentStatus::Operational
            }),
            incidents: incident
                .map(|title| {
                    vec![DayIncident {
                        id: 7,
                        title: title.to_owned(),
                    }]
                })
                .unwrap_or_default(),
            current: None,
        }
    }

    fn service(slug: &str, days: Vec<DayStat>) -> ServiceView {
        ServiceView {
            slug: slug.to_owned(),
            name: slug.to_uppercase(),
            description: None,
            url: None,
            state: ServiceState::Known(ComponentStatus::Operational),
            cause: None,
            cause_at: None,
            uptime_90d: domain::availability::uptime_pct(&days),
            days,
        }
    }

    /// The island rebuilds each day of a bar from the runs and the page's dates: exactly the
    /// days the service page words one by one, for bars of different lengths on one page.
    #[test]
    fn bars_sent_as_runs_come_back_day_for_day() {
        let first = NaiveDate::from_ymd_opt(2026, 9, 1).expect("date");
        let long: Vec<DayStat> = (0..90u64)
            .map(|k| {
                let date = first + chrono::Days::new(k);
                match k {
                    40 => day(date, 3_600_000, Some("Disque plein")),
                    41 => day(date, 0, Some("Disque plein")),
                    _ => day(date, 0, None),
                }
            })
            .collect();
        let short = long[80..].to_vec();
        let page = StatusPage {
            title: "Humanoid".into(),
            generated_at: chrono::Utc::now(),
            generated_local: None,
            groups: vec![GroupView {
                id: "sites".into(),
                name: "Sites".into(),
                services: vec![
                    service("long", long.clone()),
                    service("short", short.clone()),
                ],
            }],
            incidents: Vec::new(),
            timezone: "Europe/Paris".into(),
        };
        for locale in Locale::ALL {
            let t = wording::texts(locale);
            let words = overview(locale, page.clone());
            assert_eq!(words.dates.len(), 90);
            let [a, b] = &words.groups[0].services[..] else {
                panic!("two services");
            };
            // Alike days travel as one run: before, the outage, the day after, the rest.
            assert_eq!(a.bar.runs.len(), 4, "{:?}", a.bar.runs);
            assert_eq!(b.bar.runs.len(), 1);
            assert_eq!(a.bar.days(&words.dates), days(t, &long));
            assert_eq!(b.bar.days(&words.dates), days(t, &short));
        }
        let fr = days(wording::texts(Locale::Fr), &long[40..41]);
        assert_eq!(fr[0].date.attr, "2026-10-11");
        assert_eq!(fr[0].date.text, "11 octobre 2026");
        assert_eq!(fr[0].summary, "95,83 % · Panne");
        assert_eq!(fr[0].level, "major");
    }

    /// Bad runs (past the page's dates) end the bar there rather than panicking.
    #[test]
    fn a_run_past_the_dates_stops_there() {
        let bar = BarWords {
            label: String::new(),
            runs: vec![DayRun {
                first: 1,
                n: u32::MAX,
                summary: "x".into(),
                level: "operational".into(),
                incidents: Vec::new(),
            }],
        };
        let dates = vec![
            DayDate {
                attr: "a".into(),
                text: "a".into(),
            };
            3
        ];
        assert_eq!(bar.days(&dates).len(), 2);
        assert!(bar.days(&[]).is_empty());
    }
}
