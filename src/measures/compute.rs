//! Running a measure's query and aggregating it into raw cells, in DuckDB.
//!
//! The unit rows and raw cells land in temporary tables of the job's connection; they
//! are unprotected and never leave the job: the disclosure step reads them and writes
//! the cells that get published.

use duckdb::Connection;

use super::required_columns;
use crate::definitions::{DefinitionError, Measure, Statistic};

/// The temporary table of a measure's unit rows (its query's result).
pub fn units_table(m: &Measure) -> String {
    format!("units_{}", m.id)
}

/// The temporary table of a measure's raw cells:
/// `breakdown, <dimensions…>, value DOUBLE, n BIGINT, ksum HUGEINT, msum HUGEINT,
/// vmax DOUBLE` where `n` counts what the measure counts (persons or units; NULL for
/// sums), `ksum` is the sum of the record keys of the distinct **people** behind the
/// cell (the cell key's source: noise is keyed on people, never on events), `msum` the
/// sum of the keys of the cell's members (the units counted; for a mean, each person's
/// key mixed with their value) and `vmax` a mean's largest value. Key columns are NULL
/// unless the units are keyed.
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
    // A non-person figure may not be computed from records of people: it would be
    // published unprotected.
    if m.sensitivity == super::Sensitivity::Aggregate {
        let read = tables_read(conn, m).map_err(|e| located(m, &e))?;
        if let Some(t) = read.iter().find(|t| PERSON_TABLES.contains(&t.as_str())) {
            return Err(at(format!(
                "an aggregate (non-person) measure may not read the {t} table: its figures would be published unprotected; declare sensitivity = \"person\""
            )));
        }
    }
    Ok(())
}

/// Tables of the private store that hold records of people.
pub const PERSON_TABLES: &[&str] = &["returns", "sessions", "trainings"];

/// The store tables a measure's query reads, from DuckDB's own plan of it.
pub fn tables_read(conn: &Connection, m: &Measure) -> Result<Vec<String>, duckdb::Error> {
    let mut stmt = conn.prepare(&format!("EXPLAIN {}", query_text(m)))?;
    let plan: Vec<String> = stmt
        .query_map([], |row| row.get::<_, String>(1))?
        .collect::<Result<_, _>>()?;
    let mut tables: Vec<String> = Vec::new();
    for text in plan {
        for piece in text.split("Table:").skip(1) {
            // `Table: memory.main."returns"`: the last part of a qualified, quoted name.
            let name: String = piece
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '"'))
                .filter(|c| *c != '"')
                .collect();
            let name = name.rsplit('.').next().unwrap_or("").to_string();
            if !name.is_empty() && !tables.contains(&name) {
                tables.push(name);
            }
        }
    }
    Ok(tables)
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
/// (`raw_table(m)`). With `keyed`, `source` has `rkey` (the person's record key) and
/// `mkey` (the member's key) columns, and each cell gets the sums of its distinct
/// people's and members' keys.
///
/// Each breakdown is one grouped query over the distinct (cell, key) pairs — several
/// times faster in DuckDB than distinct aggregates under GROUPING SETS.
pub fn compute_raw_cells(
    conn: &Connection,
    m: &Measure,
    source: &str,
    keyed: bool,
) -> Result<(), duckdb::Error> {
    let parts: Vec<String> = m
        .breakdowns
        .iter()
        .map(|b| breakdown_sql(m, b, source, keyed))
        .collect();
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE {} AS {}",
        raw_table(m),
        parts.join(" UNION ALL ")
    ))
}

