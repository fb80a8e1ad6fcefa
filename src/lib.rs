//! reintegra publishes anonymised dashboards of a psychosocial reintegration programme
//! for Malian returned migrants. The server never sees a person: a nightly job turns
//! de-identified extracts into protected aggregate cells, and only those are published.
//!
//! The job side — one module per step of the nightly run:
//!
//! 1. [`extract`] reads an inbox file (CSV in any common dialect, or XLSX), checks it
//!    against the contract and the PII gate, and yields normalised rows or problems
//!    (file, row, column, rule — never a value).
//! 2. [`store`] keeps the private microdata (a DuckDB file on the job side) and the
//!    record of every load; newer extracts replace a kind's rows month by month.
//! 3. [`measures`] runs `queries/*.sql` and computes raw aggregate cells for exactly
//!    the breakdowns each measure declares.
//! 4. [`disclosure`] protects the cells of person measures (cell key perturbation,
//!    threshold, cells held across snapshots) as `disclosure.toml` says.
//! 5. [`snapshot`] writes those cells into a new immutable DuckDB file and switches
//!    `published/CURRENT` to it atomically; readers only ever open published files.
//!
//! [`ingest`] runs steps 1–5 as the nightly job (lock, quarantine, publish); [`check`]
//! runs their checks on files without loading them; [`fixtures`] generates realistic
//! extracts for demos, tests and benchmarks; [`demo`] does both for `reintegra demo`;
//! [`ops`] backs a data folder up into one archive, restores it, and checks its modes,
//! owners, secret, snapshot and backup age (`doctor`).
//!
//! The serving side — layers that import only downwards
//! (`server → render → present → snapshot / definitions / domain / reference`, checked
//! by `tests/architecture.rs`):
//!
//! - [`present`]: a snapshot's figures as a reader sees them — typed filters, panels,
//!   charts, maps, labels, French and English — with no HTTP and no HTML;
//! - [`render`]: pages (HTML), exports (CSV, XLSX, SVG, PNG, the PDF briefing pack,
//!   the quarterly report, the IATI activity file) and the API's bodies;
//! - [`server`]: routes, access, caching, responses.
//!
//! Shared by both sides: [`definitions`] (measure headers, dashboards, the programme's
//! text, the notes programme leads write about figures), [`access`] (accounts, roles,
//! the audit log), [`domain`] and [`reference`] (parsed types and reference data),
//! [`pii`] (what identifying data looks like), [`locale`] (French and English: the
//! job's reports to data officers and the server's pages speak both), [`status`] (what
//! the job tells the servers besides snapshots: how its last run ended, and every
//! delivery it received — `DATA/status/`, `DATA/deliveries/`).

pub mod access;
pub mod check;
pub mod definitions;
pub mod demo;
pub mod disclosure;
pub mod domain;
pub mod extract;
pub mod fixtures;
pub mod ingest;
pub mod locale;
pub mod measures;
pub mod ops;
pub mod pii;
pub mod present;
pub mod reference;
pub mod render;
pub mod server;
pub mod snapshot;
pub mod status;
pub mod store;
