//! The results framework dashboard over real HTTP: the chain in French and English,
//! baselines, targets and statuses read from the published cells of the fixtures'
//! snapshot, suppressed cells shown as "<10" (never a number), the period filter, the
//! export, and who may open it.

mod common;

use std::path::PathBuf;
use std::sync::LazyLock;

use common::*;
use reintegra::access::Role;

/// The fixtures' snapshot, built once (the tests copy it).
static DATA: LazyLock<PathBuf> = LazyLock::new(|| built_data("results"));

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

/// The text of an indicator's cell in the column whose `data-label` starts with `label`.
fn cell(html: &str, indicator: &str, label: &str) -> String {
    let at = html
        .find(&format!("<span class=\"indicator-id\">{indicator}</span>"))
        .unwrap_or_else(|| panic!("indicator {indicator} is on the page"));
    let row = &html[at..at + html[at..].find("</tr>").unwrap()];
    let start = row
        .find(&format!("data-label=\"{label}"))
        .unwrap_or_else(|| panic!("{indicator}: no column {label}"));
    let open = start + row[start..].find('>').unwrap() + 1;
    let close = open + row[open..].find("</td>").unwrap();
    row[open..close].to_string()
}

#[tokio::test]
async fn a_donor_reads_the_results_chain_in_french_and_english() {
    let (app, _dir) = app(Role::Donor, false).await;
    let (status, html) = app.text("/d/results").await;
    assert_eq!(status, 200, "{html}");
    // The chain: impact, outcomes and outputs, indicators.
    for text in [
        "Cadre de résultats",
        "se réintègrent durablement",
        "Le bien-être psychosocial des migrants de retour s'améliore.",
        "Des campagnes d'information et de sensibilisation sont menées",
        "Bénéficiaires uniques du soutien psychosocial depuis le début du projet",
        "Enquête (valeurs saisies, pas des comptages des extraits)",
    ] {
        assert!(
            html.contains(&text.replace('\'', "&#39;")) || html.contains(text),
            "{text}"
        );
    }
    // An accessible table: a caption, headers with scopes; a titled sparkline per indicator.
    assert!(
        html.contains("<caption>Indicateurs du cadre de résultats – T1 2020</caption>"),
        "the latest complete quarter by default"
    );
    assert!(html.contains("(dernier trimestre complet des données)"));
    assert!(
        html.contains("th scope=\"col\"")
            && html.contains("th scope=\"row\"")
            && html.contains("scope=\"rowgroup\"")
    );
    assert_eq!(html.matches("class=\"sparkline\"").count(), 10);
    assert!(html.contains("<title id=\"trend-op1-1-sessions\">"));
    assert!(!html.contains("<script"));
    // A baseline, a target, a status in words.
    assert!(cell(&html, "oc1.wellbeing", "Valeur de référence").starts_with("34<br>"));
    assert!(
        cell(&html, "oc1.wellbeing", "Valeur du trimestre").contains("58"),
        "the survey value entered"
    );
    assert!(
        cell(&html, "oc1.wellbeing", "État").contains("en bonne voie"),
        "58 of 60 is on track"
    );
    assert!(cell(&html, "oc1.beneficiaries", "Cible du trimestre").starts_with("5\u{202f}000"));
    assert!(cell(&html, "oc1.beneficiaries", "État").contains("atteint"));
    assert!(
        cell(&html, "op1.1.sessions", "État").contains("en retard"),
        "about 2,650 of 3,000"
    );
    assert!(
        cell(&html, "op2.1.events", "Cible du trimestre").contains("prorata de la cible finale")
    );
    // Disaggregations on demand: region by quarter, regions without activity read <10.
    assert!(html.contains("<summary>Ventilations"));
    assert!(html.contains("Région</strong> (T1 2020)"));
    assert!(
        html.contains("Gao\u{a0}: <span class=\"suppressed\">&lt;10 · non publié</span>"),
        "a region with no one counted is suppressed"
    );

    let (status, en) = app.text("/d/results?lang=en").await;
    assert_eq!(status, 200);
    for text in [
        "Results framework",
        "Returned migrants&#39; psychosocial well-being improves.",
        "Unique beneficiaries of psychosocial support since the project began",
        "<caption>Results framework indicators – Q1 2020</caption>",
    ] {
        assert!(
            en.contains(text) || en.contains(&text.replace("&#39;", "'")),
            "{text}"
        );
    }
    assert!(cell(&en, "op1.1.sessions", "Status").contains("behind"));
    assert!(cell(&en, "oc1.wellbeing", "Status").contains("on track"));
    assert!(cell(&en, "oc1.beneficiaries", "Status").contains("achieved"));
}

