//! Open data for humanitarian data hubs (`reintegra export open-data`, `/open/`): one
//! CSV per table the public (or the donor's) dashboards show, with HXL hashtags on its
//! second row, and a Frictionless data package (`datapackage.json`, v2) describing
//! them.
//!
//! A table is a (measure, breakdown) the pages of those dashboards actually read under
//! any state of their filters (`present::filters::reachable_breakdowns`, and the
//! cells the results framework reads): never a breakdown those pages do not show, and
//! only the snapshot's published cells. A suppressed cell keeps its row with an empty
//! value and `status` = `suppressed`: never a number. Labels (French and English) come
//! from the reference data, never from an extract. Money (a measure counted in a
//! currency) is left out of the public set.
//!
//! The same snapshot always gives the same bytes: rows are sorted by their codes, the
//! package's keys are sorted, and the only dates are the snapshot's own.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::ExportError;
use crate::access::Role;
use crate::definitions::dimension::{
    AGE_BAND, CERCLE, COUNTRY_FROM, MONTH, QUARTER, REGION, SEX, SITE, THROUGH_MONTH, YEAR,
};
use crate::definitions::results::Reading;
use crate::definitions::{Dashboard, MeasureInfo, Programme, Statistic};
use crate::present::filters::reachable_breakdowns;
use crate::present::i18n::Locale;
use crate::present::labels::{dimension_name, natural_rank, value_label};
use crate::reference::Label;
use crate::snapshot::Snapshot;

/// The name of the package descriptor.
pub const PACKAGE: &str = "datapackage.json";

const PACKAGE_SCHEMA: &str = "https://datapackage.org/profiles/2.0/datapackage.json";
const DIALECT_SCHEMA: &str = "https://datapackage.org/profiles/2.0/tabledialect.json";
const TABLE_SCHEMA: &str = "https://datapackage.org/profiles/2.0/tableschema.json";

/// Whose dashboards a set of tables follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    /// The dashboards open to the `public` role (what `/open/` serves).
    Public,
    /// The dashboards open to donors (the default of the command).
    Donor,
}

impl Audience {
    pub fn role(self) -> Role {
        match self {
            Audience::Public => Role::Public,
            Audience::Donor => Role::Donor,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Audience::Public => "public",
            Audience::Donor => "donor",
        }
    }
}

/// The licence the files are published under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Licence {
    /// An Open Definition licence id, e.g. `CC-BY-4.0`.
    pub id: String,
    pub title: Option<String>,
    pub path: Option<String>,
}

/// Licences known by id: (id, title, address).
const KNOWN_LICENCES: &[(&str, &str, &str)] = &[
    (
        "CC-BY-4.0",
        "Creative Commons Attribution 4.0 International",
        "https://creativecommons.org/licenses/by/4.0/",
    ),
    (
        "CC-BY-SA-4.0",
        "Creative Commons Attribution Share-Alike 4.0 International",
        "https://creativecommons.org/licenses/by-sa/4.0/",
    ),
    (
        "CC0-1.0",
        "Creative Commons Zero v1.0 Universal",
        "https://creativecommons.org/publicdomain/zero/1.0/",
    ),
    (
        "ODC-BY-1.0",
        "Open Data Commons Attribution License v1.0",
        "https://opendatacommons.org/licenses/by/1-0/",
    ),
    (
        "ODbL-1.0",
        "Open Data Commons Open Database License v1.0",
        "https://opendatacommons.org/licenses/odbl/1-0/",
    ),
    (
        "PDDL-1.0",
        "Open Data Commons Public Domain Dedication and License v1.0",
        "https://opendatacommons.org/licenses/pddl/1-0/",
    ),
];

impl Default for Licence {
    fn default() -> Self {
        Licence::parse("CC-BY-4.0").unwrap_or(Licence {
            id: "CC-BY-4.0".into(),
            title: None,
            path: None,
        })
    }
}

impl Licence {
    /// A licence by its Open Definition id: a known one (any letter case) with its
    /// title and address, or any other id made of letters, digits, `.`, `_` and `-`.
    pub fn parse(raw: &str) -> Result<Licence, String> {
        let raw = raw.trim();
        if let Some((id, title, path)) = KNOWN_LICENCES
            .iter()
            .find(|(id, _, _)| id.eq_ignore_ascii_case(raw))
        {
            return Ok(Licence {
                id: id.to_string(),
                title: Some(title.to_string()),
                path: Some(path.to_string()),
            });
        }
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if ok {
            Ok(Licence {
                id: raw.to_string(),
                title: None,
                path: None,
            })
        } else {
            let known: Vec<&str> = KNOWN_LICENCES.iter().map(|(id, _, _)| *id).collect();
            Err(format!(
                "a licence is an Open Definition id (letters, digits, '.', '_', '-'), e.g. {}",
                known.join(", ")
            ))
        }
    }

