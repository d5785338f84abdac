//! The build pipeline: run the plan's invocations in parallel under one jobserver
//! ([`runner`]), show them ([`ui`]), record a timeline on request ([`timings`]), then hand
//! the built binaries ([`outcome`]) to signing and packing; or, when the build's
//! fingerprint ([`fresh`]) says nothing changed since the last one, none of that.

pub mod fresh;
pub mod outcome;
pub mod runner;
pub mod timings;
pub mod tokens;
pub mod totals;
pub mod ui;

/// Errors of the build pipeline.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The jobserver could not be created.
    #[error("cannot create the jobserver")]
    Jobserver {
        /// The cause.
        source: std::io::Error,
    },
    /// Tools are missing for the plan.
    #[error("missing for this build:\n{}", list.iter().map(|m| format!("  - {}: {}", m.what, m.fix)).collect::<Vec<_>>().join("\n"))]
    Missing {
        /// What is missing.
        list: Vec<crate::tools::Missing>,
    },
    /// Targets failed (or were cancelled).
    #[error("{failed} of {total} targets failed; nothing was written")]
    TargetsFailed {
        /// How many failed.
        failed: usize,
        /// How many there were.
        total: usize,
    },
    /// Ctrl-C.
    #[error("interrupted: every build was stopped and no archive was written")]
    Interrupted,
}

impl BuildError {
    /// How to fix it.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Missing { .. } => Some("`parbuild doctor --fix` installs what can be installed without guessing".to_owned()),
            Self::TargetsFailed { .. } => Some(
                "see each failure above and its log; `--allow-missing` packs the targets that built".to_owned(),
            ),
            _ => None,
        }
    }
}
