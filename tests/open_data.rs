//! Open data (HXL + Frictionless): `reintegra export open-data` and `/open/`. The same
//! snapshot gives the same bytes from two exports and from the server; the public set
//! holds only tables the public pages show; a suppressed cell never gets a number;
//! labels are in French and English; and real readers — the Python `frictionless` and
//! `libhxl` packages, from the virtual environment `.ci/run` makes (REINTEGRA_PYTHON) —
//! accept every file.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::LazyLock;

use common::*;
use reintegra::access::Role;

static DATA: LazyLock<PathBuf> = LazyLock::new(|| built_data("open-data"));

fn data() -> PathBuf {
    DATA.clone()
}

/// Runs `reintegra export open-data` into a fresh folder and returns it.
fn export(data: &Path, public: bool, extra: &[&str]) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let mut args = vec![
        "export",
        "open-data",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
        "--dashboards",
        repo_dashboards(),
    ];
    if public {
        args.push("--public");
    }
    args.extend_from_slice(extra);
    let output = reintegra(&args);
    assert!(output.status.success(), "{}", text(&output));
    out
}

fn repo_dashboards() -> &'static str {
    static DIR: LazyLock<String> =
        LazyLock::new(|| repo().join("dashboards").to_str().unwrap().to_string());
    DIR.as_str()
}

/// Every file of a folder: name → bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_str().unwrap().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

fn package(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("datapackage.json")).unwrap()).unwrap()
}

/// (measure, breakdown) of every resource of a package.
fn tables_of(package: &serde_json::Value) -> BTreeSet<(String, Vec<String>)> {
    package["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let measure = r["reintegra"]["measure"].as_str().unwrap().to_string();
            let breakdown = r["reintegra"]["breakdown"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_str().unwrap().to_string())
                .collect();
            (measure, breakdown)
        })
        .collect()
}

/// A CSV file as (header, hashtags, rows).
fn read_csv(bytes: &[u8]) -> (Vec<String>, Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes);
    let mut records = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect::<Vec<String>>());
    let header = records.next().unwrap();
    let tags = records.next().unwrap();
    (header, tags, records.collect())
}

