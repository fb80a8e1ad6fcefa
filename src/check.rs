//! check: `reintegra check PATH` — the job's validation without loading anything, for
//! programme staff before they send a file, and for reviewers of definition files.
//!
//! Extract files are checked against the contract and the PII gate; `*.sql` measure
//! files are parsed and their queries run against an empty private store; dashboard
//! files are checked against the measures they read; the grant's budget
//! (`_budget.toml`) for its lines, quarters, total and monthly rates; the register files of a data
//! folder (`reference/sites.csv`, `reference/departure.csv`) line by line; notes
//! (`DATA/notes/`, a folder or one of its files) against the dashboards and the PII
//! gate of notes.
//!
//! An extract's verdict and problems are told in the language asked for (French by
//! default: the data officers who run it before sending a file work in French), each
//! problem with what to do about it. Definition, notes and register files are for the
//! programme's technical staff and are checked in English.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::definitions::{
    Budget, DefinitionError, MeasureInfo, budget, dashboard, iati, measure, notes, programme,
    results,
};
use crate::extract::report::{format_rows, kind_name, place, rows_word};
use crate::extract::{self, source::Dialect};
use crate::locale::Locale;
use crate::measures;
use crate::reference::Register;
use crate::store::PrivateStore;

/// The register extracts are checked against: a data folder's (`reference/sites.csv`,
/// `reference/departure.csv` beside the built-in one), or the built-in one alone. Its
/// problems, one per line, when the folder's files are wrong.
pub fn register(data: Option<&Path>) -> Result<Register, String> {
    let Some(data) = data else {
        return Ok(Register::builtin());
    };
    Register::load(data).map_err(|problems| {
        problems
            .iter()
            .map(|p| format!("{}:{}: {}", p.file.display(), p.line, p.message))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// The verdict on one file, as printed.
pub struct Checked {
    pub path: PathBuf,
    pub ok: bool,
    pub text: String,
}

/// The budget extracts are checked against: `path` when it exists (its problems, one
/// per line, when it is invalid), else none (finance extracts are then checked
/// against the budget lines of the reference data, without rates).
pub fn budget(path: &Path) -> Result<Option<Budget>, String> {
    if !path.exists() {
        return Ok(None);
    }
    Budget::load(path).map(Some).map_err(|e| e.to_string())
}

/// Checks a file, or every file of a folder (not recursing). Dashboard files are
/// checked against the measures of `queries`, extracts against `register` and
/// `budget`; an extract's verdict is told in `lang`.
pub fn check_path(
    path: &Path,
    today: NaiveDate,
    queries: &Path,
    register: &Register,
    budget: Option<&Budget>,
    lang: Locale,
) -> std::io::Result<Vec<Checked>> {
    let mut paths = Vec::new();
    if path.is_dir() {
        for entry in std::fs::read_dir(path)? {
            let p = entry?.path();
            if p.is_file() && extract::is_delivered(&p) {
                paths.push(p);
            }
        }
        paths.sort();
    } else if path.exists() {
        paths.push(path.to_path_buf());
    } else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{} does not exist", path.display()),
        ));
    }
    let mut store: Option<PrivateStore> = None;
    let mut out = Vec::new();
    for p in paths {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name == programme::FILE {
            out.push(check_programme(&p));
        } else if name == results::FILE {
            out.push(check_results(&p, queries));
        } else if name == budget::FILE {
            out.push(check_budget(&p));
        } else if name == iati::FILE {
            out.push(check_iati(&p));
        } else if p.extension().is_some_and(|e| e == "toml") {
            out.push(check_dashboard(&p, queries));
        } else if p.extension().is_some_and(|e| e == "sql") {
            let store = match &store {
                Some(s) => s,
                None => store.insert(PrivateStore::in_memory().map_err(std::io::Error::other)?),
            };
            out.push(check_measure(store, &p));
        } else if is_register_file(&p) {
            out.push(check_register(&p));
        } else {
            out.push(check_extract(&p, today, register, budget, lang));
        }
    }
    Ok(out)
}

