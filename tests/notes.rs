//! Notes programme leads write to explain figures (`DATA/notes/*.toml`): marked on the
//! time charts of their dashboard and listed under "What happened", in both languages;
//! refused (and logged, never shown) when they hold a phone number, an e-mail address
//! or a name; read again when their files change, never served stale from the cache;
//! and checked by `reintegra check`.

mod common;

use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use common::*;

/// A data folder built once from the committed fixtures (copied by each test).
static DATA: LazyLock<PathBuf> = LazyLock::new(|| built_data("notes-data"));

const NOTES: &str = r#"# Psychosocial support, 2019
[[note]]
date = "2019-07-15"
dashboard = "psychosocial"
panel = "attendances-by-month"
text = { fr = "Le centre d'écoute de Kita a fermé deux semaines pour travaux.", en = "The Kita listening centre closed for two weeks for building works." }

[[note]]
period = "2019-Q4"
dashboard = "psychosocial"
text = { fr = "Nouvelle équipe de psychologues à Kayes.", en = "New team of psychologists in Kayes." }
"#;

/// A note holding a phone number: refused, never shown.
const WITH_PHONE: &str = r#"[[note]]
date = "2019-09-02"
dashboard = "psychosocial"
text = { fr = "Pour tout rendez-vous, appeler le +223 76 42 63 59.", en = "For an appointment, call +223 76 42 63 59." }
"#;

/// A copy of the fixtures' data folder with `files` in `DATA/notes/`.
async fn data_with_notes(files: &[(&str, &str)]) -> (PathBuf, tempfile::TempDir) {
    let source = tokio::task::spawn_blocking(|| DATA.clone()).await.unwrap();
    let (data, dir) = copy_of_published(&source);
    std::fs::create_dir_all(data.join("notes")).unwrap();
    for (name, text) in files {
        std::fs::write(data.join("notes").join(name), text).unwrap();
    }
    (data, dir)
}

async fn app_on(data: PathBuf) -> TestApp {
    let settings = Settings {
        poll: Duration::from_millis(100),
        ..Settings::new(data, repo().join("dashboards"))
    };
    spawn_app(settings)
        .await
        .with_token("lead", reintegra::access::Role::Programme)
}

/// The inline SVG of a panel's chart on a page.
fn chart_of<'a>(page: &'a str, panel: &str) -> &'a str {
    let figure = &page[page
        .find(&format!("id=\"p-{panel}\""))
        .unwrap_or_else(|| panic!("panel {panel}"))..];
    &figure[figure.find("<svg").unwrap()..figure.find("</svg>").unwrap()]
}

/// The part of a panel's figure under its chart (notes, table, downloads).
fn under_chart<'a>(page: &'a str, panel: &str) -> &'a str {
    let figure = &page[page.find(&format!("id=\"p-{panel}\"")).unwrap()..];
    &figure[figure.find("</svg>").unwrap()..figure.find("</figure>").unwrap()]
}

fn what_happened(page: &str) -> &str {
    let at = page
        .find("class=\"what-happened\"")
        .expect("a what-happened section");
    &page[at..at + page[at..].find("</section>").unwrap()]
}

