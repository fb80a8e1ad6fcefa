//! Every dialect the contract accepts reads to the same normalised rows.

mod common;

use std::path::Path;

use common::*;
use reintegra::domain::Kind;
use reintegra::extract::{self, contract};

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

/// The built-in register plus two sites of the data owner whose names hold separators,
/// quotes and accents (the sites of `sessions_table`).
fn context() -> extract::Context {
    let dir = tempfile::tempdir().unwrap();
    let reference = reintegra::reference::register_dir(dir.path());
    std::fs::create_dir_all(&reference).unwrap();
    std::fs::write(
        reference.join("sites.csv"),
        "code,region,cercle,name_fr,name_en\n\
         ML0103-11,ML01,ML0103,\"Centre \"\"Espoir\"\"; annexe, Kayes\",\"Espoir centre annex, Kayes\"\n\
         ML0103-12,ML01,ML0103,Maison des jeunes de Ségou-Koura,Ségou-Koura youth centre\n",
    )
    .unwrap();
    extract::Context {
        register: std::sync::Arc::new(reintegra::reference::Register::load(dir.path()).unwrap()),
        ..extract::Context::new(today())
    }
}

/// Reads a file and returns its normalised rows, failing on any problem.
fn normalised(path: &Path) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let extract = extract::read(
        path,
        &context(),
        &mut |_, row| rows.push(row.fields().map(String::from).collect()),
        &mut |_, _| {},
    );
    let problems: Vec<_> = extract.problems.iter().collect();
    assert!(problems.is_empty(), "{}: {problems:?}", path.display());
    rows
}

/// Sessions rows from the fixtures (of Kayes), with one site holding both separators and
/// quotes and one holding accented letters.
fn sessions_table() -> (Vec<String>, Vec<Vec<String>>) {
    let (header, rows) = read_fixture("sessions", 400);
    let cercle = column(&header, "cercle_pcode");
    let mut rows: Vec<Vec<String>> = rows
        .into_iter()
        .filter(|r| r[cercle] == "ML0103")
        .take(60)
        .collect();
    let site = column(&header, "site");
    rows[0][site] = "Centre \"Espoir\"; annexe, Kayes".to_string();
    rows[1][site] = "Maison des jeunes de Ségou-Koura".to_string();
    (header, rows)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn to_dmy(iso: &str) -> String {
    let (y, rest) = iso.split_at(4);
    format!("{}/{}/{}", &rest[4..6], &rest[1..3], y)
}

fn french_header(header: &[String]) -> Vec<String> {
    header
        .iter()
        .map(|h| {
            contract::find_column(Kind::Sessions, h)
                .unwrap()
                .fr
                .to_string()
        })
        .collect()
}

#[test]
fn every_csv_dialect_reads_to_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (header, rows) = sessions_table();
    let baseline = normalised(&write(
        dir.path(),
        "sessions.csv",
        to_csv(&header, &rows, b',', false).as_bytes(),
    ));
    assert_eq!(baseline.len(), 60);

    let date = column(&header, "session_date");
    let dmy_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r[date] = to_dmy(&r[date]);
            r
        })
        .collect();
    let messy_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut r = r.clone();
            for name in ["region_pcode", "cercle_pcode", "activity", "facilitator"] {
                let i = column(&header, name);
                r[i] = format!("  {} ", r[i].to_uppercase());
            }
            let i = column(&header, "region_pcode");
            r[i] = r[i].to_lowercase();
            r
        })
        .collect();
    let fr = french_header(&header);
    let semicolon = to_csv(&header, &rows, b';', false);
    let variants: Vec<(&str, Vec<u8>)> = vec![
        ("semicolon", semicolon.clone().into_bytes()),
        ("tab", to_csv(&header, &rows, b'\t', false).into_bytes()),
        (
            "bom",
            [
                b"\xEF\xBB\xBF".as_slice(),
                to_csv(&header, &rows, b',', false).as_bytes(),
            ]
            .concat(),
        ),
        ("crlf", to_csv(&header, &rows, b';', true).into_bytes()),
        (
            "windows-1252",
            encoding_rs::WINDOWS_1252.encode(&semicolon).0.into_owned(),
        ),
        (
            "dd/mm/yyyy",
            to_csv(&header, &dmy_rows, b',', false).into_bytes(),
        ),
        (
            "french headers",
            to_csv(&fr, &rows, b';', true).into_bytes(),
        ),
        (
            "messy codes",
            to_csv(&header, &messy_rows, b',', false).into_bytes(),
        ),
        (
            "all at once",
            encoding_rs::WINDOWS_1252
                .encode(&to_csv(&fr, &dmy_rows, b';', true))
                .0
                .into_owned(),
        ),
    ];
    for (name, bytes) in variants {
        let path = write(
            dir.path(),
            &format!("seances {}.csv", name.replace('/', "-")),
            &bytes,
        );
        assert_eq!(normalised(&path), baseline, "variant {name}");
    }
}

