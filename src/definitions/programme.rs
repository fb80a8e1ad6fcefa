//! The programme as the site presents it (`dashboards/_programme.toml`): the line under
//! the site's name on every page and the paragraph of the home page, in French and
//! English. Without the file, pages show the site's name alone.

use std::path::Path;

use serde::Deserialize;

use super::DefinitionError;
use crate::reference::Label;

/// The file's name inside the dashboards folder.
pub const FILE: &str = "_programme.toml";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Programme {
    /// What the programme is, in a line (under the site's name).
    #[serde(default)]
    pub tagline: Option<Label>,
    /// Who, where, since when (the home page's paragraph).
    #[serde(default)]
    pub lead: Option<Label>,
}

impl Programme {
    /// Reads `_programme.toml` of a dashboards folder; none there is no text.
    pub fn load(dashboards: &Path) -> Result<Programme, DefinitionError> {
        let path = dashboards.join(FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Programme::default()),
            Err(e) => {
                return Err(DefinitionError {
                    file: path,
                    line: 0,
                    message: format!("cannot read: {e}"),
                });
            }
        };
        toml::from_str(&text).map_err(|e| DefinitionError {
            line: e
                .span()
                .map_or(1, |s| text[..s.start].matches('\n').count() + 1),
            file: path,
            message: e.message().to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_programme_file_is_optional_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let none = Programme::load(dir.path()).unwrap();
        assert!(none.tagline.is_none() && none.lead.is_none());
        std::fs::write(
            dir.path().join(FILE),
            "lead = { fr = \"a\", en = \"b\" }\ncolour = 1\n",
        )
        .unwrap();
        let err = Programme::load(dir.path()).unwrap_err();
        assert_eq!(err.line, 2, "{err}");
        let shipped = Programme::load(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("dashboards")
                .as_path(),
        )
        .unwrap();
        assert!(shipped.lead.unwrap().fr.contains("5 000"));
    }
}
