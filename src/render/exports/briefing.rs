//! The briefing pack: one A4 PDF per dashboard, in the reader's language — title, data
//! as of, filters applied, the disclosure note, the key figures, each chart with its
//! published values and notes, and the PONAM alignment table.
//!
//! Drawn with krilla (charts embedded as vectors through krilla-svg, text set in the
//! DejaVu Sans built into the binary; no browser on the server). It is laid out for a
//! black-and-white printer: black text, greys no lighter than a photocopy keeps, rules
//! rather than shading, and charts whose series differ in lightness and pattern.
//!
//! Layout first (pages of drawing operations, so page numbers know the page count),
//! then drawing.

use std::sync::Arc;

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, Stroke};
use krilla::tagging::{
    Artifact, ArtifactType, ContentTag, Identifier, SpanTag, Tag, TagGroup, TagKind, TagTree,
};
use krilla::text::{Font, TextDirection};
use krilla_svg::{SurfaceExt, SvgSettings};
use resvg::usvg;

use super::table::Table;
use super::{ExportError, Stamp, image};
use crate::definitions::{Dashboard, Panel, PanelKind};
use crate::present::chart;
use crate::present::charts::style;
use crate::present::filters::Filters;
use crate::present::i18n::{Locale, format_number};
use crate::present::panels::{self, Figures, Unavailable};
use crate::snapshot::Snapshot;

// --- the page -------------------------------------------------------------------

/// A4 in points.
const PAGE_W: f64 = 595.28;
const PAGE_H: f64 = 841.89;
const LEFT: f64 = 50.0;
const RIGHT: f64 = PAGE_W - 50.0;
const WIDTH: f64 = RIGHT - LEFT;
const TOP: f64 = 50.0;
/// Content ends here; the running foot sits below.
const BOTTOM: f64 = PAGE_H - 62.0;

const BODY: f64 = 9.5;
const SMALL: f64 = 8.5;
const TABLE: f64 = 8.5;
const HEADING: f64 = 13.5;
const LEADING: f64 = 1.35;

type Colour = (u8, u8, u8);
const INK: Colour = (0, 0, 0);
/// Secondary text: dark enough for any printer (10.4:1 on white).
const MUTED: Colour = (0x3a, 0x3a, 0x3a);
const RULE: Colour = (0x80, 0x80, 0x80);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Face {
    Regular,
    Bold,
    Oblique,
}

impl Face {
    fn bold(self) -> bool {
        self == Face::Bold
    }
}

/// One drawing operation, in points from the top left corner of the page.
enum Op {
    /// A line of text; `y` is the baseline.
    Text {
        x: f64,
        y: f64,
        size: f64,
        face: Face,
        colour: Colour,
        text: String,
    },
    Rect {
        x: f64,
        y: f64,
        w: f64,
        h: f64,
        colour: Colour,
    },
    Line {
        from: (f64, f64),
        to: (f64, f64),
        width: f64,
        colour: Colour,
    },
    /// A chart: `svgs[index]` drawn into this box; `alt` says what it shows (the
    /// figure's alternate text in the tagged PDF; its values follow as a table).
    Svg {
        index: usize,
        alt: String,
        x: f64,
        y: f64,
        w: f64,
        h: f64,
    },
}

fn wrap(text: &str, width: f64, size: f64, face: Face) -> Vec<String> {
    super::wrap(text, width, size, face.bold())
}

fn line_height(size: f64) -> f64 {
    size * LEADING
}

/// Baseline of a line whose box starts at `top`.
fn baseline(top: f64, size: f64) -> f64 {
    top + size * 1.02
}

/// Pages being laid out: operations per page, and where the next block goes.
pub(super) struct Layout {
    pages: Vec<Vec<Op>>,
    y: f64,
    svgs: Vec<usvg::Tree>,
}

impl Layout {
    pub(super) fn new() -> Layout {
        Layout {
            pages: vec![Vec::new()],
            y: TOP,
            svgs: Vec::new(),
        }
    }

    fn push(&mut self, op: Op) {
        if let Some(page) = self.pages.last_mut() {
            page.push(op);
        }
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
    }

    fn room(&self) -> f64 {
        BOTTOM - self.y
    }

    /// Starts a new page unless `height` fits in what is left of this one (or this
    /// one is still empty: a block taller than a page is drawn anyway).
    fn ensure(&mut self, height: f64) {
        // Half a point of slack: blocks measured to fit exactly must not spill over
        // on a rounding error.
        if height > self.room() + 0.5 && self.y > TOP + 0.5 {
            self.new_page();
        }
    }

    fn gap(&mut self, height: f64) {
        self.y = (self.y + height).min(BOTTOM);
    }

    fn text_at(&mut self, x: f64, top: f64, size: f64, face: Face, colour: Colour, text: &str) {
        self.push(Op::Text {
            x,
            y: baseline(top, size),
            size,
            face,
            colour,
            text: text.to_string(),
        });
    }

    /// Height of a wrapped paragraph.
    fn measure(text: &str, width: f64, size: f64, face: Face) -> f64 {
        wrap(text, width, size, face).len() as f64 * line_height(size)
    }

    /// A wrapped paragraph at the left margin, breaking across pages between lines.
    fn paragraph(&mut self, text: &str, size: f64, face: Face, colour: Colour) {
        self.paragraph_at(LEFT, WIDTH, text, size, face, colour);
    }

    fn paragraph_at(
        &mut self,
        x: f64,
        width: f64,
        text: &str,
        size: f64,
        face: Face,
        colour: Colour,
    ) {
        for line in wrap(text, width, size, face) {
            self.ensure(line_height(size));
            let y = self.y;
            self.text_at(x, y, size, face, colour, &line);
            self.y += line_height(size);
        }
    }

