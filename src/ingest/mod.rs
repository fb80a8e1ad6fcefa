//! ingest: the nightly job — inbox → private store → measures → published snapshot.
//!
//! One run, under a lock on the data folder:
//! 1. clean up what an interrupted run left (temporary snapshot, staged rows), and
//!    quarantine, unread, any file a dead run was reading (`journal`);
//! 2. read every delivered file that has settled (bounded work per file: `Limits`); a
//!    file already accepted (same bytes) changes nothing; a valid one is loaded in one
//!    transaction and archived; an invalid one is moved to `quarantine/` with a report
//!    (file, row, column, rule — never a value);
//! 3. if the store holds loads newer than the published snapshot (accepted now or by a
//!    run that died before publishing), or there is no snapshot yet, or the definitions
//!    changed, compute the measures and publish a new snapshot, then prune old ones.
//!
//! A rejected file never reaches the store or the snapshot; what was published before
//! stays published; what was accepted is published. Logs name files, rows and columns,
//! never cell values.

mod deliveries;
mod files;
mod journal;
mod layout;
mod progress;
mod publish;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{NaiveDate, Utc};

use crate::definitions::{self, DefinitionErrors, Measure};
use crate::disclosure::{Disclosure, DisclosureError, Policy, keys::Secret};
use crate::domain::{Kind, MonthSpan};
pub use crate::extract::Limits;
use crate::locale::Locale;
use crate::measures;
use crate::snapshot::{self, Published, SnapshotError, SnapshotId};
use crate::store::{PrivateStore, StoreError};
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
    /// Quarantined files (which may hold identifying data) are deleted this long after
    /// they were quarantined.
    pub purge_quarantine_after: std::time::Duration,
    /// Files modified less than this long ago are left for the next run (an upload
    /// may still be going on).
    pub settle: std::time::Duration,
    /// The work one file may cause.
    pub limits: Limits,
    /// Memory DuckDB may take before it spills to `private/spill/`.
    pub store_memory: String,
    /// The dashboards the servers will serve: a new snapshot that does not fit them is
    /// not published (`CURRENT` keeps naming the last one). None: not checked.
    pub dashboards: Option<PathBuf>,
    /// A kind with no accepted delivery for longer than this is flagged on the
    /// deliveries page and in `/metrics`.
    pub stale_after_days: u32,
    /// The language of the text report written beside a quarantined file (the JSON
    /// report carries both). French by default: data officers work in French.
    pub lang: Locale,
    /// The grant's budget (`_budget.toml`): the budget lines finance extracts may name
    /// and the monthly rates their amounts are converted with. None: finance extracts
    /// are checked against the reference data's budget lines and converted with no
    /// rate (their spending is not published).
    pub budget: Option<PathBuf>,
}

/// The job's settings file (`ingest.toml`): every key optional, defaults built in.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub limits: Limits,
    /// Memory DuckDB may take for loads and measures before it spills to disk.
    #[serde(default = "default_store_memory")]
    pub store_memory: String,
    #[serde(default)]
    pub deliveries: DeliveriesConfig,
}

/// `[deliveries]` of `ingest.toml`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesConfig {
    /// Days a kind may go without an accepted delivery before it is flagged.
    #[serde(default = "default_stale_after_days")]
    pub stale_after_days: u32,
}

impl Default for DeliveriesConfig {
    fn default() -> Self {
        DeliveriesConfig {
            stale_after_days: default_stale_after_days(),
        }
    }
}

fn default_stale_after_days() -> u32 {
    35
}

fn default_store_memory() -> String {
    "2GB".into()
}

