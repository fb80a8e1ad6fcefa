//! Filters of a dashboard page, carried in the URL (`?period=2018-Q3&place=ML01&sex=F`),
//! and how they choose among a measure's published cells.
//!
//! Filters never aggregate: a period or place picks a precomputed level (year, quarter
//! or month; region or cercle) and a value in it. Where the measure does not publish
//! the combination asked for, the panel says so instead of computing anything.

use std::collections::BTreeSet;

use super::i18n::Locale;
use crate::definitions::dashboard::Filter;
use crate::definitions::dimension::{self, AGE_BAND, CERCLE, MONTH, QUARTER, REGION, SEX, YEAR};
use crate::definitions::{Dashboard, MeasureInfo, Panel, PanelKind};
use crate::domain::{AgeBand, Cercle, Code, Currency, Region, Sex};
use crate::snapshot::Snapshot;

/// A period a page is filtered on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    Year(u16),
    /// A year and its quarter, 1 to 4.
    Quarter(u16, u8),
    /// A year and its month, 1 to 12.
    Month(u16, u8),
}

impl Period {
    /// The period just before, of the same length.
    pub fn previous(self) -> Period {
        match self {
            Period::Year(y) => Period::Year(y.saturating_sub(1)),
            Period::Quarter(y, 1) => Period::Quarter(y.saturating_sub(1), 4),
            Period::Quarter(y, q) => Period::Quarter(y, q - 1),
            Period::Month(y, 1) => Period::Month(y.saturating_sub(1), 12),
            Period::Month(y, m) => Period::Month(y, m - 1),
        }
    }

    /// `YYYY`, `YYYY-Qn` or `YYYY-MM`, exactly.
    pub fn parse(code: &str) -> Option<Period> {
        let b = code.as_bytes();
        let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
        if b.len() < 4 || !digits(&b[..4]) {
            return None;
        }
        let year: u16 = code[..4].parse().ok()?;
        match b.len() {
            4 => Some(Period::Year(year)),
            7 if &b[4..6] == b"-Q" && (b'1'..=b'4').contains(&b[6]) => {
                Some(Period::Quarter(year, b[6] - b'0'))
            }
            7 if b[4] == b'-' && digits(&b[5..]) => {
                let month: u8 = code[5..].parse().ok()?;
                (1..=12)
                    .contains(&month)
                    .then_some(Period::Month(year, month))
            }
            _ => None,
        }
    }

    /// The period's code, as cells of its level hold it.
    pub fn code(self) -> String {
        match self {
            Period::Year(y) => format!("{y:04}"),
            Period::Quarter(y, q) => format!("{y:04}-Q{q}"),
            Period::Month(y, m) => format!("{y:04}-{m:02}"),
        }
    }

    /// The dimension whose values are periods of this length.
    pub fn level(self) -> &'static str {
        match self {
            Period::Year(_) => YEAR,
            Period::Quarter(..) => QUARTER,
            Period::Month(..) => MONTH,
        }
    }

    /// Whether this period contains the period `inner` (equal counts).
    pub fn contains(self, inner: Period) -> bool {
        match (self, inner) {
            (Period::Year(y), other) => other.year() == y,
            (Period::Quarter(y, q), Period::Month(iy, m)) => iy == y && (m + 2) / 3 == q,
            (a, b) => a == b,
        }
    }

    fn year(self) -> u16 {
        match self {
            Period::Year(y) | Period::Quarter(y, _) | Period::Month(y, _) => y,
        }
    }
}

/// A place a page is filtered on: a region or one of its cercles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Place {
    Region(Region),
    Cercle(Cercle),
}

impl Place {
    /// A region (`ML01`) or cercle (`ML0105`) P-code of the reference, in any case.
    pub fn parse(code: &str) -> Option<Place> {
        let code = code.trim();
        match code.len() {
            4 => Region::parse(code).map(Place::Region),
            6 => Cercle::parse(code).map(Place::Cercle),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Place::Region(r) => r.code(),
            Place::Cercle(c) => c.code(),
        }
    }

    /// The dimension of places of this level.
    pub fn level(self) -> &'static str {
        match self {
            Place::Region(_) => REGION,
            Place::Cercle(_) => CERCLE,
        }
    }

    /// The region the place is, or lies in.
    pub fn region(self) -> Region {
        match self {
            Place::Region(r) => r,
            Place::Cercle(c) => c.region(),
        }
    }
}

/// What a period's figures are compared with (`?compare=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compare {
    /// The period just before, of the same length (2019-Q3 → 2019-Q2).
    Previous,
    /// The first published period of the same length (the programme's start).
    Baseline,
}

impl Compare {
    pub fn code(self) -> &'static str {
        match self {
            Compare::Previous => "previous",
            Compare::Baseline => "baseline",
        }
    }
}

/// The state of a page: its filters, parsed and checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Filters {
    pub period: Option<Period>,
    pub place: Option<Place>,
    pub sex: Option<Sex>,
    pub age_band: Option<AgeBand>,
    /// Compare the period's figures with another period (only with a period).
    pub compare: Option<Compare>,
    /// The currency money is shown in (budget pages; none: the grant's currency).
    pub currency: Option<Currency>,
}