#[tokio::test]
async fn notes_are_marked_on_time_charts_and_listed_in_both_languages() {
    let (data, _dir) = data_with_notes(&[("2019.toml", NOTES), ("phone.toml", WITH_PHONE)]).await;
    let app = app_on(data).await;

    let fr = app.ok("/d/psychosocial").await.text();
    // The panel's own note and the dashboard's note on the monthly chart, numbered in
    // time order, with their text as the marks' titles and listed under the chart.
    let chart = chart_of(&fr, "attendances-by-month");
    assert_eq!(chart.matches("class=\"note-mark\"").count(), 2, "{chart}");
    assert!(chart.contains("<title>1. 15 juillet 2019 – Le centre d&apos;écoute de Kita a fermé deux semaines pour travaux.</title>"), "{chart}");
    assert!(
        chart.contains("<title>2. T4 2019 – Nouvelle équipe de psychologues à Kayes.</title>"),
        "{chart}"
    );
    assert!(chart.contains(">1</text>") && chart.contains(">2</text>"));
    assert!(chart.contains("Les repères numérotés renvoient aux notes sous le graphique."));
    let under = under_chart(&fr, "attendances-by-month");
    assert!(under.contains("<ol class=\"chart-notes\""), "{under}");
    assert!(
        under.contains("<li value=\"1\"><time datetime=\"2019-07-15\">15 juillet 2019</time>"),
        "{under}"
    );
    assert!(
        under.contains("Nouvelle équipe de psychologues à Kayes."),
        "{under}"
    );
    // The other time chart marks only the note about the whole dashboard.
    let cumulative = chart_of(&fr, "cumulative");
    assert_eq!(
        cumulative.matches("class=\"note-mark\"").count(),
        1,
        "{cumulative}"
    );
    assert!(cumulative.contains("<title>1. T4 2019 – Nouvelle"));
    assert!(!cumulative.contains("Kita a fermé"));
    // Bars carry none.
    assert!(!chart_of(&fr, "by-activity").contains("note-mark"));

    // What happened: every note, newest first.
    let list = what_happened(&fr);
    assert!(list.contains("Ce qui s"), "{list}");
    let (q4, july) = (
        list.find("T4 2019").unwrap(),
        list.find("15 juillet 2019").unwrap(),
    );
    assert!(q4 < july, "newest first: {list}");
    assert!(list.contains("(Participations par mois)"), "{list}");

    // The note with a phone number is nowhere, and the page is served all the same.
    assert!(!fr.contains("76 42 63 59") && !fr.contains("rendez-vous"));

    let en = app.ok("/d/psychosocial?lang=en").await.text();
    let chart = chart_of(&en, "attendances-by-month");
    assert!(chart.contains("<title>1. 15 July 2019 – The Kita listening centre closed for two weeks for building works.</title>"), "{chart}");
    assert!(chart.contains("<title>2. Q4 2019 – New team of psychologists in Kayes.</title>"));
    assert!(chart.contains("Numbered marks refer to the notes under the chart."));
    let list = what_happened(&en);
    assert!(list.contains(">What happened</h2>"), "{list}");
    assert!(list.find("Q4 2019").unwrap() < list.find("15 July 2019").unwrap());
    assert!(list.contains("(Attendances by month)"));
    assert!(!en.contains("76 42 63 59") && !en.contains("appointment"));

    // A dashboard without notes has no such section.
    let returns = app.ok("/d/returns").await.text();
    assert!(!returns.contains("what-happened") && !returns.contains("note-mark"));
}

