//! Ingest benchmark: `cargo bench --bench ingest` (scales from `BENCH_SCALES`, default
//! "20,100"). For each scale it generates the fixtures, then, in the same run:
//! - DuckDB's own `read_csv` of the same four files into plain tables (the baseline);
//! - `reintegra ingest` of the same files into a fresh data folder (the real binary):
//!   wall time, rows/s, peak memory, and the time spent loading vs publishing;
//! - the disclosure layer's extra time: raw cells alone vs protected cells, for every
//!   measure, over the private store the run produced.
//!
//! The figure is the ratio DuckDB time / reintegra time (higher is better).
//!
//! Then an inbox of hostile files (a sparse workbook A1…XFD1048576, a workbook whose used
//! range is a million rows tall, a 60 MB endless quoted field, a 200 MB UTF-16 export, a
//! 2 GB file of a single line, 64 MB of random bytes) goes through the same binary, with
//! the fixtures beside it: peak memory, seconds, and how many files were quarantined.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use reintegra::definitions::Sensitivity;
use reintegra::disclosure::{Disclosure, Policy, keys::Secret};
use reintegra::measures;
use reintegra::store::PrivateStore;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn count_rows(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
            text.lines().count() as u64 - 1
        })
        .sum()
}

fn duckdb_baseline(extracts: &Path, work: &Path) -> f64 {
    let db = work.join("baseline.duckdb");
    let _ = std::fs::remove_file(&db);
    let conn = duckdb::Connection::open(&db).unwrap();
    let started = Instant::now();
    for kind in ["returns", "sessions", "campaigns", "trainings"] {
        let file = extracts.join(format!("{kind}.csv"));
        conn.execute_batch(&format!(
            "CREATE TABLE {kind} AS SELECT * FROM read_csv('{}')",
            file.display()
        ))
        .unwrap();
    }
    conn.execute_batch("CHECKPOINT").unwrap();
    started.elapsed().as_secs_f64()
}

struct Run {
    seconds: f64,
    load_seconds: f64,
    publish_seconds: f64,
    peak_mb: f64,
}

fn reintegra_ingest(extracts: &Path, work: &Path) -> Run {
    let inbox = work.join("inbox");
    let data = work.join("data");
    let _ = std::fs::remove_dir_all(&inbox);
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&inbox).unwrap();
    for e in std::fs::read_dir(extracts).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, inbox.join(p.file_name().unwrap())).unwrap();
    }
    run_binary(&inbox, &data, true)
}

