//! The server as a whole: `App` (bound, then run), the table of routes with the access
//! rule of each, and the layers every request passes (limits, request ids, tracing,
//! compression, metrics, security headers, the access guard).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{MethodRouter, get, post};
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use super::auth;
use super::handlers;
use super::state::{self, Settings, Shared, StartError};

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
    /// Programme staff and administrators (internal pages with exact counts); any
    /// other signed-in role gets 404, as for a page that does not exist.
    Internal,
    /// Donors, programme staff and administrators (the quarterly donor report, the
    /// IATI activity file).
    Donor,
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
        route("/", Access::Reader, "/", get(handlers::index::page)),
        route(
            "/d/{id}",
            Access::Dashboard,
            "/d/returns",
            get(handlers::dashboard::page),
        ),
        route(
            "/d/{id}/panels/{file}",
            Access::Dashboard,
            "/d/returns/panels/by-region.csv",
            get(handlers::panel::file),
        ),
        route(
            "/d/{id}/briefing.pdf",
            Access::Dashboard,
            "/d/returns/briefing.pdf",
            get(handlers::briefing::pack),
        ),
        route(
            "/api/v1/measures",
            Access::Reader,
            "/api/v1/measures",
            get(handlers::measures::list),
        ),
        route(
            "/api/v1/measures/{id}",
            Access::Measure,
            "/api/v1/measures/returns",
            get(handlers::measure::cells),
        ),
        route(
            "/admin/audit",
            Access::Admin,
            "/admin/audit",
            get(handlers::audit::page),
        ),
        route(
            "/admin/disclosure",
            Access::Admin,
            "/admin/disclosure",
            get(handlers::disclosure::page),
        ),
        route(
            "/report/{file}",
            Access::Donor,
            "/report/2019-Q3.pdf",
            get(handlers::report::pdf),
        ),
        route(
            "/open/iati.xml",
            Access::Donor,
            "/open/iati.xml",
            get(handlers::iati::xml),
        ),
        route(
            "/open/",
            Access::Reader,
            "/open/",
            get(handlers::open::page),
        ),
        route(
            "/open/{file}",
            Access::Reader,
            "/open/returns_by_region.csv",
            get(handlers::open::file),
        ),
        route(
            "/deliveries",
            Access::Internal,
            "/deliveries",
            get(handlers::deliveries::page),
        ),
        route(
            "/metrics",
            Access::Admin,
            "/metrics",
            get(handlers::metrics::text),
        ),
        route(
            "/healthz",
            Access::Open,
            "/healthz",
            get(handlers::healthz::status),
        ),
        route(
            "/static/app.css",
            Access::Open,
            "/static/app.css",
            get(handlers::stylesheet::css),
        ),
        route(
            "/login",
            Access::Open,
            "/login",
            get(handlers::login::form).post(handlers::login::submit),
        ),
        route(
            "/logout",
            Access::Open,
            "/logout",
            post(handlers::logout::submit),
        ),
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
        .fallback(handlers::not_found::page)
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
