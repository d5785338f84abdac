//! The provider archive format: write, read, sign and verify `*.par.gz`.
//!
//! Free of CLI and build concerns: it never reads the environment, starts a process or
//! prints, and uses no other module of the crate (`tests/tidy.rs` checks), so it could become
//! a crate of its own. Entry points:
//! - [`write_file`]: pack binaries into a signed archive, atomically, verified before it
//!   is renamed into place ([`write_to`] streams into any writer).
//! - [`read_file`]: the [`Inspection`] model (metadata, keys, targets, signature status).
//! - [`verify_file`]: every strict check, by name ([`VerifyReport`]).
//!
//! Layers: [`tar`] (blocks), [`compress`] (gzip/none/zstd, cap, trailing data) with
//! [`gzip`] (parallel deflate into one member),
//! [`claims`] + [`jwt`] (the signed token), [`binary`] (format and CPU of each binary),
//! [`scan`] (one bounded pass over an archive), [`write`](mod@write) and [`verify`];
//! [`staged`] writes any file whole or not at all (archives, parts, pulls, pipelines).

pub mod binary;
pub mod claims;
pub mod compress;
pub mod elf;
mod error;
mod follow;
pub mod frameworks;
pub mod gzip;
pub mod jwt;
pub mod label;
pub mod macho;
pub mod scan;
pub mod staged;
pub mod stamp;
pub mod tar;
pub mod verify;
pub mod write;

pub use binary::{LoadFacts, LoadInfo, Version};
pub use claims::{Claims, ProviderMeta, Wascap};
pub use error::ArchiveError;
pub use label::{Label, LabelError};
pub use scan::{Inspection, ReadOptions, TargetInfo, read_file};
pub use verify::{Check, VerifyOptions, VerifyReport, verify_file};
pub use write::{EntryTime, EntryTimes, Jti, WriteSpec, Written, write_file, write_to};

/// The claims entry's name.
pub const CLAIMS_ENTRY: &str = "claims.jwt";
/// The optional WIT package entry's name (also its key in `target_hashes`).
pub const WORLD_ENTRY: &str = "world.wasm";

/// How the tar is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
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
