//! The IATI activity file (`reintegra export iati`, `/open/iati.xml`): one
//! `iati-activities` document, version 2.03, with one `iati-activity` for the project —
//! what `dashboards/_iati.toml` declares (identifier, organisations, texts, status,
//! dates, country, sector, finance codes), the regions at admin-1 level (names and
//! P-codes from the reference data), the budgets per quarter of `_budget.toml`, the
//! expenditure per quarter from the published `spending` cells, and the results of
//! `_results.toml` with each period's target and its actual from the published cell —
//! read exactly as the results dashboard reads it (`present::results`).
//!
//! A cell published as suppressed, or not published, gives no actual: the period's
//! target (and the indicator's description) says why, in French and English; no number
//! stands in for it. The bytes depend on the snapshot and the definitions only: the
//! file's dates are the snapshot's creation time, never the clock.

use std::io::Write as _;

use chrono::NaiveDate;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use super::ExportError;
use crate::definitions::iati::Activity;
use crate::definitions::results::{Framework, Quarter, Reading, ResultIndicator};
use crate::definitions::{Budget, dimension};
use crate::present::i18n::{Locale, format_period};
use crate::present::panels::{Figure, single};
use crate::present::results;
use crate::reference::Label;
use crate::snapshot::Snapshot;

/// The measure whose `quarter` cells are the expenditure.
pub const SPENDING: &str = "spending";

/// The IATI version written.
pub const VERSION: &str = "2.03";

type W = Writer<Vec<u8>>;
type R = std::io::Result<()>;

/// What the file is made of.
pub struct Sources<'a> {
    pub snapshot: &'a Snapshot,
    pub activity: &'a Activity,
    pub budget: &'a Budget,
    pub framework: &'a Framework,
}

/// The activity file of a snapshot, as UTF-8 XML bytes.
pub fn render(from: &Sources<'_>) -> Result<Vec<u8>, ExportError> {
    write(from).map_err(|e| ExportError::Xml(e.to_string()))
}

fn write(from: &Sources<'_>) -> std::io::Result<Vec<u8>> {
    let a = from.activity;
    let snapshot = from.snapshot;
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let stamp = snapshot
        .created_at()
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    let mut root: Vec<(&str, String)> = vec![("version", VERSION.into())];
    if let Some(s) = &stamp {
        root.push(("generated-datetime", s.clone()));
    }
    element(&mut w, "iati-activities", &root, |w| {
        let mut attrs: Vec<(&str, String)> = Vec::new();
        if let Some(s) = &stamp {
            attrs.push(("last-updated-datetime", s.clone()));
        }
        attrs.extend([
            ("xml:lang", a.language.clone()),
            ("default-currency", a.currency.clone()),
            ("hierarchy", "1".into()),
            (
                "humanitarian",
                if a.humanitarian { "1" } else { "0" }.into(),
            ),
        ]);
        element(w, "iati-activity", &attrs, |w| activity(w, from))
    })?;
    let mut bytes = w.into_inner();
    bytes.write_all(b"\n")?;
    Ok(bytes)
}