    fn rule(&mut self, x1: f64, x2: f64, y: f64, width: f64, colour: Colour) {
        self.push(Op::Line {
            from: (x1, y),
            to: (x2, y),
            width,
            colour,
        });
    }

    /// A box outline.
    fn frame(&mut self, x: f64, y: f64, w: f64, h: f64, width: f64, colour: Colour) {
        for (from, to) in [
            ((x, y), (x + w, y)),
            ((x + w, y), (x + w, y + h)),
            ((x + w, y + h), (x, y + h)),
            ((x, y + h), (x, y)),
        ] {
            self.push(Op::Line {
                from,
                to,
                width,
                colour,
            });
        }
    }
}

// --- tables -------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Right,
}

/// A table to draw: column widths and alignments, a header, rows of text.
struct Grid {
    widths: Vec<f64>,
    aligns: Vec<Align>,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

const CELL_PAD: f64 = 4.0;
const ROW_PAD: f64 = 2.5;

impl Grid {
    fn width(&self) -> f64 {
        self.widths.iter().sum()
    }

    fn cell_lines(&self, column: usize, text: &str, face: Face) -> Vec<String> {
        wrap(text, self.widths[column] - 2.0 * CELL_PAD, TABLE, face)
    }

    fn row_height(&self, row: &[String], face: Face) -> f64 {
        let lines = row
            .iter()
            .enumerate()
            .map(|(c, t)| self.cell_lines(c, t, face).len())
            .max()
            .unwrap_or(1)
            .max(1);
        lines as f64 * line_height(TABLE) + 2.0 * ROW_PAD
    }

    fn header_height(&self) -> f64 {
        self.row_height(&self.header, Face::Bold)
    }

    fn draw_row(&self, layout: &mut Layout, x: f64, y: f64, row: &[String], face: Face) -> f64 {
        let h = self.row_height(row, face);
        let mut cx = x;
        for (c, text) in row.iter().enumerate() {
            let w = self.widths[c];
            for (i, line) in self.cell_lines(c, text, face).iter().enumerate() {
                let top = y + ROW_PAD + i as f64 * line_height(TABLE);
                let lx = match self.aligns[c] {
                    Align::Left => cx + CELL_PAD,
                    Align::Right => cx + w - CELL_PAD - style::text_width(line, TABLE, face.bold()),
                };
                layout.text_at(lx, top, TABLE, face, INK, line);
            }
            cx += w;
        }
        h
    }

    fn draw_header(&self, layout: &mut Layout, x: f64, y: f64) -> f64 {
        let h = self.draw_row(layout, x, y, &self.header, Face::Bold);
        layout.rule(x, x + self.width(), y + h, 0.9, INK);
        h
    }

    /// Draws rows `rows` at (x, y) without breaking; returns the height used.
    fn draw_block(&self, layout: &mut Layout, x: f64, y: f64, rows: &[Vec<String>]) -> f64 {
        let mut cy = y + self.draw_header(layout, x, y);
        for row in rows {
            cy += self.draw_row(layout, x, cy, row, Face::Regular);
            layout.rule(x, x + self.width(), cy, 0.3, RULE);
        }
        cy - y
    }

    /// The side-by-side arrangement of a long, narrow table: rows per block and the
    /// height of the tallest block; `None` when the table is drawn as one block.
    fn blocks(&self, max_blocks: usize) -> Option<(usize, f64)> {
        let n = self.rows.len();
        let fit = ((WIDTH + BLOCK_GAP) / (self.width() + BLOCK_GAP)).floor() as usize;
        let blocks = fit.min(max_blocks).min(n.div_ceil(6)).max(1);
        if blocks < 2 {
            return None;
        }
        let per = n.div_ceil(blocks);
        let height = self
            .rows
            .chunks(per)
            .map(|rows| self.header_height() + self.rows_height(rows))
            .fold(0.0, f64::max);
        (height <= BOTTOM - TOP).then_some((per, height))
    }

    fn rows_height(&self, rows: &[Vec<String>]) -> f64 {
        rows.iter().map(|r| self.row_height(r, Face::Regular)).sum()
    }

    /// The height of the whole table as `place` draws it (on one page).
    fn height(&self, max_blocks: usize) -> f64 {
        self.blocks(max_blocks).map_or(
            self.header_height() + self.rows_height(&self.rows),
            |(_, h)| h,
        )
    }

    /// The height the table needs on a page to start there: all of it when it is
    /// arranged in blocks, else its header and first rows.
    fn start_height(&self, max_blocks: usize) -> f64 {
        self.blocks(max_blocks).map_or(
            self.header_height() + self.rows_height(&self.rows[..self.rows.len().min(3)]),
            |(_, h)| h,
        )
    }

