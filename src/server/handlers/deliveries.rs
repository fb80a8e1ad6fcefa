//! `GET /deliveries` (programme staff and administrators; 404 for other roles): what
//! the job recorded in `DATA/deliveries/` about the files it received — never the
//! files themselves, which live on the job's side.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use crate::access::Viewer;
use crate::render::html::deliveries;
use crate::server::error::AppError;
use crate::server::request::{only_lang, page_for, page_start};
use crate::server::responses;
use crate::server::state::Shared;
use crate::status::Deliveries;

/// Quarantined files whose full report the page shows (the newest); older ones show
/// their count of problems.
const REPORTS_SHOWN: usize = 50;

pub async fn page(
    State(shared): State<Arc<Shared>>,
    Extension(viewer): Extension<Viewer>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (locale, _, live) = page_start(&shared, &query, &headers)?;
    only_lang(&shared, &query, locale, &live)?;
    let data = shared.settings.data.clone();
    let (record, reports) = tokio::task::spawn_blocking(move || {
        let record = Deliveries::read(&data);
        let mut reports = HashMap::new();
        if let Some(r) = &record {
            for name in r
                .files
                .iter()
                .filter_map(|f| f.report.as_ref())
                .take(REPORTS_SHOWN)
            {
                if let Some(report) = Deliveries::report(&data, name) {
                    reports.insert(name.clone(), report);
                }
            }
        }
        (record, reports)
    })
    .await
    .unwrap_or_default();
    let page = page_for(&shared, &live, &viewer, locale, "/deliveries", "");
    Ok(responses::unkept_html(
        StatusCode::OK,
        deliveries::page(&page, record.as_ref(), &reports, chrono::Utc::now()),
    ))
}
