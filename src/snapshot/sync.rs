//! Copying published snapshots to another folder (another machine's `published/`, a
//! mounted share) so that replicas there serve them — in the order that keeps every
//! reader whole: each snapshot file is copied under a temporary name, synced and renamed,
//! and only then is `CURRENT` replaced (aside, then renamed). A server reading the target
//! meanwhile sees either the old pointer (to a complete old file) or the new one (to a
//! complete new file). Snapshots the source no longer has are removed from the target
//! last, never the one the target's `CURRENT` names.

use std::fs::{self, File};
use std::io;
use std::path::Path;

use super::{CURRENT, Published, SnapshotError, SnapshotId, TEMP_PREFIX, io_err, sync_dir};

/// What a sync did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SyncSummary {
    pub copied: Vec<SnapshotId>,
    pub removed: Vec<SnapshotId>,
    /// The snapshot the target's `CURRENT` names now.
    pub current: Option<SnapshotId>,
}

/// Makes `to` hold the snapshots of `from` and name the same current one.
pub fn sync(from: &Published, to: &Published) -> Result<SyncSummary, SnapshotError> {
    let mut summary = SyncSummary::default();
    fs::create_dir_all(to.dir()).map_err(io_err(to.dir()))?;
    crate::status::set_mode(to.dir(), 0o750).map_err(io_err(to.dir()))?;
    let current = from.current()?;
    let wanted = from.list()?;
    let present = to.list()?;
    for id in &wanted {
        let target = to.path_of(id);
        // Names carry the file's hash: same name, same bytes, unless a copy was cut
        // short, which a size check catches.
        let same = fs::metadata(&target)
            .and_then(|t| fs::metadata(from.path_of(id)).map(|f| f.len() == t.len()))
            .unwrap_or(false);
        if present.contains(id) && same {
            continue;
        }
        copy_file(&from.path_of(id), &target, to.dir())?;
        summary.copied.push(id.clone());
    }
    sync_dir(to.dir())?;
    if let Some(id) = &current {
        // The pointer is written from what was read before the copies, never copied:
        // the source's job may switch it meanwhile.
        let tmp = to.dir().join(format!("{CURRENT}.tmp"));
        (|| -> io::Result<()> {
            let mut f = File::create(&tmp)?;
            io::Write::write_all(&mut f, format!("{}\n", id.file_name()).as_bytes())?;
            f.sync_all()?;
            crate::status::set_mode(&tmp, 0o640)
        })()
        .map_err(io_err(&tmp))?;
        let pointer = to.dir().join(CURRENT);
        fs::rename(&tmp, &pointer).map_err(io_err(&pointer))?;
        sync_dir(to.dir())?;
        summary.current = Some(id.clone());
    }
    let now_current = to.current().ok().flatten();
    for id in to.list()? {
        if !wanted.contains(&id) && Some(&id) != now_current.as_ref() {
            let path = to.path_of(&id);
            fs::remove_file(&path).map_err(io_err(&path))?;
            summary.removed.push(id);
        }
    }
    Ok(summary)
}

/// Copies `from` to `to` through a temporary file in `dir`, synced, group-readable.
fn copy_file(from: &Path, to: &Path, dir: &Path) -> Result<(), SnapshotError> {
    let tmp = dir.join(format!("{TEMP_PREFIX}sync-{}", std::process::id()));
    let copied = (|| -> io::Result<()> {
        let mut source = File::open(from)?;
        let mut target = File::create(&tmp)?;
        io::copy(&mut source, &mut target)?;
        target.sync_all()?;
        crate::status::set_mode(&tmp, 0o640)?;
        fs::rename(&tmp, to)
    })();
    if copied.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    copied.map_err(io_err(to))
}

/// Syncs the data folder `from` into `to`: `published/` as [`sync`] does, then the
/// job's status (`status/ingest.json`), so that replicas there report the last run.
pub fn sync_data(from: &Path, to: &Path) -> Result<SyncSummary, SnapshotError> {
    let summary = sync(
        &Published::new(from.join("published")),
        &Published::new(to.join("published")),
    )?;
    if let Some(status) = crate::status::Status::read(from) {
        status.write(to).map_err(io_err(&crate::status::dir(to)))?;
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publish(dir: &Path, bytes: &[u8], at: &str) -> SnapshotId {
        let published = Published::new(dir);
        fs::create_dir_all(dir).unwrap();
        let draft = published.draft_path();
        fs::write(&draft, bytes).unwrap();
        let at = chrono::DateTime::parse_from_rfc3339(at)
            .unwrap()
            .with_timezone(&chrono::Utc);
        published.commit(&draft, at).unwrap()
    }

    #[test]
    fn sync_copies_files_before_the_pointer_and_removes_what_the_source_dropped() {
        let root = tempfile::tempdir().unwrap();
        let (a, b) = (root.path().join("a"), root.path().join("b"));
        let first = publish(&a, b"first", "2019-09-01T02:00:00Z");
        let summary = sync(&Published::new(&a), &Published::new(&b)).unwrap();
        assert_eq!(summary.copied, vec![first.clone()]);
        assert_eq!(Published::new(&b).current().unwrap(), Some(first.clone()));

        let second = publish(&a, b"second", "2019-09-02T02:00:00Z");
        fs::remove_file(Published::new(&a).path_of(&first)).unwrap();
        let summary = sync(&Published::new(&a), &Published::new(&b)).unwrap();
        assert_eq!(summary.copied, vec![second.clone()]);
        assert_eq!(summary.removed, vec![first]);
        assert_eq!(Published::new(&b).list().unwrap(), vec![second.clone()]);
        assert_eq!(
            fs::read(Published::new(&b).path_of(&second)).unwrap(),
            b"second"
        );
        // Nothing new: nothing copied, the pointer rewritten to the same name.
        let again = sync(&Published::new(&a), &Published::new(&b)).unwrap();
        assert!(again.copied.is_empty() && again.removed.is_empty());
        assert!(fs::read_dir(&b).unwrap().all(|e| {
            !e.unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(TEMP_PREFIX)
        }));
    }

    #[test]
    fn a_truncated_copy_is_copied_again() {
        let root = tempfile::tempdir().unwrap();
        let (a, b) = (root.path().join("a"), root.path().join("b"));
        let id = publish(&a, b"the whole snapshot", "2019-09-01T02:00:00Z");
        sync(&Published::new(&a), &Published::new(&b)).unwrap();
        fs::write(Published::new(&b).path_of(&id), b"the whole").unwrap();
        let summary = sync(&Published::new(&a), &Published::new(&b)).unwrap();
        assert_eq!(summary.copied, vec![id.clone()]);
        assert_eq!(
            fs::read(Published::new(&b).path_of(&id)).unwrap(),
            b"the whole snapshot"
        );
    }
}
