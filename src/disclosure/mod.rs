//! disclosure: turning a measure's raw cells into the cells that may be published.
//!
//! For a person measure (one that counts people, records of people, or averages over
//! people):
//! 1. every person gets a record key (keyed hash of their reference, see `keys`);
//! 2. every cell of every declared breakdown's grid (`grid`: built from reference lists,
//!    never from the data) gets its count and its cell key — the sum, modulo 2^32, of
//!    the record keys of the distinct **people** behind it, whatever the measure
//!    counts: two counts over the same people and the same value get the same noise,
//!    so nothing is gained by averaging measures;
//! 3. the perturbation table (`ptable`) maps (count, cell key) to a noise in ±D;
//!    perturbed counts below the threshold are published as suppressed, with no number;
//!    a mean is published only where its true and perturbed counts reach the threshold,
//!    from a sum perturbed as a magnitude (`policy::Magnitude`);
//! 4. a cell keeps the value it was published with until at least T of its members
//!    changed (`state`): no late record shows through a comparison of snapshots.
//!
//! Totals are cells of their own and perturbed as such, never re-summed. Non-person
//! measures pass unperturbed, with empty cells published as 0.
//!
//! This module must never let a raw count, a record key or a cell key into a table
//! that is published: only `protected_<id>` tables leave it.

pub mod grid;
pub mod keys;
pub mod policy;
pub mod ptable;
pub mod report;
pub mod state;

use duckdb::{Connection, params};

use crate::definitions::{Measure, Sensitivity, Statistic};
use crate::domain::Month;
use crate::measures;
use crate::reference::Register;
use keys::Secret;
pub use policy::Policy;
use ptable::PTable;

const KEY_SPACE: &str = "4294967296";

pub struct Disclosure {
    pub policy: Policy,
    pub table: PTable,
    secret: Secret,
}

/// What one run publishes against.
#[derive(Debug, Clone, Copy)]
pub struct Run<'a> {
    pub register: &'a Register,
    /// The last month covered by the extracts of each kind (store coverage).
    pub coverage: &'a [(crate::domain::Kind, chrono::NaiveDate, chrono::NaiveDate)],
    /// The state generation of the snapshot `CURRENT` names (0 before any).
    pub current: i64,
    /// The generation this run publishes (`current + 1`).
    pub next: i64,
}

