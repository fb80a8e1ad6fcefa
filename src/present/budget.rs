//! Budget execution: the grant's budget (`_budget.toml`) against the published
//! spending, in the currency the reader chose — per budget line, over time, per output —
//! and costs per person helped.
//!
//! Money comes from the `spending` measure's published cells (by month, so that each
//! month converts at its own rate); people from the published, protected counts of
//! `beneficiaries` and `trainees`. Nothing here reads a row: a cost per person divides
//! a published sum by a published count, and a count that is not published gives no
//! cost. Planned amounts come from the budget file only.

use std::collections::BTreeMap;

use super::charts::{Chart, ChartKind, Point, Series, Target};
use super::filters::{Filters, Period};
use super::i18n::{Locale, format_number, format_period};
use super::labels;
use super::panels::Figure;
use crate::definitions::Budget;
use crate::definitions::dashboard::BudgetView;
use crate::domain::{Code, Currency, Month};
use crate::snapshot::Snapshot;

/// The output dimension of the spending measure.
const OUTPUT: &str = "output";
const BUDGET_LINE: &str = "budget_line";
const MONTH: &str = "month";

/// The money of a period that has no published spending cell for a needed month is
/// unknown, never zero: a month absent from the snapshot is a month without spending,
/// a suppressed one would be a month nobody may read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Money {
    Known(f64),
    NotPublished,
}

impl Money {
    pub fn value(self) -> Option<f64> {
        match self {
            Money::Known(v) => Some(v),
            Money::NotPublished => None,
        }
    }
}

/// One budget line for the period.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub code: String,
    pub name: String,
    pub planned: f64,
    pub spent: Money,
}

/// A cost per person: money divided by a published count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cost {
    Per {
        money: f64,
        people: f64,
        cost: f64,
    },
    /// The count is not published (held below the threshold or for these filters),
    /// or no money is: no cost is shown.
    NotPublished,
    /// Nobody was counted: a cost per person means nothing.
    Nobody,
}

/// One month of the burn chart: spending and plan since the project began.
#[derive(Debug, Clone, PartialEq)]
pub struct Burn {
    pub month: String,
    /// None after the last month with published spending.
    pub spent: Option<f64>,
    pub planned: f64,
}

/// Budget execution for a period (a quarter of the grant, or the whole project).
#[derive(Debug, Clone, PartialEq)]
pub struct Execution {
    /// The currency every amount is in.
    pub currency: &'static str,
    pub period: Option<Period>,
    /// The grant's total (converted).
    pub total: f64,
    pub lines: Vec<Line>,
    /// Planned for the period (all lines).
    pub planned: f64,
    pub spent: Money,
    /// Spending per output, largest first.
    pub outputs: Vec<(String, String, Money)>,
    /// Month by month from the project's start to the period's end.
    pub burn: Vec<Burn>,
    pub per_beneficiary: Cost,
    pub per_trainee: Cost,
    /// The budget line whose spending is divided by the professionals trained.
    pub training_line: Option<String>,
}

