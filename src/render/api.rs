//! The API's bodies: measures and their published cells as JSON, and cells as CSV —
//! the same cells the charts show, suppressed ones included with no number.

use serde_json::{Value, json};

use crate::definitions::MeasureInfo;
use crate::render::exports::table::neutralise;
use crate::snapshot::{Cell, Snapshot};

/// A measure as the list describes it, with the breakdowns its reader may read.
pub fn measure(m: &MeasureInfo, breakdowns: &[Vec<String>]) -> Value {
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

/// `GET /api/v1/measures`: the snapshot and the measures a reader may read.
pub fn list(s: &Snapshot, measures: Vec<Value>) -> Value {
    json!({
        "snapshot": s.id.as_str(),
        "data_as_of": s.data_as_of().map(|d| d.to_string()),
        "threshold": s.threshold(),
        "note": { "fr": s.note("fr"), "en": s.note("en") },
        "measures": measures,
    })
}

/// The cells of one breakdown as JSON.
pub fn cells_json(s: &Snapshot, m: &MeasureInfo, breakdown: &[String], cells: &[&Cell]) -> Value {
    let rows: Vec<Value> = cells
        .iter()
        .map(|c| {
            let mut row = serde_json::Map::new();
            for (d, v) in breakdown.iter().zip(&c.dims) {
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
    json!({
        "measure": m.id,
        "snapshot": s.id.as_str(),
        "by": breakdown,
        "threshold": s.threshold(),
        "note": { "fr": s.note("fr"), "en": s.note("en") },
        "cells": rows,
    })
}

/// The cells of one breakdown as CSV: a column per dimension, the value (`<T` when
/// suppressed) and whether it is suppressed.
pub fn cells_csv(s: &Snapshot, breakdown: &[String], cells: &[&Cell]) -> Vec<u8> {
    let threshold = s.threshold();
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<&str> = breakdown.iter().map(String::as_str).collect();
    header.extend(["value", "suppressed"]);
    let _ = w.write_record(&header);
    for c in cells {
        let mut row: Vec<String> = c.dims.iter().map(|d| neutralise(d).into_owned()).collect();
        row.push(match (c.suppressed, c.value) {
            (true, _) | (_, None) => format!("<{threshold}"),
            (false, Some(v)) => format_value(v),
        });
        row.push(c.suppressed.to_string());
        let _ = w.write_record(&row);
    }
    w.into_inner().unwrap_or_default()
}

/// A value as plain text: whole numbers without decimals.
fn format_value(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}