#[tokio::test]
async fn two_exports_and_the_server_give_the_same_bytes() {
    let data = tokio::task::spawn_blocking(data).await.unwrap();
    let (a, b) = tokio::task::spawn_blocking({
        let data = data.clone();
        move || (export(&data, true, &[]), export(&data, true, &[]))
    })
    .await
    .unwrap();
    let (first, second) = (files(a.path()), files(b.path()));
    assert!(first.len() >= 3, "{:?}", first.keys());
    assert_eq!(first, second, "two exports of one snapshot differ");
    // No temporary file is left behind.
    assert!(
        first.keys().all(|n| !n.starts_with('.')),
        "{:?}",
        first.keys()
    );
    for (name, bytes) in &first {
        eprintln!("public {name}: {} bytes", bytes.len());
    }

    // Anonymous visitors of a public server read the same bytes.
    let (copy, _keep) = copy_of_published(&data);
    let app = spawn_app(Settings {
        public: true,
        ..Settings::new(&copy, repo().join("dashboards"))
    })
    .await;
    for (name, bytes) in &first {
        let got = app.ok(&format!("/open/{name}")).await;
        assert_eq!(&got.body, bytes, "/open/{name} differs from the export");
        if name.ends_with(".csv") {
            assert_eq!(got.header("content-type"), "text/csv; charset=utf-8");
            assert!(got.header("content-disposition").contains(name.as_str()));
        } else {
            assert_eq!(got.header("content-type"), "application/json");
        }
    }
    // The page lists every file with its size, and the licence.
    let page = app.ok("/open/?lang=en").await;
    let html = String::from_utf8(page.body).unwrap();
    for (name, bytes) in &first {
        assert!(html.contains(&format!("href=\"/open/{name}\"")), "{name}");
        let size = if bytes.len() < 1024 {
            format!("{} bytes", bytes.len())
        } else {
            format!("{:.1} KiB", bytes.len() as f64 / 1024.0)
        };
        assert!(html.contains(&size), "{name}: {size}");
    }
    assert!(html.contains("Creative Commons Attribution 4.0 International"));
    assert!(html.contains("HXL") && html.contains("Frictionless"));
    assert!(
        !html.contains("/open/iati.xml"),
        "the IATI file is for the donor's roles"
    );
    let fr = String::from_utf8(app.ok("/open/?lang=fr").await.body).unwrap();
    assert!(fr.contains("Données ouvertes") && fr.contains("<html lang=\"fr\""));
    // Every page links to it.
    let home = String::from_utf8(app.ok("/?lang=en").await.body).unwrap();
    assert!(
        home.contains("href=\"/open/?lang=en\""),
        "no link to /open/"
    );
    // The same file twice, and a 304 for a reader who has it.
    let again = app.ok("/open/datapackage.json").await;
    let etag = again.header("etag");
    let r = app
        .client
        .get(app.url("/open/datapackage.json"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
}

#[tokio::test]
async fn the_public_set_holds_only_what_the_public_pages_show() {
    let data = tokio::task::spawn_blocking(data).await.unwrap();
    let (public, donor) = tokio::task::spawn_blocking({
        let data = data.clone();
        move || (export(&data, true, &[]), export(&data, false, &[]))
    })
    .await
    .unwrap();
    let public_tables = tables_of(&package(public.path()));
    let donor_tables = tables_of(&package(donor.path()));
    let t = |m: &str, b: &[&str]| (m.to_string(), b.iter().map(|s| s.to_string()).collect());
    // The repository's one public dashboard (overview) shows these, and nothing else:
    // headline figures, the cumulative line, the map of returns by region, and people
    // reached read with their audience fixed.
    let expected: BTreeSet<(String, Vec<String>)> = [
        t("beneficiaries", &[]),
        t("beneficiaries_cumulative", &["through_month"]),
        t("people_reached", &["audience"]),
        t("returns", &[]),
        t("returns", &["region"]),
        t("sessions_held", &[]),
        t("trainees", &[]),
    ]
    .into_iter()
    .collect();
    assert_eq!(public_tables, expected);
    // Each is readable by an anonymous visitor through the API of a public server (the
    // guard's own list of public breakdowns) and a finer one is not.
    let (copy, _keep) = copy_of_published(&data);
    let app = spawn_app(Settings {
        public: true,
        ..Settings::new(&copy, repo().join("dashboards"))
    })
    .await;
    for (measure, breakdown) in &public_tables {
        let path = format!("/api/v1/measures/{measure}?by={}", breakdown.join(","));
        assert_eq!(app.get(&path).await.status, 200, "{path}");
    }
    assert_eq!(
        app.get("/api/v1/measures/returns?by=region,cercle")
            .await
            .status,
        400
    );
    // A donor-only table is not served at /open/, to anyone.
    let admin = spawn_app(Settings::new(&copy, repo().join("dashboards")))
        .await
        .with_token("open-admin", Role::Admin);
    for name in [
        "returns_by_month.csv",
        "returns_by_region_cercle.csv",
        "nope.csv",
        "datapackage.csv",
        "returns_by_region.json",
        "..%2Fdatapackage.json",
    ] {
        assert_eq!(
            admin.get(&format!("/open/{name}")).await.status,
            404,
            "{name}"
        );
    }

    // The donor's set: what the donor's pages show — more than the public one, never a
    // breakdown no page shows. Money only as the budget page reads it (by month, and by
    // month and line or output, and the total), never in the public set.
    assert!(donor_tables.is_superset(&public_tables));
    assert!(donor_tables.len() > 40, "{}", donor_tables.len());
    for (m, b) in &donor_tables {
        assert!(!b.contains(&"facilitator".to_string()), "{m} {b:?}");
    }
    let money: BTreeSet<_> = donor_tables
        .iter()
        .filter(|(m, _)| m.starts_with("spending"))
        .cloned()
        .collect();
    assert_eq!(
        money,
        [
            t("spending", &[]),
            t("spending", &["month"]),
            t("spending", &["budget_line", "month"]),
            t("spending", &["output", "month"]),
        ]
        .into_iter()
        .collect::<BTreeSet<_>>()
    );
    assert!(!public_tables.iter().any(|(m, _)| m.starts_with("spending")));
    assert!(donor_tables.contains(&t("returns", &["region", "sex", "age_band"])));
    // What the results framework reads: referrals by quarter, through_month milestones.
    assert!(donor_tables.contains(&t("beneficiaries", &["activity", "quarter"])));
    eprintln!(
        "public set: {} tables; donor set: {} tables",
        public_tables.len(),
        donor_tables.len()
    );
    // A later export of another set into the same folder removes tables it no longer
    // holds (those an earlier datapackage.json listed), and nothing else.
    std::fs::write(donor.path().join("notes.txt"), "kept").unwrap();
    let output = reintegra(&[
        "export",
        "open-data",
        "--data",
        data.to_str().unwrap(),
        "--out",
        donor.path().to_str().unwrap(),
        "--dashboards",
        repo_dashboards(),
        "--public",
    ]);
    assert!(output.status.success(), "{}", text(&output));
    let mut left: Vec<String> = files(donor.path()).into_keys().collect();
    left.sort();
    let mut wanted: Vec<String> = files(public.path()).into_keys().collect();
    wanted.push("notes.txt".into());
    wanted.sort();
    assert_eq!(left, wanted);
}

#[tokio::test]
async fn cells_are_the_snapshots_and_a_suppressed_cell_never_gets_a_number() {
    let data = tokio::task::spawn_blocking(data).await.unwrap();
    let donor = tokio::task::spawn_blocking({
        let data = data.clone();
        move || export(&data, false, &[])
    })
    .await
    .unwrap();
    let published = reintegra::snapshot::Published::new(data.join("published"));
    let id = published.current().unwrap().unwrap();
    let snapshot = reintegra::snapshot::Snapshot::load(&published, &id).unwrap();
    let pkg = package(donor.path());
    let mut suppressed = 0;
    let mut published_cells = 0;
    for resource in pkg["resources"].as_array().unwrap() {
        let name = resource["path"].as_str().unwrap();
        let bytes = std::fs::read(donor.path().join(name)).unwrap();
        let (header, tags, rows) = read_csv(&bytes);
        assert_eq!(header.len(), tags.len(), "{name}");
        assert!(tags.iter().all(|t| t.starts_with('#')), "{name}: {tags:?}");
        // The schema's fields are the header, in order, each with its hashtag.
        let fields = resource["schema"]["fields"].as_array().unwrap();
        let names: Vec<&str> = fields.iter().map(|f| f["name"].as_str().unwrap()).collect();
        assert_eq!(names, header, "{name}");
        for (f, tag) in fields.iter().zip(&tags) {
            assert_eq!(f["hxl"].as_str().unwrap(), tag, "{name}");
            assert!(
                f["description"].as_str().unwrap().contains(tag.as_str()),
                "{name}: the description names the hashtag"
            );
        }
        let measure = resource["reintegra"]["measure"].as_str().unwrap();
        let breakdown: Vec<String> = resource["reintegra"]["breakdown"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap().to_string())
            .collect();
        let value_at = header.iter().position(|h| h == measure).unwrap();
        let status_at = header.iter().position(|h| h == "status").unwrap();
        let cells = snapshot.cells(measure, &breakdown);
        assert_eq!(
            rows.len(),
            cells
                .iter()
                .filter(|c| c.suppressed || c.value.is_some())
                .count(),
            "{name}: one row per published cell"
        );
        for row in &rows {
            match row[status_at].as_str() {
                "suppressed" => {
                    assert_eq!(row[value_at], "", "{name}: a suppressed cell has a number");
                    suppressed += 1;
                }
                "published" => {
                    let v: f64 = row[value_at].parse().unwrap();
                    assert!(v >= 0.0);
                    published_cells += 1;
                }
                other => panic!("{name}: status {other}"),
            }
        }
        // Rows are in a stable order: sorted by their key, no two alike.
        let key_at: Vec<usize> = resource["schema"]["primaryKey"]
            .as_array()
            .map(|k| {
                k.iter()
                    .map(|f| {
                        header
                            .iter()
                            .position(|h| h == f.as_str().unwrap())
                            .unwrap()
                    })
                    .collect()
            })
            .unwrap_or_default();
        let keys: BTreeSet<Vec<&String>> = rows
            .iter()
            .map(|r| key_at.iter().map(|i| &r[*i]).collect())
            .collect();
        assert_eq!(keys.len(), rows.len(), "{name}: duplicate keys");
    }
    assert!(suppressed > 0, "the fixtures have suppressed cells");
    assert!(published_cells > 100);
    eprintln!("donor set: {published_cells} published cells, {suppressed} suppressed");

    // The figures are the snapshot's: returns by region, cell by cell.
    let bytes = std::fs::read(donor.path().join("returns_by_region.csv")).unwrap();
    let (header, _, rows) = read_csv(&bytes);
    let code = header.iter().position(|h| h == "adm1_code").unwrap();
    let value = header.iter().position(|h| h == "returns").unwrap();
    let by = vec!["region".to_string()];
    for row in &rows {
        let equal = [("region", row[code].as_str())];
        let cell = snapshot.select("returns", &by, &equal).next().unwrap();
        match cell.value.filter(|_| !cell.suppressed) {
            Some(v) => assert_eq!(row[value], format!("{}", v.round() as i64)),
            None => assert_eq!(row[value], ""),
        }
    }
}

#[tokio::test]
async fn labels_are_in_french_and_english_from_the_reference() {
    let data = tokio::task::spawn_blocking(data).await.unwrap();
    let donor = tokio::task::spawn_blocking(move || export(&data, false, &[]))
        .await
        .unwrap();
    let row_of = |file: &str, column: &str, code: &str| {
        let bytes = std::fs::read(donor.path().join(file)).unwrap();
        let (header, tags, rows) = read_csv(&bytes);
        let at = header.iter().position(|h| h == column).unwrap();
        let row = rows
            .into_iter()
            .find(|r| r[at] == code)
            .unwrap_or_else(|| panic!("{file}: no row {code}"));
        (header, tags, row)
    };
    let (header, tags, row) = row_of("returns_by_region.csv", "adm1_code", "ML06");
    let get = |name: &str| &row[header.iter().position(|h| h == name).unwrap()];
    assert_eq!(get("adm1_name_fr"), "Tombouctou");
    assert_eq!(get("adm1_name_en"), "Timbuktu");
    assert_eq!(
        tags,
        [
            "#adm1+code",
            "#adm1+name+i_fr",
            "#adm1+name+i_en",
            "#affected+returnees+ind",
            "#meta+status"
        ]
    );
    let (header, tags, row) = row_of("returns_by_sex.csv", "sex", "F");
    let get = |name: &str| &row[header.iter().position(|h| h == name).unwrap()];
    assert_eq!(
        (get("sex_fr").as_str(), get("sex_en").as_str()),
        ("Femmes", "Women")
    );
    assert_eq!(tags[0], "#gender+code");
    let (header, tags, _) = row_of("returns_by_region_cercle.csv", "adm2_code", "ML0105");
    assert!(header.contains(&"adm2_name_fr".to_string()));
    assert!(tags.contains(&"#adm2+code".to_string()));
    // Quarters as HXL readers take them, months as ISO year-months.
    let (_, tags, row) = row_of("returns_by_quarter.csv", "quarter", "2018Q3");
    assert_eq!(
        (tags[0].as_str(), row[0].as_str()),
        ("#date+quarter", "2018Q3")
    );
    let (_, tags, _) = row_of("returns_by_month.csv", "month", "2019-03");
    assert_eq!(tags[0], "#date+month");
    // The package: both languages, the disclosure note, the licence, the snapshot.
    let pkg = package(donor.path());
    let description = pkg["description"].as_str().unwrap();
    assert!(description.contains("Chiffres agrégés et protégés"));
    assert!(description.contains("Aggregated, protected figures"));
    assert!(description.contains("moins de 10") && description.contains("below 10"));
    assert!(pkg["title"].as_str().unwrap().contains(" / "));
    assert_eq!(pkg["licenses"][0]["name"], "CC-BY-4.0");
    assert_eq!(
        pkg["licenses"][0]["path"],
        "https://creativecommons.org/licenses/by/4.0/"
    );
    let published = reintegra::snapshot::Published::new(DATA.join("published"));
    let id = published.current().unwrap().unwrap();
    assert_eq!(pkg["version"], id.to_string());
    assert_eq!(pkg["reintegra"]["snapshot"], id.to_string());
    assert_eq!(pkg["reintegra"]["threshold"], 10);
    assert_eq!(
        pkg["resources"][0]["dialect"]["commentRows"],
        serde_json::json!([2])
    );
}

#[test]
fn the_licence_is_configurable_and_checked() {
    let data = data();
    let out = export(&data, true, &["--licence", "odc-by-1.0"]);
    let pkg = package(out.path());
    assert_eq!(pkg["licenses"][0]["name"], "ODC-BY-1.0");
    assert!(
        pkg["licenses"][0]["path"]
            .as_str()
            .unwrap()
            .contains("opendatacommons.org")
    );
    let bad = tempfile::tempdir().unwrap();
    let output = reintegra(&[
        "export",
        "open-data",
        "--data",
        data.to_str().unwrap(),
        "--out",
        bad.path().to_str().unwrap(),
        "--licence",
        "CC BY <4>",
    ]);
    assert!(!output.status.success());
    assert!(
        text(&output).contains("Open Definition id"),
        "{}",
        text(&output)
    );
    // No snapshot: a clear error, nothing written.
    let empty = tempfile::tempdir().unwrap();
    let out = empty.path().join("out");
    let output = reintegra(&[
        "export",
        "open-data",
        "--data",
        empty.path().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--dashboards",
        repo_dashboards(),
    ]);
    assert!(!output.status.success());
    assert!(
        text(&output).contains("nothing is published yet"),
        "{}",
        text(&output)
    );
    assert!(!out.exists());
}

#[tokio::test]
async fn open_routes_follow_who_may_read_the_public_dashboards() {
    let data = tokio::task::spawn_blocking(data).await.unwrap();
    let (copy, _keep) = copy_of_published(&data);
    let private = spawn_app(Settings::new(&copy, repo().join("dashboards"))).await;
    for path in [
        "/open/",
        "/open/datapackage.json",
        "/open/returns_by_region.csv",
    ] {
        let r = private.get(path).await;
        assert_eq!(r.status, 303, "{path} without signing in");
        assert!(r.header("location").starts_with("/login?next="));
    }
    for (role, iati) in [
        (Role::Donor, true),
        (Role::Ministry, false),
        (Role::Programme, true),
        (Role::Admin, true),
    ] {
        let app = spawn_app(Settings::new(&copy, repo().join("dashboards")))
            .await
            .with_token(&format!("open-{}", role.code()), role);
        let page = String::from_utf8(app.ok("/open/?lang=en").await.body).unwrap();
        assert_eq!(page.contains("href=\"/open/iati.xml\""), iati, "{role:?}");
        app.ok("/open/returns_by_region.csv").await;
        app.ok("/open/datapackage.json").await;
        assert_eq!(app.get("/open/?period=2019").await.status, 400);
    }
    // Reads of person figures are in the audit log as exports.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let entries = reintegra::access::AuditLog::new(&reintegra::access::dir(&copy))
        .read()
        .unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.path == "/open/returns_by_region.csv" && e.action == "export")
    );
}

