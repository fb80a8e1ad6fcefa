//! doctor: checks that a data folder is safe to run and in good health — modes and
//! owners of the private, quarantine, published and access folders, the record-key
//! secret, the store, the snapshot `CURRENT` names and its age, the age of the last
//! backup — and gives, for every problem, the command that fixes it.
//!
//! It only reads: it never changes a mode, an owner or a file, never prints the content
//! of a file (the secret is read only to check its form), and never stops at what it
//! cannot read: that becomes a finding.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{human_bytes, shell};
use crate::snapshot::{Published, Snapshot};

/// Whom the folders should belong to, and how old is too old.
#[derive(Debug, Clone)]
pub struct DoctorOptions {
    /// The user the nightly job runs as (owner of `private/`); when `None`, the owner
    /// is only reported.
    pub job_user: Option<String>,
    /// The user the server runs as (owner of `access/`).
    pub serve_user: Option<String>,
    /// The group the server reads `published/` through.
    pub serve_group: Option<String>,
    /// A backup older than this is a warning (26 hours: a nightly backup plus slack).
    pub max_backup_age: Duration,
    /// A current snapshot older than this is a warning (36 hours).
    pub max_snapshot_age: Duration,
    /// The time to measure ages from.
    pub now: DateTime<Utc>,
}

impl Default for DoctorOptions {
    fn default() -> Self {
        DoctorOptions {
            job_user: None,
            serve_user: None,
            serve_group: None,
            max_backup_age: Duration::from_secs(26 * 3600),
            max_snapshot_age: Duration::from_secs(36 * 3600),
            now: Utc::now(),
        }
    }
}

/// One thing the doctor looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// What is right.
    Ok(String),
    /// (what is wrong, how to fix it): not dangerous yet.
    Warn(String, String),
    /// (what is wrong, how to fix it).
    Fail(String, String),
}

impl Finding {
    pub fn is_problem(&self) -> bool {
        !matches!(self, Finding::Ok(_))
    }
}

/// Every finding, in the order checked.
#[derive(Debug, Clone)]
pub struct Report {
    pub data: PathBuf,
    pub findings: Vec<Finding>,
}

impl Report {
    /// Warnings and failures (`reintegra doctor` exits non-zero when there are any).
    pub fn problems(&self) -> usize {
        self.findings.iter().filter(|f| f.is_problem()).count()
    }

    /// Failures only.
    pub fn failures(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| matches!(f, Finding::Fail(..)))
            .count()
    }

    fn ok(&mut self, what: impl Into<String>) {
        self.findings.push(Finding::Ok(what.into()));
    }

    fn warn(&mut self, what: impl Into<String>, fix: impl Into<String>) {
        self.findings.push(Finding::Warn(what.into(), fix.into()));
    }

    fn fail(&mut self, what: impl Into<String>, fix: impl Into<String>) {
        self.findings.push(Finding::Fail(what.into(), fix.into()));
    }
}

impl fmt::Display for Report {
    /// One line per finding, then a count.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for finding in &self.findings {
            match finding {
                Finding::Ok(what) => writeln!(f, "ok    {what}")?,
                Finding::Warn(what, fix) => writeln!(f, "WARN  {what} — fix: {fix}")?,
                Finding::Fail(what, fix) => writeln!(f, "FAIL  {what} — fix: {fix}")?,
            }
        }
        match self.problems() {
            0 => write!(f, "doctor: {} looks right", self.data.display()),
            n => write!(
                f,
                "doctor: {n} problem(s) in {} ({} failure(s))",
                self.data.display(),
                self.failures()
            ),
        }
    }
}

/// Checks the data folder `data`.
pub fn doctor(data: &Path, options: &DoctorOptions) -> Report {
    let mut report = Report {
        data: data.to_path_buf(),
        findings: Vec::new(),
    };
    let d = shell(data);
    match fs::metadata(data) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            report.fail(
                format!("{} does not exist", data.display()),
                format!(
                    "restore it from a backup (reintegra restore --from FILE --data {d}), or check --data"
                ),
            );
            return report;
        }
        Err(e) => {
            report.fail(
                format!("{} cannot be read ({e})", data.display()),
                "run doctor as the job's user or as root",
            );
            return report;
        }
        Ok(meta) if !meta.is_dir() => {
            report.fail(
                format!("{} is not a folder", data.display()),
                "name the data folder (`reintegra ingest --data`)",
            );
            return report;
        }
        Ok(meta) => {
            let m = mode(&meta);
            if m & 0o002 != 0 {
                report.fail(
                    format!(
                        "{} is {m:04o}: anyone can add or replace folders in it",
                        data.display()
                    ),
                    format!("chmod 0750 {d}"),
                );
            } else {
                report.ok(format!("{} exists ({m:04o})", data.display()));
            }
        }
    }
    let published = Published::new(data.join("published"));
    let anything_published = published.list().map(|l| !l.is_empty()).unwrap_or(false)
        || published.dir().join("CURRENT").exists();
    check_private(&mut report, data, options, anything_published);
    check_quarantine(&mut report, data);
    check_published(&mut report, data, options);
    check_current(&mut report, &published, options);
    for area in ["status", "deliveries"] {
        check_shared(&mut report, data, area);
    }
    check_access(&mut report, data, options);
    check_backup(&mut report, data, options);
    report
}

