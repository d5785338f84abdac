//! The build plan: for each target its triple, label, backend and why, the environment
//! parbuild adds and why, the target directory and expected output; then the cargo
//! invocations that build them (targets that can share one invocation share it), and
//! what the machine is missing, with the fix.
//!
//! Making a plan is pure: [`make`] reads the manifest, the package, the command line's
//! overrides, the environment snapshot and the probed [`Machine`], and starts no process
//! and reads no file, so every decision (backend and reason, what is missing, which
//! targets share an invocation) is unit-tested with hand-made machines (`plan/tests.rs`).
//! What the machine must be asked is said first, also purely: [`probe_request`], and
//! [`container_images`] for the slower container engine. `parbuild plan` prints the plan;
//! `build` executes it; `doctor` fixes what it says is missing.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::archive::{Compression, Label};
use crate::backend::{self, CargoFlags, EnvSetting, PathMapping};
use crate::env::Env;
use crate::machine::Machine;
use crate::manifest::{BackendKind, Manifest};
use crate::metadata::Package;
use crate::process::Cmd;
use crate::tools::Missing;

pub mod cache;
mod draft;
mod spell;

pub use cache::CachePlan;
pub use draft::{container_images, probe_request};

/// What the command line changes.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Only these targets (keys, labels or triples).
    pub targets: Vec<String>,
    /// One backend for all.
    pub backend: Option<BackendKind>,
    /// Compiler jobs.
    pub jobs: Option<usize>,
    /// Profile.
    pub profile: Option<String>,
    /// `--offline`/`--locked`/`--frozen`.
    pub flags: CargoFlags,
    /// Stop everything at the first failure (no `--keep-going`).
    pub fail_fast: bool,
}

/// Why a plan cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// `--target X` matches nothing in `par.toml`.
    #[error("`--target {wanted}` is not a target of `{manifest}` (targets: {known})")]
    UnknownTarget {
        /// What was asked.
        wanted: String,
        /// The manifest.
        manifest: String,
        /// The labels it has.
        known: String,
    },
    /// `backend = "container"` without an image.
    #[error("target `{label}`: the `container` backend needs an image to run cargo in")]
    NoImage {
        /// The target.
        label: String,
    },
    /// `rustc -vV` failed.
    #[error("cannot find the host target: {0}")]
    Host(String),
}

impl PlanError {
    /// How to fix it.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::UnknownTarget { .. } => Some(
                "add it under `[targets]` in par.toml, or pick one of the listed targets"
                    .to_owned(),
            ),
            Self::NoImage { .. } => Some(
                "add `image = \"…\"` to the target in par.toml (an image with Rust and the target's linker)".to_owned(),
            ),
            Self::Host(_) => Some("is Rust installed? `rustc -vV` must work".to_owned()),
        }
    }
}

/// One target of the plan.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TargetPlan {
    /// The archive label.
    pub label: Label,
    /// The Rust triple.
    pub triple: String,
    /// The backend.
    pub backend: BackendKind,
    /// Why this backend.
    pub reason: String,
    /// Environment parbuild adds for this target, with reasons.
    pub env: Vec<EnvSetting>,
    /// The glibc floor zig links against (`None`: not a zig gnu target).
    pub glibc: Option<String>,
    /// The target directory of its invocation.
    pub target_dir: PathBuf,
    /// Where cargo will put the artifact (the real path comes from cargo's messages).
    pub expected_output: PathBuf,
    /// Index into [`Plan::invocations`].
    pub invocation: usize,
    /// What is missing to build it.
    pub missing: Vec<Missing>,
    /// The container image it is built in (`cross`, `container`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// For a macOS target: the SDK it links against (the user's, or generated framework
    /// stubs), and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sdk: Option<backend::zig::Sdk>,
    /// `cargo metadata --filter-platform <triple>`: how many crates the build compiles,
    /// for the progress lanes.
    #[serde(skip)]
    pub count_command: Cmd,
}

