//! HTML pages (maud): the layout, the index, dashboards and their panels, error pages.
//! Pages need no JavaScript; charts are inline SVG with their table of values behind a
//! `<details>`, and every page carries the disclosure note of the snapshot's policy.

use axum::body::Bytes;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::auth::Viewer;
use super::charts::{self, Chart, ChartKind, Point, Series, Target};
use super::dashboards::{Dashboard, Panel, PanelKind};
use super::exports::{self, Format};
use super::filters::{Filters, Options, place_level};
use super::i18n::{Locale, format_date, format_number, format_period};
use super::labels;
use super::map::{self, MapChart, RegionValue};
use super::panels::{self, Figure, Figures, Unavailable};
use crate::access::Role;
use crate::domain::{AgeBand, Code};
use crate::reference;
use crate::snapshot::Snapshot;

/// What every page needs to know.
pub struct Page<'a> {
    pub snapshot: &'a Snapshot,
    /// The dashboards this viewer may open.
    pub dashboards: Vec<&'a Dashboard>,
    pub viewer: &'a Viewer,
    pub locale: Locale,
    /// The path of this page, for the language switch.
    pub path: &'a str,
    /// The query of this page without `lang`.
    pub filters_query: &'a str,
}

impl Page<'_> {
    fn t<'s>(&self, fr: &'s str, en: &'s str) -> &'s str {
        self.locale.pick(fr, en)
    }

    fn suppressed(&self) -> String {
        format!("<{}", self.snapshot.threshold())
    }
}

pub const STYLESHEET: &str = concat!("/static/app.css?v=", env!("CARGO_PKG_VERSION"));

/// Stand for the content, the viewer's name and their sign-out token while a frame is
/// rendered for later filling. Private-use characters and a comment: no escaped text
/// can contain them.
const CONTENT_MARK: &str = "<!--reintegra:main-->";
const USER_MARK: &str = "\u{e000}user\u{e000}";
const CSRF_MARK: &str = "\u{e000}csrf\u{e000}";

/// The frame of a page for every viewer of the same role (signed in or not), with marks
/// where `fill` puts the content and the viewer's own name and token: it depends on
/// the language, the role, the dashboard and the filters, so it can be kept per
/// snapshot like the content.
pub fn frame(page: &Page<'_>, title: &str, current: Option<&str>) -> String {
    let marked = Viewer {
        user: page.viewer.user.as_ref().map(|_| USER_MARK.to_string()),
        role: page.viewer.role,
        csrf: page.viewer.csrf.as_ref().map(|_| CSRF_MARK.to_string()),
        ..Viewer::anonymous()
    };
    let page = Page {
        snapshot: page.snapshot,
        dashboards: page.dashboards.clone(),
        viewer: &marked,
        locale: page.locale,
        path: page.path,
        filters_query: page.filters_query,
    };
    layout(&page, title, current, PreEscaped(CONTENT_MARK.to_string())).into_string()
}

/// A frame from `frame` filled with rendered content and this viewer's name and token.
pub fn fill(frame: &[u8], content: &[u8], viewer: &Viewer) -> Bytes {
    let frame = std::str::from_utf8(frame).unwrap_or_default();
    let (head, tail) = frame.split_once(CONTENT_MARK).unwrap_or((frame, ""));
    let user = viewer
        .user
        .as_deref()
        .map(|u| html! { (u) }.into_string())
        .unwrap_or_default();
    let head = head.replace(USER_MARK, &user).replace(
        CSRF_MARK,
        &html! { (viewer.csrf.as_deref().unwrap_or("")) }.into_string(),
    );
    let mut body = Vec::with_capacity(head.len() + content.len() + tail.len());
    body.extend_from_slice(head.as_bytes());
    body.extend_from_slice(content);
    body.extend_from_slice(tail.as_bytes());
    Bytes::from(body)
}

