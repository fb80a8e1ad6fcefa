//! backup: one archive file holding what a data folder cannot rebuild — the private
//! store with its disclosure state, the record-key secret, the disclosure reports, the
//! accepted files — the server's accounts and audit log, the snapshot being served and
//! the job's status files; and restoring a data folder from it.
//!
//! The archive is a gzip-compressed tar whose first entry is `MANIFEST.json` (format,
//! version, time, current snapshot, and each file's path, size, SHA-256 and mode); the
//! files follow in the manifest's order. Restoring reads the manifest first, unpacks
//! into a temporary folder beside the data folder, verifies every file, and only then
//! moves them into place.
//!
//! It must never archive `private/staging/`, `private/spill/`, temporary files or
//! `quarantine/`; never write outside the folder it restores into (an entry that is
//! absolute, holds `..`, is a link or a device, or is not in the manifest stops the
//! restore before anything is moved); never restore a file whose size or SHA-256
//! differs from the manifest; and never print the content of a file.

use std::cell::Cell;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{OpsError, human_bytes, io_err, shell};
use crate::snapshot::{Published, SnapshotId};

/// The archive format this module writes and reads.
pub const FORMAT: &str = "reintegra-backup/1";
/// The first entry of every archive.
pub const MANIFEST_NAME: &str = "MANIFEST.json";
/// The most files an archive may hold (a manifest declaring more is refused).
pub const MAX_FILES: usize = 100_000;
const MAX_MANIFEST_BYTES: u64 = 32 << 20;
/// The record of the latest backup, in the private folder.
const LAST_BACKUP: &str = "last-backup.json";
/// The folders of a data folder an archive may hold.
const AREAS: [&str; 7] = ["private", "access", "published", "status", "deliveries", "reference", "notes"];
/// Times the files are read again when one changed while it was archived.
const ATTEMPTS: usize = 3;
/// Bytes of tar headers and padding allowed per file beyond the declared sizes.
const OVERHEAD_PER_FILE: u64 = 64 << 10;

/// The first entry of an archive.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    /// The reintegra version that wrote the archive.
    pub version: String,
    #[serde(with = "crate::access::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// The snapshot `published/CURRENT` named (the only snapshot in the archive).
    pub snapshot: Option<String>,
    pub files: Vec<ManifestFile>,
}

/// One file of an archive.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestFile {
    /// Relative to the data folder, `/`-separated: `private/store.duckdb`.
    pub path: String,
    pub size: u64,
    /// Lower-case hex.
    pub sha256: String,
    /// The file's mode in the data folder when it was backed up, in octal (`"0600"`).
    /// A restore sets the modes of its folder's policy instead.
    pub mode: String,
}

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

/// What `restore` did.
#[derive(Debug, Clone)]
pub struct RestoreSummary {
    pub data: PathBuf,
    pub archive: PathBuf,
    pub files: usize,
    pub data_bytes: u64,
    pub snapshot: Option<String>,
    /// When the archive was made, and by which version.
    pub backed_up_at: DateTime<Utc>,
    pub version: String,
    /// Files that were in the data folder and were replaced (with `force`).
    pub replaced: usize,
    /// Files removed because they belonged to what was replaced (the old store's
    /// write-ahead log).
    pub removed: Vec<String>,
    /// Files of the data folder the archive does not hold, left as they were.
    pub kept: Vec<String>,
    pub seconds: f64,
}

// --- backup ---------------------------------------------------------------------------

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

