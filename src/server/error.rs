//! The one place where errors become HTTP responses: an HTML page for pages, JSON for
//! the API. Handlers return `AppError`; they never build error pages themselves. What
//! each problem says is `present::problem`'s; how the page looks is `render`'s.

use std::sync::Arc;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::state::{Live, Shared};
use crate::definitions::Programme;
use crate::present::i18n::Locale;
pub use crate::present::problem::Problem;
use crate::render::html;

pub struct AppError {
    pub problem: Problem,
    pub locale: Locale,
    /// Answered as a page, in the frame of the snapshot served (if any), or as JSON.
    pub form: Form,
}

pub enum Form {
    Json,
    Page {
        programme: Arc<Programme>,
        live: Option<Arc<Live>>,
    },
}

impl AppError {
    pub fn api(problem: Problem) -> AppError {
        AppError {
            problem,
            locale: Locale::En,
            form: Form::Json,
        }
    }

    pub fn page(
        problem: Problem,
        locale: Locale,
        shared: &Shared,
        live: Option<Arc<Live>>,
    ) -> AppError {
        AppError {
            problem,
            locale,
            form: Form::Page {
                programme: shared.programme.clone(),
                live,
            },
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let told = self.problem.tell(self.locale);
        let status = StatusCode::from_u16(told.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        match self.form {
            Form::Json => {
                let mut body = serde_json::json!({ "error": told.heading, "detail": told.detail });
                if let Problem::BadParameter { name, allowed } = &self.problem {
                    body["parameter"] = name.clone().into();
                    body["allowed"] = allowed.clone().into();
                }
                (
                    status,
                    [(header::CACHE_CONTROL, "no-store")],
                    axum::Json(body),
                )
                    .into_response()
            }
            Form::Page { programme, live } => {
                let snapshot = live.as_ref().map(|l| &l.snapshot);
                let page = html::error::page(snapshot, &programme, self.locale, &told);
                (
                    status,
                    [
                        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                        (header::CACHE_CONTROL, "no-store"),
                    ],
                    page,
                )
                    .into_response()
            }
        }
    }
}