/// The frame of every page.
pub fn layout(page: &Page<'_>, title: &str, current: Option<&str>, body: Markup) -> Markup {
    let other = match page.locale {
        Locale::Fr => Locale::En,
        Locale::En => Locale::Fr,
    };
    let switch = if page.filters_query.is_empty() {
        format!("{}?lang={}", page.path, other.code())
    } else {
        format!("{}?lang={}&{}", page.path, other.code(), page.filters_query)
    };
    let lang_query = if page.locale == Locale::En {
        "?lang=en"
    } else {
        ""
    };
    html! {
        (DOCTYPE)
        html lang=(page.locale.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · reintegra" }
                link rel="stylesheet" href=(STYLESHEET);
                // No icon: an empty one spares every first visit a request (and a 404).
                link rel="icon" href="data:,";
            }
            body {
                a.skip href="#main" { (page.t("Aller au contenu", "Skip to content")) }
                header.site {
                    div.brand {
                        a href={ "/" (lang_query) } { "reintegra" }
                        span { (page.t("Réintégration psychosociale des migrants maliens de retour", "Psychosocial reintegration of Malian returned migrants")) }
                    }
                    div.account {
                        @if let Some(user) = &page.viewer.user {
                            span { (page.t("Connecté : ", "Signed in: ")) strong { (user) } " (" (role_name(page.viewer.role, page.locale)) ")" }
                            // A script with a bearer token has no session to end.
                            @if let Some(csrf) = &page.viewer.csrf {
                                form.logout method="post" action="/logout" {
                                    input type="hidden" name="csrf" value=(csrf);
                                    button type="submit" { (page.t("Se déconnecter", "Sign out")) }
                                }
                            }
                        } @else {
                            a href={ "/login?next=" (super::filters::percent(page.path)) } { (page.t("Se connecter", "Sign in")) }
                        }
                        a.lang href=(switch) lang=(other.code()) hreflang=(other.code()) {
                            (match other { Locale::Fr => "Français", Locale::En => "English" })
                        }
                    }
                    nav aria-label=(page.t("Tableaux de bord", "Dashboards")) {
                        ul {
                            @for d in &page.dashboards {
                                li {
                                    @if current == Some(d.id.as_str()) {
                                        a href={ "/d/" (d.id) (lang_query) } aria-current="page" { (page.locale.pick(&d.title.fr, &d.title.en)) }
                                    } @else {
                                        a href={ "/d/" (d.id) (lang_query) } { (page.locale.pick(&d.title.fr, &d.title.en)) }
                                    }
                                }
                            }
                        }
                    }
                }
                main #main { (body) }
                footer.site {
                    p.note { (page.snapshot.note(page.locale.code())) }
                    p {
                        @if let Some(d) = page.snapshot.data_as_of() {
                            (page.t("Données au ", "Data as of ")) (format_date(d, page.locale)) ". "
                        }
                        @if let Some(t) = page.snapshot.last_load_at() {
                            (page.t("Dernier chargement : ", "Last load: ")) (format_date(t.date_naive(), page.locale)) ". "
                        }
                        (page.t("Version publiée ", "Published version ")) code { (page.snapshot.id) } "."
                    }
                    p { (page.t("Chiffres agrégés et protégés issus des extraits anonymisés du programme ; aucune donnée individuelle n'est publiée.", "Aggregated, protected figures from the programme's anonymised extracts; no individual record is published.")) }
                }
            }
        }
    }
}

/// A role as people read it.
pub fn role_name(role: Role, locale: Locale) -> &'static str {
    match role {
        Role::Public => locale.pick("public", "public"),
        Role::Donor => locale.pick("bailleur", "donor"),
        Role::Ministry => locale.pick("ministère", "ministry"),
        Role::Programme => locale.pick("programme", "programme"),
        Role::Admin => locale.pick("administration", "administrator"),
    }
}

