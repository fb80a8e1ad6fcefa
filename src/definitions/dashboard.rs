//! Dashboard definitions: `dashboards/*.toml` (files starting with `_` excepted), one
//! page each — titles and texts in French and English, the roles that may open it, the
//! filters offered, and panels (chart kind, measure, dimensions, targets, notes).
//! Adding a chart is editing a file, not Rust.
//!
//! Definitions are checked against the measures they use (every measure, dimension and
//! fixed value must exist, and the unfiltered view of every panel must be a published
//! breakdown); problems name the file, the line and what is wrong.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use super::budget::{self, Budget};
use super::results::{self, Framework};
use super::{DefinitionError, DefinitionErrors};
use super::{MeasureInfo, dimension};
use crate::access::Role;
use crate::reference::Label;

/// Kinds of panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PanelKind {
    /// A headline figure (with its target, if any).
    Kpi,
    /// Horizontal bars by one dimension (grouped by `series` if given).
    Bars,
    /// A line over a period dimension.
    Line,
    /// Two-sided bars: `series` (sex) left and right by `dimension` (age band).
    Pyramid,
    /// Regions of Mali shaded by value.
    Map,
    /// The PONAM alignment table: indicators, the policy axis each serves, progress.
    Ponam,
    /// The results framework (`_results.toml`) as a table: each indicator's baseline,
    /// value for the period, target and status.
    Results,
    /// Budget execution (`_budget.toml` against the published spending): what its
    /// `show` names — headline figures, lines, burn over time or spend per output.
    Budget,
}

/// What a `budget` panel shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BudgetView {
    /// Spent, planned, execution rate and costs per person for the period.
    Summary,
    /// Spent against planned per budget line, with the total.
    Lines,
    /// Cumulative spending against the cumulative plan, month by month.
    Burn,
    /// Spending per output of the project.
    Outputs,
}

/// Measures a budget panel reads: money from the finance extracts, people from the
/// published, protected counts (costs per person divide one by the other).
pub const BUDGET_MEASURES: [&str; 3] = ["spending", "beneficiaries", "trainees"];

/// Filters a dashboard may offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Filter {
    /// A year, a quarter or a month.
    Period,
    /// A region or a cercle.
    Place,
    Sex,
    AgeBand,
    /// The currency money is shown in (budget pages): USD, CHF or XOF.
    Currency,
}

