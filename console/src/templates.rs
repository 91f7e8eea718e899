//! Message templates: a short first message for the first minutes of an outage ("Nous
//! enquêtons…"), and the full write-up in the shape of Humanoid's outage announcement (what
//! happened, what we did, what changes, thanks). French and English. Blanks are written
//! `[like this]`; publishing refuses a message that still has one ([`placeholders`]).

/// The short first message, in French: nothing to fill in, publishable as is.
pub const FR_SHORT: &str = "\
Nous enquêtons sur un dysfonctionnement et vous tiendrons informés ici. Prochain point d'ici 30 minutes.
";

/// The short first message, in English.
pub const EN_SHORT: &str = "\
We are investigating a problem and will keep you posted here. Next update within 30 minutes.
";

/// The full French write-up.
pub const FR: &str = "\
Depuis **[heure]**, [services] sont inaccessibles. Nous vous prions de nous excuser pour la gêne occasionnée.

## Ce qui s'est passé
[Décrivez la cause telle que vous la comprenez, sans jargon. Dites aussi ce qui n'est *pas* arrivé, par exemple : nous n'avons pas été piratés.]

## Ce que nous avons fait
[Les étapes de la remise en service, et où elle en est : « plus de 90 % des services sont revenus ».]

## Ce qui change
[Ce que nous modifions pour que cela ne se reproduise pas : configuration, sauvegardes vérifiées, serveur supplémentaire…]

Merci pour vos encouragements !

L'équipe [nom]
";

/// The full English write-up.
pub const EN: &str = "\
Since **[time]**, [services] have been unavailable. We apologise for the disruption.

## What happened
[Describe the cause as you understand it, without jargon. Say what did *not* happen too, e.g. we were not hacked.]

## What we did
[The recovery steps and where they stand: \"more than 90% of services are back\".]

## What changes
[What we are changing so it does not happen again: configuration, verified backups, an extra server…]

Thank you for your support!

The [name] team
";

/// Which template: the short first message or the full write-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Short,
    Full,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "short" => Some(Kind::Short),
            "full" => Some(Kind::Full),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Short => "short",
            Kind::Full => "full",
        }
    }
}

/// The template of `kind` in `lang` (`fr` or `en`), if that language has one.
pub fn get(lang: &str, kind: Kind) -> Option<&'static str> {
    match (lang, kind) {
        ("fr", Kind::Short) => Some(FR_SHORT),
        ("fr", Kind::Full) => Some(FR),
        ("en", Kind::Short) => Some(EN_SHORT),
        ("en", Kind::Full) => Some(EN),
        _ => None,
    }
}

/// The blanks left in `markdown`: `[…]` spans that are not Markdown links, images, task
/// boxes or footnotes, in order, at most `max`. Written by hand because what counts as a
/// blank is this product's convention, not a Markdown construct a parser reports.
pub fn placeholders(markdown: &str, max: usize) -> Vec<String> {
    let mut found = Vec::new();
    let bytes = markdown.as_bytes();
    let mut i = 0;
    while i < bytes.len() && found.len() < max {
        if bytes[i] != b'[' {
            i += 1;
            continue;
        }
        let rest = &markdown[i + 1..];
        let Some(end) = rest.find([']', '[', '\n']) else {
            break;
        };
        if rest.as_bytes()[end] != b']' {
            i += 1 + end;
            continue;
        }
        let inner = &rest[..end];
        let after = rest[end + 1..].chars().next();
        let image = i > 0 && bytes[i - 1] == b'!';
        let link = matches!(after, Some('(') | Some('[') | Some(':'));
        let task = matches!(inner, " " | "x" | "X");
        let footnote = inner.starts_with('^');
        if !image && !link && !task && !footnote && !inner.trim().is_empty() {
            found.push(format!("[{inner}]"));
        }
        i += 1 + end + 1;
        if after == Some('[') {
            // A reference link's label: `[text][label]`.
            i += markdown[i..]
                .find(']')
                .map_or(markdown.len() - i, |e| e + 1);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blanks_are_found_and_links_are_not() {
        assert_eq!(
            placeholders(FR, 10),
            [
                "[heure]",
                "[services]",
                "[Décrivez la cause telle que vous la comprenez, sans jargon. Dites aussi ce qui n'est *pas* arrivé, par exemple : nous n'avons pas été piratés.]",
                "[Les étapes de la remise en service, et où elle en est : « plus de 90 % des services sont revenus ».]",
                "[Ce que nous modifions pour que cela ne se reproduise pas : configuration, sauvegardes vérifiées, serveur supplémentaire…]",
                "[nom]",
            ]
        );
        assert!(placeholders(FR_SHORT, 10).is_empty());
        assert!(placeholders(EN_SHORT, 10).is_empty());
        let fine = "Voir [la page](https://x.test) et ![logo](a.png), [réf][1], - [ ] à faire, - [x] fait\n\n[1]: https://y.test";
        assert!(
            placeholders(fine, 10).is_empty(),
            "{:?}",
            placeholders(fine, 10)
        );
        assert_eq!(
            placeholders("Un [ouvert\nsans fin] puis [nom]", 10),
            ["[nom]"]
        );
        assert_eq!(placeholders("[a] [b] [c]", 2), ["[a]", "[b]"]);
    }
}