fn write_last_backup(data: &Path, record: &LastBackup) -> Result<(), OpsError> {
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
struct Source {
    rel: String,
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

fn walk(
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

fn regular_header(size: u64, mode: u32, mtime: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(size);
    header.set_mode(mode);
    header.set_mtime(mtime);
    header.set_uid(0);
    header.set_gid(0);
    header
}

// --- restore --------------------------------------------------------------------------

/// Restores the data folder `data` from the archive `from`. Refuses a folder that
/// exists and is not empty unless `force` (then the archive's files replace theirs;
/// other files stay, and are listed in the summary). Nothing is moved into `data`
/// before every file of the archive was unpacked beside it and verified.
pub fn restore(from: &Path, data: &Path, force: bool) -> Result<RestoreSummary, OpsError> {
    let started = Instant::now();
    let had_files = match fs::read_dir(data) {
        Ok(mut entries) => entries.next().is_some(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(io_err(data)(e)),
    };
    if had_files && !force {
        return Err(OpsError::NotEmpty(data.to_path_buf()));
    }
    let Some(name) = data.file_name() else {
        return Err(io_err(data)(io::Error::new(
            io::ErrorKind::InvalidInput,
            "name the data folder to restore into, e.g. /srv/reintegra/data",
        )));
    };
    let parent = folder_of(data);
    fs::create_dir_all(parent).map_err(io_err(parent))?;
    let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
    let work = WorkDir::create(parent.join(format!(
        ".{}.restore-{}-{nanos}",
        name.to_string_lossy(),
        std::process::id()
    )))?;
    let unpacked = unpack(from, &work.path)?;
    let manifest = &unpacked.manifest;

    fs::create_dir_all(data).map_err(io_err(data))?;
    let _lock = crate::ingest::lock_data(data, true)?;
    let mut removed = Vec::new();
    let holds = |p: &str| manifest.files.iter().any(|f| f.path == p);
    if holds("private/store.duckdb") && !holds("private/store.duckdb.wal") {
        let wal = data.join("private").join("store.duckdb.wal");
        match fs::remove_file(&wal) {
            Ok(()) => removed.push("private/store.duckdb.wal".to_string()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&wal)(e)),
        }
    }
    let replaced = place(manifest, &work.path, data)?;
    for (area, mode) in [
        ("", 0o750),
        ("private", 0o700),
        ("access", 0o700),
        ("published", 0o750),
        ("status", 0o750),
        ("deliveries", 0o750),
        ("reference", 0o750),
        ("notes", 0o750),
    ] {
        let dir = data.join(area);
        if dir.is_dir() {
            set_mode(&dir, mode).map_err(io_err(&dir))?;
        }
    }
    let archive = from.canonicalize().unwrap_or_else(|_| from.to_path_buf());
    write_last_backup(
        data,
        &LastBackup {
            at: manifest.created_at,
            file: archive.display().to_string(),
            bytes: unpacked.bytes,
            sha256: unpacked.sha256.clone(),
            restored_at: Some(Utc::now()),
        },
    )?;
    let mut kept = Vec::new();
    if had_files {
        let (present, skipped) = collect_all(data)?;
        let listed: HashSet<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
        kept = present
            .into_iter()
            .map(|s| s.rel)
            .chain(skipped)
            .filter(|rel| !listed.contains(rel.as_str()))
            .collect();
    }
    drop(work);
    let summary = RestoreSummary {
        data: data.to_path_buf(),
        archive,
        files: manifest.files.len(),
        data_bytes: manifest.files.iter().map(|f| f.size).sum(),
        snapshot: manifest.snapshot.clone(),
        backed_up_at: manifest.created_at,
        version: manifest.version.clone(),
        replaced,
        removed,
        kept,
        seconds: started.elapsed().as_secs_f64(),
    };
    tracing::info!(
        data = %summary.data.display(),
        files = summary.files,
        replaced = summary.replaced,
        seconds = summary.seconds,
        "restored"
    );
    Ok(summary)
}

/// Every file of the folders a backup may hold (for the files a forced restore left).
fn collect_all(data: &Path) -> Result<(Vec<Source>, Vec<String>), OpsError> {
    let mut sources = Vec::new();
    let mut skipped = Vec::new();
    for area in AREAS {
        let dir = data.join(area);
        if dir.is_dir() {
            walk(&dir, area, &mut sources, &mut skipped)?;
        }
    }
    Ok((sources, skipped))
}

struct Unpacked {
    manifest: Manifest,
    /// Bytes and SHA-256 of the archive file.
    bytes: u64,
    sha256: String,
}

/// Reads the manifest, unpacks every file into `work` and verifies it. Bounded: the
/// manifest's size and file count, and the bytes read beyond what it declares.
fn unpack(from: &Path, work: &Path) -> Result<Unpacked, OpsError> {
    let file = File::open(from).map_err(io_err(from))?;
    let raw = HashingReader::new(BufReader::with_capacity(1 << 20, file));
    let budget = Rc::new(Cell::new(MAX_MANIFEST_BYTES + OVERHEAD_PER_FILE));
    let mut archive = tar::Archive::new(Bounded {
        inner: flate2::read::GzDecoder::new(raw),
        budget: budget.clone(),
    });
    let archive_path = from.to_path_buf();
    let too_large = || OpsError::TooLarge {
        archive: archive_path.clone(),
        reason: "it holds more data than its manifest declares".into(),
    };
    let damaged = |place: String, source: io::Error| {
        if budget.get() == 0 {
            too_large()
        } else {
            OpsError::Damaged {
                archive: archive_path.clone(),
                place,
                source,
            }
        }
    };
    let not_a_backup = |reason: String| OpsError::NotABackup {
        archive: archive_path.clone(),
        reason,
    };

    let mut entries = archive
        .entries()
        .map_err(|e| not_a_backup(format!("it cannot be read as a tar archive ({e})")))?;
    let manifest = {
        let mut first = match entries.next() {
            None => return Err(not_a_backup("it holds no file".into())),
            Some(Err(e)) => {
                return Err(not_a_backup(format!(
                    "it is not a gzip-compressed tar archive ({e})"
                )));
            }
            Some(Ok(entry)) => entry,
        };
        if first.path_bytes().as_ref() != MANIFEST_NAME.as_bytes()
            || !first.header().entry_type().is_file()
        {
            return Err(not_a_backup(format!(
                "its first entry is not {MANIFEST_NAME}"
            )));
        }
        if first.size() > MAX_MANIFEST_BYTES {
            return Err(OpsError::TooLarge {
                archive: archive_path.clone(),
                reason: format!(
                    "its {MANIFEST_NAME} declares {} bytes, more than a manifest may ({})",
                    first.size(),
                    human_bytes(MAX_MANIFEST_BYTES)
                ),
            });
        }
        let mut text = Vec::new();
        (&mut first)
            .take(MAX_MANIFEST_BYTES)
            .read_to_end(&mut text)
            .map_err(|e| damaged(format!("in {MANIFEST_NAME}"), e))?;
        serde_json::from_slice::<Manifest>(&text).map_err(|e| {
            not_a_backup(format!(
                "its {MANIFEST_NAME} is not a manifest (line {}, column {}: {:?})",
                e.line(),
                e.column(),
                e.classify()
            ))
        })?
    };
    let declared = check_manifest(&manifest, from)?;
    if let Some(free) = available_bytes(work)
        && free < declared
    {
        return Err(OpsError::TooLarge {
            archive: archive_path.clone(),
            reason: format!(
                "its files take {}, and only {} are free in {}; free some space or restore elsewhere",
                human_bytes(declared),
                human_bytes(free),
                folder_of(work).display()
            ),
        });
    }
    budget.set(
        declared
            .saturating_add((manifest.files.len() as u64 + 2).saturating_mul(OVERHEAD_PER_FILE))
            .saturating_add(1 << 20),
    );

    let expected: HashMap<&str, &ManifestFile> = manifest
        .files
        .iter()
        .map(|f| (f.path.as_str(), f))
        .collect();
    let mut seen: HashSet<String> = HashSet::new();
    let mut last = MANIFEST_NAME.to_string();
    let mut dirs = BTreeSet::new();
    loop {
        let mut entry = match entries.next() {
            None => break,
            Some(Ok(entry)) => entry,
            Some(Err(e)) => return Err(damaged(format!("after {last}"), e)),
        };
        let bytes = entry.path_bytes().into_owned();
        let unsafe_entry = |reason: &'static str| OpsError::UnsafeEntry {
            archive: archive_path.clone(),
            entry: shown(&String::from_utf8_lossy(&bytes)),
            reason,
        };
        let Ok(rel) = String::from_utf8(bytes.clone()) else {
            return Err(unsafe_entry("a name that is not UTF-8"));
        };
        if let Some(reason) = unsafe_path(&rel) {
            return Err(unsafe_entry(reason));
        }
        if !entry.header().entry_type().is_file() {
            return Err(unsafe_entry(
                "a link, device or folder: an archive holds regular files only",
            ));
        }
        let Some(declared) = expected.get(rel.as_str()) else {
            return Err(unsafe_entry("not listed in the manifest"));
        };
        if !seen.insert(rel.clone()) {
            return Err(unsafe_entry("a second entry of the same file"));
        }
        let size = entry.size();
        if size > declared.size {
            return Err(OpsError::TooLarge {
                archive: archive_path.clone(),
                reason: format!(
                    "{rel} holds {size} bytes where its manifest declares {}",
                    declared.size
                ),
            });
        }
        let mismatch = |what: String| OpsError::Mismatch {
            archive: archive_path.clone(),
            file: rel.clone(),
            what,
        };
        if size < declared.size {
            return Err(mismatch(format!(
                "{size} bytes where the manifest says {}",
                declared.size
            )));
        }
        let target = work.join(&rel);
        let parent = folder_of(&target);
        if dirs.insert(parent.to_path_buf()) {
            create_private_dirs(parent).map_err(io_err(parent))?;
        }
        let out = create_new_private(&target).map_err(io_err(&target))?;
        let mut writer = BufWriter::with_capacity(1 << 20, out);
        let mut reader = HashingReader::new((&mut entry).take(declared.size));
        if let Err(e) = io::copy(&mut reader, &mut writer) {
            return Err(if reader.failed {
                damaged(format!("in {rel}"), e)
            } else {
                io_err(&target)(e)
            });
        }
        let (got, sha256) = reader.finish();
        if got != declared.size {
            return Err(mismatch(format!(
                "{got} bytes where the manifest says {}",
                declared.size
            )));
        }
        if sha256 != declared.sha256 {
            return Err(mismatch("its SHA-256 differs".into()));
        }
        let out = writer
            .into_inner()
            .map_err(|e| io_err(&target)(e.into_error()))?;
        out.sync_all().map_err(io_err(&target))?;
        last = rel;
    }
    let missing: Vec<&ManifestFile> = manifest
        .files
        .iter()
        .filter(|f| !seen.contains(&f.path))
        .collect();
    if let Some(first) = missing.first() {
        return Err(OpsError::Missing {
            archive: archive_path.clone(),
            file: first.path.clone(),
            missing: missing.len(),
        });
    }
    // The rest of the tar stream, then the gzip trailer (its CRC is checked at the end).
    let mut rest = archive.into_inner();
    io::copy(&mut rest, &mut io::sink())
        .map_err(|e| damaged("at its end (the gzip checksum)".into(), e))?;
    let mut raw = rest.inner.into_inner();
    io::copy(&mut raw, &mut io::sink()).map_err(io_err(from))?;
    let (bytes, sha256) = raw.finish();
    Ok(Unpacked {
        manifest,
        bytes,
        sha256,
    })
}

/// Checks a manifest before any file is unpacked; returns the bytes it declares.
fn check_manifest(manifest: &Manifest, from: &Path) -> Result<u64, OpsError> {
    let not_a_backup = |reason: String| OpsError::NotABackup {
        archive: from.to_path_buf(),
        reason,
    };
    if manifest.format != FORMAT {
        return Err(not_a_backup(format!(
            "its format is {:?}, and this reintegra ({}) reads {FORMAT}",
            shown(&manifest.format),
            env!("CARGO_PKG_VERSION")
        )));
    }
    if manifest.files.len() > MAX_FILES {
        return Err(OpsError::TooLarge {
            archive: from.to_path_buf(),
            reason: format!(
                "its manifest lists {} files, more than an archive may hold ({MAX_FILES})",
                manifest.files.len()
            ),
        });
    }
    if let Some(id) = &manifest.snapshot
        && SnapshotId::parse(id).is_none()
    {
        return Err(not_a_backup(format!(
            "its manifest names the snapshot {:?}, which is not a snapshot name",
            shown(id)
        )));
    }
    let mut paths = HashSet::new();
    let mut declared: u64 = 0;
    for file in &manifest.files {
        if let Some(reason) = unsafe_path(&file.path) {
            return Err(OpsError::UnsafeEntry {
                archive: from.to_path_buf(),
                entry: shown(&file.path),
                reason,
            });
        }
        if !paths.insert(file.path.as_str()) {
            return Err(not_a_backup(format!(
                "its manifest lists {:?} twice",
                shown(&file.path)
            )));
        }
        if file.sha256.len() != 64
            || !file
                .sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(not_a_backup(format!(
                "its manifest gives {:?} a SHA-256 that is not 64 lower-case hex digits",
                shown(&file.path)
            )));
        }
        declared = declared
            .checked_add(file.size)
            .ok_or_else(|| OpsError::TooLarge {
                archive: from.to_path_buf(),
                reason: "its manifest declares more bytes than a disk can hold".into(),
            })?;
    }
    Ok(declared)
}

/// Why a path of an archive may not be restored, if it may not. A restorable path is
/// relative, `/`-separated, made of plain names, under one of the folders a backup
/// holds, and not under a temporary folder.
fn unsafe_path(rel: &str) -> Option<&'static str> {
    if rel.is_empty() {
        return Some("an empty name");
    }
    if rel.len() > 1024 {
        return Some("a name longer than 1024 bytes");
    }
    if rel.starts_with('/') {
        return Some("an absolute path");
    }
    if rel.chars().any(|c| c == '\\' || c.is_control()) {
        return Some("a backslash or a control character in the name");
    }
    let parts: Vec<&str> = rel.split('/').collect();
    if parts.contains(&"..") {
        return Some("'..': it would write outside the data folder");
    }
    if parts.iter().any(|p| p.is_empty() || *p == ".") {
        return Some("an empty or '.' part in the name");
    }
    if parts.len() < 2 || !AREAS.contains(&parts[0]) {
        return Some(
            "outside the folders a backup holds (private, access, published, status, reference)",
        );
    }
    if parts[0] == "private" && matches!(parts[1], "staging" | "spill") {
        return Some("a temporary folder, which a backup never holds");
    }
    None
}

