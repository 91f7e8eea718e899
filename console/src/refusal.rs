//! The pages that answer instead of the one asked for: an internal error, a role that does not
//! allow the page.

use domain::locale::Locale;

use crate::shell::{Notice, Page, Section, Viewer};
use crate::words::L;

/// The server error page. Said in both languages: it may be reached before the staff
/// member's language is known.
pub fn internal() -> String {
    Page::new(
        L(Locale::Fr),
        None,
        Section::None,
        "Erreur interne · Internal error",
    )
    .notice(Some(Notice::error(
        "Une erreur interne est survenue ; rien n'a été enregistré. Réessayez dans un instant. \
             An internal error occurred; nothing was saved. Try again in a moment.",
    )))
    .render(|| ())
}

/// The page for a signed-in staff member whose role does not allow the page.
pub fn forbidden(l: L, viewer: Viewer) -> String {
    Page::new(
        l,
        Some(viewer),
        Section::None,
        l.t("Accès refusé", "Access denied"),
    )
    .notice(Some(Notice::error(l.t(
        "Votre rôle ne permet pas cette action : demandez à une personne de l'administration.",
        "Your role does not allow this: ask an admin.",
    ))))
    .render(|| ())
}