/// A rejected parameter: which, and what is allowed (shown on the 400 page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadParameter {
    pub name: String,
    pub allowed: String,
}

/// The level dimension a period code belongs to.
pub fn period_level(code: &str) -> Option<&'static str> {
    Period::parse(code).map(Period::level)
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
                    let wanted = [YEAR, QUARTER, MONTH, REGION, CERCLE].contains(&dim.as_str());
                    if !wanted {
                        continue;
                    }
                    for cell in snapshot.cells(&m.id, b) {
                        let v = cell.dims[i].to_string();
                        match dim.as_str() {
                            REGION => {
                                regions.insert(v);
                            }
                            CERCLE => {
                                if let Some(c) = Cercle::parse(&v) {
                                    cercles.insert((c.region().code().to_string(), v));
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
                .collect::<Vec<String>>()
        };
        if let Some(budget) = &dashboard.budget {
            // Budget execution is read by quarter of the grant (planned amounts are
            // quarterly), over the quarters with published spending.
            let project = budget.quarters();
            return Options {
                quarters: of_level(QUARTER)
                    .into_iter()
                    .filter(|q: &String| project.contains(q))
                    .collect::<Vec<String>>(),
                ..Options::default()
            };
        }
        if let Some(framework) = &dashboard.results {
            // The results framework is read by quarter, over the project's quarters.
            let project: Vec<String> = framework
                .project
                .quarters()
                .iter()
                .map(|q| q.code())
                .collect();
            return Options {
                quarters: of_level(QUARTER)
                    .into_iter()
                    .filter(|q: &String| project.contains(q))
                    .collect::<Vec<String>>(),
                ..Options::default()
            };
        }
        Options {
            years: of_level(YEAR),
            quarters: of_level(QUARTER),
            months: of_level(MONTH),
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
        if name == "compare" && dashboard.offers(Filter::Period) {
            filters.compare = match value {
                "" | "none" => None,
                "previous" => Some(Compare::Previous),
                "baseline" => Some(Compare::Baseline),
                _ => {
                    return Err(BadParameter {
                        name: name.clone(),
                        allowed: "previous or baseline (with a period)".into(),
                    });
                }
            };
            continue;
        }
        let filter = match name.as_str() {
            "period" => Filter::Period,
            "place" => Filter::Place,
            "sex" => Filter::Sex,
            "age" | "age_band" => Filter::AgeBand,
            "currency" => Filter::Currency,
            _ => {
                let mut allowed: Vec<&str> =
                    dashboard.filters.iter().map(|f| f.parameter()).collect();
                allowed.push("lang");
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
            Filter::Period => {
                let period = Period::parse(value)
                    .filter(|p| options.has_period(&p.code()))
                    .ok_or_else(|| BadParameter {
                        name: name.clone(),
                        allowed: options.describe_periods(),
                    })?;
                filters.period = Some(period);
            }
            Filter::Place => {
                let place = Place::parse(value)
                    .filter(|p| options.has_place(p.code()))
                    .ok_or_else(|| BadParameter {
                        name: name.clone(),
                        allowed: format!(
                            "a region P-code ({}) or the P-code of one of their cercles",
                            options.regions.join(", ")
                        ),
                    })?;
                filters.place = Some(place);
            }
            Filter::Sex => {
                let sex = Sex::parse(value).ok_or_else(|| BadParameter {
                    name: name.clone(),
                    allowed: "F or M".into(),
                })?;
                filters.sex = Some(sex);
            }
            Filter::AgeBand => {
                let band = AgeBand::parse(value).ok_or_else(|| BadParameter {
                    name: name.clone(),
                    allowed: AgeBand::ALL
                        .iter()
                        .map(|b| b.code())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
                filters.age_band = Some(band);
            }
            Filter::Currency => {
                let currency = Currency::parse(value)
                    .filter(|c| c.code() == value.to_ascii_uppercase())
                    .ok_or_else(|| BadParameter {
                        name: name.clone(),
                        allowed: "USD, CHF or XOF".into(),
                    })?;
                filters.currency = Some(currency);
            }
        }
    }
    if filters.compare.is_some() && filters.period.is_none() {
        return Err(BadParameter {
            name: "compare".into(),
            allowed: "a comparison together with a period (choose a year, a quarter or a month)"
                .into(),
        });
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
        if let Some(p) = self.period {
            out.push((Filter::Period.parameter(), p.code()));
        }
        if let Some(p) = self.place {
            out.push((Filter::Place.parameter(), p.code().to_string()));
        }
        if let Some(s) = self.sex {
            out.push((Filter::Sex.parameter(), s.code().to_string()));
        }
        if let Some(a) = self.age_band {
            out.push((Filter::AgeBand.parameter(), a.code().to_string()));
        }
        if let Some(c) = self.compare {
            out.push(("compare", c.code().to_string()));
        }
        if let Some(c) = self.currency {
            out.push((Filter::Currency.parameter(), c.code().to_string()));
        }
        out
    }

    /// The period the figures are compared with, if any: the previous one, or the
    /// first published one of the same length (none when it is the period itself).
    pub fn against(&self, options: &Options) -> Option<Period> {
        let period = self.period?;
        let against = match self.compare? {
            Compare::Previous => period.previous(),
            Compare::Baseline => {
                let list = match period {
                    Period::Year(_) => &options.years,
                    Period::Quarter(..) => &options.quarters,
                    Period::Month(..) => &options.months,
                };
                list.iter().filter_map(|c| Period::parse(c)).min()?
            }
        };
        (against != period).then_some(against)
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
    pub within: Option<Period>,
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

    if let Some(place) = filters.place {
        let region = place.region().code().to_string();
        if panel.kind == PanelKind::Map {
            // A map keeps the whole country and outlines the chosen region.
            highlight = Some(region);
        } else {
            if category.as_deref() == Some(REGION) {
                // Drill down: the chosen region's cercles (or the one cercle chosen).
                category = Some(CERCLE.into());
            }
            dims.push(REGION.into());
            equal.push((REGION.into(), region));
            if let Place::Cercle(c) = place {
                dims.push(CERCLE.into());
                equal.push((CERCLE.into(), c.code().to_string()));
            }
        }
    }
    if let Some(period) = filters.period {
        match category.as_deref() {
            Some(c) if dimension::is_period(c) => within = Some(period),
            _ => {
                dims.push(period.level().into());
                equal.push((period.level().into(), period.code()));
            }
        }
    }
    let sex = filters.sex.map(|s| (SEX, s.code()));
    let age = filters.age_band.map(|a| (AGE_BAND, a.code()));
    for (dim, value) in sex.into_iter().chain(age) {
        dims.push(dim.into());
        equal.push((dim.into(), value.into()));
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
    fn choices<T: Copy>(dashboard: &Dashboard, filter: Filter, values: &[T]) -> Vec<Option<T>> {
        let mut out = vec![None];
        if dashboard.offers(filter) {
            out.extend(values.iter().copied().map(Some));
        }
        out
    }
    let periods = [
        Period::Year(2019),
        Period::Quarter(2019, 1),
        Period::Month(2019, 1),
    ];
    let periods = choices(dashboard, Filter::Period, &periods);
    let places: Vec<Place> = ["ML01", "ML0105"]
        .into_iter()
        .filter_map(Place::parse)
        .collect();
    let places = choices(dashboard, Filter::Place, &places);
    let sexes = choices(dashboard, Filter::Sex, &[Sex::Female]);
    let ages = choices(dashboard, Filter::AgeBand, &[AgeBand::A18_24]);
    let mut out: std::collections::BTreeMap<String, BTreeSet<Vec<String>>> = Default::default();
    if dashboard.shows_budget() {
        // What the budget panels read (present::budget), under every period.
        let reads: [(&str, &[&str]); 8] = [
            ("spending", &[]),
            ("spending", &["month"]),
            ("spending", &["month", "budget_line"]),
            ("spending", &["month", "output"]),
            ("beneficiaries", &[]),
            ("beneficiaries", &["quarter"]),
            ("trainees", &[]),
            ("trainees", &["quarter"]),
        ];
        for (id, dims) in reads {
            if let Some(b) = snapshot.measure(id).and_then(|m| m.breakdown(dims)) {
                out.entry(id.to_string()).or_default().insert(b.to_vec());
            }
        }
    }
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
                            period: *period,
                            place: *place,
                            sex: *sex,
                            age_band: *age,
                            compare: None,
                            currency: None,
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
        let p = |c| Period::parse(c).unwrap();
        assert_eq!(period_level("2018"), Some("year"));
        assert_eq!(period_level("2018-Q3"), Some("quarter"));
        assert_eq!(period_level("2018-07"), Some("month"));
        assert_eq!(period_level("2018-13"), None);
        assert_eq!(period_level("2018-Q5"), None);
        assert_eq!(period_level("18"), None);
        assert_eq!(period_level("2018-7"), None);
        assert_eq!(period_level("２０１８"), None);
        assert!(p("2018").contains(p("2018-07")));
        assert!(p("2018").contains(p("2018-Q2")));
        assert!(p("2018-Q3").contains(p("2018-09")));
        assert!(!p("2018-Q3").contains(p("2018-10")));
        assert!(p("2018-07").contains(p("2018-07")));
        assert!(!p("2019").contains(p("2018-07")));
        assert!(!p("2018-07").contains(p("2018")));
        for code in ["2018", "2018-Q3", "2018-07", "0999"] {
            assert_eq!(p(code).code(), code);
        }
    }

    #[test]
    fn place_codes_have_levels() {
        let level = |c| Place::parse(c).map(Place::level);
        assert_eq!(level("ML01"), Some("region"));
        assert_eq!(level("ml01"), Some("region"));
        assert_eq!(level("ML0105"), Some("cercle"));
        assert_eq!(level("ML99"), None);
        assert_eq!(level("ML010"), None);
        assert_eq!(Place::parse("ml0105").unwrap().code(), "ML0105");
        assert_eq!(Place::parse("ML0105").unwrap().region().code(), "ML01");
    }
}
