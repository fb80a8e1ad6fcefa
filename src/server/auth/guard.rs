//! The middleware every request goes through, and the limits and headers around it.
//!
//! Access is decided on what will be served, never on how the path was spelled: the
//! guard reads the routed, percent-decoded parameters — the same values the handler
//! gets — resolves them to a dashboard or a measure, answers 404 for unknown ones
//! before any handler runs, and hands the handler the resolved target. A spelling that
//! routes nowhere (`//d/returns`, `/d/returns/`, `/D/returns`, `/d/./returns`) meets the
//! fallback's 404 like any unknown address.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::access::{Entry, Role, Viewer, audit};
use crate::definitions::MeasureInfo;
use crate::present::filters::percent;
use crate::present::i18n::Locale;
use crate::server::app::{Access, route_access};
use crate::server::error::{AppError, Problem};
use crate::server::request::locale_of;
use crate::server::state::{Live, Shared};

/// The longest request target (path and query) answered; longer ones get 414.
pub const MAX_URI: usize = 8 * 1024;
/// The most header bytes, and headers, a request may carry; more get 431.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
pub const MAX_HEADERS: usize = 64;

/// The dashboard a request was allowed to see (an index into `Shared::dashboards`).
#[derive(Debug, Clone, Copy)]
pub struct ServedDashboard(pub usize);

/// The measure an API request was allowed to read, and whether it asked for CSV.
#[derive(Debug, Clone)]
pub struct ServedMeasure {
    pub id: String,
    pub csv: bool,
}

/// What the guard decided.
enum Decision {
    Allow,
    NotFound,
    /// Not signed in: sign in first (pages) or 401 (API).
    SignIn,
    Forbidden,
    /// The audit log cannot be written: person figures are not served unrecorded.
    Unrecorded,
}

/// Whether a viewer may read a measure through the API: it must appear in a
/// dashboard the viewer may open.
pub fn may_read_measure(shared: &Shared, viewer: &Viewer, measure: &str) -> bool {
    shared
        .dashboards
        .iter()
        .filter(|d| d.allows(viewer.role) && (viewer.signed_in() || shared.auth.settings.public))
        .any(|d| d.measures().any(|m| m == measure))
}

/// The breakdowns of a measure a viewer may read through the API: every declared one
/// for a signed-in reader, only those the public dashboards show for an anonymous
/// visitor.
pub fn readable_breakdowns(live: &Live, viewer: &Viewer, m: &MeasureInfo) -> Vec<Vec<String>> {
    if viewer.signed_in() {
        return m.breakdowns.clone();
    }
    let public = live.public_breakdowns.get(&m.id);
    m.breakdowns
        .iter()
        .filter(|b| public.is_some_and(|p| p.contains(*b)))
        .cloned()
        .collect()
}

fn param<'a>(params: &'a Option<RawPathParams>, name: &str) -> Option<&'a str> {
    params
        .as_ref()?
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Decides a request on its route's rule and the routed identity of its target; marks
/// the target in the request for the handler.
fn decide(
    shared: &Shared,
    access: Access,
    viewer: &Viewer,
    params: &Option<RawPathParams>,
    req: &mut Request,
) -> Decision {
    let reader = viewer.signed_in() || shared.auth.settings.public;
    let gate = |allowed: bool| match (allowed, viewer.signed_in()) {
        (true, _) => Decision::Allow,
        (false, false) => Decision::SignIn,
        (false, true) => Decision::Forbidden,
    };
    match access {
        Access::Open => Decision::Allow,
        Access::Reader => gate(reader),
        Access::Admin => gate(viewer.role == Role::Admin),
        Access::Donor => gate(matches!(
            viewer.role,
            Role::Donor | Role::Programme | Role::Admin
        )),
        Access::Internal => match gate(matches!(viewer.role, Role::Programme | Role::Admin)) {
            Decision::Forbidden => Decision::NotFound,
            other => other,
        },
        Access::Dashboard => {
            let Some(index) = param(params, "id")
                .and_then(|id| shared.dashboards.iter().position(|d| d.id == id))
            else {
                return Decision::NotFound;
            };
            let d = &shared.dashboards[index];
            let decision = gate(d.allows(viewer.role) && reader);
            if matches!(decision, Decision::Allow) {
                let counts_people = shared.live().is_none_or(|live| {
                    d.measures().any(|m| {
                        live.snapshot
                            .measure(m)
                            .is_none_or(|m| m.sensitivity.counts_people())
                    })
                });
                if counts_people && !shared.auth.audit_healthy() {
                    return Decision::Unrecorded;
                }
                req.extensions_mut().insert(ServedDashboard(index));
            }
            decision
        }
        Access::Measure => {
            let Some(raw) = param(params, "id") else {
                return Decision::NotFound;
            };
            let id = raw.strip_suffix(".csv").unwrap_or(raw);
            let live = shared.live();
            let measure = live.as_ref().and_then(|l| l.snapshot.measure(id));
            if live.is_some() && measure.is_none() {
                return Decision::NotFound;
            }
            let decision = gate(reader && may_read_measure(shared, viewer, id));
            if matches!(decision, Decision::Allow) {
                if measure.is_some_and(|m| m.sensitivity.counts_people())
                    && !shared.auth.audit_healthy()
                {
                    return Decision::Unrecorded;
                }
                req.extensions_mut().insert(ServedMeasure {
                    id: id.to_string(),
                    csv: raw.ends_with(".csv"),
                });
            }
            decision
        }
    }
}

