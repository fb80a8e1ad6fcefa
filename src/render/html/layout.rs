//! The frame of every page: the header (site name, account, language switch,
//! navigation among the dashboards the viewer may open), the main content, and the
//! footer with the disclosure note and the dates of the data.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::{Page, STYLESHEET, lang_query};
use crate::access::Viewer;
use crate::present::filters::percent;
use crate::present::i18n::{Locale, format_date};
use crate::present::text::role_name;

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
        programme: page.programme,
        viewer: &marked,
        locale: page.locale,
        path: page.path,
        filters_query: page.filters_query,
    };
    layout(&page, title, current, PreEscaped(CONTENT_MARK.to_string())).into_string()
}

/// A frame from `frame` filled with rendered content and this viewer's name and token.
pub fn fill(frame: &[u8], content: &[u8], viewer: &Viewer) -> Vec<u8> {
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
    body
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
    let lang_query = lang_query(page.locale);
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
                        @if let Some(t) = &page.programme.tagline { span { (page.t(&t.fr, &t.en)) } }
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
                            a href={ "/login?next=" (percent(page.path)) } { (page.t("Se connecter", "Sign in")) }
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
                    p { a href={ "/open/" (lang_query) } { (page.t("Données ouvertes (CSV HXL, paquet de données Frictionless)", "Open data (HXL CSV, Frictionless data package)")) } }
                }
            }
        }
    }
}
