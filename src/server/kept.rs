//! Renderings kept per snapshot, named by everything their bytes depend on.
//!
//! A `Kept` key is not a label for a rendering made elsewhere: `Kept::render` makes the
//! rendering from the key alone (with the snapshot and the definitions), so two
//! requests can share bytes only when nothing that shapes them differs. A dashboard's
//! content has no role in its key, and cannot see one; its frame, which names the
//! dashboards a role may open, has the role in its key. The notes, which change while
//! the server runs, are in the content's key itself (`NotesShown`, compared by their
//! version): a changed note makes a new key, never a stale page.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::access::{Role, Viewer};
use crate::definitions::{Dashboard, Notes, Programme};
use crate::present::filters::{Filters, Options};
use crate::present::i18n::Locale;
use crate::render::exports::{self, ExportError, Format, briefing, open_data};
use crate::render::html::dashboard::{Content, dashboard_main};
use crate::render::html::{Page, layout};
use crate::snapshot::Snapshot;

/// The notes a rendering shows. Keys are equal, and hash alike, when the notes'
/// versions are: the same notes (`Notes::version` digests every one).
#[derive(Debug, Clone)]
pub struct NotesShown(pub Arc<Notes>);

impl PartialEq for NotesShown {
    fn eq(&self, other: &Self) -> bool {
        self.0.version() == other.0.version()
    }
}

impl Eq for NotesShown {}

impl Hash for NotesShown {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.version().hash(state);
    }
}

/// A rendering kept per snapshot. Dashboards and panels are indexes into the
/// definitions the server loaded (they do not change while it runs).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Kept {
    /// A dashboard's content under its filters, with the notes loaded when it was
    /// asked for: the same for every viewer.
    Content {
        dashboard: usize,
        locale: Locale,
        filters: Filters,
        notes: NotesShown,
    },
    /// A dashboard page's frame for a role: the navigation lists the dashboards the
    /// role opens; whether a name and a sign-out form show (filled in per viewer).
    Frame {
        dashboard: usize,
        locale: Locale,
        filters: Filters,
        role: Role,
        signed_in: bool,
        session: bool,
    },
    /// A panel as a file.
    Panel {
        dashboard: usize,
        panel: usize,
        format: Format,
        locale: Locale,
        filters: Filters,
    },
    /// A briefing pack: it ends with the PONAM table of a dashboard the role opens.
    Briefing {
        dashboard: usize,
        locale: Locale,
        filters: Filters,
        role: Role,
    },
    /// The IATI activity file: the same for every reader who may have it (it depends
    /// on the snapshot and the definitions only; both languages are in it).
    Iati,
    /// A file of the public open data (`/open/`): a table's CSV or `datapackage.json`,
    /// under the licence the server publishes it with.
    Open {
        file: String,
        licence: open_data::Licence,
    },
    /// The quarterly report over the dashboards a role opens, with the notes.
    Report {
        quarter: crate::present::filters::Period,
        locale: Locale,
        role: Role,
        notes: NotesShown,
    },
}

/// What renderings are made from.
pub struct Sources<'a> {
    pub dashboards: &'a [Dashboard],
    pub programme: &'a Programme,
    /// What the IATI activity file is written from (none: no `_iati.toml`).
    pub iati: Option<&'a crate::definitions::iati::Definitions>,
    pub snapshot: &'a Snapshot,
    /// Filter values each dashboard offers, by dashboard id.
    pub options: &'a HashMap<String, Arc<Options>>,
}

impl Kept {
    /// Whether rendering takes long enough (images, PDF) to leave the async workers.
    pub fn is_heavy(&self) -> bool {
        matches!(
            self,
            Kept::Panel { .. } | Kept::Briefing { .. } | Kept::Report { .. }
        )
    }

    /// Makes the rendering this key names.
    pub fn render(&self, from: &Sources<'_>) -> Result<Vec<u8>, ExportError> {
        let snapshot = from.snapshot;
        match *self {
            Kept::Iati => {
                let d = from.iati.ok_or(ExportError::NotPublished)?;
                exports::iati::render(&exports::iati::Sources {
                    snapshot,
                    activity: &d.activity,
                    budget: &d.budget,
                    framework: &d.framework,
                })
            }
            Kept::Open {
                ref file,
                ref licence,
            } => open_data::file(
                snapshot,
                from.dashboards,
                from.programme,
                open_data::Audience::Public,
                licence,
                file,
            )?
            .map(|f| f.bytes)
            .ok_or(ExportError::NotPublished),
            Kept::Report {
                quarter,
                locale,
                role,
                ref notes,
            } => {
                let open: Vec<&Dashboard> =
                    from.dashboards.iter().filter(|d| d.allows(role)).collect();
                crate::render::exports::report::quarterly(
                    snapshot,
                    &open,
                    from.programme,
                    &notes.0,
                    quarter,
                    locale,
                )
            }
            Kept::Content {
                dashboard,
                locale,
                filters,
                ref notes,
            } => {
                let d = &from.dashboards[dashboard];
                let options = from.options.get(&d.id).cloned().unwrap_or_default();
                let content = Content {
                    snapshot,
                    notes: &notes.0,
                    locale,
                };
                Ok(dashboard_main(&content, d, &filters, &options)
                    .into_string()
                    .into_bytes())
            }
            Kept::Frame {
                dashboard,
                locale,
                filters,
                role,
                signed_in,
                session,
            } => {
                let d = &from.dashboards[dashboard];
                // The frame marks where each viewer's name and token go; it holds none.
                let viewer = Viewer {
                    user: signed_in.then(String::new),
                    role,
                    csrf: session.then(String::new),
                    ..Viewer::anonymous()
                };
                let path = format!("/d/{}", d.id);
                let query = filters.query(Locale::Fr);
                let page = Page {
                    snapshot,
                    dashboards: from.dashboards.iter().filter(|o| o.allows(role)).collect(),
                    programme: from.programme,
                    viewer: &viewer,
                    locale,
                    path: &path,
                    filters_query: query.trim_start_matches('?'),
                };
                let title = locale.pick(&d.title.fr, &d.title.en);
                Ok(layout::frame(&page, title, Some(&d.id)).into_bytes())
            }
            Kept::Panel {
                dashboard,
                panel,
                format,
                locale,
                filters,
            } => {
                let d = &from.dashboards[dashboard];
                exports::render_panel(snapshot, d, &d.panels[panel], &filters, locale, format)
            }
            Kept::Briefing {
                dashboard,
                locale,
                filters,
                role,
            } => {
                let open: Vec<&Dashboard> =
                    from.dashboards.iter().filter(|o| o.allows(role)).collect();
                briefing::render(
                    snapshot,
                    &open,
                    &from.dashboards[dashboard],
                    &filters,
                    locale,
                )
            }
        }
    }
}