/// Whether `path` holds notes: a folder named `notes`, a file inside one, or a
/// `*.toml` file of `[[note]]` tables.
pub fn is_notes(path: &Path) -> bool {
    let named = |p: &Path| p.file_name().is_some_and(|n| n == notes::DIR);
    if path.is_dir() {
        return named(path);
    }
    if path.parent().is_some_and(named) {
        return true;
    }
    path.extension().is_some_and(|e| e == "toml")
        && std::fs::read_to_string(path)
            .ok()
            .and_then(|text| text.parse::<toml::Table>().ok())
            .is_some_and(|t| t.contains_key("note") && !t.contains_key("panels"))
}

/// Checks a notes folder (every `*.toml`, with its `names.txt`) or one notes file
/// against the dashboards of `dashboards`: one verdict per file read, each problem
/// with its line (never the text).
pub fn check_notes(path: &Path, dashboards: &Path) -> std::io::Result<Vec<Checked>> {
    if !path.exists() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{} does not exist", path.display()),
        ));
    }
    let dashboards = match dashboard::load_dir(dashboards) {
        Ok(d) => d,
        Err(e) => {
            return Ok(vec![Checked {
                path: path.to_path_buf(),
                ok: false,
                text: format!(
                    "INVALID {}: the dashboards notes are checked against are invalid:\n{e}\n",
                    path.display()
                ),
            }]);
        }
    };
    let loaded = if path.is_dir() {
        notes::load_dir(path, &dashboards)
    } else if path.file_name().is_some_and(|n| n == notes::NAMES_FILE) {
        let dir = path.parent().unwrap_or(Path::new("."));
        let (_, problems) = notes::NamePatterns::for_folder(dir);
        notes::Loaded {
            problems,
            files: vec![path.to_path_buf()],
            ..Default::default()
        }
    } else {
        notes::load_file(path, &dashboards)
    };
    let mut files = loaded.files.clone();
    for p in &loaded.problems {
        if !files.contains(&p.file) {
            files.push(p.file.clone());
        }
    }
    Ok(files
        .into_iter()
        .map(|file| {
            let problems: Vec<&DefinitionError> =
                loaded.problems.iter().filter(|p| p.file == file).collect();
            let mut text = if problems.is_empty() {
                if file.file_name().is_some_and(|n| n == notes::NAMES_FILE) {
                    format!("OK      {}: list of names\n", file.display())
                } else {
                    let count = loaded.notes.all().iter().filter(|n| n.file == file).count();
                    format!(
                        "OK      {}: {count} note{}\n",
                        file.display(),
                        if count == 1 { "" } else { "s" }
                    )
                }
            } else {
                format!(
                    "INVALID {}: {} problem(s)\n",
                    file.display(),
                    problems.len()
                )
            };
            for p in &problems {
                let _ = writeln!(text, "  line {}: {}", p.line, p.message);
            }
            Checked {
                path: file,
                ok: problems.is_empty(),
                text,
            }
        })
        .collect())
}

/// `reference/sites.csv` or `reference/departure.csv` of a data folder.
fn is_register_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let parent = path
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("");
    parent == "reference" && matches!(name, "sites.csv" | "departure.csv")
}

fn check_register(path: &Path) -> Checked {
    let problems = Register::check_file(path);
    let mut text = if problems.is_empty() {
        format!("OK      {}: register file\n", path.display())
    } else {
        format!(
            "INVALID {}: {} problem(s)\n",
            path.display(),
            problems.len()
        )
    };
    for p in &problems {
        let _ = writeln!(text, "  line {}: {}", p.line, p.message);
    }
    Checked {
        path: path.to_path_buf(),
        ok: problems.is_empty(),
        text,
    }
}

/// Checks the grant's budget: currency, total, lines against the reference data,
/// planned quarters inside the project and adding up to the total, a rate for every
/// currency in every month of the project.
fn check_budget(path: &Path) -> Checked {
    match Budget::load(path) {
        Ok(b) => Checked {
            path: path.to_path_buf(),
            ok: true,
            text: format!(
                "OK      {}: budget of {:.2} {}, {} lines, {} quarters, rates for {} months\n",
                path.display(),
                b.total,
                b.currency,
                b.lines.len(),
                b.quarters().len(),
                b.rates.len()
            ),
        },
        Err(e) => Checked {
            path: path.to_path_buf(),
            ok: false,
            text: format!(
                "INVALID {}: {} problem(s)\n{e}\n",
                path.display(),
                e.0.len()
            ),
        },
    }
}

