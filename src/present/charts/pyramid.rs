//! A population pyramid: two series back to back on one shared scale (the first to
//! the left), categories in a middle column, the first category at the bottom, values
//! at the bar ends, series names above each side.

use super::bars::STUB_WIDTH;
use super::svg::{Anchor, Canvas, Label, Stroke};
use super::{Cell, Chart, Data, PAD, cell_text, chart_id, kind_class, style};

const BAR_HEIGHT: f64 = 18.0;
const ROW: f64 = 26.0;
const VALUE_GAP: f64 = 5.0;

pub(super) fn render(chart: &Chart, data: &Data) -> String {
    let width = f64::from(chart.width);
    let rows = data.categories.len();

    let centre_column = style::widest(
        data.categories.iter().map(String::as_str),
        style::LABEL_SIZE,
        false,
    )
    .min(width * 0.3)
    .ceil()
        + 20.0;
    let middle = width / 2.0;
    let inner_left = middle - centre_column / 2.0; // where left bars start, growing leftwards
    let inner_right = middle + centre_column / 2.0;
    let side = (inner_left - PAD).max(0.0);

    // One scale for both sides, leaving room for the printed values.
    let mut reserve: f64 = 0.0;
    for cell in data.cells.iter().flatten() {
        if let Some(text) = cell_text(*cell, chart) {
            let w = style::text_width(&text, style::LABEL_SIZE, false) + VALUE_GAP + 2.0;
            reserve = reserve.max(if *cell == Cell::Suppressed {
                w + STUB_WIDTH
            } else {
                w
            });
        }
    }
    let max = data.values().map(f64::abs).fold(0.0, f64::max);
    let per_unit = if max > 0.0 {
        (side - reserve).max(0.0) / max
    } else {
        0.0
    };

    let mut canvas = Canvas::new(chart_id(chart));
    let mut y = PAD;
    if !chart.unit.trim().is_empty() {
        canvas.text(
            Label::new(
                middle,
                style::top_baseline(y, style::SMALL_SIZE),
                &chart.unit,
                Anchor::Middle,
            )
            .size(style::SMALL_SIZE)
            .fill(style::MUTED),
        );
        y += 20.0;
    }

    // Series names over their side, each with its swatch, next to the middle column.
    let name_centre = y + 8.0;
    let name_baseline = style::centred_baseline(name_centre, style::LABEL_SIZE);
    for (s, series) in chart.series.iter().enumerate().take(2) {
        let colour = style::series_colour(s, 2);
        let name = wrap_to_one_line(&series.name, side - 20.0);
        if s == 0 {
            canvas.rect(inner_left - 12.0, name_centre - 6.0, 12.0, 12.0, colour);
            canvas.text(Label::new(inner_left - 17.0, name_baseline, &name, Anchor::End).bold());
        } else {
            canvas.rect(inner_right, name_centre - 6.0, 12.0, 12.0, colour);
            canvas.text(Label::new(inner_right + 17.0, name_baseline, &name, Anchor::Start).bold());
        }
    }
    let body_top = y + 26.0;

    for (row, label) in data.categories.iter().enumerate() {
        // First category at the bottom.
        let top = body_top + (rows - 1 - row) as f64 * ROW;
        let centre = top + ROW / 2.0;
        let baseline = style::centred_baseline(centre, style::LABEL_SIZE);
        let label = wrap_to_one_line(label, centre_column - 8.0);
        canvas.text(Label::new(middle, baseline, &label, Anchor::Middle));
        for (s, cells) in data.cells.iter().enumerate().take(2) {
            let colour = style::series_colour(s, 2);
            let left_side = s == 0;
            let root = if left_side { inner_left } else { inner_right };
            let outward = if left_side { -1.0 } else { 1.0 };
            let anchor = if left_side {
                Anchor::End
            } else {
                Anchor::Start
            };
            let bar_top = centre - BAR_HEIGHT / 2.0;
            let cell = cells.get(row).copied().unwrap_or(Cell::Missing);
            let text = cell_text(cell, chart).unwrap_or_default();
            match cell {
                Cell::Value(v) => {
                    let length = v.abs() * per_unit;
                    let end = root + outward * length;
                    canvas.rect(root.min(end), bar_top, length, BAR_HEIGHT, colour);
                    canvas.text(Label::new(
                        end + outward * VALUE_GAP,
                        baseline,
                        &text,
                        anchor,
                    ));
                }
                Cell::Suppressed => {
                    let end = root + outward * STUB_WIDTH;
                    canvas.stub(root.min(end), bar_top, STUB_WIDTH, BAR_HEIGHT, colour);
                    canvas.text(
                        Label::new(end + outward * VALUE_GAP, baseline, &text, anchor)
                            .fill(style::MUTED),
                    );
                }
                Cell::Missing => {}
            }
        }
    }
    let body_bottom = body_top + rows as f64 * ROW;
    for x in [inner_left, inner_right] {
        canvas.line(
            (x, body_top),
            (x, body_bottom),
            Stroke::new(style::AXIS, 1.0),
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

/// Pyramid columns have no room for a second line: an overlong label keeps its
/// first line and an ellipsis (the full text is in the data table and `<desc>`).
fn wrap_to_one_line(text: &str, max_width: f64) -> String {
    let lines = style::wrap(text, max_width.max(20.0), style::LABEL_SIZE, false);
    match lines.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [first, ..] => format!("{first}…"),
    }
}
