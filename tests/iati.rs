//! The IATI activity file (`reintegra export iati`, `/open/iati.xml`): it validates
//! against the IATI 2.03 schema (xmllint), its budgets add up to the budget
//! definitions, every expenditure and every result's actual is the published cell
//! (a suppressed one is left out and the indicator says why, in French and English),
//! every text is in both languages, the bytes are the same across calls and between
//! the command and the server, and only donors, programme staff and administrators get it.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;
use reintegra::access::Role;
use reintegra::definitions::iati::Definitions;
use reintegra::definitions::results::Quarter;
use reintegra::present::panels::Figure;
use reintegra::snapshot::{Published, Snapshot};

fn schema() -> std::path::PathBuf {
    repo().join("tests/data/iati-2.03/iati-activities-schema.xsd")
}

/// What `xmllint --schema` says of a file: (valid, its output); none when xmllint is
/// not installed (a failure under CI, where .ci/run installs it).
fn xmllint(file: &Path) -> Option<(bool, String)> {
    let run = std::process::Command::new("xmllint")
        .args(["--nonet", "--noout", "--schema"])
        .arg(schema())
        .arg(file)
        .output();
    match run {
        Ok(out) => Some((
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )),
        Err(e) => {
            assert!(
                std::env::var("REINTEGRA_CI").as_deref() != Ok("1"),
                "xmllint is needed under CI (Debian libxml2-utils): {e}"
            );
            eprintln!("SKIPPED schema validation: xmllint is not installed (Debian libxml2-utils)");
            None
        }
    }
}

fn snapshot_of(data: &Path) -> Snapshot {
    let published = Published::new(data.join("published"));
    let id = published.current().unwrap().unwrap();
    Snapshot::load(&published, &id).unwrap()
}

fn definitions() -> Definitions {
    Definitions::load(&repo().join("dashboards"))
        .unwrap()
        .unwrap()
}

fn children<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
    name: &'a str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> + 'a {
    node.children()
        .filter(move |n| n.is_element() && n.tag_name().name() == name)
}

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &'a str) -> Option<roxmltree::Node<'a, 'i>> {
    children(node, name).next()
}

fn attr<'a>(node: roxmltree::Node<'a, '_>, name: &str) -> &'a str {
    node.attribute(name)
        .unwrap_or_else(|| panic!("<{}> has no {name}", node.tag_name().name()))
}