    /// Draws the whole table at the left margin: side by side in up to `max_blocks`
    /// blocks when it is long and narrow and fits on one page, else flowing down the
    /// pages with its header repeated.
    fn place(&self, layout: &mut Layout, max_blocks: usize) {
        if let Some((per, height)) = self.blocks(max_blocks) {
            layout.ensure(height);
            let y = layout.y;
            for (i, rows) in self.rows.chunks(per).enumerate() {
                let x = LEFT + i as f64 * (self.width() + BLOCK_GAP);
                self.draw_block(layout, x, y, rows);
            }
            layout.y += height;
            return;
        }
        let n = self.rows.len();
        let mut i = 0;
        loop {
            layout.ensure(self.header_height() + self.rows_height(&self.rows[i..n.min(i + 3)]));
            let mut y = layout.y;
            y += self.draw_header(layout, LEFT, y);
            let mut drawn = 0;
            while i < n {
                let h = self.row_height(&self.rows[i], Face::Regular);
                if y + h > BOTTOM && drawn > 0 {
                    break;
                }
                y += self.draw_row(layout, LEFT, y, &self.rows[i], Face::Regular);
                layout.rule(LEFT, LEFT + self.width(), y, 0.3, RULE);
                i += 1;
                drawn += 1;
            }
            layout.y = y;
            if i >= n {
                break;
            }
            layout.new_page();
        }
    }
}

/// Space between side-by-side blocks of a table.
const BLOCK_GAP: f64 = 18.0;

/// A panel's table for print: the page's columns (no codes), numbers in the locale.
fn grid_of(table: &Table, stamp: &Stamp) -> Grid {
    let skip = |c: usize| table.has_code && c == 1;
    let columns: Vec<usize> = (0..table.columns.len()).filter(|c| !skip(*c)).collect();
    let header: Vec<String> = columns
        .iter()
        .map(|c| table.columns[*c].name.clone())
        .collect();
    let rows: Vec<Vec<String>> = table
        .rows
        .iter()
        .map(|row| {
            columns
                .iter()
                .map(|c| table.text(*c, &row[*c], stamp))
                .collect()
        })
        .collect();
    let aligns: Vec<Align> = columns
        .iter()
        .map(|c| {
            if table.columns[*c].decimals.is_some() {
                Align::Right
            } else {
                Align::Left
            }
        })
        .collect();
    // Number columns: as wide as their widest figure, their heading wrapping past
    // 95 pt; text columns share what is left (up to 45 % of the width each).
    let widest = |i: usize, cap: f64| {
        let head = header[i]
            .split_whitespace()
            .map(|w| style::text_width(w, TABLE, true))
            .fold(
                style::text_width(&header[i], TABLE, true).min(cap),
                f64::max,
            );
        rows.iter()
            .map(|r| style::text_width(&r[i], TABLE, false))
            .fold(head, f64::max)
            + 2.0 * CELL_PAD
            + 1.0
    };
    let mut widths: Vec<f64> = (0..columns.len())
        .map(|i| match aligns[i] {
            Align::Right => widest(i, 95.0).max(48.0),
            Align::Left => widest(i, f64::INFINITY).min(WIDTH * 0.45),
        })
        .collect();
    let total: f64 = widths.iter().sum();
    if total > WIDTH {
        let text_total: f64 = (0..widths.len())
            .filter(|i| aligns[*i] == Align::Left)
            .map(|i| widths[i])
            .sum();
        let numbers = total - text_total;
        let factor = ((WIDTH - numbers) / text_total).max(0.2);
        for (i, w) in widths.iter_mut().enumerate() {
            if aligns[i] == Align::Left {
                *w *= factor;
            }
        }
    }
    Grid {
        widths,
        aligns,
        header,
        rows,
    }
}

// --- the pack -----------------------------------------------------------------------

pub(super) struct Pack<'a> {
    pub(super) layout: Layout,
    pub(super) snapshot: &'a Snapshot,
    pub(super) stamp: Stamp,
    pub(super) locale: Locale,
    /// The notes programme leads wrote, when the document shows them: time charts
    /// then carry their numbered marks, with the notes listed under the chart.
    pub(super) notes: Option<&'a crate::definitions::Notes>,
}

