//! What `reintegra users` and `reintegra audit` do, as library functions the command
//! line calls (and the tests drive): every account change is recorded in the audit log
//! with the operating-system user who made it.

use std::fmt::Write as _;
use std::path::Path;

use chrono::Utc;

use super::users::{Revoke, TokenUses};
use super::{AuditLog, Entry, Role, UsersError, UsersStore, Verification, dir};

/// An account change or listing.
#[derive(Debug, Clone)]
pub enum UsersCommand {
    Add {
        name: String,
        role: Role,
        password: String,
    },
    List,
    Remove {
        name: String,
    },
    Passwd {
        name: String,
        password: String,
    },
    Token {
        name: String,
        lifetime: chrono::Duration,
    },
    Tokens {
        name: String,
    },
    Revoke {
        name: String,
        which: Revoke,
    },
}

/// Runs a users command on a data folder; returns what to print.
pub fn users(data: &Path, command: UsersCommand) -> Result<String, UsersError> {
    let access = dir(data);
    let store = UsersStore::new(&access);
    let log = AuditLog::new(&access);
    let record = |detail: String| {
        if let Err(e) = log.append(&Entry::account_change(detail)) {
            tracing::error!(error = %e, "cannot record the account change in the audit log");
        }
    };
    let out = match command {
        UsersCommand::Add {
            name,
            role,
            password,
        } => {
            store.add(&name, role, &password)?;
            record(format!("added {name} ({})", role.code()));
            format!("added {name} ({})", role.code())
        }
        UsersCommand::List => {
            let mut out = String::new();
            for u in store.load()?.users {
                let live = u.tokens.iter().filter(|t| !t.expired(Utc::now())).count();
                let _ = writeln!(
                    out,
                    "{:<20} {:<10} created {}  {live} token(s)",
                    u.name,
                    u.role.code(),
                    u.created.format("%Y-%m-%d"),
                );
            }
            out.trim_end().to_string()
        }
        UsersCommand::Remove { name } => {
            let tokens = store.load()?.get(&name).map_or(0, |u| u.tokens.len());
            store.remove(&name)?;
            record(format!("removed {name}; {tokens} token(s) revoked"));
            format!("removed {name}; its sessions and {tokens} token(s) stop working")
        }
        UsersCommand::Passwd { name, password } => {
            let tokens = store.load()?.get(&name).map_or(0, |u| u.tokens.len());
            store.set_password(&name, &password)?;
            record(format!(
                "new password for {name}; {tokens} token(s) revoked"
            ));
            format!(
                "new password set for {name}; its sessions end and {tokens} token(s) were revoked"
            )
        }
        UsersCommand::Token { name, lifetime } => {
            let token = store.issue_token(&name, lifetime)?;
            let id = token.split('_').nth(1).unwrap_or_default().to_string();
            record(format!(
                "token {id} issued for {name}, valid {} days",
                lifetime.num_days()
            ));
            token
        }
        UsersCommand::Tokens { name } => {
            let users = store.load()?;
            let user = users
                .get(&name)
                .ok_or_else(|| UsersError::Unknown(name.clone()))?;
            let used = TokenUses::new(&access).load();
            let now = Utc::now();
            let mut out = format!(
                "{:<10} {:<17} {:<17} {:<17} state\n",
                "id", "created", "last used", "expires"
            );
            let day = |t: &chrono::DateTime<Utc>| t.format("%Y-%m-%d %H:%M").to_string();
            for t in &user.tokens {
                let _ = writeln!(
                    out,
                    "{:<10} {:<17} {:<17} {:<17} {}",
                    t.id,
                    day(&t.created),
                    used.get(&t.id).map_or("never".to_string(), day),
                    t.expires.as_ref().map_or("never".to_string(), day),
                    if t.expired(now) { "expired" } else { "valid" }
                );
            }
            if user.tokens.is_empty() {
                out.push_str("(no token)\n");
            }
            out.trim_end().to_string()
        }
        UsersCommand::Revoke { name, which } => {
            let n = store.revoke(&name, &which)?;
            let what = match &which {
                Revoke::All => "all tokens".to_string(),
                Revoke::Id(id) => format!("token {id}"),
            };
            record(format!("{what} of {name} revoked ({n})"));
            format!("revoked {n} token(s) of {name}; the server refuses them at their next use")
        }
    };
    Ok(out)
}

/// Which entries `reintegra audit` prints.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub user: Option<String>,
    pub action: Option<String>,
    pub last: Option<usize>,
    pub json: bool,
}

