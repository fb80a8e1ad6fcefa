//! What every page request starts from: its language (`?lang=`, the cookie,
//! `Accept-Language`), the snapshot it reads, and — for a dashboard and its exports —
//! the dashboard the guard allowed and the filters, checked once for all of them.

use std::sync::Arc;

use axum::http::{HeaderMap, header};

use super::auth::guard::ServedDashboard;
use super::error::AppError;
use super::state::{Live, Shared};
use crate::access::Viewer;
use crate::definitions::Dashboard;
use crate::present::filters::{self, Filters, Options};
use crate::present::i18n::Locale;
use crate::present::problem::Problem;
use crate::render::exports::ExportError;
use crate::render::html::Page;

/// The language of a request: `?lang=` (remembered in a cookie), else the cookie,
/// else `Accept-Language`, else French.
pub fn locale_of(
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

/// The page frame for a viewer: the dashboards their role opens.
pub fn page_for<'a>(
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
        programme: &shared.programme,
        viewer,
        locale,
        path,
        filters_query,
    }
}

/// Refuses any parameter but `lang` (pages that take no filter).
pub fn only_lang(
    shared: &Arc<Shared>,
    query: &[(String, String)],
    locale: Locale,
    live: &Arc<Live>,
) -> Result<(), AppError> {
    match query.iter().find(|(k, _)| k != "lang") {
        None => Ok(()),
        Some((name, _)) => {
            let problem = Problem::BadParameter {
                name: name.clone(),
                allowed: "lang".into(),
            };
            Err(AppError::page(problem, locale, shared, Some(live.clone())))
        }
    }
}

/// What every page handler starts from: the language (and whether `?lang=` set it)
/// and the snapshot being served.
pub fn page_start(
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
pub struct DashboardRequest {
    pub live: Arc<Live>,
    /// Index into `Shared::dashboards`.
    pub dashboard: usize,
    pub locale: Locale,
    /// Whether `?lang=` chose the language (pages then remember it in a cookie).
    pub lang_given: bool,
    pub options: Arc<Options>,
    pub filters: Filters,
}

impl DashboardRequest {
    /// `served`: the dashboard the guard resolved from the routed path and allowed.
    pub fn parse(
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

    pub fn dashboard<'a>(&self, shared: &'a Shared) -> &'a Dashboard {
        &shared.dashboards[self.dashboard]
    }

    /// An error page for this request.
    pub fn fail(&self, shared: &Arc<Shared>, problem: Problem) -> AppError {
        AppError::page(problem, self.locale, shared, Some(self.live.clone()))
    }
}

impl DashboardRequest {
    /// The answer to an export that could not be made: not published for these
    /// filters (404), or a failure that is logged (500).
    pub fn export_failed(&self, shared: &Arc<Shared>, e: ExportError) -> AppError {
        match e {
            ExportError::NotPublished => self.fail(shared, Problem::NotPublished),
            e => {
                tracing::error!(error = %e, "export failed");
                self.fail(shared, Problem::ExportFailed)
            }
        }
    }
}