fn activity(w: &mut W, from: &Sources<'_>) -> R {
    let a = from.activity;
    text_element(w, "iati-identifier", &[], &a.identifier)?;
    element(
        w,
        "reporting-org",
        &[
            ("ref", a.reporting_org.reference.clone()),
            ("type", a.reporting_org.kind.to_string()),
        ],
        |w| narratives(w, &a.reporting_org.name),
    )?;
    element(w, "title", &[], |w| narratives(w, &a.title))?;
    element(w, "description", &[("type", "1".into())], |w| {
        narratives(w, &a.description)
    })?;
    if let Some(t) = &a.target_groups {
        element(w, "description", &[("type", "3".into())], |w| {
            narratives(w, t)
        })?;
    }
    element(w, "description", &[("type", "4".into())], |w| {
        narratives(w, &about_the_figures(from.snapshot))
    })?;
    for p in &a.participating {
        for role in &p.roles {
            let mut attrs = vec![
                ("ref", p.reference.clone()),
                ("type", p.kind.to_string()),
                ("role", role.to_string()),
            ];
            if let Some(c) = &p.crs_channel_code {
                attrs.push(("crs-channel-code", c.clone()));
            }
            element(w, "participating-org", &attrs, |w| narratives(w, &p.name))?;
        }
    }
    empty(w, "activity-status", &[("code", a.status.to_string())])?;
    let d = &a.dates;
    for (kind, date) in [
        ("1", Some(d.planned_start)),
        ("2", d.actual_start),
        ("3", Some(d.planned_end)),
        ("4", d.actual_end),
    ] {
        if let Some(date) = date {
            empty(
                w,
                "activity-date",
                &[("type", kind.into()), ("iso-date", iso(date))],
            )?;
        }
    }
    empty(w, "activity-scope", &[("code", a.scope.to_string())])?;
    empty(
        w,
        "recipient-country",
        &[("code", a.recipient_country.code.clone())],
    )?;
    for pcode in &a.locations.regions {
        location(w, a, pcode)?;
    }
    element(
        w,
        "sector",
        &[
            ("vocabulary", a.sector.vocabulary.clone()),
            ("code", a.sector.code.clone()),
        ],
        |w| narratives(w, &a.sector.name),
    )?;
    let f = &a.finance;
    empty(
        w,
        "collaboration-type",
        &[("code", f.collaboration_type.clone())],
    )?;
    empty(w, "default-flow-type", &[("code", f.flow_type.clone())])?;
    empty(
        w,
        "default-finance-type",
        &[("code", f.finance_type.clone())],
    )?;
    empty(
        w,
        "default-aid-type",
        &[("vocabulary", "1".into()), ("code", f.aid_type.clone())],
    )?;
    empty(w, "default-tied-status", &[("code", f.tied_status.clone())])?;
    for b in budgets(from.budget, a) {
        element(
            w,
            "budget",
            &[
                ("type", f.budget_type.to_string()),
                ("status", f.budget_status.to_string()),
            ],
            |w| {
                empty(w, "period-start", &[("iso-date", iso(b.start))])?;
                empty(w, "period-end", &[("iso-date", iso(b.end))])?;
                text_element(
                    w,
                    "value",
                    &[
                        ("currency", a.currency.clone()),
                        ("value-date", iso(b.start)),
                    ],
                    &money(b.amount),
                )
            },
        )?;
    }
    // The grant itself: an incoming commitment (TransactionType 11) from the funder,
    // of the budget's total (the grant agreement, not a figure of the extracts), on the
    // planned start.
    if let Some(funder) = a.participating.iter().find(|p| p.roles.contains(&1)) {
        let total: f64 = budgets(from.budget, a).iter().map(|b| b.amount).sum();
        let date = a.dates.planned_start;
        element(
            w,
            "transaction",
            &[("ref", format!("{}-COMMITMENT", a.identifier))],
            |w| {
                empty(w, "transaction-type", &[("code", "11".into())])?;
                empty(w, "transaction-date", &[("iso-date", iso(date))])?;
                text_element(
                    w,
                    "value",
                    &[("currency", a.currency.clone()), ("value-date", iso(date))],
                    &money(total),
                )?;
                element(w, "description", &[], |w| {
                    narratives(
                        w,
                        &Label {
                            fr: "Engagement de la subvention : le budget total du projet".into(),
                            en: "Commitment of the grant: the project's total budget".into(),
                        },
                    )
                })?;
                element(
                    w,
                    "provider-org",
                    &[
                        ("ref", funder.reference.clone()),
                        ("type", funder.kind.to_string()),
                    ],
                    |w| narratives(w, &funder.name),
                )
            },
        )?;
    }
    for t in expenditures(from) {
        element(w, "transaction", &[("ref", t.reference.clone())], |w| {
            empty(w, "transaction-type", &[("code", "4".into())])?;
            empty(w, "transaction-date", &[("iso-date", iso(t.date))])?;
            text_element(
                w,
                "value",
                &[
                    ("currency", a.currency.clone()),
                    ("value-date", iso(t.date)),
                ],
                &money(t.amount),
            )?;
            element(w, "description", &[], |w| narratives(w, &t.description))
        })?;
    }
    let fw = from.framework;
    for o in &fw.outcomes {
        result(w, from, "2", &o.text, &o.indicators)?;
        for out in &o.outputs {
            result(w, from, "1", &out.text, &out.indicators)?;
        }
    }
    Ok(())
}

