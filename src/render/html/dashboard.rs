//! `/d/{id}`: a dashboard under its filters — the filter form, headline figures with
//! their targets, charts and maps with their tables of values (time charts with the
//! numbered notes they mark), the PONAM table, every panel's download links, and the
//! dashboard's notes ("Ce qui s'est passé" / "What happened").
//!
//! The content depends on the snapshot, the notes, the language, the dashboard and the
//! filters only (`Content` has no viewer), so it is rendered once per snapshot and
//! version of the notes and kept; the layout frames it per viewer.

use maud::{Markup, PreEscaped, html};

use crate::definitions::dashboard::Filter;
use crate::definitions::dimension::{AGE_BAND, CERCLE, REGION, SEX};
use crate::definitions::{Dashboard, Notes, Panel, PanelKind};
use crate::domain::{AgeBand, Code, Currency, Sex};
use crate::present::chart;
use crate::present::charts::sparkline;
use crate::present::filters::{Compare, Filters, Options, Period};
use crate::present::i18n::{Locale, format_date, format_number, format_period};
use crate::present::labels;
use crate::present::notes::{self, ShownNote};
use crate::present::panels::{self, Figure, Figures, Unavailable};
use crate::present::results as framework;
use crate::present::text::{describe_change, describe_filters, whole_numbers};
use crate::render::exports::{self, Format};
use crate::snapshot::Snapshot;

/// What a dashboard's content depends on besides the dashboard and its filters: the
/// snapshot, the notes and the language. No viewer: content kept for every viewer
/// cannot show one viewer's anything.
pub struct Content<'a> {
    pub snapshot: &'a Snapshot,
    /// The notes programme leads wrote (`DATA/notes/`), already checked.
    pub notes: &'a Notes,
    pub locale: Locale,
}

impl Content<'_> {
    pub(super) fn t<'s>(&self, fr: &'s str, en: &'s str) -> &'s str {
        self.locale.pick(fr, en)
    }
}

/// `/d/{id}`: the content of a dashboard under its filters — the same for every
/// viewer, so it is rendered once per snapshot and kept; `layout` frames it per viewer.
pub fn dashboard_main(
    page: &Content<'_>,
    d: &Dashboard,
    filters: &Filters,
    options: &Options,
) -> Markup {
    let title = page.locale.pick(&d.title.fr, &d.title.en);
    let briefing = format!(
        "/d/{}/briefing.pdf{}",
        d.id,
        exports::query(filters, page.locale)
    );
    html! {
        h1 { (title) }
        p.lead { (whole_numbers(page.locale.pick(&d.summary.fr, &d.summary.en))) }
        (freshness(page))
        p.briefing {
            a href=(briefing) type="application/pdf" {
                (page.t("Dossier de briefing (PDF)", "Briefing pack (PDF)"))
            }
            " " span { (page.t("– titre, date des données, filtres, graphiques et chiffres clés, note de protection des données et tableau PONAM, prêt à imprimer.", "– title, data date, filters, charts and key figures, data protection note and PONAM table, ready to print.")) }
        }
        @if !d.filters.is_empty() { (filter_form(page, d, filters, options)) }
        @if !filters.is_empty() { p.applied { (page.t("Filtres : ", "Filters: ")) (describe_filters(filters, page.locale)) } }
        div.kpis {
            @let against = filters.against(options);
            @for p in d.panels.iter().filter(|p| p.kind == PanelKind::Kpi) { (kpi(page, d, p, filters, against)) }
        }
        div.panels {
            @for p in d.panels.iter().filter(|p| p.kind != PanelKind::Kpi) {
                @match p.kind {
                    PanelKind::Ponam => (ponam(page, d, p, filters)),
                    PanelKind::Results => (results(page, d, p, filters)),
                    PanelKind::Budget => (super::budget::panel(page, d, p, filters, filters.against(options))),
                    _ => (chart_panel(page, d, p, filters)),
                }
            }
        }
        (what_happened(page, d))
    }
}

