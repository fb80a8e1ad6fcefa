//! A panel's figures as a table, and that table as CSV or XLSX.
//!
//! The table holds exactly the published cells the page shows: a number, "<10" for a
//! suppressed cell (text, never a number, never a blank), or "–" where no cell exists.
//! Every file ends with (CSV) or carries in a sheet of its own (XLSX) the stamp: the
//! filters, the data-as-of date and the disclosure note.

use chrono::Datelike;
use rust_xlsxwriter::{
    DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, XlsxError,
};

use super::Stamp;
use crate::definitions::{Dashboard, Panel};
use crate::present::i18n::{Locale, format_number};
use crate::present::labels;
use crate::present::panels::{self, Figure, Figures};

/// One cell of an exported table.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Number(f64),
    /// A published cell below the threshold: "<T", never a number.
    Suppressed,
    /// No published cell for this combination.
    Missing,
}

impl From<Figure> for Value {
    fn from(f: Figure) -> Value {
        match f {
            Figure::Value(v) => Value::Number(v),
            Figure::Suppressed => Value::Suppressed,
            Figure::Missing => Value::Missing,
        }
    }
}

/// A column: its heading, and the decimals of its numbers (`None`: a text column).
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub decimals: Option<usize>,
}

impl Column {
    fn text(name: impl Into<String>) -> Column {
        Column {
            name: name.into(),
            decimals: None,
        }
    }
    fn number(name: impl Into<String>, decimals: usize) -> Column {
        Column {
            name: name.into(),
            decimals: Some(decimals),
        }
    }
}

/// The figures of one panel, laid out as the page's table of values.
#[derive(Debug, Clone)]
pub struct Table {
    pub title: String,
    pub description: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Value>>,
    /// Whether the table has a `Code` column (second) that the page does not show.
    pub has_code: bool,
    /// The panel's own notes: its note, its target, the unit of its values.
    pub notes: Vec<(String, String)>,
}

impl Table {
    /// A chart or headline panel's figures: one row per category (the category's name
    /// and code), one column per series.
    pub fn of_figures(
        snapshot: &crate::snapshot::Snapshot,
        panel: &Panel,
        figures: &Figures,
        locale: Locale,
    ) -> Table {
        let l = locale;
        let title = l.pick(&panel.title.fr, &panel.title.en).to_string();
        let mut columns = Vec::new();
        let mut rows = Vec::new();
        // Codes (P-codes, ISO countries, months) let a reader join the figures to other
        // data; bands such as "2-4" are left out, spreadsheets would read them as dates.
        let has_code = figures
            .view
            .category
            .as_deref()
            .is_some_and(|d| !matches!(d, "age_band" | "attendance_band"));
        match &figures.view.category {
            Some(category) => {
                columns.push(Column::text(labels::dimension_name(category, l)));
                if has_code {
                    columns.push(Column::text("Code"));
                }
                for (_, name) in &figures.series {
                    columns.push(Column::number(name.clone(), figures.decimals));
                }
                for ((code, label), row) in figures.categories.iter().zip(&figures.figures) {
                    let mut out = vec![Value::Text(label.clone())];
                    if has_code {
                        out.push(Value::Text(code.clone()));
                    }
                    out.extend(row.iter().map(|f| Value::from(*f)));
                    rows.push(out);
                }
            }
            None => {
                columns.push(Column::text(l.pick("Indicateur", "Indicator")));
                for (_, name) in &figures.series {
                    columns.push(Column::number(name.clone(), figures.decimals));
                }
                let mut out = vec![Value::Text(title.clone())];
                out.extend(
                    figures
                        .figures
                        .first()
                        .into_iter()
                        .flatten()
                        .map(|f| Value::from(*f)),
                );
                if let Some(t) = &panel.target {
                    columns.push(Column::number(l.pick("Objectif", "Target"), 0));
                    columns.push(Column::number(
                        l.pick("Part de l'objectif (%)", "Share of target (%)"),
                        0,
                    ));
                    out.push(Value::Number(t.value));
                    out.push(share(figures.headline(), t.value));
                }
                rows.push(out);
            }
        }
        let mut notes = Vec::new();
        if let Some(note) = &panel.note {
            notes.push((
                l.pick("Note", "Note").to_string(),
                l.pick(&note.fr, &note.en).to_string(),
            ));
        }
        if let Some(t) = &panel.target {
            notes.push((
                l.pick("Objectif", "Target").to_string(),
                l.pick(&t.label.fr, &t.label.en).to_string(),
            ));
        }
        if let Some(m) = panel.measure.as_deref().and_then(|m| snapshot.measure(m)) {
            notes.push((
                l.pick("Unité", "Unit").to_string(),
                l.pick(&m.unit.fr, &m.unit.en).to_string(),
            ));
        }
        Table {
            title,
            description: l
                .pick(&panel.description.fr, &panel.description.en)
                .to_string(),
            columns,
            rows,
            has_code,
            notes,
        }
    }

