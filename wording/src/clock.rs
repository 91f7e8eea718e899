//! Dates, times and durations. Every time a reader sees is in the site's timezone and says which
//! one ("10:42 (heure de Paris)"), in one date format per language.

use chrono::{NaiveDate, NaiveDateTime, Timelike};
use domain::dates;
use domain::incident::SiteTime;
use domain::locale::Locale;

use super::Texts;

impl Texts {
    /// "Mis à jour il y a 12 s".
    pub fn updated_ago(&self, seconds: u64) -> String {
        let (fr, en) = match seconds {
            0..=4 => return self.just_updated().to_owned(),
            5..=59 => (format!("il y a {seconds} s"), format!("{seconds} s ago")),
            60..=3599 => (
                format!("il y a {} min", seconds / 60),
                format!("{} min ago", seconds / 60),
            ),
            _ => (
                format!("il y a {} h", seconds / 3600),
                format!("{} h ago", seconds / 3600),
            ),
        };
        pick!(self, format!("Mis à jour {fr}"), format!("Updated {en}"))
    }

    /// "Mis à jour à 10:42:05 (heure de Paris)": the page's time when no script makes it
    /// relative.
    pub fn updated_at(&self, t: &SiteTime, zone: &str) -> String {
        let hms = format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second());
        let text = pick!(
            self,
            format!("Mis à jour à {hms}"),
            format!("Updated at {hms}")
        );
        self.labelled(text, zone)
    }

    fn just_updated(&self) -> &'static str {
        pick!(self, "Mis à jour à l'instant", "Updated just now")
    }

    /// The words for a timezone, from its IANA name: "heure de Paris" / "Paris time" for
    /// `Europe/Paris`, "UTC" for UTC; empty for an empty name.
    pub fn zone_label(&self, zone: &str) -> String {
        dates::zone_label(self.locale, zone)
    }

    /// `text` followed by its timezone: "14:03 (heure de Paris)".
    fn labelled(&self, text: String, zone: &str) -> String {
        dates::labelled(self.locale, text, zone)
    }

    /// "27 novembre 2026" / "27 November 2026": the one date format of each language.
    pub fn date(&self, date: NaiveDate) -> String {
        dates::date(self.locale, date)
    }

    /// "27 nov." / "27 Nov": only where room is short (the chart's axis).
    pub fn short_date(&self, date: NaiveDate) -> String {
        dates::short_date(self.locale, date)
    }

    /// "27 novembre 2026 à 14:03 (heure de Paris)" / "27 November 2026, 14:03 (Paris time)".
    pub fn date_time(&self, t: &SiteTime, zone: &str) -> String {
        dates::date_time(self.locale, t, zone)
    }

    /// The same for a time already in the site's timezone.
    pub fn naive_date_time(&self, at: NaiveDateTime, zone: &str) -> String {
        dates::naive_date_time(self.locale, at, zone)
    }

    /// "14:03" in the site's timezone, without a label: only where the label is said once
    /// for the whole (the chart's axis, whose note names the timezone).
    pub fn hour_minute(&self, at: NaiveDateTime) -> String {
        dates::hour_minute(at)
    }

    /// "le 2 décembre 2026 de 22:00 à 23:30 (heure de Paris)", or across days "du 2 décembre
    /// 2026 à 22:00 au 3 décembre 2026 à 02:00 (heure de Paris)".
    pub fn window(&self, from: &SiteTime, to: &SiteTime, zone: &str) -> String {
        dates::window(self.locale, from, to, zone)
    }

    /// "du … au … (heure de Paris)" / "… (en cours)" for an incident on the service page.
    pub fn incident_span(
        &self,
        from: NaiveDateTime,
        to: Option<NaiveDateTime>,
        zone: &str,
    ) -> String {
        dates::span(self.locale, from, to, zone)
    }

    /// "depuis le 27 novembre 2026 à 04:11 (heure de Paris)".
    pub fn since(&self, when: &SiteTime, zone: &str) -> String {
        dates::since(self.locale, when, zone)
    }

    /// "Novembre 2026" / "November 2026".
    pub fn month_year(&self, year: i32, month: u32) -> String {
        dates::month_year(self.locale, year, month)
    }

    /// A length of time: "45 s", "12 min", "2 h 15 min", "3 j 4 h" / "3 d 4 h".
    pub fn duration(&self, seconds: i64) -> String {
        dates::duration(self.locale, seconds)
    }

    /// "il y a 3 h" / "3 h ago", or "dans 2 j" / "in 2 d" for a time to come.
    pub fn relative(&self, seconds_ago: i64) -> String {
        dates::relative(self.locale, seconds_ago)
    }

    /// "Durée : 2 h 15 min".
    pub fn lasted(&self, seconds: i64) -> String {
        let d = self.duration(seconds);
        pick!(self, format!("Durée : {d}"), format!("Duration: {d}"))
    }

    /// "En cours depuis le 27 novembre 2026 à 14:03 (heure de Paris), soit 3 h 12 min".
    pub fn ongoing_since(&self, since: &SiteTime, seconds: i64, zone: &str) -> String {
        let (w, d) = (self.date_time(since, zone), self.duration(seconds));
        pick!(
            self,
            format!("En cours depuis le {w}, soit {d}"),
            format!("Ongoing since {w}, {d} so far")
        )
    }

    /// "Début : …" / "Started: …".
    pub fn started(&self, when: &SiteTime, zone: &str) -> String {
        let w = self.date_time(when, zone);
        pick!(self, format!("Début : {w}"), format!("Started: {w}"))
    }

    /// "Résolu le …" / "Resolved: …".
    pub fn resolved(&self, when: &SiteTime, zone: &str) -> String {
        let w = self.date_time(when, zone);
        pick!(self, format!("Résolu le {w}"), format!("Resolved: {w}"))
    }

    /// "modifié le …" / "edited …".
    pub fn edited(&self, when: &SiteTime, zone: &str) -> String {
        let w = self.date_time(when, zone);
        pick!(self, format!("modifié le {w}"), format!("edited {w}"))
    }

    /// "Heures indiquées en heure de Paris (Europe/Paris)": the zone every time on the page
    /// is in, said once more at the foot of the page with its IANA name.
    pub fn times_in(&self, zone: &str) -> String {
        let label = self.zone_label(zone);
        pick!(
            self,
            format!("Heures indiquées en {label} ({zone})"),
            format!("Times shown in {label} ({zone})")
        )
    }

    /// Under the 30-day chart, whose points are the site's days: "Un point par jour, de minuit
    /// à minuit (heure de Paris)." / "One point per day, midnight to midnight (Paris time)."
    pub fn local_days(&self, zone: &str) -> String {
        let label = self.zone_label(zone);
        pick!(
            self,
            format!("Un point par jour, de minuit à minuit ({label})."),
            format!("One point per day, midnight to midnight ({label}).")
        )
    }

    /// "Données à jour à 14:03:12 (heure de Paris)" / "Data as of 14:03:12 (Paris time)".
    pub fn data_as_of(&self, t: &SiteTime, zone: &str) -> String {
        let hms = format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second());
        let text = pick!(
            self,
            format!("Données à jour à {hms}"),
            format!("Data as of {hms}")
        );
        self.labelled(text, zone)
    }

    /// The stale banner: the probes stopped reporting.
    pub fn stale(&self, since: &SiteTime, zone: &str) -> String {
        let w = self.date_time(since, zone);
        pick!(
            self,
            format!(
                "Les sondes n'ont rien rapporté depuis le {w} : l'état affiché peut être dépassé."
            ),
            format!("The probes have not reported since {w}: the status shown may be out of date.")
        )
    }

    /// "il y a 90 jours" / "90 days ago".
    pub fn days_ago(&self, days: usize) -> String {
        pick!(
            self,
            format!("il y a {days} jours"),
            format!("{days} days ago")
        )
    }

    pub fn today(&self) -> &'static str {
        pick!(self, "Aujourd'hui", "Today")
    }
}