/// "Ce qui s'est passé": every note of the dashboard, newest first.
fn what_happened(page: &Content<'_>, d: &Dashboard) -> Markup {
    let listed = notes::what_happened(page.notes, d, page.locale);
    html! {
        @if !listed.is_empty() {
            section.what-happened aria-labelledby="what-happened" {
                h2 #what-happened { (page.t("Ce qui s'est passé", "What happened")) }
                p { (page.t("Ce que les responsables du programme disent des chiffres ci-dessus.", "What the programme leads say about the figures above.")) }
                ul {
                    @for n in &listed {
                        li { (note_text(page, n)) }
                    }
                }
            }
        }
    }
}

/// A note as a line of text: its date or period, the panel it concerns, its text.
fn note_text(page: &Content<'_>, n: &ShownNote) -> Markup {
    html! {
        @if let Some(datetime) = &n.datetime { time datetime=(datetime) { (n.when) } } @else { span.when { (n.when) } }
        @if let Some(panel) = &n.panel { " " span.panel-name { "(" (panel) ")" } }
        (page.t("\u{a0}: ", ": ")) (n.text)
    }
}

/// How fresh the figures are: the latest date of the data and the last load.
fn freshness(page: &Content<'_>) -> Markup {
    let s = page.snapshot;
    html! {
        p.freshness {
            @if let Some(d) = s.data_as_of() {
                (page.t("Données au ", "Data as of ")) strong { (format_date(d, page.locale)) }
            }
            @if let Some(t) = s.last_load_at() {
                " · " (page.t("dernier chargement le ", "last load on ")) (format_date(t.date_naive(), page.locale))
            }
        }
    }
}

