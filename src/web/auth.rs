//! Access control of the server: who is asking (session cookie or bearer token), whether
//! the route lets them in, the login and logout pages, rate limits on login, and the
//! audit entry of every request. One middleware (`guard`) applies the rules of the
//! route table (`super::routes`) to every request, so no route can forget them.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use axum::extract::{ConnectInfo, MatchedPath, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use maud::html;
use rand::Rng;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::i18n::Locale;
use super::state::Shared;
use super::{Access, locale_of, route_access};
use crate::access::{AuditLog, AuditWriter, Entry, Role, Users, UsersStore};

/// Sessions end after this long without a request…
pub const IDLE: Duration = Duration::from_secs(30 * 60);
/// …and in any case this long after signing in.
pub const ABSOLUTE: Duration = Duration::from_secs(12 * 60 * 60);
/// Failed logins allowed in `WINDOW`, per account and per address.
const PER_ACCOUNT: usize = 5;
const PER_ADDRESS: usize = 20;
const WINDOW: Duration = Duration::from_secs(15 * 60);
const COOKIE: &str = "rsid";

/// Who is asking.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The account, or none for an anonymous visitor.
    pub user: Option<String>,
    /// The account's role; `Public` for anonymous visitors.
    pub role: Role,
    /// The session's token for state-changing forms (none without a session).
    pub csrf: Option<String>,
}

impl Viewer {
    pub fn anonymous() -> Viewer {
        Viewer {
            user: None,
            role: Role::Public,
            csrf: None,
        }
    }

    pub fn signed_in(&self) -> bool {
        self.user.is_some()
    }
}

struct Session {
    user: String,
    stamp: String,
    csrf: String,
    created: Instant,
    last_seen: Instant,
}

#[derive(Default)]
struct Limiter {
    failures: HashMap<String, Vec<Instant>>,
}

impl Limiter {
    fn recent(&mut self, key: &str) -> usize {
        let now = Instant::now();
        let list = self.failures.entry(key.to_string()).or_default();
        list.retain(|t| now.duration_since(*t) < WINDOW);
        list.len()
    }

    fn fail(&mut self, key: &str) {
        self.failures
            .entry(key.to_string())
            .or_default()
            .push(Instant::now());
    }

    fn clear(&mut self, key: &str) {
        self.failures.remove(key);
    }
}

