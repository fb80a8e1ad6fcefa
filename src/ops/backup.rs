//! backup: one archive file holding what a data folder cannot rebuild — the private
//! store with its disclosure state, the record-key secret, the disclosure reports, the
//! accepted files — the server's accounts and audit log, the snapshot being served and
//! the job's status files; and `private/last-backup.json`, the record of the latest
//! archive. Restoring a data folder from it is `restore`'s; the archive's format and
//! the small tools both use are `archive`'s.
//!
//! It must never archive `private/staging/`, `private/spill/`, temporary files or
//! `quarantine/`, and never print the content of a file.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::archive::{
    FORMAT, HashingReader, HashingWriter, MANIFEST_NAME, MAX_FILES, Manifest, ManifestFile,
    TempFile, create_new_private, folder_of, mode_of, regular_header, sync_dir,
};
use super::{OpsError, human_bytes, io_err, shell};
use crate::snapshot::{Published, SnapshotId};

/// The record of the latest backup, in the private folder.
pub(super) const LAST_BACKUP: &str = "last-backup.json";
/// Times the files are read again when one changed while it was archived.
const ATTEMPTS: usize = 3;

/// `DATA/private/last-backup.json`: the latest archive of this data folder (written by
/// `backup`, and by `restore` for the archive it restored).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LastBackup {
    /// When the archive was made.
    #[serde(with = "crate::access::rfc3339")]
    pub at: DateTime<Utc>,
    pub file: String,
    pub bytes: u64,
    pub sha256: String,
    /// When the data folder was restored from it (absent for a backup).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::access::rfc3339::option"
    )]
    pub restored_at: Option<DateTime<Utc>>,
}

/// What `backup` wrote.
#[derive(Debug, Clone)]
pub struct BackupSummary {
    pub data: PathBuf,
    pub archive: PathBuf,
    /// Files in the archive (besides its manifest).
    pub files: usize,
    /// Their bytes, uncompressed.
    pub data_bytes: u64,
    /// Bytes of the archive file.
    pub bytes: u64,
    /// SHA-256 of the archive file (lower-case hex).
    pub sha256: String,
    /// The snapshot `CURRENT` named.
    pub snapshot: Option<String>,
    /// Entries left out: not regular files (links, sockets) or names that are not UTF-8.
    pub skipped: Vec<String>,
    pub seconds: f64,
}

/// Writes one archive of the data folder `data` into the file `out` (under a temporary
/// name in the same folder, synced, then renamed; mode 0600), holding the ingest lock
/// meanwhile (it waits for a running ingest). Records it in `private/last-backup.json`.
pub fn backup(data: &Path, out: &Path) -> Result<BackupSummary, OpsError> {
    let started = Instant::now();
    if !data.join("private").is_dir() {
        return Err(OpsError::NoData(data.to_path_buf()));
    }
    let Some(out_name) = out.file_name() else {
        return Err(OpsError::OutNotAFile(out.to_path_buf()));
    };
    if out.is_dir() {
        return Err(OpsError::OutNotAFile(out.to_path_buf()));
    }
    let out_dir = folder_of(out);
    let data_real = data.canonicalize().map_err(io_err(data))?;
    let out_dir_real = out_dir.canonicalize().map_err(|e| OpsError::Io {
        path: out_dir.to_path_buf(),
        source: io::Error::new(
            e.kind(),
            format!("the folder to write the backup into cannot be used ({e}); create it first"),
        ),
    })?;
    if out_dir_real.starts_with(&data_real) {
        return Err(OpsError::OutInsideData {
            out: out.to_path_buf(),
            data: data.to_path_buf(),
        });
    }
    let out_real = out_dir_real.join(out_name);

    let _lock = crate::ingest::lock_data(data, true)?;
    let tmp = TempFile::new(out_dir_real.join(format!(
        ".{}.tmp-{}",
        out_name.to_string_lossy(),
        std::process::id()
    )));
    let mut attempt_no = 0;
    let written = loop {
        attempt_no += 1;
        match attempt(data, &tmp.path)? {
            Attempt::Done(written) => break written,
            Attempt::Changed(path) if attempt_no >= ATTEMPTS => {
                return Err(OpsError::Changed(path));
            }
            Attempt::Changed(path) => {
                tracing::info!(file = %path.display(), "changed while it was archived: reading the folder again");
            }
        }
    };
    fs::rename(&tmp.path, &out_real).map_err(io_err(&out_real))?;
    tmp.disarm();
    sync_dir(&out_dir_real).map_err(io_err(&out_dir_real))?;

    let record = LastBackup {
        at: written.manifest.created_at,
        file: out_real.display().to_string(),
        bytes: written.bytes,
        sha256: written.sha256.clone(),
        restored_at: None,
    };
    write_last_backup(data, &record)?;
    let summary = BackupSummary {
        data: data.to_path_buf(),
        archive: out_real,
        files: written.manifest.files.len(),
        data_bytes: written.manifest.files.iter().map(|f| f.size).sum(),
        bytes: written.bytes,
        sha256: written.sha256,
        snapshot: written.manifest.snapshot.clone(),
        skipped: written.skipped,
        seconds: started.elapsed().as_secs_f64(),
    };
    tracing::info!(
        archive = %summary.archive.display(),
        files = summary.files,
        bytes = summary.bytes,
        seconds = summary.seconds,
        "backup written"
    );
    Ok(summary)
}