fn filter_form(page: &Content<'_>, d: &Dashboard, filters: &Filters, options: &Options) -> Markup {
    let period = filters.period.map(|p| p.code());
    let (place, sex, age) = (
        filters.place.map(|p| p.code()),
        filters.sex.map(|s| s.code()),
        filters.age_band.map(|a| a.code()),
    );
    let selected = |current: Option<&str>, value: &str| current == Some(value);
    let l = page.locale;
    html! {
        form.filters method="get" action={ "/d/" (d.id) } {
            @if l == Locale::En { input type="hidden" name="lang" value="en"; }
            @if d.offers(Filter::Period) {
                label {
                    span { (page.t("Période", "Period")) }
                    select name="period" {
                        @if d.results.is_some() {
                            option value="" { (page.t("Dernier trimestre complet", "Latest complete quarter")) }
                        } @else if d.budget.is_some() {
                            option value="" { (page.t("Tout le projet", "Whole project")) }
                        } @else {
                            option value="" { (page.t("Tout le programme", "Whole programme")) }
                        }
                        @if !options.years.is_empty() {
                            optgroup label=(page.t("Années", "Years")) {
                                @for y in &options.years { option value=(y) selected[selected(period.as_deref(), y)] { (y) } }
                            }
                        }
                        @if !options.quarters.is_empty() {
                            optgroup label=(page.t("Trimestres", "Quarters")) {
                                @for q in &options.quarters { option value=(q) selected[selected(period.as_deref(), q)] { (format_period(q, l)) } }
                            }
                        }
                        @if !options.months.is_empty() {
                            optgroup label=(page.t("Mois", "Months")) {
                                @for m in &options.months { option value=(m) selected[selected(period.as_deref(), m)] { (format_period(m, l)) } }
                            }
                        }
                    }
                }
            }
            @if d.offers(Filter::Period) {
                label {
                    span { (page.t("Comparer à", "Compare with")) }
                    select name="compare" {
                        option value="" { (page.t("Aucune comparaison", "No comparison")) }
                        option value="previous" selected[filters.compare == Some(Compare::Previous)] { (page.t("La période précédente", "The previous period")) }
                        option value="baseline" selected[filters.compare == Some(Compare::Baseline)] { (page.t("La première période (référence)", "The first period (baseline)")) }
                    }
                }
            }
            @if d.offers(Filter::Place) {
                label {
                    span { (page.t("Lieu", "Place")) }
                    select name="place" {
                        option value="" { (page.t("Tout le Mali", "All of Mali")) }
                        optgroup label=(page.t("Régions", "Regions")) {
                            @for r in &options.regions { option value=(r) selected[selected(place, r)] { (labels::value_label(REGION, r, l)) } }
                        }
                        @for r in &options.regions {
                            @let cercles: Vec<&String> = options.cercles.iter().filter(|(reg, _)| reg == r).map(|(_, c)| c).collect();
                            @if !cercles.is_empty() {
                                optgroup label={ (page.t("Cercles – ", "Cercles – ")) (labels::value_label(REGION, r, l)) } {
                                    @for c in cercles { option value=(c) selected[selected(place, c)] { (labels::value_label(CERCLE, c, l)) } }
                                }
                            }
                        }
                    }
                }
            }
            @if d.offers(Filter::Sex) {
                label {
                    span { (page.t("Sexe", "Sex")) }
                    select name="sex" {
                        option value="" { (page.t("Femmes et hommes", "Women and men")) }
                        @for s in Sex::ALL.iter().map(|s| s.code()) { option value=(s) selected[selected(sex, s)] { (labels::value_label(SEX, s, l)) } }
                    }
                }
            }
            @if d.offers(Filter::AgeBand) {
                label {
                    span { (page.t("Âge", "Age")) }
                    select name="age" {
                        option value="" { (page.t("Tous les âges", "All ages")) }
                        @for b in AgeBand::ALL {
                            @let code = b.code();
                            option value=(code) selected[selected(age, code)] { (labels::value_label(AGE_BAND, code, l)) }
                        }
                    }
                }
            }
            @if d.offers(Filter::Currency) {
                label {
                    span { (page.t("Monnaie", "Currency")) }
                    select name="currency" {
                        @let grant = d.budget.as_deref().map_or("USD", |b| b.currency);
                        @for c in Currency::ALL {
                            @let code = c.code();
                            @let chosen = filters.currency.map_or(code == grant, |f| f == *c);
                            option value=(if code == grant { "" } else { code }) selected[chosen] { (labels::value_label(Currency::SET, code, l)) }
                        }
                    }
                }
            }
            button type="submit" { (page.t("Appliquer", "Apply")) }
            a.reset href={ "/d/" (d.id) @if l == Locale::En { "?lang=en" } } { (page.t("Réinitialiser", "Reset")) }
        }
    }
}

fn unavailable_text(page: &Content<'_>, why: &Unavailable) -> String {
    match why {
        Unavailable::NoMeasure => page.t("Ce chiffre n'est pas dans la version publiée.", "This figure is not in the published version.").into(),
        Unavailable::NotPublished => page
            .t(
                "Non publié pour ces filtres : pour protéger les personnes comptées, ce chiffre n'est publié que pour certaines combinaisons. Retirez un filtre pour le voir.",
                "Not published for these filters: to protect the people counted, this figure is published for some combinations only. Remove a filter to see it.",
            )
            .into(),
    }
}

