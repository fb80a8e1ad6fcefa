//! The reading journal: before a file is read, the run writes down (and syncs) that it
//! is reading it; once read, the mark goes. A mark found at the start of a run was left
//! by a run that died while reading that file — perhaps because of it — so the file is
//! quarantined (rule `crashed_reader`) instead of being read again: a file that kills
//! one run cannot kill the next.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// A file being read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    pub sha256: String,
    pub name: String,
}

pub struct Journal {
    path: PathBuf,
    marks: Mutex<Vec<Mark>>,
}

impl Journal {
    /// Opens the journal of a private folder; returns the marks a dead run left.
    pub fn open(private: &Path) -> io::Result<(Journal, Vec<Mark>)> {
        let path = private.join("reading.journal");
        let left: Vec<Mark> = match fs::read_to_string(&path) {
            Ok(text) => text
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        let journal = Journal {
            path,
            marks: Mutex::new(Vec::new()),
        };
        Ok((journal, left))
    }

    fn write(&self, marks: &[Mark]) -> io::Result<()> {
        let tmp = self.path.with_extension("journal.tmp");
        let mut f = File::create(&tmp)?;
        for m in marks {
            serde_json::to_writer(&mut f, m).map_err(io::Error::other)?;
            f.write_all(b"\n")?;
        }
        f.sync_all()?;
        fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    }

    /// Starts afresh: the dead run's marks have been dealt with.
    pub fn clear(&self) -> io::Result<()> {
        let marks = self.marks.lock().unwrap_or_else(|e| e.into_inner());
        self.write(&marks)
    }

    /// Writes down, durably, that a file is about to be read.
    pub fn mark(&self, sha256: &str, name: &str) -> io::Result<()> {
        let mut marks = self.marks.lock().unwrap_or_else(|e| e.into_inner());
        marks.push(Mark {
            sha256: sha256.to_string(),
            name: name.to_string(),
        });
        self.write(&marks)
    }

    /// The file was read to the end (whatever it held).
    pub fn unmark(&self, sha256: &str) -> io::Result<()> {
        let mut marks = self.marks.lock().unwrap_or_else(|e| e.into_inner());
        marks.retain(|m| m.sha256 != sha256);
        self.write(&marks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_left_by_a_dead_run_are_found_by_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let (j, left) = Journal::open(dir.path()).unwrap();
        assert!(left.is_empty());
        j.mark("aaa", "retours.csv").unwrap();
        j.mark("bbb", "seances.csv").unwrap();
        j.unmark("bbb").unwrap();
        drop(j); // the run dies here
        let (j, left) = Journal::open(dir.path()).unwrap();
        assert_eq!(
            left,
            vec![Mark {
                sha256: "aaa".into(),
                name: "retours.csv".into()
            }]
        );
        j.clear().unwrap();
        assert!(Journal::open(dir.path()).unwrap().1.is_empty());
    }
}
