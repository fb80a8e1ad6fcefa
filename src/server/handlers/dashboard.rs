//! `GET /d/{id}`: a dashboard page under its filters. Its content is kept per snapshot
//! and version of the notes for every viewer, its frame for every viewer of a role;
//! the viewer's own name and sign-out token are filled in last.

use std::sync::Arc;

use axum::extract::{Extension, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;

use crate::access::Viewer;
use crate::present::problem::Problem;
use crate::render::html::layout;
use crate::server::auth::guard::ServedDashboard;
use crate::server::error::AppError;
use crate::server::kept::{Kept, NotesShown};
use crate::server::request::DashboardRequest;
use crate::server::responses;
use crate::server::state::Shared;

pub async fn page(
    State(shared): State<Arc<Shared>>,
    Extension(viewer): Extension<Viewer>,
    Extension(served): Extension<ServedDashboard>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let request = DashboardRequest::parse(&shared, served, &query, &headers)?;
    let (live, locale, filters) = (&request.live, request.locale, request.filters);
    let dashboard = request.dashboard;
    let content = Kept::Content {
        dashboard,
        locale,
        filters,
        notes: NotesShown(shared.notes()),
    };
    let frame = Kept::Frame {
        dashboard,
        locale,
        filters,
        role: viewer.role,
        signed_in: viewer.user.is_some(),
        session: viewer.csrf.is_some(),
    };
    let failed = |e| {
        tracing::error!(error = %e, "page rendering failed");
        request.fail(&shared, Problem::ExportFailed)
    };
    let main = shared.kept(live, content.clone()).map_err(failed)?;
    let framed = shared.kept(live, frame.clone()).map_err(failed)?;
    let body = layout::fill(&framed, &main, &viewer).into();
    // The ETag covers the content's key too: edited notes are a new page.
    Ok(responses::page(
        &shared,
        live,
        &headers,
        &(&frame, &content),
        body,
        request.lang_given.then_some(locale),
        &viewer,
    ))
}
