//! The data folder of the job and where each thing lives in it:
//!
//! ```text
//! DATA/ingest.lock          held while a run is going on
//! DATA/private/             job side only: store.duckdb, staging/, archive/
//! DATA/published/           snapshots and CURRENT: group-readable (0750, files 0640),
//!                           the folder servers read
//! DATA/status/              how the last run ended (status::Status), group-readable
//! DATA/quarantine/          rejected files, each with <file>.report.txt and .report.json;
//!                           mode 0700, files 0600: they are the files that carry PII
//! ```

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use chrono::Utc;

use crate::extract::{self, report::Report};
use crate::locale::Locale;

#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    pub fn new(root: &Path) -> Self {
        Layout {
            root: root.to_path_buf(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn private(&self) -> PathBuf {
        self.root.join("private")
    }
    pub fn staging(&self) -> PathBuf {
        self.private().join("staging")
    }
    pub fn archive_dir(&self) -> PathBuf {
        self.private().join("archive")
    }
    pub fn published(&self) -> PathBuf {
        self.root.join("published")
    }
    pub fn quarantine_dir(&self) -> PathBuf {
        self.root.join("quarantine")
    }
    pub fn lock_file(&self) -> PathBuf {
        self.root.join("ingest.lock")
    }

    /// Creates the folders; the private one is readable by its owner only.
    pub fn create(&self) -> io::Result<()> {
        for dir in [
            self.staging(),
            self.archive_dir(),
            self.published(),
            self.quarantine_dir(),
        ] {
            fs::create_dir_all(dir)?;
        }
        #[cfg(unix)]
        {
            fs::set_permissions(self.private(), private_dir())?;
            fs::set_permissions(self.quarantine_dir(), private_dir())?;
            // Servers run as another user in the job's group: they may list and read
            // published/, never private/ or quarantine/.
            crate::status::set_mode(&self.published(), 0o750)?;
        }
        Ok(())
    }

    /// Empties the staging folder (rows of a file whose load did not finish).
    pub fn clear_staging(&self) -> io::Result<()> {
        for entry in fs::read_dir(self.staging())?.flatten() {
            fs::remove_file(entry.path())?;
        }
        Ok(())
    }

    /// Moves an accepted (or re-delivered) file out of the inbox into the private archive.
    pub fn archive(&self, path: &Path, sha256: &str) -> io::Result<PathBuf> {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let target = self.archive_dir().join(format!(
            "{}-{}-{name}",
            Utc::now().format("%Y%m%d"),
            &sha256[..12]
        ));
        move_file(path, &target)?;
        Ok(target)
    }

    /// Moves a rejected file into quarantine and writes its reports beside it: the text
    /// report in `lang` (the deployment's language), the JSON report in both.
    /// Returns the path of the text report.
    pub fn quarantine(&self, path: &Path, report: &Report, lang: Locale) -> io::Result<PathBuf> {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let mut target = self.quarantine_dir().join(&name);
        if target.exists() {
            target = self
                .quarantine_dir()
                .join(format!("{}-{name}", Utc::now().format("%Y%m%dT%H%M%S%3fZ")));
        }
        let target_name = target
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let text = self
            .quarantine_dir()
            .join(format!("{target_name}.report.txt"));
        let json = self
            .quarantine_dir()
            .join(format!("{target_name}.report.json"));
        write_private(&text, report.to_text(lang).as_bytes())?;
        write_private(
            &json,
            (serde_json::to_string_pretty(&report.to_json())? + "\n").as_bytes(),
        )?;
        move_file(path, &target)?;
        #[cfg(unix)]
        fs::set_permissions(&target, private_file())?;
        Ok(text)
    }

    /// Deletes quarantined files, with their reports, quarantined more than `max_age`
    /// ago (the time their report was written). Returns (file, quarantined at).
    pub fn purge_quarantine(
        &self,
        max_age: std::time::Duration,
    ) -> io::Result<Vec<(String, chrono::DateTime<Utc>)>> {
        let dir = self.quarantine_dir();
        let now = std::time::SystemTime::now();
        let mut purged = Vec::new();
        let mut names: Vec<String> = fs::read_dir(&dir)?
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        for name in &names {
            let Some(file) = name.strip_suffix(".report.json") else {
                continue;
            };
            let report = dir.join(name);
            let quarantined = fs::metadata(&report)?.modified()?;
            if now.duration_since(quarantined).unwrap_or_default() < max_age {
                continue;
            }
            for path in [
                dir.join(file),
                dir.join(format!("{file}.report.txt")),
                report,
            ] {
                match fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
            purged.push((file.to_string(), chrono::DateTime::<Utc>::from(quarantined)));
        }
        Ok(purged)
    }
}

/// Files waiting in the inbox, oldest first (a later delivery replaces an earlier one),
/// and the names of those modified less than `settle` ago, left for the next run.
///
/// Deliveries are written elsewhere (or as `name.part`) and renamed into the inbox when
/// complete; `settle` also protects against a copy still being written in place.
pub fn delivered_files(
    inbox: &Path,
    settle: std::time::Duration,
) -> io::Result<(Vec<PathBuf>, Vec<String>)> {
    let now = std::time::SystemTime::now();
    let mut files = Vec::new();
    let mut unsettled = Vec::new();
    for entry in fs::read_dir(inbox)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_file() && extract::is_delivered(&path) {
            let modified = entry.metadata()?.modified()?;
            if now.duration_since(modified).unwrap_or_default() < settle {
                unsettled.push(entry.file_name().to_string_lossy().into_owned());
                continue;
            }
            files.push((modified, path));
        }
    }
    files.sort();
    unsettled.sort();
    Ok((files.into_iter().map(|(_, p)| p).collect(), unsettled))
}

#[cfg(unix)]
fn private_dir() -> fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    fs::Permissions::from_mode(0o700)
}

#[cfg(unix)]
fn private_file() -> fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    fs::Permissions::from_mode(0o600)
}

/// Writes a file readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.create(true).truncate(true).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    io::Write::write_all(&mut options.open(path)?, bytes)
}

/// Renames, or copies then removes when the target is on another file system.
fn move_file(from: &Path, to: &Path) -> io::Result<()> {
    match fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(_) => {
            fs::copy(from, to)?;
            fs::File::open(to)?.sync_all()?;
            fs::remove_file(from)
        }
    }
}
