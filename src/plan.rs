//! The build plan: for each target its triple, label, backend and why, the environment
//! parbuild adds and why, the target directory and expected output; then the cargo
//! invocations that build them (targets that can share one invocation share it), and
//! what the machine is missing, with the fix.
//!
//! Making a plan builds nothing and starts nothing but the cheap, cached queries of the
//! [`Toolbox`] (`rustc -vV`, `rustup target list`). `parbuild plan` prints it; `build`
//! executes it; `doctor` fixes what it says is missing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::archive::{Compression, Label};
use crate::backend::zig::SdkSource;
use crate::backend::{
    self, CargoFlags, ContainerRun, EnvSetting, Invocation, PathMapping, TargetContext,
    TargetRequest,
};
use crate::env::Env;
use crate::manifest::{BackendKind, Manifest, TargetSpec};
use crate::metadata::Package;
use crate::process::Cmd;
use crate::tools::{self, Missing, Toolbox};

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
    tools: &Toolbox,
) -> Result<Plan, PlanError> {
    let host = tools.host_triple().map_err(PlanError::Host)?.to_owned();
    let selected = select_targets(manifest, &overrides.targets)?;
    let profile = overrides
        .profile
        .clone()
        .unwrap_or_else(|| manifest.build.profile.clone());
    let jobs = overrides
        .jobs
        .filter(|&j| j > 0)
        .or((manifest.build.jobs > 0).then_some(manifest.build.jobs))
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get));
    let base_dir = package.target_dir.join("parbuild");
    let mut warnings = Vec::new();
    let user_rustflags =
        env.non_empty("RUSTFLAGS").is_some() || env.non_empty("CARGO_ENCODED_RUSTFLAGS").is_some();
    if user_rustflags && selected.iter().any(|t| !t.rustflags.is_empty()) {
        warnings.push(
            "RUSTFLAGS is set in your environment: cargo then ignores per-target rustflags from par.toml"
                .to_owned(),
        );
    }

    // Per target: backend, reason, environment. Every target of the manifest is drafted, not
    // only the selected ones, so that a target's backend never depends on `--target`: a
    // split build (`--target T --part-out`) builds T exactly as a build of everything does.
    let is_selected = |spec: &TargetSpec| selected.iter().any(|s| s.label == spec.label);
    let cross_toml_text = cross_toml(&package.workspace_root, env);
    let mut drafts = Vec::new();
    for spec in &manifest.targets {
        let cx = target_context(manifest, spec, &host, env, cross_toml_text.as_deref());
        let requested = overrides
            .backend
            .or(spec.backend)
            .unwrap_or(manifest.build.backend);
        let (backend, reason) = match requested {
            BackendKind::Auto => backend::choose_auto(&spec.triple, &cx, tools),
            _ => (requested, "chosen in par.toml or with --backend".to_owned()),
        };
        if backend == BackendKind::Container && cx.image.is_none() && is_selected(spec) {
            return Err(PlanError::NoImage {
                label: spec.label.to_string(),
            });
        }
        let mut env_settings = backend::target_env(backend, &spec.triple, &cx, tools);
        env_settings.extend(rustflags_env(spec, env));
        let missing = backend::missing(backend, &spec.triple, &cx, tools);
        if let Some(w) = spec.label.lookup_warning().filter(|_| is_selected(spec)) {
            warnings.push(w);
        }
        let sdk = (backend == BackendKind::Zig)
            .then(|| backend::zig::sdk(&spec.triple, &cx))
            .flatten();
        drafts.push(Draft {
            spec,
            sdk,
            backend,
            reason,
            env: env_settings,
            glibc: (backend == BackendKind::Zig).then(|| cx.glibc.clone()),
            image: match backend {
                BackendKind::Cross => Some(backend::cross::image(&spec.triple, &cx)),
                BackendKind::Container => cx.image.clone(),
                _ => None,
            },
            missing,
            cx,
        });
    }

    join_host_to_zig(&mut drafts, &host, manifest, overrides, env, tools);
    // Keep the selected targets, in the order they were asked for.
    let drafts: Vec<Draft<'_>> = selected
        .iter()
        .filter_map(|s| {
            let i = drafts.iter().position(|d| d.spec.label == s.label)?;
            Some(drafts.swap_remove(i))
        })
        .collect();

    // Group targets that can share one cargo invocation.
    let groups = group(&drafts);
    let mut invocations = Vec::new();
    let mut targets = Vec::new();
    let mut per_backend: BTreeMap<BackendKind, usize> = BTreeMap::new();
    // A containerized cargo cannot join the jobserver: it gets a fixed share of the budget.
    let share = (jobs / groups.len().max(1)).clamp(1, jobs.max(1));
    for members in &groups {
        let first = &drafts[members[0]];
        let n = per_backend.entry(first.backend).or_insert(0);
        *n += 1;
        let dir_name = if *n == 1 {
            first.backend.as_str().to_owned()
        } else {
            format!("{}-{n}", first.backend.as_str())
        };
        let target_dir = base_dir.join(&dir_name);
        let log = base_dir.join("logs").join(format!("{dir_name}.log"));
        let mut inv_env: BTreeMap<String, String> = first.spec.env.clone();
        for &i in members {
            for s in &drafts[i].env {
                inv_env.insert(s.key.clone(), s.value.clone());
            }
        }
        // macOS targets without an SDK link against stubs made into this target directory.
        let stub_triples: Vec<String> = members
            .iter()
            .map(|&i| &drafts[i])
            .filter(|d| d.sdk.as_ref().is_some_and(|s| s.source == SdkSource::Stubs))
            .map(|d| d.spec.triple.clone())
            .collect();
        let stubs_dir = backend::zig::stubs_dir(&target_dir);
        let stubs = (!stub_triples.is_empty()).then(|| {
            inv_env.insert("SDKROOT".to_owned(), stubs_dir.display().to_string());
            StubsPlan {
                dir: stubs_dir.clone(),
                metadata: stubs_metadata_command(
                    tools,
                    package,
                    manifest,
                    first.spec,
                    &stub_triples,
                    overrides.flags,
                ),
                triples: stub_triples,
                extra: manifest.macos_stubs.clone(),
            }
        });
        let containerized = backend::containerized(first.backend);
        let container = containerized.then(|| ContainerRun {
            engine: tools
                .engine()
                .cloned()
                .unwrap_or_else(|| crate::tools::Engine {
                    kind: crate::tools::EngineKind::Docker,
                    program: "docker".into(),
                    reason: "no container engine is installed".to_owned(),
                }),
            name: format!("parbuild-{}-{dir_name}", std::process::id()),
            image: first.image.clone(),
            workspace_root: package.workspace_root.clone(),
            cargo_home: cargo_home(env),
            user_opts: env.non_empty("CROSS_CONTAINER_OPTS").map(str::to_owned),
            user_ids: tools.user_ids(),
        });
        let inv = Invocation {
            cwd: package
                .manifest_path
                .parent()
                .unwrap_or(Path::new("."))
                .to_owned(),
            manifest_path: package.manifest_path.clone(),
            package: package.name.clone(),
            artifact: package.artifact.clone(),
            targets: members
                .iter()
                .map(|&i| TargetRequest {
                    triple: drafts[i].spec.triple.clone(),
                    glibc: drafts[i].glibc.clone(),
                })
                .collect(),
            profile: profile.clone(),
            features: merged_features(manifest, first.spec),
            no_default_features: manifest.build.no_default_features,
            target_dir: target_dir.clone(),
            env: inv_env,
            flags: overrides.flags,
            keep_going: !overrides.fail_fast,
            jobs: containerized.then_some(share),
            container,
        };
        let index = invocations.len();
        for &i in members {
            let d = &drafts[i];
            let mut sdk = d.sdk.clone();
            let mut env = d.env.clone();
            if let Some(s) = sdk.as_mut().filter(|s| s.source == SdkSource::Stubs) {
                s.path = Some(stubs_dir.clone());
                env.push(EnvSetting {
                    key: "SDKROOT".to_owned(),
                    value: stubs_dir.display().to_string(),
                    reason: "generated framework stubs (not an SDK)".to_owned(),
                });
            }
            targets.push((
                i,
                TargetPlan {
                    label: d.spec.label.clone(),
                    triple: d.spec.triple.clone(),
                    backend: d.backend,
                    reason: d.reason.clone(),
                    env,
                    glibc: d
                        .glibc
                        .clone()
                        .filter(|_| d.spec.triple.contains("-linux-gnu")),
                    expected_output: target_dir
                        .join(&d.spec.triple)
                        .join(profile_dir(&profile))
                        .join(package.artifact.file_name(&d.spec.triple)),
                    target_dir: target_dir.clone(),
                    invocation: index,
                    missing: d.missing.clone(),
                    image: d.image.clone(),
                    sdk,
                },
            ));
        }
        let container = inv.container.as_ref().map(|run| ContainerPlan {
            cpu_tokens: share,
            name: run.name.clone(),
            stop: backend::stop_command(run, &inv.cwd),
            prepare: (first.backend == BackendKind::Container)
                .then(|| backend::container::prepare(&inv, tools)),
            paths: backend::path_map(first.backend, &inv),
            dirs: vec![inv.target_dir.clone()],
        });
        invocations.push(InvocationPlan {
            backend: first.backend,
            labels: members
                .iter()
                .map(|&i| drafts[i].spec.label.clone())
                .collect(),
            command: backend::command(first.backend, &inv, tools),
            log,
            container,
            stubs,
        });
    }
    targets.sort_by_key(|(i, _)| *i);
    let targets: Vec<TargetPlan> = targets.into_iter().map(|(_, t)| t).collect();
    let mut missing: Vec<Missing> = targets.iter().flat_map(|t| t.missing.clone()).collect();
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
        flags: overrides.flags,
    })
}

