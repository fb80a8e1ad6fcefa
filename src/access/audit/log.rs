//! The audit log's files: appending under the lock with the hash chain, rotation and
//! retention, reading back, and verifying the chain.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest, Sha256};

use super::Entry;

/// The `prev` of the very first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const CURRENT: &str = "audit.log";
const LOCK: &str = "audit.lock";
/// How far from the end the last line is looked for (entries are capped far below).
const TAIL: u64 = 64 * 1024;

/// When the current file is rotated, and how long rotated files are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// Rotate before the current file would pass this size.
    pub max_bytes: u64,
    /// Rotated files older than this many days are deleted (the deletion is logged).
    pub retention_days: u32,
}

impl Default for Rotation {
    /// 16 MiB per file (about 60,000 entries), kept for 400 days.
    fn default() -> Self {
        Rotation {
            max_bytes: 16 << 20,
            retention_days: 400,
        }
    }
}

#[derive(Debug, Clone)]
pub struct AuditLog {
    dir: PathBuf,
    rotation: Rotation,
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq)]
pub struct Verification {
    pub files: usize,
    pub entries: usize,
    /// Lines that are not entries (a write torn by a crash or a full disk); the chain
    /// still runs through them.
    pub unreadable: Vec<(PathBuf, usize)>,
    /// The first entry of the oldest file follows a file removed by retention.
    pub starts_after_removed: bool,
    /// The first line whose `prev` is not the hash of the line before it.
    pub broken: Option<(PathBuf, usize)>,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn open_private(path: &Path, append: bool) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true);
    if append {
        options.append(true);
    } else {
        options.write(true).truncate(false);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// The last line of a file: its bytes' hash, its time, and whether the file ends with
/// a newline (a torn last write does not).
struct Tail {
    hash: Option<String>,
    time: Option<DateTime<Utc>>,
    newline: bool,
    size: u64,
}

fn tail(path: &Path) -> io::Result<Tail> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(Tail {
                hash: None,
                time: None,
                newline: true,
                size: 0,
            });
        }
        Err(e) => return Err(e),
    };
    let size = file.metadata()?.len();
    let start = size.saturating_sub(TAIL);
    file.seek(SeekFrom::Start(start))?;
    let mut buf = Vec::with_capacity((size - start) as usize);
    file.take(size - start).read_to_end(&mut buf)?;
    let newline = buf.last().is_none_or(|b| *b == b'\n');
    let body = buf.strip_suffix(b"\n").unwrap_or(&buf);
    if body.is_empty() {
        return Ok(Tail {
            hash: None,
            time: None,
            newline,
            size,
        });
    }
    let line = match body.iter().rposition(|b| *b == b'\n') {
        Some(i) => &body[i + 1..],
        None => body,
    };
    let time = serde_json::from_slice::<Entry>(line).ok().map(|e| e.time);
    Ok(Tail {
        hash: Some(sha256_hex(line)),
        time,
        newline,
        size,
    })
}

impl AuditLog {
    pub fn new(access_dir: &Path) -> Self {
        Self::with_rotation(access_dir, Rotation::default())
    }

    pub fn with_rotation(access_dir: &Path, rotation: Rotation) -> Self {
        AuditLog {
            dir: access_dir.to_path_buf(),
            rotation,
        }
    }

    /// The current file.
    pub fn path(&self) -> PathBuf {
        self.dir.join(CURRENT)
    }

    /// Appends one entry as one line.
    pub fn append(&self, entry: &Entry) -> io::Result<()> {
        self.append_all(std::slice::from_ref(entry))
    }

