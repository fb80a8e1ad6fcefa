//! reintegra publishes anonymised dashboards of a psychosocial reintegration programme
//! for Malian returned migrants. The server never sees a person: a nightly job turns
//! de-identified extracts into protected aggregate cells, and only those are published.
//!
//! The data flows through one module per step:
//!
//! 1. [`extract`] reads an inbox file (CSV in any common dialect, or XLSX), checks it
//!    against the contract and the PII gate, and yields normalised rows or problems
//!    (file, row, column, rule — never a value).
//! 2. [`store`] keeps the private microdata (a DuckDB file on the job side) and the
//!    record of every load; newer extracts replace a kind's rows month by month.
//! 3. [`measures`] reads `queries/*.sql` (one measure per file, with its dimensions,
//!    published breakdowns and sensitivity) and computes raw aggregate cells.
//! 4. [`disclosure`] protects the cells of person measures (cell key perturbation,
//!    threshold, explicit zeros) as `disclosure.toml` says.
//! 5. [`snapshot`] writes those cells into a new immutable DuckDB file and switches
//!    `published/CURRENT` to it atomically; readers only ever open published files.
//!
//! 6. [`web`] serves pages, charts, the API and exports (CSV, XLSX, SVG, PNG, the PDF
//!    briefing pack) from the published snapshot only.
//!
//! [`ingest`] runs steps 1–5 as the nightly job (lock, quarantine, publish);
//! [`fixtures`] generates realistic extracts for demos, tests and benchmarks;
//! [`domain`] and [`reference`] hold the parsed types and the reference data.

pub mod access;
pub mod check;
pub mod disclosure;
pub mod domain;
pub mod extract;
pub mod fixtures;
pub mod ingest;
pub mod measures;
pub mod reference;
pub mod snapshot;
pub mod store;
pub mod web;