fn run_binary(inbox: &Path, data: &Path, must_succeed: bool) -> Run {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_reintegra"))
        .args(["--log-json", "ingest", "--inbox"])
        .arg(&inbox)
        .arg("--data")
        .arg(&data)
        .arg("--queries")
        .arg(repo().join("queries"))
        .arg("--policy")
        .arg(repo().join("disclosure.toml"))
        .output()
        .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    assert!(
        out.status.success() || (!must_succeed && out.status.code() == Some(3)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut run = Run {
        seconds,
        load_seconds: 0.0,
        publish_seconds: 0.0,
        peak_mb: 0.0,
    };
    for line in String::from_utf8_lossy(&out.stderr).lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let f = &v["fields"];
        match f["message"].as_str() {
            Some("delivery read and loaded") => {
                run.load_seconds = f["seconds"].as_f64().unwrap_or(0.0)
            }
            Some("measures computed, protected and published") => {
                run.publish_seconds = f["total_seconds"].as_f64().unwrap_or(0.0)
            }
            Some("ingest finished") => run.peak_mb = f["peak_memory_mb"].as_f64().unwrap_or(0.0),
            _ => {}
        }
    }
    run
}

/// Seconds to compute every measure's raw cells, then its protected cells — with the
/// state of every cell written as on a first night (the costliest: every member kept).
fn disclosure_cost(work: &Path) -> (f64, f64) {
    let private = work.join("data/private");
    let store = PrivateStore::open(&private).unwrap();
    let conn = store.connection();
    let all = reintegra::definitions::measure::load_dir(&repo().join("queries")).unwrap();
    let started = Instant::now();
    for m in &all {
        measures::materialise_units(conn, m).unwrap();
        measures::compute_raw_cells(conn, m, &measures::units_table(m), false).unwrap();
    }
    let raw = started.elapsed().as_secs_f64();
    let policy = Policy::load(&repo().join("disclosure.toml")).unwrap();
    let disclosure = Disclosure::new(policy, Secret::load(&private).unwrap()).unwrap();
    let register = reintegra::reference::Register::builtin();
    let coverage = store.coverage().unwrap();
    // A fresh state (the run's own rows were written under generation 1).
    conn.execute_batch("DROP TABLE IF EXISTS sdc_cells; DROP TABLE IF EXISTS sdc_members; DROP TABLE IF EXISTS sdc_meta;")
        .unwrap();
    let started = Instant::now();
    reintegra::disclosure::state::prepare(conn, 0, &disclosure.policy.version).unwrap();
    disclosure.install(conn, &register).unwrap();
    let run = reintegra::disclosure::Run {
        register: &register,
        coverage: &coverage,
        current: 0,
        next: 1,
    };
    for m in &all {
        disclosure.protect(conn, m, &run).unwrap();
        Disclosure::cleanup(conn, m).unwrap();
    }
    let protected = started.elapsed().as_secs_f64();
    let persons = all
        .iter()
        .filter(|m| m.sensitivity == Sensitivity::Person)
        .count();
    eprintln!(
        "  ({persons} of {} measures are person measures)",
        all.len()
    );
    (raw, protected)
}

/// Writes the hostile files of the benchmark into `inbox`.
fn hostile_inbox(inbox: &Path, extracts: &Path) {
    use std::io::Write;
    std::fs::create_dir_all(inbox).unwrap();
    let header = std::fs::read_to_string(extracts.join("returns.csv")).unwrap();
    let header = header.lines().next().unwrap().to_string();
    for (name, row, col) in [
        ("retours-large.xlsx", 1_048_575u32, 16_383u16),
        ("retours-haut.xlsx", 1_048_575, 63),
    ] {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (c, h) in header.split(',').enumerate() {
            sheet.write_string(0, c as u16, h).unwrap();
        }
        sheet.write_string(row, col, "x").unwrap();
        book.save(inbox.join(name)).unwrap();
    }
    let mut f = std::fs::File::create(inbox.join("retours-guillemet.csv")).unwrap();
    writeln!(f, "{header}").unwrap();
    f.write_all(b"R1,\"2019-05-01").unwrap();
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..60 {
        f.write_all(&chunk).unwrap();
    }
    let text = std::fs::read_to_string(extracts.join("returns.csv")).unwrap();
    let mut f = std::fs::File::create(inbox.join("retours-unicode.csv")).unwrap();
    f.write_all(&[0xFF, 0xFE]).unwrap();
    let mut written = 0usize;
    while written < 200 << 20 {
        let bytes: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        f.write_all(&bytes).unwrap();
        written += bytes.len();
    }
    let mut f = std::fs::File::create(inbox.join("retours-une-ligne.csv")).unwrap();
    for _ in 0..2048 {
        f.write_all(&chunk).unwrap();
    }
    let mut f = std::fs::File::create(inbox.join("seances-bruit.csv")).unwrap();
    let mut state: u64 = 2019;
    let mut noise = vec![0u8; 1 << 20];
    for _ in 0..64 {
        for b in noise.iter_mut() {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            *b = (state >> 33) as u8;
        }
        f.write_all(&noise).unwrap();
    }
}

fn main() {
    let scales: Vec<f64> = std::env::var("BENCH_SCALES")
        .unwrap_or_else(|_| "20,100".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-ingest");
    println!("reintegra ingest benchmark (2 runs each, best kept)");
    println!(
        "{:>6} {:>9} {:>9} {:>11} {:>6} {:>8} {:>7} {:>10} {:>10} {:>8} {:>9}",
        "scale",
        "rows",
        "duckdb s",
        "reintegra s",
        "ratio",
        "rows/s",
        "load s",
        "load ratio",
        "publish s",
        "peak MB",
        "disc. +s"
    );
    for scale in scales {
        let work = root.join(format!("scale-{scale}"));
        let extracts = work.join("extracts");
        let _ = std::fs::remove_dir_all(&work);
        reintegra::fixtures::write(&extracts, 2019, scale).unwrap();
        let rows = count_rows(&extracts);
        let duck = (0..2)
            .map(|_| duckdb_baseline(&extracts, &work))
            .fold(f64::MAX, f64::min);
        let runs: Vec<Run> = (0..2).map(|_| reintegra_ingest(&extracts, &work)).collect();
        let best = runs
            .into_iter()
            .min_by(|a, b| a.seconds.total_cmp(&b.seconds))
            .unwrap();
        let (raw, protected) = disclosure_cost(&work);
        println!(
            "{:>6} {:>9} {:>9.2} {:>11.2} {:>6.2} {:>8.0} {:>7.2} {:>10.2} {:>10.2} {:>8.0} {:>9.2}",
            scale,
            rows,
            duck,
            best.seconds,
            duck / best.seconds,
            rows as f64 / best.seconds,
            best.load_seconds,
            duck / best.load_seconds,
            best.publish_seconds,
            best.peak_mb,
            protected - raw
        );
        let _ = std::fs::remove_dir_all(&work);
    }
    // Hostile files beside the fixtures at scale 1.
    let work = root.join("hostile");
    let _ = std::fs::remove_dir_all(&work);
    let extracts = work.join("extracts");
    reintegra::fixtures::write(&extracts, 2019, 1.0).unwrap();
    let inbox = work.join("inbox");
    hostile_inbox(&inbox, &extracts);
    for e in std::fs::read_dir(&extracts).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, inbox.join(p.file_name().unwrap())).unwrap();
    }
    let bytes: u64 = std::fs::read_dir(&inbox)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    let run = run_binary(&inbox, &work.join("data"), false);
    let quarantined = std::fs::read_dir(work.join("data/quarantine"))
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            let name = name.to_string_lossy();
            !name.ends_with(".report.txt") && !name.ends_with(".report.json")
        })
        .count();
    println!(
        "hostile inbox: {} files, {:.0} MB; {quarantined} quarantined; {:.2} s; peak memory {:.0} MB",
        std::fs::read_dir(work.join("data/private/archive"))
            .unwrap()
            .count()
            + quarantined,
        bytes as f64 / 1e6,
        run.seconds,
        run.peak_mb
    );
    let _ = std::fs::remove_dir_all(&work);
    println!(
        "ratio = DuckDB read_csv time / reintegra ingest time (the whole run: read, validate,"
    );
    println!(
        "PII gate, load, measures, disclosure, snapshot); load ratio = DuckDB time / load s (read,"
    );
    println!("validate, PII gate and load into the store: read_csv's work plus the checks);");
    println!("disc. +s = protected cells minus raw cells, all measures.");
}
