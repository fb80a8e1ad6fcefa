//! The budget dashboard over real HTTP: spent against planned per line, cumulative
//! spending against the plan, spending per output and costs per person — every amount
//! checked against the published cells of the fixtures' snapshot and the budget file,
//! in USD, CHF and XOF; costs refused when a count is not published; who may open it;
//! its place in the quarterly report; and the checks of its definition.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::LazyLock;

use common::*;
use reintegra::access::Role;
use reintegra::definitions::Budget;
use reintegra::domain::Month;

/// The fixtures' snapshot, built once (the tests copy it).
static DATA: LazyLock<PathBuf> = LazyLock::new(|| built_data("budget"));

async fn app(role: Role, public: bool) -> (TestApp, tempfile::TempDir) {
    let source = tokio::task::spawn_blocking(|| DATA.clone()).await.unwrap();
    let (data, dir) = copy_of_published(&source);
    let settings = Settings {
        public,
        ..Settings::new(data, repo().join("dashboards"))
    };
    let app = spawn_app(settings)
        .await
        .with_token(&format!("reader-{}", role.code()), role);
    (app, dir)
}

fn budget() -> Budget {
    Budget::load(&repo().join("dashboards/_budget.toml")).unwrap()
}

/// Published cells of a measure's breakdown: dimension values joined by `|` → (value,
/// suppressed).
fn cells(measure: &str, breakdown: &str, dims: &str) -> BTreeMap<String, (Option<f64>, bool)> {
    let published = DATA.join("published");
    let current = std::fs::read_to_string(published.join("CURRENT")).unwrap();
    let conn = reintegra::snapshot::open_read_only(&published.join(current.trim())).unwrap();
    let sql = format!(
        "SELECT concat_ws('|', {dims}), value, suppressed FROM cells_{measure} WHERE breakdown = '{breakdown}'"
    );
    let mut stmt = conn.prepare(&sql).unwrap();
    stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            (r.get::<_, Option<f64>>(1)?, r.get::<_, bool>(2)?),
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// A CSV export as rows of fields (the stamp lines after the table included).
fn table(csv: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

fn row<'a>(rows: &'a [Vec<String>], first: &str) -> &'a [String] {
    rows.iter()
        .find(|r| r.first().is_some_and(|c| c == first))
        .unwrap_or_else(|| panic!("no row {first} in {rows:?}"))
}

fn number(field: &str) -> f64 {
    field
        .parse()
        .unwrap_or_else(|_| panic!("{field:?} is a number"))
}

/// Spending of `line` (or of every line) over `months`, from the published month
/// cells, in `currency` at each month's rate of the budget file.
fn spent(line: Option<&str>, months: &[String], currency: &str) -> f64 {
    let b = budget();
    let by = match line {
        Some(_) => cells("spending", "budget_line,month", "month, budget_line"),
        None => cells("spending", "month", "month"),
    };
    by.iter()
        .filter(|(key, _)| {
            let (month, rest) = key.split_once('|').unwrap_or((key, ""));
            months.iter().any(|m| m == month) && line.is_none_or(|l| l == rest)
        })
        .map(|(key, (value, suppressed))| {
            assert!(!suppressed, "money is never suppressed");
            let month = Month::parse(key.split('|').next().unwrap()).unwrap();
            value.unwrap() / b.rate(month, currency).unwrap()
        })
        .sum()
}

fn months_of(quarter: Option<&str>) -> Vec<String> {
    let b = budget();
    let mut out = Vec::new();
    let mut m = b.start;
    while m <= b.end {
        let code = m.to_string();
        let q = reintegra::definitions::budget::quarter_of(m);
        if quarter.is_none_or(|wanted| wanted == q) {
            out.push(code);
        }
        m = m.next();
    }
    out
}

