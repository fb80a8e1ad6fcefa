//! Checking rows against the contract and turning them into the private store's form.
//!
//! The header is checked once (`Plan::from_header`); every row is then parsed cell by
//! cell into domain values, checked across cells (cercle inside region, ages, parts of
//! totals), and written out as normalised text: canonical codes, ISO dates, plain
//! numbers. Problems carry row and column, never the value.

use std::collections::HashSet;
use std::hash::{BuildHasher, Hash, Hasher};

use chrono::{Datelike, NaiveDate};

use super::contract::{
    self, ColType, ColumnSpec, Need, StoredColumn, find_column, fold_header, stored_columns,
};
use super::limits::{Limit, Limits};
use super::report::{Problems, Rule};
use crate::definitions::Budget;
use crate::domain::{AgeBand, Cercle, Code, Country, Kind, Month, MonthSpan, Region, parse_date};
use crate::pii;
use crate::reference::Register;

/// Longest accepted reference or site name, in characters.
const MAX_TEXT: usize = 80;

/// What a file's header means: which contract column each file column is.
#[derive(Debug, Clone)]
pub struct Plan {
    pub kind: Kind,
    /// For each column of the file, its contract column.
    columns: Vec<&'static ColumnSpec>,
    /// For each stored column, the index of the file column that feeds it.
    sources: Vec<Option<usize>>,
}

