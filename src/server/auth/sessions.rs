//! Sessions as signed cookies: the browser holds who signed in, when, and when they
//! were last seen, under an HMAC-SHA256 with a key kept in `DATA/access/session.key`.
//! Nothing about a session lives in one process's memory, so a session survives a
//! restart and any replica sharing `DATA/access/` recognises it. A session ends:
//! - after `IDLE` without a request, or `ABSOLUTE` after signing in (times in the cookie,
//!   under the signature);
//! - when its account is removed or its password changes (the cookie carries a tag of
//!   the account's stamp, checked against the users store on every request);
//! - when its owner signs out: its id goes into `sessions-revoked.json`, read by every
//!   replica when the file changes, pruned when the session would have expired anyway.
//!
//! The signing uses the `hmac` and `sha2` crates the project already has; the `cookie`
//! crate's signed jar would have added a second copy of both (and of `rand`).

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::access::FileVersion;

const KEY_FILE: &str = "session.key";
const REVOKED_FILE: &str = "sessions-revoked.json";
const REVOKED_LOCK: &str = "sessions-revoked.lock";
const KEY_BYTES: usize = 64;

/// What a session cookie says, under its signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    #[serde(rename = "u")]
    pub user: String,
    /// A tag of the account's stamp when the session was opened.
    #[serde(rename = "s")]
    pub stamp: String,
    /// The session's id (for signing out).
    #[serde(rename = "i")]
    pub sid: String,
    /// The token of the sign-out form.
    #[serde(rename = "c")]
    pub csrf: String,
    /// Unix seconds: signed in.
    #[serde(rename = "t")]
    pub created: i64,
    /// Unix seconds: last request seen (refreshed at most once a minute).
    #[serde(rename = "l")]
    pub seen: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "{0} is not a session key ({KEY_BYTES} bytes expected); delete it to make a new one (everyone will have to sign in again)"
    )]
    BadKey(PathBuf),
}

/// Signs and reads session cookies; knows which sessions were signed out.
pub struct Sessions {
    key: [u8; KEY_BYTES],
    revoked_path: PathBuf,
    revoked_lock: PathBuf,
    revoked: RwLock<(Option<FileVersion>, Arc<HashMap<String, i64>>)>,
}

/// A short tag of an account's stamp: enough to tell a changed password.
pub fn stamp_tag(stamp: &str) -> String {
    hex::encode(&Sha256::digest(stamp.as_bytes())[..8])
}

pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

