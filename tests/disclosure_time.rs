//! Time as an attack surface: someone who keeps every snapshot compares them cell by
//! cell. A published cell may change only when at least T (the threshold) of its
//! members entered or left it since the value it shows was published — for late
//! records, corrections that replace months, and removals; across runs, and across a
//! run that died before switching `CURRENT`.

mod common;

use std::collections::BTreeMap;

use common::*;

type Cells = BTreeMap<(String, String), (Option<f64>, bool)>;

/// A data folder with the fixtures published.
fn published() -> (Workspace, Cells) {
    let ws = Workspace::new();
    ws.deliver_fixtures();
    ws.ingest();
    let cells = all_cells(&ws.current_snapshot());
    (ws, cells)
}

/// The fixtures' returns of one month.
fn month(m: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let (header, rows) = read_fixture("returns", 11_505);
    let d = column(&header, "return_date");
    let rows = rows.into_iter().filter(|r| r[d].starts_with(m)).collect();
    (header, rows)
}

/// A returnee with a rare profile: a woman over 60 from Kidal, returned from Morocco,
/// victim of trafficking — alone in most of her cells.
fn rare(header: &[String], i: usize) -> Vec<String> {
    header
        .iter()
        .map(|h| match h.as_str() {
            "person_ref" => format!("LATE{i:04}"),
            "return_date" => "2018-07-15".into(),
            "country_from" => "MAR".into(),
            "region_pcode" => "ML08".into(),
            "cercle_pcode" => "ML0802".into(),
            "sex" => "F".into(),
            "age_band" => "60+".into(),
            "return_type" => "AVRR".into(),
            "unaccompanied_minor" => "0".into(),
            "trafficking_victim" => "1".into(),
            "medical_case" => "0".into(),
            other => panic!("unexpected column {other}"),
        })
        .collect()
}

/// Re-delivers July 2018 with `extra` late returnees added (it replaces the month).
fn deliver_july(ws: &Workspace, name: &str, extra: usize, edit: impl Fn(&mut Vec<Vec<String>>)) {
    let (header, mut rows) = month("2018-07");
    for i in 0..extra {
        rows.push(rare(&header, i));
    }
    edit(&mut rows);
    ws.deliver(name, to_csv(&header, &rows, b',', false).as_bytes());
    let summary = ws.ingest();
    assert_eq!(summary.exit_code(), 0, "{:?}", summary.files);
}

#[test]
fn one_late_person_with_a_rare_profile_changes_no_cell_anywhere() {
    let (ws, before) = published();
    deliver_july(&ws, "retours-2018-07.csv", 1, |_| {});
    let after = all_cells(&ws.current_snapshot());
    let changed = changed_cells(&before, &after);
    assert!(
        changed.is_empty(),
        "{} cells changed: {changed:?}",
        changed.len()
    );
    assert_eq!(
        before.len(),
        after.len(),
        "the grid does not depend on the data"
    );
}

#[test]
fn fewer_than_t_late_people_in_one_cell_change_nothing_and_t_of_them_move_their_cells() {
    let (ws, before) = published();
    deliver_july(&ws, "retours-2018-07.csv", 9, |_| {});
    let after = all_cells(&ws.current_snapshot());
    assert!(
        changed_cells(&before, &after).is_empty(),
        "T-1 late people show nowhere"
    );
    // The tenth: the cells holding all ten move, with their margins; no other cell does.
    deliver_july(&ws, "retours-2018-07-bis.csv", 10, |_| {});
    let last = all_cells(&ws.current_snapshot());
    let changed = changed_cells(&after, &last);
    assert!(!changed.is_empty());
    let holds_them = |key: &str| {
        let parts: Vec<&str> = key.split('|').skip(1).collect();
        // Every dimension value the cell fixes must be one of the late returnees'.
        parts.iter().all(|v| {
            v.is_empty()
                || [
                    "ML08",
                    "ML0802",
                    "2018-07",
                    "2018-Q3",
                    "2018",
                    "MAR",
                    "F",
                    "60+",
                    "AVRR",
                    "trafficking_victim",
                ]
                .contains(v)
        })
    };
    for (measure, key) in &changed {
        assert_eq!(measure, "returns");
        assert!(holds_them(key), "{key} changed but holds none of them");
    }
    let total = ("returns".to_string(), String::new() + &"|".repeat(10));
    assert!(
        changed
            .iter()
            .any(|c| c.0 == "returns" && c.1.split('|').skip(1).all(str::is_empty)),
        "the grand total moves ({total:?})"
    );
}

