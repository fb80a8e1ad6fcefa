//! Record keys: a secret, stable key per contributor (person or unit), derived with
//! HMAC-SHA256 from its reference and a secret generated on the first run.
//!
//! The secret lives only in the private folder (`private/secret.key`, mode 0600). It is
//! never logged, never put into SQL text, never in the snapshot. Losing it changes every
//! key, and with them every perturbation: keep it with the store's backups.

use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub struct Secret {
    key: [u8; 32],
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

pub fn secret_path(private: &Path) -> PathBuf {
    private.join("secret.key")
}

impl Secret {
    /// Reads the secret of the private folder (`NotFound` when there is none: the caller
    /// decides whether a new one may be made).
    pub fn load(private: &Path) -> io::Result<Secret> {
        let path = secret_path(private);
        let text = std::fs::read_to_string(&path)?;
        Secret::parse(&text).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} is not a reintegra secret (64 hex digits)",
                    path.display()
                ),
            )
        })
    }

    /// A public name of the secret (a keyed hash that reveals nothing of it), recorded
    /// in every snapshot so that a change of secret shows.
    pub fn id(&self) -> String {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).expect("any key length works");
        mac.update(b"reintegra secret id");
        hex::encode(&mac.finalize().into_bytes()[..8])
    }

    fn parse(text: &str) -> Option<Secret> {
        let bytes = hex::decode(text.trim()).ok()?;
        Some(Secret {
            key: bytes.try_into().ok()?,
        })
    }

    /// Makes a new secret at `path` (mode 0600); fails if one exists.
    pub fn create(path: &Path) -> io::Result<Secret> {
        let mut key = [0u8; 32];
        rand::Rng::fill_bytes(&mut rand::rng(), &mut key);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path)?;
        file.write_all(hex::encode(key).as_bytes())?;
        file.sync_all()?;
        tracing::info!(path = %path.display(), "generated the record-key secret");
        Ok(Secret { key })
    }

    /// A fixed secret, for tests.
    pub fn from_bytes(key: [u8; 32]) -> Secret {
        Secret { key }
    }

    /// The record key of a reference: the first 64 bits of HMAC-SHA256(secret, reference).
    pub fn record_key(&self, reference: &str) -> u64 {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).expect("any key length works");
        mac.update(reference.as_bytes());
        let digest = mac.finalize().into_bytes();
        u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_keys_are_stable_and_depend_on_the_secret() {
        let a = Secret::from_bytes([7; 32]);
        let b = Secret::from_bytes([8; 32]);
        assert_eq!(a.record_key("R12345678"), a.record_key("R12345678"));
        assert_ne!(a.record_key("R12345678"), a.record_key("R12345679"));
        assert_ne!(a.record_key("R12345678"), b.record_key("R12345678"));
    }

    #[test]
    fn the_secret_is_created_once_owner_only_and_never_printed() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            Secret::load(dir.path()).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        let first = Secret::create(&secret_path(dir.path())).unwrap();
        assert!(
            Secret::create(&secret_path(dir.path())).is_err(),
            "never replaced"
        );
        let again = Secret::load(dir.path()).unwrap();
        assert_eq!(first.record_key("x"), again.record_key("x"));
        assert_eq!(first.id(), again.id());
        assert_ne!(first.id(), Secret::from_bytes([1; 32]).id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(secret_path(dir.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let text = std::fs::read_to_string(secret_path(dir.path())).unwrap();
        assert!(!format!("{first:?}").contains(text.trim()));
    }
}