fn check_private(report: &mut Report, data: &Path, options: &DoctorOptions, published: bool) {
    let private = data.join("private");
    let p = shell(&private);
    let meta = match fs::symlink_metadata(&private) {
        Ok(meta) if meta.is_dir() => meta,
        Ok(_) => {
            report.fail(
                "private/ is not a folder",
                format!("move {p} aside and restore the data folder from a backup"),
            );
            return;
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            report.fail(
                "private/ is missing: this is not a data folder the job ran in",
                "check --data, or restore a backup with `reintegra restore`",
            );
            return;
        }
        Err(e) => {
            report.fail(
                format!("private/ cannot be read ({e})"),
                "run doctor as the job's user or as root",
            );
            return;
        }
    };
    let before = report.problems();
    let m = mode(&meta);
    if m & 0o077 != 0 {
        report.fail(
            format!("private/ is {m:04o}: others than its owner can open the store and the secret"),
            format!("chmod 0700 {p}"),
        );
    }
    let before_owner = report.problems();
    let owner = owner_check(
        report,
        &meta,
        options.job_user.as_deref(),
        "private/",
        &private,
        "--job-user",
    );
    // When the folder's owner is wrong, its `chown -R` fixes the files too.
    let job_user = if report.problems() == before_owner {
        options.job_user.as_deref()
    } else {
        None
    };
    if report.problems() == before {
        report.ok(format!("private/ is {m:04o}{owner}"));
    }

    let secret = private.join("secret.key");
    let s = shell(&secret);
    match fs::symlink_metadata(&secret) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if published || private.join("store.duckdb").exists() {
                report.fail(
                    "private/secret.key is missing, but snapshots were published with it: the next ingest stops",
                    format!(
                        "restore secret.key from the backup (restore the archive into a new folder with `reintegra restore`, then copy its private/secret.key to {s}, mode 0600, owner the job's user); only if it is lost for good: reintegra keygen --data {} --confirm-new-secret",
                        shell(data)
                    ),
                );
            } else {
                report.ok("private/secret.key is not made yet (the first ingest makes it)");
            }
        }
        Err(e) => report.fail(
            format!("private/secret.key cannot be read ({e})"),
            "run doctor as the job's user or as root",
        ),
        Ok(meta) if !meta.is_file() => report.fail(
            "private/secret.key is not a regular file",
            format!("restore secret.key from the backup into {s}"),
        ),
        Ok(meta) => {
            let before = report.problems();
            let m = mode(&meta);
            if m & 0o077 != 0 {
                report.fail(
                    format!("private/secret.key is {m:04o}: others than its owner can read the record-key secret"),
                    format!("chmod 0600 {s}"),
                );
            }
            owner_check(
                report,
                &meta,
                job_user,
                "private/secret.key",
                &secret,
                "--job-user",
            );
            match crate::disclosure::keys::Secret::load(&private) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::PermissionDenied => report.warn(
                    "private/secret.key cannot be read by the user running doctor",
                    "run doctor as the job's user or as root",
                ),
                Err(_) => report.fail(
                    "private/secret.key is not a reintegra secret (64 hex digits)",
                    format!("restore secret.key from the backup into {s}"),
                ),
            }
            if report.problems() == before {
                report.ok(format!("private/secret.key is {m:04o} and well formed"));
            }
        }
    }

    let store = private.join("store.duckdb");
    match fs::symlink_metadata(&store) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if published {
                report.fail(
                    "private/store.duckdb is missing, but snapshots were published from it: the next ingest starts an empty store",
                    format!(
                        "restore the data folder from the backup: reintegra restore --from FILE --data {} --force",
                        shell(data)
                    ),
                );
            } else {
                report.ok("private/store.duckdb is not made yet (the first ingest makes it)");
            }
        }
        Err(e) => report.fail(
            format!("private/store.duckdb cannot be read ({e})"),
            "run doctor as the job's user or as root",
        ),
        Ok(store_meta) => {
            let before = report.problems();
            let store_mode = mode(&store_meta);
            let wal = fs::symlink_metadata(private.join("store.duckdb.wal")).ok();
            for (name, meta) in [
                ("store.duckdb", Some(store_meta)),
                ("store.duckdb.wal", wal),
            ] {
                let Some(meta) = meta else { continue };
                let m = mode(&meta);
                if m & 0o077 != 0 {
                    report.fail(
                        format!("private/{name} is {m:04o}: others than its owner can read the microdata"),
                        format!("chmod 0600 {}", shell(&private.join(name))),
                    );
                }
                owner_check(
                    report,
                    &meta,
                    job_user,
                    &format!("private/{name}"),
                    &private.join(name),
                    "--job-user",
                );
            }
            if report.problems() == before {
                let size = fs::metadata(&store).map(|m| m.len()).unwrap_or(0);
                report.ok(format!(
                    "private/store.duckdb is {store_mode:04o} ({})",
                    human_bytes(size)
                ));
            }
        }
    }
}

