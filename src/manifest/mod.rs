//! `par.toml`: read, check and turn into the domain types the rest of parbuild uses.
//!
//! Two layers: [`schema`] mirrors the file exactly (serde, kebab-case, unknown keys are
//! errors) and [`validate`] turns it into a [`Manifest`], with every error located at
//! `file:line:column` with the offending snippet and a hint ([`diagnostic`]). Defaults
//! that need cargo (package, version, artifact) are filled by [`crate::metadata`].
//! This module never starts a process and never reads the environment.

pub mod diagnostic;
pub mod import;
pub mod schema;
pub mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use diagnostic::ManifestError;

use crate::archive::Compression;

/// The file name looked for when no `--manifest-path` is given.
pub const FILE_NAME: &str = "par.toml";

/// A checked `par.toml`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Manifest {
    /// The `par.toml` file (absolute).
    pub path: PathBuf,
    /// Its directory: relative paths in the file are relative to it.
    pub dir: PathBuf,
    /// `[provider]`.
    pub provider: Provider,
    /// `[targets]`, in file order, labels unique.
    pub targets: Vec<TargetSpec>,
    /// `[build]`.
    pub build: BuildSettings,
    /// `[sign]`.
    pub sign: SignSettings,
    /// `[output]`.
    pub output: OutputSettings,
    /// `[publish]`.
    pub publish: PublishSettings,
    /// `[macos-stubs]`: framework → extra C symbols its generated stub exports.
    pub macos_stubs: BTreeMap<String, Vec<String>>,
}

/// `[provider]`: what goes into the claims, and which cargo artifact is the provider.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Provider {
    /// `wascap.name`.
    pub name: String,
    /// `wascap.vendor`.
    pub vendor: String,
    /// `wascap.ver`; `None`: the cargo package's version.
    pub version: Option<String>,
    /// `wascap.rev`; `None`: 0.
    pub revision: Option<i32>,
    /// `wascap.capid` (pre-1.0 hosts need it).
    pub capid: Option<String>,
    /// The cargo package; `None`: the package in the manifest's directory.
    pub package: Option<String>,
    /// Which artifact of the package; `None`: its only cdylib or bin.
    pub artifact: Option<ArtifactSelector>,
    /// A JSON Schema file for `wascap.config_schema` (absolute).
    pub schema: Option<PathBuf>,
    /// A `world.wasm` file to embed (absolute), opt-in.
    pub world: Option<PathBuf>,
}

/// `provider.artifact`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ArtifactSelector {
    /// `"cdylib"`: the package's library built as a shared object.
    Cdylib,
    /// `"bin"` (the only bin) or `"bin:NAME"`.
    Bin(Option<String>),
}

/// Which backend builds a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// cargo for the host target, zig for the others when available.
    Auto,
    /// The host's cargo with the target's std and a cross linker.
    Cargo,
    /// `cargo zigbuild`.
    Zig,
    /// The `cross` program with docker or podman.
    Cross,
    /// `docker run`/`podman run` of a named image, cargo inside.
    Container,
}

impl BackendKind {
    /// The name used in `par.toml` and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Cargo => "cargo",
            Self::Zig => "zig",
            Self::Cross => "cross",
            Self::Container => "container",
        }
    }
}

/// One entry of `[targets]`, with its overrides.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TargetSpec {
    /// The key as written (a label such as `armv7-linux`, or a triple).
    pub key: String,
    /// The Rust triple to build.
    pub triple: String,
    /// The archive label the binary is stored under.
    pub label: crate::archive::Label,
    /// Whether the label was set explicitly with `label = "…"`.
    pub label_explicit: bool,
    /// `backend = "…"`; `None`: `[build] backend`.
    pub backend: Option<BackendKind>,
    /// Extra cargo features for this target.
    pub features: Vec<String>,
    /// Extra environment for this target's build.
    pub env: BTreeMap<String, String>,
    /// Extra rustc flags for this target (appended to the user's own).
    pub rustflags: Vec<String>,
    /// glibc floor for zig builds (e.g. `2.17`); `None`: `[build] glibc`.
    pub glibc: Option<String>,
    /// Container image (cross/container backends).
    pub image: Option<String>,
    /// A macOS SDK (absolute) to link against instead of generated framework stubs.
    pub sdk: Option<PathBuf>,
}

