//! Any address no route matches: a 404 page (JSON under `/api/`).

use std::sync::Arc;

use axum::extract::{Query, Request, State};
use axum::http::HeaderMap;

use crate::present::i18n::Locale;
use crate::present::problem::Problem;
use crate::server::error::AppError;
use crate::server::request::locale_of;
use crate::server::state::Shared;

pub async fn page(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    req: Request,
) -> AppError {
    if req.uri().path().starts_with("/api/") {
        return AppError::api(Problem::NotFound);
    }
    let locale = locale_of(&query, &headers).map_or(Locale::Fr, |(l, _)| l);
    AppError::page(Problem::NotFound, locale, &shared, shared.live())
}