impl Pack<'_> {
    pub(super) fn t<'s>(&self, fr: &'s str, en: &'s str) -> &'s str {
        self.locale.pick(fr, en)
    }

    /// A heading of the report's level below `heading`.
    pub(super) fn subheading(&mut self, text: &str) {
        // Kept with what follows it (a row of boxed figures).
        self.layout.ensure(line_height(BODY + 1.5) + 110.0);
        self.layout.paragraph(text, BODY + 1.5, Face::Bold, INK);
        self.layout.gap(2.0);
    }

    /// A paragraph of body text.
    pub(super) fn paragraph(&mut self, text: &str) {
        self.layout.paragraph(text, BODY, Face::Regular, INK);
        self.layout.gap(3.0);
    }

    pub(super) fn heading(&mut self, text: &str) {
        self.layout.paragraph(text, HEADING, Face::Bold, INK);
        self.layout.gap(2.0);
    }

    fn cover(&mut self, d: &Dashboard) {
        let l = self.locale;
        let kicker = self.t(
            "reintegra · Dossier de briefing",
            "reintegra · Briefing pack",
        );
        self.cover_with(
            kicker,
            l.pick(&d.title.fr, &d.title.en),
            l.pick(&d.summary.fr, &d.summary.en),
        );
    }

    /// A cover: kicker, title, summary, the stamp and the disclosure note.
    pub(super) fn cover_with(&mut self, kicker: &str, title: &str, summary: &str) {
        let l = self.locale;
        self.layout.paragraph(kicker, 9.0, Face::Bold, MUTED);
        self.layout.gap(2.0);
        self.layout.paragraph(title, 22.0, Face::Bold, INK);
        self.layout.gap(4.0);
        self.layout.paragraph(summary, 10.5, Face::Regular, INK);
        self.layout.gap(8.0);

        // The stamp: a label column and its values.
        let label_width = 110.0;
        let rows = [
            (
                self.t("Données au", "Data as of").to_string(),
                self.stamp.data_as_of.clone().unwrap_or_else(|| "–".into()),
            ),
            (
                self.t("Filtres appliqués", "Filters applied").to_string(),
                self.stamp.filters.clone(),
            ),
            (
                self.t("Version publiée", "Published version").to_string(),
                self.stamp.snapshot.clone(),
            ),
        ];
        for (label, value) in rows {
            let h = Layout::measure(&value, WIDTH - label_width, BODY, Face::Regular);
            self.layout.ensure(h);
            let y = self.layout.y;
            self.layout.text_at(LEFT, y, BODY, Face::Bold, INK, &label);
            self.layout.paragraph_at(
                LEFT + label_width,
                WIDTH - label_width,
                &value,
                BODY,
                Face::Regular,
                INK,
            );
        }
        self.layout.gap(8.0);

        // The disclosure note, framed, with how to read "<10" and "–".
        let t = self.stamp.threshold;
        let reading = match l {
            Locale::Fr => format!(
                "Dans les tableaux, « <{t} » est un effectif inférieur à {t}, non publié pour protéger les personnes comptées (ce n'est pas zéro) ; « – » signale qu'aucun chiffre n'est publié pour la combinaison."
            ),
            Locale::En => format!(
                "In the tables, “<{t}” is a count below {t}, not published to protect the people counted (it is not zero); “–” means no figure is published for the combination."
            ),
        };
        let pad = 8.0;
        let inner = WIDTH - 2.0 * pad;
        let title = self.t("Protection des données", "Data protection");
        let height = line_height(BODY)
            + Layout::measure(&self.stamp.note, inner, BODY, Face::Regular)
            + 3.0
            + Layout::measure(&reading, inner, SMALL, Face::Regular)
            + 2.0 * pad;
        self.layout.ensure(height);
        let top = self.layout.y;
        self.layout.frame(LEFT, top, WIDTH, height, 1.0, INK);
        self.layout.y += pad;
        self.layout
            .paragraph_at(LEFT + pad, inner, title, BODY, Face::Bold, INK);
        let note = self.stamp.note.clone();
        self.layout
            .paragraph_at(LEFT + pad, inner, &note, BODY, Face::Regular, INK);
        self.layout.gap(3.0);
        self.layout
            .paragraph_at(LEFT + pad, inner, &reading, SMALL, Face::Regular, MUTED);
        self.layout.y = top + height;
        self.layout.gap(16.0);
    }

    /// Headline figures, three to a row, boxed.
    pub(super) fn key_figures(
        &mut self,
        panels: &[&Panel],
        filters: &Filters,
        against: Option<crate::present::filters::Period>,
    ) {
        self.key_figures_titled(
            panels,
            filters,
            against,
            Some(("Chiffres clés", "Key figures")),
        );
    }

    /// Headline figures under `title` (none: the caller titled them).
    pub(super) fn key_figures_titled(
        &mut self,
        panels: &[&Panel],
        filters: &Filters,
        against: Option<crate::present::filters::Period>,
        title: Option<(&str, &str)>,
    ) {
        if panels.is_empty() {
            return;
        }
        let l = self.locale;
        self.layout.ensure(line_height(HEADING) + 80.0);
        if let Some((fr, en)) = title {
            let heading = self.t(fr, en);
            self.heading(heading);
            self.layout.gap(2.0);
        }
        const GAP: f64 = 10.0;
        const PAD: f64 = 7.0;
        let columns = 3;
        let box_w = (WIDTH - GAP * (columns - 1) as f64) / columns as f64;
        let inner = box_w - 2.0 * PAD - 3.0;
        let threshold = self.snapshot.threshold();
        for chunk in panels.chunks(columns) {
            // Each box: title, value, target, description.
            let contents: Vec<(String, String, Option<String>, String)> = chunk
                .iter()
                .map(|p| {
                    let title = l.pick(&p.title.fr, &p.title.en).to_string();
                    let desc = l.pick(&p.description.fr, &p.description.en).to_string();
                    match panels::figures(self.snapshot, p, filters, l) {
                        Ok(figures) => {
                            let f = figures.headline();
                            let value = f.text(figures.decimals, threshold, l);
                            // The page's comparison, in words, before the description.
                            let desc = match against {
                                Some(a) => {
                                    let change = crate::present::text::describe_change(
                                        &panels::change(self.snapshot, p, filters, a, l),
                                        figures.decimals,
                                        l,
                                    );
                                    let stop = if change.ends_with('.') { "" } else { "." };
                                    format!("{change}{stop} {desc}")
                                }
                                None => desc,
                            };
                            let target = p.target.as_ref().map(|t| {
                                let label = l.pick(&t.label.fr, &t.label.en);
                                match f.value() {
                                    Some(v) => {
                                        let share = (v / t.value * 100.0).round();
                                        format!(
                                            "{}{} {} ({label})",
                                            format_number(share, 0, l),
                                            if l == Locale::Fr { "\u{a0}%" } else { "%" },
                                            l.pick("de l'objectif", "of target"),
                                        )
                                    }
                                    None => label.to_string(),
                                }
                            });
                            (title, value, target, desc)
                        }
                        Err(_) => (
                            title,
                            "–".into(),
                            Some(
                                l.pick(
                                    "Non publié pour ces filtres.",
                                    "Not published for these filters.",
                                )
                                .to_string(),
                            ),
                            desc,
                        ),
                    }
                })
                .collect();
            let height_of =
                |(title, _, target, desc): &(String, String, Option<String>, String)| {
                    2.0 * PAD
                        + Layout::measure(title, inner, SMALL, Face::Bold)
                        + 26.0
                        + target
                            .as_ref()
                            .map_or(0.0, |t| Layout::measure(t, inner, SMALL, Face::Regular))
                        + 3.0
                        + Layout::measure(desc, inner, 7.5, Face::Regular)
                };
            let row_h = contents.iter().map(height_of).fold(0.0, f64::max);
            self.layout.ensure(row_h);
            let top = self.layout.y;
            for (i, (title, value, target, desc)) in contents.iter().enumerate() {
                let x = LEFT + i as f64 * (box_w + GAP);
                self.layout.frame(x, top, box_w, row_h, 0.6, RULE);
                self.layout.push(Op::Rect {
                    x,
                    y: top,
                    w: 3.0,
                    h: row_h,
                    colour: INK,
                });
                let tx = x + 3.0 + PAD;
                self.layout.y = top + PAD;
                self.layout
                    .paragraph_at(tx, inner, title, SMALL, Face::Bold, MUTED);
                let y = self.layout.y + 1.0;
                self.layout.text_at(tx, y, 19.0, Face::Bold, INK, value);
                self.layout.y = y + 25.0;
                if let Some(target) = target {
                    self.layout
                        .paragraph_at(tx, inner, target, SMALL, Face::Regular, INK);
                }
                self.layout.gap(3.0);
                self.layout
                    .paragraph_at(tx, inner, desc, 7.5, Face::Regular, MUTED);
            }
            self.layout.y = top + row_h + GAP;
        }
        self.layout.gap(8.0);
    }

    /// A chart panel: heading, description, the chart, its note, its values.
    pub(super) fn chart_panel(
        &mut self,
        d: &Dashboard,
        p: &Panel,
        filters: &Filters,
    ) -> Result<(), ExportError> {
        let l = self.locale;
        let title = l.pick(&p.title.fr, &p.title.en);
        let description = l.pick(&p.description.fr, &p.description.en);
        let head_height = Layout::measure(title, WIDTH, HEADING, Face::Bold)
            + 2.0
            + Layout::measure(description, WIDTH, BODY, Face::Regular)
            + 6.0;
        let figures: Option<Figures> = match panels::figures(self.snapshot, p, filters, l) {
            Ok(f) if !f.categories.is_empty() => Some(f),
            Ok(_) | Err(Unavailable::NotPublished | Unavailable::NoMeasure) => None,
        };
        let Some(figures) = figures else {
            self.layout.ensure(head_height + 2.0 * line_height(BODY));
            self.heading(title);
            self.layout
                .paragraph(description, BODY, Face::Regular, MUTED);
            self.layout.gap(4.0);
            let why = self.t(
                "Non publié pour ces filtres : pour protéger les personnes comptées, ce chiffre n'est publié que pour certaines combinaisons.",
                "Not published for these filters: to protect the people counted, this figure is published for some combinations only.",
            );
            self.layout.paragraph(why, BODY, Face::Oblique, INK);
            self.layout.gap(18.0);
            return Ok(());
        };
        let (marked, marks): (Vec<_>, Vec<_>) = self
            .notes
            .map(|notes| crate::present::notes::on_chart(notes, d, p, &figures, l))
            .unwrap_or_default()
            .into_iter()
            .unzip();
        let svg = chart::panel_svg(self.snapshot, l, p, &figures, &marks);
        let tree = usvg::Tree::from_str(&svg, &image::options())?;
        let note = p.note.as_ref().map(|n| l.pick(&n.fr, &n.en));
        let marked: Vec<String> = marked
            .iter()
            .map(|n| format!("{}. {} – {}", n.number, n.when, n.text))
            .collect();
        let note_height = note.map_or(0.0, |n| Layout::measure(n, WIDTH, SMALL, Face::Oblique))
            + marked
                .iter()
                .map(|n| Layout::measure(n, WIDTH, SMALL, Face::Regular))
                .sum::<f64>();
        self.titled_chart(tree, title, description, note_height);
        for n in &marked {
            self.layout.paragraph(n, SMALL, Face::Regular, INK);
        }
        if let Some(note) = note {
            self.layout.paragraph(note, SMALL, Face::Oblique, INK);
        }
        self.layout.gap(4.0);
        let table = Table::of_figures(self.snapshot, p, &figures, l);
        let grid = grid_of(&table, &self.stamp);
        let pages = self.layout.pages.len();
        self.layout
            .ensure(line_height(SMALL) + grid.start_height(3));
        let caption = self.t("Valeurs publiées", "Published values");
        // Away from its chart, the table says whose values it holds.
        let caption = if self.layout.pages.len() > pages {
            format!("{title} · {caption}")
        } else {
            caption.to_string()
        };
        self.layout.paragraph(&caption, SMALL, Face::Bold, INK);
        grid.place(&mut self.layout, 3);
        self.layout.gap(20.0);
        Ok(())
    }

    /// A chart under its heading and description, kept together with `after` points
    /// of what follows it (its notes). The chart is full width (less when taller than
    /// a page); rather than leave the rest of a page empty, it may shrink to 70 % of
    /// that to fit — not more, or its labels would fall under 7 pt. Its title and
    /// description are its alternate text.
    fn titled_chart(&mut self, tree: usvg::Tree, title: &str, description: &str, after: f64) {
        let head_height = Layout::measure(title, WIDTH, HEADING, Face::Bold)
            + 2.0
            + Layout::measure(description, WIDTH, BODY, Face::Regular)
            + 6.0;
        let (w_px, h_px) = (tree.size().width() as f64, tree.size().height() as f64);
        let around = head_height + 4.0 + after;
        let mut scale = (WIDTH / w_px).min((BOTTOM - TOP - around - 10.0) / h_px);
        let room = self.layout.room() - around;
        if h_px * scale > room {
            let fit = room / h_px;
            if fit >= 0.7 * scale {
                scale = fit;
            } else {
                self.layout.ensure(BOTTOM - TOP);
            }
        }
        let (w, h) = (w_px * scale, h_px * scale);
        self.heading(title);
        self.layout
            .paragraph(description, BODY, Face::Regular, MUTED);
        self.layout.gap(6.0);
        let index = self.layout.svgs.len();
        self.layout.svgs.push(tree);
        let y = self.layout.y;
        self.layout.push(Op::Svg {
            index,
            alt: format!("{title}. {description}"),
            x: LEFT + (WIDTH - w) / 2.0,
            y,
            w,
            h,
        });
        self.layout.y += h + 4.0;
    }

    /// A PONAM alignment table, with where its values come from.
    pub(super) fn ponam(&mut self, owner: &Dashboard, p: &Panel, annex: bool) {
        let l = self.locale;
        let table = Table::of_ponam(self.snapshot, owner, p, l);
        let mut grid = grid_of(&table, &self.stamp);
        // Two text columns (indicator, axis) share what the figures leave.
        let numbers: f64 = grid.widths[2..].iter().sum();
        let text = (WIDTH - numbers) / 2.0;
        grid.widths[0] = text;
        grid.widths[1] = text;
        let title = if annex {
            self.t(
                "Alignement sur la PONAM (Politique nationale de migration, 2014)",
                "PONAM alignment (National Migration Policy, 2014)",
            )
            .to_string()
        } else {
            table.title.clone()
        };
        let intro = table.description.clone();
        let scope = self.t(
            "Valeurs de l'ensemble du programme : les filtres de ce dossier ne s'appliquent pas à ce tableau.",
            "Whole-programme values: the filters of this pack do not apply to this table.",
        );
        let head = Layout::measure(&title, WIDTH, HEADING, Face::Bold)
            + 2.0
            + Layout::measure(&intro, WIDTH, BODY, Face::Regular)
            + Layout::measure(scope, WIDTH, SMALL, Face::Oblique)
            + 6.0;
        // Kept on one page when it fits on one.
        let whole = head + grid.height(1);
        self.layout.ensure(if whole <= BOTTOM - TOP {
            whole
        } else {
            head + grid.start_height(1)
        });
        self.heading(&title);
        self.layout.paragraph(&intro, BODY, Face::Regular, MUTED);
        self.layout.paragraph(scope, SMALL, Face::Oblique, INK);
        self.layout.gap(6.0);
        grid.place(&mut self.layout, 1);
        self.layout.gap(20.0);
    }

    /// A budget panel: its chart (when it draws one) and its table.
    pub(super) fn budget(
        &mut self,
        d: &Dashboard,
        p: &Panel,
        filters: &Filters,
    ) -> Result<(), ExportError> {
        let l = self.locale;
        let Some(table) = Table::of_budget(d, p, self.snapshot, filters, l) else {
            return Ok(());
        };
        let title = table.title.clone();
        let description = table.description.clone();
        let head_height = Layout::measure(&title, WIDTH, HEADING, Face::Bold)
            + 2.0
            + Layout::measure(&description, WIDTH, BODY, Face::Regular)
            + 6.0;
        let grid = grid_of(&table, &self.stamp);
        match super::budget_svg(self.snapshot, d, p, filters, l) {
            Some(svg) => {
                let tree = usvg::Tree::from_str(&svg, &image::options())?;
                self.titled_chart(tree, &title, &description, 0.0);
                self.layout.gap(4.0);
                self.layout
                    .ensure(line_height(SMALL) + grid.start_height(3));
                let caption = self.t("Valeurs publiées", "Published values");
                self.layout.paragraph(caption, SMALL, Face::Bold, INK);
            }
            None => {
                self.layout.ensure(head_height + grid.start_height(3));
                self.heading(&title);
                self.layout
                    .paragraph(&description, BODY, Face::Regular, MUTED);
                self.layout.gap(6.0);
            }
        }
        grid.place(&mut self.layout, 3);
        for (name, text) in &table.notes {
            self.layout.paragraph(
                &format!("{name}{} {text}", l.pick("\u{a0}:", ":")),
                SMALL,
                Face::Oblique,
                INK,
            );
        }
        self.layout.gap(20.0);
        Ok(())
    }

    /// The results framework for the pack's quarter, as a table.
    pub(super) fn results(&mut self, d: &Dashboard, p: &Panel, filters: &Filters) {
        let mut table = Table::of_results(self.snapshot, d, p, filters, self.locale);
        // On A4 the indicator's text needs the room: the result's id, the unit and the
        // source stay in the page's and the spreadsheet's table.
        let keep = |name: &str| {
            ![
                ("Résultat", "Result"),
                ("Unité", "Unit"),
                ("Source", "Source"),
            ]
            .iter()
            .any(|(fr, en)| name == *fr || name == *en)
        };
        let kept: Vec<usize> = (0..table.columns.len())
            .filter(|c| keep(&table.columns[*c].name))
            .collect();
        if !kept.is_empty() && !table.has_code {
            table.columns = kept.iter().map(|c| table.columns[*c].clone()).collect();
            table.rows = table
                .rows
                .iter()
                .map(|r| kept.iter().filter_map(|c| r.get(*c).cloned()).collect())
                .collect();
        }
        let mut grid = grid_of(&table, &self.stamp);
        // Figures as wide as their widest value (their headings wrap); the indicator's
        // text takes most of what is left, the status the rest.
        let numbers: Vec<usize> = (0..grid.widths.len())
            .filter(|i| grid.aligns[*i] == Align::Right)
            .collect();
        for &i in &numbers {
            grid.widths[i] = grid
                .rows
                .iter()
                .map(|r| style::text_width(&r[i], TABLE, false))
                .fold(0.0, f64::max)
                .max(40.0)
                .max(
                    grid.header[i]
                        .split_whitespace()
                        .map(|w| style::text_width(w, TABLE, true))
                        .fold(0.0, f64::max),
                )
                + 2.0 * CELL_PAD
                + 1.0;
        }
        let texts: Vec<usize> = (0..grid.widths.len())
            .filter(|i| grid.aligns[*i] == Align::Left)
            .collect();
        let left = WIDTH - numbers.iter().map(|i| grid.widths[*i]).sum::<f64>();
        if let [first, rest @ ..] = texts.as_slice() {
            let share = if rest.is_empty() { 1.0 } else { 0.74 };
            grid.widths[*first] = left * share;
            for i in rest {
                grid.widths[*i] = left * (1.0 - share) / rest.len() as f64;
            }
        }
        let title = table.title.clone();
        let intro = format!(
            "{} {}",
            table.description,
            table
                .notes
                .first()
                .map(|(k, v)| format!("{k}: {v}."))
                .unwrap_or_default()
        );
        let head = Layout::measure(&title, WIDTH, HEADING, Face::Bold)
            + 2.0
            + Layout::measure(&intro, WIDTH, BODY, Face::Regular)
            + 6.0;
        self.layout.ensure(head + grid.start_height(1));
        self.heading(&title);
        self.layout.paragraph(&intro, BODY, Face::Regular, MUTED);
        self.layout.gap(6.0);
        grid.place(&mut self.layout, 1);
        self.layout.gap(20.0);
    }

    /// The running foot of every page: what the pack is, its filters and date, and
    /// the page number.
    pub(super) fn feet(&mut self) {
        let count = self.layout.pages.len();
        let summary = self.stamp.summary();
        for (i, page) in self.layout.pages.iter_mut().enumerate() {
            let number = format!("{} / {count}", i + 1);
            let number_width = style::text_width(&number, 8.0, false);
            let y = BOTTOM + 22.0;
            page.push(Op::Line {
                from: (LEFT, y - 6.0),
                to: (RIGHT, y - 6.0),
                width: 0.5,
                colour: RULE,
            });
            for (j, line) in wrap(&summary, WIDTH - number_width - 20.0, 8.0, Face::Regular)
                .iter()
                .enumerate()
            {
                page.push(Op::Text {
                    x: LEFT,
                    y: baseline(y + j as f64 * line_height(8.0), 8.0),
                    size: 8.0,
                    face: Face::Regular,
                    colour: MUTED,
                    text: line.clone(),
                });
            }
            page.push(Op::Text {
                x: RIGHT - number_width,
                y: baseline(y, 8.0),
                size: 8.0,
                face: Face::Regular,
                colour: MUTED,
                text: number,
            });
        }
    }
}