    fn descriptor(&self) -> Value {
        let mut l = serde_json::Map::new();
        l.insert("name".into(), json!(self.id));
        if let Some(t) = &self.title {
            l.insert("title".into(), json!(t));
        }
        if let Some(p) = &self.path {
            l.insert("path".into(), json!(p));
        }
        Value::Object(l)
    }
}

impl std::str::FromStr for Licence {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Licence::parse(s)
    }
}

/// A published table: a measure and one of its declared breakdowns.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Table {
    pub measure: String,
    /// The breakdown's dimensions, in the measure's canonical order.
    pub breakdown: Vec<String>,
}

impl Table {
    /// The resource name: `returns_total`, `returns_by_region`, `returns_by_sex_age_band`.
    pub fn name(&self) -> String {
        if self.breakdown.is_empty() {
            format!("{}_total", self.measure)
        } else {
            format!("{}_by_{}", self.measure, self.breakdown.join("_"))
        }
    }

    pub fn file(&self) -> String {
        format!("{}.csv", self.name())
    }
}

/// Whether a measure counts money (its unit is a currency code of the reference).
pub fn is_money(m: &MeasureInfo) -> bool {
    crate::reference::labels()
        .get("currency")
        .is_some_and(|set| set.contains_key(&m.unit.en))
}

/// The tables the dashboards an audience opens show, sorted by measure and breakdown
/// (the breakdowns their panels read under any state of their filters, and those the
/// results framework reads). Money is left out of the public set.
pub fn tables(snapshot: &Snapshot, dashboards: &[Dashboard], audience: Audience) -> Vec<Table> {
    let role = audience.role();
    let mut found: BTreeSet<Table> = BTreeSet::new();
    for d in dashboards.iter().filter(|d| d.allows(role)) {
        for (measure, breakdowns) in reachable_breakdowns(d, snapshot) {
            for breakdown in breakdowns {
                found.insert(Table {
                    measure: measure.clone(),
                    breakdown,
                });
            }
        }
        let Some(framework) = &d.results else {
            continue;
        };
        for ind in framework.indicators() {
            let Some(m) = ind.measure.as_deref().and_then(|m| snapshot.measure(m)) else {
                continue;
            };
            let fixed: Vec<&str> = ind.filters.keys().map(String::as_str).collect();
            let mut wanted: Vec<Vec<&str>> = Vec::new();
            let mut of_value = fixed.clone();
            of_value.push(ind.breakdown.dimension());
            wanted.push(of_value);
            for dim in &ind.disaggregations {
                let mut dims = fixed.clone();
                dims.push(dim);
                let mut with_quarter = dims.clone();
                with_quarter.push(QUARTER);
                // As the results page reads it: by the quarter when published so.
                match (ind.breakdown, m.breakdown(&with_quarter)) {
                    (Reading::Quarter, Some(_)) => wanted.push(with_quarter),
                    _ => wanted.push(dims),
                }
            }
            for dims in wanted {
                if let Some(b) = m.breakdown(&dims) {
                    found.insert(Table {
                        measure: m.id.clone(),
                        breakdown: b.to_vec(),
                    });
                }
            }
        }
    }
    found
        .into_iter()
        .filter(|t| {
            snapshot
                .measure(&t.measure)
                .is_some_and(|m| audience == Audience::Donor || !is_money(m))
        })
        .collect()
}

/// A Table Schema field type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldType {
    Text,
    Integer,
    Number,
    Year,
    YearMonth,
}

impl FieldType {
    fn code(self) -> &'static str {
        match self {
            FieldType::Text => "string",
            FieldType::Integer => "integer",
            FieldType::Number => "number",
            FieldType::Year => "year",
            FieldType::YearMonth => "yearmonth",
        }
    }
}

/// Where a column's text comes from, for a cell.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// The code of the breakdown's i-th dimension.
    Code(usize),
    /// A quarter code of the i-th dimension written as HXL readers take it: `2019Q3`.
    Quarter(usize),
    /// The label of the i-th dimension's code.
    Label(usize, Locale),
    Value,
    Status,
}

/// A column of a table: its header, hashtag, Table Schema type and description.
#[derive(Debug, Clone)]
struct Column {
    name: String,
    hxl: String,
    kind: FieldType,
    title: Label,
    description: Label,
    constraints: Value,
    /// Part of the primary key (a dimension's code).
    key: bool,
    source: Source,
}

