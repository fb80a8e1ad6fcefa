//! archive: the backup archive's format, and the small tools `backup` and `restore`
//! share.
//!
//! The archive is a gzip-compressed tar whose first entry is `MANIFEST.json` (format,
//! version, time, current snapshot, and each file's path, size, SHA-256 and mode); the
//! files follow in the manifest's order.
//!
//! It owns the format's name and limits (`FORMAT`, `MANIFEST_NAME`, `MAX_FILES`, the
//! manifest's size), the manifest types, the folders an archive may hold (`AREAS`) and
//! the modes a restore gives them (`area_modes`), the tar header of a file, and which
//! paths may be restored (`unsafe_path`). And the small tools: a reader and a writer
//! that hash what passes, a bounded reader, a temporary file and a work folder removed
//! when dropped, private folders and files, moving, syncing and modes of files, and the
//! bytes free in a file system. It reads and writes no data folder itself.

use std::cell::Cell;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{OpsError, io_err};

/// The archive format this module writes and reads.
pub const FORMAT: &str = "reintegra-backup/1";
/// The first entry of every archive.
pub const MANIFEST_NAME: &str = "MANIFEST.json";
/// The most files an archive may hold (a manifest declaring more is refused).
pub const MAX_FILES: usize = 100_000;
/// The most bytes a manifest may take.
pub(super) const MAX_MANIFEST_BYTES: u64 = 32 << 20;
/// The folders of a data folder an archive may hold.
pub(super) const AREAS: [&str; 7] = [
    "private",
    "access",
    "published",
    "status",
    "deliveries",
    "reference",
    "notes",
];

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

/// The tar header of a regular file (owned by root, as every entry of an archive).
pub(super) fn regular_header(size: u64, mode: u32, mtime: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(size);
    header.set_mode(mode);
    header.set_mtime(mtime);
    header.set_uid(0);
    header.set_gid(0);
    header
}

/// Why a path of an archive may not be restored, if it may not. A restorable path is
/// relative, `/`-separated, made of plain names, under one of the folders a backup
/// holds, and not under a temporary folder.
pub(super) fn unsafe_path(rel: &str) -> Option<&'static str> {
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
            "outside the folders a backup holds (private, access, published, status, deliveries, reference, notes)",
        );
    }
    if parts[0] == "private" && matches!(parts[1], "staging" | "spill") {
        return Some("a temporary folder, which a backup never holds");
    }
    None
}

/// (folder mode, file mode) of a restored path: the private and access folders are
/// their owner's only; what the server reads is group-readable.
pub(super) fn area_modes(rel: &str) -> (u32, u32) {
    match rel.split('/').next() {
        Some("private" | "access") => (0o700, 0o600),
        _ => (0o750, 0o640),
    }
}

// --- small tools ----------------------------------------------------------------------

/// The folder a path is in (`.` for a bare name).
pub(super) fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// A reader that hashes and counts what passes, and remembers whether reading failed.
pub(super) struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
    pub(super) failed: bool,
}

impl<R> HashingReader<R> {
    pub(super) fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
            failed: false,
        }
    }

    pub(super) fn finish(self) -> (u64, String) {
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
pub(super) struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W> HashingWriter<W> {
    pub(super) fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    pub(super) fn finish(self) -> (W, u64, String) {
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
pub(super) struct Bounded<R> {
    pub(super) inner: R,
    pub(super) budget: Rc<Cell<u64>>,
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
pub(super) struct TempFile {
    pub(super) path: PathBuf,
    armed: Cell<bool>,
}

impl TempFile {
    pub(super) fn new(path: PathBuf) -> Self {
        TempFile {
            path,
            armed: Cell::new(true),
        }
    }

    pub(super) fn disarm(&self) {
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
pub(super) struct WorkDir {
    pub(super) path: PathBuf,
}

impl WorkDir {
    pub(super) fn create(path: PathBuf) -> Result<WorkDir, OpsError> {
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

/// Creates a folder and those it is in, readable by their owner only.
pub(super) fn create_private_dirs(dir: &Path) -> io::Result<()> {
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
pub(super) fn create_new_private(path: &Path) -> io::Result<File> {
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
pub(super) fn move_file(from: &Path, to: &Path) -> io::Result<()> {
    match fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(_) => {
            fs::copy(from, to)?;
            File::open(to)?.sync_all()?;
            fs::remove_file(from)
        }
    }
}

pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

pub(super) fn mode_of(meta: &fs::Metadata) -> u32 {
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

pub(super) fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
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
pub(super) fn available_bytes(dir: &Path) -> Option<u64> {
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

/// What the tests of `backup` and `restore` share: a made-up data folder and what a
/// backup of it holds.
#[cfg(test)]
pub(super) mod test_support {
    use std::fs;
    use std::path::{Path, PathBuf};

    use sha2::{Digest, Sha256};

    use super::set_mode;
    use crate::ops::backup::LAST_BACKUP;

    pub(in crate::ops) const OLD: &str = "20261130T023000000Z-aaaaaaaaaaaa";
    pub(in crate::ops) const CUR: &str = "20261201T023000000Z-bbbbbbbbbbbb";

    fn put(path: &Path, bytes: &[u8]) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }

    /// A data folder with one file of every sort, real or made up (no DuckDB needed:
    /// a backup copies bytes).
    pub(in crate::ops) fn fake_data(root: &Path) -> PathBuf {
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

    pub(in crate::ops) fn expected() -> Vec<&'static str> {
        EXPECTED.to_vec()
    }

    pub(in crate::ops) fn sha(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }
}
