//! The command line, as clap types and nothing else.
//!
//! Parsing only: turning these raw values into validated domain types is the job of the
//! command that receives them, so that nothing below the commands sees clap. Where a
//! lower layer takes options (`progress::ColorChoice`, `keystore::KeyFlags`), the clap
//! type converts into that layer's own type here (`From`): the layers below never import
//! this module.
//!
//! One file because it is the whole command line in clap's derive types, and most of it is
//! the help text each flag teaches.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Build a wasmCloud capability provider for every platform in parallel and pack one
/// signed, verified provider archive (`*.par.gz`).
///
/// Bare `parbuild` is `parbuild build`: read `par.toml`, build all targets at once,
/// sign, pack and verify.
#[derive(Debug, Parser)]
#[command(
    name = "parbuild",
    version,
    after_help = "Examples:\n  \
        parbuild init                       write a commented par.toml for this cargo package\n  \
        parbuild doctor --fix               install what the targets need (rustup targets, zig)\n  \
        parbuild plan                       what would be built, by which backend and why\n  \
        parbuild                            build every target in parallel, sign, pack, verify\n  \
        parbuild build --target aarch64-linux -j 4\n  \
        parbuild verify build/x.par.gz --issuer ADIEV...\n  \
        parbuild pack --name N --vendor V --target x86_64-linux=target/release/my-provider\n  \
        parbuild build --push ghcr.io/acme/my-provider:1.0.0\n  \
        parbuild pull ghcr.io/acme/my-provider:1.0.0 -o my-provider.par.gz\n\n\
        Exit codes: 0 ok, 1 failed, 2 bad input, 3 missing tool, 4 registry unreachable or\n\
        refused the request, 5 registry credentials rejected, 6 tag holds another archive,\n\
        130 interrupted."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Option<Command>,

    /// Options of `parbuild build`, for bare `parbuild`.
    #[command(flatten)]
    pub build: BuildArgs,
}

/// Parses the command line. Bare `parbuild` takes `build`'s options; with a subcommand
/// they are refused when given before it (`parbuild --target x plan`), since they would
/// be silently ignored; the global options (`-C`, `-v`, `-q`, `--manifest-path`,
/// `--color`) work on either side. (clap's `args_conflicts_with_subcommands` would refuse
/// the global options too.)
pub fn parse(args: &[std::ffi::OsString]) -> Result<Cli, clap::Error> {
    use clap::{Args as _, CommandFactory as _, FromArgMatches as _};
    let mut command = Cli::command();
    let matches = command.try_get_matches_from_mut(args)?;
    if let Some((name, _)) = matches.subcommand() {
        let build_only = BuildArgs::augment_args(clap::Command::default());
        let given = build_only.get_arguments().find(|a| {
            matches
                .try_get_raw(a.get_id().as_str())
                .is_ok_and(|v| v.is_some())
                && matches.value_source(a.get_id().as_str())
                    == Some(clap::parser::ValueSource::CommandLine)
        });
        if let Some(arg) = given {
            let flag = arg
                .get_long()
                .map(|l| format!("--{l}"))
                .or_else(|| arg.get_short().map(|s| format!("-{s}")))
                .unwrap_or_else(|| arg.get_id().to_string());
            return Err(command.error(
                clap::error::ErrorKind::ArgumentConflict,
                format!(
                    "`{flag}` before `{name}` is an option of bare `parbuild` (`parbuild build`); write it after `{name}`, if `{name}` takes it (`parbuild {name} --help`)"
                ),
            ));
        }
    }
    Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut command))
}

/// Options every command accepts.
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// Change to DIR before doing anything.
    #[arg(short = 'C', global = true, value_name = "DIR")]
    pub directory: Option<PathBuf>,

    /// Path to `par.toml` (default: `par.toml` in the current directory).
    #[arg(long, global = true, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,

    /// Less output: only warnings, errors and results.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// More output: every command parbuild runs, with its environment.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// When to use colours and progress bars (`NO_COLOR` is honoured).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// `--color`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

