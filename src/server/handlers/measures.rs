//! `GET /api/v1/measures`: the measures the reader may read, with their declared
//! breakdowns (for an anonymous visitor, those the public dashboards show).

use std::sync::Arc;

use axum::extract::{Extension, State};
use axum::response::{IntoResponse, Response};

use crate::access::Viewer;
use crate::present::problem::Problem;
use crate::render::api;
use crate::server::auth::guard::{may_read_measure, readable_breakdowns};
use crate::server::error::AppError;
use crate::server::responses;
use crate::server::state::Shared;

pub async fn list(
    State(shared): State<Arc<Shared>>,
    Extension(viewer): Extension<Viewer>,
) -> Result<Response, AppError> {
    let live = shared
        .live()
        .ok_or_else(|| AppError::api(Problem::NoSnapshot))?;
    let s = &live.snapshot;
    let visible = s
        .measures
        .iter()
        .filter(|m| may_read_measure(&shared, &viewer, &m.id))
        .map(|m| api::measure(m, &readable_breakdowns(&live, &viewer, m)))
        .collect();
    let body = api::list(s, visible);
    Ok(responses::tagged(&live, axum::Json(body).into_response()))
}
