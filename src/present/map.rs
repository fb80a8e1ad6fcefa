//! A choropleth map of Mali's regions, drawn as inline SVG from geometry the project
//! authored itself (`reference/mali_regions.json`, simplified and approximate).
//!
//! Shades come from a single-hue ramp whose lightness changes with the value, so the
//! map reads in greyscale and for colour-blind readers; suppressed regions are hatched
//! and labelled "<10", never shaded as if they had a number.

use std::fmt::Write as _;
use std::sync::LazyLock;

use serde::Deserialize;

use super::charts::text_width;
use super::i18n::{Locale, format_number};

const GEOMETRY: &str = include_str!("../reference/mali_regions.json");

#[derive(Debug, Deserialize)]
struct Geometry {
    regions: Vec<RegionShape>,
}

#[derive(Debug, Deserialize)]
struct RegionShape {
    pcode: String,
    label_point: [f64; 2],
    rings: Vec<Vec<[f64; 2]>>,
}

static SHAPES: LazyLock<Vec<RegionShape>> = LazyLock::new(|| {
    serde_json::from_str::<Geometry>(GEOMETRY)
        .map(|g| g.regions)
        .unwrap_or_default()
});

/// Light to dark; each step darker in greyscale too.
const RAMP: [&str; 5] = ["#d6e6f2", "#9ecae1", "#5d9fcc", "#2b6ea8", "#0b3c6e"];
const TEXT_ON: [&str; 5] = ["#1a1a1a", "#1a1a1a", "#1a1a1a", "#ffffff", "#ffffff"];

/// One region's figure on the map.
#[derive(Debug, Clone)]
pub struct RegionValue {
    pub pcode: String,
    pub name: String,
    /// None: suppressed (or no published figure).
    pub value: Option<f64>,
    pub suppressed: bool,
}

pub struct MapChart<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub regions: &'a [RegionValue],
    pub suppressed_label: &'a str,
    pub highlight: Option<&'a str>,
    pub locale: Locale,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Class breaks: five classes of published values, rounded to readable numbers.
fn breaks(values: &[f64]) -> Vec<f64> {
    let mut sorted: Vec<f64> = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return Vec::new();
    }
    let nice = |x: f64| {
        if x <= 0.0 {
            return 0.0;
        }
        let p = 10f64.powf(x.log10().floor());
        (x / p).round() * p
    };
    let mut b: Vec<f64> = (1..RAMP.len())
        .map(|i| nice(sorted[(i * sorted.len() / RAMP.len()).min(sorted.len() - 1)]))
        .collect();
    b.dedup();
    b
}

fn class_of(value: f64, breaks: &[f64]) -> usize {
    let i = breaks.iter().filter(|b| value >= **b).count();
    // Spread few classes over the whole ramp.
    if breaks.is_empty() {
        RAMP.len() - 1
    } else {
        (i * (RAMP.len() - 1)) / breaks.len()
    }
}

