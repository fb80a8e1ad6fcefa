//! extract: reading an extract file, checking it against the contract and the PII gate.
//!
//! Owns the edge of the system: raw text comes in, domain values and problems go out.
//! It never writes anything; the caller decides what to do with valid rows (load them,
//! or nothing at all for `reintegra check`). It never puts a cell value in a problem.

pub mod contract;
pub mod limits;
pub mod report;
pub mod source;
pub mod validate;

use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;

use crate::domain::{Kind, MonthSpan};
pub use limits::{Limit, Limits};
use report::{Problems, Report, Rule};
use source::{Dialect, Fingerprint, SourceError};
pub use validate::RowBuf;

/// What reading one file found.
#[derive(Debug)]
pub struct Extract {
    /// The file's name (not its path).
    pub name: String,
    pub fingerprint: Option<Fingerprint>,
    pub kind: Option<Kind>,
    pub dialect: Option<Dialect>,
    /// Data rows read (blank rows excluded).
    pub rows: u64,
    /// The months the file's dates span.
    pub span: Option<MonthSpan>,
    pub problems: Problems,
}

impl Extract {
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }

    pub fn report(&self) -> Report {
        Report {
            file: self.name.clone(),
            kind: self.kind,
            rows_read: self.rows,
            problems: self.problems.clone(),
        }
    }
}

/// What a file is checked against.
#[derive(Debug, Clone)]
pub struct Context {
    /// Dates after this day are rejected.
    pub today: NaiveDate,
    /// The work one file may cause.
    pub limits: Limits,
    /// The sites and countries of departure an extract may name.
    pub register: Arc<crate::reference::Register>,
    /// The grant's budget: the lines a finance extract may name and the months (and
    /// currencies) it has exchange rates for. None: the budget lines of the reference
    /// data (`[budget_line]` of `labels.toml`), and no check of rates.
    pub budget: Option<Arc<crate::definitions::Budget>>,
}

impl Context {
    /// Default limits and the built-in register.
    pub fn new(today: NaiveDate) -> Context {
        Context {
            today,
            limits: Limits::default(),
            register: Arc::new(crate::reference::Register::builtin()),
            budget: None,
        }
    }
}

/// Reads and checks one file. Valid rows go to `sink` (with the file's kind) as long as
/// no problem has been found; `progress(bytes_read, bytes_total)` is called as it goes.
pub fn read(
    path: &Path,
    ctx: &Context,
    sink: &mut dyn FnMut(Kind, &RowBuf),
    progress: &mut dyn FnMut(u64, u64),
) -> Extract {
    match source::fingerprint(path) {
        Ok(fingerprint) => read_fingerprinted(path, fingerprint, ctx, sink, progress),
        Err(_) => {
            let mut extract = Extract::new(path);
            extract.problems.file(Rule::Unreadable);
            extract
        }
    }
}

impl Extract {
    fn new(path: &Path) -> Extract {
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Extract {
            kind: Kind::from_file_name(&name),
            name,
            fingerprint: None,
            dialect: None,
            rows: 0,
            span: None,
            problems: Problems::default(),
        }
    }
}

/// `read` for a file whose fingerprint the caller already took.
///
/// A panic inside a reader (a bug in a workbook library met by a strange file) is
/// caught and makes the file unreadable: a file never stops the run.
pub fn read_fingerprinted(
    path: &Path,
    fingerprint: Fingerprint,
    ctx: &Context,
    sink: &mut dyn FnMut(Kind, &RowBuf),
    progress: &mut dyn FnMut(u64, u64),
) -> Extract {
    let fp = fingerprint.clone();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_guarded(path, fingerprint, ctx, sink, progress)
    }));
    caught.unwrap_or_else(|_| {
        tracing::error!(file = %path.display(), "the reader failed on this file; it is treated as unreadable");
        let mut extract = Extract::new(path);
        extract.fingerprint = Some(fp);
        extract.problems.file(Rule::Unreadable);
        extract
    })
}

fn read_guarded(
    path: &Path,
    fingerprint: Fingerprint,
    ctx: &Context,
    sink: &mut dyn FnMut(Kind, &RowBuf),
    progress: &mut dyn FnMut(u64, u64),
) -> Extract {
    let limits = &ctx.limits;
    let mut extract = Extract::new(path);
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !matches!(ext.as_str(), "csv" | "tsv" | "txt" | "xlsx" | "xlsm") {
        extract.fingerprint = Some(fingerprint);
        extract.problems.file(Rule::Unreadable);
        return extract;
    }
    let opened = source::open(path, &fingerprint, limits);
    extract.fingerprint = Some(fingerprint);
    let mut table = match opened {
        Ok(table) => table,
        Err(e) => {
            extract.problems.push(source_problem(&e, limits));
            return extract;
        }
    };
    extract.dialect = Some(table.dialect);
    let plan = match validate::Plan::from_header(&table.header, extract.kind, limits) {
        Ok(plan) => plan,
        Err(problems) => {
            extract.problems = problems;
            return extract;
        }
    };
    let kind = plan.kind;
    extract.kind = Some(kind);
    let mut validator = validate::Validator::new(plan, ctx);
    let total = table.bytes;
    let mut emit = |row: &RowBuf| sink(kind, row);
    let result = table.for_each_row(|row, cells, bytes| {
        if validator.rows >= limits.max_rows {
            validator.problems.push(report::Problem {
                row: Some(row),
                column: None,
                rule: Rule::Limit(Limit::Rows, limits.max_rows),
            });
            return false;
        }
        validator.row(row, cells, &mut emit);
        if validator.rows % 65_536 == 0 {
            progress(bytes, total);
        }
        true
    });
    progress(total, total);
    extract.rows = validator.rows;
    extract.span = validator.span();
    extract.problems = std::mem::take(&mut validator.problems);
    if let Err(e) = result {
        extract.problems.push(source_problem(&e, limits));
    }
    if extract.problems.is_empty() && extract.rows == 0 {
        extract.problems.file(Rule::EmptyFile);
    }
    extract
}

fn source_problem(e: &SourceError, limits: &Limits) -> report::Problem {
    let (row, rule) = match e {
        SourceError::Empty => (None, Rule::EmptyFile),
        SourceError::SeveralSheets => (None, Rule::SeveralSheets),
        SourceError::Csv { line, .. } => (Some(*line), Rule::Unreadable),
        SourceError::Io(_) | SourceError::Workbook(_) => (None, Rule::Unreadable),
        SourceError::Limit { limit, row } => (*row, Rule::Limit(*limit, limits.value(*limit))),
    };
    report::Problem {
        row,
        column: None,
        rule,
    }
}

/// Whether an inbox entry is a delivered file. Hidden files, office lock files and
/// uploads in progress (`.part`, `.tmp`) are left alone; anything else is read, and a
/// file that is neither CSV nor a workbook is rejected as unreadable, never ignored.
pub fn is_delivered(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    !(name.starts_with('.') || name.starts_with('~') || matches!(ext.as_str(), "part" | "tmp"))
}
