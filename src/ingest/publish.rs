//! Publishing: every measure computed over the private store, protected by the
//! disclosure layer, and written as a new snapshot that `CURRENT` then names.

use std::time::Instant;

use chrono::Utc;

use super::IngestError;
use crate::disclosure::{Disclosure, DisclosureError};
use crate::measures::Measure;
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

/// Computes every measure, protects its cells and publishes them as a new snapshot.
pub(super) fn publish(
    store: &PrivateStore,
    published: &Published,
    measures: &[Measure],
    disclosure: &Disclosure,
    provenance: Provenance,
) -> Result<SnapshotId, IngestError> {
    let started = Instant::now();
    let conn = store.connection();
    disclosure
        .install(conn)
        .map_err(|source| DisclosureError::Measure {
            id: "ptable".into(),
            source,
        })?;
    let mut cells = Vec::new();
    for m in measures {
        let measure_started = Instant::now();
        disclosure.protect(conn, m)?;
        tracing::debug!(measure = %m.id, seconds = measure_started.elapsed().as_secs_f64(), "measure protected");
        cells.push(PublishedMeasure {
            measure: m,
            cells_table: Disclosure::protected_table(m),
        });
    }
    let protected_at = started.elapsed().as_secs_f64();
    let coverage = store.coverage()?;
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
    };
    let draft = published.draft_path();
    let written = snapshot::write_snapshot(conn, &draft, &cells, &meta);
    for m in measures {
        store.execute_batch(&format!(
            "DROP TABLE IF EXISTS {}",
            Disclosure::protected_table(m)
        ))?;
    }
    if let Err(e) = written {
        let _ = std::fs::remove_file(&draft);
        return Err(e.into());
    }
    let id = published.commit(&draft, meta.created_at)?;
    tracing::info!(
        measures_seconds = protected_at,
        total_seconds = started.elapsed().as_secs_f64(),
        "measures computed, protected and published"
    );
    Ok(id)
}