/// A folder the job writes for the servers (`status/`, `deliveries/`): readable by the
/// group, writable by its owner only, and nothing in it readable by others.
fn check_shared(report: &mut Report, data: &Path, area: &str) {
    let dir = data.join(area);
    let d = shell(&dir);
    let meta = match fs::symlink_metadata(&dir) {
        Ok(meta) if meta.is_dir() => meta,
        Ok(_) => {
            report.fail(
                format!("{area}/ is not a folder"),
                format!("move {d} aside and run the nightly job"),
            );
            return;
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            report.ok(format!(
                "{area}/ is not made yet (the next ingest makes it)"
            ));
            return;
        }
        Err(e) => {
            report.fail(
                format!("{area}/ cannot be read ({e})"),
                "run doctor as the job's user or as root",
            );
            return;
        }
    };
    let m = mode(&meta);
    let mut bad_files = 0;
    let mut stack = vec![dir.clone()];
    while let Some(next) = stack.pop() {
        for e in fs::read_dir(&next).into_iter().flatten().flatten() {
            let Ok(meta) = e.metadata() else { continue };
            if meta.is_dir() {
                stack.push(e.path());
            } else if mode(&meta) & 0o007 != 0 || mode(&meta) & 0o040 == 0 {
                bad_files += 1;
            }
        }
    }
    if m & 0o050 != 0o050 || m & 0o007 != 0 || bad_files > 0 {
        report.fail(
            format!(
                "{area}/ is {m:04o}{}: the servers' group must read it, nobody else",
                if bad_files > 0 {
                    format!(" and {bad_files} file(s) in it are not 0640")
                } else {
                    String::new()
                }
            ),
            format!("chmod -R u=rwX,g=rX,o= {d}"),
        );
    } else {
        report.ok(format!(
            "{area}/ is {m:04o}, readable by the servers' group"
        ));
    }
}

fn check_quarantine(report: &mut Report, data: &Path) {
    let dir = data.join("quarantine");
    let q = shell(&dir);
    let meta = match fs::symlink_metadata(&dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            report.ok("quarantine/ is not made yet (the first ingest makes it)");
            return;
        }
        Err(e) => {
            report.fail(
                format!("quarantine/ cannot be read ({e})"),
                "run doctor as the job's user or as root",
            );
            return;
        }
    };
    let m = mode(&meta);
    let open_files = fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| {
                    e.metadata()
                        .is_ok_and(|m| m.is_file() && mode(&m) & 0o077 != 0)
                })
                .count()
        })
        .unwrap_or(0);
    if m & 0o077 != 0 || open_files > 0 {
        report.fail(
            format!(
                "quarantine/ is {m:04o}{}: rejected files may hold identifying data and must be their owner's only",
                if open_files > 0 { format!(" and {open_files} file(s) in it can be read by others") } else { String::new() }
            ),
            format!("chmod -R go-rwx {q}"),
        );
    } else {
        report.ok(format!("quarantine/ is {m:04o}"));
    }
}

