//! Problems found in an extract, and the report written beside a quarantined file.
//!
//! A problem names the file, the row (spreadsheet numbering: the header is row 1), the
//! column and the rule. It never holds the offending value: reports and logs are read
//! by people who must not see extract contents.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use serde::Serialize;

use super::limits::Limit;
use crate::pii::PiiKind;
use crate::domain::Kind;

/// A rule of the extract contract. `Display` gives the rule's short identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    Unreadable,
    SeveralSheets,
    Encoding,
    EmptyFile,
    UnknownKind,
    PiiColumn(PiiKind),
    PiiValue(PiiKind),
    MissingColumn,
    UndeclaredColumn,
    DuplicateColumn,
    FieldCount,
    Empty,
    TooLong,
    InvalidDate,
    FutureDate,
    DateTooEarly,
    UnknownCountry,
    UnknownRegion,
    UnknownCercle,
    CercleOutsideRegion,
    /// A code outside its set; the allowed codes are part of the contract, not data.
    UnknownCode(Vec<&'static str>),
    InvalidBirthYear,
    InvalidFlag,
    InvalidCount,
    NegativeCount,
    InvalidScore,
    PartExceedsTotal,
    AgeBandMismatch,
    UnaccompaniedAdult,
    DuplicateRow,
    /// A limit on the work one file may cause, with the limit's value.
    Limit(Limit, u64),
    /// A run died while reading this file.
    CrashedReader,
    /// The first row holds values, not column names.
    NoHeader,
    /// A site that is not in the register, or not in the row's cercle.
    UnknownSite,
}

impl Rule {
    pub fn id(&self) -> &'static str {
        match self {
            Rule::Unreadable => "unreadable",
            Rule::SeveralSheets => "several-sheets",
            Rule::Encoding => "encoding",
            Rule::EmptyFile => "empty-file",
            Rule::UnknownKind => "unknown-kind",
            Rule::PiiColumn(_) => "pii-column",
            Rule::PiiValue(_) => "pii-value",
            Rule::MissingColumn => "missing-column",
            Rule::UndeclaredColumn => "undeclared-column",
            Rule::DuplicateColumn => "duplicate-column",
            Rule::FieldCount => "field-count",
            Rule::Empty => "empty-value",
            Rule::TooLong => "too-long",
            Rule::InvalidDate => "invalid-date",
            Rule::FutureDate => "future-date",
            Rule::DateTooEarly => "date-too-early",
            Rule::UnknownCountry => "unknown-country",
            Rule::UnknownRegion => "unknown-pcode",
            Rule::UnknownCercle => "unknown-pcode",
            Rule::CercleOutsideRegion => "cercle-outside-region",
            Rule::UnknownCode(_) => "unknown-code",
            Rule::InvalidBirthYear => "invalid-birth-year",
            Rule::InvalidFlag => "invalid-flag",
            Rule::InvalidCount => "invalid-count",
            Rule::NegativeCount => "negative-count",
            Rule::InvalidScore => "invalid-score",
            Rule::PartExceedsTotal => "part-exceeds-total",
            Rule::AgeBandMismatch => "age-band-mismatch",
            Rule::UnaccompaniedAdult => "unaccompanied-adult",
            Rule::DuplicateRow => "duplicate-row",
            Rule::Limit(limit, _) => limit.id(),
            Rule::CrashedReader => "crashed-reader",
            Rule::NoHeader => "no-header",
            Rule::UnknownSite => "unknown-site",
        }
    }

    /// What is wrong and what to do, without quoting the value.
    pub fn explain(&self) -> String {
        match self {
            Rule::Unreadable => "the file could not be read as CSV or XLSX".into(),
            Rule::SeveralSheets => "several sheets of the workbook hold data; send one sheet per file".into(),
            Rule::Encoding => "the text is neither UTF-8 nor Windows-1252".into(),
            Rule::EmptyFile => "the file has no header row".into(),
            Rule::UnknownKind => "the kind of extract is not recognised: start the file name with returns/retours, sessions/seances, campaigns/campagnes or trainings/formations, or use the contract's column names".into(),
            Rule::PiiColumn(kind) => format!("the column looks like it holds {}; remove it before sending the file", kind.describe()),
            Rule::PiiValue(kind) => format!("the cell looks like {}; remove identifying data before sending the file", kind.describe()),
            Rule::MissingColumn => "a required column is missing".into(),
            Rule::UndeclaredColumn => "the column is not part of the contract; remove it".into(),
            Rule::DuplicateColumn => "the column appears twice".into(),
            Rule::FieldCount => "the row has a different number of fields than the header".into(),
            Rule::Empty => "the cell is empty but a value is required".into(),
            Rule::TooLong => "the cell is longer than 80 characters".into(),
            Rule::InvalidDate => "not a real date written YYYY-MM-DD or DD/MM/YYYY".into(),
            Rule::FutureDate => "the date is in the future".into(),
            Rule::DateTooEarly => "the date is before 2000".into(),
            Rule::UnknownCountry => "not the ISO 3166 alpha-3 code of a country of departure of the register (e.g. DZA, LBY); a new country is added to DATA/reference/departure.csv".into(),
            Rule::UnknownSite => "not a site of the register, or a site outside the row's cercle: use the code (e.g. ML0105-01) or the name of a site of the register; a new site is added to DATA/reference/sites.csv".into(),
            Rule::UnknownRegion => "not a region P-code of the 2019 boundaries (ML01 … ML10)".into(),
            Rule::UnknownCercle => "not a cercle P-code of the 2019 boundaries (e.g. ML0105)".into(),
            Rule::CercleOutsideRegion => "the cercle is not in the row's region".into(),
            Rule::UnknownCode(allowed) => format!("not one of the allowed codes: {}", allowed.join(", ")),
            Rule::InvalidBirthYear => "not a year of birth between 1900 and the year of the event".into(),
            Rule::InvalidFlag => "not a yes/no value (1/0, yes/no, oui/non, true/false)".into(),
            Rule::InvalidCount => "not a whole number".into(),
            Rule::NegativeCount => "a count cannot be negative".into(),
            Rule::InvalidScore => "not a score between 0 and 100".into(),
            Rule::PartExceedsTotal => "women or youth reached exceed people reached".into(),
            Rule::AgeBandMismatch => "age_band and birth_year disagree".into(),
            Rule::UnaccompaniedAdult => "unaccompanied_minor is set for someone aged 18 or over".into(),
            Rule::DuplicateRow => "the row repeats the key of an earlier row".into(),
            Rule::Limit(limit, value) => format!(
                "the file passes the limit {} = {value}: split it into smaller files (or, if it is genuine, raise the limit in ingest.toml)",
                limit.setting()
            ),
            Rule::CrashedReader => "a run of the nightly job stopped while reading this file, so it was set aside to keep later runs going; if the file is sound, deliver it again".into(),
            Rule::NoHeader => "the first row holds values, not column names: add the contract's header row (person_ref, return_date, …) above the data".into(),
        }
    }

    /// Rules that reject a file because it carries identifying data.
    pub fn is_pii(&self) -> bool {
        matches!(self, Rule::PiiColumn(_) | Rule::PiiValue(_))
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// One problem: where (row, column) and which rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Spreadsheet row number (header = 1); `None` for the file as a whole.
    pub row: Option<u64>,
    /// The column as the contract names it, or as the file's header writes it.
    pub column: Option<String>,
    pub rule: Rule,
}