/// Moves every verified file into place (`published/CURRENT` last), with the modes of
/// its folder. Returns how many replaced a file that was there.
fn place(manifest: &Manifest, work: &Path, data: &Path) -> Result<usize, OpsError> {
    let mut order: Vec<&ManifestFile> = manifest.files.iter().collect();
    order.sort_by_key(|f| f.path == "published/CURRENT");
    let total = order.len();
    let mut replaced = 0;
    let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
    for (done, file) in order.into_iter().enumerate() {
        let interrupted = |path: &Path, source: io::Error| OpsError::Interrupted {
            data: data.to_path_buf(),
            done,
            total,
            path: path.to_path_buf(),
            source,
        };
        let (dir_mode, file_mode) = area_modes(&file.path);
        let mut dir = data.to_path_buf();
        let parts: Vec<&str> = file.path.split('/').collect();
        for part in &parts[..parts.len() - 1] {
            dir.push(part);
            if dirs.insert(dir.clone()) {
                match fs::create_dir(&dir) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(interrupted(&dir, e)),
                }
                set_mode(&dir, dir_mode).map_err(|e| interrupted(&dir, e))?;
            }
        }
        let target = data.join(&file.path);
        if target.symlink_metadata().is_ok() {
            replaced += 1;
        }
        let source = work.join(&file.path);
        move_file(&source, &target).map_err(|e| interrupted(&target, e))?;
        set_mode(&target, file_mode).map_err(|e| interrupted(&target, e))?;
    }
    let root = data.to_path_buf();
    for dir in dirs.iter().chain(std::iter::once(&root)) {
        sync_dir(dir).map_err(io_err(dir))?;
    }
    Ok(replaced)
}

