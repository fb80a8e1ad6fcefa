//! `GET /d/{id}/briefing.pdf`: the dashboard's briefing pack under the page's filters
//! and language.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;

use crate::access::Viewer;
use crate::render::exports::file_name;
use crate::server::auth::guard::ServedDashboard;
use crate::server::error::AppError;
use crate::server::kept::Kept;
use crate::server::request::DashboardRequest;
use crate::server::responses;
use crate::server::state::Shared;

pub async fn pack(
    State(shared): State<Arc<Shared>>,
    Extension(served): Extension<ServedDashboard>,
    Query(query): Query<Vec<(String, String)>>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let request = DashboardRequest::parse(&shared, served, &query, &headers)?;
    let d = request.dashboard(&shared);
    // The pack ends with the PONAM table of a dashboard the viewer may open, so the
    // role is part of what is rendered.
    let key = Kept::Briefing {
        dashboard: request.dashboard,
        locale: request.locale,
        filters: request.filters,
        role: viewer.role,
    };
    let body = shared
        .kept_async(&request.live, key.clone())
        .await
        .map_err(|e| request.export_failed(&shared, e))?;
    let response =
        responses::snapshot_response(&request.live, &headers, &key, body, "application/pdf");
    Ok(responses::attachment(
        response,
        &file_name(&d.id, "briefing", &request.filters, "pdf"),
    ))
}
