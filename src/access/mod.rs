//! access: who may see what, and the record of what they saw.
//!
//! Accounts and the audit log live with the server's data, in `DATA/access/`, never in
//! a snapshot. They are plain files that a second process (`reintegra users`,
//! `reintegra audit`) can read and write while the server runs: the users store is
//! replaced atomically under a lock, the audit log is only appended to.

pub mod audit;
pub mod users;

use std::path::{Path, PathBuf};

pub use audit::{AuditLog, AuditWriter, Entry};
pub use users::{Role, User, Users, UsersError, UsersStore};

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
}
