//! The site's clock: times shown and typed in the site's timezone.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::words::L;

/// The site's clock: times shown and typed in the site's timezone, labelled.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    pub tz: Tz,
    pub l: L,
}

/// Why a typed time was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeError {
    /// Not a date and time at all.
    Unreadable,
    /// A time skipped when clocks go forward.
    Skipped,
}

impl Clock {
    /// "heure de Paris" / "Paris time": the name staff read beside every time.
    pub fn zone_words(&self) -> String {
        domain::dates::zone_label(self.l.0, self.tz.name())
    }

    /// A time as the public pages write it, with the zone named:
    /// "7 décembre 2026 à 09:40 (heure de Paris)".
    pub fn show(&self, at: DateTime<Utc>) -> String {
        domain::dates::date_time_in(self.l.0, at, self.tz)
    }

    /// "09:40 (heure de Paris)": a time of day in the site's zone, labelled.
    pub fn time_of_day(&self, at: DateTime<Utc>) -> String {
        domain::dates::time_of_day(
            self.l.0,
            &domain::dates::site_time(at, self.tz),
            self.tz.name(),
        )
    }

    /// The value of a `datetime-local` input for `at`, in the site's zone.
    pub fn input_value(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.tz)
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    }

    /// Reads a `datetime-local` value typed in the site's zone (`2026-12-07T09:40`, seconds
    /// allowed), or a full RFC 3339 time with its offset. A time that occurs twice when clocks
    /// go back is the first of the two.
    pub fn parse(&self, s: &str) -> Result<DateTime<Utc>, TimeError> {
        let s = s.trim();
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Ok(t.with_timezone(&Utc));
        }
        let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
            .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
            .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M"))
            .map_err(|_| TimeError::Unreadable)?;
        self.tz
            .from_local_datetime(&naive)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .ok_or(TimeError::Skipped)
    }

    /// The sentence for a refused time in field `what` ("Début").
    pub fn error(&self, e: TimeError) -> String {
        let zone = self.zone_words();
        match e {
            TimeError::Unreadable => self.l.f(
                || format!("Saisissez une date et une heure, par exemple 2026-12-07 09:40 ({zone})."),
                || format!("Enter a date and a time, for example 2026-12-07 09:40 ({zone})."),
            ),
            TimeError::Skipped => self.l.f(
                || format!("Cette heure n'existe pas ce jour-là ({zone}) : les horloges avancent d'une heure. Choisissez une heure après le changement."),
                || format!("This time does not exist that day ({zone}): clocks go forward an hour. Pick a time after the change."),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::locale::Locale;

    fn paris() -> Clock {
        Clock {
            tz: chrono_tz::Europe::Paris,
            l: L(Locale::Fr),
        }
    }

    #[test]
    fn local_times_are_read_in_the_site_zone() {
        let c = paris();
        let winter = c.parse("2026-12-07T05:20").expect("time");
        assert_eq!(winter.to_rfc3339(), "2026-12-07T04:20:00+00:00");
        let summer = c.parse("2026-07-01T22:00").expect("time");
        assert_eq!(summer.to_rfc3339(), "2026-07-01T20:00:00+00:00");
        assert_eq!(c.input_value(winter), "2026-12-07T05:20");
        assert_eq!(c.parse("demain"), Err(TimeError::Unreadable));
        // 29 March 2026, 02:30 does not exist in Paris; 25 October 02:30 exists twice.
        assert_eq!(c.parse("2026-03-29T02:30"), Err(TimeError::Skipped));
        let twice = c.parse("2026-10-25T02:30").expect("time");
        assert_eq!(twice.to_rfc3339(), "2026-10-25T00:30:00+00:00");
        assert_eq!(c.zone_words(), "heure de Paris");
    }
}