    /// A PONAM alignment panel: each indicator, the policy axis it serves, its published
    /// value (whole programme: the page's filters do not apply), target and progress.
    pub fn of_ponam(
        snapshot: &crate::snapshot::Snapshot,
        d: &Dashboard,
        panel: &Panel,
        locale: Locale,
    ) -> Table {
        let l = locale;
        let columns = vec![
            Column::text(l.pick("Indicateur", "Indicator")),
            Column::text(l.pick("Axe de la PONAM", "PONAM axis")),
            Column::number(l.pick("Valeur publiée", "Published value"), 0),
            Column::number(l.pick("Objectif", "Target"), 0),
            Column::number(l.pick("Progression (%)", "Progress (%)"), 0),
        ];
        let rows = panel
            .indicators
            .iter()
            .map(|ind| {
                let fixed: Vec<(String, String)> = ind
                    .fixed
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let f = panels::single(snapshot, &ind.measure, &fixed);
                let axis = d
                    .axes
                    .get(&ind.axis)
                    .map_or(ind.axis.as_str(), |a| l.pick(&a.fr, &a.en));
                vec![
                    Value::Text(l.pick(&ind.label.fr, &ind.label.en).to_string()),
                    Value::Text(axis.to_string()),
                    Value::from(f),
                    ind.target.map_or(Value::Missing, Value::Number),
                    ind.target.map_or(Value::Missing, |t| share(f, t)),
                ]
            })
            .collect();
        Table {
            title: l.pick(&panel.title.fr, &panel.title.en).to_string(),
            description: l.pick(&panel.description.fr, &panel.description.en).to_string(),
            columns,
            rows,
            has_code: false,
            notes: vec![(
                l.pick("Période", "Period").to_string(),
                l.pick(
                    "Ensemble du programme : les filtres de la page ne s'appliquent pas à ce tableau.",
                    "Whole programme: the page's filters do not apply to this table.",
                )
                .to_string(),
            )],
        }
    }

    /// A budget panel's table (see `present::budget`), in the page's currency; none
    /// without a budget.
    pub fn of_budget(
        d: &Dashboard,
        panel: &Panel,
        snapshot: &crate::snapshot::Snapshot,
        filters: &crate::present::filters::Filters,
        locale: Locale,
    ) -> Option<Table> {
        use crate::present::budget::{Cell, Execution};
        let l = locale;
        let (budget, view) = (d.budget.as_deref()?, panel.show?);
        let execution = Execution::of(snapshot, budget, filters, l);
        let grid = execution.grid(view, l);
        let not_published = l.pick("non publié", "not published");
        Some(Table {
            title: l.pick(&panel.title.fr, &panel.title.en).to_string(),
            description: l
                .pick(&panel.description.fr, &panel.description.en)
                .to_string(),
            columns: grid
                .columns
                .iter()
                .map(|c| match c.decimals {
                    Some(n) => Column::number(c.name.clone(), n),
                    None => Column::text(c.name.clone()),
                })
                .collect(),
            rows: grid
                .rows
                .into_iter()
                .map(|row| {
                    row.into_iter()
                        .map(|c| match c {
                            Cell::Text(t) => Value::Text(t),
                            Cell::Number(v) => Value::Number(v),
                            Cell::NotPublished => Value::Text(not_published.into()),
                            Cell::None => Value::Missing,
                        })
                        .collect()
                })
                .collect(),
            has_code: false,
            notes: vec![
                (
                    l.pick("Monnaie", "Currency").to_string(),
                    labels::value_label("currency", execution.currency, l),
                ),
                (
                    l.pick("Taux de change", "Exchange rates").to_string(),
                    l.pick(&budget.rates_source.fr, &budget.rates_source.en)
                        .to_string(),
                ),
            ],
        })
    }

