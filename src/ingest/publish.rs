//! Publishing: every measure computed over the private store, protected by the
//! disclosure layer, and written as a new snapshot that `CURRENT` then names — with the
//! disclosure state of the cells committed before the switch and the run's report kept
//! on the private side.

use std::path::Path;
use std::time::Instant;

use chrono::Utc;

use super::IngestError;
use crate::definitions::Measure;
use crate::disclosure::{self, Disclosure, DisclosureError, report, state};
use crate::reference::Register;
use crate::snapshot::{self, Metadata, Published, PublishedMeasure, SnapshotId};
use crate::store::{Outcome as LoadOutcome, PrivateStore};

/// Where a snapshot's figures come from, recorded in its metadata.
pub(super) struct Provenance {
    /// Fingerprint of the measure definitions and the policy.
    pub definitions: String,
    /// The newest accepted load the snapshot includes.
    pub last_load: Option<i64>,
    /// The public name of the record-key secret, and whether it changed since the
    /// previous snapshot.
    pub key_id: String,
    pub key_changed: bool,
}

/// The disclosure-state generation a snapshot was published with (0 for none).
pub(super) fn generation(published: &Published, id: Option<&SnapshotId>) -> i64 {
    id.and_then(|id| snapshot::open_read_only(&published.path_of(id)).ok())
        .and_then(|conn| snapshot::read_meta(&conn, "sdc_generation"))
        .and_then(|g| g.parse().ok())
        .unwrap_or(0)
}

/// Computes every measure, protects its cells and publishes them as a new snapshot.
#[allow(clippy::too_many_arguments)]
pub(super) fn publish(
    store: &PrivateStore,
    published: &Published,
    private: &Path,
    measures: &[Measure],
    disclosure: &Disclosure,
    register: &Register,
    provenance: Provenance,
    dashboards: Option<&[crate::definitions::Dashboard]>,
) -> Result<SnapshotId, IngestError> {
    let started = Instant::now();
    let conn = store.connection();
    let coverage = store.coverage()?;
    let current_id = published.current().ok().flatten();
    let current = generation(published, current_id.as_ref());
    let run = disclosure::Run {
        register,
        coverage: &coverage,
        current,
        next: current + 1,
    };
    let at = |id: &str| {
        let id = id.to_string();
        move |source| DisclosureError::Measure { id, source }
    };
    state::prepare(conn, current, &disclosure.policy.version).map_err(at("state"))?;
    disclosure.install(conn, register).map_err(at("ptable"))?;
    // The cells and their state are settled in one transaction, committed before the
    // snapshot is switched: a crash leaves rows of a generation no snapshot names,
    // which the next run discards.
    store.execute_batch("BEGIN TRANSACTION")?;
    let settled: Result<Vec<(&Measure, disclosure::Protected)>, IngestError> = measures
        .iter()
        .map(|m| {
            let t = Instant::now();
            let p = disclosure.protect(conn, m, &run)?;
            tracing::debug!(measure = %m.id, seconds = t.elapsed().as_secs_f64(), "measure protected");
            Ok((m, p))
        })
        .collect();
    let settled = match settled {
        Ok(s) => s,
        Err(e) => {
            let _ = store.execute_batch("ROLLBACK");
            return Err(e);
        }
    };
    store.execute_batch("COMMIT")?;
    let mut report = report::compute(conn, disclosure, &settled).map_err(at("report"))?;
    let cells: Vec<PublishedMeasure> = measures
        .iter()
        .map(|m| PublishedMeasure {
            measure: m,
            cells_table: Disclosure::protected_table(m),
        })
        .collect();
    let protected_at = started.elapsed().as_secs_f64();
    let last_load_at = store
        .loads()?
        .iter()
        .filter(|l| l.outcome == LoadOutcome::Accepted)
        .map(|l| l.at)
        .max();
    let policy = &disclosure.policy;
    let note = policy.note();
    let mut extra = vec![
        ("policy_version".into(), policy.version.clone()),
        ("threshold".into(), policy.threshold.to_string()),
        ("note_fr".into(), note.fr),
        ("note_en".into(), note.en),
        ("secret_key_id".into(), provenance.key_id),
        ("sdc_generation".into(), run.next.to_string()),
        (
            "disclosure_report".into(),
            serde_json::to_string(&report.public()).unwrap_or_default(),
        ),
    ];
    if let Some(id) = provenance.last_load {
        extra.push(("last_load_id".into(), id.to_string()));
    }
    let created_at = Utc::now();
    if provenance.key_changed {
        extra.push(("secret_key_changed_at".into(), created_at.to_rfc3339()));
    }
    let meta = Metadata {
        created_at,
        data_as_of: coverage.iter().map(|c| c.2).max(),
        last_load_at,
        definitions: provenance.definitions,
        coverage,
        extra,
        sites: register.sites.clone(),
    };
    let draft = published.draft_path();
    let written = snapshot::write_snapshot(conn, &draft, &cells, &meta);
    for m in measures {
        let _ = Disclosure::cleanup(conn, m);
    }
    if let Err(e) = written {
        let _ = std::fs::remove_file(&draft);
        return Err(e.into());
    }
    // The draft is read back as a server reads it, and must fit the dashboards, before
    // CURRENT may name it.
    if let Some(dashboards) = dashboards {
        let checked = snapshot::Snapshot::load_file(&draft, &SnapshotId::draft())
            .map_err(IngestError::from)
            .and_then(|s| {
                crate::definitions::dashboard::validate(dashboards, &s.measures)
                    .map_err(IngestError::Unservable)
            });
        if let Err(e) = checked {
            let _ = std::fs::remove_file(&draft);
            return Err(e);
        }
    }
    let id = published.commit(&draft, meta.created_at)?;
    report.snapshot = Some(id.to_string());
    if let Err(e) = report::save(private, &report) {
        tracing::warn!(error = %e, "cannot keep the disclosure report");
    }
    tracing::info!(
        measures_seconds = protected_at,
        total_seconds = started.elapsed().as_secs_f64(),
        "measures computed, protected and published"
    );
    Ok(id)
}

/// Drops disclosure state no kept snapshot needs.
pub(super) fn prune_state(store: &PrivateStore, published: &Published) -> Result<(), IngestError> {
    let kept = published.list()?;
    let horizon = kept
        .iter()
        .map(|id| generation(published, Some(id)))
        .min()
        .unwrap_or(0);
    state::prune(store.connection(), horizon).map_err(|source| {
        IngestError::Disclosure(DisclosureError::Measure {
            id: "state".into(),
            source,
        })
    })
}