#[test]
fn corrections_that_swap_or_remove_a_few_records_change_nothing() {
    let (ws, before) = published();
    // Three returnees of July 2018 were recorded in the wrong region: corrected.
    deliver_july(&ws, "retours-2018-07-correction.csv", 0, |rows| {
        let (header, _) = month("2018-07");
        let (r, c) = (
            column(&header, "region_pcode"),
            column(&header, "cercle_pcode"),
        );
        for row in rows.iter_mut().take(3) {
            let (region, cercle) = if row[r] == "ML09" {
                ("ML01", "ML0103")
            } else {
                ("ML09", "ML0901")
            };
            row[r] = region.into();
            row[c] = cercle.into();
        }
    });
    let after = all_cells(&ws.current_snapshot());
    assert!(changed_cells(&before, &after).is_empty());
    // Four records of the month are withdrawn.
    deliver_july(&ws, "retours-2018-07-retrait.csv", 0, |rows| {
        rows.truncate(rows.len() - 4);
    });
    let last = all_cells(&ws.current_snapshot());
    assert!(changed_cells(&after, &last).is_empty());
}

#[test]
fn a_late_session_and_a_late_trainee_change_no_count_and_no_mean() {
    let (ws, before) = published();
    // One more attendance, by a new person, on a day already published.
    let (header, rows) = read_fixture("sessions", 15_357);
    let d = column(&header, "session_date");
    let mut july: Vec<Vec<String>> = rows
        .into_iter()
        .filter(|r| r[d].starts_with("2019-07"))
        .collect();
    let mut late = july[0].clone();
    late[column(&header, "session_ref")] = "LATESESSION".into();
    late[column(&header, "person_ref")] = "LATEPERSON".into();
    july.push(late);
    ws.deliver(
        "seances-2019-07.csv",
        to_csv(&header, &july, b',', false).as_bytes(),
    );
    // One more trainee with a high score, in a month already published.
    let (header, rows) = read_fixture("trainings", 700);
    let d = column(&header, "training_date");
    let first = rows[0][d][..7].to_string();
    let mut month: Vec<Vec<String>> = rows
        .into_iter()
        .filter(|r| r[d].starts_with(&first))
        .collect();
    let mut late = month[0].clone();
    late[column(&header, "person_ref")] = "LATETRAINEE".into();
    late[column(&header, "post_score")] = "100".into();
    month.push(late);
    ws.deliver(
        "formations.csv",
        to_csv(&header, &month, b',', false).as_bytes(),
    );
    assert_eq!(ws.ingest().exit_code(), 0);
    let after = all_cells(&ws.current_snapshot());
    let changed = changed_cells(&before, &after);
    assert!(changed.is_empty(), "{changed:?}");
}

#[test]
fn the_state_survives_a_run_that_died_before_switching_current() {
    let (ws, before) = published();
    let first = std::fs::read_to_string(ws.published().join("CURRENT")).unwrap();
    // A run publishes nine late people and "dies" before CURRENT names its snapshot:
    // its state rows belong to a generation no snapshot names.
    deliver_july(&ws, "retours-2018-07.csv", 9, |_| {});
    let second = std::fs::read_to_string(ws.published().join("CURRENT")).unwrap();
    std::fs::write(ws.published().join("CURRENT"), &first).unwrap();
    std::fs::remove_file(ws.published().join(second.trim())).unwrap();
    // The next run adds one more (ten since what CURRENT shows): their cells may move,
    // and every other cell still shows what CURRENT shows.
    deliver_july(&ws, "retours-2018-07-bis.csv", 10, |_| {});
    let after = all_cells(&ws.current_snapshot());
    for (measure, key) in changed_cells(&before, &after) {
        assert_eq!(measure, "returns", "{key}");
    }
    // And with nine only, measured against what CURRENT showed, nothing moves.
    let (ws, before) = published();
    let first = std::fs::read_to_string(ws.published().join("CURRENT")).unwrap();
    deliver_july(&ws, "retours-2018-07.csv", 10, |_| {});
    let second = std::fs::read_to_string(ws.published().join("CURRENT")).unwrap();
    std::fs::write(ws.published().join("CURRENT"), &first).unwrap();
    std::fs::remove_file(ws.published().join(second.trim())).unwrap();
    deliver_july(&ws, "retours-2018-07-bis.csv", 9, |_| {});
    let after = all_cells(&ws.current_snapshot());
    assert!(
        changed_cells(&before, &after).is_empty(),
        "nine since CURRENT's snapshot"
    );
}

#[test]
fn which_cells_are_held_is_not_in_the_snapshot_but_in_the_private_report() {
    let (ws, _) = published();
    deliver_july(&ws, "retours-2018-07.csv", 3, |_| {});
    let meta = ws.snapshot_values("SELECT key || '=' || value FROM meta");
    let all = meta.join("\n");
    assert!(!all.contains("\"held\""), "{all}");
    let out = reintegra(&[
        "disclosure",
        "report",
        "--data",
        ws.data().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let report = text(&out);
    let returns = report.lines().find(|l| l.starts_with("returns ")).unwrap();
    let held: u64 = returns.split_whitespace().nth(4).unwrap().parse().unwrap();
    assert!(held > 10, "{returns}");
}
