//! Our own attacks on the disclosure layer, on snapshots built from the fixtures:
//! consistency, the threshold, differencing by linear programming, locality, and a scan
//! of the snapshot for anything person-level.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};

use common::*;
use duckdb::Connection;
use reintegra::definitions::{Measure, Sensitivity, Statistic, measure::load_dir};
use reintegra::disclosure::{Policy, keys::Secret};
use reintegra::measures;

/// A published cell: breakdown, dimension values (None outside the breakdown), value.
#[derive(Debug, Clone, PartialEq)]
struct Cell {
    breakdown: String,
    dims: Vec<Option<String>>,
    value: Option<f64>,
    suppressed: bool,
}

/// The truth behind a measure's cells, computed by the test from the private store:
/// for every cell of every breakdown, the set of its contributors.
struct Truth {
    /// Contributor references.
    refs: Vec<String>,
    /// (breakdown, dims) → contributor indices.
    cells: HashMap<(String, Vec<Option<String>>), Vec<u32>>,
}

/// A data folder built once from a set of extracts, with its store and snapshot open.
struct Built {
    _dir: PathBuf,
    measures: Vec<Measure>,
    policy: Policy,
    secret: Secret,
    store: Mutex<reintegra::store::PrivateStore>,
    snapshot: Mutex<Connection>,
}

fn build(name: &str, extracts: &Path) -> Built {
    build_with_secret(name, extracts, None)
}

/// As `build`, with the record-key secret given (hex) instead of drawn at random.
fn build_with_secret(name: &str, extracts: &Path, secret: Option<&str>) -> Built {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("inbox")).unwrap();
    if let Some(hex) = secret {
        std::fs::create_dir_all(dir.join("data/private")).unwrap();
        std::fs::write(dir.join("data/private/secret.key"), hex).unwrap();
    }
    for entry in std::fs::read_dir(extracts).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join("inbox").join(path.file_name().unwrap())).unwrap();
    }
    let options = reintegra::ingest::Options::new(dir.join("inbox"), dir.join("data"), queries());
    let summary = reintegra::ingest::run(&options).unwrap();
    assert_eq!(summary.exit_code(), 0);
    let published = reintegra::snapshot::Published::new(dir.join("data/published"));
    let id = published.current().unwrap().unwrap();
    let snapshot = reintegra::snapshot::open_read_only(&published.path_of(&id)).unwrap();
    let private = dir.join("data/private");
    Built {
        measures: load_dir(&queries()).unwrap(),
        policy: Policy::load(&policy()).unwrap(),
        secret: Secret::load(&private).unwrap(),
        store: Mutex::new(reintegra::store::PrivateStore::open(&private).unwrap()),
        snapshot: Mutex::new(snapshot),
        _dir: dir,
    }
}

/// The committed fixtures.
static FIXTURES: LazyLock<Built> = LazyLock::new(|| build("attacks-fixtures", &fixtures()));

/// The fixture generator at a twentieth of the volume: fewer people, far more small
/// cells — a harder case for the differencing attack, and small enough for an LP per
/// suppressed cell.
static SMALL: LazyLock<Built> = LazyLock::new(|| {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("attacks-small-extracts");
    let _ = std::fs::remove_dir_all(&dir);
    reintegra::fixtures::write(&dir, 7, 0.05).unwrap();
    build("attacks-small", &dir)
});

