//! Locale negotiation: `?lang=` wins, then `Accept-Language`, then the site default.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    Fr,
    En,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::Fr, Locale::En];

    pub fn code(self) -> &'static str {
        match self {
            Locale::Fr => "fr",
            Locale::En => "en",
        }
    }

    /// Parses a language tag such as `fr`, `en-GB` or `FR-ca`.
    pub fn from_tag(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "fr" => Some(Locale::Fr),
            "en" => Some(Locale::En),
            _ => None,
        }
    }

    /// Picks the best supported language of an `Accept-Language` header, honouring q-values.
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let mut best: Option<(f32, usize, Locale)> = None;
        for (pos, part) in header.split(',').enumerate() {
            let mut pieces = part.split(';');
            let Some(tag) = pieces.next() else { continue };
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let Some(locale) = Locale::from_tag(tag) else {
                continue;
            };
            if q <= 0.0 {
                continue;
            }
            // Higher q wins; on a tie the earlier entry wins.
            let better = match best {
                None => true,
                Some((bq, _, _)) => q > bq,
            };
            if better {
                best = Some((q, pos, locale));
            }
        }
        best.map(|(_, _, l)| l)
    }

    /// The request's locale: explicit `lang` query value, then the header, then `default`.
    pub fn negotiate(
        query_lang: Option<&str>,
        accept_language: Option<&str>,
        default: Locale,
    ) -> Self {
        query_lang
            .and_then(Locale::from_tag)
            .or_else(|| accept_language.and_then(Locale::from_accept_language))
            .unwrap_or(default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameter_beats_accept_language() {
        assert_eq!(
            Locale::negotiate(Some("en"), Some("fr-FR,fr;q=0.9"), Locale::Fr),
            Locale::En
        );
    }

    #[test]
    fn accept_language_is_used_with_q_values() {
        assert_eq!(
            Locale::from_accept_language("de-DE,en;q=0.8,fr;q=0.5"),
            Some(Locale::En)
        );
        assert_eq!(
            Locale::from_accept_language("en;q=0.3, fr-CA"),
            Some(Locale::Fr)
        );
        assert_eq!(Locale::from_accept_language("de, it"), None);
        assert_eq!(Locale::from_accept_language("en;q=0"), None);
    }

    #[test]
    fn french_is_the_default_when_nothing_matches() {
        assert_eq!(
            Locale::negotiate(Some("xx"), Some("de"), Locale::Fr),
            Locale::Fr
        );
        assert_eq!(Locale::negotiate(None, None, Locale::Fr), Locale::Fr);
    }
}
