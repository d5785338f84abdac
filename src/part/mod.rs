//! Parts: one target's binary, built on one machine, unsigned, carrying everything
//! `parbuild assemble` needs to check that parts built elsewhere belong together and to
//! pack them without `par.toml` or keys on the build machines.
//!
//! A part is a zstd-compressed tar (`<package>-<label>.part.tar.zst`) with deterministic
//! GNU headers, holding in this order:
//! 1. `part.json`, the [`PartManifest`] (at most [`MAX_MANIFEST`] bytes);
//! 2. `<label>.bin`, the binary, whose size and SHA-256 the manifest states;
//! 3. `world.wasm`, the WIT package, only when the manifest lists one.
//!
//! This module is the format, one seam per file: `manifest` (`part.json` and the check of a
//! set of parts), `read` (bounded, strict, never panicking on garbage) and `write`; this
//! file holds the names and the errors. Like `archive`, it prints nothing, reads no
//! environment and starts no process: provenance (git commit, `rustc -vV`) is gathered by
//! the command.

use std::path::PathBuf;

use crate::archive::Label;

mod manifest;
mod read;
#[cfg(test)]
mod tests;
mod write;

pub use manifest::{FileDigest, PartManifest, SetReport, Source, check_set, digest_file};
pub use read::{Extracted, extract, read_manifest};
pub use write::write;

/// The format this parbuild writes and reads.
pub const FORMAT: u32 = 1;
/// The manifest's entry name.
pub const MANIFEST_ENTRY: &str = "part.json";
/// The file extension of a part.
pub const EXTENSION: &str = "part.tar.zst";
/// The largest `part.json` accepted.
pub const MAX_MANIFEST: u64 = 1 << 20;

/// The file name of a part: `<package>-<label>.part.tar.zst`.
pub fn file_name(package: &str, label: &Label) -> String {
    format!("{package}-{label}.{EXTENSION}")
}

/// What can be wrong with a part or a set of parts.
#[derive(Debug, thiserror::Error)]
pub enum PartError {
    /// The file cannot be opened or read.
    #[error("cannot read the part `{path}`")]
    Open {
        /// The part.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Not a part at all, or a damaged one.
    #[error("`{path}` is not a valid part: {reason}")]
    Invalid {
        /// The part.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A directory where a part file was expected.
    #[error("`{path}` is a directory, not a part")]
    Directory {
        /// The directory.
        path: PathBuf,
    },
    /// It decompresses to more than the cap.
    #[error("`{path}` decompresses to more than {cap} bytes (a decompression bomb?)")]
    TooLarge {
        /// The part.
        path: PathBuf,
        /// The cap.
        cap: u64,
    },
    /// A part of another format version.
    #[error("`{path}` is a format {found} part; this parbuild reads format {FORMAT}")]
    Format {
        /// The part.
        path: PathBuf,
        /// Its `format`.
        found: String,
    },
    /// The content does not match what its manifest says (tampered or corrupted).
    #[error("`{path}`: {field} is `{stated}` in `part.json` but the content has `{actual}`")]
    Tampered {
        /// The part.
        path: PathBuf,
        /// The manifest field, e.g. `binary.sha256`.
        field: String,
        /// What `part.json` states.
        stated: String,
        /// What the content has.
        actual: String,
    },
    /// Two parts that do not belong to the same archive.
    #[error(
        "`{path}` does not belong with `{reference}`: `{field}` is {value} there but {expected} in `{reference}`"
    )]
    Mismatch {
        /// The odd part.
        path: PathBuf,
        /// The first part, which the others are compared with.
        reference: PathBuf,
        /// The differing field (a dotted path into `part.json`).
        field: String,
        /// Its value in `path` (JSON).
        value: String,
        /// Its value in `reference` (JSON).
        expected: String,
    },
    /// Two parts for one target.
    #[error("`{path}` and `{other}` are both the part for `{label}`")]
    Duplicate {
        /// The later part.
        path: PathBuf,
        /// The earlier one.
        other: PathBuf,
        /// The label.
        label: String,
    },
    /// A part for a target `par.toml` does not list.
    #[error(
        "`{path}` is the part for `{label}`, which is not a target of `par.toml` (it lists {listed})"
    )]
    NotListed {
        /// The part.
        path: PathBuf,
        /// Its label.
        label: String,
        /// The targets the parts list.
        listed: String,
    },
    /// Targets of `par.toml` without a part.
    #[error("no part for {}: `par.toml` lists {listed}", missing.iter().map(|l| format!("`{l}`")).collect::<Vec<_>>().join(", "))]
    Missing {
        /// The labels without a part.
        missing: Vec<String>,
        /// Every label `par.toml` lists.
        listed: String,
    },
    /// No part given.
    #[error("no parts given")]
    NoParts,
    /// Writing a part (or extracting one) failed.
    #[error("cannot write `{path}`")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A binary to put in a part cannot be read.
    #[error("cannot read `{path}`")]
    ReadInput {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl PartError {
    /// How to fix it.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Tampered { .. } | Self::Invalid { .. } => Some(
                "rebuild this part with `parbuild build --target LABEL --part-out DIR`; parts are checked, never repaired".to_owned(),
            ),
            Self::TooLarge { .. } => {
                Some("if the part is genuine, raise `--max-unpacked`".to_owned())
            }
            Self::Format { .. } => {
                Some("build and assemble the parts with the same parbuild version".to_owned())
            }
            Self::Mismatch { .. } => Some(
                "build every part from the same commit, `Cargo.lock` and `par.toml`, then assemble them together".to_owned(),
            ),
            Self::Duplicate { .. } => Some("pass one part per target".to_owned()),
            Self::Directory { path } => Some(format!(
                "pass the part files in it: `{}`",
                path.join("*").display()
            )),
            Self::Missing { .. } => Some(
                "build the missing targets with `parbuild build --target LABEL --part-out DIR`, or pass `--allow-missing` to pack without them".to_owned(),
            ),
            Self::NotListed { .. } => {
                Some("a part must come from the same `par.toml` as the others".to_owned())
            }
            _ => None,
        }
    }
}