#[tokio::test]
async fn spent_and_planned_per_line_equal_the_published_cells_and_the_budget_file() {
    let (app, _dir) = app(Role::Donor, false).await;
    let (status, html) = app.text("/d/budget").await;
    assert_eq!(status, 200, "{html}");
    for text in [
        "Exécution budgétaire",
        "Dépensé et prévu par ligne budgétaire",
        "Dépenses cumulées face au plan",
        "Dépenses par produit",
        "Coût par bénéficiaire unique",
        "Franc suisse (CHF)",
    ] {
        assert!(html.contains(text), "{text}");
    }
    let b = budget();
    let months = months_of(None);
    let csv = app.ok("/d/budget/panels/lines.csv?lang=en").await.text();
    let rows = table(&csv);
    assert_eq!(
        rows[0],
        [
            "Budget line",
            "Planned (USD)",
            "Spent (USD)",
            "Execution (%)"
        ]
    );
    for line in &b.lines {
        let name = reintegra::present::labels::value_label(
            "budget_line",
            &line.code,
            reintegra::present::i18n::Locale::En,
        );
        let r = row(&rows, &name);
        assert_eq!(number(&r[1]), line.planned_total(), "{name} planned");
        let published = spent(Some(&line.code), &months, "USD");
        assert!(
            (number(&r[2]) - published).abs() <= 0.5,
            "{name}: {} vs published {published}",
            r[2]
        );
        let rate = published / line.planned_total() * 100.0;
        assert!((number(&r[3]) - rate).abs() <= 0.051, "{name} rate");
    }
    let total = row(&rows, "Total");
    assert_eq!(number(&total[1]), b.total);
    let whole = cells("spending", "", "'total'")["total"].0.unwrap();
    assert!(
        (number(&total[2]) - whole).abs() <= 0.5,
        "{total:?} vs {whole}"
    );
}

