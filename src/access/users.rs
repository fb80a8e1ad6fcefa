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
    /// A short public id to tell tokens apart and revoke one (`rtk_<id>_<secret>`).
    pub id: String,
    /// SHA-256 of the token, hex.
    pub hash: String,
    #[serde(with = "super::rfc3339")]
    pub created: DateTime<Utc>,
    /// After this time the token is refused.
    #[serde(default, with = "super::rfc3339::option")]
    pub expires: Option<DateTime<Utc>>,
}

impl Token {
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.expires.is_some_and(|e| e <= now)
    }
}

/// Which tokens of an account to revoke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revoke {
    All,
    Id(String),
}

/// Default lifetime of a bearer token.
pub const TOKEN_LIFETIME: chrono::Duration = chrono::Duration::days(90);

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
    #[error("{0} has no token with id {1}; `reintegra users tokens {0}` lists them")]
    UnknownToken(String, String),
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

    /// The store's version, to notice changes made by another process.
    pub fn version(&self) -> Option<super::FileVersion> {
        super::FileVersion::of(&self.path)
    }

    /// Applies a change under the lock and writes the store atomically.
    pub fn update<T>(
        &self,
        change: impl FnOnce(&mut Users) -> Result<T, UsersError>,
    ) -> Result<T, UsersError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(|e| self.io(e))?;
        let lock = crate::access::open_lock(&self.lock).map_err(|e| self.io(e))?;
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
            // A new password also ends every script's access: tokens are re-issued.
            user.tokens.clear();
            Ok(())
        })
    }

    /// Issues a bearer token for scripts, valid for `lifetime`; only its hash is kept.
    /// Returns the token (`rtk_<id>_<secret>`).
    pub fn issue_token(
        &self,
        name: &str,
        lifetime: chrono::Duration,
    ) -> Result<String, UsersError> {
        let id = random_token(4);
        let token = format!("rtk_{id}_{}", random_token(32));
        let hash = sha256_hex(&token);
        let now = Utc::now();
        self.update(|users| {
            let user = users
                .users
                .iter_mut()
                .find(|u| u.name == name)
                .ok_or_else(|| UsersError::Unknown(name.to_string()))?;
            user.tokens.retain(|t| !t.expired(now));
            user.tokens.push(Token {
                id,
                hash,
                created: now,
                expires: Some(now + lifetime),
            });
            Ok(())
        })?;
        Ok(token)
    }

    /// Revokes an account's tokens (all, or one by id); returns how many were revoked.
    pub fn revoke(&self, name: &str, which: &Revoke) -> Result<usize, UsersError> {
        self.update(|users| {
            let user = users
                .users
                .iter_mut()
                .find(|u| u.name == name)
                .ok_or_else(|| UsersError::Unknown(name.to_string()))?;
            let before = user.tokens.len();
            match which {
                Revoke::All => user.tokens.clear(),
                Revoke::Id(id) => user.tokens.retain(|t| &t.id != id),
            }
            let revoked = before - user.tokens.len();
            if let Revoke::Id(id) = which
                && revoked == 0
            {
                return Err(UsersError::UnknownToken(name.to_string(), id.clone()));
            }
            Ok(revoked)
        })
    }
}

/// When each bearer token was last used: kept by the server in
/// `DATA/access/tokens-used.json` (merged under a lock, at most once a minute), read by
/// `reintegra users tokens`. Apart from the users store so that a script's calls never
/// rewrite the accounts every replica re-reads.
#[derive(Debug, Clone)]
pub struct TokenUses {
    path: PathBuf,
    lock: PathBuf,
}

impl TokenUses {
    pub fn new(access_dir: &Path) -> Self {
        TokenUses {
            path: access_dir.join("tokens-used.json"),
            lock: access_dir.join("tokens-used.lock"),
        }
    }

