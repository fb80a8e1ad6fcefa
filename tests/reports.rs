//! Reports for the data officers who send extracts (in Bamako, Kita and Kayes, working
//! in French): a quarantined file's text report is written in the deployment's language
//! (French by default, `--lang en`), its JSON report carries both languages, every
//! problem says what to do, and no report in either language quotes a value.

mod common;

use common::*;
use reintegra::extract::report::Rule;
use reintegra::locale::Locale;

/// A returns extract whose row 9 holds a region P-code that does not exist.
fn returns_with_bad_region() -> String {
    let (header, mut rows) = read_fixture("returns", 30);
    let c = column(&header, "region_pcode");
    rows[7][c] = "ML42".into();
    to_csv(&header, &rows, b',', false)
}

/// Delivers `text` as `name` alone, runs the real binary with `extra` arguments, and
/// returns what it printed and the two reports of the quarantined file.
fn quarantined(name: &str, text: &str, extra: &[&str]) -> (String, String, serde_json::Value) {
    let ws = Workspace::new();
    ws.deliver(name, text.as_bytes());
    let out = ws.ingest_binary_with(extra);
    assert_eq!(out.status.code(), Some(3), "{}", common::text(&out));
    assert!(
        ws.quarantine().join(name).is_file(),
        "the file is quarantined"
    );
    let report = std::fs::read_to_string(ws.quarantine().join(format!("{name}.report.txt")))
        .expect("a text report beside the quarantined file");
    let json_text =
        std::fs::read_to_string(ws.quarantine().join(format!("{name}.report.json"))).unwrap();
    (
        common::text(&out),
        report,
        serde_json::from_str(&json_text).unwrap(),
    )
}

fn assert_json_carries_both_languages(json: &serde_json::Value, rule: &Rule) {
    let problem = &json["problems"][0];
    assert_eq!(problem["rule"], rule.id(), "{json}");
    for locale in Locale::ALL {
        let code = locale.code();
        assert_eq!(problem["explanation"][code], rule.explain(locale), "{json}");
        assert_eq!(problem["fix"][code], rule.fix(locale), "{json}");
    }
    // The fields that were there before stay.
    assert_eq!(problem["message"], rule.explain(Locale::En));
    assert_eq!(problem["column"], "region_pcode");
    assert_eq!(problem["rows"][0], serde_json::json!([9, 9]));
    assert_eq!(problem["count"], 1);
}

#[test]
fn a_quarantined_file_is_reported_in_french_by_default() {
    let (_, report, json) = quarantined("retours_kita.csv", &returns_with_bad_region(), &[]);
    let rule = Rule::UnknownRegion;
    for needle in [
        "reintegra : rapport sur un fichier d'extraction".to_string(),
        "type : retours".into(),
        "REJETÉ : le fichier ne respecte pas le contrat d'extraction ; rien n'en a été chargé."
            .into(),
        "Les lignes sont numérotées comme dans un tableur (l'en-tête est la ligne 1).".into(),
        format!(
            "- colonne region_pcode : unknown-pcode — {}",
            rule.explain(Locale::Fr)
        ),
        format!("  à faire : {}", rule.fix(Locale::Fr)),
        "  1 ligne : 9".into(),
    ] {
        assert!(report.contains(&needle), "{needle:?} not in\n{report}");
    }
    for english in [
        "REJECTED",
        "column",
        " row",
        "what to do",
        rule.fix(Locale::En).as_str(),
    ] {
        assert!(
            !report.contains(english),
            "{english:?} in the French report:\n{report}"
        );
    }
    assert!(!report.contains("ML42"), "{report}");
    assert_json_carries_both_languages(&json, &rule);
}

#[test]
fn with_lang_en_the_report_is_in_english_and_the_json_is_the_same() {
    let (_, report, json) = quarantined(
        "retours_kita.csv",
        &returns_with_bad_region(),
        &["--lang", "en"],
    );
    let rule = Rule::UnknownRegion;
    for needle in [
        "reintegra extract report".to_string(),
        "kind: returns".into(),
        "REJECTED: the file breaks the extract contract; nothing from it was loaded.".into(),
        format!(
            "- column region_pcode: unknown-pcode — {}",
            rule.explain(Locale::En)
        ),
        format!("  what to do: {}", rule.fix(Locale::En)),
        "  1 row: 9".into(),
    ] {
        assert!(report.contains(&needle), "{needle:?} not in\n{report}");
    }
    for french in ["REJETÉ", "colonne", "ligne", "à faire"] {
        assert!(
            !report.contains(french),
            "{french:?} in the English report:\n{report}"
        );
    }
    assert!(!report.contains("ML42"), "{report}");
    assert_json_carries_both_languages(&json, &rule);
    let (_, _, french_run) = quarantined("retours_kita.csv", &returns_with_bad_region(), &[]);
    assert_eq!(
        json, french_run,
        "the JSON report does not depend on --lang"
    );
}

