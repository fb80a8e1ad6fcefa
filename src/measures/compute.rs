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
pub fn compute_raw_cells(
    conn: &Connection,
    m: &Measure,
    source: &str,
    keyed: bool,
) -> Result<(), duckdb::Error> {
    let value = match m.statistic {
        Statistic::Persons => "count(DISTINCT person_ref)",
        Statistic::Units => "count(DISTINCT unit_ref)",
        Statistic::Sum => "sum(value)",
        Statistic::Mean => "avg(value)",
    };
    let n = match m.statistic.contributor() {
        Some(c) => format!("count(DISTINCT {c})"),
        None => "NULL".to_string(),
    };
    // Keys are 64-bit: equal keys for different contributors are vanishingly rare.
    let ksum = if keyed { "sum(DISTINCT rkey)" } else { "NULL" };
    let aggregates = format!(
        "CAST({value} AS DOUBLE) AS value, CAST({n} AS BIGINT) AS n, CAST({ksum} AS HUGEINT) AS ksum"
    );
    let table = raw_table(m);
    let sql = if m.dimensions.is_empty() {
        format!(
            "CREATE OR REPLACE TEMP TABLE {table} AS SELECT '' AS breakdown, {aggregates} FROM {source}"
        )
    } else {
        let count = m.dimensions.len();
        let dims = m.dimensions.join(", ");
        // GROUPING(d1..dn) has bit (n-1-i) set when dimension i is rolled up.
        let cases: Vec<String> = m
            .breakdowns
            .iter()
            .map(|b| {
                let mask: u64 = m
                    .dimensions
                    .iter()
                    .enumerate()
                    .filter(|(_, d)| !b.contains(d))
                    .map(|(i, _)| 1u64 << (count - 1 - i))
                    .sum();
                format!("WHEN {mask} THEN '{}'", Measure::breakdown_id(b))
            })
            .collect();
        let dim_columns: Vec<String> = m
            .dimensions
            .iter()
            .map(|d| format!("CASE WHEN GROUPING({d}) = 0 THEN CAST({d} AS VARCHAR) END AS {d}"))
            .collect();
        let sets: Vec<String> = m
            .breakdowns
            .iter()
            .map(|b| format!("({})", b.join(", ")))
            .collect();
        format!(
            "CREATE OR REPLACE TEMP TABLE {table} AS
             SELECT CASE GROUPING({dims}) {cases} END AS breakdown, {dim_columns}, {aggregates}
             FROM {source}
             GROUP BY GROUPING SETS ({sets})",
            cases = cases.join(" "),
            dim_columns = dim_columns.join(", "),
            sets = sets.join(", "),
        )
    };
    conn.execute_batch(&sql)
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
