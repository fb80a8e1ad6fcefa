//! The results framework (`dashboards/_results.toml`): the project's results chain —
//! impact, outcomes, outputs under an outcome — in French and English, and under each
//! outcome or output its indicators: the published cell (or the survey values entered
//! in the file) that measures it, its baseline, its targets per quarter and at the end
//! of the project, its means of verification, the PONAM axis it serves and the
//! disaggregations it must report; plus the rule that turns a value and a target into a
//! status.
//!
//! Checked against the measures (every measure, filter and disaggregation must be
//! published), the project's dates (every target and survey value falls inside them)
//! and the PONAM axes of the dashboards; problems name the file and the line. Nothing
//! here reads data: `present::results` reads the figures.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

use super::{DefinitionError, DefinitionErrors, MeasureInfo, dimension};
use crate::reference::Label;

/// The file's name inside the dashboards folder.
pub const FILE: &str = "_results.toml";

/// The key of the end-of-project target.
pub const END: &str = "end";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    pub project: Project,
    pub status: StatusRule,
    pub impact: Statement,
    pub outcomes: Vec<Outcome>,
    /// The file read (for problems' locations).
    #[serde(skip)]
    pub file: PathBuf,
    /// The PONAM axes' names, from the dashboards that declare them (`axes`).
    #[serde(skip)]
    pub axes: BTreeMap<String, Label>,
}

/// The project's dates: targets and survey values fall between them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    #[serde(deserialize_with = "date")]
    pub start: NaiveDate,
    #[serde(deserialize_with = "date")]
    pub end: NaiveDate,
}

fn date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    let s = String::deserialize(d)?;
    NaiveDate::parse_from_str(&s, "%Y-%m-%d")
        .map_err(|_| serde::de::Error::custom(format!("{s:?} is not a date (YYYY-MM-DD)")))
}

/// How a value and a target make a status.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusRule {
    /// Share of the period's target from which an indicator is on track (below: behind).
    pub on_track_from: f64,
    /// Share of the period's target from which it is achieved (1 = the target itself).
    #[serde(default = "one")]
    pub achieved_from: f64,
}

fn one() -> f64 {
    1.0
}

/// The impact: a statement with no indicator of its own.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    pub id: String,
    pub text: Label,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    pub id: String,
    pub text: Label,
    #[serde(default)]
    pub indicators: Vec<ResultIndicator>,
    #[serde(default)]
    pub outputs: Vec<Output>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Output {
    pub id: String,
    pub text: Label,
    #[serde(default)]
    pub indicators: Vec<ResultIndicator>,
}

/// Which published cell gives an indicator's value for a quarter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reading {
    /// The quarter's cell (`quarter` dimension): what happened in the quarter; targets
    /// are per quarter.
    #[default]
    Quarter,
    /// The cumulative cell at the end of the quarter's last month (`through_month`
    /// dimension): targets are milestones.
    ThroughMonth,
}

impl Reading {
    pub fn dimension(self) -> &'static str {
        match self {
            Reading::Quarter => dimension::QUARTER,
            Reading::ThroughMonth => dimension::THROUGH_MONTH,
        }
    }
}

/// Where values come from when no measure gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Entered in the file per quarter (`values`): survey results, not extract counts.
    Manual,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub value: f64,
    /// When it was measured (`YYYY-MM-DD`, `YYYY-MM` or a quarter), as written.
    pub date: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultIndicator {
    pub id: String,
    pub text: Label,
    /// The measure whose published cell is the value (or `source = "manual"`).
    #[serde(default)]
    pub measure: Option<String>,
    #[serde(default)]
    pub source: Option<Source>,
    /// Dimension values fixed for the cell (e.g. `audience = "all"`).
    #[serde(default)]
    pub filters: BTreeMap<String, String>,
    /// Which cell gives a quarter's value (default: the quarter's).
    #[serde(default)]
    pub breakdown: Reading,
    pub unit: Label,
    pub baseline: Baseline,
    /// Quarter (`2019-Q3`) or `end` → target.
    #[serde(default)]
    pub targets: BTreeMap<String, f64>,
    /// Survey values per quarter, for a manual indicator only.
    #[serde(default)]
    pub values: BTreeMap<String, f64>,
    pub verification: Label,
    pub ponam_axis: String,
    /// Dimensions the indicator's published cells are reported by.
    #[serde(default)]
    pub disaggregations: Vec<String>,
}

impl ResultIndicator {
    /// Filters as (dimension, value) pairs.
    pub fn fixed(&self) -> Vec<(String, String)> {
        self.filters
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    pub fn end_target(&self) -> Option<f64> {
        self.targets.get(END).copied()
    }
}

/// A calendar quarter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    pub year: i32,
    /// 1 to 4.
    pub q: u32,
}