impl Filter {
    /// The name of its query parameter (`?age=` for the age band).
    pub fn parameter(self) -> &'static str {
        match self {
            Filter::Period => "period",
            Filter::Place => "place",
            Filter::Sex => "sex",
            Filter::AgeBand => "age",
            Filter::Currency => "currency",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub value: f64,
    pub label: Label,
}

/// One line of the PONAM alignment table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    pub label: Label,
    /// Key into the dashboard's `axes`.
    pub axis: String,
    pub measure: String,
    #[serde(default)]
    pub fixed: BTreeMap<String, String>,
    pub target: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Panel {
    pub id: String,
    pub kind: PanelKind,
    pub title: Label,
    pub description: Label,
    #[serde(default)]
    pub note: Option<Label>,
    #[serde(default)]
    pub measure: Option<String>,
    /// The category (or period) dimension.
    #[serde(default)]
    pub dimension: Option<String>,
    /// A second dimension drawn as series (grouped bars, pyramid sides).
    #[serde(default)]
    pub series: Option<String>,
    /// Dimensions that belong to the breakdown without being drawn (the region and
    /// cercle a site lies in).
    #[serde(default)]
    pub context: Vec<String>,
    /// `value` (largest first) or `natural` (the dimension's own order).
    #[serde(default)]
    pub sort: Sort,
    /// Dimension values fixed for this panel (e.g. audience = "all").
    #[serde(default)]
    pub fixed: BTreeMap<String, String>,
    #[serde(default)]
    pub target: Option<Target>,
    /// Full width (default) or half width on wide screens.
    #[serde(default)]
    pub wide: Option<bool>,
    #[serde(default)]
    pub indicators: Vec<Indicator>,
    /// What a `budget` panel shows.
    #[serde(default)]
    pub show: Option<BudgetView>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    #[default]
    Value,
    Natural,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dashboard {
    pub id: String,
    /// Position in the navigation.
    pub order: u32,
    pub title: Label,
    pub summary: Label,
    /// Roles that may see the dashboard.
    pub roles: Vec<Role>,
    /// Filters offered.
    #[serde(default)]
    pub filters: Vec<Filter>,
    /// PONAM axes named by the indicators of a `ponam` panel.
    #[serde(default)]
    pub axes: BTreeMap<String, Label>,
    pub panels: Vec<Panel>,
    #[serde(skip)]
    pub file: PathBuf,
    /// The results framework its `results` panels show (`_results.toml` beside it).
    #[serde(skip)]
    pub results: Option<Arc<Framework>>,
    /// The grant's budget its `budget` panels show (`_budget.toml` beside it).
    #[serde(skip)]
    pub budget: Option<Arc<Budget>>,
}

impl Dashboard {
    /// Whether a role may open the dashboard (admins may open every one).
    pub fn allows(&self, role: Role) -> bool {
        role == Role::Admin || self.roles.contains(&role)
    }

    pub fn offers(&self, filter: Filter) -> bool {
        self.filters.contains(&filter)
    }

    pub fn panel(&self, id: &str) -> Option<&Panel> {
        self.panels.iter().find(|p| p.id == id)
    }

    /// Measures the dashboard reads.
    pub fn measures(&self) -> impl Iterator<Item = &str> {
        self.panels
            .iter()
            .flat_map(|p| {
                p.measure
                    .iter()
                    .map(String::as_str)
                    .chain(p.indicators.iter().map(|i| i.measure.as_str()))
            })
            .chain(self.results.iter().flat_map(|f| f.measures()))
            .chain(
                self.shows_budget()
                    .then_some(BUDGET_MEASURES)
                    .into_iter()
                    .flatten(),
            )
    }

    /// Whether a panel shows budget execution.
    pub fn shows_budget(&self) -> bool {
        self.panels.iter().any(|p| p.kind == PanelKind::Budget)
    }

    /// Whether a panel shows the results framework.
    pub fn shows_results(&self) -> bool {
        self.panels.iter().any(|p| p.kind == PanelKind::Results)
    }
}

/// Gives the dashboards that show the results framework the one of `dir`
/// (`_results.toml`), with the PONAM axes' names of all the dashboards.
pub fn attach_results(dashboards: &mut [Dashboard], dir: &Path) -> Result<(), DefinitionError> {
    if !dashboards.iter().any(Dashboard::shows_results) {
        return Ok(());
    }
    let mut framework = Framework::load(dir)?;
    framework.axes = axes_of(dashboards, dir);
    let framework = Arc::new(framework);
    for d in dashboards.iter_mut().filter(|d| d.shows_results()) {
        d.results = Some(framework.clone());
    }
    Ok(())
}

/// Gives the dashboards that show budget execution the budget of `dir`
/// (`_budget.toml`).
pub fn attach_budget(dashboards: &mut [Dashboard], dir: &Path) -> Result<(), DefinitionErrors> {
    if !dashboards.iter().any(Dashboard::shows_budget) {
        return Ok(());
    }
    let budget = Arc::new(Budget::load(&dir.join(budget::FILE))?);
    for d in dashboards.iter_mut().filter(|d| d.shows_budget()) {
        d.budget = Some(budget.clone());
    }
    Ok(())
}

/// The PONAM axes (code → name) the dashboards declare; when checking one file, those
/// of the other dashboards of its folder too.
pub fn axes_of(dashboards: &[Dashboard], dir: &Path) -> BTreeMap<String, crate::reference::Label> {
    let mut axes: BTreeMap<_, _> = dashboards.iter().flat_map(|d| d.axes.clone()).collect();
    if axes.is_empty() {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let dashboard = path.extension().is_some_and(|e| e == "toml")
                && !path
                    .file_name()
                    .is_some_and(|n| n.as_encoded_bytes().starts_with(b"_"));
            if let Some(d) = dashboard
                .then(|| std::fs::read_to_string(&path).ok())
                .flatten()
                .and_then(|text| parse(&path, &text).ok())
            {
                axes.extend(d.axes);
            }
        }
    }
    axes
}

/// Reads every `*.toml` of a folder, sorted by `order`.
pub fn load_dir(dir: &Path) -> Result<Vec<Dashboard>, DefinitionErrors> {
    let error = |message: String| {
        DefinitionErrors(vec![DefinitionError {
            file: dir.into(),
            line: 0,
            message,
        }])
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| error(format!("cannot read the dashboards folder ({e}); run from the project folder or pass --dashboards")))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        // `_programme.toml` and other `_` files describe the site, not a dashboard.
        .filter(|p| !p.file_name().is_some_and(|n| n.as_encoded_bytes().starts_with(b"_")))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(error("no dashboard (*.toml) in the folder".into()));
    }
    let mut dashboards = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match std::fs::read_to_string(&path).map_err(|e| e.to_string()) {
            Ok(text) => match parse(&path, &text) {
                Ok(d) => dashboards.push(d),
                Err(e) => errors.push(e),
            },
            Err(e) => errors.push(DefinitionError {
                file: path,
                line: 0,
                message: format!("cannot read: {e}"),
            }),
        }
    }
    for (i, d) in dashboards.iter().enumerate() {
        if dashboards[..i].iter().any(|o| o.id == d.id) {
            errors.push(DefinitionError {
                file: d.file.clone(),
                line: 1,
                message: format!("dashboard id {} is used twice", d.id),
            });
        }
    }
    if errors.is_empty() {
        if let Err(e) = attach_results(&mut dashboards, dir) {
            errors.push(e);
        }
        if let Err(e) = attach_budget(&mut dashboards, dir) {
            errors.extend(e.0);
        }
    }
    if !errors.is_empty() {
        return Err(DefinitionErrors(errors));
    }
    dashboards.sort_by_key(|d| (d.order, d.id.clone()));
    Ok(dashboards)
}