    /// The results framework for the page's quarter: one row per indicator with the
    /// result it serves, its baseline, the quarter's value, targets and status.
    pub fn of_results(
        snapshot: &crate::snapshot::Snapshot,
        d: &Dashboard,
        panel: &Panel,
        filters: &crate::present::filters::Filters,
        locale: Locale,
    ) -> Table {
        use crate::present::results as framework;
        let l = locale;
        let columns = vec![
            Column::text(l.pick("Résultat", "Result")),
            Column::text(l.pick("Indicateur", "Indicator")),
            Column::text(l.pick("Unité", "Unit")),
            Column::number(l.pick("Valeur de référence", "Baseline"), 1),
            Column::number(l.pick("Valeur du trimestre", "Value this quarter"), 1),
            Column::number(l.pick("Cible du trimestre", "Target for the quarter"), 0),
            Column::number(l.pick("Cible de fin de projet", "End-of-project target"), 0),
            Column::text(l.pick("État", "Status")),
            Column::text(l.pick("Source", "Source")),
        ];
        let mut rows = Vec::new();
        let mut quarter = String::new();
        if let Some(f) = d.results.as_deref() {
            let q = framework::quarter(f, filters, snapshot.data_as_of());
            quarter = crate::present::i18n::format_period(&q.code(), l);
            for o in &f.outcomes {
                let results = std::iter::once((o.id.as_str(), &o.indicators))
                    .chain(o.outputs.iter().map(|p| (p.id.as_str(), &p.indicators)));
                for (result, indicators) in results {
                    for ind in indicators {
                        let row = framework::row(snapshot, f, ind, q, l);
                        rows.push(vec![
                            Value::Text(result.to_string()),
                            Value::Text(format!(
                                "{} {}",
                                ind.id,
                                l.pick(&ind.text.fr, &ind.text.en)
                            )),
                            Value::Text(l.pick(&ind.unit.fr, &ind.unit.en).to_string()),
                            Value::Number(ind.baseline.value),
                            Value::from(row.value),
                            row.target
                                .map_or(Value::Missing, |t| Value::Number(t.value)),
                            ind.end_target().map_or(Value::Missing, Value::Number),
                            Value::Text(match filters.compare {
                                // The change goes with the status (the page shows it
                                // under the status, the table in the same cell).
                                Some(c) => format!(
                                    "{} – {}",
                                    row.status.text(l),
                                    framework::change(snapshot, f, ind, q, c, l)
                                ),
                                None => row.status.text(l).to_string(),
                            }),
                            Value::Text(match ind.measure {
                                Some(_) => l.pick("cellule publiée", "published cell").to_string(),
                                None => l
                                    .pick("enquête (valeur saisie)", "survey (value entered)")
                                    .to_string(),
                            }),
                        ]);
                    }
                }
            }
        }
        // Baselines and values are shown with a decimal only when one of them has one
        // (a mean score, a survey share), never "1 942,0" for a count.
        let mut columns = columns;
        for c in [3, 4] {
            let fractional = rows.iter().any(|r| match r.get(c) {
                Some(Value::Number(v)) => (v * 10.0).round() % 10.0 != 0.0,
                _ => false,
            });
            columns[c].decimals = Some(usize::from(fractional));
        }
        Table {
            title: l.pick(&panel.title.fr, &panel.title.en).to_string(),
            description: l
                .pick(&panel.description.fr, &panel.description.en)
                .to_string(),
            columns,
            rows,
            has_code: false,
            notes: vec![(l.pick("Trimestre", "Quarter").to_string(), quarter)],
        }
    }

    /// Whether any cell is suppressed or missing (their notes are then needed).
    fn has(&self, value: &Value) -> bool {
        self.rows.iter().flatten().any(|v| v == value)
    }

    /// Every note of this table with its stamp, as (label, text) lines.
    pub fn all_notes(&self, stamp: &Stamp) -> Vec<(String, String)> {
        let l = stamp.locale;
        let mut notes = stamp.lines();
        notes.insert(
            1,
            (l.pick("Panneau", "Panel").to_string(), self.title.clone()),
        );
        notes.insert(
            2,
            (
                l.pick("Description", "Description").to_string(),
                self.description.clone(),
            ),
        );
        notes.extend(self.notes.iter().cloned());
        let t = stamp.threshold;
        if self.has(&Value::Suppressed) {
            notes.push((
                format!("<{t}"),
                match l {
                    Locale::Fr => format!(
                        "Effectif inférieur à {t} : il n'est pas publié pour protéger les personnes comptées. Ce n'est pas zéro. Dans le tableur, ces cellules sont du texte : une formule comme SOMME les ignore, une somme de la colonne les laisse donc de côté."
                    ),
                    Locale::En => format!(
                        "Fewer than {t}: not published, to protect the people counted. It is not zero. In the spreadsheet these cells are text: a formula such as SUM skips them, so a column total leaves them out."
                    ),
                },
            ));
        }
        if self.has(&Value::Missing) {
            notes.push((
                "–".to_string(),
                l.pick(
                    "Aucun chiffre publié pour cette combinaison (pas un zéro).",
                    "No figure published for this combination (not a zero).",
                )
                .to_string(),
            ));
        }
        if self.has_code {
            notes.push((
                "Code".to_string(),
                l.pick(
                    "Code de la catégorie : P-code OCHA des lieux, code ISO 3166 alpha-3 des pays, AAAA-MM des mois.",
                    "Category code: OCHA P-code of places, ISO 3166 alpha-3 code of countries, YYYY-MM of months.",
                )
                .to_string(),
            ));
        }
        notes
    }