/// Renders the map as an `<svg>` element.
pub fn render(map: &MapChart<'_>) -> String {
    const WIDTH: f64 = super::chart::CHART_WIDTH as f64;
    const MARGIN: f64 = 10.0;
    let (mut lon0, mut lon1, mut lat0, mut lat1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for shape in SHAPES.iter() {
        for p in shape.rings.iter().flatten() {
            lon0 = lon0.min(p[0]);
            lon1 = lon1.max(p[0]);
            lat0 = lat0.min(p[1]);
            lat1 = lat1.max(p[1]);
        }
    }
    if SHAPES.is_empty() {
        return String::new();
    }
    let squash = ((lat0 + lat1) / 2.0).to_radians().cos();
    let scale = (WIDTH - 2.0 * MARGIN) / ((lon1 - lon0) * squash);
    let map_height = (lat1 - lat0) * scale;
    let legend_top = map_height + 2.0 * MARGIN;
    let xy = |p: [f64; 2]| {
        (
            MARGIN + (p[0] - lon0) * squash * scale,
            MARGIN + (lat1 - p[1]) * scale,
        )
    };

    let published: Vec<f64> = map.regions.iter().filter_map(|r| r.value).collect();
    let breaks = breaks(&published);
    let entries = legend_entries(map, &breaks, &published);
    let legend = legend_rows(&entries, WIDTH - 2.0 * MARGIN);
    let height = legend_top + legend.len() as f64 * LEGEND_LINE + 10.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0}" width="100%" role="img" aria-labelledby="{id}-t {id}-d" class="chart map" font-family="DejaVu Sans, Verdana, sans-serif" font-size="13"><title id="{id}-t">{title}</title><desc id="{id}-d">{desc}</desc><defs><pattern id="{id}-hatch" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/><line x1="0" y1="0" x2="0" y2="6" stroke="#8a8a8a" stroke-width="2"/></pattern></defs>"##,
        id = map.id,
        title = escape(map.title),
        desc = escape(map.description),
    );
    let mut labels = String::new();
    for shape in SHAPES.iter() {
        let region = map.regions.iter().find(|r| r.pcode == shape.pcode);
        let (fill, text_colour, figure) = match region {
            Some(RegionValue { value: Some(v), .. }) => {
                let c = class_of(*v, &breaks);
                (
                    RAMP[c].to_string(),
                    TEXT_ON[c],
                    format_number(*v, 0, map.locale),
                )
            }
            Some(r) if r.suppressed => (
                format!("url(#{}-hatch)", map.id),
                "#1a1a1a",
                map.suppressed_label.to_string(),
            ),
            _ => ("#eeeeee".to_string(), "#1a1a1a", "–".to_string()),
        };
        let mut d = String::new();
        for ring in &shape.rings {
            for (i, p) in ring.iter().enumerate() {
                let (x, y) = xy(*p);
                let _ = write!(d, "{}{x:.1},{y:.1}", if i == 0 { "M" } else { "L" });
            }
            d.push('Z');
        }
        let name = region.map_or(shape.pcode.as_str(), |r| r.name.as_str());
        let highlighted = map.highlight == Some(shape.pcode.as_str());
        let _ = write!(
            svg,
            r##"<path d="{d}" fill="{fill}" fill-rule="evenodd" stroke="{stroke}" stroke-width="{width}"><title>{name}: {figure}</title></path>"##,
            stroke = if highlighted { "#000000" } else { "#ffffff" },
            width = if highlighted { 3.0 } else { 1.2 },
            name = escape(name),
            figure = escape(&figure),
        );
        let (x, y) = xy(shape.label_point);
        // Bamako is a dot on this scale: its label sits south-west of it, outside the
        // country, with a leader line.
        let (x, y, anchor, colour) = if shape.pcode == "ML09" {
            let (lx, ly) = (x - 34.0, y + 44.0);
            let _ = write!(
                labels,
                r##"<line x1="{x1:.1}" y1="{y1:.1}" x2="{lx:.1}" y2="{ly2:.1}" stroke="#1a1a1a" stroke-width="1"/>"##,
                x1 = x - 2.0,
                y1 = y + 2.0,
                ly2 = ly - 12.0,
            );
            (lx, ly, "end", "#1a1a1a")
        } else if shape.pcode == "ML02" {
            // Koulikoro is a narrow band between Kayes and Ségou, too narrow for its
            // name beside theirs: its label sits north of it, outside the country (west
            // of Tombouctou), with a leader line into the region.
            let (lx, ly) = xy([-8.3, 16.5]);
            let (px, py) = xy([-7.9, 15.1]);
            let _ = write!(
                labels,
                r##"<line x1="{lx:.1}" y1="{y1:.1}" x2="{px:.1}" y2="{py:.1}" stroke="#1a1a1a" stroke-width="1"/>"##,
                y1 = ly + 20.0,
            );
            (lx, ly, "middle", "#1a1a1a")
        } else {
            (x, y, "middle", text_colour)
        };
        let halo = if colour == "#ffffff" {
            "#0b3c6e"
        } else {
            "#ffffff"
        };
        let _ = write!(
            labels,
            r#"<text x="{x:.1}" y="{y:.1}" text-anchor="{anchor}" fill="{colour}" stroke="{halo}" stroke-width="3" paint-order="stroke" stroke-linejoin="round"><tspan x="{x:.1}" font-weight="bold">{name}</tspan><tspan x="{x:.1}" dy="15">{figure}</tspan></text>"#,
            name = escape(name),
            figure = escape(&figure),
        );
    }
    svg.push_str(&labels);
    // Legend: the classes, then the hatch, on as many lines as the width needs.
    for (row, entries) in legend.iter().enumerate() {
        let y = legend_top + row as f64 * LEGEND_LINE;
        let mut x = MARGIN;
        for entry in entries {
            let fill = match entry.class {
                Some(c) => RAMP[c].to_string(),
                None => format!("url(#{}-hatch)", map.id),
            };
            let _ = write!(
                svg,
                r##"<rect x="{x:.1}" y="{y:.1}" width="{SWATCH}" height="{SWATCH}" fill="{fill}" stroke="#777777" stroke-width="0.5"/><text x="{tx:.1}" y="{ty:.1}" fill="#1a1a1a">{text}</text>"##,
                tx = x + SWATCH + SWATCH_GAP,
                ty = y + 13.0,
                text = escape(&entry.text),
            );
            x += entry.width + ENTRY_GAP;
        }
    }
    svg.push_str("</svg>");
    svg
}

