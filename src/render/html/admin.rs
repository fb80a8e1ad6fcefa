//! Pages for administrators: the audit log (`/admin/audit`, the same entries as
//! `reintegra audit`) and the non-revealing part of the disclosure report of the
//! snapshot served (`/admin/disclosure`).

use maud::html;

use super::Page;
use super::layout::layout;
use crate::access::Entry;
use crate::present::i18n::{Locale, format_number};

/// Entries shown per page of the audit log.
pub const PAGE: usize = 200;

/// What the audit page shows: entries of a user, of an action, and which page of them.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub user: Option<String>,
    pub action: Option<String>,
    pub page: usize,
}

/// `/admin/audit`: the entries matching the filters, newest first, one page of them.
pub fn audit(page: &Page<'_>, query: &AuditQuery, matching: &[&Entry]) -> String {
    let locale = page.locale;
    let t = |fr, en| locale.pick(fr, en);
    let (user, action, page_no) = (&query.user, &query.action, query.page);
    let shown: Vec<_> = matching.iter().skip(page_no * PAGE).take(PAGE).collect();
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
    layout(page, t("Journal d'audit", "Audit log"), None, body).into_string()
}

/// `/admin/disclosure`: the report the snapshot carries, if any.
pub fn disclosure(page: &Page<'_>) -> String {
    let locale = page.locale;
    let t = |fr, en| locale.pick(fr, en);
    let report = page.snapshot.disclosure_report();
    let num =
        |x: Option<f64>, d: usize| x.map_or("–".to_string(), |v| format_number(v, d, locale));
    let pct = |x: Option<f64>| {
        x.map_or("–".to_string(), |v| {
            format!("{} %", format_number(v * 100.0, 0, locale))
        })
    };
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
    layout(
        page,
        t("Contrôle de la divulgation", "Disclosure control"),
        None,
        body,
    )
    .into_string()
}
