//! Access control of the server: who is asking (a signed session cookie or a bearer
//! token), whether the route lets them in, sign-in and sign-out, limits on password
//! guessing, and the audit entry of every request.
//!
//! - `guard`: the one middleware that applies the route table's rule to every request,
//!   deciding on the routed, decoded identity of what will be served;
//! - `sessions`: session cookies signed with a key in `DATA/access/`, so that no
//!   session lives in one process's memory;
//! - `limiter`: password attempts reserved before they are verified;
//! - `client`: the client's address and TLS, believing proxies only when trusted.
//!
//! The sign-in and sign-out handlers are `handlers::login` and `handlers::logout`.

pub mod client;
pub mod guard;
pub mod limiter;
pub mod sessions;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, header};
use chrono::{DateTime, Utc};
use subtle::ConstantTimeEq;

use crate::access::users::TokenUses;
use crate::access::{AuditLog, AuditWriter, Entry, FileVersion, Users, UsersStore, Viewer};
pub use client::TrustedProxies;
pub use guard::{guard, limit_requests, security_headers};
use sessions::{Claims, SessionError, Sessions, stamp_tag};

/// Sessions end after this long without a request…
pub const IDLE: Duration = Duration::from_secs(30 * 60);
/// …and in any case this long after signing in.
pub const ABSOLUTE: Duration = Duration::from_secs(12 * 60 * 60);
/// A session cookie is re-issued with a new "last seen" at most this often.
const REFRESH: i64 = 60;
/// Password verifications running at once: argon2 takes 19 MiB and a core each.
fn verification_slots() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// How the server treats visitors and cookies.
#[derive(Debug, Clone, Default)]
pub struct AuthSettings {
    /// Anonymous visitors may see dashboards open to the `public` role.
    pub public: bool,
    /// Served over TLS: cookies `Secure` with the `__Host-` prefix, and HSTS.
    pub secure_cookies: bool,
    pub proxies: TrustedProxies,
}

/// Accounts, sessions, limits and the audit log of a running server.
pub struct Auth {
    store: UsersStore,
    users: RwLock<(Option<FileVersion>, Arc<Users>)>,
    sessions: Sessions,
    pub limiter: limiter::LoginLimiter,
    /// Password verifications allowed to run at once.
    pub verifications: tokio::sync::Semaphore,
    audit: AuditWriter,
    token_uses: Mutex<HashMap<String, DateTime<Utc>>>,
    token_store: TokenUses,
    /// Sessions seen by this server, by id: when (Unix seconds). For `/metrics` only.
    seen: Mutex<HashMap<String, i64>>,
    pub settings: AuthSettings,
}

