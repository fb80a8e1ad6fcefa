//! The server's state: the dashboards, the snapshot being served (swapped atomically
//! when `CURRENT` changes), the notes of `DATA/notes/` (read again when its files
//! change) and, per snapshot, a cache of rendered pages and exports.
//!
//! A request holds an `Arc` of the snapshot it started with, so a switch never fails a
//! request in flight; the old snapshot is dropped when its last request ends.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use axum::body::Bytes;

use super::auth::{Auth, AuthSettings, TrustedProxies, sessions::SessionError};
use super::kept::{Kept, Sources};
use super::metrics::Metrics;
use crate::access::Role;
use crate::definitions::{Dashboard, DefinitionErrors, Notes, Programme, dashboard, notes};
use crate::present::filters::{Options, reachable_breakdowns};
use crate::render::exports::ExportError;
use crate::snapshot::{Published, Snapshot, SnapshotError, SnapshotId};

/// Where the server reads from.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The data folder; snapshots are read from `DATA/published/`, notes from
    /// `DATA/notes/`.
    pub data: PathBuf,
    pub dashboards: PathBuf,
    /// How often `CURRENT` is checked for a new snapshot, and the notes folder for
    /// changed files.
    pub poll: Duration,
    /// Keep rendered pages and exports per snapshot (off only to measure rendering).
    pub cache_pages: bool,
    /// Let anonymous visitors open dashboards that list the `public` role.
    pub public: bool,
    /// Served over TLS (by a proxy): cookies `Secure` with the `__Host-` prefix, HSTS.
    pub secure_cookies: bool,
    /// Proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How often the last use of each bearer token is written down.
    pub token_use_every: Duration,
    /// The licence `/open/` publishes the open data under.
    pub open_licence: crate::render::exports::open_data::Licence,
}

impl Settings {
    /// The notes folder: `DATA/notes/`.
    pub fn notes_dir(&self) -> PathBuf {
        self.data.join(notes::DIR)
    }

    /// Settings with the defaults: checks `CURRENT` every 2 s, caches pages, no public
    /// access, no trusted proxy, cookies not marked `Secure` unless a trusted proxy says
    /// the request was HTTPS.
    pub fn new(data: impl Into<PathBuf>, dashboards: impl Into<PathBuf>) -> Settings {
        Settings {
            data: data.into(),
            dashboards: dashboards.into(),
            poll: Duration::from_secs(2),
            cache_pages: true,
            public: false,
            secure_cookies: false,
            trusted_proxies: Vec::new(),
            token_use_every: Duration::from_secs(60),
            open_licence: Default::default(),
        }
    }
}

/// A snapshot with what the server derives from it.
pub struct Live {
    pub snapshot: Snapshot,
    /// Filter values each dashboard offers, by dashboard id.
    pub options: HashMap<String, Arc<Options>>,
    /// Per measure, the breakdowns the public dashboards' panels can show: all that an
    /// anonymous visitor may read through the API.
    pub public_breakdowns: HashMap<String, BTreeSet<Vec<String>>>,
    rendered: Mutex<Rendered>,
}

/// Rendered pages and exports kept per snapshot, by what they are. Bounded in entries
/// and in bytes (PDF and PNG exports weigh far more than pages): when either limit
/// would be passed, the cache is emptied and fills again.
#[derive(Default)]
struct Rendered {
    entries: HashMap<Kept, Bytes>,
    bytes: usize,
}

const CACHE_ENTRY_LIMIT: usize = 4096;
const CACHE_BYTE_LIMIT: usize = 256 << 20;

impl Live {
    fn new(snapshot: Snapshot, dashboards: &[Dashboard]) -> Result<Live, DefinitionErrors> {
        dashboard::validate(dashboards, &snapshot.measures)?;
        let options = dashboards
            .iter()
            .map(|d| (d.id.clone(), Arc::new(Options::of(d, &snapshot))))
            .collect();
        let mut public_breakdowns: HashMap<String, BTreeSet<Vec<String>>> = HashMap::new();
        for d in dashboards.iter().filter(|d| d.allows(Role::Public)) {
            for (measure, breakdowns) in reachable_breakdowns(d, &snapshot) {
                public_breakdowns
                    .entry(measure)
                    .or_default()
                    .extend(breakdowns);
            }
        }
        Ok(Live {
            snapshot,
            options,
            public_breakdowns,
            rendered: Mutex::new(Rendered::default()),
        })
    }

    /// The bytes `key` names: from the cache, or rendered now and kept. A failed
    /// rendering is not kept.
    fn kept(
        &self,
        key: Kept,
        sources: &Sources<'_>,
        metrics: &Metrics,
        enabled: bool,
    ) -> Result<Bytes, ExportError> {
        if !enabled {
            return key.render(sources).map(Bytes::from);
        }
        if let Some(body) = self
            .rendered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entries
            .get(&key)
        {
            metrics.cache(true);
            return Ok(body.clone());
        }
        metrics.cache(false);
        let body = Bytes::from(key.render(sources)?);
        let mut rendered = self.rendered.lock().unwrap_or_else(|e| e.into_inner());
        if rendered.entries.len() >= CACHE_ENTRY_LIMIT
            || rendered.bytes + body.len() > CACHE_BYTE_LIMIT
        {
            rendered.entries.clear();
            rendered.bytes = 0;
        }
        if let Some(old) = rendered.entries.insert(key, body.clone()) {
            rendered.bytes -= old.len();
        }
        rendered.bytes += body.len();
        Ok(body)
    }
}