impl Plan {
    /// Reads a header row. `hint` is the kind named by the file name, if any.
    ///
    /// Problems name a column by the contract's name when the header gives one, else by
    /// its position (`#3`): never by the text found, which in a file without a header
    /// row is a person's data.
    pub fn from_header(
        header: &[String],
        hint: Option<Kind>,
        limits: &Limits,
    ) -> Result<Plan, Problems> {
        let mut problems = Problems::default();
        for (i, h) in header.iter().enumerate() {
            if h.len() > limits.max_field_bytes {
                problems.at(
                    1,
                    &position(i),
                    Rule::Limit(Limit::FieldBytes, limits.max_field_bytes as u64),
                );
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let folded: Vec<String> = header.iter().map(|h| fold_header(h)).collect();
        if looks_like_data(header, &folded) {
            problems.file_at(1, Rule::NoHeader);
            // Still say whether the row that should have been a header identifies someone.
            for (i, cell) in header.iter().enumerate() {
                if let Some(kind) = pii::value_kind(cell) {
                    problems.at(1, &position(i), Rule::PiiValue(kind));
                }
            }
            return Err(problems);
        }
        let kind = hint.or_else(|| contract::kind_from_headers(&folded));
        // A column is identifying when no kind of the contract declares it and its name
        // says so; checked before anything else, for every column.
        for (i, name) in folded.iter().enumerate() {
            let declared = Kind::ALL
                .into_iter()
                .any(|k| find_column(k, name).is_some());
            if !declared && let Some(kind) = pii::column_kind(name) {
                problems.at(1, &position(i), Rule::PiiColumn(kind));
            }
        }
        let Some(kind) = kind else {
            problems.file(Rule::UnknownKind);
            return Err(problems);
        };
        let mut columns = Vec::with_capacity(header.len());
        for (i, name) in folded.iter().enumerate() {
            match find_column(kind, name) {
                Some(spec) if columns.iter().any(|c: &&ColumnSpec| c.name == spec.name) => {
                    problems.at(1, spec.name, Rule::DuplicateColumn);
                }
                Some(spec) => columns.push(spec),
                None if pii::column_kind(name).is_some() => {}
                None => problems.at(1, &position(i), Rule::UndeclaredColumn),
            }
        }
        for spec in contract::columns(kind) {
            let present = |name: &str| columns.iter().any(|c| c.name == name);
            let missing = match spec.need {
                Need::Required => !present(spec.name),
                Need::EitherOr(other) => !present(spec.name) && !present(other),
                Need::Optional => false,
            };
            // Report an either/or pair once, under the first of the two.
            let first_of_pair = match spec.need {
                Need::EitherOr(other) => {
                    contract::columns(kind)
                        .iter()
                        .position(|c| c.name == spec.name)
                        < contract::columns(kind).iter().position(|c| c.name == other)
                }
                _ => true,
            };
            if missing && first_of_pair {
                let name = match spec.need {
                    Need::EitherOr(other) => format!("{} or {}", spec.name, other),
                    _ => spec.name.to_string(),
                };
                problems.at(1, &name, Rule::MissingColumn);
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let sources = stored_columns(kind)
            .iter()
            .map(|s| columns.iter().position(|c| c.name == s.name))
            .collect();
        Ok(Plan {
            kind,
            columns,
            sources,
        })
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

/// A column named by its position, as a spreadsheet user counts (`#1` is column A).
fn position(i: usize) -> String {
    format!("#{}", i + 1)
}

/// Whether a first row holds values rather than column names: most of its cells read
/// as dates, numbers, P-codes, contact details or contract codes, and none names a
/// column of the contract.
fn looks_like_data(header: &[String], folded: &[String]) -> bool {
    let names_a_column = folded
        .iter()
        .any(|f| Kind::ALL.into_iter().any(|k| find_column(k, f).is_some()));
    if names_a_column {
        return false;
    }
    let cells: Vec<&str> = header
        .iter()
        .map(|h| h.trim())
        .filter(|h| !h.is_empty())
        .collect();
    if cells.is_empty() {
        return false;
    }
    let data = cells
        .iter()
        .filter(|c| {
            parse_date(c).is_some()
                || c.replace([' ', ',', '.'], "").parse::<f64>().is_ok()
                || Region::parse(c).is_some()
                || Cercle::parse(c).is_some()
                || Country::parse(c).is_some()
                || pii::value_kind(c).is_some()
                || contract::any_code(c)
        })
        .count();
    data * 2 >= cells.len()
}

/// A parsed cell.
#[derive(Debug, Clone, Copy)]
enum Value<'a> {
    Missing,
    /// The cell broke a rule (already reported).
    Invalid,
    Text(&'a str),
    Date(NaiveDate),
    Code(&'static str),
    Int(i64),
    Number(f64),
    Flag(bool),
    /// A site of the register (index).
    Site(usize),
    /// A budget line (index into the validator's lines).
    BudgetLine(usize),
}

/// One normalised row, as text fields in the order of the store's columns.
#[derive(Debug, Default)]
pub struct RowBuf {
    text: String,
    ends: Vec<usize>,
}

impl RowBuf {
    fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    fn push(&mut self, field: &str) {
        self.text.push_str(field);
        self.ends.push(self.text.len());
    }

    pub fn fields(&self) -> impl Iterator<Item = &str> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter().copied())
            .map(|(s, e)| &self.text[s..e])
    }
}

/// Validates rows of one file and hands valid ones, normalised, to a sink.
pub struct Validator {
    plan: Plan,
    today: NaiveDate,
    limits: Limits,
    register: std::sync::Arc<Register>,
    /// The budget lines a finance row may name, and the budget's rates (if given).
    budget_lines: Vec<String>,
    budget: Option<std::sync::Arc<Budget>>,
    pub problems: Problems,
    pub rows: u64,
    span: Option<(NaiveDate, NaiveDate)>,
    keys: HashSet<(u64, u64)>,
    hasher: [std::collections::hash_map::RandomState; 2],
    out: RowBuf,
}

impl Validator {
    pub fn new(plan: Plan, ctx: &super::Context) -> Self {
        Validator {
            plan,
            today: ctx.today,
            limits: ctx.limits,
            register: ctx.register.clone(),
            budget_lines: match &ctx.budget {
                Some(b) => b.lines.iter().map(|l| l.code.clone()).collect(),
                None => crate::reference::labels()
                    .get("budget_line")
                    .map(|set| set.keys().cloned().collect())
                    .unwrap_or_default(),
            },
            budget: ctx.budget.clone(),
            problems: Problems::default(),
            rows: 0,
            span: None,
            keys: HashSet::new(),
            hasher: Default::default(),
            out: RowBuf::default(),
        }
    }

    pub fn kind(&self) -> Kind {
        self.plan.kind
    }

    /// The months the file's date column spans, once rows have been read.
    pub fn span(&self) -> Option<MonthSpan> {
        self.span.map(|(first, last)| MonthSpan {
            first: Month::of(first),
            last: Month::of(last),
        })
    }

    /// Checks one row; when it is valid and the file has no problem so far, `sink`
    /// receives it normalised.
    pub fn row(&mut self, row: u64, cells: &[&str], sink: &mut dyn FnMut(&RowBuf)) {
        self.rows += 1;
        let before = self.problems.total();
        if cells.len() != self.plan.columns.len() {
            self.problems.push(super::report::Problem {
                row: Some(row),
                column: None,
                rule: Rule::FieldCount,
            });
            // Still scan what is there for identifying values.
            for (i, cell) in cells.iter().enumerate() {
                if let Some(kind) = pii::value_kind(cell) {
                    let column = self.plan.columns.get(i).map_or("(extra field)", |c| c.name);
                    self.problems.at(row, column, Rule::PiiValue(kind));
                }
            }
            return;
        }
        let mut values = Vec::with_capacity(cells.len());
        for (spec, cell) in self.plan.columns.iter().zip(cells) {
            if cell.len() > self.limits.max_field_bytes {
                let rule = match pii::value_kind(cell) {
                    Some(kind) => Rule::PiiValue(kind),
                    None => Rule::Limit(Limit::FieldBytes, self.limits.max_field_bytes as u64),
                };
                self.problems.at(row, spec.name, rule);
                values.push(Value::Invalid);
                continue;
            }
            let value =
                parse_cell(spec, cell, &self.register, &self.budget_lines).unwrap_or_else(|rule| {
                    let rule = match pii::value_kind(cell) {
                        Some(kind) => Rule::PiiValue(kind),
                        None => rule,
                    };
                    self.problems.at(row, spec.name, rule);
                    Value::Invalid
                });
            values.push(value);
        }
        self.check_row(row, &values);
        let clean = self.problems.total() == before;
        if clean {
            self.track_span(&values);
            self.check_key(row, &values);
        }
        if clean && self.problems.is_empty() {
            self.normalise(&values);
            sink(&self.out);
        }
    }

    fn get<'v, 'a>(&self, values: &'v [Value<'a>], name: &str) -> Value<'a> {
        self.plan.index(name).map_or(Value::Missing, |i| values[i])
    }

    /// Rules across cells of a row.
    fn check_row(&mut self, row: u64, values: &[Value<'_>]) {
        let kind = self.plan.kind;
        let date_col = contract::date_column(kind);
        let date = match self.get(values, date_col) {
            Value::Date(d) => Some(d),
            _ => None,
        };
        if let Some(d) = date {
            if d > self.today {
                self.problems.at(row, date_col, Rule::FutureDate);
            } else if d.year() < 2000 {
                self.problems.at(row, date_col, Rule::DateTooEarly);
            }
        }
        if let (Value::Code(region), Value::Code(cercle)) = (
            self.get(values, "region_pcode"),
            self.get(values, "cercle_pcode"),
        ) && Cercle::parse(cercle).map(|c| c.region().code()) != Some(region)
        {
            self.problems
                .at(row, "cercle_pcode", Rule::CercleOutsideRegion);
        }
        // A site lies in one cercle: the row's.
        if let (Value::Site(site), Value::Code(cercle)) =
            (self.get(values, "site"), self.get(values, "cercle_pcode"))
            && self.register.sites[site].cercle != cercle
        {
            self.problems.at(row, "site", Rule::UnknownSite);
        }
        if kind == Kind::Returns {
            let band = match self.get(values, "age_band") {
                Value::Code(code) => AgeBand::parse(code),
                _ => None,
            };
            let birth_year = match self.get(values, "birth_year") {
                Value::Int(y) => Some(y),
                _ => None,
            };
            let derived = birth_year.zip(date).map(|(y, d)| age_bands_for(y, d));
            let either_invalid = matches!(self.get(values, "age_band"), Value::Invalid)
                || matches!(self.get(values, "birth_year"), Value::Invalid);
            match (band, &derived) {
                (Some(band), Some(bands)) if !bands.contains(&band) => {
                    self.problems.at(row, "age_band", Rule::AgeBandMismatch);
                }
                (None, None) if !either_invalid && date.is_some() => {
                    let column = if self.plan.index("age_band").is_some() {
                        "age_band"
                    } else {
                        "birth_year"
                    };
                    self.problems.at(row, column, Rule::Empty);
                }
                _ => {}
            }
            let adult = band.map(|b| !b.is_minor()).or_else(|| {
                derived
                    .as_ref()
                    .map(|bands| bands.iter().all(|b| !b.is_minor()))
            });
            if let Value::Flag(true) = self.get(values, "unaccompanied_minor")
                && adult == Some(true)
            {
                self.problems
                    .at(row, "unaccompanied_minor", Rule::UnaccompaniedAdult);
            }
        }
        // Spending converts to the grant's currency with the month's rate: a month
        // (or currency) the budget file gives no rate for cannot be converted.
        if kind == Kind::Finance
            && let (Some(budget), Some(d), Value::Code(currency)) =
                (&self.budget, date, self.get(values, "currency"))
            && budget.rate(Month::of(d), currency).is_none()
        {
            self.problems.at(row, "currency", Rule::NoExchangeRate);
        }
        if kind == Kind::Campaigns
            && let Value::Int(total) = self.get(values, "people_reached")
        {
            for part in ["women_reached", "youth_reached"] {
                if let Value::Int(n) = self.get(values, part)
                    && n > total
                {
                    self.problems.at(row, part, Rule::PartExceedsTotal);
                }
            }
        }
    }

    fn track_span(&mut self, values: &[Value<'_>]) {
        if let Value::Date(d) = self.get(values, contract::date_column(self.plan.kind)) {
            self.span = Some(match self.span {
                None => (d, d),
                Some((a, b)) => (a.min(d), b.max(d)),
            });
        }
    }

    fn check_key(&mut self, row: u64, values: &[Value<'_>]) {
        let keys = contract::key_columns(self.plan.kind);
        let mut hashes = [0u64; 2];
        for (h, state) in hashes.iter_mut().zip(&self.hasher) {
            let mut hasher = state.build_hasher();
            for name in keys {
                match self.get(values, name) {
                    Value::Text(t) => t.hash(&mut hasher),
                    Value::Date(d) => d.hash(&mut hasher),
                    Value::Code(c) => c.hash(&mut hasher),
                    Value::BudgetLine(i) => i.hash(&mut hasher),
                    _ => {}
                }
            }
            *h = hasher.finish();
        }
        if !self.keys.insert((hashes[0], hashes[1])) {
            self.problems.at(row, keys[0], Rule::DuplicateRow);
        }
    }

    /// Writes the row in the store's column order into `self.out`.
    fn normalise(&mut self, values: &[Value<'_>]) {
        self.out.clear();
        let kind = self.plan.kind;
        let date = match self.get(values, contract::date_column(kind)) {
            Value::Date(d) => Some(d),
            _ => None,
        };
        let mut buf = String::new();
        for (stored, source) in stored_columns(kind).iter().zip(&self.plan.sources) {
            let value = source.map_or(Value::Missing, |i| values[i]);
            buf.clear();
            let field: &str = match (stored, value) {
                (
                    StoredColumn {
                        name: "age_band", ..
                    },
                    Value::Missing,
                ) => {
                    let year = match self.get(values, "birth_year") {
                        Value::Int(y) => y,
                        _ => unreachable!("checked: age_band or birth_year is present"),
                    };
                    let d = date.expect("checked: the row has a date");
                    age_bands_for(year, d)[1].code()
                }
                (s, Value::Missing) if s.sql_type.starts_with("BOOLEAN") => "false",
                (_, Value::Missing | Value::Invalid) => "",
                (_, Value::Text(t)) => t,
                (_, Value::Code(c)) => c,
                (_, Value::Site(i)) => self.register.sites[i].code.as_str(),
                (_, Value::BudgetLine(i)) => self.budget_lines[i].as_str(),
                (_, Value::Date(d)) => {
                    use std::fmt::Write;
                    let _ = write!(buf, "{}", d.format("%Y-%m-%d"));
                    &buf
                }
                (_, Value::Int(n)) => {
                    use std::fmt::Write;
                    let _ = write!(buf, "{n}");
                    &buf
                }
                (_, Value::Number(x)) => {
                    use std::fmt::Write;
                    let _ = write!(buf, "{x}");
                    &buf
                }
                (_, Value::Flag(b)) => {
                    if b {
                        "true"
                    } else {
                        "false"
                    }
                }
            };
            self.out.push(field);
        }
    }
}

/// The age bands someone born in `year` can be in on `date` (birthday before or after).
fn age_bands_for(year: i64, date: NaiveDate) -> [AgeBand; 2] {
    let age = date.year() as i64 - year;
    let band = |a: i64| AgeBand::from_age(a as i32).unwrap_or(AgeBand::A60Plus);
    [band(age - 1), band(age)]
}

/// Parses one cell by its column's type.
fn parse_cell<'a>(
    spec: &ColumnSpec,
    cell: &'a str,
    register: &Register,
    budget_lines: &[String],
) -> Result<Value<'a>, Rule> {
    let cell = cell.trim_matches(|c: char| c.is_whitespace() || c == '\u{a0}');
    if cell.is_empty() {
        return match (spec.need, spec.ty) {
            (Need::Required, _) => Err(Rule::Empty),
            _ => Ok(Value::Missing),
        };
    }
    match spec.ty {
        ColType::Site => {
            if let Some(kind) = pii::value_kind(cell) {
                return Err(Rule::PiiValue(kind));
            }
            register
                .site_position(cell)
                .map(Value::Site)
                .ok_or(Rule::UnknownSite)
        }
        ColType::Ref => {
            if cell.chars().count() > MAX_TEXT {
                Err(Rule::TooLong)
            } else if let Some(kind) = pii::value_kind(cell) {
                Err(Rule::PiiValue(kind))
            } else if cell.chars().any(char::is_control) {
                Err(Rule::Encoding)
            } else {
                Ok(Value::Text(cell))
            }
        }
        ColType::Date => parse_date(cell).map(Value::Date).ok_or(Rule::InvalidDate),
        ColType::Country => Country::parse(cell)
            .filter(|c| register.is_departure(c.code()))
            .map(|c| Value::Code(c.code()))
            .ok_or(Rule::UnknownCountry),
        ColType::Region => Region::parse(cell)
            .map(|r| Value::Code(r.code()))
            .ok_or(Rule::UnknownRegion),
        ColType::Cercle => Cercle::parse(cell)
            .map(|c| Value::Code(c.code()))
            .ok_or(Rule::UnknownCercle),
        ColType::Code(set) => set
            .normalize(cell)
            .map(Value::Code)
            .ok_or_else(|| Rule::UnknownCode(set.allowed())),
        ColType::BirthYear => match cell.parse::<i64>() {
            Ok(y) if (1900..=9999).contains(&y) => Ok(Value::Int(y)),
            _ => Err(Rule::InvalidBirthYear),
        },
        ColType::Flag => match cell.to_ascii_lowercase().as_str() {
            "1" | "yes" | "y" | "true" | "oui" | "o" | "vrai" | "x" => Ok(Value::Flag(true)),
            "0" | "no" | "n" | "false" | "non" | "faux" => Ok(Value::Flag(false)),
            _ => Err(Rule::InvalidFlag),
        },
        ColType::Count => {
            if let Some(kind) = pii::value_kind(cell) {
                return Err(Rule::PiiValue(kind));
            }
            // Thousands may be grouped with spaces, as French writes them.
            let digits: String = cell
                .chars()
                .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}'))
                .collect();
            match digits.parse::<i64>() {
                Ok(n) if n < 0 => Err(Rule::NegativeCount),
                Ok(n) => Ok(Value::Int(n)),
                Err(_) => Err(Rule::InvalidCount),
            }
        }
        ColType::Score => match cell.replace(',', ".").parse::<f64>() {
            Ok(x) if (0.0..=100.0).contains(&x) => Ok(Value::Number(x)),
            _ => Err(Rule::InvalidScore),
        },
        ColType::Month => parse_month(cell).map(Value::Date).ok_or(Rule::InvalidMonth),
        ColType::BudgetLine => budget_lines
            .iter()
            .position(|l| l.eq_ignore_ascii_case(cell))
            .map(Value::BudgetLine)
            .ok_or(Rule::UnknownBudgetLine),
        ColType::Amount => {
            if let Some(kind) = pii::value_kind(cell) {
                return Err(Rule::PiiValue(kind));
            }
            parse_amount(cell)
        }
    }
}

/// The first day of the month a cell names: `2019-07`, `07/2019`, or any date of it.
fn parse_month(cell: &str) -> Option<NaiveDate> {
    if let Some(d) = parse_date(cell) {
        return Some(Month::of(d).first_day());
    }
    let month = match cell.split_once('/') {
        Some((m, y)) if y.len() == 4 && (1..=2).contains(&m.len()) => {
            Month::parse(&format!("{y}-{m}"))
        }
        Some(_) => None,
        None if cell.len() == 7 => Month::parse(cell),
        None => None,
    };
    month.map(Month::first_day)
}

/// A sum of money: digits with at most two decimals after a point or a comma, thousands
/// optionally grouped with spaces (`12 500,50`, `12500.5`); never negative.
fn parse_amount(cell: &str) -> Result<Value<'static>, Rule> {
    let compact: String = cell
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}'))
        .collect();
    let (negative, digits) = match compact.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, compact.as_str()),
    };
    let (whole, decimals) = match digits.split_once([',', '.']) {
        Some((w, d)) => (w, d),
        None => (digits, ""),
    };
    let well_formed = !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && decimals.len() <= 2
        && decimals.bytes().all(|b| b.is_ascii_digit())
        && whole.len() <= 15;
    if !well_formed {
        return Err(Rule::InvalidAmount);
    }
    if negative {
        return Err(Rule::NegativeAmount);
    }
    format!("{whole}.{decimals}0")
        .parse::<f64>()
        .map(Value::Number)
        .map_err(|_| Rule::InvalidAmount)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(cols: &[&str]) -> Vec<String> {
        cols.iter().map(|c| c.to_string()).collect()
    }

