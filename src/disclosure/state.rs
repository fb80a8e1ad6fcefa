//! Held cells: a published figure changes only when at least T (the threshold)
//! contributors entered or left its cell since the value it shows was published.
//!
//! Noise is a fixed function of the people in a cell, so without this anyone keeping
//! consecutive snapshots would see exactly the cells a single late record falls in —
//! her region, sex and age band, country of departure. The job keeps, on the private
//! side (keys, never references):
//! - `sdc_cells`: for every cell, the value it shows and its count and member-key sum
//!   when it was published;
//! - `sdc_members` and `sdc_rows_<measure>`: every member's versions — when a member
//!   (a person, a unit counted, a person with their value) appeared, changed or left,
//!   with the rows it had then.
//!
//! A cell whose count or member-key sum differs from what it was published with is
//! compared with its members then: only members with a version after that
//! publication can have entered or left it, so the comparison costs what changed, not
//! what exists. When at least T did, the cell is published afresh; otherwise it keeps
//! its value ("held"). Which cells are held is never published.
//!
//! State is versioned by generation: every snapshot records the generation it was
//! published with (`sdc_generation`), rows are written under the next generation before
//! the snapshot is switched, and a run starts by discarding rows of generations later
//! than the one `CURRENT` names — so a crash at any moment leaves state and snapshot
//! agreeing. A new policy version, or new dimensions for a measure, starts afresh.

use duckdb::Connection;

use crate::definitions::Measure;

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

fn rows_table(m: &Measure) -> String {
    format!("sdc_rows_{}", m.id)
}

/// Creates the state tables if needed, drops what a run that never published left, and
/// starts afresh when the policy changed. `current`: the generation `CURRENT` names.
pub fn prepare(conn: &Connection, current: i64, policy_version: &str) -> duckdb::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS sdc_cells (measure VARCHAR, cell UBIGINT, gen BIGINT,
             n BIGINT, msum HUGEINT, value DOUBLE, suppressed BOOLEAN);
         CREATE TABLE IF NOT EXISTS sdc_members (measure VARCHAR, mkey UBIGINT, gen BIGINT,
             fp UBIGINT, removed BOOLEAN);
         CREATE TABLE IF NOT EXISTS sdc_meta (key VARCHAR PRIMARY KEY, value VARCHAR);",
    )?;
    let rows_tables: Vec<String> = {
        let mut stmt = conn.prepare(
            "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'sdc_rows_%' AND NOT temporary",
        )?;
        stmt.query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?
    };
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
        conn.execute_batch(
            "DELETE FROM sdc_cells; DELETE FROM sdc_members; DELETE FROM sdc_meta;",
        )?;
        for t in &rows_tables {
            conn.execute_batch(&format!("DROP TABLE {t}"))?;
        }
        conn.execute(
            "INSERT INTO sdc_meta VALUES ('policy_version', ?)",
            [policy_version],
        )?;
        return Ok(());
    }
    conn.execute_batch(&format!(
        "DELETE FROM sdc_cells WHERE gen > {current};
         DELETE FROM sdc_members WHERE gen > {current};"
    ))?;
    for t in &rows_tables {
        conn.execute_batch(&format!("DELETE FROM {t} WHERE gen > {current}"))?;
    }
    Ok(())
}

