//! ingest: the nightly job — inbox → private store → measures → published snapshot.
//!
//! One run, under a lock on the data folder:
//! 1. clean up what an interrupted run left (temporary snapshot, staged rows);
//! 2. read every delivered file; a file already accepted (same bytes) changes nothing;
//!    a valid one is loaded in one transaction and archived; an invalid one is moved to
//!    `quarantine/` with a report (file, row, column, rule — never a value);
//! 3. if anything new was accepted (or there is no snapshot yet, or the definitions
//!    changed), compute the measures and publish a new snapshot, then prune old ones.
//!
//! A rejected file never reaches the store or the snapshot; what was published before
//! stays published. Logs name files, rows and columns, never cell values.

mod layout;
mod progress;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{NaiveDate, Utc};

use crate::disclosure::{Disclosure, DisclosureError, Policy, keys::Secret};
use crate::domain::{Kind, MonthSpan};
use crate::extract::{self, RowBuf, source};
use crate::measures::{self, DefinitionErrors, Measure};
use crate::snapshot::{self, Metadata, Published, PublishedMeasure, SnapshotError, SnapshotId};
use crate::store::{Outcome as LoadOutcome, PrivateStore, StoreError};
pub use layout::Layout;

/// What to run over.
#[derive(Debug, Clone)]
pub struct Options {
    pub inbox: PathBuf,
    pub data: PathBuf,
    pub queries: PathBuf,
    /// The disclosure policy file.
    pub policy: PathBuf,
    /// Published snapshots to keep (the current one is always kept).
    pub keep: usize,
    /// Wait for another run to finish instead of exiting.
    pub wait: bool,
    /// Dates after this day are rejected.
    pub today: NaiveDate,
}

impl Options {
    /// Options with the defaults: the policy file beside the queries folder, 7 snapshots.
    pub fn new(
        inbox: impl Into<PathBuf>,
        data: impl Into<PathBuf>,
        queries: impl Into<PathBuf>,
    ) -> Self {
        let queries: PathBuf = queries.into();
        let policy = queries
            .parent()
            .unwrap_or(Path::new("."))
            .join("disclosure.toml");
        Options {
            inbox: inbox.into(),
            data: data.into(),
            queries,
            policy,
            keep: 7,
            wait: false,
            today: Utc::now().date_naive(),
        }
    }
}

/// What happened to one delivered file.
#[derive(Debug, Clone)]
pub enum FileOutcome {
    Accepted {
        rows: u64,
        span: MonthSpan,
        replaced: u64,
    },
    Rejected {
        problems: u64,
        pii: bool,
        report: PathBuf,
    },
    Duplicate,
}

#[derive(Debug, Clone)]
pub struct FileResult {
    pub name: String,
    pub kind: Option<Kind>,
    pub outcome: FileOutcome,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub files: Vec<FileResult>,
    /// The snapshot this run published, if it published one.
    pub published: Option<SnapshotId>,
    /// The snapshot `CURRENT` names at the end of the run.
    pub current: Option<SnapshotId>,
}

impl RunSummary {
    pub fn rejected(&self) -> usize {
        self.files
            .iter()
            .filter(|f| matches!(f.outcome, FileOutcome::Rejected { .. }))
            .count()
    }

