//! Running a measure's query and aggregating it into raw cells, in DuckDB.
//!
//! The unit rows and raw cells land in temporary tables of the job's connection; they
//! are unprotected and never leave the job: the disclosure step reads them and writes
//! the cells that get published.

use duckdb::Connection;

use super::{DefinitionError, Measure, Statistic, required_columns};

/// The temporary table of a measure's unit rows (its query's result).
pub fn units_table(m: &Measure) -> String {
    format!("units_{}", m.id)
}

/// The temporary table of a measure's raw cells:
/// `breakdown, <dimensions…>, value DOUBLE, n BIGINT, ksum HUGEINT` where `n` counts the
/// distinct contributors (persons or units; NULL for sums) and `ksum` is the sum of
/// their record keys (NULL unless the units carry an `rkey` column).
pub fn raw_table(m: &Measure) -> String {
    format!("raw_{}", m.id)
}

fn query_text(m: &Measure) -> &str {
    m.sql.trim().trim_end_matches(';').trim_end()
}

/// Turns a DuckDB error about the query into one located in the measure file.
fn located(m: &Measure, e: &duckdb::Error) -> DefinitionError {
    let message = e.to_string();
    // DuckDB points into the text it was given as "LINE n:"; the query starts at sql_line.
    let line = message
        .split("LINE ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .and_then(|n| n.trim().parse::<usize>().ok())
        .map_or(m.sql_line, |n| m.sql_line + n.saturating_sub(1));
    let first = message.lines().next().unwrap_or("").to_string();
    DefinitionError {
        file: m.file.clone(),
        line,
        message: format!("query: {first}"),
    }
}

/// Checks that the query runs against the store's schema and returns every column the
/// header promises, and nothing else.
pub fn check_query(conn: &Connection, m: &Measure) -> Result<(), DefinitionError> {
    let mut stmt = conn
        .prepare(&format!("DESCRIBE {}", query_text(m)))
        .map_err(|e| located(m, &e))?;
    let columns: Vec<String> = stmt
        .query_map([], |row| row.get::<_, String>(0))
        .and_then(|rows| rows.collect())
        .map_err(|e| located(m, &e))?;
    let at = |message: String| DefinitionError {
        file: m.file.clone(),
        line: m.sql_line,
        message,
    };
    let required = required_columns(m);
    if let Some(missing) = required.iter().find(|c| !columns.contains(c)) {
        return Err(at(format!(
            "the query does not return the column {missing}"
        )));
    }
    if let Some(extra) = columns.iter().find(|c| !required.contains(c)) {
        return Err(at(format!(
            "the query returns {extra}, which is neither a declared dimension nor a column its statistic uses"
        )));
    }
    Ok(())
}

/// Runs the query into `units_table(m)`.
pub fn materialise_units(conn: &Connection, m: &Measure) -> Result<(), DefinitionError> {
    check_query(conn, m)?;
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE {} AS {}",
        units_table(m),
        query_text(m)
    ))
    .map_err(|e| located(m, &e))
}

/// Aggregates the unit rows of `source` into the raw cells of every declared breakdown
/// (`raw_table(m)`). With `keyed`, `source` has an `rkey` column (the contributor's
/// record key) and each cell gets the sum of its distinct contributors' keys.
///
/// Each breakdown is one grouped query over the distinct (cell, contributor) pairs —
/// several times faster in DuckDB than distinct aggregates under GROUPING SETS.
pub fn compute_raw_cells(
    conn: &Connection,
    m: &Measure,
    source: &str,
    keyed: bool,
) -> Result<(), duckdb::Error> {
    let contributor = m.statistic.contributor();
    let parts: Vec<String> = m
        .breakdowns
        .iter()
        .map(|b| breakdown_sql(m, b, source, contributor, keyed))
        .collect();
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE {} AS {}",
        raw_table(m),
        parts.join(" UNION ALL ")
    ))
}

/// The raw cells of one breakdown:
/// `breakdown, <every dimension, NULL outside b>, value, n, ksum`.
fn breakdown_sql(
    m: &Measure,
    b: &[String],
    source: &str,
    contributor: Option<&str>,
    keyed: bool,
) -> String {
    let group = b.join(", ");
    let group_by = if b.is_empty() {
        String::new()
    } else {
        format!("GROUP BY {group}")
    };
    let lead = |cols: &str| {
        if b.is_empty() {
            cols.to_string()
        } else {
            format!("{group}, {cols}")
        }
    };
    let columns: Vec<String> = m
        .dimensions
        .iter()
        .map(|d| {
            if b.contains(d) {
                format!("CAST(c.{d} AS VARCHAR) AS {d}")
            } else {
                format!("CAST(NULL AS VARCHAR) AS {d}")
            }
        })
        .collect();
    let id = Measure::breakdown_id(b);
    // Distinct contributors per cell, and the sum of their keys.
    let counted = contributor.map(|c| {
        // A record key stands for its contributor (64-bit keys: two contributors share
        // one with odds of about n²/2^65), and hashes faster than the reference text.
        let (distinct, ksum) = if keyed {
            ("rkey", "sum(CAST(rkey AS HUGEINT))")
        } else {
            (c, "CAST(NULL AS HUGEINT)")
        };
        format!(
            "SELECT {} FROM (SELECT DISTINCT {} FROM {source}) {group_by}",
            lead(&format!("count(*) AS n, {ksum} AS ksum")),
            lead(distinct),
        )
    });
    let valued = match m.statistic {
        Statistic::Sum => Some("sum(value)"),
        Statistic::Mean => Some("avg(value)"),
        _ => None,
    }
    .map(|agg| {
        format!(
            "SELECT {} FROM {source} {group_by}",
            lead(&format!("CAST({agg} AS DOUBLE) AS value"))
        )
    });
    let on = |left: &str, right: &str| {
        if b.is_empty() {
            "true".to_string()
        } else {
            b.iter()
                .map(|d| format!("{left}.{d} IS NOT DISTINCT FROM {right}.{d}"))
                .collect::<Vec<_>>()
                .join(" AND ")
        }
    };
    let from = match (&counted, &valued) {
        (Some(c), Some(v)) => format!("({v}) c JOIN ({c}) k ON {}", on("c", "k")),
        (Some(c), None) => format!("({c}) c"),
        (None, Some(v)) => format!("({v}) c"),
        (None, None) => unreachable!("every statistic counts or aggregates a value"),
    };
    let (value, n, ksum) = match (&counted, &valued) {
        (Some(_), Some(_)) => ("c.value", "k.n", "k.ksum"),
        (Some(_), None) => ("CAST(c.n AS DOUBLE)", "c.n", "c.ksum"),
        _ => ("c.value", "CAST(NULL AS BIGINT)", "CAST(NULL AS HUGEINT)"),
    };
    format!(
        "SELECT '{id}' AS breakdown, {cols}{value} AS value, CAST({n} AS BIGINT) AS n, CAST({ksum} AS HUGEINT) AS ksum FROM {from}",
        cols = columns.iter().map(|c| format!("{c}, ")).collect::<String>(),
    )
}

impl Statistic {
    /// The column whose distinct values are the contributors to a cell, if any.
    pub fn contributor(self) -> Option<&'static str> {
        match self {
            Statistic::Persons | Statistic::Mean => Some("person_ref"),
            Statistic::Units => Some("unit_ref"),
            Statistic::Sum => None,
        }
    }
}