impl Quarter {
    /// `YYYY-Qn`, exactly.
    pub fn parse(code: &str) -> Option<Quarter> {
        let (year, q) = code.split_once("-Q")?;
        if year.len() != 4 || q.len() != 1 {
            return None;
        }
        let (year, q) = (year.parse().ok()?, q.parse().ok()?);
        (1..=4).contains(&q).then_some(Quarter { year, q })
    }

    pub fn of(date: NaiveDate) -> Quarter {
        Quarter {
            year: date.year(),
            q: date.month0() / 3 + 1,
        }
    }

    pub fn code(self) -> String {
        format!("{:04}-Q{}", self.year, self.q)
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.q * 3 - 2, 1).expect("a quarter's first day")
    }

    pub fn last_day(self) -> NaiveDate {
        self.next()
            .first_day()
            .pred_opt()
            .expect("a quarter's last day")
    }

    pub fn next(self) -> Quarter {
        if self.q == 4 {
            Quarter {
                year: self.year + 1,
                q: 1,
            }
        } else {
            Quarter {
                year: self.year,
                q: self.q + 1,
            }
        }
    }
}

impl Project {
    /// The quarters the project touches, in order.
    pub fn quarters(&self) -> Vec<Quarter> {
        let (mut q, last) = (Quarter::of(self.start), Quarter::of(self.end));
        let mut out = Vec::new();
        while q <= last {
            out.push(q);
            q = q.next();
        }
        out
    }

    /// Days of the project, both ends included.
    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days() + 1
    }

    /// Days of the project inside a quarter.
    pub fn days_in(&self, q: Quarter) -> i64 {
        let (a, b) = (q.first_day().max(self.start), q.last_day().min(self.end));
        ((b - a).num_days() + 1).max(0)
    }

    /// Days of the project up to the end of a quarter.
    pub fn days_through(&self, q: Quarter) -> i64 {
        let b = q.last_day().min(self.end);
        ((b - self.start).num_days() + 1).clamp(0, self.days())
    }

    /// The last day of a quarter the project counts (its end, in its last quarter).
    pub fn last_day_in(&self, q: Quarter) -> NaiveDate {
        q.last_day().min(self.end)
    }
}