fn private_options() -> fs::OpenOptions {
    let mut options = File::options();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

impl Sessions {
    /// Reads the key of `DATA/access/`, or makes one (mode 0600) when there is none.
    pub fn open(access_dir: &Path) -> Result<Sessions, SessionError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| SessionError::Io { path, source }
        };
        fs::create_dir_all(access_dir).map_err(io(access_dir))?;
        let path = access_dir.join(KEY_FILE);
        let mut key = [0u8; KEY_BYTES];
        match private_options().write(true).create_new(true).open(&path) {
            Ok(mut f) => {
                rand::rng().fill_bytes(&mut key);
                f.write_all(&key).map_err(io(&path))?;
                f.sync_all().map_err(io(&path))?;
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let mut bytes = Vec::new();
                File::open(&path)
                    .and_then(|mut f| f.read_to_end(&mut bytes))
                    .map_err(io(&path))?;
                if bytes.len() != KEY_BYTES {
                    // Another process may be writing it this instant: look once more.
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    bytes = fs::read(&path).map_err(io(&path))?;
                }
                key = bytes
                    .try_into()
                    .map_err(|_| SessionError::BadKey(path.clone()))?;
            }
            Err(e) => return Err(io(&path)(e)),
        }
        Ok(Sessions {
            key,
            revoked_path: access_dir.join(REVOKED_FILE),
            revoked_lock: access_dir.join(REVOKED_LOCK),
            revoked: RwLock::new((None, Arc::new(HashMap::new()))),
        })
    }

    fn mac(&self, payload: &str) -> Hmac<Sha256> {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(b"reintegra-session-v1|");
        mac.update(payload.as_bytes());
        mac
    }

    /// The cookie value of a session: `payload.signature`, both base64url.
    pub fn seal(&self, claims: &Claims) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
        let tag = URL_SAFE_NO_PAD.encode(self.mac(&payload).finalize().into_bytes());
        format!("{payload}.{tag}")
    }

    /// The claims of a cookie value whose signature holds (in constant time).
    pub fn open_cookie(&self, value: &str) -> Option<Claims> {
        if value.len() > 1024 {
            return None;
        }
        let (payload, tag) = value.split_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        self.mac(payload).verify_slice(&tag).ok()?;
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
    }

    /// Signed-out session ids (re-read when another process changed the file).
    fn revoked(&self) -> Arc<HashMap<String, i64>> {
        let modified = FileVersion::of(&self.revoked_path);
        {
            let guard = self.revoked.read().unwrap_or_else(|e| e.into_inner());
            if guard.0 == modified {
                return guard.1.clone();
            }
        }
        let fresh: HashMap<String, i64> = fs::read_to_string(&self.revoked_path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        let mut guard = self.revoked.write().unwrap_or_else(|e| e.into_inner());
        *guard = (modified, Arc::new(fresh));
        guard.1.clone()
    }

    pub fn is_revoked(&self, sid: &str) -> bool {
        self.revoked().contains_key(sid)
    }

    /// Ends a session everywhere: records its id until `until` (unix seconds), when it
    /// would have expired anyway, and drops ids whose time has passed.
    pub fn revoke(&self, sid: &str, until: i64, now: i64) -> io::Result<()> {
        if let Some(dir) = self.revoked_path.parent() {
            fs::create_dir_all(dir)?;
        }
        let lock = private_options()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&self.revoked_lock)?;
        lock.lock()?;
        let mut all: HashMap<String, i64> = fs::read_to_string(&self.revoked_path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        all.retain(|_, t| *t > now);
        all.insert(sid.to_string(), until);
        let tmp = self.revoked_path.with_extension("json.tmp");
        let mut f = private_options()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        f.write_all(&serde_json::to_vec(&all).map_err(io::Error::other)?)?;
        f.sync_all()?;
        fs::rename(&tmp, &self.revoked_path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            user: "awa".into(),
            stamp: stamp_tag("abc"),
            sid: random_hex(16),
            csrf: random_hex(16),
            created: 1_800_000_000,
            seen: 1_800_000_000,
        }
    }

    #[test]
    fn a_sealed_cookie_opens_with_the_same_key_only_and_not_when_edited() {
        let dir = tempfile::tempdir().unwrap();
        let sessions = Sessions::open(dir.path()).unwrap();
        let c = claims();
        let value = sessions.seal(&c);
        assert_eq!(sessions.open_cookie(&value), Some(c.clone()));
        // Another replica with the same folder reads it; another key does not.
        assert_eq!(
            Sessions::open(dir.path()).unwrap().open_cookie(&value),
            Some(c.clone())
        );
        let other = tempfile::tempdir().unwrap();
        assert_eq!(
            Sessions::open(other.path()).unwrap().open_cookie(&value),
            None
        );
        // A payload claiming another user, with the old signature, is refused.
        let mut forged = c.clone();
        forged.user = "admin".into();
        let forged_payload = sessions.seal(&forged);
        let tampered = format!(
            "{}.{}",
            forged_payload.split('.').next().unwrap(),
            value.split('.').nth(1).unwrap()
        );
        assert_eq!(sessions.open_cookie(&tampered), None);
        assert_eq!(sessions.open_cookie("garbage"), None);
        assert_eq!(sessions.open_cookie(&"x.".repeat(2000)), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0);
        }
    }

    #[test]
    fn revoked_sessions_are_seen_by_every_reader_and_pruned_later() {
        let dir = tempfile::tempdir().unwrap();
        let a = Sessions::open(dir.path()).unwrap();
        let b = Sessions::open(dir.path()).unwrap();
        assert!(!b.is_revoked("s1"));
        a.revoke("s1", 100, 50).unwrap();
        assert!(b.is_revoked("s1"));
        a.revoke("s2", 300, 150).unwrap();
        assert!(!b.is_revoked("s1") && b.is_revoked("s2"));
    }
}
