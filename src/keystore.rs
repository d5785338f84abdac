//! Finding, reading and generating the signing keys, the way wash does.

/// Errors about keys.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Placeholder.
    #[error("{0}")]
    Other(String),
}

impl KeyError {
    /// The exit code.
    pub fn exit_code(&self) -> u8 {
        crate::error::code::INPUT
    }

    /// How to fix it.
    pub fn hint(&self) -> Option<String> {
        None
    }
}