impl Config {
    /// Reads a settings file; problems name the file and line.
    pub fn load(path: &Path) -> Result<Config, crate::definitions::DefinitionError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| crate::definitions::DefinitionError {
                file: path.into(),
                line: 0,
                message: format!("cannot read: {e}"),
            })?;
        toml::from_str(&text).map_err(|e| crate::definitions::DefinitionError {
            file: path.into(),
            line: e
                .span()
                .map_or(1, |s| text[..s.start].matches('\n').count() + 1),
            message: e.message().to_string(),
        })
    }
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
        let dashboards = Some(
            queries
                .parent()
                .unwrap_or(Path::new("."))
                .join("dashboards"),
        )
        .filter(|d| d.is_dir());
        let budget = dashboards
            .as_ref()
            .map(|d| d.join(definitions::budget::FILE))
            .filter(|b| b.is_file());
        Options {
            inbox: inbox.into(),
            data: data.into(),
            queries,
            policy,
            keep: 7,
            wait: false,
            today: Utc::now().date_naive(),
            purge_quarantine_after: std::time::Duration::from_secs(30 * 24 * 3600),
            settle: std::time::Duration::ZERO,
            limits: Limits::default(),
            store_memory: default_store_memory(),
            dashboards,
            stale_after_days: default_stale_after_days(),
            lang: Locale::default(),
            budget,
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

impl std::fmt::Display for FileResult {
    /// One line per file, as `reintegra ingest` prints it (names the file, never a
    /// value of it).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = self.kind.map_or("unknown kind", |k| k.name());
        let name = &self.name;
        match &self.outcome {
            FileOutcome::Accepted {
                rows,
                span,
                replaced,
            } => write!(
                f,
                "accepted    {name} ({kind}): {rows} rows for {span}, {replaced} earlier rows replaced"
            ),
            FileOutcome::Rejected {
                problems,
                pii,
                report,
            } => write!(
                f,
                "quarantined {name} ({kind}): {problems} problems{}; see {}",
                if *pii { ", identifying data" } else { "" },
                report.display()
            ),
            FileOutcome::Duplicate => write!(f, "unchanged   {name} ({kind}): already loaded"),
        }
    }
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub files: Vec<FileResult>,
    /// The snapshot this run published, if it published one.
    pub published: Option<SnapshotId>,
    /// The snapshot `CURRENT` names at the end of the run.
    pub current: Option<SnapshotId>,
    /// Loads accepted by an earlier run that died before publishing them, published now.
    pub recovered: bool,
    /// Files left in the inbox because they changed too recently.
    pub unsettled: Vec<String>,
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
    #[error(transparent)]
    Definitions(#[from] DefinitionErrors),
    #[error(transparent)]
    Policy(#[from] crate::definitions::DefinitionError),
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
    #[error(
        "the record-key secret {0} is missing or unreadable, but snapshots were published with it. Restore secret.key from the backup of the private folder (back it up with the store), then run again. Only if it is lost for good, `reintegra keygen --data DIR --confirm-new-secret` makes a new one: every published figure then changes once, and the next snapshot records it"
    )]
    SecretLost(PathBuf),
    #[error(
        "the new snapshot does not fit the dashboards the servers serve, so it was not published (CURRENT still names the last one): {0}. Fix the dashboards or the queries, check them with `reintegra check`, and run again"
    )]
    Unservable(DefinitionErrors),
    #[error(
        "{0} already holds a record-key secret; keygen makes one only when it is lost (remove it first if you really mean to replace it)"
    )]
    SecretExists(PathBuf),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> IngestError + '_ {
    move |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Runs the nightly job once, and tells the servers how it ended
/// (`DATA/status/ingest.json`) unless another run held the lock.
pub fn run(options: &Options) -> Result<RunSummary, IngestError> {
    let result = run_once(options);
    if matches!(result, Err(IngestError::Busy(_))) {
        return result;
    }
    let previous = crate::status::Status::read(&options.data);
    let now = Utc::now();
    let status = match &result {
        Ok(summary) => crate::status::Status {
            finished_at: now,
            outcome: if summary.rejected() > 0 {
                "quarantined"
            } else {
                "ok"
            }
            .into(),
            files: summary.files.len(),
            quarantined: summary.rejected(),
            published: summary.published.as_ref().map(|id| id.to_string()),
            last_success_at: Some(now),
            error: None,
        },
        Err(e) => crate::status::Status {
            finished_at: now,
            outcome: "failed".into(),
            files: 0,
            quarantined: 0,
            published: None,
            last_success_at: previous.and_then(|p| p.last_success_at),
            error: Some(e.to_string()),
        },
    };
    if let Err(e) = status.write(&options.data) {
        tracing::error!(error = %e, "cannot write DATA/status/ingest.json; the servers' metrics will not show this run");
    }
    result
}