/// Problems of one file, grouped by (column, rule) so that a million bad rows make a
/// short report that still accounts for every one of them.
#[derive(Debug, Default, Clone)]
pub struct Problems {
    groups: BTreeMap<(Option<String>, Rule), Vec<RowRange>>,
    total: u64,
}

/// An inclusive run of row numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RowRange(pub u64, pub u64);

impl Problems {
    pub fn push(&mut self, problem: Problem) {
        self.total += 1;
        let rows = self
            .groups
            .entry((problem.column, problem.rule))
            .or_default();
        let row = problem.row.unwrap_or(0);
        match rows.last_mut() {
            Some(last) if last.1 + 1 == row => last.1 = row,
            Some(last) if last.1 == row => {}
            _ => rows.push(RowRange(row, row)),
        }
    }

    pub fn at(&mut self, row: u64, column: &str, rule: Rule) {
        self.push(Problem {
            row: Some(row),
            column: Some(column.to_string()),
            rule,
        });
    }

    /// A problem of the file as a whole, found at a row.
    pub fn file_at(&mut self, row: u64, rule: Rule) {
        self.push(Problem {
            row: Some(row),
            column: None,
            rule,
        });
    }

    pub fn file(&mut self, rule: Rule) {
        self.push(Problem {
            row: None,
            column: None,
            rule,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    pub fn has_pii(&self) -> bool {
        self.groups.keys().any(|(_, rule)| rule.is_pii())
    }

    /// Every problem, row by row (expands the grouped runs; meant for tests and small files).
    pub fn iter(&self) -> impl Iterator<Item = Problem> + '_ {
        self.groups.iter().flat_map(|((column, rule), ranges)| {
            ranges.iter().flat_map(move |r| {
                (r.0..=r.1).map(move |row| Problem {
                    row: (row > 0).then_some(row),
                    column: column.clone(),
                    rule: rule.clone(),
                })
            })
        })
    }

    pub fn groups(&self) -> impl Iterator<Item = (&Option<String>, &Rule, &[RowRange])> {
        self.groups
            .iter()
            .map(|((c, r), rows)| (c, r, rows.as_slice()))
    }
}

/// The outcome of reading one file, as written beside a quarantined file.
#[derive(Debug, Clone)]
pub struct Report {
    pub file: String,
    pub kind: Option<Kind>,
    pub rows_read: u64,
    pub problems: Problems,
}

impl Report {
    /// The plain-text report, meant for programme staff.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let verdict = if self.problems.has_pii() {
            "REJECTED: the file carries identifying data"
        } else {
            "REJECTED: the file breaks the extract contract"
        };
        let _ = writeln!(out, "reintegra extract report\nfile: {}", self.file);
        let _ = writeln!(out, "kind: {}", self.kind.map_or("unknown", Kind::name));
        let _ = writeln!(out, "rows read: {}", self.rows_read);
        let _ = writeln!(out, "{verdict}; nothing from it was loaded.");
        let _ = writeln!(out, "problems: {}\n", self.problems.total());
        let _ = writeln!(
            out,
            "Rows are numbered as in a spreadsheet (the header is row 1)."
        );
        let _ = writeln!(out, "Cell values are never quoted in this report.\n");
        for (column, rule, rows) in self.problems.groups() {
            let count: u64 = rows.iter().map(|r| r.1 - r.0 + 1).sum();
            let place = match column {
                Some(c) => match c.strip_prefix('#').and_then(|n| n.parse::<usize>().ok()) {
                    Some(n) => format!("column {c} ({})", column_letters(n)),
                    None => format!("column {c}"),
                },
                None => "file".to_string(),
            };
            let _ = writeln!(out, "- {place}: {} — {}", rule.id(), rule.explain());
            if rows.first().is_some_and(|r| r.0 > 0) {
                let _ = writeln!(
                    out,
                    "  {} row{}: {}",
                    count,
                    plural(count),
                    format_rows(rows, 50)
                );
            }
        }
        out
    }