impl From<ColorChoice> for crate::progress::ColorChoice {
    fn from(c: ColorChoice) -> Self {
        match c {
            ColorChoice::Auto => Self::Auto,
            ColorChoice::Always => Self::Always,
            ColorChoice::Never => Self::Never,
        }
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build every target of `par.toml` in parallel, then sign, pack and verify one archive.
    ///
    /// When nothing changed since the last successful build of the same targets (sources,
    /// `Cargo.lock`, cargo configuration, environment, toolchain, `par.toml`), no cargo is
    /// started and an archive that is still current is left as it is. Builds in containers
    /// and `--timings` builds always run cargo.
    Build(BuildArgs),
    /// Show what `build` would do, without building: per target the triple, label, backend
    /// (and why), the exact command and environment, and what is missing.
    Plan(PlanArgs),
    /// Sign and pack binaries built elsewhere into one archive (`wash par create` plus
    /// every `wash par insert`, signed once).
    Pack(PackArgs),
    /// Show what is inside an archive: metadata, keys, targets with size and hash, signature.
    Inspect(InspectArgs),
    /// Check an archive strictly; exit 0 only when every check passes.
    Verify(VerifyArgs),
    /// Generate and show nkeys (account = issuer, service = subject), wash-compatible.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// For every target of the plan: what is present, what is missing, and the fix.
    Doctor(DoctorArgs),
    /// Write a commented `par.toml` for the cargo package in this directory.
    Init(InitArgs),
    /// Check that parts built elsewhere (`build --part-out`) belong together, then sign
    /// once, pack and verify one archive.
    Assemble(AssembleArgs),
    /// Write a CI workflow that builds this provider with parbuild.
    #[command(subcommand)]
    Ci(CiCommand),
    /// Upload an archive to an OCI registry as `wash push` does (wash's media types), and
    /// print the reference with its digest.
    Push(PushArgs),
    /// Download an archive from an OCI registry, verify it strictly, and write it.
    Pull(PullArgs),
}

/// Options shared by `build` and `plan`: which targets, how.
#[derive(Debug, Args, Clone, Default)]
pub struct SelectArgs {
    /// Only these targets (labels such as `aarch64-linux`, or Rust triples); repeatable.
    #[arg(long = "target", value_name = "TARGET")]
    pub targets: Vec<String>,

    /// Use this backend for every target instead of the manifest's choice.
    #[arg(long, value_enum)]
    pub backend: Option<BackendChoice>,

    /// Compiler jobs shared by all targets (default: the manifest's `jobs`, else every CPU).
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,

    /// Build profile (default: the manifest's, else `release`).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// Passed to cargo: no network access.
    #[arg(long)]
    pub offline: bool,

    /// Passed to cargo: `Cargo.lock` must be up to date.
    #[arg(long)]
    pub locked: bool,

    /// Passed to cargo: `--locked` and `--offline`.
    #[arg(long)]
    pub frozen: bool,
}

/// A backend named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// cargo for the host target, zig for the others.
    Auto,
    /// The host's cargo with the target's std from rustup and a cross linker.
    Cargo,
    /// `cargo zigbuild`: zig as linker (Linux with a glibc floor, macOS without an SDK).
    Zig,
    /// The `cross` program with docker or podman.
    Cross,
    /// cargo inside `docker run` / `podman run` of a named image.
    Container,
}

/// `parbuild build`.
#[derive(Debug, Args, Clone, Default)]
pub struct BuildArgs {
    #[command(flatten)]
    pub select: SelectArgs,

    #[command(flatten)]
    pub keys: SignArgs,

    /// Write the archive here instead of the manifest's `output.path`.
    #[arg(short, long, value_name = "FILE", conflicts_with = "part_out")]
    pub output: Option<PathBuf>,

    /// Write one unsigned part per target into DIR instead of an archive (no keys needed);
    /// `parbuild assemble DIR/*` packs them, on any machine.
    #[arg(long, value_name = "DIR")]
    pub part_out: Option<PathBuf>,

    /// Stop every build as soon as one target fails.
    #[arg(long)]
    pub fail_fast: bool,

    /// Pack the targets that built even when others failed (the output says it is partial).
    #[arg(long)]
    pub allow_missing: bool,

    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,

    /// Write a timeline of the build (each crate and link per target, CPU use) to
    /// `<target-dir>/parbuild/timings.html`, and after the archive is verified print where
    /// each target's time went (wait, compile, link, pack, verify, total) with rows for
    /// host work and the archive; `--json` has it as `"timings"`. Always runs cargo, even
    /// when nothing changed.
    #[arg(long)]
    pub timings: bool,

    /// After writing and verifying the archive, push it to REF (`registry/repository:tag`);
    /// without REF, to `[publish]` in par.toml (every tag it lists, default the version).
    #[arg(long, value_name = "REF", num_args = 0..=1, default_missing_value = "", conflicts_with = "part_out")]
    pub push: Option<String>,

    #[command(flatten)]
    pub publish: PublishArgs,
}