impl Execution {
    /// Execution under `filters` (their period and currency).
    pub fn of(
        snapshot: &Snapshot,
        budget: &Budget,
        filters: &Filters,
        locale: Locale,
    ) -> Execution {
        let currency = filters
            .currency
            .map_or(budget.currency, |c: Currency| c.code());
        let months = project_months(budget);
        let in_period: Vec<Month> = months
            .iter()
            .copied()
            .filter(|m| filters.period.is_none_or(|p| p.contains(period_of(*m))))
            .collect();
        let through = in_period.last().copied();
        let to_date: Vec<Month> = months
            .iter()
            .copied()
            .filter(|m| through.is_some_and(|t| *m <= t))
            .collect();
        // Spending cells by month (and by line, by output), in the grant's currency.
        let by_month = month_cells(snapshot, &[MONTH]);
        let by_line = month_cells(snapshot, &[MONTH, BUDGET_LINE]);
        let by_output = month_cells(snapshot, &[MONTH, OUTPUT]);
        let convert = |m: Month, amount: f64| {
            budget
                .rate(m, currency)
                .filter(|r| *r > 0.0)
                .map(|r| amount / r)
        };
        // The sum over `months` of the cells with the given key, converted.
        let sum = |cells: &Option<Cells>, key: &str, months: &[Month]| -> Money {
            let Some(cells) = cells else {
                return Money::NotPublished;
            };
            let mut total = 0.0;
            for m in months {
                match cells.get(&(m.to_string(), key.to_string())) {
                    None => {}
                    Some(Figure::Value(v)) => match convert(*m, *v) {
                        Some(v) => total += v,
                        None => return Money::NotPublished,
                    },
                    Some(_) => return Money::NotPublished,
                }
            }
            Money::Known(total)
        };
        let planned_of = |line: &crate::definitions::budget::BudgetLine, months: &[Month]| {
            months
                .iter()
                .map(|m| planned_in_month(budget, line, *m, currency))
                .sum::<f64>()
        };
        let lines: Vec<Line> = budget
            .lines
            .iter()
            .map(|l| Line {
                code: l.code.clone(),
                name: labels::value_label(BUDGET_LINE, &l.code, locale),
                planned: planned_of(l, &in_period),
                spent: sum(&by_line, &l.code, &in_period),
            })
            .collect();
        let planned = lines.iter().map(|l| l.planned).sum();
        let spent = sum(&by_month, "", &in_period);
        let total = budget.lines.iter().map(|l| planned_of(l, &months)).sum();

        let mut outputs: Vec<(String, String, Money)> = by_output
            .as_ref()
            .map(|cells| {
                let mut codes: Vec<String> = cells.keys().map(|(_, o)| o.clone()).collect();
                codes.sort();
                codes.dedup();
                codes
            })
            .unwrap_or_default()
            .into_iter()
            .map(|o| {
                let money = sum(&by_output, &o, &in_period);
                (o.clone(), labels::value_label(OUTPUT, &o, locale), money)
            })
            .filter(|(_, _, m)| *m != Money::Known(0.0))
            .collect();
        outputs.sort_by(|a, b| {
            let v = |m: Money| m.value().unwrap_or(f64::NEG_INFINITY);
            v(b.2).total_cmp(&v(a.2)).then(a.1.cmp(&b.1))
        });

        let last_spent = by_month
            .as_ref()
            .and_then(|cells| cells.keys().map(|(m, _)| m.clone()).max());
        let mut burn = Vec::new();
        let (mut spent_so_far, mut planned_so_far) = (Some(0.0), 0.0);
        for m in &to_date {
            planned_so_far += budget
                .lines
                .iter()
                .map(|l| planned_in_month(budget, l, *m, currency))
                .sum::<f64>();
            spent_so_far = match (spent_so_far, sum(&by_month, "", &[*m])) {
                (Some(s), Money::Known(v)) => Some(s + v),
                _ => None,
            };
            let code = m.to_string();
            let shown = last_spent.as_ref().is_some_and(|l| code <= *l);
            burn.push(Burn {
                month: code,
                spent: spent_so_far.filter(|_| shown),
                planned: planned_so_far,
            });
        }

        let people = |measure: &str| -> Figure {
            match filters.period {
                None => super::panels::single(snapshot, measure, &[]),
                Some(p) => {
                    super::panels::single(snapshot, measure, &[(p.level().into(), p.code())])
                }
            }
        };
        let cost = |money: Money, people: Figure| match (money, people) {
            (Money::Known(money), Figure::Value(people)) if people > 0.0 => Cost::Per {
                money,
                people,
                cost: money / people,
            },
            (Money::Known(_), Figure::Value(_)) => Cost::Nobody,
            _ => Cost::NotPublished,
        };
        let training_line = budget
            .lines
            .iter()
            .find(|l| l.code == "training")
            .map(|l| l.code.clone());
        let training_money = training_line
            .as_ref()
            .and_then(|code| lines.iter().find(|l| &l.code == code))
            .map_or(Money::NotPublished, |l| l.spent);
        Execution {
            currency,
            period: filters.period,
            total,
            planned,
            spent,
            per_beneficiary: cost(spent, people("beneficiaries")),
            per_trainee: cost(training_money, people("trainees")),
            training_line,
            lines,
            outputs,
            burn,
        }
    }

