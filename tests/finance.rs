//! Finance extracts: monthly spending by budget line, output and currency, read in every
//! dialect, refused when they break the contract, loaded month by month, and published
//! as sums in the grant's currency that match the fixtures by hand.

mod common;

use std::collections::BTreeMap;

use common::*;
use reintegra::definitions::Budget;
use reintegra::domain::Month;
use reintegra::extract;
use reintegra::ingest::FileOutcome;

fn budget() -> Budget {
    Budget::load(&repo().join("dashboards/_budget.toml")).unwrap()
}

fn context() -> extract::Context {
    extract::Context {
        budget: Some(std::sync::Arc::new(budget())),
        ..extract::Context::new(chrono::Utc::now().date_naive())
    }
}

/// Reads a file with the project's budget and returns its normalised rows, failing on
/// any problem.
fn normalised(path: &std::path::Path) -> Vec<Vec<String>> {
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

#[test]
fn finance_files_read_the_same_in_every_dialect() {
    let dir = tempfile::tempdir().unwrap();
    let (header, rows) = read_fixture("finance", 40);
    let baseline_path = dir.path().join("finance.csv");
    std::fs::write(&baseline_path, to_csv(&header, &rows, b',', false)).unwrap();
    let baseline = normalised(&baseline_path);
    assert_eq!(baseline.len(), 40);
    // French headers, `;`, CRLF, decimal commas, months as French dates, labels for codes.
    let french: Vec<String> = ["Mois", "Ligne budgétaire", "Produit", "Montant", "Devise"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let (month, amount, output) = (
        column(&header, "month"),
        column(&header, "amount"),
        column(&header, "output"),
    );
    let written: Vec<Vec<String>> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut r = r.clone();
            r[amount] = r[amount].replace('.', ",");
            if i % 2 == 0 {
                let (y, m) = r[month].split_once('-').unwrap();
                r[month] = format!("15/{m}/{y}");
            }
            if r[output] == "awareness" {
                r[output] = "Information et sensibilisation".into();
            }
            r
        })
        .collect();
    let path = dir.path().join("depenses-2019.csv");
    std::fs::write(&path, to_csv(&french, &written, b';', true)).unwrap();
    assert_eq!(normalised(&path), baseline);
    // XLSX, amounts as real numbers.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in french.iter().enumerate() {
        sheet.write_string(0, c as u16, h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32 + 1, c as u16);
            if c as usize == amount {
                sheet
                    .write_number(r, c, cell.parse::<f64>().unwrap())
                    .unwrap();
            } else {
                sheet.write_string(r, c, cell).unwrap();
            }
        }
    }
    let path = dir.path().join("depenses.xlsx");
    book.save(&path).unwrap();
    assert_eq!(normalised(&path), baseline);
}

/// Delivers a finance file alone, runs the job and returns its JSON report.
fn quarantined(text: &str) -> (Workspace, serde_json::Value, String) {
    let ws = Workspace::new();
    ws.deliver("finance_bad.csv", text.as_bytes());
    let out = ws.ingest_binary_with(&["--lang", "en"]);
    assert_eq!(out.status.code(), Some(3), "{}", common::text(&out));
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ws.quarantine().join("finance_bad.csv.report.json")).unwrap(),
    )
    .unwrap();
    let report =
        std::fs::read_to_string(ws.quarantine().join("finance_bad.csv.report.txt")).unwrap();
    (ws, json, report + &common::text(&out))
}

fn with_cell(column_name: &str, row: usize, value: &str) -> String {
    let (header, mut rows) = read_fixture("finance", 20);
    let c = column(&header, column_name);
    rows[row][c] = value.to_string();
    to_csv(&header, &rows, b';', false)
}

#[test]
fn bad_finance_files_are_quarantined_naming_row_column_and_rule_never_the_value() {
    for (column_name, value, rule) in [
        ("budget_line", "salaires_directeur", "unknown-budget-line"),
        ("amount", "-1250.00", "negative-amount"),
        ("amount", "12,50 $", "invalid-amount"),
        ("currency", "EUR", "unknown-code"),
        ("month", "2019-14", "invalid-month"),
        ("month", "2018-06", "no-exchange-rate"),
        // A person's name typed where a code belongs, and a phone number in an amount.
        ("output", "Awa Traoré", "unknown-code"),
        ("amount", "+223 76 42 63 59", "pii-value"),
    ] {
        let (ws, json, text) = quarantined(&with_cell(column_name, 4, value));
        let problem = &json["problems"][0];
        assert_eq!(problem["rule"], rule, "{column_name}={value}: {json}");
        let expected_column = if rule == "no-exchange-rate" {
            "currency"
        } else {
            column_name
        };
        assert_eq!(problem["column"], expected_column, "{json}");
        assert_eq!(problem["rows"][0], serde_json::json!([6, 6]), "{json}");
        assert!(!problem["explanation"]["fr"].as_str().unwrap().is_empty());
        assert!(!problem["fix"]["en"].as_str().unwrap().is_empty());
        for leaked in [value, "Awa", "76 42"] {
            assert!(
                !text.contains(leaked) && !json.to_string().contains(leaked),
                "{leaked} leaked"
            );
        }
        assert!(
            !ws.published().join("CURRENT").exists()
                || ws.snapshot_number("SELECT count(*) FROM cells_spending WHERE value <> 0")
                    == 0.0
        );
    }
    // An identifying column rejects the file as carrying identifying data.
    let (header, rows) = read_fixture("finance", 5);
    let mut header = header;
    header.push("nom_fournisseur".into());
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|mut r| {
            r.push("Keïta".into());
            r
        })
        .collect();
    let (_ws, json, _) = quarantined(&to_csv(&header, &rows, b',', false));
    assert_eq!(json["pii"], true, "{json}");
}

