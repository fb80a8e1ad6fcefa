//! Server-side charts: turns the protected cells of one panel into a standalone,
//! accessible SVG (horizontal bars, a line over periods, or a population pyramid).
//!
//! It draws only what it is given: it never computes, re-aggregates or estimates a
//! figure, and never prints a number for a suppressed cell (only the caller's
//! `suppressed_label`, e.g. "<10", next to a hatched stub or an open marker). It never
//! loads system fonts (labels are measured with the embedded DejaVu Sans), writes no
//! script and no external reference, and never panics on any data: nothing to draw
//! gives a readable "no data" chart.
//!
//! The output is deterministic (same chart, same bytes), so it can be cached under the
//! snapshot's ETag and compared in tests.

mod axis;
mod bars;
mod line;
mod pyramid;
mod spark;
pub(crate) mod style;
pub(crate) mod svg;

pub use spark::sparkline;
/// Text measurement with the embedded DejaVu Sans, for other drawings (the map).
pub use style::text_width;

use crate::present::i18n::{Locale, format_number};

/// What to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChartKind {
    /// Horizontal bars, one row per category, in the order given.
    Bars,
    /// A line over ordered periods, y from zero.
    Line,
    /// Two series back to back (first to the left) over ordered categories, the first
    /// category at the bottom (give age bands youngest first).
    Pyramid,
}

/// One cell of a series.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Category code (e.g. `ML01`, `2019-03`, `18-24`); series are matched on it.
    pub key: String,
    /// The category as readers see it (translated, formatted by the caller).
    pub label: String,
    /// `None`: the cell is suppressed by disclosure control and shown as
    /// `Chart::suppressed_label`. A non-finite number is treated as absent.
    pub value: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<Point>,
}

/// A reference value, such as the 5,000 beneficiaries target.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub value: f64,
    /// Shown next to the line as given, e.g. "Cible : 5 000".
    pub label: String,
}

/// A numbered mark on the period axis of a line chart, pointing to a note the page
/// lists under the chart with the same number. Ignored by bars and pyramids.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    pub number: usize,
    /// The categories (period codes) it covers: one for a day or a month, the months
    /// of a quarter on a monthly axis (drawn as a shaded span). Keys the chart does not
    /// draw are ignored; a mark with none is not drawn.
    pub keys: Vec<String>,
    /// Its SVG `<title>` (the note's number, date and text).
    pub title: String,
}

/// A chart to render.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Prefix of the ids inside the SVG (`<id>-title`, `<id>-desc`, `<id>-hatch`), which
    /// must be unique within a page, e.g. `c-<panel id>`. Characters other than ASCII
    /// letters, digits, `-` and `_` are dropped. Empty: derived from a hash of the
    /// whole chart, so different charts never share ids (the same chart twice yields
    /// the same, equivalent, ones).
    pub id: String,
    pub kind: ChartKind,
    /// Goes into the SVG `<title>` (not drawn: the page shows it as a heading).
    pub title: String,
    /// Goes into the SVG `<desc>`.
    pub description: String,
    /// Categories are the union of the series' keys in order of first appearance.
    pub series: Vec<Series>,
    /// A reference line: vertical in bars, horizontal in lines, ignored in pyramids.
    pub target: Option<Target>,
    /// Caption of the values, e.g. "personnes".
    pub unit: String,
    /// Decimals of value labels: 0 for counts, 1 for mean scores.
    pub decimals: usize,
    /// Shown in place of a suppressed value, e.g. "<10".
    pub suppressed_label: String,
    pub locale: Locale,
    /// Width of the drawing in px (the viewBox); the SVG itself is `width="100%"` and
    /// scales down on small screens. The height follows from the content.
    pub width: u32,
    /// Notes marked on the period axis (line charts only).
    pub marks: Vec<Mark>,
}

/// A chart that cannot be drawn because its definition is wrong (not its data: empty
/// or suppressed data always renders).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChartError {
    WidthOutOfRange { width: u32 },
    PyramidNeedsTwoSeries { found: usize },
}

impl std::fmt::Display for ChartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChartError::WidthOutOfRange { width } => {
                write!(
                    f,
                    "chart width {width} px is out of range: use {MIN_WIDTH} to {MAX_WIDTH} px"
                )
            }
            ChartError::PyramidNeedsTwoSeries { found } => write!(
                f,
                "a pyramid chart needs exactly two series (left and right, e.g. women and men), \
                 found {found}: check the panel's dimensions in the dashboard definition"
            ),
        }
    }
}

impl std::error::Error for ChartError {}

pub const MIN_WIDTH: u32 = 240;
pub const MAX_WIDTH: u32 = 4000;

/// Renders `chart` as an `<svg>` element (no XML declaration), ready to inline in a
/// page or to save as a file.
pub fn render(chart: &Chart) -> Result<String, ChartError> {
    if !(MIN_WIDTH..=MAX_WIDTH).contains(&chart.width) {
        return Err(ChartError::WidthOutOfRange { width: chart.width });
    }
    if chart.kind == ChartKind::Pyramid && !chart.series.is_empty() && chart.series.len() != 2 {
        return Err(ChartError::PyramidNeedsTwoSeries {
            found: chart.series.len(),
        });
    }
    let data = Data::new(chart);
    if !data.has_anything() {
        return Ok(no_data(chart));
    }
    Ok(match chart.kind {
        ChartKind::Bars => bars::render(chart, &data),
        ChartKind::Line => line::render(chart, &data),
        ChartKind::Pyramid => pyramid::render(chart, &data),
    })
}

