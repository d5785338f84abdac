//! Everything that can go wrong in the archive code, with the fix to suggest. A failed
//! verification is not an error here: it is a [`super::VerifyReport`] with failed checks.

use std::path::PathBuf;

use super::LabelError;

/// Errors of the archive code.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// A bad label.
    #[error(transparent)]
    Label(#[from] LabelError),
    /// The same label twice.
    #[error("target `{label}` is given twice")]
    DuplicateLabel {
        /// The label.
        label: String,
    },
    /// Nothing to pack.
    #[error("no targets to pack")]
    NoTargets,
    /// A binary or the WIT package cannot be read.
    #[error("cannot read {what} `{path}`")]
    ReadInput {
        /// What it is, e.g. "the binary for `x86_64-linux`".
        what: String,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file changed between hashing and copying.
    #[error("`{path}` changed while it was being packed")]
    InputChanged {
        /// The file.
        path: PathBuf,
    },
    /// A binary does not fit its label.
    #[error("the binary for `{label}` (`{path}`) does not match its label: {detail}")]
    BinaryMismatch {
        /// The label.
        label: String,
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The WIT package is not a wasm binary.
    #[error("`{path}` is not a WIT package encoded as wasm (no `\\0asm` header)")]
    NotWasm {
        /// The file.
        path: PathBuf,
    },
    /// A key has the wrong role.
    #[error("the {role} key `{public}` is not {expected}")]
    WrongKeyType {
        /// `issuer` or `subject`.
        role: &'static str,
        /// Its public key.
        public: String,
        /// e.g. "an account key (`A…`)".
        expected: &'static str,
    },
    /// Signing failed (a key without a seed).
    #[error("cannot sign the claims: {detail}")]
    Sign {
        /// Why.
        detail: String,
    },
    /// The output directory does not exist.
    #[error("output directory `{path}` does not exist")]
    OutputDir {
        /// The directory.
        path: PathBuf,
    },
    /// Writing the archive failed.
    #[error("cannot write `{path}`")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The written archive failed its own verification (a bug, or a file that changed).
    #[error("the new archive failed verification, so `{path}` was not written: {failures}")]
    SelfCheck {
        /// The destination.
        path: PathBuf,
        /// The failed checks.
        failures: String,
    },
    /// The archive cannot be opened.
    #[error("cannot read `{path}`")]
    Open {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a readable archive.
    #[error("`{path}` is not a readable provider archive: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl ArchiveError {
    /// How to fix it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Self::Label(LabelError::Malformed(_)) => {
                "labels are what a host computes from Rust's ARCH and OS, e.g. `x86_64-linux`, `aarch64-macos`, `arm-linux`".to_owned()
            }
            Self::DuplicateLabel { .. } => "give each label once: one binary per target".to_owned(),
            Self::NoTargets => "add `--target LABEL=PATH`, e.g. `--target x86_64-linux=target/release/my-provider`".to_owned(),
            Self::BinaryMismatch { .. } => {
                "check that the file was built for that target (`file PATH` shows its format and CPU)".to_owned()
            }
            Self::WrongKeyType { expected, .. } => format!(
                "use {expected}; `parbuild keys generate --type {}` makes one",
                if expected.contains("account") { "account" } else { "service" }
            ),
            Self::OutputDir { .. } => "create the directory first, or choose another `-o`".to_owned(),
            Self::InputChanged { .. } => "wait for the build that writes it to finish, then pack again".to_owned(),
            Self::Unreadable { .. } => "`parbuild verify FILE` lists every check and what failed".to_owned(),
            _ => return None,
        })
    }
}