/// The audit log's entries as lines of text (or JSON), oldest first.
pub fn audit_lines(data: &Path, q: &AuditQuery) -> std::io::Result<Vec<String>> {
    let entries = AuditLog::new(&dir(data)).read()?;
    let mut shown: Vec<&Entry> = entries
        .iter()
        .filter(|e| {
            q.user
                .as_deref()
                .is_none_or(|u| e.user.as_deref() == Some(u))
        })
        .filter(|e| q.action.as_deref().is_none_or(|a| e.action == a))
        .collect();
    if let Some(n) = q.last {
        shown = shown.split_off(shown.len().saturating_sub(n));
    }
    Ok(shown
        .into_iter()
        .map(|e| {
            if q.json {
                return serde_json::to_string(e).unwrap_or_default();
            }
            format!(
                "{} {:<12} {:<9} {:<9} {:>3} {} {}{}{}{}",
                e.time.format("%Y-%m-%d %H:%M:%S"),
                e.user.as_deref().unwrap_or("-"),
                e.role.as_deref().unwrap_or("-"),
                e.action,
                e.status,
                e.method,
                e.path,
                if e.query.is_empty() {
                    String::new()
                } else {
                    format!("?{}", e.query)
                },
                e.detail
                    .as_deref()
                    .map(|d| format!("  ({d})"))
                    .unwrap_or_default(),
                e.os_user
                    .as_deref()
                    .map(|u| format!("  [by {u}]"))
                    .unwrap_or_default(),
            )
        })
        .collect())
}

/// Verifies the audit log's chain: whether it is intact, and a report to print.
pub fn audit_verify(data: &Path) -> std::io::Result<(bool, String)> {
    let v: Verification = AuditLog::new(&dir(data)).verify()?;
    let mut out = format!("{} entries in {} file(s)\n", v.entries, v.files);
    if v.starts_after_removed {
        out.push_str(
            "the oldest file follows files removed by retention (see the \"audit\" entries)\n",
        );
    }
    for (file, line) in &v.unreadable {
        let _ = writeln!(
            out,
            "{}:{line}: not an entry (a write cut short by a crash or a full disk)",
            file.display()
        );
    }
    match &v.broken {
        None => {
            out.push_str("chain intact: no entry was edited, inserted or removed");
            Ok((true, out))
        }
        Some((file, line)) => {
            let _ = write!(
                out,
                "BROKEN at {}:{line}: this entry does not follow from the line before it — a line was edited, inserted or removed there",
                file.display()
            );
            Ok((false, out))
        }
    }
}

/// Creates (or resets) the demo account, an administrator, and returns its password.
pub fn demo_account(data: &Path) -> Result<String, UsersError> {
    let store = UsersStore::new(&dir(data));
    let password = {
        let mut bytes = [0u8; 8];
        rand::Rng::fill_bytes(&mut rand::rng(), &mut bytes);
        let hex = hex::encode(bytes);
        format!(
            "{}-{}-{}-{}",
            &hex[..4],
            &hex[4..8],
            &hex[8..12],
            &hex[12..]
        )
    };
    if store.load()?.get("demo").is_some() {
        store.set_password("demo", &password)?;
    } else {
        store.add("demo", Role::Admin, &password)?;
    }
    Ok(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_changes_are_audited_with_the_os_user_and_the_chain_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path();
        let pw = "le fleuve Niger à Ségou".to_string();
        users(
            data,
            UsersCommand::Add {
                name: "awa".into(),
                role: Role::Donor,
                password: pw.clone(),
            },
        )
        .unwrap();
        let token = users(
            data,
            UsersCommand::Token {
                name: "awa".into(),
                lifetime: super::super::TOKEN_LIFETIME,
            },
        )
        .unwrap();
        let listed = users(data, UsersCommand::Tokens { name: "awa".into() }).unwrap();
        let id = token.split('_').nth(1).unwrap();
        assert!(listed.contains(id) && listed.contains("never") && listed.contains("valid"));
        assert!(!listed.contains(&token));
        users(
            data,
            UsersCommand::Revoke {
                name: "awa".into(),
                which: Revoke::All,
            },
        )
        .unwrap();
        let lines = audit_lines(data, &AuditQuery::default()).unwrap();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(
            lines
                .iter()
                .all(|l| l.contains("[by ") && l.contains("(uid "))
        );
        let raw = std::fs::read_to_string(AuditLog::new(&super::super::dir(data)).path()).unwrap();
        assert!(!raw.contains(&pw) && !raw.contains(&token));
        let (ok, report) = audit_verify(data).unwrap();
        assert!(ok, "{report}");
        assert!(demo_account(data).unwrap().len() == 19);
    }
}
