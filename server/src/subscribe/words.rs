//! The subscription pages' words, in French and English.

use domain::locale::Locale;

pub(super) struct Words {
    pub(super) title: &'static str,
    pub(super) intro: &'static str,
    pub(super) email: &'static str,
    pub(super) language: &'static str,
    pub(super) what: &'static str,
    pub(super) everything: &'static str,
    pub(super) chosen: &'static str,
    pub(super) submit: &'static str,
    pub(super) sent: &'static str,
    pub(super) confirm_title: &'static str,
    pub(super) confirm_button: &'static str,
    pub(super) confirmed: &'static str,
    pub(super) expired: &'static str,
    pub(super) bad_link: &'static str,
    pub(super) unsub_title: &'static str,
    pub(super) unsub_button: &'static str,
    pub(super) unsubscribed: &'static str,
    pub(super) manage_title: &'static str,
    pub(super) save: &'static str,
    pub(super) saved: &'static str,
    pub(super) throttled: &'static str,
    pub(super) off: &'static str,
    pub(super) back: &'static str,
    pub(super) secret: &'static str,
    pub(super) bad_email: &'static str,
    pub(super) bad_language: &'static str,
    pub(super) bad_services: &'static str,
}

const FR: Words = Words {
    title: "S'abonner aux notifications",
    intro: "Recevez par courriel chaque mise à jour d'incident et chaque maintenance. \
            Un courriel de confirmation vous sera envoyé ; rien d'autre ne part avant que vous \
            l'ayez confirmé.",
    email: "Adresse électronique",
    language: "Langue des courriels",
    what: "Que voulez-vous recevoir ?",
    everything: "Toute la page",
    chosen: "Seulement ces services :",
    submit: "S'abonner",
    sent: "Si cette adresse peut être abonnée, un courriel de confirmation vient de lui être \
           envoyé. Ouvrez le lien qu'il contient (valable 48 heures).",
    confirm_title: "Confirmer l'abonnement",
    confirm_button: "Confirmer",
    confirmed: "C'est fait : vous recevrez les notifications. Chaque courriel contient un lien \
                pour gérer votre abonnement ou vous désabonner.",
    expired: "Ce lien a expiré. Abonnez-vous à nouveau pour en recevoir un autre.",
    bad_link: "Ce lien n'est pas valable (incomplet, modifié, ou l'abonnement n'existe plus).",
    unsub_title: "Se désabonner",
    unsub_button: "Me désabonner",
    unsubscribed: "Vous êtes désabonné : votre adresse a été effacée.",
    manage_title: "Gérer mon abonnement",
    save: "Enregistrer",
    saved: "Vos préférences sont enregistrées.",
    throttled: "Trop de demandes depuis votre connexion. Réessayez dans une heure.",
    off: "Les notifications par courriel ne sont pas activées sur cette page.",
    back: "Retour à la page d'état",
    secret: "Secret de signature du webhook (conservez-le, il n'est affiché qu'ici) :",
    bad_email: "Cette adresse n'est pas valable : saisissez une adresse électronique complète, \
                par exemple prenom.nom@exemple.fr (254 caractères au plus).",
    bad_language: "Choisissez le français ou l'anglais.",
    bad_services: "Un des services choisis n'est plus sur la page : choisissez parmi la liste.",
};

const EN: Words = Words {
    title: "Subscribe to notifications",
    intro: "Get every incident update and every maintenance by e-mail. A confirmation mail \
            will be sent to you; nothing else goes out before you confirm it.",
    email: "E-mail address",
    language: "Language of the mails",
    what: "What do you want to receive?",
    everything: "The whole page",
    chosen: "Only these services:",
    submit: "Subscribe",
    sent: "If this address can be subscribed, a confirmation mail has just been sent to it. \
           Open the link it contains (valid for 48 hours).",
    confirm_title: "Confirm the subscription",
    confirm_button: "Confirm",
    confirmed: "Done: you will receive the notifications. Every mail has a link to manage \
                your subscription or unsubscribe.",
    expired: "This link has expired. Subscribe again to get a new one.",
    bad_link: "This link is not valid (incomplete, altered, or the subscription no longer exists).",
    unsub_title: "Unsubscribe",
    unsub_button: "Unsubscribe me",
    unsubscribed: "You are unsubscribed: your address has been erased.",
    manage_title: "Manage my subscription",
    save: "Save",
    saved: "Your preferences are saved.",
    throttled: "Too many requests from your connection. Try again in an hour.",
    off: "E-mail notifications are not enabled on this page.",
    back: "Back to the status page",
    secret: "The webhook's signing secret (keep it; it is shown only here):",
    bad_email: "This address is not valid: enter a whole e-mail address, for example \
                first.last@example.org (at most 254 characters).",
    bad_language: "Choose French or English.",
    bad_services: "One of the services chosen is no longer on the page: choose from the list.",
};

pub(super) fn words(l: Locale) -> &'static Words {
    match l {
        Locale::Fr => &FR,
        _ => &EN,
    }
}
