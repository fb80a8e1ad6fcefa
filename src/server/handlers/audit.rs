//! `GET /admin/audit` (administrators): the audit log, newest first, filterable by
//! user and action — the same entries as `reintegra audit`.

use std::sync::Arc;

use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use crate::access::{AuditLog, Viewer};
use crate::present::problem::Problem;
use crate::render::html::admin::{self, AuditQuery};
use crate::server::error::AppError;
use crate::server::request::{page_for, page_start};
use crate::server::responses;
use crate::server::state::Shared;

pub async fn page(
    State(shared): State<Arc<Shared>>,
    Extension(viewer): Extension<Viewer>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (locale, _, live) = page_start(&shared, &query, &headers)?;
    let bad = |name: &str, allowed: &str| {
        let problem = Problem::BadParameter {
            name: name.into(),
            allowed: allowed.into(),
        };
        AppError::page(problem, locale, &shared, Some(live.clone()))
    };
    let mut wanted = AuditQuery::default();
    for (k, v) in &query {
        match k.as_str() {
            "lang" => {}
            "user" if !v.is_empty() => wanted.user = Some(v.clone()),
            "action" if !v.is_empty() => wanted.action = Some(v.clone()),
            "page" => {
                wanted.page = v
                    .parse()
                    .map_err(|_| bad("page", "a page number: 0, 1, 2…"))?
            }
            "user" | "action" => {}
            other => return Err(bad(other, "user, action, page, lang")),
        }
    }
    let log = AuditLog::new(&crate::access::dir(&shared.settings.data));
    let entries = tokio::task::spawn_blocking(move || log.read().unwrap_or_default())
        .await
        .unwrap_or_default();
    let matching: Vec<_> = entries
        .iter()
        .rev()
        .filter(|e| {
            let user = wanted.user.as_deref();
            user.is_none_or(|u| e.user.as_deref() == Some(u))
        })
        .filter(|e| wanted.action.as_deref().is_none_or(|a| e.action == a))
        .collect();
    let page = page_for(&shared, &live, &viewer, locale, "/admin/audit", "");
    Ok(responses::unkept_html(
        StatusCode::OK,
        admin::audit(&page, &wanted, &matching),
    ))
}
