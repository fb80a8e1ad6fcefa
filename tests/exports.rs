//! Exports over real HTTP, each file opened by an independent reader: the csv crate for
//! CSV, calamine for XLSX, roxmltree for SVG, the png crate for PNG and lopdf for the
//! briefing pack. The same cells as the API, "<10" never a number, every file stamped.

mod common;

use std::collections::HashMap;
use std::io::Cursor;
use std::path::PathBuf;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use calamine::{Data, Reader, Xlsx};
use common::*;

/// A data folder built once from the committed fixtures (read-only for the tests).
static DATA: LazyLock<PathBuf> = LazyLock::new(|| built_data("exports-data"));

/// A server of the fixtures' snapshot read by an administrator's token; `cache` off
/// renders every file afresh.
async fn admin_app_with(cache: bool) -> TestApp {
    let data = tokio::task::spawn_blocking(|| DATA.clone()).await.unwrap();
    let settings = Settings {
        poll: Duration::from_millis(100),
        cache_pages: cache,
        ..Settings::new(data, repo().join("dashboards"))
    };
    spawn_app(settings)
        .await
        .with_token("exporter", reintegra::access::Role::Admin)
}

async fn admin_app() -> TestApp {
    admin_app_with(true).await
}

const BOM: &[u8] = b"\xef\xbb\xbf";

/// The table part of an exported CSV (up to the empty line) and its notes.
fn read_csv(bytes: &[u8], delimiter: u8) -> (Vec<String>, Vec<Vec<String>>, Vec<Vec<String>>) {
    assert!(bytes.starts_with(BOM), "UTF-8 with a byte order mark");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_reader(&bytes[BOM.len()..]);
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let mut in_notes = false;
    for record in reader.records() {
        let record: Vec<String> = record.unwrap().iter().map(String::from).collect();
        if record.iter().all(String::is_empty) {
            in_notes = true;
        } else if in_notes {
            notes.push(record);
        } else {
            rows.push(record);
        }
    }
    (header, rows, notes)
}

/// Text with every run of whitespace (no-break spaces too) made one space.
fn squash(text: &str) -> String {
    text.split(|c: char| c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn pdf_text(bytes: &[u8]) -> (usize, String) {
    let doc = lopdf::Document::load_mem(bytes).expect("a PDF lopdf reads");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).expect("its text extracts");
    (pages.len(), squash(&text))
}

/// The published cells of a measure by the value of one dimension: the number, or
/// `None` when suppressed.
async fn api_cells(app: &TestApp, measure: &str, by: &str) -> HashMap<String, Option<f64>> {
    let body = app
        .json(&format!("/api/v1/measures/{measure}?by={by}"))
        .await;
    body["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c[by].as_str().unwrap().to_string(),
                c["value"].as_f64().filter(|_| c["suppressed"] == false),
            )
        })
        .collect()
}

async fn returns_total(app: &TestApp) -> f64 {
    app.json("/api/v1/measures/returns").await["cells"][0]["value"]
        .as_f64()
        .unwrap()
}

fn grouped(value: f64, separator: &str) -> String {
    let digits = format!("{value:.0}");
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push_str(separator);
        }
        out.push(c);
    }
    out
}

