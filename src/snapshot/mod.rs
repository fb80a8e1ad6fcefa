//! snapshot: published snapshots — immutable DuckDB files of aggregate cells — and the
//! `CURRENT` pointer that names the one to serve.
//!
//! A snapshot is written under a temporary name, checkpointed, fsynced, renamed to
//! `<UTC time>-<hash>.duckdb`, and only then named in `CURRENT` (written aside and
//! renamed over it), so that a crash at any moment leaves `CURRENT` naming a complete
//! file. A snapshot never holds person-level rows or `person_ref`: only the cells of
//! declared breakdowns and metadata.

mod read;
pub mod report;
pub mod sync;
mod write;

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use duckdb::{AccessMode, Config, Connection};

pub use read::{Cell, Snapshot};
pub use write::{FORMAT_PREFIX, Metadata, PublishedMeasure, SCHEMA_VERSION, write_snapshot};

/// The schema versions this build can serve: a server meeting any other keeps the
/// snapshot it has (and says why) rather than failing.
pub const READABLE: std::ops::RangeInclusive<u32> = 1..=SCHEMA_VERSION;

/// The name of a published snapshot file, without `.duckdb`: `20190327T081500123Z-1a2b3c4d5e6f`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SnapshotId(String);

impl SnapshotId {
    /// Parses a snapshot name (with or without the `.duckdb` suffix).
    pub fn parse(raw: &str) -> Option<SnapshotId> {
        let name = raw.trim().trim_end_matches(".duckdb");
        let (time, hash) = name.split_once('-')?;
        let time_ok = time.len() == 19
            && time.ends_with('Z')
            && time.as_bytes()[8] == b'T'
            && time[..8]
                .bytes()
                .chain(time[9..18].bytes())
                .all(|b| b.is_ascii_digit());
        let hash_ok = hash.len() == 12 && hash.bytes().all(|b| b.is_ascii_hexdigit());
        (time_ok && hash_ok).then(|| SnapshotId(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name a draft is read under before it is published.
    pub fn draft() -> SnapshotId {
        SnapshotId("00000000T000000000Z-000000000000".into())
    }

    pub fn file_name(&self) -> String {
        format!("{}.duckdb", self.0)
    }
}

impl fmt::Display for SnapshotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("snapshot {path}: {source}")]
    Db {
        path: PathBuf,
        source: duckdb::Error,
    },
    #[error("{path} names {name:?}, which is not a published snapshot")]
    BadPointer { path: PathBuf, name: String },
    #[error(
        "snapshot {path} has schema version {found}; this build reads versions {first} to {last}: upgrade the server (or republish with the job of this version)",
        first = READABLE.start(), last = READABLE.end()
    )]
    Unsupported { path: PathBuf, found: String },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> SnapshotError + '_ {
    move |source| SnapshotError::Io {
        path: path.to_path_buf(),
        source,
    }
}

const CURRENT: &str = "CURRENT";
const TEMP_PREFIX: &str = ".tmp-";

/// The `published/` folder.
#[derive(Debug, Clone)]
pub struct Published {
    dir: PathBuf,
}

impl Published {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Published { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path_of(&self, id: &SnapshotId) -> PathBuf {
        self.dir.join(id.file_name())
    }