/// The HXL hashtag (with attributes) a dimension's code and name columns are built
/// on, and the column names' stem.
fn dimension_tag(dim: &str) -> (String, String) {
    let (stem, tag) = match dim {
        REGION => ("adm1", "#adm1"),
        CERCLE => ("adm2", "#adm2"),
        SITE => ("site", "#loc"),
        COUNTRY_FROM => ("country", "#country+departure"),
        SEX => ("sex", "#gender"),
        AGE_BAND => ("age_band", "#age+range"),
        "return_type" => ("return_type", "#activity+type"),
        "activity" => ("activity", "#activity+type"),
        "vulnerability" => ("vulnerability", "#beneficiary+vulnerability"),
        "profession" => ("profession", "#beneficiary+type"),
        "channel" => ("channel", "#channel"),
        "output" => ("output", "#output"),
        other => {
            let clean: String = other
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
                .to_ascii_lowercase();
            return (clean.clone(), format!("#x_{clean}"));
        }
    };
    (stem.to_string(), tag.to_string())
}

/// The hashtag of a measure's value column.
fn value_tag(m: &MeasureInfo) -> String {
    match m.id.as_str() {
        "returns" => "#affected+returnees+ind".into(),
        "beneficiaries" => "#reached+ind".into(),
        "beneficiaries_cumulative" => "#reached+cumulative+ind".into(),
        "trainees" => "#reached+ind+trainees".into(),
        "people_reached" => "#reached+estimated+ind".into(),
        "attendances" => "#indicator+attendances+num".into(),
        "sessions_held" => "#indicator+num+sessions".into(),
        "campaign_events" => "#indicator+events+num".into(),
        "training_scores" => "#indicator+mean+num+score".into(),
        // Money: HXL's #value, with the currency as an attribute (#value+usd).
        _ if is_money(m) => format!("#value+spent+{}", m.unit.en.to_ascii_lowercase()),
        _ => "#indicator+num".into(),
    }
}

fn both(fr: impl Into<String>, en: impl Into<String>) -> Label {
    Label {
        fr: fr.into(),
        en: en.into(),
    }
}

/// The columns of a dimension at position `i` of a breakdown.
fn dimension_columns(dim: &str, i: usize) -> Vec<Column> {
    let name = Label {
        fr: dimension_name(dim, Locale::Fr),
        en: dimension_name(dim, Locale::En),
    };
    let required = |pattern: Option<&str>| match pattern {
        Some(p) => json!({"required": true, "pattern": p}),
        None => json!({"required": true}),
    };
    let period = |kind: FieldType, tag: &str, fr: &str, en: &str, source: Source| Column {
        name: dim.to_string(),
        hxl: tag.to_string(),
        kind,
        title: name.clone(),
        description: both(fr, en),
        constraints: match kind {
            FieldType::Text => required(Some("[0-9]{4}Q[1-4]")),
            _ => required(None),
        },
        key: true,
        source,
    };
    match dim {
        YEAR => {
            return vec![period(
                FieldType::Year,
                "#date+year",
                "Année civile (AAAA).",
                "Calendar year (YYYY).",
                Source::Code(i),
            )];
        }
        QUARTER => {
            return vec![period(
                FieldType::Text,
                "#date+quarter",
                "Trimestre civil, écrit AAAAQn (2019Q3) comme les lecteurs HXL l'attendent ; le site l'écrit 2019-Q3.",
                "Calendar quarter, written YYYYQn (2019Q3) as HXL readers expect; the site writes 2019-Q3.",
                Source::Quarter(i),
            )];
        }
        MONTH => {
            return vec![period(
                FieldType::YearMonth,
                "#date+month",
                "Mois (AAAA-MM).",
                "Month (YYYY-MM).",
                Source::Code(i),
            )];
        }
        THROUGH_MONTH => {
            return vec![period(
                FieldType::YearMonth,
                "#date+end+month",
                "Mois (AAAA-MM) à la fin duquel le cumul est compté, depuis le début du programme.",
                "Month (YYYY-MM) at whose end the cumulative count is taken, since the programme began.",
                Source::Code(i),
            )];
        }
        _ => {}
    }
    let (stem, tag) = dimension_tag(dim);
    let (code_name, pattern, code_fr, code_en) = match dim {
        REGION => (
            "adm1_code".to_string(),
            Some("ML[0-9]{2}"),
            "P-code de la région (admin 1, limites de 2019).",
            "P-code of the region (admin 1, 2019 boundaries).",
        ),
        CERCLE => (
            "adm2_code".to_string(),
            Some("ML[0-9]{4}"),
            "P-code du cercle (admin 2, limites de 2019).",
            "P-code of the cercle (admin 2, 2019 boundaries).",
        ),
        SITE => (
            "site_code".to_string(),
            None,
            "Code du site d'activité dans le registre du programme (un lieu d'accueil, jamais un domicile).",
            "Code of the activity site in the programme's register (a facility, never a home).",
        ),
        COUNTRY_FROM => (
            "country_code".to_string(),
            Some("[A-Z]{3}"),
            "Code ISO 3166-1 alpha-3 du pays de provenance.",
            "ISO 3166-1 alpha-3 code of the country of departure.",
        ),
        _ => (
            stem.clone(),
            None,
            "Code de la valeur (liste de codes du contrat des extraits).",
            "Code of the value (code list of the extract contract).",
        ),
    };
    let geographic = matches!(dim, REGION | CERCLE | SITE | COUNTRY_FROM);
    let label_name = |l: Locale| {
        if geographic {
            format!("{stem}_name_{}", l.code())
        } else {
            format!("{stem}_{}", l.code())
        }
    };
    let mut out = vec![Column {
        name: code_name,
        hxl: format!("{tag}+code"),
        kind: FieldType::Text,
        title: both(format!("{} (code)", name.fr), format!("{} (code)", name.en)),
        description: both(code_fr, code_en),
        constraints: required(pattern),
        key: true,
        source: Source::Code(i),
    }];
    for l in Locale::ALL {
        let (fr_lang, en_lang) = match l {
            Locale::Fr => ("en français", "in French"),
            Locale::En => ("en anglais", "in English"),
        };
        out.push(Column {
            name: label_name(l),
            hxl: format!("{tag}+name+i_{}", l.code()),
            kind: FieldType::Text,
            title: both(
                format!("{} ({fr_lang})", name.fr),
                format!("{} ({en_lang})", name.en),
            ),
            description: both(
                format!("Nom {fr_lang}, tiré des données de référence du programme."),
                format!("Name {en_lang}, from the programme's reference data."),
            ),
            constraints: json!({}),
            key: false,
            source: Source::Label(i, l),
        });
    }
    out
}

