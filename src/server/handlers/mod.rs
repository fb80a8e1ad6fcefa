//! One file per route (the table is `app::routes`). A handler reads the request,
//! asks `present` and `render` for the answer — through the snapshot's cache when the
//! answer can be kept — and returns it or an `AppError`. Access was decided before a
//! handler runs (`auth::guard`); a handler serves what the guard resolved.

pub mod audit;
pub mod briefing;
pub mod dashboard;
pub mod deliveries;
pub mod disclosure;
pub mod healthz;
pub mod iati;
pub mod index;
pub mod login;
pub mod logout;
pub mod measure;
pub mod measures;
pub mod metrics;
pub mod not_found;
pub mod open;
pub mod panel;
pub mod report;
pub mod stylesheet;
