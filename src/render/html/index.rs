//! `/`: the programme in a paragraph and every dashboard the visitor may open (and,
//! for administrators, the administration pages).

use maud::{Markup, html};

use super::layout::layout;
use super::{Page, lang_query};
use crate::access::Role;
use crate::present::text::whole_numbers;

/// `/`: every dashboard the visitor may open.
pub fn index(page: &Page<'_>) -> Markup {
    let lang_query = lang_query(page.locale);
    let body = html! {
        h1 { (page.t("Tableaux de bord du programme", "Programme dashboards")) }
        @if page.dashboards.is_empty() {
            p { (page.t("Aucun tableau de bord n'est ouvert à votre rôle.", "No dashboard is open to your role.")) }
        }
        @if let Some(lead) = &page.programme.lead { p.lead { (whole_numbers(page.t(&lead.fr, &lead.en))) } }
        ul.cards {
            @for d in &page.dashboards {
                li {
                    h2 { a href={ "/d/" (d.id) (lang_query) } { (page.locale.pick(&d.title.fr, &d.title.en)) } }
                    p { (whole_numbers(page.locale.pick(&d.summary.fr, &d.summary.en))) }
                }
            }
        }
        @if matches!(page.viewer.role, Role::Programme | Role::Admin) {
            h2 { (page.t("Suivi du programme", "Programme operations")) }
            ul {
                li { a href={ "/deliveries" (lang_query) } { (page.t("Livraisons des extraits", "Extract deliveries")) } }
                @if page.viewer.role == Role::Admin {
                    li { a href={ "/admin/audit" (lang_query) } { (page.t("Journal d'audit", "Audit log")) } }
                    li { a href={ "/admin/disclosure" (lang_query) } { (page.t("Contrôle de la divulgation", "Disclosure control")) } }
                }
            }
        }
    };
    layout(page, page.t("Accueil", "Home"), None, body)
}
