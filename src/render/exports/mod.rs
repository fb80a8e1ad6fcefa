//! exports: every panel as a file — CSV, XLSX, SVG, PNG — and every dashboard as a
//! briefing pack (PDF), for programme leads preparing briefings.
//!
//! Exports read the figures the page shows (`present::panels`) under the same filters,
//! language and snapshot, and draw charts as the page does (`present::chart`). Every
//! file carries its stamp — the filters, the data-as-of date and the disclosure note —
//! and a suppressed figure stays "<10" in every format: never a number, never a blank.
//! Exports compute no figure of their own (only a share of a target, as the page shows
//! it).
//!
//! - `table`: CSV and XLSX of a panel's figures (formulas neutralised);
//! - `image`: a chart framed as a standalone SVG, and PNG;
//! - `briefing`: the PDF briefing pack of a dashboard;
//! - `iati`: the project as an IATI 2.03 activity file (XML).
//! - `open_data`: HXL-tagged CSV tables and their Frictionless data package.

pub mod briefing;
pub mod iati;
pub mod image;
pub mod open_data;
pub mod report;
pub mod table;

use chrono::{DateTime, Utc};

use crate::definitions::{Dashboard, Panel, PanelKind};
use crate::present::chart;
use crate::present::charts::style;
use crate::present::filters::Filters;
use crate::present::i18n::{Locale, format_date};
use crate::present::panels::{self, Unavailable};
use crate::present::text::describe_filters;
use crate::snapshot::Snapshot;
use table::Table;

/// The file formats of a panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// UTF-8 with a BOM; `;` and a decimal comma for French Excel when `semicolon`.
    Csv {
        semicolon: bool,
    },
    Xlsx,
    Svg,
    Png,
}

impl Format {
    /// The format named by a file extension (`sep` is read separately).
    pub fn from_extension(ext: &str) -> Option<Format> {
        match ext {
            "csv" => Some(Format::Csv { semicolon: false }),
            "xlsx" => Some(Format::Xlsx),
            "svg" => Some(Format::Svg),
            "png" => Some(Format::Png),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv { .. } => "csv",
            Format::Xlsx => "xlsx",
            Format::Svg => "svg",
            Format::Png => "png",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv { .. } => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Svg => "image/svg+xml",
            Format::Png => "image/png",
        }
    }

    pub fn is_image(self) -> bool {
        matches!(self, Format::Svg | Format::Png)
    }
}

/// Whether a panel kind has an image export (headline figures and the PONAM table
/// are figures, not charts: CSV and XLSX only).
pub fn has_image(panel: &Panel) -> bool {
    match panel.kind {
        PanelKind::Budget => panel
            .show
            .is_some_and(|v| v != crate::definitions::dashboard::BudgetView::Summary),
        kind => chart::draws_chart(kind),
    }
}

/// What every export says about where its figures come from.
#[derive(Debug, Clone)]
pub struct Stamp {
    /// The dashboard's title.
    pub dashboard: String,
    /// The filters in words ("2018 · Kayes"), or that there are none.
    pub filters: String,
    /// The data-as-of date, formatted in the locale.
    pub data_as_of: Option<String>,
    pub snapshot: String,
    /// The snapshot's disclosure note in the locale.
    pub note: String,
    pub threshold: u32,
    pub locale: Locale,
    pub created: Option<DateTime<Utc>>,
}

impl Stamp {
    pub fn new(snapshot: &Snapshot, d: &Dashboard, filters: &Filters, locale: Locale) -> Stamp {
        let l = locale;
        Stamp {
            dashboard: l.pick(&d.title.fr, &d.title.en).to_string(),
            filters: if filters.is_empty() {
                l.pick(
                    "aucun (tout le programme, tout le Mali)",
                    "none (whole programme, all of Mali)",
                )
                .to_string()
            } else {
                describe_filters(filters, l)
            },
            data_as_of: snapshot.data_as_of().map(|d| format_date(d, l)),
            snapshot: snapshot.id.to_string(),
            note: snapshot.note(l.code()).to_string(),
            threshold: snapshot.threshold(),
            locale: l,
            created: snapshot.created_at(),
        }
    }

    /// The stamp as (label, text) lines.
    pub fn lines(&self) -> Vec<(String, String)> {
        let l = self.locale;
        vec![
            (
                l.pick("Tableau de bord", "Dashboard").to_string(),
                self.dashboard.clone(),
            ),
            (
                l.pick("Filtres", "Filters").to_string(),
                self.filters.clone(),
            ),
            (
                l.pick("Données au", "Data as of").to_string(),
                self.data_as_of.clone().unwrap_or_else(|| "–".into()),
            ),
            (
                l.pick("Protection des données", "Data protection")
                    .to_string(),
                self.note.clone(),
            ),
            (
                l.pick("Source", "Source").to_string(),
                match l {
                    Locale::Fr => format!(
                        "reintegra, version publiée {} (chiffres agrégés et protégés ; aucune donnée individuelle)",
                        self.snapshot
                    ),
                    Locale::En => format!(
                        "reintegra, published version {} (aggregated, protected figures; no individual record)",
                        self.snapshot
                    ),
                },
            ),
        ]
    }