// --- what the chart modules share ------------------------------------------------

/// A cell as drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cell {
    Value(f64),
    Suppressed,
    /// No point for this category in this series (or a non-finite value).
    Missing,
}

/// The chart's cells on a common list of categories: `cells[series][category]`.
struct Data {
    /// Category codes (`Point::key`), in order.
    keys: Vec<String>,
    /// Category labels, in the same order.
    categories: Vec<String>,
    cells: Vec<Vec<Cell>>,
}

impl Data {
    fn new(chart: &Chart) -> Data {
        let mut keys: Vec<&str> = Vec::new();
        let mut categories: Vec<String> = Vec::new();
        for series in &chart.series {
            for point in &series.points {
                if !keys.contains(&point.key.as_str()) {
                    keys.push(&point.key);
                    categories.push(point.label.clone());
                }
            }
        }
        let cells = chart
            .series
            .iter()
            .map(|series| {
                keys.iter()
                    .map(|key| match series.points.iter().find(|p| p.key == *key) {
                        Some(Point { value: None, .. }) => Cell::Suppressed,
                        Some(Point { value: Some(v), .. }) if v.is_finite() => Cell::Value(*v),
                        _ => Cell::Missing,
                    })
                    .collect()
            })
            .collect();
        let keys = keys.into_iter().map(String::from).collect();
        Data {
            keys,
            categories,
            cells,
        }
    }

    fn has_anything(&self) -> bool {
        self.cells.iter().flatten().any(|c| *c != Cell::Missing)
    }

    fn values(&self) -> impl Iterator<Item = f64> + '_ {
        self.cells.iter().flatten().filter_map(|c| match c {
            Cell::Value(v) => Some(*v),
            _ => None,
        })
    }

    fn min_max(&self) -> (f64, f64) {
        self.values()
            .fold((0.0, 0.0), |(lo, hi), v| (lo.min(v), hi.max(v)))
    }
}

/// The text printed for a cell, if any.
fn cell_text(cell: Cell, chart: &Chart) -> Option<String> {
    match cell {
        Cell::Value(v) => Some(format_number(v, chart.decimals, chart.locale)),
        Cell::Suppressed => Some(chart.suppressed_label.clone()),
        Cell::Missing => None,
    }
}

/// The target, when it can be drawn.
fn target(chart: &Chart) -> Option<&Target> {
    chart.target.as_ref().filter(|t| t.value.is_finite())
}

/// The id prefix: the caller's, made safe for XML, else a hash of the content.
fn chart_id(chart: &Chart) -> String {
    let given: String = chart
        .id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    match given.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => given,
        Some(_) => format!("c-{given}"),
        None => content_id(chart),
    }
}

/// A stable id prefix for this chart's content (FNV-1a: the same across runs and
/// Rust versions, unlike `DefaultHasher`).
fn content_id(chart: &Chart) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes.iter().chain([0xff_u8].iter()) {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    feed(format!("{:?}", chart.kind).as_bytes());
    feed(chart.title.as_bytes());
    feed(chart.description.as_bytes());
    for series in &chart.series {
        feed(series.name.as_bytes());
        for p in &series.points {
            feed(p.key.as_bytes());
            feed(p.label.as_bytes());
            feed(&p.value.map_or([0xfe; 8], f64::to_le_bytes));
        }
    }
    if let Some(t) = &chart.target {
        feed(&t.value.to_le_bytes());
        feed(t.label.as_bytes());
    }
    feed(chart.unit.as_bytes());
    feed(chart.suppressed_label.as_bytes());
    feed(chart.locale.code().as_bytes());
    feed(&chart.width.to_le_bytes());
    feed(&chart.decimals.to_le_bytes());
    for m in &chart.marks {
        feed(&m.number.to_le_bytes());
        for k in &m.keys {
            feed(k.as_bytes());
        }
        feed(m.title.as_bytes());
    }
    format!("chart-{hash:016x}")
}

fn kind_class(kind: ChartKind) -> &'static str {
    match kind {
        ChartKind::Bars => "chart-bars",
        ChartKind::Line => "chart-line",
        ChartKind::Pyramid => "chart-pyramid",
    }
}

/// Outer margin of every chart.
const PAD: f64 = 6.0;

/// Nothing to draw: a quiet framed message of the chart's width.
fn no_data(chart: &Chart) -> String {
    let width = f64::from(chart.width);
    let height = 120.0;
    let mut canvas = svg::Canvas::new(chart_id(chart));
    canvas.rect(PAD, PAD, width - 2.0 * PAD, height - 2.0 * PAD, "#f4f4f4");
    let message = chart
        .locale
        .pick("Aucune donnée à afficher", "No data to show");
    canvas.text(
        svg::Label::new(
            width / 2.0,
            style::centred_baseline(height / 2.0, style::LABEL_SIZE),
            message,
            svg::Anchor::Middle,
        )
        .fill(style::MUTED),
    );
    canvas.finish(
        width,
        height,
        &format!("{} chart-empty", kind_class(chart.kind)),
        &chart.title,
        &chart.description,
    )
}

#[cfg(test)]
mod tests;
