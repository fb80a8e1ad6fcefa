//! A panel's chart as a file: a standalone SVG — the page's own chart (or map), its
//! title above and its stamp below — and a PNG rasterised from that very SVG by resvg.
//!
//! Text is set with the DejaVu Sans bytes built into the binary, the font the charts
//! measure their labels with; system fonts are never loaded, so a PNG looks the same on
//! every server.

use std::fmt::Write as _;
use std::sync::{Arc, LazyLock};

use resvg::{tiny_skia, usvg};

use super::ExportError;
use crate::present::charts::style;
use crate::present::charts::svg::{escape, num};

/// The PNG is at least this wide (px), for slides and documents.
pub const MIN_PNG_WIDTH: f32 = 1200.0;

static FONTS: LazyLock<Arc<usvg::fontdb::Database>> = LazyLock::new(|| {
    let mut db = usvg::fontdb::Database::new();
    for font in [
        dejavu::sans::regular(),
        dejavu::sans::bold(),
        dejavu::sans::oblique(),
        dejavu::sans::bold_oblique(),
    ] {
        db.load_font_source(usvg::fontdb::Source::Binary(Arc::new(font)));
    }
    for set in [
        usvg::fontdb::Database::set_sans_serif_family,
        usvg::fontdb::Database::set_serif_family,
        usvg::fontdb::Database::set_monospace_family,
        usvg::fontdb::Database::set_cursive_family,
        usvg::fontdb::Database::set_fantasy_family,
    ] {
        set(&mut db, "DejaVu Sans");
    }
    Arc::new(db)
});

/// How SVG is read for exports: the embedded fonts only, nothing fetched.
pub fn options() -> usvg::Options<'static> {
    usvg::Options {
        fontdb: FONTS.clone(),
        font_family: "DejaVu Sans".to_string(),
        image_href_resolver: usvg::ImageHrefResolver {
            resolve_data: Box::new(|_, _, _| None),
            resolve_string: Box::new(|_, _| None),
        },
        ..usvg::Options::default()
    }
}

/// Width and height of an SVG document's `viewBox`.
pub fn view_box(svg: &str) -> Option<(f64, f64)> {
    let start = svg.find("viewBox=\"")? + "viewBox=\"".len();
    let end = start + svg[start..].find('"')?;
    let parts: Vec<f64> = svg[start..end]
        .split([' ', ','])
        .filter(|p| !p.is_empty())
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    match parts.as_slice() {
        [_, _, w, h] if *w > 0.0 && *h > 0.0 => Some((*w, *h)),
        _ => None,
    }
}

const PAD: f64 = 16.0;
const TITLE_SIZE: f64 = 17.0;
const TEXT_SIZE: f64 = 12.0;
const CAPTION_SIZE: f64 = 11.0;
/// Captions: 9.7:1 on white, legible in a photocopy.
const CAPTION: &str = "#3a3a3a";

/// What surrounds a chart in its file.
pub struct Frame<'a> {
    pub title: &'a str,
    pub description: &'a str,
    /// Lines under the chart: the panel's note, the stamp, the disclosure note.
    pub captions: &'a [String],
}