/// A snapshot `CURRENT` named that this server would not serve, and why.
#[derive(Debug, Clone)]
pub struct Refused {
    pub snapshot: String,
    pub reason: String,
}

/// The notes served, and the files they were read from as they were then.
struct NotesServed {
    notes: Arc<Notes>,
    files: Stamp,
}

/// Name, size and modification time of each file of the notes folder that is read.
type Stamp = Vec<(PathBuf, u64, Option<SystemTime>)>;

fn stamp(dir: &Path) -> Stamp {
    let mut files: Stamp = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let path = e.path();
            let read = path.extension().is_some_and(|x| x == "toml")
                || path.file_name().is_some_and(|n| n == notes::NAMES_FILE);
            let meta = e.metadata().ok().filter(|m| m.is_file())?;
            read.then(|| (path, meta.len(), meta.modified().ok()))
        })
        .collect();
    files.sort();
    files
}

pub struct Shared {
    pub settings: Settings,
    pub dashboards: Vec<Dashboard>,
    /// The programme's text (`_programme.toml` beside the dashboards).
    pub programme: Arc<Programme>,
    /// What the IATI activity file is written from (`_iati.toml`, `_budget.toml`,
    /// `_results.toml` beside the dashboards); none without `_iati.toml`.
    pub iati: Option<Arc<crate::definitions::iati::Definitions>>,
    pub metrics: Metrics,
    pub auth: Auth,
    published: Published,
    current: RwLock<Option<Arc<Live>>>,
    refused: RwLock<Option<Refused>>,
    notes: RwLock<NotesServed>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Definitions(#[from] DefinitionErrors),
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error(transparent)]
    Sessions(#[from] SessionError),
}

impl Shared {
    /// Reads the dashboards and the current snapshot (if any yet).
    pub fn new(settings: Settings) -> Result<Shared, StartError> {
        let dashboards = dashboard::load_dir(&settings.dashboards)?;
        let programme =
            Programme::load(&settings.dashboards).map_err(|e| DefinitionErrors(vec![e]))?;
        let iati = crate::definitions::iati::Definitions::load(&settings.dashboards)?.map(Arc::new);
        let published = Published::new(settings.data.join("published"));
        let auth = Auth::new(
            &crate::access::dir(&settings.data),
            AuthSettings {
                public: settings.public,
                secure_cookies: settings.secure_cookies,
                proxies: TrustedProxies(settings.trusted_proxies.clone()),
            },
        )?;
        let shared = Shared {
            settings,
            dashboards,
            programme: Arc::new(programme),
            iati,
            metrics: Metrics::new(),
            auth,
            published,
            current: RwLock::new(None),
            refused: RwLock::new(None),
            notes: RwLock::new(NotesServed {
                notes: Arc::new(Notes::default()),
                files: Vec::new(),
            }),
        };
        shared.refresh_notes();
        shared.start();
        Ok(shared)
    }

    /// The notes being served.
    pub fn notes(&self) -> Arc<Notes> {
        self.notes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .notes
            .clone()
    }

    /// Reads `DATA/notes/` again when a file of it was added, removed or changed since
    /// it was last read. Invalid notes are logged (file and line, never their text)
    /// and skipped; the others are served.
    pub fn refresh_notes(&self) {
        let dir = self.settings.notes_dir();
        // Taken before reading: a change made while reading shows at the next poll.
        let files = stamp(&dir);
        if self.notes.read().unwrap_or_else(|e| e.into_inner()).files == files {
            return;
        }
        let loaded = notes::load_dir(&dir, &self.dashboards);
        for p in &loaded.problems {
            tracing::warn!(problem = %p, "note skipped");
        }
        tracing::info!(
            notes = loaded.notes.len(),
            skipped_problems = loaded.problems.len(),
            version = %format!("{:016x}", loaded.notes.version()),
            "notes loaded from {}",
            dir.display()
        );
        *self.notes.write().unwrap_or_else(|e| e.into_inner()) = NotesServed {
            notes: Arc::new(loaded.notes),
            files,
        };
    }

