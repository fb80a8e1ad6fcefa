//! `GET /api/v1/measures/{id}?by=d1,d2&d1=value` (and `{id}.csv`): every published
//! cell of a declared breakdown the reader may read, filtered by equality. An
//! undeclared breakdown, an unknown dimension or value is a 400 that lists what is
//! allowed.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{Extension, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::access::Viewer;
use crate::definitions::MeasureInfo;
use crate::present::problem::Problem;
use crate::render::api;
use crate::server::auth::guard::{ServedMeasure, readable_breakdowns};
use crate::server::error::AppError;
use crate::server::responses;
use crate::server::state::Shared;
use crate::snapshot::Snapshot;

fn bad(name: &str, allowed: String) -> AppError {
    AppError::api(Problem::BadParameter {
        name: name.to_string(),
        allowed,
    })
}

/// The cells a request asks for: a declared breakdown, filtered by equality.
pub struct Selection {
    pub breakdown: Vec<String>,
    pub filters: Vec<(String, String)>,
}

/// Reads `by` and the dimension filters of an API query.
pub fn selection(
    snapshot: &Snapshot,
    m: &MeasureInfo,
    readable: &[Vec<String>],
    query: &[(String, String)],
) -> Result<Selection, AppError> {
    let mut by: Option<Vec<String>> = None;
    let mut filters: Vec<(String, String)> = Vec::new();
    for (name, value) in query {
        if name == "by" {
            let dims: Vec<String> = value
                .split(',')
                .map(|d| d.trim().to_string())
                .filter(|d| !d.is_empty())
                .collect();
            by = Some(dims);
        } else if name == "lang" {
            continue;
        } else if m.dimensions.contains(name) {
            filters.push((name.clone(), value.clone()));
        } else {
            return Err(bad(
                name,
                format!(
                    "by, lang, or a dimension of {}: {}",
                    m.id,
                    m.dimensions.join(", ")
                ),
            ));
        }
    }
    let by = by.unwrap_or_default();
    let refs: Vec<&str> = by.iter().map(String::as_str).collect();
    let declared = || {
        readable
            .iter()
            .map(|b| {
                if b.is_empty() {
                    "(none: the total)".to_string()
                } else {
                    b.join(",")
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let breakdown = m
        .breakdown(&refs)
        .filter(|b| readable.iter().any(|r| r.as_slice() == *b))
        .ok_or_else(|| {
            bad(
                "by",
                format!("a declared breakdown of {}: {}", m.id, declared()),
            )
        })?
        .to_vec();
    for (dim, value) in &filters {
        let Some(i) = breakdown.iter().position(|b| b == dim) else {
            return Err(bad(
                dim,
                format!("a filter on a dimension of by ({})", breakdown.join(",")),
            ));
        };
        let values: BTreeSet<&str> = snapshot
            .cells(&m.id, &breakdown)
            .iter()
            .map(|c| &*c.dims[i])
            .collect();
        if !values.contains(value.as_str()) {
            let list: Vec<&str> = values.into_iter().collect();
            return Err(bad(dim, list.join(", ")));
        }
    }
    Ok(Selection { breakdown, filters })
}

pub async fn cells(
    State(shared): State<Arc<Shared>>,
    Extension(viewer): Extension<Viewer>,
    served: Option<Extension<ServedMeasure>>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let live = shared
        .live()
        .ok_or_else(|| AppError::api(Problem::NoSnapshot))?;
    let s = &live.snapshot;
    // The guard resolved and allowed the measure; without a snapshot it could not.
    let Some(Extension(ServedMeasure { id, csv })) = served else {
        return Err(AppError::api(Problem::NotFound));
    };
    let m = s
        .measure(&id)
        .ok_or_else(|| AppError::api(Problem::NotFound))?;
    let readable = readable_breakdowns(&live, &viewer, m);
    let sel = selection(s, m, &readable, &query)?;
    let equal: Vec<(&str, &str)> = sel
        .filters
        .iter()
        .map(|(d, v)| (d.as_str(), v.as_str()))
        .collect();
    let cells: Vec<_> = s.select(&m.id, &sel.breakdown, &equal).collect();
    if csv {
        let response = (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}.csv\"", m.id),
                ),
            ],
            api::cells_csv(s, &sel.breakdown, &cells),
        )
            .into_response();
        return Ok(responses::tagged(&live, response));
    }
    let body = api::cells_json(s, m, &sel.breakdown, &cells);
    Ok(responses::tagged(&live, axum::Json(body).into_response()))
}