/// What the figures are: published cells of the snapshot, under disclosure control.
fn about_the_figures(snapshot: &Snapshot) -> Label {
    let as_of = snapshot.data_as_of().map(iso).unwrap_or_default();
    let (note_fr, note_en) = (snapshot.note("fr"), snapshot.note("en"));
    Label {
        fr: format!(
            "Dépenses et valeurs réalisées : cellules publiées de l'instantané {} (données au {as_of}), après contrôle de la divulgation ; une valeur non publiée n'est jamais remplacée par un nombre. {note_fr}",
            snapshot.id.as_str()
        )
        .trim_end()
        .to_string(),
        en: format!(
            "Expenditure and actual values: published cells of snapshot {} (data as of {as_of}), after disclosure control; a value not published is never replaced by a number. {note_en}",
            snapshot.id.as_str()
        )
        .trim_end()
        .to_string(),
    }
}

/// Why `reintegra export iati` could not write the file.
#[derive(Debug, thiserror::Error)]
pub enum IatiError {
    #[error(transparent)]
    Definitions(#[from] crate::definitions::DefinitionErrors),
    #[error(
        "no _iati.toml in {0}: the IATI activity file is written from it (see the project's dashboards/_iati.toml)"
    )]
    NoActivity(std::path::PathBuf),
    #[error(transparent)]
    Snapshot(#[from] crate::snapshot::SnapshotError),
    #[error("nothing is published yet in {0}: run the nightly job first")]
    NothingPublished(std::path::PathBuf),
    #[error(transparent)]
    Export(#[from] ExportError),
}

/// The activity file of a data folder's current snapshot (the one its servers serve),
/// with the definitions of `dashboards_dir`.
pub fn for_data_folder(
    data: &std::path::Path,
    dashboards_dir: &std::path::Path,
) -> Result<Vec<u8>, IatiError> {
    let definitions = crate::definitions::iati::Definitions::load(dashboards_dir)?
        .ok_or_else(|| IatiError::NoActivity(dashboards_dir.to_path_buf()))?;
    let snapshot = Snapshot::load_current(data)?
        .ok_or_else(|| IatiError::NothingPublished(data.to_path_buf()))?;
    Ok(render(&Sources {
        snapshot: &snapshot,
        activity: &definitions.activity,
        budget: &definitions.budget,
        framework: &definitions.framework,
    })?)
}

/// A region at admin-1 level: its P-code as the location's reference, its name from
/// the reference data.
fn location(w: &mut W, a: &Activity, pcode: &str) -> R {
    let Some(region) = crate::reference::places().region(pcode) else {
        return Ok(());
    };
    element(w, "location", &[("ref", region.pcode.clone())], |w| {
        empty(
            w,
            "location-reach",
            &[("code", a.locations.reach.to_string())],
        )?;
        element(w, "name", &[], |w| narratives(w, &region.name))?;
        element(w, "description", &[], |w| {
            narratives(
                w,
                &Label {
                    fr: format!(
                        "{} : division administrative de premier niveau, P-code OCHA {} (découpage de 2019)",
                        region.name.fr, region.pcode
                    ),
                    en: format!(
                        "{}: first-level administrative division, OCHA P-code {} (2019 boundaries)",
                        region.name.en, region.pcode
                    ),
                },
            )
        })?;
        empty(
            w,
            "administrative",
            &[
                ("vocabulary", "A4".into()),
                ("level", "0".into()),
                ("code", a.recipient_country.code.clone()),
            ],
        )?;
        empty(w, "exactness", &[("code", "2".into())])?;
        empty(w, "location-class", &[("code", "1".into())])?;
        empty(w, "feature-designation", &[("code", "ADM1".into())])
    })
}

/// A budget period: a quarter of the budget, clipped to the activity's dates.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetPeriod {
    pub quarter: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub amount: f64,
}

