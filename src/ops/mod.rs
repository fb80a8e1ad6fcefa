//! ops: looking after a data folder — backing it up into one archive file, restoring
//! it, and checking that it is safe to run (`doctor`).
//!
//! It owns the backup archive's format and `DATA/private/last-backup.json` (the record
//! of the latest backup, which `doctor` reads for the backup's age). It reads the other
//! modules' files only through their owners (`ingest::lock_data` for the lock,
//! `snapshot::Published` for `CURRENT`) and changes none of them except when restoring.
//! It must never put in an archive what is temporary (`private/staging/`,
//! `private/spill/`, `*.tmp`) or quarantined (`quarantine/` may hold identifying data
//! and is deleted after 30 days anyway); never write outside the folder it restores
//! into, whatever an archive says; never restore from an archive it has not verified
//! whole; and never print a value from an extract or a secret.
//!
//! Three calls, one per command (the command line only parses and prints):
//!
//! ```text
//! reintegra backup  --data DIR --out FILE              ops::backup(&data, &out)?            → BackupSummary (Display)
//! reintegra restore --from FILE --data DIR [--force]   ops::restore(&from, &data, force)?   → RestoreSummary (Display)
//! reintegra doctor  --data DIR [--job-user NAME] [--serve-user NAME] [--serve-group NAME]
//!                                                      ops::doctor(&data, &options)         → Report (Display; exit 1 when report.problems() > 0)
//! ```
//!
//! `backup` takes the ingest lock (it waits for a running ingest), so the store, its
//! record-key secret, the disclosure state and `CURRENT` are copied as one consistent
//! state; the server's `access/` folder is copied as it is at that moment (a file that
//! changes while it is read is read again). `restore` verifies every file against the
//! archive's manifest in a temporary folder beside the data folder before it moves
//! anything into place, then sets the folders' modes.
//!
//! The files, one responsibility each (what they share is `pub(super)`, never more):
//!
//! ```text
//! mod.rs      OpsError, and the path and size wording backup, restore and doctor share
//! archive.rs  the archive's format: FORMAT, MANIFEST_NAME, MAX_FILES, Manifest and ManifestFile,
//!             the folders an archive may hold (AREAS, area_modes), unsafe_path, the tar header;
//!             and the small tools: hashing reader and writer, bounded reader, TempFile and
//!             WorkDir, private folders and files, move, sync, modes, free bytes
//! backup.rs   taking a backup: backup, last_backup and LastBackup (private/last-backup.json),
//!             what a backup holds (collect, walk, describe), BackupSummary
//! restore.rs  restoring: restore, unpack, check_manifest, place, RestoreSummary
//! doctor.rs   checking a data folder: doctor, Report, Finding
//! ```

pub mod archive;
pub mod backup;
pub mod doctor;
pub mod restore;

use std::path::{Path, PathBuf};

pub use archive::{MAX_FILES, Manifest, ManifestFile};
pub use backup::{BackupSummary, LastBackup, backup, last_backup};
pub use doctor::{DoctorOptions, Finding, Report, doctor};
pub use restore::{RestoreSummary, restore};

/// What can stop a backup or a restore. Each message names the file or folder, says
/// what is wrong and what to do; none quotes the content of a file.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error(
        "{0} is not a reintegra data folder (it has no private/ folder); name the folder `reintegra ingest --data` uses"
    )]
    NoData(PathBuf),
    #[error(
        "the backup file {out} would be inside the data folder {data}; write it to another folder (another disk, ideally), so that a backup never holds older backups and is not lost with the data"
    )]
    OutInsideData { out: PathBuf, data: PathBuf },
    #[error(
        "{0} does not name a file to write the backup into; give a file name, e.g. /backup/reintegra-2026-12-01.tar.gz"
    )]
    OutNotAFile(PathBuf),
    #[error(transparent)]
    Lock(#[from] crate::ingest::IngestError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{0} kept changing while it was being backed up (3 attempts); run the backup again (the server writes access/ while it runs: a quieter moment helps)"
    )]
    Changed(PathBuf),
    #[error(
        "{0} exists and is not empty; restore into a new folder, or pass --force to replace the files the backup holds (other files stay)"
    )]
    NotEmpty(PathBuf),
    #[error("{archive} is not a reintegra backup: {reason}; nothing was restored")]
    NotABackup { archive: PathBuf, reason: String },
    #[error(
        "{archive}: refused the entry {entry:?} ({reason}); nothing was restored. `reintegra backup` never writes such an entry: the file was made by something else or tampered with"
    )]
    UnsafeEntry {
        archive: PathBuf,
        entry: String,
        reason: &'static str,
    },
    #[error(
        "{archive}: {file} does not match the manifest ({what}); the archive is damaged and nothing was restored. Restore from another backup"
    )]
    Mismatch {
        archive: PathBuf,
        file: String,
        what: String,
    },
    #[error(
        "{archive}: {file} is listed in the manifest but not in the archive ({missing} file(s) missing in all); the archive is truncated or damaged and nothing was restored. Restore from another backup"
    )]
    Missing {
        archive: PathBuf,
        file: String,
        missing: usize,
    },
    #[error(
        "{archive} is damaged: reading it failed {place} ({source}); nothing was restored. Restore from another backup"
    )]
    Damaged {
        archive: PathBuf,
        place: String,
        source: std::io::Error,
    },
    #[error("{archive}: {reason}; nothing was restored")]
    TooLarge { archive: PathBuf, reason: String },
    #[error(
        "restoring into {data} stopped after {done} of {total} files at {path}: {source}; the folder is partly restored: fix the cause and run restore again with --force"
    )]
    Interrupted {
        data: PathBuf,
        done: usize,
        total: usize,
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> OpsError + '_ {
    move |source| OpsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A path as a shell word (for the commands a finding or a summary suggests).
fn shell(path: &Path) -> String {
    let text = path.display().to_string();
    if !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+:@,=".contains(&b))
    {
        text
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// A byte count as people read it.
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64;
    let mut unit = "B";
    for u in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = u;
    }
    format!("{value:.1} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_quoted_for_the_shell_only_when_needed() {
        assert_eq!(
            shell(Path::new("/srv/reintegra/data")),
            "/srv/reintegra/data"
        );
        assert_eq!(shell(Path::new("/tmp/a b")), "'/tmp/a b'");
        assert_eq!(shell(Path::new("/tmp/it's")), "'/tmp/it'\\''s'");
    }

    #[test]
    fn sizes_read_as_people_read_them() {
        assert_eq!(human_bytes(12), "12 B");
        assert_eq!(human_bytes(2048), "2.0 KiB");
        assert_eq!(human_bytes(5 << 20), "5.0 MiB");
    }
}
