//! `GET /d/{id}/panels/{panel}.{csv|xlsx|svg|png}`: one panel as a file, under the
//! page's filters and language (`sep=semicolon` for the CSV of French Excel).

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;

use crate::present::problem::Problem;
use crate::render::exports::{Format, file_name, has_image};
use crate::server::auth::guard::ServedDashboard;
use crate::server::error::AppError;
use crate::server::kept::Kept;
use crate::server::request::DashboardRequest;
use crate::server::responses;
use crate::server::state::Shared;

pub async fn file(
    State(shared): State<Arc<Shared>>,
    Extension(served): Extension<ServedDashboard>,
    Path((_, file)): Path<(String, String)>,
    Query(mut query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (panel_id, ext) = file.rsplit_once('.').unwrap_or((file.as_str(), ""));
    let mut format = Format::from_extension(ext);
    // `sep` belongs to CSV only; elsewhere it is an unknown parameter like any other.
    let mut bad_sep = false;
    if let Some(Format::Csv { semicolon }) = &mut format {
        let mut seps = Vec::new();
        query.retain(|(k, v)| {
            let is_sep = k == "sep";
            if is_sep {
                seps.push(v.clone());
            }
            !is_sep
        });
        match seps.as_slice() {
            [] => {}
            [s] if s == "semicolon" || s == ";" => *semicolon = true,
            [s] if s == "comma" || s == "," => {}
            _ => bad_sep = true,
        }
    }
    let request = DashboardRequest::parse(&shared, served, &query, &headers)?;
    let d = request.dashboard(&shared);
    let Some(format) = format else {
        return Err(request.fail(&shared, Problem::NotFound));
    };
    if bad_sep {
        return Err(request.fail(
            &shared,
            Problem::BadParameter {
                name: "sep".into(),
                allowed: "semicolon (or comma, the default), once".into(),
            },
        ));
    }
    let Some(panel) = d.panels.iter().position(|p| p.id == panel_id) else {
        return Err(request.fail(&shared, Problem::NotFound));
    };
    if format.is_image() && !has_image(&d.panels[panel]) {
        return Err(request.fail(&shared, Problem::NotFound));
    }
    let key = Kept::Panel {
        dashboard: request.dashboard,
        panel,
        format,
        locale: request.locale,
        filters: request.filters,
    };
    let body = shared
        .kept_async(&request.live, key.clone())
        .await
        .map_err(|e| request.export_failed(&shared, e))?;
    let response =
        responses::snapshot_response(&request.live, &headers, &key, body, format.content_type());
    Ok(responses::attachment(
        response,
        &file_name(&d.id, panel_id, &request.filters, format.extension()),
    ))
}