/// The Python of the virtual environment with `frictionless` and `libhxl`
/// (REINTEGRA_PYTHON); `None` (the test skips) when absent outside CI.
fn python() -> Option<PathBuf> {
    let found = std::env::var_os("REINTEGRA_PYTHON")
        .map(PathBuf::from)
        .filter(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("REINTEGRA_CI").is_none(),
            "REINTEGRA_PYTHON must name the Python of a virtual environment with frictionless and libhxl (.ci/run makes it)"
        );
        eprintln!(
            "skipped: set REINTEGRA_PYTHON to a Python with frictionless and libhxl (python3 -m venv $HOME/.cache/reintegra-venv && $HOME/.cache/reintegra-venv/bin/pip install frictionless==5.21.0 libhxl==5.2.2 six==1.17.0)"
        );
    }
    found
}

/// Each CSV parses as HXL with its hashtags on row 2, every column carries a
/// hashtag (geographic columns their #adm1/#adm2/#loc/#country one, the value column a
/// numeric one), and libhxl's default schema finds no error.
const HXL_CHECK: &str = r##"
import csv, glob, json, sys
import hxl
opts = hxl.InputOptions(allow_local=True)
report = {}
failures = []
for path in sorted(glob.glob("*.csv")):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, tags = rows[0], rows[1]
    if not all(hxl.model.Column.parse(t) for t in tags):
        failures.append(f"{path}: row 2 is not all hashtags: {tags}")
    ds = hxl.data(path, opts)
    columns = ds.columns
    untagged = [c.header for c in columns if not c.tag]
    if untagged:
        failures.append(f"{path}: untagged columns {untagged}")
    if [c.header for c in columns] != header:
        failures.append(f"{path}: HXL headers {[c.header for c in columns]} are not row 1")
    for c in columns:
        h = c.header or ""
        want = None
        if h.startswith("adm1_"): want = "#adm1"
        elif h.startswith("adm2_"): want = "#adm2"
        elif h.startswith("site_"): want = "#loc"
        elif h.startswith("country_"): want = "#country"
        elif h in ("year", "quarter", "month", "through_month"): want = "#date"
        if want and c.tag != want:
            failures.append(f"{path}: {h} is tagged {c.tag}, not {want}")
    value = columns[-2]
    if value.tag not in ("#affected", "#reached", "#indicator", "#value"):
        failures.append(f"{path}: the value column {value.header} is tagged {value.tag}")
    if columns[-1].display_tag != "#meta+status":
        failures.append(f"{path}: the status column is tagged {columns[-1].display_tag}")
    errors = []
    def seen(e):
        if e.rule is None or e.rule.severity == "error":
            errors.append(str(e.message))
    hxl.schema(callback=seen).validate(hxl.data(path, opts))
    if errors:
        failures.append(f"{path}: libhxl validation errors {errors[:3]}")
    report[path] = {"rows": sum(1 for _ in hxl.data(path, opts)), "tags": ds.display_tags}
