//! The results framework's figures for a quarter: each indicator's value — one
//! published, protected cell of the snapshot, or a survey value entered in the file —
//! its target for the quarter (declared, or the end target pro rata), its status, its
//! trend over the project's quarters and the published cells of its disaggregations.
//!
//! A cell published as suppressed stays suppressed: it is never read as a zero, and no
//! value is computed from other cells in its place; its status is "not comparable".

use chrono::NaiveDate;

use super::filters::{Filters, Period};
use super::i18n::Locale;
use super::labels;
use super::panels::Figure;
use crate::definitions::dimension::QUARTER;
use crate::definitions::results::{Framework, Quarter, Reading, ResultIndicator, StatusRule};
use crate::snapshot::Snapshot;

/// Where an indicator stands against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Achieved,
    OnTrack,
    Behind,
    /// No published value, or no target, for the period.
    NotComparable,
}

impl Status {
    /// Applies the framework's rule to a value and the period's target.
    pub fn of(value: Figure, target: Option<f64>, rule: &StatusRule) -> Status {
        match (value, target) {
            (Figure::Value(v), Some(t)) if t > 0.0 => {
                if v >= rule.achieved_from * t {
                    Status::Achieved
                } else if v >= rule.on_track_from * t {
                    Status::OnTrack
                } else {
                    Status::Behind
                }
            }
            (Figure::Value(v), Some(_)) => {
                if v >= 0.0 {
                    Status::Achieved
                } else {
                    Status::NotComparable
                }
            }
            _ => Status::NotComparable,
        }
    }

    /// The status in words.
    pub fn text(self, locale: Locale) -> &'static str {
        match self {
            Status::Achieved => locale.pick("atteint", "achieved"),
            Status::OnTrack => locale.pick("en bonne voie", "on track"),
            Status::Behind => locale.pick("en retard", "behind"),
            Status::NotComparable => locale.pick("non comparable", "not comparable"),
        }
    }

    /// A class name for styling (never the only sign: the words are always shown).
    pub fn class(self) -> &'static str {
        match self {
            Status::Achieved => "achieved",
            Status::OnTrack => "on-track",
            Status::Behind => "behind",
            Status::NotComparable => "not-comparable",
        }
    }
}

/// An indicator's target for a quarter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    pub value: f64,
    /// Whether it is the end target pro rata (the quarter declares none).
    pub pro_rata: bool,
}

/// The published cells of one disaggregation.
#[derive(Debug, Clone)]
pub struct Disaggregation {
    pub dimension: String,
    /// Whether the cells are for the quarter (else for the whole programme: the measure
    /// publishes this disaggregation without periods only).
    pub of_quarter: bool,
    /// (label, figure), in the dimension's order.
    pub cells: Vec<(String, Figure)>,
}

/// An indicator read for a quarter.
#[derive(Debug, Clone)]
pub struct Row {
    pub value: Figure,
    pub target: Option<Target>,
    pub status: Status,
    /// (quarter, figure) over the project's quarters up to the one shown.
    pub trend: Vec<(Quarter, Figure)>,
    pub disaggregations: Vec<Disaggregation>,
}

/// The quarter a results page shows by default: the latest quarter of the project
/// whose (project) days the snapshot's data covers entirely; the first one when none is.
pub fn default_quarter(framework: &Framework, data_as_of: Option<NaiveDate>) -> Quarter {
    let quarters = framework.project.quarters();
    let first = quarters
        .first()
        .copied()
        .unwrap_or(Quarter::of(framework.project.start));
    let Some(as_of) = data_as_of else {
        return first;
    };
    quarters
        .iter()
        .rev()
        .find(|q| framework.project.last_day_in(**q) <= as_of)
        .copied()
        .unwrap_or(first)
}

/// The quarter a results page shows: the page's period when it is a quarter (the
/// results dashboard offers quarters only), else the default.
pub fn quarter(framework: &Framework, filters: &Filters, data_as_of: Option<NaiveDate>) -> Quarter {
    match filters.period {
        Some(Period::Quarter(year, q)) => Quarter {
            year: year.into(),
            q: q.into(),
        },
        _ => default_quarter(framework, data_as_of),
    }
}

/// An indicator's target for a quarter: declared, else (measures only) the end target
/// pro rata of the project's days — in the quarter for quarterly values, up to its end
/// for cumulative ones. A survey indicator has the end target in the last quarter.
pub fn target(framework: &Framework, ind: &ResultIndicator, q: Quarter) -> Option<Target> {
    if let Some(v) = ind.targets.get(&q.code()) {
        return Some(Target {
            value: *v,
            pro_rata: false,
        });
    }
    let end = ind.end_target()?;
    let p = &framework.project;
    if ind.measure.is_none() {
        return (framework.project.quarters().last() == Some(&q)).then_some(Target {
            value: end,
            pro_rata: false,
        });
    }
    let days = match ind.breakdown {
        Reading::Quarter => p.days_in(q),
        Reading::ThroughMonth => p.days_through(q),
    };
    (days > 0).then(|| Target {
        value: (end * days as f64 / p.days() as f64).round(),
        pro_rata: days < p.days(),
    })
}

