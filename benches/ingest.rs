//! Ingest benchmark: `cargo bench --bench ingest` (scales from `BENCH_SCALES`, default
//! "20,100"). For each scale it generates the fixtures, then, in the same run:
//! - DuckDB's own `read_csv` of the same four files into plain tables (the baseline);
//! - `reintegra ingest` of the same files into a fresh data folder (the real binary):
//!   wall time, rows/s, peak memory, and the time spent loading vs publishing;
//! - the disclosure layer's extra time: raw cells alone vs protected cells, for every
//!   measure, over the private store the run produced.
//!
//! The figure is the ratio DuckDB time / reintegra time (higher is better).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use reintegra::disclosure::{Disclosure, Policy, keys::Secret};
use reintegra::measures::{self, Sensitivity};
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
        out.status.success(),
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

/// Seconds to compute every measure's raw cells, then its protected cells.
fn disclosure_cost(work: &Path) -> (f64, f64) {
    let private = work.join("data/private");
    let store = PrivateStore::open(&private).unwrap();
    let conn = store.connection();
    let all = measures::load_dir(&repo().join("queries")).unwrap();
    let started = Instant::now();
    for m in &all {
        measures::materialise_units(conn, m).unwrap();
        measures::compute_raw_cells(conn, m, &measures::units_table(m), false).unwrap();
    }
    let raw = started.elapsed().as_secs_f64();
    let policy = Policy::load(&repo().join("disclosure.toml")).unwrap();
    let disclosure = Disclosure::new(policy, Secret::load_or_create(&private).unwrap()).unwrap();
    let started = Instant::now();
    disclosure.install(conn).unwrap();
    for m in &all {
        disclosure.protect(conn, m).unwrap();
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
    println!(
        "ratio = DuckDB read_csv time / reintegra ingest time (the whole run: read, validate,"
    );
    println!(
        "PII gate, load, measures, disclosure, snapshot); load ratio = DuckDB time / load s (read,"
    );
    println!("validate, PII gate and load into the store: read_csv's work plus the checks);");
    println!("disc. +s = protected cells minus raw cells, all measures.");
}