    /// Spent as a share of planned, in per cent (none without a plan or a sum).
    pub fn rate(&self) -> Option<f64> {
        rate(self.spent, self.planned)
    }

    /// Spent as a share of the grant's total, in per cent.
    pub fn rate_of_total(&self) -> Option<f64> {
        rate(self.spent, self.total)
    }

    /// The table a view shows (and its exports hold).
    pub fn grid(&self, view: BudgetView, locale: Locale) -> Grid {
        let l = locale;
        let money = |name: &str| GridColumn {
            name: format!("{name} ({})", self.currency),
            decimals: Some(0),
        };
        let percent = |name: &str| GridColumn {
            name: format!("{name} (%)"),
            decimals: Some(1),
        };
        let text = |name: &str| GridColumn {
            name: name.to_string(),
            decimals: None,
        };
        let m = |v: Money| v.value().map_or(Cell::NotPublished, Cell::Number);
        let r = |v: Option<f64>| v.map_or(Cell::None, Cell::Number);
        match view {
            BudgetView::Summary => {
                let unit = |u: &str| Cell::Text(u.to_string());
                let pct = if l == Locale::Fr { "\u{a0}%" } else { "%" };
                let people = |c: Cost| match c {
                    Cost::Per { people, .. } => Cell::Number(people),
                    Cost::Nobody => Cell::Number(0.0),
                    Cost::NotPublished => Cell::NotPublished,
                };
                let cost = |c: Cost| match c {
                    Cost::Per { cost, .. } => Cell::Number(cost),
                    Cost::Nobody => Cell::None,
                    Cost::NotPublished => Cell::NotPublished,
                };
                let row =
                    |name: &str, value: Cell, u: Cell| vec![Cell::Text(name.to_string()), value, u];
                let per = l.pick("par personne", "per person");
                Grid {
                    columns: vec![
                        text(l.pick("Chiffre", "Figure")),
                        GridColumn {
                            name: l.pick("Valeur", "Value").into(),
                            decimals: Some(0),
                        },
                        text(l.pick("Unité", "Unit")),
                    ],
                    rows: vec![
                        row(
                            l.pick("Dépensé", "Spent"),
                            m(self.spent),
                            unit(self.currency),
                        ),
                        row(
                            l.pick("Prévu", "Planned"),
                            Cell::Number(self.planned),
                            unit(self.currency),
                        ),
                        row(
                            l.pick("Taux d'exécution", "Execution rate"),
                            r(self.rate()),
                            unit(pct.trim()),
                        ),
                        row(
                            l.pick("Budget total de la subvention", "Grant's total budget"),
                            Cell::Number(self.total),
                            unit(self.currency),
                        ),
                        row(
                            l.pick(
                                "Bénéficiaires uniques (chiffre publié)",
                                "Unique beneficiaries (published figure)",
                            ),
                            people(self.per_beneficiary),
                            unit(l.pick("personnes", "people")),
                        ),
                        row(
                            l.pick(
                                "Coût par bénéficiaire unique",
                                "Cost per unique beneficiary",
                            ),
                            cost(self.per_beneficiary),
                            Cell::Text(format!("{} {per}", self.currency)),
                        ),
                        row(
                            l.pick(
                                "Professionnels formés (chiffre publié)",
                                "Professionals trained (published figure)",
                            ),
                            people(self.per_trainee),
                            unit(l.pick("personnes", "people")),
                        ),
                        row(
                            l.pick(
                                "Coût de la formation par professionnel formé",
                                "Training cost per professional trained",
                            ),
                            cost(self.per_trainee),
                            Cell::Text(format!("{} {per}", self.currency)),
                        ),
                    ],
                }
            }
            BudgetView::Lines => {
                let mut rows: Vec<Vec<Cell>> = self
                    .lines
                    .iter()
                    .map(|line| {
                        vec![
                            Cell::Text(line.name.clone()),
                            Cell::Number(line.planned),
                            m(line.spent),
                            r(rate(line.spent, line.planned)),
                        ]
                    })
                    .collect();
                rows.push(vec![
                    Cell::Text(l.pick("Total", "Total").into()),
                    Cell::Number(self.planned),
                    m(self.spent),
                    r(self.rate()),
                ]);
                Grid {
                    columns: vec![
                        text(l.pick("Ligne budgétaire", "Budget line")),
                        money(l.pick("Prévu", "Planned")),
                        money(l.pick("Dépensé", "Spent")),
                        percent(l.pick("Exécution", "Execution")),
                    ],
                    rows,
                }
            }
            BudgetView::Burn => Grid {
                columns: vec![
                    text(l.pick("Mois", "Month")),
                    money(l.pick("Dépensé, cumulé", "Spent, cumulative")),
                    money(l.pick("Prévu, cumulé", "Planned, cumulative")),
                    percent(l.pick("Exécution", "Execution")),
                ],
                rows: self
                    .burn
                    .iter()
                    .map(|b| {
                        vec![
                            Cell::Text(format_period(&b.month, l)),
                            b.spent.map_or(Cell::None, Cell::Number),
                            Cell::Number(b.planned),
                            r(b.spent.and_then(|s| rate(Money::Known(s), b.planned))),
                        ]
                    })
                    .collect(),
            },
            BudgetView::Outputs => {
                let known: f64 = self.outputs.iter().filter_map(|(_, _, m)| m.value()).sum();
                Grid {
                    columns: vec![
                        text(l.pick("Produit", "Output")),
                        money(l.pick("Dépensé", "Spent")),
                        percent(l.pick("Part des dépenses", "Share of spending")),
                    ],
                    rows: self
                        .outputs
                        .iter()
                        .map(|(_, name, money)| {
                            vec![
                                Cell::Text(name.clone()),
                                m(*money),
                                r(money
                                    .value()
                                    .filter(|_| known > 0.0)
                                    .map(|v| v / known * 100.0)),
                            ]
                        })
                        .collect(),
                }
            }
        }
    }