/// How to talk to an OCI registry (`push`, `pull`, and `inspect`/`verify` of a reference).
#[derive(Debug, Args, Clone, Default)]
pub struct RegistryArgs {
    /// The registry speaks plain HTTP (a local registry; never a public one).
    #[arg(long)]
    pub insecure: bool,

    /// Trust this PEM certificate (a private registry's CA) besides the system's roots;
    /// `SSL_CERT_FILE` works too.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,

    /// Registry user name (default: `$WASH_REG_USER`, else docker's or podman's stored
    /// credentials for the registry).
    #[arg(short = 'u', long, value_name = "USER")]
    pub user: Option<String>,

    /// Read the password (or token) from stdin; else `$WASH_REG_PASSWORD`. Never on argv.
    #[arg(long)]
    pub password_stdin: bool,
}

/// What may be overwritten by a push.
#[derive(Debug, Args, Clone, Default)]
pub struct PublishArgs {
    /// Allow the tag `latest` (refused by default, as wash does: tags should be versions).
    #[arg(long)]
    pub allow_latest: bool,

    /// Move a tag that already holds a different archive.
    #[arg(long = "force-tag")]
    pub force_tag: bool,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// `parbuild push`.
#[derive(Debug, Args, Clone)]
pub struct PushArgs {
    /// The archive to upload (it is verified first: a broken archive is never pushed).
    #[arg(value_name = "ARCHIVE")]
    pub archive: PathBuf,

    /// Where: `registry/repository:tag` (default: `[publish]` in par.toml, every tag).
    #[arg(value_name = "REF")]
    pub reference: Option<String>,

    #[command(flatten)]
    pub publish: PublishArgs,

    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `parbuild pull`.
#[derive(Debug, Args, Clone)]
pub struct PullArgs {
    /// `registry/repository:tag` or `registry/repository@sha256:…`.
    #[arg(value_name = "REF")]
    pub reference: String,

    /// Write the archive here (default: `<repository name>.par.gz` in the current
    /// directory). Written only once it has verified.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Require this issuer (account public key, `A…`).
    #[arg(long, value_name = "PUBKEY")]
    pub issuer: Option<String>,

    /// Require this subject (service public key, `V…`).
    #[arg(long, value_name = "PUBKEY")]
    pub subject: Option<String>,

    /// Refuse an archive larger than this many bytes, compressed or not.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_UNPACKED)]
    pub max_unpacked: u64,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `parbuild plan`.
#[derive(Debug, Args, Clone)]
pub struct PlanArgs {
    #[command(flatten)]
    pub select: SelectArgs,

    /// Print the plan as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Where signing keys come from (wash-compatible). Seeds are never accepted here.
#[derive(Debug, Args, Clone, Default)]
pub struct SignArgs {
    /// Issuer (account) key file. Default: `$WASH_ISSUER_KEY` (seed or path), else
    /// `<key dir>/<user>_account.nk`.
    #[arg(long, value_name = "PATH")]
    pub issuer: Option<PathBuf>,

    /// Subject (service) key file. Default: `$WASH_SUBJECT_KEY` (seed or path), else
    /// `<key dir>/<name>_service.nk`.
    #[arg(long, value_name = "PATH")]
    pub subject: Option<PathBuf>,

    /// Key directory (default: `$WASH_KEYS`, else `~/.wash/keys`).
    #[arg(long, value_name = "DIR")]
    pub keys_dir: Option<PathBuf>,

    /// Fail instead of generating a missing key (always the case when `CI` is set).
    #[arg(long, conflicts_with = "generate_keys")]
    pub disable_keygen: bool,

    /// Generate a missing key even when `CI` is set (a throwaway key for a test pipeline;
    /// it is announced with its path and public key). Without it, CI never generates one.
    #[arg(long)]
    pub generate_keys: bool,
}

impl From<&SignArgs> for crate::keystore::KeyFlags {
    fn from(a: &SignArgs) -> Self {
        Self {
            issuer: a.issuer.clone(),
            subject: a.subject.clone(),
            keys_dir: a.keys_dir.clone(),
            disable_keygen: a.disable_keygen,
            generate_keys: a.generate_keys,
        }
    }
}

/// Archive compression.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum CompressionChoice {
    /// Single-member gzip: what wasmCloud hosts load (the default).
    #[default]
    Gzip,
    /// A plain tar: hosts load it too.
    None,
    /// zstd: smaller and faster, but only parbuild reads it; wasmCloud hosts do not.
    Zstd,
}

/// `parbuild pack`.
#[derive(Debug, Args, Clone)]
pub struct PackArgs {
    /// Provider name (`wascap.name`). Required unless `--from` gives it.
    #[arg(long)]
    pub name: Option<String>,

