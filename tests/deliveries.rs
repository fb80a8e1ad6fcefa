//! The deliveries page: data officers see every file they sent, the report of a
//! quarantined one in their language, and which kinds of extract are going stale —
//! programme staff and administrators only, and never a value from a file.

mod common;

use std::time::Duration;

use chrono::Utc;
use common::*;
use reintegra::access::Role;
use reintegra::status::{Coverage, Deliveries};

fn settings(data: &std::path::Path) -> Settings {
    let mut s = Settings::new(data, repo().join("dashboards"));
    s.poll = Duration::from_millis(50);
    s
}

/// A returns file carrying a person's name and phone number: the PII gate refuses it.
fn file_with_a_name_and_a_phone_number() -> Vec<u8> {
    let text = std::fs::read_to_string(fixtures().join("returns.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let mut out = format!("{header},telephone\n");
    for (i, line) in lines.take(5).enumerate() {
        let cell = if i == 2 {
            "Aminata Kouyaté +223 76 42 63 59"
        } else {
            ""
        };
        out.push_str(&format!("{line},{cell}\n"));
    }
    out.into_bytes()
}

#[tokio::test]
async fn a_quarantined_file_is_listed_with_its_report_for_programme_staff_and_hidden_from_others() {
    let ws = Workspace::new();
    ws.deliver_fixtures();
    ws.deliver(
        "retours-kita-mars.csv",
        &file_with_a_name_and_a_phone_number(),
    );
    let out = ws.ingest_binary();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));

    let app = spawn_app(settings(&ws.data())).await;
    let programme = app.client.clone();
    let app = app.with_token("officer", Role::Programme);
    let page = app.ok("/deliveries").await.text();
    assert!(page.contains("retours-kita-mars.csv"), "the file is listed");
    assert!(
        page.contains("mise en quarantaine"),
        "its outcome, in French by default"
    );
    assert!(page.contains("Rapports des fichiers mis en quarantaine"));
    assert!(
        page.contains("données identifiantes"),
        "the report says why, in French: {}",
        page.split("Rapports des").nth(1).unwrap_or("")
    );
    for kind in [
        "returns.csv",
        "sessions.csv",
        "campaigns.csv",
        "trainings.csv",
    ] {
        assert!(page.contains(kind), "{kind} listed");
    }
    assert!(page.contains("acceptée"));
    // Nothing of the file's content: not the name, not the number, in any spelling.
    for value in ["Aminata", "Kouyat", "76 42 63 59", "76426359", "+223"] {
        assert!(!page.contains(value), "the page quotes {value:?}");
    }
    let english = app.ok("/deliveries?lang=en").await.text();
    assert!(english.contains("quarantined") && english.contains("Extract deliveries"));
    assert!(english.contains("identifying data"));
    for value in ["Aminata", "Kouyat", "76 42 63 59"] {
        assert!(!english.contains(value));
    }
    // What the job wrote for the page holds no value either.
    for entry in walk(&ws.data().join("deliveries")) {
        let bytes = String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).into_owned();
        for value in ["Aminata", "Kouyat", "76 42 63 59"] {
            assert!(
                !bytes.contains(value),
                "{} holds {value:?}",
                entry.display()
            );
        }
    }
    assert_eq!(app.get("/deliveries?colour=blue").await.status, 400);

    // Other roles: as if the page did not exist. Anonymous: sign in first.
    for role in [Role::Donor, Role::Ministry] {
        let other = spawn_app(settings(&ws.data()))
            .await
            .with_token(&format!("{role:?}").to_lowercase(), role);
        assert_eq!(other.get("/deliveries").await.status, 404, "{role:?}");
        assert!(
            !other.ok("/").await.text().contains("/deliveries"),
            "no link for {role:?}"
        );
    }
    let admin = spawn_app(settings(&ws.data()))
        .await
        .with_token("root", Role::Admin);
    assert_eq!(admin.get("/deliveries").await.status, 200);
    assert!(app.ok("/").await.text().contains("href=\"/deliveries\""));
    let anonymous = programme.get(app.url("/deliveries")).send().await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 303);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[tokio::test]
async fn a_kind_without_a_delivery_for_longer_than_the_threshold_is_flagged_on_the_page_and_in_metrics()
 {
    let source = built_data("deliveries-stale");
    let (data, _keep) = copy_of_published(&source);
    let now = Utc::now();
    let days_ago = |d: i64| Some(now - chrono::Duration::days(d));
    let coverage = |kind: &str, at| Coverage {
        kind: kind.into(),
        first: Some("2017-05-01".into()),
        last: Some("2019-03-31".into()),
        last_accepted_at: at,
    };
    Deliveries {
        written_at: now,
        stale_after_days: 35,
        files: Vec::new(),
        coverage: vec![
            coverage("returns", days_ago(41)),
            coverage("sessions", days_ago(3)),
            coverage("campaigns", days_ago(35)),
            coverage("trainings", None),
        ],
        older: 0,
    }
    .write(&data)
    .unwrap();
    let app = spawn_app(settings(&data))
        .await
        .with_token("lead", Role::Admin);
    let page = app.ok("/deliveries").await.text();
    assert!(
        page.contains("Aucune livraison acceptée depuis 41 jours"),
        "returns: 41 days > 35"
    );
    assert!(
        page.contains("Aucune livraison acceptée</strong>")
            || page.contains("Aucune livraison acceptée\n"),
        "trainings: never"
    );
    assert_eq!(
        page.matches("⚠").count(),
        2,
        "returns and trainings, not sessions (3 days) nor campaigns (35 days, at the threshold)"
    );
    assert!(page.contains("Seuil d'alerte : 35 jours"));
    let metrics = app.ok("/metrics").await.text();
    let value = |series: &str| -> f64 {
        metrics
            .lines()
            .find(|l| l.starts_with(series))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {series} in\n{metrics}"))
    };
    assert_eq!(value("reintegra_delivery_stale{kind=\"returns\"}"), 1.0);
    assert_eq!(value("reintegra_delivery_stale{kind=\"sessions\"}"), 0.0);
    assert_eq!(value("reintegra_delivery_stale{kind=\"campaigns\"}"), 0.0);
    assert_eq!(value("reintegra_delivery_stale{kind=\"trainings\"}"), 1.0);
    assert_eq!(
        value("reintegra_delivery_stale_after_seconds"),
        35.0 * 86_400.0
    );
    let age = value("reintegra_delivery_age_seconds{kind=\"returns\"}");
    assert!((age - 41.0 * 86_400.0).abs() < 120.0, "{age}");
}
