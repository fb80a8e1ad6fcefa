//! The page of a request that cannot be answered: what was wrong and what is allowed,
//! in the frame of every page when a snapshot is being served, bare otherwise.

use maud::html;

use super::layout::layout;
use super::{Page, lang_query};
use crate::access::Viewer;
use crate::definitions::Programme;
use crate::present::i18n::Locale;
use crate::present::problem::Told;
use crate::snapshot::Snapshot;

/// The error page. It shows no navigation and no account: it is the same for everyone.
pub fn page(
    snapshot: Option<&Snapshot>,
    programme: &Programme,
    locale: Locale,
    told: &Told,
) -> String {
    let Some(snapshot) = snapshot else {
        return bare(locale, told);
    };
    let anonymous = Viewer::anonymous();
    let page = Page {
        snapshot,
        dashboards: Vec::new(),
        programme,
        viewer: &anonymous,
        locale,
        path: "/",
        filters_query: "",
    };
    let body = html! {
        h1 { (told.heading) }
        p { (told.detail) }
        p { a href={ "/" (lang_query(locale)) } { (page.t("Retour à l'accueil", "Back to the home page")) } }
        p.code { (page.t("Code ", "Status ")) (told.status) }
    };
    layout(&page, &told.heading, None, body).into_string()
}

/// Before any snapshot: the heading and the explanation alone.
fn bare(locale: Locale, told: &Told) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{heading}</title></head><body><h1>{heading}</h1><p>{detail}</p></body></html>",
        lang = locale.code(),
        heading = html!((told.heading)).into_string(),
        detail = html!((told.detail)).into_string(),
    )
}