/// The audit action of a route.
fn action_of(access: Access, route: &str) -> &'static str {
    match access {
        _ if route.starts_with("/api/") => "api",
        _ if route.contains("/panels/")
            || route.ends_with(".pdf")
            || route.starts_with("/report/")
            || route == "/open/iati.xml"
            || route == "/open/{file}" =>
        {
            "export"
        }
        Access::Admin | Access::Internal => "admin",
        _ => "view",
    }
}

/// The middleware every request goes through: identify, authorise, audit.
pub async fn guard(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let Some(route) = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
    else {
        // No route: the fallback answers 404; such requests are counted, not logged
        // one by one (they cost an attacker nothing and must not fill the disk).
        shared.auth.record_unmatched();
        return next.run(req).await;
    };
    let access = route_access(&route);
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let secure = peer.is_some_and(|p| {
        shared
            .auth
            .settings
            .proxies
            .forwarded_https(p, req.headers())
    });
    let (viewer, refreshed) = shared.auth.identify(req.headers(), secure);
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let method = req.method().clone();
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let api = route.starts_with("/api/") || route == "/metrics";
    let (locale, _) = locale_of(&[], req.headers()).unwrap_or((Locale::Fr, false));
    let refuse = |problem: Problem| {
        if api {
            AppError::api(problem).into_response()
        } else {
            AppError::page(problem, locale, &shared, shared.live()).into_response()
        }
    };

    // Credentials never travel in an address (they would end up in logs and history).
    let credential = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| audit::is_secret_parameter(k))
        .map(|(k, _)| k.into_owned());
    let (mut req, params) = {
        let (mut parts, body) = req.into_parts();
        let params = RawPathParams::from_request_parts(&mut parts, &())
            .await
            .ok();
        (Request::from_parts(parts, body), params)
    };
    let decision = if credential.is_some() {
        None
    } else {
        Some(decide(&shared, access, &viewer, &params, &mut req))
    };
    let mut response = match decision {
        None => refuse(Problem::CredentialInAddress),
        Some(Decision::Allow) => {
            req.extensions_mut().insert(viewer.clone());
            next.run(req).await
        }
        Some(Decision::NotFound) => refuse(Problem::NotFound),
        Some(Decision::Unrecorded) => refuse(Problem::AuditUnavailable),
        Some(Decision::Forbidden) => refuse(Problem::Forbidden),
        Some(Decision::SignIn) if api => {
            let mut r = AppError::api(Problem::Unauthorised).into_response();
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"reintegra\""),
            );
            r
        }
        Some(Decision::SignIn) => {
            let next_path = if query.is_empty() {
                path.clone()
            } else {
                format!("{path}?{query}")
            };
            let next_path = audit::cap(&next_path, 2048);
            Redirect::to(&format!("/login?next={}", percent(&next_path))).into_response()
        }
    };
    if access != Access::Open {
        // What a reader sees depends on who they are: never kept by shared caches.
        let h = response.headers_mut();
        let keep_no_store = h
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("no-store"));
        if !keep_no_store {
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-cache"),
            );
        }
        h.insert(
            header::VARY,
            HeaderValue::from_static("Cookie, Authorization, Accept-Language"),
        );
    }
    if let Some(cookie) = refreshed
        && route != "/logout"
    {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    // Login and logout write their own entries (they know the name tried); health
    // checks and the stylesheet show nothing and would drown the log.
    if !matches!(
        route.as_str(),
        "/login" | "/logout" | "/static/app.css" | "/healthz"
    ) {
        let allowed = matches!(decision, Some(Decision::Allow));
        let mut entry = Entry::new(
            if allowed {
                action_of(access, &route)
            } else {
                "denied"
            },
            method.as_str(),
            &path,
        );
        entry.user = viewer.user.clone();
        entry.role = viewer.user.as_ref().map(|_| viewer.role.code().to_string());
        entry.query = query;
        entry.status = response.status().as_u16();
        entry.request_id = request_id;
        if let Some(name) = credential {
            entry.detail = Some(format!("credential in the address ({name}) refused"));
        } else if viewer.token.is_some() {
            entry.detail = viewer.token.as_ref().map(|t| format!("token {t}"));
        }
        shared.auth.record(entry);
    }
    response
}

/// Refuses requests whose target or headers are larger than any page needs, before
/// anything else reads them.
pub async fn limit_requests(
    State(shared): State<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    let uri_len = req.uri().path().len() + req.uri().query().map_or(0, |q| q.len() + 1);
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    let status = if uri_len > MAX_URI {
        Some(StatusCode::URI_TOO_LONG)
    } else if header_bytes > MAX_HEADER_BYTES || req.headers().len() > MAX_HEADERS {
        Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
    } else {
        None
    };
    match status {
        Some(status) => {
            shared.auth.record_unmatched();
            (
                status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                status.canonical_reason().unwrap_or(""),
            )
                .into_response()
        }
        None => next.run(req).await,
    }
}

/// Security headers of every response; HSTS when served over TLS.
pub async fn security_headers(
    State(shared): State<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
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
    if shared.auth.settings.secure_cookies {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}