#[tokio::test]
async fn panel_csv_holds_the_api_cells_with_a_bom_and_the_stamp() {
    let app = admin_app().await;
    let api = api_cells(&app, "returns", "region").await;
    let got = app.ok("/d/returns/panels/by-region.csv?lang=en").await;
    assert_eq!(got.header("content-type"), "text/csv; charset=utf-8");
    assert_eq!(
        got.header("content-disposition"),
        "attachment; filename=\"returns-by-region.csv\""
    );
    let (header, rows, notes) = read_csv(&got.body, b',');
    assert_eq!(header, ["Region", "Code", "Assisted returns"]);
    assert_eq!(rows.len(), api.len(), "one row per published cell");
    for row in &rows {
        let expected = api.get(&row[1]).unwrap_or_else(|| panic!("{row:?}"));
        match expected {
            Some(v) => assert_eq!(row[2], format!("{v:.0}"), "{row:?}"),
            None => assert_eq!(row[2], "<10", "{row:?}"),
        }
    }
    let list = app.json("/api/v1/measures").await;
    let note = list["note"]["en"].as_str().unwrap();
    let notes: HashMap<&str, &str> = notes
        .iter()
        .map(|n| (n[0].as_str(), n[1].as_str()))
        .collect();
    assert_eq!(notes["Data protection"], note);
    assert!(notes["Filters"].starts_with("none"));
    assert!(notes["Data as of"].contains("20"), "{notes:?}");

    // French Excel: `;`, a BOM, French headings; the same cells.
    let got = app
        .ok("/d/returns/panels/by-region.csv?lang=fr&sep=semicolon")
        .await;
    let (header, rows, notes) = read_csv(&got.body, b';');
    assert_eq!(header, ["Région", "Code", "Retours assistés"]);
    for row in &rows {
        match api[&row[1]] {
            Some(v) => assert_eq!(row[2], format!("{v:.0}")),
            None => assert_eq!(row[2], "<10"),
        }
    }
    let note_fr = list["note"]["fr"].as_str().unwrap();
    assert!(notes.iter().any(|n| n[1] == note_fr), "{notes:?}");
}

#[tokio::test]
async fn suppressed_figures_stay_below_the_threshold_sign_in_csv() {
    let app = admin_app().await;
    // The pyramid of returns has suppressed cells (few women of 60 and more).
    let got = app.ok("/d/returns/panels/pyramid.csv?lang=en").await;
    let (header, rows, notes) = read_csv(&got.body, b',');
    assert_eq!(
        header,
        ["Age band", "Women", "Men"],
        "bands have no code column"
    );
    let mut suppressed = 0;
    for row in &rows {
        for cell in &row[1..] {
            if cell == "<10" {
                suppressed += 1;
            } else {
                let v: f64 = cell.parse().unwrap_or_else(|_| panic!("{cell:?}"));
                assert!(v >= 10.0, "no published count below the threshold: {row:?}");
            }
        }
    }
    assert!(suppressed > 0, "{rows:?}");
    assert!(
        notes
            .iter()
            .any(|n| n[0] == "<10" && n[1].contains("not zero")),
        "{notes:?}"
    );
    // Means keep their decimal, with a comma for French Excel.
    let got = app
        .ok("/d/training/panels/scores.csv?lang=fr&sep=semicolon")
        .await;
    let (_, rows, _) = read_csv(&got.body, b';');
    assert!(
        rows.iter()
            .flat_map(|r| &r[2..])
            .any(|c| c.contains(',') && c.parse::<f64>().is_err()),
        "{rows:?}"
    );
}

#[tokio::test]
async fn panel_xlsx_has_number_cells_text_for_suppressed_and_a_notes_sheet() {
    let app = admin_app().await;
    let got = app
        .ok("/d/returns/panels/pyramid.xlsx?lang=en&period=2018")
        .await;
    assert_eq!(
        got.header("content-disposition"),
        "attachment; filename=\"returns-pyramid-2018.xlsx\""
    );
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(got.body)).unwrap();
    assert_eq!(book.sheet_names(), ["Figures", "Notes"]);
    let figures = book.worksheet_range("Figures").unwrap();
    let rows: Vec<&[Data]> = figures.rows().collect();
    let header = rows
        .iter()
        .position(|r| r.first() == Some(&Data::String("Age band".into())))
        .expect("a header row");
    assert_eq!(
        rows[header][1..3],
        [Data::String("Women".into()), Data::String("Men".into())]
    );
    let (mut numbers, mut suppressed) = (0, 0);
    for row in &rows[header + 1..] {
        for cell in &row[1..3] {
            match cell {
                Data::Float(v) => {
                    assert!(*v >= 10.0);
                    numbers += 1;
                }
                Data::String(s) if s == "<10" => suppressed += 1,
                other => panic!("a figure is a number or \"<10\", not {other:?}"),
            }
        }
    }
    assert!(numbers > 5 && suppressed > 0, "{numbers} {suppressed}");
    let notes = book.worksheet_range("Notes").unwrap();
    let notes: HashMap<String, String> = notes
        .rows()
        .map(|r| (r[0].to_string(), r[1].to_string()))
        .collect();
    assert_eq!(notes["Filters"], "2018");
    assert!(notes["Data protection"].contains("perturbed to protect privacy"));
    assert!(notes["<10"].contains("SUM skips them"), "{notes:?}");

    // A headline figure exports as one number cell (and its target).
    let got = app
        .ok("/d/overview/panels/beneficiaries.xlsx?lang=fr")
        .await;
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(got.body)).unwrap();
    let figures = book.worksheet_range("Chiffres").unwrap();
    let last = figures.rows().last().unwrap();
    assert!(matches!(last[1], Data::Float(v) if v > 1000.0), "{last:?}");
    assert_eq!(last[2], Data::Float(5000.0));
}