/// Lays out and draws the briefing pack of `d` under `filters`.
pub fn render(
    snapshot: &Snapshot,
    dashboards: &[&Dashboard],
    d: &Dashboard,
    filters: &Filters,
    locale: Locale,
) -> Result<Vec<u8>, ExportError> {
    let stamp = Stamp::new(snapshot, d, filters, locale);
    let mut pack = Pack {
        layout: Layout::new(),
        snapshot,
        stamp,
        locale,
        notes: None,
    };
    pack.cover(d);
    let kpis: Vec<&Panel> = d
        .panels
        .iter()
        .filter(|p| p.kind == PanelKind::Kpi)
        .collect();
    let against = filters.against(&crate::present::filters::Options::of(d, snapshot));
    pack.key_figures(&kpis, filters, against);
    let mut has_ponam = false;
    for p in d.panels.iter().filter(|p| p.kind != PanelKind::Kpi) {
        if p.kind == PanelKind::Ponam {
            pack.ponam(d, p, false);
            has_ponam = true;
        } else if p.kind == PanelKind::Results {
            pack.results(d, p, filters);
        } else if p.kind == PanelKind::Budget {
            pack.budget(d, p, filters)?;
        } else {
            pack.chart_panel(d, p, filters)?;
        }
    }
    if !has_ponam {
        // Every pack ends with the policy alignment, from the dashboard that holds it.
        for owner in dashboards {
            for p in owner.panels.iter().filter(|p| p.kind == PanelKind::Ponam) {
                pack.ponam(owner, p, true);
            }
        }
    }
    pack.feet();
    draw(pack.layout, &pack.stamp, locale)
}

