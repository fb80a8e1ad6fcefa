//! web: the dashboard server — pages, charts, exports, the API, health and metrics.
//!
//! It reads only published snapshots (`DATA/published/`), read-only, and never opens
//! the private store: no handler can leak a record, because no record is in what it
//! reads. Every figure it shows is a published cell; filters select cells.

pub mod admin;
pub mod api;
pub mod auth;
pub mod charts;
pub mod dashboards;
pub mod error;
pub mod exports;
pub mod filters;
pub mod i18n;
pub mod labels;
pub mod map;
pub mod metrics;
pub mod pages;
pub mod panels;
pub mod state;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, MatchedPath, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::routing::{MethodRouter, post};
use axum::Router;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use auth::Viewer;
use auth::guard::ServedDashboard;
use dashboards::Dashboard;
use error::{AppError, Problem};
use filters::{Filters, Options};
use i18n::Locale;
use pages::Page;
use state::Live;
pub use state::{Settings, Shared, StartError};

/// A server bound to its address, ready to run.
pub struct App {
    listener: tokio::net::TcpListener,
    router: Router,
    pub shared: Arc<Shared>,
}

impl App {
    /// Reads the dashboards and the current snapshot, and binds (port 0 picks one).
    pub async fn build(settings: Settings, bind: SocketAddr) -> Result<App, BuildError> {
        let shared = Arc::new(tokio::task::spawn_blocking(move || Shared::new(settings)).await??);
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .map_err(|e| BuildError::Bind(bind, e))?;
        Ok(App {
            listener,
            router: router(shared.clone()),
            shared,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` resolves; requests in flight then finish.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        state::spawn_watcher(self.shared.clone());
        state::spawn_token_use_writer(self.shared.clone());
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let served = axum::serve(self.listener, service)
            .with_graceful_shutdown(shutdown)
            .await;
        // The last requests' audit entries reach the file before the process ends.
        let shared = self.shared.clone();
        let flushed = tokio::task::spawn_blocking(move || {
            shared.auth.flush_token_uses();
            shared.auth.flush_audit()
        })
        .await;
        if !matches!(flushed, Ok(true)) {
            tracing::error!("the audit log could not be flushed before exit");
        }
        served
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error("start-up task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (health, the stylesheet, the login and logout forms).
    Open,
    /// Anyone signed in (or anyone at all when public access is on); what they see
    /// depends on their role.
    Reader,
    /// Roles listed by the dashboard named in the path.
    Dashboard,
    /// Readers of a dashboard that shows the measure named in the path.
    Measure,
    /// Administrators.
    Admin,
}

/// A route: its path, who may use it, an example path for tests, and its handlers.
pub struct Route {
    pub path: &'static str,
    pub access: Access,
    pub example: &'static str,
    pub handler: MethodRouter<Arc<Shared>>,
}

/// Every route of the server. Access rules come from this table and nowhere else.
pub fn routes() -> Vec<Route> {
    let route = |path, access, example, handler| Route {
        path,
        access,
        example,
        handler,
    };
    vec![
        route("/", Access::Reader, "/", get(index)),
        route("/d/{id}", Access::Dashboard, "/d/returns", get(dashboard)),
        route(
            "/d/{id}/panels/{file}",
            Access::Dashboard,
            "/d/returns/panels/by-region.csv",
            get(exports::panel),
        ),
        route(
            "/d/{id}/briefing.pdf",
            Access::Dashboard,
            "/d/returns/briefing.pdf",
            get(exports::briefing),
        ),
        route(
            "/api/v1/measures",
            Access::Reader,
            "/api/v1/measures",
            get(api::list),
        ),
        route(
            "/api/v1/measures/{id}",
            Access::Measure,
            "/api/v1/measures/returns",
            get(api::cells),
        ),
        route(
            "/admin/audit",
            Access::Admin,
            "/admin/audit",
            get(admin::audit),
        ),
        route(
            "/admin/disclosure",
            Access::Admin,
            "/admin/disclosure",
            get(admin::disclosure),
        ),
        route("/metrics", Access::Admin, "/metrics", get(metrics_text)),
        route("/healthz", Access::Open, "/healthz", get(healthz)),
        route(
            "/static/app.css",
            Access::Open,
            "/static/app.css",
            get(stylesheet),
        ),
        route(
            "/login",
            Access::Open,
            "/login",
            get(auth::login_form).post(auth::login),
        ),
        route("/logout", Access::Open, "/logout", post(auth::logout)),
    ]
}

static ACCESS: std::sync::LazyLock<Vec<(&'static str, Access)>> =
    std::sync::LazyLock::new(|| routes().into_iter().map(|r| (r.path, r.access)).collect());

/// The access rule of a matched route path.
pub fn route_access(path: &str) -> Access {
    ACCESS
        .iter()
        .find(|(p, _)| *p == path)
        .map_or(Access::Admin, |(_, a)| *a)
}

/// The server's router: every route of `routes()`, behind the access guard, with
/// security headers, request ids, tracing, compression and metrics.
pub fn router(shared: Arc<Shared>) -> Router {
    let mut router = Router::new();
    for r in routes() {
        router = router.route(r.path, r.handler);
    }
    router
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(shared.clone(), auth::guard))
        .layer(middleware::from_fn_with_state(shared.clone(), observe))
        .layer(middleware::from_fn_with_state(shared.clone(), auth::security_headers))
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("request", method = %req.method(), path = %audit_cap(req.uri().path()), request_id = %audit_cap(id))
        }))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(middleware::from_fn_with_state(shared.clone(), auth::limit_requests))
        // No route takes more than a sign-in form.
        .layer(DefaultBodyLimit::max(16 * 1024))
        .with_state(shared)
}

/// A request-controlled text as logs keep it: capped.
fn audit_cap(text: &str) -> String {
    crate::access::audit::cap(text, crate::access::audit::FIELD_CAP)
}

/// Counts and times every request by its route.
async fn observe(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let started = Instant::now();
    let response = next.run(req).await;
    shared
        .metrics
        .request(&route, response.status().as_u16(), started.elapsed());
    response
}

/// The language of a request: `?lang=` (remembered in a cookie), else the cookie,
/// else `Accept-Language`, else French.
pub(crate) fn locale_of(
    query: &[(String, String)],
    headers: &HeaderMap,
) -> Result<(Locale, bool), (Locale, String)> {
    if let Some((_, v)) = query.iter().find(|(k, _)| k == "lang") {
        return Locale::parse(v)
            .map(|l| (l, true))
            .ok_or((Locale::Fr, "fr, en".to_string()));
    }
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let c = c.trim();
            c.strip_prefix("__Host-lang=")
                .or_else(|| c.strip_prefix("lang="))
                .and_then(Locale::parse)
        });
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Locale::from_accept_language);
    Ok((cookie.or(accept).unwrap_or_default(), false))
}

/// Adds the snapshot's ETag and the caching headers every snapshot-derived response has.
fn cached(live: &Live, mut response: Response) -> Response {
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", live.snapshot.id)) {
        headers.insert(header::ETAG, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// A page response: HTML with an ETag made of the snapshot and the page's state;
/// `304 Not Modified` when the client already has it.
fn html_response(
    shared: &Shared,
    live: &Live,
    headers: &HeaderMap,
    key: &str,
    body: Bytes,
    set_lang: Option<Locale>,
    viewer: &Viewer,
) -> Response {
    // A page names its viewer (and holds their sign-out token): its tag does too.
    let key = format!("{key}|{:?}|{:?}", viewer.user, viewer.csrf);
    let mut response = snapshot_response(live, headers, &key, body, "text/html; charset=utf-8");
    let cookie = if shared.auth.settings.secure_cookies {
        "__Host-lang={}; Path=/; Max-Age=31536000; SameSite=Lax; Secure"
    } else {
        "lang={}; Path=/; Max-Age=31536000; SameSite=Lax"
    };
    if let Some(l) = set_lang
        && let Ok(v) = HeaderValue::from_str(&cookie.replace("{}", l.code()))
    {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// A response derived from the snapshot (a page or an export), with an ETag made of
/// the snapshot id and the request's state (`key`); `304 Not Modified` when the
/// client already has it.
fn snapshot_response(
    live: &Live,
    headers: &HeaderMap,
    key: &str,
    body: Bytes,
    content_type: &'static str,
) -> Response {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut hasher);
    let etag = format!("\"{}-{:016x}\"", live.snapshot.id, hasher.finish());
    let mut response = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, content_type)], body).into_response()
    };
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    h.insert(
        header::VARY,
        HeaderValue::from_static("Cookie, Authorization, Accept-Language"),
    );
    response
}

/// The page frame for a viewer: the dashboards their role opens.
fn page_for<'a>(
    shared: &'a Shared,
    live: &'a Live,
    viewer: &'a Viewer,
    locale: Locale,
    path: &'a str,
    filters_query: &'a str,
) -> Page<'a> {
    Page {
        snapshot: &live.snapshot,
        dashboards: shared
            .dashboards
            .iter()
            .filter(|d| d.allows(viewer.role))
            .collect(),
        viewer,
        locale,
        path,
        filters_query,
    }
}

/// What every page handler starts from: the language (and whether `?lang=` set it)
/// and the snapshot being served.
pub(crate) fn page_start(
    shared: &Arc<Shared>,
    query: &[(String, String)],
    headers: &HeaderMap,
) -> Result<(Locale, bool, Arc<Live>), AppError> {
    let (locale, set) = locale_of(query, headers).map_err(|(l, allowed)| {
        let problem = Problem::BadParameter {
            name: "lang".into(),
            allowed,
        };
        AppError::page(problem, l, shared, shared.live())
    })?;
    let live = shared
        .live()
        .ok_or_else(|| AppError::page(Problem::NoSnapshot, locale, shared, None))?;
    Ok((locale, set, live))
}

/// A dashboard request checked at the door: its language, the snapshot it reads, the
/// dashboard and its filters. Pages and exports go through the same rules.
struct DashboardRequest {
    live: Arc<Live>,
    /// Index into `Shared::dashboards`.
    dashboard: usize,
    locale: Locale,
    /// Whether `?lang=` chose the language (pages then remember it in a cookie).
    lang_given: bool,
    options: Arc<Options>,
    filters: Filters,
}

impl DashboardRequest {
    /// `served`: the dashboard the guard resolved from the routed path and allowed.
    fn parse(
        shared: &Arc<Shared>,
        served: ServedDashboard,
        query: &[(String, String)],
        headers: &HeaderMap,
    ) -> Result<DashboardRequest, AppError> {
        let (locale, lang_given, live) = page_start(shared, query, headers)?;
        let fail = |problem| AppError::page(problem, locale, shared, Some(live.clone()));
        let dashboard = served.0;
        let d = &shared.dashboards[dashboard];
        let options = live.options.get(&d.id).cloned().unwrap_or_default();
        let filters = filters::parse(query, d, &options).map_err(|b| {
            fail(Problem::BadParameter {
                name: b.name,
                allowed: b.allowed,
            })
        })?;
        Ok(DashboardRequest {
            live,
            dashboard,
            locale,
            lang_given,
            options,
            filters,
        })
    }

    fn dashboard<'a>(&self, shared: &'a Shared) -> &'a Dashboard {
        &shared.dashboards[self.dashboard]
    }

    /// An error page for this request.
    fn fail(&self, shared: &Arc<Shared>, problem: Problem) -> AppError {
        AppError::page(problem, self.locale, shared, Some(self.live.clone()))
    }
}

async fn index(
    State(shared): State<Arc<Shared>>,
    Extension(viewer): Extension<Viewer>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (locale, set, live) = page_start(&shared, &query, &headers)?;
    if let Some((name, _)) = query.iter().find(|(k, _)| k != "lang") {
        return Err(AppError::page(
            Problem::BadParameter {
                name: name.clone(),
                allowed: "lang".into(),
            },
            locale,
            &shared,
            Some(live),
        ));
    }
    let page = page_for(&shared, &live, &viewer, locale, "/", "");
    let body = Bytes::from(pages::index(&page).into_string());
    let key = format!("index|{}|{}", locale.code(), viewer.role.code());
    Ok(html_response(
        &shared,
        &live,
        &headers,
        &key,
        body,
        set.then_some(locale),
        &viewer,
    ))
}

async fn dashboard(
    State(shared): State<Arc<Shared>>,
    Extension(viewer): Extension<Viewer>,
    Extension(served): Extension<ServedDashboard>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let request = DashboardRequest::parse(&shared, served, &query, &headers)?;
    let (live, locale, filters) = (&request.live, request.locale, &request.filters);
    let d = request.dashboard(&shared);
    let filters_query = filters
        .query(Locale::Fr)
        .trim_start_matches('?')
        .to_string();
    let key = format!("d|{}|{}|{}", d.id, locale.code(), filters_query);
    let path = format!("/d/{}", d.id);
    let page = page_for(&shared, &live, &viewer, locale, &path, &filters_query);
    // The dashboard's content is the same for every viewer: rendered once, kept.
    let main = live.page(
        key.clone(),
        || pages::dashboard_main(&page, d, filters, &request.options).into_string(),
        &shared.metrics,
        shared.settings.cache_pages,
    );
    // So is its frame for every viewer of the same role.
    let title = locale.pick(&d.title.fr, &d.title.en);
    let frame = live.page(
        format!(
            "frame|{key}|{}|{}|{}",
            viewer.role.code(),
            viewer.user.is_some(),
            viewer.csrf.is_some()
        ),
        || pages::frame(&page, title, Some(&d.id)),
        &shared.metrics,
        shared.settings.cache_pages,
    );
    let body = pages::fill(&frame, &main, &viewer);
    Ok(html_response(
        &shared,
        live,
        &headers,
        &key,
        body,
        request.lang_given.then_some(locale),
        &viewer,
    ))
}

async fn not_found(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    req: Request,
) -> AppError {
    if req.uri().path().starts_with("/api/") {
        return AppError::api(Problem::NotFound);
    }
    let locale = locale_of(&query, &headers).map_or(Locale::Fr, |(l, _)| l);
    AppError::page(Problem::NotFound, locale, &shared, shared.live())
}

async fn healthz(State(shared): State<Arc<Shared>>) -> Response {
    let audit = shared.auth.audit_healthy();
    let live = shared.live();
    let body = serde_json::json!({
        "status": match (&live, audit) {
            (Some(_), true) => "ok",
            (None, _) => "no snapshot published yet",
            (Some(_), false) => "audit log cannot be written: person figures are refused",
        },
        "snapshot": live.as_ref().map(|l| l.snapshot.id.as_str().to_string()),
        "data_as_of": live.as_ref().and_then(|l| l.snapshot.data_as_of()).map(|d| d.to_string()),
        "audit_log": if audit { "ok" } else { "failing" },
    });
    let status = if live.is_some() && audit {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

async fn metrics_text(State(shared): State<Arc<Shared>>) -> Response {
    shared.metrics.audit(
        shared.auth.audit_healthy(),
        shared.auth.audit_write_failures(),
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        shared.metrics.render(),
    )
        .into_response()
}

const CSS: &str = include_str!("assets/app.css");

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=604800, immutable"),
        ],
        CSS,
    )
        .into_response()
}

/// Serves until Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down; finishing requests in flight");
}