    /// Vendor (`wascap.vendor`). Required unless `--from` gives it.
    #[arg(long)]
    pub vendor: Option<String>,

    /// Version string (`wascap.ver`).
    #[arg(long = "version", value_name = "VERSION")]
    pub provider_version: Option<String>,

    /// Revision number (`wascap.rev`).
    #[arg(long)]
    pub revision: Option<i32>,

    /// Contract id (`wascap.capid`): needed by pre-1.0 wasmCloud hosts.
    #[arg(long)]
    pub capid: Option<String>,

    /// JSON Schema file for the provider's configuration (`wascap.config_schema`).
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,

    /// A WIT package encoded as wasm, stored as `world.wasm` (older wash crashes on it).
    #[arg(long, value_name = "FILE")]
    pub world: Option<PathBuf>,

    /// A binary and its label, e.g. `--target x86_64-linux=target/release/my-provider`;
    /// repeatable.
    #[arg(long = "target", value_name = "LABEL=PATH")]
    pub targets: Vec<String>,

    /// Start from this archive: keep its metadata and binaries, add or replace the given
    /// targets, sign once.
    #[arg(long, value_name = "ARCHIVE")]
    pub from: Option<PathBuf>,

    #[command(flatten)]
    pub keys: SignArgs,

    /// Compression of the archive.
    #[arg(long, value_enum, default_value_t = CompressionChoice::Gzip)]
    pub compression: CompressionChoice,

    /// Output file (default: `<name>.par.gz`, or `.par`/`.par.zst`, in the current directory;
    /// with `--from`, that archive).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `parbuild inspect`.
#[derive(Debug, Args, Clone)]
pub struct InspectArgs {
    /// The archive (`.par.gz`, `.par` or `.par.zst`), or an OCI reference
    /// (`registry/repository:tag`) to pull it from.
    pub file: PathBuf,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,

    /// Refuse to decompress more than this many bytes (a decompression bomb fails cleanly).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_UNPACKED)]
    pub max_unpacked: u64,
}

/// The default cap on decompressed bytes: 8 GiB, far above any real provider.
pub const DEFAULT_MAX_UNPACKED: u64 = 8 << 30;

/// `parbuild verify`.
#[derive(Debug, Args, Clone)]
pub struct VerifyArgs {
    /// The archive, or an OCI reference (`registry/repository:tag`) to pull it from.
    pub file: PathBuf,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// Require this issuer (account public key, `A…`).
    #[arg(long, value_name = "PUBKEY")]
    pub issuer: Option<String>,

    /// Require this subject (service public key, `V…`).
    #[arg(long, value_name = "PUBKEY")]
    pub subject: Option<String>,

    /// Refuse to decompress more than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_UNPACKED)]
    pub max_unpacked: u64,

    /// Fail a Linux binary that needs a newer glibc than this (its highest `GLIBC_x.y`
    /// symbol version), or whose requirement cannot be read, e.g. `2.17`.
    #[arg(long = "glibc", value_name = "VERSION")]
    pub glibc: Option<String>,

    /// Require every macOS binary's minimum macOS (`LC_BUILD_VERSION`) to be this
    /// deployment target, e.g. `11.0` (arm64 binaries: at least 11.0).
    #[arg(long, value_name = "VERSION")]
    pub macos_min: Option<String>,

    /// Print the checks as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `parbuild keys …`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate a new key and write its seed to a file (0600), printing the public key.
    Generate(KeysGenerateArgs),
    /// Print the public key of a key file (never the seed).
    Show(KeysShowArgs),
}

/// Key roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyType {
    /// An account key (`A…`): the issuer that signs archives.
    Account,
    /// A service key (`V…`): the subject, the provider's identity.
    Service,
}

/// `parbuild keys generate`.
#[derive(Debug, Args, Clone)]
pub struct KeysGenerateArgs {
    /// Which kind of key.
    #[arg(long = "type", value_enum)]
    pub key_type: KeyType,

    /// Write the seed here (0600, no trailing newline); refuses to overwrite. Without it,
    /// only the public key is printed and the seed is discarded.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `parbuild keys show`.
#[derive(Debug, Args, Clone)]
pub struct KeysShowArgs {
    /// A file holding a seed (`SA…`, `SV…`).
    pub file: PathBuf,

    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `parbuild doctor`.
#[derive(Debug, Args, Clone)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub select: SelectArgs,

