//! Manifest errors, rendered as `file:line:column`, the offending line with a caret, and a hint.

use std::path::PathBuf;

/// Anything wrong with `par.toml`.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("cannot read `{path}`")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Placeholder until the validator lands.
    #[error("{0}")]
    Invalid(String),
}

impl ManifestError {
    /// Manifest errors are bad input.
    pub fn exit_code(&self) -> u8 {
        crate::error::code::INPUT
    }

    /// How to fix it.
    pub fn hint(&self) -> Option<String> {
        None
    }
}
