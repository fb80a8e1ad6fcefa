//! A panel as a drawing: its figures turned into the chart (or the map) the page shows,
//! in one language. Pages, image exports and the briefing pack all draw panels here, so
//! a panel looks the same wherever it is read.

use super::charts::{self, Chart, ChartKind, Mark, Point, Series, Target};
use super::i18n::Locale;
use super::labels;
use super::map::{self, MapChart, RegionValue};
use super::panels::{Figure, Figures};
use crate::definitions::dimension::SITE;
use crate::definitions::{Panel, PanelKind};
use crate::snapshot::Snapshot;

/// Width of the drawing of every chart, in px of its viewBox. Charts scale to their
/// panel: about 530 px wide in the two columns of a desktop, 350 px on a phone. Drawn
/// at 440, their 13 px labels read at 16 px on a desktop and 10 px on a phone (at 640
/// they were 11 and 7 px, too small to read on a phone).
pub const CHART_WIDTH: u32 = 440;

/// Turns a panel's figures into the chart module's series.
pub fn chart_of(locale: Locale, threshold: u32, p: &Panel, figures: &Figures, unit: &str) -> Chart {
    let l = locale;
    let category = figures.view.category.clone().unwrap_or_default();
    let series = figures
        .series
        .iter()
        .enumerate()
        .map(|(si, (_, name))| Series {
            name: name.clone(),
            points: figures
                .categories
                .iter()
                .enumerate()
                .filter(|(ci, _)| {
                    figures.figures[*ci][si] != Figure::Missing || figures.series.len() > 1
                })
                .map(|(ci, (code, name))| Point {
                    key: code.clone(),
                    // Sites are labelled from the snapshot's register, already in the figures.
                    label: if category == SITE {
                        name.clone()
                    } else {
                        labels::axis_label(&category, code, l)
                    },
                    value: figures.figures[ci][si].value(),
                })
                .collect(),
        })
        .collect();
    Chart {
        id: String::new(),
        kind: match p.kind {
            PanelKind::Line => ChartKind::Line,
            // A filter on the series (e.g. sex) leaves one side: plain bars then.
            PanelKind::Pyramid if figures.series.len() == 2 => ChartKind::Pyramid,
            _ => ChartKind::Bars,
        },
        title: l.pick(&p.title.fr, &p.title.en).to_string(),
        description: l.pick(&p.description.fr, &p.description.en).to_string(),
        series,
        target: p.target.as_ref().map(|t| Target {
            value: t.value,
            label: l.pick(&t.label.fr, &t.label.en).to_string(),
        }),
        unit: unit.to_string(),
        decimals: figures.decimals,
        suppressed_label: format!("<{threshold}"),
        locale: l,
        width: CHART_WIDTH,
        marks: Vec::new(),
    }
}

/// The SVG of a chart panel (map or chart), as the page inlines it, with `marks` for
/// the notes listed under it (line charts only; exports pass none).
pub fn panel_svg(
    snapshot: &Snapshot,
    locale: Locale,
    p: &Panel,
    figures: &Figures,
    marks: &[Mark],
) -> String {
    let l = locale;
    let unit = p
        .measure
        .as_deref()
        .and_then(|m| snapshot.measure(m))
        .map_or(String::new(), |m| {
            l.pick(&m.unit.fr, &m.unit.en).to_string()
        });
    if p.kind == PanelKind::Map && map::available() {
        let regions: Vec<RegionValue> = figures
            .categories
            .iter()
            .zip(&figures.figures)
            .map(|((code, label), row)| RegionValue {
                pcode: code.clone(),
                name: label.clone(),
                value: row.first().and_then(|f| f.value()),
                suppressed: row.first() == Some(&Figure::Suppressed),
            })
            .collect();
        let title = l.pick(&p.title.fr, &p.title.en);
        let description = l.pick(&p.description.fr, &p.description.en);
        return map::render(&MapChart {
            id: &format!("c-{}", p.id),
            title,
            description,
            regions: &regions,
            suppressed_label: &format!("<{}", snapshot.threshold()),
            highlight: figures.view.highlight.as_deref(),
            locale: l,
        });
    }
    let mut chart = chart_of(l, snapshot.threshold(), p, figures, &unit);
    chart.id = format!("c-{}", p.id);
    if !marks.is_empty() {
        chart.marks = marks.to_vec();
        chart.description.push(' ');
        chart.description.push_str(l.pick(
            "Les repères numérotés renvoient aux notes sous le graphique.",
            "Numbered marks refer to the notes under the chart.",
        ));
    }
    charts::render(&chart).unwrap_or_default()
}

/// Whether a panel kind draws a chart (as opposed to a figure or a table): those have
/// image exports.
pub fn draws_chart(kind: PanelKind) -> bool {
    matches!(
        kind,
        PanelKind::Bars | PanelKind::Line | PanelKind::Pyramid | PanelKind::Map
    )
}