    /// Appends entries (capped, chained), one line each, in one write under the lock;
    /// rotates first when the file is full or was begun on an earlier day.
    pub fn append_all(&self, entries: &[Entry]) -> io::Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        fs::create_dir_all(&self.dir)?;
        let lock = open_private(&self.dir.join(LOCK), false)?;
        lock.lock()?;
        let current = self.path();
        let last = tail(&current)?;
        let mut prev = last.hash.clone().unwrap_or_else(|| {
            // A fresh current file continues the chain of the newest rotated one.
            self.newest_rotated_hash()
                .unwrap_or_else(|| GENESIS.to_string())
        });
        let now = Utc::now();
        let mut lines = Vec::with_capacity(entries.len() * 256 + 2);
        let mut preamble = Vec::new();
        let new_day = last
            .time
            .is_some_and(|t| t.date_naive() != now.date_naive());
        if last.size > 0
            && (new_day || last.size + (entries.len() as u64) * 1024 > self.rotation.max_bytes)
        {
            let rotated = self
                .dir
                .join(format!("audit-{}.log", now.format("%Y%m%dT%H%M%S%.6fZ")));
            fs::rename(&current, &rotated)?;
            let removed = self.remove_expired(now.date_naive())?;
            if !removed.is_empty() {
                let mut e = Entry::new("audit", "-", "audit.log");
                e.detail = Some(format!(
                    "rotated files older than {} days removed: {}",
                    self.rotation.retention_days,
                    removed.join(", ")
                ));
                preamble.push(e);
            }
        } else if !last.newline {
            // A torn last write: end its line so that ours start on their own.
            lines.push(b'\n');
        }
        for entry in preamble.iter().chain(entries) {
            let mut e = entry.clone().bounded();
            e.prev = prev;
            let line = serde_json::to_vec(&e).map_err(io::Error::other)?;
            prev = sha256_hex(&line);
            lines.extend_from_slice(&line);
            lines.push(b'\n');
        }
        let mut file = open_private(&current, true)?;
        file.write_all(&lines)?;
        file.flush()
    }

    /// Rotated files, oldest first.
    fn rotated(&self) -> io::Result<Vec<PathBuf>> {
        let mut files: Vec<PathBuf> = match fs::read_dir(&self.dir) {
            Ok(dir) => dir
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("audit-") && n.ends_with(".log"))
                })
                .collect(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        files.sort();
        Ok(files)
    }

    fn newest_rotated_hash(&self) -> Option<String> {
        let newest = self.rotated().ok()?.pop()?;
        tail(&newest).ok()?.hash
    }

    /// Deletes rotated files begun more than the retention ago; returns their names.
    fn remove_expired(&self, today: NaiveDate) -> io::Result<Vec<String>> {
        let mut removed = Vec::new();
        for path in self.rotated()? {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            let Some(day) = name
                .get(6..14)
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y%m%d").ok())
            else {
                continue;
            };
            if (today - day).num_days() > i64::from(self.rotation.retention_days) {
                fs::remove_file(&path)?;
                removed.push(name);
            }
        }
        Ok(removed)
    }

    /// Every file of the log, oldest first (the current one last).
    pub fn files(&self) -> io::Result<Vec<PathBuf>> {
        let mut files = self.rotated()?;
        if self.path().exists() {
            files.push(self.path());
        }
        Ok(files)
    }

    /// Every entry, oldest first (lines that do not parse are skipped).
    pub fn read(&self) -> io::Result<Vec<Entry>> {
        let mut out = Vec::new();
        for path in self.files()? {
            out.extend(read_file(&path)?);
        }
        Ok(out)
    }

    /// The newest entries, at most `max`, oldest first: reads files from the newest
    /// back until it has enough (bounded work for a web page).
    pub fn read_recent(&self, max: usize) -> io::Result<Vec<Entry>> {
        let mut out: Vec<Entry> = Vec::new();
        for path in self.files()?.iter().rev() {
            let mut entries = read_file(path)?;
            entries.append(&mut out);
            out = entries;
            if out.len() >= max {
                break;
            }
        }
        let skip = out.len().saturating_sub(max);
        Ok(out.split_off(skip))
    }

    /// Walks the chain through every file and reports the first broken link.
    pub fn verify(&self) -> io::Result<Verification> {
        let files = self.files()?;
        let mut result = Verification {
            files: files.len(),
            entries: 0,
            unreadable: Vec::new(),
            starts_after_removed: false,
            broken: None,
        };
        let mut prev: Option<String> = None;
        for path in &files {
            let reader = BufReader::new(File::open(path)?);
            for (i, line) in reader.split(b'\n').enumerate() {
                let line = line?;
                let number = i + 1;
                match serde_json::from_slice::<Entry>(&line) {
                    Ok(entry) => {
                        result.entries += 1;
                        match &prev {
                            None if entry.prev != GENESIS => result.starts_after_removed = true,
                            Some(p) if *p != entry.prev => {
                                result.broken = Some((path.clone(), number));
                                return Ok(result);
                            }
                            _ => {}
                        }
                    }
                    Err(_) => result.unreadable.push((path.clone(), number)),
                }
                prev = Some(sha256_hex(&line));
            }
        }
        Ok(result)
    }
}

