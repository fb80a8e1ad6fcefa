//! Hostile and careless files against the nightly job: a sparse workbook, an endless
//! quoted field, a file past the size limit, a file without a header, a run killed
//! while reading or before publishing, uploads still in progress, a lost secret, and
//! honest files written with labels instead of codes. Each is quarantined with a rule
//! naming what it broke, never quoted, and never stops the next run.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use reintegra::ingest::{FileOutcome, RunSummary};

fn rejected_rules(ws: &Workspace, name: &str) -> Vec<String> {
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ws.quarantine().join(format!("{name}.report.json")))
            .unwrap_or_else(|e| panic!("no report for {name}: {e}")),
    )
    .unwrap();
    json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["rule"].as_str().unwrap().to_string())
        .collect()
}

fn outcome<'a>(summary: &'a RunSummary, name: &str) -> &'a FileOutcome {
    &summary
        .files
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("{name} not in the run"))
        .outcome
}

/// A returns workbook: the fixture's header and first rows, plus one stray cell.
fn returns_workbook(path: &std::path::Path, stray: (u32, u16)) {
    let (header, rows) = read_fixture("returns", 20);
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            sheet.write_string(r as u32 + 1, c as u16, cell).unwrap();
        }
    }
    sheet.write_string(stray.0, stray.1, "x").unwrap();
    book.save(path).unwrap();
}

#[test]
fn a_sparse_workbook_is_refused_without_building_its_rectangle() {
    let ws = Workspace::new();
    // A1 … XFD1048576: the old reader allocated 17 billion cells for this.
    returns_workbook(&ws.inbox().join("retours-far.xlsx"), (1_048_575, 16_383));
    // Within the column limit, but a used range a million rows tall for 200 cells.
    returns_workbook(&ws.inbox().join("retours-tall.xlsx"), (1_048_575, 63));
    let summary = ws.ingest();
    assert!(matches!(
        outcome(&summary, "retours-far.xlsx"),
        FileOutcome::Rejected { .. }
    ));
    assert!(rejected_rules(&ws, "retours-far.xlsx").contains(&"limit-fields-per-row".to_string()));
    assert!(
        rejected_rules(&ws, "retours-tall.xlsx").contains(&"limit-sparse-sheet".to_string()),
        "{:?}",
        rejected_rules(&ws, "retours-tall.xlsx")
    );
    // An honest workbook still loads.
    returns_workbook(&ws.inbox().join("retours-ok.xlsx"), (1, 0));
    let summary = ws.ingest();
    assert!(matches!(
        outcome(&summary, "retours-ok.xlsx"),
        FileOutcome::Accepted { .. }
    ));
}

#[test]
fn an_endless_quoted_field_is_refused_at_the_record_limit() {
    let ws = Workspace::new();
    let (header, rows) = read_fixture("returns", 5);
    let mut text = to_csv(&header, &rows, b',', false).into_bytes();
    text.extend_from_slice(b"R1,\"2019-05-01");
    text.extend(std::iter::repeat_n(b'x', 60 << 20));
    text.extend_from_slice(b"\n");
    ws.deliver("retours-quote.csv", &text);
    let mut options = ws.options();
    options.lang = reintegra::locale::Locale::En;
    let summary = reintegra::ingest::run(&options).unwrap();
    assert!(matches!(
        outcome(&summary, "retours-quote.csv"),
        FileOutcome::Rejected { .. }
    ));
    let report =
        std::fs::read_to_string(ws.quarantine().join("retours-quote.csv.report.txt")).unwrap();
    assert!(
        report.contains("limit-record-bytes") && report.contains("max_record_bytes"),
        "{report}"
    );
    assert!(report.contains("1 row: 7"), "{report}");
}