// --- drawing --------------------------------------------------------------------

fn font(bytes: &'static [u8]) -> Result<Font, ExportError> {
    Font::new(bytes.into(), 0).ok_or_else(|| ExportError::Pdf("cannot read DejaVu Sans".into()))
}

fn fill(colour: Colour) -> Fill {
    Fill {
        paint: rgb::Color::new(colour.0, colour.1, colour.2).into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }
}

/// The tag tree of a pack, built as it is drawn: its structure for screen readers and
/// reflow — headings (by size: the cover's title, section headings, subheadings),
/// paragraphs (consecutive lines of one style), figures with their alternate text.
/// Rules, boxes and page feet are artifacts. Tables are read row by row as
/// paragraphs (the layout draws cells as lines of text).
#[derive(Default)]
struct Tags {
    tree: Vec<TagGroup>,
    /// The group being filled, with the style and baseline of its last line.
    open: Option<(TagGroup, f64, f64, Face, f64)>,
}

impl Tags {
    fn text(&mut self, id: Identifier, text: &str, x: f64, y: f64, size: f64, face: Face) {
        // A line right under the previous one, in the same style, continues it.
        if let Some((group, last_x, last_y, last_face, last_size)) = &mut self.open {
            let next = (y - *last_y - line_height(size)).abs() < 0.5;
            if next && *last_face == face && *last_size == size && (*last_x - x).abs() < 0.5 {
                group.push(id);
                *last_y = y;
                return;
            }
        }
        self.close();
        let heading = |level: u16| -> TagKind {
            Tag::Hn(
                std::num::NonZeroU16::new(level).unwrap_or(std::num::NonZeroU16::MIN),
                Some(text.to_string()),
            )
            .into()
        };
        let kind: TagKind = match face {
            Face::Bold if size > HEADING => heading(1),
            Face::Bold if size >= HEADING => heading(2),
            Face::Bold if size > BODY => heading(3),
            _ => Tag::P.into(),
        };
        let mut group = TagGroup::new(kind);
        group.push(id);
        self.open = Some((group, x, y, face, size));
    }