impl Auth {
    pub fn new(access_dir: &std::path::Path, settings: AuthSettings) -> Result<Auth, SessionError> {
        let store = UsersStore::new(access_dir);
        let users = store.load().unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot read the users store; nobody can sign in until it is fixed");
            Users::default()
        });
        let version = store.version();
        Ok(Auth {
            store,
            users: RwLock::new((version, Arc::new(users))),
            sessions: Sessions::open(access_dir)?,
            limiter: limiter::LoginLimiter::new(limiter::Limits::default()),
            verifications: tokio::sync::Semaphore::new(verification_slots()),
            audit: AuditWriter::start(AuditLog::new(access_dir)),
            token_uses: Mutex::new(HashMap::new()),
            token_store: TokenUses::new(access_dir),
            seen: Mutex::new(HashMap::new()),
            settings,
        })
    }

    /// Sessions this server saw within the idle expiry (each server counts its own).
    pub fn sessions_alive(&self, now: i64) -> usize {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.retain(|_, at| now - *at < IDLE.as_secs() as i64);
        seen.len()
    }

    fn saw_session(&self, sid: &str, now: i64) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() >= 100_000 {
            seen.retain(|_, at| now - *at < IDLE.as_secs() as i64);
        }
        if let Some(at) = seen.get_mut(sid) {
            *at = now;
        } else if seen.len() < 100_000 {
            seen.insert(sid.to_string(), now);
        }
    }

    /// The accounts, re-read when another process changed the store.
    pub fn users(&self) -> Arc<Users> {
        // One `stat` per request: an account added or removed by another process counts
        // from the next request on.
        let version = self.store.version();
        {
            let guard = self.users.read().unwrap_or_else(|e| e.into_inner());
            if guard.0 == version {
                return guard.1.clone();
            }
        }
        let mut guard = self.users.write().unwrap_or_else(|e| e.into_inner());
        if version != guard.0 {
            match self.store.load() {
                Ok(users) => {
                    guard.0 = version;
                    guard.1 = Arc::new(users);
                    tracing::info!("users store reloaded");
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot re-read the users store; keeping the accounts loaded")
                }
            }
        }
        guard.1.clone()
    }

    pub fn record(&self, entry: Entry) {
        self.audit.record(entry);
    }

    /// Counts a request that matched no route.
    pub fn record_unmatched(&self) {
        self.audit.unmatched();
    }

    /// Whether the audit log is being written (person figures are refused otherwise).
    pub fn audit_healthy(&self) -> bool {
        self.audit.healthy()
    }

    pub fn audit_write_failures(&self) -> u64 {
        self.audit.write_failures()
    }

    /// Waits until the audit entries recorded so far are written (before exiting).
    pub fn flush_audit(&self) -> bool {
        self.audit.flush(Duration::from_secs(5))
    }

    /// Writes when tokens were last used (`reintegra users tokens` shows it).
    pub fn flush_token_uses(&self) {
        let uses = std::mem::take(&mut *self.token_uses.lock().unwrap_or_else(|e| e.into_inner()));
        if let Err(e) = self.token_store.record(&uses) {
            tracing::warn!(error = %e, "cannot record when tokens were last used");
        }
    }

    /// The name of the session cookie: `__Host-` prefixed behind TLS.
    pub fn session_cookie_name(&self) -> &'static str {
        if self.settings.secure_cookies {
            "__Host-rsid"
        } else {
            "rsid"
        }
    }

    /// A `Set-Cookie` value for the session (or, with `None`, one that clears it).
    fn session_cookie(
        &self,
        value: Option<&str>,
        max_age: i64,
        secure: bool,
    ) -> Option<HeaderValue> {
        let secure = if secure || self.settings.secure_cookies {
            "; Secure"
        } else {
            ""
        };
        let text = format!(
            "{}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
            self.session_cookie_name(),
            value.unwrap_or(""),
            max_age.max(0)
        );
        HeaderValue::from_str(&text).ok()
    }

    /// The viewer of a request — a bearer token, else a live session cookie — and, for
    /// a session last seen over a minute ago, its cookie re-issued (`secure`: the request
    /// came over TLS).
    pub fn identify(&self, headers: &HeaderMap, secure: bool) -> (Viewer, Option<HeaderValue>) {
        let users = self.users();
        let now = Utc::now();
        if let Some(token) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.get(..7)
                    .filter(|s| s.eq_ignore_ascii_case("bearer "))
                    .map(|_| &v[7..])
            })
        {
            let viewer = match users.by_token(token.trim(), now) {
                Some((u, t)) => {
                    let mut uses = self.token_uses.lock().unwrap_or_else(|e| e.into_inner());
                    if uses.len() < 100_000 {
                        uses.insert(t.id.clone(), now);
                    }
                    Viewer {
                        user: Some(u.name.clone()),
                        role: u.role,
                        csrf: None,
                        session: None,
                        token: Some(t.id.clone()),
                    }
                }
                None => Viewer::anonymous(),
            };
            return (viewer, None);
        }
        let Some(value) = cookie(headers, self.session_cookie_name()) else {
            return (Viewer::anonymous(), None);
        };
        let Some(claims) = self.sessions.open_cookie(&value) else {
            return (Viewer::anonymous(), None);
        };
        let t = now.timestamp();
        let live = t - claims.seen < IDLE.as_secs() as i64
            && t - claims.created < ABSOLUTE.as_secs() as i64
            && claims.seen <= t + 60;
        // A removed account, or a changed password, ends the session; so does signing out.
        let account = users.get(&claims.user).filter(|u| {
            bool::from(
                stamp_tag(&u.stamp)
                    .as_bytes()
                    .ct_eq(claims.stamp.as_bytes()),
            )
        });
        let Some(u) = account.filter(|_| live && !self.sessions.is_revoked(&claims.sid)) else {
            return (Viewer::anonymous(), None);
        };
        self.saw_session(&claims.sid, t);
        let refreshed = (t - claims.seen >= REFRESH).then(|| {
            let fresh = Claims {
                seen: t,
                ..claims.clone()
            };
            let left = claims.created + ABSOLUTE.as_secs() as i64 - t;
            self.session_cookie(Some(&self.sessions.seal(&fresh)), left, secure)
        });
        let viewer = Viewer {
            user: Some(u.name.clone()),
            role: u.role,
            csrf: Some(claims.csrf.clone()),
            session: Some((claims.sid.clone(), claims.created)),
            token: None,
        };
        (viewer, refreshed.flatten())
    }

    /// Opens a session: the `Set-Cookie` value that carries it.
    pub fn open_session(&self, user: &str, stamp: &str, secure: bool) -> Option<HeaderValue> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            user: user.to_string(),
            stamp: stamp_tag(stamp),
            sid: sessions::random_hex(16),
            csrf: sessions::random_hex(16),
            created: now,
            seen: now,
        };
        self.session_cookie(
            Some(&self.sessions.seal(&claims)),
            ABSOLUTE.as_secs() as i64,
            secure,
        )
    }

    /// Ends a viewer's session on every replica, and returns the `Set-Cookie` that
    /// clears it in the browser.
    pub fn close_session(&self, viewer: &Viewer, secure: bool) -> Option<HeaderValue> {
        if let Some((sid, created)) = &viewer.session {
            let now = Utc::now().timestamp();
            if let Err(e) = self
                .sessions
                .revoke(sid, created + ABSOLUTE.as_secs() as i64, now)
            {
                tracing::error!(error = %e, "cannot record a sign-out; the session ends when it expires");
            }
        }
        self.session_cookie(None, 0, secure)
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            c.trim()
                .strip_prefix(name)?
                .strip_prefix('=')
                .map(str::to_string)
        })
}

/// Whether a state-changing request comes from our own pages: browsers say where a
/// request comes from (`Sec-Fetch-Site`, `Origin`); anything cross-site is refused.
pub fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) => origin.split("://").nth(1).is_some_and(|o| o == host),
        (Some(_), None) => false,
        // No browser hint at all: not a browser-driven cross-site request.
        (None, _) => true,
    }
}