    /// A cell as text in the locale (tables of the briefing pack).
    pub fn text(&self, column: usize, value: &Value, stamp: &Stamp) -> String {
        let decimals = self
            .columns
            .get(column)
            .and_then(|c| c.decimals)
            .unwrap_or(0);
        match value {
            Value::Text(t) => t.clone(),
            Value::Number(v) => format_number(*v, decimals, stamp.locale),
            Value::Suppressed => format!("<{}", stamp.threshold),
            Value::Missing => "–".to_string(),
        }
    }
}

/// A figure's share of a target, in per cent, rounded as the page shows it.
fn share(figure: Figure, target: f64) -> Value {
    match figure.value() {
        Some(v) if target > 0.0 => Value::Number((v / target * 100.0).round()),
        _ => Value::Missing,
    }
}

/// A text cell as CSV carries it: one that a spreadsheet would read as a formula
/// (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`,
/// as OWASP's CSV-injection guidance says. Every CSV the server writes goes through it.
pub fn neutralise(text: &str) -> std::borrow::Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}").into(),
        _ => text.into(),
    }
}

/// The table as CSV: UTF-8 with a byte order mark (so that Excel reads accents), CRLF
/// line ends, `,` with a decimal point or `;` with a decimal comma (French Excel); then
/// an empty line and the notes, one (label, text) per line, padded to the table's width.
pub fn csv(table: &Table, stamp: &Stamp, semicolon: bool) -> Result<Vec<u8>, csv::Error> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    let mut w = csv::WriterBuilder::new()
        .delimiter(if semicolon { b';' } else { b',' })
        .terminator(csv::Terminator::CRLF)
        .from_writer(&mut out);
    let width = table.columns.len().max(2);
    let pad = |mut row: Vec<String>| {
        row.resize(width, String::new());
        row
    };
    let text = |t: &str| neutralise(t).into_owned();
    w.write_record(pad(table.columns.iter().map(|c| text(&c.name)).collect()))?;
    for row in &table.rows {
        let cells = row
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::Text(t) => text(t),
                Value::Number(n) => {
                    let decimals = table.columns[i].decimals.unwrap_or(0);
                    let text = format!("{n:.decimals$}");
                    if semicolon {
                        text.replace('.', ",")
                    } else {
                        text
                    }
                }
                Value::Suppressed => format!("<{}", stamp.threshold),
                Value::Missing => "–".to_string(),
            })
            .collect();
        w.write_record(pad(cells))?;
    }
    w.write_record(pad(Vec::new()))?;
    for (label, note) in table.all_notes(stamp) {
        w.write_record(pad(vec![text(&label), text(&note)]))?;
    }
    w.flush()?;
    drop(w);
    Ok(out)
}

