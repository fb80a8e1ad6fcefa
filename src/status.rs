//! status: what the job tells the servers besides snapshots — `DATA/status/`, a folder
//! the job writes and the servers only read (group-readable, like `published/`).
//!
//! `ingest.json` says how the last nightly run ended: when, whether it failed, how many
//! files it quarantined, what it published, and when a run last succeeded. It holds
//! counts and times only: never a file's content, never a row.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The status folder of a data folder.
pub fn dir(data: &Path) -> PathBuf {
    data.join("status")
}

const INGEST: &str = "ingest.json";

/// How the last nightly run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    #[serde(with = "crate::access::rfc3339")]
    pub finished_at: DateTime<Utc>,
    /// `ok`, `quarantined` (some files refused, the rest published) or `failed`.
    pub outcome: String,
    /// Files the run took from the inbox.
    pub files: usize,
    pub quarantined: usize,
    /// The snapshot this run published, if it published one.
    pub published: Option<String>,
    /// When a run last ended without error (this one, or an earlier one).
    #[serde(default, with = "optional_time")]
    pub last_success_at: Option<DateTime<Utc>>,
    /// What went wrong, for a failed run (the error's message: names files, never values).
    #[serde(default)]
    pub error: Option<String>,
}

impl Status {
    pub fn failed(&self) -> bool {
        self.outcome == "failed"
    }

    /// The status the job last wrote, if any.
    pub fn read(data: &Path) -> Option<Status> {
        let text = fs::read(dir(data).join(INGEST)).ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// Writes the status atomically (aside, then renamed), group-readable.
    pub fn write(&self, data: &Path) -> io::Result<()> {
        let dir = dir(data);
        fs::create_dir_all(&dir)?;
        set_mode(&dir, 0o750)?;
        let tmp = dir.join(format!(".{INGEST}.tmp"));
        {
            let mut options = fs::OpenOptions::new();
            options.create(true).truncate(true).write(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o640);
            let mut f = options.open(&tmp)?;
            f.write_all(&serde_json::to_vec_pretty(self).map_err(io::Error::other)?)?;
            f.sync_all()?;
        }
        set_mode(&tmp, 0o640)?;
        fs::rename(&tmp, dir.join(INGEST))
    }
}

/// Sets a file's mode (whatever the process's umask), on unix.
pub fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

mod optional_time {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match time {
            Some(t) => crate::access::rfc3339::serialize(t, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        Ok(text
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_round_trips_and_is_group_readable_only() {
        let data = tempfile::tempdir().unwrap();
        assert!(Status::read(data.path()).is_none());
        let status = Status {
            finished_at: DateTime::parse_from_rfc3339("2019-09-30T02:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            outcome: "quarantined".into(),
            files: 4,
            quarantined: 1,
            published: Some("20190930T020000000Z-0123456789ab".into()),
            last_success_at: None,
            error: None,
        };
        status.write(data.path()).unwrap();
        assert_eq!(Status::read(data.path()), Some(status));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir(data.path()).join(INGEST))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o640);
        }
    }
}

// --- deliveries -----------------------------------------------------------------------

const DELIVERIES: &str = "deliveries.json";

/// The deliveries folder: what the deliveries page shows, written by the job.
pub fn deliveries_dir(data: &Path) -> PathBuf {
    data.join("deliveries")
}

/// Every file the job received (newest first, the latest [`Deliveries::KEPT`]), what
/// each kind now covers, and how long a kind may go without a delivery. Names, kinds,
/// times, months and counts only: never a row, never a cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deliveries {
    #[serde(with = "crate::access::rfc3339")]
    pub written_at: DateTime<Utc>,
    /// A kind with no accepted delivery for longer than this is flagged.
    pub stale_after_days: u32,
    pub files: Vec<Delivery>,
    pub coverage: Vec<Coverage>,
    /// Deliveries older than the ones listed (the job's load records keep them all).
    #[serde(default)]
    pub older: usize,
}

/// One received file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: i64,
    /// The file's name as delivered.
    pub file: String,
    pub kind: Option<String>,
    #[serde(with = "crate::access::rfc3339")]
    pub received_at: DateTime<Utc>,
    /// `accepted`, `replaced` (accepted, replacing earlier rows of its months),
    /// `quarantined` or `duplicate`.
    pub outcome: String,
    /// First and last month the file covers (`YYYY-MM`), for accepted files.
    pub months: Option<(String, String)>,
    /// Rows loaded (exact: shown to programme staff and administrators only).
    pub rows: u64,
    /// Rows of earlier deliveries this one replaced.
    pub replaced: u64,
    /// Problems found, for a quarantined file.
    pub problems: u64,
    /// The file's report in `reports/`, for a quarantined file whose report was kept.
    pub report: Option<String>,
}