fn check_published(report: &mut Report, data: &Path, options: &DoctorOptions) {
    let dir = data.join("published");
    let p = shell(&dir);
    let meta = match fs::symlink_metadata(&dir) {
        Ok(meta) if meta.is_dir() => meta,
        Ok(_) => {
            report.fail(
                "published/ is not a folder",
                format!("move {p} aside and run the nightly job (reintegra ingest)"),
            );
            return;
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            report.fail(
                "published/ is missing: nothing is published",
                format!(
                    "run the nightly job: reintegra ingest --inbox INBOX --data {}",
                    shell(data)
                ),
            );
            return;
        }
        Err(e) => {
            report.fail(
                format!("published/ cannot be read ({e})"),
                "run doctor as the job's user or as root",
            );
            return;
        }
    };
    let group = options
        .serve_group
        .as_deref()
        .map(|g| (g, users::gid_of(g)));
    if let Some((g, None)) = group {
        report.fail(
            format!("there is no group {:?} on this machine", cap(g)),
            "check the --serve-group name (getent group)",
        );
    }
    let want_gid = group.and_then(|(g, gid)| Some((g, gid?)));
    let before = report.problems();
    let m = mode(&meta);
    if m & 0o050 != 0o050 || m & 0o002 != 0 {
        report.fail(
            format!(
                "published/ is {m:04o}: {}",
                if m & 0o002 != 0 {
                    "anyone can replace the snapshots"
                } else {
                    "the server's group cannot open it"
                }
            ),
            format!("chmod 0750 {p}"),
        );
    }
    let mut files_gid = want_gid;
    if let (Some((g, gid)), Some(actual)) = (want_gid, group_of(&meta))
        && gid != actual
    {
        report.fail(
            format!(
                "published/ belongs to group {}, not {}",
                group_name(actual),
                cap(g)
            ),
            format!("chgrp -R {} {p}", cap(g)),
        );
        // Its `chgrp -R` fixes the files too.
        files_gid = None;
    }
    let mut files = 0;
    let mut names: Vec<String> = fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| !n.starts_with(".tmp-") && !n.ends_with(".tmp"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    for name in names {
        let path = dir.join(&name);
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        files += 1;
        let fm = mode(&meta);
        if fm & 0o077 != 0o040 {
            report.fail(
                format!(
                    "published/{name} is {fm:04o}: {}",
                    if fm & 0o007 != 0 {
                        "others than the server's group can read it"
                    } else if fm & 0o040 == 0 {
                        "the server's group cannot read it"
                    } else {
                        "the group can change it"
                    }
                ),
                format!("chmod 0640 {}", shell(&path)),
            );
        }
        if let (Some((g, gid)), Some(actual)) = (files_gid, group_of(&meta))
            && gid != actual
        {
            report.fail(
                format!(
                    "published/{name} belongs to group {}, not {}",
                    group_name(actual),
                    cap(g)
                ),
                format!("chgrp {} {}", cap(g), shell(&path)),
            );
        }
    }
    if report.problems() == before {
        let group = group_of(&meta)
            .map(group_name)
            .map(|g| format!(", group {g}"))
            .unwrap_or_default();
        report.ok(format!(
            "published/ is {m:04o}{group}; its {files} file(s) are 0640"
        ));
    }
}

fn check_current(report: &mut Report, published: &Published, options: &DoctorOptions) {
    if !published.dir().is_dir() {
        return;
    }
    let ingest =
        "run the nightly job (reintegra ingest): it publishes a new snapshot and rewrites CURRENT";
    let id = match published.current() {
        Ok(Some(id)) => id,
        Ok(None) => {
            report.fail(
                "published/CURRENT is missing: the server has nothing to serve",
                ingest,
            );
            return;
        }
        Err(e) => {
            report.fail(format!("published/CURRENT is unusable: {e}"), ingest);
            return;
        }
    };
    let snapshot = match Snapshot::load(published, &id) {
        Ok(snapshot) => snapshot,
        Err(e) => {
            report.fail(format!("the current snapshot does not open: {e}"), ingest);
            return;
        }
    };
    match snapshot.created_at() {
        None => report.warn(
            format!("the current snapshot {id} does not say when it was made"),
            ingest,
        ),
        Some(created) => {
            let age = (options.now - created).max(chrono::Duration::zero());
            let too_old = age.to_std().unwrap_or_default() > options.max_snapshot_age;
            if too_old {
                report.warn(
                    format!("the current snapshot {id} was published {} ago: the nightly job may not be running", human_age(age)),
                    "see `systemctl status reintegra-ingest.timer` and `journalctl -u reintegra-ingest` (or the cron mail), then run the job",
                );
            } else {
                report.ok(format!(
                    "published/CURRENT names {id}, published {} ago",
                    human_age(age)
                ));
            }
        }
    }
}

fn check_access(report: &mut Report, data: &Path, options: &DoctorOptions) {
    let dir = crate::access::dir(data);
    let a = shell(&dir);
    let meta = match fs::symlink_metadata(&dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            report.ok("access/ is not made yet (the server or `reintegra users add` makes it)");
            return;
        }
        Err(e) => {
            report.fail(
                format!("access/ cannot be read ({e})"),
                "run doctor as the server's user or as root",
            );
            return;
        }
    };
    let before = report.problems();
    let m = mode(&meta);
    if m & 0o077 != 0 {
        report.fail(
            format!("access/ is {m:04o}: others than its owner can read the accounts, session key and audit log"),
            format!("chmod 0700 {a}"),
        );
    }
    let owner = owner_check(
        report,
        &meta,
        options.serve_user.as_deref(),
        "access/",
        &dir,
        "--serve-user",
    );
    let mut names: Vec<String> = fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    for name in names {
        let path = dir.join(&name);
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        let fm = mode(&meta);
        if meta.is_file() && fm & 0o077 != 0 {
            let what = if name == "session.key" {
                "anyone who reads it can sign in as anyone"
            } else {
                "others than its owner can read it"
            };
            report.fail(
                format!("access/{name} is {fm:04o}: {what}"),
                format!("chmod 0600 {}", shell(&path)),
            );
        }
    }
    if report.problems() == before {
        let key = if dir.join("session.key").exists() {
            "; session.key 0600"
        } else {
            ""
        };
        report.ok(format!("access/ is {m:04o}{owner}{key}"));
    }
}

