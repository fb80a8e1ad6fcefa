//! disclosure: turning a measure's raw cells into the cells that may be published.
//!
//! For a person measure (one that counts people, or records of people):
//! 1. every contributor gets a record key (keyed hash of its reference, see `keys`);
//! 2. every cell of every declared breakdown gets its count of distinct contributors
//!    and its cell key, the sum of their record keys modulo 2^32 — computed in DuckDB
//!    with the counts, so the same contributors always give the same key;
//! 3. the perturbation table (`ptable`) maps (count, cell key) to a noise in ±D;
//! 4. perturbed counts below the threshold are published as suppressed, with no number.
//!
//! Every cell of the breakdown's grid is published, empty ones included: the grid is
//! every combination of the values each dimension takes in the measure's data (nested
//! dimensions — region, cercle, site; year, quarter, month — only in combinations that
//! occur). An empty cell has count 0, stays 0, and is suppressed like any count below
//! the threshold: "<10" never tells "nobody" from "a few".
//!
//! Totals are cells of their own and perturbed as such, never re-summed. Non-person
//! measures pass unperturbed, with empty cells published as 0.
//!
//! This module must never let a raw count, a record key or a cell key into a table
//! that is published: only `protected_<id>` tables leave it.

pub mod keys;
pub mod policy;
pub mod ptable;

use duckdb::{Connection, params};

use crate::measures::{self, Measure, Sensitivity, Statistic};
use keys::Secret;
pub use policy::Policy;
use ptable::PTable;

const KEY_SPACE: &str = "4294967296";

/// Dimensions that nest in another: they appear together only in combinations seen in
/// the data (a cercle inside its region, a site inside its cercle, a month inside its
/// quarter and year).
const NESTED: &[(&str, &str)] = &[
    ("cercle", "region"),
    ("site", "cercle"),
    ("site", "region"),
    ("month", "quarter"),
    ("month", "year"),
    ("quarter", "year"),
];

pub struct Disclosure {
    pub policy: Policy,
    pub table: PTable,
    secret: Secret,
}

impl Disclosure {
    pub fn new(policy: Policy, secret: Secret) -> Result<Self, ptable::PTableError> {
        let table = PTable::new(policy.perturbation)?;
        Ok(Disclosure {
            policy,
            table,
            secret,
        })
    }

    /// The table a measure's publishable cells are written to.
    pub fn protected_table(m: &Measure) -> String {
        format!("protected_{}", m.id)
    }

    /// Loads the perturbation table into the connection (once per run).
    pub fn install(&self, conn: &Connection) -> duckdb::Result<()> {
        conn.execute_batch(
            "CREATE OR REPLACE TEMP TABLE ptable (n BIGINT, v BIGINT, lo DOUBLE, hi DOUBLE);
             CREATE OR REPLACE TEMP TABLE record_keys (ref VARCHAR, rkey UBIGINT);",
        )?;
        let mut app = conn.appender("ptable")?;
        for n in 0..=self.table.cap() as u64 {
            for (v, lo, hi) in self.table.intervals(n) {
                app.append_row(params![n as i64, v as i64, lo, hi])?;
            }
        }
        app.flush()
    }

    /// Computes a measure's publishable cells into `protected_table(m)`.
    /// `install` must have run on this connection.
    pub fn protect(&self, conn: &Connection, m: &Measure) -> Result<(), DisclosureError> {
        let located = |source| DisclosureError::Measure {
            id: m.id.clone(),
            source,
        };
        let mut step = std::time::Instant::now();
        let mut lap = |name: &str| {
            tracing::debug!(measure = %m.id, step = name, seconds = step.elapsed().as_secs_f64(), "disclosure step");
            step = std::time::Instant::now();
        };
        measures::materialise_units(conn, m).map_err(DisclosureError::Definition)?;
        lap("units");
        let units = measures::units_table(m);
        let person = m.sensitivity == Sensitivity::Person;
        let source = if person {
            self.key_units(conn, m, &units).map_err(located)?
        } else {
            units.clone()
        };
        lap("keys");
        measures::compute_raw_cells(conn, m, &source, person).map_err(located)?;
        lap("raw cells");
        conn.execute_batch(&grid_sql(m, &units)).map_err(located)?;
        lap("grid");
        conn.execute_batch(&self.protected_sql(m))
            .map_err(located)?;
        lap("perturbation");
        conn.execute_batch(&format!(
            "DROP TABLE IF EXISTS keyed_{id}; DROP TABLE IF EXISTS grid_{id};
             DROP TABLE IF EXISTS {raw}; DROP TABLE IF EXISTS {units}",
            id = m.id,
            raw = measures::raw_table(m)
        ))
        .map_err(located)?;
        Ok(())
    }

