//! Reading a published snapshot into memory: its metadata, its measures and all its
//! cells. A snapshot is small (cells of declared breakdowns only) and immutable, so the
//! server holds it whole and answers requests without touching DuckDB.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use super::{Published, READABLE, SnapshotError, SnapshotId, open_read_only, write::FORMAT_PREFIX};
use crate::definitions::{MeasureInfo, Sensitivity, Statistic};
use crate::domain::Kind;
use crate::reference::Label;

/// A published cell: its value, or none when it is suppressed.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Values of the breakdown's dimensions, in the order of the breakdown.
    pub dims: Vec<Arc<str>>,
    pub value: Option<f64>,
    pub suppressed: bool,
}

/// A snapshot held in memory.
#[derive(Debug)]
pub struct Snapshot {
    pub id: SnapshotId,
    pub meta: BTreeMap<String, String>,
    pub measures: Vec<MeasureInfo>,
    pub coverage: Vec<(Kind, NaiveDate, NaiveDate)>,
    /// The register's sites: code → names (the labels of the site dimension).
    pub sites: HashMap<String, Label>,
    /// (measure, breakdown id) → cells in the snapshot's order.
    cells: HashMap<(String, String), Vec<Cell>>,
}

impl Snapshot {
    /// Loads the snapshot `CURRENT` names in a data folder (`DATA/published/`); none
    /// when nothing is published yet. What the commands that read a data folder
    /// (`report`, `export`) serve from.
    pub fn load_current(data: &std::path::Path) -> Result<Option<Snapshot>, SnapshotError> {
        let published = Published::new(data.join("published"));
        match published.current()? {
            Some(id) => Snapshot::load(&published, &id).map(Some),
            None => Ok(None),
        }
    }

    /// Loads the snapshot `id` of a published folder.
    pub fn load(published: &Published, id: &SnapshotId) -> Result<Snapshot, SnapshotError> {
        Snapshot::load_file(&published.path_of(id), id)
    }

