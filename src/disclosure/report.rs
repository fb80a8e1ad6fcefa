//! The disclosure report of a run: what was published, suppressed and held per measure,
//! how far published figures are from the truth, and our own attacks on the result —
//! what a statistical office would ask before publishing.
//!
//! The whole report stays on the private side (`DATA/private/reports/`); the snapshot
//! carries only its non-revealing part (`Report::public`: no held counts, which would
//! point at late records), which administrators read under `/admin/disclosure`.

use std::collections::{BTreeMap, HashMap};

use duckdb::Connection;

use super::{Disclosure, Protected, grid};
use crate::definitions::{Measure, Sensitivity, Statistic};
pub use crate::snapshot::report::{CrossMeasure, MeasureReport, Report, TableRow};

/// A published cell beside its truth.
struct Cell {
    breakdown: String,
    dims: Vec<Option<String>>,
    n: i64,
    ksum: i128,
    truth: Option<f64>,
    value: Option<f64>,
    suppressed: bool,
}

fn cells(conn: &Connection, m: &Measure) -> duckdb::Result<Vec<Cell>> {
    let dims: String = m.dimensions.iter().map(|d| format!("g.{d}, ")).collect();
    let on: String = m
        .dimensions
        .iter()
        .map(|d| format!(" AND g.{d} IS NOT DISTINCT FROM p.{d}"))
        .collect();
    let mut stmt = conn.prepare(&format!(
        "SELECT g.breakdown, {dims} g.n, CAST(g.ksum AS VARCHAR), g.value, p.value, p.suppressed
         FROM {grid} g JOIN {out} p ON g.breakdown = p.breakdown{on}",
        grid = grid::grid_table(m),
        out = Disclosure::protected_table(m),
    ))?;
    let k = m.dimensions.len();
    let rows = stmt.query_map([], |r| {
        Ok(Cell {
            breakdown: r.get(0)?,
            dims: (0..k).map(|i| r.get(1 + i)).collect::<Result<_, _>>()?,
            n: r.get(1 + k)?,
            ksum: r.get::<_, String>(2 + k)?.parse().unwrap_or(0),
            truth: r.get(3 + k)?,
            value: r.get(4 + k)?,
            suppressed: r.get(5 + k)?,
        })
    })?;
    rows.collect()
}

/// The narrowest range a suppressed cell gets from one parent and its children, where
/// the children split the parent's people exactly.
fn narrowest_range(m: &Measure, cells: &[Cell], d: f64, t: f64) -> Option<f64> {
    let bounds = |c: &Cell| match (c.suppressed, c.value) {
        (false, Some(v)) => (v - d, v + d),
        _ => (0.0, t - 1.0 + d),
    };
    let mut by_breakdown: HashMap<&str, Vec<&Cell>> = HashMap::new();
    for c in cells {
        by_breakdown.entry(&c.breakdown).or_default().push(c);
    }
    let mut narrowest: Option<f64> = None;
    for b in &m.breakdowns {
        for dropped in b {
            let parent: Vec<String> = b.iter().filter(|x| *x != dropped).cloned().collect();
            let (Some(children), Some(parents)) = (
                by_breakdown.get(Measure::breakdown_id(b).as_str()),
                by_breakdown.get(Measure::breakdown_id(&parent).as_str()),
            ) else {
                continue;
            };
            let drop_at = m.dimensions.iter().position(|x| x == dropped)?;
            let key = |c: &Cell| {
                let mut dims = c.dims.clone();
                dims[drop_at] = None;
                dims
            };
            let mut families: HashMap<Vec<Option<String>>, Vec<&Cell>> = HashMap::new();
            for c in children {
                families.entry(key(c)).or_default().push(c);
            }
            for p in parents {
                let Some(kids) = families.get(&p.dims) else {
                    continue;
                };
                // Only relations where the children split the parent's people exactly.
                if kids.iter().map(|c| c.n).sum::<i64>() != p.n {
                    continue;
                }
                let (p_lo, p_hi) = bounds(p);
                let (lo_sum, hi_sum): (f64, f64) = kids
                    .iter()
                    .map(|c| bounds(c))
                    .fold((0.0, 0.0), |a, b| (a.0 + b.0.max(0.0), a.1 + b.1));
                for c in kids.iter().filter(|c| c.suppressed) {
                    let (c_lo, c_hi) = bounds(c);
                    let lo = (p_lo - (hi_sum - c_hi)).max(0.0);
                    let hi = (p_hi - (lo_sum - c_lo.max(0.0))).min(t - 1.0 + d);
                    let range = (hi - lo).max(0.0);
                    narrowest = Some(narrowest.map_or(range, |x: f64| x.min(range)));
                }
            }
        }
    }
    narrowest
}

