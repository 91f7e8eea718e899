//! Why a service is not operational, and why a check failed, in the reader's language.
//!
//! Causes and reasons are data (`domain::topology::Cause`, `domain::reason::Reason`); each
//! language words them here. English follows their `Display`, the words logs and APIs use.

use domain::locale::Locale;
use domain::reason::{backup_facts_in, humanize_ms, Reason};
use domain::status::CheckOutcome;
use domain::topology::Cause;

use super::Texts;

impl Texts {
    /// The cause of a status, e.g. "hôte phys-2 injoignable". The status word is shown beside
    /// it, so only the cause is said.
    pub fn cause(&self, cause: &Cause) -> String {
        if self.locale == Locale::En {
            return cause.to_string();
        }
        match cause {
            Cause::Monitor {
                monitor,
                reason: Some(r),
                ..
            } => format!("sonde {monitor} : {}", self.reason(r)),
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

    /// Why a check was not a clean `up`, e.g. "HTTP 502 (attendu 200-399)".
    pub fn reason(&self, reason: &Reason) -> String {
        if self.locale == Locale::En {
            return reason.to_string();
        }
        let utc = |at: &chrono::DateTime<chrono::Utc>| at.format("%d/%m/%Y %H:%M UTC").to_string();
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
            Reason::NoHeartbeat { since } => format!("aucun signal depuis le {}", utc(since)),
            Reason::StaleHeartbeat { last } => {
                format!("signal trop ancien : le dernier date du {}", utc(last))
            }
            Reason::CertificateExpired { on } => {
                format!("certificat expiré le {}", on.format("%d/%m/%Y"))
            }
            Reason::CertificateExpiresSoon { days, on } => format!(
                "le certificat expire dans {days} jours ({})",
                on.format("%d/%m/%Y")
            ),
            Reason::CertificateValid { days, on } => format!(
                "certificat valide encore {days} jours ({})",
                on.format("%d/%m/%Y")
            ),
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
            FR.cause(&Cause::Host {
                host: slug("phys-2")
            }),
            "hôte phys-2 injoignable"
        );
        assert_eq!(
            FR.cause(&Cause::Dependency {
                service: slug("databases")
            }),
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
        assert_eq!(FR.cause(&http), "sonde home : HTTP 502 (attendu 200-399)");
        assert_eq!(EN.cause(&http), "monitor home: HTTP 502 (expected 200-399)");
        assert_eq!(
            EN.cause(&Cause::Host {
                host: slug("phys-2")
            }),
            "host phys-2 unreachable"
        );
    }

    #[test]
    fn probe_reasons_read_in_french() {
        assert_eq!(
            FR.reason(&Reason::Timeout { ms: 4000 }),
            "aucune réponse en 4 s"
        );
        assert_eq!(
            EN.reason(&Reason::Timeout { ms: 4000 }),
            "timeout after 4 s"
        );
        let backup = Reason::BackupFailed {
            bytes: Some(48_318_382_080),
            restored_in_s: None,
            note: None,
        };
        assert_eq!(
            FR.reason(&backup),
            "vérification de la sauvegarde échouée (48318382080 octets)"
        );
        assert_eq!(
            EN.reason(&backup),
            "backup verification failed (48318382080 bytes)"
        );
        // Words from outside Vigie stay as they are.
        assert_eq!(
            FR.reason(&Reason::text("connection reset")),
            "connection reset"
        );
    }
}
