//! The panels of a budget dashboard (`kind = "budget"`): headline figures (spent,
//! planned, execution rate, costs per person), spent against planned per budget line,
//! cumulative spending against the plan, and spending per output — each chart with its
//! table of values and its downloads, in the currency the page is set to.

use maud::{Markup, PreEscaped, html};

use super::dashboard::{Content, export_links};
use crate::definitions::dashboard::BudgetView;
use crate::definitions::{Dashboard, Panel};
use crate::present::budget::{Cell, Cost, Execution, Grid, Money, amount};
use crate::present::charts;
use crate::present::filters::{Filters, Period};
use crate::present::i18n::{format_number, format_period};
use crate::present::panels::Change;
use crate::present::text::{describe_change, whole_numbers};

/// A budget panel under the page's filters (`against`: the period compared with).
pub fn panel(
    page: &Content<'_>,
    d: &Dashboard,
    p: &Panel,
    filters: &Filters,
    against: Option<Period>,
) -> Markup {
    let l = page.locale;
    let (Some(budget), Some(view)) = (d.budget.as_deref(), p.show) else {
        return html! {};
    };
    let execution = Execution::of(page.snapshot, budget, filters, l);
    let title = l.pick(&p.title.fr, &p.title.en);
    let description = whole_numbers(l.pick(&p.description.fr, &p.description.en));
    if view == BudgetView::Summary {
        let previous = against.map(|a| {
            let then = Filters {
                period: Some(a),
                ..*filters
            };
            (a, Execution::of(page.snapshot, budget, &then, l))
        });
        return summary(page, d, p, filters, &execution, previous.as_ref());
    }
    let chart = execution.chart(view, title, &description, l).map(|mut c| {
        c.id = format!("c-{}", p.id);
        charts::render(&c).unwrap_or_default()
    });
    html! {
        figure.panel.wide[view == BudgetView::Lines] #{ "p-" (p.id) } {
            figcaption {
                h2 { (title) }
                p { (description) }
            }
            @if let Some(svg) = chart { (PreEscaped(svg)) }
            @if let Some(note) = &p.note { p.note { (whole_numbers(l.pick(&note.fr, &note.en))) } }
            details open[view == BudgetView::Lines] {
                summary { (page.t("Tableau des valeurs", "Table of values")) }
                (grid(page, &execution.grid(view, l)))
            }
            (export_links(page, d, p, filters))
        }
    }
}

