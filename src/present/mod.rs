//! present: what the figures of a published snapshot look like to a reader, before any
//! format — no HTTP, no HTML.
//!
//! - `filters`: the state of a page (typed `Period`, `Place`, `Sex`, `AgeBand`) and
//!   which published cells it selects (`resolve`);
//! - `panels`: a panel's figures — categories × series, labelled, in order;
//! - `chart`: a panel as a drawing (`charts/` for bars, lines and pyramids, `map`);
//! - `results`: the results framework's indicators for a quarter — value, target,
//!   status, trend and disaggregations;
//! - `budget`: budget execution — the grant's plan against published spending, in
//!   the reader's currency, and costs per person from published counts;
//! - `notes`: the notes programme leads wrote, as chart marks and as a list;
//! - `labels`, `i18n`, `text`: names from reference data, French and English
//!   formatting, words around figures;
//! - `problem`: what can be wrong with a request, told in both languages.
//!
//! `render` turns these into pages and files; `server` answers requests with them.

pub mod budget;
pub mod chart;
pub mod charts;
pub mod filters;
pub mod i18n;
pub mod labels;
pub mod map;
pub mod notes;
pub mod panels;
pub mod problem;
pub mod results;
pub mod text;