const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// The narratives of an element, by language.
fn narratives(node: roxmltree::Node<'_, '_>) -> BTreeMap<String, String> {
    children(node, "narrative")
        .map(|n| {
            (
                n.attribute((XML_NS, "lang")).unwrap_or("").to_string(),
                n.text().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// The quarter (`2019-Q2`) a period starting on `date` falls in.
fn quarter_of(date: &str) -> String {
    Quarter::of(chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap()).code()
}

/// Checks a file against the definitions and the snapshot it was written from.
fn check_file(xml: &str, snapshot: &Snapshot, d: &Definitions) {
    let doc = roxmltree::Document::parse(xml).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "iati-activities");
    assert_eq!(attr(root, "version"), "2.03");
    let created = snapshot
        .created_at()
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    assert_eq!(attr(root, "generated-datetime"), created);
    let activities: Vec<_> = children(root, "iati-activity").collect();
    assert_eq!(activities.len(), 1);
    let a = activities[0];
    assert_eq!(attr(a, "last-updated-datetime"), created);
    assert_eq!(attr(a, "default-currency"), "USD");
    assert_eq!(
        child(a, "iati-identifier").unwrap().text(),
        Some("IT-CF-80118750159-SEM-ML-2019-01")
    );
    assert_eq!(
        child(a, "recipient-country").map(|c| attr(c, "code")),
        Some("ML")
    );
    let sector = child(a, "sector").unwrap();
    assert_eq!(
        (attr(sector, "vocabulary"), attr(sector, "code")),
        ("1", "15190")
    );

    // Every text is there in French and in English, once each, not empty.
    let mut texts = 0;
    for holder in doc
        .descendants()
        .filter(|n| children(*n, "narrative").next().is_some())
    {
        let by_lang = narratives(holder);
        assert_eq!(
            by_lang.keys().map(String::as_str).collect::<Vec<_>>(),
            ["en", "fr"],
            "<{}>",
            holder.tag_name().name()
        );
        assert_eq!(children(holder, "narrative").count(), 2);
        assert!(by_lang.values().all(|t| !t.trim().is_empty()));
        texts += 1;
    }
    assert!(texts > 40, "{texts}");

    // Participating organisations: one element per role; funder, implementers.
    let roles: Vec<(String, String)> = children(a, "participating-org")
        .map(|p| (attr(p, "ref").to_string(), attr(p, "role").to_string()))
        .collect();
    for expected in [
        ("XM-DAC-11-8", "1"),
        ("IT-CF-80118750159", "4"),
        ("XM-DAC-41122", "4"),
        ("ML-COA-185", "4"),
    ] {
        assert!(
            roles.contains(&(expected.0.into(), expected.1.into())),
            "{expected:?} in {roles:?}"
        );
    }

    // Regions at admin-1, by P-code, named from the reference data.
    let locations: Vec<_> = children(a, "location").collect();
    assert_eq!(
        locations
            .iter()
            .map(|l| attr(*l, "ref"))
            .collect::<Vec<_>>(),
        ["ML01", "ML09"]
    );
    for l in &locations {
        let region = reintegra::reference::places()
            .region(attr(*l, "ref"))
            .unwrap();
        let name = narratives(child(*l, "name").unwrap());
        assert_eq!(
            (&name["fr"], &name["en"]),
            (&region.name.fr, &region.name.en)
        );
        assert_eq!(
            child(*l, "feature-designation").map(|f| attr(f, "code")),
            Some("ADM1")
        );
    }

    // Budgets: one per quarter the budget plans, the lines' amounts added up.
    let mut planned: BTreeMap<String, f64> = BTreeMap::new();
    for line in &d.budget.lines {
        for (q, amount) in &line.planned {
            *planned.entry(q.clone()).or_default() += amount;
        }
    }
    let mut budgets: BTreeMap<String, f64> = BTreeMap::new();
    for b in children(a, "budget") {
        let start = attr(child(b, "period-start").unwrap(), "iso-date");
        let end = attr(child(b, "period-end").unwrap(), "iso-date");
        assert!(
            start <= end && quarter_of(start) == quarter_of(end),
            "{start} {end}"
        );
        assert!(
            start >= "2019-03-27" && end <= "2020-03-26",
            "{start} {end}"
        );
        let value = child(b, "value").unwrap();
        assert_eq!(attr(value, "value-date"), start);
        let amount: f64 = value.text().unwrap().parse().unwrap();
        assert!(
            budgets.insert(quarter_of(start), amount).is_none(),
            "one budget per quarter"
        );
    }
    assert_eq!(budgets.len(), planned.len());
    for (q, amount) in &planned {
        assert!(
            (budgets[q] - amount).abs() < 0.005,
            "{q}: {} vs {amount}",
            budgets[q]
        );
    }
    let total: f64 = budgets.values().sum();
    assert!((total - d.budget.total).abs() < 0.005, "{total}");
    assert_eq!(d.budget.total, 280_000.0);

    // Expenditure: one transaction per quarter with a published spending cell, its
    // value that cell (to the cent), never a suppressed one.
    let quarter_dims = vec!["quarter".to_string()];
    let mut published = 0;
    let transactions: Vec<_> = children(a, "transaction").collect();
    for q in d.framework.project.quarters() {
        let code = q.code();
        let equal = [("quarter", code.as_str())];
        let cell = snapshot.select("spending", &quarter_dims, &equal).next();
        let t = transactions
            .iter()
            .find(|t| attr(**t, "ref").ends_with(&format!("-EXP-{code}")));
        match cell {
            Some(c) if !c.suppressed && c.value.is_some() => {
                published += 1;
                let t = t.unwrap_or_else(|| panic!("no expenditure for {code}"));
                assert_eq!(attr(child(*t, "transaction-type").unwrap(), "code"), "4");
                let date = attr(child(*t, "transaction-date").unwrap(), "iso-date");
                assert_eq!(quarter_of(date), code);
                assert_eq!(
                    child(*t, "value").unwrap().text().unwrap(),
                    format!("{:.2}", c.value.unwrap()),
                    "{code}"
                );
            }
            _ => assert!(t.is_none(), "{code}: no published cell, no transaction"),
        }
    }
    // Besides the expenditure, one incoming commitment of the grant from the funder:
    // the budget's total, on the planned start.
    let commitments: Vec<_> = transactions
        .iter()
        .filter(|t| attr(child(**t, "transaction-type").unwrap(), "code") == "11")
        .collect();
    assert_eq!(commitments.len(), 1);
    let c = commitments[0];
    assert_eq!(child(*c, "value").unwrap().text().unwrap(), "280000.00");
    assert_eq!(
        attr(child(*c, "transaction-date").unwrap(), "iso-date"),
        "2019-03-27"
    );
    assert_eq!(
        attr(child(*c, "provider-org").unwrap(), "ref"),
        "XM-DAC-11-8"
    );
    assert_eq!(transactions.len(), published + 1);
    assert!(published >= 4, "{published}");

    // Results: every indicator of the framework, each period's target and its actual
    // read as the results dashboard reads them.
    let indicators: Vec<_> = children(a, "result")
        .flat_map(|r| children(r, "indicator"))
        .collect();
    assert_eq!(indicators.len(), d.framework.indicators().count());
    let mut suppressed = 0;
    let mut actuals = 0;
    for ind in d.framework.indicators() {
        let node = indicators
            .iter()
            .find(|n| narratives(child(**n, "title").unwrap())["fr"] == ind.text.fr)
            .unwrap_or_else(|| panic!("{} is in the file", ind.id));
        let measure = if d.activity.results.percentage.contains(&ind.id) {
            "2"
        } else {
            "1"
        };
        assert_eq!(attr(*node, "measure"), measure, "{}", ind.id);
        let baseline = child(*node, "baseline").unwrap();
        assert_eq!(
            attr(baseline, "value").parse::<f64>().unwrap(),
            ind.baseline.value
        );
        assert!(attr(baseline, "year").parse::<u32>().unwrap() >= 2019);
        let description = narratives(child(*node, "description").unwrap());
        for period in children(*node, "period") {
            let start = attr(child(period, "period-start").unwrap(), "iso-date");
            let q = Quarter::parse(&quarter_of(start)).unwrap();
            let figure = reintegra::present::results::value(snapshot, &d.framework, ind, q);
            let target = reintegra::present::results::target(&d.framework, ind, q);
            let target_node = child(period, "target");
            assert_eq!(
                target_node.map(|t| attr(t, "value").parse::<f64>().unwrap()),
                target.map(|t| t.value),
                "{} {}",
                ind.id,
                q.code()
            );
            let actual = child(period, "actual");
            match figure {
                Figure::Value(v) => {
                    actuals += 1;
                    let written: f64 = attr(actual.unwrap(), "value").parse().unwrap();
                    assert_eq!(written, v, "{} {}", ind.id, q.code());
                }
                Figure::Suppressed | Figure::Missing => {
                    assert!(actual.is_none(), "{} {}: no actual", ind.id, q.code());
                    if figure == Figure::Suppressed {
                        suppressed += 1;
                    }
                    // Why, in both languages: on the target, and in the description.
                    if let Some(t) = target_node {
                        let why = narratives(child(t, "comment").expect("a comment"));
                        assert!(
                            why["fr"].contains("non publiée")
                                || why["fr"].contains("non disponible"),
                            "{why:?}"
                        );
                        assert!(
                            why["en"].contains("not published")
                                || why["en"].contains("not available"),
                            "{why:?}"
                        );
                    }
                    let period_name = reintegra::present::i18n::format_period(
                        &q.code(),
                        reintegra::present::i18n::Locale::En,
                    );
                    assert!(description["en"].contains(&period_name), "{description:?}");
                }
            }
        }
    }
    assert!(actuals > 20, "{actuals}");
    assert!(suppressed >= 1, "a suppressed cell is in the fixtures");

    // The known suppressed cell: nobody was trained before April 2019.
    let trainees = d
        .framework
        .indicators()
        .find(|i| i.id == "op1.2.trainees")
        .unwrap();
    let q1 = Quarter::parse("2019-Q1").unwrap();
    assert_eq!(
        reintegra::present::results::value(snapshot, &d.framework, trainees, q1),
        Figure::Suppressed
    );
    let node = indicators
        .iter()
        .find(|n| narratives(child(**n, "title").unwrap())["en"] == trainees.text.en)
        .unwrap();
    let first = children(*node, "period").next().unwrap();
    assert_eq!(
        attr(child(first, "period-start").unwrap(), "iso-date"),
        "2019-03-27"
    );
    assert!(child(first, "actual").is_none());
    let why = narratives(child(child(first, "target").unwrap(), "comment").unwrap());
    assert!(
        why["fr"].starts_with("Valeur réalisée non publiée : moins de 10"),
        "{why:?}"
    );
    assert!(
        why["en"].starts_with("Actual value not published: fewer than 10"),
        "{why:?}"
    );
}

#[tokio::test]
async fn the_activity_file_validates_and_holds_only_published_figures() {
    let source = built_data("iati-data");
    let (data, keep) = copy_of_published(&source);
    let app = spawn_app(Settings::new(&data, repo().join("dashboards")))
        .await
        .with_token("sem", Role::Donor);
    let got = app.ok("/open/iati.xml").await;
    assert_eq!(got.header("content-type"), "application/xml; charset=utf-8");
    let again = app.ok("/open/iati.xml").await;
    assert_eq!(got.body, again.body, "the same bytes for the same snapshot");
    let xml = got.text();
    let file = keep.path().join("iati.xml");
    std::fs::write(&file, &xml).unwrap();
    if let Some((valid, said)) = xmllint(&file) {
        assert!(valid, "xmllint: {said}");
        assert!(said.contains("validates"), "{said}");
    }
    let snapshot = snapshot_of(&data);
    check_file(&xml, &snapshot, &definitions());
    // `?lang=` is the only parameter (both languages are in the file anyway).
    assert_eq!(app.ok("/open/iati.xml?lang=en").await.body, got.body);
    assert_eq!(app.get("/open/iati.xml?period=2019-Q3").await.status, 400);

    // Programme staff and administrators get the same file; others do not.
    let programme = spawn_app(Settings::new(&data, repo().join("dashboards")))
        .await
        .with_token("coopi", Role::Programme);
    assert_eq!(programme.ok("/open/iati.xml").await.body, got.body);
    let ministry = spawn_app(Settings::new(&data, repo().join("dashboards")))
        .await
        .with_token("dnm", Role::Ministry);
    assert_eq!(ministry.get("/open/iati.xml").await.status, 403);
    let mut public = Settings::new(&data, repo().join("dashboards"));
    public.public = true;
    let anonymous = spawn_app(public).await;
    let r = anonymous.get("/open/iati.xml").await;
    assert_eq!(r.status, 303, "sign in first");
    assert!(r.header("location").starts_with("/login?next="));
}

#[tokio::test]
async fn the_export_command_writes_the_same_file_as_the_server() {
    let source = built_data("iati-cli");
    let (data, keep) = copy_of_published(&source);
    let dashboards = repo().join("dashboards");
    let out = keep.path().join("activity.xml");
    let run = |out: &Path| {
        reintegra(&[
            "export",
            "iati",
            "--data",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--dashboards",
            dashboards.to_str().unwrap(),
        ])
    };
    let first = run(&out);
    assert!(first.status.success(), "{}", text(&first));
    let bytes = std::fs::read(&out).unwrap();
    assert!(text(&first).contains(&format!("({} bytes)", bytes.len())));
    eprintln!("IATI activity file: {} bytes", bytes.len());
    let out2 = keep.path().join("again.xml");
    assert!(run(&out2).status.success());
    assert_eq!(std::fs::read(&out2).unwrap(), bytes, "byte-identical");
    if let Some((valid, said)) = xmllint(&out) {
        assert!(valid, "xmllint: {said}");
        eprintln!("xmllint: {}", said.trim());
    }
    let app = spawn_app(Settings::new(&data, &dashboards))
        .await
        .with_token("admin", Role::Admin);
    assert_eq!(app.ok("/open/iati.xml").await.body, bytes, "CLI = HTTP");

    // Nothing published: a clear error, no file.
    let empty = keep.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let none = keep.path().join("none.xml");
    let run = reintegra(&[
        "export",
        "iati",
        "--data",
        empty.to_str().unwrap(),
        "--out",
        none.to_str().unwrap(),
        "--dashboards",
        dashboards.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        text(&run).contains("nothing is published yet"),
        "{}",
        text(&run)
    );
    assert!(!none.exists());
}

#[tokio::test]
async fn without_an_activity_definition_there_is_no_file_and_a_bad_one_is_named() {
    let source = built_data("iati-none");
    let (data, keep) = copy_of_published(&source);
    let dir = keep.path().join("dashboards");
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(repo().join("dashboards")).unwrap() {
        let p = entry.unwrap().path();
        if p.file_name().unwrap() != "_iati.toml" {
            std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
        }
    }
    let app = spawn_app(Settings::new(&data, &dir))
        .await
        .with_token("sem", Role::Donor);
    assert_eq!(app.get("/open/iati.xml").await.status, 404);
    let out = keep.path().join("x.xml");
    let run = reintegra(&[
        "export",
        "iati",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--dashboards",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(1));
    assert!(text(&run).contains("no _iati.toml in"), "{}", text(&run));
    // A wrong code is named with its file and line, by the command and by `check`.
    let good = std::fs::read_to_string(repo().join("dashboards/_iati.toml")).unwrap();
    std::fs::write(
        dir.join("_iati.toml"),
        good.replacen("scope = 5", "scope = 12", 1),
    )
    .unwrap();
    let line = good
        .lines()
        .position(|l| l.starts_with("scope = "))
        .unwrap()
        + 1;
    let run = reintegra(&[
        "export",
        "iati",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--dashboards",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        text(&run).contains(&format!("_iati.toml:{line}: scope (ActivityScope)")),
        "{}",
        text(&run)
    );
    let check = reintegra(&["check", dir.join("_iati.toml").to_str().unwrap()]);
    assert!(!check.status.success());
    assert!(
        text(&check).contains(&format!("_iati.toml:{line}: scope (ActivityScope)")),
        "{}",
        text(&check)
    );
    let check = reintegra(&[
        "check",
        repo().join("dashboards/_iati.toml").to_str().unwrap(),
    ]);
    assert!(check.status.success(), "{}", text(&check));
    assert!(text(&check).contains("IATI activity IT-CF-80118750159-SEM-ML-2019-01"));
}
