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

/// The exit code of an archive error: 2 for bad input, 1 when the work failed.
///
/// Every module's error is mapped to its exit code here, at the edge, and only here: no
/// module below the commands knows exit codes, so none imports this one (`tests/tidy.rs`).
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

/// The exit code of a program that could not run or failed: a program that is not
/// installed is a missing tool.
fn process_code(e: &crate::process::ProcessError) -> u8 {
    use crate::process::ProcessError as P;
    match e {
        P::Spawn { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            code::MISSING_TOOL
        }
        P::Interrupted { .. } => code::INTERRUPTED,
        _ => code::FAILED,
    }
}

/// A missing cargo is a missing tool, unreadable output a failure, the rest bad input.
fn metadata_code(e: &crate::metadata::MetadataError) -> u8 {
    use crate::metadata::MetadataError as M;
    match e {
        M::Spawn { .. } => code::MISSING_TOOL,
        M::Output { .. } => code::FAILED,
        _ => code::INPUT,
    }
}

/// A key that cannot be written is a failure; every other key problem is bad input.
fn key_code(e: &crate::keystore::KeyError) -> u8 {
    match e {
        crate::keystore::KeyError::Write { .. } => code::FAILED,
        _ => code::INPUT,
    }
}

/// A broken toolchain (`rustc -vV`) is a missing tool; the rest is bad input.
fn plan_code(e: &crate::plan::PlanError) -> u8 {
    match e {
        crate::plan::PlanError::Host(_) => code::MISSING_TOOL,
        _ => code::INPUT,
    }
}

fn build_code(e: &crate::pipeline::BuildError) -> u8 {
    use crate::pipeline::BuildError as B;
    match e {
        B::Missing { .. } => code::MISSING_TOOL,
        B::Interrupted => code::INTERRUPTED,
        B::Jobserver { .. } | B::TargetsFailed { .. } => code::FAILED,
    }
}

/// Bad or mismatched parts are bad input; I/O failures are failures.
fn part_code(e: &crate::part::PartError) -> u8 {
    use crate::part::PartError as P;
    match e {
        P::Write { .. } | P::ReadInput { .. } => code::FAILED,
        _ => code::INPUT,
    }
}

/// 2 bad input, 4 registry unreachable or refused, 5 credentials rejected, 6 tag holds
/// another archive, 1 a download that fails its checks.
fn registry_code(e: &crate::registry::RegistryError) -> u8 {
    use crate::registry::RegistryError as R;
    match e {
        R::BadReference { .. } | R::Latest { .. } | R::Auth(_) | R::CaFile { .. } => code::INPUT,
        R::TagExists { .. } => code::CONFLICT,
        R::Unauthorized { .. } => code::AUTH,
        R::Unreachable { .. } | R::NotFound { .. } | R::Protocol { .. } => code::REGISTRY,
        R::Manifest { .. } | R::Digest { .. } | R::Oversized { .. } | R::Write { .. } => {
            code::FAILED
        }
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
            Self::Metadata(e) => metadata_code(e),
            Self::Keys(e) => key_code(e),
            Self::Process(e) => process_code(e),
            Self::Build(e) => build_code(e),
            Self::Plan(e) => plan_code(e),
            Self::Part(e) => part_code(e),
            Self::Registry(e) => registry_code(e),
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