#[tokio::test]
async fn a_suppressed_cell_reads_below_the_threshold_and_is_not_comparable() {
    let (app, _dir) = app(Role::Donor, false).await;
    // Nobody was trained before April 2019: the first quarter's cell is suppressed.
    let (status, html) = app.text("/d/results?period=2019-Q1").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<caption>Indicateurs du cadre de résultats – T1 2019</caption>"));
    let value = cell(&html, "op1.2.trainees", "Valeur du trimestre");
    assert_eq!(
        value,
        "<span class=\"suppressed\">&lt;10 · non publié</span>"
    );
    assert!(
        !value
            .chars()
            .any(|c| c.is_ascii_digit() && c != '1' && c != '0'),
        "{value}"
    );
    assert!(!value.contains(">0<"), "never a zero");
    assert!(cell(&html, "op1.2.trainees", "État").contains("non comparable"));
    // No survey that quarter: no value, not comparable.
    assert!(cell(&html, "oc2.knowledge", "État").contains("non comparable"));
    let (_, en) = app.text("/d/results?period=2019-Q1&lang=en").await;
    assert_eq!(
        cell(&en, "op1.2.trainees", "Value this quarter"),
        "<span class=\"suppressed\">&lt;10 · not published</span>"
    );
    assert!(cell(&en, "op1.2.trainees", "Status").contains("not comparable"));
    // The export says the same: "<10", never a number.
    let (status, csv) = app
        .text("/d/results/panels/chain.csv?period=2019-Q1&lang=en")
        .await;
    assert_eq!(status, 200, "{csv}");
    let line = csv.lines().find(|l| l.contains("op1.2.trainees")).unwrap();
    assert!(
        line.contains(",<10,") && line.contains("not comparable"),
        "{line}"
    );
    // The page reads quarters of the project only.
    assert_eq!(app.text("/d/results?period=2019-05").await.0, 400);
    assert_eq!(app.text("/d/results?period=2018-Q4").await.0, 400);
}

#[tokio::test]
async fn indicators_compare_with_the_previous_quarter_and_their_baseline() {
    let (app, _dir) = app(Role::Donor, false).await;
    // Against the baseline the file declares: 47 % surveyed in Q3 2019 against 34 %.
    let (status, html) = app
        .text("/d/results?period=2019-Q3&compare=baseline&lang=en")
        .await;
    assert_eq!(status, 200, "{html}");
    let status_cell = cell(&html, "oc1.wellbeing", "Status");
    assert!(
        status_cell.contains("Up 13 (+38%) on the baseline (34)"),
        "{status_cell}"
    );
    // Against the previous quarter: a published value on both sides gives a change...
    let (_, html) = app.text("/d/results?period=2019-Q3&compare=previous").await;
    let trainees = cell(&html, "op1.2.trainees", "État");
    assert!(
        trainees.contains("par rapport à T2 2019 (")
            && (trainees.contains("En hausse")
                || trainees.contains("En baisse")
                || trainees.contains("Stable")),
        "{trainees}"
    );
    // ...a suppressed one (nobody trained in Q1 2019) is not comparable, no number.
    let (_, html) = app
        .text("/d/results?period=2019-Q2&compare=previous&lang=en")
        .await;
    let trainees = cell(&html, "op1.2.trainees", "Status");
    assert!(
        trainees.contains("Not comparable with Q1 2019"),
        "{trainees}"
    );
    // No survey in Q2: not comparable with the baseline either.
    let (_, html) = app
        .text("/d/results?period=2019-Q2&compare=baseline&lang=en")
        .await;
    assert!(cell(&html, "oc1.wellbeing", "Status").contains("Not comparable with the baseline"));
    // The export carries the same words.
    let csv = app
        .ok("/d/results/panels/chain.csv?period=2019-Q3&compare=baseline&lang=en")
        .await
        .text();
    let line = csv.lines().find(|l| l.contains("oc1.wellbeing")).unwrap();
    assert!(line.contains("Up 13 (+38%) on the baseline (34)"), "{line}");
}

#[tokio::test]
async fn the_ministry_opens_it_and_visitors_do_not() {
    let (ministry, _dir) = app(Role::Ministry, true).await;
    let (status, html) = ministry.text("/d/results").await;
    assert_eq!(status, 200);
    assert!(html.contains("Axe PONAM : Réinsertion des migrants de retour"));
    // `public` is not among its roles: a visitor is sent to sign in, even with --public.
    let visitor = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = visitor
        .get(ministry.url("/d/results"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
}
