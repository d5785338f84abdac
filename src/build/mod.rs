//! The build pipeline: run the plan's jobs in parallel under one jobserver, collect the
//! artifacts, then sign, pack and verify.

/// Errors of the build pipeline.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Placeholder.
    #[error("{0}")]
    Other(String),
}

impl BuildError {
    /// The exit code.
    pub fn exit_code(&self) -> u8 {
        crate::error::code::FAILED
    }

    /// How to fix it.
    pub fn hint(&self) -> Option<String> {
        None
    }
}
