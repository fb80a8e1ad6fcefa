//! The nightly job end to end: loads, quarantine, re-delivery, corrections, the lock,
//! exit codes, and what a snapshot may hold.

mod common;

use common::*;
use reintegra::ingest::FileOutcome;

fn returns_by_month(ws: &Workspace) -> Vec<(String, Option<f64>)> {
    let conn = reintegra::snapshot::open_read_only(&ws.current_snapshot()).unwrap();
    let mut stmt = conn
        .prepare("SELECT month, value FROM cells_returns WHERE breakdown = 'month' ORDER BY month")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn fixtures_load_and_publish_every_measure() {
    let ws = Workspace::new();
    ws.deliver_fixtures();
    let summary = ws.ingest();
    assert_eq!(summary.exit_code(), 0);
    assert_eq!(summary.files.len(), 5);
    assert!(
        summary
            .files
            .iter()
            .all(|f| matches!(f.outcome, FileOutcome::Accepted { .. }))
    );
    assert!(summary.published.is_some());
    // The programme's published figure, perturbed by at most 5.
    let total = ws.snapshot_number("SELECT value FROM cells_returns WHERE breakdown = ''");
    assert!((total - 11_505.0).abs() <= 5.0, "returns total {total}");
    let beneficiaries =
        ws.snapshot_number("SELECT value FROM cells_beneficiaries WHERE breakdown = ''");
    assert!(beneficiaries > 5_000.0, "{beneficiaries}");
    let measures = ws.snapshot_values("SELECT id FROM measures ORDER BY id");
    assert!(measures.len() >= 9, "{measures:?}");
    for id in measures {
        let n = ws.snapshot_number(&format!("SELECT count(*) FROM cells_{id}"));
        assert!(n > 0.0, "measure {id} has cells");
    }
    // Inbox emptied: accepted files are archived on the job side.
    assert_eq!(std::fs::read_dir(ws.inbox()).unwrap().count(), 0);
}

#[test]
fn quarantine_leaves_the_published_snapshot_byte_identical() {
    let ws = Workspace::new();
    ws.deliver_fixtures();
    ws.ingest();
    let before = ws.published_bytes();
    let (header, mut rows) = read_fixture("returns", 30);
    let c = column(&header, "region_pcode");
    rows[7][c] = "ML42".into();
    ws.deliver(
        "retours_correction.csv",
        to_csv(&header, &rows, b',', false).as_bytes(),
    );
    let out = ws.ingest_binary_with(&["--lang", "en"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert_eq!(
        ws.published_bytes(),
        before,
        "CURRENT and the snapshot are untouched"
    );
    let report =
        std::fs::read_to_string(ws.quarantine().join("retours_correction.csv.report.txt")).unwrap();
    assert!(
        report.contains("column region_pcode: unknown-pcode"),
        "{report}"
    );
    assert!(report.contains("1 row: 9"), "{report}");
    assert!(!report.contains("ML42"), "{report}");
}

#[test]
fn a_bad_file_does_not_stop_good_files_of_the_same_run() {
    let ws = Workspace::new();
    ws.deliver_fixtures();
    ws.deliver(
        "campagnes_bad.csv",
        b"event_ref;event_date\nE1;2019-05-01\n",
    );
    let out = ws.ingest_binary_with(&["--lang", "en"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let total = ws.snapshot_number("SELECT value FROM cells_returns WHERE breakdown = ''");
    assert!(total > 11_000.0);
    let report =
        std::fs::read_to_string(ws.quarantine().join("campagnes_bad.csv.report.txt")).unwrap();
    assert!(
        report.contains("column channel: missing-column"),
        "{report}"
    );
}

#[test]
fn quarantined_files_are_readable_by_the_job_only_and_purged_after_their_time() {
    use std::os::unix::fs::PermissionsExt;
    let ws = Workspace::new();
    ws.deliver(
        "campagnes_bad.csv",
        b"event_ref;event_date\nE1;2019-05-01\n",
    );
    ws.ingest();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&ws.quarantine()), 0o700);
    let names: Vec<_> = std::fs::read_dir(ws.quarantine())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    for p in &names {
        assert_eq!(mode(p), 0o600, "{}", p.display());
    }
    // Younger than the limit: kept.
    let out = reintegra(&[
        "ingest",
        "--inbox",
        ws.inbox().to_str().unwrap(),
        "--data",
        ws.data().to_str().unwrap(),
        "--queries",
        queries().to_str().unwrap(),
        "--policy",
        policy().to_str().unwrap(),
        "--purge-quarantine-after",
        "1h",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(std::fs::read_dir(ws.quarantine()).unwrap().count(), 3);
    // Past it: the file and both reports go, and the deletion is recorded.
    let mut options = ws.options();
    options.purge_quarantine_after = std::time::Duration::ZERO;
    reintegra::ingest::run(&options).unwrap();
    assert_eq!(std::fs::read_dir(ws.quarantine()).unwrap().count(), 0);
    let store = reintegra::store::PrivateStore::open(&ws.data().join("private")).unwrap();
    let purges = store.purges().unwrap();
    assert_eq!(purges.len(), 1);
    assert_eq!(purges[0].0, "campagnes_bad.csv");
}

#[test]
fn redelivering_the_same_file_changes_nothing() {
    let ws = Workspace::new();
    ws.deliver_fixtures();
    ws.ingest();
    let before = ws.published_bytes();
    ws.deliver_file(&fixtures().join("returns.csv"));
    let summary = ws.ingest();
    assert_eq!(summary.exit_code(), 0);
    assert!(matches!(summary.files[0].outcome, FileOutcome::Duplicate));
    assert!(summary.published.is_none());
    assert_eq!(ws.published_bytes(), before);
    // A run with an empty inbox publishes nothing either.
    let summary = ws.ingest();
    assert!(summary.files.is_empty() && summary.published.is_none());
    assert_eq!(ws.published_bytes(), before);
}

#[test]
fn a_corrected_extract_replaces_only_the_months_it_covers() {
    let ws = Workspace::new();
    ws.deliver_file(&fixtures().join("returns.csv"));
    ws.ingest();
    let before = returns_by_month(&ws);
    // The correction for June 2018 keeps only the first ten of its rows.
    let mut reader = csv::Reader::from_path(fixtures().join("returns.csv")).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let date = column(&header, "return_date");
    let june: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect::<Vec<_>>())
        .filter(|r| r[date].starts_with("2018-06"))
        .take(10)
        .collect();
    assert_eq!(june.len(), 10);
    ws.deliver(
        "returns_2018-06_corrected.csv",
        to_csv(&header, &june, b',', false).as_bytes(),
    );
    let summary = ws.ingest();
    match &summary.files[0].outcome {
        FileOutcome::Accepted {
            rows,
            replaced,
            span,
        } => {
            assert_eq!(*rows, 10);
            assert!(*replaced > 10);
            assert_eq!(span.to_string(), "2018-06");
        }
        other => panic!("{other:?}"),
    }
    let after = returns_by_month(&ws);
    assert_eq!(before.len(), after.len());
    for ((m1, v1), (m2, v2)) in before.iter().zip(&after) {
        assert_eq!(m1, m2);
        if m1 == "2018-06" {
            // Ten people, perturbed by at most 5; below 10 it is suppressed.
            assert!(v2.is_none_or(|v| (10.0..=15.0).contains(&v)), "{v2:?}");
            assert!(v1.unwrap() > 100.0);
        } else {
            assert_eq!(v1, v2, "month {m1} is untouched");
        }
    }
}

#[test]
fn every_load_is_recorded() {
    let ws = Workspace::new();
    ws.deliver_fixtures();
    ws.ingest();
    ws.deliver_file(&fixtures().join("trainings.csv"));
    ws.deliver("sessions_bad.csv", b"nothing,useful\n1,2\n");
    ws.ingest();
    let store = reintegra::store::PrivateStore::open(&ws.data().join("private")).unwrap();
    let loads = store.loads().unwrap();
    let outcomes: Vec<_> = loads
        .iter()
        .map(|l| (l.file.as_str(), l.outcome.as_str()))
        .collect();
    assert_eq!(outcomes.len(), 7, "{outcomes:?}");
    assert!(outcomes.contains(&("trainings.csv", "duplicate")));
    assert!(outcomes.contains(&("sessions_bad.csv", "rejected")));
    let returns = loads.iter().find(|l| l.file == "returns.csv").unwrap();
    assert_eq!(returns.rows, 11_505);
    assert_eq!(returns.span.unwrap().to_string(), "2017-05..2019-03");
    assert_eq!(returns.sha256.len(), 64);
}

#[test]
fn a_second_ingest_waits_its_turn() {
    let ws = Workspace::new();
    std::fs::create_dir_all(ws.data()).unwrap();
    let lock = std::fs::File::create(ws.data().join("ingest.lock")).unwrap();
    lock.lock().unwrap();
    let out = ws.ingest_binary();
    assert_eq!(out.status.code(), Some(75));
    assert!(
        text(&out).contains("another ingest is running"),
        "{}",
        text(&out)
    );
    drop(lock);
    let out = ws.ingest_binary();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn snapshots_hold_no_person_ref_and_no_person_level_table() {
    let ws = Workspace::new();
    ws.deliver_fixtures();
    ws.ingest();
    let conn = reintegra::snapshot::open_read_only(&ws.current_snapshot()).unwrap();
    let columns: Vec<(String, String)> = {
        let mut stmt = conn
            .prepare("SELECT table_name, column_name FROM information_schema.columns")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    for (table, column) in &columns {
        assert!(
            !column.contains("person") && !column.ends_with("_ref"),
            "{table}.{column}"
        );
    }
    let tables: Vec<String> = columns.iter().map(|c| c.0.clone()).collect();
    for table in [
        "returns",
        "sessions",
        "campaigns",
        "trainings",
        "finance",
        "exchange_rates",
        "loads",
    ] {
        assert!(
            !tables.contains(&table.to_string()),
            "{table} is not published"
        );
    }
    // Every cells table is aggregated: no more rows than the programme's distinct cells,
    // and every text value is a dimension code, never a reference from the extracts.
    let mut refs = std::collections::HashSet::new();
    for kind in ["returns", "sessions", "trainings", "campaigns"] {
        let mut reader = csv::Reader::from_path(fixtures().join(format!("{kind}.csv"))).unwrap();
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        let cols: Vec<usize> = header
            .iter()
            .enumerate()
            .filter(|(_, h)| h.ends_with("_ref"))
            .map(|(i, _)| i)
            .collect();
        for r in reader.records() {
            let r = r.unwrap();
            for &c in &cols {
                refs.insert(r[c].to_string());
            }
        }
    }
    for (table, column) in &columns {
        let mut stmt = conn
            .prepare(&format!(
                "SELECT DISTINCT CAST(\"{column}\" AS VARCHAR) FROM \"{table}\""
            ))
            .unwrap();
        let values: Vec<Option<String>> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for v in values.into_iter().flatten() {
            assert!(
                !refs.contains(&v),
                "{table}.{column} holds a reference from an extract"
            );
        }
    }
}

#[test]
fn check_lists_every_problem_without_loading() {
    let dir = tempfile::tempdir().unwrap();
    let (header, mut rows) = read_fixture("returns", 10);
    rows[2][column(&header, "sex")] = "X".into();
    rows[5][column(&header, "return_date")] = "31/02/2018".into();
    std::fs::write(
        dir.path().join("returns.csv"),
        to_csv(&header, &rows, b',', false),
    )
    .unwrap();
    let out = reintegra(&[
        "check",
        "--lang",
        "en",
        dir.path().join("returns.csv").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let printed = text(&out);
    assert!(printed.contains("column sex: unknown-code"), "{printed}");
    assert!(printed.contains("row 4"), "{printed}");
    assert!(
        printed.contains("column return_date: invalid-date"),
        "{printed}"
    );
    assert!(printed.contains("row 7"), "{printed}");
    assert!(!printed.contains("31/02/2018"));
    let out = reintegra(&["check", fixtures().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = reintegra(&["check", queries().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn a_site_outside_the_register_or_its_cercle_is_refused_and_never_quoted() {
    let ws = Workspace::new();
    let (header, mut rows) = read_fixture("sessions", 40);
    let site = column(&header, "site");
    rows[3][site] = "Domicile de Awa Traoré".into();
    // A real site, but of Kita, on a row of another cercle.
    let cercle = column(&header, "cercle_pcode");
    let i = rows.iter().position(|r| r[cercle] != "ML0105").unwrap();
    rows[i][site] = "ML0105-01".into();
    ws.deliver(
        "seances.csv",
        to_csv(&header, &rows, b',', false).as_bytes(),
    );
    let out = ws.ingest_binary_with(&["--lang", "en"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let report = std::fs::read_to_string(ws.quarantine().join("seances.csv.report.txt")).unwrap();
    assert!(report.contains("column site: unknown-site"), "{report}");
    assert!(
        report.contains(&format!(
            "rows: {}",
            [5, i as u64 + 2].iter().min().unwrap()
        )) || report.contains("2 rows"),
        "{report}"
    );
    assert!(
        !report.contains("Awa") && !report.contains("Domicile"),
        "{report}"
    );
}

#[test]
fn the_data_owner_adds_a_site_and_a_country_without_a_rebuild() {
    let ws = Workspace::new();
    let reference = reintegra::reference::register_dir(&ws.data());
    std::fs::create_dir_all(&reference).unwrap();
    std::fs::write(
        reference.join("sites.csv"),
        "code,region,cercle,name_fr,name_en\nML0104-01,ML01,ML0104,Centre d'écoute de Nioro,Nioro listening centre\n",
    )
    .unwrap();
    std::fs::write(reference.join("departure.csv"), "alpha3\nFRA\n").unwrap();
    let check = reintegra(&["check", reference.join("sites.csv").to_str().unwrap()]);
    assert!(check.status.success(), "{}", text(&check));
    let (header, mut rows) = read_fixture("sessions", 40);
    let (site, region, cercle) = (
        column(&header, "site"),
        column(&header, "region_pcode"),
        column(&header, "cercle_pcode"),
    );
    for row in rows.iter_mut().take(12) {
        row[site] = "centre d'ecoute de nioro".into();
        row[region] = "ML01".into();
        row[cercle] = "ML0104".into();
    }
    ws.deliver(
        "seances.csv",
        to_csv(&header, &rows, b',', false).as_bytes(),
    );
    let (header, mut rows) = read_fixture("returns", 30);
    let country = column(&header, "country_from");
    rows[0][country] = "FRA".into();
    ws.deliver(
        "retours.csv",
        to_csv(&header, &rows, b',', false).as_bytes(),
    );
    let out = ws.ingest_binary();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // The new site is in the grid and labelled from the register in the snapshot.
    assert_eq!(
        ws.snapshot_values("SELECT name_fr FROM sites WHERE code = 'ML0104-01'"),
        ["Centre d'écoute de Nioro"]
    );
    let cells =
        ws.snapshot_number("SELECT count(*) FROM cells_beneficiaries WHERE site = 'ML0104-01'");
    assert!(cells >= 1.0);
    // A bad register line is named by file and line, and stops the job before reading.
    std::fs::write(
        reference.join("sites.csv"),
        "code,region,cercle,name_fr,name_en\nML0104-02,ML09,ML0104,Appeler le 76 42 63 59,x\n",
    )
    .unwrap();
    let check = reintegra(&["check", reference.join("sites.csv").to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(1));
    assert!(
        text(&check).contains("line 2") && !text(&check).contains("76 42"),
        "{}",
        text(&check)
    );
    ws.deliver_fixtures();
    let out = ws.ingest_binary();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("sites.csv:2"), "{}", text(&out));
}
