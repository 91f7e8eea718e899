//! How a time reads, in French and English: the one date wording every reader and staff member
//! sees, whatever carries it (the pages, the console, the subscribers' mails, the feeds and the
//! calendar). Every time is in the site's timezone and says which one ("10:42 (heure de
//! Paris)" / "10:42 (Paris time)"), in one date format per language ("7 décembre 2026 à 17:42"
//! / "7 December 2026, 17:42"). Machine fields (RFC 3339, iCalendar, RSS dates) stay in UTC
//! and do not come here.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};

use crate::incident::SiteTime;
use crate::locale::Locale;

const MONTHS_SHORT_FR: [&str; 12] = [
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
    "déc.",
];
const MONTHS_SHORT_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn pick<T>(l: Locale, fr: T, en: T) -> T {
    match l {
        Locale::Fr => fr,
        Locale::En => en,
    }
}

/// `at` on the site's clock.
pub fn site_time(at: DateTime<Utc>, tz: chrono_tz::Tz) -> SiteTime {
    at.with_timezone(&tz).fixed_offset()
}

/// The words for a timezone, from its IANA name: "heure de Paris" / "Paris time" for
/// `Europe/Paris`, "UTC" for UTC; empty for an empty name.
pub fn zone_label(l: Locale, zone: &str) -> String {
    let city = zone.rsplit('/').next().unwrap_or(zone).replace('_', " ");
    match city.as_str() {
        "" => String::new(),
        "UTC" | "UCT" | "Universal" | "Zulu" | "GMT" => "UTC".to_owned(),
        _ => pick(l, format!("heure de {city}"), format!("{city} time")),
    }
}

/// `text` followed by its timezone: "14:03 (heure de Paris)".
pub fn labelled(l: Locale, text: String, zone: &str) -> String {
    let label = zone_label(l, zone);
    if label.is_empty() {
        text
    } else {
        format!("{text} ({label})")
    }
}

/// "décembre" / "December", for a month counted from 0.
pub fn month_name(l: Locale, month0: u32) -> &'static str {
    let i = month0 as usize % 12;
    pick(l, MONTHS_FR[i], MONTHS_EN[i])
}

/// "27 novembre 2026" / "27 November 2026": the one date format of each language.
pub fn date(l: Locale, d: NaiveDate) -> String {
    format!("{} {} {}", d.day(), month_name(l, d.month0()), d.year())
}

/// "27 nov." / "27 Nov": only where room is short (the chart's axis).
pub fn short_date(l: Locale, d: NaiveDate) -> String {
    let i = d.month0() as usize % 12;
    format!(
        "{} {}",
        d.day(),
        pick(l, MONTHS_SHORT_FR[i], MONTHS_SHORT_EN[i])
    )
}

/// "14:03", without a label: only where the label is said once for the whole (the chart's
/// axis, whose note names the timezone) or right beside it.
pub fn hour_minute(at: NaiveDateTime) -> String {
    format!("{:02}:{:02}", at.hour(), at.minute())
}

/// "27 novembre 2026 à 14:03" / "27 November 2026, 14:03", without its timezone: only for
/// building labelled phrases.
pub fn stamp(l: Locale, at: NaiveDateTime) -> String {
    let d = date(l, at.date());
    let hm = hour_minute(at);
    pick(l, format!("{d} à {hm}"), format!("{d}, {hm}"))
}

/// "27 novembre 2026 à 14:03 (heure de Paris)" / "27 November 2026, 14:03 (Paris time)".
pub fn date_time(l: Locale, t: &SiteTime, zone: &str) -> String {
    naive_date_time(l, t.naive_local(), zone)
}

/// The same for a UTC instant, read on the site's clock `tz`.
pub fn date_time_in(l: Locale, at: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    date_time(l, &site_time(at, tz), tz.name())
}

/// The same for a time already in the site's timezone.
pub fn naive_date_time(l: Locale, at: NaiveDateTime, zone: &str) -> String {
    labelled(l, stamp(l, at), zone)
}

/// "14:03 (heure de Paris)" / "14:03 (Paris time)": a time of day, labelled.
pub fn time_of_day(l: Locale, t: &SiteTime, zone: &str) -> String {
    labelled(l, hour_minute(t.naive_local()), zone)
}