struct Draft<'a> {
    spec: &'a TargetSpec,
    /// The SDK of a macOS target built by zig.
    sdk: Option<backend::zig::Sdk>,
    backend: BackendKind,
    reason: String,
    env: Vec<EnvSetting>,
    glibc: Option<String>,
    image: Option<String>,
    missing: Vec<Missing>,
    /// What the backend functions were told about this target.
    cx: TargetContext,
}

/// With `auto`, the host target goes to cargo, unless zig builds other targets of the
/// manifest it could share an invocation with (whether or not `--target` selected them, so
/// the choice never depends on the selection): then it joins them, so host build scripts and
/// proc-macros compile once in one target directory under one cargo (measured fastest,
/// BENCHMARKS.md), and the host binary gets the same glibc floor as the others. A linker
/// the user configured for the host, or `backend = "cargo"`, keeps it on cargo.
fn join_host_to_zig(
    drafts: &mut [Draft<'_>],
    host: &str,
    manifest: &Manifest,
    overrides: &Overrides,
    env: &Env,
    tools: &Toolbox,
) {
    if tools.zigbuild().is_none() || !tools.zig_available() || !backend::zig::supports(host) {
        return;
    }
    let Some(i) = drafts.iter().position(|d| {
        d.spec.triple == host
            && d.backend == BackendKind::Cargo
            && overrides
                .backend
                .or(d.spec.backend)
                .unwrap_or(manifest.build.backend)
                == BackendKind::Auto
    }) else {
        return;
    };
    let cx = drafts[i].cx.clone();
    if cx.user_linker.is_some() {
        return;
    }
    let env_settings: Vec<EnvSetting> = backend::target_env(BackendKind::Zig, host, &cx, tools)
        .into_iter()
        .chain(rustflags_env(drafts[i].spec, env))
        .collect();
    let joins = drafts.iter().enumerate().any(|(j, o)| {
        j != i
            && o.backend == BackendKind::Zig
            && o.spec.features == drafts[i].spec.features
            && o.spec.env == drafts[i].spec.env
            && !conflicts(&o.env, &env_settings)
    });
    if !joins {
        return;
    }
    let d = &mut drafts[i];
    d.backend = BackendKind::Zig;
    d.reason = "the host target, built in the zig invocation of the other targets: host build scripts and proc-macros compile once, and the binary gets the same glibc floor (`backend = \"cargo\"` links it with the host's own toolchain)".to_owned();
    d.env = env_settings;
    d.glibc = Some(cx.glibc.clone());
    d.missing = backend::missing(BackendKind::Zig, host, &cx, tools);
}

/// Targets share an invocation when their backend, features and own `env` match and
/// the target-scoped variables parbuild adds do not conflict (e.g. the two macOS
/// targets need different `MACOSX_DEPLOYMENT_TARGET`s, so they are built apart).
fn group(drafts: &[Draft<'_>]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    'next: for (i, d) in drafts.iter().enumerate() {
        for g in &mut groups {
            let first = &drafts[g[0]];
            let compatible = first.backend == d.backend
                && first.backend != BackendKind::Cross // cross builds one target per run
                && first.image == d.image
                && first.spec.features == d.spec.features
                && first.spec.env == d.spec.env
                && g.iter().all(|&j| {
                    !conflicts(&drafts[j].env, &d.env) && !sdk_conflict(&drafts[j], d)
                });
            if compatible {
                g.push(i);
                continue 'next;
            }
        }
        groups.push(vec![i]);
    }
    groups
}

/// Two macOS targets link against different SDKs (stubs or yours): one `SDKROOT` per
/// invocation, so they are built apart.
fn sdk_conflict(a: &Draft<'_>, b: &Draft<'_>) -> bool {
    match (&a.sdk, &b.sdk) {
        (Some(x), Some(y)) => x.source != y.source || x.path != y.path,
        _ => false,
    }
}

/// `cargo metadata` resolved for the macOS triples, with the build's features: the
/// packages whose `extern` declarations say what the framework stubs must export.
fn stubs_metadata_command(
    tools: &Toolbox,
    package: &Package,
    manifest: &Manifest,
    spec: &TargetSpec,
    triples: &[String],
    flags: CargoFlags,
) -> Cmd {
    let mut cmd = Cmd::new(tools.cargo(), &package.workspace_root)
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(&package.manifest_path);
    for t in triples {
        cmd = cmd.args(["--filter-platform", t]);
    }
    let features = merged_features(manifest, spec);
    if !features.is_empty() {
        cmd = cmd.args(["--features".to_owned(), features.join(",")]);
    }
    if manifest.build.no_default_features {
        cmd = cmd.arg("--no-default-features");
    }
    cmd.args(flags.args())
}

fn conflicts(a: &[EnvSetting], b: &[EnvSetting]) -> bool {
    a.iter()
        .any(|x| b.iter().any(|y| x.key == y.key && x.value != y.value))
}

fn merged_features(manifest: &Manifest, spec: &TargetSpec) -> Vec<String> {
    let mut f = manifest.build.features.clone();
    f.extend(spec.features.iter().cloned());
    f.sort();
    f.dedup();
    f
}

/// Per-target rustflags from `par.toml`, as `CARGO_TARGET_<T>_RUSTFLAGS`, appended to the
/// user's own value of that variable.
fn rustflags_env(spec: &TargetSpec, env: &Env) -> Option<EnvSetting> {
    if spec.rustflags.is_empty() {
        return None;
    }
    let key = format!(
        "CARGO_TARGET_{}_RUSTFLAGS",
        tools::target_env_key(&spec.triple)
    );
    let mut value: Vec<String> = env
        .non_empty(&key)
        .map(|v| v.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    value.extend(spec.rustflags.iter().cloned());
    Some(EnvSetting {
        key,
        value: value.join(" "),
        reason: "rustflags from par.toml (after yours)".to_owned(),
    })
}

fn target_context(
    manifest: &Manifest,
    spec: &TargetSpec,
    host: &str,
    env: &Env,
    cross_toml: Option<&str>,
) -> TargetContext {
    let key = tools::target_env_key(&spec.triple);
    let linker_var = format!("CARGO_TARGET_{key}_LINKER");
    let user_linker = env
        .non_empty(&linker_var)
        .map(|v| (v.to_owned(), linker_var.clone()))
        .or_else(|| {
            tools::configured_linker(&manifest.dir, env, &spec.triple).map(|(l, file)| {
                (
                    l,
                    format!("target.{}.linker in {}", spec.triple, file.display()),
                )
            })
        });
    let cross_toml =
        cross_toml.and_then(|text| backend::cross::cross_toml_entry(text, &spec.triple));
    TargetContext {
        host: host.to_owned(),
        user_linker,
        user_macos_target: env.non_empty("MACOSX_DEPLOYMENT_TARGET").map(str::to_owned),
        manifest_macos_target: manifest.build.macos_deployment_target.clone(),
        manifest_sdk: spec.sdk.clone(),
        glibc: spec
            .glibc
            .clone()
            .unwrap_or_else(|| manifest.build.glibc.clone()),
        image: spec.image.clone().or_else(|| manifest.build.image.clone()),
        target_image: spec.image.is_some(),
        cross_toml: cross_toml.is_some(),
        cross_toml_image: cross_toml.flatten(),
        env: env.clone(),
    }
}

/// The project's `Cross.toml` as cross finds it (`$CROSS_CONFIG`, else in the workspace
/// root), as text.
fn cross_toml(workspace_root: &Path, env: &Env) -> Option<String> {
    let path = env
        .non_empty("CROSS_CONFIG")
        .map_or_else(|| workspace_root.join("Cross.toml"), |p| env.cwd().join(p));
    std::fs::read_to_string(path).ok()
}

/// The host's `CARGO_HOME`.
fn cargo_home(env: &Env) -> PathBuf {
    env.non_empty("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env.home().map(|h| h.join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
}

/// cargo's output directory for a profile.
pub fn profile_dir(profile: &str) -> &str {
    match profile {
        "dev" | "test" => "debug",
        "bench" => "release",
        other => other,
    }
}

fn select_targets<'a>(
    manifest: &'a Manifest,
    wanted: &[String],
) -> Result<Vec<&'a TargetSpec>, PlanError> {
    if wanted.is_empty() {
        return Ok(manifest.targets.iter().collect());
    }
    let mut out: Vec<&TargetSpec> = Vec::new();
    for w in wanted {
        let found = manifest
            .targets
            .iter()
            .find(|t| t.key == *w || t.label.as_str() == w || t.triple == *w)
            .ok_or_else(|| PlanError::UnknownTarget {
                wanted: w.clone(),
                manifest: manifest.path.display().to_string(),
                known: manifest
                    .targets
                    .iter()
                    .map(|t| t.label.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        if !out.iter().any(|t| t.label == found.label) {
            out.push(found);
        }
    }
    Ok(out)
}
