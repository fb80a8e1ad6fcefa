//! The dashboard server over real HTTP: every dashboard in both languages, filters,
//! errors, the API, operations, and a snapshot switch under load.

mod common;

use std::path::PathBuf;
use std::sync::LazyLock;
use std::time::Duration;

use common::*;

/// A data folder built once from the committed fixtures (read-only for the tests).
static DATA: LazyLock<PathBuf> = LazyLock::new(|| built_data("server-data"));

/// A server of the fixtures' snapshot (`data`), read by an administrator's token.
async fn admin_app_on(data: PathBuf) -> TestApp {
    let settings = Settings {
        poll: Duration::from_millis(100),
        ..Settings::new(data, repo().join("dashboards"))
    };
    spawn_app(settings)
        .await
        .with_token("tester", reintegra::access::Role::Admin)
}

async fn admin_app() -> TestApp {
    let data = tokio::task::spawn_blocking(|| DATA.clone()).await.unwrap();
    admin_app_on(data).await
}

/// Parse errors html5ever reports for a document.
fn parse_errors(html: &str) -> Vec<String> {
    use html5ever::tendril::TendrilSink;
    let dom = html5ever::parse_document(markup5ever_rcdom::RcDom::default(), Default::default())
        .one(html);
    dom.errors.borrow().iter().map(|e| e.to_string()).collect()
}

const DASHBOARDS: &[&str] = &[
    "overview",
    "returns",
    "psychosocial",
    "campaigns",
    "training",
    "ponam",
    "results",
];

#[tokio::test]
async fn every_dashboard_renders_in_both_languages() {
    let app = admin_app().await;
    for id in DASHBOARDS {
        for (lang, note) in [
            ("fr", "perturbés pour protéger la vie privée"),
            ("en", "perturbed to protect privacy"),
        ] {
            let (status, html) = app.text(&format!("/d/{id}?lang={lang}")).await;
            assert_eq!(status, 200, "{id} {lang}");
            assert!(
                html.contains(&format!("<html lang=\"{lang}\"")),
                "{id} {lang}"
            );
            assert!(html.contains(note), "{id} {lang}: the disclosure note");
            assert!(html.len() < 150 * 1024, "{id} {lang}: {} bytes", html.len());
            assert!(!html.contains("<script"), "{id}: no script needed");
            let errors = parse_errors(&html);
            assert!(errors.is_empty(), "{id} {lang}: {errors:?}");
        }
    }
    let (status, html) = app.text("/").await;
    assert_eq!(status, 200);
    for id in DASHBOARDS {
        assert!(
            html.contains(&format!("href=\"/d/{id}\"")),
            "the index links to {id}"
        );
    }
}

#[tokio::test]
async fn charts_are_inline_svg_with_their_tables() {
    let app = admin_app().await;
    let (_, html) = app.text("/d/returns?lang=en").await;
    assert!(html.matches("<svg").count() >= 6, "charts are inline SVG");
    assert!(html.contains("<details>") && html.contains("Table of values"));
    assert!(html.contains("Kayes") && html.contains("Algeria"));
    assert!(html.contains("&lt;10"), "suppressed figures read <10");
    let (_, html) = app.text("/d/returns").await;
    assert!(html.contains("Algérie") && html.contains("Tableau des valeurs"));
    // French digit grouping with a narrow no-break space.
    assert!(
        html.contains('\u{202f}'),
        "numbers are grouped the French way"
    );
}

#[tokio::test]
async fn every_filter_combination_of_the_psychosocial_dashboard_answers() {
    let app = admin_app().await;
    let (_, html) = app.text("/d/psychosocial").await;
    let values = |name: &str| -> Vec<String> {
        let start = html.find(&format!("name=\"{name}\"")).unwrap();
        let end = start + html[start..].find("</select>").unwrap();
        html[start..end]
            .split("value=\"")
            .skip(1)
            .map(|v| v.split('"').next().unwrap().to_string())
            .collect()
    };
    let (periods, places) = (values("period"), values("place"));
    assert!(
        periods.len() > 10 && places.len() >= 4,
        "{periods:?} {places:?}"
    );
    let mut checked = 0;
    for period in &periods {
        for place in &places {
            for lang in ["fr", "en"] {
                let (status, page) = app
                    .text(&format!(
                        "/d/psychosocial?lang={lang}&period={period}&place={place}"
                    ))
                    .await;
                assert_eq!(status, 200, "{period} {place}");
                let errors = parse_errors(&page);
                assert!(errors.is_empty(), "{period} {place}: {errors:?}");
                checked += 1;
            }
        }
    }
    assert!(checked > 40);
}