    /// The snapshot `CURRENT` names, if there is one. A pointer to a missing or
    /// misnamed file is an error (the server keeps what it has; the job republishes).
    pub fn current(&self) -> Result<Option<SnapshotId>, SnapshotError> {
        let pointer = self.dir.join(CURRENT);
        let text = match fs::read_to_string(&pointer) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(&pointer)(e)),
        };
        let bad = || SnapshotError::BadPointer {
            path: pointer.clone(),
            name: text.trim().to_string(),
        };
        let id = SnapshotId::parse(&text).ok_or_else(bad)?;
        if !self.path_of(&id).is_file() {
            return Err(bad());
        }
        Ok(Some(id))
    }

    /// Every published snapshot file, oldest first.
    pub fn list(&self) -> Result<Vec<SnapshotId>, SnapshotError> {
        let mut ids: Vec<SnapshotId> = match fs::read_dir(&self.dir) {
            Ok(entries) => entries
                .filter_map(|e| e.ok())
                .filter_map(|e| {
                    let name = e.file_name().into_string().ok()?;
                    name.ends_with(".duckdb")
                        .then(|| SnapshotId::parse(&name))
                        .flatten()
                })
                .collect(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io_err(&self.dir)(e)),
        };
        ids.sort();
        Ok(ids)
    }

    /// Removes what an interrupted run left behind: temporary snapshot files and an
    /// unrenamed pointer. Returns how many files were removed.
    pub fn recover(&self) -> Result<usize, SnapshotError> {
        fs::create_dir_all(&self.dir).map_err(io_err(&self.dir))?;
        let mut removed = 0;
        for entry in fs::read_dir(&self.dir)
            .map_err(io_err(&self.dir))?
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(TEMP_PREFIX) || name == format!("{CURRENT}.tmp") {
                fs::remove_file(entry.path()).map_err(io_err(&entry.path()))?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// A fresh temporary path to write a snapshot into.
    pub fn draft_path(&self) -> PathBuf {
        let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
        self.dir.join(format!(
            "{TEMP_PREFIX}{}-{nanos}.duckdb",
            std::process::id()
        ))
    }

    /// Makes a finished draft the current snapshot: durable under its final name first,
    /// then named in `CURRENT` by an atomic rename.
    pub fn commit(
        &self,
        draft: &Path,
        created: DateTime<Utc>,
    ) -> Result<SnapshotId, SnapshotError> {
        let hash = {
            use sha2::{Digest, Sha256};
            let mut file = File::open(draft).map_err(io_err(draft))?;
            file.sync_all().map_err(io_err(draft))?;
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = io::Read::read(&mut file, &mut buf).map_err(io_err(draft))?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
            }
            hex::encode(hasher.finalize())
        };
        // Servers read snapshots as another user in the job's group (see deploy/):
        // group-readable, whatever the job's umask.
        crate::status::set_mode(draft, 0o640).map_err(io_err(draft))?;
        let name = format!("{}-{}", created.format("%Y%m%dT%H%M%S%3fZ"), &hash[..12]);
        let id = SnapshotId::parse(&name).expect("the name is well formed");
        let path = self.path_of(&id);
        fs::rename(draft, &path).map_err(io_err(&path))?;
        sync_dir(&self.dir)?;
        let pointer_tmp = self.dir.join(format!("{CURRENT}.tmp"));
        {
            let mut f = File::create(&pointer_tmp).map_err(io_err(&pointer_tmp))?;
            writeln!(f, "{}", id.file_name()).map_err(io_err(&pointer_tmp))?;
            f.sync_all().map_err(io_err(&pointer_tmp))?;
        }
        crate::status::set_mode(&pointer_tmp, 0o640).map_err(io_err(&pointer_tmp))?;
        let pointer = self.dir.join(CURRENT);
        fs::rename(&pointer_tmp, &pointer).map_err(io_err(&pointer))?;
        sync_dir(&self.dir)?;
        Ok(id)
    }

    /// Deletes snapshots beyond the newest `keep` (never the current one).
    pub fn prune(&self, keep: usize) -> Result<Vec<SnapshotId>, SnapshotError> {
        let current = self.current().ok().flatten();
        let all = self.list()?;
        let excess = all.len().saturating_sub(keep.max(1));
        let mut removed = Vec::new();
        for id in all.into_iter().take(excess) {
            if Some(&id) == current.as_ref() {
                continue;
            }
            let path = self.path_of(&id);
            fs::remove_file(&path).map_err(io_err(&path))?;
            removed.push(id);
        }
        Ok(removed)
    }
}

fn sync_dir(dir: &Path) -> Result<(), SnapshotError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

/// Opens a published snapshot read-only.
pub fn open_read_only(path: &Path) -> Result<Connection, SnapshotError> {
    let db = |source| SnapshotError::Db {
        path: path.to_path_buf(),
        source,
    };
    let config = Config::default()
        .access_mode(AccessMode::ReadOnly)
        .map_err(db)?;
    Connection::open_with_flags(path, config).map_err(db)
}

/// Reads one metadata value of a snapshot.
pub fn read_meta(conn: &Connection, key: &str) -> Option<String> {
    conn.query_row("SELECT value FROM meta WHERE key = ?", [key], |r| r.get(0))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_ids_parse_only_their_own_shape() {
        assert!(SnapshotId::parse("20190327T081500123Z-1a2b3c4d5e6f.duckdb").is_some());
        assert!(SnapshotId::parse("20190327T081500123Z-1a2b3c4d5e6f\n").is_some());
        assert!(SnapshotId::parse("../store.duckdb").is_none());
        assert!(SnapshotId::parse("20190327T081500123Z-1a2b3c4d5e6").is_none());
        assert!(SnapshotId::parse(".tmp-1-2.duckdb").is_none());
    }
}