    /// 0 when every file was accepted, 3 when some were quarantined.
    pub fn exit_code(&self) -> i32 {
        if self.rejected() > 0 { 3 } else { 0 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(
        "another ingest is running on {0} (it holds the lock {0}/ingest.lock); try again when it ends, or pass --wait"
    )]
    Busy(PathBuf),
    #[error("invalid measure definitions:\n{0}")]
    Definitions(#[from] DefinitionErrors),
    #[error("invalid disclosure policy: {0}")]
    Policy(#[from] crate::measures::DefinitionError),
    #[error(transparent)]
    Disclosure(#[from] DisclosureError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> IngestError + '_ {
    move |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Runs the nightly job once.
pub fn run(options: &Options) -> Result<RunSummary, IngestError> {
    let started = Instant::now();
    let layout = Layout::new(&options.data);
    layout.create().map_err(io_err(&options.data))?;
    let _lock = lock(&layout, options.wait)?;
    let published = Published::new(layout.published());
    let removed = published.recover()?;
    if removed > 0 {
        tracing::warn!(
            removed,
            "removed temporary files left by an interrupted run"
        );
    }
    layout.clear_staging().map_err(io_err(&layout.staging()))?;

    let measures = measures::load_dir(&options.queries)?;
    let policy = Policy::load(&options.policy)?;
    policy.check_measures(&measures)?;
    let store = PrivateStore::open(&layout.private())?;
    check_definitions(&store, &measures)?;

    let mut files = Vec::new();
    for path in layout::delivered_files(&options.inbox).map_err(io_err(&options.inbox))? {
        files.push(process_file(&store, &layout, &path, options.today)?);
    }
    let accepted = files
        .iter()
        .any(|f| matches!(f.outcome, FileOutcome::Accepted { .. }));

    let definitions = measures::fingerprint(&measures, &policy.text);
    let current = published.current().unwrap_or_else(|e| {
        tracing::warn!(error = %e, "CURRENT is unusable; a new snapshot will be published");
        None
    });
    let stale = match &current {
        None => true,
        Some(id) => current_definitions(&published, id).as_deref() != Some(definitions.as_str()),
    };
    let mut summary = RunSummary {
        files,
        published: None,
        current: current.clone(),
    };
    if accepted || stale {
        let secret =
            Secret::load_or_create(&layout.private()).map_err(io_err(&layout.private()))?;
        let disclosure =
            Disclosure::new(policy, secret).map_err(|e| crate::measures::DefinitionError {
                file: options.policy.clone(),
                line: 0,
                message: e.to_string(),
            })?;
        let id = publish(&store, &published, &measures, &disclosure, definitions)?;
        let pruned = published.prune(options.keep)?;
        tracing::info!(snapshot = %id, pruned = pruned.len(), "published");
        summary.published = Some(id.clone());
        summary.current = Some(id);
    } else {
        tracing::info!("nothing new accepted; the published snapshot is unchanged");
    }
    tracing::info!(
        files = summary.files.len(),
        rejected = summary.rejected(),
        seconds = started.elapsed().as_secs_f64(),
        "ingest finished"
    );
    Ok(summary)
}

fn lock(layout: &Layout, wait: bool) -> Result<File, IngestError> {
    let path = layout.lock_file();
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err(&path))?;
    if wait {
        tracing::info!("waiting for the ingest lock");
        file.lock().map_err(io_err(&path))?;
    } else {
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(IngestError::Busy(layout.root().to_path_buf()));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io_err(&path)(e)),
        }
    }
    Ok(file)
}

/// Every query must run against the store's schema before any file is touched.
fn check_definitions(store: &PrivateStore, measures: &[Measure]) -> Result<(), DefinitionErrors> {
    let errors: Vec<_> = measures
        .iter()
        .filter_map(|m| measures::check_query(store.connection(), m).err())
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(DefinitionErrors(errors))
    }
}

fn current_definitions(published: &Published, id: &SnapshotId) -> Option<String> {
    let conn = snapshot::open_read_only(&published.path_of(id)).ok()?;
    snapshot::read_meta(&conn, "definitions")
}

fn process_file(
    store: &PrivateStore,
    layout: &Layout,
    path: &Path,
    today: NaiveDate,
) -> Result<FileResult, IngestError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let started = Instant::now();
    let fingerprint = source::fingerprint(path).map_err(io_err(path))?;
    if let Some(earlier) = store.accepted_load(&fingerprint.sha256)? {
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
        return Ok(FileResult {
            name,
            kind: earlier.kind,
            outcome: FileOutcome::Duplicate,
        });
    }
    let sha256 = fingerprint.sha256.clone();
    let staged_path = layout.staging().join(format!("{sha256}.csv"));
    let mut staged: Option<Result<csv::Writer<File>, std::io::Error>> = None;
    let mut sink = |_: Kind, row: &RowBuf| {
        let writer = staged.get_or_insert_with(|| {
            File::create(&staged_path).map(|f| {
                csv::WriterBuilder::new()
                    .buffer_capacity(1 << 20)
                    .from_writer(f)
            })
        });
        if let Ok(w) = writer
            && let Err(e) = w.write_record(row.fields())
        {
            *writer = Err(std::io::Error::other(e));
        }
    };
    let mut progress = progress::Progress::new(&name);
    let extract =
        extract::read_fingerprinted(path, fingerprint, today, &mut sink, &mut |done, total| {
            progress.update(done, total)
        });
    progress.finish();
    let staged = staged.transpose().map_err(io_err(&staged_path))?;
    if let Some(mut writer) = staged {
        writer.flush().map_err(io_err(&staged_path))?;
    }
    if extract.is_valid() {
        let kind = extract.kind.expect("a valid extract has a kind");
        let span = extract.span.expect("a valid extract has dates");
        let loaded = store.load(kind, &staged_path, span, &name, &sha256, extract.rows)?;
        std::fs::remove_file(&staged_path).map_err(io_err(&staged_path))?;
        layout.archive(path, &sha256).map_err(io_err(path))?;
        tracing::info!(
            file = %name, kind = %kind, rows = loaded.inserted, months = %span,
            replaced = loaded.replaced, seconds = started.elapsed().as_secs_f64(),
            "accepted"
        );
        Ok(FileResult {
            name,
            kind: Some(kind),
            outcome: FileOutcome::Accepted {
                rows: loaded.inserted,
                span,
                replaced: loaded.replaced,
            },
        })
    } else {
        let _ = std::fs::remove_file(&staged_path);
        let report = extract.report();
        let report_path = layout.quarantine(path, &report).map_err(io_err(path))?;
        store.record_unloaded(
            &name,
            &sha256,
            extract.kind,
            extract.rows,
            LoadOutcome::Rejected,
            extract.problems.total(),
        )?;
        tracing::warn!(
            file = %name, problems = extract.problems.total(), pii = extract.problems.has_pii(),
            report = %report_path.display(),
            "rejected and quarantined; nothing from it was loaded"
        );
        Ok(FileResult {
            name,
            kind: extract.kind,
            outcome: FileOutcome::Rejected {
                problems: extract.problems.total(),
                pii: extract.problems.has_pii(),
                report: report_path,
            },
        })
    }
}

