//! `/deliveries` (programme staff and administrators): every extract file the job
//! received, newest first, with its outcome and months, the report of each quarantined
//! file in the reader's language, and what each kind of extract covers — with a warning
//! when a kind has received nothing for longer than the job's threshold. Everything
//! shown comes from `DATA/deliveries/`, written by the job without a row or a cell.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use maud::{Markup, html};

use super::Page;
use super::layout::layout;
use crate::present::i18n::{Locale, format_date, format_number, format_period};
use crate::status::{Deliveries, DeliveryReport};

/// The label of a kind of extract, from reference data.
fn kind_label(kind: Option<&str>, locale: Locale) -> String {
    let Some(kind) = kind else {
        return locale.pick("type inconnu", "unknown kind").to_string();
    };
    crate::reference::labels()
        .get("kind")
        .and_then(|set| set.get(kind))
        .map_or_else(
            || kind.to_string(),
            |l| locale.pick(&l.fr, &l.en).to_string(),
        )
}

fn outcome_label(outcome: &str, locale: Locale) -> &'static str {
    match outcome {
        "accepted" => locale.pick("acceptée", "accepted"),
        "replaced" => locale.pick("acceptée, mois remplacés", "accepted, months replaced"),
        "quarantined" => locale.pick("mise en quarantaine", "quarantined"),
        "duplicate" => locale.pick("déjà reçue (inchangée)", "already received (unchanged)"),
        _ => locale.pick("inconnue", "unknown"),
    }
}

fn when(t: DateTime<Utc>, locale: Locale) -> String {
    format!(
        "{} {}",
        format_date(t.date_naive(), locale),
        t.format("%H:%M")
    )
}

fn day(iso: &str, locale: Locale) -> String {
    iso.parse::<NaiveDate>()
        .map_or_else(|_| iso.to_string(), |d| format_date(d, locale))
}

fn months(span: &Option<(String, String)>, locale: Locale) -> String {
    match span {
        None => "–".into(),
        Some((a, b)) if a == b => format_period(a, locale),
        Some((a, b)) => format!(
            "{} – {}",
            format_period(a, locale),
            format_period(b, locale)
        ),
    }
}

fn rows(ranges: &[(u64, u64)], locale: Locale) -> String {
    let shown: Vec<String> = ranges
        .iter()
        .filter(|r| r.0 > 0)
        .take(30)
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}–{b}")
            }
        })
        .collect();
    let more = ranges.iter().filter(|r| r.0 > 0).count().saturating_sub(30);
    let mut out = shown.join(", ");
    if more > 0 {
        out.push_str(&format!(
            " {} {more}",
            locale.pick("… et autres plages :", "… and more ranges:")
        ));
    }
    out
}

fn report_block(report: &DeliveryReport, locale: Locale) -> Markup {
    let t = |fr, en| locale.pick(fr, en);
    html! {
        p {
            @if report.pii {
                strong { (t("Le fichier contient des données identifiantes.", "The file carries identifying data.")) } " "
            }
            (format_number(report.problem_count as f64, 0, locale)) " " (t("problème(s) ; rien n'a été chargé. Les lignes sont numérotées comme dans un tableur (l'en-tête est la ligne 1) ; aucune valeur du fichier n'est citée.", "problem(s); nothing was loaded. Rows are numbered as in a spreadsheet (the header is row 1); no value of the file is quoted."))
        }
        ul.report {
            @for g in &report.problems {
                li {
                    strong {
                        @match &g.column {
                            Some(c) => { (t("Colonne ", "Column ")) code { (c) } }
                            None => { (t("Fichier", "File")) }
                        }
                    }
                    " — " (locale.pick(&g.explanation.fr, &g.explanation.en))
                    @let fix = locale.pick(&g.fix.fr, &g.fix.en);
                    @if !fix.is_empty() { br; span.fix { (t("À faire : ", "To do: ")) (fix) } }
                    @if g.rows.iter().any(|r| r.0 > 0) {
                        br; span.rows { (format_number(g.count as f64, 0, locale)) " " (t("ligne(s) : ", "row(s): ")) (rows(&g.rows, locale)) }
                    }
                    " " small { "(" (g.rule) ")" }
                }
            }
        }
    }
}

