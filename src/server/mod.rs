//! server: the dashboard server — pages, charts, exports, the API, health and metrics.
//!
//! It reads only published snapshots (`DATA/published/`), read-only, and never opens
//! the private store: no handler can leak a record, because no record is in what it
//! reads. Every figure it shows is a published cell; filters select cells.
//!
//! Map (a request flows down it):
//!
//! - `app`: `App`, the table of routes with the access rule of each, the layers every
//!   request passes;
//! - `auth/`: who is asking (signed sessions, bearer tokens), the `guard` applying the
//!   route's rule on what will be served, the sign-in limiter, client addresses;
//! - `request`: language, snapshot, dashboard and filters of a page request;
//! - `handlers/`: one file per route;
//! - `kept`: renderings kept per snapshot, keyed by everything they depend on;
//! - `responses`: ETags, caching headers, attachments; `error`: problems as responses;
//! - `state`: the settings, the definitions, the snapshot served (swapped when a
//!   new one is published) and the notes (read again when their files change);
//!   `metrics`: the Prometheus figures.

pub mod app;
pub mod auth;
pub mod error;
pub mod handlers;
pub mod kept;
pub mod metrics;
pub mod request;
pub mod responses;
pub mod state;

pub use app::{App, BuildError, routes, shutdown_signal};
pub use state::{Settings, Shared, StartError};