    /// The machine-readable report.
    pub fn to_json(&self) -> serde_json::Value {
        let problems: Vec<_> = self
            .problems
            .groups()
            .map(|(column, rule, rows)| {
                let rows: Vec<RowRange> = rows.iter().copied().filter(|r| r.0 > 0).collect();
                serde_json::json!({
                    "column": column,
                    "rule": rule.id(),
                    "message": rule.explain(),
                    "rows": rows,
                    "count": rows.iter().map(|r| r.1 - r.0 + 1).sum::<u64>(),
                })
            })
            .collect();
        serde_json::json!({
            "file": self.file,
            "kind": self.kind.map(Kind::name),
            "rows_read": self.rows_read,
            "outcome": "rejected",
            "pii": self.problems.has_pii(),
            "problem_count": self.problems.total(),
            "problems": problems,
        })
    }
}

/// A spreadsheet's name of the n-th column (1 → A, 27 → AA).
pub fn column_letters(mut n: usize) -> String {
    let mut out = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        out.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `2, 5-9, 12` — at most `limit` runs, then how many rows are left.
pub fn format_rows(rows: &[RowRange], limit: usize) -> String {
    let mut parts: Vec<String> = rows
        .iter()
        .take(limit)
        .map(|r| {
            if r.0 == r.1 {
                r.0.to_string()
            } else {
                format!("{}-{}", r.0, r.1)
            }
        })
        .collect();
    if rows.len() > limit {
        let rest: u64 = rows[limit..].iter().map(|r| r.1 - r.0 + 1).sum();
        parts.push(format!("and {rest} more"));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_group_consecutive_rows() {
        let mut p = Problems::default();
        for row in [2, 3, 4, 9] {
            p.at(row, "return_date", Rule::InvalidDate);
        }
        p.at(5, "sex", Rule::UnknownCode(vec!["F", "M"]));
        assert_eq!(p.total(), 5);
        let groups: Vec<_> = p.groups().collect();
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].2, &[RowRange(2, 4), RowRange(9, 9)]);
        assert_eq!(format_rows(groups[0].2, 1), "2-4, and 1 more");
        assert_eq!(p.iter().count(), 5);
        assert_eq!(column_letters(1), "A");
        assert_eq!(column_letters(12), "L");
        assert_eq!(column_letters(27), "AA");
        assert_eq!(column_letters(16384), "XFD");
    }
}
