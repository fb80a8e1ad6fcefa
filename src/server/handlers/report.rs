//! `GET /report/{quarter}.pdf` (donors, programme staff, administrators): the
//! quarterly donor report over the dashboards the reader may open, in the page's
//! language (`?lang=fr|en`). A quarter the snapshot does not cover is a 404.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;

use crate::access::Viewer;
use crate::present::filters::Period;
use crate::present::problem::Problem;
use crate::render::exports::ExportError;
use crate::server::error::AppError;
use crate::server::kept::{Kept, NotesShown};
use crate::server::request::{only_lang, page_start};
use crate::server::responses;
use crate::server::state::Shared;

pub async fn pdf(
    State(shared): State<Arc<Shared>>,
    Path(file): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (locale, _, live) = page_start(&shared, &query, &headers)?;
    only_lang(&shared, &query, locale, &live)?;
    // A quarter the snapshot publishes, for some dashboard this reader opens.
    let quarter = file
        .strip_suffix(".pdf")
        .and_then(Period::parse)
        .filter(|p| matches!(p, Period::Quarter(..)))
        .filter(|p| {
            let code = p.code();
            shared
                .dashboards
                .iter()
                .filter(|d| d.allows(viewer.role))
                .filter_map(|d| live.options.get(&d.id))
                .any(|o| o.quarters.contains(&code))
        });
    let Some(quarter) = quarter else {
        return Err(AppError::page(
            Problem::NotFound,
            locale,
            &shared,
            Some(live),
        ));
    };
    let key = Kept::Report {
        quarter,
        locale,
        role: viewer.role,
        notes: NotesShown(shared.notes()),
    };
    let body = shared.kept_async(&live, key.clone()).await.map_err(|e| {
        let problem = match e {
            ExportError::NotPublished => Problem::NotPublished,
            e => {
                tracing::error!(error = %e, "quarterly report failed");
                Problem::ExportFailed
            }
        };
        AppError::page(problem, locale, &shared, Some(live.clone()))
    })?;
    let response = responses::snapshot_response(&live, &headers, &key, body, "application/pdf");
    Ok(responses::attachment(
        response,
        &format!("reintegra-report-{}-{}.pdf", quarter.code(), locale.code()),
    ))
}