/// A standalone SVG document: the chart `chart` (an `<svg>` element with a `viewBox`,
/// as the page inlines it) framed by its title and captions.
pub fn standalone(chart: &str, frame: &Frame<'_>) -> Result<String, ExportError> {
    let (chart_width, chart_height) = view_box(chart).ok_or(ExportError::NoViewBox)?;
    let width = chart_width + 2.0 * PAD;
    let inner = width - 2.0 * PAD;
    let mut body = String::new();
    let mut y = PAD;
    let line = |body: &mut String, y: &mut f64, text: &str, size: f64, bold: bool, fill: &str| {
        for l in super::wrap(text, inner, size, bold) {
            let _ = writeln!(
                body,
                r#"<text x="{}" y="{}" font-size="{}"{} fill="{}">{}</text>"#,
                num(PAD),
                num(style::top_baseline(*y, size)),
                num(size),
                if bold { r#" font-weight="bold""# } else { "" },
                fill,
                escape(&l)
            );
            *y += size * 1.35;
        }
    };
    line(
        &mut body,
        &mut y,
        frame.title,
        TITLE_SIZE,
        true,
        style::TEXT,
    );
    if !frame.description.trim().is_empty() {
        y += 2.0;
        line(
            &mut body,
            &mut y,
            frame.description,
            TEXT_SIZE,
            false,
            CAPTION,
        );
    }
    y += 8.0;
    // The chart, nested at its own size: its root keeps its title, description and
    // ids, and only trades its fluid width for a place in the frame.
    let placed = chart.replacen(
        r#" width="100%""#,
        &format!(
            r#" x="{}" y="{}" width="{}" height="{}""#,
            num(PAD),
            num(y),
            num(chart_width),
            num(chart_height)
        ),
        1,
    );
    body.push_str(placed.trim_end());
    body.push('\n');
    y += chart_height + 10.0;
    let _ = writeln!(
        body,
        r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#9a9a9a" stroke-width="1"/>"##,
        num(PAD),
        num(y),
        num(width - PAD),
        num(y)
    );
    y += 8.0;
    for caption in frame.captions {
        line(&mut body, &mut y, caption, CAPTION_SIZE, false, CAPTION);
        y += 2.0;
    }
    let height = (y + PAD).ceil();
    let mut out = String::with_capacity(body.len() + 1024);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        concat!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" "#,
            r#"role="img" aria-labelledby="export-title export-desc" "#,
            r#"font-family="{font}" font-size="{size}" fill="{text}">"#
        ),
        w = num(width),
        h = num(height),
        font = escape(style::FONT_FAMILY),
        size = num(TEXT_SIZE),
        text = style::TEXT,
    );
    let _ = writeln!(
        out,
        r#"<title id="export-title">{}</title>"#,
        escape(frame.title)
    );
    let _ = writeln!(
        out,
        r#"<desc id="export-desc">{}</desc>"#,
        escape(&format!(
            "{} {}",
            frame.description,
            frame.captions.join(" ")
        ))
    );
    let _ = writeln!(
        out,
        r#"<rect width="{}" height="{}" fill="{}"/>"#,
        num(width),
        num(height),
        style::BACKGROUND
    );
    out.push_str(&body);
    out.push_str("</svg>\n");
    Ok(out)
}

/// Rasterises an SVG document to PNG, at least `MIN_PNG_WIDTH` px wide (twice its
/// size at the least, for sharp text on slides).
pub fn png(svg: &str) -> Result<Vec<u8>, ExportError> {
    let tree = usvg::Tree::from_str(svg, &options())?;
    let size = tree.size();
    let scale = (MIN_PNG_WIDTH / size.width()).max(2.0);
    let (w, h) = (
        (size.width() * scale).ceil() as u32,
        (size.height() * scale).ceil() as u32,
    );
    let mut pixmap = tiny_skia::Pixmap::new(w, h)
        .ok_or(ExportError::Png(format!("cannot allocate a {w}×{h} image")))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| ExportError::Png(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_boxes_are_read() {
        assert_eq!(
            view_box(r#"<svg viewBox="0 0 640 352.5" width="100%">"#),
            Some((640.0, 352.5))
        );
        assert_eq!(view_box("<svg>"), None);
    }

    #[test]
    fn a_framed_chart_is_one_document_with_the_chart_nested() {
        let chart = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 100" width="100%" role="img"><title>Chart</title><rect width="300" height="100" fill="#176b87"/></svg>"##;
        let svg = standalone(
            chart,
            &Frame {
                title: "Retours par région",
                description: "Région d'arrivée & cercle",
                captions: &["Données au 31 mai 2019".to_string()],
            },
        )
        .unwrap();
        let doc = usvg::roxmltree::Document::parse(&svg).unwrap();
        assert_eq!(
            doc.root_element()
                .children()
                .find(|n| n.has_tag_name("title"))
                .and_then(|n| n.text()),
            Some("Retours par région")
        );
        assert!(svg.contains(r#"x="16" y="#) && !svg.contains("100%"));
        let png = png(&svg).unwrap();
        assert!(png.starts_with(b"\x89PNG"));
    }
}