#[tokio::test]
async fn panel_png_is_wide_and_drawn() {
    let app = admin_app().await;
    for path in [
        "/d/returns/panels/by-region.png?lang=en",
        "/d/returns/panels/map.png",
        "/d/overview/panels/cumulative.png?lang=en",
        "/d/returns/panels/pyramid.png?sex=F",
    ] {
        let got = app.ok(path).await;
        assert_eq!(got.header("content-type"), "image/png");
        let decoder = png::Decoder::new(Cursor::new(got.body));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert!(info.width >= 1200, "{path}: {} px wide", info.width);
        let pixel = info.color_type.samples();
        let colours: std::collections::HashSet<&[u8]> =
            buf[..info.buffer_size()].chunks(pixel).collect();
        assert!(colours.len() > 16, "{path}: {} colours", colours.len());
    }
}

#[tokio::test]
async fn panel_svg_is_a_titled_document_and_a_map_is_the_map() {
    let app = admin_app().await;
    let got = app.ok("/d/returns/panels/by-month.svg?lang=en").await;
    assert_eq!(got.header("content-type"), "image/svg+xml");
    let svg = got.text();
    let doc = resvg::usvg::roxmltree::Document::parse(&svg).expect("well-formed XML");
    let root = doc.root_element();
    assert!(root.has_tag_name("svg"));
    let title = root
        .children()
        .find(|n| n.has_tag_name("title"))
        .and_then(|n| n.text());
    assert_eq!(title, Some("Returns by month"));
    assert!(svg.contains("perturbed to protect privacy"), "stamped");
    assert!(svg.contains("Data as of"));

    let svg = app.ok("/d/returns/panels/map.svg?place=ML01").await.text();
    resvg::usvg::roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert!(svg.contains("class=\"chart map\""), "the map's own SVG");
    assert!(svg.contains("Kayes") && svg.contains("&lt;10"));
    assert!(svg.contains("Filtres : Kayes"), "the filter is stamped");
}

#[tokio::test]
async fn briefing_pack_has_the_title_figures_note_and_ponam_table() {
    let app = admin_app().await;
    let total = returns_total(&app).await;
    let list = app.json("/api/v1/measures").await;
    for (lang, title, figure, ponam) in [
        (
            "fr",
            "Retours",
            grouped(total, "\u{202f}"),
            ["Axe de la PONAM", "Mineurs non accompagnés assistés"],
        ),
        (
            "en",
            "Returns",
            grouped(total, ","),
            ["PONAM axis", "Unaccompanied minors assisted"],
        ),
    ] {
        let started = Instant::now();
        let got = app
            .ok(&format!("/d/returns/briefing.pdf?lang={lang}"))
            .await;
        let elapsed = started.elapsed();
        assert_eq!(got.header("content-type"), "application/pdf");
        assert_eq!(
            got.header("content-disposition"),
            "attachment; filename=\"returns-briefing.pdf\""
        );
        assert!(got.body.starts_with(b"%PDF-"));
        let (pages, text) = pdf_text(&got.body);
        println!(
            "briefing pack returns/{lang}: {pages} pages, {} KiB, {} ms over HTTP (first request)",
            got.body.len() / 1024,
            elapsed.as_millis()
        );
        assert!(text.contains(title), "{lang}: the title");
        assert!(
            text.contains(&squash(&figure)),
            "{lang}: the total {figure}"
        );
        assert!(text.contains("<10"), "{lang}: suppressed figures");
        let note = squash(list["note"][lang].as_str().unwrap());
        assert!(text.contains(&note), "{lang}: the disclosure note\n{text}");
        for label in ponam {
            assert!(text.contains(label), "{lang}: {label}");
        }
    }
    // Filters are stated in the pack, and a page number on every page.
    let got = app
        .ok("/d/returns/briefing.pdf?lang=en&period=2018&place=ML01")
        .await;
    assert_eq!(
        got.header("content-disposition"),
        "attachment; filename=\"returns-briefing-2018-ML01.pdf\""
    );
    let (pages, text) = pdf_text(&got.body);
    assert!(text.contains("Filters applied 2018 · Kayes"), "{text}");
    assert!(text.contains(&format!("{pages} / {pages}")));
    // Every dashboard has its pack.
    for id in ["overview", "psychosocial", "campaigns", "training", "ponam"] {
        let got = app.ok(&format!("/d/{id}/briefing.pdf")).await;
        let (_, text) = pdf_text(&got.body);
        assert!(text.contains("Axe de la PONAM"), "{id}");
    }
}