/// Accounts, sessions and the audit log of a running server.
pub struct Auth {
    store: UsersStore,
    users: RwLock<(Option<SystemTime>, Arc<Users>)>,
    sessions: Mutex<HashMap<String, Session>>,
    limiter: Mutex<Limiter>,
    audit: AuditWriter,
    /// Anonymous visitors may see dashboards open to the `public` role.
    pub public: bool,
    /// Mark cookies `Secure` (also done when a proxy says the request came over TLS).
    pub secure_cookies: bool,
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

impl Auth {
    pub fn new(access_dir: &std::path::Path, public: bool, secure_cookies: bool) -> Auth {
        let store = UsersStore::new(access_dir);
        let users = store.load().unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot read the users store; nobody can sign in until it is fixed");
            Users::default()
        });
        let modified = store.modified();
        Auth {
            store,
            users: RwLock::new((modified, Arc::new(users))),
            sessions: Mutex::new(HashMap::new()),
            limiter: Mutex::new(Limiter::default()),
            audit: AuditWriter::start(AuditLog::new(access_dir)),
            public,
            secure_cookies,
        }
    }

    /// The accounts, re-read when another process changed the store.
    pub fn users(&self) -> Arc<Users> {
        // One `stat` per request: an account added or removed by another process counts
        // from the next request on.
        let modified = self.store.modified();
        {
            let guard = self.users.read().unwrap_or_else(|e| e.into_inner());
            if guard.0 == modified {
                return guard.1.clone();
            }
        }
        let mut guard = self.users.write().unwrap_or_else(|e| e.into_inner());
        if modified != guard.0 {
            match self.store.load() {
                Ok(users) => {
                    guard.0 = modified;
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

    /// Waits until the audit entries recorded so far are written (before exiting).
    pub fn flush_audit(&self) -> bool {
        self.audit.flush(Duration::from_secs(5))
    }

    /// The viewer of a request: a bearer token, else a live session cookie.
    pub fn identify(&self, headers: &HeaderMap) -> Viewer {
        let users = self.users();
        if let Some(token) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        {
            return match users.by_token(token.trim()) {
                Some(u) => Viewer {
                    user: Some(u.name.clone()),
                    role: u.role,
                    csrf: None,
                },
                None => Viewer::anonymous(),
            };
        }
        let Some(id) = cookie(headers, COOKIE) else {
            return Viewer::anonymous();
        };
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        sessions.retain(|_, s| {
            now.duration_since(s.last_seen) < IDLE && now.duration_since(s.created) < ABSOLUTE
        });
        let Some(session) = sessions.get_mut(&id) else {
            return Viewer::anonymous();
        };
        // A removed account, or a changed password, ends the session.
        match users.get(&session.user) {
            Some(u) if bool::from(u.stamp.as_bytes().ct_eq(session.stamp.as_bytes())) => {
                session.last_seen = now;
                Viewer {
                    user: Some(u.name.clone()),
                    role: u.role,
                    csrf: Some(session.csrf.clone()),
                }
            }
            _ => {
                sessions.remove(&id);
                Viewer::anonymous()
            }
        }
    }

    fn open_session(&self, user: &str, stamp: &str) -> String {
        let id = random_hex(32);
        let now = Instant::now();
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                id.clone(),
                Session {
                    user: user.to_string(),
                    stamp: stamp.to_string(),
                    csrf: random_hex(16),
                    created: now,
                    last_seen: now,
                },
            );
        id
    }

    fn close_session(&self, headers: &HeaderMap) {
        if let Some(id) = cookie(headers, COOKIE) {
            self.sessions
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&id);
        }
    }

    fn secure(&self, headers: &HeaderMap) -> bool {
        self.secure_cookies
            || headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|p| p.eq_ignore_ascii_case("https"))
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

/// The audit action of a route.
fn action_of(access: Access, path: &str) -> &'static str {
    match access {
        _ if path.starts_with("/api/") => "api",
        _ if path.contains("/panels/") || path.ends_with(".pdf") => "export",
        Access::Admin => "admin",
        _ => "view",
    }
}

/// The middleware every request goes through: identify, authorise, audit.
pub async fn guard(State(shared): State<Arc<Shared>>, mut req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string());
    let access = route.as_deref().map_or(Access::Open, route_access);
    let viewer = shared.auth.identify(req.headers());
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let method = req.method().clone();
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let api = path.starts_with("/api/") || path == "/metrics";
    let allowed = match access {
        Access::Open => true,
        Access::Reader => viewer.signed_in() || shared.auth.public,
        Access::Dashboard => {
            let id = path
                .trim_start_matches("/d/")
                .split('/')
                .next()
                .unwrap_or("");
            match shared.dashboards.iter().find(|d| d.id == id) {
                Some(d) => d.allows(viewer.role) && (viewer.signed_in() || shared.auth.public),
                None => true, // the handler answers 404
            }
        }
        Access::Admin => viewer.role == Role::Admin,
    };
    let response = if allowed {
        req.extensions_mut().insert(viewer.clone());
        next.run(req).await
    } else if !viewer.signed_in() {
        if api {
            let mut r =
                super::error::AppError::api(super::error::Problem::Unauthorised).into_response();
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"reintegra\""),
            );
            r
        } else {
            let next_path = if query.is_empty() {
                path.clone()
            } else {
                format!("{path}?{query}")
            };
            Redirect::to(&format!(
                "/login?next={}",
                super::filters::percent(&next_path)
            ))
            .into_response()
        }
    } else {
        let (locale, _) = locale_of(&[], req.headers()).unwrap_or((Locale::Fr, false));
        let problem = super::error::Problem::Forbidden;
        if api {
            super::error::AppError::api(problem).into_response()
        } else {
            super::error::AppError::page(problem, locale, &shared, shared.live()).into_response()
        }
    };
    // Login and logout write their own entries (they know the name tried).
    if route.as_deref() != Some("/login")
        && route.as_deref() != Some("/logout")
        && route.as_deref() != Some("/static/app.css")
    {
        shared.auth.record(Entry {
            time: Utc::now(),
            user: viewer.user.clone(),
            role: viewer.user.as_ref().map(|_| viewer.role.code().to_string()),
            action: if allowed {
                action_of(access, &path).to_string()
            } else {
                "denied".to_string()
            },
            method: method.to_string(),
            path,
            query,
            status: response.status().as_u16(),
            detail: None,
            request_id,
        });
    }
    response
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    lang: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    lang: String,
}

