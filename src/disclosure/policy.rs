//! The disclosure policy: one versioned file (`disclosure.toml`) with the threshold,
//! the perturbation parameters of counts and of means, and the list of measures that
//! count people.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ptable::Params;
use crate::definitions::{DefinitionError, DefinitionErrors, Measure, Sensitivity};
use crate::reference::Label;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: String,
    threshold: u32,
    person_measures: Vec<String>,
    perturbation: Perturbation,
    magnitude: MagnitudeFile,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct MagnitudeFile {
    factor: f64,
    decimals: u32,
}

/// How means are protected as magnitudes: the sum behind a mean gets a noise of
/// `factor × (largest value in the cell) × v`, v drawn from the count table's
/// symmetric row by a second cell key, and the mean published is that sum over the
/// perturbed count, rounded to `decimals`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Magnitude {
    pub factor: f64,
    pub decimals: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Perturbation {
    max_deviation: u32,
    variance: f64,
    js: u32,
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub version: String,
    /// Person counts below this, after perturbation, are published as suppressed.
    pub threshold: u32,
    pub perturbation: Params,
    pub magnitude: Magnitude,
    /// Measures that count people (must match their files' `sensitivity`).
    pub person_measures: Vec<String>,
    pub file: PathBuf,
    /// The file's text, for the snapshot's record of what produced it.
    pub text: String,
}

impl Policy {
    pub fn load(path: &Path) -> Result<Policy, DefinitionError> {
        let fail = |line: usize, message: String| DefinitionError {
            file: path.into(),
            line,
            message,
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| fail(0, format!("cannot read the disclosure policy ({e}); run from the project folder or pass --policy")))?;
        Policy::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Policy, DefinitionError> {
        let fail = |line: usize, message: String| DefinitionError {
            file: path.into(),
            line,
            message,
        };
        let line_of = |key: &str| {
            text.lines()
                .position(|l| l.trim_start().starts_with(key))
                .map_or(1, |i| i + 1)
        };
        let parsed: File = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map_or(1, |s| text[..s.start].matches('\n').count() + 1);
            fail(line, e.message().to_string())
        })?;
        if parsed.threshold < 1 {
            return Err(fail(
                line_of("threshold"),
                "the threshold must be at least 1".into(),
            ));
        }
        if parsed.perturbation.js >= parsed.threshold {
            return Err(fail(line_of("js"), "js must be below the threshold".into()));
        }
        let perturbation = Params {
            max_deviation: parsed.perturbation.max_deviation,
            variance: parsed.perturbation.variance,
            js: parsed.perturbation.js,
        };
        super::ptable::PTable::new(perturbation)
            .map_err(|e| fail(line_of("variance"), e.to_string()))?;
        let m = &parsed.magnitude;
        if !(m.factor > 0.0 && m.factor <= 1.0) {
            return Err(fail(
                line_of("factor"),
                "the magnitude factor is a share of the largest value: above 0, at most 1".into(),
            ));
        }
        if m.decimals > 3 {
            return Err(fail(line_of("decimals"), "at most 3 decimals".into()));
        }
        Ok(Policy {
            version: parsed.version,
            threshold: parsed.threshold,
            perturbation,
            magnitude: Magnitude {
                factor: m.factor,
                decimals: m.decimals,
            },
            person_measures: parsed.person_measures,
            file: path.into(),
            text: text.to_string(),
        })
    }

    /// The measures' sensitivity must agree with the policy: a person measure cannot be
    /// published unprotected by editing its file alone, nor the reverse.
    pub fn check_measures(&self, measures: &[Measure]) -> Result<(), DefinitionErrors> {
        let mut errors = Vec::new();
        for m in measures {
            let listed = self.person_measures.contains(&m.id);
            let person = m.sensitivity == Sensitivity::Person;
            if listed != person {
                errors.push(DefinitionError {
                    file: m.file.clone(),
                    line: 1,
                    message: format!(
                        "sensitivity is {} but {} {} it among person_measures",
                        if person { "person" } else { "aggregate" },
                        self.file.display(),
                        if listed { "lists" } else { "does not list" }
                    ),
                });
            }
        }
        for id in &self.person_measures {
            if !measures.iter().any(|m| &m.id == id) {
                errors.push(DefinitionError {
                    file: self.file.clone(),
                    line: 1,
                    message: format!("person_measures lists {id}, which no measure file defines"),
                });
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(DefinitionErrors(errors))
        }
    }

    /// The sentence every page and export carries, derived from the policy.
    pub fn note(&self) -> Label {
        let t = self.threshold;
        Label {
            fr: format!(
                "Les chiffres sont légèrement perturbés pour protéger la vie privée ; les effectifs inférieurs à {t} sont affichés « <{t} ». Chaque total est calculé séparément et peut différer de la somme de ses parties. Les petits changements n'apparaissent qu'une fois assez d'enregistrements accumulés."
            ),
            en: format!(
                "Figures are slightly perturbed to protect privacy; fewer than {t} shown as <{t}. Each total is computed on its own and may differ from the sum of its parts. Small changes appear once enough records have accumulated."
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_policy_is_valid_and_its_note_follows_the_threshold() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("disclosure.toml");
        let policy = Policy::load(&path).unwrap();
        assert_eq!(policy.threshold, 10);
        assert!(policy.note().en.contains("fewer than 10 shown as <10"));
        assert!(policy.note().fr.contains("« <10 »"));
    }

    #[test]
    fn bad_policies_are_refused_with_their_line() {
        let text = "version = \"t\"\nthreshold = 10\nperson_measures = []\n[perturbation]\nmax_deviation = 2\nvariance = 9.0\njs = 4\n[magnitude]\nfactor = 0.1\ndecimals = 0\n";
        let err = Policy::parse(Path::new("disclosure.toml"), text).unwrap_err();
        assert_eq!(err.line, 6, "{err}");
        let text = "version = \"t\"\nthreshold = 3\nperson_measures = []\n[perturbation]\nmax_deviation = 5\nvariance = 3.0\njs = 4\n[magnitude]\nfactor = 0.1\ndecimals = 0\n";
        assert!(Policy::parse(Path::new("disclosure.toml"), text).is_err());
        let text = "version = \"t\"\nthreshold = 10\nperson_measures = []\n[perturbation]\nmax_deviation = 5\nvariance = 3.0\njs = 4\n[magnitude]\nfactor = 3.0\ndecimals = 0\n";
        assert_eq!(
            Policy::parse(Path::new("disclosure.toml"), text)
                .unwrap_err()
                .line,
            9
        );
    }
}