/// The raw cells of one breakdown:
/// `breakdown, <every dimension, NULL outside b>, value, n, ksum, msum, vmax`.
fn breakdown_sql(m: &Measure, b: &[String], source: &str, keyed: bool) -> String {
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
    let columns: String = m
        .dimensions
        .iter()
        .map(|d| {
            if b.contains(d) {
                format!("CAST(c.{d} AS VARCHAR) AS {d}, ")
            } else {
                format!("CAST(NULL AS VARCHAR) AS {d}, ")
            }
        })
        .collect();
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
    // Distinct pairs of (cell, key), aggregated per cell.
    let distinct = |key: &str, aggregates: &str| {
        format!(
            "SELECT {} FROM (SELECT DISTINCT {} FROM {source}) {group_by}",
            lead(aggregates),
            lead(key)
        )
    };
    let id = Measure::breakdown_id(b);
    let (from, value, n, ksum, msum, vmax) = match (m.statistic, keyed) {
        (Statistic::Persons, true) => (
            format!(
                "({}) c",
                distinct("rkey", "count(*) AS n, sum(CAST(rkey AS HUGEINT)) AS ksum")
            ),
            "CAST(c.n AS DOUBLE)",
            "c.n",
            "c.ksum",
            "c.ksum",
            "NULL",
        ),
        (Statistic::Units, true) => (
            format!(
                "({}) c JOIN ({}) k ON {}",
                distinct("mkey", "count(*) AS n, sum(CAST(mkey AS HUGEINT)) AS msum"),
                distinct("rkey", "sum(CAST(rkey AS HUGEINT)) AS ksum"),
                on("c", "k")
            ),
            "CAST(c.n AS DOUBLE)",
            "c.n",
            "k.ksum",
            "c.msum",
            "NULL",
        ),
        (Statistic::Mean, true) => (
            format!(
                "({}) c JOIN ({}) k ON {}",
                distinct(
                    "mkey, value",
                    "CAST(avg(value) AS DOUBLE) AS value, max(value) AS vmax, sum(CAST(mkey AS HUGEINT)) AS msum"
                ),
                distinct("rkey", "count(*) AS n, sum(CAST(rkey AS HUGEINT)) AS ksum"),
                on("c", "k")
            ),
            "c.value",
            "k.n",
            "k.ksum",
            "c.msum",
            "c.vmax",
        ),
        (Statistic::Sum, _) => (
            format!(
                "(SELECT {} FROM {source} {group_by}) c",
                lead("CAST(sum(value) AS DOUBLE) AS value")
            ),
            "c.value",
            "NULL",
            "NULL",
            "NULL",
            "NULL",
        ),
        (Statistic::Mean, false) => (
            format!(
                "(SELECT {} FROM {source} {group_by}) c",
                lead(
                    "CAST(avg(value) AS DOUBLE) AS value, count(DISTINCT person_ref) AS n, max(value) AS vmax"
                )
            ),
            "c.value",
            "c.n",
            "NULL",
            "NULL",
            "c.vmax",
        ),
        (statistic, false) => {
            let contributor = statistic.contributor().expect("counts have contributors");
            (
                format!("({}) c", distinct(contributor, "count(*) AS n")),
                "CAST(c.n AS DOUBLE)",
                "c.n",
                "NULL",
                "NULL",
                "NULL",
            )
        }
    };
    format!(
        "SELECT '{id}' AS breakdown, {columns}{value} AS value, CAST({n} AS BIGINT) AS n, \
         CAST({ksum} AS HUGEINT) AS ksum, CAST({msum} AS HUGEINT) AS msum, CAST({vmax} AS DOUBLE) AS vmax FROM {from}"
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_a_query_reads_come_from_its_plan() {
        let store = crate::store::PrivateStore::in_memory().unwrap();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
        let measures = crate::definitions::measure::load_dir(&dir).unwrap();
        let read = |id: &str| {
            let m = measures.iter().find(|m| m.id == id).unwrap();
            tables_read(store.connection(), m).unwrap()
        };
        assert_eq!(read("returns"), ["returns"]);
        assert_eq!(read("beneficiaries_cumulative"), ["sessions"]);
        assert_eq!(read("people_reached"), ["campaigns"]);
        let mut spending = read("spending");
        spending.sort();
        assert_eq!(spending, ["exchange_rates", "finance"]);
    }
}
