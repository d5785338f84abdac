//! The serde mirror of `par.toml`, exactly as written: kebab-case keys, unknown keys
//! rejected, no defaults, no `flatten`.
//!
//! Values that [`super::validate`] checks keep their location as [`Spanned`], so a
//! semantic error points at the text the user wrote. Nothing outside `manifest` sees
//! these types; everything else gets a [`super::Manifest`].

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ParToml {
    /// `[provider]`.
    pub provider: ProviderTable,
    /// `[targets]`.
    pub targets: Option<Spanned<BTreeMap<Spanned<String>, Spanned<TargetTable>>>>,
    /// `[build]`.
    pub build: Option<BuildTable>,
    /// `[sign]`.
    pub sign: Option<SignTable>,
    /// `[output]`.
    pub output: Option<OutputTable>,
    /// `[publish]`: where `build --push` uploads the archive.
    pub publish: Option<PublishTable>,
    /// `[macos-stubs]`: framework name → C symbols its stub exports, for symbols
    /// parbuild's framework table does not place.
    pub macos_stubs: Option<BTreeMap<Spanned<String>, Vec<Spanned<String>>>>,
}

/// `[provider]`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ProviderTable {
    /// `wascap.name`.
    pub name: Spanned<String>,
    /// `wascap.vendor`.
    pub vendor: Spanned<String>,
    /// `wascap.ver`.
    pub version: Option<Spanned<String>>,
    /// `wascap.rev`.
    pub revision: Option<Spanned<i32>>,
    /// `wascap.capid`.
    pub capid: Option<Spanned<String>>,
    /// The cargo package.
    pub package: Option<Spanned<String>>,
    /// `"cdylib"`, `"bin"` or `"bin:NAME"`.
    pub artifact: Option<Spanned<String>>,
    /// JSON Schema file.
    pub schema: Option<Spanned<String>>,
    /// `world.wasm` file.
    pub world: Option<Spanned<String>>,
}

/// One value of `[targets]`: an inline table of overrides.
#[derive(Debug, Default, Deserialize)]
#[serde(
    rename_all = "kebab-case",
    deny_unknown_fields,
    expecting = "a table of overrides, such as `{}` or `{ backend = \"zig\" }`"
)]
pub struct TargetTable {
    /// The Rust triple, when the key is a label.
    pub triple: Option<Spanned<String>>,
    /// The backend for this target.
    pub backend: Option<Spanned<String>>,
    /// The archive label, when not the one hosts look up.
    pub label: Option<Spanned<String>>,
    /// Extra cargo features.
    pub features: Option<Vec<String>>,
    /// Extra environment variables.
    pub env: Option<BTreeMap<String, Spanned<String>>>,
    /// Extra rustc flags.
    pub rustflags: Option<Vec<String>>,
    /// glibc floor (zig, Linux gnu).
    pub glibc: Option<Spanned<String>>,
    /// Container image (cross, container).
    pub image: Option<Spanned<String>>,
    /// A macOS SDK directory (macOS targets).
    pub sdk: Option<Spanned<String>>,
}

/// `[build]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct BuildTable {
    /// Cargo profile.
    pub profile: Option<Spanned<String>>,
    /// Default backend.
    pub backend: Option<Spanned<String>>,
    /// Compiler jobs shared by every target.
    pub jobs: Option<usize>,
    /// Features for every target.
    pub features: Option<Vec<String>>,
    /// `--no-default-features`.
    pub no_default_features: Option<bool>,
    /// glibc floor for zig's Linux gnu targets.
    pub glibc: Option<Spanned<String>>,
    /// `MACOSX_DEPLOYMENT_TARGET`.
    pub macos_deployment_target: Option<Spanned<String>>,
    /// Default container image (cross, container).
    pub image: Option<Spanned<String>>,
    /// Compile cache: `auto`, `sccache` or `none`.
    pub cache: Option<Spanned<String>>,
    /// A shared sccache backend (`redis://…`, `s3://bucket/prefix`).
    pub cache_url: Option<Spanned<String>>,
    /// Incremental compilation for the profile (opt-in: it changes the binaries).
    pub incremental: Option<bool>,
}

/// `[sign]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SignTable {
    /// A path or `"$NAME"`.
    pub issuer: Option<Spanned<String>>,
    /// A path or `"$NAME"`.
    pub subject: Option<Spanned<String>>,
    /// Pinned account public key.
    pub issuer_public: Option<Spanned<String>>,
    /// Pinned service public key.
    pub subject_public: Option<Spanned<String>>,
}

/// `[publish]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PublishTable {
    /// `host[:port]` of the registry.
    pub registry: Option<Spanned<String>>,
    /// The repository inside it, e.g. `acme/fakepay`.
    pub repository: Option<Spanned<String>>,
    /// Tags to push (default: the provider version).
    pub tags: Option<Vec<Spanned<String>>>,
    /// Plain HTTP.
    pub insecure: Option<bool>,
    /// A wash registry credentials file.
    pub credentials: Option<Spanned<String>>,
}

/// `[output]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct OutputTable {
    /// The archive path.
    pub path: Option<Spanned<String>>,
    /// `gzip`, `none` or `zstd`.
    pub compression: Option<Spanned<String>>,
}
