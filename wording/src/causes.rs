//! Why a service is not operational, and why a check failed, in the reader's language.
//!
//! Causes and reasons are data (`domain::topology::Cause`, `domain::reason::Reason`); each
//! language words them here. English follows their `Display`, the words logs and APIs use.

use domain::incident::SiteTime;
use domain::locale::Locale;
use domain::reason::{backup_facts_in, humanize_ms, Reason};
use domain::status::CheckOutcome;
use domain::topology::Cause;

use super::Texts;

impl Texts {
    /// The cause of a status, e.g. "hôte phys-2 injoignable". The status word is shown beside
    /// it, so only the cause is said. `at` is the instant the cause names (a heartbeat's) in
    /// the site's timezone `zone`, as the server sent it (`ServiceView::cause_at`).
    pub fn cause(&self, cause: &Cause, at: Option<&SiteTime>, zone: &str) -> String {
        if let Cause::Monitor {
            monitor,
            reason: Some(r),
            ..
        } = cause
        {
            let r = self.reason(r, at, zone);
            return pick!(
                self,
                format!("sonde {monitor} : {r}"),
                format!("monitor {monitor}: {r}")
            );
        }
        if self.locale == Locale::En {
            return cause.to_string();
        }
        match cause {
            Cause::Monitor {
                monitor, outcome, ..
            } => {
                let word = match outcome {
                    CheckOutcome::Up => "répond",
                    CheckOutcome::Degraded => "dégradée",
                    CheckOutcome::Down => "en échec",
                };
                format!("sonde {monitor} {word}")
            }
            Cause::Host { host } => format!("hôte {host} injoignable"),
            Cause::Dependency { service } => format!("dépend de {service}"),
            Cause::Maintenance => "maintenance programmée".to_owned(),
            Cause::Incident => "déclaré par un incident en cours".to_owned(),
        }
    }

