//! access: who may see what, and the record of what they saw.
//!
//! Accounts and the audit log live with the server's data, in `DATA/access/`, never in
//! a snapshot. They are plain files that a second process (`reintegra users`,
//! `reintegra audit`) can read and write while the server runs: the users store is
//! replaced atomically under a lock, the audit log is only appended to.

pub mod audit;
pub mod commands;
pub mod users;
pub mod viewer;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub use audit::{AuditLog, AuditWriter, Entry, Rotation, Verification};
pub use users::{Revoke, Role, TOKEN_LIFETIME, Token, User, Users, UsersError, UsersStore};
pub use viewer::Viewer;

/// What tells one version of a file replaced by rename from another: its inode, size
/// and modification time (a time alone can repeat within the clock's tick).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileVersion {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

impl FileVersion {
    pub fn of(path: &Path) -> Option<FileVersion> {
        let m = fs::metadata(path).ok()?;
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&m);
        #[cfg(not(unix))]
        let inode = 0;
        Some(FileVersion {
            modified: m.modified().ok(),
            len: m.len(),
            inode,
        })
    }
}

/// Opens (or makes, owner-only) a lock file of the access folder.
pub fn open_lock(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::File::options();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// The access folder of a data folder.
pub fn dir(data: &Path) -> PathBuf {
    data.join("access")
}

/// Times in the access files, as RFC 3339 text (chrono's serde support is not enabled).
pub(crate) mod rfc3339 {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }

    /// The same for optional times (absent or null when none).
    pub mod option {
        use chrono::{DateTime, Utc};
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(
            time: &Option<DateTime<Utc>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match time {
                Some(t) => super::serialize(t, s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|text| {
                    DateTime::parse_from_rfc3339(&text)
                        .map(|t| t.with_timezone(&Utc))
                        .map_err(serde::de::Error::custom)
                })
                .transpose()
        }
    }
}
