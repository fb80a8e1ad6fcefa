//! The grid of every breakdown: every combination of the values its dimensions take in
//! the reference data — regions, cercles and the register's sites, the countries of
//! departure, the code sets of `labels.toml`, and the months the measure declares —
//! never the values seen in the data. A combination nobody has is a cell like any
//! other: a count of 0, published as "<T" like every small count. So a rare country or
//! (cercle, site) pair shows nothing that a common one does not.
//!
//! Nested dimensions (a cercle inside its region, a site inside its cercle, a month
//! inside its quarter and year) appear only in the combinations the reference holds.

use duckdb::{Connection, params};

use crate::definitions::Measure;
use crate::domain::Month;
use crate::measures;
use crate::reference::Register;

/// Dimensions that nest in another.
const NESTED: &[(&str, &str)] = &[
    ("cercle", "region"),
    ("site", "cercle"),
    ("site", "region"),
    ("month", "quarter"),
    ("month", "year"),
    ("quarter", "year"),
];

const GEO: &[&str] = &["region", "cercle", "site"];
const PERIOD: &[&str] = &["month", "quarter", "year"];

/// Loads the reference lists into the connection (once per run): places, sites,
/// countries of departure and every code set.
pub fn install(conn: &Connection, register: &Register) -> duckdb::Result<()> {
    conn.execute_batch(
        "CREATE OR REPLACE TEMP TABLE ref_region (region VARCHAR);
         CREATE OR REPLACE TEMP TABLE ref_cercle (region VARCHAR, cercle VARCHAR);
         CREATE OR REPLACE TEMP TABLE ref_site (region VARCHAR, cercle VARCHAR, site VARCHAR);
         CREATE OR REPLACE TEMP TABLE ref_values (dim VARCHAR, value VARCHAR);",
    )?;
    let places = crate::reference::places();
    let mut app = conn.appender("ref_region")?;
    for r in &places.regions {
        app.append_row(params![r.pcode])?;
    }
    app.flush()?;
    drop(app);
    let mut app = conn.appender("ref_cercle")?;
    for c in &places.cercles {
        app.append_row(params![c.region, c.pcode])?;
    }
    app.flush()?;
    drop(app);
    let mut app = conn.appender("ref_site")?;
    for s in &register.sites {
        app.append_row(params![s.region, s.cercle, s.code])?;
    }
    app.flush()?;
    drop(app);
    let mut app = conn.appender("ref_values")?;
    for c in &register.departure {
        app.append_row(params!["country_from", c])?;
    }
    for (set, codes) in crate::reference::labels() {
        for code in codes.keys() {
            app.append_row(params![set, code])?;
        }
    }
    app.flush()
}

/// The months a measure's grid spans: from its declared first month to its declared
/// last one, or else to the last month covered by the extracts it reads (`covered`).
pub fn months(m: &Measure, covered: Option<Month>) -> Vec<Month> {
    let Some(range) = m.months else {
        return Vec::new();
    };
    let Some(to) = range.to.or(covered) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut month = range.from;
    while (month.year, month.month) <= (to.year, to.month) && out.len() < 1200 {
        out.push(month);
        month = month.next();
    }
    out
}

/// The temporary table of a measure's periods: `ref_period_<id>(month, quarter, year)`.
fn periods_table(m: &Measure) -> String {
    format!("ref_period_{}", m.id)
}

/// The temporary table of a measure's grid: `grid_<id>`.
pub fn grid_table(m: &Measure) -> String {
    format!("grid_{}", m.id)
}

/// Builds `grid_<id>`: every cell of every breakdown's grid, with its id (a digest of
/// the measure, the breakdown and the values) and its raw figures — `n` 0, the sums 0
/// and `present` false where nobody contributes.
pub fn build(conn: &Connection, m: &Measure, months: &[Month]) -> duckdb::Result<()> {
    let periods = periods_table(m);
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE {periods} (month VARCHAR, quarter VARCHAR, year VARCHAR)"
    ))?;
    let mut app = conn.appender(&periods)?;
    for month in months {
        let q = (month.month - 1) / 3 + 1;
        app.append_row(params![
            format!("{:04}-{:02}", month.year, month.month),
            format!("{:04}-Q{q}", month.year),
            format!("{:04}", month.year)
        ])?;
    }
    app.flush()?;
    drop(app);
    conn.execute_batch(&grid_sql(m))
}