    /// The chart a view draws (the summary draws none).
    pub fn chart(
        &self,
        view: BudgetView,
        title: &str,
        description: &str,
        locale: Locale,
    ) -> Option<Chart> {
        let l = locale;
        let point = |key: &str, label: String, value: Option<f64>| Point {
            key: key.to_string(),
            label,
            value,
        };
        let (kind, series, target) = match view {
            BudgetView::Summary => return None,
            BudgetView::Lines => (
                ChartKind::Bars,
                vec![
                    Series {
                        name: l.pick("Prévu", "Planned").into(),
                        points: self
                            .lines
                            .iter()
                            .map(|x| point(&x.code, x.name.clone(), Some(x.planned)))
                            .collect(),
                    },
                    Series {
                        name: l.pick("Dépensé", "Spent").into(),
                        points: self
                            .lines
                            .iter()
                            .map(|x| point(&x.code, x.name.clone(), x.spent.value()))
                            .collect(),
                    },
                ],
                None,
            ),
            BudgetView::Burn => (
                ChartKind::Line,
                vec![
                    Series {
                        name: l.pick("Dépensé", "Spent").into(),
                        points: self
                            .burn
                            .iter()
                            .filter(|b| b.spent.is_some())
                            .map(|b| {
                                point(&b.month, labels::axis_label(MONTH, &b.month, l), b.spent)
                            })
                            .collect(),
                    },
                    Series {
                        name: l.pick("Prévu", "Planned").into(),
                        points: self
                            .burn
                            .iter()
                            .map(|b| {
                                point(
                                    &b.month,
                                    labels::axis_label(MONTH, &b.month, l),
                                    Some(b.planned),
                                )
                            })
                            .collect(),
                    },
                ],
                Some(Target {
                    value: self.total,
                    label: format!(
                        "{} {}",
                        l.pick("Budget total", "Total budget"),
                        amount(self.total, self.currency, l)
                    ),
                }),
            ),
            BudgetView::Outputs => (
                ChartKind::Bars,
                vec![Series {
                    name: l.pick("Dépensé", "Spent").into(),
                    points: self
                        .outputs
                        .iter()
                        .map(|(code, name, m)| point(code, name.clone(), m.value()))
                        .collect(),
                }],
                None,
            ),
        };
        Some(Chart {
            id: String::new(),
            kind,
            title: title.to_string(),
            description: description.to_string(),
            series,
            target,
            unit: self.currency.to_string(),
            decimals: 0,
            suppressed_label: l.pick("non publié", "not published").into(),
            locale: l,
            width: super::chart::CHART_WIDTH,
            marks: Vec::new(),
        })
    }
}