    /// Serves the snapshot `CURRENT` names or, when this build cannot serve it (a newer
    /// schema, dashboards it does not fit, a damaged file), the newest kept snapshot it
    /// can: an upgrade or a bad night never keeps the site down.
    fn start(&self) {
        let named = match self.published.current() {
            Ok(named) => named,
            Err(e) => {
                self.refuse("CURRENT", &e.to_string());
                None
            }
        };
        if let Some(id) = &named {
            match self.load(id) {
                Ok(live) => return self.install(live),
                Err(e) => self.refuse(id.as_str(), &e.to_string()),
            }
        } else if self.refused().is_none() {
            return; // nothing published yet
        }
        let kept = self.published.list().unwrap_or_default();
        for id in kept.iter().rev().filter(|k| Some(*k) != named.as_ref()) {
            match self.load(id) {
                Ok(live) => {
                    tracing::warn!(snapshot = %id, "serving the newest kept snapshot this build can serve");
                    return self.install(live);
                }
                Err(e) => {
                    tracing::warn!(snapshot = %id, error = %e, "kept snapshot cannot be served either")
                }
            }
        }
        tracing::error!("no published snapshot can be served; answering 503 until one can");
    }

    /// Remembers (and says) that `CURRENT` names something this server does not serve.
    fn refuse(&self, snapshot: &str, reason: &str) {
        tracing::error!(
            snapshot,
            error = reason,
            "snapshot refused; keeping the one served"
        );
        // /healthz is open to anyone: the reason names files relative to the data folder.
        let data = self.settings.data.display().to_string();
        let reason = if data.is_empty() {
            reason.to_string()
        } else {
            reason.replace(&data, "DATA")
        };
        let reason = reason.as_str();
        self.metrics.refused(true);
        *self.refused.write().unwrap_or_else(|e| e.into_inner()) = Some(Refused {
            snapshot: snapshot.to_string(),
            reason: reason.to_string(),
        });
    }

    /// The snapshot `CURRENT` names when this server would not serve it.
    pub fn refused(&self) -> Option<Refused> {
        self.refused
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The bytes `key` names for the snapshot `live`, kept for its next readers.
    pub fn kept(&self, live: &Live, key: Kept) -> Result<Bytes, ExportError> {
        let sources = Sources {
            dashboards: &self.dashboards,
            programme: &self.programme,
            iati: self.iati.as_deref(),
            snapshot: &live.snapshot,
            options: &live.options,
        };
        live.kept(key, &sources, &self.metrics, self.settings.cache_pages)
    }

    /// The bytes `key` names, rendered off the async workers when that takes a while
    /// (images, PDF).
    pub async fn kept_async(
        self: &Arc<Self>,
        live: &Arc<Live>,
        key: Kept,
    ) -> Result<Bytes, ExportError> {
        if !key.is_heavy() {
            return self.kept(live, key);
        }
        let (shared, live) = (self.clone(), live.clone());
        tokio::task::spawn_blocking(move || shared.kept(&live, key))
            .await
            .unwrap_or_else(|e| Err(ExportError::Task(e.to_string())))
    }

    /// The snapshot being served.
    pub fn live(&self) -> Option<Arc<Live>> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn install(&self, live: Live) {
        self.metrics
            .snapshot(live.snapshot.id.as_str(), live.snapshot.created_at());
        tracing::info!(snapshot = %live.snapshot.id, "serving snapshot");
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(live));
    }

    /// Loads the snapshot `CURRENT` names if it is not the one served. A snapshot that
    /// cannot be read or does not fit the dashboards is refused; the old one stays.
    pub fn refresh(&self) {
        let id = match self.published.current() {
            Ok(Some(id)) => id,
            Ok(None) => return,
            Err(e) => {
                // A pointer being replaced by a sync, or damaged: say it once.
                if self.refused().is_none_or(|r| r.snapshot != "CURRENT") {
                    self.refuse("CURRENT", &e.to_string());
                }
                return;
            }
        };
        if self.live().is_some_and(|l| l.snapshot.id == id) {
            self.clear_refused();
            return;
        }
        // Tried already: it will not become servable without a new build.
        if self.refused().is_some_and(|r| r.snapshot == id.as_str()) {
            return;
        }
        match self.load(&id) {
            Ok(live) => {
                self.clear_refused();
                self.install(live)
            }
            Err(e) => self.refuse(id.as_str(), &e.to_string()),
        }
    }

    fn clear_refused(&self) {
        let mut refused = self.refused.write().unwrap_or_else(|e| e.into_inner());
        if refused.take().is_some() {
            self.metrics.refused(false);
        }
    }

    fn load(&self, id: &SnapshotId) -> Result<Live, StartError> {
        Ok(Live::new(
            Snapshot::load(&self.published, id)?,
            &self.dashboards,
        )?)
    }
}

/// Watches `CURRENT` and the notes folder, and swaps snapshots and notes in the
/// background.
pub fn spawn_watcher(shared: Arc<Shared>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(shared.settings.poll);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let s = shared.clone();
            // DuckDB reads block: keep them off the async workers.
            if let Err(e) = tokio::task::spawn_blocking(move || {
                s.refresh();
                s.refresh_notes();
            })
            .await
            {
                tracing::error!(error = %e, "snapshot watcher task failed");
            }
        }
    });
}

/// Writes down, now and then, when each bearer token was last used.
pub fn spawn_token_use_writer(shared: Arc<Shared>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(shared.settings.token_use_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let s = shared.clone();
            let _ = tokio::task::spawn_blocking(move || s.auth.flush_token_uses()).await;
        }
    });
}