    /// One line for the foot of an image or a page: dashboard, filters, date.
    pub fn summary(&self) -> String {
        let as_of = self.data_as_of.as_deref().unwrap_or("–");
        match self.locale {
            Locale::Fr => format!(
                "{} · Filtres : {} · Données au {as_of}",
                self.dashboard, self.filters
            ),
            Locale::En => format!(
                "{} · Filters: {} · Data as of {as_of}",
                self.dashboard, self.filters
            ),
        }
    }
}

/// Why an export could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the panel is not published for these filters")]
    NotPublished,
    #[error("writing CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("writing XLSX: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("reading the chart SVG: {0}")]
    Svg(#[from] resvg::usvg::Error),
    #[error("the chart SVG has no viewBox")]
    NoViewBox,
    #[error("drawing the chart: {0}")]
    Chart(#[from] crate::present::charts::ChartError),
    #[error("writing PNG: {0}")]
    Png(String),
    #[error("writing PDF: {0}")]
    Pdf(String),
    #[error("writing XML: {0}")]
    Xml(String),
    #[error("the rendering task failed: {0}")]
    Task(String),
}

/// Splits `text` into lines no wider than `width` (DejaVu Sans at `size`), breaking at
/// spaces — but never inside French guillemets nor before `:` `;` `!` `?` `»`, which
/// French sets after a space — and inside a word only when it is wider than a line.
pub fn wrap(text: &str, width: f64, size: f64, bold: bool) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut glue_next = false;
    for word in text.split([' ', '\n', '\t']).filter(|w| !w.is_empty()) {
        let glue_previous = matches!(word.chars().next(), Some('»' | ':' | ';' | '!' | '?'));
        match words.last_mut() {
            Some(last) if glue_previous || glue_next => {
                last.push(' ');
                last.push_str(word);
            }
            _ => words.push(word.to_string()),
        }
        glue_next = word.ends_with('«');
    }
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in words {
        let candidate = if current.is_empty() {
            word.clone()
        } else {
            format!("{current} {word}")
        };
        if style::text_width(&candidate, size, bold) <= width {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        if style::text_width(&word, size, bold) <= width {
            current = word;
        } else {
            // Wider than a line on its own: the charts' wrapping breaks it.
            let mut pieces = style::wrap(&word, width, size, bold);
            current = pieces.pop().unwrap_or_default();
            lines.extend(pieces);
        }
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// The query of an export link: the page's language (always, so that a link opened
/// elsewhere keeps it) and filters.
pub fn query(filters: &Filters, locale: Locale) -> String {
    let mut query = format!("?lang={}", locale.code());
    let rest = filters.query(Locale::Fr);
    if let Some(rest) = rest.strip_prefix('?') {
        query.push('&');
        query.push_str(rest);
    }
    query
}

/// A file name: `<dashboard>-<panel>[-filters].<ext>`, in safe characters only.
pub fn file_name(dashboard: &str, panel: &str, filters: &Filters, ext: &str) -> String {
    let mut name = format!("{dashboard}-{panel}");
    for (_, value) in filters.pairs() {
        name.push('-');
        for c in value.chars() {
            match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' => name.push(c),
                '+' => name.push_str("plus"),
                _ => name.push('_'),
            }
        }
    }
    format!("{name}.{ext}")
}

/// The figures of a panel as a table, or why there are none.
fn panel_table(
    snapshot: &Snapshot,
    d: &Dashboard,
    panel: &Panel,
    filters: &Filters,
    locale: Locale,
) -> Result<Table, ExportError> {
    if panel.kind == PanelKind::Ponam {
        return Ok(Table::of_ponam(snapshot, d, panel, locale));
    }
    if panel.kind == PanelKind::Results {
        return Ok(Table::of_results(snapshot, d, panel, filters, locale));
    }
    if panel.kind == PanelKind::Budget {
        return Table::of_budget(d, panel, snapshot, filters, locale)
            .ok_or(ExportError::NotPublished);
    }
    let figures =
        panels::figures(snapshot, panel, filters, locale).map_err(|_| ExportError::NotPublished)?;
    if figures.categories.is_empty() {
        return Err(ExportError::NotPublished);
    }
    Ok(Table::of_figures(snapshot, panel, &figures, locale))
}

/// The chart of a panel as the page draws it, framed with its title and stamp.
pub fn panel_image(
    snapshot: &Snapshot,
    d: &Dashboard,
    panel: &Panel,
    filters: &Filters,
    locale: Locale,
) -> Result<String, ExportError> {
    let l = locale;
    let chart = if panel.kind == PanelKind::Budget {
        budget_svg(snapshot, d, panel, filters, l).ok_or(ExportError::NotPublished)?
    } else {
        let figures = match panels::figures(snapshot, panel, filters, l) {
            Ok(f) if !f.categories.is_empty() => f,
            Ok(_) | Err(Unavailable::NotPublished | Unavailable::NoMeasure) => {
                return Err(ExportError::NotPublished);
            }
        };
        chart::panel_svg(snapshot, l, panel, &figures, &[])
    };
    let stamp = Stamp::new(snapshot, d, filters, l);
    let mut captions = Vec::new();
    if let Some(note) = &panel.note {
        captions.push(l.pick(&note.fr, &note.en).to_string());
    }
    captions.push(stamp.summary());
    captions.push(stamp.note.clone());
    captions.push(match l {
        Locale::Fr => format!("Source : reintegra, version publiée {}.", stamp.snapshot),
        Locale::En => format!("Source: reintegra, published version {}.", stamp.snapshot),
    });
    image::standalone(
        &chart,
        &image::Frame {
            title: l.pick(&panel.title.fr, &panel.title.en),
            description: l.pick(&panel.description.fr, &panel.description.en),
            captions: &captions,
        },
    )
}

/// The chart of a budget panel (none for the summary, or without a budget).
pub(crate) fn budget_svg(
    snapshot: &Snapshot,
    d: &Dashboard,
    panel: &Panel,
    filters: &Filters,
    locale: Locale,
) -> Option<String> {
    let (budget, view) = (d.budget.as_deref()?, panel.show?);
    let execution = crate::present::budget::Execution::of(snapshot, budget, filters, locale);
    let mut chart = execution.chart(
        view,
        locale.pick(&panel.title.fr, &panel.title.en),
        locale.pick(&panel.description.fr, &panel.description.en),
        locale,
    )?;
    chart.id = format!("c-{}", panel.id);
    crate::present::charts::render(&chart).ok()
}

/// Renders one panel export.
pub fn render_panel(
    snapshot: &Snapshot,
    d: &Dashboard,
    panel: &Panel,
    filters: &Filters,
    locale: Locale,
    format: Format,
) -> Result<Vec<u8>, ExportError> {
    let stamp = Stamp::new(snapshot, d, filters, locale);
    match format {
        Format::Csv { semicolon } => {
            let table = panel_table(snapshot, d, panel, filters, locale)?;
            Ok(table::csv(&table, &stamp, semicolon)?)
        }
        Format::Xlsx => {
            let table = panel_table(snapshot, d, panel, filters, locale)?;
            Ok(table::xlsx(&table, &stamp)?)
        }
        Format::Svg => Ok(panel_image(snapshot, d, panel, filters, locale)?.into_bytes()),
        Format::Png => image::png(&panel_image(snapshot, d, panel, filters, locale)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AgeBand;
    use crate::present::filters::{Period, Place};

    #[test]
    fn file_names_carry_the_filters_in_safe_characters() {
        let filters = Filters {
            period: Period::parse("2018-Q3"),
            place: Place::parse("ML01"),
            sex: None,
            age_band: Some(AgeBand::A60Plus),
            compare: None,
            currency: None,
        };
        assert_eq!(
            file_name("returns", "by-region", &filters, "csv"),
            "returns-by-region-2018-Q3-ML01-60plus.csv"
        );
        let in_francs = Filters {
            period: Period::parse("2019-Q3"),
            currency: Some(crate::domain::Currency::Xof),
            ..Filters::default()
        };
        assert_eq!(
            file_name("budget", "lines", &in_francs, "xlsx"),
            "budget-lines-2019-Q3-XOF.xlsx"
        );
        assert_eq!(
            file_name("overview", "briefing", &Filters::default(), "pdf"),
            "overview-briefing.pdf"
        );
    }

    #[test]
    fn wrapping_keeps_french_punctuation_with_its_word() {
        let note = "les effectifs inférieurs à 10 sont affichés « <10 ». Chaque total";
        for width in (60..400).step_by(7) {
            for line in wrap(note, width as f64, 11.0, false) {
                assert!(!line.starts_with('»') && !line.ends_with('«'), "{line:?}");
                assert!(!line.starts_with(". "), "{line:?}");
            }
        }
        assert_eq!(wrap("", 100.0, 11.0, false), vec![String::new()]);
        assert_eq!(wrap("a b", 1000.0, 11.0, false), vec!["a b".to_string()]);
    }

    #[test]
    fn export_links_always_carry_the_language() {
        let filters = Filters {
            period: Period::parse("2018"),
            ..Filters::default()
        };
        assert_eq!(query(&filters, Locale::Fr), "?lang=fr&period=2018");
        assert_eq!(query(&Filters::default(), Locale::En), "?lang=en");
    }
}
