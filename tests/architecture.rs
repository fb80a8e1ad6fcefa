//! The layers' one-way rules, read from the `use` lines (and inline `crate::` paths) of
//! every file under `src/`:
//!
//! - serving side: `server → render → present → snapshot / definitions / domain /
//!   reference` (and `access`, for roles and viewers); nothing imports `server`;
//!   `present` and `render` import neither axum nor the server;
//! - the job side (`extract`, `store`, `measures`, `disclosure`, `ingest`) imports
//!   nothing from `present`, `render` or `server`, and the serving side nothing from
//!   the job side (nor DuckDB: it reads snapshots through `snapshot`);
//! - `snapshot` depends on `definitions`, not on `measures`; `definitions` on neither;
//! - the foundation modules (`definitions`, `domain`, `reference`, `access`, `pii`,
//!   `status`, `locale`) import neither side, nor `snapshot`.
//!
//! A failure names the file, the line and the forbidden import.

use std::path::{Path, PathBuf};

const JOB: &[&str] = &["extract", "store", "measures", "disclosure", "ingest"];
const SERVING: &[&str] = &["present", "render", "server"];
const HTTP: &[&str] = &["axum", "tower", "tower_http", "hyper"];

/// An import found in a file: the line, the text, and the absolute path it names
/// (`crate::a::b` as `["a", "b"]`, an external crate as `["::axum", …]`).
#[derive(Debug)]
struct Import {
    line: usize,
    text: String,
    path: Vec<String>,
}

/// What a file may not import, as (forbidden top-level module or crate, why).
fn rules(module: &[String]) -> Vec<(String, &'static str)> {
    let top = module.first().map(String::as_str).unwrap_or("");
    let mut out: Vec<(String, &'static str)> = Vec::new();
    let mut forbid = |names: &[&str], why: &'static str| {
        for n in names {
            if *n != top {
                out.push((n.to_string(), why));
            }
        }
    };
    if top != "main" {
        forbid(&["server"], "nothing imports server (it is the top layer)");
    }
    match top {
        "present" => {
            forbid(
                &["render"],
                "present is below render (server → render → present)",
            );
            forbid(
                JOB,
                "the serving side reads published snapshots only, never the job side",
            );
            for c in HTTP {
                out.push((format!("::{c}"), "present knows no HTTP"));
            }
            out.push((
                "::duckdb".into(),
                "the serving side reads snapshots through snapshot",
            ));
            out.push(("::maud".into(), "present knows no HTML (that is render's)"));
        }
        "render" => {
            forbid(
                JOB,
                "the serving side reads published snapshots only, never the job side",
            );
            for c in HTTP {
                out.push((format!("::{c}"), "render knows no HTTP"));
            }
            out.push((
                "::duckdb".into(),
                "the serving side reads snapshots through snapshot",
            ));
        }
        "server" => {
            forbid(
                JOB,
                "the serving side reads published snapshots only, never the job side",
            );
            out.push((
                "::duckdb".into(),
                "the serving side reads snapshots through snapshot",
            ));
        }
        t if JOB.contains(&t) => {
            forbid(SERVING, "the job side does not depend on the serving side");
        }
        "snapshot" => {
            forbid(
                JOB,
                "snapshot depends on definitions, not on the job's modules",
            );
            forbid(SERVING, "snapshot is below the serving side");
        }
        "definitions" | "domain" | "reference" | "access" | "pii" | "status" | "locale" => {
            forbid(
                JOB,
                "definitions, domain, reference, access, pii, status and locale are below the job side",
            );
            forbid(
                SERVING,
                "definitions, domain, reference, access, pii, status and locale are below the serving side",
            );
            if top != "snapshot" {
                out.push((
                    "snapshot".into(),
                    "snapshot depends on these, not the reverse",
                ));
            }
        }
        _ => {}
    }
    out
}