/// The download links of a panel, carrying the page's filters and language: tables
/// always, images for charts and maps.
pub(super) fn export_links(
    page: &Content<'_>,
    d: &Dashboard,
    p: &Panel,
    filters: &Filters,
) -> Markup {
    let query = exports::query(filters, page.locale);
    let href = |format: Format| {
        format!(
            "/d/{}/panels/{}.{}{}",
            d.id,
            p.id,
            format.extension(),
            query
        )
    };
    let title = page.locale.pick(&p.title.fr, &p.title.en);
    let mut links: Vec<(String, &str, String)> = vec![
        (
            href(Format::Csv { semicolon: false }),
            "CSV",
            page.t("CSV, séparateur virgule", "CSV, comma-separated")
                .to_string(),
        ),
        (
            format!("{}&sep=semicolon", href(Format::Csv { semicolon: true })),
            "CSV (;)",
            page.t(
                "CSV pour Excel en français, séparateur point-virgule",
                "CSV for French Excel, semicolon-separated",
            )
            .to_string(),
        ),
        (
            href(Format::Xlsx),
            "XLSX",
            page.t("Classeur Excel", "Excel workbook").to_string(),
        ),
    ];
    if exports::has_image(p) {
        links.push((
            href(Format::Svg),
            "SVG",
            page.t("Image vectorielle", "Vector image").to_string(),
        ));
        links.push((
            href(Format::Png),
            "PNG",
            page.t("Image PNG", "PNG image").to_string(),
        ));
    }
    html! {
        p.exports {
            (page.t("Télécharger : ", "Download: "))
            @for (i, (href, text, what)) in links.iter().enumerate() {
                @if i > 0 { " · " }
                a href=(href) aria-label={ (text) " – " (what) " – " (title) } { (text) }
            }
        }
    }
}

fn kpi(
    page: &Content<'_>,
    d: &Dashboard,
    p: &Panel,
    filters: &Filters,
    against: Option<Period>,
) -> Markup {
    let l = page.locale;
    let result = panels::figures(page.snapshot, p, filters, l);
    html! {
        section.kpi aria-labelledby={ "k-" (p.id) } {
            h2 #{ "k-" (p.id) } { (l.pick(&p.title.fr, &p.title.en)) }
            @match &result {
                Ok(figures) => {
                    @let f = figures.headline();
                    p.value { (f.text(figures.decimals, page.snapshot.threshold(), l)) }
                    @if let Some(a) = against {
                        @let change = panels::change(page.snapshot, p, filters, a, l);
                        p.change { (describe_change(&change, figures.decimals, l)) }
                    }
                    @if let Some(t) = &p.target {
                        @let label = whole_numbers(l.pick(&t.label.fr, &t.label.en));
                        @if let Some(v) = f.value() {
                            @let share = (v / t.value * 100.0).round();
                            p.target {
                                (format_number(share, 0, l)) (if l == Locale::Fr { "\u{a0}%" } else { "%" }) " " (page.t("de l'objectif", "of target")) " (" (label) ")"
                                progress max="100" value=(share.min(100.0)) aria-label=(label) { (share) "%" }
                            }
                        } @else {
                            p.target { (label) }
                        }
                    }
                }
                Err(why) => { p.unavailable { (unavailable_text(page, why)) } }
            }
            p.desc { (whole_numbers(l.pick(&p.description.fr, &p.description.en))) }
            @if result.is_ok() { (export_links(page, d, p, filters)) }
        }
    }
}

fn chart_panel(page: &Content<'_>, d: &Dashboard, p: &Panel, filters: &Filters) -> Markup {
    let l = page.locale;
    let result = panels::figures(page.snapshot, p, filters, l);
    html! {
        figure.panel #{ "p-" (p.id) } {
            figcaption {
                h2 { (l.pick(&p.title.fr, &p.title.en)) }
                p { (whole_numbers(l.pick(&p.description.fr, &p.description.en))) }
            }
            @match &result {
                Ok(figures) if !figures.categories.is_empty() => {
                    @let (marked, marks): (Vec<ShownNote>, Vec<_>) = notes::on_chart(page.notes, d, p, figures, l).into_iter().unzip();
                    (PreEscaped(chart::panel_svg(page.snapshot, l, p, figures, &marks)))
                    @if !marked.is_empty() {
                        ol.chart-notes aria-label=(page.t("Notes du graphique", "Notes on the chart")) {
                            @for n in &marked { li value=(n.number) { (note_text(page, &ShownNote { panel: None, ..n.clone() })) } }
                        }
                    }
                    @if let Some(note) = &p.note { p.note { (whole_numbers(l.pick(&note.fr, &note.en))) } }
                    details {
                        summary { (page.t("Tableau des valeurs", "Table of values")) }
                        (table(page, figures))
                    }
                    (export_links(page, d, p, filters))
                }
                Ok(_) => { p.unavailable { (page.t("Aucune donnée publiée pour ces filtres.", "No figure published for these filters.")) } }
                Err(why) => { p.unavailable { (unavailable_text(page, why)) } }
            }
        }
    }
}