#[tokio::test]
async fn every_currency_converts_each_month_at_its_own_rate() {
    let (app, _dir) = app(Role::Programme, false).await;
    let b = budget();
    for (currency, quarter) in [
        ("CHF", None),
        ("XOF", Some("2019-Q3")),
        ("USD", Some("2020-Q1")),
    ] {
        let mut path = format!("/d/budget/panels/lines.csv?lang=en&currency={currency}");
        if let Some(q) = quarter {
            path.push_str(&format!("&period={q}"));
        }
        let csv = app.ok(&path).await.text();
        let rows = table(&csv);
        assert_eq!(rows[0][2], format!("Spent ({currency})"), "{path}");
        let months = months_of(quarter);
        for line in &b.lines {
            let name = reintegra::present::labels::value_label(
                "budget_line",
                &line.code,
                reintegra::present::i18n::Locale::En,
            );
            let expected = spent(Some(&line.code), &months, currency);
            let got = number(&row(&rows, &name)[2]);
            assert!(
                (got - expected).abs() <= 0.5,
                "{path} {name}: {got} vs {expected}"
            );
        }
        // The plan converts too: at the quarter's months' rates, never at 1 for XOF.
        let planned = number(&row(&rows, "Total")[1]);
        match currency {
            "XOF" => assert!(planned > 10_000_000.0, "{planned}"),
            "CHF" => assert!((250_000.0..300_000.0).contains(&planned), "{planned}"),
            _ => {}
        }
    }
    // The page says which currency it shows, in words.
    let (_, html) = app.text("/d/budget?currency=XOF&lang=en").await;
    assert!(html.contains("Filters: CFA franc (XOF)"), "filters line");
    assert!(
        html.contains("\u{a0}XOF</p>"),
        "amounts carry their currency"
    );
    // Anything but the three currencies, or one given twice, is refused.
    for bad in ["EUR", "FCFA", "usd%00", "1", "CHF&currency=USD"] {
        let (status, body) = app.text(&format!("/d/budget?currency={bad}")).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    assert_eq!(app.text("/d/budget?currency=chf").await.0, 200);
    // Other pages take no currency.
    assert_eq!(app.text("/d/overview?currency=CHF").await.0, 400);
    assert_eq!(app.text("/d/returns?currency=CHF").await.0, 400);
}

#[tokio::test]
async fn cumulative_spending_reaches_the_published_total_and_the_plan_the_grant() {
    let (app, _dir) = app(Role::Donor, false).await;
    let csv = app.ok("/d/budget/panels/burn.csv?lang=en").await.text();
    let rows = table(&csv);
    assert_eq!(rows[0][0], "Month");
    let data: Vec<&Vec<String>> = rows[1..]
        .iter()
        .take_while(|r| r.len() == 4 && r[2].parse::<f64>().is_ok())
        .collect();
    assert_eq!(data.len(), 13, "March 2019 to March 2020: {rows:?}");
    let (mut spent_before, mut planned_before) = (0.0, 0.0);
    for r in &data {
        let (spent, planned) = (number(&r[1]), number(&r[2]));
        assert!(spent >= spent_before && planned >= planned_before, "{r:?}");
        (spent_before, planned_before) = (spent, planned);
    }
    let whole = cells("spending", "", "'total'")["total"].0.unwrap();
    assert!((spent_before - whole).abs() <= 0.5);
    assert!((planned_before - 280_000.0).abs() <= 0.5);
    // The cumulative cells the job publishes agree month by month.
    let published = cells("spending_cumulative", "through_month", "through_month");
    for (r, month) in data.iter().zip(months_of(None)) {
        let cell = published[&month].0.unwrap();
        assert!((number(&r[1]) - cell).abs() <= 0.5, "{month}");
    }
    // A quarter's chart stops at its end.
    let csv = app
        .ok("/d/budget/panels/burn.csv?lang=en&period=2019-Q3")
        .await
        .text();
    let rows = table(&csv);
    assert!(rows.iter().any(|r| r[0] == "September 2019"), "{rows:?}");
    assert!(!rows.iter().any(|r| r[0] == "October 2019"));
    // Per output: the shares add up to the whole.
    let csv = app.ok("/d/budget/panels/outputs.csv?lang=en").await.text();
    let rows = table(&csv);
    let data: Vec<&Vec<String>> = rows[1..]
        .iter()
        .filter(|r| r.len() == 3 && r[1].parse::<f64>().is_ok())
        .collect();
    assert_eq!(data.len(), 4, "{rows:?}");
    let sum: f64 = data.iter().map(|r| number(&r[1])).sum();
    assert!((sum - whole).abs() <= 2.0, "{sum} vs {whole}");
    let by_output = cells("spending", "output", "output");
    for r in &data {
        assert!(
            by_output
                .values()
                .any(|(v, _)| (v.unwrap() - number(&r[1])).abs() <= 0.5),
            "{r:?} is a published output cell"
        );
    }
}

#[tokio::test]
async fn costs_divide_published_money_by_published_counts_and_refuse_when_a_count_is_held() {
    let (app, _dir) = app(Role::Donor, false).await;
    let csv = app
        .ok("/d/budget/panels/execution.csv?lang=en")
        .await
        .text();
    let rows = table(&csv);
    let whole = cells("spending", "", "'total'")["total"].0.unwrap();
    let people = cells("beneficiaries", "", "'total'")["total"].0.unwrap();
    assert_eq!(
        number(&row(&rows, "Unique beneficiaries (published figure)")[1]),
        people
    );
    let cost = number(&row(&rows, "Cost per unique beneficiary")[1]);
    assert!((cost - whole / people).abs() <= 0.5, "{cost}");
    let trainees = cells("trainees", "", "'total'")["total"].0.unwrap();
    let training = spent(Some("training"), &months_of(None), "USD");
    let cost = number(&row(&rows, "Training cost per professional trained")[1]);
    assert!((cost - training / trainees).abs() <= 0.5, "{cost}");

    // In the project's first quarter nobody had been trained yet: the count is
    // suppressed, so no cost is computed — never a number, never a zero.
    let (held, suppressed) = cells("trainees", "quarter", "quarter")["2019-Q1"];
    assert!(
        suppressed && held.is_none(),
        "the fixture's first quarter is held"
    );
    let csv = app
        .ok("/d/budget/panels/execution.csv?lang=en&period=2019-Q1")
        .await
        .text();
    let rows = table(&csv);
    assert_eq!(
        row(&rows, "Training cost per professional trained")[1],
        "not published"
    );
    assert_eq!(
        row(&rows, "Professionals trained (published figure)")[1],
        "not published"
    );
    let (_, html) = app.text("/d/budget?period=2019-Q1&lang=en").await;
    assert!(html.contains("not computable"), "the card says so");
    let (_, fr) = app.text("/d/budget?period=2019-Q1").await;
    assert!(fr.contains("non calculable"));
}

#[tokio::test]
async fn a_quarter_compares_with_the_previous_one_in_words() {
    let (app, _dir) = app(Role::Donor, false).await;
    let (status, html) = app
        .text("/d/budget?period=2019-Q3&compare=previous&lang=en")
        .await;
    assert_eq!(status, 200, "{html}");
    let q3 = spent(None, &months_of(Some("2019-Q3")), "USD");
    let q2 = spent(None, &months_of(Some("2019-Q2")), "USD");
    let words = if q3 > q2 { "Up " } else { "Down " };
    assert!(html.contains(words), "{words}");
    assert!(html.contains("on Q2 2019"));
    // Quarters of the grant only; months and years are not budget periods.
    assert_eq!(app.text("/d/budget?period=2019-05").await.0, 400);
    assert_eq!(app.text("/d/budget?period=2018-Q4").await.0, 400);
    assert_eq!(app.text("/d/budget?period=2019").await.0, 400);
    // The briefing pack and the spreadsheets follow the page's filters.
    let pdf = app
        .ok("/d/budget/briefing.pdf?lang=en&period=2019-Q3&currency=CHF")
        .await;
    assert_eq!(pdf.header("content-type"), "application/pdf");
    let xlsx = app
        .ok("/d/budget/panels/lines.xlsx?period=2019-Q3&currency=CHF")
        .await;
    assert!(xlsx.body.starts_with(b"PK"));
    let svg = app.ok("/d/budget/panels/burn.svg?lang=en").await.text();
    assert!(svg.contains("Planned") && svg.contains("Spent"));
    // The summary draws no chart: no image of it.
    assert_eq!(app.get("/d/budget/panels/execution.png").await.status, 404);
}

#[tokio::test]
async fn donors_and_programme_staff_open_it_and_nobody_else() {
    for role in [Role::Donor, Role::Programme, Role::Admin] {
        let (app, _dir) = app(role, false).await;
        assert_eq!(app.text("/d/budget").await.0, 200, "{role:?}");
    }
    let (ministry, _dir) = app(Role::Ministry, true).await;
    let (status, _) = ministry.text("/d/budget").await;
    assert!(status == 403 || status == 404, "ministry: {status}");
    let (status, _) = ministry.text("/d/budget/panels/lines.csv").await;
    assert!(status == 403 || status == 404, "ministry export: {status}");
    let (_, index) = ministry.text("/").await;
    assert!(
        !index.contains("/d/budget"),
        "not in the ministry's navigation"
    );
    // A visitor is sent to sign in, even with public access on.
    let visitor = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in [
        "/d/budget",
        "/d/budget/panels/lines.csv",
        "/d/budget/briefing.pdf",
    ] {
        let r = visitor.get(ministry.url(path)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 303, "{path}");
    }
}

#[test]
fn budget_panels_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let copy = |name: &str| {
        std::fs::copy(repo().join("dashboards").join(name), dir.path().join(name)).unwrap();
    };
    copy("_budget.toml");
    let original = std::fs::read_to_string(repo().join("dashboards/budget.toml")).unwrap();
    let check = |text: &str| {
        std::fs::write(dir.path().join("budget.toml"), text).unwrap();
        let out = reintegra(&["check", dir.path().join("budget.toml").to_str().unwrap()]);
        (out.status.success(), text_of(&out))
    };
    let (ok, out) = check(&original);
    assert!(ok, "{out}");
    // A budget panel says what it shows.
    let (ok, out) = check(&original.replacen("show = \"lines\"\n", "", 1));
    assert!(
        !ok && out.contains("budget.toml:") && out.contains("says what it shows"),
        "{out}"
    );
    let (ok, out) = check(&original.replacen("show = \"lines\"", "show = \"pie\"", 1));
    assert!(!ok && out.contains("budget.toml:"), "{out}");
    // Budget pages filter by period and currency only.
    let (ok, out) = check(&original.replacen(
        "filters = [\"period\", \"currency\"]",
        "filters = [\"period\", \"currency\", \"place\"]",
        1,
    ));
    assert!(
        !ok && out.contains("period and currency filters only"),
        "{out}"
    );
    // Without the budget beside it, the dashboard is refused.
    std::fs::remove_file(dir.path().join("_budget.toml")).unwrap();
    let (ok, out) = check(&original);
    assert!(!ok && out.contains("_budget.toml"), "{out}");
}

fn text_of(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
