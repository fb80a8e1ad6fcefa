//! The server's state: the dashboards, the snapshot being served (swapped atomically
//! when `CURRENT` changes) and, per snapshot, a cache of rendered pages and exports.
//!
//! A request holds an `Arc` of the snapshot it started with, so a switch never fails a
//! request in flight; the old snapshot is dropped when its last request ends.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::body::Bytes;

use super::dashboards::{self, Dashboard};
use super::filters::Options;
use super::metrics::Metrics;
use crate::access::Role;
use crate::measures::DefinitionErrors;
use crate::snapshot::{Published, Snapshot, SnapshotError, SnapshotId};

/// Where the server reads from.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The data folder; only `DATA/published/` is read.
    pub data: PathBuf,
    pub dashboards: PathBuf,
    /// How often `CURRENT` is checked for a new snapshot.
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
}

impl Settings {
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

/// Rendered pages and exports kept per snapshot, by request key. Bounded in entries
/// and in bytes (PDF and PNG exports weigh far more than pages): when either limit
/// would be passed, the cache is emptied and fills again.
#[derive(Default)]
struct Rendered {
    entries: HashMap<String, Bytes>,
    bytes: usize,
}

const CACHE_ENTRY_LIMIT: usize = 4096;
const CACHE_BYTE_LIMIT: usize = 256 << 20;

impl Live {
    fn new(snapshot: Snapshot, dashboards: &[Dashboard]) -> Result<Live, DefinitionErrors> {
        dashboards::validate(dashboards, &snapshot.measures)?;
        let options = dashboards
            .iter()
            .map(|d| (d.id.clone(), Arc::new(Options::of(d, &snapshot))))
            .collect();
        let mut public_breakdowns: HashMap<String, BTreeSet<Vec<String>>> = HashMap::new();
        for d in dashboards.iter().filter(|d| d.allows(Role::Public)) {
            for (measure, breakdowns) in super::filters::reachable_breakdowns(d, &snapshot) {
                public_breakdowns.entry(measure).or_default().extend(breakdowns);
            }
        }
        Ok(Live {
            snapshot,
            options,
            public_breakdowns,
            rendered: Mutex::new(Rendered::default()),
        })
    }

    /// A rendered page from the cache, or rendered now and kept.
    pub fn page(
        &self,
        key: String,
        render: impl FnOnce() -> String,
        metrics: &Metrics,
        enabled: bool,
    ) -> Bytes {
        match self.cached(
            key,
            || Ok::<_, std::convert::Infallible>(render().into_bytes()),
            metrics,
            enabled,
        ) {
            Ok(body) => body,
            Err(never) => match never {},
        }
    }

    /// The bytes of a page or an export from the cache, or rendered now and kept. A
    /// failed rendering is not kept.
    pub fn cached<E>(
        &self,
        key: String,
        render: impl FnOnce() -> Result<Vec<u8>, E>,
        metrics: &Metrics,
        enabled: bool,
    ) -> Result<Bytes, E> {
        if !enabled {
            return render().map(Bytes::from);
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
        let body = Bytes::from(render()?);
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

pub struct Shared {
    pub settings: Settings,
    pub dashboards: Vec<Dashboard>,
    pub metrics: Metrics,
    pub auth: super::auth::Auth,
    published: Published,
    current: RwLock<Option<Arc<Live>>>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Definitions(#[from] DefinitionErrors),
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error(transparent)]
    Sessions(#[from] super::auth::sessions::SessionError),
}

impl Shared {
    /// Reads the dashboards and the current snapshot (if any yet).
    pub fn new(settings: Settings) -> Result<Shared, StartError> {
        let dashboards = dashboards::load_dir(&settings.dashboards)?;
        let published = Published::new(settings.data.join("published"));
        let auth = super::auth::Auth::new(
            &crate::access::dir(&settings.data),
            super::auth::AuthSettings {
                public: settings.public,
                secure_cookies: settings.secure_cookies,
                proxies: super::auth::TrustedProxies(settings.trusted_proxies.clone()),
            },
        )?;
        let shared = Shared {
            settings,
            dashboards,
            metrics: Metrics::new(),
            auth,
            published,
            current: RwLock::new(None),
        };
        if let Some(id) = shared.published.current()? {
            let live = Live::new(Snapshot::load(&shared.published, &id)?, &shared.dashboards)?;
            shared.install(live);
        }
        Ok(shared)
    }

    /// The snapshot being served.
    pub fn live(&self) -> Option<Arc<Live>> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn install(&self, live: Live) {
        self.metrics.snapshot(live.snapshot.id.as_str());
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
                tracing::warn!(error = %e, "CURRENT is unreadable; keeping the snapshot served");
                return;
            }
        };
        if self.live().is_some_and(|l| l.snapshot.id == id) {
            return;
        }
        match self.load(&id) {
            Ok(live) => self.install(live),
            Err(e) => {
                tracing::error!(snapshot = %id, error = %e, "new snapshot refused; keeping the one served")
            }
        }
    }

    fn load(&self, id: &SnapshotId) -> Result<Live, StartError> {
        Ok(Live::new(
            Snapshot::load(&self.published, id)?,
            &self.dashboards,
        )?)
    }
}

/// Watches `CURRENT` and swaps snapshots in the background.
pub fn spawn_watcher(shared: Arc<Shared>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(shared.settings.poll);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let s = shared.clone();
            // DuckDB reads block: keep them off the async workers.
            if let Err(e) = tokio::task::spawn_blocking(move || s.refresh()).await {
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
