//! The one place where errors become HTTP responses: an HTML page for pages, JSON for
//! the API. Handlers return `AppError`; they never build error pages themselves.
//! Messages name parameters and allowed values, never SQL or internal details.

use std::sync::Arc;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::i18n::Locale;
use super::pages::{self, Page};
use super::state::{Live, Shared};

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

pub struct AppError {
    pub problem: Problem,
    pub locale: Locale,
    pub api: bool,
    pub shared: Option<Arc<Shared>>,
    pub live: Option<Arc<Live>>,
}

impl AppError {
    pub fn api(problem: Problem) -> AppError {
        AppError {
            problem,
            locale: Locale::En,
            api: true,
            shared: None,
            live: None,
        }
    }

    pub fn page(
        problem: Problem,
        locale: Locale,
        shared: &Arc<Shared>,
        live: Option<Arc<Live>>,
    ) -> AppError {
        AppError {
            problem,
            locale,
            api: false,
            shared: Some(shared.clone()),
            live,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let l = self.locale;
        let (status, heading, detail) = match &self.problem {
            Problem::BadParameter { name, allowed } => (
                StatusCode::BAD_REQUEST,
                l.pick("Paramètre non valable", "Invalid parameter").to_string(),
                match l {
                    Locale::Fr => format!("La valeur du paramètre « {name} » n'est pas acceptée. Valeurs possibles : {allowed}."),
                    Locale::En => format!("The value of the parameter “{name}” is not accepted. Allowed: {allowed}."),
                },
            ),
            Problem::NotFound => (
                StatusCode::NOT_FOUND,
                l.pick("Page introuvable", "Page not found").to_string(),
                l.pick("Cette adresse ne correspond à aucune page.", "No page has this address.").to_string(),
            ),
            Problem::Unauthorised => (
                StatusCode::UNAUTHORIZED,
                l.pick("Connexion requise", "Sign-in required").to_string(),
                l.pick("Connectez-vous, ou envoyez un jeton d'accès (Authorization: Bearer …).", "Sign in, or send an access token (Authorization: Bearer …).").to_string(),
            ),
            Problem::Forbidden => (
                StatusCode::FORBIDDEN,
                l.pick("Accès non autorisé", "Access not allowed").to_string(),
                l.pick("Votre rôle ne donne pas accès à cette page. Demandez à un administrateur si vous en avez besoin.", "Your role does not give access to this page. Ask an administrator if you need it.").to_string(),
            ),
            Problem::CrossSite => (
                StatusCode::FORBIDDEN,
                l.pick("Requête refusée", "Request refused").to_string(),
                l.pick("Cette action doit être faite depuis les pages de reintegra.", "This action must be taken from reintegra's own pages.").to_string(),
            ),
            Problem::NotPublished => (
                StatusCode::NOT_FOUND,
                l.pick("Non publié pour ces filtres", "Not published for these filters").to_string(),
                l.pick(
                    "Pour protéger les personnes comptées, ce chiffre n'est publié que pour certaines combinaisons de filtres. Retirez un filtre pour l'obtenir.",
                    "To protect the people counted, this figure is published for some combinations of filters only. Remove a filter to get it.",
                ).to_string(),
            ),
            Problem::ExportFailed => (
                StatusCode::INTERNAL_SERVER_ERROR,
                l.pick("Export impossible", "Export failed").to_string(),
                l.pick(
                    "Ce fichier n'a pas pu être produit. L'incident est consigné ; la page elle-même reste disponible.",
                    "This file could not be produced. The failure is logged; the page itself is still available.",
                ).to_string(),
            ),
            Problem::CredentialInAddress => (
                StatusCode::BAD_REQUEST,
                l.pick("Identifiant dans l'adresse", "Credential in the address").to_string(),
                l.pick(
                    "Un jeton ou un mot de passe ne se met jamais dans l'adresse : envoyez le jeton dans l'en-tête Authorization: Bearer …",
                    "A token or password never goes in the address: send the token in the Authorization: Bearer … header.",
                ).to_string(),
            ),
            Problem::AuditUnavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                l.pick("Service momentanément indisponible", "Temporarily unavailable").to_string(),
                l.pick(
                    "Le journal d'audit ne peut pas être écrit ; les chiffres sur les personnes ne sont pas servis tant que chaque consultation ne peut pas être enregistrée. L'administrateur est prévenu.",
                    "The audit log cannot be written; figures about people are not served while views cannot be recorded. The administrator has been alerted.",
                ).to_string(),
            ),
            Problem::NoSnapshot => (
                StatusCode::SERVICE_UNAVAILABLE,
                l.pick("Pas encore de données publiées", "No data published yet").to_string(),
                l.pick("Aucune version n'a encore été publiée ; réessayez après le prochain chargement.", "No version has been published yet; try again after the next load.").to_string(),
            ),
        };
        if self.api {
            let mut body = serde_json::json!({ "error": heading, "detail": detail });
            if let Problem::BadParameter { name, allowed } = &self.problem {
                body["parameter"] = name.clone().into();
                body["allowed"] = allowed.clone().into();
            }
            return (
                status,
                [(header::CACHE_CONTROL, "no-store")],
                axum::Json(body),
            )
                .into_response();
        }
        let html = match (&self.shared, &self.live) {
            (Some(_), Some(live)) => {
                let anonymous = super::auth::Viewer::anonymous();
                let page = Page {
                    snapshot: &live.snapshot,
                    dashboards: Vec::new(),
                    viewer: &anonymous,
                    locale: l,
                    path: "/",
                    filters_query: "",
                };
                pages::error_page(&page, status.as_u16(), &heading, &detail).into_string()
            }
            _ => format!(
                "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{heading}</title></head><body><h1>{heading}</h1><p>{detail}</p></body></html>",
                lang = l.code(),
                heading = maud::html!((heading)).into_string(),
                detail = maud::html!((detail)).into_string(),
            ),
        };
        (
            status,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            html,
        )
            .into_response()
    }
}
