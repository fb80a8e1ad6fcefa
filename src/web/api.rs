//! The JSON and CSV API: the same published cells the charts show.
//!
//! `GET /api/v1/measures` lists measures with their declared breakdowns;
//! `GET /api/v1/measures/{id}?by=d1,d2&d1=value` returns every published cell of a
//! declared breakdown (suppressed ones included, with no number), and
//! `/api/v1/measures/{id}.csv?…` the same as CSV. An undeclared breakdown is a 400.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{Extension, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::auth::Viewer;
use super::auth::guard::{ServedMeasure, may_read_measure};
use super::error::{AppError, Problem};
use super::state::{Live, Shared};
use crate::snapshot::{MeasureInfo, Snapshot};

fn bad(name: &str, allowed: String) -> AppError {
    AppError::api(Problem::BadParameter {
        name: name.to_string(),
        allowed,
    })
}

/// The breakdowns of a measure a viewer may read: every declared one for a signed-in
/// reader, only those the public dashboards show for an anonymous visitor.
fn readable_breakdowns(live: &Live, viewer: &Viewer, m: &MeasureInfo) -> Vec<Vec<String>> {
    if viewer.signed_in() {
        return m.breakdowns.clone();
    }
    let public = live.public_breakdowns.get(&m.id);
    m.breakdowns
        .iter()
        .filter(|b| public.is_some_and(|p| p.contains(*b)))
        .cloned()
        .collect()
}

fn measure_json(m: &MeasureInfo, breakdowns: &[Vec<String>]) -> Value {
    json!({
        "id": m.id,
        "title": { "fr": m.title.fr, "en": m.title.en },
        "description": { "fr": m.description.fr, "en": m.description.en },
        "unit": { "fr": m.unit.fr, "en": m.unit.en },
        "sensitivity": m.sensitivity,
        "statistic": m.statistic,
        "dimensions": m.dimensions,
        "breakdowns": breakdowns,
    })
}

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
        .map(|m| measure_json(m, &readable_breakdowns(&live, &viewer, m)));
    let body = json!({
        "snapshot": s.id.as_str(),
        "data_as_of": s.data_as_of().map(|d| d.to_string()),
        "threshold": s.threshold(),
        "note": { "fr": s.note("fr"), "en": s.note("en") },
        "measures": visible.collect::<Vec<_>>(),
    });
    Ok(super::cached(&live, axum::Json(body).into_response()))
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
    let threshold = s.threshold();
    if csv {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header: Vec<&str> = sel.breakdown.iter().map(String::as_str).collect();
        header.extend(["value", "suppressed"]);
        let _ = w.write_record(&header);
        for c in &cells {
            let mut row: Vec<String> = c
                .dims
                .iter()
                .map(|d| super::exports::table::neutralise(d).into_owned())
                .collect();
            row.push(match (c.suppressed, c.value) {
                (true, _) | (_, None) => format!("<{threshold}"),
                (false, Some(v)) => format_value(v),
            });
            row.push(c.suppressed.to_string());
            let _ = w.write_record(&row);
        }
        let body = w.into_inner().unwrap_or_default();
        let response = (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}.csv\"", m.id),
                ),
            ],
            body,
        )
            .into_response();
        return Ok(super::cached(&live, response));
    }
    let rows: Vec<Value> = cells
        .iter()
        .map(|c| {
            let mut row = serde_json::Map::new();
            for (d, v) in sel.breakdown.iter().zip(&c.dims) {
                row.insert(d.clone(), Value::String(v.to_string()));
            }
            row.insert(
                "value".into(),
                if c.suppressed {
                    Value::Null
                } else {
                    c.value.map_or(Value::Null, Value::from)
                },
            );
            row.insert("suppressed".into(), Value::Bool(c.suppressed));
            Value::Object(row)
        })
        .collect();
    let body = json!({
        "measure": m.id,
        "snapshot": s.id.as_str(),
        "by": sel.breakdown,
        "threshold": threshold,
        "note": { "fr": s.note("fr"), "en": s.note("en") },
        "cells": rows,
    });
    Ok(super::cached(&live, axum::Json(body).into_response()))
}

/// A value as plain text: whole numbers without decimals.
fn format_value(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}