/// The record of the latest backup, if there is one.
pub fn last_backup(data: &Path) -> Result<Option<LastBackup>, OpsError> {
    let path = data.join("private").join(LAST_BACKUP);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(&path)(e)),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| OpsError::Io {
            path: path.clone(),
            source: io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "not a backup record (line {}, column {}); the next backup rewrites it",
                    e.line(),
                    e.column()
                ),
            ),
        })
}

/// Writes the record of the latest backup (under a temporary name, synced, then
/// renamed; mode 0600).
pub(super) fn write_last_backup(data: &Path, record: &LastBackup) -> Result<(), OpsError> {
    let path = data.join("private").join(LAST_BACKUP);
    let text =
        serde_json::to_string_pretty(record).map_err(|e| io_err(&path)(io::Error::other(e)))?;
    let tmp = path.with_extension("json.tmp");
    let _ = fs::remove_file(&tmp);
    let mut file = create_new_private(&tmp).map_err(io_err(&tmp))?;
    file.write_all(format!("{text}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io_err(&tmp))?;
    fs::rename(&tmp, &path).map_err(io_err(&path))
}

struct Written {
    manifest: Manifest,
    bytes: u64,
    sha256: String,
    skipped: Vec<String>,
}

enum Attempt {
    Done(Written),
    /// A file changed (or vanished) between being described and being archived.
    Changed(PathBuf),
}

/// A file to archive: its path in the archive and on disk.
pub(super) struct Source {
    pub(super) rel: String,
    path: PathBuf,
}

/// Lists, describes and archives the files once.
fn attempt(data: &Path, tmp: &Path) -> Result<Attempt, OpsError> {
    let Collected {
        sources,
        snapshot,
        skipped,
    } = collect(data)?;
    if sources.len() > MAX_FILES {
        return Err(OpsError::TooLarge {
            archive: tmp.to_path_buf(),
            reason: format!(
                "the data folder holds {} files to back up, more than an archive may hold ({MAX_FILES}); move old files out of {}",
                sources.len(),
                shell(&data.join("private").join("archive"))
            ),
        });
    }
    let mut files = Vec::with_capacity(sources.len());
    let mut times = Vec::with_capacity(sources.len());
    for source in &sources {
        match describe(&source.rel, &source.path) {
            Ok((file, mtime)) => {
                files.push(file);
                times.push(mtime);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(Attempt::Changed(source.path.clone()));
            }
            Err(e) => return Err(io_err(&source.path)(e)),
        }
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        created_at: Utc::now(),
        snapshot: snapshot.map(|id| id.to_string()),
        files,
    };
    match fs::remove_file(tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(tmp)(e)),
    }
    let file = create_new_private(tmp).map_err(io_err(tmp))?;
    let gz = flate2::write::GzEncoder::new(
        HashingWriter::new(BufWriter::with_capacity(1 << 20, file)),
        flate2::Compression::default(),
    );
    let mut tar = tar::Builder::new(gz);
    let manifest_bytes =
        serde_json::to_vec_pretty(&manifest).map_err(|e| io_err(tmp)(io::Error::other(e)))?;
    let now = manifest.created_at.timestamp().max(0) as u64;
    let mut header = regular_header(manifest_bytes.len() as u64, 0o600, now);
    tar.append_data(&mut header, MANIFEST_NAME, &manifest_bytes[..])
        .map_err(io_err(tmp))?;
    for ((source, file), mtime) in sources.iter().zip(&manifest.files).zip(&times) {
        let opened = match File::open(&source.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(Attempt::Changed(source.path.clone()));
            }
            Err(e) => return Err(io_err(&source.path)(e)),
        };
        let mut reader =
            HashingReader::new(BufReader::with_capacity(1 << 20, opened).take(file.size));
        let mode = u32::from_str_radix(&file.mode, 8).unwrap_or(0o600);
        let mut header = regular_header(file.size, mode, *mtime);
        if let Err(e) = tar.append_data(&mut header, &file.path, &mut reader) {
            let path = if reader.failed { &source.path } else { tmp };
            return Err(io_err(path)(e));
        }
        let (bytes, sha256) = reader.finish();
        if bytes != file.size || sha256 != file.sha256 {
            return Ok(Attempt::Changed(source.path.clone()));
        }
    }
    let gz = tar.into_inner().map_err(io_err(tmp))?;
    let hashing = gz.finish().map_err(io_err(tmp))?;
    let (writer, bytes, sha256) = hashing.finish();
    let file = writer
        .into_inner()
        .map_err(|e| io_err(tmp)(e.into_error()))?;
    file.sync_all().map_err(io_err(tmp))?;
    Ok(Attempt::Done(Written {
        manifest,
        bytes,
        sha256,
        skipped,
    }))
}

