//! The project as an IATI activity (`dashboards/_iati.toml`): its identifier, the
//! reporting and participating organisations, title and descriptions in French and
//! English, status and dates, recipient country, the regions (admin-1 P-codes) where
//! its beneficiaries live, its sector and the codes of its finance — everything the
//! IATI activity file (`render::exports::iati`) writes around the published figures.
//!
//! Codes are checked against the IATI 2.03 codelists they come from (the small ones are
//! listed here in full), the regions against the reference data, and problems name the
//! file and the line. Nothing here reads data.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;

use super::{DefinitionError, DefinitionErrors};
use crate::domain::{Code, Currency};
use crate::reference::Label;

/// The file's name inside the dashboards folder.
pub const FILE: &str = "_iati.toml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Activity {
    /// The iati-identifier: the reporting organisation's ref, a hyphen, the project's code.
    pub identifier: String,
    /// The activity's default language (`fr` or `en`).
    pub language: String,
    /// The default currency (ISO 4217): the budget's.
    pub currency: String,
    /// ActivityStatus code.
    pub status: u8,
    /// ActivityScope code.
    pub scope: u8,
    #[serde(default)]
    pub humanitarian: bool,
    pub title: Label,
    /// The general description (DescriptionType 1).
    pub description: Label,
    /// The target groups (DescriptionType 3).
    #[serde(default)]
    pub target_groups: Option<Label>,
    pub dates: Dates,
    pub reporting_org: Organisation,
    #[serde(rename = "participating_org")]
    pub participating: Vec<Participant>,
    pub recipient_country: Country,
    pub locations: Locations,
    pub sector: Sector,
    pub finance: Finance,
    #[serde(default)]
    pub results: ResultsOptions,
    /// The file read (for problems' locations).
    #[serde(skip)]
    pub file: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dates {
    #[serde(deserialize_with = "date")]
    pub planned_start: NaiveDate,
    #[serde(default, deserialize_with = "optional_date")]
    pub actual_start: Option<NaiveDate>,
    #[serde(deserialize_with = "date")]
    pub planned_end: NaiveDate,
    #[serde(default, deserialize_with = "optional_date")]
    pub actual_end: Option<NaiveDate>,
}

fn date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    let s = String::deserialize(d)?;
    NaiveDate::parse_from_str(&s, "%Y-%m-%d")
        .map_err(|_| serde::de::Error::custom(format!("{s:?} is not a date (YYYY-MM-DD)")))
}

fn optional_date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    date(d).map(Some)
}

/// The reporting organisation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    #[serde(rename = "ref")]
    pub reference: String,
    /// OrganisationType code.
    #[serde(rename = "type")]
    pub kind: u8,
    pub name: Label,
}

