//! restore: a data folder from an archive `backup` wrote.
//!
//! Restoring reads the manifest first, unpacks into a temporary folder beside the data
//! folder, verifies every file, and only then moves them into place (with the modes of
//! their folders), and records the archive in `private/last-backup.json`.
//!
//! It must never write outside the folder it restores into (an entry that is
//! absolute, holds `..`, is a link or a device, or is not in the manifest stops the
//! restore before anything is moved); never restore a file whose size or SHA-256
//! differs from the manifest; and never print the content of a file.

use std::cell::Cell;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Instant;

use chrono::{DateTime, Utc};

use super::archive::{
    AREAS, Bounded, FORMAT, HashingReader, MANIFEST_NAME, MAX_FILES, MAX_MANIFEST_BYTES, Manifest,
    ManifestFile, WorkDir, area_modes, available_bytes, create_new_private, create_private_dirs,
    folder_of, move_file, set_mode, sync_dir, unsafe_path,
};
use super::backup::{LastBackup, Source, walk, write_last_backup};
use super::{OpsError, human_bytes, io_err, shell};
use crate::snapshot::SnapshotId;

/// Bytes of tar headers and padding allowed per file beyond the declared sizes.
const OVERHEAD_PER_FILE: u64 = 64 << 10;

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
            "modes: {} 0750; private/ and access/ 0700 (files 0600); published/, status/, deliveries/, reference/, notes/ 0750 (files 0640)",
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

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::ops::archive::test_support::*;
    use crate::ops::archive::{mode_of, regular_header};
    use crate::ops::backup::{backup, last_backup};

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
}
