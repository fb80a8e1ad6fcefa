//! The grant's budget (`dashboards/_budget.toml`): its currency and total, the budget
//! lines with their planned amounts per quarter, and the monthly exchange rates that
//! turn spending in other currencies into the grant's.
//!
//! The job reads it to check the `budget_line` and the month of every finance row and
//! to convert amounts; `reintegra check` validates it. It holds no data: only what the
//! grant agreement and the published exchange rates say.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{DefinitionError, DefinitionErrors};
use crate::domain::{Code, Currency, Month};
use crate::reference::Label;

/// The budget file's name, beside the dashboards.
pub const FILE: &str = "_budget.toml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    currency: String,
    total: f64,
    /// The project's first and last months (`YYYY-MM`).
    start: String,
    end: String,
    #[serde(rename = "line", default)]
    lines: Vec<RawLine>,
    rates: RawRates,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLine {
    code: String,
    name: Label,
    planned: BTreeMap<String, f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRates {
    source: Label,
    monthly: BTreeMap<String, BTreeMap<String, f64>>,
}

/// A budget line and what the grant plans for it.
#[derive(Debug, Clone)]
pub struct BudgetLine {
    pub code: String,
    pub name: Label,
    /// Planned amount (grant currency) per quarter, `2019-Q2` → amount.
    pub planned: BTreeMap<String, f64>,
}

impl BudgetLine {
    pub fn planned_total(&self) -> f64 {
        self.planned.values().sum()
    }
}

/// The budget, parsed and checked.
#[derive(Debug, Clone)]
pub struct Budget {
    pub file: PathBuf,
    /// The grant's currency (a code of the `currency` set).
    pub currency: &'static str,
    pub total: f64,
    pub start: Month,
    pub end: Month,
    pub lines: Vec<BudgetLine>,
    /// Month → currency → units of the grant currency for one unit of that currency.
    pub rates: BTreeMap<Month, BTreeMap<&'static str, f64>>,
    pub rates_source: Label,
}

impl Budget {
    /// Reads and checks a budget file; every problem is named with its line.
    pub fn load(path: &Path) -> Result<Budget, DefinitionErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            DefinitionErrors(vec![DefinitionError {
                file: path.into(),
                line: 0,
                message: format!("cannot read the budget: {e}"),
            }])
        })?;
        parse(path, &text)
    }

    /// The canonical code of a budget line written in any case with stray spaces.
    pub fn line(&self, raw: &str) -> Option<usize> {
        let raw = raw.trim();
        self.lines
            .iter()
            .position(|l| l.code.eq_ignore_ascii_case(raw))
    }

    /// Units of the grant currency for one unit of `currency` in `month`; the grant
    /// currency is 1 in every month the file gives rates for.
    pub fn rate(&self, month: Month, currency: &str) -> Option<f64> {
        let rates = self.rates.get(&month)?;
        if currency == self.currency {
            return Some(1.0);
        }
        rates.get(currency).copied()
    }

    /// Every (month, currency, rate), the grant currency included at 1: the rows of
    /// the store's `exchange_rates` table.
    pub fn rate_rows(&self) -> Vec<(Month, &'static str, f64)> {
        let mut out = Vec::new();
        for (month, rates) in &self.rates {
            out.push((*month, self.currency, 1.0));
            for (currency, rate) in rates {
                out.push((*month, *currency, *rate));
            }
        }
        out
    }

    /// The quarters of the project, `2019-Q1` … in order.
    pub fn quarters(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut m = self.start;
        while m <= self.end {
            let q = quarter_of(m);
            if !out.contains(&q) {
                out.push(q);
            }
            m = m.next();
        }
        out
    }
}

/// `2019-Q2` for May 2019.
pub fn quarter_of(m: Month) -> String {
    format!("{:04}-Q{}", m.year, (m.month - 1) / 3 + 1)
}

