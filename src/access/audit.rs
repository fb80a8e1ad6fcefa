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
        let mut line = serde_json::to_string(entry).map_err(io::Error::other)?;
        line.push('\n');
        file.lock()?;
        file.write_all(line.as_bytes())
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
/// wait on the disk.
#[derive(Clone)]
pub struct AuditWriter {
    sender: std::sync::mpsc::Sender<Entry>,
}

impl AuditWriter {
    pub fn start(log: AuditLog) -> AuditWriter {
        let (sender, receiver) = std::sync::mpsc::channel::<Entry>();
        std::thread::Builder::new()
            .name("audit".into())
            .spawn(move || {
                for entry in receiver {
                    if let Err(e) = log.append(&entry) {
                        tracing::error!(error = %e, path = %log.path().display(), "cannot write the audit log");
                    }
                }
            })
            .expect("the audit thread starts");
        AuditWriter { sender }
    }

    pub fn record(&self, entry: Entry) {
        let _ = self.sender.send(entry);
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
        assert_eq!(log.read().unwrap(), vec![entry.clone(), entry]);
    }
}