/// Computes every measure, protects its cells and publishes them as a new snapshot.
fn publish(
    store: &PrivateStore,
    published: &Published,
    measures: &[Measure],
    disclosure: &Disclosure,
    definitions: String,
) -> Result<SnapshotId, IngestError> {
    let started = Instant::now();
    let conn = store.connection();
    disclosure
        .install(conn)
        .map_err(|source| DisclosureError::Measure {
            id: "ptable".into(),
            source,
        })?;
    let mut cells = Vec::new();
    for m in measures {
        disclosure.protect(conn, m)?;
        cells.push(PublishedMeasure {
            measure: m,
            cells_table: Disclosure::protected_table(m),
        });
    }
    let protected_at = started.elapsed().as_secs_f64();
    let coverage = store.coverage()?;
    let last_load_at = store
        .loads()?
        .iter()
        .filter(|l| l.outcome == LoadOutcome::Accepted)
        .map(|l| l.at)
        .max();
    let policy = &disclosure.policy;
    let note = policy.note();
    let meta = Metadata {
        created_at: Utc::now(),
        data_as_of: coverage.iter().map(|c| c.2).max(),
        last_load_at,
        definitions,
        coverage,
        extra: vec![
            ("policy_version".into(), policy.version.clone()),
            ("threshold".into(), policy.threshold.to_string()),
            ("note_fr".into(), note.fr),
            ("note_en".into(), note.en),
        ],
    };
    let draft = published.draft_path();
    let written = snapshot::write_snapshot(conn, &draft, &cells, &meta);
    for m in measures {
        store.execute_batch(&format!(
            "DROP TABLE IF EXISTS {}",
            Disclosure::protected_table(m)
        ))?;
    }
    if let Err(e) = written {
        let _ = std::fs::remove_file(&draft);
        return Err(e.into());
    }
    let id = published.commit(&draft, meta.created_at)?;
    tracing::info!(
        measures_seconds = protected_at,
        total_seconds = started.elapsed().as_secs_f64(),
        "measures computed, protected and published"
    );
    Ok(id)
}
