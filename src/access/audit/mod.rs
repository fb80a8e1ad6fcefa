//! The audit log: one JSON line per page view, API call, export, login attempt and
//! account change, appended to `DATA/access/audit.log` (mode 0600).
//!
//! - **Bounded**: every field a request controls (path, query, request id, detail) is
//!   capped and marked as cut, and secrets in a query (`token=`, `password=`…) are
//!   redacted before an entry is made; requests that match no route are counted and
//!   written as one summary line per minute, never one by one.
//! - **Tamper-evident**: each line carries the SHA-256 of the line before it (across
//!   rotated files); `reintegra audit verify` reports the first broken link.
//! - **Rotated** by size and by UTC day, with a retention in days; files are 0600.
//! - **Shared**: the server and `reintegra users` append under one advisory lock
//!   (`audit.lock`), so the chain holds whoever writes.
//!
//! An entry never holds a password, a token or a value from an extract: the server
//! only ever sees published cells, and request bodies are not logged.

mod log;
mod writer;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use log::{AuditLog, Rotation, Verification};
pub use writer::AuditWriter;

/// Longest stored path, query, detail or user name, in bytes (longer ones are cut).
pub const FIELD_CAP: usize = 256;
/// Longest stored request id, in bytes.
pub const REQUEST_ID_CAP: usize = 64;
/// What a cut field ends with.
pub const CUT_MARK: &str = "…[cut]";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    #[serde(with = "crate::access::rfc3339")]
    pub time: DateTime<Utc>,
    /// The account, if any (none for anonymous requests and unknown login names).
    pub user: Option<String>,
    pub role: Option<String>,
    /// view, api, export, login, logout, denied, admin, account, unmatched, audit…
    pub action: String,
    pub method: String,
    pub path: String,
    /// The query string: filters and language (capped, secrets redacted).
    #[serde(default)]
    pub query: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Who ran a command-line change (the operating-system account).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_user: Option<String>,
    /// SHA-256 (hex) of the line before this one; set when the entry is written.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prev: String,
}

impl Entry {
    /// An entry of `action` on `path`, now, by nobody in particular; the other fields
    /// are filled by the caller.
    pub fn new(action: &str, method: &str, path: &str) -> Entry {
        Entry {
            time: Utc::now(),
            user: None,
            role: None,
            action: action.to_string(),
            method: method.to_string(),
            path: path.to_string(),
            query: String::new(),
            status: 0,
            detail: None,
            request_id: None,
            os_user: None,
            prev: String::new(),
        }
    }

    /// An account change made on the command line, recorded with the OS user.
    pub fn account_change(detail: String) -> Entry {
        Entry {
            detail: Some(detail),
            os_user: Some(os_user()),
            ..Entry::new("account", "CLI", "reintegra users")
        }
    }

    /// The entry with every field a request controls capped, and secrets in the query
    /// redacted. Applied by the log before writing, whoever made the entry.
    pub fn bounded(mut self) -> Entry {
        self.path = cap(&self.path, FIELD_CAP);
        self.query = cap(&redact_query(&self.query), FIELD_CAP);
        self.method = cap(&self.method, 16);
        self.action = cap(&self.action, 32);
        self.user = self.user.map(|u| cap(&u, 64));
        self.role = self.role.map(|r| cap(&r, 16));
        self.detail = self.detail.map(|d| cap(&d, FIELD_CAP));
        self.request_id = self.request_id.map(|r| cap(&r, REQUEST_ID_CAP));
        self
    }
}

/// `text` cut to at most `max` bytes (on a character boundary), marked as cut.
pub fn cap(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max.saturating_sub(CUT_MARK.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{CUT_MARK}", &text[..end])
}

/// Query parameters whose values are never stored.
const SECRET_PARAMETERS: &[&str] = &[
    "token",
    "access_token",
    "bearer",
    "api_key",
    "apikey",
    "key",
    "password",
    "passwd",
    "secret",
    "auth",
    "authorization",
];

/// Whether a query parameter name carries a credential (compared without case).
pub fn is_secret_parameter(name: &str) -> bool {
    SECRET_PARAMETERS
        .iter()
        .any(|s| s.eq_ignore_ascii_case(name))
}

/// The query with the values of secret parameters replaced by `[redacted]`.
fn redact_query(query: &str) -> String {
    if query.is_empty() {
        return String::new();
    }
    query
        .split('&')
        .map(|pair| {
            let (name, _) = pair.split_once('=').unwrap_or((pair, ""));
            let decoded: String = url::form_urlencoded::parse(name.as_bytes())
                .next()
                .map(|(k, _)| k.into_owned())
                .unwrap_or_default();
            if is_secret_parameter(&decoded) {
                format!("{name}=[redacted]")
            } else {
                pair.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The operating-system account running this process, e.g. `root (uid 0)`; with
/// `sudo`, the account that called it too.
pub fn os_user() -> String {
    // SAFETY: getuid cannot fail; getpwuid_r writes into buffers we own and sized.
    let uid = unsafe { libc::getuid() };
    let mut name = None;
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 4096];
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        if libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result) == 0
            && !result.is_null()
            && !pwd.pw_name.is_null()
        {
            name = Some(
                std::ffi::CStr::from_ptr(pwd.pw_name)
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    let mut who = format!("{} (uid {uid})", name.as_deref().unwrap_or("?"));
    if let Ok(sudo) = std::env::var("SUDO_USER") {
        who.push_str(&format!(" via sudo from {}", cap(&sudo, 32)));
    }
    who
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_a_request_controls_are_capped_and_secrets_redacted() {
        let mut e = Entry::new("view", "GET", &format!("/d/{}", "x".repeat(5000)));
        e.query = format!("period=2018&token=rtk_secret&q={}", "é".repeat(3000));
        e.request_id = Some("r".repeat(1000));
        let b = e.bounded();
        assert!(b.path.len() <= FIELD_CAP && b.path.ends_with(CUT_MARK));
        assert!(b.query.len() <= FIELD_CAP && b.query.ends_with(CUT_MARK));
        assert!(b.query.starts_with("period=2018&token=[redacted]&q="));
        assert!(!b.query.contains("rtk_secret"));
        assert!(b.request_id.unwrap().len() <= REQUEST_ID_CAP);
        let short = Entry::new("view", "GET", "/d/returns").bounded();
        assert_eq!(short.path, "/d/returns");
        let q = redact_query("Access%5FToken=abc&lang=en");
        assert_eq!(q, "Access%5FToken=[redacted]&lang=en");
    }

    #[test]
    fn the_os_user_is_named() {
        let who = os_user();
        assert!(who.contains("(uid "), "{who}");
    }
}