/// Spending cells of a breakdown, by their dimension values.
fn spending(ws: &Workspace, breakdown: &str, dims: &str) -> BTreeMap<String, f64> {
    cells(ws, "spending", breakdown, dims)
}

fn cells(ws: &Workspace, measure: &str, breakdown: &str, dims: &str) -> BTreeMap<String, f64> {
    let conn = reintegra::snapshot::open_read_only(&ws.current_snapshot()).unwrap();
    let sql = format!(
        "SELECT concat_ws('|', {dims}), value FROM cells_{measure} WHERE breakdown = '{breakdown}'"
    );
    let mut stmt = conn.prepare(&sql).unwrap();
    stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, f64>(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The fixture's spending in USD by hand: each row times its month's rate.
fn by_hand() -> (BTreeMap<String, f64>, BTreeMap<String, f64>, f64) {
    let b = budget();
    let (header, rows) = read_fixture("finance", usize::MAX);
    let (month, line, amount, currency) = (
        column(&header, "month"),
        column(&header, "budget_line"),
        column(&header, "amount"),
        column(&header, "currency"),
    );
    let (mut lines, mut months, mut total) = (BTreeMap::new(), BTreeMap::new(), 0.0);
    for r in &rows {
        let rate = b
            .rate(Month::parse(&r[month]).unwrap(), &r[currency])
            .unwrap();
        let usd = r[amount].parse::<f64>().unwrap() * rate;
        *lines.entry(r[line].clone()).or_insert(0.0) += usd;
        *months.entry(r[month].clone()).or_insert(0.0) += usd;
        total += usd;
    }
    (lines, months, total)
}

#[test]
fn published_spending_equals_the_fixtures_summed_by_hand() {
    let ws = Workspace::new();
    ws.deliver_file(&fixtures().join("finance.csv"));
    let summary = ws.ingest();
    assert_eq!(summary.exit_code(), 0, "{:?}", summary.files);
    let (lines, months, total) = by_hand();
    let published_total = spending(&ws, "", "'total'")["total"];
    assert!(
        (published_total - total).abs() < 0.01,
        "{published_total} vs {total}"
    );
    let published = spending(&ws, "budget_line", "budget_line");
    assert_eq!(published.len(), 7, "{published:?}");
    for (line, usd) in &lines {
        assert!(
            (published[line] - usd).abs() < 0.01,
            "{line}: {} vs {usd}",
            published[line]
        );
    }
    let published = spending(&ws, "month", "month");
    for (month, usd) in &months {
        assert!((published[month] - usd).abs() < 0.01, "{month}");
    }
    // Cumulative spending ends at the total.
    let cumulative = cells(&ws, "spending_cumulative", "through_month", "through_month");
    assert!(
        (cumulative["2020-03"] - total).abs() < 0.01,
        "{cumulative:?}"
    );
    // Near the plan of 280,000 USD, not above it.
    assert!((230_000.0..280_000.0).contains(&total), "{total}");
}

#[test]
fn finance_redelivery_changes_nothing_and_a_correction_replaces_its_months_only() {
    let ws = Workspace::new();
    ws.deliver_file(&fixtures().join("finance.csv"));
    ws.ingest();
    let before = ws.published_bytes();
    ws.deliver_file(&fixtures().join("finance.csv"));
    let summary = ws.ingest();
    assert!(matches!(summary.files[0].outcome, FileOutcome::Duplicate));
    assert!(summary.published.is_none());
    assert_eq!(ws.published_bytes(), before);
    let months_before = spending(&ws, "month", "month");
    // A correction of July 2019: one line of staff, nothing else that month.
    ws.deliver(
        "depenses_2019-07_corrigees.csv",
        "mois;ligne_budgetaire;produit;montant;devise\n2019-07;staff;coordination;1 000,00;CHF\n"
            .as_bytes(),
    );
    let summary = ws.ingest();
    match &summary.files[0].outcome {
        FileOutcome::Accepted {
            rows,
            replaced,
            span,
        } => {
            assert_eq!((*rows, span.to_string()), (1, "2019-07".to_string()));
            assert!(*replaced > 1);
        }
        other => panic!("{other:?}"),
    }
    let months_after = spending(&ws, "month", "month");
    let july_rate = budget()
        .rate(
            Month {
                year: 2019,
                month: 7,
            },
            "CHF",
        )
        .unwrap();
    for (month, value) in &months_after {
        if month == "2019-07" {
            assert!((value - 1000.0 * july_rate).abs() < 0.01, "{value}");
        } else {
            assert_eq!(Some(value), months_before.get(month), "{month} untouched");
        }
    }
}
