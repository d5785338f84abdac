//! What an existing provider repository already says about itself, read from wash's project
//! file (`wasmcloud.toml`) or from a Makefile built on wasmCloud's `provider.mk`, so that
//! `parbuild init` starts from it instead of asking for it again.
//!
//! Pure: the caller reads the file; nothing here starts a process or touches the disk.
//! Every value that is taken says where it came from; every one that parbuild does not use
//! becomes a [`Imported::notes`] line that says why, so nothing is dropped silently. A file
//! that cannot be read as what it claims to be is a [`ManifestError`] located at
//! `file:line:column`, like an error in `par.toml`.
//!
//! One module per source: `wasmcloud` reads wash's TOML, `provider_mk` says what a
//! provider.mk Makefile's variables mean, reading it with `makefile` (Makefile syntax and
//! a capped expansion, the part a hostile file can attack). This file holds what they share:
//! [`Imported`], the entry point, and how a triple becomes a `[targets]` entry.

use std::path::{Path, PathBuf};

use super::diagnostic::ManifestError;

mod makefile;
mod provider_mk;
mod wasmcloud;

/// wash's project file.
pub const WASMCLOUD_TOML: &str = "wasmcloud.toml";
/// The Makefile names GNU make looks for, in its order.
pub const MAKEFILES: [&str; 3] = ["GNUmakefile", "makefile", "Makefile"];

/// Which kind of file was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// `wasmcloud.toml`.
    WasmcloudToml,
    /// A Makefile that includes `provider.mk`.
    ProviderMk,
}

impl SourceKind {
    /// What the file is guessed to be from its name: `*.toml` is wash's project file,
    /// anything else a Makefile.
    pub fn of(path: &Path) -> Self {
        if path.extension().is_some_and(|e| e == "toml") {
            Self::WasmcloudToml
        } else {
            Self::ProviderMk
        }
    }
}

/// The settings found, each `None` when the file does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Imported {
    /// `wascap.name`.
    pub name: Option<String>,
    /// `wascap.vendor`.
    pub vendor: Option<String>,
    /// `wascap.ver`.
    pub version: Option<String>,
    /// `wascap.rev`.
    pub revision: Option<i32>,
    /// `wascap.capid` (wash before 0.20 and provider.mk's `CAPABILITY_ID`).
    pub capid: Option<String>,
    /// The cargo package's directory, relative to the file (wasmcloud.toml's `path`).
    pub package_dir: Option<PathBuf>,
    /// The provider binary's name (`bin_name`, provider.mk's `PROJECT`).
    pub bin: Option<String>,
    /// The targets to build, as `[targets]` entries; `None`: parbuild's default five.
    pub targets: Option<Vec<TargetEntry>>,
    /// The cargo profile (`[rust] debug = true` is `dev`).
    pub profile: Option<String>,
    /// The directory of the archive (wasmcloud.toml's `build`), relative to the file.
    pub output_dir: Option<String>,
    /// Where wash pushed it.
    pub publish: ImportedPublish,
    /// What was read but not used, or used with a caveat: one sentence each.
    pub notes: Vec<String>,
}

/// One `[targets]` entry: its key and, when the key is a label, a triple override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetEntry {
    /// A label (`x86_64-linux`) or a triple.
    pub key: String,
    /// `triple = "…"` for a label key whose default triple is not the one asked for.
    pub triple: Option<String>,
}

/// `[publish]` as the file gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportedPublish {
    /// `host[:port]`.
    pub registry: Option<String>,
    /// The repository, when the file names one.
    pub repository: Option<String>,
    /// A path the repository starts with (wasmcloud.toml's `url = "ghcr.io/acme"`); the
    /// caller appends the package name.
    pub repository_prefix: Option<String>,
    /// A tag other than the version.
    pub tag: Option<String>,
    /// Plain HTTP.
    pub insecure: bool,
    /// wash's registry credentials file, relative to the file.
    pub credentials: Option<String>,
}

/// Reads `text`, the contents of `path`, as `kind`.
pub fn import(kind: SourceKind, text: &str, path: &Path) -> Result<Imported, ManifestError> {
    match kind {
        SourceKind::WasmcloudToml => wasmcloud::read(text, path),
        SourceKind::ProviderMk => provider_mk::read(text, path),
    }
}

/// The `[targets]` entry that builds `triple` for `label`: the label alone when the triple
/// is the label's default, else the label with a triple override.
fn entry_for(label: &str, triple: &str) -> TargetEntry {
    // `arm-linux` is written under its `armv7-linux` alias, as the template does.
    let key = if label == "arm-linux" {
        "armv7-linux"
    } else {
        label
    };
    let default = crate::target::triple_for_label(key);
    TargetEntry {
        key: key.to_owned(),
        triple: (default != Some(triple)).then(|| triple.to_owned()),
    }
}

fn label_of(entry: &TargetEntry) -> Option<String> {
    let triple = entry
        .triple
        .as_deref()
        .or_else(|| crate::target::triple_for_label(&entry.key))?;
    crate::target::label_for_triple(triple)
}

/// parbuild's default targets, with `label` built from `triple`.
fn with_override(label: &str, triple: &str) -> Vec<TargetEntry> {
    DEFAULT_TARGETS
        .iter()
        .map(|key| {
            let default = crate::target::triple_for_label(key).unwrap_or(key);
            let this = crate::target::label_for_triple(default);
            if this.as_deref() == Some(label) {
                entry_for(label, triple)
            } else {
                TargetEntry {
                    key: (*key).to_owned(),
                    triple: None,
                }
            }
        })
        .collect()
}

/// The targets `parbuild init` writes by default, as `[targets]` keys.
pub const DEFAULT_TARGETS: [&str; 5] = [
    "x86_64-linux",
    "aarch64-linux",
    "armv7-linux",
    "x86_64-macos",
    "aarch64-macos",
];

/// The `(key, triple override)` pairs of `[targets]` entries, for the tests' assertions.
#[cfg(test)]
fn target_keys(targets: &[TargetEntry]) -> Vec<(String, Option<String>)> {
    targets
        .iter()
        .map(|t| (t.key.clone(), t.triple.clone()))
        .collect()
}