#[tokio::test]
async fn an_edited_note_changes_the_page_at_the_next_poll_and_never_comes_from_the_cache() {
    let (data, _dir) = data_with_notes(&[("2019.toml", NOTES)]).await;
    let notes = data.join("notes");
    let app = app_on(data).await;

    let before = app.ok("/d/psychosocial?lang=en").await;
    let etag = before.header("etag");
    assert!(
        before
            .text()
            .contains("New team of psychologists in Kayes.")
    );
    // Kept: the same page again.
    assert_eq!(
        app.ok("/d/psychosocial?lang=en").await.text(),
        before.text()
    );

    let edited = NOTES
        .replace(
            "Nouvelle équipe de psychologues à Kayes.",
            "Deux psychologues de plus à Kayes.",
        )
        .replace(
            "New team of psychologists in Kayes.",
            "Two more psychologists in Kayes.",
        );
    std::fs::write(notes.join("2019.toml"), edited).unwrap();
    let page = wait_for(&app, "/d/psychosocial?lang=en", |p| {
        p.contains("Two more psychologists in Kayes.")
    })
    .await;
    assert!(
        !page.contains("New team of psychologists"),
        "the old text is gone"
    );
    assert!(
        chart_of(&page, "attendances-by-month")
            .contains("<title>2. Q4 2019 – Two more psychologists in Kayes.</title>")
    );

    // A browser holding the old page is not told it is still fresh.
    let got = app
        .client
        .get(app.url("/d/psychosocial?lang=en"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_ne!(got.headers()["etag"].to_str().unwrap(), etag);

    // A note made invalid is skipped (the server keeps serving the others)…
    std::fs::write(notes.join("more.toml"), WITH_PHONE).unwrap();
    std::fs::write(
        notes.join("2019.toml"),
        NOTES.replace("Le centre d'écoute de Kita", "Le centre de Mme Aminata"),
    )
    .unwrap();
    let page = wait_for(&app, "/d/psychosocial", |p| !p.contains("Kita a fermé")).await;
    assert!(!page.contains("Aminata") && !page.contains("76 42 63 59"));
    assert!(page.contains("Nouvelle équipe de psychologues à Kayes."));
    // …and removing the files removes the notes.
    std::fs::remove_file(notes.join("2019.toml")).unwrap();
    let page = wait_for(&app, "/d/psychosocial", |p| !p.contains("what-happened")).await;
    assert!(!page.contains("note-mark"));
}

/// The page at `path` once `ready` holds for it (the notes are polled every 100 ms).
async fn wait_for(app: &TestApp, path: &str, ready: impl Fn(&str) -> bool) -> String {
    let started = Instant::now();
    loop {
        let page = app.ok(path).await.text();
        if ready(&page) {
            return page;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the page did not change: {page}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn check(path: &Path) -> (i32, String) {
    let dashboards = repo().join("dashboards");
    let out = reintegra(&[
        "check",
        path.to_str().unwrap(),
        "--dashboards",
        dashboards.to_str().unwrap(),
    ]);
    (out.status.code().unwrap_or(-1), text(&out))
}

#[test]
fn check_names_the_file_and_line_of_every_problem_without_the_text() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes");
    std::fs::create_dir_all(&notes).unwrap();
    std::fs::write(notes.join("2019.toml"), NOTES).unwrap();
    let (code, out) = check(&notes);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("OK      ") && out.contains("2019.toml: 2 notes"),
        "{out}"
    );

    std::fs::write(notes.join("phone.toml"), WITH_PHONE).unwrap();
    std::fs::write(
        notes.join("names.toml"),
        "[[note]]\nperiod = \"2019-Q5\"\ndashboard = \"psychosocial\"\npanel = \"by-mood\"\n\n[note.text]\nfr = \"Visite de M. Coulibaly.\"\nen = \"Write to contact@example.org.\"\n",
    )
    .unwrap();
    let (code, out) = check(&notes);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("2019.toml: 2 notes"), "{out}");
    assert!(
        out.contains("INVALID") && out.contains("phone.toml: 2 problem(s)"),
        "{out}"
    );
    assert!(
        out.contains("  line 4: text.en holds what looks like a phone number"),
        "{out}"
    );
    assert!(
        out.contains("  line 4: text.fr holds what looks like a phone number"),
        "{out}"
    );
    assert!(out.contains("names.toml: 4 problem(s)"), "{out}");
    assert!(out.contains("  line 2: period must be"), "{out}");
    assert!(
        out.contains("  line 4: dashboard psychosocial has no panel \"by-mood\""),
        "{out}"
    );
    assert!(
        out.contains("  line 7: text.fr holds a person's name"),
        "{out}"
    );
    assert!(
        out.contains("  line 8: text.en holds what looks like an e-mail address"),
        "{out}"
    );
    for secret in [
        "76 42 63 59",
        "Coulibaly",
        "contact@example.org",
        "rendez-vous",
        "appointment",
    ] {
        assert!(!out.contains(secret), "the output quotes {secret}: {out}");
    }

    // One file alone, with the folder's list of names: a names.txt replaces the built-in one.
    std::fs::write(notes.join("names.txt"), "# ours\nKita\n").unwrap();
    let (code, out) = check(&notes.join("2019.toml"));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("line 6: text.fr holds a person's name"),
        "{out}"
    );
    let (code, out) = check(&notes.join("names.toml"));
    assert_eq!(code, 1, "{out}");
    assert!(
        !out.contains("text.fr holds a person's name"),
        "Coulibaly is not in the folder's list: {out}"
    );
}
