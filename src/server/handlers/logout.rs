//! `POST /logout`: signs out — the form's token checked, the session ended on every
//! replica, its cookie cleared.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::login::secure_request;
use crate::access::Entry;
use crate::present::i18n::Locale;
use crate::present::problem::Problem;
use crate::server::auth::same_origin;
use crate::server::error::AppError;
use crate::server::request::locale_of;
use crate::server::state::Shared;

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

pub async fn submit(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let form: LogoutForm = serde_urlencoded::from_bytes(&body).unwrap_or(LogoutForm {
        csrf: String::new(),
    });
    let secure = secure_request(&shared, peer, &headers);
    let (viewer, _) = shared.auth.identify(&headers, secure);
    let token_ok = viewer
        .csrf
        .as_deref()
        .is_some_and(|c| bool::from(c.as_bytes().ct_eq(form.csrf.as_bytes())));
    let entry = |status: u16, detail: &str| Entry {
        user: viewer.user.clone(),
        role: viewer.user.as_ref().map(|_| viewer.role.code().to_string()),
        status,
        detail: Some(detail.to_string()),
        ..Entry::new("logout", "POST", "/logout")
    };
    if !same_origin(&headers) || (viewer.signed_in() && !token_ok) {
        shared.auth.record(entry(403, "cross-site request refused"));
        let (locale, _) = locale_of(&[], &headers).unwrap_or((Locale::Fr, false));
        return AppError::page(Problem::CrossSite, locale, &shared, shared.live()).into_response();
    }
    let cleared = shared.auth.close_session(&viewer, secure);
    shared.auth.record(entry(303, "signed out"));
    let mut r = Redirect::to("/login").into_response();
    if let Some(v) = cleared {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}