fn check_extract(
    path: &Path,
    today: NaiveDate,
    register: &Register,
    budget: Option<&Budget>,
    lang: Locale,
) -> Checked {
    let ctx = extract::Context {
        register: std::sync::Arc::new(register.clone()),
        budget: budget.cloned().map(std::sync::Arc::new),
        ..extract::Context::new(today)
    };
    let extract = extract::read(path, &ctx, &mut |_, _| {}, &mut |_, _| {});
    let t = |fr: &'static str, en: &'static str| lang.pick(fr, en);
    let colon = t(" :", ":");
    let mut text = String::new();
    if extract.is_valid() {
        let kind = extract.kind.map_or("?", |k| kind_name(k, lang));
        let span = extract.span.map(|s| s.to_string()).unwrap_or_default();
        let dialect = extract
            .dialect
            .map(|d| dialect_text(d, lang))
            .unwrap_or_default();
        let _ = writeln!(
            text,
            "OK      {}{colon} {kind}, {}, {} {span} ({dialect})",
            path.display(),
            rows_word(extract.rows, lang),
            t("mois", "months"),
        );
    } else {
        let total = extract.problems.total();
        let _ = writeln!(
            text,
            "{} {}{colon} {total} {}{}",
            t("INVALIDE", "INVALID"),
            path.display(),
            match (lang, total) {
                (Locale::Fr, 1) => "problème",
                (Locale::Fr, _) => "problèmes",
                (Locale::En, 1) => "problem",
                (Locale::En, _) => "problems",
            },
            if extract.problems.has_pii() {
                t(
                    " (données identifiantes : n'envoyez pas ce fichier)",
                    " (identifying data: do not send this file)",
                )
            } else {
                ""
            }
        );
        for (column, rule, rows) in extract.problems.groups() {
            let _ = write!(
                text,
                "  {}{colon} {} — {}",
                place(column.as_deref(), rule, false, lang),
                rule.id(),
                rule.explain(lang)
            );
            if rows.first().is_some_and(|r| r.0 > 0) {
                let _ = write!(
                    text,
                    "{} {} {}",
                    t(" ;", ";"),
                    t("ligne", "row"),
                    format_rows(rows, usize::MAX, lang)
                );
            }
            text.push('\n');
            let _ = writeln!(
                text,
                "    {} {}",
                t("à faire :", "what to do:"),
                rule.fix(lang)
            );
        }
    }
    Checked {
        path: path.to_path_buf(),
        ok: extract.is_valid(),
        text,
    }
}

/// How a file is written, in `lang`: `CSV, ';'-separated, Utf8` / `CSV séparé par ';', Utf8`.
fn dialect_text(dialect: Dialect, lang: Locale) -> String {
    match (dialect, lang) {
        (
            Dialect::Csv {
                delimiter,
                encoding,
            },
            Locale::Fr,
        ) => {
            let sep = match delimiter {
                b'\t' => "des tabulations".to_string(),
                d => format!("'{}'", d as char),
            };
            format!("CSV séparé par {sep}, {encoding:?}")
        }
        _ => dialect.to_string(),
    }
}

fn check_dashboard(path: &Path, queries: &Path) -> Checked {
    let verdict = |ok: bool, text: String| Checked {
        path: path.to_path_buf(),
        ok,
        text,
    };
    let measures = match measure::load_dir(queries) {
        Ok(m) => m,
        Err(e) => {
            return verdict(
                false,
                format!(
                    "INVALID {}: the measures it reads are invalid:\n{e}\n",
                    path.display()
                ),
            );
        }
    };
    let infos: Vec<MeasureInfo> = measures.iter().map(MeasureInfo::from).collect();
    let result = std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|text| dashboard::parse(path, &text).map_err(|e| e.to_string()))
        .and_then(|d| {
            // A results panel shows the framework beside the dashboard, a budget panel
            // the budget.
            let mut one = [d];
            let dir = path.parent().unwrap_or(Path::new("."));
            dashboard::attach_results(&mut one, dir).map_err(|e| e.to_string())?;
            dashboard::attach_budget(&mut one, dir).map_err(|e| e.to_string())?;
            let [d] = one;
            Ok(d)
        })
        .and_then(|d| {
            dashboard::validate(std::slice::from_ref(&d), &infos)
                .map(|()| d)
                .map_err(|e| e.to_string())
        });
    match result {
        Ok(d) => verdict(
            true,
            format!(
                "OK      {}: dashboard {}, {} panels\n",
                path.display(),
                d.id,
                d.panels.len()
            ),
        ),
        Err(e) => verdict(false, format!("INVALID {e}\n")),
    }
}

