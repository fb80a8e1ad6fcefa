//! Horizontal bars: one row per category in the caller's order, the category to the
//! left, the value printed at the end of each bar; grouped bars with a legend when
//! there are several series.

use super::svg::{Anchor, Canvas, Label, Stroke};
use super::{Cell, Chart, Data, PAD, axis::Linear, cell_text, chart_id, kind_class, style, target};

/// Width of the hatched stub that stands in for a suppressed bar.
pub(super) const STUB_WIDTH: f64 = 14.0;
/// Space between a bar end and its value.
const VALUE_GAP: f64 = 5.0;
const LINE_HEIGHT: f64 = 16.0;
const HEADER_LINE: f64 = 20.0;

pub(super) fn render(chart: &Chart, data: &Data) -> String {
    let width = f64::from(chart.width);
    let series_count = data.cells.len();
    let grouped = series_count > 1;
    let value_size = if grouped {
        style::SMALL_SIZE
    } else {
        style::LABEL_SIZE
    };
    let (bar_height, bar_gap) = if grouped { (14.0, 2.0) } else { (18.0, 0.0) };
    let group_height = series_count as f64 * bar_height + (series_count as f64 - 1.0) * bar_gap;

    // Category labels: the column is as wide as the widest label, up to 38 % of the
    // chart; longer labels wrap onto several lines rather than being cut.
    let max_label_column = (width * 0.38).max(60.0);
    let labels: Vec<Vec<String>> = data
        .categories
        .iter()
        .map(|label| {
            if style::text_width(label, style::LABEL_SIZE, false) <= max_label_column {
                vec![label.clone()]
            } else {
                style::wrap(label, max_label_column, style::LABEL_SIZE, false)
            }
        })
        .collect();
    let label_column = labels
        .iter()
        .flatten()
        .map(|l| style::text_width(l, style::LABEL_SIZE, false))
        .fold(0.0, f64::max)
        .ceil();

    // Room for the printed values beyond the longest bars, on each side of zero.
    let mut right_reserve: f64 = 0.0;
    let mut left_reserve: f64 = 0.0;
    for cell in data.cells.iter().flatten() {
        let Some(text) = cell_text(*cell, chart) else {
            continue;
        };
        let w = style::text_width(&text, value_size, false) + VALUE_GAP + 2.0;
        match cell {
            Cell::Value(v) if *v < 0.0 => left_reserve = left_reserve.max(w),
            Cell::Suppressed => right_reserve = right_reserve.max(STUB_WIDTH + w),
            _ => right_reserve = right_reserve.max(w),
        }
    }
    let target = target(chart);
    let (lo, hi) = data.min_max();
    let hi = target.map_or(hi, |t| hi.max(t.value));
    let lo = target.map_or(lo, |t| lo.min(t.value));
    let hi = if hi - lo <= 0.0 { 1.0 } else { hi };

    let plot_left = PAD + label_column + 10.0;
    let plot_right = width - PAD;
    let bar_span = (plot_right - plot_left - left_reserve - right_reserve).max(0.0);
    let zero = plot_left + left_reserve + bar_span * (-lo) / (hi - lo);
    let scale = Linear {
        d0: lo,
        d1: hi,
        r0: plot_left + left_reserve,
        r1: plot_left + left_reserve + bar_span,
    };

    let mut canvas = Canvas::new(chart_id(chart));

    // Header: legend, then unit caption and target label (on two lines if they would
    // collide), so the target line drops from its label straight into the bars.
    let mut y = PAD;
    if grouped {
        y = legend(&mut canvas, chart, plot_left, plot_right, y);
    }
    let mut header_used_until = f64::NEG_INFINITY; // right end of text on the current line
    let mut on_line = false;
    if !chart.unit.trim().is_empty() {
        canvas.text(
            Label::new(
                plot_left,
                style::top_baseline(y, style::SMALL_SIZE),
                &chart.unit,
                Anchor::Start,
            )
            .size(style::SMALL_SIZE)
            .fill(style::MUTED),
        );
        header_used_until = plot_left + style::text_width(&chart.unit, style::SMALL_SIZE, false);
        on_line = true;
    }
    let mut target_label_bottom = None;
    if let Some(t) = target {
        let w = style::text_width(&t.label, style::SMALL_SIZE, false);
        let x = scale.map(t.value);
        let left = (x - w / 2.0).clamp(plot_left, (plot_right - w).max(plot_left));
        if on_line && left < header_used_until + 12.0 {
            y += HEADER_LINE;
        }
        canvas.text(
            Label::new(
                left,
                style::top_baseline(y, style::SMALL_SIZE),
                &t.label,
                Anchor::Start,
            )
            .size(style::SMALL_SIZE)
            .fill(style::REFERENCE),
        );
        target_label_bottom = Some(y + style::SMALL_SIZE + 3.0);
        on_line = true;
    }
    if on_line {
        y += HEADER_LINE;
    }
    let body_top = y + 4.0;

    // Rows.
    let mut row_top = body_top;
    for (i, lines) in labels.iter().enumerate() {
        let row_height = (group_height + if grouped { 12.0 } else { 10.0 })
            .max(lines.len() as f64 * LINE_HEIGHT + 10.0)
            .max(28.0);
        let centre = row_top + row_height / 2.0;

        let first_baseline = style::centred_baseline(
            centre - (lines.len() as f64 - 1.0) * LINE_HEIGHT / 2.0,
            style::LABEL_SIZE,
        );
        for (l, line) in lines.iter().enumerate() {
            canvas.text(Label::new(
                PAD + label_column,
                first_baseline + l as f64 * LINE_HEIGHT,
                line,
                Anchor::End,
            ));
        }

        let bars_top = centre - group_height / 2.0;
        for (s, cells) in data.cells.iter().enumerate() {
            let colour = style::series_colour(s, series_count);
            let top = bars_top + s as f64 * (bar_height + bar_gap);
            let mid = top + bar_height / 2.0;
            let cell = cells.get(i).copied().unwrap_or(Cell::Missing);
            let text = cell_text(cell, chart).unwrap_or_default();
            let baseline = style::centred_baseline(mid, value_size);
            match cell {
                Cell::Value(v) => {
                    let end = scale.map(v);
                    let (x0, x1) = if end < zero { (end, zero) } else { (zero, end) };
                    canvas.rect(x0, top, x1 - x0, bar_height, colour);
                    let label = if v < 0.0 {
                        Label::new(end - VALUE_GAP, baseline, &text, Anchor::End)
                    } else {
                        Label::new(end + VALUE_GAP, baseline, &text, Anchor::Start)
                    };
                    canvas.text(label.size(value_size).halo());
                }
                Cell::Suppressed => {
                    canvas.stub(zero, top, STUB_WIDTH, bar_height, colour);
                    canvas.text(
                        Label::new(
                            zero + STUB_WIDTH + VALUE_GAP,
                            baseline,
                            &text,
                            Anchor::Start,
                        )
                        .size(value_size)
                        .fill(style::MUTED)
                        .halo(),
                    );
                }
                Cell::Missing => {}
            }
        }
        row_top += row_height;
    }
    let body_bottom = row_top;

    // Zero line over the bars' roots, then the target on top of everything.
    canvas.line(
        (zero, body_top),
        (zero, body_bottom),
        Stroke::new(style::AXIS, 1.0),
    );
    if let Some(t) = target {
        let x = scale.map(t.value);
        let top = target_label_bottom.unwrap_or(body_top).min(body_top);
        canvas.line(
            (x, top),
            (x, body_bottom),
            Stroke::new(style::REFERENCE, 1.5).dash(Some("5 3")),
        );
    }

    let height = body_bottom + PAD + 2.0;
    canvas.finish(
        width,
        height,
        kind_class(chart.kind),
        &chart.title,
        &chart.description,
    )
}

/// Swatches and series names from `left`, wrapping at `right`; returns the y below.
pub(super) fn legend(canvas: &mut Canvas, chart: &Chart, left: f64, right: f64, top: f64) -> f64 {
    let count = chart.series.len();
    let mut x = left;
    let mut y = top;
    for (s, series) in chart.series.iter().enumerate() {
        let w = 12.0 + 5.0 + style::text_width(&series.name, style::LABEL_SIZE, false);
        if x > left && x + w > right {
            x = left;
            y += HEADER_LINE;
        }
        let centre = y + 8.0;
        canvas.rect(x, centre - 6.0, 12.0, 12.0, style::series_colour(s, count));
        canvas.text(Label::new(
            x + 17.0,
            style::centred_baseline(centre, style::LABEL_SIZE),
            &series.name,
            Anchor::Start,
        ));
        x += w + 18.0;
    }
    y + HEADER_LINE
}
