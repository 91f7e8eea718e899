//! The longest value each text field accepts, in characters (Unicode scalar values). One list,
//! checked by the store on every write whatever the way in (API, console, CLI), so that a
//! 250,000-character title cannot grow every page that shows it. docs/security.md lists them.

/// Incident and maintenance titles (they appear in `<title>`, feeds, e-mail subjects).
pub const TITLE: usize = 200;
/// Incident update and maintenance messages (Markdown source).
pub const MESSAGE: usize = 20_000;
/// Names staff give things (API tokens).
pub const NAME: usize = 100;
/// E-mail addresses (RFC 5321's path limit): staff, subscribers, a webhook's contact.
pub const EMAIL: usize = 254;
/// A webhook subscriber's URL (what the webhook sender accepts too).
pub const URL: usize = 2048;
/// The note staff leave with a status set by hand on a service.
pub const NOTE: usize = 1000;

/// Whether `value` has at most `max` characters. Counts no further than `max + 1`, so the
/// cost is bounded by the limit, not by the value.
pub fn within(value: &str, max: usize) -> bool {
    value.chars().nth(max).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_counted_in_characters() {
        assert!(within("", 0));
        assert!(within("ééé", 3));
        assert!(!within("éééé", 3));
        assert!(within(&"a".repeat(TITLE), TITLE));
        assert!(!within(&"a".repeat(TITLE + 1), TITLE));
    }
}