/// Framework stubs an invocation needs before it starts (macOS targets without an SDK).
#[derive(Debug, Clone, serde::Serialize)]
pub struct StubsPlan {
    /// The stub tree (`SDKROOT` of the invocation).
    pub dir: PathBuf,
    /// The macOS triples they serve.
    pub triples: Vec<String>,
    /// `[macos-stubs]` of `par.toml`.
    pub extra: BTreeMap<String, Vec<String>>,
    /// `cargo metadata` for those triples: the packages whose declarations are read.
    #[serde(serialize_with = "serialize_cmd")]
    pub metadata: Cmd,
}

/// One cargo invocation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InvocationPlan {
    /// Its backend.
    pub backend: BackendKind,
    /// The labels it builds.
    pub labels: Vec<Label>,
    /// The exact command.
    #[serde(serialize_with = "serialize_cmd")]
    pub command: Cmd,
    /// The log file of its full output.
    pub log: PathBuf,
    /// For the `cross` and `container` backends: how its container is run and stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerPlan>,
    /// For macOS targets without an SDK: the framework stubs made before it starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stubs: Option<StubsPlan>,
}

/// What the runner must know about an invocation whose cargo runs in a container.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ContainerPlan {
    /// Jobserver tokens the runner holds while it runs: the jobserver's pipe does not reach
    /// into a container, so its cargo gets `-j` of this many instead.
    pub cpu_tokens: usize,
    /// The container's name.
    pub name: String,
    /// Stops and removes the container (Ctrl-C, `--fail-fast`).
    #[serde(serialize_with = "serialize_cmd")]
    pub stop: Cmd,
    /// Runs on the host first (the `container` backend's `cargo fetch`).
    #[serde(
        serialize_with = "serialize_opt_cmd",
        skip_serializing_if = "Option::is_none"
    )]
    pub prepare: Option<Cmd>,
    /// Container paths in cargo's messages, and their host paths.
    pub paths: Vec<PathMapping>,
    /// Host directories that must exist before the container starts (bind mounts).
    pub dirs: Vec<PathBuf>,
}

fn serialize_opt_cmd<S: serde::Serializer>(cmd: &Option<Cmd>, s: S) -> Result<S::Ok, S::Error> {
    match cmd {
        Some(cmd) => serialize_cmd(cmd, s),
        None => s.serialize_none(),
    }
}

fn serialize_cmd<S: serde::Serializer>(cmd: &Cmd, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeStruct as _;
    let env = cmd.env_lossy();
    let mut st = s.serialize_struct("Command", 4)?;
    st.serialize_field("argv", &cmd.argv_lossy())?;
    st.serialize_field("env", &env)?;
    st.serialize_field("cwd", cmd.cwd())?;
    st.serialize_field("shell", &cmd.to_string())?;
    st.end()
}

/// The whole plan.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Plan {
    /// The package.
    pub package: Package,
    /// `wascap.ver` to sign.
    pub version: String,
    /// Cargo profile.
    pub profile: String,
    /// The CPU budget shared by every compiler job.
    pub jobs: usize,
    /// The archive to write.
    pub output: PathBuf,
    /// Its compression.
    pub compression: Compression,
    /// The targets, in `par.toml` order.
    pub targets: Vec<TargetPlan>,
    /// The cargo invocations.
    pub invocations: Vec<InvocationPlan>,
    /// Everything missing, once each.
    pub missing: Vec<Missing>,
    /// Things worth knowing (ignored settings, labels no host looks up).
    pub warnings: Vec<String>,
    /// The compile cache in front of rustc.
    pub cache: CachePlan,
    /// `[build] incremental`: the variable set on every invocation, with why (`None`:
    /// cargo's own default for the profile, off for `release`).
    pub incremental: Option<EnvSetting>,
    /// `--offline`/`--locked`/`--frozen`, for cargo queries made during the build.
    #[serde(skip)]
    pub flags: CargoFlags,
}

