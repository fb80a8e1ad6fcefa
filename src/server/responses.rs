//! Responses derived from the snapshot: ETags made of the snapshot and of everything
//! else the bytes depend on (`304 Not Modified` when the client has them), caching
//! headers, the language cookie, attachments, and pages never to be kept.

use std::hash::{Hash, Hasher};

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::state::{Live, Shared};
use crate::access::Viewer;
use crate::present::i18n::Locale;

/// Adds the snapshot's ETag and the caching headers of an API answer (the same for
/// every reader who may read it).
pub fn tagged(live: &Live, mut response: Response) -> Response {
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", live.snapshot.id)) {
        headers.insert(header::ETAG, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// A page: HTML tagged with the snapshot, what shaped the page (`shape`) and its
/// viewer (a page names them and holds their sign-out token); `set_lang` remembers a
/// language chosen with `?lang=` in a cookie.
pub fn page(
    shared: &Shared,
    live: &Live,
    headers: &HeaderMap,
    shape: &impl Hash,
    body: Bytes,
    set_lang: Option<Locale>,
    viewer: &Viewer,
) -> Response {
    let tag = (shape, &viewer.user, &viewer.csrf);
    let mut response = snapshot_response(live, headers, &tag, body, "text/html; charset=utf-8");
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

/// A response derived from the snapshot (a page or an export), tagged with the
/// snapshot id and a digest of `shape` — everything else its bytes depend on;
/// `304 Not Modified` when the client already has it.
pub fn snapshot_response(
    live: &Live,
    headers: &HeaderMap,
    shape: &impl Hash,
    body: Bytes,
    content_type: &'static str,
) -> Response {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    shape.hash(&mut hasher);
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

/// Marks a response as a file to save under `name`.
pub fn attachment(mut response: Response, name: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

/// An HTML page no cache may keep (sign-in, administration).
pub fn unkept_html(status: StatusCode, body: String) -> Response {
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