/// The budget per quarter: every line's planned amount for the quarter, added up;
/// quarters nothing is planned for are left out.
pub fn budgets(budget: &Budget, a: &Activity) -> Vec<BudgetPeriod> {
    let (start, end) = (a.dates.planned_start, a.dates.planned_end);
    budget
        .quarters()
        .into_iter()
        .filter_map(|code| {
            let q = Quarter::parse(&code)?;
            let planned: Vec<f64> = budget
                .lines
                .iter()
                .filter_map(|l| l.planned.get(&code).copied())
                .collect();
            if planned.is_empty() {
                return None;
            }
            let (s, e) = (q.first_day().max(start), q.last_day().min(end));
            (s <= e).then(|| BudgetPeriod {
                quarter: code,
                start: s,
                end: e,
                amount: planned.iter().sum(),
            })
        })
        .collect()
}

/// An expenditure: a quarter's published `spending` cell.
#[derive(Debug, Clone)]
struct Expenditure {
    reference: String,
    date: NaiveDate,
    amount: f64,
    description: Label,
}

/// The expenditure per quarter of the activity, from the published `quarter` cells of
/// `spending`: a suppressed or missing cell gives no transaction. A quarter's date is
/// its last day of the activity, or the data's date when the quarter is not over.
fn expenditures(from: &Sources<'_>) -> Vec<Expenditure> {
    let a = from.activity;
    let snapshot = from.snapshot;
    let (start, end) = (
        a.dates.planned_start,
        a.dates.actual_end.unwrap_or(a.dates.planned_end),
    );
    let mut q = Quarter::of(start);
    let mut out = Vec::new();
    while q.first_day() <= end && out.len() < 400 {
        let code = q.code();
        let fixed = [(dimension::QUARTER.to_string(), code.clone())];
        if let Figure::Value(v) = single(snapshot, SPENDING, &fixed) {
            let (s, mut e) = (q.first_day().max(start), q.last_day().min(end));
            if let Some(as_of) = snapshot.data_as_of() {
                e = e.min(as_of).max(s);
            }
            out.push(Expenditure {
                reference: format!("{}-EXP-{code}", a.identifier),
                date: e,
                amount: v,
                description: Label {
                    fr: format!(
                        "Dépenses de {} (du {} au {}), agrégées par trimestre d'après les extractions comptables",
                        format_period(&code, Locale::Fr),
                        iso(s),
                        iso(e)
                    ),
                    en: format!(
                        "Expenditure of {} ({} to {}), aggregated per quarter from the accounting extracts",
                        format_period(&code, Locale::En),
                        iso(s),
                        iso(e)
                    ),
                },
            });
        }
        q = q.next();
    }
    out
}

/// A result (outcome 2, output 1) and its indicators; one without indicator is left
/// out (IATI requires at least one).
fn result(
    w: &mut W,
    from: &Sources<'_>,
    kind: &str,
    text: &Label,
    indicators: &[ResultIndicator],
) -> R {
    if indicators.is_empty() {
        return Ok(());
    }
    element(w, "result", &[("type", kind.into())], |w| {
        element(w, "title", &[], |w| narratives(w, text))?;
        for ind in indicators {
            indicator(w, from, ind)?;
        }
        Ok(())
    })
}

/// Why a period has no actual value, in both languages.
pub fn withheld(figure: Figure, threshold: u32) -> Option<Label> {
    match figure {
        Figure::Value(_) => None,
        Figure::Suppressed => Some(Label {
            fr: format!(
                "Valeur réalisée non publiée : moins de {threshold} personnes ou cellule protégée par le contrôle de la divulgation (protection des personnes comptées)."
            ),
            en: format!(
                "Actual value not published: fewer than {threshold} people, or a cell protected by disclosure control (protection of the people counted)."
            ),
        }),
        Figure::Missing => Some(Label {
            fr: "Valeur réalisée non disponible : aucune cellule publiée pour cette période dans l'instantané servi.".into(),
            en: "Actual value not available: no published cell for this period in the snapshot served.".into(),
        }),
    }
}

/// A period of an indicator: a quarter of the project.
struct Period {
    quarter: Quarter,
    start: NaiveDate,
    end: NaiveDate,
    target: Option<f64>,
    value: Figure,
}

