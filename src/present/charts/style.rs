//! The look shared by every chart: colours, type sizes, and text measurement with the
//! embedded DejaVu Sans (never a system font), so label space is reserved from the
//! real glyph widths of the font the reader sees.

use std::sync::OnceLock;

use plotters::style::{FontDesc, FontFamily, FontStyle, register_font};

/// Written into the SVG. DejaVu Sans is the font we measure with; exports (PNG, PDF)
/// load the same bytes, browsers without it fall back to Verdana, which is wider than
/// DejaVu by a few per cent only, and every label keeps a margin for that.
pub const FONT_FAMILY: &str = "DejaVu Sans, Verdana, sans-serif";

/// Category and value labels.
pub const LABEL_SIZE: f64 = 13.0;
/// Axis ticks, unit captions, suppressed markers.
pub const SMALL_SIZE: f64 = 12.0;

pub const BACKGROUND: &str = "#ffffff";
/// Body text: 15.9:1 on white.
pub const TEXT: &str = "#222222";
/// Secondary text (ticks, captions): 7.5:1 on white, still legible in a photocopy.
pub const MUTED: &str = "#555555";
pub const GRID: &str = "#e2e2e2";
pub const AXIS: &str = "#888888";
/// Target lines: dark, so they survive greyscale printing next to coloured bars.
pub const REFERENCE: &str = "#333333";
/// Hatching of suppressed stubs.
pub const HATCH: &str = "#6b6b6b";

/// Single-series charts: a dark teal blue, 6.0:1 on white.
pub const ACCENT: &str = "#176b87";

/// Okabe–Ito colours, ordered so that neighbours differ in lightness as well as hue
/// (relative luminance 0.15, 0.42, 0.29, 0.26, 0.41, 0.22, 0.00): the first two, the
/// usual pair, read as dark and light grey when printed in black and white. The
/// yellow is left out: it is invisible on white paper.
const PALETTE: [&str; 7] = [
    "#0072b2", // blue
    "#e69f00", // orange
    "#cc79a7", // reddish purple
    "#009e73", // bluish green
    "#56b4e9", // sky blue
    "#d55e00", // vermillion
    "#000000", // black
];

/// The colour of series `index` among `count` series.
pub fn series_colour(index: usize, count: usize) -> &'static str {
    if count <= 1 {
        ACCENT
    } else {
        PALETTE[index % PALETTE.len()]
    }
}

/// Dash pattern of line series, so several lines stay apart in greyscale.
pub fn series_dash(index: usize, count: usize) -> Option<&'static str> {
    if count <= 1 {
        return None;
    }
    match index % 3 {
        0 => None,
        1 => Some("7 4"),
        _ => Some("2 3"),
    }
}

// --- text measurement ------------------------------------------------------------

/// The name under which the embedded font is registered with plotters.
const MEASURE_FAMILY: &str = "reintegra-dejavu-sans";
/// plotters rounds layout boxes to whole pixels: measure large, then scale down.
const MEASURE_SIZE: f64 = 1000.0;
/// plotters (ab_glyph) scales a font so that ascent − descent equals the requested
/// size, whereas SVG `font-size` is the em. DejaVu Sans: hhea ascent 1901, descent
/// −483, 2048 units per em. Checked against resvg's own layout in the tests.
const EM_PER_PLOTTERS_SIZE: f64 = (1901.0 + 483.0) / 2048.0;

fn font_registered() -> bool {
    *FONT_REGISTERED.get_or_init(|| {
        register_font(MEASURE_FAMILY, FontStyle::Normal, dejavu::sans::regular()).is_ok()
            && register_font(MEASURE_FAMILY, FontStyle::Bold, dejavu::sans::bold()).is_ok()
    })
}
static FONT_REGISTERED: OnceLock<bool> = OnceLock::new();

/// Advance width in px of `text` set in DejaVu Sans at `size` px.
pub fn text_width(text: &str, size: f64, bold: bool) -> f64 {
    if text.is_empty() {
        return 0.0;
    }
    if font_registered() {
        let style = if bold {
            FontStyle::Bold
        } else {
            FontStyle::Normal
        };
        let font = FontDesc::new(FontFamily::Name(MEASURE_FAMILY), MEASURE_SIZE, style);
        if let Ok((w, _)) = font.box_size(text) {
            return f64::from(w) * EM_PER_PLOTTERS_SIZE * size / MEASURE_SIZE;
        }
    }
    // Unreachable with the embedded font; a generous estimate keeps labels unclipped.
    text.chars().count() as f64 * size * if bold { 0.7 } else { 0.62 }
}

/// Splits `text` into lines no wider than `max_width` at `size`, breaking at spaces,
/// and inside a word only when the word alone is wider than the line.
pub fn wrap(text: &str, max_width: f64, size: f64, bold: bool) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let candidate = if current.is_empty() {
            word.to_string()
        } else {
            format!("{current} {word}")
        };
        if text_width(&candidate, size, bold) <= max_width {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        if text_width(word, size, bold) <= max_width {
            current = word.to_string();
            continue;
        }
        // A single word wider than the line: break it between characters.
        for c in word.chars() {
            current.push(c);
            if text_width(&current, size, bold) > max_width && current.chars().count() > 1 {
                current.pop();
                lines.push(std::mem::take(&mut current));
                current.push(c);
            }
        }
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// Widest of several texts.
pub fn widest<'a>(texts: impl IntoIterator<Item = &'a str>, size: f64, bold: bool) -> f64 {
    texts
        .into_iter()
        .map(|t| text_width(t, size, bold))
        .fold(0.0, f64::max)
}

/// Baseline that centres digits and capitals vertically on `centre_y`
/// (half the cap height of DejaVu Sans, 0.73 em).
pub fn centred_baseline(centre_y: f64, size: f64) -> f64 {
    centre_y + 0.36 * size
}

/// Baseline of a line of text whose top (ascenders) is at `top_y`.
pub fn top_baseline(top_y: f64, size: f64) -> f64 {
    top_y + 0.93 * size
}