/// The table behind a chart: every published cell it draws.
pub fn table(page: &Content<'_>, figures: &Figures) -> Markup {
    let l = page.locale;
    let threshold = page.snapshot.threshold();
    let category = figures.view.category.as_deref().unwrap_or("");
    html! {
        table {
            thead {
                tr {
                    th scope="col" { (labels::dimension_name(category, l)) }
                    @for (_, name) in &figures.series { th.num scope="col" { (name) } }
                }
            }
            tbody {
                @for (ci, (_, label)) in figures.categories.iter().enumerate() {
                    tr {
                        th scope="row" { (label) }
                        @for f in &figures.figures[ci] {
                            td.num { (f.text(figures.decimals, threshold, l)) }
                        }
                    }
                }
            }
        }
    }
}

fn ponam(page: &Content<'_>, d: &Dashboard, p: &Panel, filters: &Filters) -> Markup {
    let l = page.locale;
    let threshold = page.snapshot.threshold();
    // Narrow screens show each row as a card, each value after its column name.
    let label = |name: &str| match l {
        Locale::Fr => format!("{name}\u{a0}:"),
        Locale::En => format!("{name}:"),
    };
    html! {
        section.panel.wide #{ "p-" (p.id) } {
            h2 { (l.pick(&p.title.fr, &p.title.en)) }
            p { (whole_numbers(l.pick(&p.description.fr, &p.description.en))) }
            table.ponam {
                thead {
                    tr {
                        th scope="col" { (page.t("Indicateur", "Indicator")) }
                        th scope="col" { (page.t("Axe de la PONAM", "PONAM axis")) }
                        th.num scope="col" { (page.t("Valeur publiée", "Published value")) }
                        th.num scope="col" { (page.t("Objectif", "Target")) }
                        th scope="col" { (page.t("Progression", "Progress")) }
                    }
                }
                tbody {
                    @for ind in &p.indicators {
                        @let fixed: Vec<(String, String)> = ind.fixed.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                        @let f = panels::single(page.snapshot, &ind.measure, &fixed);
                        @let axis = d.axes.get(&ind.axis).map_or(ind.axis.as_str(), |a| l.pick(&a.fr, &a.en));
                        tr {
                            th scope="row" { (l.pick(&ind.label.fr, &ind.label.en)) }
                            td data-label=(label(page.t("Axe de la PONAM", "PONAM axis"))) { (axis) }
                            td.num data-label=(label(page.t("Valeur publiée", "Published value"))) { (f.text(0, threshold, l)) }
                            @let progress = ind.target.is_some() && f.value().is_some();
                            td.num.none[ind.target.is_none()] data-label=(label(page.t("Objectif", "Target"))) { @if let Some(t) = ind.target { (format_number(t, 0, l)) } @else { "–" } }
                            td.none[!progress] data-label=(label(page.t("Progression", "Progress"))) {
                                @if let (Some(t), Some(v)) = (ind.target, f.value()) {
                                    @let share = (v / t * 100.0).round();
                                    (format_number(share, 0, l)) (if l == Locale::Fr { "\u{a0}%" } else { "%" }) " "
                                    progress max="100" value=(share.min(100.0)) aria-label=(l.pick(&ind.label.fr, &ind.label.en)) { (share) "%" }
                                } @else { "–" }
                            }
                        }
                    }
                }
            }
            (export_links(page, d, p, filters))
        }
    }
}

