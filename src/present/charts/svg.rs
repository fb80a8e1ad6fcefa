//! Writes the SVG document: the accessible root (`role="img"`, `<title>`, `<desc>`),
//! the hatching pattern of suppressed cells, and the few elements charts are made of.
//!
//! Written by hand rather than through plotters' `SVGBackend`: that backend fixes the
//! root's pixel width and height, cannot write `<title>`, `<desc>`, `<defs>`, groups,
//! dash patterns or fractional coordinates, and writes a `font-size` of size / 1.24
//! that does not match the size its own text measurement uses. plotters still
//! provides the font registry that measures every label (see `style`).
//!
//! Everything here escapes text and never writes script, styles or external links.

use std::fmt::Write as _;

use super::style;

/// Text anchoring along x.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn as_str(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// How a line is drawn.
#[derive(Debug, Clone, Copy)]
pub struct Stroke<'a> {
    pub colour: &'a str,
    pub width: f64,
    /// An SVG `stroke-dasharray`, e.g. "5 3".
    pub dash: Option<&'a str>,
}

impl<'a> Stroke<'a> {
    pub fn new(colour: &'a str, width: f64) -> Self {
        Stroke {
            colour,
            width,
            dash: None,
        }
    }
    pub fn dash(mut self, dash: Option<&'a str>) -> Self {
        self.dash = dash;
        self
    }
    fn attributes(&self) -> String {
        let dash = self
            .dash
            .map(|d| format!(r#" stroke-dasharray="{}""#, escape(d)))
            .unwrap_or_default();
        format!(
            r#"stroke="{}" stroke-width="{}"{dash}"#,
            escape(self.colour),
            num(self.width)
        )
    }
}

/// A text to draw; defaults: label size, body colour, regular weight.
#[derive(Debug, Clone)]
pub struct Label<'a> {
    pub x: f64,
    /// The baseline.
    pub y: f64,
    pub text: &'a str,
    pub anchor: Anchor,
    pub size: f64,
    pub fill: &'a str,
    pub bold: bool,
    /// A white outline behind the glyphs, for text that may cross a line.
    pub halo: bool,
}

impl<'a> Label<'a> {
    pub fn new(x: f64, y: f64, text: &'a str, anchor: Anchor) -> Self {
        Label {
            x,
            y,
            text,
            anchor,
            size: style::LABEL_SIZE,
            fill: style::TEXT,
            bold: false,
            halo: false,
        }
    }
    pub fn size(mut self, size: f64) -> Self {
        self.size = size;
        self
    }
    pub fn fill(mut self, fill: &'a str) -> Self {
        self.fill = fill;
        self
    }
    pub fn bold(mut self) -> Self {
        self.bold = true;
        self
    }
    pub fn halo(mut self) -> Self {
        self.halo = true;
        self
    }
}

/// The body of a chart under construction; `finish` wraps it in the root element.
pub struct Canvas {
    body: String,
    /// Prefix of every id in the document, unique per chart content.
    id: String,
}

impl Canvas {
    pub fn new(id: String) -> Self {
        Canvas {
            body: String::new(),
            id,
        }
    }

    /// `fill` value that paints the hatching of suppressed cells.
    pub fn hatch_fill(&self) -> String {
        format!("url(#{}-hatch)", self.id)
    }

    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str) {
        if w <= 0.0 || h <= 0.0 {
            return;
        }
        let _ = writeln!(
            self.body,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>"#,
            num(x),
            num(y),
            num(w),
            num(h),
            escape(fill)
        );
    }

    /// The stand-in for a suppressed cell: hatched, outlined, never a value.
    pub fn stub(&mut self, x: f64, y: f64, w: f64, h: f64, stroke: &str) {
        let fill = self.hatch_fill();
        let _ = writeln!(
            self.body,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="{}" stroke-width="1"/>"#,
            num(x + 0.5),
            num(y + 0.5),
            num((w - 1.0).max(1.0)),
            num((h - 1.0).max(1.0)),
            fill,
            escape(stroke)
        );
    }