#[tokio::test]
async fn returns_filters_choose_published_cells() {
    let app = admin_app().await;
    for query in [
        "period=2018",
        "period=2018-Q3",
        "period=2018-07",
        "place=ML01",
        "place=ML0105",
        "sex=F",
        "age=18-24",
        "sex=M&age=25-34",
        "period=2018&sex=F&age=18-24",
        "period=2018&place=ML01",
        "place=ML0105&period=2018",
        "place=ML01&sex=F&age=60%2B",
    ] {
        let (status, html) = app.text(&format!("/d/returns?{query}")).await;
        assert_eq!(status, 200, "{query}");
        assert!(parse_errors(&html).is_empty(), "{query}");
    }
    // A region filter drills the region chart down to its cercles.
    let (_, html) = app.text("/d/returns?place=ML01&lang=en").await;
    assert!(html.contains("Nioro du Sahel"), "Kayes shows its cercles");
    // A combination the measure does not publish says so.
    let (_, html) = app.text("/d/returns?place=ML0105&sex=F&lang=en").await;
    assert!(html.contains("Not published for these filters"));
}

#[tokio::test]
async fn bad_filter_values_get_a_400_that_says_what_is_allowed() {
    let app = admin_app().await;
    for (query, allowed) in [
        ("period=2031", "a year"),
        ("period=yesterday", "a year"),
        ("place=ML99", "region P-code"),
        ("place=%27%3B%20DROP%20TABLE", "region P-code"),
        ("sex=X", "F or M"),
        ("age=18-99", "0-14"),
        ("colour=red", "parameters of this page"),
        ("lang=de", "fr, en"),
        ("period=2018&period=2019", "once"),
    ] {
        let (status, html) = app.text(&format!("/d/returns?{query}&lang=en")).await;
        assert_eq!(status, 400, "{query}");
        assert!(html.contains(allowed), "{query}: {html}");
        assert!(
            !html.to_lowercase().contains("sql") && !html.contains("duckdb"),
            "{query}"
        );
        assert!(parse_errors(&html).is_empty());
    }
    let (status, _) = app.text("/d/training?place=ML01").await;
    assert_eq!(status, 400, "a filter the dashboard does not offer");
    let (status, _) = app.text("/d/nope").await;
    assert_eq!(status, 404);
    let (status, _) = app.text("/no/such/page").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn language_follows_the_query_then_the_cookie_then_accept_language() {
    let app = admin_app().await;
    let r = app.response("/d/overview?lang=en").await;
    let cookie = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("lang=en"), "{cookie}");
    let r = app
        .client
        .get(format!("{}/d/overview", app.base))
        .header("cookie", "lang=en")
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("<html lang=\"en\""));
    let r = app
        .client
        .get(format!("{}/d/overview", app.base))
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("<html lang=\"en\""));
    let (_, html) = app.text("/d/overview").await;
    assert!(html.contains("<html lang=\"fr\""), "French by default");
}

#[tokio::test]
async fn api_lists_measures_and_serves_declared_breakdowns() {
    let app = admin_app().await;
    let list: serde_json::Value = app.response("/api/v1/measures").await.json().await.unwrap();
    assert_eq!(list["threshold"], 10);
    let returns = list["measures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "returns")
        .unwrap();
    assert_eq!(returns["sensitivity"], "person");
    assert_eq!(returns["title"]["fr"], "Retours assistés");
    assert!(
        returns["breakdowns"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(["region"]))
    );

    let body: serde_json::Value = app
        .response("/api/v1/measures/returns?by=region")
        .await
        .json()
        .await
        .unwrap();
    let cells = body["cells"].as_array().unwrap();
    assert!(cells.len() >= 8);
    for c in cells {
        assert!(c["region"].is_string());
        match c["suppressed"].as_bool().unwrap() {
            true => assert!(c["value"].is_null()),
            false => assert!(c["value"].as_f64().unwrap() >= 10.0),
        }
    }
    let total: serde_json::Value = app
        .response("/api/v1/measures/returns")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        total["cells"].as_array().unwrap().len(),
        1,
        "without by: the overall total"
    );

    let filtered: serde_json::Value = app
        .response("/api/v1/measures/returns?by=year,region&year=2018")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        filtered["cells"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["year"] == "2018")
    );

    let r = app
        .response("/api/v1/measures/returns?by=region,sex,country_from")
        .await;
    assert_eq!(r.status().as_u16(), 400, "an undeclared breakdown");
    let err: serde_json::Value = r.json().await.unwrap();
    assert!(
        err["allowed"]
            .as_str()
            .unwrap()
            .contains("region,sex,age_band")
    );
    assert_eq!(
        app.response("/api/v1/measures/returns?by=region&sex=F")
            .await
            .status()
            .as_u16(),
        400
    );
    assert_eq!(
        app.response("/api/v1/measures/returns?by=region&region=ML99")
            .await
            .status()
            .as_u16(),
        400
    );
    assert_eq!(
        app.response("/api/v1/measures/nope")
            .await
            .status()
            .as_u16(),
        404
    );

    let csv_text = app
        .response("/api/v1/measures/returns.csv?by=region")
        .await
        .text()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["region", "value", "suppressed"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), cells.len());
    for row in rows {
        if &row[2] == "true" {
            assert_eq!(
                &row[1], "<10",
                "a suppressed figure is never a blank or a number"
            );
        }
    }
}

