//! The provider archive format: write, read, sign and verify `*.par.gz`.
//!
//! Free of CLI and build concerns (it never reads the environment, starts a process or
//! prints), so it could become a crate of its own.

pub mod label;

pub use label::{Label, LabelError};

/// How the tar is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Single-member gzip: what hosts load.
    #[default]
    Gzip,
    /// Plain tar.
    None,
    /// zstd: parbuild only.
    Zstd,
}

/// Errors of the archive code.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// A bad label.
    #[error(transparent)]
    Label(#[from] LabelError),
}

impl ArchiveError {
    /// The exit code.
    pub fn exit_code(&self) -> u8 {
        crate::error::code::INPUT
    }

    /// How to fix it.
    pub fn hint(&self) -> Option<String> {
        None
    }
}