/// Parses and checks the text of a budget file.
pub fn parse(path: &Path, text: &str) -> Result<Budget, DefinitionErrors> {
    let fail = |line: usize, message: String| DefinitionError {
        file: path.into(),
        line,
        message,
    };
    let raw: Raw = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map_or(1, |s| text[..s.start].matches('\n').count() + 1);
        DefinitionErrors(vec![fail(line, e.message().to_string())])
    })?;
    // The first line holding `needle` (after `after`, a line number), for messages.
    let line_of = |needle: &str, after: usize| {
        text.lines()
            .enumerate()
            .skip(after)
            .find(|(_, l)| l.contains(needle))
            .map_or(1, |(i, _)| i + 1)
    };
    let mut errors = Vec::new();
    let currency = Currency::parse(&raw.currency)
        .filter(|c| c.code() == raw.currency.trim())
        .map(Currency::code);
    if currency.is_none() {
        errors.push(fail(
            line_of("currency", 0),
            format!("currency must be one of {}", codes().join(", ")),
        ));
    }
    if !(raw.total.is_finite() && raw.total > 0.0) {
        errors.push(fail(
            line_of("total", 0),
            "total must be a positive amount".into(),
        ));
    }
    let start = Month::parse(&raw.start);
    let end = Month::parse(&raw.end);
    match (start, end) {
        (Some(s), Some(e)) if s <= e => {}
        _ => errors.push(fail(
            line_of("start", 0),
            "start and end are the project's first and last months, \"YYYY-MM\", start not after end".into(),
        )),
    }
    let (start, end) = (
        start.unwrap_or(Month {
            year: 2000,
            month: 1,
        }),
        end.unwrap_or(Month {
            year: 2000,
            month: 1,
        }),
    );
    let quarters = {
        let mut out: Vec<String> = Vec::new();
        let mut m = start;
        while m <= end && out.len() < 400 {
            let q = quarter_of(m);
            if !out.contains(&q) {
                out.push(q);
            }
            m = m.next();
        }
        out
    };
    // Budget lines: exactly the reference list, so every line has a grid and labels.
    let reference = crate::reference::labels().get("budget_line");
    let mut lines = Vec::new();
    let mut after = 0;
    for raw_line in raw.lines {
        let at = line_of(&format!("\"{}\"", raw_line.code), after);
        after = at;
        let known = reference.and_then(|r| r.get(&raw_line.code));
        match known {
            None => errors.push(fail(
                at,
                format!(
                    "budget line {:?} is not in [budget_line] of src/reference/labels.toml (the lines pages can label: {})",
                    raw_line.code,
                    reference.map(|r| r.keys().cloned().collect::<Vec<_>>().join(", ")).unwrap_or_default()
                ),
            )),
            Some(label) if *label != raw_line.name => errors.push(fail(
                at,
                format!(
                    "budget line {}: its name differs from its label in src/reference/labels.toml; use the same French and English names",
                    raw_line.code
                ),
            )),
            Some(_) => {}
        }
        if lines.iter().any(|l: &BudgetLine| l.code == raw_line.code) {
            errors.push(fail(
                at,
                format!("budget line {} is listed twice", raw_line.code),
            ));
        }
        for (quarter, amount) in &raw_line.planned {
            if !quarters.contains(quarter) {
                errors.push(fail(
                    line_of(quarter, at.saturating_sub(1)),
                    format!(
                        "budget line {}: quarter {quarter} is not a quarter of the project ({})",
                        raw_line.code,
                        quarters.join(", ")
                    ),
                ));
            }
            if !(amount.is_finite() && *amount >= 0.0) {
                errors.push(fail(
                    line_of(quarter, at.saturating_sub(1)),
                    format!(
                        "budget line {}: the amount planned for {quarter} must be 0 or more",
                        raw_line.code
                    ),
                ));
            }
        }
        lines.push(BudgetLine {
            code: raw_line.code,
            name: raw_line.name,
            planned: raw_line.planned,
        });
    }
    if let Some(reference) = reference {
        for code in reference.keys() {
            if !lines.iter().any(|l| &l.code == code) {
                errors.push(fail(
                    line_of("[[line]]", 0),
                    format!("budget line {code} of src/reference/labels.toml has no [[line]] here"),
                ));
            }
        }
    }
    let planned: f64 = lines.iter().map(BudgetLine::planned_total).sum();
    if raw.total.is_finite() && (planned - raw.total).abs() > 0.5 {
        errors.push(fail(
            line_of("total", 0),
            format!(
                "the lines plan {planned:.2} in all, not the total {:.2}",
                raw.total
            ),
        ));
    }
    // Rates: a month of the project each, every currency but the grant's, positive.
    let rates_line = line_of("[rates.monthly]", 0);
    let mut rates = BTreeMap::new();
    for (month, by_currency) in raw.rates.monthly {
        let at = line_of(&format!("\"{month}\""), rates_line.saturating_sub(1));
        let Some(m) = Month::parse(&month).filter(|_| month.len() == 7) else {
            errors.push(fail(
                at,
                format!("rates: {month:?} is not a month written \"YYYY-MM\""),
            ));
            continue;
        };
        if m < start || m > end {
            errors.push(fail(
                at,
                format!("rates: {month} is outside the project ({start} to {end})"),
            ));
        }
        let mut parsed = BTreeMap::new();
        for (code, rate) in by_currency {
            match Currency::parse(&code)
                .map(Currency::code)
                .filter(|c| *c == code)
            {
                Some(c) if Some(c) == currency => errors.push(fail(
                    at,
                    format!(
                        "rates {month}: the grant's currency {c} is 1 by definition; leave it out"
                    ),
                )),
                Some(c) if rate.is_finite() && rate > 0.0 => {
                    parsed.insert(c, rate);
                }
                Some(c) => errors.push(fail(
                    at,
                    format!("rates {month}: the rate of {c} must be a positive number"),
                )),
                None => errors.push(fail(
                    at,
                    format!(
                        "rates {month}: {code:?} is not a currency of the contract ({})",
                        codes().join(", ")
                    ),
                )),
            }
        }
        rates.insert(m, parsed);
    }
    let mut m = start;
    while m <= end && errors.len() < 100 {
        let missing: Vec<&str> = codes()
            .into_iter()
            .filter(|c| Some(*c) != currency)
            .filter(|c| {
                !rates
                    .get(&m)
                    .is_some_and(|r: &BTreeMap<&str, f64>| r.contains_key(c))
            })
            .collect();
        if !missing.is_empty() {
            errors.push(fail(
                rates_line,
                format!(
                    "rates: no rate for {} in {m}; every month of the project needs one (spending may fall in any of them)",
                    missing.join(", ")
                ),
            ));
        }
        m = m.next();
    }
    if !errors.is_empty() {
        return Err(DefinitionErrors(errors));
    }
    Ok(Budget {
        file: path.into(),
        currency: currency.expect("checked"),
        total: raw.total,
        start,
        end,
        lines,
        rates,
        rates_source: raw.rates.source,
    })
}

