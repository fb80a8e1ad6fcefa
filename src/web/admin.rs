//! Pages for administrators: `/admin/audit`, the audit log, newest first, filterable by
//! user and action (the same entries as `reintegra audit`); `/admin/disclosure`, the
//! non-revealing part of the disclosure report of the snapshot served.

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

/// `/admin/disclosure`: what the disclosure layer did for the snapshot served —
/// published and suppressed cells, deviations, the attacks' results and the risk and
/// utility of the perturbation table. Never which cells were held (that stays on the
/// private side, in `reintegra disclosure report`).
pub async fn disclosure(
    State(shared): State<Arc<Shared>>,
    Extension(viewer): Extension<Viewer>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (locale, _, live) = page_start(&shared, &query, &headers)?;
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
    let t = |fr, en| locale.pick(fr, en);
    let report = live.snapshot.disclosure_report();
    let num = |x: Option<f64>, d: usize| x.map_or("–".to_string(), |v| crate::web::i18n::format_number(v, d, locale));
    let pct = |x: Option<f64>| x.map_or("–".to_string(), |v| format!("{} %", crate::web::i18n::format_number(v * 100.0, 0, locale)));
    let page = page_for(&shared, &live, &viewer, locale, "/admin/disclosure", "");
    let body = html! {
        h1 { (t("Contrôle de la divulgation", "Disclosure control")) }
        @match &report {
            None => p { (t("Cette version publiée ne porte pas de rapport (elle précède le rapport).", "This published version carries no report (it predates the report).")) }
            Some(r) => {
                p.lead { (t("Ce que la protection a fait pour la version servie, calculé par la tâche nocturne contre les données individuelles, qui ne quittent jamais le côté privé.", "What protection did for the version served, computed by the nightly job against the individual records, which never leave the private side.")) }
                p { (t("Seuil : ", "Threshold: ")) (r.threshold) " · " (t("politique ", "policy ")) code { (r.policy_version) } }
                div.table-scroll { table {
                    thead { tr {
                        th scope="col" { (t("Mesure", "Measure")) }
                        th scope="col" { (t("Cases", "Cells")) }
                        th scope="col" { (t("Publiées", "Published")) }
                        th scope="col" { (t("Masquées", "Suppressed")) }
                        th scope="col" { (t("Masquées parmi 10–14", "Suppressed among 10–14")) }
                        th scope="col" { (t("Écart absolu moyen", "Mean absolute deviation")) }
                        th scope="col" { (t("Plus grand écart", "Largest deviation")) }
                        th scope="col" { (t("Intervalle le plus étroit par soustraction", "Narrowest range by subtraction")) }
                    } }
                    tbody { @for m in &r.measures { tr {
                        th scope="row" { code { (m.id) } @if !m.person { " " small { (t("(hors personnes)", "(not people)")) } } }
                        td.num { (m.cells) } td.num { (m.published) } td.num { (m.suppressed) }
                        td.num { (pct(m.suppression_rate_10_14)) }
                        td.num { (num(m.mean_absolute_deviation, 2)) }
                        td.num { (num(m.largest_deviation, 1)) }
                        td.num { (num(m.narrowest_range, 1)) }
                    } } }
                } }
                p { (t("Moyennes publiées sur moins de personnes que le seuil : ", "Means published over fewer people than the threshold: ")) strong { (r.measures.iter().map(|m| m.means_below_threshold).sum::<u64>()) } }
                p { (t("Cases de deux mesures avec les mêmes personnes et le même effectif : ", "Cells of two measures with the same people and the same count: ")) (r.cross_measure.pairs) " ; " (t("publiées différemment : ", "published differently: ")) strong { (r.cross_measure.differing) } }
                h2 { (t("Table de perturbation", "Perturbation table")) }
                div.table-scroll { table {
                    thead { tr {
                        th scope="col" { (t("Effectif vrai", "True count")) }
                        th scope="col" { (t("Probabilité de rester", "Probability of staying")) }
                        th scope="col" { (t("Bruit absolu attendu", "Expected absolute noise")) }
                        th scope="col" { (t("Variance", "Variance")) }
                        th scope="col" { (t("Probabilité d'être masqué", "Probability of suppression")) }
                    } }
                    tbody { @for row in &r.table { tr {
                        th scope="row" { (row.count) (if row.count as usize == r.table.len() { "+" } else { "" }) }
                        td.num { (num(Some(row.stays), 3)) } td.num { (num(Some(row.expected_absolute_noise), 2)) }
                        td.num { (num(Some(row.variance), 2)) } td.num { (num(Some(row.suppressed), 3)) }
                    } } }
                } }
            }
        }
    };
    let html = super::pages::layout(&page, t("Contrôle de la divulgation", "Disclosure control"), None, body).into_string();
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response())
}
