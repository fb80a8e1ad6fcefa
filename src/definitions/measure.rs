//! Measure definitions: the header of each `queries/*.sql` file — id, titles,
//! sensitivity, statistic, dimensions, the breakdowns it publishes, the months of its
//! grid — parsed and checked. The query below the header is the job's business
//! (`measures` runs it); the serving side reads only the header, through the snapshot.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::dimension::{PERIOD, has_reference_list};
use super::{DefinitionError, DefinitionErrors};
use crate::reference::Label;

/// Whether a measure's figures count people (and so must be protected) or are
/// non-person figures (events held, reach estimated by an organiser).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sensitivity {
    Person,
    Aggregate,
}

impl Sensitivity {
    /// Whether the measure's figures count people (and so are protected and audited).
    pub fn counts_people(self) -> bool {
        self == Sensitivity::Person
    }
}

/// How a cell's value is computed from the units in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Statistic {
    /// Distinct `person_ref`: each person once per cell.
    Persons,
    /// Distinct `unit_ref`: attendances, sessions held, events.
    Units,
    /// Sum of `value` (e.g. people reached, as estimated by organisers).
    Sum,
    /// Mean of `value` over the units of the cell (e.g. test scores of people).
    Mean,
}

impl Statistic {
    /// The columns the query must return besides the dimensions.
    pub fn needs(self) -> &'static [&'static str] {
        match self {
            Statistic::Persons => &["person_ref"],
            Statistic::Units => &["unit_ref"],
            Statistic::Sum => &["value"],
            Statistic::Mean => &["value", "person_ref"],
        }
    }

    /// Whether values are whole counts (as opposed to means).
    pub fn is_count(self) -> bool {
        !matches!(self, Statistic::Mean)
    }
}

/// The header of a measure file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    id: String,
    title: Label,
    description: Label,
    unit: Label,
    sensitivity: Sensitivity,
    statistic: Statistic,
    dimensions: Vec<String>,
    breakdowns: Vec<Vec<String>>,
    /// The months the measure's period dimensions span (their grid).
    #[serde(default)]
    months: Option<MonthsDecl>,
    /// The range a mean's values can take (scores: 0 to 100).
    #[serde(default)]
    range: Option<[f64; 2]>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct MonthsDecl {
    from: String,
    #[serde(default)]
    to: Option<String>,
}

/// The months a measure's grid spans: from a declared month to a declared one, or to
/// the month of the data-as-of date when none is declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthRange {
    pub from: crate::domain::Month,
    pub to: Option<crate::domain::Month>,
}

/// A measure, parsed and checked.
#[derive(Debug, Clone)]
pub struct Measure {
    pub id: String,
    pub title: Label,
    pub description: Label,
    pub unit: Label,
    pub sensitivity: Sensitivity,
    pub statistic: Statistic,
    /// Dimension names, in declared order.
    pub dimensions: Vec<String>,
    /// Published breakdowns, each in the order of `dimensions`, without repeats.
    pub breakdowns: Vec<Vec<String>>,
    pub sql: String,
    pub file: PathBuf,
    /// Line of the file where the query starts (1-based).
    pub sql_line: usize,
    /// The months of the period dimensions' grid.
    pub months: Option<MonthRange>,
    /// The values a mean can take.
    pub range: Option<(f64, f64)>,
}

impl Measure {
    /// A breakdown's canonical name: its dimensions joined by commas ("" for the total).
    pub fn breakdown_id(dims: &[String]) -> String {
        dims.join(",")
    }

    /// The declared breakdown made of exactly these dimensions (in any order).
    pub fn find_breakdown(&self, dims: &[&str]) -> Option<&[String]> {
        self.breakdowns
            .iter()
            .find(|b| b.len() == dims.len() && dims.iter().all(|d| b.iter().any(|x| x == d)))
            .map(Vec::as_slice)
    }
}

/// What may be known of a measure outside the job: its header without the query. The
/// snapshot carries it; dashboards are checked against it.
#[derive(Debug, Clone)]
pub struct MeasureInfo {
    pub id: String,
    pub title: Label,
    pub description: Label,
    pub unit: Label,
    pub sensitivity: Sensitivity,
    pub statistic: Statistic,
    pub dimensions: Vec<String>,
    pub breakdowns: Vec<Vec<String>>,
}

impl From<&Measure> for MeasureInfo {
    fn from(m: &Measure) -> Self {
        MeasureInfo {
            id: m.id.clone(),
            title: m.title.clone(),
            description: m.description.clone(),
            unit: m.unit.clone(),
            sensitivity: m.sensitivity,
            statistic: m.statistic,
            dimensions: m.dimensions.clone(),
            breakdowns: m.breakdowns.clone(),
        }
    }
}

