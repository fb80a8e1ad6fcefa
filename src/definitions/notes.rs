//! Notes: what programme leads write to explain figures — a centre closed, a campaign
//! postponed — in `DATA/notes/*.toml`, one or more `[[note]]` tables per file:
//!
//! ```toml
//! [[note]]
//! date = "2019-07-15"            # or period = "2019-Q3" (a quarter) or "2019-07" (a month)
//! dashboard = "psychosocial"
//! panel = "attendances-by-month" # optional: the note then marks that panel's chart only
//! text = { fr = "Le centre d'écoute de Kita a fermé deux semaines.", en = "The Kita listening centre closed for two weeks." }
//! ```
//!
//! Notes are checked against the dashboards they name, and against a PII gate: a text
//! holding a phone number or an e-mail address (`pii::value_kind`, the extract gate's
//! detector) or a word of the list of names (`DATA/notes/names.txt`, else the built-in
//! `reference::NAME_PATTERNS`) is refused. Problems name the file and the line of the
//! offending key and never quote the text: a refused note may hold what must not be
//! repeated in a log.
//!
//! Notes never read figures, and no figure or extract value ever becomes a note: a
//! note's text is what its file says.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use toml::de::{DeTable, DeValue};

use super::{Dashboard, DefinitionError};
use crate::pii;
use crate::reference::{Label, NAME_PATTERNS};

/// The folder of notes inside a data folder.
pub const DIR: &str = "notes";
/// The list of names inside the notes folder; without it, the built-in list applies.
pub const NAMES_FILE: &str = "names.txt";
/// The longest text of a note, in characters, in each language.
pub const MAX_TEXT: usize = 500;

const KEYS: &str = "date, period, dashboard, panel, text";

/// When a note happened: a day, a month or a quarter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum When {
    Day(NaiveDate),
    /// A year and its month, 1 to 12.
    Month(i32, u32),
    /// A year and its quarter, 1 to 4.
    Quarter(i32, u32),
}

impl When {
    /// A day written `YYYY-MM-DD`, exactly.
    pub fn parse_date(raw: &str) -> Option<When> {
        let raw = raw.trim();
        if raw.len() != 10 || !plausible_year(&raw[..4]) {
            return None;
        }
        NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .ok()
            .map(When::Day)
    }

    /// A month written `YYYY-MM` or a quarter written `YYYY-Qn`, exactly.
    pub fn parse_period(raw: &str) -> Option<When> {
        let raw = raw.trim();
        let b = raw.as_bytes();
        if b.len() != 7 || b[4] != b'-' || !plausible_year(&raw[..4]) {
            return None;
        }
        let year: i32 = raw[..4].parse().ok()?;
        if b[5] == b'Q' || b[5] == b'q' {
            let q = (b[6] as char).to_digit(10)?;
            return (1..=4).contains(&q).then_some(When::Quarter(year, q));
        }
        if !b[5..].iter().all(u8::is_ascii_digit) {
            return None;
        }
        let m: u32 = raw[5..].parse().ok()?;
        (1..=12).contains(&m).then_some(When::Month(year, m))
    }

    /// `2019-07-15`, `2019-07` or `2019-Q3`.
    pub fn code(self) -> String {
        match self {
            When::Day(d) => d.format("%Y-%m-%d").to_string(),
            When::Month(y, m) => format!("{y:04}-{m:02}"),
            When::Quarter(y, q) => format!("{y:04}-Q{q}"),
        }
    }

    /// The months it lies in, as (year, month), in order.
    pub fn months(self) -> Vec<(i32, u32)> {
        match self {
            When::Day(d) => vec![(d.year(), d.month())],
            When::Month(y, m) => vec![(y, m)],
            When::Quarter(y, q) => (1..=3).map(|i| (y, (q - 1) * 3 + i)).collect(),
        }
    }

    /// Its first day.
    pub fn start(self) -> NaiveDate {
        match self {
            When::Day(d) => d,
            When::Month(y, m) => NaiveDate::from_ymd_opt(y, m, 1).unwrap_or_default(),
            When::Quarter(y, q) => {
                NaiveDate::from_ymd_opt(y, (q - 1) * 3 + 1, 1).unwrap_or_default()
            }
        }
    }

