//! What the job tells the deliveries page (`DATA/deliveries/`, read by the servers):
//! every file received with its outcome and months, what each kind covers, and the
//! reports of quarantined files — rules, columns, rows, explanations and fixes in both
//! languages. Names, times, months and counts only: no row and no cell of a file goes
//! there (the reports hold none to begin with).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::{FileOutcome, FileResult, IngestError};
use crate::reference::Label;
use crate::status::{Coverage, Deliveries, Delivery, DeliveryReport, ReportGroup};
use crate::store::{LoadRecord, Outcome, PrivateStore};

/// Rewrites `DATA/deliveries/` from the store's load records, keeping the reports of
/// this run's quarantined files.
pub(super) fn record(
    store: &PrivateStore,
    data: &Path,
    run_started: DateTime<Utc>,
    files: &[FileResult],
    stale_after_days: u32,
) -> Result<(), IngestError> {
    let io = |e: std::io::Error| IngestError::Io {
        path: crate::status::deliveries_dir(data),
        source: e,
    };
    let mut loads = store.loads()?;
    loads.sort_by(|a, b| b.at.cmp(&a.at).then(b.load_id.cmp(&a.load_id)));
    // This run's quarantined files: their reports, under the load's id.
    for file in files {
        let FileOutcome::Rejected { report, .. } = &file.outcome else {
            continue;
        };
        let Some(load) = loads
            .iter()
            .find(|l| l.file == file.name && l.outcome == Outcome::Rejected && l.at >= run_started)
        else {
            continue;
        };
        match read_report(report) {
            Some(r) => Deliveries::keep_report(data, &report_name(load.load_id), &r).map_err(io)?,
            None => {
                tracing::warn!(file = %file.name, "the quarantine report could not be read back for the deliveries page")
            }
        }
    }
    let reports = crate::status::deliveries_dir(data).join("reports");
    let older = loads.len().saturating_sub(Deliveries::KEPT);
    let listed: Vec<Delivery> = loads
        .iter()
        .take(Deliveries::KEPT)
        .map(|l| delivery(l, &reports))
        .collect();
    let coverage = store
        .coverage()?
        .into_iter()
        .map(|(kind, first, last)| Coverage {
            kind: kind.name().to_string(),
            first: Some(first.to_string()),
            last: Some(last.to_string()),
            last_accepted_at: loads
                .iter()
                .filter(|l| l.kind == Some(kind) && l.outcome == Outcome::Accepted)
                .map(|l| l.at)
                .max(),
        });
    let mut coverage: Vec<Coverage> = coverage.collect();
    for kind in crate::domain::Kind::ALL {
        if !coverage.iter().any(|c| c.kind == kind.name()) {
            coverage.push(Coverage {
                kind: kind.name().to_string(),
                first: None,
                last: None,
                last_accepted_at: None,
            });
        }
    }
    coverage.sort_by_key(|c| {
        crate::domain::Kind::ALL
            .iter()
            .position(|k| k.name() == c.kind)
    });
    let record = Deliveries {
        written_at: Utc::now(),
        stale_after_days,
        files: listed,
        coverage,
        older,
    };
    record.write(data).map_err(io)?;
    prune_reports(&reports, &record);
    Ok(())
}

fn report_name(load_id: i64) -> String {
    format!("{load_id}.json")
}

fn delivery(l: &LoadRecord, reports: &Path) -> Delivery {
    let outcome = match l.outcome {
        Outcome::Accepted if l.replaced > 0 => "replaced",
        Outcome::Accepted => "accepted",
        Outcome::Rejected => "quarantined",
        Outcome::Duplicate => "duplicate",
    };
    let report = (l.outcome == Outcome::Rejected)
        .then(|| report_name(l.load_id))
        .filter(|name| reports.join(name).is_file());
    Delivery {
        id: l.load_id,
        file: l.file.clone(),
        kind: l.kind.map(|k| k.name().to_string()),
        received_at: l.at,
        outcome: outcome.to_string(),
        months: l.span.map(|s| (s.first.to_string(), s.last.to_string())),
        rows: l.rows,
        replaced: l.replaced,
        problems: l.problems,
        report,
    }
}

/// The JSON report written beside a quarantined file, as the page shows it.
fn read_report(text_report: &Path) -> Option<DeliveryReport> {
    let json: PathBuf = {
        let name = text_report.file_name()?.to_string_lossy().into_owned();
        text_report.with_file_name(name.strip_suffix(".txt").map(|n| format!("{n}.json"))?)
    };
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(json).ok()?).ok()?;
    let label = |x: &serde_json::Value| -> Option<Label> {
        Some(Label {
            fr: x.get("fr")?.as_str()?.to_string(),
            en: x.get("en")?.as_str()?.to_string(),
        })
    };
    let problems = v["problems"]
        .as_array()?
        .iter()
        .map(|p| {
            let message = p["message"].as_str().unwrap_or_default().to_string();
            ReportGroup {
                column: p["column"].as_str().map(str::to_string),
                rule: p["rule"].as_str().unwrap_or_default().to_string(),
                rows: p["rows"]
                    .as_array()
                    .map(|rows| {
                        rows.iter()
                            .filter_map(|r| Some((r.get(0)?.as_u64()?, r.get(1)?.as_u64()?)))
                            .collect()
                    })
                    .unwrap_or_default(),
                count: p["count"].as_u64().unwrap_or(0),
                explanation: label(&p["explanation"]).unwrap_or(Label {
                    fr: message.clone(),
                    en: message,
                }),
                fix: label(&p["fix"]).unwrap_or(Label {
                    fr: String::new(),
                    en: String::new(),
                }),
            }
        })
        .collect();
    Some(DeliveryReport {
        file: v["file"].as_str()?.to_string(),
        kind: v["kind"].as_str().map(str::to_string),
        rows_read: v["rows_read"].as_u64().unwrap_or(0),
        pii: v["pii"].as_bool().unwrap_or(false),
        problem_count: v["problem_count"].as_u64().unwrap_or(0),
        problems,
    })
}

/// Removes kept reports that no listed delivery names.
fn prune_reports(dir: &Path, record: &Deliveries) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !record
            .files
            .iter()
            .any(|f| f.report.as_deref() == Some(name.as_str()))
        {
            let _ = std::fs::remove_file(e.path());
        }
    }
}