#[test]
fn reintegra_lang_sets_the_language_of_the_nightly_job() {
    let ws = Workspace::new();
    ws.deliver("retours_kita.csv", returns_with_bad_region().as_bytes());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_reintegra"))
        .args(["ingest", "--inbox", ws.inbox().to_str().unwrap()])
        .args(["--data", ws.data().to_str().unwrap()])
        .args(["--queries", queries().to_str().unwrap()])
        .args(["--policy", policy().to_str().unwrap()])
        .env("REINTEGRA_LANG", "en")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let report =
        std::fs::read_to_string(ws.quarantine().join("retours_kita.csv.report.txt")).unwrap();
    assert!(report.contains("  1 row: 9"), "{report}");
    let bad = reintegra(&["ingest", "--inbox", "x", "--data", "y", "--lang", "bm"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(text(&bad).contains("fr or en"), "{}", text(&bad));
}

/// A person's name and phone number in a delivered file: the file is quarantined, and
/// neither report — in French or in English, text or JSON — nor the job's output holds
/// the name or the number.
#[test]
fn a_name_and_a_phone_number_never_reach_a_report_in_either_language() {
    let name = "Awa Traoré";
    let phone = "+223 76 42 63 59";
    let pieces = [name, "Awa", "Traor", phone, "76 42 63 59", "76 42", "63 59"];
    // An extra column `telephone`, and a name in a cell of a declared column.
    let with_column = {
        let (mut header, mut rows) = read_fixture("returns", 20);
        header.push("telephone".into());
        for row in &mut rows {
            row.push(phone.into());
        }
        rows[3][column(&header, "person_ref")] = name.into();
        to_csv(&header, &rows, b',', false)
    };
    // The number in a cell of a declared column, the name in another: the rows are read.
    let in_cells = {
        let (header, mut rows) = read_fixture("returns", 20);
        rows[3][column(&header, "person_ref")] = name.into();
        rows[5][column(&header, "country_from")] = phone.into();
        to_csv(&header, &rows, b';', false)
    };
    for (file, rule) in [(&with_column, "pii-column"), (&in_cells, "pii-value")] {
        for lang in [&[][..], &["--lang", "en"][..]] {
            let (printed, report, json) = quarantined("retours.csv", file, lang);
            assert!(report.contains(rule), "{report}");
            assert_eq!(json["pii"], true);
            let (fr, en) = match lang {
                [] => ("REJETÉ : le fichier contient des données identifiantes", ""),
                _ => ("", "REJECTED: the file carries identifying data"),
            };
            assert!(report.contains(fr) && report.contains(en), "{report}");
            let everything = format!("{printed}\n{report}\n{json}");
            for piece in pieces {
                assert!(
                    !everything.contains(piece),
                    "{piece:?} was quoted ({rule}, {lang:?}):\n{everything}"
                );
            }
            let problem = json["problems"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["rule"] == rule)
                .unwrap_or_else(|| panic!("no {rule} in {json}"));
            assert!(
                problem["explanation"]["fr"]
                    .as_str()
                    .unwrap()
                    .contains("numéro de téléphone"),
                "{json}"
            );
            assert!(
                problem["explanation"]["en"]
                    .as_str()
                    .unwrap()
                    .contains("phone number"),
                "{json}"
            );
            assert!(!problem["fix"]["fr"].as_str().unwrap().is_empty());
            assert!(!problem["fix"]["en"].as_str().unwrap().is_empty());
        }
    }
}

#[test]
fn check_tells_a_data_officer_in_french_what_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let (header, mut rows) = read_fixture("returns", 10);
    rows[2][column(&header, "sex")] = "X".into();
    rows[5][column(&header, "return_date")] = "31/02/2018".into();
    let file = dir.path().join("retours.csv");
    std::fs::write(&file, to_csv(&header, &rows, b',', false)).unwrap();
    let file = file.to_str().unwrap();
    let sex = Rule::UnknownCode(vec!["F", "M"]);
    for args in [&["check", "--lang", "fr", file][..], &["check", file][..]] {
        let out = reintegra(args);
        assert_eq!(out.status.code(), Some(1));
        let printed = text(&out);
        for needle in [
            "INVALIDE".to_string(),
            "2 problèmes".into(),
            format!(
                "colonne sex : unknown-code — {} ; ligne 4",
                sex.explain(Locale::Fr)
            ),
            format!("    à faire : {}", sex.fix(Locale::Fr)),
            format!(
                "colonne return_date : invalid-date — {} ; ligne 7",
                Rule::InvalidDate.explain(Locale::Fr)
            ),
            format!("    à faire : {}", Rule::InvalidDate.fix(Locale::Fr)),
        ] {
            assert!(
                printed.contains(&needle),
                "{args:?}: {needle:?} not in\n{printed}"
            );
        }
        assert!(
            !printed.contains("31/02/2018") && !printed.contains("INVALID "),
            "{printed}"
        );
    }
    let out = reintegra(&["check", "--lang", "en", file]);
    assert_eq!(out.status.code(), Some(1));
    let printed = text(&out);
    assert!(
        printed.contains(&format!(
            "column sex: unknown-code — {}; row 4",
            sex.explain(Locale::En)
        )),
        "{printed}"
    );
    assert!(
        printed.contains(&format!("    what to do: {}", sex.fix(Locale::En))),
        "{printed}"
    );
    assert!(!printed.contains("ligne"), "{printed}");
    // A valid file is told in French too.
    let good = dir.path().join("seances.csv");
    std::fs::copy(fixtures().join("sessions.csv"), &good).unwrap();
    let out = reintegra(&["check", good.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains(": séances, ") && text(&out).contains(" lignes, mois "),
        "{}",
        text(&out)
    );
}