    pub fn line(&mut self, (x1, y1): (f64, f64), (x2, y2): (f64, f64), stroke: Stroke<'_>) {
        let _ = writeln!(
            self.body,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" {}/>"#,
            num(x1),
            num(y1),
            num(x2),
            num(y2),
            stroke.attributes()
        );
    }

    /// An open polyline through `points`.
    pub fn polyline(&mut self, points: &[(f64, f64)], stroke: Stroke<'_>) {
        if points.len() < 2 {
            return;
        }
        let mut d = String::new();
        for (i, (x, y)) in points.iter().enumerate() {
            let _ = write!(
                d,
                "{}{} {}",
                if i == 0 { "M" } else { " L" },
                num(*x),
                num(*y)
            );
        }
        let _ = writeln!(
            self.body,
            r#"<path d="{d}" fill="none" {} stroke-linejoin="round" stroke-linecap="round"/>"#,
            stroke.attributes()
        );
    }

    /// A point marker; the shape changes with the series so markers differ without
    /// colour. `open` markers (white inside) stand for suppressed values.
    pub fn marker(&mut self, x: f64, y: f64, shape: usize, colour: &str, open: bool) {
        let (fill, stroke, sw) = if open {
            (style::BACKGROUND, colour, 1.5)
        } else {
            (colour, style::BACKGROUND, 1.0)
        };
        let (fill, stroke) = (escape(fill), escape(stroke));
        let _ = match shape % 3 {
            0 => writeln!(
                self.body,
                r#"<circle cx="{}" cy="{}" r="3.5" fill="{fill}" stroke="{stroke}" stroke-width="{sw}"/>"#,
                num(x),
                num(y)
            ),
            1 => writeln!(
                self.body,
                r#"<rect x="{}" y="{}" width="7" height="7" fill="{fill}" stroke="{stroke}" stroke-width="{sw}"/>"#,
                num(x - 3.5),
                num(y - 3.5)
            ),
            _ => writeln!(
                self.body,
                r#"<path d="M{} {} L{} {} L{} {} Z" fill="{fill}" stroke="{stroke}" stroke-width="{sw}"/>"#,
                num(x),
                num(y - 4.5),
                num(x + 4.5),
                num(y + 3.5),
                num(x - 4.5),
                num(y + 3.5)
            ),
        };
    }

    /// A note's numbered mark: a dark disc with its number in white, titled with the
    /// note (shown by browsers when pointed at, read by assistive technology).
    pub fn note_mark(&mut self, x: f64, y: f64, radius: f64, size: f64, number: &str, title: &str) {
        let _ = writeln!(
            self.body,
            concat!(
                r#"<g class="note-mark"><title>{title}</title>"#,
                r#"<circle cx="{x}" cy="{y}" r="{r}" fill="{fill}" stroke="{bg}" stroke-width="1.5"/>"#,
                r#"<text x="{x}" y="{baseline}" text-anchor="middle" font-size="{size}" font-weight="bold" fill="{bg}">{number}</text></g>"#
            ),
            title = escape(title),
            x = num(x),
            y = num(y),
            r = num(radius),
            fill = style::REFERENCE,
            bg = style::BACKGROUND,
            baseline = num(style::centred_baseline(y, size)),
            size = num(size),
            number = escape(number),
        );
    }

    pub fn text(&mut self, label: Label<'_>) {
        self.text_runs(&label, &[(label.text, label.bold)]);
    }

