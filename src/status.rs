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
            finished_at: DateTime::parse_from_rfc3339("2019-09-30T02:00:00Z").unwrap().with_timezone(&Utc),
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
            let mode = fs::metadata(dir(data.path()).join(INGEST)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o640);
        }
    }
}