fn check_backup(report: &mut Report, data: &Path, options: &DoctorOptions) {
    let fix = format!(
        "reintegra backup --data {} --out /backup/reintegra-$(date +%F).tar.gz (nightly, after the ingest; keep copies on another machine)",
        shell(data)
    );
    match super::last_backup(data) {
        Ok(None) => report.fail(
            "no backup of this data folder is recorded (private/last-backup.json)",
            fix,
        ),
        Err(e) => report.fail(format!("the backup record is unusable: {e}"), fix),
        Ok(Some(last)) => {
            let age = (options.now - last.at).max(chrono::Duration::zero());
            let restored = if last.restored_at.is_some() {
                " (this folder was restored from it)"
            } else {
                ""
            };
            let what = format!(
                "the last backup was made {} ago: {} ({}){restored}",
                human_age(age),
                last.file,
                human_bytes(last.bytes)
            );
            if age.to_std().unwrap_or_default() > options.max_backup_age {
                report.warn(what, fix);
            } else {
                report.ok(what);
            }
        }
    }
}

/// Checks the owner of `path` against the expected user (when given); returns the text
/// to append to an "ok" line (`, owner NAME`).
fn owner_check(
    report: &mut Report,
    meta: &fs::Metadata,
    expected: Option<&str>,
    label: &str,
    path: &Path,
    flag: &str,
) -> String {
    let Some(uid) = owner_of(meta) else {
        return String::new();
    };
    let actual = user_name(uid);
    match expected {
        None => format!(", owner {actual}"),
        Some(user) => match users::uid_of(user) {
            None => {
                report.fail(
                    format!("there is no user {:?} on this machine", cap(user)),
                    format!("check the {flag} name (getent passwd)"),
                );
                String::new()
            }
            Some(want) if want == uid => format!(", owner {actual}"),
            Some(_) => {
                let recursive = if meta.is_dir() { "-R " } else { "" };
                report.fail(
                    format!("{label} belongs to {actual}, not {}", cap(user)),
                    format!("chown {recursive}{} {}", cap(user), shell(path)),
                );
                String::new()
            }
        },
    }
}

/// A name given on the command line, as shown in a finding.
fn cap(name: &str) -> String {
    name.chars().take(64).filter(|c| !c.is_control()).collect()
}

fn human_age(age: chrono::Duration) -> String {
    let minutes = age.num_minutes();
    if minutes < 120 {
        format!("{minutes} min")
    } else if minutes < 48 * 60 {
        format!("{} h", minutes / 60)
    } else {
        format!("{} days", minutes / (24 * 60))
    }
}

fn user_name(uid: u32) -> String {
    users::name_of_uid(uid).unwrap_or_else(|| format!("uid {uid}"))
}

fn group_name(gid: u32) -> String {
    users::name_of_gid(gid).unwrap_or_else(|| format!("gid {gid}"))
}