fn published_cells(conn: &Connection, m: &Measure) -> Vec<Cell> {
    let dims = m
        .dimensions
        .iter()
        .map(|d| format!("{d}, "))
        .collect::<String>();
    let mut stmt = conn
        .prepare(&format!(
            "SELECT breakdown, {dims} value, suppressed FROM cells_{}",
            m.id
        ))
        .unwrap();
    let n = m.dimensions.len();
    stmt.query_map([], |r| {
        Ok(Cell {
            breakdown: r.get(0)?,
            dims: (0..n).map(|i| r.get(1 + i)).collect::<Result<_, _>>()?,
            value: r.get(1 + n)?,
            suppressed: r.get(2 + n)?,
        })
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

fn truth(store: &reintegra::store::PrivateStore, m: &Measure) -> Truth {
    let conn = store.connection();
    measures::materialise_units(conn, m).unwrap();
    let contributor = m.statistic.contributor().expect("counts have contributors");
    let dims = m
        .dimensions
        .iter()
        .map(|d| format!(", CAST({d} AS VARCHAR)"))
        .collect::<String>();
    let mut stmt = conn
        .prepare(&format!(
            "SELECT DISTINCT {contributor}{dims} FROM {}",
            measures::units_table(m)
        ))
        .unwrap();
    let n = m.dimensions.len();
    let rows: Vec<(String, Vec<String>)> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                (0..n).map(|i| r.get(1 + i)).collect::<Result<_, _>>()?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut index: HashMap<String, u32> = HashMap::new();
    let mut refs = Vec::new();
    let mut cells: HashMap<(String, Vec<Option<String>>), HashSet<u32>> = HashMap::new();
    for (r, values) in rows {
        let i = *index.entry(r.clone()).or_insert_with(|| {
            refs.push(r);
            refs.len() as u32 - 1
        });
        for b in &m.breakdowns {
            let key: Vec<Option<String>> = m
                .dimensions
                .iter()
                .zip(&values)
                .map(|(d, v)| b.contains(d).then(|| v.clone()))
                .collect();
            cells
                .entry((Measure::breakdown_id(b), key))
                .or_default()
                .insert(i);
        }
    }
    let cells = cells
        .into_iter()
        .map(|(k, set)| {
            let mut v: Vec<u32> = set.into_iter().collect();
            v.sort_unstable();
            (k, v)
        })
        .collect();
    Truth { refs, cells }
}

fn count_measures(built: &Built) -> Vec<&Measure> {
    built
        .measures
        .iter()
        .filter(|m| m.sensitivity == Sensitivity::Person && m.statistic != Statistic::Mean)
        .collect()
}

#[test]
fn the_same_contributors_get_the_same_value_everywhere() {
    let built = &*FIXTURES;
    let store = built.store.lock().unwrap();
    let snapshot = built.snapshot.lock().unwrap();
    // Contributor set (as sorted references) → the published cell first seen with it.
    let mut seen: HashMap<Vec<String>, (String, Cell)> = HashMap::new();
    let mut repeats = 0;
    for m in count_measures(built) {
        let truth = truth(&store, m);
        for cell in published_cells(&snapshot, m) {
            let members = truth
                .cells
                .get(&(cell.breakdown.clone(), cell.dims.clone()));
            let Some(members) = members else {
                assert!(
                    cell.suppressed,
                    "{}: an empty cell is suppressed: {cell:?}",
                    m.id
                );
                continue;
            };
            let mut set: Vec<String> = members
                .iter()
                .map(|i| truth.refs[*i as usize].clone())
                .collect();
            set.sort();
            match seen.get(&set) {
                Some((other, first)) => {
                    repeats += 1;
                    assert_eq!(
                        (first.value, first.suppressed),
                        (cell.value, cell.suppressed),
                        "{other} {first:?} and {} {cell:?} have the same contributors",
                        m.id
                    );
                }
                None => {
                    seen.insert(set, (m.id.clone(), cell));
                }
            }
        }
    }
    // Totals shared by beneficiaries and its cumulative version, single-site cercles…
    assert!(
        repeats >= 20,
        "the fixtures hold cells with equal contributors ({repeats})"
    );
}

#[test]
fn no_person_count_below_the_threshold_is_published() {
    let built = &*FIXTURES;
    let snapshot = built.snapshot.lock().unwrap();
    let t = built.policy.threshold as f64;
    let (mut suppressed, mut total) = (0usize, 0usize);
    for m in built
        .measures
        .iter()
        .filter(|m| m.sensitivity == Sensitivity::Person)
    {
        for cell in published_cells(&snapshot, m) {
            total += 1;
            assert_eq!(cell.suppressed, cell.value.is_none(), "{}: {cell:?}", m.id);
            if cell.suppressed {
                suppressed += 1;
            } else if m.statistic != Statistic::Mean {
                let v = cell.value.unwrap();
                assert!(v >= t && v.fract() == 0.0, "{}: {cell:?}", m.id);
            }
        }
    }
    eprintln!(
        "person cells suppressed at fixture scale: {suppressed} of {total} ({:.1}%)",
        100.0 * suppressed as f64 / total as f64
    );
    assert!(suppressed > 0, "the fixtures have small cells");
}

/// Bounds every suppressed cell of a measure by linear programming over every published
/// cell of the measure; returns the narrowest range found.
fn differencing_attack(built: &Built, m: &Measure) -> (f64, String, usize) {
    use good_lp::{
        Expression, ProblemVariables, Solution, SolverModel, constraint, microlp, variable,
    };
    let store = built.store.lock().unwrap();
    let snapshot = built.snapshot.lock().unwrap();
    let truth = truth(&store, m);
    let cells = published_cells(&snapshot, m);
    let d = built.policy.perturbation.max_deviation as f64;
    let t = built.policy.threshold as f64;
    // Contributors that fall in exactly the same cells are one variable.
    let mut membership: Vec<Vec<usize>> = vec![Vec::new(); truth.refs.len()];
    for (ci, cell) in cells.iter().enumerate() {
        if let Some(members) = truth
            .cells
            .get(&(cell.breakdown.clone(), cell.dims.clone()))
        {
            for &i in members {
                membership[i as usize].push(ci);
            }
        }
    }
    let mut signatures: BTreeMap<Vec<usize>, usize> = BTreeMap::new();
    for cells_of in membership {
        *signatures.entry(cells_of).or_default() += 1;
    }
    // An empty suppressed cell could hold someone the attacker has not seen: give each
    // one a possible contributor, placed in it, in the total and in one matching cell of
    // every other breakdown. More variables only widen what the attacker can infer.
    for (ci, cell) in cells.iter().enumerate() {
        if !truth
            .cells
            .contains_key(&(cell.breakdown.clone(), cell.dims.clone()))
        {
            let mut member = vec![ci];
            for b in &m.breakdowns {
                let id = Measure::breakdown_id(b);
                if id == cell.breakdown {
                    continue;
                }
                let matching = cells.iter().position(|other| {
                    other.breakdown == id
                        && other
                            .dims
                            .iter()
                            .zip(&cell.dims)
                            .all(|(o, c)| o.is_none() || c.is_none() || o == c)
                });
                member.extend(matching);
            }
            member.sort_unstable();
            *signatures.entry(member).or_default() += 1;
        }
    }
    let mut in_cell: Vec<Vec<usize>> = vec![Vec::new(); cells.len()];
    for (si, (cells_of, _)) in signatures.iter().enumerate() {
        for &ci in cells_of {
            in_cell[ci].push(si);
        }
    }
    let mut narrowest = (f64::INFINITY, String::new());
    let mut solved = 0;
    for (target, cell) in cells.iter().enumerate().filter(|(_, c)| c.suppressed) {
        let mut bounds = [0.0f64; 2];
        for (k, maximise) in [false, true].into_iter().enumerate() {
            let mut vars = ProblemVariables::new();
            let xs: Vec<_> = signatures
                .iter()
                .map(|_| vars.add(variable().min(0.0)))
                .collect();
            let objective: Expression = in_cell[target].iter().map(|&s| xs[s]).sum();
            let mut model = if maximise {
                vars.maximise(objective.clone()).using(microlp)
            } else {
                vars.minimise(objective.clone()).using(microlp)
            };
            for (ci, c) in cells.iter().enumerate() {
                let sum: Expression = in_cell[ci].iter().map(|&s| xs[s]).sum();
                match c.value {
                    Some(v) if !c.suppressed => {
                        model = model
                            .with(constraint!(sum.clone() <= v + d))
                            .with(constraint!(sum >= v - d));
                    }
                    _ => model = model.with(constraint!(sum <= t - 1.0 + d)),
                }
            }
            let solution = model.solve().expect("the true counts are a feasible point");
            bounds[k] = solution.eval(&objective);
        }
        solved += 1;
        let range = bounds[1] - bounds[0];
        assert!(
            range > 1.0,
            "{}: suppressed cell {cell:?} is pinned to [{}, {}]",
            m.id,
            bounds[0],
            bounds[1]
        );
        if range < narrowest.0 {
            narrowest = (
                range,
                format!(
                    "{} {} {:?}: [{:.2}, {:.2}]",
                    m.id, cell.breakdown, cell.dims, bounds[0], bounds[1]
                ),
            );
        }
    }
    (narrowest.0, narrowest.1, solved)
}

#[test]
fn differencing_cannot_pin_down_a_suppressed_cell() {
    let built = &*SMALL;
    let mut report = Vec::new();
    for m in count_measures(built) {
        let (range, cell, solved) = differencing_attack(built, m);
        report.push(format!(
            "{:>26}: {solved:>4} suppressed cells bounded, narrowest range {range:.2} ({cell})",
            m.id
        ));
    }
    eprintln!("{}", report.join("\n"));
}

#[test]
fn differencing_on_the_committed_training_fixtures() {
    let built = &*FIXTURES;
    let m = built.measures.iter().find(|m| m.id == "trainees").unwrap();
    let (range, cell, solved) = differencing_attack(built, m);
    eprintln!(
        "trainees at fixture scale: {solved} suppressed cells bounded, narrowest range {range:.2} ({cell})"
    );
}

#[test]
fn nothing_person_level_is_in_the_snapshot() {
    let built = &*FIXTURES;
    let store = built.store.lock().unwrap();
    let snapshot = built.snapshot.lock().unwrap();
    let mut forbidden_text: HashSet<String> = HashSet::new();
    let mut forbidden_numbers: HashSet<u64> = HashSet::new();
    for m in count_measures(built) {
        let truth = truth(&store, m);
        let keys: Vec<u64> = truth
            .refs
            .iter()
            .map(|r| built.secret.record_key(r))
            .collect();
        for r in &truth.refs {
            forbidden_text.insert(r.clone());
        }
        for k in &keys {
            forbidden_numbers.insert(*k);
            forbidden_numbers.insert(*k % (1 << 32));
            forbidden_text.insert(k.to_string());
        }
        for members in truth.cells.values() {
            let sum: u128 = members.iter().map(|i| keys[*i as usize] as u128).sum();
            let cell_key = (sum % (1 << 32)) as u64;
            if cell_key > 1_000_000 {
                forbidden_numbers.insert(cell_key);
                forbidden_text.insert(cell_key.to_string());
            }
        }
        // No column of a cells table other than `value` carries a number, and the
        // published values are not the raw counts.
        let cells = published_cells(&snapshot, m);
        let (mut equal, mut shown) = (0, 0);
        for cell in &cells {
            if let (Some(v), Some(members)) = (
                cell.value,
                truth
                    .cells
                    .get(&(cell.breakdown.clone(), cell.dims.clone())),
            ) {
                shown += 1;
                if v == members.len() as f64 {
                    equal += 1;
                }
            }
        }
        assert!(
            shown < 20 || (equal as f64) < 0.6 * shown as f64,
            "{}: {equal} of {shown} published values equal the raw count",
            m.id
        );
    }
    let columns: Vec<(String, String, String)> = {
        let mut stmt = snapshot
            .prepare("SELECT table_name, column_name, data_type FROM information_schema.columns")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    for (table, column, ty) in &columns {
        if table.starts_with("cells_") {
            assert!(
                ty == "VARCHAR"
                    || (column == "value" && ty == "DOUBLE")
                    || (column == "suppressed" && ty == "BOOLEAN"),
                "{table}.{column} {ty}"
            );
        }
        let mut stmt = snapshot
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
                !forbidden_text.contains(&v),
                "{table}.{column} holds a reference or a key"
            );
            if let Ok(n) = v.trim_end_matches(".0").parse::<u64>() {
                assert!(
                    !forbidden_numbers.contains(&n) || n < 1_000_000,
                    "{table}.{column} holds a key"
                );
            }
            for r in forbidden_text.iter().filter(|r| r.len() >= 8) {
                assert!(
                    !v.contains(r.as_str()),
                    "{table}.{column} contains a reference"
                );
            }
        }
    }
}

/// Builds a data folder from the fixtures plus extra rows appended to one extract, and
/// returns every person measure's cells.
fn cells_with_extra(name: &str, kind: &str, extra: &[&str]) -> HashMap<String, Vec<Cell>> {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("inbox")).unwrap();
    for k in ["returns", "sessions", "campaigns", "trainings"] {
        let mut text = std::fs::read_to_string(fixtures().join(format!("{k}.csv"))).unwrap();
        if k == kind {
            for row in extra {
                text.push_str(row);
                text.push('\n');
            }
        }
        std::fs::write(dir.join("inbox").join(format!("{k}.csv")), text).unwrap();
    }
    // Both folders share one secret, as two nights of one installation do.
    std::fs::create_dir_all(dir.join("data/private")).unwrap();
    std::fs::write(dir.join("data/private/secret.key"), "ab".repeat(32)).unwrap();
    let options = reintegra::ingest::Options::new(dir.join("inbox"), dir.join("data"), queries());
    reintegra::ingest::run(&options).unwrap();
    let published = reintegra::snapshot::Published::new(dir.join("data/published"));
    let conn = reintegra::snapshot::open_read_only(
        &published.path_of(&published.current().unwrap().unwrap()),
    )
    .unwrap();
    let measures = load_dir(&queries()).unwrap();
    measures
        .iter()
        .filter(|m| m.sensitivity == Sensitivity::Person)
        .map(|m| (m.id.clone(), published_cells(&conn, m)))
        .collect()
}

#[test]
fn adding_one_person_changes_only_the_cells_that_hold_them() {
    let before = cells_with_extra("locality-before", "returns", &[]);
    let after = cells_with_extra(
        "locality-after",
        "returns",
        &["RZZZZZZZ1,2018-07-14,NER,ML08,ML0802,F,25-34,VHR,0,1,0"],
    );
    // Where the new returnee stands in every dimension of the returns measure.
    let person: HashMap<&str, &str> = [
        ("region", "ML08"),
        ("cercle", "ML0802"),
        ("month", "2018-07"),
        ("quarter", "2018-Q3"),
        ("year", "2018"),
        ("country_from", "NER"),
        ("sex", "F"),
        ("age_band", "25-34"),
        ("return_type", "VHR"),
        ("vulnerability", "trafficking_victim"),
    ]
    .into_iter()
    .collect();
    let dims = load_dir(&queries())
        .unwrap()
        .into_iter()
        .find(|m| m.id == "returns")
        .unwrap()
        .dimensions;
    let (mut holding, mut changed) = (0, 0);
    for (id, cells) in &before {
        let later = &after[id];
        if id != "returns" {
            assert_eq!(cells, later, "{id} does not hold the new returnee");
            continue;
        }
        let later: HashMap<_, _> = later
            .iter()
            .map(|c| ((c.breakdown.clone(), c.dims.clone()), c))
            .collect();
        for cell in cells {
            let holds = dims
                .iter()
                .zip(&cell.dims)
                .all(|(d, v)| v.as_deref().is_none_or(|v| person[d.as_str()] == v));
            let other = later[&(cell.breakdown.clone(), cell.dims.clone())];
            if holds {
                holding += 1;
                changed += usize::from(other != cell);
            } else {
                assert_eq!(cell, other, "a cell without the new returnee changed");
            }
        }
    }
    assert!(
        holding >= 20 && changed > 0,
        "{holding} cells hold the returnee, {changed} changed"
    );
}

#[test]
fn unchanged_data_publishes_the_same_values_night_after_night() {
    let first = cells_with_extra("nights-first", "campaigns", &[]);
    let second = cells_with_extra(
        "nights-second",
        "campaigns",
        &["EZZZZZZ1,2019-06-02,ML01,ML0103,radio,snk,1200,,"],
    );
    assert_eq!(first, second);
}

/// For every count measure: (breakdown, dims) → (true count, the people behind it).
fn people_behind(
    store: &reintegra::store::PrivateStore,
    m: &Measure,
) -> HashMap<(String, Vec<Option<String>>), (usize, Vec<String>)> {
    let conn = store.connection();
    measures::materialise_units(conn, m).unwrap();
    let counted = m.statistic.contributor().unwrap();
    let mut out = HashMap::new();
    for b in &m.breakdowns {
        let dims: Vec<String> = m
            .dimensions
            .iter()
            .map(|d| {
                if b.contains(d) {
                    format!("CAST({d} AS VARCHAR)")
                } else {
                    "CAST(NULL AS VARCHAR)".to_string()
                }
            })
            .collect();
        let group = if b.is_empty() {
            String::new()
        } else {
            format!("GROUP BY {}", b.join(", "))
        };
        let select_dims: String = dims.iter().map(|d| format!("{d}, ")).collect();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {select_dims} count(DISTINCT {counted}), list(DISTINCT person_ref ORDER BY person_ref)
                 FROM {} {group}",
                measures::units_table(m)
            ))
            .unwrap();
        let k = m.dimensions.len();
        let rows = stmt
            .query_map([], |r| {
                let dims: Vec<Option<String>> =
                    (0..k).map(|i| r.get(i)).collect::<Result<_, _>>()?;
                let n: i64 = r.get(k)?;
                let people: duckdb::types::Value = r.get(k + 1)?;
                let people = match people {
                    duckdb::types::Value::List(v) => v
                        .into_iter()
                        .map(|x| match x {
                            duckdb::types::Value::Text(t) => t,
                            other => format!("{other:?}"),
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                Ok((dims, n as usize, people))
            })
            .unwrap();
        for row in rows {
            let (dims, n, people) = row.unwrap();
            out.insert((Measure::breakdown_id(b), dims), (n, people));
        }
    }
    out
}

#[test]
fn counts_over_the_same_people_publish_the_same_value_in_every_measure() {
    let built = &*FIXTURES;
    let store = built.store.lock().unwrap();
    let snapshot = built.snapshot.lock().unwrap();
    // (breakdown dimension names and values, true count, people) → published values.
    let mut seen: HashMap<(Vec<(String, String)>, usize, Vec<String>), Vec<(String, Option<f64>)>> =
        HashMap::new();
    for m in count_measures(built) {
        let behind = people_behind(&store, m);
        for cell in published_cells(&snapshot, m) {
            let Some((n, people)) = behind.get(&(cell.breakdown.clone(), cell.dims.clone())) else {
                continue;
            };
            let named: Vec<(String, String)> = m
                .dimensions
                .iter()
                .zip(&cell.dims)
                .filter_map(|(d, v)| v.clone().map(|v| (d.clone(), v)))
                .collect();
            seen.entry((named, *n, people.clone())).or_default().push((
                m.id.clone(),
                if cell.suppressed { None } else { cell.value },
            ));
        }
    }
    let mut pairs = 0;
    for (key, values) in seen.iter().filter(|(_, v)| v.len() > 1) {
        for pair in values.windows(2) {
            pairs += 1;
            assert_eq!(
                pair[0].1, pair[1].1,
                "{} and {} count the same people ({:?}, n = {}) but publish different values",
                pair[0].0, pair[1].0, key.0, key.1
            );
        }
    }
    // One-to-one sessions: sessions held, attendances and beneficiaries of a cell can
    // be the same people and the same count.
    assert!(pairs >= 10, "{pairs} pairs of cells count the same people");
    eprintln!("{pairs} pairs of cells of two measures count the same people: all equal");
}

#[test]
fn grids_come_from_the_reference_lists_not_the_data() {
    let built = &*FIXTURES;
    let snapshot = built.snapshot.lock().unwrap();
    let returns = built.measures.iter().find(|m| m.id == "returns").unwrap();
    let cells = published_cells(&snapshot, returns);
    let of = |b: &str| {
        cells
            .iter()
            .filter(|c| c.breakdown == b)
            .collect::<Vec<_>>()
    };
    let register = reintegra::reference::Register::builtin();
    // Every country of departure, though the fixtures hold only five.
    assert_eq!(of("country_from").len(), register.departure.len());
    let chad = of("country_from")
        .into_iter()
        .find(|c| c.dims.contains(&Some("TCD".into())))
        .expect("Chad is in the grid");
    assert!(
        chad.suppressed && chad.value.is_none(),
        "nobody from Chad reads <10"
    );
    // Every region and cercle of the 2019 boundaries.
    assert_eq!(of("region").len(), 10);
    assert_eq!(of("region,cercle").len(), 49);
    // Every site of the register, for the sessions measures.
    let beneficiaries = built
        .measures
        .iter()
        .find(|m| m.id == "beneficiaries")
        .unwrap();
    let sites = published_cells(&snapshot, beneficiaries)
        .into_iter()
        .filter(|c| c.breakdown == "region,cercle,site")
        .count();
    assert_eq!(sites, register.sites.len());
}

#[test]
fn no_published_dimension_value_is_free_text() {
    let built = &*FIXTURES;
    let snapshot = built.snapshot.lock().unwrap();
    let register = reintegra::reference::Register::builtin();
    let labels = reintegra::reference::labels();
    let places = reintegra::reference::places();
    let period = |v: &str| reintegra::present::filters::period_level(v).is_some();
    for m in &built.measures {
        for cell in published_cells(&snapshot, m) {
            for (d, v) in m.dimensions.iter().zip(&cell.dims) {
                let Some(v) = v else { continue };
                let known = match d.as_str() {
                    "region" => places.region(v).is_some(),
                    "cercle" => places.cercle(v).is_some(),
                    "site" => register.sites.iter().any(|s| &s.code == v),
                    "country_from" => register.is_departure(v),
                    "month" | "quarter" | "year" | "through_month" => period(v),
                    other => labels.get(other).is_some_and(|set| set.contains_key(v)),
                };
                assert!(
                    known,
                    "{}.{d} publishes a value outside the reference lists",
                    m.id
                );
            }
        }
    }
}

#[test]
fn means_need_enough_people_are_perturbed_and_resist_subtraction() {
    // The small extracts (few trainees, many small subgroups), under eight fixed
    // secrets: the perturbation depends on the secret, and four subtractions under one
    // secret say little, so the attack is judged over all of them together.
    let _ = &*SMALL;
    let extracts = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("attacks-small-extracts");
    let mut errors = Vec::new();
    for i in 1..=8u8 {
        let secret = format!("{i:02x}").repeat(32);
        let built = build_with_secret(
            &format!("attacks-small-means-{i}"),
            &extracts,
            Some(&secret),
        );
        errors.extend(mean_attack(&built));
    }
    errors.sort_by(f64::total_cmp);
    eprintln!(
        "subtraction of published means: {} attempts, errors {:?}",
        errors.len(),
        errors
    );
    assert!(
        errors.len() >= 16,
        "the attack found too few cases to mean anything"
    );
    let median = errors[errors.len() / 2];
    assert!(
        median > 2.0,
        "subtraction recovers suppressed means to within {median:.2} points (median)"
    );
}

/// Checks the published means of one build and returns the errors of the subtraction
/// attack (one per margin with suppressed subgroups).
fn mean_attack(built: &Built) -> Vec<f64> {
    let store = built.store.lock().unwrap();
    let snapshot = built.snapshot.lock().unwrap();
    let m = built
        .measures
        .iter()
        .find(|m| m.id == "training_scores")
        .unwrap();
    let conn = store.connection();
    measures::materialise_units(conn, m).unwrap();
    // The true mean and count of every cell.
    let mut truth: HashMap<(String, Vec<Option<String>>), (f64, usize)> = HashMap::new();
    for b in &m.breakdowns {
        let dims: String = m
            .dimensions
            .iter()
            .map(|d| {
                if b.contains(d) {
                    format!("CAST({d} AS VARCHAR), ")
                } else {
                    "CAST(NULL AS VARCHAR), ".into()
                }
            })
            .collect();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {dims} avg(value), count(DISTINCT person_ref) FROM {} GROUP BY {}",
                measures::units_table(m),
                b.join(", ")
            ))
            .unwrap();
        let k = m.dimensions.len();
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    (0..k)
                        .map(|i| r.get(i))
                        .collect::<Result<Vec<Option<String>>, _>>()?,
                    r.get::<_, f64>(k)?,
                    r.get::<_, i64>(k + 1)?,
                ))
            })
            .unwrap();
        for row in rows {
            let (dims, mean, n) = row.unwrap();
            truth.insert((Measure::breakdown_id(b), dims), (mean, n as usize));
        }
    }
    let cells = published_cells(&snapshot, m);
    let t = built.policy.threshold as usize;
    let (mut published, mut exact) = (0, 0);
    for c in &cells {
        let Some(v) = c.value else { continue };
        let (mean, n) = truth[&(c.breakdown.clone(), c.dims.clone())];
        assert!(n >= t, "a mean over {n} people is published: {c:?}");
        assert_eq!(v.fract(), 0.0, "scores are published in whole points");
        assert!((0.0..=100.0).contains(&v));
        published += 1;
        exact += usize::from(v == mean.round());
    }
    assert!(
        published > 5 && exact < published,
        "{exact} of {published} means are exact"
    );
    // Subtraction: a margin and its published subgroups, with exact counts (the
    // attacker's best case), give the mean of the suppressed subgroups together — only
    // approximately.
    let mut errors = Vec::new();
    for parent in cells
        .iter()
        .filter(|c| c.breakdown == "test" && !c.suppressed)
    {
        let (_, n_p) = truth[&(parent.breakdown.clone(), parent.dims.clone())];
        for b in m
            .breakdowns
            .iter()
            .map(|b| Measure::breakdown_id(b))
            .filter(|b| b != "test")
        {
            let children: Vec<&Cell> = cells
                .iter()
                .filter(|c| c.breakdown == b && c.dims[0] == parent.dims[0])
                .collect();
            let (mut sum, mut hidden_n, mut hidden_sum) =
                (parent.value.unwrap() * n_p as f64, 0usize, 0.0);
            for c in &children {
                let Some(&(mean, n)) = truth.get(&(c.breakdown.clone(), c.dims.clone())) else {
                    continue;
                };
                match c.value {
                    Some(v) => sum -= v * n as f64,
                    None => {
                        hidden_n += n;
                        hidden_sum += mean * n as f64;
                    }
                }
            }
            if hidden_n > 0 {
                errors.push((sum / hidden_n as f64 - hidden_sum / hidden_n as f64).abs());
            }
        }
    }
    errors
}

#[test]
fn an_aggregate_measure_may_not_read_records_of_people() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(queries()).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
    }
    let bad = "-- id = \"returns_total\"\n-- title = { fr = \"t\", en = \"t\" }\n-- description = { fr = \"d\", en = \"d\" }\n-- unit = { fr = \"u\", en = \"u\" }\n-- sensitivity = \"aggregate\"\n-- statistic = \"units\"\n-- dimensions = [\"region\"]\n-- breakdowns = [[\"region\"]]\nSELECT person_ref AS unit_ref, region_pcode AS region FROM returns\n";
    std::fs::write(dir.path().join("returns_total.sql"), bad).unwrap();
    let out = reintegra(&[
        "check",
        dir.path().join("returns_total.sql").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("may not read the returns table"),
        "{}",
        text(&out)
    );
    // And the job refuses to run with it.
    let ws = Workspace::new();
    ws.deliver_fixtures();
    let options = reintegra::ingest::Options::new(ws.inbox(), ws.data(), dir.path());
    let mut options = options;
    options.policy = policy();
    let err = reintegra::ingest::run(&options).unwrap_err().to_string();
    assert!(err.contains("may not read the returns table"), "{err}");
    assert!(!ws.published().join("CURRENT").exists());
}