/// The headline figures of the period, as cards.
fn summary(
    page: &Content<'_>,
    d: &Dashboard,
    p: &Panel,
    filters: &Filters,
    e: &Execution,
    previous: Option<&(Period, Execution)>,
) -> Markup {
    let l = page.locale;
    let money = |v: f64| amount(v, e.currency, l);
    let pct = |v: f64| format!("{}{}", format_number(v, 0, l), l.pick("\u{a0}%", "%"));
    let period = match e.period {
        Some(p) => format_period(&p.code(), l),
        None => l
            .pick("depuis le début du projet", "since the project began")
            .into(),
    };
    let not_published = page.t("non publié", "not published");
    let change = previous.map(|(a, before)| match (e.spent, before.spent) {
        (Money::Known(current), Money::Known(previous)) => describe_change(
            &Change::Delta {
                against: *a,
                current,
                previous,
            },
            0,
            l,
        ),
        _ => describe_change(&Change::NotComparable { against: *a }, 0, l),
    });
    html! {
        section.panel.wide.budget-summary #{ "p-" (p.id) } aria-labelledby={ "h-" (p.id) } {
            h2 #{ "h-" (p.id) } { (l.pick(&p.title.fr, &p.title.en)) }
            p { (whole_numbers(l.pick(&p.description.fr, &p.description.en))) }
            div.kpis {
                section.kpi {
                    h3 { (page.t("Dépensé", "Spent")) " · " (period) }
                    p.value { @match e.spent.value() { Some(v) => (money(v)), None => (not_published) } }
                    @if let Some(c) = &change { p.change { (c) } }
                }
                section.kpi {
                    h3 { (page.t("Prévu", "Planned")) " · " (period) }
                    p.value { (money(e.planned)) }
                    p.desc { (page.t("Budget total de la subvention : ", "Grant's total budget: ")) (money(e.total)) }
                }
                section.kpi {
                    h3 { (page.t("Taux d'exécution", "Execution rate")) }
                    @match e.rate() {
                        Some(r) => {
                            p.value { (pct(r)) }
                            progress max="100" value=(r.clamp(0.0, 100.0).round()) aria-label=(page.t("Taux d'exécution", "Execution rate")) { (pct(r)) }
                            p.desc {
                                (page.t("des montants prévus pour la période", "of the amounts planned for the period"))
                                @if let Some(t) = e.rate_of_total().filter(|_| e.period.is_some()) {
                                    " · " (pct(t)) (page.t(" du budget total", " of the total budget"))
                                }
                            }
                        }
                        None => { p.value { "–" } p.desc { (page.t("Rien n'était prévu pour la période.", "Nothing was planned for the period.")) } }
                    }
                }
                (cost_card(page, e, e.per_beneficiary,
                    page.t("Coût par bénéficiaire unique", "Cost per unique beneficiary"),
                    page.t("Dépenses de la période divisées par le nombre publié de bénéficiaires uniques de la période", "The period's spending divided by the published number of unique beneficiaries of the period")))
                (cost_card(page, e, e.per_trainee,
                    page.t("Coût de formation par professionnel formé", "Training cost per professional trained"),
                    page.t("Dépenses de la ligne « Formations » de la période divisées par le nombre publié de professionnels formés de la période", "The period's spending on the Training line divided by the published number of professionals trained in the period")))
            }
            details {
                summary { (page.t("Tableau des valeurs", "Table of values")) }
                (grid(page, &e.grid(BudgetView::Summary, l)))
            }
            (export_links(page, d, p, filters))
        }
    }
}

fn cost_card(page: &Content<'_>, e: &Execution, cost: Cost, title: &str, how: &str) -> Markup {
    let l = page.locale;
    html! {
        section.kpi {
            h3 { (title) }
            @match cost {
                Cost::Per { cost, people, .. } => {
                    p.value { (amount(cost, e.currency, l)) }
                    p.desc { (how) " (" (format_number(people, 0, l)) ")." }
                }
                Cost::NotPublished => {
                    p.value { (page.t("non calculable", "not computable")) }
                    p.desc { (how) (page.t(" : ce nombre n'est pas publié pour cette période (moins de 10 personnes, ou non publié), donc aucun coût n'est calculé.", ": that number is not published for this period (fewer than 10 people, or not published), so no cost is computed.")) }
                }
                Cost::Nobody => {
                    p.value { "–" }
                    p.desc { (page.t("Personne n'a été compté pour cette période.", "Nobody was counted in this period.")) }
                }
            }
        }
    }
}

/// A budget view's table.
fn grid(page: &Content<'_>, g: &Grid) -> Markup {
    let l = page.locale;
    let text = |c: &Cell, decimals: Option<usize>| match c {
        Cell::Text(t) => t.clone(),
        Cell::Number(v) => format_number(*v, decimals.unwrap_or(0), l),
        Cell::NotPublished => page.t("non publié", "not published").to_string(),
        Cell::None => "–".to_string(),
    };
    html! {
        table.budget {
            thead {
                tr {
                    @for (i, c) in g.columns.iter().enumerate() {
                        @if i == 0 { th scope="col" { (c.name) } } @else { th.num[c.decimals.is_some()] scope="col" { (c.name) } }
                    }
                }
            }
            tbody {
                @for row in &g.rows {
                    tr {
                        @for (i, (c, col)) in row.iter().zip(&g.columns).enumerate() {
                            @if i == 0 { th scope="row" { (text(c, col.decimals)) } } @else { td.num[col.decimals.is_some()] { (text(c, col.decimals)) } }
                        }
                    }
                }
            }
        }
    }
}
