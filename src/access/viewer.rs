//! Who is asking: the account behind a request (or nobody), its role, and what its
//! session or token lets it do. The server works it out; pages and exports only read it.

use super::Role;

/// Who is asking.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The account, or none for an anonymous visitor.
    pub user: Option<String>,
    /// The account's role; `Public` for anonymous visitors.
    pub role: Role,
    /// The session's token for state-changing forms (none without a session).
    pub csrf: Option<String>,
    /// The session's id and sign-in time (for signing out).
    pub session: Option<(String, i64)>,
    /// The id of the bearer token used, if any.
    pub token: Option<String>,
}

impl Viewer {
    pub fn anonymous() -> Viewer {
        Viewer {
            user: None,
            role: Role::Public,
            csrf: None,
            session: None,
            token: None,
        }
    }

    pub fn signed_in(&self) -> bool {
        self.user.is_some()
    }
}