/// Every column of a table, in file order.
fn columns(m: &MeasureInfo, table: &Table, threshold: u32) -> Vec<Column> {
    let mut out: Vec<Column> = table
        .breakdown
        .iter()
        .enumerate()
        .flat_map(|(i, d)| dimension_columns(d, i))
        .collect();
    let (kind, constraints) = if m.statistic.is_count() && !is_money(m) {
        (FieldType::Integer, json!({"minimum": 0}))
    } else {
        (FieldType::Number, json!({"minimum": 0}))
    };
    out.push(Column {
        name: m.id.clone(),
        hxl: value_tag(m),
        kind,
        title: m.title.clone(),
        description: both(
            format!(
                "{} Unité : {}. Vide quand la cellule n'est pas publiée (status = suppressed) : ce n'est pas zéro.",
                m.description.fr, m.unit.fr
            ),
            format!(
                "{} Unit: {}. Empty when the cell is not published (status = suppressed): it is not zero.",
                m.description.en, m.unit.en
            ),
        ),
        constraints,
        key: false,
        source: Source::Value,
    });
    out.push(Column {
        name: "status".into(),
        hxl: "#meta+status".into(),
        kind: FieldType::Text,
        title: both("Statut de la cellule", "Cell status"),
        description: both(
            format!(
                "published : la valeur est publiée ; suppressed : non publiée pour protéger les personnes comptées (un effectif inférieur à {threshold}, ou une cellule qui le révélerait)."
            ),
            format!(
                "published: the value is published; suppressed: not published, to protect the people counted (a count below {threshold}, or a cell that would reveal one)."
            ),
        ),
        constraints: json!({"required": true, "enum": ["published", "suppressed"]}),
        key: false,
        source: Source::Status,
    });
    out
}

/// A dimension code's label in a language, from the reference data (sites: the
/// register the snapshot carries).
fn label(snapshot: &Snapshot, dim: &str, code: &str, l: Locale) -> String {
    if dim == SITE {
        return snapshot
            .sites
            .get(code)
            .map_or_else(|| code.to_string(), |s| l.pick(&s.fr, &s.en).to_string());
    }
    value_label(dim, code, l)
}

/// A published value as the file writes it: an amount of money to the cent (as the
/// IATI file does), a whole count, or a mean to one decimal (as the pages show it).
fn number(value: f64, statistic: Statistic, money: bool) -> String {
    if money {
        format!("{value:.2}")
    } else if statistic.is_count() {
        format!("{}", value.round() as i64)
    } else {
        format!("{value:.1}")
    }
}

