//! `GET /login` shows the sign-in page; `POST /login` signs in: the attempt is
//! reserved with the limiter first, then the password verified with bounded
//! concurrency, and a session cookie issued.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::access::{Entry, Role, Viewer};
use crate::present::i18n::Locale;
use crate::present::problem::Problem;
use crate::render::html::login;
use crate::server::auth::same_origin;
use crate::server::error::AppError;
use crate::server::request::locale_of;
use crate::server::responses;
use crate::server::state::Shared;

/// Longest password verified (argon2 takes any length; nobody types more).
const PASSWORD_CAP: usize = 1024;
/// How long a sign-in waits for a free verification slot before giving up.
const VERIFY_WAIT: Duration = Duration::from_secs(10);

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    lang: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    lang: String,
}

/// Where to go after signing in: `next` if, read the way a browser reads it (tabs and
/// newlines dropped, backslashes as slashes, leading spaces and controls trimmed), it is
/// a path of this site; else `/`.
pub fn safe_next(next: &str) -> String {
    const HERE: &str = "http://reintegra.invalid/";
    let cleaned: String = next
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect::<String>()
        .trim_matches(|c: char| c <= ' ')
        .replace('\\', "/");
    if !cleaned.starts_with('/') || cleaned.starts_with("//") {
        return "/".into();
    }
    let Ok(url) = url::Url::parse(HERE).and_then(|base| base.join(next)) else {
        return "/".into();
    };
    if url.scheme() != "http"
        || url.host_str() != Some("reintegra.invalid")
        || url.port().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return "/".into();
    }
    let mut out = url.path().to_string();
    if let Some(q) = url.query() {
        out.push('?');
        out.push_str(q);
    }
    if !out.starts_with('/') || out.starts_with("//") || out.contains('\\') {
        return "/".into();
    }
    out
}

pub fn secure_request(shared: &Shared, peer: SocketAddr, headers: &HeaderMap) -> bool {
    shared
        .auth
        .settings
        .proxies
        .forwarded_https(peer.ip(), headers)
}

pub async fn form(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<LoginQuery>,
    headers: HeaderMap,
) -> Response {
    let locale = q
        .lang
        .as_deref()
        .and_then(Locale::parse)
        .unwrap_or_else(|| locale_of(&[], &headers).map_or(Locale::Fr, |l| l.0));
    let (viewer, _) = shared
        .auth
        .identify(&headers, secure_request(&shared, peer, &headers));
    responses::unkept_html(
        StatusCode::OK,
        login::page(
            &shared.programme,
            locale,
            &safe_next(q.next.as_deref().unwrap_or("/")),
            None,
            &viewer,
        ),
    )
}