fn read_file(path: &Path) -> io::Result<Vec<Entry>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str(&l).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> Entry {
        let mut e = Entry::new("view", "GET", path);
        e.user = Some("awa".into());
        e.status = 200;
        e
    }

    #[test]
    fn entries_are_appended_chained_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path());
        log.append(&entry("/d/returns")).unwrap();
        log.append_all(&[entry("/d/overview"), entry("/")]).unwrap();
        let read = log.read().unwrap();
        assert_eq!(read.len(), 3);
        assert_eq!(read[0].prev, GENESIS);
        assert_eq!(read[2].path, "/");
        let v = log.verify().unwrap();
        assert_eq!(
            (v.entries, v.broken.clone(), v.starts_after_removed),
            (3, None, false)
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(log.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0);
        }
    }

    #[test]
    fn an_edited_or_removed_line_breaks_the_chain_at_the_next_one() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path());
        for p in ["/a", "/b", "/c", "/d"] {
            log.append(&entry(p)).unwrap();
        }
        let text = fs::read_to_string(log.path()).unwrap();
        fs::write(log.path(), text.replace("\"/b\"", "\"/x\"")).unwrap();
        let v = log.verify().unwrap();
        assert_eq!(v.broken, Some((log.path(), 3)));
        let lines: Vec<&str> = text.lines().collect();
        fs::write(
            log.path(),
            format!("{}\n{}\n{}\n", lines[0], lines[2], lines[3]),
        )
        .unwrap();
        assert_eq!(log.verify().unwrap().broken, Some((log.path(), 2)));
    }

    #[test]
    fn a_torn_last_line_is_ended_and_the_chain_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path());
        log.append(&entry("/a")).unwrap();
        let mut f = OpenOptions::new().append(true).open(log.path()).unwrap();
        f.write_all(b"{\"time\":\"2026-").unwrap();
        log.append(&entry("/b")).unwrap();
        let v = log.verify().unwrap();
        assert_eq!(v.broken, None);
        assert_eq!(v.unreadable.len(), 1);
        assert_eq!(log.read().unwrap().len(), 2);
    }

    #[test]
    fn files_rotate_by_size_keep_the_chain_and_expire() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::with_rotation(
            dir.path(),
            Rotation {
                max_bytes: 4096,
                retention_days: 30,
            },
        );
        for i in 0..60 {
            log.append(&entry(&format!("/d/{i}"))).unwrap();
        }
        let files = log.files().unwrap();
        assert!(files.len() > 3, "{files:?}");
        for f in &files {
            assert!(fs::metadata(f).unwrap().len() <= 4096 + 1024);
        }
        let v = log.verify().unwrap();
        assert_eq!((v.entries, v.broken), (60, None));
        assert_eq!(log.read_recent(5).unwrap().len(), 5);
        assert_eq!(log.read_recent(5).unwrap()[4].path, "/d/59");
        // A rotated file from long ago is removed at the next rotation, and that is logged.
        fs::write(dir.path().join("audit-20200101T000000.000000Z.log"), "").unwrap();
        for i in 0..30 {
            log.append(&entry(&format!("/e/{i}"))).unwrap();
        }
        assert!(
            !dir.path()
                .join("audit-20200101T000000.000000Z.log")
                .exists()
        );
        assert!(
            log.read()
                .unwrap()
                .iter()
                .any(|e| e.action == "audit" && e.detail.as_deref().unwrap().contains("20200101"))
        );
        // Removing the oldest file leaves a chain that starts after a removed file.
        fs::remove_file(&log.files().unwrap()[0]).unwrap();
        let v = log.verify().unwrap();
        assert!(v.starts_after_removed && v.broken.is_none());
    }

    #[test]
    fn a_new_day_starts_a_new_file() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path());
        let mut old = entry("/yesterday");
        old.time = Utc::now() - chrono::Duration::days(1);
        log.append(&old).unwrap();
        log.append(&entry("/today")).unwrap();
        assert_eq!(log.files().unwrap().len(), 2);
        assert_eq!(log.verify().unwrap().broken, None);
    }
}