/// A participating organisation and its roles (one element per role).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Participant {
    #[serde(rename = "ref")]
    pub reference: String,
    #[serde(rename = "type")]
    pub kind: u8,
    /// OrganisationRole codes.
    pub roles: Vec<u8>,
    #[serde(default)]
    pub crs_channel_code: Option<String>,
    pub name: Label,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Country {
    /// ISO 3166-1 alpha-2.
    pub code: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Locations {
    /// GeographicLocationReach code.
    pub reach: u8,
    /// Admin-1 P-codes of the reference data.
    pub regions: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sector {
    /// SectorVocabulary code (1: OECD DAC CRS 5-digit; 2: DAC 3-digit).
    pub vocabulary: String,
    pub code: String,
    pub name: Label,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finance {
    pub collaboration_type: String,
    pub flow_type: String,
    pub finance_type: String,
    /// AidType code of vocabulary 1 (OECD DAC).
    pub aid_type: String,
    pub tied_status: String,
    /// BudgetType code of the budgets (1 original, 2 revised).
    pub budget_type: u8,
    /// BudgetStatus code of the budgets (1 indicative, 2 committed).
    pub budget_status: u8,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultsOptions {
    /// Indicators of the results framework whose values are percentages
    /// (IndicatorMeasure 2); the others are counts (1).
    #[serde(default)]
    pub percentage: Vec<String>,
}

// The IATI 2.03 codelists the file's codes are checked against.
const ORGANISATION_ROLE: &[u8] = &[1, 2, 3, 4];
const ORGANISATION_TYPE: &[u8] = &[
    10, 11, 15, 21, 22, 23, 24, 30, 40, 60, 70, 71, 72, 73, 80, 90,
];
const ACTIVITY_STATUS: &[u8] = &[1, 2, 3, 4, 5, 6];
const ACTIVITY_SCOPE: &[u8] = &[1, 2, 3, 4, 5, 6, 7, 8];
const LOCATION_REACH: &[u8] = &[1, 2];
const COLLABORATION_TYPE: &[&str] = &["1", "2", "3", "4", "6", "7", "8"];
const FLOW_TYPE: &[&str] = &["10", "20", "21", "22", "30", "35", "36", "37", "40", "50"];
const TIED_STATUS: &[&str] = &["3", "4", "5"];
const BUDGET_TYPE: &[u8] = &[1, 2];
const BUDGET_STATUS: &[u8] = &[1, 2];

impl Activity {
    /// Reads and checks `_iati.toml` of a dashboards folder.
    pub fn load(dashboards: &Path) -> Result<Activity, DefinitionErrors> {
        let path = dashboards.join(FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            DefinitionErrors(vec![DefinitionError {
                file: path.clone(),
                line: 0,
                message: format!("cannot read the IATI activity definition: {e}"),
            }])
        })?;
        Activity::parse(&path, &text)
    }

    /// Parses and checks the text of an activity file.
    pub fn parse(path: &Path, text: &str) -> Result<Activity, DefinitionErrors> {
        let mut a: Activity = toml::from_str(text).map_err(|e| {
            DefinitionErrors(vec![DefinitionError {
                file: path.into(),
                line: e
                    .span()
                    .map_or(1, |s| text[..s.start].matches('\n').count() + 1),
                message: e.message().to_string(),
            }])
        })?;
        a.file = path.into();
        a.validate(text)?;
        Ok(a)
    }

    /// The activity's default language as `fr` or `en`.
    pub fn is_french(&self) -> bool {
        self.language == "fr"
    }

    fn validate(&self, text: &str) -> Result<(), DefinitionErrors> {
        let errors = std::cell::RefCell::new(Vec::new());
        let fail = |needle: &str, message: String| {
            errors.borrow_mut().push(DefinitionError {
                file: self.file.clone(),
                line: line_of(text, needle),
                message,
            });
        };
        let id = &self.identifier;
        let org = &self.reporting_org.reference;
        if !is_identifier(org) {
            fail(
                "[reporting_org]",
                format!("reporting_org ref {org:?}: letters, digits, '-', '.' and '_' only"),
            );
        }
        if !is_identifier(id) {
            fail(
                "identifier",
                "identifier: letters, digits, '-', '.' and '_' only (no spaces, no / & | ?)".into(),
            );
        } else if !id.starts_with(&format!("{org}-")) || id.len() <= org.len() + 1 {
            fail(
                "identifier",
                format!(
                    "identifier must be the reporting organisation's ref ({org}), a hyphen and the project's code"
                ),
            );
        }
        if !matches!(self.language.as_str(), "fr" | "en") {
            fail("language", "language must be fr or en".into());
        }
        if Currency::parse(&self.currency)
            .filter(|c| c.code() == self.currency)
            .is_none()
        {
            fail(
                "currency",
                format!(
                    "currency must be one of {}",
                    Currency::ALL
                        .iter()
                        .map(|c| c.code())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        let code = |needle: &str, name: &str, ok: bool| {
            if !ok {
                fail(
                    needle,
                    format!("{name}: not a code of the IATI 2.03 codelist"),
                );
            }
        };
        code(
            "status",
            "status (ActivityStatus)",
            ACTIVITY_STATUS.contains(&self.status),
        );
        code(
            "scope",
            "scope (ActivityScope)",
            ACTIVITY_SCOPE.contains(&self.scope),
        );
        code(
            "[reporting_org]",
            "reporting_org type (OrganisationType)",
            ORGANISATION_TYPE.contains(&self.reporting_org.kind),
        );
        code(
            "reach",
            "locations reach (GeographicLocationReach)",
            LOCATION_REACH.contains(&self.locations.reach),
        );
        let f = &self.finance;
        code(
            "collaboration_type",
            "collaboration_type (CollaborationType)",
            COLLABORATION_TYPE.contains(&f.collaboration_type.as_str()),
        );
        code(
            "flow_type",
            "flow_type (FlowType)",
            FLOW_TYPE.contains(&f.flow_type.as_str()),
        );
        code(
            "finance_type",
            "finance_type (FinanceType: three digits)",
            f.finance_type.len() == 3 && f.finance_type.bytes().all(|b| b.is_ascii_digit()),
        );
        code(
            "aid_type",
            "aid_type (AidType: a letter and two digits, e.g. C01)",
            f.aid_type.len() == 3
                && f.aid_type.as_bytes()[0].is_ascii_uppercase()
                && f.aid_type.bytes().skip(1).all(|b| b.is_ascii_digit()),
        );
        code(
            "tied_status",
            "tied_status (TiedStatus)",
            TIED_STATUS.contains(&f.tied_status.as_str()),
        );
        code(
            "budget_type",
            "budget_type (BudgetType)",
            BUDGET_TYPE.contains(&f.budget_type),
        );
        code(
            "budget_status",
            "budget_status (BudgetStatus)",
            BUDGET_STATUS.contains(&f.budget_status),
        );
        let s = &self.sector;
        let sector_ok = match s.vocabulary.as_str() {
            "1" => s.code.len() == 5 && s.code.bytes().all(|b| b.is_ascii_digit()),
            "2" => s.code.len() == 3 && s.code.bytes().all(|b| b.is_ascii_digit()),
            _ => false,
        };
        if !sector_ok {
            fail(
                "[sector]",
                "sector: vocabulary \"1\" with a 5-digit DAC code, or \"2\" with a 3-digit one"
                    .into(),
            );
        }
        if self.participating.is_empty() {
            fail(
                "identifier",
                "at least one [[participating_org]] is needed".into(),
            );
        }
        let mut after = 0;
        for p in &self.participating {
            let at = line_after(text, &format!("\"{}\"", p.reference), after);
            after = at;
            let at_fail = |message: String| {
                errors.borrow_mut().push(DefinitionError {
                    file: self.file.clone(),
                    line: at,
                    message,
                });
            };
            if !is_identifier(&p.reference) {
                at_fail(format!(
                    "participating_org ref {:?}: letters, digits, '-', '.' and '_' only",
                    p.reference
                ));
            }
            if !ORGANISATION_TYPE.contains(&p.kind) {
                at_fail(format!(
                    "participating_org {}: type is not an OrganisationType code",
                    p.reference
                ));
            }
            if p.roles.is_empty() || p.roles.iter().any(|r| !ORGANISATION_ROLE.contains(r)) {
                at_fail(format!(
                    "participating_org {}: roles are OrganisationRole codes (1 funding, 2 accountable, 3 extending, 4 implementing), at least one",
                    p.reference
                ));
            }
            if p.crs_channel_code
                .as_ref()
                .is_some_and(|c| !(c.len() == 5 && c.bytes().all(|b| b.is_ascii_digit())))
            {
                at_fail(format!(
                    "participating_org {}: crs_channel_code is five digits",
                    p.reference
                ));
            }
        }
        for role in [1u8, 4] {
            if !self.participating.iter().any(|p| p.roles.contains(&role)) {
                fail(
                    "[[participating_org]]",
                    format!(
                        "no participating organisation has role {role} ({})",
                        if role == 1 { "funding" } else { "implementing" }
                    ),
                );
            }
        }
        // Texts: both languages, no control characters (XML 1.0 cannot carry them).
        let mut labels: Vec<(&str, &Label)> = vec![
            ("title", &self.title),
            ("description", &self.description),
            ("[reporting_org]", &self.reporting_org.name),
            ("[sector]", &self.sector.name),
        ];
        if let Some(t) = &self.target_groups {
            labels.push(("target_groups", t));
        }
        for p in &self.participating {
            labels.push(("[[participating_org]]", &p.name));
        }
        for (needle, label) in labels {
            for (lang, t) in [("fr", &label.fr), ("en", &label.en)] {
                if t.trim().is_empty() || t.chars().any(|c| c.is_control()) {
                    fail(
                        needle,
                        format!(
                            "{}: the {lang} text must be one line of text, not empty",
                            needle.trim_matches(['[', ']'])
                        ),
                    );
                }
            }
        }
        let d = &self.dates;
        if d.planned_end <= d.planned_start {
            fail(
                "planned_end",
                "dates: planned_end must come after planned_start".into(),
            );
        }
        if let (Some(s), Some(e)) = (d.actual_start, d.actual_end)
            && e <= s
        {
            fail(
                "actual_end",
                "dates: actual_end must come after actual_start".into(),
            );
        }
        if d.actual_end.is_some() && d.actual_start.is_none() {
            fail(
                "actual_end",
                "dates: an actual end needs an actual start".into(),
            );
        }
        let country = &self.recipient_country.code;
        if !(country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase())) {
            fail(
                "[recipient_country]",
                "recipient_country code is ISO 3166-1 alpha-2 (two capital letters)".into(),
            );
        }
        if self.locations.regions.is_empty() {
            fail("regions", "locations: at least one region".into());
        }
        for (i, r) in self.locations.regions.iter().enumerate() {
            let known = crate::reference::places()
                .region(r)
                .is_some_and(|known| known.pcode == *r);
            if !known || !r.starts_with(country.as_str()) {
                fail(
                    "regions",
                    format!(
                        "locations: {r:?} is not an admin-1 P-code of {country} in src/reference/pcodes.csv"
                    ),
                );
            }
            if self.locations.regions[..i].contains(r) {
                fail("regions", format!("locations: {r} is listed twice"));
            }
        }
        let errors = errors.into_inner();
        if !errors.is_empty() {
            return Err(DefinitionErrors(errors));
        }
        Ok(())
    }

    /// Checks the activity against the budget and the results framework it is written
    /// with: the same currency, and percentage indicators that exist.
    pub fn check_with(
        &self,
        budget: &super::Budget,
        framework: &super::Framework,
    ) -> Result<(), DefinitionErrors> {
        let text = std::fs::read_to_string(&self.file).unwrap_or_default();
        let mut errors = Vec::new();
        if budget.currency != self.currency {
            errors.push(DefinitionError {
                file: self.file.clone(),
                line: line_of(&text, "currency"),
                message: format!(
                    "currency {} differs from the budget's ({}, {})",
                    self.currency,
                    budget.currency,
                    budget.file.display()
                ),
            });
        }
        let (start, end) = (self.dates.planned_start, self.dates.planned_end);
        for code in budget.quarters() {
            let planned = budget.lines.iter().any(|l| l.planned.contains_key(&code));
            let inside = super::results::Quarter::parse(&code)
                .is_some_and(|q| q.first_day() <= end && q.last_day() >= start);
            if planned && !inside {
                errors.push(DefinitionError {
                    file: self.file.clone(),
                    line: line_of(&text, "planned_start"),
                    message: format!(
                        "the budget plans amounts for {code}, outside the activity's planned dates ({start} to {end})"
                    ),
                });
            }
        }
        for id in &self.results.percentage {
            if !framework.indicators().any(|i| &i.id == id) {
                errors.push(DefinitionError {
                    file: self.file.clone(),
                    line: line_of(&text, "percentage"),
                    message: format!(
                        "results: {id:?} is not an indicator of {}",
                        framework.file.display()
                    ),
                });
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(DefinitionErrors(errors))
        }
    }
}

/// What the activity file is written from: the activity, the budget and the results
/// framework of one dashboards folder, checked together.
#[derive(Debug, Clone)]
pub struct Definitions {
    pub activity: Activity,
    pub budget: super::Budget,
    pub framework: super::Framework,
}

impl Definitions {
    /// Reads `_iati.toml`, `_budget.toml` and `_results.toml` of a dashboards folder;
    /// none when the folder has no `_iati.toml` (the project publishes no IATI file).
    pub fn load(dashboards: &Path) -> Result<Option<Definitions>, DefinitionErrors> {
        if !dashboards.join(FILE).exists() {
            return Ok(None);
        }
        let activity = Activity::load(dashboards)?;
        let budget = super::Budget::load(&dashboards.join(super::budget::FILE))?;
        let framework =
            super::Framework::load(dashboards).map_err(|e| DefinitionErrors(vec![e]))?;
        activity.check_with(&budget, &framework)?;
        Ok(Some(Definitions {
            activity,
            budget,
            framework,
        }))
    }
}

/// An organisation or activity identifier: ASCII letters, digits, `-`, `.`, `_`.
fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 200
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
}

/// The first line that starts with `needle` (a key or a table header); else one that
/// holds it; else 1.
fn line_of(text: &str, needle: &str) -> usize {
    let lines = || {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim_start().starts_with('#'))
    };
    lines()
        .find(|(_, l)| l.trim_start().starts_with(needle))
        .or_else(|| lines().find(|(_, l)| l.contains(needle)))
        .map_or(1, |(i, _)| i + 1)
}

/// The first line after line `after` (1-based) that holds `needle`.
fn line_after(text: &str, needle: &str, after: usize) -> usize {
    text.lines()
        .enumerate()
        .skip(after)
        .find(|(_, l)| !l.trim_start().starts_with('#') && l.contains(needle))
        .map_or(1, |(i, _)| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboards")
    }

    #[test]
    fn the_projects_activity_file_is_valid() {
        let a = Activity::load(&dir()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.identifier, "IT-CF-80118750159-SEM-ML-2019-01");
        assert_eq!(a.locations.regions, ["ML01", "ML09"]);
        assert_eq!(a.participating.len(), 4);
        assert!(a.is_french());
        let budget = super::super::Budget::load(&dir().join(super::super::budget::FILE)).unwrap();
        let framework = super::super::Framework::load(&dir()).unwrap();
        a.check_with(&budget, &framework).unwrap();
    }

    fn problems(text: &str) -> String {
        Activity::parse(Path::new("dashboards/_iati.toml"), text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_bad_activity_file_is_refused_with_file_and_line() {
        let good = std::fs::read_to_string(dir().join(FILE)).unwrap();
        let line = |needle: &str| good.lines().position(|l| l.starts_with(needle)).unwrap() + 1;
        let bad = good.replacen("status = 4", "status = 9", 1);
        assert_eq!(
            problems(&bad),
            format!(
                "dashboards/_iati.toml:{}: status (ActivityStatus): not a code of the IATI 2.03 codelist",
                line("status = ")
            )
        );
        let bad = good.replacen("\"ML01\", \"ML09\"", "\"ML01\", \"ML99\", \"ML0105\"", 1);
        let err = problems(&bad);
        assert!(
            err.contains("\"ML99\" is not an admin-1 P-code of ML"),
            "{err}"
        );
        assert!(err.contains("\"ML0105\" is not an admin-1 P-code"), "{err}");
        assert!(
            err.starts_with(&format!("dashboards/_iati.toml:{}:", line("regions"))),
            "{err}"
        );
        let bad = good.replacen("identifier = \"IT-CF-80118750159-", "identifier = \"XX-", 1);
        assert!(problems(&bad).contains("must be the reporting organisation's ref"));
        let bad = good.replacen(
            "\"IT-CF-80118750159-SEM-ML-2019-01\"",
            "\"IT-CF-80118750159-SEM/ML 2019\"",
            1,
        );
        assert!(problems(&bad).contains("no spaces, no / & | ?"));
        let bad = good.replacen("roles = [1, 3]", "roles = [3, 7]", 1);
        let err = problems(&bad);
        assert!(err.contains("roles are OrganisationRole codes"), "{err}");
        assert!(
            err.contains("no participating organisation has role 1 (funding)"),
            "{err}"
        );
        let bad = good.replacen("code = \"15190\"", "code = \"1519\"", 1);
        assert!(problems(&bad).contains("5-digit DAC code"));
        let bad = good.replacen(
            "planned_end = \"2020-03-26\"",
            "planned_end = \"2019-01-01\"",
            1,
        );
        assert!(problems(&bad).contains("planned_end must come after planned_start"));
        let bad = good.replacen(
            "planned_end = \"2020-03-26\"",
            "planned_end = \"2020-13-26\"",
            1,
        );
        let err = problems(&bad);
        assert!(
            err.contains("\"2020-13-26\" is not a date")
                && err.starts_with(&format!("dashboards/_iati.toml:{}:", line("planned_end"))),
            "{err}"
        );
        let bad = good.replacen("scope = 5", "scope = 5\ncolour = 1", 1);
        assert!(
            problems(&bad).contains("unknown field `colour`"),
            "{}",
            problems(&bad)
        );
        let bad = good.replacen("currency = \"USD\"", "currency = \"EUR\"", 1);
        assert!(problems(&bad).contains("currency must be one of USD, CHF, XOF"));
        // A currency of the contract but not the budget's, an unknown indicator.
        let other = good
            .replacen("currency = \"USD\"", "currency = \"CHF\"", 1)
            .replacen("\"oc2.knowledge\"", "\"oc9.none\"", 1);
        let a = Activity::parse(&dir().join(FILE), &other).unwrap();
        let budget = super::super::Budget::load(&dir().join(super::super::budget::FILE)).unwrap();
        let framework = super::super::Framework::load(&dir()).unwrap();
        let err = a.check_with(&budget, &framework).unwrap_err().to_string();
        assert!(
            err.contains("currency CHF differs from the budget's (USD"),
            "{err}"
        );
        assert!(err.contains("\"oc9.none\" is not an indicator"), "{err}");
    }
}