/// Computes the report of a run from the grids and protected tables `protect` left.
pub fn compute(
    conn: &Connection,
    disclosure: &Disclosure,
    measures: &[(&Measure, Protected)],
) -> duckdb::Result<Report> {
    let policy = &disclosure.policy;
    let t = policy.threshold as f64;
    let d = policy.perturbation.max_deviation as f64;
    let mut report = Report {
        snapshot: None,
        policy_version: policy.version.clone(),
        threshold: policy.threshold,
        ..Report::default()
    };
    // (breakdown dimension names, values, n, ksum) → published value, per count measure.
    let mut shared: HashMap<(Vec<String>, Vec<String>, i64, i128), Vec<Option<f64>>> =
        HashMap::new();
    for (m, protected) in measures {
        let cells = cells(conn, m)?;
        let person = m.sensitivity == Sensitivity::Person;
        let mean = m.statistic == Statistic::Mean;
        let mut r = MeasureReport {
            id: m.id.clone(),
            person,
            cells: cells.len() as u64,
            ..MeasureReport::default()
        };
        let (mut deviation_sum, mut deviations, mut largest) = (0.0, 0u64, 0.0f64);
        let (mut band, mut band_suppressed) = (0u64, 0u64);
        for c in &cells {
            if c.suppressed {
                r.suppressed += 1;
            } else {
                r.published += 1;
            }
            if !person {
                continue;
            }
            let truth = if mean { c.truth } else { Some(c.n as f64) };
            if let (false, Some(v), Some(truth)) = (c.suppressed, c.value, truth) {
                let dev = (v - truth).abs();
                deviation_sum += dev;
                deviations += 1;
                largest = largest.max(dev);
            }
            if mean && !c.suppressed && (c.n as f64) < t {
                r.means_below_threshold += 1;
            }
            if !mean && (10..=14).contains(&c.n) {
                band += 1;
                band_suppressed += u64::from(c.suppressed);
            }
            if !mean {
                let b: Vec<String> = m
                    .dimensions
                    .iter()
                    .zip(&c.dims)
                    .filter(|(_, v)| v.is_some())
                    .map(|(d, _)| d.clone())
                    .collect();
                let values: Vec<String> = c.dims.iter().flatten().cloned().collect();
                if c.n > 0 {
                    shared
                        .entry((b, values, c.n, c.ksum))
                        .or_default()
                        .push(if c.suppressed { None } else { c.value });
                }
            }
        }
        if person {
            r.held = Some(protected.settled.held);
            r.refreshed = Some(protected.settled.refreshed);
            r.mean_absolute_deviation = (deviations > 0).then(|| deviation_sum / deviations as f64);
            r.largest_deviation = (deviations > 0).then_some(largest);
            r.suppression_rate_10_14 = (band > 0).then(|| band_suppressed as f64 / band as f64);
            if !mean {
                r.narrowest_range = narrowest_range(m, &cells, d, t);
            }
        }
        report.measures.push(r);
    }
    for values in shared.values().filter(|v| v.len() > 1) {
        for pair in values.windows(2) {
            report.cross_measure.pairs += 1;
            if pair[0] != pair[1] {
                report.cross_measure.differing += 1;
            }
        }
    }
    let table = &disclosure.table;
    for n in 1..=table.cap() {
        let row = table.row(n as u64);
        report.table.push(TableRow {
            count: n,
            stays: row.noise.iter().find(|(v, _)| *v == 0).map_or(0.0, |x| x.1),
            expected_absolute_noise: row.noise.iter().map(|(v, p)| v.abs() as f64 * p).sum(),
            variance: row.variance(),
            suppressed: row
                .noise
                .iter()
                .filter(|(v, _)| ((n as i64 + *v as i64) as f64) < t)
                .map(|x| x.1)
                .sum(),
        });
    }
    Ok(report)
}

/// Where the job keeps the reports (private side).
pub fn reports_dir(private: &std::path::Path) -> std::path::PathBuf {
    private.join("reports")
}

/// Keeps a run's full report on the private side, named after its snapshot.
pub fn save(private: &std::path::Path, report: &Report) -> std::io::Result<()> {
    let dir = reports_dir(private);
    std::fs::create_dir_all(&dir)?;
    let name = report.snapshot.as_deref().unwrap_or("unpublished");
    let text = serde_json::to_string_pretty(report).map_err(std::io::Error::other)?;
    std::fs::write(dir.join(format!("{name}.json")), text)
}

/// The full report kept for a snapshot.
pub fn load(private: &std::path::Path, snapshot: &str) -> std::io::Result<Report> {
    let text = std::fs::read_to_string(reports_dir(private).join(format!("{snapshot}.json")))?;
    serde_json::from_str(&text).map_err(std::io::Error::other)
}

/// Summaries by measure, sorted (for tests).
pub fn by_measure(report: &Report) -> BTreeMap<String, MeasureReport> {
    report
        .measures
        .iter()
        .map(|m| (m.id.clone(), m.clone()))
        .collect()
}
