//! Held cells: a published figure changes only when at least T (the threshold)
//! contributors entered or left its cell since the value it shows was published.
//!
//! Noise is a fixed function of the people in a cell, so without this anyone keeping
//! consecutive snapshots would see exactly the cells a single late record falls in —
//! her region, sex and age band, country of departure. The job keeps, on the private
//! side, the value each cell shows and the members it was published from (keys, never
//! references: `sdc_cells`, `sdc_members`), and publishes a cell afresh only when the
//! symmetric difference between its members now and then reaches T. Otherwise the cell
//! keeps its value ("held"). Which cells are held is never published.
//!
//! State is versioned by generation: every snapshot records the generation it was
//! published with (`sdc_generation`), rows are written under the next generation before
//! the snapshot is switched, and a run starts by discarding rows of generations later
//! than the one `CURRENT` names — so a crash at any moment leaves state and snapshot
//! agreeing. A new policy version starts the state afresh.

use duckdb::Connection;

use crate::measures::Measure;

/// What happened to a measure's cells in one run (private: held counts point at late
/// records).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Settled {
    /// Cells published for the first time.
    pub new: u64,
    /// Cells whose members changed by at least T: published afresh.
    pub refreshed: u64,
    /// Cells whose members changed by fewer than T: keeping the value published before.
    pub held: u64,
}

/// Creates the state tables if needed, drops what a run that never published left, and
/// starts afresh when the policy changed. `current`: the generation `CURRENT` names.
pub fn prepare(conn: &Connection, current: i64, policy_version: &str) -> duckdb::Result<()> {
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS sdc_cells (measure VARCHAR, cell UHUGEINT, gen BIGINT,
             n BIGINT, msum HUGEINT, value DOUBLE, suppressed BOOLEAN);
         CREATE TABLE IF NOT EXISTS sdc_members (measure VARCHAR, cell UHUGEINT, gen BIGINT, mkey UBIGINT);
         CREATE TABLE IF NOT EXISTS sdc_meta (key VARCHAR PRIMARY KEY, value VARCHAR);
         DELETE FROM sdc_cells WHERE gen > {current};
         DELETE FROM sdc_members WHERE gen > {current};"
    ))?;
    let recorded: Option<String> = conn
        .query_row(
            "SELECT value FROM sdc_meta WHERE key = 'policy_version'",
            [],
            |r| r.get(0),
        )
        .ok();
    if recorded.as_deref() != Some(policy_version) {
        if recorded.is_some() {
            tracing::warn!("the disclosure policy changed: every cell is published afresh once");
        }
        conn.execute_batch("DELETE FROM sdc_cells; DELETE FROM sdc_members;")?;
        conn.execute(
            "INSERT OR REPLACE INTO sdc_meta VALUES ('policy_version', ?)",
            [policy_version],
        )?;
    }
    Ok(())
}