/// What a backup holds.
struct Collected {
    sources: Vec<Source>,
    /// The snapshot `CURRENT` names.
    snapshot: Option<SnapshotId>,
    /// Left out: not a regular file, or a name that is not UTF-8.
    skipped: Vec<String>,
}

/// The files a backup holds, in archive order: `private/` (but its temporary
/// folders, temporary files and the backup record), `CURRENT` and the snapshot it
/// names, `access/`, `status/` and `reference/` when present.
fn collect(data: &Path) -> Result<Collected, OpsError> {
    let mut sources = Vec::new();
    let mut skipped = Vec::new();
    walk(&data.join("private"), "private", &mut sources, &mut skipped)?;
    let published = Published::new(data.join("published"));
    let snapshot = match published.current() {
        Ok(Some(id)) => {
            sources.push(Source {
                rel: format!("published/{}", id.file_name()),
                path: published.path_of(&id),
            });
            sources.push(Source {
                rel: "published/CURRENT".into(),
                path: published.dir().join("CURRENT"),
            });
            Some(id)
        }
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(error = %e, "CURRENT is unusable: the backup holds no snapshot (the next ingest publishes one)");
            None
        }
    };
    for area in ["access", "status", "deliveries", "reference", "notes"] {
        let dir = data.join(area);
        if dir.is_dir() {
            walk(&dir, area, &mut sources, &mut skipped)?;
        }
    }
    Ok(Collected {
        sources,
        snapshot,
        skipped,
    })
}

/// Adds the files under `dir` (archived as `rel/…`) to `out`, in name order, but what
/// a backup never holds; what is neither a file nor a folder goes to `skipped`.
pub(super) fn walk(
    dir: &Path,
    rel: &str,
    out: &mut Vec<Source>,
    skipped: &mut Vec<String>,
) -> Result<(), OpsError> {
    let mut entries = fs::read_dir(dir)
        .map_err(io_err(dir))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(io_err(dir))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            skipped.push(format!("{rel}/{}", entry.file_name().to_string_lossy()));
            continue;
        };
        let child = format!("{rel}/{name}");
        if left_out(&child, &name) {
            continue;
        }
        let kind = match entry.file_type() {
            Ok(kind) => kind,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io_err(&path)(e)),
        };
        if kind.is_dir() {
            walk(&path, &child, out, skipped)?;
        } else if kind.is_file() {
            out.push(Source { rel: child, path });
        } else {
            skipped.push(child);
        }
    }
    Ok(())
}

/// What a backup never holds (besides `quarantine/`, which it does not walk).
fn left_out(rel: &str, name: &str) -> bool {
    is_temporary(name)
        || matches!(
            rel,
            "private/staging" | "private/spill" | "private/last-backup.json"
        )
}

fn is_temporary(name: &str) -> bool {
    name.ends_with(".tmp") || name.starts_with(".tmp-") || name.ends_with(".part")
}

/// A file's manifest line (reading it whole for its hash) and its modification time.
fn describe(rel: &str, path: &Path) -> io::Result<(ManifestFile, u64)> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    let mut reader = HashingReader::new(BufReader::with_capacity(1 << 20, file));
    io::copy(&mut reader, &mut io::sink())?;
    let (size, sha256) = reader.finish();
    Ok((
        ManifestFile {
            path: rel.to_string(),
            size,
            sha256,
            mode: format!("{:04o}", mode_of(&meta)),
        },
        mtime,
    ))
}

