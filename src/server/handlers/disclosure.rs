//! `GET /admin/disclosure` (administrators): what the disclosure layer did for the
//! snapshot served — published and suppressed cells, deviations, the attacks' results
//! and the risk and utility of the perturbation table. Never which cells were held
//! (that stays on the private side, in `reintegra disclosure report`).

use std::sync::Arc;

use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use crate::access::Viewer;
use crate::render::html::admin;
use crate::server::error::AppError;
use crate::server::request::{only_lang, page_for, page_start};
use crate::server::responses;
use crate::server::state::Shared;

pub async fn page(
    State(shared): State<Arc<Shared>>,
    Extension(viewer): Extension<Viewer>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (locale, _, live) = page_start(&shared, &query, &headers)?;
    only_lang(&shared, &query, locale, &live)?;
    let page = page_for(&shared, &live, &viewer, locale, "/admin/disclosure", "");
    Ok(responses::unkept_html(
        StatusCode::OK,
        admin::disclosure(&page),
    ))
}
