//! Notes as a reader sees them, in one language: the numbered marks a time chart puts
//! on its period axis (with the texts listed beneath it under the same numbers), and
//! the list of a dashboard's notes, newest first ("Ce qui s'est passé" / "What
//! happened").
//!
//! Every text shown here is a note's own text, from the notes files programme leads
//! write (checked by `definitions::notes`); nothing comes from figures or extracts.

use super::charts::Mark;
use super::i18n::{Locale, format_date, format_period};
use super::panels::Figures;
use crate::definitions::dimension::{MONTH, QUARTER, THROUGH_MONTH, YEAR};
use crate::definitions::{Dashboard, Note, Notes, Panel, PanelKind, When};

/// A note as a reader sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ShownNote {
    /// The number of its mark on a chart (1, 2, …); 0 in the dashboard's list.
    pub number: usize,
    /// `15 juillet 2019`, `juillet 2019`, `T3 2019` / `Q3 2019`.
    pub when: String,
    /// `2019-07-15` or `2019-07`, for `<time datetime>`; none for a quarter, which
    /// has no HTML form.
    pub datetime: Option<String>,
    pub text: String,
    /// The title of the panel it concerns; none: the whole dashboard.
    pub panel: Option<String>,
}

/// When a note happened, in the reader's language.
pub fn format_when(when: When, locale: Locale) -> String {
    match when {
        When::Day(d) => format_date(d, locale),
        other => format_period(&other.code(), locale),
    }
}

fn shown(note: &Note, number: usize, d: &Dashboard, locale: Locale) -> ShownNote {
    let datetime = match note.when {
        When::Quarter(..) => None,
        w => Some(w.code()),
    };
    ShownNote {
        number,
        when: format_when(note.when, locale),
        datetime,
        text: locale.pick(&note.text.fr, &note.text.en).to_string(),
        panel: note
            .panel
            .as_deref()
            .and_then(|p| d.panel(p))
            .map(|p| locale.pick(&p.title.fr, &p.title.en).to_string()),
    }
}

/// Every note of a dashboard, newest first (a day before the month or quarter that
/// ends after it).
pub fn what_happened(notes: &Notes, d: &Dashboard, locale: Locale) -> Vec<ShownNote> {
    let mut of: Vec<&Note> = notes.of_dashboard(&d.id).collect();
    of.sort_by(|a, b| (b.when.end(), b.when.start()).cmp(&(a.when.end(), a.when.start())));
    of.into_iter().map(|n| shown(n, 0, d, locale)).collect()
}

/// The period codes a note covers at the level of a chart's period dimension.
fn keys_at(when: When, category: &str) -> Vec<String> {
    let months = when.months();
    let mut keys: Vec<String> = match category {
        MONTH | THROUGH_MONTH => months
            .iter()
            .map(|(y, m)| format!("{y:04}-{m:02}"))
            .collect(),
        QUARTER => months
            .iter()
            .map(|(y, m)| format!("{y:04}-Q{}", (m + 2) / 3))
            .collect(),
        YEAR => months.iter().map(|(y, _)| format!("{y:04}")).collect(),
        _ => Vec::new(),
    };
    keys.dedup();
    keys
}