pub fn parse(path: &Path, text: &str) -> Result<Dashboard, DefinitionError> {
    let mut d: Dashboard = toml::from_str(text).map_err(|e| DefinitionError {
        file: path.into(),
        line: e
            .span()
            .map_or(1, |s| text[..s.start].matches('\n').count() + 1),
        message: e.message().to_string(),
    })?;
    d.file = path.into();
    Ok(d)
}

/// Line of the first line of `text` that mentions `needle` after the panel `id`.
fn line_of(text: &str, panel: Option<&str>, needle: &str) -> usize {
    let start = panel
        .and_then(|id| text.lines().position(|l| l.contains(&format!("\"{id}\""))))
        .unwrap_or(0);
    text.lines()
        .enumerate()
        .skip(start)
        .find(|(_, l)| l.contains(needle))
        .map_or(start + 1, |(i, _)| i + 1)
}

/// Checks dashboards against the measures they read.
pub fn validate(
    dashboards: &[Dashboard],
    measures: &[MeasureInfo],
) -> Result<(), DefinitionErrors> {
    let mut errors = Vec::new();
    let mut framework_errors = Vec::new();
    for d in dashboards {
        let text = std::fs::read_to_string(&d.file).unwrap_or_default();
        let mut fail = |panel: Option<&str>, needle: &str, message: String| {
            errors.push(DefinitionError {
                file: d.file.clone(),
                line: line_of(&text, panel, needle),
                message,
            });
        };
        if !is_slug(&d.id) {
            fail(
                None,
                "id",
                format!(
                    "dashboard id {:?} must be lower-case letters, digits and -",
                    d.id
                ),
            );
        }
        for (i, p) in d.panels.iter().enumerate() {
            let at = Some(p.id.as_str());
            if d.panels[..i].iter().any(|o| o.id == p.id) {
                fail(at, "id", format!("panel id {} is used twice", p.id));
            }
            if !is_slug(&p.id) {
                fail(
                    at,
                    "id",
                    format!(
                        "panel id {:?} must be lower-case letters, digits and -",
                        p.id
                    ),
                );
            }
            if p.kind == PanelKind::Results {
                match &d.results {
                    None => fail(
                        at,
                        "kind",
                        format!(
                            "a results panel shows {}: none was read beside the dashboard",
                            results::FILE
                        ),
                    ),
                    Some(f) => {
                        let axes: Vec<&str> = f.axes.keys().map(String::as_str).collect();
                        if let Err(e) = f.validate(measures, &axes) {
                            framework_errors.extend(e.0);
                        }
                    }
                }
                if d.filters.iter().any(|f| *f != Filter::Period) {
                    fail(
                        at,
                        "filters",
                        "a results dashboard offers the period filter only".into(),
                    );
                }
                continue;
            }
            if p.kind == PanelKind::Budget {
                if p.show.is_none() {
                    fail(
                        at,
                        "kind",
                        "a budget panel says what it shows: show = \"summary\", \"lines\", \"burn\" or \"outputs\"".into(),
                    );
                }
                if d.budget.is_none() {
                    fail(
                        at,
                        "kind",
                        format!(
                            "a budget panel shows {}: none was read beside the dashboard",
                            budget::FILE
                        ),
                    );
                }
                if d.filters
                    .iter()
                    .any(|f| !matches!(f, Filter::Period | Filter::Currency))
                {
                    fail(
                        at,
                        "filters",
                        "a budget dashboard offers the period and currency filters only".into(),
                    );
                }
                let needs: [(&str, &[&[&str]]); 3] = [
                    (
                        "spending",
                        &[
                            &[],
                            &["month"],
                            &["month", "budget_line"],
                            &["month", "output"],
                        ],
                    ),
                    ("beneficiaries", &[&[], &["quarter"]]),
                    ("trainees", &[&[], &["quarter"]]),
                ];
                for (id, breakdowns) in needs {
                    match measures.iter().find(|m| m.id == id) {
                        None => fail(
                            at,
                            "kind",
                            format!("a budget panel reads measure {id}, which does not exist"),
                        ),
                        Some(m) => {
                            for b in breakdowns {
                                if m.breakdown(b).is_none() {
                                    fail(
                                        at,
                                        "kind",
                                        format!(
                                            "a budget panel reads measure {id} by [{}], which it does not publish",
                                            b.join(", ")
                                        ),
                                    );
                                }
                            }
                        }
                    }
                }
                continue;
            }
            if p.show.is_some() {
                fail(at, "show", "only a budget panel has `show`".into());
            }
            if p.kind == PanelKind::Ponam {
                if p.indicators.is_empty() {
                    fail(at, "kind", "a ponam panel lists indicators".into());
                }
                for ind in &p.indicators {
                    if !d.axes.contains_key(&ind.axis) {
                        fail(
                            at,
                            &ind.axis,
                            format!("indicator axis {} is not in the dashboard's axes", ind.axis),
                        );
                    }
                    match measures.iter().find(|m| m.id == ind.measure) {
                        None => fail(at, &ind.measure, format!("unknown measure {}", ind.measure)),
                        Some(m) => {
                            let dims: Vec<&str> = ind.fixed.keys().map(String::as_str).collect();
                            if m.breakdown(&dims).is_none() {
                                fail(
                                    at,
                                    &ind.measure,
                                    format!(
                                        "measure {} does not publish the breakdown [{}]",
                                        m.id,
                                        dims.join(", ")
                                    ),
                                );
                            }
                        }
                    }
                }
                continue;
            }
            let Some(measure_id) = &p.measure else {
                fail(at, "kind", format!("panel {} names no measure", p.id));
                continue;
            };
            let Some(m) = measures.iter().find(|m| &m.id == measure_id) else {
                fail(at, "measure", format!("unknown measure {measure_id}"));
                continue;
            };
            let mut dims: Vec<&str> = p.fixed.keys().map(String::as_str).collect();
            match (p.kind, &p.dimension) {
                (PanelKind::Kpi, Some(_)) => fail(
                    at,
                    "dimension",
                    "a kpi panel shows one total: no dimension".into(),
                ),
                (PanelKind::Kpi, None) => {}
                (_, None) => fail(
                    at,
                    "kind",
                    format!("a {:?} panel needs a dimension", p.kind).to_lowercase(),
                ),
                (_, Some(dim)) => dims.push(dim),
            }
            if let Some(series) = &p.series {
                dims.push(series);
            }
            dims.extend(p.context.iter().map(String::as_str));
            if p.kind == PanelKind::Pyramid && p.series.is_none() {
                fail(
                    at,
                    "kind",
                    "a pyramid panel needs a series dimension (e.g. sex)".into(),
                );
            }
            if p.kind == PanelKind::Map && p.dimension.as_deref() != Some(dimension::REGION) {
                fail(
                    at,
                    "dimension",
                    "a map panel shows the region dimension".into(),
                );
            }
            for dim in &dims {
                if !m.dimensions.iter().any(|x| x == dim) {
                    fail(at, dim, format!("measure {} has no dimension {dim}", m.id));
                }
            }
            if m.breakdown(&dims).is_none() {
                fail(
                    at,
                    "measure",
                    format!(
                        "measure {} does not publish the breakdown [{}] this panel shows",
                        m.id,
                        dims.join(", ")
                    ),
                );
            }
        }
    }
    // One framework shown by several dashboards is reported once.
    for e in framework_errors {
        if !errors.iter().any(|o: &DefinitionError| {
            o.line == e.line && o.message == e.message && o.file == e.file
        }) {
            errors.push(e);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(DefinitionErrors(errors))
    }
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}