#[tokio::test]
async fn the_same_cell_has_the_same_value_in_page_api_and_csv() {
    let app = admin_app().await;
    let body: serde_json::Value = app
        .response("/api/v1/measures/returns")
        .await
        .json()
        .await
        .unwrap();
    let total = body["cells"][0]["value"].as_f64().unwrap();
    let formatted = format!("{}", total as u64);
    let en = format!("{},{:03}", total as u64 / 1000, total as u64 % 1000);
    let (_, html) = app.text("/d/overview?lang=en").await;
    assert!(html.contains(&en), "{en} on the overview");
    let csv_text = app
        .response("/api/v1/measures/returns.csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(csv_text.contains(&formatted));
}

#[tokio::test]
async fn operations_endpoints_and_conditional_requests() {
    let app = admin_app().await;
    let health: serde_json::Value = app.response("/healthz").await.json().await.unwrap();
    assert_eq!(health["status"], "ok");
    let snapshot = health["snapshot"].as_str().unwrap().to_string();
    assert!(health["data_as_of"].as_str().unwrap().starts_with("20"));

    let r = app.response("/d/returns").await;
    assert!(
        r.headers().get("x-request-id").is_some(),
        "every response carries a request id"
    );
    let etag = r
        .headers()
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(etag.contains(&snapshot));
    let r = app
        .client
        .get(format!("{}/d/returns", app.base))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 304);
    let r = app
        .client
        .get(format!("{}/d/returns", app.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers().get("content-encoding").unwrap(), "gzip");

    let metrics = app.response("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("reintegra_http_requests_total"),
        "{metrics}"
    );
    assert!(metrics.contains(&format!("snapshot=\"{snapshot}\"")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_snapshot_switch_under_load_fails_no_request() {
    // Its own data folder: this test publishes a new snapshot.
    let ws = Workspace::new();
    ws.deliver_fixtures();
    let options = ws.options();
    tokio::task::spawn_blocking(move || reintegra::ingest::run(&options).unwrap())
        .await
        .unwrap();
    let app = admin_app_on(ws.data()).await;
    let before: serde_json::Value = app.response("/healthz").await.json().await.unwrap();

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for i in 0..8 {
        let (client, base, stop) = (app.client.clone(), app.base.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let paths = [
                "/d/returns",
                "/d/overview?lang=en",
                "/api/v1/measures/returns?by=region",
                "/d/psychosocial?period=2019",
            ];
            let mut done = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let path = paths[(i + done) % paths.len()];
                let r = client
                    .get(format!("{base}{path}"))
                    .send()
                    .await
                    .expect("no connection error");
                assert_eq!(r.status().as_u16(), 200, "{path}");
                r.bytes().await.expect("a complete body");
                done += 1;
            }
            done
        }));
    }
    // Publish a new snapshot (a new campaigns extract) while the clients run.
    let (header, rows) = read_fixture("campaigns", 50);
    ws.deliver(
        "campagnes_juin.csv",
        to_csv(&header, &rows[..20], b',', false).as_bytes(),
    );
    let options = ws.options();
    tokio::task::spawn_blocking(move || reintegra::ingest::run(&options).unwrap())
        .await
        .unwrap();
    let mut switched = false;
    for _ in 0..100 {
        let now: serde_json::Value = app.response("/healthz").await.json().await.unwrap();
        if now["snapshot"] != before["snapshot"] {
            switched = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut total = 0;
    for c in clients {
        total += c.await.expect("no client failed");
    }
    assert!(
        switched,
        "the server picked up the new snapshot without a restart"
    );
    assert!(total > 50, "{total} requests");
}