fn run_once(options: &Options) -> Result<RunSummary, IngestError> {
    let started = Instant::now();
    let run_started = Utc::now();
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
    let (journal, crashed) =
        journal::Journal::open(&layout.private()).map_err(io_err(&layout.private()))?;

    let measures = definitions::measure::load_dir(&options.queries)?;
    let dashboards = match &options.dashboards {
        Some(dir) => {
            // Before any file is touched: dashboards that no snapshot of these measures
            // could fit stop the run with the delivery left in the inbox.
            let dashboards = definitions::dashboard::load_dir(dir)?;
            let infos: Vec<definitions::MeasureInfo> = measures.iter().map(Into::into).collect();
            definitions::dashboard::validate(&dashboards, &infos)
                .map_err(IngestError::Unservable)?;
            Some(dashboards)
        }
        None => {
            tracing::warn!(
                "no dashboards folder given: the new snapshot is not checked against what the servers serve"
            );
            None
        }
    };
    let policy = Policy::load(&options.policy)?;
    policy.check_measures(&measures)?;
    let store = PrivateStore::open(&layout.private())?;
    store.limit_memory(&options.store_memory, &layout.private().join("spill"))?;
    check_definitions(&store, &measures)?;
    let (budget, budget_text) = match &options.budget {
        Some(path) => {
            let budget = definitions::Budget::load(path)?;
            let text = std::fs::read_to_string(path).map_err(io_err(path))?;
            (Some(std::sync::Arc::new(budget)), text)
        }
        None => (None, String::new()),
    };
    store.set_rates(&budget.as_ref().map(|b| b.rate_rows()).unwrap_or_default())?;
    let secret = secret(&layout, &published, &store)?;

    let register = crate::reference::Register::load(&options.data).map_err(|problems| {
        DefinitionErrors(
            problems
                .into_iter()
                .map(|p| crate::definitions::DefinitionError {
                    file: p.file,
                    line: p.line,
                    message: p.message,
                })
                .collect(),
        )
    })?;
    let context = crate::extract::Context {
        today: options.today,
        limits: options.limits,
        register: std::sync::Arc::new(register),
        budget,
    };
    let (files, unsettled) = take_delivery(&store, &layout, &context, options, &journal, &crashed)?;
    journal.clear().map_err(io_err(&layout.private()))?;
    purge_quarantine(&store, &layout, options.purge_quarantine_after)?;
    // The deliveries page learns of every file, whatever happens next.
    if let Err(e) = deliveries::record(
        &store,
        &options.data,
        run_started,
        &files,
        options.stale_after_days,
    ) {
        tracing::error!(error = %e, "cannot write DATA/deliveries/; the deliveries page shows the previous run");
    }
    let accepted = files
        .iter()
        .any(|f| matches!(f.outcome, FileOutcome::Accepted { .. }));

    // New rates change the spending figures: a changed budget file republishes.
    let definitions = measures::fingerprint(&measures, &format!("{}\0{budget_text}", policy.text));
    let current = published.current().unwrap_or_else(|e| {
        tracing::warn!(error = %e, "CURRENT is unusable; a new snapshot will be published");
        None
    });
    let last_load = store.last_accepted_load()?;
    let (stale, pending) = match &current {
        None => (true, false),
        Some(id) => {
            let meta = |key| {
                snapshot::open_read_only(&published.path_of(id))
                    .ok()
                    .and_then(|conn| snapshot::read_meta(&conn, key))
            };
            let published_load: Option<i64> = meta("last_load_id").and_then(|v| v.parse().ok());
            let pending = last_load.is_some_and(|l| published_load.is_none_or(|p| l > p));
            (
                meta("definitions").as_deref() != Some(definitions.as_str()),
                pending,
            )
        }
    };
    let recovered = pending && !accepted;
    if recovered {
        tracing::warn!(
            "the store holds loads that no snapshot has published (an earlier run stopped before publishing): publishing them now"
        );
    }
    let mut summary = RunSummary {
        files,
        published: None,
        current: current.clone(),
        recovered,
        unsettled,
    };
    if accepted || stale || pending {
        let key_id = secret.id();
        let previous_key = current.as_ref().and_then(|id| {
            snapshot::open_read_only(&published.path_of(id))
                .ok()
                .and_then(|conn| snapshot::read_meta(&conn, "secret_key_id"))
        });
        let key_changed = previous_key.as_ref().is_some_and(|p| *p != key_id);
        if key_changed {
            tracing::warn!(
                "the record-key secret changed since the last snapshot: every person figure is perturbed anew, once"
            );
        }
        let disclosure =
            Disclosure::new(policy, secret).map_err(|e| crate::definitions::DefinitionError {
                file: options.policy.clone(),
                line: 0,
                message: e.to_string(),
            })?;
        let provenance = publish::Provenance {
            definitions,
            last_load,
            key_id,
            key_changed,
        };
        let id = publish::publish(
            &store,
            &published,
            &layout.private(),
            &measures,
            &disclosure,
            &context.register,
            provenance,
            dashboards.as_deref(),
        )?;
        let pruned = published.prune(options.keep)?;
        publish::prune_state(&store, &published)?;
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
        peak_memory_mb = peak_memory_mb(),
        "ingest finished"
    );
    Ok(summary)
}

/// The record-key secret. Made on the very first run only: once anything was accepted
/// or published, a missing or unreadable secret stops the run (a new one would hand
/// anyone who kept the old snapshots a second, independent reading of every cell).
fn secret(
    layout: &Layout,
    published: &Published,
    store: &PrivateStore,
) -> Result<Secret, IngestError> {
    let private = layout.private();
    let path = crate::disclosure::keys::secret_path(&private);
    match Secret::load(&private) {
        Ok(secret) => Ok(secret),
        Err(e) => {
            let used = !published.list()?.is_empty() || store.last_accepted_load()?.is_some();
            if used || e.kind() != std::io::ErrorKind::NotFound {
                return Err(IngestError::SecretLost(path));
            }
            Secret::create(&path).map_err(io_err(&path))
        }
    }
}

