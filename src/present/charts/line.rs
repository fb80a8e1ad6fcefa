//! A line over ordered periods, y from zero. Suppressed periods break the line and
//! show an open marker on the baseline with the suppressed label; the last point of
//! each series is labelled directly (value, and series name when there are several).
//! Notes (`Chart::marks`) are numbered discs in a band above the plot, each with a
//! dashed guide down to the periods it covers (a quarter on a monthly axis is shaded).

use super::svg::{Anchor, Canvas, Label, Stroke};
use super::{Cell, Chart, Data, PAD, axis, cell_text, chart_id, kind_class, style, target};

const LINE_HEIGHT: f64 = 15.0;

/// Height of a row of note marks above the plot, and the most rows drawn (more marks
/// than fit share the row that ends first).
const MARK_ROW: f64 = 22.0;
const MARK_ROWS: usize = 3;
/// Type size of a mark's number.
const MARK_SIZE: f64 = 11.0;
/// The shade of the periods a mark covers when it covers more than one.
const MARK_SPAN: &str = "#eceff3";

/// A note's mark, placed.
struct PlacedMark<'a> {
    x: f64,
    /// The shaded span (left, right) of a mark covering several periods.
    span: Option<(f64, f64)>,
    row: usize,
    radius: f64,
    label: String,
    title: &'a str,
}

/// Places the chart's marks: each at the middle of the periods it covers, in the
/// first row where its disc clears the discs already there (in x order).
fn place_marks<'a>(
    chart: &'a Chart,
    data: &Data,
    x_at: impl Fn(usize) -> f64,
    step: f64,
    (left, right): (f64, f64),
) -> Vec<PlacedMark<'a>> {
    let mut placed: Vec<PlacedMark<'a>> = Vec::new();
    for m in &chart.marks {
        let at: Vec<usize> = m
            .keys
            .iter()
            .filter_map(|k| data.keys.iter().position(|c| c == k))
            .collect();
        let (Some(&first), Some(&last)) = (at.iter().min(), at.iter().max()) else {
            continue;
        };
        let (a, b) = (x_at(first), x_at(last));
        let half = if step.is_finite() { step / 2.0 } else { 12.0 };
        let label = m.number.to_string();
        let radius = (style::text_width(&label, MARK_SIZE, true) / 2.0 + 4.0).max(8.0);
        placed.push(PlacedMark {
            x: ((a + b) / 2.0).clamp(left + radius, (right - radius).max(left + radius)),
            span: (at.len() > 1).then(|| ((a - half).max(left), (b + half).min(right))),
            row: 0,
            radius,
            label,
            title: &m.title,
        });
    }
    let mut order: Vec<usize> = (0..placed.len()).collect();
    order.sort_by(|a, b| placed[*a].x.total_cmp(&placed[*b].x));
    let mut row_ends: Vec<f64> = Vec::new();
    for i in order {
        let mark = &mut placed[i];
        let free = row_ends
            .iter()
            .position(|end| mark.x - mark.radius >= end + 2.0);
        let row = match free {
            Some(row) => row,
            None if row_ends.len() < MARK_ROWS => {
                row_ends.push(f64::NEG_INFINITY);
                row_ends.len() - 1
            }
            None => (0..row_ends.len())
                .min_by(|a, b| row_ends[*a].total_cmp(&row_ends[*b]))
                .unwrap_or(0),
        };
        row_ends[row] = mark.x + mark.radius;
        mark.row = row;
    }
    placed
}

/// A text block in the right margin: series end labels and the target label, moved
/// apart vertically so they never overlap.
struct EndLabel {
    x: f64,
    /// Where the block would like its centre to be.
    want: f64,
    /// Runs of (text, bold) per line.
    lines: Vec<Vec<(String, bool)>>,
    fill: &'static str,
    size: f64,
    top: f64,
}

impl EndLabel {
    fn height(&self) -> f64 {
        self.lines.len() as f64 * LINE_HEIGHT
    }
    fn width(&self) -> f64 {
        self.lines
            .iter()
            .map(|runs| {
                runs.iter()
                    .map(|(t, b)| style::text_width(t, self.size, *b))
                    .sum::<f64>()
            })
            .fold(0.0, f64::max)
    }
}