fn codes() -> Vec<&'static str> {
    Currency::ALL.iter().map(|c| c.code()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project_file() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("dashboards")
            .join(FILE)
    }

    #[test]
    fn the_projects_budget_file_is_valid_and_plans_the_whole_grant() {
        let b = Budget::load(&project_file()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(b.currency, "USD");
        assert_eq!(b.total, 280_000.0);
        assert_eq!(b.lines.len(), 7);
        let planned: f64 = b.lines.iter().map(BudgetLine::planned_total).sum();
        assert!((planned - 280_000.0).abs() < 0.5, "{planned}");
        assert_eq!(
            b.quarters(),
            ["2019-Q1", "2019-Q2", "2019-Q3", "2019-Q4", "2020-Q1"]
        );
        let april = Month {
            year: 2019,
            month: 4,
        };
        assert_eq!(b.rate(april, "USD"), Some(1.0));
        assert!(
            b.rate(april, "CHF")
                .is_some_and(|r| (0.9..1.1).contains(&r))
        );
        assert!(
            b.rate(april, "XOF")
                .is_some_and(|r| (0.001..0.002).contains(&r))
        );
        assert_eq!(
            b.rate(
                Month {
                    year: 2018,
                    month: 4
                },
                "USD"
            ),
            None
        );
        assert_eq!(b.line(" STAFF "), Some(0));
        assert_eq!(b.line("salaries"), None);
    }

    fn problems(text: &str) -> String {
        parse(Path::new("dashboards/_budget.toml"), text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_bad_budget_is_refused_with_file_and_line() {
        let good = std::fs::read_to_string(project_file()).unwrap();
        // A line that the reference does not know.
        let bad = good.replacen("code = \"overheads\"", "code = \"salaries\"", 1);
        let err = problems(&bad);
        assert!(
            err.contains("budget line \"salaries\" is not in [budget_line]"),
            "{err}"
        );
        assert!(
            err.contains("budget line overheads of src/reference/labels.toml has no [[line]]"),
            "{err}"
        );
        assert!(err.starts_with("dashboards/_budget.toml:"), "{err}");
        // A quarter outside the project.
        let bad = good.replacen("\"2019-Q2\" =", "\"2021-Q2\" =", 1);
        let err = problems(&bad);
        assert!(
            err.contains("quarter 2021-Q2 is not a quarter of the project"),
            "{err}"
        );
        // Lines that do not add up to the total.
        let bad = good.replacen("total = 280000", "total = 290000", 1);
        let err = problems(&bad);
        assert!(
            err.contains("the lines plan 280000.00 in all, not the total 290000.00"),
            "{err}"
        );
        // A month without rates.
        let bad = good
            .lines()
            .filter(|l| !l.starts_with("\"2019-08\""))
            .collect::<Vec<_>>()
            .join("\n");
        let err = problems(&bad);
        assert!(err.contains("no rate for CHF, XOF in 2019-08"), "{err}");
        // A rate for an unknown currency, a negative one, the grant's own.
        let bad = good.replacen(
            "\"2019-05\" = { CHF",
            "\"2019-05\" = { EUR = 1.1, USD = 1.0, CHF",
            1,
        );
        let err = problems(&bad);
        assert!(
            err.contains("\"EUR\" is not a currency of the contract"),
            "{err}"
        );
        assert!(
            err.contains("the grant's currency USD is 1 by definition"),
            "{err}"
        );
        let bad = good.replacen("currency = \"USD\"", "currency = \"EUR\"", 1);
        assert!(problems(&bad).contains("currency must be one of USD, CHF, XOF"));
        // Unknown keys are problems too.
        let bad = good.replacen("total = ", "totl = 1\ntotal = ", 1);
        assert!(
            problems(&bad).contains("unknown field"),
            "{}",
            problems(&bad)
        );
    }
}