/// A budget view's table, in no particular output format.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub columns: Vec<GridColumn>,
    pub rows: Vec<Vec<Cell>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GridColumn {
    pub name: String,
    /// Decimals of a number column; none for text.
    pub decimals: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    /// Money or a count that is not published: no number.
    NotPublished,
    /// Nothing to show (no plan to measure against, a month not reached).
    None,
}

/// An amount with its currency, as people read it: `12 345 USD`.
pub fn amount(value: f64, currency: &str, locale: Locale) -> String {
    format!("{}\u{a0}{currency}", format_number(value, 0, locale))
}

fn rate(spent: Money, planned: f64) -> Option<f64> {
    match spent {
        Money::Known(s) if planned > 0.0 => Some(s / planned * 100.0),
        _ => None,
    }
}

/// The months of the project, first to last.
pub fn project_months(budget: &Budget) -> Vec<Month> {
    let mut out = Vec::new();
    let mut m = budget.start;
    while m <= budget.end && out.len() < 1200 {
        out.push(m);
        m = m.next();
    }
    out
}

fn period_of(m: Month) -> Period {
    Period::Month(m.year as u16, m.month as u8)
}

/// The part of a line's quarterly plan that falls in `month`: the quarter's amount
/// spread evenly over the quarter's months inside the project, converted at the
/// month's rate.
fn planned_in_month(
    budget: &Budget,
    line: &crate::definitions::budget::BudgetLine,
    month: Month,
    currency: &str,
) -> f64 {
    let quarter = crate::definitions::budget::quarter_of(month);
    let Some(amount) = line.planned.get(&quarter) else {
        return 0.0;
    };
    let months_in_quarter = project_months(budget)
        .into_iter()
        .filter(|m| crate::definitions::budget::quarter_of(*m) == quarter)
        .count()
        .max(1);
    let rate = budget
        .rate(month, currency)
        .filter(|r| *r > 0.0)
        .unwrap_or(1.0);
    amount / months_in_quarter as f64 / rate
}

/// (month, other dimension value or "") → figure, of the spending measure's breakdown
/// by `dims`; none when the snapshot does not publish it.
type Cells = BTreeMap<(String, String), Figure>;

fn month_cells(snapshot: &Snapshot, dims: &[&str]) -> Option<Cells> {
    let measure = snapshot.measure("spending")?;
    let breakdown = measure.breakdown(dims)?;
    let at = |dim: &str| breakdown.iter().position(|b| b == dim);
    let month_at = at(MONTH)?;
    let other_at = dims.iter().find(|d| **d != MONTH).and_then(|d| at(d));
    let mut out = BTreeMap::new();
    for cell in snapshot.cells(&measure.id, breakdown) {
        let key = (
            cell.dims[month_at].to_string(),
            other_at.map_or(String::new(), |i| cell.dims[i].to_string()),
        );
        let figure = if cell.suppressed {
            Figure::Suppressed
        } else {
            cell.value.map_or(Figure::Missing, Figure::Value)
        };
        out.insert(key, figure);
    }
    Some(out)
}