/// What protecting one measure did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Protected {
    pub settled: state::Settled,
    /// Raw cells outside the measure's grid (e.g. months before its declared start).
    pub outside: i64,
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

    /// Loads the perturbation table and the reference lists into the connection (once
    /// per run).
    pub fn install(&self, conn: &Connection, register: &Register) -> duckdb::Result<()> {
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
        app.flush()?;
        drop(app);
        grid::install(conn, register)
    }

    /// Computes a measure's publishable cells into `protected_table(m)`, leaving its
    /// grid (`grid::grid_table`) for the run's report; `cleanup` drops both.
    /// `install` must have run on this connection, and `state::prepare` for person
    /// measures.
    pub fn protect(
        &self,
        conn: &Connection,
        m: &Measure,
        run: &Run<'_>,
    ) -> Result<Protected, DisclosureError> {
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
        let covered = covered_month(conn, m, run).map_err(located)?;
        let months = grid::months(m, covered);
        grid::build(conn, m, &months).map_err(located)?;
        let outside = grid::outside(conn, m).map_err(located)?;
        if outside > 0 {
            tracing::warn!(measure = %m.id, cells = outside, "figures fall outside the measure's grid (months outside its declared span) and are not published");
        }
        lap("grid");
        let out = Self::protected_table(m);
        let mut protected = Protected {
            outside,
            ..Protected::default()
        };
        if person {
            let fresh = format!("fresh_{}", m.id);
            conn.execute_batch(&self.fresh_sql(m, &fresh))
                .map_err(located)?;
            protected.settled = state::settle(
                conn,
                m,
                &fresh,
                &source,
                &grid::grid_table(m),
                run.current,
                run.next,
                self.policy.threshold,
                &out,
            )
            .map_err(located)?;
            conn.execute_batch(&format!("DROP TABLE IF EXISTS {fresh}"))
                .map_err(located)?;
        } else {
            let dims: String = m.dimensions.iter().map(|d| format!("g.{d}, ")).collect();
            conn.execute_batch(&format!(
                "CREATE OR REPLACE TEMP TABLE {out} AS
                 SELECT g.breakdown, {dims}
                        CASE WHEN g.present THEN g.value ELSE 0 END AS value, false AS suppressed
                 FROM {grid} g",
                grid = grid::grid_table(m)
            ))
            .map_err(located)?;
        }
        lap("perturbation");
        conn.execute_batch(&format!(
            "DROP TABLE IF EXISTS keyed_{id}; DROP TABLE IF EXISTS {raw}; DROP TABLE IF EXISTS {units}",
            id = m.id,
            raw = measures::raw_table(m)
        ))
        .map_err(located)?;
        Ok(protected)
    }

    /// Drops what `protect` left for the report.
    pub fn cleanup(conn: &Connection, m: &Measure) -> duckdb::Result<()> {
        conn.execute_batch(&format!(
            "DROP TABLE IF EXISTS {}; DROP TABLE IF EXISTS {};",
            grid::grid_table(m),
            Self::protected_table(m)
        ))
    }

    /// Gives every unit row its person's record key (`rkey`) and its member key
    /// (`mkey`: the person for counts of people, the unit for counts of units, the
    /// person and their value for a mean): `keyed_<id>`.
    fn key_units(&self, conn: &Connection, m: &Measure, units: &str) -> duckdb::Result<String> {
        let unit = (m.statistic == Statistic::Units).then_some("unit_ref");
        // Keys computed for an earlier measure of the run are reused (the people of
        // sessions feed four measures).
        let t = std::time::Instant::now();
        let mut refs: Vec<String> = Vec::new();
        for column in std::iter::once("person_ref").chain(unit) {
            let mut stmt = conn.prepare(&format!(
                "SELECT DISTINCT u.{column} FROM {units} u
                 ANTI JOIN record_keys k ON u.{column} = k.ref"
            ))?;
            let found: Vec<String> = stmt
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<_, _>>()?;
            refs.extend(found);
        }
        refs.sort_unstable();
        refs.dedup();
        let keys: Vec<u64> = refs.iter().map(|r| self.secret.record_key(r)).collect();
        let mut app = conn.appender("record_keys")?;
        for (r, k) in refs.iter().zip(keys) {
            app.append_row(params![r, k])?;
        }
        app.flush()?;
        drop(app);
        let keyed = format!("keyed_{}", m.id);
        let (member, join_unit) = match m.statistic {
            Statistic::Units => (
                "uk.rkey".to_string(),
                "JOIN record_keys uk ON u.unit_ref = uk.ref".to_string(),
            ),
            // A person's value is part of what they contribute to a mean: a corrected
            // score is a change of member.
            Statistic::Mean => (
                "xor(k.rkey, CAST(((CAST(round(u.value * 1000) AS HUGEINT) * 11400714819323198485) % 18446744073709551616) AS UBIGINT))".to_string(),
                String::new(),
            ),
            _ => ("k.rkey".to_string(), String::new()),
        };
        conn.execute_batch(&format!(
            "CREATE OR REPLACE TEMP TABLE {keyed} AS
             SELECT u.*, k.rkey, {member} AS mkey
             FROM {units} u JOIN record_keys k ON u.person_ref = k.ref {join_unit}"
        ))?;
        tracing::debug!(measure = %m.id, new_keys = refs.len(), seconds = t.elapsed().as_secs_f64(), "record keys");
        Ok(keyed)
    }

    /// SQL building `fresh_<id>`: every grid cell as it would be published now.
    fn fresh_sql(&self, m: &Measure, fresh: &str) -> String {
        let dims: String = m.dimensions.iter().map(|d| format!("g.{d}, ")).collect();
        let t = self.policy.threshold;
        let cap = self.table.cap();
        let key = format!("CAST(g.ksum % {KEY_SPACE} AS DOUBLE) / {KEY_SPACE}");
        // A second key of the same people for the magnitude noise (a bijection of the
        // first: Knuth's multiplicative hash).
        let key2 = format!(
            "CAST(((g.ksum % {KEY_SPACE}) * 2654435761) % {KEY_SPACE} AS DOUBLE) / {KEY_SPACE}"
        );
        let grid = grid::grid_table(m);
        if m.statistic == Statistic::Mean {
            let mag = self.policy.magnitude;
            let raw = format!(
                "round((g.value * g.n + {factor} * abs(g.vmax) * q.v) / (g.n + p.v), {dec})",
                factor = mag.factor,
                dec = mag.decimals
            );
            let clamped = match m.range {
                Some((lo, hi)) => format!("greatest({lo}, least({hi}, {raw}))"),
                None => raw,
            };
            let suppressed = format!("(g.n < {t} OR g.n + p.v < {t} OR g.value IS NULL)");
            return format!(
                "CREATE OR REPLACE TEMP TABLE {fresh} AS
                 SELECT g.cell, g.breakdown, {dims}
                        CASE WHEN {suppressed} THEN NULL ELSE {clamped} END AS value,
                        {suppressed} AS suppressed, g.n, g.msum
                 FROM {grid} g
                 JOIN ptable p ON p.n = least(g.n, {cap}) AND {key} >= p.lo AND {key} < p.hi
                 JOIN ptable q ON q.n = {cap} AND {key2} >= q.lo AND {key2} < q.hi"
            );
        }
        format!(
            "CREATE OR REPLACE TEMP TABLE {fresh} AS
             SELECT g.cell, g.breakdown, {dims}
                    CASE WHEN g.n + p.v < {t} THEN NULL ELSE CAST(g.n + p.v AS DOUBLE) END AS value,
                    g.n + p.v < {t} AS suppressed, g.n, g.msum
             FROM {grid} g
             JOIN ptable p ON p.n = least(g.n, {cap}) AND {key} >= p.lo AND {key} < p.hi"
        )
    }
}

/// The last month the extracts a measure reads cover (the grid's end when the measure
/// declares none).
fn covered_month(conn: &Connection, m: &Measure, run: &Run<'_>) -> duckdb::Result<Option<Month>> {
    let tables = measures::tables_read(conn, m)?;
    Ok(run
        .coverage
        .iter()
        .filter(|(kind, _, _)| tables.iter().any(|t| t == kind.name()))
        .map(|(_, _, last)| Month::of(*last))
        .max_by_key(|m| (m.year, m.month)))
}

#[derive(Debug, thiserror::Error)]
pub enum DisclosureError {
    #[error(transparent)]
    Definition(#[from] crate::definitions::DefinitionError),
    #[error("measure {id}: {source}")]
    Measure { id: String, source: duckdb::Error },
}