    /// Why a check was not a clean `up`, e.g. "HTTP 502 (attendu 200-399)". A heartbeat's
    /// time is said in the site's timezone when the server sent it converted (`at`), and only
    /// otherwise in UTC, labelled as such.
    pub fn reason(&self, reason: &Reason, at: Option<&SiteTime>, zone: &str) -> String {
        let when = |utc: &chrono::DateTime<chrono::Utc>| match at {
            Some(local) => self.date_time(local, zone),
            None => self.date_time(&utc.fixed_offset(), "UTC"),
        };
        match reason {
            Reason::NoHeartbeat { since } => {
                let w = when(since);
                return pick!(
                    self,
                    format!("aucun signal depuis le {w}"),
                    format!("no heartbeat since {w}")
                );
            }
            Reason::StaleHeartbeat { last } => {
                let w = when(last);
                return pick!(
                    self,
                    format!("signal trop ancien : le dernier date du {w}"),
                    format!("stale: last heartbeat on {w}")
                );
            }
            // Dates in the one format of each language ("7 décembre 2026" / "7 December 2026").
            Reason::CertificateExpired { on } => {
                let d = self.date(*on);
                return pick!(
                    self,
                    format!("certificat expiré le {d}"),
                    format!("certificate expired on {d}")
                );
            }
            Reason::CertificateExpiresSoon { days, on } => {
                let d = self.date(*on);
                return pick!(
                    self,
                    format!("le certificat expire dans {days} jours ({d})"),
                    format!("certificate expires in {days} days ({d})")
                );
            }
            Reason::CertificateValid { days, on } => {
                let d = self.date(*on);
                return pick!(
                    self,
                    format!("certificat valide encore {days} jours ({d})"),
                    format!("certificate valid for {days} days ({d})")
                );
            }
            _ => {}
        }
        if self.locale == Locale::En {
            return reason.to_string();
        }
        match reason {
            Reason::HttpStatus { status, expected } => {
                format!("HTTP {status} (attendu {expected})")
            }
            Reason::Timeout { ms } => format!("aucune réponse en {}", humanize_ms(*ms)),
            Reason::Slow { ms, limit_ms } => format!("lent : {ms} ms > {limit_ms} ms"),
            Reason::KeywordMissing { keyword } => format!("mot-clé « {keyword} » absent"),
            Reason::KeywordPresent { keyword } => format!("mot-clé « {keyword} » présent"),
            Reason::CannotConnect { detail } => format!("connexion impossible : {detail}"),
            Reason::BackupFailed {
                bytes,
                restored_in_s,
                note,
            } => format!(
                "vérification de la sauvegarde échouée{}",
                backup_facts_in(
                    *bytes,
                    *restored_in_s,
                    note.as_deref(),
                    "octets",
                    "restaurée en"
                )
            ),
            Reason::BackupVerified {
                bytes,
                restored_in_s,
                note,
            } => format!(
                "sauvegarde vérifiée{}",
                backup_facts_in(
                    *bytes,
                    *restored_in_s,
                    note.as_deref(),
                    "octets",
                    "restaurée en"
                )
            ),
            // Said above, with the site's time.
            Reason::NoHeartbeat { .. } | Reason::StaleHeartbeat { .. } => String::new(),
            // Said above, in the one date format.
            Reason::CertificateExpired { .. }
            | Reason::CertificateExpiresSoon { .. }
            | Reason::CertificateValid { .. } => String::new(),
            Reason::NoDnsRecord { rtype, name } => {
                format!("aucun enregistrement {rtype} pour {name}")
            }
            Reason::Text { text } => text.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{EN, FR};
    use domain::config::Slug;
    use domain::reason::Reason;
    use domain::status::CheckOutcome;
    use domain::topology::Cause;

    fn slug(s: &str) -> Slug {
        Slug::parse(s).expect("slug")
    }

    #[test]
    fn causes_read_in_french() {
        assert_eq!(
            FR.cause(
                &Cause::Host {
                    host: slug("phys-2")
                },
                None,
                "Europe/Paris"
            ),
            "hôte phys-2 injoignable"
        );
        assert_eq!(
            FR.cause(
                &Cause::Dependency {
                    service: slug("databases")
                },
                None,
                "Europe/Paris"
            ),
            "dépend de databases"
        );
        let http = Cause::Monitor {
            monitor: slug("home"),
            outcome: CheckOutcome::Down,
            reason: Some(Reason::HttpStatus {
                status: 502,
                expected: "200-399".into(),
            }),
        };
        assert_eq!(
            FR.cause(&http, None, "Europe/Paris"),
            "sonde home : HTTP 502 (attendu 200-399)"
        );
        assert_eq!(
            EN.cause(&http, None, "Europe/Paris"),
            "monitor home: HTTP 502 (expected 200-399)"
        );
        assert_eq!(
            EN.cause(
                &Cause::Host {
                    host: slug("phys-2")
                },
                None,
                "Europe/Paris"
            ),
            "host phys-2 unreachable"
        );
    }

    #[test]
    fn probe_reasons_read_in_french() {
        assert_eq!(
            FR.reason(&Reason::Timeout { ms: 4000 }, None, "Europe/Paris"),
            "aucune réponse en 4 s"
        );
        assert_eq!(
            EN.reason(&Reason::Timeout { ms: 4000 }, None, "Europe/Paris"),
            "timeout after 4 s"
        );
        let backup = Reason::BackupFailed {
            bytes: Some(48_318_382_080),
            restored_in_s: None,
            note: None,
        };
        assert_eq!(
            FR.reason(&backup, None, "Europe/Paris"),
            "vérification de la sauvegarde échouée (48318382080 octets)"
        );
        assert_eq!(
            EN.reason(&backup, None, "Europe/Paris"),
            "backup verification failed (48318382080 bytes)"
        );
        // Words from outside Vigie stay as they are.
        assert_eq!(
            FR.reason(&Reason::text("connection reset"), None, "Europe/Paris"),
            "connection reset"
        );
    }

    /// Heartbeat times are the site's, labelled, never UTC (issue: "aucun signal depuis le
    /// 01/12/2026 03:11 UTC" on a French page).
    #[test]
    fn heartbeat_times_read_in_the_sites_timezone() {
        let utc = chrono::DateTime::parse_from_rfc3339("2026-12-01T03:11:00Z")
            .expect("time")
            .to_utc();
        let paris = utc.with_timezone(&chrono_tz::Europe::Paris).fixed_offset();
        let missing = Reason::NoHeartbeat { since: utc };
        let stale = Reason::StaleHeartbeat { last: utc };
        let zone = "Europe/Paris";
        assert_eq!(
            FR.reason(&missing, Some(&paris), zone),
            "aucun signal depuis le 1 décembre 2026 à 04:11 (heure de Paris)"
        );
        assert_eq!(
            EN.reason(&stale, Some(&paris), zone),
            "stale: last heartbeat on 1 December 2026, 04:11 (Paris time)"
        );
        let cause = Cause::Monitor {
            monitor: slug("nightly"),
            outcome: CheckOutcome::Down,
            reason: Some(missing.clone()),
        };
        for text in [
            FR.cause(&cause, Some(&paris), zone),
            EN.cause(&cause, Some(&paris), zone),
            FR.reason(&stale, Some(&paris), zone),
        ] {
            assert!(!text.contains("UTC") && !text.contains("03:11"), "{text}");
            assert!(text.contains("04:11"), "{text}");
        }
        // Without the converted time the text still says which clock it is on.
        assert_eq!(
            FR.reason(&missing, None, zone),
            "aucun signal depuis le 1 décembre 2026 à 03:11 (UTC)"
        );
    }
}