/// The module path of a source file: `src/server/auth/mod.rs` → `server::auth`.
fn module_of(file: &Path, src: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// Expands a use tree (`a::{b, c::{d, e}}`) into its paths.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap_or("").trim();
        return vec![path.trim_end_matches("::self").to_string()];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut items = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[start..]);
    items
        .into_iter()
        .filter(|i| !i.trim().is_empty())
        .flat_map(|i| {
            expand(i)
                .into_iter()
                .map(|p| {
                    if p == "self" {
                        prefix.trim_end_matches("::").to_string()
                    } else {
                        format!("{prefix}{p}")
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The absolute path a path of `module` names (`crate::`, `super::`, `self::`, or an
/// external crate).
fn resolve(module: &[String], path: &str) -> Vec<String> {
    let segments: Vec<&str> = path
        .split("::")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let Some(first) = segments.first() else {
        return Vec::new();
    };
    let mut base: Vec<String> = match *first {
        "crate" => Vec::new(),
        "super" | "self" => module.to_vec(),
        "std" | "core" | "alloc" => return Vec::new(),
        external => return vec![format!("::{external}")],
    };
    let mut rest = &segments[..];
    if *first == "crate" {
        rest = &segments[1..];
    }
    for s in rest {
        match *s {
            "super" => {
                base.pop();
            }
            "self" => {}
            s => base.push(s.to_string()),
        }
    }
    base
}

/// Every import of a file: its `use` items (over several lines), and inline paths
/// starting with `crate::` or a watched external crate.
fn imports(module: &[String], text: &str) -> Vec<Import> {
    let mut out = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_start();
        if line.starts_with("//") {
            i += 1;
            continue;
        }
        let item = line
            .strip_prefix("pub(crate) use ")
            .or_else(|| line.strip_prefix("pub use "))
            .or_else(|| line.strip_prefix("use "));
        if let Some(start) = item {
            let first = i;
            let mut tree = start.to_string();
            while !tree.contains(';') && i + 1 < lines.len() {
                i += 1;
                tree.push_str(lines[i].trim());
            }
            let tree = tree.split(';').next().unwrap_or("").to_string();
            for p in expand(&tree) {
                out.push(Import {
                    line: first + 1,
                    text: format!("use {}", tree.trim()),
                    path: resolve(module, &p),
                });
            }
        } else {
            let code = line.split("//").next().unwrap_or("");
            let watched = HTTP.iter().chain(["duckdb", "maud"].iter());
            let mut starts: Vec<(usize, &str)> = code.match_indices("crate::").collect();
            for c in watched {
                starts.extend(code.match_indices(&format!("{c}::")).filter(|(at, _)| {
                    *at == 0
                        || !code.as_bytes()[at - 1].is_ascii_alphanumeric()
                            && code.as_bytes()[at - 1] != b'_'
                            && code.as_bytes()[at - 1] != b':'
                }));
            }
            for (at, _) in starts {
                let path: String = code[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                out.push(Import {
                    line: i + 1,
                    text: path.clone(),
                    path: resolve(module, &path),
                });
            }
        }
        i += 1;
    }
    out
}

/// The rules broken by a file, as messages naming the file, line and import.
fn violations(file: &str, module: &[String], text: &str) -> Vec<String> {
    let rules = rules(module);
    imports(module, text)
        .into_iter()
        .filter_map(|imp| {
            let target = imp.path.first()?;
            rules
                .iter()
                .find(|(name, _)| name == target)
                .map(|(_, why)| format!("{file}:{}: `{}` — {why}", imp.line, imp.text))
        })
        .collect()
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn layers_import_only_downwards() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    assert!(files.len() > 50, "the sources are found");
    let mut broken = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let module = module_of(file, &src);
        let name = file
            .strip_prefix(src.parent().unwrap())
            .unwrap()
            .display()
            .to_string();
        broken.extend(violations(&name, &module, &text));
    }
    assert!(
        broken.is_empty(),
        "imports against the layers:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_checker_catches_every_kind_of_forbidden_import() {
    let module = |m: &str| m.split("::").map(str::to_string).collect::<Vec<_>>();
    let bad = [
        ("present::panels", "use crate::server::state::Shared;"),
        (
            "present::panels",
            "use crate::{domain::Sex, render::html::Page};",
        ),
        (
            "present::charts::bars",
            "use super::super::super::render::html;",
        ),
        ("present::panels", "use axum::response::Response;"),
        (
            "present::panels",
            "    let x = crate::store::PrivateStore::open(p);",
        ),
        ("render::html::layout", "use axum::body::Bytes;"),
        ("render::html::layout", "use crate::server::kept::Kept;"),
        (
            "render::exports",
            "use crate::measures::{\n    raw_table,\n};",
        ),
        (
            "server::handlers::index",
            "use crate::disclosure::report::Report;",
        ),
        (
            "server::handlers::index",
            "let conn = duckdb::Connection::open(p);",
        ),
        ("snapshot::read", "use crate::measures::Measure;"),
        (
            "definitions::dashboard",
            "use crate::snapshot::MeasureInfo;",
        ),
        ("ingest", "use crate::present::filters::Filters;"),
        ("disclosure::grid", "pub use crate::server::Settings;"),
        ("check", "use crate::server::routes;"),
        (
            "reference",
            "        .any(|n| crate::extract::pii::value_kind(n).is_some())",
        ),
        ("locale", "use crate::present::i18n::format_number;"),
        ("locale", "use crate::extract::report::Rule;"),
    ];
    for (m, text) in bad {
        let found = violations("x.rs", &module(m), text);
        assert_eq!(found.len(), 1, "{m}: {text} → {found:?}");
    }
    let fine = [
        (
            "server::handlers::index",
            "use crate::render::html;\nuse axum::extract::State;",
        ),
        (
            "render::html::layout",
            "use crate::present::i18n::Locale;\nuse maud::html;",
        ),
        (
            "present::panels",
            "use crate::snapshot::Snapshot;\nuse crate::definitions::{Panel, dimension::SITE};",
        ),
        ("snapshot::read", "use crate::definitions::MeasureInfo;"),
        ("main", "use reintegra::server;"),
        ("extract::report", "use crate::locale::Locale;"),
        ("present::i18n", "pub use crate::locale::Locale;"),
        ("present::panels", "// use crate::server::state::Shared;"),
    ];
    for (m, text) in fine {
        assert!(
            violations("x.rs", &module(m), text).is_empty(),
            "{m}: {text}"
        );
    }
}