/// `/`: every dashboard the visitor may open.
pub fn index(page: &Page<'_>) -> Markup {
    let lang_query = if page.locale == Locale::En {
        "?lang=en"
    } else {
        ""
    };
    let body = html! {
        h1 { (page.t("Tableaux de bord du programme", "Programme dashboards")) }
        @if page.dashboards.is_empty() {
            p { (page.t("Aucun tableau de bord n'est ouvert à votre rôle.", "No dashboard is open to your role.")) }
        }
        p.lead { (page.t(
            "Programme lancé le 27 mars 2019 pour plus de 5\u{202f}000 bénéficiaires à Bamako, Kita et Kayes, avec le Gouvernement du Mali, COOPI et l'UNICEF.",
            "Programme launched on 27 March 2019 for more than 5,000 beneficiaries in Bamako, Kita and Kayes, with the Government of Mali, COOPI and UNICEF.")) }
        ul.cards {
            @for d in &page.dashboards {
                li {
                    h2 { a href={ "/d/" (d.id) (lang_query) } { (page.locale.pick(&d.title.fr, &d.title.en)) } }
                    p { (whole_numbers(page.locale.pick(&d.summary.fr, &d.summary.en))) }
                }
            }
        }
        @if page.viewer.role == crate::access::Role::Admin {
            h2 { (page.t("Administration", "Administration")) }
            ul {
                li { a href={ "/admin/audit" (lang_query) } { (page.t("Journal d'audit", "Audit log")) } }
                li { a href={ "/admin/disclosure" (lang_query) } { (page.t("Contrôle de la divulgation", "Disclosure control")) } }
            }
        }
    };
    layout(page, page.t("Accueil", "Home"), None, body)
}

/// `/d/{id}`: the content of a dashboard under its filters — the same for every
/// viewer, so it is rendered once per snapshot and kept; `layout` frames it per viewer.
pub fn dashboard_main(
    page: &Page<'_>,
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
            @for p in d.panels.iter().filter(|p| p.kind == PanelKind::Kpi) { (kpi(page, d, p, filters)) }
        }
        div.panels {
            @for p in d.panels.iter().filter(|p| p.kind != PanelKind::Kpi) {
                @if p.kind == PanelKind::Ponam { (ponam(page, d, p, filters)) } @else { (chart_panel(page, d, p, filters)) }
            }
        }
    }
}

/// How fresh the figures are: the latest date of the data and the last load.
fn freshness(page: &Page<'_>) -> Markup {
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

/// Text from the dashboard files with its numbers kept whole: a French "5 000" typed
/// with a plain space gets the narrow no-break space `format_number` writes, so a line
/// never breaks between "5" and "000".
pub fn whole_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let digit = |i: usize| chars.get(i).is_some_and(char::is_ascii_digit);
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let group = i > 0
                && digit(i - 1)
                && digit(i + 1)
                && digit(i + 2)
                && digit(i + 3)
                && !digit(i + 4);
            if *c == ' ' && group { '\u{202f}' } else { *c }
        })
        .collect()
}

/// The filters in words: "2018 · Kayes · Women".
pub fn describe_filters(filters: &Filters, locale: Locale) -> String {
    let mut parts = Vec::new();
    if let Some(p) = &filters.period {
        parts.push(format_period(p, locale));
    }
    if let Some(p) = &filters.place {
        let dim = place_level(p).unwrap_or("region");
        parts.push(labels::value_label(dim, p, locale));
    }
    if let Some(s) = &filters.sex {
        parts.push(labels::value_label("sex", s, locale));
    }
    if let Some(a) = &filters.age_band {
        parts.push(labels::value_label("age_band", a, locale));
    }
    parts.join(" · ")
}