/// Makes sure the rows table of a measure has its current dimensions; a measure whose
/// dimensions changed starts afresh.
fn prepare_measure(conn: &Connection, m: &Measure) -> duckdb::Result<()> {
    let signature = m.dimensions.join(",");
    let key = format!("dims_{}", m.id);
    let recorded: Option<String> = conn
        .query_row("SELECT value FROM sdc_meta WHERE key = ?", [&key], |r| {
            r.get(0)
        })
        .ok();
    if recorded.as_deref() != Some(signature.as_str()) {
        conn.execute("DELETE FROM sdc_cells WHERE measure = ?", [&m.id])?;
        conn.execute("DELETE FROM sdc_members WHERE measure = ?", [&m.id])?;
        conn.execute_batch(&format!("DROP TABLE IF EXISTS {}", rows_table(m)))?;
        conn.execute(
            "INSERT OR REPLACE INTO sdc_meta VALUES (?, ?)",
            [&key, &signature],
        )?;
    }
    let cols: String = m
        .dimensions
        .iter()
        .map(|d| format!(", {d} VARCHAR"))
        .collect();
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {} (mkey UBIGINT, gen BIGINT{cols})",
        rows_table(m)
    ))
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
    prepare_measure(conn, m)?;
    let id = &m.id;
    let rows = rows_table(m);
    let dims_list = m.dimensions.join(", ");
    let cast_dims: String = m
        .dimensions
        .iter()
        .map(|d| format!(", CAST({d} AS VARCHAR) AS {d}"))
        .collect();
    // 1. Members: what each is now, against its last version; new versions for those
    //    that appeared, changed or left.
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE now_rows AS SELECT DISTINCT mkey{cast_dims} FROM {keyed};
         CREATE OR REPLACE TEMP TABLE now_fp AS
         SELECT mkey, CAST(sum(CAST(hash({dims_list}) AS HUGEINT)) % 18446744073709551616 AS UBIGINT) AS fp
         FROM now_rows GROUP BY mkey;
         CREATE OR REPLACE TEMP TABLE last_fp AS
         SELECT mkey, fp, removed FROM (
             SELECT *, row_number() OVER (PARTITION BY mkey ORDER BY gen DESC) AS rn
             FROM sdc_members WHERE measure = '{id}' AND gen <= {current}) WHERE rn = 1;
         CREATE OR REPLACE TEMP TABLE moved AS
         SELECT c.mkey, c.fp, false AS removed FROM now_fp c LEFT JOIN last_fp p ON c.mkey = p.mkey
          WHERE p.mkey IS NULL OR p.removed OR p.fp != c.fp
         UNION ALL
         SELECT p.mkey, 0, true FROM last_fp p ANTI JOIN now_fp c ON c.mkey = p.mkey WHERE NOT p.removed;
         INSERT INTO sdc_members SELECT '{id}', mkey, {next}, fp, removed FROM moved;
         INSERT INTO {rows} SELECT r.mkey, {next}, {dims_list} FROM now_rows r SEMI JOIN moved x ON x.mkey = r.mkey;"
    ))?;
    // 2. Cells: the state each was last published with, and those whose figures differ.
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE prev AS
         SELECT cell, gen, n, msum, value, suppressed FROM (
             SELECT *, row_number() OVER (PARTITION BY cell ORDER BY gen DESC) AS rn
             FROM sdc_cells WHERE measure = '{id}' AND gen <= {current}) WHERE rn = 1;
         CREATE OR REPLACE TEMP TABLE changed AS
         SELECT f.cell, p.gen AS since FROM {fresh} f JOIN prev p ON f.cell = p.cell
         WHERE f.n IS DISTINCT FROM p.n OR f.msum IS DISTINCT FROM p.msum;
         CREATE OR REPLACE TEMP TABLE diff (cell UBIGINT, d BIGINT);"
    ))?;
    // 3. How many entered or left each changed cell since its publication: only members
    //    with a version after it can have.
    let sinces: Vec<i64> = {
        let mut stmt = conn.prepare("SELECT DISTINCT since FROM changed ORDER BY 1")?;
        stmt.query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?
    };
    for since in sinces {
        conn.execute_batch(&format!(
            "CREATE OR REPLACE TEMP TABLE moved_since AS
             SELECT mkey FROM sdc_members WHERE measure = '{id}' GROUP BY mkey HAVING max(gen) > {since};
             CREATE OR REPLACE TEMP TABLE then_version AS
             SELECT s.mkey, max(s.gen) AS v FROM sdc_members s SEMI JOIN moved_since x ON x.mkey = s.mkey
             WHERE s.measure = '{id}' AND s.gen <= {since} GROUP BY s.mkey;
             CREATE OR REPLACE TEMP TABLE then_rows AS
             SELECT r.* EXCLUDE (gen) FROM {rows} r JOIN then_version t ON r.mkey = t.mkey AND r.gen = t.v;
             CREATE OR REPLACE TEMP TABLE these_rows AS
             SELECT r.* FROM now_rows r SEMI JOIN moved_since x ON x.mkey = r.mkey;
             CREATE OR REPLACE TEMP TABLE these_cells AS SELECT cell FROM changed WHERE since = {since};"
        ))?;
        let pairs = |source: &str| -> String {
            m.breakdowns
                .iter()
                .map(|b| {
                    let on: String = b.iter().map(|d| format!(" AND g.{d} = r.{d}")).collect();
                    format!(
                        "SELECT DISTINCT g.cell, r.mkey FROM {source} r
                         JOIN {grid} g ON g.breakdown = '{bid}'{on}
                         SEMI JOIN these_cells x ON x.cell = g.cell",
                        bid = Measure::breakdown_id(b)
                    )
                })
                .collect::<Vec<_>>()
                .join(" UNION ALL ")
        };
        conn.execute_batch(&format!(
            "INSERT INTO diff
             WITH was AS ({was}), now AS ({now})
             SELECT coalesce(now.cell, was.cell), count(*)
             FROM now FULL OUTER JOIN was ON now.cell = was.cell AND now.mkey = was.mkey
             WHERE now.mkey IS NULL OR was.mkey IS NULL
             GROUP BY 1;",
            was = pairs("then_rows"),
            now = pairs("these_rows"),
        ))?;
    }
    // 4. Decide: afresh for new cells and for changed ones that at least T people
    //    entered or left; the value published before for the others.
    let dims: String = m.dimensions.iter().map(|d| format!("f.{d}, ")).collect();
    let afresh =
        format!("(p.cell IS NULL OR (c.cell IS NOT NULL AND coalesce(d.d, 0) >= {threshold}))");
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE decided AS
         SELECT f.cell, f.breakdown, {dims}
                CASE WHEN {afresh} THEN f.value ELSE p.value END AS value,
                CASE WHEN {afresh} THEN f.suppressed ELSE p.suppressed END AS suppressed,
                f.n, f.msum, {afresh} AS afresh, p.cell IS NULL AS is_new,
                c.cell IS NOT NULL AND NOT {afresh} AS held
         FROM {fresh} f
         LEFT JOIN prev p ON f.cell = p.cell
         LEFT JOIN changed c ON f.cell = c.cell
         LEFT JOIN diff d ON f.cell = d.cell;
         CREATE OR REPLACE TEMP TABLE {out} AS
         SELECT f.breakdown, {dims} f.value, f.suppressed FROM decided f;
         INSERT INTO sdc_cells
         SELECT '{id}', cell, {next}, n, msum, value, suppressed FROM decided WHERE afresh;"
    ))?;
    let settled = conn.query_row(
        "SELECT count(*) FILTER (WHERE is_new), count(*) FILTER (WHERE afresh AND NOT is_new),
                count(*) FILTER (WHERE held)
         FROM decided",
        [],
        |r| {
            Ok(Settled {
                new: r.get::<_, i64>(0)? as u64,
                refreshed: r.get::<_, i64>(1)? as u64,
                held: r.get::<_, i64>(2)? as u64,
            })
        },
    )?;
    conn.execute_batch(
        "DROP TABLE IF EXISTS now_rows; DROP TABLE IF EXISTS now_fp; DROP TABLE IF EXISTS last_fp;
         DROP TABLE IF EXISTS moved; DROP TABLE IF EXISTS prev; DROP TABLE IF EXISTS changed;
         DROP TABLE IF EXISTS diff; DROP TABLE IF EXISTS decided; DROP TABLE IF EXISTS moved_since;
         DROP TABLE IF EXISTS then_version; DROP TABLE IF EXISTS then_rows;
         DROP TABLE IF EXISTS these_rows; DROP TABLE IF EXISTS these_cells;",
    )?;
    Ok(settled)
}

