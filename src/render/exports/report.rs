//! The quarterly donor report (`reintegra report`, `/report/{quarter}.pdf`): one A4 PDF
//! for a quarter, in French or English — a cover with the programme and the disclosure
//! note; the results framework for the quarter; budget execution in the quarter (spent
//! against planned, per line, cumulative, per output, costs per person); what changed
//! since the previous
//! quarter (every headline figure with its change, from published figures only); the
//! key time series with the numbered marks of the notes programme leads wrote, listed
//! under each chart; what happened in the quarter;
//! and the PONAM alignment. It is drawn like the briefing pack (same layout, fonts
//! embedded), from the snapshot served and the definitions — never from a record.

use super::briefing::{Layout, Pack, draw};
use super::{ExportError, Stamp};
use crate::definitions::{Dashboard, Notes, PanelKind, Programme};
use crate::present::filters::{Compare, Filters, Period};
use crate::present::i18n::{Locale, format_period};
use crate::present::notes::format_when;
use crate::snapshot::Snapshot;

/// The report for `quarter` (a `Period::Quarter`) over the dashboards its reader may
/// open, in `locale`.
pub fn quarterly(
    snapshot: &Snapshot,
    dashboards: &[&Dashboard],
    programme: &Programme,
    notes: &Notes,
    quarter: Period,
    locale: Locale,
) -> Result<Vec<u8>, ExportError> {
    let l = locale;
    let period_name = format_period(&quarter.code(), l);
    let compared = Filters {
        period: Some(quarter),
        compare: Some(Compare::Previous),
        ..Filters::default()
    };
    let first = dashboards
        .first()
        .ok_or_else(|| ExportError::Pdf("no dashboard to report on".into()))?;
    let mut stamp = Stamp::new(snapshot, first, &compared, l);
    stamp.dashboard = format!(
        "{} — {period_name}",
        l.pick("Rapport trimestriel", "Quarterly report")
    );
    let mut pack = Pack {
        layout: Layout::new(),
        snapshot,
        stamp,
        locale: l,
        notes: Some(notes),
    };
    let summary = programme
        .lead
        .as_ref()
        .or(programme.tagline.as_ref())
        .map(|t| l.pick(&t.fr, &t.en).to_string())
        .unwrap_or_default();
    pack.cover_with(
        l.pick(
            "reintegra · Rapport trimestriel au bailleur",
            "reintegra · Quarterly donor report",
        ),
        &format!(
            "{} — {period_name}",
            l.pick("Rapport trimestriel", "Quarterly report")
        ),
        &summary,
    );

    // 1. The results framework, for the quarter.
    for d in dashboards {
        for p in d.panels.iter().filter(|p| p.kind == PanelKind::Results) {
            let filters = Filters {
                period: Some(quarter),
                ..Filters::default()
            };
            pack.results(d, p, &filters);
        }
    }

    // 2. Budget execution in the quarter, in the grant's currency: the headline
    // figures, every budget line and cumulative spending against the plan.
    for d in dashboards.iter().filter(|d| d.shows_budget()) {
        pack.heading(&format!(
            "{} — {period_name}",
            l.pick(&d.title.fr, &d.title.en)
        ));
        let filters = Filters {
            period: Some(quarter),
            ..Filters::default()
        };
        for p in d.panels.iter().filter(|p| p.kind == PanelKind::Budget) {
            pack.budget(d, p, &filters)?;
        }
    }

    // 3. What changed since the previous quarter: every headline figure.
    pack.heading(l.pick(
        "Ce qui a changé depuis le trimestre précédent",
        "What changed since the previous quarter",
    ));
    for d in dashboards
        .iter()
        .filter(|d| d.panels.iter().any(|p| p.kind == PanelKind::Kpi))
    {
        let kpis: Vec<_> = d
            .panels
            .iter()
            .filter(|p| p.kind == PanelKind::Kpi)
            .collect();
        // Pages without a period filter publish whole-programme headlines only.
        let (filters, against) = if d.offers(crate::definitions::dashboard::Filter::Period) {
            (compared, Some(quarter.previous()))
        } else {
            (Filters::default(), None)
        };
        pack.subheading(l.pick(&d.title.fr, &d.title.en));
        pack.key_figures_titled(&kpis, &filters, against, None);
    }

    // 4. The key time series, whole programme, then what happened in the quarter.
    pack.heading(l.pick(
        "Évolution depuis le début du programme",
        "Trends since the programme began",
    ));
    for d in dashboards {
        for p in d.panels.iter().filter(|p| p.kind == PanelKind::Line) {
            pack.chart_panel(d, p, &Filters::default())?;
        }
    }
    let (start, end) = quarter_bounds(quarter);
    let mut happened: Vec<_> = notes
        .all()
        .iter()
        .filter(|n| n.when.start() <= end && n.when.end() >= start)
        .filter(|n| dashboards.iter().any(|d| d.id == n.dashboard))
        .collect();
    happened.sort_by_key(|n| (n.when.start(), n.when.end()));
    pack.heading(&format!(
        "{} — {period_name}",
        l.pick("Ce qui s'est passé", "What happened")
    ));
    if happened.is_empty() {
        pack.paragraph(l.pick(
            "Aucune note n'a été rédigée pour ce trimestre.",
            "No note was written for this quarter.",
        ));
    }
    for n in happened {
        let dashboard = dashboards
            .iter()
            .find(|d| d.id == n.dashboard)
            .map(|d| l.pick(&d.title.fr, &d.title.en).to_string())
            .unwrap_or_default();
        pack.paragraph(&format!(
            "{} · {dashboard} — {}",
            format_when(n.when, l),
            l.pick(&n.text.fr, &n.text.en)
        ));
    }

    // 5. The policy alignment.
    for d in dashboards {
        for p in d.panels.iter().filter(|p| p.kind == PanelKind::Ponam) {
            pack.ponam(d, p, false);
        }
    }
    pack.feet();
    draw(pack.layout, &pack.stamp, l)
}