    fn run(kind: Kind, cols: &[&str], rows: &[&[&str]]) -> (Validator, Vec<Vec<String>>) {
        let plan = Plan::from_header(&header(cols), Some(kind), &Limits::default())
            .expect("header is valid");
        let today = NaiveDate::from_ymd_opt(2020, 6, 1).unwrap();
        let mut v = Validator::new(plan, &crate::extract::Context::new(today));
        let mut out = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            v.row(i as u64 + 2, row, &mut |r| {
                out.push(r.fields().map(String::from).collect())
            });
        }
        (v, out)
    }

    const RETURNS: &[&str] = &[
        "person_ref",
        "return_date",
        "country_from",
        "region_pcode",
        "cercle_pcode",
        "sex",
        "birth_year",
        "return_type",
    ];

    #[test]
    fn birth_year_becomes_an_age_band_and_is_not_kept() {
        let (v, out) = run(
            Kind::Returns,
            RETURNS,
            &[&[
                "P1",
                "27/03/2019",
                "dza",
                " ml01 ",
                "ML0105",
                "homme",
                "1990",
                "vhr",
            ]],
        );
        assert!(
            v.problems.is_empty(),
            "{:?}",
            v.problems.iter().collect::<Vec<_>>()
        );
        assert_eq!(
            out[0],
            [
                "P1",
                "2019-03-27",
                "DZA",
                "ML01",
                "ML0105",
                "M",
                "25-34",
                "VHR",
                "false",
                "false",
                "false"
            ]
        );
    }

    #[test]
    fn cercle_outside_its_region_is_rejected() {
        let (v, out) = run(
            Kind::Returns,
            RETURNS,
            &[&[
                "P1",
                "2019-03-27",
                "DZA",
                "ML09",
                "ML0105",
                "M",
                "1990",
                "VHR",
            ]],
        );
        let problems: Vec<_> = v.problems.iter().collect();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].rule, Rule::CercleOutsideRegion);
        assert_eq!(problems[0].row, Some(2));
        assert!(out.is_empty());
    }

    #[test]
    fn every_bad_cell_of_a_row_is_reported() {
        let (v, _) = run(
            Kind::Returns,
            RETURNS,
            &[&[
                "P1",
                "2019-13-01",
                "XXX",
                "ML99",
                "ML9999",
                "X",
                "abc",
                "bus",
            ]],
        );
        let rules: Vec<_> = v
            .problems
            .iter()
            .map(|p| (p.column.unwrap(), p.rule.id()))
            .collect();
        for expected in [
            ("return_date", "invalid-date"),
            ("country_from", "unknown-country"),
            ("region_pcode", "unknown-pcode"),
            ("cercle_pcode", "unknown-pcode"),
            ("sex", "unknown-code"),
            ("birth_year", "invalid-birth-year"),
            ("return_type", "unknown-code"),
        ] {
            assert!(
                rules.contains(&(expected.0.to_string(), expected.1)),
                "{expected:?} in {rules:?}"
            );
        }
    }

    #[test]
    fn future_dates_and_negative_counts_are_rejected() {
        let (v, _) = run(
            Kind::Campaigns,
            &[
                "event_ref",
                "event_date",
                "region_pcode",
                "cercle_pcode",
                "channel",
                "language",
                "people_reached",
                "women_reached",
            ],
            &[
                &[
                    "E1",
                    "2021-01-01",
                    "ML01",
                    "ML0101",
                    "radio",
                    "bm",
                    "100",
                    "20",
                ],
                &[
                    "E2",
                    "2019-05-01",
                    "ML01",
                    "ML0101",
                    "radio",
                    "bm",
                    "-5",
                    "",
                ],
                &[
                    "E3",
                    "2019-05-01",
                    "ML01",
                    "ML0101",
                    "radio",
                    "bm",
                    "100",
                    "150",
                ],
                &[
                    "E4",
                    "2019-05-01",
                    "ML01",
                    "ML0101",
                    "radio",
                    "bm",
                    "1 500",
                    "",
                ],
            ],
        );
        let rules: Vec<_> = v
            .problems
            .iter()
            .map(|p| (p.row.unwrap(), p.rule.id()))
            .collect();
        assert_eq!(
            rules
                .iter()
                .map(|r| r.1)
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
            3,
            "{rules:?}"
        );
        assert!(rules.contains(&(2, "future-date")));
        assert!(rules.contains(&(3, "negative-count")));
        assert!(rules.contains(&(4, "part-exceeds-total")));
        assert!(!rules.iter().any(|r| r.0 == 5), "1 500 is a valid count");
    }

    const FINANCE: &[&str] = &["month", "budget_line", "output", "amount", "currency"];

    #[test]
    fn finance_rows_are_months_budget_lines_and_amounts() {
        let (v, out) = run(
            Kind::Finance,
            FINANCE,
            &[
                &["2019-07", " Staff ", "coordination", "12 500,50", "usd"],
                &[
                    "15/08/2019",
                    "training",
                    "Formation des professionnels",
                    "1500",
                    "FCFA",
                ],
                &["09/2019", "overheads", "coordination", "0.5", "CHF"],
            ],
        );
        assert!(
            v.problems.is_empty(),
            "{:?}",
            v.problems.iter().collect::<Vec<_>>()
        );
        assert_eq!(
            out[0],
            ["2019-07-01", "staff", "coordination", "12500.5", "USD"]
        );
        assert_eq!(
            out[1],
            ["2019-08-01", "training", "training", "1500", "XOF"]
        );
        assert_eq!(
            out[2],
            ["2019-09-01", "overheads", "coordination", "0.5", "CHF"]
        );
        assert_eq!(
            v.span().map(|s| s.to_string()).as_deref(),
            Some("2019-07..2019-09")
        );
    }

    #[test]
    fn bad_finance_cells_name_their_column_and_rule() {
        let (v, out) = run(
            Kind::Finance,
            FINANCE,
            &[
                &["2019-07", "salaries", "coordination", "100", "USD"],
                &["2019-07", "staff", "coordination", "-100", "USD"],
                &["2019-07", "staff", "coordination", "1,234.56", "USD"],
                &["2019-07", "staff", "coordination", "100", "EUR"],
                &["2019-13", "staff", "coordination", "100", "USD"],
                &["2019-07", "staff", "legal", "10.125", "USD"],
                &["2019-08", "staff", "coordination", "100", "USD"],
                &["2019-08", "STAFF", "coordination", "200", "USD"],
            ],
        );
        assert!(out.is_empty());
        let found: Vec<_> = v
            .problems
            .iter()
            .map(|p| (p.row.unwrap(), p.column.unwrap(), p.rule.id()))
            .collect();
        for expected in [
            (2, "budget_line", "unknown-budget-line"),
            (3, "amount", "negative-amount"),
            (4, "amount", "invalid-amount"),
            (5, "currency", "unknown-code"),
            (6, "month", "invalid-month"),
            (7, "output", "unknown-code"),
            (7, "amount", "invalid-amount"),
            (9, "budget_line", "duplicate-row"),
        ] {
            let expected = (expected.0, expected.1.to_string(), expected.2);
            assert!(found.contains(&expected), "{expected:?} in {found:?}");
        }
        assert_eq!(found.len(), 8, "{found:?}");
    }

    #[test]
    fn finance_rows_need_a_rate_for_their_month_when_a_budget_is_given() {
        let budget = crate::definitions::Budget::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboards/_budget.toml"),
        )
        .unwrap();
        let plan =
            Plan::from_header(&header(FINANCE), Some(Kind::Finance), &Limits::default()).unwrap();
        let mut ctx = crate::extract::Context::new(NaiveDate::from_ymd_opt(2021, 1, 1).unwrap());
        ctx.budget = Some(std::sync::Arc::new(budget));
        let mut v = Validator::new(plan, &ctx);
        for (i, row) in [
            ["2019-07", "staff", "coordination", "100", "XOF"],
            ["2020-06", "staff", "coordination", "100", "CHF"],
            ["2020-06", "staff", "coordination", "100", "USD"],
        ]
        .iter()
        .enumerate()
        {
            v.row(i as u64 + 2, row, &mut |_| {});
        }
        let found: Vec<_> = v
            .problems
            .iter()
            .map(|p| (p.row.unwrap(), p.rule.id()))
            .collect();
        assert_eq!(found, [(3, "no-exchange-rate"), (4, "no-exchange-rate")]);
    }

    #[test]
    fn repeated_keys_are_rejected() {
        let cols = &[
            "session_ref",
            "person_ref",
            "session_date",
            "region_pcode",
            "cercle_pcode",
            "site",
            "activity",
            "facilitator",
        ];
        let row: &[&str] = &[
            "S1",
            "P1",
            "2019-05-01",
            "ML09",
            "ML0901",
            "Centre d'écoute de Niaréla",
            "art",
            "psychologist",
        ];
        let (v, _) = run(Kind::Sessions, cols, &[row, row]);
        let problems: Vec<_> = v.problems.iter().collect();
        assert_eq!(problems.len(), 1);
        assert_eq!(
            (problems[0].row, problems[0].rule.id()),
            (Some(3), "duplicate-row")
        );
    }

    #[test]
    fn headers_with_identifying_columns_are_refused() {
        let mut cols = header(RETURNS);
        cols.push("Téléphone".into());
        cols.push("Nom du bénéficiaire".into());
        let problems =
            Plan::from_header(&cols, Some(Kind::Returns), &Limits::default()).unwrap_err();
        let rules: Vec<_> = problems
            .iter()
            .map(|p| (p.column.unwrap(), p.rule.id()))
            .collect();
        assert_eq!(
            rules,
            [
                ("#10".to_string(), "pii-column"),
                ("#9".to_string(), "pii-column")
            ]
        );
    }

    #[test]
    fn a_file_without_a_header_is_named_so_and_its_first_row_never_quoted() {
        let first = header(&[
            "P-0042",
            "2019-05-14",
            "DZA",
            "ML01",
            "ML0105",
            "F",
            "Awa Traoré",
            "+223 76 42 63 59",
        ]);
        let problems =
            Plan::from_header(&first, Some(Kind::Returns), &Limits::default()).unwrap_err();
        let found: Vec<_> = problems.iter().collect();
        assert!(
            found
                .iter()
                .any(|p| p.rule == Rule::NoHeader && p.row == Some(1))
        );
        assert!(
            found
                .iter()
                .any(|p| p.rule.id() == "pii-value" && p.column.as_deref() == Some("#8"))
        );
        let report = crate::extract::report::Report {
            file: "retours.csv".into(),
            kind: Some(Kind::Returns),
            rows_read: 0,
            problems,
        };
        let text = crate::locale::Locale::ALL
            .iter()
            .map(|l| report.to_text(*l))
            .collect::<String>()
            + &report.to_json().to_string();
        for value in ["P-0042", "Awa", "Traor", "76 42", "2019-05-14", "DZA"] {
            assert!(!text.contains(value), "{value} in {text}");
        }
    }

    #[test]
    fn undeclared_and_missing_columns_are_named() {
        let cols = header(&["person_ref", "return_date", "notes"]);
        let problems =
            Plan::from_header(&cols, Some(Kind::Returns), &Limits::default()).unwrap_err();
        let named: Vec<_> = problems
            .iter()
            .map(|p| (p.column.unwrap(), p.rule.id()))
            .collect();
        assert!(named.contains(&("#3".into(), "undeclared-column")));
        assert!(named.contains(&("country_from".into(), "missing-column")));
        assert!(named.contains(&("age_band or birth_year".into(), "missing-column")));
    }
}