    /// Loads the snapshot file `path` under the name `id` (e.g. a draft, to check it
    /// before it is published).
    pub fn load_file(path: &std::path::Path, id: &SnapshotId) -> Result<Snapshot, SnapshotError> {
        let path = path.to_path_buf();
        let db = |source| SnapshotError::Db {
            path: path.clone(),
            source,
        };
        let conn = open_read_only(&path)?;
        let mut meta = BTreeMap::new();
        {
            let mut stmt = conn.prepare("SELECT key, value FROM meta").map_err(db)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .map_err(db)?;
            for row in rows {
                let (k, v) = row.map_err(db)?;
                meta.insert(k, v);
            }
        }
        let version = meta
            .get("format")
            .and_then(|f| f.strip_prefix(FORMAT_PREFIX))
            .and_then(|v| v.parse::<u32>().ok());
        if !version.is_some_and(|v| READABLE.contains(&v)) {
            return Err(SnapshotError::Unsupported {
                path: path.clone(),
                found: version.map_or_else(|| "unknown".to_string(), |v| v.to_string()),
            });
        }
        let mut measures = Vec::new();
        {
            let mut stmt = conn
                .prepare(
                    "SELECT id, title_fr, title_en, description_fr, description_en, unit_fr, unit_en,
                            sensitivity, statistic, dimensions, breakdowns FROM measures ORDER BY id",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map([], |r| {
                    let s = |i| r.get::<_, String>(i);
                    Ok((
                        s(0)?,
                        s(1)?,
                        s(2)?,
                        s(3)?,
                        s(4)?,
                        s(5)?,
                        s(6)?,
                        s(7)?,
                        s(8)?,
                        s(9)?,
                        s(10)?,
                    ))
                })
                .map_err(db)?;
            for row in rows {
                let (id, tf, te, df, de, uf, ue, sens, stat, dims, bds) = row.map_err(db)?;
                measures.push(MeasureInfo {
                    id,
                    title: Label { fr: tf, en: te },
                    description: Label { fr: df, en: de },
                    unit: Label { fr: uf, en: ue },
                    sensitivity: serde_json::from_value(sens.into()).unwrap_or(Sensitivity::Person),
                    statistic: serde_json::from_value(stat.into()).unwrap_or(Statistic::Persons),
                    dimensions: serde_json::from_str(&dims).unwrap_or_default(),
                    breakdowns: serde_json::from_str(&bds).unwrap_or_default(),
                });
            }
        }
        let mut sites = HashMap::new();
        if let Ok(mut stmt) = conn.prepare("SELECT code, name_fr, name_en FROM sites") {
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })
                .map_err(db)?;
            for row in rows {
                let (code, fr, en) = row.map_err(db)?;
                sites.insert(code, Label { fr, en });
            }
        }
        let mut coverage = Vec::new();
        {
            let mut stmt = conn
                .prepare("SELECT kind, CAST(first_date AS VARCHAR), CAST(last_date AS VARCHAR) FROM coverage")
                .map_err(db)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })
                .map_err(db)?;
            for row in rows {
                let (kind, first, last) = row.map_err(db)?;
                let kind = Kind::ALL.into_iter().find(|k| k.name() == kind);
                if let (Some(kind), Ok(f), Ok(l)) = (kind, first.parse(), last.parse()) {
                    coverage.push((kind, f, l));
                }
            }
        }
        let mut cells = HashMap::new();
        let mut interned: HashMap<String, Arc<str>> = HashMap::new();
        for m in &measures {
            let dims: String = m.dimensions.iter().map(|d| format!("{d}, ")).collect();
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT breakdown, {dims} value, suppressed FROM cells_{}",
                    m.id
                ))
                .map_err(db)?;
            let n = m.dimensions.len();
            let rows = stmt
                .query_map([], |r| {
                    let breakdown: String = r.get(0)?;
                    let values: Vec<Option<String>> =
                        (0..n).map(|i| r.get(1 + i)).collect::<Result<_, _>>()?;
                    Ok((
                        breakdown,
                        values,
                        r.get::<_, Option<f64>>(1 + n)?,
                        r.get::<_, bool>(2 + n)?,
                    ))
                })
                .map_err(db)?;
            for row in rows {
                let (breakdown, values, value, suppressed) = row.map_err(db)?;
                let dims = values
                    .into_iter()
                    .flatten()
                    .map(|v| {
                        interned
                            .entry(v.clone())
                            .or_insert_with(|| Arc::from(v.as_str()))
                            .clone()
                    })
                    .collect();
                cells
                    .entry((m.id.clone(), breakdown))
                    .or_insert_with(Vec::new)
                    .push(Cell {
                        dims,
                        value,
                        suppressed,
                    });
            }
        }
        Ok(Snapshot {
            id: id.clone(),
            meta,
            measures,
            coverage,
            sites,
            cells,
        })
    }

    pub fn measure(&self, id: &str) -> Option<&MeasureInfo> {
        self.measures.iter().find(|m| m.id == id)
    }

    /// The cells of a declared breakdown (dimensions in the measure's canonical order).
    pub fn cells(&self, measure: &str, breakdown: &[String]) -> &[Cell] {
        self.cells
            .get(&(measure.to_string(), breakdown.join(",")))
            .map_or(&[], Vec::as_slice)
    }

    /// The cells of a breakdown whose dimensions equal the given values.
    pub fn select<'a>(
        &'a self,
        measure: &str,
        breakdown: &'a [String],
        filters: &'a [(&'a str, &'a str)],
    ) -> impl Iterator<Item = &'a Cell> + 'a {
        let positions: Vec<(usize, &str)> = filters
            .iter()
            .filter_map(|(d, v)| breakdown.iter().position(|b| b == d).map(|i| (i, *v)))
            .collect();
        self.cells(measure, breakdown).iter().filter(move |c| {
            positions
                .iter()
                .all(|(i, v)| c.dims.get(*i).is_some_and(|d| &**d == *v))
        })
    }

    pub fn threshold(&self) -> u32 {
        self.meta
            .get("threshold")
            .and_then(|t| t.parse().ok())
            .unwrap_or(10)
    }

    /// The disclosure note in a language (`fr` or `en`).
    pub fn note(&self, lang: &str) -> &str {
        self.meta
            .get(&format!("note_{lang}"))
            .map_or("", String::as_str)
    }

    /// The non-revealing part of the disclosure report of the run that published this
    /// snapshot (for administrators).
    pub fn disclosure_report(&self) -> Option<super::report::Report> {
        self.meta
            .get("disclosure_report")
            .and_then(|text| serde_json::from_str(text).ok())
    }

    pub fn data_as_of(&self) -> Option<NaiveDate> {
        self.meta.get("data_as_of").and_then(|d| d.parse().ok())
    }

    pub fn last_load_at(&self) -> Option<DateTime<Utc>> {
        self.meta
            .get("last_load_at")
            .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
            .map(|d| d.with_timezone(&Utc))
    }

    pub fn created_at(&self) -> Option<DateTime<Utc>> {
        self.meta
            .get("created_at")
            .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
            .map(|d| d.with_timezone(&Utc))
    }
}