pub async fn submit(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    // The form is read by hand so that a malformed or cross-site post gets a page, not
    // a bare rejection.
    let form: LoginForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let locale = Locale::parse(&form.lang).unwrap_or_default();
    let next = safe_next(&form.next);
    let t = |fr, en| locale.pick(fr, en);
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let entry = |user: Option<String>, role: Option<Role>, status: u16, detail: &str| Entry {
        user,
        role: role.map(|r| r.code().to_string()),
        status,
        detail: Some(detail.to_string()),
        request_id: request_id.clone(),
        ..Entry::new("login", "POST", "/login")
    };
    let page = |status: StatusCode, message: &str| {
        responses::unkept_html(
            status,
            login::page(
                &shared.programme,
                locale,
                &next,
                Some(message),
                &Viewer::anonymous(),
            ),
        )
    };
    if !same_origin(&headers) {
        shared
            .auth
            .record(entry(None, None, 403, "cross-site request refused"));
        return AppError::page(Problem::CrossSite, locale, &shared, shared.live()).into_response();
    }
    let users = shared.auth.users();
    // Names longer than any account's are not looked up (nor kept whole anywhere).
    let account = (form.username.len() <= 64)
        .then(|| users.get(&form.username))
        .flatten();
    let known = account.map(|u| u.name.clone());
    let address = shared.auth.settings.proxies.client(peer.ip(), &headers);
    let reservation = match shared
        .auth
        .limiter
        .reserve(&form.username, known.is_some(), address)
    {
        Ok(r) => r,
        Err(wait) => {
            shared
                .auth
                .record(entry(known, None, 429, "too many attempts"));
            let mut r = page(
                StatusCode::TOO_MANY_REQUESTS,
                t(
                    "Trop de tentatives. Réessayez plus tard.",
                    "Too many attempts. Try again later.",
                ),
            );
            if let Ok(v) = HeaderValue::from_str(&wait.as_secs().to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return r;
        }
    };
    // Verifications run a few at a time: a burst queues here instead of taking every
    // core and 19 MiB each, and the rest of the server keeps answering.
    let permit = match tokio::time::timeout(VERIFY_WAIT, shared.auth.verifications.acquire()).await
    {
        Ok(Ok(permit)) => permit,
        _ => {
            shared.auth.limiter.succeeded(reservation);
            shared.auth.record(entry(known, None, 503, "busy"));
            let mut r = page(
                StatusCode::SERVICE_UNAVAILABLE,
                t(
                    "Le serveur est très sollicité. Réessayez dans un instant.",
                    "The server is busy. Try again in a moment.",
                ),
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            return r;
        }
    };
    let (name, password) = (form.username.clone(), form.password.clone());
    shared.metrics.password_verification();
    let checked = tokio::task::spawn_blocking(move || {
        if name.len() > 64 || password.len() > PASSWORD_CAP {
            // Still spend the time of a verification: length must not tell anything.
            let _ = users.authenticate("", "");
            return None;
        }
        users
            .authenticate(&name, &password)
            .map(|u| (u.name.clone(), u.role, u.stamp.clone()))
    })
    .await;
    drop(permit);
    match checked {
        Ok(Some((user, role, stamp))) => {
            shared.auth.limiter.succeeded(reservation);
            let secure = secure_request(&shared, peer, &headers);
            let cookie = shared.auth.open_session(&user, &stamp, secure);
            shared
                .auth
                .record(entry(Some(user), Some(role), 303, "signed in"));
            // In the request's span: the log line carries its request id. No name.
            tracing::info!(role = role.code(), "signed in");
            let mut r = Redirect::to(&next).into_response();
            if let Some(v) = cookie {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
            r
        }
        _ => {
            // The reservation stays: a failed attempt counts.
            drop(reservation);
            // The name is recorded only when it is an account: a password typed into
            // the wrong field must not end up in the log.
            let detail = if known.is_some() {
                "wrong password"
            } else {
                "unknown user"
            };
            shared.auth.record(entry(known, None, 401, detail));
            tracing::info!("sign-in refused");
            page(
                StatusCode::UNAUTHORIZED,
                t(
                    "Nom d'utilisateur ou mot de passe incorrect.",
                    "Wrong username or password.",
                ),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_a_path_of_this_site_read_as_a_browser_reads_it() {
        for (raw, want) in [
            (
                "/d/returns?period=2018&lang=en",
                "/d/returns?period=2018&lang=en",
            ),
            ("/", "/"),
            ("//x", "/"),
            ("/\\x", "/"),
            ("\\\\x", "/"),
            ("/\t/x", "/"),
            ("/\n/x", "/"),
            ("  //x", "/"),
            (" /d/returns", "/d/returns"),
            ("https://x", "/"),
            ("http://reintegra.invalid/d/returns", "/"),
            ("javascript:alert(1)", "/"),
            ("x", "/"),
            ("", "/"),
            ("/%09/x", "/%09/x"),
            ("/./..//x", "/"),
            ("/d/returns#top", "/d/returns"),
            ("/\u{0}/x", "/%00/x"),
        ] {
            assert_eq!(safe_next(raw), want, "{raw:?}");
        }
    }
}
