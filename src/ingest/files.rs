//! Delivered files: read and checked in parallel (one worker per core), then settled
//! one by one in delivery order — loaded into the store and archived, or quarantined
//! with their reports. Loading in delivery order keeps "a newer extract replaces the
//! months it covers" true within a run.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use indicatif::MultiProgress;

use super::journal::Journal;
use super::layout::Layout;
use super::progress::Progress;
use super::{FileOutcome, FileResult, IngestError, io_err};
use crate::domain::Kind;
use crate::extract::report::{Problems, Report, Rule};
use crate::extract::source::{self, Fingerprint};
use crate::extract::{self, Extract, RowBuf};
use crate::locale::Locale;
use crate::store::{Outcome as LoadOutcome, PrivateStore};

/// Runs `f` over `items` on up to one thread per core; results keep the input order.
fn parallel_map<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len().max(1));
    let slots: Vec<Mutex<Option<T>>> = items.into_iter().map(|t| Mutex::new(Some(t))).collect();
    let results: Vec<Mutex<Option<R>>> = slots.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(slot) = slots.get(i) else { break };
                    let item = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
                    if let Some(item) = item {
                        let r = f(item);
                        *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                    }
                }
            });
        }
    });
    results
        .into_iter()
        .map(|r| {
            r.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every item was processed")
        })
        .collect()
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The SHA-256 of every delivered file, in parallel.
pub(super) fn fingerprint_all(
    paths: Vec<PathBuf>,
) -> Result<Vec<(PathBuf, Fingerprint)>, IngestError> {
    parallel_map(paths, |path| {
        let fp = source::fingerprint(&path).map_err(io_err(&path))?;
        Ok((path, fp))
    })
    .into_iter()
    .collect()
}

/// A file read and checked, its valid rows staged for loading.
pub(super) struct Read {
    path: PathBuf,
    name: String,
    sha256: String,
    extract: Extract,
    staged: PathBuf,
    started: Instant,
}

/// What bounds the reading of files.
pub(super) struct Reading<'a> {
    pub layout: &'a Layout,
    pub journal: &'a Journal,
    pub context: &'a extract::Context,
}

/// Reads and checks files in parallel; valid rows go to `staging/<sha256>.csv`. Each
/// file is marked in the journal while it is read.
pub(super) fn read_all(
    files: Vec<(PathBuf, Fingerprint)>,
    reading: &Reading<'_>,
) -> Result<Vec<Read>, IngestError> {
    let bars = MultiProgress::new();
    parallel_map(files, |(path, fingerprint)| {
        read_one(&path, fingerprint, reading, &bars)
    })
    .into_iter()
    .collect()
}

fn read_one(
    path: &Path,
    fingerprint: Fingerprint,
    reading: &Reading<'_>,
    bars: &MultiProgress,
) -> Result<Read, IngestError> {
    let Reading {
        layout,
        journal,
        context,
    } = reading;
    let started = Instant::now();
    let name = file_name(path);
    let sha256 = fingerprint.sha256.clone();
    let journal_path = layout.private();
    journal
        .mark(&sha256, &name)
        .map_err(io_err(&journal_path))?;
    let staged = layout.staging().join(format!("{sha256}.csv"));
    let mut writer: Option<Result<csv::Writer<File>, std::io::Error>> = None;
    let mut sink = |_: Kind, row: &RowBuf| {
        let w = writer.get_or_insert_with(|| {
            File::create(&staged).map(|f| {
                csv::WriterBuilder::new()
                    .buffer_capacity(1 << 20)
                    .from_writer(f)
            })
        });
        if let Ok(out) = w
            && let Err(e) = out.write_record(row.fields())
        {
            *w = Err(std::io::Error::other(e));
        }
    };
    let mut progress = Progress::new(&name, bars);
    let extract =
        extract::read_fingerprinted(path, fingerprint, context, &mut sink, &mut |done, total| {
            progress.update(done, total)
        });
    progress.finish();
    journal.unmark(&sha256).map_err(io_err(&journal_path))?;
    if let Some(mut w) = writer.transpose().map_err(io_err(&staged))? {
        w.flush().map_err(io_err(&staged))?;
    }
    Ok(Read {
        path: path.to_path_buf(),
        name,
        sha256,
        extract,
        staged,
        started,
    })
}

