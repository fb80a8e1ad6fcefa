//! Writing a snapshot file from the job's connection: metadata, the measures'
//! definitions, and one table of published cells per measure.

use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use duckdb::{Connection, params};

use super::SnapshotError;
use crate::definitions::Measure;
use crate::domain::Kind;

/// The schema version of the snapshots this build writes (`meta.schema_version`, and
/// `format` = `reintegra-snapshot/<version>`). Bump it when a table or a meta key that
/// readers rely on changes; readers serve the versions in `super::READABLE`.
pub const SCHEMA_VERSION: u32 = 1;

/// Format of the snapshot's tables, with its schema version.
pub const FORMAT_PREFIX: &str = "reintegra-snapshot/";

/// A measure and the table of the job's connection holding its publishable cells
/// (`breakdown, <dimensions…>, value, suppressed`).
pub struct PublishedMeasure<'a> {
    pub measure: &'a Measure,
    pub cells_table: String,
}

/// What a snapshot says about itself.
#[derive(Debug, Clone)]
pub struct Metadata {
    pub created_at: DateTime<Utc>,
    /// The latest date of the data, over all kinds.
    pub data_as_of: Option<NaiveDate>,
    pub last_load_at: Option<DateTime<Utc>>,
    /// Digest of the definitions (and policy) the cells were computed with.
    pub definitions: String,
    /// Dates each kind's data covers.
    pub coverage: Vec<(Kind, NaiveDate, NaiveDate)>,
    /// Further key/value pairs (e.g. the disclosure policy's version and note).
    pub extra: Vec<(String, String)>,
    /// The register's sites, whose names label the site dimension.
    pub sites: Vec<crate::reference::SiteRef>,
}

/// Writes the snapshot into `path` (a new file) through `conn`, which holds the cells.
pub fn write_snapshot(
    conn: &Connection,
    path: &Path,
    measures: &[PublishedMeasure<'_>],
    meta: &Metadata,
) -> Result<(), SnapshotError> {
    let db = |source| SnapshotError::Db {
        path: path.to_path_buf(),
        source,
    };
    let quoted = path.display().to_string().replace('\'', "''");
    conn.execute_batch(&format!("ATTACH '{quoted}' AS snap"))
        .map_err(db)?;
    let result = fill(conn, measures, meta);
    let detached = conn.execute_batch("CHECKPOINT snap; DETACH snap");
    result.map_err(db)?;
    detached.map_err(db)
}

fn fill(
    conn: &Connection,
    measures: &[PublishedMeasure<'_>],
    meta: &Metadata,
) -> duckdb::Result<()> {
    conn.execute_batch(
        "CREATE TABLE snap.meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
         CREATE TABLE snap.coverage (kind VARCHAR PRIMARY KEY, first_date DATE NOT NULL, last_date DATE NOT NULL);
         CREATE TABLE snap.measures (
             id VARCHAR PRIMARY KEY, title_fr VARCHAR, title_en VARCHAR,
             description_fr VARCHAR, description_en VARCHAR, unit_fr VARCHAR, unit_en VARCHAR,
             sensitivity VARCHAR, statistic VARCHAR, dimensions VARCHAR, breakdowns VARCHAR,
             cells_table VARCHAR);",
    )?;
    let mut pairs: Vec<(String, String)> = vec![
        ("format".into(), format!("{FORMAT_PREFIX}{SCHEMA_VERSION}")),
        ("schema_version".into(), SCHEMA_VERSION.to_string()),
        ("created_at".into(), meta.created_at.to_rfc3339()),
        ("definitions".into(), meta.definitions.clone()),
    ];
    if let Some(d) = meta.data_as_of {
        pairs.push(("data_as_of".into(), d.to_string()));
    }
    if let Some(t) = meta.last_load_at {
        pairs.push(("last_load_at".into(), t.to_rfc3339()));
    }
    pairs.extend(meta.extra.iter().cloned());
    for (key, value) in &pairs {
        conn.execute("INSERT INTO snap.meta VALUES (?, ?)", params![key, value])?;
    }
    conn.execute_batch(
        "CREATE TABLE snap.sites (code VARCHAR PRIMARY KEY, region VARCHAR, cercle VARCHAR, name_fr VARCHAR, name_en VARCHAR)",
    )?;
    for s in &meta.sites {
        conn.execute(
            "INSERT INTO snap.sites VALUES (?, ?, ?, ?, ?)",
            params![s.code, s.region, s.cercle, s.name.fr, s.name.en],
        )?;
    }
    for (kind, first, last) in &meta.coverage {
        conn.execute(
            "INSERT INTO snap.coverage VALUES (?, ?::DATE, ?::DATE)",
            params![kind.name(), first.to_string(), last.to_string()],
        )?;
    }
    for p in measures {
        let m = p.measure;
        let table = format!("cells_{}", m.id);
        conn.execute(
            "INSERT INTO snap.measures VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            params![
                m.id,
                m.title.fr,
                m.title.en,
                m.description.fr,
                m.description.en,
                m.unit.fr,
                m.unit.en,
                serde_json::to_value(m.sensitivity)
                    .unwrap_or_default()
                    .as_str()
                    .unwrap_or(""),
                serde_json::to_value(m.statistic)
                    .unwrap_or_default()
                    .as_str()
                    .unwrap_or(""),
                serde_json::to_string(&m.dimensions).unwrap_or_default(),
                serde_json::to_string(&m.breakdowns).unwrap_or_default(),
                table
            ],
        )?;
        let dims: String = m.dimensions.iter().map(|d| format!("{d}, ")).collect();
        let order: String = m.dimensions.iter().map(|d| format!(", {d}")).collect();
        conn.execute_batch(&format!(
            "CREATE TABLE snap.{table} AS
             SELECT breakdown, {dims} value, suppressed FROM {source}
             ORDER BY breakdown{order}",
            source = p.cells_table
        ))?;
    }
    Ok(())
}
