//! definitions: what the project's own files declare — measures (`queries/*.sql`
//! headers), dashboards (`dashboards/*.toml`), the programme's text
//! (`dashboards/_programme.toml`), the results framework (`dashboards/_results.toml`),
//! the grant's budget (`dashboards/_budget.toml`), the project as an IATI activity
//! (`dashboards/_iati.toml`), the dimension names they share, and
//! the notes
//! programme leads write to explain figures (`DATA/notes/*.toml`) — parsed and
//! checked, with problems located by file and line.
//!
//! Both sides read definitions: the job computes the measures they declare, the server
//! lays out the dashboards. Nothing here touches data.

pub mod budget;
pub mod dashboard;
pub mod dimension;
pub mod iati;
pub mod measure;
pub mod notes;
pub mod programme;
pub mod results;

use std::fmt;
use std::path::PathBuf;

pub use budget::Budget;
pub use dashboard::{Dashboard, Indicator, Panel, PanelKind, Sort, Target};
pub use measure::{Measure, MeasureInfo, MonthRange, Sensitivity, Statistic};
pub use notes::{Note, Notes, When};
pub use programme::Programme;
pub use results::Framework;

/// A problem in a definition file, located by file and line.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}:{line}: {message}", file.display())]
pub struct DefinitionError {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

/// Several definition problems, all reported at once.
#[derive(Debug, Clone, thiserror::Error)]
pub struct DefinitionErrors(pub Vec<DefinitionError>);

impl fmt::Display for DefinitionErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}
