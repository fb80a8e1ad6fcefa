//! The audit log: one JSON line per page view, API call, export, login attempt and
//! account change, appended to `DATA/access/audit.log` (mode 0600). Lines are only ever
//! appended; several processes may write at once (each line is one `write` under an
//! advisory lock).
//!
//! An entry records who (user, role), what (method, route, path), the filters (query)
//! and the outcome. It never holds a password, a token or a value from an extract: the
//! server only ever sees published cells, and request bodies are not logged.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    #[serde(with = "super::rfc3339")]
    pub time: DateTime<Utc>,
    /// The account, if any (none for anonymous requests and unknown login names).
    pub user: Option<String>,
    pub role: Option<String>,
    /// view, api, export, login, logout, denied, account…
    pub action: String,
    pub method: String,
    pub path: String,
    /// The query string: filters and language.
    #[serde(default)]
    pub query: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
}

impl AuditLog {
    pub fn new(access_dir: &Path) -> Self {
        AuditLog {
            path: access_dir.join("audit.log"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one entry as one line.
    pub fn append(&self, entry: &Entry) -> io::Result<()> {
        self.append_all(std::slice::from_ref(entry))
    }

    /// Appends entries, one line each, in one write under the lock.
    pub fn append_all(&self, entries: &[Entry]) -> io::Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&self.path)?;
        let mut lines = Vec::with_capacity(entries.len() * 200);
        for entry in entries {
            serde_json::to_writer(&mut lines, entry).map_err(io::Error::other)?;
            lines.push(b'\n');
        }
        file.lock()?;
        file.write_all(&lines)
    }

    /// Every entry, oldest first (lines that do not parse are skipped).
    pub fn read(&self) -> io::Result<Vec<Entry>> {
        let file = match File::open(&self.path) {
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
}

/// Entries of the audit log written by a background thread, so that requests never
/// wait on the disk. The thread writes what has queued up, then pauses briefly: under
/// load one write (and one wake-up) serves many requests, and an entry reaches the
/// file within a few milliseconds.
#[derive(Clone)]
pub struct AuditWriter {
    sender: std::sync::mpsc::Sender<Message>,
}

enum Message {
    Entry(Entry),
    /// Answer once everything sent before is written.
    Flush(std::sync::mpsc::Sender<()>),
}

const BATCH_PAUSE: Duration = Duration::from_millis(10);

impl AuditWriter {
    pub fn start(log: AuditLog) -> AuditWriter {
        let (sender, receiver) = std::sync::mpsc::channel::<Message>();
        std::thread::Builder::new()
            .name("audit".into())
            .spawn(move || {
                while let Ok(first) = receiver.recv() {
                    let mut batch = Vec::new();
                    let mut waiting = Vec::new();
                    for message in std::iter::once(first).chain(receiver.try_iter()) {
                        match message {
                            Message::Entry(entry) => batch.push(entry),
                            Message::Flush(done) => waiting.push(done),
                        }
                    }
                    if let Err(e) = log.append_all(&batch) {
                        tracing::error!(error = %e, path = %log.path().display(), entries = batch.len(), "cannot write the audit log");
                    }
                    for done in waiting {
                        let _ = done.send(());
                    }
                    std::thread::sleep(BATCH_PAUSE);
                }
            })
            .expect("the audit thread starts");
        AuditWriter { sender }
    }

    pub fn record(&self, entry: Entry) {
        let _ = self.sender.send(Message::Entry(entry));
    }

    /// Waits (at most `timeout`) until every entry recorded so far is in the file, e.g.
    /// before the server exits.
    pub fn flush(&self, timeout: Duration) -> bool {
        let (done, wait) = std::sync::mpsc::channel();
        self.sender.send(Message::Flush(done)).is_ok() && wait.recv_timeout(timeout).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_appended_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path());
        let entry = Entry {
            time: Utc::now(),
            user: Some("awa".into()),
            role: Some("donor".into()),
            action: "view".into(),
            method: "GET".into(),
            path: "/d/returns".into(),
            query: "period=2018".into(),
            status: 200,
            detail: None,
            request_id: None,
        };
        log.append(&entry).unwrap();
        log.append(&entry).unwrap();
        assert_eq!(log.read().unwrap(), vec![entry.clone(), entry.clone()]);
        // The writer thread batches entries; a flush waits for them.
        let writer = AuditWriter::start(log.clone());
        for _ in 0..100 {
            writer.record(entry.clone());
        }
        assert!(writer.flush(Duration::from_secs(5)));
        assert_eq!(log.read().unwrap().len(), 102);
    }
}