impl Framework {
    /// Reads `_results.toml` of a dashboards folder.
    pub fn load(dashboards: &Path) -> Result<Framework, DefinitionError> {
        let path = dashboards.join(FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| DefinitionError {
            file: path.clone(),
            line: 0,
            message: format!("cannot read the results framework: {e}"),
        })?;
        Framework::parse(&path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Framework, DefinitionError> {
        let mut f: Framework = toml::from_str(text).map_err(|e| DefinitionError {
            file: path.into(),
            line: e
                .span()
                .map_or(1, |s| text[..s.start].matches('\n').count() + 1),
            message: e.message().to_string(),
        })?;
        f.file = path.into();
        Ok(f)
    }

    /// Every indicator, outcomes' before their outputs'.
    pub fn indicators(&self) -> impl Iterator<Item = &ResultIndicator> {
        self.outcomes.iter().flat_map(|o| {
            o.indicators
                .iter()
                .chain(o.outputs.iter().flat_map(|p| p.indicators.iter()))
        })
    }

    /// Measures the framework reads.
    pub fn measures(&self) -> impl Iterator<Item = &str> {
        self.indicators().filter_map(|i| i.measure.as_deref())
    }

    /// Checks the framework against the measures and the PONAM axes (codes).
    pub fn validate(
        &self,
        measures: &[MeasureInfo],
        axes: &[&str],
    ) -> Result<(), DefinitionErrors> {
        let text = std::fs::read_to_string(&self.file).unwrap_or_default();
        self.validate_text(&text, measures, axes)
    }

    fn validate_text(
        &self,
        text: &str,
        measures: &[MeasureInfo],
        axes: &[&str],
    ) -> Result<(), DefinitionErrors> {
        let mut errors = Vec::new();
        let mut fail = |anchor: &str, needle: &str, message: String| {
            errors.push(DefinitionError {
                file: self.file.clone(),
                line: line_of(text, anchor, needle),
                message,
            });
        };
        let p = &self.project;
        if p.end < p.start {
            fail(
                "",
                "end",
                format!(
                    "the project ends ({}) before it starts ({})",
                    p.end, p.start
                ),
            );
        }
        let rule = self.status;
        if !(rule.on_track_from > 0.0 && rule.on_track_from <= rule.achieved_from) {
            fail(
                "",
                "on_track_from",
                "status: on_track_from must be above 0 and at most achieved_from".into(),
            );
        }
        let mut ids: Vec<&str> = vec![self.impact.id.as_str()];
        for o in &self.outcomes {
            ids.push(&o.id);
            ids.extend(o.indicators.iter().map(|i| i.id.as_str()));
            for out in &o.outputs {
                ids.push(&out.id);
                ids.extend(out.indicators.iter().map(|i| i.id.as_str()));
            }
        }
        for (i, id) in ids.iter().enumerate() {
            if !is_id(id) {
                fail(
                    id,
                    "id",
                    format!("id {id:?} must be letters, digits, '.' and '-'"),
                );
            }
            if ids[..i].contains(id) && !ids[i + 1..].contains(id) {
                fail(id, "id", format!("id {id} is used twice"));
            }
        }
        if self.outcomes.is_empty() {
            fail("", "impact", "the framework has no outcome".into());
        }
        for ind in self.indicators() {
            let at = ind.id.as_str();
            if !axes.contains(&ind.ponam_axis.as_str()) {
                fail(
                    at,
                    "ponam_axis",
                    format!(
                        "unknown PONAM axis {} (the PONAM dashboard's axes: {})",
                        ind.ponam_axis,
                        axes.join(", ")
                    ),
                );
            }
            for key in ind.targets.keys().chain(ind.values.keys()) {
                if key == END && ind.targets.contains_key(END) {
                    continue;
                }
                match Quarter::parse(key) {
                    None => fail(
                        at,
                        key,
                        format!("{key:?} is not a quarter (YYYY-Qn) or \"end\""),
                    ),
                    Some(q) if p.days_in(q) == 0 => fail(
                        at,
                        key,
                        format!("{key} is outside the project ({} – {})", p.start, p.end),
                    ),
                    Some(_) => {}
                }
            }
            if ind.values.contains_key(END) {
                fail(
                    at,
                    "values",
                    "a survey value belongs to a quarter, not to \"end\"".into(),
                );
            }
            match (&ind.measure, ind.source) {
                (Some(_), Some(_)) => fail(
                    at,
                    "source",
                    "an indicator has a measure or source = \"manual\", not both".into(),
                ),
                (None, None) => fail(
                    at,
                    "id",
                    format!("indicator {at} needs a measure or source = \"manual\""),
                ),
                (None, Some(Source::Manual)) => {
                    if !ind.filters.is_empty() {
                        fail(
                            at,
                            "filters",
                            "a manual indicator has no measure to filter".into(),
                        );
                    }
                    if !ind.disaggregations.is_empty() {
                        fail(
                            at,
                            "disaggregations",
                            "a manual indicator has no published cells to disaggregate: report them with the survey".into(),
                        );
                    }
                }
                (Some(measure), None) => {
                    if !ind.values.is_empty() {
                        fail(at, "values", "values are entered for manual indicators only; this one reads its measure".into());
                    }
                    let Some(m) = measures.iter().find(|m| &m.id == measure) else {
                        fail(at, "measure", format!("unknown measure {measure}"));
                        continue;
                    };
                    let period = ind.breakdown.dimension();
                    let mut dims: Vec<&str> = ind.filters.keys().map(String::as_str).collect();
                    for d in &dims {
                        if !m.dimensions.iter().any(|x| x == d) {
                            fail(at, d, format!("measure {} has no dimension {d}", m.id));
                        }
                    }
                    dims.push(period);
                    if m.breakdown(&dims).is_none() {
                        fail(
                            at,
                            "measure",
                            format!(
                                "measure {} does not publish the breakdown [{}]",
                                m.id,
                                dims.join(", ")
                            ),
                        );
                    }
                    dims.pop();
                    for dis in &ind.disaggregations {
                        if !m.dimensions.iter().any(|x| x == dis) {
                            fail(
                                at,
                                "disaggregations",
                                format!(
                                    "measure {} has no dimension {dis} to disaggregate by",
                                    m.id
                                ),
                            );
                            continue;
                        }
                        let mut by = dims.clone();
                        by.push(dis);
                        let alone = m.breakdown(&by).is_some();
                        by.push(period);
                        if !alone && m.breakdown(&by).is_none() {
                            by.pop();
                            fail(
                                at,
                                "disaggregations",
                                format!(
                                    "measure {} publishes no breakdown by {dis} for this indicator ([{}], with or without {period})",
                                    m.id,
                                    by.join(", ")
                                ),
                            );
                        }
                    }
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(DefinitionErrors(errors))
        }
    }
}

/// Letters, digits, `.`, `-` and `_` (ids such as `op1.2`).
fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// The line of the first line mentioning `needle` after the line declaring the id
/// `anchor` (the whole file for an empty anchor).
fn line_of(text: &str, anchor: &str, needle: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let start = if anchor.is_empty() {
        0
    } else {
        let quoted = format!("\"{anchor}\"");
        lines
            .iter()
            .position(|l| l.trim_start().starts_with("id") && l.contains(&quoted))
            .unwrap_or(0)
    };
    lines
        .iter()
        .enumerate()
        .skip(start)
        .find(|(_, l)| l.contains(needle))
        .map_or(start + 1, |(i, _)| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definitions::{Sensitivity, Statistic};

    fn measure(id: &str, dims: &[&str], breakdowns: &[&[&str]]) -> MeasureInfo {
        let label = Label {
            fr: id.into(),
            en: id.into(),
        };
        MeasureInfo {
            id: id.into(),
            title: label.clone(),
            description: label.clone(),
            unit: label,
            sensitivity: Sensitivity::Person,
            statistic: Statistic::Persons,
            dimensions: dims.iter().map(|d| d.to_string()).collect(),
            breakdowns: breakdowns
                .iter()
                .map(|b| b.iter().map(|d| d.to_string()).collect())
                .collect(),
        }
    }

    fn measures() -> Vec<MeasureInfo> {
        vec![
            measure(
                "beneficiaries",
                &["region", "quarter", "activity"],
                &[
                    &[],
                    &["quarter"],
                    &["region"],
                    &["quarter", "region"],
                    &["quarter", "activity"],
                ],
            ),
            measure(
                "beneficiaries_cumulative",
                &["through_month"],
                &[&[], &["through_month"]],
            ),
        ]
    }

    const GOOD: &str = r#"
[project]
start = "2019-03-27"
end = "2020-03-26"

[status]
on_track_from = 0.9

[impact]
id = "impact"
text = { fr = "Impact", en = "Impact" }

[[outcomes]]
id = "oc1"
text = { fr = "Effet", en = "Outcome" }

[[outcomes.indicators]]
id = "oc1.wellbeing"
text = { fr = "Bien-être", en = "Well-being" }
source = "manual"
unit = { fr = "%", en = "%" }
baseline = { value = 30, date = "2019-04" }
targets = { "2019-Q4" = 50, end = 60 }
values = { "2019-Q3" = 41 }
verification = { fr = "Enquête", en = "Survey" }
ponam_axis = "reinsertion"

[[outcomes.outputs]]
id = "op1.1"
text = { fr = "Produit", en = "Output" }

[[outcomes.outputs.indicators]]
id = "op1.1.reached"
text = { fr = "Bénéficiaires", en = "Beneficiaries" }
measure = "beneficiaries_cumulative"
breakdown = "through_month"
unit = { fr = "personnes", en = "people" }
baseline = { value = 0, date = "2019-03-27" }
targets = { "2019-Q2" = 1200, end = 5000 }
verification = { fr = "Registres", en = "Registers" }
ponam_axis = "reinsertion"

[[outcomes.outputs.indicators]]
id = "op1.1.quarter"
text = { fr = "Par trimestre", en = "Per quarter" }
measure = "beneficiaries"
unit = { fr = "personnes", en = "people" }
baseline = { value = 0, date = "2019-03-27" }
targets = { "2019-Q3" = 1500 }
verification = { fr = "Registres", en = "Registers" }
ponam_axis = "reinsertion"
disaggregations = ["region"]
"#;

    fn check(text: &str) -> Result<Framework, Vec<(usize, String)>> {
        let f = Framework::parse(Path::new("_results.toml"), text)
            .map_err(|e| vec![(e.line, e.message)])?;
        f.validate_text(
            text,
            &measures(),
            &["protection", "reinsertion", "knowledge"],
        )
        .map_err(|e| {
            e.0.into_iter()
                .map(|e| (e.line, e.message))
                .collect::<Vec<_>>()
        })?;
        Ok(f)
    }

    fn line_with(text: &str, needle: &str) -> usize {
        text.lines().position(|l| l.contains(needle)).unwrap() + 1
    }

    #[test]
    fn a_well_formed_framework_is_read_with_its_chain() {
        let f = check(GOOD).unwrap();
        assert_eq!(f.outcomes[0].outputs[0].indicators.len(), 2);
        assert_eq!(f.indicators().count(), 3);
        assert_eq!(
            f.measures().collect::<Vec<_>>(),
            ["beneficiaries_cumulative", "beneficiaries"]
        );
        assert_eq!(f.indicators().next().unwrap().source, Some(Source::Manual));
        assert_eq!(f.project.quarters().len(), 5);
        assert_eq!(f.project.days_in(Quarter::parse("2019-Q1").unwrap()), 5);
    }

    #[test]
    fn an_unknown_measure_is_reported_with_its_line() {
        let bad = GOOD.replace(
            "measure = \"beneficiaries_cumulative\"",
            "measure = \"beneficaries\"",
        );
        let errors = check(&bad).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].0, line_with(&bad, "\"beneficaries\""));
        assert!(errors[0].1.contains("unknown measure beneficaries"));
    }

    #[test]
    fn filters_and_disaggregations_must_be_published() {
        let bad = GOOD
            .replace(
                "disaggregations = [\"region\"]",
                "disaggregations = [\"sex\"]",
            )
            .replace(
                "measure = \"beneficiaries\"\n",
                "measure = \"beneficiaries\"\nfilters = { activity = \"theatre\", site = \"x\" }\n",
            );
        let errors = check(&bad).unwrap_err();
        let text: Vec<&str> = errors.iter().map(|e| e.1.as_str()).collect();
        assert!(
            text.iter().any(|e| e.contains("no dimension site")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|e| e.contains("does not publish the breakdown")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|e| e.contains("no dimension sex to disaggregate")),
            "{text:?}"
        );
        let dis = errors.iter().find(|e| e.1.contains("sex")).unwrap();
        assert_eq!(dis.0, line_with(&bad, "disaggregations = [\"sex\"]"));
        // A filter the measure publishes with the quarter is fine.
        let fine = GOOD
            .replace(
                "measure = \"beneficiaries\"\n",
                "measure = \"beneficiaries\"\nfilters = { activity = \"theatre\" }\n",
            )
            .replace("disaggregations = [\"region\"]", "disaggregations = []");
        check(&fine).unwrap();
    }

    #[test]
    fn targets_outside_the_project_are_refused() {
        let bad = GOOD.replace("\"2019-Q2\" = 1200", "\"2020-Q2\" = 1200");
        let errors = check(&bad).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].1.contains("2020-Q2 is outside the project"),
            "{errors:?}"
        );
        assert_eq!(errors[0].0, line_with(&bad, "2020-Q2"));
        let bad = GOOD.replace("\"2019-Q3\" = 41", "\"2018-Q4\" = 41");
        assert!(
            check(&bad).unwrap_err()[0]
                .1
                .contains("outside the project")
        );
        let bad = GOOD.replace("\"2019-Q2\" = 1200", "\"2019-06\" = 1200");
        assert!(check(&bad).unwrap_err()[0].1.contains("not a quarter"));
    }

    #[test]
    fn duplicate_ids_and_unknown_axes_are_reported() {
        let bad = GOOD.replace("id = \"op1.1.quarter\"", "id = \"op1.1.reached\"");
        let errors = check(&bad).unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e.1 == "id op1.1.reached is used twice"),
            "{errors:?}"
        );
        let bad = GOOD.replacen("ponam_axis = \"reinsertion\"", "ponam_axis = \"return\"", 1);
        let errors = check(&bad).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].1.contains("unknown PONAM axis return"),
            "{errors:?}"
        );
        assert_eq!(errors[0].0, line_with(&bad, "\"return\""));
    }

    #[test]
    fn manual_indicators_keep_to_survey_values() {
        let bad = GOOD.replace(
            "source = \"manual\"",
            "source = \"manual\"\ndisaggregations = [\"sex\"]",
        );
        assert!(
            check(&bad).unwrap_err()[0]
                .1
                .contains("report them with the survey")
        );
        let bad = GOOD.replace("source = \"manual\"", "source = \"survey\"");
        let errors = check(&bad).unwrap_err();
        assert_eq!(errors[0].0, line_with(&bad, "\"survey\""), "{errors:?}");
        let bad = GOOD.replace("source = \"manual\"\n", "");
        assert!(check(&bad).unwrap_err()[0].1.contains("needs a measure"));
    }

    #[test]
    fn the_shipped_framework_is_valid() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let f = Framework::load(&dir.join("dashboards")).unwrap();
        let measures: Vec<MeasureInfo> =
            crate::definitions::measure::load_dir(&dir.join("queries"))
                .unwrap()
                .iter()
                .map(MeasureInfo::from)
                .collect();
        f.validate(&measures, &["protection", "reinsertion", "knowledge"])
            .unwrap();
        assert!(f.indicators().any(|i| i.source == Some(Source::Manual)));
        assert_eq!(
            f.project.start,
            NaiveDate::from_ymd_opt(2019, 3, 27).unwrap()
        );
    }
}