/// The results framework as a table: the chain (impact, outcomes, outputs), and for
/// each indicator its baseline, the quarter's value, targets, status in words, a
/// sparkline of its quarters and, on demand, its disaggregations.
fn results(page: &Content<'_>, d: &Dashboard, p: &Panel, filters: &Filters) -> Markup {
    let l = page.locale;
    let Some(f) = d.results.as_deref() else {
        return html! {};
    };
    let snapshot = page.snapshot;
    let threshold = snapshot.threshold();
    let q = framework::quarter(f, filters, snapshot.data_as_of());
    let period = format_period(&q.code(), l);
    let chosen = filters.period.is_some();
    let cell = |name: &str| match l {
        Locale::Fr => format!("{name}\u{a0}:"),
        Locale::En => format!("{name}:"),
    };
    let columns = [
        page.t("Valeur de référence", "Baseline"),
        page.t("Valeur du trimestre", "Value this quarter"),
        page.t("Cible du trimestre", "Target for the quarter"),
        page.t("Cible de fin de projet", "End-of-project target"),
        page.t("État", "Status"),
        page.t("Tendance", "Trend"),
    ];
    let indicator_rows = |indicators: &[crate::definitions::results::ResultIndicator]| {
        html! {
            @for ind in indicators {
                @let row = framework::row(snapshot, f, ind, q, l);
                @let decimals = framework::decimals(snapshot, ind);
                @let number = |v: f64| format_number(v, decimals, l);
                @let text = l.pick(&ind.text.fr, &ind.text.en);
                tr {
                    th scope="row" {
                        span.indicator-id { (ind.id) } " " (text)
                        span.unit { (l.pick(&ind.unit.fr, &ind.unit.en)) }
                        span.source {
                            @if ind.measure.is_none() { strong { (page.t("Enquête (valeurs saisies, pas des comptages des extraits). ", "Survey (values entered, not counts from the extracts). ")) } }
                            (page.t("Vérification : ", "Verification: ")) (l.pick(&ind.verification.fr, &ind.verification.en))
                            " · " (page.t("Axe PONAM : ", "PONAM axis: "))
                            (f.axes.get(&ind.ponam_axis).map_or(ind.ponam_axis.as_str(), |a| l.pick(&a.fr, &a.en)))
                        }
                        @if !row.disaggregations.is_empty() {
                            details.disaggregations {
                                summary { (page.t("Ventilations", "Disaggregations")) span.visually-hidden { " – " (text) } }
                                @for dis in &row.disaggregations {
                                    p {
                                        strong { (labels::dimension_name(&dis.dimension, l)) }
                                        " (" @if dis.of_quarter { (period) } @else { (page.t("ensemble du programme : publié ainsi seulement", "whole programme: published so only")) } ")"
                                    }
                                    ul {
                                        @for (label, figure) in &dis.cells {
                                            li { (label) (page.t("\u{a0}: ", ": ")) (shown(page, *figure, decimals, threshold)) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    td.num data-label=(cell(columns[0])) {
                        (number(ind.baseline.value)) br; span.when { "(" (ind.baseline.date) ")" }
                    }
                    td.num data-label=(cell(columns[1])) { (shown(page, row.value, decimals, threshold)) }
                    td.num data-label=(cell(columns[2])) {
                        @match row.target {
                            Some(t) => {
                                (number(t.value))
                                @if t.pro_rata { br; span.when { (page.t("(prorata de la cible finale)", "(pro rata of the end target)")) } }
                            }
                            None => "–",
                        }
                    }
                    td.num data-label=(cell(columns[3])) {
                        @match ind.end_target() { Some(t) => (number(t)), None => "–" }
                    }
                    td data-label=(cell(columns[4])) {
                        span class={ "status " (row.status.class()) } { (row.status.text(l)) }
                        @if let Some(c) = filters.compare {
                            br; span.change { (framework::change(snapshot, f, ind, q, c, l)) }
                        }
                    }
                    td data-label=(cell(columns[5])) {
                        @let points: Vec<String> = row.trend.iter().map(|(tq, fig)| format!("{} {}", format_period(&tq.code(), l), fig.text(decimals, threshold, l))).collect();
                        @let title = format!("{}{}{}", text, page.t(" – par trimestre : ", " – by quarter: "), points.join(", "));
                        @let values: Vec<Option<f64>> = row.trend.iter().map(|(_, fig)| fig.value()).collect();
                        (PreEscaped(sparkline(&format!("trend-{}", ind.id.replace('.', "-")), &title, &values)))
                    }
                }
            }
        }
    };
    html! {
        section.panel.wide #{ "p-" (p.id) } {
            h2 { (l.pick(&p.title.fr, &p.title.en)) }
            p { (whole_numbers(l.pick(&p.description.fr, &p.description.en))) }
            p.period {
                (page.t("Trimestre : ", "Quarter: ")) strong { (period) }
                @if !chosen { " " (page.t("(dernier trimestre complet des données)", "(latest complete quarter of the data)")) }
                " · " (page.t("projet du ", "project from ")) (format_date(f.project.start, l)) (page.t(" au ", " to ")) (format_date(f.project.end, l))
            }
            p.impact { strong { (page.t("Impact : ", "Impact: ")) } (l.pick(&f.impact.text.fr, &f.impact.text.en)) }
            table.results {
                caption { (l.pick(&p.title.fr, &p.title.en)) " – " (period) }
                thead {
                    tr {
                        th scope="col" { (page.t("Résultat et indicateur", "Result and indicator")) }
                        @for c in &columns[..4] { th.num scope="col" { (c) } }
                        @for c in &columns[4..] { th scope="col" { (c) } }
                    }
                }
                @for (i, o) in f.outcomes.iter().enumerate() {
                    tbody {
                        tr.outcome { th scope="rowgroup" colspan="7" { (page.t("Effet ", "Outcome ")) (i + 1) " (" (o.id) ")" (page.t("\u{a0}: ", ": ")) (l.pick(&o.text.fr, &o.text.en)) } }
                        (indicator_rows(&o.indicators))
                    }
                    @for (j, out) in o.outputs.iter().enumerate() {
                        tbody {
                            tr.output { th scope="rowgroup" colspan="7" { (page.t("Produit ", "Output ")) (i + 1) "." (j + 1) " (" (out.id) ")" (page.t("\u{a0}: ", ": ")) (l.pick(&out.text.fr, &out.text.en)) } }
                            (indicator_rows(&out.indicators))
                        }
                    }
                }
            }
            p.note { (page.t(
                "État : « atteint » quand la valeur atteint la cible du trimestre, « en bonne voie » à partir de ",
                "Status: \"achieved\" when the value reaches the quarter's target, \"on track\" from ",
            )) (format_number(f.status.on_track_from * 100.0, 0, l)) (if l == Locale::Fr { "\u{a0}%" } else { "%" }) (page.t(
                " de la cible, « en retard » en dessous ; « non comparable » sans valeur publiée ou sans cible. Une valeur inférieure au seuil de publication n'est pas publiée (« <",
                " of it, \"behind\" below; \"not comparable\" without a published value or a target. A value below the publication threshold is not published (\"<",
            )) (threshold) (page.t("») et n'est jamais remplacée par un chiffre.", "\") and never replaced by a number.")) }
            (export_links(page, d, p, filters))
        }
    }
}

/// A figure of the results table: a number, or why there is none (never a zero).
fn shown(page: &Content<'_>, figure: Figure, decimals: usize, threshold: u32) -> Markup {
    match figure {
        Figure::Value(v) => html! { (format_number(v, decimals, page.locale)) },
        Figure::Suppressed => html! {
            span.suppressed { "<" (threshold) " · " (page.t("non publié", "not published")) }
        },
        Figure::Missing => html! {
            span.suppressed { "– · " (page.t("pas de valeur", "no value")) }
        },
    }
}