/// A file of the set.
#[derive(Debug, Clone)]
pub struct OpenFile {
    /// The file name (`returns_by_region.csv`, `datapackage.json`).
    pub name: String,
    pub bytes: Vec<u8>,
    pub title: Label,
    /// Data rows (CSV only).
    pub rows: usize,
}

/// A table as CSV: the header row, the hashtag row, then one row per published cell,
/// sorted by the codes of its dimensions.
pub fn table_csv(snapshot: &Snapshot, table: &Table) -> Result<OpenFile, ExportError> {
    let m = snapshot
        .measure(&table.measure)
        .ok_or(ExportError::NotPublished)?;
    let columns = columns(m, table, snapshot.threshold());
    let mut cells: Vec<_> = snapshot
        .cells(&m.id, &table.breakdown)
        .iter()
        // A cell missing a dimension value or holding no figure is not a published
        // figure (an absent combination, not a suppressed one).
        .filter(|c| c.dims.len() == table.breakdown.len() && (c.suppressed || c.value.is_some()))
        .collect();
    let key = |c: &crate::snapshot::Cell| -> Vec<(usize, String)> {
        c.dims
            .iter()
            .zip(&table.breakdown)
            .map(|(v, d)| (natural_rank(d, v).unwrap_or(usize::MAX), v.to_string()))
            .collect()
    };
    cells.sort_by_cached_key(|c| key(c));
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    w.write_record(columns.iter().map(|c| c.name.as_str()))?;
    w.write_record(columns.iter().map(|c| c.hxl.as_str()))?;
    for cell in &cells {
        let row: Vec<String> = columns
            .iter()
            .map(|c| match c.source {
                Source::Code(i) => cell.dims[i].to_string(),
                Source::Quarter(i) => cell.dims[i].replace("-Q", "Q"),
                Source::Label(i, l) => label(snapshot, &table.breakdown[i], &cell.dims[i], l),
                Source::Value => match (cell.suppressed, cell.value) {
                    (false, Some(v)) => number(v, m.statistic, is_money(m)),
                    _ => String::new(),
                },
                Source::Status => if cell.suppressed {
                    "suppressed"
                } else {
                    "published"
                }
                .to_string(),
            })
            .collect();
        w.write_record(&row)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| ExportError::Csv(e.into_error().into()))?;
    Ok(OpenFile {
        name: table.file(),
        bytes,
        title: table_title(m, table),
        rows: cells.len(),
    })
}

/// A table's title in both languages, or `None` when the snapshot lacks its measure.
pub fn title(snapshot: &Snapshot, table: &Table) -> Option<Label> {
    snapshot
        .measure(&table.measure)
        .map(|m| table_title(m, table))
}

/// Whether a table's figures count people (and so are served only when recorded).
pub fn counts_people(snapshot: &Snapshot, table: &Table) -> bool {
    snapshot
        .measure(&table.measure)
        .is_none_or(|m| m.sensitivity.counts_people())
}

/// "Retours assistés par région et cercle" / "Assisted returns by region and cercle".
fn table_title(m: &MeasureInfo, table: &Table) -> Label {
    let names = |l: Locale| -> Vec<String> {
        table
            .breakdown
            .iter()
            .map(|d| dimension_name(d, l).to_lowercase())
            .collect()
    };
    let join = |parts: Vec<String>, and: &str| match parts.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} {and} {last}", rest.join(", ")),
    };
    if table.breakdown.is_empty() {
        both(
            format!("{} — total", m.title.fr),
            format!("{} — total", m.title.en),
        )
    } else {
        both(
            format!("{} par {}", m.title.fr, join(names(Locale::Fr), "et")),
            format!("{} by {}", m.title.en, join(names(Locale::En), "and")),
        )
    }
}

/// The open data of a snapshot: the CSV files, then `datapackage.json`.
#[derive(Debug, Clone)]
pub struct OpenData {
    pub tables: Vec<OpenFile>,
    pub package: OpenFile,
}

impl OpenData {
    /// Every file: the tables, then the package.
    pub fn files(&self) -> impl Iterator<Item = &OpenFile> {
        self.tables.iter().chain(std::iter::once(&self.package))
    }

    pub fn file(&self, name: &str) -> Option<&OpenFile> {
        self.files().find(|f| f.name == name)
    }
}

