//! Why a service is not operational, in the reader's language.

use domain::locale::Locale;

use super::Texts;

impl Texts {
    /// The cause of a status in the reader's language. The engine stores causes as stable
    /// English phrases (`down: host phys-2 unreachable`, `partial outage: depends on databases`,
    /// `degraded: monitor home: HTTP 502`); the status word is already shown beside it, so only
    /// the cause itself is translated.
    pub fn cause(&self, stored: &str) -> String {
        let cause = ["down: ", "partial outage: ", "degraded: ", "maintenance: "]
            .iter()
            .find_map(|p| stored.strip_prefix(p))
            .unwrap_or(stored);
        if self.locale == Locale::En {
            return cause.to_owned();
        }
        if let Some(host) = cause
            .strip_prefix("host ")
            .and_then(|r| r.strip_suffix(" unreachable"))
        {
            return format!("hôte {host} injoignable");
        }
        if let Some(service) = cause.strip_prefix("depends on ") {
            return format!("dépend de {service}");
        }
        if let Some(rest) = cause.strip_prefix("monitor ") {
            return match rest.split_once(": ") {
                Some((monitor, reason)) => format!("sonde {monitor} : {reason}"),
                None => format!("sonde {rest}"),
            };
        }
        match cause {
            "scheduled maintenance" => "maintenance programmée".to_owned(),
            "stated by an open incident" => "déclaré par un incident en cours".to_owned(),
            other => other.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{EN, FR};

    #[test]
    fn causes_read_in_french() {
        assert_eq!(
            FR.cause("down: host phys-2 unreachable"),
            "hôte phys-2 injoignable"
        );
        assert_eq!(
            FR.cause("partial outage: depends on databases"),
            "dépend de databases"
        );
        assert_eq!(
            FR.cause("degraded: monitor home: HTTP 502"),
            "sonde home : HTTP 502"
        );
        assert_eq!(
            EN.cause("down: host phys-2 unreachable"),
            "host phys-2 unreachable"
        );
    }
}