/// Only local paths are followed after signing in.
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_string()
    } else {
        "/".to_string()
    }
}

fn login_page(locale: Locale, next: &str, message: Option<&str>, viewer: &Viewer) -> String {
    let t = |fr, en| locale.pick(fr, en);
    html! {
        (maud::DOCTYPE)
        html lang=(locale.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (t("Connexion", "Sign in")) " · reintegra" }
                link rel="stylesheet" href=(super::pages::STYLESHEET);
            }
            body {
                header.site { div.brand { a href="/" { "reintegra" } span { (t("Réintégration psychosociale des migrants maliens de retour", "Psychosocial reintegration of Malian returned migrants")) } }
                    div.account { a.lang href={ "/login?lang=" (if locale == Locale::Fr { "en" } else { "fr" }) "&next=" (super::filters::percent(next)) } lang=(if locale == Locale::Fr { "en" } else { "fr" }) { (if locale == Locale::Fr { "English" } else { "Français" }) } } }
                main #main.login {
                    h1 { (t("Connexion", "Sign in")) }
                    @if let Some(user) = &viewer.user {
                        p { (t("Vous êtes connecté en tant que ", "You are signed in as ")) strong { (user) } "." }
                    }
                    @if let Some(m) = message { p.error role="alert" { (m) } }
                    form.login method="post" action="/login" {
                        input type="hidden" name="next" value=(next);
                        input type="hidden" name="lang" value=(locale.code());
                        label { span { (t("Nom d'utilisateur", "Username")) } input type="text" name="username" autocomplete="username" required; }
                        label { span { (t("Mot de passe", "Password")) } input type="password" name="password" autocomplete="current-password" required; }
                        button type="submit" { (t("Se connecter", "Sign in")) }
                    }
                    p.desc { (t("Les tableaux de bord décrivent des personnes vulnérables : ils sont réservés aux personnes autorisées, et chaque consultation est enregistrée.", "The dashboards describe vulnerable people: they are for authorised people only, and every view is recorded.")) }
                }
            }
        }
    }
    .into_string()
}

fn html_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

pub async fn login_form(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<LoginQuery>,
    headers: HeaderMap,
) -> Response {
    let locale = q
        .lang
        .as_deref()
        .and_then(Locale::parse)
        .unwrap_or_else(|| locale_of(&[], &headers).map_or(Locale::Fr, |l| l.0));
    let viewer = shared.auth.identify(&headers);
    html_response(
        StatusCode::OK,
        login_page(
            locale,
            &safe_next(q.next.as_deref().unwrap_or("/")),
            None,
            &viewer,
        ),
    )
}