print(json.dumps({"failures": failures, "files": report}))
sys.exit(1 if failures else 0)
"##;

#[test]
fn real_readers_accept_the_files() {
    let Some(python) = python() else {
        return;
    };
    let data = data();
    for public in [true, false] {
        let out = export(&data, public, &[]);
        let set = if public { "public" } else { "donor" };
        // frictionless: the package and every resource (schema, dialect, hash, bytes).
        let frictionless = python.with_file_name("frictionless");
        let output = Command::new(&frictionless)
            .args(["validate", "--json", "datapackage.json"])
            .current_dir(out.path())
            .output()
            .expect("frictionless runs");
        let report: serde_json::Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|_| panic!("frictionless said: {}", text(&output)));
        let tasks = report["tasks"].as_array().unwrap();
        let invalid: Vec<_> = tasks
            .iter()
            .filter(|t| t["valid"] != true)
            .map(|t| (t["name"].clone(), t["errors"].clone()))
            .collect();
        assert!(
            output.status.success() && report["valid"] == true && invalid.is_empty(),
            "{set}: frictionless validate: {invalid:?} {}",
            report["errors"]
        );
        let resources = package(out.path())["resources"].as_array().unwrap().len();
        assert_eq!(tasks.len(), resources);
        eprintln!(
            "{set}: frictionless validate datapackage.json: valid, {} resources, {} rows",
            tasks.len(),
            tasks
                .iter()
                .map(|t| t["stats"]["rows"].as_u64().unwrap_or(0))
                .sum::<u64>()
        );
        // libhxl: each CSV.
        let output = Command::new(&python)
            .args(["-c", HXL_CHECK])
            .current_dir(out.path())
            .output()
            .expect("python runs");
        let report: serde_json::Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|_| panic!("libhxl check said: {}", text(&output)));
        assert!(
            output.status.success(),
            "{set}: libhxl: {}",
            report["failures"]
        );
        let files = report["files"].as_object().unwrap();
        assert_eq!(files.len(), resources);
        eprintln!(
            "{set}: libhxl: {} CSV files parse as HXL, every column tagged, no validation error",
            files.len()
        );
    }
}

#[tokio::test]
async fn person_tables_are_not_served_unrecorded() {
    let data = tokio::task::spawn_blocking(data).await.unwrap();
    let (copy, _keep) = copy_of_published(&data);
    let token = account_token(&copy, "open-reader", Role::Donor);
    let access = reintegra::access::dir(&copy);
    std::fs::create_dir_all(&access).unwrap();
    // A full disk: every write of the audit log fails.
    std::os::unix::fs::symlink("/dev/full", access.join("audit.log")).unwrap();
    let app = spawn_app(Settings::new(&copy, repo().join("dashboards"))).await;
    let client = bearer_client(&token, reqwest::redirect::Policy::none());
    let status = |path: &'static str| {
        let (client, url) = (client.clone(), app.url(path));
        async move { client.get(url).send().await.unwrap().status().as_u16() }
    };
    let mut refused = false;
    for _ in 0..50 {
        let s = status("/open/returns_by_region.csv").await;
        assert!(s == 200 || s == 503, "{s}");
        if s == 503 {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(refused, "a table of people is refused while the log fails");
    // Estimates of people reached by campaigns are not person records.
    assert_eq!(status("/open/people_reached_by_audience.csv").await, 200);
}