/// The table as an XLSX workbook: a sheet of figures (numbers as number cells, "<10"
/// and "–" as text cells, right-aligned) and a sheet of notes explaining them.
pub fn xlsx(table: &Table, stamp: &Stamp) -> Result<Vec<u8>, XlsxError> {
    let l = stamp.locale;
    let mut workbook = Workbook::new();
    let mut properties = DocProperties::new()
        .set_title(format!("{} – {}", stamp.dashboard, table.title))
        .set_subject(table.description.clone())
        .set_author("reintegra")
        .set_comment(stamp.note.clone());
    if let Some(created) = stamp.created
        && let Ok(t) = ExcelDateTime::from_ymd(
            u16::try_from(created.year()).unwrap_or(1900),
            created.month() as u8,
            created.day() as u8,
        )
    {
        properties = properties.set_creation_datetime(&t);
    }
    workbook.set_properties(&properties);

    let title = Format::new().set_bold().set_font_size(14);
    let stamp_format = Format::new().set_italic().set_font_color("#444444");
    let header = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_border_bottom(FormatBorder::Medium);
    let header_number = header.clone().set_align(FormatAlign::Right);
    let text = Format::new();
    let flagged = Format::new().set_align(FormatAlign::Right);
    let numbers = [
        Format::new().set_num_format("#,##0"),
        Format::new().set_num_format("#,##0.0"),
        Format::new().set_num_format("#,##0.00"),
    ];

    let sheet = workbook.add_worksheet();
    sheet.set_name(l.pick("Chiffres", "Figures"))?;
    sheet.write_string_with_format(0, 0, &table.title, &title)?;
    sheet.write_string_with_format(
        1,
        0,
        format!(
            "{} · {}",
            stamp.summary(),
            l.pick(
                "Notes et protection des données : feuille « Notes »",
                "Notes and data protection: sheet “Notes”"
            )
        ),
        &stamp_format,
    )?;
    let header_row = 3;
    for (c, column) in table.columns.iter().enumerate() {
        let format = if column.decimals.is_some() {
            &header_number
        } else {
            &header
        };
        sheet.write_string_with_format(header_row, c as u16, &column.name, format)?;
        let widest = table
            .rows
            .iter()
            .filter_map(|r| match r.get(c) {
                Some(Value::Text(t)) => Some(t.chars().count()),
                Some(Value::Number(_)) => Some(10),
                _ => None,
            })
            .max()
            .unwrap_or(4)
            .max(column.name.chars().count().min(24));
        sheet.set_column_width(c as u16, (widest + 2).clamp(8, 60) as f64)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        let r = header_row + 1 + r as u32;
        for (c, value) in row.iter().enumerate() {
            let c16 = c as u16;
            match value {
                Value::Text(t) => {
                    sheet.write_string_with_format(r, c16, t, &text)?;
                }
                Value::Number(v) => {
                    let decimals = table.columns[c].decimals.unwrap_or(0).min(2);
                    sheet.write_number_with_format(r, c16, *v, &numbers[decimals])?;
                }
                Value::Suppressed => {
                    sheet.write_string_with_format(
                        r,
                        c16,
                        format!("<{}", stamp.threshold),
                        &flagged,
                    )?;
                }
                Value::Missing => {
                    sheet.write_string_with_format(r, c16, "–", &flagged)?;
                }
            }
        }
    }
    sheet.set_freeze_panes(header_row + 1, 0)?;

    let notes = workbook.add_worksheet();
    notes.set_name("Notes")?;
    let label = Format::new().set_bold().set_align(FormatAlign::Top);
    let wrapped = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    notes.set_column_width(0, 24)?;
    notes.set_column_width(1, 100)?;
    for (r, (name, value)) in table.all_notes(stamp).iter().enumerate() {
        notes.write_string_with_format(r as u32, 0, name, &label)?;
        notes.write_string_with_format(r as u32, 1, value, &wrapped)?;
    }
    workbook.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(locale: Locale) -> Stamp {
        Stamp {
            dashboard: "Retours".into(),
            filters: "2018 · Kayes".into(),
            data_as_of: Some("31 mai 2019".into()),
            snapshot: "20190601T000000000Z-0123456789ab".into(),
            note: "Les chiffres sont légèrement perturbés.".into(),
            threshold: 10,
            locale,
            created: None,
        }
    }

    fn table() -> Table {
        Table {
            title: "Retours par région".into(),
            description: "Région d'arrivée.".into(),
            columns: vec![
                Column::text("Région"),
                Column::text("Code"),
                Column::number("Score", 1),
            ],
            rows: vec![
                vec![
                    Value::Text("Ségou".into()),
                    Value::Text("ML04".into()),
                    Value::Number(72.5),
                ],
                vec![
                    Value::Text("Kidal".into()),
                    Value::Text("ML08".into()),
                    Value::Suppressed,
                ],
            ],
            has_code: true,
            notes: Vec::new(),
        }
    }

    #[test]
    fn csv_has_a_bom_and_the_semicolon_variant_a_decimal_comma() {
        let bytes = csv(&table(), &stamp(Locale::Fr), true).unwrap();
        assert!(bytes.starts_with("\u{feff}".as_bytes()));
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.contains("Ségou;ML04;72,5\r\n"), "{text}");
        assert!(text.contains("Kidal;ML08;<10\r\n"));
        assert!(text.contains("perturbés"));
        let text = String::from_utf8(csv(&table(), &stamp(Locale::En), false).unwrap()).unwrap();
        assert!(text.contains("Ségou,ML04,72.5\r\n"), "{text}");
    }
}
