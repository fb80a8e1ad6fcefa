//! The PII gate: identifying columns or values reject the whole file, and the value
//! found is never written to a log, an output or a report.

mod common;

use common::*;

/// Delivers `file` (a variant of a fixture) alone, runs the real binary, and returns
/// everything it printed plus the reports of the quarantined file.
fn ingest_alone(
    name: &str,
    text: &str,
) -> (Workspace, std::process::Output, String, serde_json::Value) {
    let ws = Workspace::new();
    ws.deliver(name, text.as_bytes());
    // The English report: what these tests look for is English (`phone`, `1 row: 6`).
    let out = ws.ingest_binary_with(&["--lang", "en"]);
    assert_eq!(out.status.code(), Some(3), "{}", common::text(&out));
    let report = std::fs::read_to_string(ws.quarantine().join(format!("{name}.report.txt")))
        .expect("a text report beside the quarantined file");
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ws.quarantine().join(format!("{name}.report.json"))).unwrap(),
    )
    .unwrap();
    assert!(
        ws.quarantine().join(name).is_file(),
        "the file is quarantined"
    );
    assert!(!ws.inbox().join(name).exists(), "the file left the inbox");
    (ws, out, report, json)
}

fn with_extra_column(kind: &str, column: &str, value: &str) -> String {
    let (mut header, mut rows) = read_fixture(kind, 20);
    header.push(column.to_string());
    for row in &mut rows {
        row.push(value.to_string());
    }
    to_csv(&header, &rows, b',', false)
}

fn with_cell(kind: &str, column_name: &str, row: usize, value: &str) -> String {
    let (header, mut rows) = read_fixture(kind, 20);
    let c = column(&header, column_name);
    rows[row][c] = value.to_string();
    to_csv(&header, &rows, b';', false)
}

fn assert_never_shown(
    value: &str,
    out: &std::process::Output,
    report: &str,
    json: &serde_json::Value,
) {
    let printed = text(out);
    assert!(
        !printed.contains(value),
        "the value leaked into the output:\n{printed}"
    );
    assert!(
        !report.contains(value),
        "the value leaked into the report:\n{report}"
    );
    assert!(
        !json.to_string().contains(value),
        "the value leaked into the JSON report"
    );
}

fn nothing_loaded(ws: &Workspace) {
    let total = ws.snapshot_number("SELECT coalesce(sum(value), 0) FROM cells_returns");
    let sessions = ws.snapshot_number("SELECT coalesce(sum(value), 0) FROM cells_attendances");
    assert_eq!(
        (total, sessions),
        (0.0, 0.0),
        "nothing from a rejected file is published"
    );
}

#[test]
fn rejects_extract_with_identifying_columns() {
    for (column, value, rule_kind) in [
        ("nom", "Traoré", "name"),
        ("Prénom", "Awa", "name"),
        ("telephone", "76 42 63 59", "phone"),
        ("E-mail", "awa.t@example.org", "e-mail"),
        ("adresse", "Rue 12 Porte 45", "address"),
        ("numero_passeport", "AA1234567", "passport"),
        ("NINA", "1234567890123", "ID"),
        ("latitude", "13.4412", "GPS"),
        ("date_de_naissance", "1990-04-02", "birth"),
    ] {
        let (ws, out, report, json) =
            ingest_alone("returns.csv", &with_extra_column("returns", column, value));
        assert!(report.contains("pii-column"), "{column}: {report}");
        // Named by position (the 12th column, L), never by the text of the header.
        assert!(report.contains("column #12 (L)"), "{column}: {report}");
        assert!(!report.contains(column), "{column}: {report}");
        assert!(
            report.contains(rule_kind),
            "{column} should be named as {rule_kind}: {report}"
        );
        assert_eq!(json["pii"], true);
        assert_never_shown(value, &out, &report, &json);
        nothing_loaded(&ws);
    }
}

#[test]
fn rejects_extract_with_phone_numbers() {
    for (kind, column_name, value) in [
        ("sessions", "site", "Centre de Kita, tel +223 76 42 63 59"),
        ("sessions", "site", "appeler 66123456"),
        ("returns", "person_ref", "0022376426359"),
        ("campaigns", "people_reached", "76426359"),
        ("campaigns", "event_ref", "+33 6 12 34 56 78"),
        ("trainings", "training_ref", "79.12.34.56"),
    ] {
        let (ws, out, report, json) = ingest_alone(
            &format!("{kind}.csv"),
            &with_cell(kind, column_name, 4, value),
        );
        assert!(report.contains("pii-value"), "{value}: {report}");
        assert!(
            report.contains(&format!("column {column_name}")),
            "{report}"
        );
        assert!(report.contains("1 row: 6"), "row 6 named: {report}");
        assert_eq!(
            json["problems"][0]["rows"][0],
            serde_json::json!([6, 6]),
            "{json}"
        );
        assert!(report.contains("phone"), "{report}");
        assert_never_shown(value, &out, &report, &json);
        nothing_loaded(&ws);
    }
}

#[test]
fn rejects_extract_with_email_addresses() {
    let value = "fatoumata.keita@example.ml";
    let (ws, out, report, json) = ingest_alone(
        "sessions.csv",
        &with_cell("sessions", "person_ref", 2, value),
    );
    assert!(
        report.contains("pii-value") && report.contains("e-mail"),
        "{report}"
    );
    assert_eq!(json["problems"][0]["rows"][0], serde_json::json!([4, 4]));
    assert_never_shown(value, &out, &report, &json);
    nothing_loaded(&ws);
}