#[tokio::test]
async fn a_pack_shows_only_what_its_reader_may_open() {
    // With public access on, a visitor gets the public overview's pack, but not the
    // PONAM table, which lives on a dashboard for signed-in roles only.
    let data = tokio::task::spawn_blocking(|| DATA.clone()).await.unwrap();
    let settings = Settings {
        public: true,
        ..Settings::new(data, repo().join("dashboards"))
    };
    let server = spawn_app(settings).await;
    let base = &server.base;
    let visitor = reqwest::Client::new();
    let got = visitor
        .get(format!("{base}/d/overview/briefing.pdf"))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status().as_u16(), 200);
    let (_, text) = pdf_text(&got.bytes().await.unwrap());
    assert!(text.contains("Vue d"), "the overview's pack");
    assert!(!text.contains("Axe de la PONAM"), "{text}");
    let denied = visitor
        .get(format!("{base}/d/ponam/briefing.pdf"))
        .send()
        .await
        .unwrap();
    assert!(
        denied.url().path().starts_with("/login"),
        "{}",
        denied.url()
    );
    // A signed-in reader's pack of the same dashboard ends with the table.
    let own = admin_app().await;
    let (_, text) = pdf_text(&own.ok("/d/overview/briefing.pdf").await.body);
    assert!(text.contains("Axe de la PONAM"));
}

/// How long one pack takes to render (no cache): `cargo test --release --test exports
/// -- --nocapture briefing_pack_time`.
#[tokio::test]
async fn briefing_pack_time() {
    let app = admin_app_with(false).await;
    for id in ["overview", "returns", "psychosocial"] {
        let mut times = Vec::new();
        let mut size = 0;
        for _ in 0..5 {
            let started = Instant::now();
            size = app
                .ok(&format!("/d/{id}/briefing.pdf?lang=fr"))
                .await
                .body
                .len();
            times.push(started.elapsed());
        }
        times.sort();
        println!(
            "briefing pack {id}: median {} ms (min {} ms, max {} ms), {} KiB",
            times[2].as_millis(),
            times[0].as_millis(),
            times[4].as_millis(),
            size / 1024
        );
        assert!(times[2] < Duration::from_secs(10));
    }
}