    /// Token id → last use (empty when nothing was recorded yet or the file is unreadable).
    pub fn load(&self) -> std::collections::BTreeMap<String, DateTime<Utc>> {
        #[derive(Deserialize)]
        struct Use(#[serde(with = "super::rfc3339")] DateTime<Utc>);
        fs::read_to_string(&self.path)
            .ok()
            .and_then(|t| serde_json::from_str::<std::collections::BTreeMap<String, Use>>(&t).ok())
            .map(|m| m.into_iter().map(|(k, v)| (k, v.0)).collect())
            .unwrap_or_default()
    }

    /// Merges `uses` into the file (keeping the later time of each token).
    pub fn record(
        &self,
        uses: &std::collections::HashMap<String, DateTime<Utc>>,
    ) -> io::Result<()> {
        if uses.is_empty() {
            return Ok(());
        }
        if let Some(dir) = self.path.parent() {
            fs::create_dir_all(dir)?;
        }
        let lock = crate::access::open_lock(&self.lock)?;
        lock.lock()?;
        let mut all = self.load();
        for (id, time) in uses {
            let entry = all.entry(id.clone()).or_insert(*time);
            if *time > *entry {
                *entry = *time;
            }
        }
        let horizon = Utc::now() - chrono::Duration::days(400);
        all.retain(|_, t| *t > horizon);
        let text: std::collections::BTreeMap<&String, String> = all
            .iter()
            .map(|(k, t)| (k, t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
            .collect();
        let tmp = self.path.with_extension("json.tmp");
        let mut options = File::options();
        options.create(true).truncate(true).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f = options.open(&tmp)?;
        f.write_all(
            serde_json::to_string_pretty(&text)
                .map_err(io::Error::other)?
                .as_bytes(),
        )?;
        f.sync_all()?;
        fs::rename(&tmp, &self.path)
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

    /// The user and token a bearer token belongs to (compared in constant time), if
    /// the token has not expired.
    pub fn by_token(&self, token: &str, now: DateTime<Utc>) -> Option<(&User, &Token)> {
        let hash = sha256_hex(token);
        let mut found = None;
        for user in &self.users {
            for t in &user.tokens {
                if bool::from(t.hash.as_bytes().ct_eq(hash.as_bytes())) {
                    found = Some((user, t));
                }
            }
        }
        found.filter(|(_, t)| !t.expired(now))
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
        let token = store.issue_token("awa", TOKEN_LIFETIME).unwrap();
        let users = store.load().unwrap();
        let now = Utc::now();
        assert_eq!(
            users.by_token(&token, now).map(|(u, _)| u.name.as_str()),
            Some("awa")
        );
        assert!(users.by_token("rtk_nope", now).is_none());
        assert!(
            users
                .by_token(&token, now + TOKEN_LIFETIME + chrono::Duration::seconds(1))
                .is_none(),
            "an expired token is refused"
        );
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
    fn tokens_are_revoked_one_by_one_all_at_once_or_with_a_new_password() {
        let dir = tempfile::tempdir().unwrap();
        let store = UsersStore::new(dir.path());
        store
            .add("awa", Role::Donor, "correct horse battery")
            .unwrap();
        let a = store.issue_token("awa", TOKEN_LIFETIME).unwrap();
        let b = store.issue_token("awa", TOKEN_LIFETIME).unwrap();
        let now = Utc::now();
        let users = store.load().unwrap();
        let id_a = users.by_token(&a, now).unwrap().1.id.clone();
        assert!(a.starts_with(&format!("rtk_{id_a}_")));
        assert_eq!(store.revoke("awa", &Revoke::Id(id_a.clone())).unwrap(), 1);
        assert!(matches!(
            store.revoke("awa", &Revoke::Id(id_a)),
            Err(UsersError::UnknownToken(..))
        ));
        let users = store.load().unwrap();
        assert!(users.by_token(&a, now).is_none() && users.by_token(&b, now).is_some());
        store.set_password("awa", "another horse battery").unwrap();
        assert!(store.load().unwrap().by_token(&b, now).is_none());
        let c = store.issue_token("awa", TOKEN_LIFETIME).unwrap();
        assert_eq!(store.revoke("awa", &Revoke::All).unwrap(), 1);
        assert!(store.load().unwrap().by_token(&c, now).is_none());
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