/// The page. `reports` holds the reports of the quarantined files listed, by name.
pub fn page(
    page: &Page<'_>,
    deliveries: Option<&Deliveries>,
    reports: &HashMap<String, DeliveryReport>,
    now: DateTime<Utc>,
) -> String {
    let locale = page.locale;
    let t = |fr, en| locale.pick(fr, en);
    let body = html! {
        h1 { (t("Livraisons des extraits", "Extract deliveries")) }
        p.lead { (t("Chaque fichier reçu par le traitement de nuit, du plus récent au plus ancien, et ce que chaque type d'extrait couvre. Un fichier mis en quarantaine n'a rien chargé : son rapport dit quoi corriger, puis renvoyez-le.", "Every file the nightly job received, newest first, and what each kind of extract covers. A quarantined file loaded nothing: its report says what to fix; then send it again.")) }
        @match deliveries {
            None => p { (t("Le traitement de nuit n'a encore rien enregistré ici.", "The nightly job has not recorded anything here yet.")) }
            Some(d) => {
                h2 { (t("Couverture par type d'extrait", "Coverage by kind of extract")) }
                div.table-scroll { table {
                    caption { (t("Seuil d'alerte : ", "Warning after ")) (d.stale_after_days) (t(" jours sans livraison acceptée.", " days without an accepted delivery.")) }
                    thead { tr {
                        th scope="col" { (t("Type", "Kind")) }
                        th scope="col" { (t("Données du", "Data from")) }
                        th scope="col" { (t("au", "to")) }
                        th scope="col" { (t("Dernière livraison acceptée", "Last accepted delivery")) }
                        th scope="col" { (t("État", "Status")) }
                    } }
                    tbody {
                        @for c in &d.coverage {
                            tr {
                                th scope="row" { (kind_label(Some(&c.kind), locale)) }
                                td { (c.first.as_deref().map_or("–".into(), |f| day(f, locale))) }
                                td { (c.last.as_deref().map_or("–".into(), |l| day(l, locale))) }
                                td { (c.last_accepted_at.map_or("–".into(), |at| when(at, locale))) }
                                td {
                                    @if c.is_stale(now, d.stale_after_days) {
                                        strong.warning {
                                            "⚠ "
                                            @match c.days_since_delivery(now) {
                                                Some(days) => { (t("Aucune livraison acceptée depuis ", "No accepted delivery for ")) (days) (t(" jours", " days")) }
                                                None => { (t("Aucune livraison acceptée", "No accepted delivery yet")) }
                                            }
                                        }
                                    } @else {
                                        (t("À jour", "Up to date"))
                                    }
                                }
                            }
                        }
                    }
                } }
                h2 { (t("Fichiers reçus", "Files received")) }
                div.table-scroll { table {
                    thead { tr {
                        th scope="col" { (t("Reçu (UTC)", "Received (UTC)")) }
                        th scope="col" { (t("Fichier", "File")) }
                        th scope="col" { (t("Type", "Kind")) }
                        th scope="col" { (t("Résultat", "Outcome")) }
                        th scope="col" { (t("Mois couverts", "Months covered")) }
                        th scope="col" { (t("Lignes", "Rows")) }
                        th scope="col" { (t("Lignes remplacées", "Rows replaced")) }
                    } }
                    tbody {
                        @for f in &d.files {
                            tr {
                                td { (when(f.received_at, locale)) }
                                th scope="row" { code { (f.file) } }
                                td { (kind_label(f.kind.as_deref(), locale)) }
                                td {
                                    @if f.outcome == "quarantined" { a href={ "#report-" (f.id) } { strong.warning { (outcome_label(&f.outcome, locale)) } } }
                                    @else { (outcome_label(&f.outcome, locale)) }
                                }
                                td { (months(&f.months, locale)) }
                                td.num { (format_number(f.rows as f64, 0, locale)) }
                                td.num { (format_number(f.replaced as f64, 0, locale)) }
                            }
                        }
                    }
                } }
                @if d.older > 0 {
                    p { (d.older) (t(" livraisons plus anciennes sont dans les registres du traitement.", " older deliveries are in the job's records.")) }
                }
                @let quarantined: Vec<_> = d.files.iter().filter(|f| f.outcome == "quarantined").collect();
                @if !quarantined.is_empty() {
                    h2 { (t("Rapports des fichiers mis en quarantaine", "Reports of quarantined files")) }
                    @for f in quarantined {
                        section.delivery-report id={ "report-" (f.id) } {
                            h3 { code { (f.file) } " · " (when(f.received_at, locale)) }
                            @match f.report.as_ref().and_then(|r| reports.get(r)) {
                                Some(r) => (report_block(r, locale)),
                                None => p { (format_number(f.problems as f64, 0, locale)) (t(" problème(s) ; le rapport détaillé n'est plus conservé.", " problem(s); the detailed report is no longer kept.")) }
                            }
                        }
                    }
                }
            }
        }
    };
    layout(page, t("Livraisons", "Deliveries"), None, body).into_string()
}