/// "le 2 décembre 2026 de 22:00 à 23:30 (heure de Paris)", or across days "du 2 décembre
/// 2026 à 22:00 au 3 décembre 2026 à 02:00 (heure de Paris)".
pub fn window(l: Locale, from: &SiteTime, to: &SiteTime, zone: &str) -> String {
    let (from, to) = (from.naive_local(), to.naive_local());
    let text = if from.date() == to.date() {
        let d = date(l, from.date());
        let (a, b) = (hour_minute(from), hour_minute(to));
        pick(
            l,
            format!("le {d} de {a} à {b}"),
            format!("{d}, {a} to {b}"),
        )
    } else {
        let (a, b) = (stamp(l, from), stamp(l, to));
        pick(l, format!("du {a} au {b}"), format!("from {a} to {b}"))
    };
    labelled(l, text, zone)
}

/// "du … au … (heure de Paris)" / "depuis le … (en cours)" for an incident's span.
pub fn span(l: Locale, from: NaiveDateTime, to: Option<NaiveDateTime>, zone: &str) -> String {
    let a = stamp(l, from);
    let text = match to {
        Some(to) => {
            let b = stamp(l, to);
            pick(l, format!("du {a} au {b}"), format!("from {a} to {b}"))
        }
        None => pick(
            l,
            format!("depuis le {a} (en cours)"),
            format!("since {a} (ongoing)"),
        ),
    };
    labelled(l, text, zone)
}

/// "depuis le 27 novembre 2026 à 04:11 (heure de Paris)".
pub fn since(l: Locale, when: &SiteTime, zone: &str) -> String {
    let w = date_time(l, when, zone);
    pick(l, format!("depuis le {w}"), format!("since {w}"))
}

/// "Fenêtre : le 28 novembre 2026 de 02:00 à 04:00 (heure de Paris)": a maintenance window
/// in a feed, the calendar or a mail.
pub fn maintenance_window(l: Locale, from: &SiteTime, to: &SiteTime, zone: &str) -> String {
    let w = window(l, from, to, zone);
    pick(l, format!("Fenêtre : {w}"), format!("Window: {w}"))
}

/// A window that has begun: "Maintenance commencée le 28 novembre 2026 à 02:00 (heure de
/// Paris) ; fin prévue le 28 novembre 2026 à 04:00 (heure de Paris)."
pub fn maintenance_began(l: Locale, at: &SiteTime, until: &SiteTime, zone: &str) -> String {
    let (a, b) = (date_time(l, at, zone), date_time(l, until, zone));
    pick(
        l,
        format!("Maintenance commencée le {a} ; fin prévue le {b}."),
        format!("Maintenance started on {a}; planned to end on {b}."),
    )
}

/// A window that is over: "Maintenance terminée le 28 novembre 2026 à 04:00 (heure de
/// Paris)."
pub fn maintenance_ended(l: Locale, at: &SiteTime, zone: &str) -> String {
    let a = date_time(l, at, zone);
    pick(
        l,
        format!("Maintenance terminée le {a}."),
        format!("Maintenance ended on {a}."),
    )
}

/// "Novembre 2026" / "November 2026".
pub fn month_year(l: Locale, year: i32, month: u32) -> String {
    let name = month_name(l, month.clamp(1, 12) - 1);
    match l {
        Locale::Fr => {
            let mut chars = name.chars();
            let first = chars.next().map(|c| c.to_uppercase().collect::<String>());
            format!("{}{} {year}", first.unwrap_or_default(), chars.as_str())
        }
        Locale::En => format!("{name} {year}"),
    }
}