/// `[build]`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BuildSettings {
    /// Cargo profile, `release` by default.
    pub profile: String,
    /// Default backend, `auto` by default.
    pub backend: BackendKind,
    /// Compiler jobs shared by every target; 0: every CPU.
    pub jobs: usize,
    /// Features enabled for every target.
    pub features: Vec<String>,
    /// `--no-default-features` for every target.
    pub no_default_features: bool,
    /// glibc floor for zig's Linux gnu targets; default `2.17`.
    pub glibc: String,
    /// `MACOSX_DEPLOYMENT_TARGET` for macOS targets unless the user set it; `None`:
    /// [`validate::DEFAULT_MACOS_DEPLOYMENT_TARGET`], which serves both Apple CPUs.
    pub macos_deployment_target: Option<String>,
    /// The image of `cross` and `container` targets that name none.
    pub image: Option<String>,
    /// The compile cache in front of rustc; `auto` by default.
    pub cache: CacheKind,
    /// A shared backend for the cache (sccache's Redis or S3-compatible one), checked:
    /// `redis://`, `rediss://` or `s3://bucket[/prefix]`, never with a password in it.
    pub cache_url: Option<String>,
    /// Incremental compilation for the profile (`CARGO_PROFILE_<P>_INCREMENTAL=true`):
    /// an edit-rebuild recompiles only what changed, at the price of binaries that differ
    /// from a non-incremental build's. Off by default.
    pub incremental: bool,
}

/// `[build] cache`: what wraps rustc so that a crate compiled once (on this machine, or on
/// any machine sharing `cache-url`) is not compiled again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheKind {
    /// sccache when it is installed, else none.
    #[default]
    Auto,
    /// sccache, required: missing is an error `doctor --fix` repairs.
    Sccache,
    /// No compile cache (and parbuild does not touch `RUSTC_WRAPPER`).
    None,
}

impl CacheKind {
    /// The name used in `par.toml` and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Sccache => "sccache",
            Self::None => "none",
        }
    }
}

/// Where a signing key comes from, as written in `[sign]`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyRef {
    /// A seed file (absolute).
    Path(PathBuf),
    /// An environment variable holding a seed or a path (`"$NAME"` in the file).
    Env(String),
}

/// `[sign]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SignSettings {
    /// The issuer (account) key.
    pub issuer: Option<KeyRef>,
    /// The subject (service) key.
    pub subject: Option<KeyRef>,
    /// Refuse to sign with any issuer but this public key.
    pub issuer_public: Option<String>,
    /// Refuse to sign with any subject but this public key.
    pub subject_public: Option<String>,
}

/// `[output]`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OutputSettings {
    /// The archive path (absolute).
    pub path: PathBuf,
    /// Compression.
    pub compression: Compression,
}

/// `[publish]`: where `parbuild build --push` (with no reference) uploads the archive.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PublishSettings {
    /// `host[:port]`, e.g. `ghcr.io` or `localhost:5000`.
    pub registry: Option<String>,
    /// The repository, e.g. `acme/fakepay`.
    pub repository: Option<String>,
    /// Tags; empty means the provider version.
    pub tags: Vec<String>,
    /// The registry speaks plain HTTP.
    pub insecure: bool,
    /// A wash registry credentials file (JSON: registry → username/password/token).
    pub credentials: Option<PathBuf>,
}

/// Reads and checks `par.toml` at `path`.
pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
    let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(&text, path)
}

/// Checks `text` as the contents of `path` (which only names it and anchors relative paths).
pub fn parse(text: &str, path: &Path) -> Result<Manifest, ManifestError> {
    validate::validate(text, path)
}

#[cfg(test)]
mod tests;
