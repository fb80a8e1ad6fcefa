//! The disclosure report as it travels: what the disclosure layer did to a run's
//! figures (published, suppressed and held cells per measure, deviations from the
//! truth, our own attacks' results, the perturbation table's risk and utility).
//!
//! The job computes it (`disclosure::report`) and keeps it whole on the private side;
//! a snapshot carries only its non-revealing part (`Report::public`), which
//! administrators read under `/admin/disclosure`.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// One measure's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MeasureReport {
    pub id: String,
    pub person: bool,
    pub cells: u64,
    pub published: u64,
    pub suppressed: u64,
    /// Cells keeping an earlier value (private).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<u64>,
    /// Cells published afresh because enough members changed (private).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refreshed: Option<u64>,
    /// Share of cells with a true count of 10 to 14 that are suppressed.
    pub suppression_rate_10_14: Option<f64>,
    /// Mean absolute difference between published and true figures (published cells).
    pub mean_absolute_deviation: Option<f64>,
    pub largest_deviation: Option<f64>,
    /// Narrowest range an attacker gets for a suppressed cell by subtracting published
    /// cells of one parent–children relation (the full LP runs in the tests).
    pub narrowest_range: Option<f64>,
    /// Means published where fewer than T people stand behind them (must be 0).
    pub means_below_threshold: u64,
}

/// Published figures of the same people, compared across measures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CrossMeasure {
    /// Pairs of cells of two measures with the same breakdown, the same true count and
    /// the same people.
    pub pairs: u64,
    /// Of those, pairs published with different values (an average narrows the truth).
    pub differing: u64,
}

/// A row of the perturbation table, as its risk–utility figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableRow {
    pub count: u32,
    pub stays: f64,
    pub expected_absolute_noise: f64,
    pub variance: f64,
    /// Probability that the published count is below the threshold.
    pub suppressed: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub snapshot: Option<String>,
    pub policy_version: String,
    pub threshold: u32,
    pub measures: Vec<MeasureReport>,
    pub cross_measure: CrossMeasure,
    pub table: Vec<TableRow>,
}

impl Report {
    /// The part that may travel with a snapshot: everything but what was held.
    pub fn public(&self) -> Report {
        let mut r = self.clone();
        for m in &mut r.measures {
            m.held = None;
            m.refreshed = None;
        }
        r
    }

    /// The report as text, for `reintegra disclosure report`.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let fmt = |x: Option<f64>, digits: usize| {
            x.map_or("–".to_string(), |v| format!("{v:.digits$}"))
        };
        let _ = writeln!(
            out,
            "disclosure report — snapshot {}, policy {}, threshold {}\n",
            self.snapshot.as_deref().unwrap_or("(not published)"),
            self.policy_version,
            self.threshold
        );
        let _ = writeln!(
            out,
            "{:<26} {:>7} {:>9} {:>10} {:>6} {:>10} {:>6} {:>7} {:>8}",
            "measure",
            "cells",
            "published",
            "suppressed",
            "held",
            "supp10-14",
            "MAD",
            "largest",
            "LP range"
        );
        for m in &self.measures {
            let _ = writeln!(
                out,
                "{:<26} {:>7} {:>9} {:>10} {:>6} {:>10} {:>6} {:>7} {:>8}",
                m.id,
                m.cells,
                m.published,
                m.suppressed,
                m.held.map_or("–".to_string(), |h| h.to_string()),
                m.suppression_rate_10_14
                    .map_or("–".to_string(), |r| format!("{:.0}%", r * 100.0)),
                fmt(m.mean_absolute_deviation, 2),
                fmt(m.largest_deviation, 1),
                fmt(m.narrowest_range, 1),
            );
        }
        let means: u64 = self.measures.iter().map(|m| m.means_below_threshold).sum();
        let _ = writeln!(
            out,
            "\nmeans published over fewer than {} people: {means}",
            self.threshold
        );
        let _ = writeln!(
            out,
            "cells of two measures with the same people and count: {} pairs, {} published differently",
            self.cross_measure.pairs, self.cross_measure.differing
        );
        let _ = writeln!(
            out,
            "\nperturbation table (count: P(stays), E|noise|, variance, P(<{})):",
            self.threshold
        );
        for r in &self.table {
            let _ = writeln!(
                out,
                "  {:>3}: {:.3}  {:.2}  {:.2}  {:.3}",
                r.count, r.stays, r.expected_absolute_noise, r.variance, r.suppressed
            );
        }
        out
    }
}