    /// Gives every unit row its contributor's record key: `keyed_<id>`.
    fn key_units(&self, conn: &Connection, m: &Measure, units: &str) -> duckdb::Result<String> {
        let contributor = m
            .statistic
            .contributor()
            .expect("person measures have contributors");
        // Keys computed for an earlier measure of the run are reused (the persons of
        // sessions feed three measures).
        let t = std::time::Instant::now();
        let refs: Vec<String> = {
            let mut stmt = conn.prepare(&format!(
                "SELECT DISTINCT u.{contributor} FROM {units} u
                 ANTI JOIN record_keys k ON u.{contributor} = k.ref"
            ))?;
            stmt.query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<_, _>>()?
        };
        let fetched = t.elapsed().as_secs_f64();
        let keys: Vec<u64> = refs.iter().map(|r| self.secret.record_key(r)).collect();
        let hashed = t.elapsed().as_secs_f64();
        let mut app = conn.appender("record_keys")?;
        for (r, k) in refs.iter().zip(keys) {
            app.append_row(params![r, k])?;
        }
        app.flush()?;
        drop(app);
        let appended = t.elapsed().as_secs_f64();
        let keyed = format!("keyed_{}", m.id);
        conn.execute_batch(&format!(
            "CREATE OR REPLACE TEMP TABLE {keyed} AS
             SELECT u.*, k.rkey FROM {units} u JOIN record_keys k ON u.{contributor} = k.ref"
        ))?;
        tracing::debug!(measure = %m.id, new_keys = refs.len(), fetched, hashed, appended, joined = t.elapsed().as_secs_f64(), "record keys");
        Ok(keyed)
    }

    fn protected_sql(&self, m: &Measure) -> String {
        let table = Self::protected_table(m);
        let dims: String = m.dimensions.iter().map(|d| format!("g.{d}, ")).collect();
        let t = self.policy.threshold;
        if m.sensitivity == Sensitivity::Aggregate {
            return format!(
                "CREATE OR REPLACE TEMP TABLE {table} AS
                 SELECT g.breakdown, {dims}
                        CASE WHEN g.present THEN g.value ELSE 0 END AS value, false AS suppressed
                 FROM grid_{id} g",
                id = m.id
            );
        }
        let published = match m.statistic {
            Statistic::Mean => "round(g.value, 1)",
            _ => "CAST(g.n + p.v AS DOUBLE)",
        };
        format!(
            "CREATE OR REPLACE TEMP TABLE {table} AS
             SELECT g.breakdown, {dims}
                    CASE WHEN g.n + p.v < {t} THEN NULL ELSE {published} END AS value,
                    g.n + p.v < {t} AS suppressed
             FROM grid_{id} g
             JOIN ptable p
               ON p.n = least(g.n, {cap})
              AND CAST(g.ksum % {KEY_SPACE} AS DOUBLE) / {KEY_SPACE} >= p.lo
              AND CAST(g.ksum % {KEY_SPACE} AS DOUBLE) / {KEY_SPACE} < p.hi",
            id = m.id,
            cap = self.table.cap(),
        )
    }
}

/// SQL building `grid_<id>`: every cell of every breakdown's grid, with its raw figures
/// (`n` 0 and `ksum` 0 where nobody contributes; `present` false there).
fn grid_sql(m: &Measure, units: &str) -> String {
    let raw = measures::raw_table(m);
    let mut parts = Vec::new();
    for b in &m.breakdowns {
        let id = Measure::breakdown_id(b);
        // Group the breakdown's dimensions into nested families; each family's
        // combinations come from the data, families are crossed with each other.
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
        let from: Vec<String> = families
            .iter()
            .map(|f| {
                let cols = f.join(", ");
                let not_null: Vec<String> = f.iter().map(|d| format!("{d} IS NOT NULL")).collect();
                format!(
                    "(SELECT DISTINCT {cols} FROM {units} WHERE {})",
                    not_null.join(" AND ")
                )
            })
            .collect();
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
    format!(
        "CREATE OR REPLACE TEMP TABLE grid_{id} AS
         WITH c AS ({cells})
         SELECT c.breakdown, {dims} r.value, coalesce(r.n, 0) AS n, coalesce(r.ksum, 0) AS ksum,
                r.breakdown IS NOT NULL AS present
         FROM c LEFT JOIN {raw} r ON {join}",
        id = m.id,
        cells = parts.join(" UNION ALL "),
        join = join.join(" AND "),
    )
}

#[derive(Debug, thiserror::Error)]
pub enum DisclosureError {
    #[error(transparent)]
    Definition(#[from] measures::DefinitionError),
    #[error("measure {id}: {source}")]
    Measure { id: String, source: duckdb::Error },
}