fn indicator(w: &mut W, from: &Sources<'_>, ind: &ResultIndicator) -> R {
    let fw = from.framework;
    let snapshot = from.snapshot;
    let percentage = from.activity.results.percentage.contains(&ind.id);
    let periods: Vec<Period> = fw
        .project
        .quarters()
        .into_iter()
        .map(|q| Period {
            quarter: q,
            start: q.first_day().max(fw.project.start),
            end: fw.project.last_day_in(q),
            target: results::target(fw, ind, q).map(|t| t.value),
            value: results::value(snapshot, fw, ind, q),
        })
        // A survey indicator has values for the quarters surveyed only.
        .filter(|p| {
            ind.measure.is_some() || p.target.is_some() || matches!(p.value, Figure::Value(_))
        })
        .collect();
    let threshold = snapshot.threshold();
    let mut description = Label {
        fr: format!(
            "Unité : {}. Source de vérification : {}.",
            ind.unit.fr, ind.verification.fr
        ),
        en: format!(
            "Unit: {}. Means of verification: {}.",
            ind.unit.en, ind.verification.en
        ),
    };
    if ind.measure.is_none() {
        description.fr.push_str(
            " Valeurs d'enquête saisies dans le cadre de résultats, pour les trimestres enquêtés.",
        );
        description.en.push_str(
            " Survey values entered in the results framework, for the quarters surveyed.",
        );
    } else if ind.breakdown == Reading::ThroughMonth {
        description
            .fr
            .push_str(" Valeurs cumulées depuis le début du projet, à la fin de chaque trimestre.");
        description
            .en
            .push_str(" Cumulative values since the project began, at the end of each quarter.");
    } else {
        description
            .fr
            .push_str(" Valeurs du trimestre, non cumulées.");
        description
            .en
            .push_str(" Values of the quarter, not cumulative.");
    }
    for p in &periods {
        if let Some(why) = withheld(p.value, threshold) {
            description.fr.push_str(&format!(
                " {} : {}",
                format_period(&p.quarter.code(), Locale::Fr),
                why.fr
            ));
            description.en.push_str(&format!(
                " {}: {}",
                format_period(&p.quarter.code(), Locale::En),
                why.en
            ));
        }
    }
    element(
        w,
        "indicator",
        &[
            ("measure", if percentage { "2" } else { "1" }.into()),
            ("ascending", "1".into()),
        ],
        |w| {
            element(w, "title", &[], |w| narratives(w, &ind.text))?;
            element(w, "description", &[], |w| narratives(w, &description))?;
            let (year, date) = baseline_date(&ind.baseline.date, fw.project.start);
            empty(
                w,
                "baseline",
                &[
                    ("year", year.to_string()),
                    ("iso-date", iso(date)),
                    ("value", decimal(ind.baseline.value)),
                ],
            )?;
            for p in &periods {
                element(w, "period", &[], |w| {
                    empty(w, "period-start", &[("iso-date", iso(p.start))])?;
                    empty(w, "period-end", &[("iso-date", iso(p.end))])?;
                    let why = withheld(p.value, threshold);
                    if let Some(t) = p.target {
                        let attrs = [("value", decimal(t))];
                        match &why {
                            Some(why) => element(w, "target", &attrs, |w| {
                                element(w, "comment", &[], |w| narratives(w, why))
                            })?,
                            None => empty(w, "target", &attrs)?,
                        }
                    }
                    if let Figure::Value(v) = p.value {
                        empty(w, "actual", &[("value", decimal(v))])?;
                    }
                    Ok(())
                })?;
            }
            Ok(())
        },
    )
}

/// A baseline's year and date from what the framework says (`YYYY-MM-DD`, `YYYY-MM`
/// or `YYYY-Qn`: the first day); the project's start when it says nothing readable.
fn baseline_date(raw: &str, fallback: NaiveDate) -> (i32, NaiveDate) {
    use chrono::Datelike;
    let raw = raw.trim();
    let date = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .or_else(|| NaiveDate::parse_from_str(&format!("{raw}-01"), "%Y-%m-%d").ok())
        .or_else(|| Quarter::parse(raw).map(Quarter::first_day))
        .filter(|d| d.year() > 0)
        .unwrap_or(fallback);
    (date.year(), date)
}

/// `2019-03-27`.
fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A number as xsd:decimal: the shortest text that reads back as the same number,
/// with no exponent (`1234`, `1234.5`); a number that is not finite is written 0 —
/// none reaches here (definitions are checked, cells are finite).
pub fn decimal(v: f64) -> String {
    if !v.is_finite() {
        return "0".into();
    }
    if v == 0.0 {
        return "0".into();
    }
    format!("{v}")
}

