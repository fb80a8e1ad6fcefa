//! A panel's figures: the published cells a panel shows under the page's filters,
//! arranged as categories × series with their labels. Pages, charts, the API and the
//! exports all read figures from here, so every output shows the same cells.

use std::collections::BTreeSet;

use super::filters::{self, Filters, Period, View};
use super::i18n::{Locale, format_number};
use super::labels;
use crate::definitions::dimension::SITE;
use crate::definitions::{MeasureInfo, Panel, Sort};
use crate::snapshot::Snapshot;

/// One published figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Figure {
    Value(f64),
    /// Published as suppressed: below the threshold, no number exists.
    Suppressed,
    /// No cell for this combination (e.g. a series value absent from a category).
    Missing,
}

impl Figure {
    pub fn value(self) -> Option<f64> {
        match self {
            Figure::Value(v) => Some(v),
            _ => None,
        }
    }

    /// The figure as text: a number in the locale's format, `<T`, or a dash.
    pub fn text(self, decimals: usize, threshold: u32, locale: Locale) -> String {
        match self {
            Figure::Value(v) => format_number(v, decimals, locale),
            Figure::Suppressed => format!("<{threshold}"),
            Figure::Missing => "–".to_string(),
        }
    }
}

/// A panel's figures, ready to draw or tabulate.
#[derive(Debug, Clone)]
pub struct Figures {
    pub view: View,
    /// Category codes and labels, in display order (one unnamed row for a headline).
    pub categories: Vec<(String, String)>,
    /// Series codes and labels (one series named after the measure when none is drawn).
    pub series: Vec<(String, String)>,
    /// figures[category][series]
    pub figures: Vec<Vec<Figure>>,
    /// Decimals of values (0 for counts, 1 for means).
    pub decimals: usize,
}

impl Figures {
    /// The headline figure (first category, first series).
    pub fn headline(&self) -> Figure {
        self.figures
            .first()
            .and_then(|row| row.first())
            .copied()
            .unwrap_or(Figure::Missing)
    }
}

/// Why a panel shows no figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unavailable {
    /// The snapshot has no such measure.
    NoMeasure,
    /// The measure does not publish this combination of filters.
    NotPublished,
}

/// Computes a panel's figures under `filters`.
pub fn figures(
    snapshot: &Snapshot,
    panel: &Panel,
    filters: &Filters,
    locale: Locale,
) -> Result<Figures, Unavailable> {
    let measure = panel
        .measure
        .as_deref()
        .and_then(|m| snapshot.measure(m))
        .ok_or(Unavailable::NoMeasure)?;
    let view = filters::resolve(panel, measure, filters).ok_or(Unavailable::NotPublished)?;
    Ok(arrange(snapshot, measure, &view, panel.sort, locale))
}

/// The figure of a measure's cell with the given fixed dimensions (a PONAM indicator).
pub fn single(snapshot: &Snapshot, measure: &str, fixed: &[(String, String)]) -> Figure {
    let Some(m) = snapshot.measure(measure) else {
        return Figure::Missing;
    };
    let dims: Vec<&str> = fixed.iter().map(|(d, _)| d.as_str()).collect();
    let Some(breakdown) = m.breakdown(&dims) else {
        return Figure::Missing;
    };
    let equal: Vec<(&str, &str)> = fixed
        .iter()
        .map(|(d, v)| (d.as_str(), v.as_str()))
        .collect();
    snapshot
        .select(&m.id, breakdown, &equal)
        .next()
        .map_or(Figure::Missing, |c| {
            if c.suppressed {
                Figure::Suppressed
            } else {
                c.value.map_or(Figure::Missing, Figure::Value)
            }
        })
}