impl fmt::Display for BackupSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "backed up {} files ({}) of {} into {} ({}) in {:.1} s",
            self.files,
            human_bytes(self.data_bytes),
            self.data.display(),
            self.archive.display(),
            human_bytes(self.bytes),
            self.seconds
        )?;
        writeln!(f, "sha256 {}", self.sha256)?;
        match &self.snapshot {
            Some(id) => writeln!(f, "current snapshot: {id}")?,
            None => writeln!(
                f,
                "no snapshot is published (or CURRENT is unusable): the archive holds none; the next ingest publishes one"
            )?,
        }
        if !self.skipped.is_empty() {
            writeln!(
                f,
                "left out (not regular files, or names that are not UTF-8): {}",
                self.skipped.join(", ")
            )?;
        }
        writeln!(
            f,
            "not backed up: private/staging/, private/spill/ and temporary files (rebuilt by the job), quarantine/ (rejected files that may hold identifying data; deleted after 30 days anyway)"
        )?;
        write!(
            f,
            "keep the archive away from this machine: it holds the record-key secret and the private store (mode 0600)"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::archive::test_support::*;

    fn entries_of(archive: &Path) -> Vec<(String, Vec<u8>)> {
        let gz = flate2::read::GzDecoder::new(File::open(archive).unwrap());
        let mut ar = tar::Archive::new(gz);
        ar.entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let name = String::from_utf8(e.path_bytes().into_owned()).unwrap();
                let mut bytes = Vec::new();
                e.read_to_end(&mut bytes).unwrap();
                (name, bytes)
            })
            .collect()
    }

    #[test]
    fn a_backup_holds_what_cannot_be_rebuilt_and_nothing_temporary() {
        let root = tempfile::tempdir().unwrap();
        let data = fake_data(root.path());
        let out = root.path().join("backups/b.tar.gz");
        fs::create_dir_all(out.parent().unwrap()).unwrap();
        let summary = backup(&data, &out).unwrap();

        let entries = entries_of(&out);
        assert_eq!(entries[0].0, MANIFEST_NAME, "the manifest comes first");
        let names: Vec<&str> = entries[1..].iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, expected());
        let manifest: Manifest = serde_json::from_slice(&entries[0].1).unwrap();
        assert_eq!(manifest.format, FORMAT);
        assert_eq!(manifest.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(manifest.snapshot.as_deref(), Some(CUR));
        for ((name, bytes), file) in entries[1..].iter().zip(&manifest.files) {
            assert_eq!(&file.path, name);
            assert_eq!(file.size, bytes.len() as u64);
            assert_eq!(file.sha256, sha(bytes));
            assert_eq!(&fs::read(data.join(name)).unwrap(), bytes);
        }
        let secret = manifest
            .files
            .iter()
            .find(|f| f.path == "private/secret.key")
            .unwrap();
        assert_eq!(
            secret.mode,
            format!(
                "{:04o}",
                mode_of(&fs::metadata(data.join("private/secret.key")).unwrap())
            )
        );

        let archive_bytes = fs::read(&out).unwrap();
        assert_eq!(summary.files, expected().len());
        assert_eq!(summary.bytes, archive_bytes.len() as u64);
        assert_eq!(summary.sha256, sha(&archive_bytes));
        assert_eq!(summary.snapshot.as_deref(), Some(CUR));
        #[cfg(unix)]
        assert_eq!(mode_of(&fs::metadata(&out).unwrap()), 0o600);
        let record = last_backup(&data).unwrap().unwrap();
        assert_eq!(record.sha256, summary.sha256);
        assert_eq!(record.bytes, summary.bytes);
        assert_eq!(PathBuf::from(&record.file), out.canonicalize().unwrap());
        assert!(record.restored_at.is_none());
        let leftovers: Vec<_> = fs::read_dir(out.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            leftovers,
            vec![std::ffi::OsString::from("b.tar.gz")],
            "no temporary file left"
        );
        let text = summary.to_string();
        assert!(text.contains("quarantine/") && text.contains(CUR), "{text}");
    }

    #[test]
    fn the_backup_file_may_not_be_inside_the_data_folder() {
        let root = tempfile::tempdir().unwrap();
        let data = fake_data(root.path());
        for out in [data.join("b.tar.gz"), data.join("private/b.tar.gz")] {
            let err = backup(&data, &out).unwrap_err();
            assert!(matches!(err, OpsError::OutInsideData { .. }), "{err}");
            assert!(!out.exists());
        }
        let err = backup(&data, &data).unwrap_err();
        assert!(
            matches!(
                err,
                OpsError::OutNotAFile(_) | OpsError::OutInsideData { .. }
            ),
            "{err}"
        );
        let err = backup(&root.path().join("nothing"), &root.path().join("b.tar.gz")).unwrap_err();
        assert!(matches!(err, OpsError::NoData(_)), "{err}");
        assert!(
            !root.path().join("nothing").exists(),
            "a refused backup creates nothing"
        );
    }
}
