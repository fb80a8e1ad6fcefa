//! measures: running the queries of `queries/*.sql` and the raw cells computed from them.
//!
//! A measure file is a SQL query over the private store with a header of `--` comment
//! lines holding TOML (parsed by `definitions::measure`). The query returns one row per
//! unit (a person's return, an attendance, an event…) with a column per dimension; this
//! module aggregates it into cells for exactly the declared breakdowns. Adding a measure
//! is adding a file.

mod compute;

use crate::definitions::{Measure, Sensitivity};
pub use compute::{
    PERSON_TABLES, check_query, compute_raw_cells, materialise_units, raw_table, tables_read,
    units_table,
};

/// The columns a measure's query must return. A person measure always returns the
/// person behind each row: noise is keyed on people, never on events.
pub fn required_columns(m: &Measure) -> Vec<String> {
    let mut cols: Vec<String> = m.dimensions.clone();
    cols.extend(m.statistic.needs().iter().map(|s| s.to_string()));
    if m.sensitivity == Sensitivity::Person && !cols.iter().any(|c| c == "person_ref") {
        cols.push("person_ref".into());
    }
    cols
}

/// A digest of the definitions and the policy, recorded in each snapshot so that a
/// change of either is published even on a night without new data.
pub fn fingerprint(measures: &[Measure], policy: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(policy.as_bytes());
    h.update([0]);
    for m in measures {
        h.update(
            m.file
                .file_name()
                .map(|n| n.as_encoded_bytes())
                .unwrap_or_default(),
        );
        h.update([0]);
        h.update(std::fs::read(&m.file).unwrap_or_default());
        h.update([0]);
    }
    hex::encode(h.finalize())
}