    /// One line of text made of runs of regular and bold text, placed and coloured as
    /// `label` (whose own text and weight are ignored). Runs are joined as they are:
    /// separate them with a no-break space, since renderers may drop a plain space at
    /// the edge of a run.
    pub fn text_runs(&mut self, label: &Label<'_>, runs: &[(&str, bool)]) {
        let Label {
            x,
            y,
            anchor,
            size,
            fill,
            halo,
            ..
        } = *label;
        let mut attrs = format!(r#"x="{}" y="{}""#, num(x), num(y));
        if anchor != Anchor::Start {
            let _ = write!(attrs, r#" text-anchor="{}""#, anchor.as_str());
        }
        if size != style::LABEL_SIZE {
            let _ = write!(attrs, r#" font-size="{}""#, num(size));
        }
        if fill != style::TEXT {
            let _ = write!(attrs, r#" fill="{}""#, escape(fill));
        }
        if halo {
            let _ = write!(
                attrs,
                r#" stroke="{}" stroke-width="3" stroke-linejoin="round" paint-order="stroke""#,
                style::BACKGROUND
            );
        }
        let mut content = String::new();
        match runs {
            [(text, true)] => {
                attrs.push_str(r#" font-weight="bold""#);
                content.push_str(&escape(text));
            }
            [(text, false)] => content.push_str(&escape(text)),
            _ => {
                for (text, bold) in runs {
                    if *bold {
                        let _ = write!(
                            content,
                            r#"<tspan font-weight="bold">{}</tspan>"#,
                            escape(text)
                        );
                    } else {
                        content.push_str(&escape(text));
                    }
                }
            }
        }
        let _ = writeln!(self.body, r#"<text {attrs}>{content}</text>"#);
    }

    /// The complete document.
    pub fn finish(
        self,
        width: f64,
        height: f64,
        class: &str,
        title: &str,
        description: &str,
    ) -> String {
        let id = &self.id;
        let mut out = String::with_capacity(self.body.len() + 1024);
        let _ = writeln!(
            out,
            concat!(
                r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" "#,
                r#"role="img" aria-labelledby="{id}-title {id}-desc" class="chart {class}" "#,
                r#"font-family="{font}" font-size="{size}" fill="{text}">"#
            ),
            w = num(width),
            h = num(height),
            id = id,
            class = escape(class),
            font = escape(style::FONT_FAMILY),
            size = num(style::LABEL_SIZE),
            text = style::TEXT,
        );
        let _ = writeln!(out, r#"<title id="{id}-title">{}</title>"#, escape(title));
        let _ = writeln!(
            out,
            r#"<desc id="{id}-desc">{}</desc>"#,
            escape(description)
        );
        if self.body.contains("-hatch)") {
            let _ = writeln!(
                out,
                concat!(
                    r#"<defs><pattern id="{id}-hatch" width="4" height="4" patternUnits="userSpaceOnUse" "#,
                    r#"patternTransform="rotate(45)"><rect width="4" height="4" fill="{bg}"/>"#,
                    r#"<rect width="1.5" height="4" fill="{hatch}"/></pattern></defs>"#
                ),
                id = id,
                bg = style::BACKGROUND,
                hatch = style::HATCH
            );
        }
        let _ = writeln!(
            out,
            r#"<rect width="{}" height="{}" fill="{}"/>"#,
            num(width),
            num(height),
            style::BACKGROUND
        );
        out.push_str(&self.body);
        out.push_str("</svg>\n");
        out
    }
}

/// A coordinate or length, rounded to 0.1 px: short, stable output.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return "0".to_string();
    }
    let r = (v * 10.0).round() / 10.0;
    let r = if r == 0.0 { 0.0 } else { r }; // no "-0"
    if r.fract() == 0.0 {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// Escapes text for XML content and attribute values, and drops characters XML 1.0
/// cannot carry (control characters from a bad label would make the page invalid).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_control_characters() {
        assert_eq!(
            escape(r#"Kayes & "Ségou" <b>'x'"#),
            "Kayes &amp; &quot;Ségou&quot; &lt;b&gt;&apos;x&apos;"
        );
        assert_eq!(escape("a\u{1}b\nc"), "ab c");
    }

    #[test]
    fn numbers_are_short_and_never_negative_zero() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(12.345), "12.3");
        assert_eq!(num(-0.01), "0");
        assert_eq!(num(f64::NAN), "0");
    }
}