fn filter_form(page: &Page<'_>, d: &Dashboard, filters: &Filters, options: &Options) -> Markup {
    let selected = |current: &Option<String>, value: &str| current.as_deref() == Some(value);
    let l = page.locale;
    html! {
        form.filters method="get" action={ "/d/" (d.id) } {
            @if l == Locale::En { input type="hidden" name="lang" value="en"; }
            @if d.offers("period") {
                label {
                    span { (page.t("Période", "Period")) }
                    select name="period" {
                        option value="" { (page.t("Tout le programme", "Whole programme")) }
                        optgroup label=(page.t("Années", "Years")) {
                            @for y in &options.years { option value=(y) selected[selected(&filters.period, y)] { (y) } }
                        }
                        optgroup label=(page.t("Trimestres", "Quarters")) {
                            @for q in &options.quarters { option value=(q) selected[selected(&filters.period, q)] { (format_period(q, l)) } }
                        }
                        optgroup label=(page.t("Mois", "Months")) {
                            @for m in &options.months { option value=(m) selected[selected(&filters.period, m)] { (format_period(m, l)) } }
                        }
                    }
                }
            }
            @if d.offers("place") {
                label {
                    span { (page.t("Lieu", "Place")) }
                    select name="place" {
                        option value="" { (page.t("Tout le Mali", "All of Mali")) }
                        optgroup label=(page.t("Régions", "Regions")) {
                            @for r in &options.regions { option value=(r) selected[selected(&filters.place, r)] { (labels::value_label("region", r, l)) } }
                        }
                        @for r in &options.regions {
                            @let cercles: Vec<&String> = options.cercles.iter().filter(|(reg, _)| reg == r).map(|(_, c)| c).collect();
                            @if !cercles.is_empty() {
                                optgroup label={ (page.t("Cercles – ", "Cercles – ")) (labels::value_label("region", r, l)) } {
                                    @for c in cercles { option value=(c) selected[selected(&filters.place, c)] { (labels::value_label("cercle", c, l)) } }
                                }
                            }
                        }
                    }
                }
            }
            @if d.offers("sex") {
                label {
                    span { (page.t("Sexe", "Sex")) }
                    select name="sex" {
                        option value="" { (page.t("Femmes et hommes", "Women and men")) }
                        @for s in ["F", "M"] { option value=(s) selected[selected(&filters.sex, s)] { (labels::value_label("sex", s, l)) } }
                    }
                }
            }
            @if d.offers("age_band") {
                label {
                    span { (page.t("Âge", "Age")) }
                    select name="age" {
                        option value="" { (page.t("Tous les âges", "All ages")) }
                        @for b in AgeBand::ALL {
                            @let code = b.code();
                            option value=(code) selected[selected(&filters.age_band, code)] { (labels::value_label("age_band", code, l)) }
                        }
                    }
                }
            }
            button type="submit" { (page.t("Appliquer", "Apply")) }
            a.reset href={ "/d/" (d.id) @if l == Locale::En { "?lang=en" } } { (page.t("Réinitialiser", "Reset")) }
        }
    }
}