/// The text that says what the set is and how to read it, in one language.
fn package_text(
    snapshot: &Snapshot,
    programme: &Programme,
    audience: Audience,
    l: Locale,
) -> String {
    let t = snapshot.threshold();
    let what = programme
        .tagline
        .as_ref()
        .map(|t| format!("{}. ", l.pick(&t.fr, &t.en)))
        .unwrap_or_default();
    let date = snapshot
        .data_as_of()
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "–".into());
    let set = match (audience, l) {
        (Audience::Public, Locale::Fr) => "les tableaux que montrent les pages publiques du site",
        (Audience::Public, Locale::En) => "the tables the site's public pages show",
        (Audience::Donor, Locale::Fr) => "les tableaux que montrent les pages ouvertes au bailleur",
        (Audience::Donor, Locale::En) => "the tables the pages open to the donor show",
    };
    let note = snapshot.note(l.code());
    match l {
        Locale::Fr => format!(
            "{what}Chiffres agrégés et protégés publiés par reintegra : {set}, tirés de la version publiée {id} (données au {date}). Aucune donnée individuelle n'est publiée.\n\n{note}\n\nUne cellule de moins de {t} n'est pas publiée : sa valeur est vide et sa colonne status vaut « suppressed » ; ce n'est pas zéro.\n\nChaque fichier CSV (UTF-8, virgules) porte en ligne 1 les noms des colonnes et en ligne 2 les hashtags HXL (Humanitarian Exchange Language) ; les données commencent en ligne 3 (le dialecte de chaque ressource le dit : headerRows [1], commentRows [2] ; avec pandas : read_csv(..., skiprows=[1])). Les libellés sont en français et en anglais.",
            id = snapshot.id
        ),
        Locale::En => format!(
            "{what}Aggregated, protected figures published by reintegra: {set}, from the published version {id} (data as of {date}). No individual record is published.\n\n{note}\n\nA cell below {t} is not published: its value is empty and its status column reads \"suppressed\"; it is not zero.\n\nEach CSV file (UTF-8, commas) holds the column names on row 1 and the HXL (Humanitarian Exchange Language) hashtags on row 2; data starts on row 3 (each resource's dialect says so: headerRows [1], commentRows [2]; with pandas: read_csv(..., skiprows=[1])). Labels are in French and English.",
            id = snapshot.id
        ),
    }
}

fn field(c: &Column) -> Value {
    let mut f = serde_json::Map::new();
    f.insert("name".into(), json!(c.name));
    f.insert("type".into(), json!(c.kind.code()));
    f.insert(
        "title".into(),
        json!(format!("{} / {}", c.title.fr, c.title.en)),
    );
    f.insert(
        "description".into(),
        json!(format!(
            "{} HXL : {} — {} HXL: {}",
            c.description.fr, c.hxl, c.description.en, c.hxl
        )),
    );
    f.insert("hxl".into(), json!(c.hxl));
    if c.constraints.as_object().is_some_and(|o| !o.is_empty()) {
        f.insert("constraints".into(), c.constraints.clone());
    }
    Value::Object(f)
}

fn resource(snapshot: &Snapshot, table: &Table, file: &OpenFile) -> Result<Value, ExportError> {
    let m = snapshot
        .measure(&table.measure)
        .ok_or(ExportError::NotPublished)?;
    let columns = columns(m, table, snapshot.threshold());
    let mut schema = serde_json::Map::new();
    schema.insert("$schema".into(), json!(TABLE_SCHEMA));
    schema.insert(
        "fields".into(),
        Value::Array(columns.iter().map(field).collect()),
    );
    schema.insert("missingValues".into(), json!([""]));
    let key: Vec<&str> = columns
        .iter()
        .filter(|c| c.key)
        .map(|c| c.name.as_str())
        .collect();
    if !key.is_empty() {
        schema.insert("primaryKey".into(), json!(key));
    }
    Ok(json!({
        "name": table.name(),
        "type": "table",
        "path": file.name,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "bytes": file.bytes.len(),
        "hash": format!("sha256:{}", hex::encode(Sha256::digest(&file.bytes))),
        "title": format!("{} / {}", file.title.fr, file.title.en),
        "description": format!(
            "{} : {} Unité : {}. — {}: {} Unit: {}.",
            m.title.fr, m.description.fr, m.unit.fr, m.title.en, m.description.en, m.unit.en
        ),
        "dialect": {
            "$schema": DIALECT_SCHEMA,
            "header": true,
            "headerRows": [1],
            "commentRows": [2]
        },
        "schema": Value::Object(schema),
        // The measure and breakdown of the snapshot the rows are the cells of.
        "reintegra": {"measure": table.measure, "breakdown": table.breakdown},
    }))
}