#[test]
fn a_utf16_file_past_the_size_limit_is_refused_unread() {
    let ws = Workspace::new();
    let (header, rows) = read_fixture("returns", 11_505);
    let text = to_csv(&header, &rows, b';', true);
    let mut bytes = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    assert!(bytes.len() > 1 << 20);
    ws.deliver("retours-utf16.csv", &bytes);
    let mut options = ws.options();
    options.limits.max_file_bytes = 1 << 20;
    let summary = reintegra::ingest::run(&options).unwrap();
    assert!(matches!(
        outcome(&summary, "retours-utf16.csv"),
        FileOutcome::Rejected { .. }
    ));
    assert_eq!(
        rejected_rules(&ws, "retours-utf16.csv"),
        ["limit-file-bytes"]
    );
    // Under the limit, the same file is read as a stream and loads.
    let redelivered = ws.quarantine().join("retours-utf16.csv");
    std::fs::rename(&redelivered, ws.inbox().join("retours-utf16.csv")).unwrap();
    let summary = ws.ingest();
    assert!(matches!(
        outcome(&summary, "retours-utf16.csv"),
        FileOutcome::Accepted { rows: 11_505, .. }
    ));
}

#[test]
fn a_file_without_a_header_is_named_so_and_no_value_is_quoted_anywhere() {
    let ws = Workspace::new();
    let (header, mut rows) = read_fixture("returns", 10);
    let first = column(&header, "person_ref");
    rows[0][first] = "Awa Traoré".into();
    let region = column(&header, "region_pcode");
    rows[0][region] = "+223 76 42 63 59".into();
    let mut text = String::new();
    for row in &rows {
        text.push_str(&row.join(","));
        text.push('\n');
    }
    ws.deliver("retours-sans-entete.csv", text.as_bytes());
    let out = ws.ingest_binary();
    assert_eq!(out.status.code(), Some(3), "{}", common::text(&out));
    let report_txt =
        std::fs::read_to_string(ws.quarantine().join("retours-sans-entete.csv.report.txt"))
            .unwrap();
    let report_json =
        std::fs::read_to_string(ws.quarantine().join("retours-sans-entete.csv.report.json"))
            .unwrap();
    assert!(report_txt.contains("no-header"), "{report_txt}");
    let check = reintegra(&[
        "check",
        ws.quarantine()
            .join("retours-sans-entete.csv")
            .to_str()
            .unwrap(),
    ]);
    assert_eq!(check.status.code(), Some(1));
    let output = format!("{}\n{}", common::text(&out), common::text(&check));
    let everything = format!(
        "{}{report_txt}{report_json}",
        without_noise(&output, &ws.dir.path().display().to_string())
    );
    for value in rows[0].iter().chain(&rows[1]).filter(|v| v.len() > 2) {
        assert!(
            !everything.contains(value.as_str()),
            "{value} was quoted:\n{everything}"
        );
    }
    for piece in ["Awa", "Traor", "76 42", "223"] {
        assert!(
            !everything.contains(piece),
            "{piece} was quoted:\n{everything}"
        );
    }
}