#[tokio::test]
async fn exports_answer_bad_values_with_400_and_unknown_ones_with_404() {
    let app = admin_app().await;
    for path in [
        "/d/returns/panels/by-region.csv?period=2031",
        "/d/returns/panels/by-region.xlsx?sex=X",
        "/d/returns/panels/by-region.png?place=ML99",
        "/d/returns/panels/by-region.svg?colour=red",
        "/d/returns/panels/by-region.csv?lang=de",
        "/d/returns/panels/by-region.csv?sep=tab",
        "/d/returns/panels/by-region.png?sep=semicolon",
        "/d/returns/briefing.pdf?age=18-99",
        "/d/training/briefing.pdf?place=ML01",
    ] {
        let got = app.get(path).await;
        assert_eq!(got.status, 400, "{path}");
        let html = got.text();
        assert!(html.contains("<html"), "{path}: the error page");
        assert!(!html.to_lowercase().contains("sql"), "{path}");
    }
    for path in [
        "/d/returns/panels/nope.csv",
        "/d/returns/panels/by-region.docx",
        "/d/returns/panels/by-region",
        "/d/nope/panels/by-region.csv",
        "/d/nope/briefing.pdf",
        "/d/returns/panels/total.png",
        "/d/ponam/panels/alignment.svg",
    ] {
        assert_eq!(app.get(path).await.status, 404, "{path}");
    }
    // Headline and PONAM figures export as tables.
    app.ok("/d/returns/panels/total.csv").await;
    let got = app.ok("/d/ponam/panels/alignment.csv?lang=en").await;
    let (header, rows, _) = read_csv(&got.body, b',');
    assert_eq!(header[1], "PONAM axis");
    assert!(rows.len() >= 9);
    // A combination the measure does not publish: said so, never a 500.
    let mut unpublished = 0;
    for panel in [
        "total",
        "map",
        "by-region",
        "by-month",
        "by-country",
        "pyramid",
    ] {
        for ext in ["csv", "xlsx", "svg", "png"] {
            let path = format!("/d/returns/panels/{panel}.{ext}?place=ML0105&sex=F&lang=en");
            let got = app.get(&path).await;
            assert!(matches!(got.status, 200 | 404), "{path}: {}", got.status);
            if got.status == 404 && got.text().contains("Not published for these filters") {
                unpublished += 1;
            }
        }
    }
    assert!(unpublished > 0);
}

#[tokio::test]
async fn exports_are_tagged_with_the_snapshot_and_revalidate() {
    let app = admin_app().await;
    let health = app.json("/healthz").await;
    let snapshot = health["snapshot"].as_str().unwrap();
    for path in [
        "/d/returns/panels/by-region.csv",
        "/d/returns/panels/by-region.png",
        "/d/overview/briefing.pdf",
    ] {
        let got = app.ok(path).await;
        let etag = got.header("etag");
        assert!(etag.contains(snapshot), "{path}: {etag}");
        let again = app
            .client
            .get(format!("{}{path}", app.base))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status().as_u16(), 304, "{path}");
    }
    let a = app.ok("/d/returns/panels/by-region.csv?lang=en").await;
    let b = app.ok("/d/returns/panels/by-region.csv?lang=fr").await;
    assert_ne!(
        a.header("etag"),
        b.header("etag"),
        "the language is in the tag"
    );
}

#[tokio::test]
async fn dashboard_pages_link_every_export_with_their_filters_and_language() {
    let app = admin_app().await;
    let html = app.ok("/d/returns?period=2018&lang=en").await.text();
    assert!(html.contains("href=\"/d/returns/briefing.pdf?lang=en&amp;period=2018\""));
    for panel in ["total", "map", "by-region", "by-month", "pyramid"] {
        let base = format!("/d/returns/panels/{panel}");
        assert!(
            html.contains(&format!("href=\"{base}.csv?lang=en&amp;period=2018\"")),
            "{panel}"
        );
        assert!(
            html.contains(&format!(
                "href=\"{base}.csv?lang=en&amp;period=2018&amp;sep=semicolon\""
            )),
            "{panel}"
        );
        assert!(html.contains(&format!("href=\"{base}.xlsx?lang=en&amp;period=2018\"")));
        let image = format!("href=\"{base}.png?lang=en&amp;period=2018\"");
        assert_eq!(html.contains(&image), panel != "total", "{panel}");
    }
    // French pages carry their language too, so a link opened elsewhere keeps it.
    let html = app.ok("/d/ponam").await.text();
    assert!(html.contains("href=\"/d/ponam/panels/alignment.xlsx?lang=fr\""));
    assert!(html.contains("href=\"/d/ponam/briefing.pdf?lang=fr\""));
    // Every link on every dashboard answers.
    for id in [
        "overview",
        "returns",
        "psychosocial",
        "campaigns",
        "training",
        "ponam",
    ] {
        let html = app.ok(&format!("/d/{id}?lang=en")).await.text();
        let links: Vec<String> = html
            .split("href=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .filter(|h| h.contains("/panels/") || h.contains("briefing.pdf"))
            .map(|h| h.replace("&amp;", "&"))
            .collect();
        assert!(links.len() > 3, "{id}");
        for link in links {
            app.ok(&link).await;
        }
    }
}