/// The notes a panel's chart marks: only time (line) charts, only notes of its
/// dashboard that concern the panel or the whole dashboard and fall on one of the
/// periods it draws; numbered from 1 in time order.
pub fn on_chart(
    notes: &Notes,
    d: &Dashboard,
    p: &Panel,
    figures: &Figures,
    locale: Locale,
) -> Vec<(ShownNote, Mark)> {
    if p.kind != PanelKind::Line {
        return Vec::new();
    }
    let Some(category) = figures.view.category.as_deref() else {
        return Vec::new();
    };
    let mut hits: Vec<(&Note, Vec<String>)> = notes
        .of_dashboard(&d.id)
        .filter(|n| n.concerns(&p.id))
        .filter_map(|n| {
            let keys: Vec<String> = keys_at(n.when, category)
                .into_iter()
                .filter(|k| figures.categories.iter().any(|(c, _)| c == k))
                .collect();
            (!keys.is_empty()).then_some((n, keys))
        })
        .collect();
    hits.sort_by_key(|(n, _)| (n.when.start(), n.when.end()));
    hits.into_iter()
        .enumerate()
        .map(|(i, (n, keys))| {
            let note = shown(n, i + 1, d, locale);
            let mark = Mark {
                number: i + 1,
                keys,
                title: format!("{}. {} – {}", i + 1, note.when, note.text),
            };
            (note, mark)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definitions::dashboard;
    use crate::present::filters::View;
    use crate::reference::Label;
    use chrono::NaiveDate;
    use std::path::Path;

    fn psychosocial() -> Dashboard {
        dashboard::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboards"))
            .unwrap()
            .into_iter()
            .find(|d| d.id == "psychosocial")
            .unwrap()
    }

    fn note(when: When, panel: Option<&str>, en: &str) -> Note {
        Note {
            when,
            dashboard: "psychosocial".into(),
            panel: panel.map(String::from),
            text: Label {
                fr: format!("fr: {en}"),
                en: en.into(),
            },
            file: "notes/x.toml".into(),
            line: 1,
        }
    }

    fn monthly(category: &str, months: &[&str]) -> Figures {
        Figures {
            view: View {
                breakdown: vec![category.into()],
                equal: Vec::new(),
                category: Some(category.into()),
                series: None,
                within: None,
                highlight: None,
            },
            categories: months
                .iter()
                .map(|m| (m.to_string(), m.to_string()))
                .collect(),
            series: vec![(String::new(), "x".into())],
            figures: months
                .iter()
                .map(|_| vec![crate::present::panels::Figure::Value(1.0)])
                .collect(),
            decimals: 0,
        }
    }

    #[test]
    fn charts_mark_the_notes_of_their_periods_numbered_in_time_order() {
        let d = psychosocial();
        let day = When::Day(NaiveDate::from_ymd_opt(2019, 7, 15).unwrap());
        let notes = Notes::new(vec![
            note(When::Quarter(2019, 4), None, "quarter"),
            note(day, Some("attendances-by-month"), "day"),
            note(When::Month(2021, 1), None, "outside"),
            note(When::Month(2019, 8), Some("cumulative"), "other panel"),
        ]);
        let p = d.panel("attendances-by-month").unwrap();
        let months = [
            "2019-06", "2019-07", "2019-08", "2019-09", "2019-10", "2019-11",
        ];
        let marks = on_chart(&notes, &d, p, &monthly("month", &months), Locale::En);
        let got: Vec<(usize, &str, Vec<String>)> = marks
            .iter()
            .map(|(n, m)| (m.number, n.text.as_str(), m.keys.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, "day", vec!["2019-07".to_string()]),
                (
                    2,
                    "quarter",
                    vec!["2019-10".to_string(), "2019-11".to_string()]
                ),
            ]
        );
        assert_eq!(marks[0].1.title, "1. 15 July 2019 – day");
        assert_eq!(marks[1].0.when, "Q4 2019");
        // A quarterly axis puts the day in its quarter.
        let p = d.panel("cumulative").unwrap();
        let q = on_chart(&notes, &d, p, &monthly("quarter", &["2019-Q3"]), Locale::Fr);
        assert_eq!(q.len(), 1);
        assert_eq!(q[0].1.keys, vec!["2019-Q3".to_string()]);
        assert_eq!(q[0].0.text, "fr: other panel");
        // Bars and headline figures carry no marks.
        let kpi = d.panel("beneficiaries").unwrap();
        assert!(on_chart(&notes, &d, kpi, &monthly("month", &months), Locale::Fr).is_empty());
    }

    #[test]
    fn the_list_is_newest_first_in_the_readers_language() {
        let d = psychosocial();
        let notes = Notes::new(vec![
            note(
                When::Day(NaiveDate::from_ymd_opt(2019, 7, 15).unwrap()),
                Some("attendances-by-month"),
                "a",
            ),
            note(When::Quarter(2019, 3), None, "b"),
            note(When::Month(2019, 11), None, "c"),
        ]);
        let fr = what_happened(&notes, &d, Locale::Fr);
        let when: Vec<&str> = fr.iter().map(|n| n.when.as_str()).collect();
        assert_eq!(when, vec!["novembre 2019", "T3 2019", "15 juillet 2019"]);
        assert_eq!(fr[2].panel.as_deref(), Some("Participations par mois"));
        assert_eq!(fr[1].datetime, None);
        assert_eq!(fr[2].datetime.as_deref(), Some("2019-07-15"));
        let en = what_happened(&notes, &d, Locale::En);
        assert_eq!(en[1].when, "Q3 2019");
        assert_eq!(en[0].text, "c");
    }
}
