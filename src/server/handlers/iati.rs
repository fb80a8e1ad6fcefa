//! `GET /open/iati.xml` (donors, programme staff and administrators): the project as
//! an IATI 2.03 activity file, written from the snapshot served and the definitions
//! (`_iati.toml`, `_budget.toml`, `_results.toml`). Both languages are in the file;
//! `?lang=` only chooses the language of an error page. Without `_iati.toml` the file
//! does not exist (404).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;

use crate::present::problem::Problem;
use crate::render::exports::ExportError;
use crate::server::error::AppError;
use crate::server::kept::Kept;
use crate::server::request::{only_lang, page_start};
use crate::server::responses;
use crate::server::state::Shared;

pub const CONTENT_TYPE: &str = "application/xml; charset=utf-8";

pub async fn xml(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (locale, _, live) = page_start(&shared, &query, &headers)?;
    only_lang(&shared, &query, locale, &live)?;
    if shared.iati.is_none() {
        return Err(AppError::page(
            Problem::NotFound,
            locale,
            &shared,
            Some(live),
        ));
    }
    let key = Kept::Iati;
    let body = shared.kept_async(&live, key.clone()).await.map_err(|e| {
        let problem = match e {
            ExportError::NotPublished => Problem::NotFound,
            e => {
                tracing::error!(error = %e, "IATI activity file failed");
                Problem::ExportFailed
            }
        };
        AppError::page(problem, locale, &shared, Some(live.clone()))
    })?;
    Ok(responses::snapshot_response(
        &live,
        &headers,
        &key,
        body,
        CONTENT_TYPE,
    ))
}