/// A length of time: "45 s", "12 min", "2 h 15 min", "3 j 4 h" / "3 d 4 h".
pub fn duration(l: Locale, seconds: i64) -> String {
    let s = seconds.max(0);
    let day = pick(l, "j", "d");
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min", s / 60),
        3600..=86_399 if (s % 3600) / 60 == 0 => format!("{} h", s / 3600),
        3600..=86_399 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        _ if (s % 86_400) / 3600 == 0 => format!("{} {day}", s / 86_400),
        _ => format!("{} {day} {} h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// "il y a 3 h" / "3 h ago", or "dans 2 j" / "in 2 d" for a time to come.
pub fn relative(l: Locale, seconds_ago: i64) -> String {
    if seconds_ago.abs() < 5 {
        return pick(l, "à l'instant", "just now").to_owned();
    }
    let d = duration(l, seconds_ago.abs());
    if seconds_ago > 0 {
        pick(l, format!("il y a {d}"), format!("{d} ago"))
    } else {
        pick(l, format!("dans {d}"), format!("in {d}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Locale::{En, Fr};

    fn paris(rfc3339: &str) -> SiteTime {
        DateTime::parse_from_rfc3339(rfc3339).expect("time")
    }

    #[test]
    fn every_time_says_its_timezone_in_the_readers_words() {
        let t = paris("2026-11-27T14:03:09+01:00");
        assert_eq!(
            date_time(Fr, &t, "Europe/Paris"),
            "27 novembre 2026 à 14:03 (heure de Paris)"
        );
        assert_eq!(
            date_time(En, &t, "Europe/Paris"),
            "27 November 2026, 14:03 (Paris time)"
        );
        assert_eq!(zone_label(Fr, "UTC"), "UTC");
        assert_eq!(zone_label(Fr, "Etc/UTC"), "UTC");
        assert_eq!(zone_label(En, "America/New_York"), "New York time");
        assert_eq!(zone_label(En, ""), "");
        assert_eq!(
            since(Fr, &t, "Europe/Paris"),
            "depuis le 27 novembre 2026 à 14:03 (heure de Paris)"
        );
        assert_eq!(time_of_day(En, &t, "Europe/Paris"), "14:03 (Paris time)");
    }

    #[test]
    fn a_utc_instant_reads_on_the_site_clock_across_summer_time() {
        let tz = chrono_tz::Europe::Paris;
        let winter = DateTime::parse_from_rfc3339("2026-12-07T16:42:00Z")
            .expect("time")
            .to_utc();
        assert_eq!(
            date_time_in(Fr, winter, tz),
            "7 décembre 2026 à 17:42 (heure de Paris)"
        );
        let summer = DateTime::parse_from_rfc3339("2027-07-05T16:42:00Z")
            .expect("time")
            .to_utc();
        assert_eq!(
            date_time_in(En, summer, tz),
            "5 July 2027, 18:42 (Paris time)"
        );
        assert_eq!(
            date_time_in(En, winter, chrono_tz::UTC),
            "7 December 2026, 16:42 (UTC)"
        );
    }

    #[test]
    fn a_window_names_its_day_once_when_it_fits_in_one() {
        let (a, b) = (
            paris("2026-12-02T22:00:00+01:00"),
            paris("2026-12-02T23:30:00+01:00"),
        );
        assert_eq!(
            window(Fr, &a, &b, "Europe/Paris"),
            "le 2 décembre 2026 de 22:00 à 23:30 (heure de Paris)"
        );
        let c = paris("2026-12-03T02:00:00+01:00");
        assert_eq!(
            window(En, &a, &c, "Europe/Paris"),
            "from 2 December 2026, 22:00 to 3 December 2026, 02:00 (Paris time)"
        );
    }

    #[test]
    fn one_date_format_per_language() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 27).expect("date");
        assert_eq!(date(Fr, d), "27 novembre 2026");
        assert_eq!(date(En, d), "27 November 2026");
        assert_eq!(short_date(Fr, d), "27 nov.");
        assert_eq!(month_year(Fr, 2026, 8), "Août 2026");
        assert_eq!(month_year(En, 2026, 12), "December 2026");
    }

    #[test]
    fn durations_and_relative_times_read_naturally() {
        assert_eq!(duration(Fr, 8100), "2 h 15 min");
        assert_eq!(duration(En, 3 * 86_400 + 4 * 3600), "3 d 4 h");
        assert_eq!(relative(Fr, 7200), "il y a 2 h");
        assert_eq!(relative(En, -120), "in 2 min");
        assert_eq!(relative(En, 2), "just now");
    }
}
