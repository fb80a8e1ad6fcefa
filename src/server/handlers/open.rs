//! `GET /open/` and `GET /open/{file}`: the public open data — the page listing the
//! files, `datapackage.json` and one HXL-tagged CSV per table the public dashboards
//! show: the very bytes `reintegra export open-data --public` writes for the snapshot
//! served. A name the set does not hold is a 404.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;

use crate::access::Viewer;
use crate::present::problem::Problem;
use crate::render::exports::ExportError;
use crate::render::exports::open_data::{self, Audience, PACKAGE};
use crate::render::html;
use crate::render::html::open::{Listed, Listing};
use crate::server::error::AppError;
use crate::server::kept::Kept;
use crate::server::request::{only_lang, page_for, page_start};
use crate::server::responses;
use crate::server::state::{Live, Shared};

fn failed(
    e: ExportError,
    locale: crate::present::i18n::Locale,
    shared: &Shared,
    live: &Arc<Live>,
) -> AppError {
    let problem = match e {
        ExportError::NotPublished => Problem::NotFound,
        e => {
            tracing::error!(error = %e, "open data failed");
            Problem::ExportFailed
        }
    };
    AppError::page(problem, locale, shared, Some(live.clone()))
}

/// `/open/`: the files, their sizes and what they hold.
pub async fn page(
    State(shared): State<Arc<Shared>>,
    Extension(viewer): Extension<Viewer>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (locale, set, live) = page_start(&shared, &query, &headers)?;
    only_lang(&shared, &query, locale, &live)?;
    let licence = shared.settings.open_licence.clone();
    let tables = open_data::tables(&live.snapshot, &shared.dashboards, Audience::Public);
    let mut listed = Vec::with_capacity(tables.len());
    for t in &tables {
        let key = Kept::Open {
            file: t.file(),
            licence: licence.clone(),
        };
        let body = shared
            .kept_async(&live, key)
            .await
            .map_err(|e| failed(e, locale, &shared, &live))?;
        listed.push(Listed {
            name: t.file(),
            title: open_data::title(&live.snapshot, t).unwrap_or_else(|| crate::reference::Label {
                fr: t.name(),
                en: t.name(),
            }),
            bytes: body.len(),
        });
    }
    let package = shared
        .kept_async(
            &live,
            Kept::Open {
                file: PACKAGE.into(),
                licence: licence.clone(),
            },
        )
        .await
        .map_err(|e| failed(e, locale, &shared, &live))?;
    let listing = Listing {
        tables: listed,
        package: Listed {
            name: PACKAGE.into(),
            title: crate::reference::Label {
                fr: "Description du paquet de données (Frictionless Data Package v2)".into(),
                en: "Data package descriptor (Frictionless Data Package v2)".into(),
            },
            bytes: package.len(),
        },
        licence: &licence,
    };
    let frame = page_for(&shared, &live, &viewer, locale, "/open/", "");
    let body = Bytes::from(html::open::open(&frame, &listing).into_string());
    let shape = ("open", locale, viewer.role, &licence);
    Ok(responses::page(
        &shared,
        &live,
        &headers,
        &shape,
        body,
        set.then_some(locale),
        &viewer,
    ))
}

/// `/open/datapackage.json` and `/open/{table}.csv`.
pub async fn file(
    State(shared): State<Arc<Shared>>,
    Path(file): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (locale, _, live) = page_start(&shared, &query, &headers)?;
    only_lang(&shared, &query, locale, &live)?;
    let tables = open_data::tables(&live.snapshot, &shared.dashboards, Audience::Public);
    let table = tables.iter().find(|t| t.file() == file);
    let not_found = || AppError::page(Problem::NotFound, locale, &shared, Some(live.clone()));
    let content_type = match table {
        None if file == PACKAGE => "application/json",
        None => return Err(not_found()),
        Some(t) => {
            // Person figures are not served unrecorded.
            if open_data::counts_people(&live.snapshot, t) && !shared.auth.audit_healthy() {
                return Err(AppError::page(
                    Problem::AuditUnavailable,
                    locale,
                    &shared,
                    Some(live.clone()),
                ));
            }
            "text/csv; charset=utf-8"
        }
    };
    let key = Kept::Open {
        file: file.clone(),
        licence: shared.settings.open_licence.clone(),
    };
    let body = shared
        .kept_async(&live, key.clone())
        .await
        .map_err(|e| failed(e, locale, &shared, &live))?;
    let response = responses::snapshot_response(&live, &headers, &key, body, content_type);
    Ok(if table.is_some() {
        responses::attachment(response, &file)
    } else {
        response
    })
}