/// First and last day of a quarter (of any period, in fact).
fn quarter_bounds(p: Period) -> (chrono::NaiveDate, chrono::NaiveDate) {
    use chrono::NaiveDate;
    let (y, first, last) = match p {
        Period::Year(y) => (y, 1, 12),
        Period::Quarter(y, q) => (y, u32::from(q) * 3 - 2, u32::from(q) * 3),
        Period::Month(y, m) => (y, u32::from(m), u32::from(m)),
    };
    let y = i32::from(y);
    let start = NaiveDate::from_ymd_opt(y, first, 1).unwrap_or_default();
    let next = if last == 12 {
        NaiveDate::from_ymd_opt(y + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(y, last + 1, 1)
    };
    let end = next.and_then(|d| d.pred_opt()).unwrap_or(start);
    (start, end)
}

/// Why `reintegra report` could not make a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Definitions(#[from] crate::definitions::DefinitionErrors),
    #[error(transparent)]
    Definition(#[from] crate::definitions::DefinitionError),
    #[error(transparent)]
    Snapshot(#[from] crate::snapshot::SnapshotError),
    #[error("nothing is published yet in {0}: run the nightly job first")]
    NothingPublished(std::path::PathBuf),
    #[error(
        "{0:?} is not a quarter the published snapshot covers (write it YYYY-Qn, e.g. 2019-Q3; it covers {1})"
    )]
    NoSuchQuarter(String, String),
    #[error("the report could not be drawn: {0}")]
    Export(#[from] ExportError),
}

/// The report of a data folder's current snapshot for `quarter` (`YYYY-Qn`), over the
/// dashboards a `role` opens, with the notes of `DATA/notes/` (notes that fail their
/// checks are left out, as the server does).
pub fn for_data_folder(
    data: &std::path::Path,
    dashboards_dir: &std::path::Path,
    quarter: &str,
    role: crate::access::Role,
    locale: Locale,
) -> Result<Vec<u8>, ReportError> {
    let dashboards = crate::definitions::dashboard::load_dir(dashboards_dir)?;
    let programme = Programme::load(dashboards_dir)?;
    let snapshot = Snapshot::load_current(data)?
        .ok_or_else(|| ReportError::NothingPublished(data.to_path_buf()))?;
    crate::definitions::dashboard::validate(&dashboards, &snapshot.measures)?;
    let open: Vec<&Dashboard> = dashboards.iter().filter(|d| d.allows(role)).collect();
    let quarters: std::collections::BTreeSet<String> = open
        .iter()
        .flat_map(|d| crate::present::filters::Options::of(d, &snapshot).quarters)
        .collect();
    let period = Period::parse(quarter.trim())
        .filter(|p| matches!(p, Period::Quarter(..)))
        .filter(|p| quarters.contains(&p.code()))
        .ok_or_else(|| {
            let covered = match (quarters.first(), quarters.last()) {
                (Some(a), Some(b)) => format!("{a} to {b}"),
                _ => "no quarter".into(),
            };
            ReportError::NoSuchQuarter(quarter.chars().take(20).collect(), covered)
        })?;
    let notes = crate::definitions::notes::load_dir(
        &data.join(crate::definitions::notes::DIR),
        &dashboards,
    );
    Ok(quarterly(
        &snapshot,
        &open,
        &programme,
        &notes.notes,
        period,
        locale,
    )?)
}