pub async fn login(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    // The form is read by hand so that a malformed or cross-site post gets a page, not
    // a bare rejection.
    let form: LoginForm = serde_urlencoded::from_bytes(&body).unwrap_or(LoginForm {
        username: String::new(),
        password: String::new(),
        next: String::new(),
        lang: String::new(),
    });
    let locale = Locale::parse(&form.lang).unwrap_or_default();
    let next = safe_next(&form.next);
    let t = |fr, en| locale.pick(fr, en);
    let entry = |user: Option<String>, role: Option<Role>, status: u16, detail: &str| Entry {
        time: Utc::now(),
        user,
        role: role.map(|r| r.code().to_string()),
        action: "login".into(),
        method: "POST".into(),
        path: "/login".into(),
        query: String::new(),
        status,
        detail: Some(detail.to_string()),
        request_id: headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    };
    if !same_origin(&headers) {
        shared
            .auth
            .record(entry(None, None, 403, "cross-site request refused"));
        return super::error::AppError::page(
            super::error::Problem::CrossSite,
            locale,
            &shared,
            shared.live(),
        )
        .into_response();
    }
    let users = shared.auth.users();
    let known = users.get(&form.username).map(|u| u.name.clone());
    let address = format!("ip:{}", client_ip(peer.ip(), &headers));
    let account = format!("user:{}", form.username);
    let limited = {
        let mut limiter = shared
            .auth
            .limiter
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        limiter.recent(&address) >= PER_ADDRESS || limiter.recent(&account) >= PER_ACCOUNT
    };
    if limited {
        shared
            .auth
            .record(entry(known, None, 429, "too many attempts"));
        let mut r = html_response(
            StatusCode::TOO_MANY_REQUESTS,
            login_page(
                locale,
                &next,
                Some(t(
                    "Trop de tentatives. Réessayez dans 15 minutes.",
                    "Too many attempts. Try again in 15 minutes.",
                )),
                &Viewer::anonymous(),
            ),
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("900"));
        return r;
    }
    let (name, password) = (form.username.clone(), form.password.clone());
    let checked = tokio::task::spawn_blocking(move || {
        users
            .authenticate(&name, &password)
            .map(|u| (u.name.clone(), u.role, u.stamp.clone()))
    })
    .await;
    match checked {
        Ok(Some((user, role, stamp))) => {
            shared
                .auth
                .limiter
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clear(&account);
            let id = shared.auth.open_session(&user, &stamp);
            shared
                .auth
                .record(entry(Some(user), Some(role), 303, "signed in"));
            let secure = if shared.auth.secure(&headers) {
                "; Secure"
            } else {
                ""
            };
            let cookie = format!(
                "{COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
                ABSOLUTE.as_secs()
            );
            let mut r = Redirect::to(&next).into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        _ => {
            {
                let mut limiter = shared
                    .auth
                    .limiter
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                limiter.fail(&address);
                limiter.fail(&account);
            }
            // The name is recorded only when it is an account: a password typed into
            // the wrong field must not end up in the log.
            let detail = if known.is_some() {
                "wrong password"
            } else {
                "unknown user"
            };
            shared.auth.record(entry(known, None, 401, detail));
            html_response(
                StatusCode::UNAUTHORIZED,
                login_page(
                    locale,
                    &next,
                    Some(t(
                        "Nom d'utilisateur ou mot de passe incorrect.",
                        "Wrong username or password.",
                    )),
                    &Viewer::anonymous(),
                ),
            )
        }
    }
}

fn client_ip(peer: IpAddr, _headers: &HeaderMap) -> IpAddr {
    peer
}

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

pub async fn logout(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    method: Method,
    body: axum::body::Bytes,
) -> Response {
    let form: LogoutForm = serde_urlencoded::from_bytes(&body).unwrap_or(LogoutForm {
        csrf: String::new(),
    });
    let viewer = shared.auth.identify(&headers);
    let token_ok = viewer
        .csrf
        .as_deref()
        .is_some_and(|c| bool::from(c.as_bytes().ct_eq(form.csrf.as_bytes())));
    let entry = |status: u16, detail: &str| Entry {
        time: Utc::now(),
        user: viewer.user.clone(),
        role: viewer.user.as_ref().map(|_| viewer.role.code().to_string()),
        action: "logout".into(),
        method: method.to_string(),
        path: "/logout".into(),
        query: String::new(),
        status,
        detail: Some(detail.to_string()),
        request_id: None,
    };
    if !same_origin(&headers) || (viewer.signed_in() && !token_ok) {
        shared.auth.record(entry(403, "cross-site request refused"));
        let (locale, _) = locale_of(&[], &headers).unwrap_or((Locale::Fr, false));
        return super::error::AppError::page(
            super::error::Problem::CrossSite,
            locale,
            &shared,
            shared.live(),
        )
        .into_response();
    }
    shared.auth.close_session(&headers);
    shared.auth.record(entry(303, "signed out"));
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("rsid=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    r
}

/// Security headers of every response.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    response
}

/// Whether a viewer may read a measure through the API: it must appear in a
/// dashboard the viewer may open.
pub fn may_read_measure(shared: &Shared, viewer: &Viewer, measure: &str) -> bool {
    shared
        .dashboards
        .iter()
        .filter(|d| d.allows(viewer.role) && (viewer.signed_in() || shared.auth.public))
        .any(|d| d.measures().any(|m| m == measure))
}