impl MeasureInfo {
    /// The declared breakdown made of exactly these dimensions, in canonical order.
    pub fn breakdown(&self, dims: &[&str]) -> Option<&[String]> {
        self.breakdowns
            .iter()
            .find(|b| b.len() == dims.len() && dims.iter().all(|d| b.iter().any(|x| x == d)))
            .map(Vec::as_slice)
    }
}

/// Reads every `*.sql` file of a folder, in name order.
pub fn load_dir(dir: &Path) -> Result<Vec<Measure>, DefinitionErrors> {
    let error = |message: String| {
        DefinitionErrors(vec![DefinitionError {
            file: dir.into(),
            line: 0,
            message,
        }])
    };
    let entries = std::fs::read_dir(dir).map_err(|e| {
        error(format!(
            "cannot read the measures folder ({e}); run from the project folder or pass --queries"
        ))
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(error("no measure (*.sql) in the folder".into()));
    }
    let mut measures = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match std::fs::read_to_string(&path) {
            Ok(text) => match parse(&path, &text) {
                Ok(m) => measures.push(m),
                Err(e) => errors.extend(e.0),
            },
            Err(e) => errors.push(DefinitionError {
                file: path.clone(),
                line: 0,
                message: format!("cannot read: {e}"),
            }),
        }
    }
    for (i, m) in measures.iter().enumerate() {
        if measures[..i].iter().any(|other| other.id == m.id) {
            errors.push(DefinitionError {
                file: m.file.clone(),
                line: 1,
                message: format!("measure id {} is used by another file", m.id),
            });
        }
    }
    if errors.is_empty() {
        Ok(measures)
    } else {
        Err(DefinitionErrors(errors))
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Parses one measure file.
pub fn parse(path: &Path, text: &str) -> Result<Measure, DefinitionErrors> {
    let mut header = String::new();
    let mut header_lines = 0;
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("--") else {
            break;
        };
        header.push_str(rest.strip_prefix(' ').unwrap_or(rest));
        header.push('\n');
        header_lines += 1;
    }
    let sql: String = text
        .lines()
        .skip(header_lines)
        .collect::<Vec<_>>()
        .join("\n");
    let line_of = |needle: &str| {
        header
            .lines()
            .position(|l| l.trim_start().starts_with(needle))
            .map_or(1, |i| i + 1)
    };
    let fail = |line: usize, message: String| DefinitionError {
        file: path.into(),
        line,
        message,
    };
    let parsed: Header = toml::from_str(&header).map_err(|e| {
        let line = e
            .span()
            .map_or(1, |s| header[..s.start].matches('\n').count() + 1);
        DefinitionErrors(vec![fail(line, format!("header: {}", e.message()))])
    })?;
    let mut errors = Vec::new();
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    if !is_identifier(&parsed.id) {
        errors.push(fail(
            line_of("id"),
            "id must be lower-case letters, digits and _".into(),
        ));
    } else if parsed.id != stem {
        errors.push(fail(
            line_of("id"),
            format!("id {} differs from the file name {stem}.sql", parsed.id),
        ));
    }
    let dims_line = line_of("dimensions");
    for (i, d) in parsed.dimensions.iter().enumerate() {
        if !is_identifier(d) {
            errors.push(fail(
                dims_line,
                format!("dimension {d:?} must be lower-case letters, digits and _"),
            ));
        } else if ["person_ref", "unit_ref", "value", "breakdown", "suppressed"]
            .contains(&d.as_str())
        {
            errors.push(fail(
                dims_line,
                format!("{d} is reserved and cannot be a dimension"),
            ));
        } else if parsed.dimensions[..i].contains(d) {
            errors.push(fail(dims_line, format!("dimension {d} is declared twice")));
        }
    }
    let bd_line = line_of("breakdowns");
    let mut breakdowns: Vec<Vec<String>> = Vec::new();
    for b in &parsed.breakdowns {
        if let Some(unknown) = b.iter().find(|d| !parsed.dimensions.contains(d)) {
            errors.push(fail(
                bd_line,
                format!(
                    "breakdown [{}] uses {unknown}, which is not a declared dimension",
                    b.join(", ")
                ),
            ));
            continue;
        }
        // Canonical order: the order of `dimensions`.
        let canonical: Vec<String> = parsed
            .dimensions
            .iter()
            .filter(|d| b.contains(d))
            .cloned()
            .collect();
        if canonical.len() != b.len() {
            errors.push(fail(
                bd_line,
                format!("breakdown [{}] repeats a dimension", b.join(", ")),
            ));
        } else if breakdowns.contains(&canonical) {
            errors.push(fail(
                bd_line,
                format!("breakdown [{}] is declared twice", b.join(", ")),
            ));
        } else {
            breakdowns.push(canonical);
        }
    }
    if parsed.breakdowns.is_empty() {
        errors.push(fail(
            bd_line,
            "a measure publishes at least one breakdown".into(),
        ));
    }
    match (parsed.sensitivity, parsed.statistic) {
        (Sensitivity::Person, Statistic::Sum) => errors.push(fail(
            line_of("statistic"),
            "a person measure counts persons or units, or averages over persons; sums are aggregate figures".into(),
        )),
        (Sensitivity::Aggregate, Statistic::Persons | Statistic::Mean) => errors.push(fail(
            line_of("sensitivity"),
            "a measure that counts or averages over persons has sensitivity \"person\"".into(),
        )),
        _ => {}
    }
    if sql.trim().is_empty() {
        errors.push(fail(
            header_lines + 1,
            "the query is missing after the header".into(),
        ));
    }
    // Every published grid comes from reference lists, never from the data.
    for d in &parsed.dimensions {
        if is_identifier(d) && !has_reference_list(d) {
            errors.push(fail(
                dims_line,
                format!(
                    "dimension {d} has no reference list: add its codes and labels as [{d}] to src/reference/labels.toml"
                ),
            ));
        }
    }
    let months_line = line_of("months");
    let months = match &parsed.months {
        Some(decl) => {
            let from = crate::domain::Month::parse(&decl.from);
            let to = decl.to.as_deref().map(crate::domain::Month::parse);
            match (from, to) {
                (Some(from), None) => Some(MonthRange { from, to: None }),
                (Some(from), Some(Some(to))) if (to.year, to.month) >= (from.year, from.month) => {
                    Some(MonthRange { from, to: Some(to) })
                }
                _ => {
                    errors.push(fail(
                        months_line,
                        "months = { from = \"YYYY-MM\", to = \"YYYY-MM\" } (to optional, not before from)".into(),
                    ));
                    None
                }
            }
        }
        None => None,
    };
    if months.is_none()
        && parsed.months.is_none()
        && parsed
            .dimensions
            .iter()
            .any(|d| PERIOD.contains(&d.as_str()))
    {
        errors.push(fail(
            dims_line,
            "a measure with period dimensions declares the months of its grid: months = { from = \"YYYY-MM\" }".into(),
        ));
    }
    let range = match (parsed.range, parsed.statistic) {
        (Some([lo, hi]), Statistic::Mean) if lo < hi => Some((lo, hi)),
        (Some(_), Statistic::Mean) => {
            errors.push(fail(
                line_of("range"),
                "range = [low, high] with low < high".into(),
            ));
            None
        }
        (Some(_), _) => {
            errors.push(fail(
                line_of("range"),
                "only a mean declares a range".into(),
            ));
            None
        }
        (None, _) => None,
    };
    if !errors.is_empty() {
        return Err(DefinitionErrors(errors));
    }
    Ok(Measure {
        id: parsed.id,
        title: parsed.title,
        description: parsed.description,
        unit: parsed.unit,
        sensitivity: parsed.sensitivity,
        statistic: parsed.statistic,
        dimensions: parsed.dimensions,
        breakdowns,
        sql,
        file: path.into(),
        sql_line: header_lines + 1,
        months,
        range,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "-- id = \"demo\"
-- title = { fr = \"Démo\", en = \"Demo\" }
-- description = { fr = \"d\", en = \"d\" }
-- unit = { fr = \"personnes\", en = \"people\" }
-- sensitivity = \"person\"
-- statistic = \"persons\"
-- dimensions = [\"region\", \"sex\"]
-- breakdowns = [[], [\"sex\", \"region\"]]
SELECT person_ref, region_pcode AS region, sex FROM returns
";

    #[test]
    fn a_measure_file_parses_with_canonical_breakdowns() {
        let m = parse(Path::new("queries/demo.sql"), GOOD).unwrap();
        assert_eq!(
            m.breakdowns,
            vec![vec![], vec!["region".to_string(), "sex".to_string()]]
        );
        assert_eq!(m.sql_line, 9);
        assert!(m.find_breakdown(&["sex", "region"]).is_some());
        assert!(m.find_breakdown(&["sex"]).is_none());
    }

    #[test]
    fn definition_errors_name_file_and_line() {
        let bad = GOOD.replace("[\"sex\", \"region\"]", "[\"sex\", \"district\"]");
        let err = parse(Path::new("queries/demo.sql"), &bad).unwrap_err();
        assert_eq!(
            err.to_string(),
            "queries/demo.sql:8: breakdown [sex, district] uses district, which is not a declared dimension"
        );
        let bad = GOOD.replace("statistic = \"persons\"", "statistic = \"median\"");
        let err = parse(Path::new("queries/demo.sql"), &bad).unwrap_err();
        assert!(
            err.to_string().starts_with("queries/demo.sql:6: header:"),
            "{err}"
        );
        let err = parse(Path::new("queries/other.sql"), GOOD).unwrap_err();
        assert!(
            err.to_string().contains("differs from the file name"),
            "{err}"
        );
    }
}
