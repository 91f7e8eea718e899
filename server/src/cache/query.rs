//! What a cached route reads from the query string: the parameters each public route knows,
//! and the one spelling of a query the cache keys on (everything else is dropped before the
//! route sees the request).

use domain::locale::Locale;

/// The query parameters a public route reads.
#[derive(Clone, Copy, Debug)]
pub struct Params {
    pub names: &'static [&'static str],
    /// The route refuses parameters it does not know (the v1 API answers 400): such a
    /// request goes to it uncached instead of having them removed.
    pub strict: bool,
}

/// The query parameters a public route reads, or `None` for a path the cache leaves alone
/// (console, writes, streams, health). A parameter not listed never reaches a lenient route.
pub fn params_read(path: &str) -> Option<Params> {
    let lenient = |names| Params {
        names,
        strict: false,
    };
    const LANG: &[&str] = &["lang"];
    let read = match path {
        "/" | "/feed.rss" | "/feed.atom" | "/maintenance.ics" | "/_fn/overview"
        | "/_fn/home_extras" => lenient(LANG),
        "/history" | "/maintenance" => lenient(&["lang", "page"]),
        "/api/openapi.json" => lenient(&[]),
        _ if path.starts_with("/services/") => lenient(&["lang", "range"]),
        _ if path.starts_with("/incidents/") => lenient(LANG),
        _ if path.starts_with("/badge/") => lenient(&["days", "lang"]),
        _ if path.starts_with("/api/v2/") => lenient(LANG),
        _ if path.starts_with("/api/v1/")
            && !path.starts_with("/api/v1/push")
            && !path.starts_with("/api/v1/admin") =>
        {
            Params {
                names: &["days", "page", "per_page", "range"],
                strict: true,
            }
        }
        _ => return None,
    };
    Some(read)
}

/// A query reduced to the parameters a route reads.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Normalised {
    /// Each parameter once (the first one), sorted by name, `lang` only when it names a
    /// language we have (spelled canonically), numbers without leading zeros.
    pub query: String,
    /// The explicit `lang`, if any.
    pub lang: Option<Locale>,
    /// Whether anything was left out.
    pub dropped: bool,
}

pub(super) fn normalise_query(query: Option<&str>, read: &[&str]) -> Normalised {
    let Some(query) = query.filter(|q| !q.is_empty()) else {
        return Normalised {
            query: String::new(),
            lang: None,
            dropped: false,
        };
    };
    let mut kept: Vec<(&str, String)> = Vec::new();
    let mut lang = None;
    // A query that does not even decode reads as none.
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let mut dropped = pairs.is_empty();
    for (k, v) in pairs {
        let Some(&name) = read.iter().find(|r| **r == k) else {
            dropped = true;
            continue;
        };
        if kept.iter().any(|(n, _)| *n == name) {
            dropped = true;
            continue;
        }
        let value = if name == "lang" {
            match Locale::from_tag(&v) {
                Some(l) => {
                    lang = Some(l);
                    l.code().to_owned()
                }
                None => {
                    dropped = true;
                    continue;
                }
            }
        } else {
            match v.parse::<u64>() {
                Ok(n) => n.to_string(),
                Err(_) => v,
            }
        };
        kept.push((name, value));
    }
    kept.sort_by(|a, b| a.0.cmp(b.0));
    Normalised {
        query: serde_urlencoded::to_string(&kept).unwrap_or_default(),
        lang,
        dropped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_streaming_routes_are_never_cached() {
        assert!(params_read("/").is_some());
        assert!(params_read("/api/v2/summary.json").is_some());
        assert!(params_read("/services/frandroid").is_some());
        assert!(params_read("/admin").is_none());
        assert!(params_read("/admin/login").is_none());
        assert!(params_read("/events").is_none());
        assert!(params_read("/api/v1/push/abc").is_none());
        assert!(params_read("/healthz").is_none());
        assert!(params_read("/readyz").is_none());
    }

    #[test]
    fn queries_keep_only_what_the_route_reads_in_one_spelling() {
        let home = params_read("/").expect("cacheable").names;
        let norm = |q: &str, lang, dropped| Normalised {
            query: q.to_owned(),
            lang,
            dropped,
        };
        assert_eq!(normalise_query(Some("b=1"), home), norm("", None, true));
        assert_eq!(
            normalise_query(Some("lang=EN&b=2&lang=fr"), home),
            norm("lang=en", Some(Locale::En), true)
        );
        assert_eq!(
            normalise_query(Some("lang=fr"), home),
            norm("lang=fr", Some(Locale::Fr), false)
        );
        assert_eq!(normalise_query(Some("lang=xx"), home), norm("", None, true));
        assert_eq!(normalise_query(None, home), norm("", None, false));
        let history = params_read("/history").expect("cacheable").names;
        assert_eq!(
            normalise_query(Some("page=002&utm=x&lang=fr"), history).query,
            "lang=fr&page=2"
        );
        assert!(params_read("/api/v1/incidents").is_some_and(|p| p.strict));
        assert!(params_read("/admin/incidents").is_none());
        assert!(params_read("/api/v1/push/abc").is_none());
    }
}