/// `_iati.toml`: the project as an IATI activity — its codes, dates and regions, and
/// with the budget and the results framework beside it (same currency, budget quarters
/// inside its dates, percentage indicators that exist).
fn check_iati(path: &Path) -> Checked {
    let dir = path.parent().unwrap_or(Path::new("."));
    let verdict = |ok: bool, text: String| Checked {
        path: path.to_path_buf(),
        ok,
        text,
    };
    match iati::Definitions::load(dir) {
        Ok(Some(d)) => verdict(
            true,
            format!(
                "OK      {}: IATI activity {}, {} participating organisations, {} regions\n",
                path.display(),
                d.activity.identifier,
                d.activity.participating.len(),
                d.activity.locations.regions.len()
            ),
        ),
        Ok(None) => verdict(false, format!("INVALID {}: cannot read\n", path.display())),
        Err(e) => verdict(
            false,
            format!(
                "INVALID {}: {} problem(s)\n{e}\n",
                path.display(),
                e.0.len()
            ),
        ),
    }
}

/// `_programme.toml`: the site's text.
fn check_programme(path: &Path) -> Checked {
    let dir = path.parent().unwrap_or(Path::new("."));
    match crate::definitions::Programme::load(dir) {
        Ok(_) => Checked {
            path: path.to_path_buf(),
            ok: true,
            text: format!("OK      {}: the programme's text\n", path.display()),
        },
        Err(e) => Checked {
            path: path.to_path_buf(),
            ok: false,
            text: format!("INVALID {e}\n"),
        },
    }
}

/// `_results.toml`: the results framework, against the measures of `queries` and the
/// PONAM axes of the dashboards beside it.
fn check_results(path: &Path, queries: &Path) -> Checked {
    let verdict = |ok: bool, text: String| Checked {
        path: path.to_path_buf(),
        ok,
        text,
    };
    let infos: Vec<MeasureInfo> = match measure::load_dir(queries) {
        Ok(m) => m.iter().map(MeasureInfo::from).collect(),
        Err(e) => {
            return verdict(
                false,
                format!(
                    "INVALID {}: the measures it reads are invalid:\n{e}\n",
                    path.display()
                ),
            );
        }
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let result = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))
        .and_then(|text| results::Framework::parse(path, &text).map_err(|e| e.to_string()))
        .and_then(|f| {
            let axes = dashboard::axes_of(&[], dir);
            let codes: Vec<&str> = axes.keys().map(String::as_str).collect();
            f.validate(&infos, &codes)
                .map(|()| f.indicators().count())
                .map_err(|e| e.to_string())
        });
    match result {
        Ok(count) => verdict(
            true,
            format!(
                "OK      {}: results framework, {count} indicators\n",
                path.display()
            ),
        ),
        Err(e) => verdict(false, format!("INVALID {e}\n")),
    }
}

fn check_measure(store: &PrivateStore, path: &Path) -> Checked {
    let result = std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|text| measure::parse(path, &text).map_err(|e| e.to_string()))
        .and_then(|m| {
            measures::check_query(store.connection(), &m)
                .map(|()| m)
                .map_err(|e| e.to_string())
        });
    match result {
        Ok(m) => Checked {
            path: path.to_path_buf(),
            ok: true,
            text: format!(
                "OK      {}: measure {}, {} dimensions, {} breakdowns\n",
                path.display(),
                m.id,
                m.dimensions.len(),
                m.breakdowns.len()
            ),
        },
        Err(e) => Checked {
            path: path.to_path_buf(),
            ok: false,
            text: format!("INVALID {e}\n"),
        },
    }
}
