//! Filters of a dashboard page, carried in the URL (`?period=2018-Q3&place=ML01&sex=F`),
//! and how they choose among a measure's published cells.
//!
//! Filters never aggregate: a period or place picks a precomputed level (year, quarter
//! or month; region or cercle) and a value in it. Where the measure does not publish
//! the combination asked for, the panel says so instead of computing anything.

use std::collections::BTreeSet;

use super::dashboards::{Dashboard, Panel, PanelKind};
use super::i18n::Locale;
use super::labels::PERIOD_DIMS;
use crate::domain::{AgeBand, Code, Sex};
use crate::reference;
use crate::snapshot::{MeasureInfo, Snapshot};

/// The state of a page: language and filters, parsed and checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Filters {
    /// `YYYY`, `YYYY-Qn` or `YYYY-MM`.
    pub period: Option<String>,
    /// A region (`ML01`) or cercle (`ML0105`) P-code.
    pub place: Option<String>,
    pub sex: Option<String>,
    pub age_band: Option<String>,
}

/// A rejected parameter: which, and what is allowed (shown on the 400 page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadParameter {
    pub name: String,
    pub allowed: String,
}

/// The level dimension a period code belongs to.
pub fn period_level(code: &str) -> Option<&'static str> {
    let b = code.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    match b.len() {
        4 if digits(b) => Some("year"),
        7 if digits(&b[..4]) && &b[4..6] == b"-Q" && (b'1'..=b'4').contains(&b[6]) => {
            Some("quarter")
        }
        7 if digits(&b[..4])
            && b[4] == b'-'
            && digits(&b[5..])
            && (1..=12).contains(&code[5..].parse::<u32>().unwrap_or(0)) =>
        {
            Some("month")
        }
        _ => None,
    }
}

/// Whether the period `outer` contains the period `inner` (both codes; equal counts).
pub fn period_contains(outer: &str, inner: &str) -> bool {
    match (period_level(outer), period_level(inner)) {
        (Some("year"), Some(_)) => inner.starts_with(outer),
        (Some("quarter"), Some("month")) => {
            let q = (outer.as_bytes()[6] - b'0') as u32;
            let m: u32 = inner[5..].parse().unwrap_or(0);
            inner[..4] == outer[..4] && (m + 2) / 3 == q
        }
        (Some(a), Some(b)) if a == b => outer == inner,
        _ => false,
    }
}

/// The level dimension of a place code.
pub fn place_level(code: &str) -> Option<&'static str> {
    if reference::places().region(code).is_some() && code.len() == 4 {
        Some("region")
    } else if reference::places().cercle(code).is_some() {
        Some("cercle")
    } else {
        None
    }
}

/// Values a dashboard's filters can take, from what its measures publish.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub years: Vec<String>,
    pub quarters: Vec<String>,
    pub months: Vec<String>,
    pub regions: Vec<String>,
    /// (region, cercle)
    pub cercles: Vec<(String, String)>,
}

impl Options {
    pub fn of(dashboard: &Dashboard, snapshot: &Snapshot) -> Options {
        let mut periods: BTreeSet<String> = BTreeSet::new();
        let mut regions: BTreeSet<String> = BTreeSet::new();
        let mut cercles: BTreeSet<(String, String)> = BTreeSet::new();
        for id in dashboard.measures() {
            let Some(m) = snapshot.measure(id) else {
                continue;
            };
            for b in &m.breakdowns {
                for (i, dim) in b.iter().enumerate() {
                    let wanted = matches!(
                        dim.as_str(),
                        "year" | "quarter" | "month" | "region" | "cercle"
                    );
                    if !wanted {
                        continue;
                    }
                    for cell in snapshot.cells(&m.id, b) {
                        let v = cell.dims[i].to_string();
                        match dim.as_str() {
                            "region" => {
                                regions.insert(v);
                            }
                            "cercle" => {
                                if let Some(c) = reference::places().cercle(&v) {
                                    cercles.insert((c.region.clone(), v));
                                }
                            }
                            _ => {
                                periods.insert(v);
                            }
                        }
                    }
                }
            }
        }
        let of_level = |level| {
            periods
                .iter()
                .filter(|p| period_level(p) == Some(level))
                .cloned()
                .collect()
        };
        Options {
            years: of_level("year"),
            quarters: of_level("quarter"),
            months: of_level("month"),
            regions: regions.into_iter().collect(),
            cercles: cercles.into_iter().collect(),
        }
    }

    fn has_period(&self, p: &str) -> bool {
        self.years
            .iter()
            .chain(&self.quarters)
            .chain(&self.months)
            .any(|x| x == p)
    }

    fn has_place(&self, p: &str) -> bool {
        self.regions.iter().any(|r| r == p) || self.cercles.iter().any(|(_, c)| c == p)
    }