/// Makes the plan.
pub fn make(
    manifest: &Manifest,
    package: &Package,
    overrides: &Overrides,
    env: &Env,
    machine: &Machine,
) -> Result<Plan, PlanError> {
    let host = machine
        .host_triple()
        .map_err(|e| PlanError::Host(e.to_owned()))?
        .to_owned();
    let selected = draft::select_targets(manifest, &overrides.targets)?;
    let profile = overrides
        .profile
        .clone()
        .unwrap_or_else(|| manifest.build.profile.clone());
    let jobs = overrides
        .jobs
        .filter(|&j| j > 0)
        .or((manifest.build.jobs > 0).then_some(manifest.build.jobs))
        .unwrap_or(machine.cpus.max(1));
    let mut warnings = Vec::new();
    let user_rustflags =
        env.non_empty("RUSTFLAGS").is_some() || env.non_empty("CARGO_ENCODED_RUSTFLAGS").is_some();
    if user_rustflags && selected.iter().any(|t| !t.rustflags.is_empty()) {
        warnings.push(
            "RUSTFLAGS is set in your environment: cargo then ignores per-target rustflags from par.toml"
                .to_owned(),
        );
    }

    // 1. Draft every target: backend and why, its environment, what is missing. Every
    // target of the manifest is drafted, not only the selected ones, so that a target's
    // backend never depends on `--target`: a split build (`--target T --part-out`) builds
    // T exactly as a build of everything does.
    let mut drafts = draft::all(
        manifest,
        &selected,
        overrides,
        env,
        machine,
        &host,
        &mut warnings,
    )?;
    // 2. The host target joins zig's invocation when it can.
    draft::join_host_to_zig(&mut drafts, &host, manifest, overrides, env, machine);
    // Keep the selected targets, in the order they were asked for.
    let drafts: Vec<draft::Draft<'_>> = selected
        .iter()
        .filter_map(|s| {
            let i = drafts.iter().position(|d| d.spec.label == s.label)?;
            Some(drafts.swap_remove(i))
        })
        .collect();

    // 3. Group targets that can share one cargo invocation, 4. spell each invocation.
    let groups = spell::group(&drafts);
    let spelling = spell::Spelling {
        manifest,
        package,
        overrides,
        env,
        machine,
        profile: &profile,
        jobs,
    };
    let cache = cache::decide(manifest, env, machine);
    if manifest.build.cache_url.is_some() && cache.kind != "sccache" {
        warnings.push(format!("`cache-url` is not used: {}", cache.reason));
    }
    let incremental = incremental(manifest, &profile, env);
    let (invocations, targets) =
        spell::invocations(&spelling, &drafts, &groups, &cache, incremental.as_ref());
    let mut missing: Vec<Missing> = targets
        .iter()
        .flat_map(|t| t.missing.clone())
        .chain(cache.missing.clone())
        .collect();
    missing.sort();
    missing.dedup();
    Ok(Plan {
        version: manifest
            .provider
            .version
            .clone()
            .unwrap_or_else(|| package.version.clone()),
        package: package.clone(),
        profile,
        jobs,
        output: manifest.output.path.clone(),
        compression: manifest.output.compression,
        targets,
        invocations,
        missing,
        warnings,
        cache,
        incremental,
        flags: overrides.flags,
    })
}

/// `CARGO_PROFILE_<PROFILE>_INCREMENTAL=true` when `[build] incremental` asks for it and the
/// user has not set that variable (theirs wins, either way).
fn incremental(manifest: &Manifest, profile: &str, env: &Env) -> Option<EnvSetting> {
    let key = format!(
        "CARGO_PROFILE_{}_INCREMENTAL",
        profile.to_uppercase().replace('-', "_")
    );
    (manifest.build.incremental && env.var_os(&key).is_none()).then(|| EnvSetting {
        key,
        value: "true".to_owned(),
        reason: "`[build] incremental = true`: a rebuild recompiles only the changed parts of a crate; the binaries differ from a non-incremental build's, and sccache does not cache incremental compiles".to_owned(),
    })
}

/// cargo's output directory for a profile.
pub fn profile_dir(profile: &str) -> &str {
    match profile {
        "dev" | "test" => "debug",
        "bench" => "release",
        other => other,
    }
}

#[cfg(test)]
mod tests;
