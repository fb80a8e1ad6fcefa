//! `/admin/audit`: the audit log for administrators, newest first, filterable by user
//! and action. The same entries as `reintegra audit` on the command line.

use std::sync::Arc;

use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use maud::html;

use super::auth::Viewer;
use super::error::{AppError, Problem};
use super::i18n::Locale;
use super::state::Shared;
use super::{page_for, page_start};
use crate::access::AuditLog;

/// Entries shown per page.
const PAGE: usize = 200;

pub async fn audit(
    State(shared): State<Arc<Shared>>,
    Extension(viewer): Extension<Viewer>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (locale, _, live) = page_start(&shared, &query, &headers)?;
    let mut user = None;
    let mut action = None;
    let mut page_no = 0usize;
    for (k, v) in &query {
        match k.as_str() {
            "lang" => {}
            "user" if !v.is_empty() => user = Some(v.clone()),
            "action" if !v.is_empty() => action = Some(v.clone()),
            "page" => {
                page_no = v.parse().map_err(|_| {
                    AppError::page(
                        Problem::BadParameter {
                            name: "page".into(),
                            allowed: "a page number: 0, 1, 2…".into(),
                        },
                        locale,
                        &shared,
                        Some(live.clone()),
                    )
                })?
            }
            "user" | "action" => {}
            other => {
                return Err(AppError::page(
                    Problem::BadParameter {
                        name: other.into(),
                        allowed: "user, action, page, lang".into(),
                    },
                    locale,
                    &shared,
                    Some(live.clone()),
                ));
            }
        }
    }
    let log = AuditLog::new(&crate::access::dir(&shared.settings.data));
    let entries = tokio::task::spawn_blocking(move || log.read().unwrap_or_default())
        .await
        .unwrap_or_default();
    let matching: Vec<_> = entries
        .iter()
        .rev()
        .filter(|e| user.as_deref().is_none_or(|u| e.user.as_deref() == Some(u)))
        .filter(|e| action.as_deref().is_none_or(|a| e.action == a))
        .collect();
    let shown: Vec<_> = matching.iter().skip(page_no * PAGE).take(PAGE).collect();
    let t = |fr, en| locale.pick(fr, en);
    let page = page_for(&shared, &live, &viewer, locale, "/admin/audit", "");
    let body = html! {
        h1 { (t("Journal d'audit", "Audit log")) }
        p.lead { (t("Chaque consultation, appel à l'API, export et connexion, du plus récent au plus ancien.", "Every view, API call, export and sign-in, newest first.")) }
        form.filters method="get" action="/admin/audit" {
            @if locale == Locale::En { input type="hidden" name="lang" value="en"; }
            label { span { (t("Utilisateur", "User")) } input type="text" name="user" value=(user.as_deref().unwrap_or("")); }
            label { span { (t("Action", "Action")) }
                select name="action" {
                    option value="" { (t("Toutes", "All")) }
                    @for a in ["view", "api", "export", "login", "logout", "denied", "admin"] {
                        option value=(a) selected[action.as_deref() == Some(a)] { (a) }
                    }
                }
            }
            button type="submit" { (t("Filtrer", "Filter")) }
        }
        p { (matching.len()) " " (t("entrées", "entries")) }
        div.table-scroll {
            table {
                thead { tr {
                    th scope="col" { (t("Heure (UTC)", "Time (UTC)")) }
                    th scope="col" { (t("Utilisateur", "User")) }
                    th scope="col" { (t("Rôle", "Role")) }
                    th scope="col" { (t("Action", "Action")) }
                    th scope="col" { (t("Adresse", "Path")) }
                    th scope="col" { (t("Filtres", "Filters")) }
                    th scope="col" { (t("Statut", "Status")) }
                    th scope="col" { (t("Détail", "Detail")) }
                } }
                tbody {
                    @for e in &shown {
                        tr {
                            td { (e.time.format("%Y-%m-%d %H:%M:%S")) }
                            td { (e.user.as_deref().unwrap_or("–")) }
                            td { (e.role.as_deref().unwrap_or("–")) }
                            td { (e.action) }
                            td { code { (e.method) " " (e.path) } }
                            td { code { (e.query) } }
                            td.num { (e.status) }
                            td { (e.detail.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
        @if matching.len() > (page_no + 1) * PAGE {
            p { a href={ "/admin/audit?page=" (page_no + 1) @if locale == Locale::En { "&lang=en" } } { (t("Entrées plus anciennes", "Older entries")) } }
        }
    };
    let html =
        super::pages::layout(&page, t("Journal d'audit", "Audit log"), None, body).into_string();
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response())
}