/// A run's output without what changes from run to run and holds digits by chance
/// (log times, durations and memory, the temporary folder, snapshot names), so that a
/// value of the file found in what is left was really quoted.
fn without_noise(output: &str, temp: &str) -> String {
    let mut plain = String::new();
    let mut chars = output.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // An ANSI colour sequence: ESC [ … m
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
        .replace(temp, "TEMP")
        .split_whitespace()
        .filter(|t| {
            let key = t.split('=').next().unwrap_or("");
            let timed = t.contains('=') && (key.ends_with("seconds") || key.ends_with("_mb"));
            let b = t.as_bytes();
            let stamp = b.len() >= 20
                && b[4] == b'-'
                && t.contains('T')
                && t.trim_end_matches(':').ends_with('Z');
            let snapshot = t.contains("Z-") && t.split("Z-").nth(1).is_some_and(|h| h.len() >= 12);
            !(timed || stamp || snapshot)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn a_file_a_dead_run_was_reading_is_quarantined_and_the_rest_loads() {
    let ws = Workspace::new();
    ws.deliver_fixtures();
    // The journal of a run that died reading returns.csv.
    let sha = reintegra::extract::source::fingerprint(&ws.inbox().join("returns.csv"))
        .unwrap()
        .sha256;
    std::fs::create_dir_all(ws.data().join("private")).unwrap();
    std::fs::write(
        ws.data().join("private/reading.journal"),
        format!("{{\"sha256\":\"{sha}\",\"name\":\"returns.csv\"}}\n"),
    )
    .unwrap();
    let out = ws.ingest_binary_with(&["--lang", "en"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert_eq!(rejected_rules(&ws, "returns.csv"), ["crashed-reader"]);
    let report = std::fs::read_to_string(ws.quarantine().join("returns.csv.report.txt")).unwrap();
    assert!(report.contains("deliver it again"), "{report}");
    // The other kinds loaded and were published; the journal is empty again.
    assert!(ws.snapshot_number("SELECT count(*) FROM cells_beneficiaries") > 0.0);
    assert_eq!(
        std::fs::read_to_string(ws.data().join("private/reading.journal")).unwrap(),
        ""
    );
    // Delivered again, the file loads (nothing of it was lost).
    std::fs::rename(
        ws.quarantine().join("returns.csv"),
        ws.inbox().join("returns.csv"),
    )
    .unwrap();
    assert_eq!(ws.ingest_binary().status.code(), Some(0));
}

#[test]
fn a_run_killed_while_reading_does_not_read_that_file_again() {
    let ws = Workspace::new();
    let set = tempfile::tempdir().unwrap();
    let out = reintegra(&[
        "fixtures",
        "--out",
        set.path().to_str().unwrap(),
        "--scale",
        "30",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    ws.deliver_file(&set.path().join("returns.csv"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_reintegra"))
        .args([
            "ingest",
            "--inbox",
            ws.inbox().to_str().unwrap(),
            "--data",
            ws.data().to_str().unwrap(),
            "--queries",
            queries().to_str().unwrap(),
            "--policy",
            policy().to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let journal = ws.data().join("private/reading.journal");
    let mut marked = false;
    for _ in 0..2000 {
        if std::fs::read_to_string(&journal).is_ok_and(|t| t.contains("returns.csv")) {
            marked = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL, while the file is being read
    child.wait().unwrap();
    assert!(marked, "the run marked the file before reading it");
    let out = ws.ingest_binary();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert_eq!(rejected_rules(&ws, "returns.csv"), ["crashed-reader"]);
}

fn cells_of(ws: &Workspace) -> std::collections::BTreeMap<(String, String), (Option<f64>, bool)> {
    all_cells(&ws.current_snapshot())
}

#[test]
fn loads_accepted_by_a_run_that_died_before_publishing_are_published_by_the_next() {
    let ws = Workspace::new();
    ws.deliver_fixtures();
    ws.ingest();
    let first = std::fs::read_to_string(ws.published().join("CURRENT")).unwrap();
    // A correction is accepted and published…
    let (header, mut rows) = read_fixture("returns", 11_505);
    rows.truncate(9_000);
    ws.deliver(
        "retours-correction.csv",
        to_csv(&header, &rows, b',', false).as_bytes(),
    );
    ws.ingest();
    let corrected = cells_of(&ws);
    // …but as if the run had died after accepting: CURRENT still names the first
    // snapshot and the second was never written.
    let second = std::fs::read_to_string(ws.published().join("CURRENT")).unwrap();
    std::fs::write(ws.published().join("CURRENT"), &first).unwrap();
    std::fs::remove_file(ws.published().join(second.trim())).unwrap();
    assert_ne!(cells_of(&ws), corrected);
    // A run with an empty inbox publishes what was accepted, and says so.
    let out = ws.ingest_binary();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("recovered"), "{}", text(&out));
    assert_eq!(cells_of(&ws), corrected);
    // And then nothing more is pending.
    let out = ws.ingest_binary();
    assert!(text(&out).contains("nothing new"), "{}", text(&out));
}

#[test]
fn a_run_killed_between_accepting_and_publishing_is_published_by_the_next() {
    let ws = Workspace::new();
    ws.deliver_fixtures();
    ws.ingest();
    let set = tempfile::tempdir().unwrap();
    let out = reintegra(&[
        "fixtures",
        "--out",
        set.path().to_str().unwrap(),
        "--seed",
        "7",
        "--scale",
        "3",
    ]);
    assert!(out.status.success());
    ws.deliver_file(&set.path().join("returns.csv"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_reintegra"))
        .args([
            "ingest",
            "--inbox",
            ws.inbox().to_str().unwrap(),
            "--data",
            ws.data().to_str().unwrap(),
            "--queries",
            queries().to_str().unwrap(),
            "--policy",
            policy().to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Accepted files leave the inbox for the archive; publishing comes after.
    for _ in 0..5000 {
        if !ws.inbox().join("returns.csv").exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let store_rows = {
        let store = reintegra::store::PrivateStore::open(&ws.data().join("private")).unwrap();
        store.row_count(reintegra::domain::Kind::Returns).unwrap()
    };
    let out = ws.ingest_binary();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // Whatever moment the kill hit, the snapshot now includes the store's last load.
    let expected = csv::Reader::from_path(set.path().join("returns.csv"))
        .unwrap()
        .records()
        .count() as u64;
    assert_eq!(store_rows, expected, "the accepted file is in the store");
    let last_load: String =
        ws.snapshot_values("SELECT value FROM meta WHERE key = 'last_load_id'")[0].clone();
    let store = reintegra::store::PrivateStore::open(&ws.data().join("private")).unwrap();
    assert_eq!(
        last_load,
        store.last_accepted_load().unwrap().unwrap().to_string()
    );
}

#[test]
fn uploads_still_being_written_are_left_for_the_next_run() {
    let ws = Workspace::new();
    ws.deliver_fixtures();
    ws.deliver("retours.csv.part", b"partial");
    let mut options = ws.options();
    options.settle = Duration::from_secs(60);
    let summary = reintegra::ingest::run(&options).unwrap();
    assert!(summary.files.is_empty());
    assert_eq!(summary.unsettled.len(), 5, "{:?}", summary.unsettled);
    // Once they have not changed for the settling time, they are read.
    let old = std::time::SystemTime::now() - Duration::from_secs(120);
    for kind in ["returns", "sessions", "campaigns", "trainings", "finance"] {
        std::fs::File::options()
            .write(true)
            .open(ws.inbox().join(format!("{kind}.csv")))
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
    let summary = reintegra::ingest::run(&options).unwrap();
    assert_eq!(summary.files.len(), 5);
    assert!(
        ws.inbox().join("retours.csv.part").exists(),
        "an upload in progress stays"
    );
}

#[test]
fn a_lost_secret_stops_the_job_until_restored_or_replaced_on_purpose() {
    let ws = Workspace::new();
    ws.deliver_fixtures();
    ws.ingest();
    let key = ws.data().join("private/secret.key");
    let backup = std::fs::read(&key).unwrap();
    let id_before = ws.snapshot_values("SELECT value FROM meta WHERE key = 'secret_key_id'");
    std::fs::remove_file(&key).unwrap();
    let (header, mut rows) = read_fixture("returns", 11_505);
    rows.truncate(11_000);
    ws.deliver(
        "retours-2.csv",
        to_csv(&header, &rows, b',', false).as_bytes(),
    );
    let out = ws.ingest_binary();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("Restore secret.key from the backup"),
        "{}",
        text(&out)
    );
    assert!(
        !key.exists(),
        "no secret was made behind the operator's back"
    );
    assert!(
        ws.inbox().join("retours-2.csv").exists(),
        "nothing was read"
    );
    // Restored from backup: the run goes on with the same keys.
    std::fs::write(&key, &backup).unwrap();
    assert_eq!(ws.ingest_binary().status.code(), Some(0));
    assert_eq!(
        ws.snapshot_values("SELECT value FROM meta WHERE key = 'secret_key_id'"),
        id_before
    );
    // Lost for good: only keygen with its confirmation makes a new one, and the next
    // snapshot records the change.
    std::fs::remove_file(&key).unwrap();
    let refused = reintegra(&["keygen", "--data", ws.data().to_str().unwrap()]);
    assert!(!refused.status.success() && !key.exists());
    let made = reintegra(&[
        "keygen",
        "--data",
        ws.data().to_str().unwrap(),
        "--confirm-new-secret",
    ]);
    assert!(made.status.success(), "{}", text(&made));
    let again = reintegra(&[
        "keygen",
        "--data",
        ws.data().to_str().unwrap(),
        "--confirm-new-secret",
    ]);
    assert!(
        !again.status.success(),
        "an existing secret is never replaced"
    );
    ws.deliver(
        "retours-3.csv",
        to_csv(&header, &rows[..10_000], b',', false).as_bytes(),
    );
    assert_eq!(ws.ingest_binary().status.code(), Some(0));
    assert_ne!(
        ws.snapshot_values("SELECT value FROM meta WHERE key = 'secret_key_id'"),
        id_before
    );
    assert_eq!(
        ws.snapshot_number("SELECT count(*) FROM meta WHERE key = 'secret_key_changed_at'"),
        1.0
    );
}

#[test]
fn careless_but_honest_files_are_accepted_and_stored_as_codes() {
    let ws = Workspace::new();
    let (header, mut rows) = read_fixture("sessions", 400);
    let activity = column(&header, "activity");
    let facilitator = column(&header, "facilitator");
    let spellings = |code: &str, i: usize| -> String {
        let labels = reintegra::reference::labels();
        let set = if [
            "psychologist",
            "social_worker",
            "health_worker",
            "community_volunteer",
        ]
        .contains(&code)
        {
            "facilitator"
        } else {
            "activity"
        };
        let label = &labels[set][code];
        match i % 5 {
            0 => label.fr.clone(),
            1 => label.en.to_lowercase(),
            2 => code.to_uppercase(),
            3 => format!("  {}  ", label.fr.to_uppercase()),
            _ => code.replace('_', " "),
        }
    };
    for (i, row) in rows.iter_mut().enumerate() {
        row[activity] = spellings(&row[activity].clone(), i);
        row[facilitator] = spellings(&row[facilitator].clone(), i + 1);
    }
    ws.deliver(
        "seances.csv",
        to_csv(&header, &rows, b';', false).as_bytes(),
    );
    let summary = ws.ingest();
    assert!(
        matches!(
            outcome(&summary, "seances.csv"),
            FileOutcome::Accepted { rows: 400, .. }
        ),
        "{:?}",
        summary.files
    );
    let store = reintegra::store::PrivateStore::open(&ws.data().join("private")).unwrap();
    let mut stmt = store
        .connection()
        .prepare("SELECT DISTINCT activity FROM sessions UNION ALL SELECT DISTINCT facilitator FROM sessions")
        .unwrap();
    let stored: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|v| v.unwrap())
        .collect();
    use reintegra::domain::{Activity, Code, Facilitator};
    let allowed: Vec<&str> = Activity::ALL
        .iter()
        .map(|a| a.code())
        .chain(Facilitator::ALL.iter().map(|f| f.code()))
        .collect();
    assert!(
        stored.iter().all(|s| allowed.contains(&s.as_str())),
        "{stored:?}"
    );
}

/// Small limits, so that generated inputs reach them.
fn small_limits() -> reintegra::extract::Limits {
    reintegra::extract::Limits {
        max_file_bytes: 256 * 1024,
        max_rows: 200,
        max_fields_per_row: 32,
        max_field_bytes: 256,
        max_record_bytes: 4096,
        max_xlsx_uncompressed_bytes: 1 << 20,
        max_zip_entries: 64,
        max_zip_ratio: 100,
        max_sheet_cells: 5_000,
        max_sparse_ratio: 100,
    }
}

/// Reads a file through the whole extract layer (reader, validator, PII gate) and
/// checks what any input must give: an answer, rows only while there is no problem,
/// and never more rows than the limit.
fn read_any(path: &std::path::Path, limits: &reintegra::extract::Limits) {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let mut rows = 0u64;
    let ctx = reintegra::extract::Context {
        limits: *limits,
        ..reintegra::extract::Context::new(today)
    };
    let extract = reintegra::extract::read(path, &ctx, &mut |_, _| rows += 1, &mut |_, _| {});
    assert!(rows <= limits.max_rows, "{rows} rows passed the limit");
    assert!(extract.rows <= limits.max_rows + 1);
    if !extract.is_valid() {
        assert!(extract.problems.total() > 0);
    }
    // Reports name rules, rows and columns only.
    let report = extract.report().to_text(reintegra::locale::Locale::En);
    assert!(report.contains("reintegra extract report"));
    let rapport = extract.report().to_text(reintegra::locale::Locale::Fr);
    assert!(rapport.contains("reintegra : rapport"));
}

#[test]
fn every_file_of_the_corpus_is_read_without_panic() {
    let dir = repo().join("tests/corpus/extract");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        for limits in [small_limits(), reintegra::extract::Limits::default()] {
            read_any(&path, &limits);
        }
        n += 1;
    }
    assert!(n >= 15, "{n} corpus files");
}

mod generated {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::FileFailurePersistence;

    fn config(cases: u32) -> ProptestConfig {
        ProptestConfig {
            cases,
            // Inputs that once failed are kept with the corpus and tried first.
            failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
                "tests/corpus/proptest-regressions.txt",
            ))),
            ..ProptestConfig::default()
        }
    }

    /// Bytes of a CSV-like file: a fixture's first rows mutated at random (bytes
    /// inserted, cut or flipped; quotes, separators, line ends, NULs, BOMs), or noise.
    fn csv_bytes() -> impl Strategy<Value = Vec<u8>> {
        let (header, rows) = read_fixture("sessions", 30);
        let base = to_csv(&header, &rows, b',', false).into_bytes();
        let mutation = (
            0usize..4096,
            prop::sample::select(vec![
                &b"\""[..],
                b",",
                b";",
                b"\t",
                b"\n",
                b"\r",
                b"\r\n",
                b"\0",
                b"\xef\xbb\xbf",
                b"\xff\xfe",
                b"\xe9",
                b"76 42 63 59",
                b"a@b.org",
                b"\"\"",
                b"ML99",
                b"2019-13-45",
            ]),
            0u8..4,
        );
        prop_oneof![
            4 => proptest::collection::vec(mutation, 0..24).prop_map(move |muts| {
                let mut bytes = base.clone();
                for (at, piece, how) in muts {
                    let at = at % (bytes.len() + 1);
                    match how {
                        0 | 1 => { bytes.splice(at..at, piece.iter().copied()); }
                        2 => { let end = (at + piece.len() * 7).min(bytes.len()); bytes.drain(at..end); }
                        _ => { if let Some(b) = bytes.get_mut(at) { *b ^= 0x5a; } }
                    }
                }
                bytes
            }),
            1 => proptest::collection::vec(any::<u8>(), 0..3000),
        ]
    }

    proptest! {
        #![proptest_config(config(300))]

        #[test]
        fn any_csv_bytes_are_read_within_the_limits(bytes in csv_bytes(), name in prop::sample::select(vec!["seances.csv", "x.csv", "retours.txt"])) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(name);
            std::fs::write(&path, &bytes).unwrap();
            read_any(&path, &small_limits());
        }
    }

    /// Cells of a workbook: anywhere in a 200 × 40 area, texts, numbers and PII.
    fn sheet() -> impl Strategy<Value = Vec<(u32, u16, String)>> {
        proptest::collection::vec(
            (
                0u32..200,
                0u16..40,
                prop_oneof![
                    Just("person_ref".to_string()),
                    Just("session_date".to_string()),
                    Just("ML0101".to_string()),
                    Just("+223 76 42 63 59".to_string()),
                    "[a-z0-9 ]{0,12}",
                    "\\PC{0,20}",
                ],
            ),
            0..300,
        )
    }

    proptest! {
        #![proptest_config(config(60))]

        #[test]
        fn any_workbook_is_read_within_the_limits(cells in sheet(), flips in proptest::collection::vec((0usize..20_000, any::<u8>()), 0..3)) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("seances.xlsx");
            let mut book = rust_xlsxwriter::Workbook::new();
            let ws = book.add_worksheet();
            for (r, c, text) in &cells {
                ws.write_string(*r, *c, text).unwrap();
            }
            let mut bytes = book.save_to_buffer().unwrap();
            // Some archives are damaged on the way.
            for (at, value) in &flips {
                let len = bytes.len();
                bytes[at % len] = *value;
            }
            std::fs::write(&path, &bytes).unwrap();
            read_any(&path, &small_limits());
        }
    }
}