    fn describe_periods(&self) -> String {
        let span = |v: &[String]| match (v.first(), v.last()) {
            (Some(a), Some(b)) if a != b => format!("{a} … {b}"),
            (Some(a), _) => a.clone(),
            _ => "none".into(),
        };
        format!(
            "a year ({}), a quarter ({}) or a month ({})",
            self.years.join(", "),
            span(&self.quarters),
            span(&self.months)
        )
    }
}

/// Parses a page's query parameters. `lang` is handled by the caller and skipped here.
pub fn parse(
    query: &[(String, String)],
    dashboard: &Dashboard,
    options: &Options,
) -> Result<Filters, BadParameter> {
    let mut filters = Filters::default();
    let mut seen = BTreeSet::new();
    for (name, raw) in query {
        let value = raw.trim();
        if name == "lang" {
            continue;
        }
        if !seen.insert(name.as_str()) {
            return Err(BadParameter {
                name: name.clone(),
                allowed: "the parameter once".into(),
            });
        }
        let filter = match name.as_str() {
            "period" => "period",
            "place" => "place",
            "sex" => "sex",
            "age" | "age_band" => "age_band",
            _ => {
                let mut allowed: Vec<String> = dashboard
                    .filters
                    .iter()
                    .map(|f| {
                        if f == "age_band" {
                            "age".into()
                        } else {
                            f.clone()
                        }
                    })
                    .collect();
                allowed.push("lang".into());
                return Err(BadParameter {
                    name: name.clone(),
                    allowed: format!("parameters of this page: {}", allowed.join(", ")),
                });
            }
        };
        if !dashboard.offers(filter) {
            return Err(BadParameter {
                name: name.clone(),
                allowed: "nothing: this page has no such filter".into(),
            });
        }
        if value.is_empty() || value == "all" {
            continue;
        }
        match filter {
            "period" => {
                if period_level(value).is_none() || !options.has_period(value) {
                    return Err(BadParameter {
                        name: name.clone(),
                        allowed: options.describe_periods(),
                    });
                }
                filters.period = Some(value.to_string());
            }
            "place" => {
                let code = value.to_ascii_uppercase();
                if place_level(&code).is_none() || !options.has_place(&code) {
                    let regions = options.regions.join(", ");
                    return Err(BadParameter {
                        name: name.clone(),
                        allowed: format!(
                            "a region P-code ({regions}) or the P-code of one of their cercles"
                        ),
                    });
                }
                filters.place = Some(code);
            }
            "sex" => {
                let sex = Sex::parse(value).ok_or_else(|| BadParameter {
                    name: name.clone(),
                    allowed: "F or M".into(),
                })?;
                filters.sex = Some(sex.code().to_string());
            }
            _ => {
                let band = AgeBand::parse(value).ok_or_else(|| BadParameter {
                    name: name.clone(),
                    allowed: AgeBand::ALL
                        .iter()
                        .map(|b| b.code())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
                filters.age_band = Some(band.code().to_string());
            }
        }
    }
    Ok(filters)
}

impl Filters {
    pub fn is_empty(&self) -> bool {
        *self == Filters::default()
    }

    /// The query string of this state (`?lang=en&period=2018`), for links and forms.
    pub fn query(&self, locale: Locale) -> String {
        let mut parts = Vec::new();
        if locale == Locale::En {
            parts.push("lang=en".to_string());
        }
        for (name, value) in self.pairs() {
            parts.push(format!("{name}={}", percent(&value)));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }

    /// (parameter, value) of every filter set.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(p) = &self.period {
            out.push(("period", p.clone()));
        }
        if let Some(p) = &self.place {
            out.push(("place", p.clone()));
        }
        if let Some(s) = &self.sex {
            out.push(("sex", s.clone()));
        }
        if let Some(a) = &self.age_band {
            out.push(("age", a.clone()));
        }
        out
    }
}

/// Percent-encodes a query value.
pub fn percent(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// How a panel reads the snapshot under the page's filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// The declared breakdown (canonical order).
    pub breakdown: Vec<String>,
    /// Dimensions held to one value.
    pub equal: Vec<(String, String)>,
    /// The dimension drawn along the axis (none for a headline figure).
    pub category: Option<String>,
    pub series: Option<String>,
    /// Keep only category values inside this period (period dimensions).
    pub within: Option<String>,
    /// A region to outline (maps keep the whole country).
    pub highlight: Option<String>,
}

/// Chooses the breakdown and selections that show `panel` under `filters`, or `None`
/// when the measure does not publish that combination.
pub fn resolve(panel: &Panel, measure: &MeasureInfo, filters: &Filters) -> Option<View> {
    let mut category = panel.dimension.clone();
    let series = panel.series.clone();
    let mut dims: Vec<String> = panel.context.clone();
    let mut equal: Vec<(String, String)> = panel
        .fixed
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut within = None;
    let mut highlight = None;
    dims.extend(panel.fixed.keys().cloned());
    dims.extend(series.iter().cloned());

    if let Some(place) = &filters.place {
        let level = place_level(place)?;
        let region = reference::places()
            .cercle(place)
            .map_or(place.clone(), |c| c.region.clone());
        if panel.kind == PanelKind::Map {
            // A map keeps the whole country and outlines the chosen region.
            highlight = Some(region);
        } else {
            if category.as_deref() == Some("region") {
                // Drill down: the chosen region's cercles (or the one cercle chosen).
                category = Some("cercle".into());
            }
            dims.push("region".into());
            equal.push(("region".into(), region));
            if level == "cercle" {
                dims.push("cercle".into());
                equal.push(("cercle".into(), place.clone()));
            }
        }
    }
    if let Some(period) = &filters.period {
        let level = period_level(period)?;
        match category.as_deref() {
            Some(c) if PERIOD_DIMS.contains(&c) => within = Some(period.clone()),
            _ => {
                dims.push(level.into());
                equal.push((level.into(), period.clone()));
            }
        }
    }
    for (dim, value) in [("sex", &filters.sex), ("age_band", &filters.age_band)] {
        if let Some(v) = value {
            dims.push(dim.into());
            equal.push((dim.into(), v.clone()));
        }
    }
    dims.extend(category.iter().cloned());
    dims.sort();
    dims.dedup();
    equal.sort();
    equal.dedup();
    let refs: Vec<&str> = dims.iter().map(String::as_str).collect();
    let breakdown = measure.breakdown(&refs)?.to_vec();
    Some(View {
        breakdown,
        equal,
        category,
        series,
        within,
        highlight,
    })
}

/// Per measure, every breakdown a dashboard's panels can read, under any state of the
/// filters it offers (a period of each level, a region or a cercle, a sex, an age band).
/// What an API reader of this dashboard needs, and no more.
pub fn reachable_breakdowns(
    dashboard: &Dashboard,
    snapshot: &Snapshot,
) -> std::collections::BTreeMap<String, BTreeSet<Vec<String>>> {
    let choices = |filter: &str, values: &[&str]| -> Vec<Option<String>> {
        let mut out = vec![None];
        if dashboard.offers(filter) {
            out.extend(values.iter().map(|v| Some(v.to_string())));
        }
        out
    };
    let periods = choices("period", &["2019", "2019-Q1", "2019-01"]);
    let places = choices("place", &["ML01", "ML0105"]);
    let sexes = choices("sex", &["F"]);
    let ages = choices("age_band", &["18-24"]);
    let mut out: std::collections::BTreeMap<String, BTreeSet<Vec<String>>> = Default::default();
    for panel in &dashboard.panels {
        for ind in &panel.indicators {
            if let Some(m) = snapshot.measure(&ind.measure) {
                let dims: Vec<&str> = ind.fixed.keys().map(String::as_str).collect();
                if let Some(b) = m.breakdown(&dims) {
                    out.entry(m.id.clone()).or_default().insert(b.to_vec());
                }
            }
        }
        let Some(m) = panel.measure.as_deref().and_then(|m| snapshot.measure(m)) else {
            continue;
        };
        for period in &periods {
            for place in &places {
                for sex in &sexes {
                    for age in &ages {
                        let filters = Filters {
                            period: period.clone(),
                            place: place.clone(),
                            sex: sex.clone(),
                            age_band: age.clone(),
                        };
                        if let Some(view) = resolve(panel, m, &filters) {
                            out.entry(m.id.clone()).or_default().insert(view.breakdown);
                        }
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_codes_have_levels_and_contain_each_other() {
        assert_eq!(period_level("2018"), Some("year"));
        assert_eq!(period_level("2018-Q3"), Some("quarter"));
        assert_eq!(period_level("2018-07"), Some("month"));
        assert_eq!(period_level("2018-13"), None);
        assert_eq!(period_level("2018-Q5"), None);
        assert_eq!(period_level("18"), None);
        assert!(period_contains("2018", "2018-07"));
        assert!(period_contains("2018-Q3", "2018-09"));
        assert!(!period_contains("2018-Q3", "2018-10"));
        assert!(period_contains("2018-07", "2018-07"));
        assert!(!period_contains("2019", "2018-07"));
    }

    #[test]
    fn place_codes_have_levels() {
        assert_eq!(place_level("ML01"), Some("region"));
        assert_eq!(place_level("ML0105"), Some("cercle"));
        assert_eq!(place_level("ML99"), None);
    }
}