/// (folder mode, file mode) of a restored path: the private and access folders are
/// their owner's only; what the server reads is group-readable.
fn area_modes(rel: &str) -> (u32, u32) {
    match rel.split('/').next() {
        Some("private" | "access") => (0o700, 0o600),
        _ => (0o750, 0o640),
    }
}

// --- display ---------------------------------------------------------------------------

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

impl fmt::Display for RestoreSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "restored {} files ({}) into {} from {} (backed up {} by reintegra {}) in {:.1} s",
            self.files,
            human_bytes(self.data_bytes),
            self.data.display(),
            self.archive.display(),
            self.backed_up_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            shown(&self.version),
            self.seconds
        )?;
        match &self.snapshot {
            Some(id) => writeln!(f, "current snapshot: {id}")?,
            None => writeln!(
                f,
                "the archive holds no snapshot: the next ingest publishes one"
            )?,
        }
        if self.replaced > 0 {
            writeln!(f, "replaced {} files that were there", self.replaced)?;
        }
        for removed in &self.removed {
            writeln!(f, "removed {removed} (it belonged to the replaced store)")?;
        }
        if !self.kept.is_empty() {
            const SHOWN: usize = 10;
            let more = self.kept.len().saturating_sub(SHOWN);
            writeln!(
                f,
                "left {} files the archive does not hold: {}{}",
                self.kept.len(),
                self.kept[..self.kept.len().min(SHOWN)].join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            )?;
        }
        writeln!(
            f,
            "modes: {} 0750; private/ and access/ 0700 (files 0600); published/, status/, reference/ 0750 (files 0640)",
            self.data.display()
        )?;
        write!(
            f,
            "the files belong to {} (who ran restore): give private/ to the job's user and access/ to the server's, e.g. `chown -R reintegra {}`, then check with `reintegra doctor --data {}`",
            crate::access::audit::os_user(),
            shell(&self.data),
            shell(&self.data)
        )
    }
}

