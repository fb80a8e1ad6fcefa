//! `reintegra demo`: the bundled fixtures loaded by the real job into a data folder,
//! with a demonstration administrator, ready to serve.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::ingest;

/// A demo data folder, prepared.
pub struct Demo {
    pub data: PathBuf,
    /// What the job said of each fixture, one line per file.
    pub lines: Vec<String>,
    /// The password of the `demo` administrator.
    pub password: String,
}

/// Copies the fixtures (`*.csv`) into `dir/inbox`, runs the job into `dir/data`
/// (reused between runs: an unchanged fixture is not loaded twice) and makes sure the
/// demo account exists.
pub fn prepare(
    dir: &Path,
    fixtures: &Path,
    queries: PathBuf,
    policy: PathBuf,
) -> anyhow::Result<Demo> {
    let inbox = dir.join("inbox");
    let data = dir.join("data");
    std::fs::create_dir_all(&inbox)?;
    let mut copied = 0;
    for entry in std::fs::read_dir(fixtures)
        .with_context(|| format!("reading the fixtures in {}", fixtures.display()))?
    {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "csv") {
            std::fs::copy(&path, inbox.join(path.file_name().unwrap_or_default()))?;
            copied += 1;
        }
    }
    anyhow::ensure!(copied > 0, "no fixture (*.csv) in {}", fixtures.display());
    let mut options = ingest::Options::new(&inbox, &data, queries);
    options.policy = policy;
    options.wait = true;
    let summary = ingest::run(&options)?;
    anyhow::ensure!(summary.current.is_some(), "the demo published no snapshot");
    let password = crate::access::commands::demo_account(&data)?;
    Ok(Demo {
        data,
        lines: summary.files.iter().map(ToString::to_string).collect(),
        password,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_publishes_the_fixtures_and_a_second_run_loads_nothing_again() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::tempdir().unwrap();
        let fixtures = dir.path().join("fixtures");
        crate::fixtures::write(&fixtures, 7, 0.05).unwrap();
        let prepare = || {
            prepare(
                &dir.path().join("demo"),
                &fixtures,
                root.join("queries"),
                root.join("disclosure.toml"),
            )
            .unwrap()
        };
        let first = prepare();
        assert!(
            first.lines.iter().all(|l| l.starts_with("accepted")),
            "{:?}",
            first.lines
        );
        assert!(first.data.join("published/CURRENT").exists());
        let second = prepare();
        assert!(
            second.lines.iter().all(|l| l.starts_with("unchanged")),
            "{:?}",
            second.lines
        );
        let users = crate::access::UsersStore::new(&crate::access::dir(&first.data))
            .load()
            .unwrap();
        assert!(users.get("demo").is_some());
        let empty = dir.path().join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        let err = super::prepare(
            &dir.path().join("d2"),
            &empty,
            root.join("queries"),
            root.join("disclosure.toml"),
        );
        assert!(err.is_err());
    }
}