    /// Its last day.
    pub fn end(self) -> NaiveDate {
        let (y, m) = *self.months().last().unwrap_or(&(1970, 1));
        match self {
            When::Day(d) => d,
            _ => {
                let next = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                NaiveDate::from_ymd_opt(next.0, next.1, 1)
                    .and_then(|d| d.pred_opt())
                    .unwrap_or_default()
            }
        }
    }
}

fn plausible_year(raw: &str) -> bool {
    raw.parse::<i32>().is_ok_and(|y| (1900..=2100).contains(&y))
}

/// One note, checked: its dashboard and panel exist, its texts passed the gate.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub when: When,
    pub dashboard: String,
    /// The panel it concerns; none: the whole dashboard.
    pub panel: Option<String>,
    pub text: Label,
    /// Where it was written (for logs).
    pub file: PathBuf,
    pub line: usize,
}

impl Note {
    /// Whether the note concerns a panel of its dashboard (its own, or all of them).
    pub fn concerns(&self, panel: &str) -> bool {
        self.panel.as_deref().is_none_or(|p| p == panel)
    }
}

/// The notes of a folder, in file order, with a version that changes whenever any of
/// them does (what caches of rendered pages key on).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Notes {
    notes: Vec<Note>,
    version: u64,
}

impl Notes {
    pub fn new(notes: Vec<Note>) -> Notes {
        // FNV-1a over what a reader sees of each note: stable across runs.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let mut feed = |bytes: &[u8]| {
            for b in bytes.iter().chain([0xff_u8].iter()) {
                hash ^= u64::from(*b);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        };
        for n in &notes {
            feed(n.when.code().as_bytes());
            feed(n.dashboard.as_bytes());
            feed(n.panel.as_deref().unwrap_or("").as_bytes());
            feed(n.text.fr.as_bytes());
            feed(n.text.en.as_bytes());
        }
        Notes {
            version: if notes.is_empty() { 0 } else { hash },
            notes,
        }
    }

    pub fn all(&self) -> &[Note] {
        &self.notes
    }

    /// 0 when there are none; otherwise a digest of every note.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The notes of one dashboard, in file order.
    pub fn of_dashboard<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Note> + 'a {
        self.notes.iter().filter(move |n| n.dashboard == id)
    }

    pub fn len(&self) -> usize {
        self.notes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.notes.is_empty()
    }
}

/// A folder (or file) of notes as read: the notes that passed every check, and the
/// problems of those that did not (each skipped note has at least one).
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub notes: Notes,
    pub problems: Vec<DefinitionError>,
    /// The files read (`*.toml`, and `names.txt` when there is one), sorted.
    pub files: Vec<PathBuf>,
}

// --- names -----------------------------------------------------------------------

/// Names no note may contain: whole words (or runs of words), matched ignoring case
/// and accents.
#[derive(Debug, Clone)]
pub struct NamePatterns {
    single: HashSet<String>,
    /// Patterns of several words, matched one after the other.
    runs: Vec<Vec<String>>,
}

impl NamePatterns {
    /// The built-in list (`src/reference/name-patterns.txt`).
    pub fn builtin() -> NamePatterns {
        let (names, problems) =
            NamePatterns::parse(Path::new("src/reference/name-patterns.txt"), NAME_PATTERNS);
        debug_assert!(problems.is_empty(), "the built-in list of names is valid");
        names
    }

