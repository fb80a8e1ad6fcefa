//! kill -9 at any moment of a run leaves CURRENT naming a complete, readable snapshot,
//! and the next run recovers.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

fn assert_current_is_readable(ws: &Workspace, moment: &str) {
    let published = reintegra::snapshot::Published::new(ws.published());
    let id = published
        .current()
        .unwrap_or_else(|e| panic!("after a kill {moment}: {e}"))
        .expect("CURRENT exists once a snapshot was published");
    let conn = reintegra::snapshot::open_read_only(&published.path_of(&id))
        .unwrap_or_else(|e| panic!("after a kill {moment}: {e}"));
    let format: String = conn
        .query_row("SELECT value FROM meta WHERE key = 'format'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(format, "reintegra-snapshot/1");
    let cells: i64 = conn
        .query_row("SELECT count(*) FROM cells_returns", [], |r| r.get(0))
        .unwrap();
    assert!(cells > 0, "after a kill {moment}");
}

#[test]
fn sigkill_at_any_moment_leaves_current_readable() {
    let ws = Workspace::new();
    ws.deliver_fixtures();
    assert_eq!(ws.ingest_binary().status.code(), Some(0));

    let sets = tempfile::tempdir().unwrap();
    let delays_ms = [5u64, 60, 150, 300, 500, 800, 1200, 1700, 2400, 3200];
    for (i, delay) in delays_ms.iter().enumerate() {
        // A new extract set every time, so that every run has real work to do.
        let set = sets.path().join(format!("set{i}"));
        let out = reintegra(&[
            "fixtures",
            "--out",
            set.to_str().unwrap(),
            "--seed",
            &(100 + i).to_string(),
            "--scale",
            "3",
        ]);
        assert!(out.status.success(), "{}", text(&out));
        for entry in std::fs::read_dir(&set).unwrap() {
            ws.deliver_file(&entry.unwrap().path());
        }
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
        std::thread::sleep(Duration::from_millis(*delay));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        assert_current_is_readable(&ws, &format!("after {delay} ms"));
    }

    // The next run recovers: it finishes what is left, cleans up and publishes. A file
    // a killed run was reading is set aside (crashed-reader) rather than read again;
    // delivered again, as its report says, it loads.
    let last = sets.path().join(format!("set{}", delays_ms.len() - 1));
    let out = ws.ingest_binary();
    assert!(matches!(out.status.code(), Some(0 | 3)), "{}", text(&out));
    if out.status.code() == Some(3) {
        for entry in std::fs::read_dir(ws.quarantine()).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".report.json") {
                let report = std::fs::read_to_string(&path).unwrap();
                assert!(report.contains("crashed-reader"), "{report}");
                let file = name.trim_end_matches(".report.json");
                std::fs::rename(ws.quarantine().join(file), ws.inbox().join(file)).unwrap();
            }
        }
        let out = ws.ingest_binary();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    assert_current_is_readable(&ws, "after recovery");
    let leftovers: Vec<String> = std::fs::read_dir(ws.published())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp-") || n.ends_with(".tmp") || n.ends_with(".wal"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(
        std::fs::read_dir(ws.data().join("private/staging"))
            .unwrap()
            .count(),
        0
    );

    // Nothing accepted is lost: the store holds exactly the last set's returns (every
    // set covers the same months, so the last one replaced the others).
    let expected = csv::Reader::from_path(last.join("returns.csv"))
        .unwrap()
        .records()
        .count() as u64;
    let store = reintegra::store::PrivateStore::open(&ws.data().join("private")).unwrap();
    assert_eq!(
        store.row_count(reintegra::domain::Kind::Returns).unwrap(),
        expected
    );
}
