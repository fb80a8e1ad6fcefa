//! `GET /`: the home page — the dashboards the viewer may open.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;

use crate::access::Viewer;
use crate::render::html;
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
    let (locale, set, live) = page_start(&shared, &query, &headers)?;
    only_lang(&shared, &query, locale, &live)?;
    let page = page_for(&shared, &live, &viewer, locale, "/", "");
    let body = Bytes::from(html::index::index(&page).into_string());
    let shape = ("index", locale, viewer.role);
    Ok(responses::page(
        &shared,
        &live,
        &headers,
        &shape,
        body,
        set.then_some(locale),
        &viewer,
    ))
}
