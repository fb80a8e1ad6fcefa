//! Comparisons over time: a dashboard read for a period shows, for each headline
//! figure, the change against the previous period of the same length (or the first
//! one), in words and with its sign — computed from published cells only: a figure
//! that is suppressed on either side is "not comparable", never a number.

mod common;

use std::path::PathBuf;
use std::sync::LazyLock;

use common::*;
use reintegra::access::Role;

static DATA: LazyLock<PathBuf> = LazyLock::new(|| built_data("comparisons-data"));

async fn app() -> (TestApp, tempfile::TempDir) {
    let data = tokio::task::spawn_blocking(|| DATA.clone()).await.unwrap();
    let (copy, keep) = copy_of_published(&data);
    let app = spawn_app(Settings::new(&copy, repo().join("dashboards"))).await;
    (app.with_token("lead", Role::Admin), keep)
}

/// The headline value of the first KPI of a page, as an English page writes it.
fn first_kpi_value(page: &str) -> String {
    let after = page.split("<p class=\"value\">").nth(1).expect("a KPI");
    after.split('<').next().unwrap().to_string()
}

fn first_change(page: &str) -> Option<String> {
    let after = page.split("<p class=\"change\">").nth(1)?;
    Some(after.split('<').next().unwrap().to_string())
}

fn number(text: &str) -> f64 {
    text.replace(',', "")
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {text}"))
}

#[tokio::test]
async fn a_period_compared_with_the_previous_one_shows_the_change_of_published_figures() {
    let (app, _keep) = app().await;
    let q3 = app.ok("/d/returns?lang=en&period=2018-Q3").await.text();
    let q2 = app.ok("/d/returns?lang=en&period=2018-Q2").await.text();
    assert!(first_change(&q3).is_none(), "no comparison unless asked");
    let (now, then) = (number(&first_kpi_value(&q3)), number(&first_kpi_value(&q2)));
    let page = app
        .ok("/d/returns?lang=en&period=2018-Q3&compare=previous")
        .await
        .text();
    let change = first_change(&page).expect("a change line");
    let delta = now - then;
    let words = if delta > 0.0 {
        "Up"
    } else if delta < 0.0 {
        "Down"
    } else {
        "Unchanged"
    };
    assert!(change.starts_with(words), "{change} (from {then} to {now})");
    assert!(change.contains("on Q2 2018"), "{change}");
    if delta != 0.0 {
        let amount = format!("{}", delta.abs() as u64);
        let grouped = reintegra::present::i18n::format_number(
            delta.abs(),
            0,
            reintegra::present::i18n::Locale::En,
        );
        assert!(
            change.contains(&grouped) || change.contains(&amount),
            "{change} ≠ {delta}"
        );
        assert!(
            change.contains(if delta > 0.0 { "(+" } else { "(\u{2212}" }),
            "the sign is given too: {change}"
        );
    }
    // French: in words, with the French period name.
    let fr = app
        .ok("/d/returns?period=2018-Q3&compare=previous")
        .await
        .text();
    let change = first_change(&fr).unwrap();
    assert!(change.contains("par rapport à T2 2018"), "{change}");
    assert!(
        fr.contains("comparé à la période précédente"),
        "the applied filters say so"
    );
    // The form offers the comparison, with the current choice selected.
    assert!(fr.contains("<select name=\"compare\">") && fr.contains("value=\"previous\" selected"));

    // Against the first period of the same length.
    let page = app
        .ok("/d/returns?lang=en&period=2018-Q3&compare=baseline")
        .await
        .text();
    let change = first_change(&page).unwrap();
    assert!(
        change.contains("on Q2 2017"),
        "the first quarter of the data: {change}"
    );
    // The first period itself has nothing to compare with.
    let page = app
        .ok("/d/returns?lang=en&period=2017-Q2&compare=baseline")
        .await
        .text();
    assert!(first_change(&page).is_none());
}

#[tokio::test]
async fn a_suppressed_figure_on_either_side_is_not_comparable_and_no_number_is_given() {
    let (app, _keep) = app().await;
    let form = app.ok("/d/returns?lang=en").await.text();
    let cercles: Vec<String> = form
        .split("option value=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|v| v.len() == 6 && v.starts_with("ML"))
        .map(str::to_string)
        .collect();
    assert!(cercles.len() > 20, "{}", cercles.len());
    let regions: Vec<String> = form
        .split("option value=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|v| v.len() == 4 && v.starts_with("ML"))
        .map(str::to_string)
        .collect();
    let mut checked = 0;
    'search: for (period, before) in [
        ("2018-07", "June 2018"),
        ("2018-Q3", "Q2 2018"),
        ("2019-01", "December 2018"),
    ] {
        for place in regions.iter().chain(cercles.iter()) {
            for extra in ["", "&sex=F", "&sex=M", "&age=60%2B", "&age=0-14"] {
                let path = format!(
                    "/d/returns?lang=en&period={period}&compare=previous&place={place}{extra}"
                );
                let page = app.ok(&path).await.text();
                if !page.contains("<p class=\"value\">") {
                    continue; // not published for this combination of filters at all
                }
                if !first_kpi_value(&page).contains("&lt;10") {
                    continue;
                }
                let change = first_change(&page).expect("a change line");
                assert!(
                    change.starts_with(&format!("Not comparable with {before}")),
                    "{path}: {change}"
                );
                assert!(
                    !change.contains("Up")
                        && !change.contains("Down")
                        && !change.contains('+')
                        && !change.contains('\u{2212}'),
                    "{change}"
                );
                checked += 1;
                if checked >= 3 {
                    break 'search;
                }
            }
        }
    }
    assert!(
        checked > 0,
        "no suppressed headline found among {} cercles",
        cercles.len()
    );
}

#[tokio::test]
async fn a_comparison_needs_a_period_and_a_known_kind() {
    let (app, _keep) = app().await;
    assert_eq!(app.get("/d/returns?compare=previous").await.status, 400);
    assert_eq!(
        app.get("/d/returns?period=2018-Q3&compare=sideways")
            .await
            .status,
        400
    );
    assert_eq!(
        app.get("/d/overview?compare=previous").await.status,
        400,
        "a page without a period filter"
    );
    assert_eq!(
        app.get("/d/returns?period=2018-Q3&compare=").await.status,
        200
    );
}

#[tokio::test]
async fn the_briefing_pack_carries_the_comparison_of_the_page() {
    let (app, _keep) = app().await;
    let pdf = app
        .ok("/d/returns/briefing.pdf?lang=en&period=2018-Q3&compare=previous")
        .await;
    let doc = lopdf::Document::load_mem(&pdf.body).expect("a PDF");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).unwrap();
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains("on Q2 2018"),
        "{}",
        &text[..text.len().min(2000)]
    );
    // Exports of a panel carry it in their names and links.
    let page = app
        .ok("/d/returns?lang=en&period=2018-Q3&compare=previous")
        .await
        .text();
    assert!(
        page.contains("compare=previous"),
        "links carry the comparison"
    );
}