    #[command(flatten)]
    pub keys: SignArgs,

    /// Install what can be installed without guessing (`rustup target add`,
    /// `pip install cargo-zigbuild`, Debian packages when root).
    #[arg(long)]
    pub fix: bool,

    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `parbuild init`.
#[derive(Debug, Args, Clone)]
pub struct InitArgs {
    /// Overwrite an existing `par.toml`.
    #[arg(long)]
    pub force: bool,

    /// Start from wash's project file (`wasmcloud.toml`) or a Makefile that includes
    /// wasmCloud's `provider.mk` (default: whichever is beside `par.toml`).
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
}

/// `parbuild assemble`.
#[derive(Debug, Args, Clone)]
pub struct AssembleArgs {
    /// The parts (`*.part.tar.zst`), one per target.
    #[arg(required = true, value_name = "PART")]
    pub parts: Vec<PathBuf>,

    /// Write the archive here (default: the `output.path` of the `par.toml` the parts were
    /// built from, relative to the current directory).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub keys: SignArgs,

    /// Pack even when targets of `par.toml` have no part (the output says it is partial).
    #[arg(long)]
    pub allow_missing: bool,

    /// Refuse to decompress more than this many bytes per part.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_UNPACKED)]
    pub max_unpacked: u64,

    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `parbuild ci …`.
#[derive(Debug, Subcommand)]
pub enum CiCommand {
    /// Write `.github/workflows/par.yml` (beside `par.toml`) for GitHub Actions.
    Github(CiGithubArgs),
    /// Write `.gitlab-ci.yml` (beside `par.toml`) for GitLab CI.
    Gitlab(CiGitlabArgs),
}

/// Where the generated pipelines install parbuild from.
#[derive(Debug, Args, Clone, Default)]
pub struct CiInstallArgs {
    /// The git repository runners install parbuild from, with `cargo install --locked --git
    /// URL parbuild` (default: `$PARBUILD_GIT`).
    #[arg(long, value_name = "URL")]
    pub parbuild_git: Option<String>,

    /// Install that commit, tag or branch of it (`--rev`; default: its default branch).
    #[arg(long, value_name = "REV")]
    pub parbuild_rev: Option<String>,
}

/// `parbuild ci gitlab`.
#[derive(Debug, Args, Clone)]
pub struct CiGitlabArgs {
    /// One build job per target writing parts, then one assemble job that alone holds
    /// the signing and registry secrets (default: one job builds everything).
    #[arg(long)]
    pub split: bool,

    /// Overwrite an existing `.gitlab-ci.yml`.
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub install: CiInstallArgs,
}

/// `parbuild ci github`.
#[derive(Debug, Args, Clone)]
pub struct CiGithubArgs {
    /// One build job per target writing parts, then one assemble job that alone holds
    /// the signing secrets (default: one job builds everything).
    #[arg(long)]
    pub split: bool,

    /// With `--split`: build macOS targets on a native macOS runner.
    #[arg(long, requires = "split")]
    pub macos_runner: bool,

    /// Overwrite an existing workflow file.
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub install: CiInstallArgs,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(args: &[&str]) -> Result<Cli, clap::Error> {
        let args: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
        parse(&args)
    }

    #[test]
    fn global_options_work_before_and_after_the_subcommand() {
        for args in [
            &["parbuild", "-C", "sub", "-vv", "plan", "--json"][..],
            &["parbuild", "plan", "-C", "sub", "-vv", "--json"][..],
            &["parbuild", "-C", "sub", "plan", "-vv", "--json"][..],
        ] {
            let cli = parse_str(args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
            assert_eq!(
                cli.global.directory.as_deref(),
                Some(std::path::Path::new("sub"))
            );
            assert_eq!(cli.global.verbose, 2, "{args:?}");
            assert!(matches!(cli.command, Some(Command::Plan(_))), "{args:?}");
        }
    }

    #[test]
    fn builds_options_are_for_bare_parbuild_only() {
        let cli = parse_str(&["parbuild", "--target", "aarch64-linux", "--fail-fast"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.build.select.targets, ["aarch64-linux"]);
        assert!(cli.build.fail_fast);
        let err = parse_str(&["parbuild", "--fail-fast", "plan"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
        assert!(
            err.to_string()
                .contains("`--fail-fast` before `plan` is an option of bare `parbuild`"),
            "{err}"
        );
    }
}
