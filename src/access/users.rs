//! The users store: accounts with a role, an argon2id password hash and hashed bearer
//! tokens, in one JSON file beside the server's data (`DATA/access/users.json`).
//!
//! Several processes use it at once (the server reads it, `reintegra users` writes it):
//! every change takes an exclusive lock on `users.lock`, writes a new file aside and
//! renames it over the old one, so readers always see a complete store.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Who may see what. `Public` is nobody signed in (when public access is on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Public,
    Donor,
    Ministry,
    Programme,
    Admin,
}

impl Role {
    pub const ACCOUNTS: [Role; 4] = [Role::Donor, Role::Ministry, Role::Programme, Role::Admin];

    pub fn parse(raw: &str) -> Option<Role> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "public" => Some(Role::Public),
            "donor" => Some(Role::Donor),
            "ministry" => Some(Role::Ministry),
            "programme" | "program" => Some(Role::Programme),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Role::Public => "public",
            Role::Donor => "donor",
            Role::Ministry => "ministry",
            Role::Programme => "programme",
            Role::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Token {
    /// A short id to tell tokens apart (the first characters of the token).
    pub id: String,
    /// SHA-256 of the token, hex.
    pub hash: String,
    #[serde(with = "super::rfc3339")]
    pub created: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub role: Role,
    /// argon2id PHC string.
    pub password: String,
    /// Changes whenever the password changes: sessions opened before are void.
    pub stamp: String,
    #[serde(default)]
    pub tokens: Vec<Token>,
    #[serde(with = "super::rfc3339")]
    pub created: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Users {
    pub users: Vec<User>,
}

#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path} is not a users store: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("a user named {0} already exists")]
    Exists(String),
    #[error("no user named {0}")]
    Unknown(String),
    #[error("user names are 2 to 32 letters, digits, '.', '-' or '_'")]
    BadName,
    #[error("{0}")]
    WeakPassword(String),
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

/// Where the store lives.
#[derive(Debug, Clone)]
pub struct UsersStore {
    path: PathBuf,
    lock: PathBuf,
}

fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Checks a new password: long enough, not the user's name, not a common one.
pub fn check_password(name: &str, password: &str) -> Result<(), UsersError> {
    const COMMON: &[&str] = &[
        "password",
        "motdepasse",
        "123456",
        "qwerty",
        "azerty",
        "reintegra",
        "bamako",
        "letmein",
        "welcome",
        "bienvenue",
        "admin",
        "iloveyou",
        "mali2019",
    ];
    let weak = |why: &str| Err(UsersError::WeakPassword(format!("weak password: {why}")));
    let chars = password.chars().count();
    if chars < 12 {
        return weak("use at least 12 characters (a short sentence works well)");
    }
    let lower = password.to_lowercase();
    if lower.contains(&name.to_lowercase()) {
        return weak("it contains the user name");
    }
    if COMMON.iter().any(|c| lower.contains(c)) {
        return weak("it contains a common password");
    }
    let distinct: std::collections::BTreeSet<char> = password.chars().collect();
    if distinct.len() < 6 {
        return weak("it repeats too few different characters");
    }
    Ok(())
}

fn valid_name(name: &str) -> bool {
    (2..=32).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// A password hash that never matches, to spend the same time on unknown users.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2p6Y0FH2HgbmXK7JXcGfm3R0qA+GP0ek5NUvuVtxMzc";

impl UsersStore {
    pub fn new(access_dir: &Path) -> Self {
        UsersStore {
            path: access_dir.join("users.json"),
            lock: access_dir.join("users.lock"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: io::Error) -> UsersError {
        UsersError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// Reads the store (empty when it does not exist yet).
    pub fn load(&self) -> Result<Users, UsersError> {
        match fs::read_to_string(&self.path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| UsersError::Corrupt {
                path: self.path.clone(),
                reason: e.to_string(),
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Users::default()),
            Err(e) => Err(self.io(e)),
        }
    }

    /// The store's modification time, to notice changes made by another process.
    pub fn modified(&self) -> Option<std::time::SystemTime> {
        fs::metadata(&self.path).and_then(|m| m.modified()).ok()
    }

    /// Applies a change under the lock and writes the store atomically.
    pub fn update<T>(
        &self,
        change: impl FnOnce(&mut Users) -> Result<T, UsersError>,
    ) -> Result<T, UsersError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(|e| self.io(e))?;
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.lock)
            .map_err(|e| self.io(e))?;
        lock.lock().map_err(|e| self.io(e))?;
        let mut users = self.load()?;
        let out = change(&mut users)?;
        let tmp = self.path.with_extension("json.tmp");
        {
            let mut options = File::options();
            options.create(true).truncate(true).write(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut f = options.open(&tmp).map_err(|e| self.io(e))?;
            let text =
                serde_json::to_string_pretty(&users).map_err(|e| self.io(io::Error::other(e)))?;
            f.write_all(text.as_bytes()).map_err(|e| self.io(e))?;
            f.sync_all().map_err(|e| self.io(e))?;
        }
        fs::rename(&tmp, &self.path).map_err(|e| self.io(e))?;
        Ok(out)
    }

    pub fn add(&self, name: &str, role: Role, password: &str) -> Result<(), UsersError> {
        if !valid_name(name) {
            return Err(UsersError::BadName);
        }
        check_password(name, password)?;
        let hash = hash_password(password)?;
        self.update(|users| {
            if users.users.iter().any(|u| u.name == name) {
                return Err(UsersError::Exists(name.to_string()));
            }
            users.users.push(User {
                name: name.to_string(),
                role,
                password: hash,
                stamp: random_token(8),
                tokens: Vec::new(),
                created: Utc::now(),
            });
            Ok(())
        })
    }

    pub fn remove(&self, name: &str) -> Result<(), UsersError> {
        self.update(|users| {
            let before = users.users.len();
            users.users.retain(|u| u.name != name);
            if users.users.len() == before {
                Err(UsersError::Unknown(name.to_string()))
            } else {
                Ok(())
            }
        })
    }

    /// Sets a new password; sessions opened with the old one end.
    pub fn set_password(&self, name: &str, password: &str) -> Result<(), UsersError> {
        check_password(name, password)?;
        let hash = hash_password(password)?;
        self.update(|users| {
            let user = users
                .users
                .iter_mut()
                .find(|u| u.name == name)
                .ok_or_else(|| UsersError::Unknown(name.to_string()))?;
            user.password = hash;
            user.stamp = random_token(8);
            Ok(())
        })
    }

    /// Issues a bearer token for scripts; only its hash is kept. Returns the token.
    pub fn issue_token(&self, name: &str) -> Result<String, UsersError> {
        let token = format!("rtk_{}", random_token(32));
        let hash = sha256_hex(&token);
        self.update(|users| {
            let user = users
                .users
                .iter_mut()
                .find(|u| u.name == name)
                .ok_or_else(|| UsersError::Unknown(name.to_string()))?;
            user.tokens.push(Token {
                id: token[..12].to_string(),
                hash,
                created: Utc::now(),
            });
            Ok(())
        })?;
        Ok(token)
    }
}

fn hash_password(password: &str) -> Result<String, UsersError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| UsersError::Hash(e.to_string()))
}

impl Users {
    /// The user whose name and password match. An unknown name costs the same time as
    /// a wrong password.
    pub fn authenticate(&self, name: &str, password: &str) -> Option<&User> {
        let user = self.users.iter().find(|u| u.name == name);
        let hash = user.map_or(DUMMY_HASH, |u| u.password.as_str());
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), hash)
            .is_ok();
        user.filter(|_| ok)
    }

    /// The user a bearer token belongs to (compared in constant time).
    pub fn by_token(&self, token: &str) -> Option<&User> {
        let hash = sha256_hex(token);
        let mut found = None;
        for user in &self.users {
            for t in &user.tokens {
                if bool::from(t.hash.as_bytes().ct_eq(hash.as_bytes())) {
                    found = Some(user);
                }
            }
        }
        found
    }

    pub fn get(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_added_authenticated_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = UsersStore::new(dir.path());
        store
            .add("awa", Role::Donor, "correct horse battery")
            .unwrap();
        assert!(matches!(
            store.add("awa", Role::Admin, "another long phrase"),
            Err(UsersError::Exists(_))
        ));
        let users = store.load().unwrap();
        assert_eq!(
            users
                .authenticate("awa", "correct horse battery")
                .map(|u| u.role),
            Some(Role::Donor)
        );
        assert!(users.authenticate("awa", "wrong horse battery").is_none());
        assert!(
            users
                .authenticate("nobody", "correct horse battery")
                .is_none()
        );
        let token = store.issue_token("awa").unwrap();
        let users = store.load().unwrap();
        assert_eq!(users.by_token(&token).map(|u| u.name.as_str()), Some("awa"));
        assert!(users.by_token("rtk_nope").is_none());
        assert!(
            !std::fs::read_to_string(store.path())
                .unwrap()
                .contains(&token),
            "only the hash is kept"
        );
        store.remove("awa").unwrap();
        assert!(store.load().unwrap().get("awa").is_none());
    }

    #[test]
    fn weak_passwords_are_refused() {
        for (name, pw) in [
            ("awa", "short"),
            ("awa", "awa-is-my-name-ok"),
            ("x1", "password12345"),
            ("x1", "aaaaaaaaaaaaaaa"),
        ] {
            assert!(check_password(name, pw).is_err(), "{pw}");
        }
        assert!(check_password("awa", "le fleuve Niger à Ségou").is_ok());
    }

    #[test]
    fn the_dummy_hash_is_a_valid_argon2id_hash() {
        assert!(argon2::PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