/// What one kind of extract covers now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    pub kind: String,
    /// First and last date of the data held (`YYYY-MM-DD`).
    pub first: Option<String>,
    pub last: Option<String>,
    #[serde(default, with = "optional_time")]
    pub last_accepted_at: Option<DateTime<Utc>>,
}

impl Coverage {
    /// Days since the kind's last accepted delivery, if it ever had one.
    pub fn days_since_delivery(&self, now: DateTime<Utc>) -> Option<i64> {
        self.last_accepted_at.map(|t| (now - t).num_days())
    }

    /// Nothing accepted for longer than `days` (or never).
    pub fn is_stale(&self, now: DateTime<Utc>, days: u32) -> bool {
        self.days_since_delivery(now)
            .is_none_or(|d| d > i64::from(days))
    }
}

/// A quarantined file's report as the deliveries page shows it: rules, columns, rows
/// and the explanation and fix in both languages — never a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryReport {
    pub file: String,
    pub kind: Option<String>,
    pub rows_read: u64,
    pub pii: bool,
    pub problem_count: u64,
    pub problems: Vec<ReportGroup>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportGroup {
    pub column: Option<String>,
    pub rule: String,
    /// Inclusive row ranges (spreadsheet numbering, header = 1).
    pub rows: Vec<(u64, u64)>,
    pub count: u64,
    pub explanation: crate::reference::Label,
    pub fix: crate::reference::Label,
}

impl Deliveries {
    /// Records listed at most (the newest).
    pub const KEPT: usize = 500;

    pub fn read(data: &Path) -> Option<Deliveries> {
        let bytes = fs::read(deliveries_dir(data).join(DELIVERIES)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Writes the record atomically, group-readable.
    pub fn write(&self, data: &Path) -> io::Result<()> {
        let dir = deliveries_dir(data);
        fs::create_dir_all(dir.join("reports"))?;
        set_mode(&dir, 0o750)?;
        set_mode(&dir.join("reports"), 0o750)?;
        write_shared(
            &dir.join(DELIVERIES),
            &serde_json::to_vec_pretty(self).map_err(io::Error::other)?,
        )
    }

    /// A report kept for the deliveries page. `name` is a file name of `reports/`
    /// (as written in [`Delivery::report`]); anything else reads as none.
    pub fn report(data: &Path, name: &str) -> Option<DeliveryReport> {
        let safe = name.len() <= 80
            && name.ends_with(".json")
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        if !safe {
            return None;
        }
        let bytes = fs::read(deliveries_dir(data).join("reports").join(name)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Keeps a report for the page (group-readable) under `name`.
    pub fn keep_report(data: &Path, name: &str, report: &DeliveryReport) -> io::Result<()> {
        let dir = deliveries_dir(data).join("reports");
        fs::create_dir_all(&dir)?;
        write_shared(
            &dir.join(name),
            &serde_json::to_vec_pretty(report).map_err(io::Error::other)?,
        )
    }
}

/// Writes a file aside and renames it into place, mode 0640.
fn write_shared(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    {
        let mut options = fs::OpenOptions::new();
        options.create(true).truncate(true).write(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o640);
        let mut f = options.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    set_mode(&tmp, 0o640)?;
    fs::rename(&tmp, path)
}