    /// One pattern per line; blank lines and lines starting with `#` are skipped. A
    /// line with no letter is a problem (and skipped).
    pub fn parse(file: &Path, text: &str) -> (NamePatterns, Vec<DefinitionError>) {
        let mut names = NamePatterns {
            single: HashSet::new(),
            runs: Vec::new(),
        };
        let mut problems = Vec::new();
        for (i, line) in text.trim_start_matches('\u{feff}').lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words = words(line);
            let letters = words.iter().any(|w| w.chars().any(char::is_alphabetic));
            match words.len() {
                _ if !letters => problems.push(DefinitionError {
                    file: file.into(),
                    line: i + 1,
                    message: "a name pattern needs at least one letter".into(),
                }),
                1 => {
                    names.single.extend(words);
                }
                _ => names.runs.push(words),
            }
        }
        (names, problems)
    }

    /// `names.txt` of a notes folder, or the built-in list when it has none. An
    /// unreadable file is a problem, and the built-in list applies.
    pub fn for_folder(dir: &Path) -> (NamePatterns, Vec<DefinitionError>) {
        let path = dir.join(NAMES_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => NamePatterns::parse(&path, &String::from_utf8_lossy(&bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                (NamePatterns::builtin(), Vec::new())
            }
            Err(e) => (
                NamePatterns::builtin(),
                vec![DefinitionError {
                    file: path,
                    line: 0,
                    message: format!("cannot read ({e}); the built-in list of names applies"),
                }],
            ),
        }
    }

    pub fn len(&self) -> usize {
        self.single.len() + self.runs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `text` holds one of the names as a whole word (or run of words).
    pub fn matches(&self, text: &str) -> bool {
        let words = words(text);
        words.iter().any(|w| self.single.contains(w))
            || self
                .runs
                .iter()
                .any(|run| words.windows(run.len()).any(|w| w == run.as_slice()))
    }
}

/// The words of a text, folded: lower case, accents removed (Keïta → keita), split at
/// every character that is not a letter or a digit (apostrophes and hyphens too).
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = crate::domain::fold_accent(c);
        let folded: &str = match c {
            'ɛ' => "e",
            'ɔ' => "o",
            'ɲ' => "ny",
            'ŋ' => "ng",
            'ñ' => "n",
            'ã' | 'å' => "a",
            'õ' => "o",
            _ => "",
        };
        if !folded.is_empty() {
            word.push_str(folded);
        } else if c.is_alphanumeric() {
            word.push(c);
        } else if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

// --- loading ---------------------------------------------------------------------

/// Reads every `*.toml` of a notes folder (sorted by name) against the dashboards. A
/// folder that does not exist holds no notes.
pub fn load_dir(dir: &Path, dashboards: &[Dashboard]) -> Loaded {
    let mut loaded = Loaded::default();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return loaded,
        Err(e) => {
            loaded.problems.push(DefinitionError {
                file: dir.into(),
                line: 0,
                message: format!("cannot read the notes folder ({e})"),
            });
            return loaded;
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    let (names, problems) = NamePatterns::for_folder(dir);
    loaded.problems.extend(problems);
    if dir.join(NAMES_FILE).is_file() {
        loaded.files.push(dir.join(NAMES_FILE));
    }
    let mut notes = Vec::new();
    for path in paths {
        read_file(&path, dashboards, &names, &mut notes, &mut loaded.problems);
        loaded.files.push(path);
    }
    loaded.files.sort();
    loaded.notes = Notes::new(notes);
    loaded
}

/// Reads one notes file, with the list of names of its folder.
pub fn load_file(path: &Path, dashboards: &[Dashboard]) -> Loaded {
    let dir = path.parent().unwrap_or(Path::new("."));
    let (names, mut problems) = NamePatterns::for_folder(dir);
    let mut notes = Vec::new();
    read_file(path, dashboards, &names, &mut notes, &mut problems);
    Loaded {
        notes: Notes::new(notes),
        problems,
        files: vec![path.to_path_buf()],
    }
}

fn read_file(
    path: &Path,
    dashboards: &[Dashboard],
    names: &NamePatterns,
    notes: &mut Vec<Note>,
    problems: &mut Vec<DefinitionError>,
) {
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => {
                let (found, wrong) = parse(path, &text, dashboards, names);
                notes.extend(found);
                problems.extend(wrong);
            }
            Err(e) => problems.push(DefinitionError {
                file: path.into(),
                line: line_at(
                    &String::from_utf8_lossy(e.as_bytes()),
                    e.utf8_error().valid_up_to(),
                ),
                message: "not UTF-8: save the file as UTF-8".into(),
            }),
        },
        Err(e) => problems.push(DefinitionError {
            file: path.into(),
            line: 0,
            message: format!("cannot read: {e}"),
        }),
    }
}