pub(super) fn render(chart: &Chart, data: &Data) -> String {
    let width = f64::from(chart.width);
    let base_height = (width * 0.55).clamp(240.0, 480.0).round();
    let n = data.categories.len();
    let series_count = data.cells.len();
    let target = target(chart);

    // Value scale and its tick labels.
    let (lo, hi) = data.min_max();
    let hi = target.map_or(hi, |t| hi.max(t.value));
    let lo = target.map_or(lo, |t| lo.min(t.value));
    let ticks = axis::nice_ticks(lo, hi, 5, chart.decimals);
    // With every period suppressed there is no scale to show: a made-up 0–5 axis
    // would suggest values. Only the zero line stays, carrying the open markers.
    let has_scale = data.values().next().is_some() || target.is_some();
    let tick_values = if has_scale { ticks.values() } else { vec![0.0] };
    let tick_texts: Vec<String> = tick_values
        .iter()
        .map(|v| crate::present::i18n::format_number(*v, ticks.decimals, chart.locale))
        .collect();
    let tick_width = style::widest(
        tick_texts.iter().map(String::as_str),
        style::SMALL_SIZE,
        false,
    );

    // End labels (their text decides the right margin).
    let max_label_width = width * 0.3;
    let mut end_labels: Vec<EndLabel> = Vec::new();
    let mut last_index: Vec<Option<usize>> = Vec::with_capacity(series_count);
    for (s, cells) in data.cells.iter().enumerate() {
        let last = cells.iter().rposition(|c| *c != Cell::Missing);
        last_index.push(last);
        let Some(i) = last else { continue };
        let value = cell_text(cells[i], chart).unwrap_or_default();
        let bold_value = matches!(cells[i], Cell::Value(_));
        let lines = if series_count > 1 {
            let name = chart
                .series
                .get(s)
                .map_or("", |series| series.name.as_str());
            let mut lines: Vec<Vec<(String, bool)>> =
                style::wrap(name, max_label_width, style::LABEL_SIZE, false)
                    .into_iter()
                    .map(|l| vec![(l, false)])
                    .collect();
            let value_width = style::text_width(&format!("\u{a0}{value}"), style::LABEL_SIZE, true);
            match lines.last_mut() {
                Some(last)
                    if last
                        .iter()
                        .map(|(t, _)| style::text_width(t, style::LABEL_SIZE, false))
                        .sum::<f64>()
                        + value_width
                        <= max_label_width =>
                {
                    last.push((format!("\u{a0}{value}"), bold_value));
                }
                _ => lines.push(vec![(value, bold_value)]),
            }
            lines
        } else {
            vec![vec![(value, bold_value)]]
        };
        end_labels.push(EndLabel {
            x: 0.0,
            want: 0.0,
            lines,
            fill: if bold_value {
                style::TEXT
            } else {
                style::MUTED
            },
            size: style::LABEL_SIZE,
            top: 0.0,
        });
    }
    let series_labels = end_labels.len();
    if let Some(t) = target {
        let lines = style::wrap(&t.label, max_label_width, style::SMALL_SIZE, false)
            .into_iter()
            .map(|l| vec![(l, false)])
            .collect();
        end_labels.push(EndLabel {
            x: 0.0,
            want: 0.0,
            lines,
            fill: style::REFERENCE,
            size: style::SMALL_SIZE,
            top: 0.0,
        });
    }
    let end_width = end_labels.iter().map(EndLabel::width).fold(0.0, f64::max);

    // Period labels, thinned to every k-th so they never touch.
    let x_label_width = style::widest(
        data.categories.iter().map(String::as_str),
        style::SMALL_SIZE,
        false,
    );
    let inner = 8.0; // keeps the first and last markers off the frame
    let first_label_half = data.categories.first().map_or(0.0, |l| {
        style::text_width(l, style::SMALL_SIZE, false) / 2.0
    });
    let last_label_half = data.categories.last().map_or(0.0, |l| {
        style::text_width(l, style::SMALL_SIZE, false) / 2.0
    });

    let plot_left = (PAD + tick_width + 8.0)
        .max(PAD + first_label_half - inner)
        .ceil();
    let plot_right = (width
        - PAD
        - if end_width > 0.0 {
            end_width + 10.0
        } else {
            0.0
        })
    .min(width - PAD - last_label_half + inner)
    .max(plot_left + 40.0)
    .floor();
    let x_at = |i: usize| -> f64 {
        if n <= 1 {
            (plot_left + plot_right) / 2.0
        } else {
            plot_left + inner + i as f64 * (plot_right - plot_left - 2.0 * inner) / (n as f64 - 1.0)
        }
    };
    let step = if n > 1 {
        (plot_right - plot_left - 2.0 * inner) / (n as f64 - 1.0)
    } else {
        f64::INFINITY
    };

    // Notes' marks sit in rows between the unit caption and the plot, which moves down
    // (the chart grows by the rows, the plot keeps its height).
    let marks = place_marks(chart, data, &x_at, step, (plot_left, plot_right));
    let rows = marks.iter().map(|m| m.row + 1).max().unwrap_or(0);
    let band = rows as f64 * MARK_ROW;
    let mark_y = |row: usize| PAD + 18.0 + MARK_ROW * (row as f64 + 0.5);
    let height = base_height + band;
    let plot_top = PAD + 26.0 + band;
    let plot_bottom = height - PAD - 26.0;
    let y_scale = axis::Linear {
        d0: ticks.lo,
        d1: ticks.hi,
        r0: plot_bottom,
        r1: plot_top,
    };
    let baseline_y = y_scale.map(0.0);

    let mut canvas = Canvas::new(chart_id(chart));

    // Unit caption above the value axis.
    if !chart.unit.trim().is_empty() {
        canvas.text(
            Label::new(
                PAD,
                style::top_baseline(PAD, style::SMALL_SIZE),
                &chart.unit,
                Anchor::Start,
            )
            .size(style::SMALL_SIZE)
            .fill(style::MUTED),
        );
    }

    // The periods a note covers, shaded under everything.
    for m in &marks {
        if let Some((a, b)) = m.span {
            canvas.rect(a, plot_top, b - a, plot_bottom - plot_top, MARK_SPAN);
        }
    }

    // Grid and value ticks.
    for (v, text) in tick_values.iter().zip(&tick_texts) {
        let y = y_scale.map(*v);
        if *v != 0.0 {
            canvas.line(
                (plot_left, y),
                (plot_right, y),
                Stroke::new(style::GRID, 1.0),
            );
        }
        canvas.text(
            Label::new(
                plot_left - 8.0,
                style::centred_baseline(y, style::SMALL_SIZE),
                text,
                Anchor::End,
            )
            .size(style::SMALL_SIZE)
            .fill(style::MUTED),
        );
    }
    canvas.line(
        (plot_left, baseline_y),
        (plot_right, baseline_y),
        Stroke::new(style::AXIS, 1.0),
    );

    // Period labels under the axis, every k-th counted back from the latest period.
    let every = if step.is_finite() && step > 0.0 {
        ((x_label_width + 12.0) / step).ceil().max(1.0) as usize
    } else {
        1
    };
    let label_y = style::top_baseline(plot_bottom + 8.0, style::SMALL_SIZE);
    for (i, label) in data.categories.iter().enumerate() {
        if !(n - 1 - i).is_multiple_of(every) {
            continue;
        }
        let x = x_at(i);
        canvas.line(
            (x, plot_bottom),
            (x, plot_bottom + 4.0),
            Stroke::new(style::AXIS, 1.0),
        );
        canvas.text(
            Label::new(x, label_y, label, Anchor::Middle)
                .size(style::SMALL_SIZE)
                .fill(style::MUTED),
        );
    }

    // Target under the data.
    if let Some(t) = target {
        let y = y_scale.map(t.value);
        canvas.line(
            (plot_left, y),
            (plot_right, y),
            Stroke::new(style::REFERENCE, 1.5).dash(Some("5 3")),
        );
        if let Some(label) = end_labels.last_mut() {
            label.x = plot_right + 6.0;
            label.want = y;
        }
    }

    // Guides from the notes' marks down to the axis, under the data.
    for m in &marks {
        canvas.line(
            (m.x, mark_y(m.row) + m.radius),
            (m.x, plot_bottom),
            Stroke::new(style::AXIS, 1.0).dash(Some("3 3")),
        );
    }

    // Lines, broken at suppressed and missing periods.
    let show_all_markers = step >= 12.0;
    let mut suppressed_spans: Vec<(f64, f64)> = Vec::new();
    let mut label_slot = 0;
    for (s, cells) in data.cells.iter().enumerate() {
        let colour = style::series_colour(s, series_count);
        let line_width = if series_count > 1 { 2.0 } else { 2.5 };
        let mut run: Vec<(f64, f64)> = Vec::new();
        let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
        for (i, cell) in cells.iter().enumerate() {
            match cell {
                Cell::Value(v) => run.push((x_at(i), y_scale.map(*v))),
                _ => {
                    if !run.is_empty() {
                        runs.push(std::mem::take(&mut run));
                    }
                }
            }
        }
        if !run.is_empty() {
            runs.push(run);
        }
        for run in &runs {
            canvas.polyline(
                run,
                Stroke::new(colour, line_width).dash(style::series_dash(s, series_count)),
            );
        }
        for run in &runs {
            for (j, (x, y)) in run.iter().enumerate() {
                let isolated = run.len() == 1;
                let last = j + 1 == run.len() && runs.last().is_some_and(|r| std::ptr::eq(r, run));
                if show_all_markers || isolated || last {
                    canvas.marker(*x, *y, s, colour, false);
                }
            }
        }
        // Suppressed periods: an open marker on the baseline, labelled where there is
        // room (the latest one is labelled in the margin instead).
        for (i, cell) in cells.iter().enumerate() {
            if *cell != Cell::Suppressed {
                continue;
            }
            let x = x_at(i);
            canvas.marker(x, baseline_y, s, colour, true);
            if Some(i) == last_index[s] {
                continue;
            }
            let w = style::text_width(&chart.suppressed_label, style::SMALL_SIZE, false);
            let span = (x - w / 2.0 - 2.0, x + w / 2.0 + 2.0);
            if suppressed_spans
                .iter()
                .all(|(a, b)| span.1 < *a || span.0 > *b)
            {
                suppressed_spans.push(span);
                canvas.text(
                    Label::new(x, baseline_y - 9.0, &chart.suppressed_label, Anchor::Middle)
                        .size(style::SMALL_SIZE)
                        .fill(style::MUTED)
                        .halo(),
                );
            }
        }
        if let Some(i) = last_index[s]
            && label_slot < series_labels
        {
            let y = match cells[i] {
                Cell::Value(v) => y_scale.map(v),
                _ => baseline_y,
            };
            end_labels[label_slot].x = x_at(i) + 9.0;
            end_labels[label_slot].want = y;
            label_slot += 1;
        }
    }

    // Right-margin labels: spread apart, kept between the top and the axis.
    place_apart(&mut end_labels, PAD, plot_bottom + 6.0);
    for label in &end_labels {
        for (l, runs) in label.lines.iter().enumerate() {
            let baseline =
                style::centred_baseline(label.top + LINE_HEIGHT * (l as f64 + 0.5), label.size);
            let runs: Vec<(&str, bool)> = runs.iter().map(|(t, b)| (t.as_str(), *b)).collect();
            canvas.text_runs(
                &Label::new(label.x, baseline, "", Anchor::Start)
                    .size(label.size)
                    .fill(label.fill),
                &runs,
            );
        }
    }

    // The notes' numbered marks, on top.
    for m in &marks {
        canvas.note_mark(m.x, mark_y(m.row), m.radius, MARK_SIZE, &m.label, m.title);
    }

    canvas.finish(
        width,
        height,
        kind_class(chart.kind),
        &chart.title,
        &chart.description,
    )
}

/// Gives each label a `top` near its wanted centre with no two overlapping, inside
/// `[min_top, max_bottom]` when they fit.
fn place_apart(labels: &mut [EndLabel], min_top: f64, max_bottom: f64) {
    const GAP: f64 = 1.0;
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.sort_by(|a, b| labels[*a].want.total_cmp(&labels[*b].want));
    let mut previous_bottom = min_top;
    for &i in &order {
        let label = &mut labels[i];
        label.top = (label.want - label.height() / 2.0).max(previous_bottom);
        previous_bottom = label.top + label.height() + GAP;
    }
    let mut next_top = max_bottom;
    for &i in order.iter().rev() {
        let label = &mut labels[i];
        if label.top + label.height() > next_top {
            label.top = (next_top - label.height()).max(min_top);
        }
        next_top = label.top - GAP;
    }
}