/// An amount of money as xsd:decimal: to the cent (`64100.97`), as accounts give it.
pub fn money(v: f64) -> String {
    if !v.is_finite() {
        return "0.00".into();
    }
    let s = format!("{v:.2}");
    if s == "-0.00" { "0.00".into() } else { s }
}

/// Text XML 1.0 can carry: characters it forbids are dropped.
fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| {
            matches!(*c, '\t' | '\n' | '\r')
                || (*c >= ' ' && !matches!(*c, '\u{FFFE}' | '\u{FFFF}'))
        })
        .collect()
}

fn attributes<'a>(attrs: &'a [(&'a str, String)]) -> impl Iterator<Item = (&'a str, &'a str)> {
    attrs.iter().map(|(k, v)| (*k, v.as_str()))
}

fn element(w: &mut W, name: &str, attrs: &[(&str, String)], inner: impl FnOnce(&mut W) -> R) -> R {
    let cleaned: Vec<(&str, String)> = attrs.iter().map(|(k, v)| (*k, clean(v))).collect();
    w.create_element(name)
        .with_attributes(attributes(&cleaned))
        .write_inner_content(inner)?;
    Ok(())
}

fn empty(w: &mut W, name: &str, attrs: &[(&str, String)]) -> R {
    let cleaned: Vec<(&str, String)> = attrs.iter().map(|(k, v)| (*k, clean(v))).collect();
    w.create_element(name)
        .with_attributes(attributes(&cleaned))
        .write_empty()?;
    Ok(())
}

fn text_element(w: &mut W, name: &str, attrs: &[(&str, String)], text: &str) -> R {
    let cleaned: Vec<(&str, String)> = attrs.iter().map(|(k, v)| (*k, clean(v))).collect();
    let text = clean(text);
    w.create_element(name)
        .with_attributes(attributes(&cleaned))
        .write_text_content(BytesText::new(&text))?;
    Ok(())
}

/// A text as two narratives, French then English.
fn narratives(w: &mut W, label: &Label) -> R {
    for (lang, text) in [("fr", &label.fr), ("en", &label.en)] {
        text_element(w, "narrative", &[("xml:lang", lang.into())], text)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_read_back_as_the_same_number_without_exponent() {
        for v in [0.0, -0.0, 1.0, 280000.0, 52340.125, 0.1 + 0.2, 1e21, 1.5e-7] {
            let s = decimal(v);
            assert!(!s.contains('e') && !s.contains('E'), "{s}");
            assert_eq!(s.parse::<f64>().unwrap(), if v == 0.0 { 0.0 } else { v });
        }
        assert_eq!(decimal(280000.0), "280000");
        assert_eq!(decimal(f64::NAN), "0");
        assert_eq!(money(64100.973451999984), "64100.97");
        assert_eq!(money(2400.0), "2400.00");
        assert_eq!(money(-0.001), "0.00");
    }

    #[test]
    fn text_is_escaped_and_forbidden_characters_dropped() {
        let mut w = Writer::new(Vec::new());
        narratives(
            &mut w,
            &Label {
                fr: "a < b & \"c\" \u{1}d".into(),
                en: "]]> <x/>".into(),
            },
        )
        .unwrap();
        let text = String::from_utf8(w.into_inner()).unwrap();
        assert_eq!(
            text,
            "<narrative xml:lang=\"fr\">a &lt; b &amp; &quot;c&quot; d</narrative><narrative xml:lang=\"en\">]]&gt; &lt;x/&gt;</narrative>"
        );
    }

    #[test]
    fn baselines_read_days_months_and_quarters() {
        let start = NaiveDate::from_ymd_opt(2019, 3, 27).unwrap();
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(baseline_date("2019-04", start), (2019, d(2019, 4, 1)));
        assert_eq!(baseline_date("2019-03-27", start), (2019, d(2019, 3, 27)));
        assert_eq!(baseline_date("2019-Q3", start), (2019, d(2019, 7, 1)));
        assert_eq!(baseline_date("soon", start), (2019, start));
    }
}