    fn figure(&mut self, id: Identifier, alt: &str) {
        self.close();
        let mut group = TagGroup::new(Tag::Figure(Some(alt.to_string())));
        group.push(id);
        self.tree.push(group);
    }

    fn close(&mut self) {
        if let Some((group, ..)) = self.open.take() {
            self.tree.push(group);
        }
    }

    fn finish(mut self, locale: Locale) -> TagTree {
        self.close();
        let mut tree = TagTree::new().with_lang(Some(locale.code().to_string()));
        for group in self.tree {
            tree.push(group);
        }
        tree
    }
}

pub(super) fn draw(layout: Layout, stamp: &Stamp, locale: Locale) -> Result<Vec<u8>, ExportError> {
    let regular = font(dejavu::sans::regular())?;
    let bold = font(dejavu::sans::bold())?;
    let oblique = font(dejavu::sans::oblique())?;
    let mut document = Document::new();
    let size = PageSettings::from_wh(PAGE_W as f32, PAGE_H as f32)
        .ok_or_else(|| ExportError::Pdf("bad page size".into()))?;
    let svgs: Vec<Arc<usvg::Tree>> = layout.svgs.into_iter().map(Arc::new).collect();
    let mut tags = Tags::default();
    for ops in &layout.pages {
        let mut page = document.start_page_with(size.clone());
        let mut surface = page.surface();
        for op in ops {
            match op {
                Op::Text {
                    x,
                    y,
                    size,
                    face,
                    colour,
                    text,
                } => {
                    surface.set_stroke(None);
                    surface.set_fill(Some(fill(*colour)));
                    let font = match face {
                        Face::Regular => regular.clone(),
                        Face::Bold => bold.clone(),
                        Face::Oblique => oblique.clone(),
                    };
                    // Page feet (below the text area) are artifacts, repeated on every
                    // page; every other line is read in the order it was laid out.
                    let foot = *y > BOTTOM;
                    let id = if foot {
                        surface.start_tagged(ContentTag::Artifact(Artifact::new(
                            ArtifactType::Footer,
                            None,
                        )))
                    } else {
                        surface.start_tagged(ContentTag::Span(SpanTag::empty()))
                    };
                    surface.draw_text(
                        Point::from_xy(*x as f32, *y as f32),
                        font,
                        *size as f32,
                        text,
                        false,
                        TextDirection::Auto,
                    );
                    surface.end_tagged();
                    if !foot {
                        tags.text(id, text, *x, *y, *size, *face);
                    }
                }
                Op::Rect { x, y, w, h, colour } => {
                    let Some(rect) = Rect::from_xywh(*x as f32, *y as f32, *w as f32, *h as f32)
                    else {
                        continue;
                    };
                    let mut path = PathBuilder::new();
                    path.push_rect(rect);
                    if let Some(path) = path.finish() {
                        // Rules and boxes are decoration, not content.
                        surface.start_tagged(ContentTag::Artifact(Artifact::new(
                            ArtifactType::Other,
                            None,
                        )));
                        surface.set_stroke(None);
                        surface.set_fill(Some(fill(*colour)));
                        surface.draw_path(&path);
                        surface.end_tagged();
                    }
                }
                Op::Line {
                    from,
                    to,
                    width,
                    colour,
                } => {
                    let mut path = PathBuilder::new();
                    path.move_to(from.0 as f32, from.1 as f32);
                    path.line_to(to.0 as f32, to.1 as f32);
                    if let Some(path) = path.finish() {
                        surface.start_tagged(ContentTag::Artifact(Artifact::new(
                            ArtifactType::Other,
                            None,
                        )));
                        surface.set_fill(None);
                        surface.set_stroke(Some(Stroke {
                            paint: rgb::Color::new(colour.0, colour.1, colour.2).into(),
                            width: *width as f32,
                            ..Stroke::default()
                        }));
                        surface.draw_path(&path);
                        surface.set_stroke(None);
                        surface.end_tagged();
                    }
                }
                Op::Svg {
                    index,
                    alt,
                    x,
                    y,
                    w,
                    h,
                } => {
                    let (Some(tree), Some(size)) =
                        (svgs.get(*index), Size::from_wh(*w as f32, *h as f32))
                    else {
                        continue;
                    };
                    let id = surface.start_tagged(ContentTag::Other);
                    surface.push_transform(&Transform::from_translate(*x as f32, *y as f32));
                    surface.draw_svg(tree, size, SvgSettings::default());
                    surface.pop();
                    surface.end_tagged();
                    tags.figure(id, alt);
                }
            }
        }
        surface.finish();
        page.finish();
    }
    let title = match locale {
        Locale::Fr => format!("{} – dossier de briefing", stamp.dashboard),
        Locale::En => format!("{} – briefing pack", stamp.dashboard),
    };
    document.set_tag_tree(tags.finish(locale));
    document.set_metadata(
        Metadata::new()
            .title(title)
            .description(stamp.summary())
            .language(locale.code().to_string())
            .creator("reintegra".to_string()),
    );
    document
        .finish()
        .map_err(|e| ExportError::Pdf(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_table_flows_over_pages_with_its_header() {
        let grid = Grid {
            widths: vec![300.0, 80.0],
            aligns: vec![Align::Left, Align::Right],
            header: vec!["Site".into(), "Bénéficiaires".into()],
            rows: (0..200)
                .map(|i| vec![format!("Site {i}"), format!("{i}")])
                .collect(),
        };
        let mut layout = Layout::new();
        grid.place(&mut layout, 1);
        assert!(layout.pages.len() >= 3);
        for page in &layout.pages {
            assert!(
                page.iter().any(
                    |op| matches!(op, Op::Text { text, face: Face::Bold, .. } if text == "Site")
                )
            );
            for op in page {
                if let Op::Text { y, .. } = op {
                    assert!(*y <= BOTTOM + 1.0, "text below the content area");
                }
            }
        }
    }

    #[test]
    fn short_narrow_tables_go_side_by_side() {
        let grid = Grid {
            widths: vec![90.0, 50.0],
            aligns: vec![Align::Left, Align::Right],
            header: vec!["Mois".into(), "Retours".into()],
            rows: (0..24)
                .map(|i| vec![format!("m{i}"), format!("{i}")])
                .collect(),
        };
        let mut layout = Layout::new();
        grid.place(&mut layout, 3);
        assert_eq!(layout.pages.len(), 1);
        let headers = layout.pages[0]
            .iter()
            .filter(|op| matches!(op, Op::Text { text, .. } if text == "Mois"))
            .count();
        assert_eq!(headers, 3);
    }
}