/// The 1-based line of a byte offset.
fn line_at(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// A key or an id as a problem may quote it: only when it looks like an identifier
/// and holds no name, phone number or address. Anything else is not repeated.
fn quotable<'a>(raw: &'a str, names: &NamePatterns) -> Option<&'a str> {
    let looks_like_id = !raw.is_empty()
        && raw.len() <= 40
        && raw
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    (looks_like_id && !names.matches(raw) && pii::value_kind(raw).is_none()).then_some(raw)
}

/// The notes of one file's text, and the problems of the notes that are skipped.
pub fn parse(
    path: &Path,
    text: &str,
    dashboards: &[Dashboard],
    names: &NamePatterns,
) -> (Vec<Note>, Vec<DefinitionError>) {
    let mut problems = Vec::new();
    let mut fail = |line: usize, message: String| {
        problems.push(DefinitionError {
            file: path.into(),
            line,
            message,
        })
    };
    let root = match DeTable::parse(text) {
        Ok(root) => root,
        Err(e) => {
            // The parser's message names what it expected, never the text found.
            let line = e.span().map_or(1, |s| line_at(text, s.start));
            fail(line, format!("not valid TOML: {}", e.message().trim()));
            drop(fail);
            return (Vec::new(), problems);
        }
    };
    let mut notes = Vec::new();
    let mut tables: Vec<(usize, &DeTable<'_>)> = Vec::new();
    for (key, value) in root.get_ref().iter() {
        let line = line_at(text, key.span().start);
        if key.get_ref() != "note" {
            fail(
                line,
                format!(
                    "unknown key{} at the top of the file: notes are [[note]] tables",
                    shown_key(key.get_ref(), names)
                ),
            );
            continue;
        }
        match value.get_ref() {
            DeValue::Array(items) if items.iter().all(|i| i.get_ref().is_table()) => {
                for item in items.iter() {
                    let table = item.get_ref().as_table().expect("checked above");
                    // The span of a [[note]] table starts at its header.
                    tables.push((line_at(text, item.span().start), table));
                }
            }
            _ => fail(line, "note must be [[note]] tables".into()),
        }
    }
    if tables.is_empty() && root.get_ref().is_empty() {
        fail(1, "no [[note]] table in the file".into());
    }
    for (header, table) in tables {
        let before = problems.len();
        let mut fail = |line: usize, message: String| {
            problems.push(DefinitionError {
                file: path.into(),
                line,
                message,
            })
        };
        let mut when: Option<When> = None;
        let mut period_line = None;
        let mut date_line = None;
        let mut dashboard: Option<(usize, String)> = None;
        let mut panel: Option<(usize, String)> = None;
        let mut fr: Option<String> = None;
        let mut en: Option<String> = None;
        let mut text_line = None;
        for (key, value) in table.iter() {
            let line = line_at(text, key.span().start);
            match key.get_ref().as_ref() {
                "date" => {
                    date_line = Some(line);
                    let day = match value.get_ref() {
                        DeValue::String(s) => When::parse_date(s),
                        DeValue::Datetime(dt) => match (dt.date, dt.time, dt.offset) {
                            (Some(d), None, None) => {
                                NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into())
                                    .map(When::Day)
                            }
                            _ => None,
                        },
                        _ => None,
                    };
                    match day {
                        Some(d) => when = Some(d),
                        None => fail(
                            line,
                            "date must be a day written YYYY-MM-DD (e.g. \"2019-07-15\")".into(),
                        ),
                    }
                }
                "period" => {
                    period_line = Some(line);
                    match value.get_ref().as_str().and_then(When::parse_period) {
                        Some(p) => when = Some(p),
                        None => fail(
                            line,
                            "period must be a month written YYYY-MM (e.g. \"2019-07\") or a quarter written YYYY-Qn (e.g. \"2019-Q3\")".into(),
                        ),
                    }
                }
                "dashboard" => match value.get_ref().as_str() {
                    Some(id) => dashboard = Some((line, id.to_string())),
                    None => fail(line, "dashboard must be a dashboard id in quotes".into()),
                },
                "panel" => match value.get_ref().as_str() {
                    Some(id) => panel = Some((line, id.to_string())),
                    None => fail(line, "panel must be a panel id in quotes".into()),
                },
                "text" => {
                    text_line = Some(line);
                    let Some(t) = value.get_ref().as_table() else {
                        fail(
                            line,
                            "text must be a table: text = { fr = \"…\", en = \"…\" }".into(),
                        );
                        continue;
                    };
                    for (lang, value) in t.iter() {
                        let line = line_at(text, lang.span().start);
                        let slot = match lang.get_ref().as_ref() {
                            "fr" => &mut fr,
                            "en" => &mut en,
                            other => {
                                fail(
                                    line,
                                    format!(
                                        "unknown key{} in text: give fr and en only",
                                        shown_key(other, names)
                                    ),
                                );
                                continue;
                            }
                        };
                        let Some(s) = value.get_ref().as_str() else {
                            fail(
                                line,
                                format!("text.{} must be a string in quotes", lang.get_ref()),
                            );
                            continue;
                        };
                        let ok = check_text(s, lang.get_ref(), names, &mut |m| fail(line, m));
                        if ok {
                            *slot = Some(s.trim().to_string());
                        } else {
                            // Known, but refused: not "missing" as well.
                            *slot = Some(String::new());
                        }
                    }
                    for (lang, slot) in [("fr", &fr), ("en", &en)] {
                        if slot.is_none() {
                            fail(
                                line,
                                format!(
                                    "text.{lang} is missing: every note is written in French and English"
                                ),
                            );
                        }
                    }
                }
                other => fail(
                    line,
                    format!(
                        "unknown key{} in a note (allowed: {KEYS})",
                        shown_key(other, names)
                    ),
                ),
            }
        }
        match (date_line, period_line) {
            (None, None) => fail(
                header,
                "a note needs a date (\"YYYY-MM-DD\") or a period (\"YYYY-MM\" or \"YYYY-Qn\")"
                    .into(),
            ),
            (Some(_), Some(line)) => fail(line, "give a date or a period, not both".into()),
            _ => {}
        }
        if text_line.is_none() {
            fail(
                header,
                "a note needs text = { fr = \"…\", en = \"…\" }".into(),
            );
        }
        let known = match &dashboard {
            None => {
                fail(
                    header,
                    "a note needs the dashboard it explains (dashboard = \"…\")".into(),
                );
                None
            }
            Some((line, id)) => match dashboards.iter().find(|d| &d.id == id) {
                Some(d) => Some(d),
                None => {
                    let ids: Vec<&str> = dashboards.iter().map(|d| d.id.as_str()).collect();
                    fail(
                        *line,
                        format!(
                            "unknown dashboard{} (known: {})",
                            shown_id(id, names),
                            ids.join(", ")
                        ),
                    );
                    None
                }
            },
        };
        if let (Some(d), Some((line, id))) = (known, &panel)
            && d.panel(id).is_none()
        {
            let ids: Vec<&str> = d.panels.iter().map(|p| p.id.as_str()).collect();
            fail(
                *line,
                format!(
                    "dashboard {} has no panel{} (its panels: {})",
                    d.id,
                    shown_id(id, names),
                    ids.join(", ")
                ),
            );
        }
        if problems.len() > before {
            continue;
        }
        if let (Some(when), Some((_, dashboard)), Some(fr), Some(en)) = (when, dashboard, fr, en) {
            notes.push(Note {
                when,
                dashboard,
                panel: panel.map(|(_, p)| p),
                text: Label { fr, en },
                file: path.into(),
                line: header,
            });
        }
    }
    problems.sort_by_key(|p| p.line);
    (notes, problems)
}