fn arrange(
    snapshot: &Snapshot,
    measure: &MeasureInfo,
    view: &View,
    sort: Sort,
    locale: Locale,
) -> Figures {
    let equal: Vec<(&str, &str)> = view
        .equal
        .iter()
        .map(|(d, v)| (d.as_str(), v.as_str()))
        .collect();
    let position = |dim: &Option<String>| {
        dim.as_ref()
            .and_then(|d| view.breakdown.iter().position(|b| b == d))
    };
    let (cat_pos, ser_pos) = (position(&view.category), position(&view.series));
    let cells: Vec<_> = snapshot
        .select(&measure.id, &view.breakdown, &equal)
        .filter(|c| match (&view.within, cat_pos) {
            (Some(period), Some(i)) => {
                Period::parse(&c.dims[i]).is_some_and(|p| period.contains(p))
            }
            _ => true,
        })
        .collect();
    let code_at = |pos: Option<usize>, cell: &crate::snapshot::Cell| {
        pos.map_or(String::new(), |i| cell.dims[i].to_string())
    };
    let cat_codes: BTreeSet<String> = cells.iter().map(|c| code_at(cat_pos, c)).collect();
    let ser_codes: BTreeSet<String> = cells.iter().map(|c| code_at(ser_pos, c)).collect();
    let label = |dim: &Option<String>, code: &str| match dim {
        Some(d) if d == SITE => snapshot.sites.get(code).map_or_else(
            || code.to_string(),
            |l| locale.pick(&l.fr, &l.en).to_string(),
        ),
        Some(d) => labels::value_label(d, code, locale),
        None => locale
            .pick(&measure.title.fr, &measure.title.en)
            .to_string(),
    };
    let mut series: Vec<(String, String)> = ser_codes
        .iter()
        .map(|c| (c.clone(), label(&view.series, c)))
        .collect();
    if let Some(d) = &view.series {
        labels::sort_natural(d, &mut series);
    }
    let mut categories: Vec<(String, String)> = cat_codes
        .iter()
        .map(|c| (c.clone(), label(&view.category, c)))
        .collect();
    let figure_of = |cat: &str, ser: &str| {
        cells
            .iter()
            .find(|c| code_at(cat_pos, c) == cat && code_at(ser_pos, c) == ser)
            .map_or(Figure::Missing, |c| {
                if c.suppressed {
                    Figure::Suppressed
                } else {
                    c.value.map_or(Figure::Missing, Figure::Value)
                }
            })
    };
    match (sort, &view.category) {
        (Sort::Value, Some(_)) => {
            // Largest first; suppressed after every number, then missing.
            let key = |cat: &str| {
                let total: f64 = series
                    .iter()
                    .filter_map(|(s, _)| figure_of(cat, s).value())
                    .sum();
                let published = series
                    .iter()
                    .any(|(s, _)| figure_of(cat, s).value().is_some());
                let suppressed = series
                    .iter()
                    .any(|(s, _)| figure_of(cat, s) == Figure::Suppressed);
                (
                    if published {
                        0
                    } else if suppressed {
                        1
                    } else {
                        2
                    },
                    -total,
                )
            };
            categories.sort_by(|a, b| {
                let (ka, kb) = (key(&a.0), key(&b.0));
                ka.0.cmp(&kb.0)
                    .then(ka.1.total_cmp(&kb.1))
                    .then(a.1.cmp(&b.1))
            });
        }
        (_, Some(d)) => labels::sort_natural(d, &mut categories),
        (_, None) => {}
    }
    if categories.is_empty() && view.category.is_none() {
        categories.push((String::new(), String::new()));
    }
    if series.is_empty() {
        series.push((String::new(), label(&None, "")));
    }
    let figures = categories
        .iter()
        .map(|(cat, _)| series.iter().map(|(s, _)| figure_of(cat, s)).collect())
        .collect();
    Figures {
        view: view.clone(),
        categories,
        series,
        figures,
        decimals: if measure.statistic.is_count() { 0 } else { 1 },
    }
}

/// A headline figure against another period of the same length, from published cells
/// only: two published values give a change; a suppressed or missing figure on either
/// side gives "not comparable", never a number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Change {
    Delta {
        against: Period,
        current: f64,
        previous: f64,
    },
    NotComparable {
        against: Period,
    },
}

/// The change of a panel's headline figure under `filters` against the period
/// `against` (the same filters otherwise).
pub fn change(
    snapshot: &Snapshot,
    panel: &Panel,
    filters: &Filters,
    against: Period,
    locale: Locale,
) -> Change {
    let headline = |f: &Filters| {
        figures(snapshot, panel, f, locale)
            .map(|f| f.headline())
            .unwrap_or(Figure::Missing)
    };
    let then = Filters {
        period: Some(against),
        ..*filters
    };
    match (headline(filters), headline(&then)) {
        (Figure::Value(current), Figure::Value(previous)) => Change::Delta {
            against,
            current,
            previous,
        },
        _ => Change::NotComparable { against },
    }
}