/// A figure of a cell: its value, suppressed, or missing.
fn figure(cell: Option<&crate::snapshot::Cell>) -> Figure {
    match cell {
        None => Figure::Missing,
        Some(c) if c.suppressed => Figure::Suppressed,
        Some(c) => c.value.map_or(Figure::Missing, Figure::Value),
    }
}

/// The code of the cell giving a quarter's value: the quarter, or the month of its
/// last project day (cumulative cells).
fn period_code(framework: &Framework, reading: Reading, q: Quarter) -> String {
    match reading {
        Reading::Quarter => q.code(),
        Reading::ThroughMonth => framework.project.last_day_in(q).format("%Y-%m").to_string(),
    }
}

/// An indicator's value for a quarter: its published cell, or its survey value.
pub fn value(
    snapshot: &Snapshot,
    framework: &Framework,
    ind: &ResultIndicator,
    q: Quarter,
) -> Figure {
    let Some(measure) = &ind.measure else {
        return ind
            .values
            .get(&q.code())
            .map_or(Figure::Missing, |v| Figure::Value(*v));
    };
    let Some(m) = snapshot.measure(measure) else {
        return Figure::Missing;
    };
    let period = ind.breakdown.dimension();
    let mut dims: Vec<&str> = ind.filters.keys().map(String::as_str).collect();
    dims.push(period);
    let Some(breakdown) = m.breakdown(&dims) else {
        return Figure::Missing;
    };
    let code = period_code(framework, ind.breakdown, q);
    let mut equal: Vec<(&str, &str)> = ind
        .filters
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    equal.push((period, &code));
    figure(snapshot.select(&m.id, breakdown, &equal).next())
}

/// The published cells of an indicator's disaggregation: by the quarter when the
/// measure publishes them so, else for the whole programme.
fn disaggregation(
    snapshot: &Snapshot,
    ind: &ResultIndicator,
    dim: &str,
    q: Quarter,
    locale: Locale,
) -> Option<Disaggregation> {
    let m = snapshot.measure(ind.measure.as_deref()?)?;
    let mut dims: Vec<&str> = ind.filters.keys().map(String::as_str).collect();
    dims.push(dim);
    let mut equal: Vec<(&str, &str)> = ind
        .filters
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let code = q.code();
    let with_quarter = {
        let mut d = dims.clone();
        d.push(QUARTER);
        // Only a quarterly indicator's quarter: a cumulative one is not "of the quarter".
        (ind.breakdown == Reading::Quarter)
            .then(|| m.breakdown(&d))
            .flatten()
    };
    let (breakdown, of_quarter) = match with_quarter {
        Some(b) => {
            equal.push((QUARTER, &code));
            (b, true)
        }
        None => (m.breakdown(&dims)?, false),
    };
    let at = breakdown.iter().position(|b| b == dim)?;
    let mut cells: Vec<(String, String, Figure)> = snapshot
        .select(&m.id, breakdown, &equal)
        .map(|c| {
            let code = c.dims[at].to_string();
            (
                code.clone(),
                labels::value_label(dim, &code, locale),
                figure(Some(c)),
            )
        })
        .collect();
    let mut order: Vec<(String, String)> = cells
        .iter()
        .map(|(c, l, _)| (c.clone(), l.clone()))
        .collect();
    labels::sort_natural(dim, &mut order);
    cells.sort_by_key(|(c, _, _)| order.iter().position(|(o, _)| o == c));
    Some(Disaggregation {
        dimension: dim.to_string(),
        of_quarter,
        cells: cells.into_iter().map(|(_, l, f)| (l, f)).collect(),
    })
}

/// An indicator read for a quarter.
pub fn row(
    snapshot: &Snapshot,
    framework: &Framework,
    ind: &ResultIndicator,
    q: Quarter,
    locale: Locale,
) -> Row {
    let value = value(snapshot, framework, ind, q);
    let target = target(framework, ind, q);
    let trend = framework
        .project
        .quarters()
        .into_iter()
        .filter(|t| *t <= q)
        .map(|t| (t, self::value(snapshot, framework, ind, t)))
        .collect();
    Row {
        value,
        target,
        status: Status::of(value, target.map(|t| t.value), &framework.status),
        trend,
        disaggregations: ind
            .disaggregations
            .iter()
            .filter_map(|d| disaggregation(snapshot, ind, d, q, locale))
            .collect(),
    }
}