fn shown_key(key: &str, names: &NamePatterns) -> String {
    quotable(key, names).map_or(String::new(), |k| format!(" `{k}`"))
}

fn shown_id(id: &str, names: &NamePatterns) -> String {
    quotable(id, names).map_or(String::new(), |k| format!(" {k:?}"))
}

/// Checks one text of a note, telling each problem without quoting it; whether it
/// passed.
fn check_text(text: &str, lang: &str, names: &NamePatterns, fail: &mut dyn FnMut(String)) -> bool {
    let mut ok = true;
    let chars = text.trim().chars().count();
    if chars == 0 {
        fail(format!("text.{lang} is empty"));
        return false;
    }
    if chars > MAX_TEXT {
        fail(format!(
            "text.{lang} has {chars} characters: at most {MAX_TEXT}"
        ));
        ok = false;
    }
    if let Some(kind) = pii::value_kind(text) {
        fail(format!(
            "text.{lang} holds what looks like {}: a note must not identify anyone (the text is not repeated here)",
            kind.describe(crate::locale::Locale::En)
        ));
        ok = false;
    }
    if names.matches(text) {
        fail(format!(
            "text.{lang} holds a person's name from the list of names ({NAMES_FILE} of the notes folder, else the built-in list): a note must not name anyone (the text is not repeated here)"
        ));
        ok = false;
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definitions::dashboard;

    fn dashboards() -> Vec<Dashboard> {
        dashboard::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboards")).unwrap()
    }

    fn read(text: &str) -> (Vec<Note>, Vec<DefinitionError>) {
        parse(
            Path::new("notes/2019.toml"),
            text,
            &dashboards(),
            &NamePatterns::builtin(),
        )
    }

    /// One problem, at `line`, whose message holds none of `secret`.
    fn refused(text: &str, line: usize, secret: &str) -> String {
        let (notes, problems) = read(text);
        assert!(notes.is_empty(), "{text} → {notes:?}");
        assert_eq!(problems.len(), 1, "{problems:?}");
        let p = &problems[0];
        assert_eq!(p.line, line, "{p}");
        assert!(p.to_string().starts_with("notes/2019.toml:"), "{p}");
        if !secret.is_empty() {
            assert!(
                !p.to_string().contains(secret),
                "the message quotes the text: {p}"
            );
        }
        p.message.clone()
    }

    const GOOD: &str = r#"# Notes for 2019
[[note]]
date = "2019-07-15"
dashboard = "psychosocial"
panel = "attendances-by-month"
text = { fr = "Le centre d'écoute de Kita a fermé deux semaines (travaux).", en = "The Kita listening centre closed for two weeks (building works)." }

[[note]]
period = "2019-Q3"
dashboard = "campaigns"
text = { fr = "Campagne radio reportée à cause de l'hivernage.", en = "Radio campaign postponed by the rainy season." }

[[note]]
period = "2019-11"
dashboard = "psychosocial"

[note.text]
fr = "Nouvelle équipe à Kayes."
en = "New team in Kayes."
"#;

    #[test]
    fn a_good_file_gives_its_notes() {
        let (notes, problems) = read(GOOD);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(notes.len(), 3);
        let n = &notes[0];
        assert_eq!(
            n.when,
            When::Day(NaiveDate::from_ymd_opt(2019, 7, 15).unwrap())
        );
        assert_eq!(n.panel.as_deref(), Some("attendances-by-month"));
        assert_eq!((n.line, n.dashboard.as_str()), (2, "psychosocial"));
        assert!(n.text.en.starts_with("The Kita"));
        assert_eq!(notes[1].when, When::Quarter(2019, 3));
        assert_eq!((notes[1].line, notes[1].panel.as_deref()), (8, None));
        assert_eq!(notes[2].when, When::Month(2019, 11));
        assert_eq!(notes[2].text.fr, "Nouvelle équipe à Kayes.");
        assert!(notes[1].concerns("by-month") && !notes[0].concerns("cumulative"));
    }

    #[test]
    fn dates_and_periods_are_read_exactly() {
        assert_eq!(When::parse_period("2019-Q3"), Some(When::Quarter(2019, 3)));
        assert_eq!(When::parse_period("2019-07"), Some(When::Month(2019, 7)));
        for bad in [
            "2019-13",
            "2019-Q5",
            "2019",
            "19-07",
            "2019-7",
            "2019-07-01",
        ] {
            assert_eq!(When::parse_period(bad), None, "{bad}");
        }
        for bad in ["2019-02-30", "15/07/2019", "2019-07", "3019-01-01"] {
            assert_eq!(When::parse_date(bad), None, "{bad}");
        }
        let q = When::Quarter(2019, 4);
        assert_eq!(q.months(), vec![(2019, 10), (2019, 11), (2019, 12)]);
        assert_eq!(
            (q.start().to_string(), q.end().to_string()),
            ("2019-10-01".into(), "2019-12-31".into())
        );
        assert_eq!(When::Month(2020, 2).end().to_string(), "2020-02-29");
        // A TOML date without quotes is a day too.
        let (notes, problems) = read(
            "[[note]]\ndate = 2019-07-15\ndashboard = \"returns\"\ntext = { fr = \"a\", en = \"b\" }\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(notes[0].when.code(), "2019-07-15");
    }

    #[test]
    fn bad_notes_are_refused_with_the_line_of_their_key() {
        let note = |body: &str| format!("[[note]]\ndashboard = \"psychosocial\"\n{body}\n");
        let text = "text = { fr = \"a\", en = \"b\" }";
        let m = refused(
            &note(&format!("date = \"2019-07-15\"\ncolour = \"red\"\n{text}")),
            4,
            "",
        );
        assert!(m.contains("unknown key `colour`"), "{m}");
        let m = refused(&note(&format!("date = \"15/07/2019\"\n{text}")), 3, "");
        assert!(m.contains("YYYY-MM-DD"), "{m}");
        let m = refused(&note(&format!("period = \"2019-Q7\"\n{text}")), 3, "");
        assert!(m.contains("YYYY-Qn"), "{m}");
        let m = refused(&note(text), 1, "");
        assert!(m.contains("needs a date"), "{m}");
        let m = refused(
            &note(&format!(
                "date = \"2019-07-15\"\nperiod = \"2019-07\"\n{text}"
            )),
            4,
            "",
        );
        assert!(m.contains("not both"), "{m}");
        let m = refused(
            &format!("[[note]]\ndate = \"2019-07-15\"\ndashboard = \"health\"\n{text}\n"),
            3,
            "",
        );
        assert!(
            m.contains("unknown dashboard \"health\"") && m.contains("psychosocial"),
            "{m}"
        );
        let m = refused(
            &note(&format!(
                "date = \"2019-07-15\"\npanel = \"by-mood\"\n{text}"
            )),
            4,
            "",
        );
        assert!(
            m.contains("has no panel \"by-mood\"") && m.contains("attendances-by-month"),
            "{m}"
        );
        let m = refused(
            &note("date = \"2019-07-15\"\ntext = { fr = \"  \", en = \"b\" }"),
            4,
            "",
        );
        assert!(m.contains("text.fr is empty"), "{m}");
        let long = "x".repeat(MAX_TEXT + 1);
        let m = refused(
            &note(&format!(
                "date = \"2019-07-15\"\ntext = {{ fr = \"a\", en = \"{long}\" }}"
            )),
            4,
            &long,
        );
        assert!(m.contains("501 characters"), "{m}");
        let m = refused(&note("date = \"2019-07-15\"\ntext = { fr = \"a\" }"), 4, "");
        assert!(m.contains("text.en is missing"), "{m}");
        let m = refused(&note("date = \"2019-07-15\""), 1, "");
        assert!(m.contains("needs text"), "{m}");
        let m = refused(
            "[[note]]\ndate = \"2019-07-15\"\ntext = { fr = \"a\", en = \"b\" }\n",
            1,
            "",
        );
        assert!(m.contains("needs the dashboard"), "{m}");
        let m = refused("title = \"x\"\n", 1, "");
        assert!(m.contains("[[note]]"), "{m}");
        let m = refused("[[note]]\ndate = \"2019-07-15\n", 2, "");
        assert!(m.contains("not valid TOML"), "{m}");
    }

    #[test]
    fn texts_with_phone_numbers_emails_or_names_are_refused_without_being_quoted() {
        let cases = [
            ("Appeler le +223 76 42 63 59 pour un rendez-vous.", "phone"),
            ("Permanence au 76.42.63.59 le mardi.", "phone"),
            (
                "Écrire à coordination.kita@example.org pour les dates.",
                "e-mail",
            ),
            ("Mme Aminata a quitté l'équipe de Kita.", "name"),
            ("La famille KEITA est rentrée de Libye.", "name"),
            ("Visite de M. Traore au centre.", "name"),
        ];
        for (secret, why) in cases {
            for (lang, line_of_text) in [("fr", 5), ("en", 6)] {
                let (fr, en) = if lang == "fr" {
                    (secret, "Fine.")
                } else {
                    ("Bien.", secret)
                };
                let text = format!(
                    "[[note]]\ndate = \"2019-07-15\"\ndashboard = \"psychosocial\"\n[note.text]\nfr = \"{fr}\"\nen = \"{en}\"\n"
                );
                let m = refused(&text, line_of_text, secret);
                assert!(
                    m.contains(&format!("text.{lang}")) && m.contains(why),
                    "{secret}: {m}"
                );
                // No fragment of the text either.
                for word in secret.split_whitespace().filter(|w| w.len() > 4) {
                    assert!(!m.contains(word), "{m} quotes {word}");
                }
            }
        }
        // A name as a dashboard id or a key is not repeated either.
        let m = refused(
            "[[note]]\ndate = \"2019-07-15\"\ndashboard = \"coulibaly\"\ntext = { fr = \"a\", en = \"b\" }\n",
            3,
            "coulibaly",
        );
        assert!(m.contains("unknown dashboard ("), "{m}");
        let m = refused(
            "[[note]]\ndate = \"2019-07-15\"\ndashboard = \"returns\"\ndiarra = 1\ntext = { fr = \"a\", en = \"b\" }\n",
            4,
            "diarra",
        );
        assert!(m.contains("unknown key in a note"), "{m}");
    }

    #[test]
    fn names_match_whole_words_ignoring_case_and_accents() {
        let (names, problems) = NamePatterns::parse(Path::new("name-patterns.txt"), NAME_PATTERNS);
        assert!(problems.is_empty() && names.len() > 40, "{problems:?}");
        for yes in [
            "Keïta",
            "keita",
            "KEÏTA",
            "M. Traoré",
            "d'Aminata",
            "Diarra-Coulibaly",
            "famille Touré,",
        ] {
            assert!(names.matches(yes), "{yes}");
        }
        for no in [
            "Kita",
            "Kayes",
            "Bamako",
            "Traorés",
            "Keitas",
            "Diarrahs",
            "Campagne radio reportée",
            "awareness",
        ] {
            assert!(!names.matches(no), "{no}");
        }
        let (custom, problems) = NamePatterns::parse(
            Path::new("names.txt"),
            "# ours\nSalif Keïta\n\nNdiaye\n1234\n",
        );
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, 5);
        assert!(custom.matches("un concert de salif keita") && custom.matches("NDIAYE"));
        assert!(!custom.matches("Keïta") && !custom.matches("Salif est venu"));
    }

    #[test]
    fn a_folder_collects_every_problem_and_keeps_the_good_notes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("2019.toml"), GOOD).unwrap();
        std::fs::write(
            dir.path().join("2020.toml"),
            "[[note]]\nperiod = \"2020-Q1\"\ndashboard = \"returns\"\ntext = { fr = \"Frontières fermées.\", en = \"Borders closed.\" }\n\n[[note]]\nperiod = \"2020-13\"\ndashboard = \"returns\"\ntext = { fr = \"a\", en = \"Call 76 42 63 59\" }\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("README.md"), "not a notes file").unwrap();
        let loaded = load_dir(dir.path(), &dashboards());
        assert_eq!(loaded.notes.len(), 4, "{:?}", loaded.problems);
        let lines: Vec<usize> = loaded.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![7, 9], "{:?}", loaded.problems);
        assert!(
            loaded
                .problems
                .iter()
                .all(|p| p.file.ends_with("2020.toml"))
        );
        assert_eq!(loaded.files.len(), 2);
        let version = loaded.notes.version();
        assert_ne!(version, 0);
        assert_eq!(load_dir(dir.path(), &dashboards()).notes.version(), version);
        // A folder's own list of names replaces the built-in one.
        std::fs::write(dir.path().join(NAMES_FILE), "Kayes\n").unwrap();
        let loaded = load_dir(dir.path(), &dashboards());
        assert_eq!(loaded.notes.len(), 3);
        assert_ne!(loaded.notes.version(), version);
        assert!(
            load_dir(&dir.path().join("none"), &dashboards())
                .notes
                .is_empty()
        );
    }
}