/// An archive's text as shown in a message: at most 120 characters.
fn shown(text: &str) -> String {
    let mut out: String = text.chars().take(120).collect();
    if text.chars().count() > 120 {
        out.push('…');
    }
    out
}

// --- small tools ----------------------------------------------------------------------

/// The folder a path is in (`.` for a bare name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// A reader that hashes and counts what passes, and remembers whether reading failed.
struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
    failed: bool,
}

impl<R> HashingReader<R> {
    fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
            failed: false,
        }
    }

    fn finish(self) -> (u64, String) {
        (self.bytes, hex::encode(self.hasher.finalize()))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.hasher.update(&buf[..n]);
                self.bytes += n as u64;
                Ok(n)
            }
            Err(e) => {
                if e.kind() != io::ErrorKind::Interrupted {
                    self.failed = true;
                }
                Err(e)
            }
        }
    }
}

/// A writer that hashes and counts what passes.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W> HashingWriter<W> {
    fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    fn finish(self) -> (W, u64, String) {
        (self.inner, self.bytes, hex::encode(self.hasher.finalize()))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that yields at most `budget` more bytes, then fails (the budget can be
/// raised from outside once the manifest says how much is to come).
struct Bounded<R> {
    inner: R,
    budget: Rc<Cell<u64>>,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.budget.get();
        if left == 0 && !buf.is_empty() {
            return Err(io::Error::other(
                "the archive holds more data than its manifest declares",
            ));
        }
        let max = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        self.budget.set(left - n as u64);
        Ok(n)
    }
}

/// A temporary file removed when dropped, unless disarmed.
struct TempFile {
    path: PathBuf,
    armed: Cell<bool>,
}

impl TempFile {
    fn new(path: PathBuf) -> Self {
        TempFile {
            path,
            armed: Cell::new(true),
        }
    }

    fn disarm(&self) {
        self.armed.set(false);
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed.get() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// A temporary folder (mode 0700) removed with everything in it when dropped.
struct WorkDir {
    path: PathBuf,
}

impl WorkDir {
    fn create(path: PathBuf) -> Result<WorkDir, OpsError> {
        let mut builder = fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(&path).map_err(io_err(&path))?;
        Ok(WorkDir { path })
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

fn create_private_dirs(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Creates a new file readable by its owner only.
fn create_new_private(path: &Path) -> io::Result<File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Renames, or copies (synced) then removes when the target is on another file system.
fn move_file(from: &Path, to: &Path) -> io::Result<()> {
    match fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(_) => {
            fs::copy(from, to)?;
            File::open(to)?.sync_all()?;
            fs::remove_file(from)
        }
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn mode_of(meta: &fs::Metadata) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o7777
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        0o600
    }
}

fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

/// Bytes free for an unprivileged user in the file system of `dir`.
fn available_bytes(dir: &Path) -> Option<u64> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
        // SAFETY: `path` is a NUL-terminated string we own; `stats` is a plain struct
        // that statvfs fills and that we read only when it succeeded.
        let mut stats: libc::statvfs = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::statvfs(path.as_ptr(), &mut stats) };
        #[allow(clippy::unnecessary_cast)]
        (rc == 0).then(|| (stats.f_bavail as u64).saturating_mul(stats.f_frsize as u64))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "20261130T023000000Z-aaaaaaaaaaaa";
    const CUR: &str = "20261201T023000000Z-bbbbbbbbbbbb";

    fn put(path: &Path, bytes: &[u8]) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }

    /// A data folder with one file of every sort, real or made up (no DuckDB needed:
    /// a backup copies bytes).
    fn fake_data(root: &Path) -> PathBuf {
        let data = root.join("data");
        let p = data.join("private");
        put(&p.join("store.duckdb"), &b"store pages ".repeat(5000));
        put(&p.join("store.duckdb.wal"), b"wal");
        put(&p.join("secret.key"), "ab".repeat(32).as_bytes());
        put(&p.join("reading.journal"), b"");
        put(
            &p.join("archive/20261201-0123456789ab-returns.csv"),
            b"person_ref\nR1\n",
        );
        put(&p.join(format!("reports/{CUR}.json")), b"{}");
        put(&p.join("staging/rows.parquet"), b"staged");
        put(&p.join("spill/duckdb_temp_block"), b"spilled");
        put(&p.join("reading.journal.tmp"), b"half written");
        put(&p.join(LAST_BACKUP), b"{}");
        put(
            &data.join(format!("published/{OLD}.duckdb")),
            b"old snapshot",
        );
        put(
            &data.join(format!("published/{CUR}.duckdb")),
            b"current snapshot",
        );
        put(
            &data.join("published/CURRENT"),
            format!("{CUR}.duckdb\n").as_bytes(),
        );
        put(&data.join("published/.tmp-1-2.duckdb"), b"draft");
        put(&data.join("access/users.json"), b"{\"users\": []}");
        put(&data.join("access/session.key"), b"session key");
        put(&data.join("access/audit.log"), b"{\"line\": 1}\n");
        put(&data.join("access/users.json.tmp"), b"half");
        put(&data.join("quarantine/bad.csv"), b"name,phone\n");
        put(&data.join("status/job.json"), b"{\"ok\": true}");
        put(&data.join("reference/sites.csv"), b"code,name\n");
        set_mode(&p, 0o700).unwrap();
        data
    }

    const EXPECTED: &[&str] = &[
        "private/archive/20261201-0123456789ab-returns.csv",
        "private/reading.journal",
        "private/reports/20261201T023000000Z-bbbbbbbbbbbb.json",
        "private/secret.key",
        "private/store.duckdb",
        "private/store.duckdb.wal",
        "published/20261201T023000000Z-bbbbbbbbbbbb.duckdb",
        "published/CURRENT",
        "access/audit.log",
        "access/session.key",
        "access/users.json",
        "status/job.json",
        "reference/sites.csv",
    ];

    fn expected() -> Vec<&'static str> {
        EXPECTED.to_vec()
    }

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

    fn sha(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
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
    fn restore_round_trips_every_byte_and_sets_the_modes() {
        let root = tempfile::tempdir().unwrap();
        let data = fake_data(root.path());
        let out = root.path().join("b.tar.gz");
        backup(&data, &out).unwrap();
        let restored = root.path().join("new/data");
        let summary = restore(&out, &restored, false).unwrap();
        assert_eq!(summary.files, expected().len());
        assert_eq!(summary.replaced, 0);
        assert!(summary.kept.is_empty() && summary.removed.is_empty());
        for rel in expected() {
            assert_eq!(
                fs::read(restored.join(rel)).unwrap(),
                fs::read(data.join(rel)).unwrap(),
                "{rel}"
            );
        }
        for absent in [
            "private/staging/rows.parquet",
            "private/spill/duckdb_temp_block",
            "private/reading.journal.tmp",
            "quarantine/bad.csv",
            &format!("published/{OLD}.duckdb"),
            "published/.tmp-1-2.duckdb",
            "access/users.json.tmp",
        ] {
            assert!(!restored.join(absent).exists(), "{absent}");
        }
        #[cfg(unix)]
        {
            let mode = |rel: &str| mode_of(&fs::metadata(restored.join(rel)).unwrap());
            assert_eq!(mode(""), 0o750);
            assert_eq!(mode("private"), 0o700);
            assert_eq!(mode("private/archive"), 0o700);
            assert_eq!(mode("private/secret.key"), 0o600);
            assert_eq!(mode("private/store.duckdb"), 0o600);
            assert_eq!(mode("access"), 0o700);
            assert_eq!(mode("access/session.key"), 0o600);
            assert_eq!(mode("published"), 0o750);
            assert_eq!(mode(&format!("published/{CUR}.duckdb")), 0o640);
            assert_eq!(mode("published/CURRENT"), 0o640);
            assert_eq!(mode("status"), 0o750);
            assert_eq!(mode("status/job.json"), 0o640);
            assert_eq!(mode("quarantine"), 0o700);
        }
        let record = last_backup(&restored).unwrap().unwrap();
        assert!(record.restored_at.is_some());
        assert_eq!(record.sha256, sha(&fs::read(&out).unwrap()));
        let names: Vec<_> = fs::read_dir(root.path().join("new"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from("data")],
            "the work folder is gone"
        );
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

    #[test]
    fn a_folder_that_is_not_empty_is_kept_unless_forced() {
        let root = tempfile::tempdir().unwrap();
        let data = fake_data(root.path());
        fs::remove_file(data.join("private/store.duckdb.wal")).unwrap();
        let out = root.path().join("b.tar.gz");
        backup(&data, &out).unwrap();
        let secret = fs::read(data.join("private/secret.key")).unwrap();

        fs::write(data.join("private/secret.key"), "cd".repeat(32)).unwrap();
        fs::write(
            data.join("private/store.duckdb.wal"),
            b"log of another store",
        )
        .unwrap();
        fs::write(data.join("access/extra.txt"), b"kept").unwrap();
        let err = restore(&out, &data, false).unwrap_err();
        assert!(matches!(err, OpsError::NotEmpty(_)), "{err}");
        assert_ne!(
            fs::read(data.join("private/secret.key")).unwrap(),
            secret,
            "untouched"
        );

        let summary = restore(&out, &data, true).unwrap();
        assert_eq!(fs::read(data.join("private/secret.key")).unwrap(), secret);
        assert!(!data.join("private/store.duckdb.wal").exists());
        assert_eq!(
            summary.removed,
            vec!["private/store.duckdb.wal".to_string()]
        );
        assert_eq!(summary.replaced, summary.files);
        assert!(
            summary.kept.contains(&"access/extra.txt".to_string()),
            "{:?}",
            summary.kept
        );
        assert!(
            summary.kept.contains(&format!("published/{OLD}.duckdb")),
            "{:?}",
            summary.kept
        );
        assert!(data.join("access/extra.txt").exists());
        let text = summary.to_string();
        assert!(
            text.contains("replaced") && text.contains("access/extra.txt"),
            "{text}"
        );
    }

    /// The uncompressed tar of an archive, a change to it, and the archive again.
    fn rewrite(archive: &Path, to: &Path, change: impl FnOnce(&mut Vec<u8>)) {
        let mut tar_bytes = Vec::new();
        flate2::read::GzDecoder::new(File::open(archive).unwrap())
            .read_to_end(&mut tar_bytes)
            .unwrap();
        change(&mut tar_bytes);
        let mut gz = flate2::write::GzEncoder::new(
            File::create(to).unwrap(),
            flate2::Compression::default(),
        );
        gz.write_all(&tar_bytes).unwrap();
        gz.finish().unwrap();
    }

    #[test]
    fn a_damaged_member_is_named_and_nothing_is_restored() {
        let root = tempfile::tempdir().unwrap();
        let data = fake_data(root.path());
        let out = root.path().join("b.tar.gz");
        backup(&data, &out).unwrap();
        let target = root.path().join("restored");

        // One byte of the secret, inside the tar.
        let bad = root.path().join("bad-member.tar.gz");
        let secret = fs::read(data.join("private/secret.key")).unwrap();
        rewrite(&out, &bad, |tar| {
            let at = tar.windows(secret.len()).position(|w| w == secret).unwrap();
            tar[at + 7] ^= 0x01;
        });
        let err = restore(&bad, &target, false).unwrap_err();
        assert!(
            matches!(&err, OpsError::Mismatch { file, .. } if file == "private/secret.key"),
            "{err}"
        );
        assert!(err.to_string().contains("private/secret.key"), "{err}");
        assert!(!target.exists(), "nothing restored");

        // The archive cut short.
        let cut = root.path().join("cut.tar.gz");
        let bytes = fs::read(&out).unwrap();
        fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
        let err = restore(&cut, &target, false).unwrap_err();
        assert!(
            matches!(
                err,
                OpsError::Damaged { .. } | OpsError::Missing { .. } | OpsError::Mismatch { .. }
            ),
            "{err}"
        );
        assert!(!target.exists(), "nothing restored");

        // Not an archive at all.
        let junk = root.path().join("junk.tar.gz");
        fs::write(&junk, b"this is not a backup").unwrap();
        let err = restore(&junk, &target, false).unwrap_err();
        assert!(matches!(err, OpsError::NotABackup { .. }), "{err}");
        assert!(!target.exists());
        let left: Vec<String> = fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("restore"))
            .collect();
        assert!(left.is_empty(), "work folders removed: {left:?}");
    }

    /// An archive written by hand: a manifest listing `listed`, then raw entries
    /// (name bytes, type, link name, content) exactly as given.
    /// A raw tar entry: name, type, link name, content.
    type Raw<'a> = (&'a [u8], tar::EntryType, Option<&'a [u8]>, &'a [u8]);

    fn hostile(path: &Path, listed: &[(&str, &[u8])], entries: &[Raw<'_>]) {
        let manifest = Manifest {
            format: FORMAT.into(),
            version: "0.1.0".into(),
            created_at: Utc::now(),
            snapshot: None,
            files: listed
                .iter()
                .map(|(p, bytes)| ManifestFile {
                    path: p.to_string(),
                    size: bytes.len() as u64,
                    sha256: sha(bytes),
                    mode: "0600".into(),
                })
                .collect(),
        };
        let gz = flate2::write::GzEncoder::new(
            File::create(path).unwrap(),
            flate2::Compression::default(),
        );
        let mut builder = tar::Builder::new(gz);
        let text = serde_json::to_vec(&manifest).unwrap();
        let mut header = regular_header(text.len() as u64, 0o600, 0);
        builder
            .append_data(&mut header, MANIFEST_NAME, &text[..])
            .unwrap();
        for (name, kind, link, bytes) in entries {
            let mut header = tar::Header::new_gnu();
            header.as_old_mut().name[..name.len()].copy_from_slice(name);
            if let Some(link) = link {
                header.as_old_mut().linkname[..link.len()].copy_from_slice(link);
            }
            header.set_entry_type(*kind);
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append(&header, *bytes).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap();
    }

    #[test]
    fn hostile_archives_write_nothing_outside_the_folder() {
        use tar::EntryType::{Link, Regular, Symlink};
        let root = tempfile::tempdir().unwrap();
        let nest = root.path().join("a/b");
        fs::create_dir_all(&nest).unwrap();
        let target = nest.join("data");
        let key: &[u8] = b"0123";
        let listed_key: &[(&str, &[u8])] = &[("private/secret.key", key)];
        type Case<'a> = (&'a str, Vec<(&'a str, &'a [u8])>, Vec<Raw<'a>>);
        let cases: Vec<Case> = vec![
            (
                "dotdot entry",
                listed_key.to_vec(),
                vec![(b"../evil", Regular, None, key)],
            ),
            (
                "deep dotdot",
                listed_key.to_vec(),
                vec![(b"private/../../evil", Regular, None, key)],
            ),
            (
                "absolute entry",
                listed_key.to_vec(),
                vec![(b"/tmp/reintegra-evil-abs", Regular, None, key)],
            ),
            (
                "dotdot in the manifest",
                vec![("../evil", key)],
                vec![(b"../evil", Regular, None, key)],
            ),
            (
                "absolute in the manifest",
                vec![("/evil", key)],
                vec![(b"/evil", Regular, None, key)],
            ),
            (
                "symlink",
                vec![("private/link", b"")],
                vec![(b"private/link", Symlink, Some(b"../../evil"), b"")],
            ),
            (
                "hard link",
                vec![("private/link", b"")],
                vec![(b"private/link", Link, Some(b"/etc/passwd"), b"")],
            ),
            (
                "not listed",
                listed_key.to_vec(),
                vec![
                    (b"private/secret.key", Regular, None, key),
                    (b"private/other", Regular, None, key),
                ],
            ),
            (
                "outside the areas",
                vec![("evil", key)],
                vec![(b"evil", Regular, None, key)],
            ),
            (
                "into staging",
                vec![("private/staging/x", key)],
                vec![(b"private/staging/x", Regular, None, key)],
            ),
            (
                "bigger than declared",
                listed_key.to_vec(),
                vec![(b"private/secret.key", Regular, None, b"0123456789")],
            ),
            (
                "twice",
                listed_key.to_vec(),
                vec![
                    (b"private/secret.key", Regular, None, key),
                    (b"private/secret.key", Regular, None, key),
                ],
            ),
        ];
        for (what, listed, entries) in cases {
            let archive = root.path().join("hostile.tar.gz");
            hostile(&archive, &listed, &entries);
            let err = restore(&archive, &target, false).unwrap_err();
            assert!(
                matches!(
                    err,
                    OpsError::UnsafeEntry { .. } | OpsError::TooLarge { .. }
                ),
                "{what}: {err}"
            );
            assert!(!target.exists(), "{what}: nothing restored");
            for place in [
                root.path().join("evil"),
                root.path().join("a/evil"),
                nest.join("evil"),
            ] {
                assert!(!place.exists(), "{what}: wrote {}", place.display());
            }
            assert!(!Path::new("/tmp/reintegra-evil-abs").exists(), "{what}");
            assert_eq!(
                fs::read_dir(&nest).unwrap().count(),
                0,
                "{what}: work folder removed"
            );
        }
    }

    #[test]
    fn a_manifest_may_not_declare_too_many_files() {
        let root = tempfile::tempdir().unwrap();
        let archive = root.path().join("many.tar.gz");
        let names: Vec<String> = (0..=MAX_FILES)
            .map(|i| format!("private/archive/{i}"))
            .collect();
        let listed: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        hostile(&archive, &listed, &[]);
        let err = restore(&archive, &root.path().join("data"), false).unwrap_err();
        assert!(
            matches!(&err, OpsError::TooLarge { reason, .. } if reason.contains("100000")),
            "{err}"
        );
    }

    #[test]
    fn paths_are_plain_names_under_the_backed_up_folders() {
        for ok in [
            "private/store.duckdb",
            "published/CURRENT",
            "access/audit-1.log",
            "status/a/b.json",
        ] {
            assert_eq!(unsafe_path(ok), None, "{ok}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "private/../../x",
            "private/./x",
            "private//x",
            "private",
            "quarantine/x",
            "private/staging/x",
            "private/spill/x",
            "private\\x",
            "private/x\n",
            "MANIFEST.json",
        ] {
            assert!(unsafe_path(bad).is_some(), "{bad:?}");
        }
    }
}