#[cfg(unix)]
fn mode(meta: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

#[cfg(unix)]
fn owner_of(meta: &fs::Metadata) -> Option<u32> {
    Some(std::os::unix::fs::MetadataExt::uid(meta))
}

#[cfg(unix)]
fn group_of(meta: &fs::Metadata) -> Option<u32> {
    Some(std::os::unix::fs::MetadataExt::gid(meta))
}

#[cfg(not(unix))]
fn mode(meta: &fs::Metadata) -> u32 {
    if meta.is_dir() { 0o700 } else { 0o600 }
}

#[cfg(not(unix))]
fn owner_of(_: &fs::Metadata) -> Option<u32> {
    None
}

#[cfg(not(unix))]
fn group_of(_: &fs::Metadata) -> Option<u32> {
    None
}

/// The system's user and group database (thread-safe `_r` calls).
#[cfg(unix)]
mod users {
    use std::ffi::{CStr, CString};

    /// Calls a `get*_r` function with a buffer that grows while it is too small.
    fn with_buffer(mut call: impl FnMut(&mut [libc::c_char]) -> libc::c_int) -> bool {
        let mut size = 16 * 1024;
        loop {
            let mut buf = vec![0 as libc::c_char; size];
            match call(&mut buf) {
                0 => return true,
                libc::ERANGE if size < (1 << 20) => size *= 4,
                _ => return false,
            }
        }
    }

    pub fn uid_of(name: &str) -> Option<u32> {
        let name = CString::new(name).ok()?;
        let mut uid = None;
        with_buffer(|buf| {
            // SAFETY: every pointer is to memory we own and sized; the result is read
            // only when getpwnam_r succeeded and set `result`.
            unsafe {
                let mut pwd: libc::passwd = std::mem::zeroed();
                let mut result: *mut libc::passwd = std::ptr::null_mut();
                let rc = libc::getpwnam_r(
                    name.as_ptr(),
                    &mut pwd,
                    buf.as_mut_ptr(),
                    buf.len(),
                    &mut result,
                );
                if rc == 0 && !result.is_null() {
                    uid = Some(pwd.pw_uid);
                }
                rc
            }
        });
        uid
    }

    pub fn gid_of(name: &str) -> Option<u32> {
        let name = CString::new(name).ok()?;
        let mut gid = None;
        with_buffer(|buf| {
            // SAFETY: as in uid_of.
            unsafe {
                let mut grp: libc::group = std::mem::zeroed();
                let mut result: *mut libc::group = std::ptr::null_mut();
                let rc = libc::getgrnam_r(
                    name.as_ptr(),
                    &mut grp,
                    buf.as_mut_ptr(),
                    buf.len(),
                    &mut result,
                );
                if rc == 0 && !result.is_null() {
                    gid = Some(grp.gr_gid);
                }
                rc
            }
        });
        gid
    }

    pub fn name_of_uid(uid: u32) -> Option<String> {
        let mut name = None;
        with_buffer(|buf| {
            // SAFETY: as in uid_of; pw_name points into `buf`, read before it is freed.
            unsafe {
                let mut pwd: libc::passwd = std::mem::zeroed();
                let mut result: *mut libc::passwd = std::ptr::null_mut();
                let rc = libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result);
                if rc == 0 && !result.is_null() && !pwd.pw_name.is_null() {
                    name = Some(CStr::from_ptr(pwd.pw_name).to_string_lossy().into_owned());
                }
                rc
            }
        });
        name
    }

    pub fn name_of_gid(gid: u32) -> Option<String> {
        let mut name = None;
        with_buffer(|buf| {
            // SAFETY: as in name_of_uid.
            unsafe {
                let mut grp: libc::group = std::mem::zeroed();
                let mut result: *mut libc::group = std::ptr::null_mut();
                let rc = libc::getgrgid_r(gid, &mut grp, buf.as_mut_ptr(), buf.len(), &mut result);
                if rc == 0 && !result.is_null() && !grp.gr_name.is_null() {
                    name = Some(CStr::from_ptr(grp.gr_name).to_string_lossy().into_owned());
                }
                rc
            }
        });
        name
    }
}