/// Decides, for a person measure, which cells are published afresh and which keep
/// their value. `fresh`: the cells as they would be published now
/// (`cell, breakdown, <dims>, value, suppressed, n, msum`); `keyed`: the unit rows with
/// their `mkey`; `grid`: the grid. Writes the cells to publish into `out`
/// (`breakdown, <dims>, value, suppressed`) and the new state under generation `next`.
#[allow(clippy::too_many_arguments)]
pub fn settle(
    conn: &Connection,
    m: &Measure,
    fresh: &str,
    keyed: &str,
    grid: &str,
    current: i64,
    next: i64,
    threshold: u32,
    out: &str,
) -> duckdb::Result<Settled> {
    let id = &m.id;
    let (prev, changed, needed, members, diff) = (
        format!("prev_{id}"),
        format!("changed_{id}"),
        format!("needed_{id}"),
        format!("members_{id}"),
        format!("diff_{id}"),
    );
    // The state each cell was last published with, and the cells whose members differ.
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE {prev} AS
         SELECT cell, gen, n, msum, value, suppressed FROM (
             SELECT *, row_number() OVER (PARTITION BY cell ORDER BY gen DESC) AS rn
             FROM sdc_cells WHERE measure = '{id}' AND gen <= {current}) WHERE rn = 1;
         CREATE OR REPLACE TEMP TABLE {changed} AS
         SELECT f.cell FROM {fresh} f JOIN {prev} p ON f.cell = p.cell
         WHERE f.n IS DISTINCT FROM p.n OR f.msum IS DISTINCT FROM p.msum;
         CREATE OR REPLACE TEMP TABLE {needed} AS
         SELECT cell FROM {changed}
         UNION ALL SELECT f.cell FROM {fresh} f ANTI JOIN {prev} p ON f.cell = p.cell;"
    ))?;
    // The members now of the cells that changed or are new.
    let parts: Vec<String> = m
        .breakdowns
        .iter()
        .map(|b| {
            let on: String = b
                .iter()
                .map(|d| format!(" AND g.{d} = CAST(u.{d} AS VARCHAR)"))
                .collect();
            format!(
                "SELECT DISTINCT g.cell, u.mkey FROM {keyed} u
                 JOIN {grid} g ON g.breakdown = '{bid}'{on}
                 SEMI JOIN {needed} x ON x.cell = g.cell",
                bid = Measure::breakdown_id(b)
            )
        })
        .collect();
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE {members} AS {};",
        parts.join(" UNION ALL ")
    ))?;
    // How many entered or left each changed cell since it was published.
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE {diff} AS
         WITH now AS (SELECT * FROM {members} SEMI JOIN {changed} c ON {members}.cell = c.cell),
              was AS (SELECT s.cell, s.mkey FROM sdc_members s
                      JOIN {prev} p ON s.cell = p.cell AND s.gen = p.gen
                      SEMI JOIN {changed} c ON s.cell = c.cell
                      WHERE s.measure = '{id}')
         SELECT coalesce(now.cell, was.cell) AS cell, count(*) AS d
         FROM now FULL OUTER JOIN was ON now.cell = was.cell AND now.mkey = was.mkey
         WHERE now.mkey IS NULL OR was.mkey IS NULL
         GROUP BY 1;"
    ))?;
    let dims: String = m.dimensions.iter().map(|d| format!("f.{d}, ")).collect();
    // Afresh: new cells, and changed ones that at least T people entered or left.
    let afresh = format!(
        "(p.cell IS NULL OR (c.cell IS NOT NULL AND coalesce(d.d, 0) >= {threshold}))"
    );
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE decided_{id} AS
         SELECT f.cell, f.breakdown, {dims}
                CASE WHEN {afresh} THEN f.value ELSE p.value END AS value,
                CASE WHEN {afresh} THEN f.suppressed ELSE p.suppressed END AS suppressed,
                f.n, f.msum, {afresh} AS afresh, p.cell IS NULL AS is_new,
                c.cell IS NOT NULL AND NOT {afresh} AS held
         FROM {fresh} f
         LEFT JOIN {prev} p ON f.cell = p.cell
         LEFT JOIN {changed} c ON f.cell = c.cell
         LEFT JOIN {diff} d ON f.cell = d.cell;
         CREATE OR REPLACE TEMP TABLE {out} AS
         SELECT f.breakdown, {dims} f.value, f.suppressed FROM decided_{id} f;
         INSERT INTO sdc_cells
         SELECT '{id}', cell, {next}, n, msum, value, suppressed FROM decided_{id} WHERE afresh;
         INSERT INTO sdc_members
         SELECT '{id}', m.cell, {next}, m.mkey FROM {members} m
         SEMI JOIN decided_{id} x ON x.cell = m.cell AND x.afresh;"
    ))?;
    let settled = conn.query_row(
        &format!(
            "SELECT count(*) FILTER (WHERE is_new), count(*) FILTER (WHERE afresh AND NOT is_new),
                    count(*) FILTER (WHERE held)
             FROM decided_{id}"
        ),
        [],
        |r| {
            Ok(Settled {
                new: r.get::<_, i64>(0)? as u64,
                refreshed: r.get::<_, i64>(1)? as u64,
                held: r.get::<_, i64>(2)? as u64,
            })
        },
    )?;
    conn.execute_batch(&format!(
        "DROP TABLE IF EXISTS {prev}; DROP TABLE IF EXISTS {changed}; DROP TABLE IF EXISTS {needed};
         DROP TABLE IF EXISTS {members}; DROP TABLE IF EXISTS {diff}; DROP TABLE IF EXISTS decided_{id};"
    ))?;
    Ok(settled)
}

/// Drops state rows no kept snapshot can need: rows superseded by a newer row of the
/// same cell, older than `horizon` (the generation of the oldest kept snapshot).
pub fn prune(conn: &Connection, horizon: i64) -> duckdb::Result<()> {
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE stale AS
         SELECT measure, cell, gen FROM (
             SELECT measure, cell, gen, max(gen) OVER (PARTITION BY measure, cell) AS latest
             FROM sdc_cells) WHERE gen < latest AND gen < {horizon};
         DELETE FROM sdc_members USING stale
          WHERE sdc_members.measure = stale.measure AND sdc_members.cell = stale.cell
            AND sdc_members.gen = stale.gen;
         DELETE FROM sdc_cells USING stale
          WHERE sdc_cells.measure = stale.measure AND sdc_cells.cell = stale.cell
            AND sdc_cells.gen = stale.gen;
         DROP TABLE stale;"
    ))
}
