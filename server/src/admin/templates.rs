//! Write-up templates in the shape of Humanoid's outage announcement: what happened, what we
//! did, what changes, thanks. French first, English too.

/// The French template.
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

/// The English template.
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

/// The template for `lang` (`fr` or `en`), if any.
pub fn for_lang(lang: &str) -> Option<&'static str> {
    match lang {
        "fr" => Some(FR),
        "en" => Some(EN),
        _ => None,
    }
}
