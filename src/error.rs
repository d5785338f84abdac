//! The top-level error: every module's error folds into [`Error`], which alone knows the
//! exit code and how to render itself (`error: …`, then `caused by: …`, then `help: …`).

use std::fmt::Write as _;

/// Exit codes, documented in the README and ARCHITECTURE.md.
pub mod code {
    /// Success.
    pub const OK: u8 = 0;
    /// The operation failed (a build, a signature, a write, a verification).
    pub const FAILED: u8 = 1;
    /// The user's input is invalid (flags, `par.toml`, a key, a path).
    pub const INPUT: u8 = 2;
    /// A tool the work needs is missing (`parbuild doctor` says how to get it).
    pub const MISSING_TOOL: u8 = 3;
    /// A registry could not be reached or refused the request (`push`, `pull`).
    pub const REGISTRY: u8 = 4;
    /// A registry rejected the credentials.
    pub const AUTH: u8 = 5;
    /// The tag already holds another archive (`push` without `--force-tag`).
    pub const CONFLICT: u8 = 6;
    /// Interrupted by Ctrl-C or SIGTERM.
    pub const INTERRUPTED: u8 = 130;
}

/// Any error parbuild reports.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading, writing or checking an archive.
    #[error(transparent)]
    Archive(#[from] crate::archive::ArchiveError),
    /// `par.toml`.
    #[error(transparent)]
    Manifest(#[from] crate::manifest::ManifestError),
    /// `cargo metadata`: the package, its artifact, its target directory.
    #[error(transparent)]
    Metadata(#[from] crate::metadata::MetadataError),
    /// Finding, reading or generating signing keys.
    #[error(transparent)]
    Keys(#[from] crate::keystore::KeyError),
    /// Running a program.
    #[error(transparent)]
    Process(#[from] crate::process::ProcessError),
    /// Making the build plan.
    #[error(transparent)]
    Plan(#[from] crate::plan::PlanError),
    /// The build pipeline.
    #[error(transparent)]
    Build(#[from] crate::pipeline::BuildError),
    /// Reading, writing or checking parts (`build --part-out`, `assemble`).
    #[error(transparent)]
    Part(#[from] crate::part::PartError),
    /// Talking to an OCI registry.
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
    /// Bad input that no module owns (flag combinations, paths).
    #[error("{message}")]
    Input {
        /// What is wrong.
        message: String,
        /// How to fix it.
        hint: Option<String>,
    },
    /// A file operation that failed, with what parbuild was doing.
    #[error("{action} `{path}`")]
    Io {
        /// What parbuild was doing, e.g. "cannot write".
        action: &'static str,
        /// The file or directory.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A check failed; the details were already printed (e.g. `verify`).
    #[error("{message}")]
    Failed {
        /// One line for the end of the output.
        message: String,
    },
    /// Ctrl-C or SIGTERM.
    #[error("interrupted")]
    Interrupted,
    /// A bug in parbuild.
    #[error("internal error: {message} (this is a bug in parbuild; please report it)")]
    Internal {
        /// What went wrong.
        message: String,
    },
}

/// The exit code of an archive error: 2 for bad input, 1 when the work failed. Here, at
/// the edge, so `archive` (a leaf) knows nothing of exit codes.
fn archive_code(e: &crate::archive::ArchiveError) -> u8 {
    use crate::archive::ArchiveError as A;
    match e {
        A::Label(_)
        | A::DuplicateLabel { .. }
        | A::NoTargets
        | A::ReadInput { .. }
        | A::BinaryMismatch { .. }
        | A::NotWasm { .. }
        | A::WrongKeyType { .. }
        | A::OutputDir { .. }
        | A::Open { .. } => code::INPUT,
        A::InputChanged { .. }
        | A::Sign { .. }
        | A::Write { .. }
        | A::SelfCheck { .. }
        | A::Unreadable { .. } => code::FAILED,
    }
}

impl Error {
    /// Bad input with a hint.
    pub fn input(message: impl Into<String>, hint: impl Into<Option<String>>) -> Self {
        Self::Input {
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// The exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Archive(e) => archive_code(e),
            // Everything wrong with par.toml is bad input.
            Self::Manifest(_) => code::INPUT,
            Self::Metadata(e) => e.exit_code(),
            Self::Keys(e) => e.exit_code(),
            Self::Process(e) => e.exit_code(),
            Self::Build(e) => e.exit_code(),
            Self::Plan(e) => e.exit_code(),
            Self::Part(e) => e.exit_code(),
            Self::Registry(e) => e.exit_code(),
            Self::Input { .. } => code::INPUT,
            Self::Io { .. } | Self::Failed { .. } | Self::Internal { .. } => code::FAILED,
            Self::Interrupted => code::INTERRUPTED,
        }
    }

    /// A fix to suggest, if any.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Archive(e) => e.hint(),
            Self::Manifest(e) => e.hint(),
            Self::Metadata(e) => e.hint(),
            Self::Keys(e) => e.hint(),
            Self::Process(e) => e.hint(),
            Self::Build(e) => e.hint(),
            Self::Plan(e) => e.hint(),
            Self::Part(e) => e.hint(),
            Self::Registry(e) => e.hint(),
            Self::Input { hint, .. } => hint.clone(),
            _ => None,
        }
    }

    /// The full text: `error: …`, each cause, and the hint.
    pub fn render(&self) -> String {
        let mut out = format!("error: {self}");
        let mut source = std::error::Error::source(self);
        // `transparent` variants share their inner error's source: skip a repeat of the top line.
        let top = self.to_string();
        while let Some(cause) = source {
            let text = cause.to_string();
            if text != top && !out.ends_with(&text) {
                let _ = write!(out, "\ncaused by: {text}");
            }
            source = cause.source();
        }
        if let Some(hint) = self.hint() {
            let _ = write!(out, "\nhelp: {hint}");
        }
        out
    }
}

/// `Result` with parbuild's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_cause_and_hint() {
        let e = Error::Io {
            action: "cannot write",
            path: "out/x.par.gz".into(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such directory"),
        };
        assert_eq!(
            e.render(),
            "error: cannot write `out/x.par.gz`\ncaused by: no such directory"
        );
        assert_eq!(e.exit_code(), code::FAILED);
        let e = Error::input("bad", Some("do this".to_owned()));
        assert_eq!(e.render(), "error: bad\nhelp: do this");
        assert_eq!(e.exit_code(), code::INPUT);
    }
}