/// The disclosure report the job kept for the snapshot `CURRENT` names.
pub fn disclosure_report(data: &Path) -> Result<crate::disclosure::report::Report, IngestError> {
    let layout = Layout::new(data);
    let published = Published::new(layout.published());
    let id = published.current()?.ok_or_else(|| {
        io_err(&layout.published())(std::io::Error::other("nothing is published yet"))
    })?;
    crate::disclosure::report::load(&layout.private(), id.as_str()).map_err(|e| {
        io_err(&crate::disclosure::report::reports_dir(&layout.private()))(std::io::Error::other(format!(
            "no disclosure report for snapshot {id} ({e}); the next ingest that publishes writes one"
        )))
    })
}

/// Makes a new record-key secret when the old one is lost for good
/// (`reintegra keygen --confirm-new-secret`). Refuses when one exists.
pub fn keygen(data: &Path) -> Result<PathBuf, IngestError> {
    let layout = Layout::new(data);
    layout.create().map_err(io_err(data))?;
    let _lock = lock(&layout, true)?;
    let path = crate::disclosure::keys::secret_path(&layout.private());
    if path.exists() {
        return Err(IngestError::SecretExists(path));
    }
    Secret::create(&path).map_err(io_err(&path))?;
    tracing::warn!(path = %path.display(), "made a new record-key secret; the next snapshot records the change");
    Ok(path)
}

/// Reads every delivered file (in parallel) and settles each in delivery order. Returns
/// the results and the names of files left for the next run (still changing).
fn take_delivery(
    store: &PrivateStore,
    layout: &Layout,
    context: &crate::extract::Context,
    options: &Options,
    journal: &journal::Journal,
    crashed: &[journal::Mark],
) -> Result<(Vec<FileResult>, Vec<String>), IngestError> {
    let started = Instant::now();
    let (delivered, unsettled) =
        layout::delivered_files(&options.inbox, options.settle).map_err(io_err(&options.inbox))?;
    for name in &unsettled {
        tracing::info!(file = %name, "modified too recently: left for the next run");
    }
    let mut results: Vec<Option<FileResult>> = Vec::new();
    let mut to_read = Vec::new();
    let mut positions = Vec::new();
    for (path, fingerprint) in files::fingerprint_all(delivered)? {
        if crashed.iter().any(|m| m.sha256 == fingerprint.sha256) {
            results.push(Some(files::settle_crashed(
                store,
                layout,
                &path,
                &fingerprint,
                options.lang,
            )?));
            continue;
        }
        match store.accepted_load(&fingerprint.sha256)? {
            Some(earlier) => results.push(Some(files::settle_duplicate(
                store,
                layout,
                &path,
                &fingerprint,
                &earlier,
            )?)),
            None => {
                positions.push(results.len());
                results.push(None);
                to_read.push((path, fingerprint));
            }
        }
    }
    let reading = files::Reading {
        layout,
        journal,
        context,
    };
    for (read, position) in files::read_all(to_read, &reading)?
        .into_iter()
        .zip(positions)
    {
        results[position] = Some(files::settle(store, layout, read, options.lang)?);
    }
    let results: Vec<FileResult> = results.into_iter().flatten().collect();
    if !results.is_empty() {
        tracing::info!(
            files = results.len(),
            seconds = started.elapsed().as_secs_f64(),
            "delivery read and loaded"
        );
    }
    Ok((results, unsettled))
}

/// Deletes quarantined files past their time, recording each deletion in the store.
fn purge_quarantine(
    store: &PrivateStore,
    layout: &Layout,
    max_age: std::time::Duration,
) -> Result<(), IngestError> {
    let dir = layout.quarantine_dir();
    for (file, quarantined_at) in layout.purge_quarantine(max_age).map_err(io_err(&dir))? {
        store.record_purge(&file, quarantined_at)?;
        tracing::info!(file = %file, quarantined_at = %quarantined_at, "quarantined file and its reports deleted");
    }
    Ok(())
}

/// The process's peak resident memory (Linux), for the run's last log line.
fn peak_memory_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

/// Takes the data folder's ingest lock (held until the file is dropped): what a run
/// holds, and what a backup takes to copy a consistent state.
pub fn lock_data(data: &Path, wait: bool) -> Result<File, IngestError> {
    let layout = Layout::new(data);
    layout.create().map_err(io_err(data))?;
    lock(&layout, wait)
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