/// An indicator's value this quarter against the previous quarter's (`Previous`) or
/// its declared baseline (`Baseline`), in words: from published values only — a
/// value suppressed or missing on either side is "not comparable", never a number.
pub fn change(
    snapshot: &Snapshot,
    framework: &Framework,
    ind: &ResultIndicator,
    q: Quarter,
    compare: super::filters::Compare,
    locale: Locale,
) -> String {
    use super::filters::Compare;
    use super::text::{describe_delta, not_comparable};
    let decimals = decimals(snapshot, ind);
    let (against, before) = match compare {
        Compare::Previous => {
            let p = if q.q == 1 {
                Quarter {
                    year: q.year - 1,
                    q: 4,
                }
            } else {
                Quarter {
                    year: q.year,
                    q: q.q - 1,
                }
            };
            (
                super::i18n::format_period(&p.code(), locale),
                value(snapshot, framework, ind, p),
            )
        }
        Compare::Baseline => (
            locale
                .pick("la valeur de référence", "the baseline")
                .to_string(),
            Figure::Value(ind.baseline.value),
        ),
    };
    match (value(snapshot, framework, ind, q), before) {
        (Figure::Value(now), Figure::Value(then)) => {
            describe_delta(now, then, &against, decimals, locale)
        }
        _ => not_comparable(&against, locale),
    }
}

/// Decimals an indicator's values are shown with.
pub fn decimals(snapshot: &Snapshot, ind: &ResultIndicator) -> usize {
    ind.measure
        .as_deref()
        .and_then(|m| snapshot.measure(m))
        .map_or(0, |m| if m.statistic.is_count() { 0 } else { 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> StatusRule {
        StatusRule {
            on_track_from: 0.9,
            achieved_from: 1.0,
        }
    }

    #[test]
    fn status_follows_the_declared_rule() {
        let r = rule();
        assert_eq!(
            Status::of(Figure::Value(5000.0), Some(5000.0), &r),
            Status::Achieved
        );
        assert_eq!(
            Status::of(Figure::Value(5400.0), Some(5000.0), &r),
            Status::Achieved
        );
        assert_eq!(
            Status::of(Figure::Value(4500.0), Some(5000.0), &r),
            Status::OnTrack
        );
        assert_eq!(
            Status::of(Figure::Value(4499.0), Some(5000.0), &r),
            Status::Behind
        );
        assert_eq!(
            Status::of(Figure::Value(10.0), None, &r),
            Status::NotComparable
        );
        let strict = StatusRule {
            on_track_from: 0.95,
            achieved_from: 1.0,
        };
        assert_eq!(
            Status::of(Figure::Value(4600.0), Some(5000.0), &strict),
            Status::Behind
        );
    }

    #[test]
    fn suppressed_or_missing_values_are_not_comparable_never_zero() {
        let r = rule();
        // A target of zero would make any number "achieved": a suppressed cell still is not.
        for target in [Some(0.0), Some(10.0), None] {
            assert_eq!(
                Status::of(Figure::Suppressed, target, &r),
                Status::NotComparable
            );
            assert_eq!(
                Status::of(Figure::Missing, target, &r),
                Status::NotComparable
            );
        }
        assert_eq!(Status::NotComparable.text(Locale::Fr), "non comparable");
        assert_eq!(Status::OnTrack.text(Locale::En), "on track");
        assert_eq!(Figure::Suppressed.text(0, 10, Locale::Fr), "<10");
    }

    fn framework() -> Framework {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboards");
        Framework::load(&dir).unwrap()
    }

    #[test]
    fn targets_are_declared_or_pro_rata_of_the_end_target() {
        let f = framework();
        let find = |id: &str| f.indicators().find(|i| i.id == id).unwrap().clone();
        let q = |c: &str| Quarter::parse(c).unwrap();
        let sessions = find("op1.1.sessions");
        assert_eq!(
            target(&f, &sessions, q("2019-Q3")),
            Some(Target {
                value: 2000.0,
                pro_rata: false
            })
        );
        // 2019-Q1 holds 5 of the project's 366 days.
        assert_eq!(
            target(&f, &sessions, q("2019-Q1")),
            Some(Target {
                value: 123.0,
                pro_rata: true
            })
        );
        let referrals = find("op1.1.referrals");
        assert_eq!(
            target(&f, &referrals, q("2019-Q3")).unwrap().value,
            (400.0 * 92.0 / 366.0_f64).round()
        );
        let survey = find("oc2.knowledge");
        assert_eq!(target(&f, &survey, q("2019-Q3")), None);
        assert_eq!(target(&f, &survey, q("2020-Q1")).unwrap().value, 50.0);
    }

    #[test]
    fn the_default_quarter_is_the_latest_complete_one() {
        let f = framework();
        let d = |s: &str| Some(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap());
        assert_eq!(default_quarter(&f, d("2020-03-26")).code(), "2020-Q1");
        assert_eq!(default_quarter(&f, d("2020-03-20")).code(), "2019-Q4");
        assert_eq!(default_quarter(&f, d("2019-10-01")).code(), "2019-Q3");
        assert_eq!(default_quarter(&f, d("2019-03-01")).code(), "2019-Q1");
        assert_eq!(default_quarter(&f, None).code(), "2019-Q1");
    }
}