#[cfg(test)]
mod tests {
    use super::super::{EN, FR};

    fn paris(rfc3339: &str) -> domain::incident::SiteTime {
        chrono::DateTime::parse_from_rfc3339(rfc3339).expect("time")
    }

    #[test]
    fn every_time_says_its_timezone_in_the_readers_words() {
        let t = paris("2026-11-27T14:03:09+01:00");
        assert_eq!(
            FR.date_time(&t, "Europe/Paris"),
            "27 novembre 2026 à 14:03 (heure de Paris)"
        );
        assert_eq!(
            EN.date_time(&t, "Europe/Paris"),
            "27 November 2026, 14:03 (Paris time)"
        );
        assert_eq!(
            FR.data_as_of(&t, "Europe/Paris"),
            "Données à jour à 14:03:09 (heure de Paris)"
        );
        assert_eq!(FR.zone_label("UTC"), "UTC");
        assert_eq!(FR.zone_label("Etc/UTC"), "UTC");
        assert_eq!(EN.zone_label("America/New_York"), "New York time");
        assert_eq!(
            FR.since(&t, "Europe/Paris"),
            "depuis le 27 novembre 2026 à 14:03 (heure de Paris)"
        );
    }

    #[test]
    fn a_window_names_its_day_once_when_it_fits_in_one() {
        let (a, b) = (
            paris("2026-12-02T22:00:00+01:00"),
            paris("2026-12-02T23:30:00+01:00"),
        );
        assert_eq!(
            FR.window(&a, &b, "Europe/Paris"),
            "le 2 décembre 2026 de 22:00 à 23:30 (heure de Paris)"
        );
        let c = paris("2026-12-03T02:00:00+01:00");
        assert_eq!(
            EN.window(&a, &c, "Europe/Paris"),
            "from 2 December 2026, 22:00 to 3 December 2026, 02:00 (Paris time)"
        );
    }

    #[test]
    fn one_date_format_per_language() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).expect("date");
        assert_eq!(FR.date(d), "27 novembre 2026");
        assert_eq!(EN.date(d), "27 November 2026");
        assert_eq!(FR.month_year(2026, 8), "Août 2026");
        assert_eq!(EN.month_year(2026, 12), "December 2026");
    }

    #[test]
    fn durations_and_relative_times_read_naturally() {
        assert_eq!(FR.updated_ago(0), "Mis à jour à l'instant");
        assert_eq!(FR.updated_ago(12), "Mis à jour il y a 12 s");
        assert_eq!(EN.updated_ago(125), "Updated 2 min ago");
        assert_eq!(FR.duration(8100), "2 h 15 min");
        assert_eq!(EN.duration(3 * 86_400 + 4 * 3600), "3 d 4 h");
        assert_eq!(FR.relative(7200), "il y a 2 h");
        assert_eq!(EN.relative(-120), "in 2 min");
    }
}