/// Drops state no kept snapshot can need: versions of a cell or a member superseded
/// by a later one that is itself no later than `horizon` (the generation of the oldest
/// kept snapshot).
pub fn prune(conn: &Connection, horizon: i64) -> duckdb::Result<()> {
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE keep_from AS
         SELECT measure, cell, max(gen) AS g FROM sdc_cells WHERE gen <= {horizon} GROUP BY ALL;
         DELETE FROM sdc_cells USING keep_from
          WHERE sdc_cells.measure = keep_from.measure AND sdc_cells.cell = keep_from.cell
            AND sdc_cells.gen < keep_from.g;
         CREATE OR REPLACE TEMP TABLE member_from AS
         SELECT measure, mkey, max(gen) AS g FROM sdc_members WHERE gen <= {horizon} GROUP BY ALL;
         DELETE FROM sdc_members USING member_from
          WHERE sdc_members.measure = member_from.measure AND sdc_members.mkey = member_from.mkey
            AND sdc_members.gen < member_from.g;
         DROP TABLE keep_from;"
    ))?;
    let measures: Vec<String> = {
        let mut stmt = conn.prepare("SELECT DISTINCT measure FROM member_from")?;
        stmt.query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?
    };
    for id in measures {
        let exists: i64 = conn.query_row(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary",
            [format!("sdc_rows_{id}")],
            |r| r.get(0),
        )?;
        if exists == 0 {
            continue;
        }
        conn.execute_batch(&format!(
            "DELETE FROM sdc_rows_{id} USING member_from
              WHERE member_from.measure = '{id}' AND sdc_rows_{id}.mkey = member_from.mkey
                AND sdc_rows_{id}.gen < member_from.g;"
        ))?;
    }
    conn.execute_batch("DROP TABLE member_from")
}