/// The rows of one family of nested dimensions, from its reference table.
fn family_source(m: &Measure, family: &[&str]) -> String {
    let cols = family.join(", ");
    if family.iter().all(|d| GEO.contains(d)) {
        let table = if family.contains(&"site") {
            "ref_site"
        } else if family.contains(&"cercle") {
            "ref_cercle"
        } else {
            "ref_region"
        };
        return format!("(SELECT DISTINCT {cols} FROM {table})");
    }
    if family.iter().all(|d| PERIOD.contains(d)) {
        return format!("(SELECT DISTINCT {cols} FROM {})", periods_table(m));
    }
    match family {
        ["through_month"] => format!(
            "(SELECT DISTINCT month AS through_month FROM {})",
            periods_table(m)
        ),
        [d] => format!("(SELECT value AS {d} FROM ref_values WHERE dim = '{d}')"),
        _ => unreachable!("only places and periods nest"),
    }
}

fn grid_sql(m: &Measure) -> String {
    let raw = measures::raw_table(m);
    let mut parts = Vec::new();
    for b in &m.breakdowns {
        let id = Measure::breakdown_id(b);
        // Group the breakdown's dimensions into nested families; each family's
        // combinations come from its reference table, families are crossed.
        let mut families: Vec<Vec<&str>> = Vec::new();
        for d in b {
            let joined: Vec<usize> = families
                .iter()
                .enumerate()
                .filter(|(_, f)| {
                    f.iter().any(|e| {
                        NESTED
                            .iter()
                            .any(|(c, p)| (c == d && p == e) || (c == e && p == d))
                    })
                })
                .map(|(i, _)| i)
                .collect();
            let mut family = vec![d.as_str()];
            for i in joined.into_iter().rev() {
                family.extend(families.remove(i));
            }
            families.push(family);
        }
        let from: Vec<String> = families.iter().map(|f| family_source(m, f)).collect();
        let columns: Vec<String> = m
            .dimensions
            .iter()
            .map(|d| {
                if b.contains(d) {
                    format!("CAST({d} AS VARCHAR) AS {d}")
                } else {
                    format!("CAST(NULL AS VARCHAR) AS {d}")
                }
            })
            .collect();
        let select = format!("SELECT '{id}' AS breakdown, {}", columns.join(", "));
        parts.push(if from.is_empty() {
            select
        } else {
            format!("{select} FROM {}", from.join(" CROSS JOIN "))
        });
    }
    let join: Vec<String> = std::iter::once("r.breakdown = c.breakdown".to_string())
        .chain(
            m.dimensions
                .iter()
                .map(|d| format!("r.{d} IS NOT DISTINCT FROM c.{d}")),
        )
        .collect();
    let dims: String = m.dimensions.iter().map(|d| format!("c.{d}, ")).collect();
    let key: String = m
        .dimensions
        .iter()
        .map(|d| format!(" || chr(31) || coalesce(c.{d}, '')"))
        .collect();
    format!(
        "CREATE OR REPLACE TEMP TABLE {grid} AS
         WITH c AS ({cells})
         SELECT CAST(md5_number('{id}' || chr(31) || c.breakdown{key}) % 18446744073709551616 AS UBIGINT) AS cell,
                c.breakdown, {dims} r.value, coalesce(r.n, 0) AS n, coalesce(r.ksum, 0) AS ksum,
                coalesce(r.msum, 0) AS msum, r.vmax, r.breakdown IS NOT NULL AS present
         FROM c LEFT JOIN {raw} r ON {join}",
        grid = grid_table(m),
        id = m.id,
        cells = parts.join(" UNION ALL "),
        join = join.join(" AND "),
    )
}

/// How many raw cells fall outside the grid (months outside the declared span): they
/// are not published, and the run says so.
pub fn outside(conn: &Connection, m: &Measure) -> duckdb::Result<i64> {
    let on: Vec<String> = std::iter::once("r.breakdown = g.breakdown".to_string())
        .chain(
            m.dimensions
                .iter()
                .map(|d| format!("r.{d} IS NOT DISTINCT FROM g.{d}")),
        )
        .collect();
    conn.query_row(
        &format!(
            "SELECT count(*) FROM {raw} r ANTI JOIN {grid} g ON {on}",
            raw = measures::raw_table(m),
            grid = grid_table(m),
            on = on.join(" AND ")
        ),
        [],
        |r| r.get(0),
    )
}