/// A file whose bytes were accepted before: archived, recorded, nothing else.
pub(super) fn settle_duplicate(
    store: &PrivateStore,
    layout: &Layout,
    path: &Path,
    fingerprint: &Fingerprint,
    earlier: &crate::store::LoadRecord,
) -> Result<FileResult, IngestError> {
    let name = file_name(path);
    layout
        .archive(path, &fingerprint.sha256)
        .map_err(io_err(path))?;
    store.record_unloaded(
        &name,
        &fingerprint.sha256,
        earlier.kind,
        0,
        LoadOutcome::Duplicate,
        0,
    )?;
    tracing::info!(file = %name, load = earlier.load_id, "already loaded; nothing changes");
    Ok(FileResult {
        name,
        kind: earlier.kind,
        outcome: FileOutcome::Duplicate,
    })
}

/// Loads a valid file (one transaction) and archives it, or quarantines an invalid one.
pub(super) fn settle(
    store: &PrivateStore,
    layout: &Layout,
    read: Read,
    lang: Locale,
) -> Result<FileResult, IngestError> {
    let Read {
        path,
        name,
        sha256,
        extract,
        staged,
        started,
    } = read;
    if extract.is_valid() {
        let kind = extract.kind.expect("a valid extract has a kind");
        let span = extract.span.expect("a valid extract has dates");
        let loaded = store.load(kind, &staged, span, &name, &sha256, extract.rows)?;
        std::fs::remove_file(&staged).map_err(io_err(&staged))?;
        layout.archive(&path, &sha256).map_err(io_err(&path))?;
        tracing::info!(
            file = %name, kind = %kind, rows = loaded.inserted, months = %span,
            replaced = loaded.replaced, seconds = started.elapsed().as_secs_f64(),
            "accepted"
        );
        return Ok(FileResult {
            name,
            kind: Some(kind),
            outcome: FileOutcome::Accepted {
                rows: loaded.inserted,
                span,
                replaced: loaded.replaced,
            },
        });
    }
    let _ = std::fs::remove_file(&staged);
    let report_path = layout
        .quarantine(&path, &extract.report(), lang)
        .map_err(io_err(&path))?;
    let problems = extract.problems.total();
    let pii = extract.problems.has_pii();
    store.record_unloaded(
        &name,
        &sha256,
        extract.kind,
        extract.rows,
        LoadOutcome::Rejected,
        problems,
    )?;
    tracing::warn!(
        file = %name, problems, pii, report = %report_path.display(),
        "rejected and quarantined; nothing from it was loaded"
    );
    Ok(FileResult {
        name,
        kind: extract.kind,
        outcome: FileOutcome::Rejected {
            problems,
            pii,
            report: report_path,
        },
    })
}

/// A file a dead run was reading: quarantined with rule `crashed_reader`, unread.
pub(super) fn settle_crashed(
    store: &PrivateStore,
    layout: &Layout,
    path: &Path,
    fingerprint: &Fingerprint,
    lang: Locale,
) -> Result<FileResult, IngestError> {
    let name = file_name(path);
    let kind = crate::domain::Kind::from_file_name(&name);
    let mut problems = Problems::default();
    problems.file(Rule::CrashedReader);
    let report = Report {
        file: name.clone(),
        kind,
        rows_read: 0,
        problems,
    };
    let report_path = layout
        .quarantine(path, &report, lang)
        .map_err(io_err(path))?;
    store.record_unloaded(
        &name,
        &fingerprint.sha256,
        kind,
        0,
        LoadOutcome::Rejected,
        1,
    )?;
    tracing::error!(
        file = %name, report = %report_path.display(),
        "a run died while reading this file: quarantined without reading it again"
    );
    Ok(FileResult {
        name,
        kind,
        outcome: FileOutcome::Rejected {
            problems: 1,
            pii: false,
            report: report_path,
        },
    })
}
