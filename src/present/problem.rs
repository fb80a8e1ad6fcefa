//! What can be wrong with a request, and how each problem is told to people (French
//! and English) and to programs (an HTTP status). Messages name parameters and allowed
//! values, never SQL, values of an extract or internal details.

use super::i18n::Locale;

#[derive(Debug, Clone)]
pub enum Problem {
    /// A parameter with a value the page or API does not accept.
    BadParameter {
        name: String,
        allowed: String,
    },
    NotFound,
    /// The figures asked for exist, but are not published for these filters.
    NotPublished,
    /// No snapshot has been published yet.
    NoSnapshot,
    /// Signing in is required.
    Unauthorised,
    /// Signed in, but the role does not give access.
    Forbidden,
    /// A state-changing request from another site.
    CrossSite,
    /// An export could not be produced (a bug: the cells were there).
    ExportFailed,
    /// A token or password sent in the address instead of a header or a form.
    CredentialInAddress,
    /// The audit log cannot be written: person figures are not served unrecorded.
    AuditUnavailable,
}

/// A problem as told: its status code, heading and explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Told {
    pub status: u16,
    pub heading: String,
    pub detail: String,
}

impl Problem {
    pub fn tell(&self, l: Locale) -> Told {
        let (status, heading, detail) = match self {
            Problem::BadParameter { name, allowed } => (
                400,
                l.pick("Paramètre non valable", "Invalid parameter").to_string(),
                match l {
                    Locale::Fr => format!("La valeur du paramètre « {name} » n'est pas acceptée. Valeurs possibles : {allowed}."),
                    Locale::En => format!("The value of the parameter “{name}” is not accepted. Allowed: {allowed}."),
                },
            ),
            Problem::NotFound => (
                404,
                l.pick("Page introuvable", "Page not found").to_string(),
                l.pick("Cette adresse ne correspond à aucune page.", "No page has this address.").to_string(),
            ),
            Problem::Unauthorised => (
                401,
                l.pick("Connexion requise", "Sign-in required").to_string(),
                l.pick("Connectez-vous, ou envoyez un jeton d'accès (Authorization: Bearer …).", "Sign in, or send an access token (Authorization: Bearer …).").to_string(),
            ),
            Problem::Forbidden => (
                403,
                l.pick("Accès non autorisé", "Access not allowed").to_string(),
                l.pick("Votre rôle ne donne pas accès à cette page. Demandez à un administrateur si vous en avez besoin.", "Your role does not give access to this page. Ask an administrator if you need it.").to_string(),
            ),
            Problem::CrossSite => (
                403,
                l.pick("Requête refusée", "Request refused").to_string(),
                l.pick("Cette action doit être faite depuis les pages de reintegra.", "This action must be taken from reintegra's own pages.").to_string(),
            ),
            Problem::NotPublished => (
                404,
                l.pick("Non publié pour ces filtres", "Not published for these filters").to_string(),
                l.pick(
                    "Pour protéger les personnes comptées, ce chiffre n'est publié que pour certaines combinaisons de filtres. Retirez un filtre pour l'obtenir.",
                    "To protect the people counted, this figure is published for some combinations of filters only. Remove a filter to get it.",
                ).to_string(),
            ),
            Problem::ExportFailed => (
                500,
                l.pick("Export impossible", "Export failed").to_string(),
                l.pick(
                    "Ce fichier n'a pas pu être produit. L'incident est consigné ; la page elle-même reste disponible.",
                    "This file could not be produced. The failure is logged; the page itself is still available.",
                ).to_string(),
            ),
            Problem::CredentialInAddress => (
                400,
                l.pick("Identifiant dans l'adresse", "Credential in the address").to_string(),
                l.pick(
                    "Un jeton ou un mot de passe ne se met jamais dans l'adresse : envoyez le jeton dans l'en-tête Authorization: Bearer …",
                    "A token or password never goes in the address: send the token in the Authorization: Bearer … header.",
                ).to_string(),
            ),
            Problem::AuditUnavailable => (
                503,
                l.pick("Service momentanément indisponible", "Temporarily unavailable").to_string(),
                l.pick(
                    "Le journal d'audit ne peut pas être écrit ; les chiffres sur les personnes ne sont pas servis tant que chaque consultation ne peut pas être enregistrée. L'administrateur est prévenu.",
                    "The audit log cannot be written; figures about people are not served while views cannot be recorded. The administrator has been alerted.",
                ).to_string(),
            ),
            Problem::NoSnapshot => (
                503,
                l.pick("Pas encore de données publiées", "No data published yet").to_string(),
                l.pick("Aucune version n'a encore été publiée ; réessayez après le prochain chargement.", "No version has been published yet; try again after the next load.").to_string(),
            ),
        };
        Told {
            status,
            heading,
            detail,
        }
    }
}