const SWATCH: f64 = 16.0;
/// Between a swatch and its text.
const SWATCH_GAP: f64 = 5.0;
/// Between one entry's text and the next swatch.
const ENTRY_GAP: f64 = 14.0;
const LEGEND_LINE: f64 = 24.0;
const LABEL_SIZE: f64 = 13.0;

/// One entry of the legend: a class of the ramp (or the hatch of suppressed regions).
struct LegendEntry {
    class: Option<usize>,
    text: String,
    /// Swatch and text, measured with the font the chart declares.
    width: f64,
}

fn legend_entries(map: &MapChart<'_>, breaks: &[f64], published: &[f64]) -> Vec<LegendEntry> {
    let mut entries = Vec::new();
    let mut lower = 0.0;
    for (i, b) in breaks
        .iter()
        .chain(std::iter::once(&f64::INFINITY))
        .enumerate()
    {
        let class = if breaks.is_empty() {
            RAMP.len() - 1
        } else {
            (i * (RAMP.len() - 1)) / breaks.len()
        };
        let text = if b.is_infinite() {
            format!("{}+", format_number(lower, 0, map.locale))
        } else {
            format!(
                "{}–{}",
                format_number(lower, 0, map.locale),
                format_number((b - 1.0).max(lower), 0, map.locale)
            )
        };
        entries.push(LegendEntry {
            class: Some(class),
            width: SWATCH + SWATCH_GAP + text_width(&text, LABEL_SIZE, false),
            text,
        });
        lower = *b;
        if published.is_empty() {
            break;
        }
    }
    let text = map.suppressed_label.to_string();
    entries.push(LegendEntry {
        class: None,
        width: SWATCH + SWATCH_GAP + text_width(&text, LABEL_SIZE, false),
        text,
    });
    entries
}

/// Splits the legend into lines no wider than `width`.
fn legend_rows(entries: &[LegendEntry], width: f64) -> Vec<Vec<&LegendEntry>> {
    let mut rows: Vec<Vec<&LegendEntry>> = vec![Vec::new()];
    let mut x = 0.0;
    for entry in entries {
        let row = rows.last_mut().expect("one row at least");
        if !row.is_empty() && x + entry.width > width {
            rows.push(vec![entry]);
            x = entry.width + ENTRY_GAP;
        } else {
            row.push(entry);
            x += entry.width + ENTRY_GAP;
        }
    }
    rows
}

/// Whether the project's map geometry is available.
pub fn available() -> bool {
    !SHAPES.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaks_are_rounded_and_increasing() {
        let b = breaks(&[12.0, 130.0, 480.0, 990.0, 2870.0, 5230.0, 170.0, 690.0]);
        assert!(b.windows(2).all(|w| w[0] < w[1]), "{b:?}");
        assert_eq!(class_of(5230.0, &b), RAMP.len() - 1);
        assert_eq!(class_of(12.0, &b), 0);
    }
}
