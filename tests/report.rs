//! The quarterly donor report: the same PDF from `reintegra report` and from
//! `/report/{quarter}.pdf`, in French or English, with each section, the comparison
//! with the previous quarter, the notes of the quarter, and the disclosure note.

mod common;

use std::path::Path;

use common::*;
use reintegra::access::Role;

fn pdf_text(bytes: &[u8]) -> (usize, String) {
    let doc = lopdf::Document::load_mem(bytes).expect("a PDF lopdf reads");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).expect("its text extracts");
    (
        pages.len(),
        text.split_whitespace().collect::<Vec<_>>().join(" "),
    )
}

/// The PDF is tagged for assistive technology: marked, with a structure tree in the
/// reader's language holding headings, paragraphs and figures with alternate text.
fn assert_tagged(bytes: &[u8], lang: &str) {
    let doc = lopdf::Document::load_mem(bytes).unwrap();
    let catalog = doc.catalog().unwrap();
    let marked = catalog
        .get(b"MarkInfo")
        .and_then(|m| doc.dereference(m))
        .and_then(|(_, m)| m.as_dict().map(|d| d.clone()))
        .and_then(|d| d.get(b"Marked").and_then(|b| b.as_bool()))
        .unwrap_or(false);
    assert!(marked, "MarkInfo /Marked true");
    assert!(catalog.has(b"StructTreeRoot"), "a structure tree");
    let raw = String::from_utf8_lossy(bytes);
    let uncompressed = {
        let mut d = doc.clone();
        d.decompress();
        let mut out = Vec::new();
        d.save_to(&mut out).unwrap();
        String::from_utf8_lossy(&out).into_owned()
    };
    for tag in ["/H1", "/H2", "/P", "/Figure", "/Alt"] {
        assert!(
            uncompressed.contains(tag) || raw.contains(tag),
            "structure element {tag}"
        );
    }
    let language = catalog
        .get(b"Lang")
        .ok()
        .and_then(|l| l.as_str().ok())
        .map(|l| String::from_utf8_lossy(l).into_owned());
    assert_eq!(language.as_deref(), Some(lang), "the document's language");
}

fn write_notes(data: &Path) {
    std::fs::create_dir_all(data.join("notes")).unwrap();
    std::fs::write(
        data.join("notes/2019.toml"),
        r#"
[[note]]
period = "2019-08"
dashboard = "psychosocial"
text = { fr = "Le centre de Kita a fermé trois semaines pour travaux.", en = "The Kita centre closed for three weeks for repairs." }

[[note]]
date = "2019-05-02"
dashboard = "campaigns"
text = { fr = "Campagne radio reportée au mois suivant.", en = "Radio campaign postponed to the next month." }
"#,
    )
    .unwrap();
}

#[tokio::test]
async fn the_quarterly_report_has_every_section_in_the_readers_language() {
    let source = built_data("report-data");
    let (data, _keep) = copy_of_published(&source);
    write_notes(&data);
    let app = spawn_app(Settings::new(&data, repo().join("dashboards")))
        .await
        .with_token("sem", Role::Donor);
    let fr = app.ok("/report/2019-Q3.pdf").await;
    assert_eq!(fr.header("content-type"), "application/pdf");
    assert!(
        fr.header("content-disposition")
            .contains("reintegra-report-2019-Q3-fr.pdf")
    );
    assert!(fr.body.len() < 1 << 20, "under 1 MB: {}", fr.body.len());
    let (pages, text) = pdf_text(&fr.body);
    assert!(pages >= 3, "{pages}");
    for expected in [
        "Rapport trimestriel au bailleur",
        "T3 2019",
        "cadre de résultats",
        "Exécution budgétaire — T3 2019",
        "Dépensé et prévu par ligne budgétaire",
        "Coût par bénéficiaire unique",
        "Ce qui a changé depuis le trimestre précédent",
        "par rapport à T2 2019",
        "Évolution depuis le début du programme",
        "Le centre de Kita a fermé trois semaines pour travaux.",
        "Protection des données",
        "PONAM",
    ] {
        assert!(
            text.contains(expected) || text.to_lowercase().contains(expected),
            "{expected:?} not in the French report"
        );
    }
    // "What happened" lists the quarter's notes only; a note of another quarter is
    // under the trend chart it marks, not in that list.
    assert!(text.contains("août 2019 · Soutien psychosocial — Le centre de Kita"));
    assert!(
        !text.contains("· Campagnes de sensibilisation — Campagne radio reportée"),
        "a note of another quarter is not in this one's list"
    );
    assert!(
        text.contains("1. 2 mai 2019 – Campagne radio reportée"),
        "marked on the campaigns' trend"
    );
    // Time charts carry the numbered marks of their notes, listed under them.
    assert!(
        text.contains("1. août 2019 – Le centre de Kita a fermé"),
        "the note under its chart"
    );
    assert_tagged(&fr.body, "fr");
    let en = app.ok("/report/2019-Q3.pdf?lang=en").await;
    let (_, text) = pdf_text(&en.body);
    for expected in [
        "Quarterly donor report",
        "Q3 2019",
        "results framework",
        "Budget execution — Q3 2019",
        "Cumulative spending against the plan",
        "Exchange rates",
        "What changed since the previous quarter",
        "on Q2 2019",
        "The Kita centre closed for three weeks for repairs.",
        "Data protection",
    ] {
        assert!(
            text.contains(expected) || text.to_lowercase().contains(expected),
            "{expected:?} not in the English report"
        );
    }
    // Quarters the snapshot does not cover, and other shapes, do not exist.
    for path in [
        "/report/2031-Q1.pdf",
        "/report/2019-07.pdf",
        "/report/2019-Q3",
        "/report/..%2F2019-Q3.pdf",
    ] {
        assert_eq!(app.get(path).await.status, 404, "{path}");
    }
    assert_eq!(app.get("/report/2019-Q3.pdf?period=2019").await.status, 400);
    let ministry = spawn_app(Settings::new(&data, repo().join("dashboards")))
        .await
        .with_token("dnm", Role::Ministry);
    assert_eq!(ministry.get("/report/2019-Q3.pdf").await.status, 403);
}

#[test]
fn the_report_command_writes_the_same_report() {
    let source = built_data("report-cli");
    let (data, keep) = copy_of_published(&source);
    write_notes(&data);
    let out = keep.path().join("report.pdf");
    let run = reintegra(&[
        "report",
        "--data",
        data.to_str().unwrap(),
        "--period",
        "2019-Q3",
        "--lang",
        "en",
        "--out",
        out.to_str().unwrap(),
        "--dashboards",
        repo().join("dashboards").to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", text(&run));
    let (_, text) = pdf_text(&std::fs::read(&out).unwrap());
    assert!(
        text.contains("Quarterly donor report")
            && text.to_lowercase().contains("results framework")
    );
    let bad = reintegra(&[
        "report",
        "--data",
        data.to_str().unwrap(),
        "--period",
        "2031-Q1",
        "--out",
        out.to_str().unwrap(),
        "--dashboards",
        repo().join("dashboards").to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        common::text(&bad).contains("not a quarter the published snapshot covers"),
        "{}",
        common::text(&bad)
    );
}
