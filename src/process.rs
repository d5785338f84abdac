//! The one way parbuild runs programs.

/// A program that failed.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// Placeholder.
    #[error("{0}")]
    Other(String),
}

impl ProcessError {
    /// The exit code.
    pub fn exit_code(&self) -> u8 {
        crate::error::code::FAILED
    }

    /// How to fix it.
    pub fn hint(&self) -> Option<String> {
        None
    }
}