/// The open data of a snapshot for an audience: every table's CSV and the package.
pub fn build(
    snapshot: &Snapshot,
    dashboards: &[Dashboard],
    programme: &Programme,
    audience: Audience,
    licence: &Licence,
) -> Result<OpenData, ExportError> {
    let tables = tables(snapshot, dashboards, audience);
    let mut files = Vec::with_capacity(tables.len());
    let mut resources = Vec::with_capacity(tables.len());
    let mut names = BTreeSet::new();
    for table in &tables {
        let file = table_csv(snapshot, table)?;
        if !names.insert(file.name.clone()) {
            return Err(ExportError::Task(format!(
                "two tables share the file name {}",
                file.name
            )));
        }
        resources.push(resource(snapshot, table, &file)?);
        files.push(file);
    }
    let fr = package_text(snapshot, programme, audience, Locale::Fr);
    let en = package_text(snapshot, programme, audience, Locale::En);
    let tagline = programme.tagline.clone().unwrap_or_else(|| {
        both(
            "Réintégration psychosociale des migrants maliens de retour",
            "Psychosocial reintegration of Malian returned migrants",
        )
    });
    let created = snapshot
        .created_at()
        .map(|c| c.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    let mut about = BTreeMap::new();
    about.insert("snapshot", json!(snapshot.id.to_string()));
    about.insert("set", json!(audience.code()));
    about.insert("threshold", json!(snapshot.threshold()));
    if let Some(d) = snapshot.data_as_of() {
        about.insert("data_as_of", json!(d.format("%Y-%m-%d").to_string()));
    }
    if let Some(v) = snapshot.meta.get("policy_version") {
        about.insert("disclosure_policy_version", json!(v));
    }
    about.insert(
        "title_fr",
        json!(format!("{} — données ouvertes", tagline.fr)),
    );
    about.insert("title_en", json!(format!("{} — open data", tagline.en)));
    about.insert("description_fr", json!(fr));
    about.insert("description_en", json!(en));
    let mut package = json!({
        "$schema": PACKAGE_SCHEMA,
        "name": format!("reintegra-mali-{}", audience.code()),
        "title": format!("{} — données ouvertes / {} — open data", tagline.fr, tagline.en),
        "description": format!("{fr}\n\n---\n\n{en}"),
        "version": snapshot.id.to_string(),
        "keywords": ["Mali", "returned migrants", "migrants de retour", "psychosocial", "HXL"],
        "licenses": [licence.descriptor()],
        "sources": [{
            "title": format!(
                "reintegra — version publiée {id} : cellules agrégées après contrôle de la divulgation / published version {id}: aggregate cells after disclosure control",
                id = snapshot.id
            ),
            "version": snapshot.id.to_string(),
        }, {
            "title": "Extraits anonymisés des dossiers du programme (retours, activités psychosociales, campagnes, formations) livrés par ses partenaires / Anonymised extracts of the programme's records (returns, psychosocial activities, campaigns, trainings) delivered by its partners",
        }],
        "reintegra": about,
        "resources": resources,
    });
    if let (Some(created), Some(o)) = (created, package.as_object_mut()) {
        o.insert("created".into(), json!(created));
    }
    let mut bytes = serde_json::to_vec_pretty(&package)
        .map_err(|e| ExportError::Task(format!("writing {PACKAGE}: {e}")))?;
    bytes.push(b'\n');
    Ok(OpenData {
        tables: files,
        package: OpenFile {
            name: PACKAGE.into(),
            bytes,
            title: both(
                "Description du paquet de données",
                "Data package descriptor",
            ),
            rows: 0,
        },
    })
}

/// One file of the set by name (a table's CSV alone, without building the others;
/// the package with all of them), or `None` for a name the set does not hold.
pub fn file(
    snapshot: &Snapshot,
    dashboards: &[Dashboard],
    programme: &Programme,
    audience: Audience,
    licence: &Licence,
    name: &str,
) -> Result<Option<OpenFile>, ExportError> {
    if name == PACKAGE {
        return Ok(Some(
            build(snapshot, dashboards, programme, audience, licence)?.package,
        ));
    }
    match tables(snapshot, dashboards, audience)
        .into_iter()
        .find(|t| t.file() == name)
    {
        Some(t) => table_csv(snapshot, &t).map(Some),
        None => Ok(None),
    }
}

/// Why the open data of a data folder could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OpenDataError {
    #[error(transparent)]
    Definitions(#[from] crate::definitions::DefinitionErrors),
    #[error(transparent)]
    Definition(#[from] crate::definitions::DefinitionError),
    #[error(transparent)]
    Snapshot(#[from] crate::snapshot::SnapshotError),
    #[error("nothing is published yet in {0}: run the nightly job first")]
    NothingPublished(std::path::PathBuf),
    #[error("the open data could not be made: {0}")]
    Export(#[from] ExportError),
    #[error("writing {path}: {source}")]
    Write {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// The open data of a data folder's current snapshot (what `reintegra report` reads),
/// with the dashboards of `dashboards_dir`.
pub fn for_data_folder(
    data: &std::path::Path,
    dashboards_dir: &std::path::Path,
    audience: Audience,
    licence: &Licence,
) -> Result<OpenData, OpenDataError> {
    let dashboards = crate::definitions::dashboard::load_dir(dashboards_dir)?;
    let programme = Programme::load(dashboards_dir)?;
    let snapshot = Snapshot::load_current(data)?
        .ok_or_else(|| OpenDataError::NothingPublished(data.to_path_buf()))?;
    crate::definitions::dashboard::validate(&dashboards, &snapshot.measures)?;
    Ok(build(
        &snapshot,
        &dashboards,
        &programme,
        audience,
        licence,
    )?)
}

/// Writes the set into `out` (created if needed): each file under a temporary name,
/// then renamed over the old one, `datapackage.json` last. Tables an earlier
/// `datapackage.json` of the folder listed and this set no longer holds are removed.
pub fn write_dir(out: &std::path::Path, data: &OpenData) -> Result<(), OpenDataError> {
    let err = |path: &std::path::Path| {
        let path = path.to_path_buf();
        move |source| OpenDataError::Write { path, source }
    };
    std::fs::create_dir_all(out).map_err(err(out))?;
    let old: Vec<String> = std::fs::read(out.join(PACKAGE))
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| {
            v.get("resources")?.as_array().map(|r| {
                r.iter()
                    .filter_map(|r| r.get("path")?.as_str().map(str::to_string))
                    .collect()
            })
        })
        .unwrap_or_default();
    for file in data.files() {
        let target = out.join(&file.name);
        let temp = out.join(format!(".{}.tmp", file.name));
        std::fs::write(&temp, &file.bytes).map_err(err(&temp))?;
        std::fs::rename(&temp, &target).map_err(err(&target))?;
    }
    for name in old {
        // Only plain names of CSV files this command writes: never a path elsewhere.
        let plain = name.ends_with(".csv")
            && !name.starts_with('.')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        if plain && data.file(&name).is_none() {
            let _ = std::fs::remove_file(out.join(&name));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licences_are_known_ids_or_plain_ids() {
        let l = Licence::parse("cc-by-4.0").unwrap();
        assert_eq!(l.id, "CC-BY-4.0");
        assert_eq!(
            l.path.as_deref(),
            Some("https://creativecommons.org/licenses/by/4.0/")
        );
        assert_eq!(Licence::default(), l);
        let other = Licence::parse("OGL-UK-3.0").unwrap();
        assert_eq!((other.id.as_str(), other.path), ("OGL-UK-3.0", None));
        for bad in ["", "CC BY", "a/b", "<x>", &"x".repeat(65)] {
            assert!(Licence::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tables_are_named_by_measure_and_breakdown() {
        let t = |m: &str, b: &[&str]| Table {
            measure: m.into(),
            breakdown: b.iter().map(|s| s.to_string()).collect(),
        };
        assert_eq!(t("returns", &[]).file(), "returns_total.csv");
        assert_eq!(
            t("returns", &["sex", "age_band"]).file(),
            "returns_by_sex_age_band.csv"
        );
    }

    /// Every hashtag a column of any measure's dimension or value can get is a valid
    /// HXL tag spec (lowercase: `#tag` then `+attribute`s, each a letter then letters,
    /// digits or `_`), and names and tags never repeat within a table.
    #[test]
    fn every_column_gets_a_well_formed_hashtag() {
        let token = |s: &str| {
            s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        };
        let measures = crate::definitions::measure::load_dir(std::path::Path::new("queries"))
            .expect("the repository's measures");
        for m in &measures {
            let info = MeasureInfo::from(m);
            for b in &m.breakdowns {
                let table = Table {
                    measure: m.id.clone(),
                    breakdown: b.clone(),
                };
                let columns = columns(&info, &table, 10);
                let mut names = BTreeSet::new();
                let mut tags = BTreeSet::new();
                for c in &columns {
                    let spec = c.hxl.strip_prefix('#').expect("starts with #");
                    assert!(spec.split('+').all(token), "{}: {}", m.id, c.hxl);
                    assert!(names.insert(c.name.clone()), "{}: {}", m.id, c.name);
                    assert!(tags.insert(c.hxl.clone()), "{}: {}", m.id, c.hxl);
                }
            }
        }
    }
}