fn unavailable_text(page: &Page<'_>, why: &Unavailable) -> String {
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
fn export_links(page: &Page<'_>, d: &Dashboard, p: &Panel, filters: &Filters) -> Markup {
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
    if exports::has_image(p.kind) {
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

fn kpi(page: &Page<'_>, d: &Dashboard, p: &Panel, filters: &Filters) -> Markup {
    let l = page.locale;
    let result = panels::figures(page.snapshot, p, filters, l);
    html! {
        section.kpi aria-labelledby={ "k-" (p.id) } {
            h2 #{ "k-" (p.id) } { (l.pick(&p.title.fr, &p.title.en)) }
            @match &result {
                Ok(figures) => {
                    @let f = figures.headline();
                    p.value { (f.text(figures.decimals, page.snapshot.threshold(), l)) }
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

/// Turns a panel's figures into the chart module's series.
pub fn chart_of(
    page_locale: Locale,
    threshold: u32,
    p: &Panel,
    figures: &Figures,
    unit: &str,
) -> Chart {
    let l = page_locale;
    let category = figures.view.category.clone().unwrap_or_default();
    let series = figures
        .series
        .iter()
        .enumerate()
        .map(|(si, (_, name))| Series {
            name: name.clone(),
            points: figures
                .categories
                .iter()
                .enumerate()
                .filter(|(ci, _)| {
                    figures.figures[*ci][si] != Figure::Missing || figures.series.len() > 1
                })
                .map(|(ci, (code, name))| Point {
                    key: code.clone(),
                    // Sites are labelled from the snapshot's register, already in the figures.
                    label: if category == "site" {
                        name.clone()
                    } else {
                        labels::axis_label(&category, code, l)
                    },
                    value: figures.figures[ci][si].value(),
                })
                .collect(),
        })
        .collect();
    Chart {
        id: String::new(),
        kind: match p.kind {
            PanelKind::Line => ChartKind::Line,
            // A filter on the series (e.g. sex) leaves one side: plain bars then.
            PanelKind::Pyramid if figures.series.len() == 2 => ChartKind::Pyramid,
            _ => ChartKind::Bars,
        },
        title: l.pick(&p.title.fr, &p.title.en).to_string(),
        description: l.pick(&p.description.fr, &p.description.en).to_string(),
        series,
        target: p.target.as_ref().map(|t| Target {
            value: t.value,
            label: l.pick(&t.label.fr, &t.label.en).to_string(),
        }),
        unit: unit.to_string(),
        decimals: figures.decimals,
        suppressed_label: format!("<{threshold}"),
        locale: l,
        width: CHART_WIDTH,
    }
}

/// Width of the drawing of every chart, in px of its viewBox. Charts scale to their
/// panel: about 530 px wide in the two columns of a desktop, 350 px on a phone. Drawn
/// at 440, their 13 px labels read at 16 px on a desktop and 10 px on a phone (at 640
/// they were 11 and 7 px, too small to read on a phone).
pub const CHART_WIDTH: u32 = 440;

/// The inline SVG of a chart panel (map or chart).
pub fn panel_svg(page: &Page<'_>, p: &Panel, figures: &Figures) -> String {
    let l = page.locale;
    let unit = p
        .measure
        .as_deref()
        .and_then(|m| page.snapshot.measure(m))
        .map_or(String::new(), |m| {
            l.pick(&m.unit.fr, &m.unit.en).to_string()
        });
    if p.kind == PanelKind::Map && map::available() {
        let regions: Vec<RegionValue> = figures
            .categories
            .iter()
            .zip(&figures.figures)
            .map(|((code, label), row)| RegionValue {
                pcode: code.clone(),
                name: label.clone(),
                value: row.first().and_then(|f| f.value()),
                suppressed: row.first() == Some(&Figure::Suppressed),
            })
            .collect();
        let title = l.pick(&p.title.fr, &p.title.en);
        let description = l.pick(&p.description.fr, &p.description.en);
        return map::render(&MapChart {
            id: &format!("c-{}", p.id),
            title,
            description,
            regions: &regions,
            suppressed_label: &page.suppressed(),
            highlight: figures.view.highlight.as_deref(),
            locale: l,
        });
    }
    let mut chart = chart_of(l, page.snapshot.threshold(), p, figures, &unit);
    chart.id = format!("c-{}", p.id);
    charts::render(&chart).unwrap_or_default()
}

fn chart_panel(page: &Page<'_>, d: &Dashboard, p: &Panel, filters: &Filters) -> Markup {
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
                    (PreEscaped(panel_svg(page, p, figures)))
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
pub fn table(page: &Page<'_>, figures: &Figures) -> Markup {
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

fn ponam(page: &Page<'_>, d: &Dashboard, p: &Panel, filters: &Filters) -> Markup {
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

/// A page for a request that cannot be answered: what was wrong and what is allowed.
pub fn error_page(page: &Page<'_>, status: u16, heading: &str, detail: &str) -> Markup {
    let lang_query = if page.locale == Locale::En {
        "?lang=en"
    } else {
        ""
    };
    let body = html! {
        h1 { (heading) }
        p { (detail) }
        p { a href={ "/" (lang_query) } { (page.t("Retour à l'accueil", "Back to the home page")) } }
        p.code { (page.t("Code ", "Status ")) (status) }
    };
    layout(page, heading, None, body)
}

/// Region names for the map and labels.
pub fn region_name(code: &str, locale: Locale) -> String {
    reference::places()
        .region(code)
        .map_or(code.to_string(), |r| {
            locale.pick(&r.name.fr, &r.name.en).to_string()
        })
}

#[cfg(test)]
mod tests {
    use super::whole_numbers;

    #[test]
    fn numbers_typed_with_a_space_stay_whole() {
        assert_eq!(
            whole_numbers("l'objectif de 5 000 bénéficiaires"),
            "l'objectif de 5\u{202f}000 bénéficiaires"
        );
        assert_eq!(
            whole_numbers("1 283 573 personnes"),
            "1\u{202f}283\u{202f}573 personnes"
        );
        assert_eq!(
            whole_numbers("le 27 mars 2019 à Kita"),
            "le 27 mars 2019 à Kita"
        );
        assert_eq!(whole_numbers("12 0000 et 12 00"), "12 0000 et 12 00");
        assert_eq!(whole_numbers("Target: 5,000"), "Target: 5,000");
    }
}