#[cfg(not(unix))]
mod users {
    pub fn uid_of(_: &str) -> Option<u32> {
        None
    }
    pub fn gid_of(_: &str) -> Option<u32> {
        None
    }
    pub fn name_of_uid(_: u32) -> Option<String> {
        None
    }
    pub fn name_of_gid(_: u32) -> Option<String> {
        None
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::snapshot::{Metadata, SnapshotId, write_snapshot};
    use std::os::unix::fs::PermissionsExt;

    fn chmod(path: &Path, mode: u32) {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    /// A real (empty) snapshot made at `created`, named in CURRENT.
    fn publish(published_dir: &Path, created: DateTime<Utc>) -> SnapshotId {
        fs::create_dir_all(published_dir).unwrap();
        let published = Published::new(published_dir);
        let conn = duckdb::Connection::open_in_memory().unwrap();
        let draft = published.draft_path();
        let meta = Metadata {
            created_at: created,
            data_as_of: None,
            last_load_at: None,
            definitions: "test".into(),
            coverage: Vec::new(),
            extra: Vec::new(),
            sites: Vec::new(),
        };
        write_snapshot(&conn, &draft, &[], &meta).unwrap();
        published.commit(&draft, created).unwrap()
    }

    fn me() -> (String, String) {
        // SAFETY: getuid and getgid cannot fail.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        (user_name(uid), group_name(gid))
    }

    /// A data folder as it should be, and options naming the current user and group.
    fn good() -> (tempfile::TempDir, PathBuf, DoctorOptions) {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        let private = data.join("private");
        fs::create_dir_all(&private).unwrap();
        chmod(&data, 0o750);
        chmod(&private, 0o700);
        crate::disclosure::keys::Secret::create(&crate::disclosure::keys::secret_path(&private))
            .unwrap();
        fs::write(private.join("store.duckdb"), b"pages").unwrap();
        chmod(&private.join("store.duckdb"), 0o600);
        fs::create_dir_all(data.join("quarantine")).unwrap();
        chmod(&data.join("quarantine"), 0o700);
        let published = data.join("published");
        publish(&published, Utc::now() - chrono::Duration::hours(3));
        chmod(&published, 0o750);
        for e in fs::read_dir(&published).unwrap() {
            chmod(&e.unwrap().path(), 0o640);
        }
        let access = data.join("access");
        fs::create_dir_all(&access).unwrap();
        chmod(&access, 0o700);
        fs::write(access.join("session.key"), b"k").unwrap();
        chmod(&access.join("session.key"), 0o600);
        record_backup(&data, Utc::now() - chrono::Duration::hours(2));
        let (user, group) = me();
        let options = DoctorOptions {
            job_user: Some(user.clone()),
            serve_user: Some(user),
            serve_group: Some(group),
            ..DoctorOptions::default()
        };
        (root, data, options)
    }

    fn record_backup(data: &Path, at: DateTime<Utc>) {
        let record = super::super::LastBackup {
            at,
            file: "/backup/reintegra.tar.gz".into(),
            bytes: 12345,
            sha256: "0".repeat(64),
            restored_at: None,
        };
        fs::write(
            data.join("private/last-backup.json"),
            serde_json::to_string(&record).unwrap(),
        )
        .unwrap();
    }

    /// The problems of a report, as (FAIL|WARN, what, fix) lines.
    fn problems(report: &Report) -> Vec<String> {
        report
            .findings
            .iter()
            .filter_map(|f| match f {
                Finding::Ok(_) => None,
                Finding::Warn(w, fix) => Some(format!("WARN {w} | {fix}")),
                Finding::Fail(w, fix) => Some(format!("FAIL {w} | {fix}")),
            })
            .collect()
    }

    fn one_problem(report: &Report, level: &str, what: &str, fix: &str) {
        let found = problems(report);
        assert_eq!(found.len(), 1, "{report}");
        assert!(found[0].starts_with(level), "{report}");
        assert!(found[0].contains(what), "{what:?} in {report}");
        assert!(found[0].contains(fix), "{fix:?} in {report}");
    }

    #[test]
    fn a_good_folder_has_no_problem() {
        let (_root, data, options) = good();
        let report = doctor(&data, &options);
        assert_eq!(report.problems(), 0, "{report}");
        let text = report.to_string();
        let (user, _) = me();
        assert!(
            text.contains(&format!("ok    private/ is 0700, owner {user}")),
            "{text}"
        );
        assert!(text.contains("published/CURRENT names"), "{text}");
        assert!(
            text.contains("the last backup was made 2 h ago") || text.contains("120 min"),
            "{text}"
        );
        assert!(text.lines().count() >= 9, "{text}");
        // Without user names, owners are only reported.
        let report = doctor(&data, &DoctorOptions::default());
        assert_eq!(report.problems(), 0, "{report}");
    }

    #[test]
    fn open_modes_are_failures_with_their_chmod() {
        let cases: [(&str, u32, &str, &str); 6] = [
            ("private", 0o755, "private/ is 0755", "chmod 0700"),
            (
                "private/secret.key",
                0o644,
                "private/secret.key is 0644",
                "chmod 0600",
            ),
            (
                "private/store.duckdb",
                0o640,
                "private/store.duckdb is 0640",
                "chmod 0600",
            ),
            (
                "quarantine",
                0o755,
                "quarantine/ is 0755",
                "chmod -R go-rwx",
            ),
            ("access", 0o750, "access/ is 0750", "chmod 0700"),
            (
                "access/session.key",
                0o644,
                "access/session.key is 0644",
                "chmod 0600",
            ),
        ];
        for (rel, mode, what, fix) in cases {
            let (_root, data, options) = good();
            chmod(&data.join(rel), mode);
            one_problem(&doctor(&data, &options), "FAIL", what, fix);
        }
        let (_root, data, options) = good();
        let current = fs::read_to_string(data.join("published/CURRENT")).unwrap();
        chmod(&data.join("published").join(current.trim()), 0o644);
        one_problem(
            &doctor(&data, &options),
            "FAIL",
            "can read it",
            "chmod 0640",
        );
        let (_root, data, options) = good();
        chmod(&data.join("published"), 0o700);
        one_problem(
            &doctor(&data, &options),
            "FAIL",
            "published/ is 0700",
            "chmod 0750",
        );
        let (_root, data, options) = good();
        chmod(&data.join("published"), 0o757);
        one_problem(
            &doctor(&data, &options),
            "FAIL",
            "anyone can replace",
            "chmod 0750",
        );
    }

    #[test]
    fn a_missing_secret_is_a_failure_once_anything_was_published() {
        let (_root, data, options) = good();
        fs::remove_file(data.join("private/secret.key")).unwrap();
        one_problem(
            &doctor(&data, &options),
            "FAIL",
            "secret.key is missing",
            "restore secret.key from the backup",
        );
        let (_root, data, options) = good();
        fs::write(data.join("private/secret.key"), "not a secret").unwrap();
        chmod(&data.join("private/secret.key"), 0o600);
        one_problem(
            &doctor(&data, &options),
            "FAIL",
            "not a reintegra secret",
            "restore secret.key",
        );
    }

    #[test]
    fn old_or_missing_backups_and_old_snapshots_are_reported() {
        let (_root, data, options) = good();
        record_backup(&data, options.now - chrono::Duration::hours(30));
        one_problem(
            &doctor(&data, &options),
            "WARN",
            "the last backup was made 30 h ago",
            "reintegra backup --data",
        );
        let (_root, data, options) = good();
        fs::remove_file(data.join("private/last-backup.json")).unwrap();
        one_problem(
            &doctor(&data, &options),
            "FAIL",
            "no backup",
            "reintegra backup --data",
        );

        let (_root, data, options) = good();
        publish(
            &data.join("published"),
            options.now - chrono::Duration::hours(40),
        );
        for e in fs::read_dir(data.join("published")).unwrap() {
            chmod(&e.unwrap().path(), 0o640);
        }
        one_problem(
            &doctor(&data, &options),
            "WARN",
            "published 40 h ago",
            "journalctl -u reintegra-ingest",
        );
        let (_root, data, options) = good();
        fs::write(
            data.join("published/CURRENT"),
            "20190101T000000000Z-000000000000.duckdb\n",
        )
        .unwrap();
        one_problem(
            &doctor(&data, &options),
            "FAIL",
            "CURRENT is unusable",
            "reintegra ingest",
        );
    }

    #[test]
    fn owners_and_groups_are_checked_against_the_names_given() {
        let (_root, data, mut options) = good();
        options.job_user = Some("no-such-user-here".into());
        let report = doctor(&data, &options);
        assert!(
            problems(&report)
                .iter()
                .all(|p| p.contains("no user \"no-such-user-here\"")),
            "{report}"
        );
        assert!(report.problems() > 0);

        let (me_user, me_group) = me();
        let other_user = ["nobody", "daemon", "root"]
            .into_iter()
            .find(|u| *u != me_user && users::uid_of(u).is_some());
        if let Some(other) = other_user {
            let (_root, data, mut options) = good();
            options.serve_user = Some(other.into());
            one_problem(
                &doctor(&data, &options),
                "FAIL",
                &format!("access/ belongs to {me_user}, not {other}"),
                &format!("chown -R {other}"),
            );
            let (_root, data, mut options) = good();
            options.job_user = Some(other.into());
            one_problem(
                &doctor(&data, &options),
                "FAIL",
                &format!("private/ belongs to {me_user}, not {other}"),
                &format!("chown -R {other}"),
            );
        }
        let other_group = ["nogroup", "daemon", "root"]
            .into_iter()
            .find(|g| *g != me_group && users::gid_of(g).is_some());
        if let Some(other) = other_group {
            let (_root, data, mut options) = good();
            options.serve_group = Some(other.into());
            one_problem(
                &doctor(&data, &options),
                "FAIL",
                &format!("published/ belongs to group {me_group}, not {other}"),
                &format!("chgrp -R {other}"),
            );
            // A file of the right folder with the wrong group is named on its own.
            let (_root, data, mut options) = good();
            let current = fs::read_to_string(data.join("published/CURRENT")).unwrap();
            options.serve_group = Some(me_group.clone());
            let path = data.join("published").join(current.trim());
            let gid = users::gid_of(other).unwrap();
            // (Only root may give a file to a group it is not in.)
            if std::os::unix::fs::chown(&path, None, Some(gid)).is_ok() {
                one_problem(
                    &doctor(&data, &options),
                    "FAIL",
                    &format!("belongs to group {other}, not {me_group}"),
                    "chgrp",
                );
            }
        }
    }

    #[test]
    fn a_missing_folder_is_one_failure() {
        let root = tempfile::tempdir().unwrap();
        let report = doctor(&root.path().join("nothing"), &DoctorOptions::default());
        assert_eq!(report.findings.len(), 1);
        assert_eq!(report.failures(), 1);
        assert!(
            report.to_string().contains("reintegra restore --from FILE"),
            "{report}"
        );
    }
}