#[test]
fn windows_1252_accents_survive() {
    let dir = tempfile::tempdir().unwrap();
    let (header, rows) = sessions_table();
    let text = to_csv(&header, &rows, b';', true);
    let path = write(
        dir.path(),
        "sessions.csv",
        &encoding_rs::WINDOWS_1252.encode(&text).0,
    );
    let site = column(&header, "site");
    let read = normalised(&path);
    // Recognised by their names (accents and quotes intact), stored as register codes.
    assert_eq!(read[1][site], "ML0103-12");
    assert_eq!(read[0][site], "ML0103-11");
}

#[test]
fn xlsx_reads_like_csv_with_text_or_real_dates() {
    let dir = tempfile::tempdir().unwrap();
    let (header, rows) = sessions_table();
    let baseline = normalised(&write(
        dir.path(),
        "sessions.csv",
        to_csv(&header, &rows, b',', false).as_bytes(),
    ));
    let date = column(&header, "session_date");
    for real_dates in [false, true] {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (c, h) in french_header(&header).iter().enumerate() {
            sheet.write_string(0, c as u16, h).unwrap();
        }
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32 + 1, c as u16);
                if c as usize == date && real_dates {
                    let d = rust_xlsxwriter::ExcelDateTime::parse_from_str(cell).unwrap();
                    let format = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
                    sheet.write_datetime_with_format(r, c, &d, &format).unwrap();
                } else {
                    sheet.write_string(r, c, cell).unwrap();
                }
            }
        }
        let path = dir.path().join(format!("seances-{real_dates}.xlsx"));
        book.save(&path).unwrap();
        assert_eq!(
            normalised(&path),
            baseline,
            "xlsx with real dates: {real_dates}"
        );
    }
}

#[test]
fn the_kind_comes_from_the_columns_when_the_name_says_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (header, rows) = sessions_table();
    let path = write(
        dir.path(),
        "export_2019.csv",
        to_csv(&header, &rows, b',', false).as_bytes(),
    );
    let extract = extract::read(&path, &context(), &mut |_, _| {}, &mut |_, _| {});
    assert_eq!(extract.kind, Some(Kind::Sessions));
    assert!(extract.is_valid());
}

#[test]
fn rows_with_a_different_field_count_are_reported_by_row() {
    let dir = tempfile::tempdir().unwrap();
    let (header, rows) = sessions_table();
    let mut text = to_csv(&header, &rows[..3], b',', false);
    text.push_str("S1,P1,2019-05-01\n");
    let path = write(dir.path(), "sessions.csv", text.as_bytes());
    let extract = extract::read(&path, &context(), &mut |_, _| {}, &mut |_, _| {});
    let problems: Vec<_> = extract.problems.iter().collect();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].row, Some(5));
    assert_eq!(problems[0].rule.id(), "field-count");
}
