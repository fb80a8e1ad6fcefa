//! HTML pages (maud). Pages need no JavaScript; charts are inline SVG with their table
//! of values behind a `<details>`, and every page carries the disclosure note of the
//! snapshot's policy.
//!
//! - `layout`: the frame of every page (header, navigation, footer), and frames kept
//!   per role and filled per viewer;
//! - `budget`: the panels of budget dashboards;
//! - `index`, `dashboard`, `admin`, `deliveries`, `login`, `error`, `open`: one kind of
//!   page each.

pub mod admin;
pub mod budget;
pub mod dashboard;
pub mod deliveries;
pub mod error;
pub mod index;
pub mod layout;
pub mod login;
pub mod open;

use crate::access::Viewer;
use crate::definitions::{Dashboard, Programme};
use crate::present::i18n::Locale;
use crate::snapshot::Snapshot;

/// What the frame of a page needs to know.
pub struct Page<'a> {
    pub snapshot: &'a Snapshot,
    /// The dashboards this viewer may open.
    pub dashboards: Vec<&'a Dashboard>,
    pub programme: &'a Programme,
    pub viewer: &'a Viewer,
    pub locale: Locale,
    /// The path of this page, for the language switch.
    pub path: &'a str,
    /// The query of this page without `lang`.
    pub filters_query: &'a str,
}

impl Page<'_> {
    fn t<'s>(&self, fr: &'s str, en: &'s str) -> &'s str {
        self.locale.pick(fr, en)
    }
}

/// The stylesheet, served at `STYLESHEET`.
pub const CSS: &str = include_str!("app.css");

/// The address of the stylesheet, changed with every release so that browsers may keep
/// it for a week.
pub const STYLESHEET: &str = concat!("/static/app.css?v=", env!("CARGO_PKG_VERSION"));

/// `?lang=en` for English pages, nothing for French ones (the default).
fn lang_query(locale: Locale) -> &'static str {
    if locale == Locale::En { "?lang=en" } else { "" }
}
