//! Backends: how one cargo invocation for one or more targets is spelled for each way of
//! building (the host's cargo with a cross linker, zig through cargo-zigbuild, the `cross`
//! program, or cargo inside a container image).
//!
//! A backend only *describes*: [`command`] returns a [`Cmd`], [`target_env`] the
//! environment it adds for a target, [`missing`] what the machine lacks for it. The
//! runner executes; backends never print and never start a process. The two
//! containerized backends also describe how to stop their container ([`stop_command`]) and
//! how the paths cargo reports inside it map back to the host ([`path_map`], [`host_path`]).
//!
//! One file because the types every backend shares ([`Invocation`], [`TargetContext`],
//! [`EnvSetting`]) and the dispatchers that pick a backend by kind belong together; a
//! third of it is their tests.

pub mod cargo;
pub mod container;
pub mod cross;
pub mod zig;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::env::Env;
use crate::machine::{Engine, EngineKind, Machine, UserLinker};
use crate::manifest::BackendKind;
use crate::metadata::{Artifact, ArtifactKind};
use crate::process::Cmd;
use crate::tools::{self, Missing};

/// cargo's `--offline`, `--locked`, `--frozen`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CargoFlags {
    /// `--offline`.
    pub offline: bool,
    /// `--locked`.
    pub locked: bool,
    /// `--frozen`.
    pub frozen: bool,
}

impl CargoFlags {
    /// The flags as cargo takes them, for every cargo command parbuild runs.
    pub fn args(self) -> impl Iterator<Item = &'static str> {
        [
            (self.offline, "--offline"),
            (self.locked, "--locked"),
            (self.frozen, "--frozen"),
        ]
        .into_iter()
        .filter_map(|(on, flag)| on.then_some(flag))
    }
}

/// One target inside an invocation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TargetRequest {
    /// The Rust triple.
    pub triple: String,
    /// glibc floor (zig, Linux gnu targets only).
    pub glibc: Option<String>,
}

/// Everything one cargo invocation needs, whatever the backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// Working directory (the package's directory).
    pub cwd: PathBuf,
    /// The package's `Cargo.toml`.
    pub manifest_path: PathBuf,
    /// The package name (`-p`).
    pub package: String,
    /// The artifact to build (`--lib` or `--bin NAME`).
    pub artifact: Artifact,
    /// The targets built together.
    pub targets: Vec<TargetRequest>,
    /// Cargo profile.
    pub profile: String,
    /// `--features`.
    pub features: Vec<String>,
    /// `--no-default-features`.
    pub no_default_features: bool,
    /// `--target-dir`.
    pub target_dir: PathBuf,
    /// Environment parbuild adds (already excluding what the user set).
    pub env: BTreeMap<String, String>,
    /// `--offline`/`--locked`/`--frozen`.
    pub flags: CargoFlags,
    /// `--keep-going`: one failing target does not stop the others.
    pub keep_going: bool,
    /// `-j N`: set for containerized backends, whose cargo cannot reach the jobserver.
    pub jobs: Option<usize>,
    /// Container settings, for the `cross` and `container` backends.
    pub container: Option<ContainerRun>,
}

/// How a containerized invocation runs its container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerRun {
    /// The engine.
    pub engine: Engine,
    /// The container's name, so that it can be stopped.
    pub name: String,
    /// The image (`container` backend; `cross` gets it through `CROSS_TARGET_<T>_IMAGE`).
    pub image: Option<String>,
    /// The cargo workspace root (mounted read-only by the `container` backend).
    pub workspace_root: PathBuf,
    /// The host's `CARGO_HOME` (its registry and git caches are shared read-only).
    pub cargo_home: PathBuf,
    /// Which of its caches (`registry`, `git`) exist, to be mounted.
    pub cargo_caches: Vec<String>,
    /// The user's own `CROSS_CONTAINER_OPTS`, which parbuild's options follow.
    pub user_opts: Option<String>,
    /// The user's uid and gid (docker runs the container as them).
    pub user_ids: (u32, u32),
}

/// An invocation of `hello-provider` for aarch64-linux under `/ws`, for backend unit tests
/// to adjust with struct update syntax.
#[cfg(test)]
pub(crate) fn sample_invocation(backend: &str) -> Invocation {
    Invocation {
        cwd: "/ws/hello".into(),
        manifest_path: "/ws/hello/Cargo.toml".into(),
        package: "hello-provider".to_owned(),
        artifact: Artifact {
            kind: ArtifactKind::Bin,
            name: "hello-provider".to_owned(),
        },
        targets: vec![TargetRequest {
            triple: "aarch64-unknown-linux-gnu".to_owned(),
            glibc: None,
        }],
        profile: "release".to_owned(),
        features: Vec::new(),
        no_default_features: false,
        target_dir: format!("/ws/target/parbuild/{backend}").into(),
        env: BTreeMap::new(),
        flags: CargoFlags::default(),
        keep_going: true,
        jobs: None,
        container: None,
    }
}

/// The command for `inv` on backend `kind`.
pub fn command(kind: BackendKind, inv: &Invocation, machine: &Machine) -> Cmd {
    match kind {
        BackendKind::Zig => zig::command(inv, machine),
        BackendKind::Cross => cross::command(inv, machine),
        BackendKind::Container => container::command(inv),
        _ => cargo::command(inv, machine),
    }
}

/// Whether `kind` runs cargo inside a container, out of the jobserver's reach.
pub fn containerized(kind: BackendKind) -> bool {
    matches!(kind, BackendKind::Cross | BackendKind::Container)
}

/// The command that stops and removes the container of `run` at once (Ctrl-C,
/// `--fail-fast`): signalling the engine's client is not enough, the container would
/// outlive it.
pub fn stop_command(run: &ContainerRun, cwd: &Path) -> Cmd {
    let cmd = Cmd::new(&run.engine.program, cwd).args(["rm", "--force"]);
    match run.engine.kind {
        EngineKind::Podman => cmd.args(["--time", "0"]).arg(&run.name),
        EngineKind::Docker => cmd.arg(&run.name),
    }
}

/// A directory as the container sees it, and where it is on the host.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PathMapping {
    /// Inside the container.
    pub container: PathBuf,
    /// On the host.
    pub host: PathBuf,
}

/// The directories of `inv` whose container paths differ from the host's: `cross`
/// mounts the target directory at `/target`, the workspace at `/project` and
/// `CARGO_HOME` at `/cargo`; the `container` backend mounts everything at its host path.
pub fn path_map(kind: BackendKind, inv: &Invocation) -> Vec<PathMapping> {
    match kind {
        BackendKind::Cross => cross::path_map(inv),
        _ => Vec::new(),
    }
}

/// The host path of `path` as cargo reported it: the longest mapped prefix is replaced;
/// paths outside every mapping are returned as they are.
pub fn host_path(map: &[PathMapping], path: &Path) -> PathBuf {
    map.iter()
        .filter_map(|m| path.strip_prefix(&m.container).ok().map(|rest| (m, rest)))
        .max_by_key(|(m, _)| m.container.components().count())
        .map_or_else(
            || path.to_owned(),
            |(m, rest)| {
                if rest.as_os_str().is_empty() {
                    m.host.clone()
                } else {
                    m.host.join(rest)
                }
            },
        )
}

/// The arguments every backend passes after its subcommand; `triple_arg` spells a
/// target the way the backend wants it (zig appends the glibc floor).
pub fn cargo_args(inv: &Invocation, triple_arg: impl Fn(&TargetRequest) -> String) -> Vec<String> {
    let mut args = vec![
        "--manifest-path".to_owned(),
        inv.manifest_path.display().to_string(),
        "-p".to_owned(),
        inv.package.clone(),
    ];
    match inv.artifact.kind {
        ArtifactKind::Cdylib => args.push("--lib".to_owned()),
        ArtifactKind::Bin => args.extend(["--bin".to_owned(), inv.artifact.name.clone()]),
    }
    args.extend(["--profile".to_owned(), inv.profile.clone()]);
    for t in &inv.targets {
        args.extend(["--target".to_owned(), triple_arg(t)]);
    }
    args.extend([
        "--target-dir".to_owned(),
        inv.target_dir.display().to_string(),
        "--message-format=json-render-diagnostics".to_owned(),
    ]);
    if inv.keep_going {
        args.push("--keep-going".to_owned());
    }
    if !inv.features.is_empty() {
        args.extend(["--features".to_owned(), inv.features.join(",")]);
    }
    if inv.no_default_features {
        args.push("--no-default-features".to_owned());
    }
    if let Some(jobs) = inv.jobs {
        args.extend(["-j".to_owned(), jobs.to_string()]);
    }
    args.extend(inv.flags.args().map(str::to_owned));
    args
}

/// An environment variable a backend sets for a target, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EnvSetting {
    /// The variable.
    pub key: String,
    /// Its value.
    pub value: String,
    /// Why parbuild sets it.
    pub reason: String,
}

/// What a backend needs to know about the machine and the user's settings for a target.
#[derive(Debug, Clone, Default)]
pub struct TargetContext {
    /// The host triple.
    pub host: String,
    /// `CARGO_TARGET_<T>_LINKER` from the environment, or `target.<T>.linker` from the
    /// user's cargo config (with where it came from).
    pub user_linker: Option<UserLinker>,
    /// `MACOSX_DEPLOYMENT_TARGET` from the environment.
    pub user_macos_target: Option<String>,
    /// `[build] macos-deployment-target` from `par.toml`.
    pub manifest_macos_target: Option<String>,
    /// The target's `sdk` from `par.toml`.
    pub manifest_sdk: Option<PathBuf>,
    /// glibc floor for zig (`[targets.X] glibc` or `[build] glibc`).
    pub glibc: String,
    /// The image named in `par.toml` (`[targets.X] image`, else `[build] image`).
    pub image: Option<String>,
    /// Whether the target itself names it (only then does `auto` pick `container`).
    pub target_image: bool,
    /// Whether the project's `Cross.toml` configures this target (an image or a Dockerfile).
    pub cross_toml: bool,
    /// The image `Cross.toml` names for this target.
    pub cross_toml_image: Option<String>,
    /// The environment parbuild runs in (the user's own settings win).
    pub env: Env,
}

/// The environment `kind` adds for `triple`; never what the user already set.
pub fn target_env(
    kind: BackendKind,
    triple: &str,
    cx: &TargetContext,
    machine: &Machine,
) -> Vec<EnvSetting> {
    match kind {
        BackendKind::Zig => zig::target_env(triple, cx),
        BackendKind::Cross => cross::target_env(triple, cx, machine),
        BackendKind::Container => Vec::new(),
        _ => cargo::target_env(triple, cx, machine),
    }
}

/// What the machine lacks to build `triple` with `kind`.
pub fn missing(
    kind: BackendKind,
    triple: &str,
    cx: &TargetContext,
    machine: &Machine,
) -> Vec<Missing> {
    match kind {
        // The image brings its own toolchain; only the engine and the image matter.
        BackendKind::Container => {
            let mut missing: Vec<Missing> = tools::engine_missing(machine).into_iter().collect();
            if let Some(image) = &cx.image {
                missing.extend(tools::image_missing(machine, image));
            }
            missing
        }
        // cross mounts the host's toolchain, std included.
        BackendKind::Cross => {
            let mut missing: Vec<Missing> =
                tools::std_missing(machine, triple).into_iter().collect();
            missing.extend(tools::cross_missing(machine));
            missing.extend(tools::engine_missing(machine));
            missing.extend(tools::image_missing(machine, &cross::image(triple, cx)));
            missing
        }
        BackendKind::Zig => tools::std_missing(machine, triple)
            .into_iter()
            .chain(tools::zig_missing(machine))
            .collect(),
        _ => tools::std_missing(machine, triple)
            .into_iter()
            .chain(cargo::linker_missing(triple, cx, machine))
            .collect(),
    }
}

/// The backend `auto` picks for `triple`, and why. The containerized backends are
/// chosen only when configured (an image in `par.toml`, the target in `Cross.toml`) or
/// when nothing else here can build the target.
pub fn choose_auto(triple: &str, cx: &TargetContext, machine: &Machine) -> (BackendKind, String) {
    if let Some(image) = cx.image.as_ref().filter(|_| cx.target_image) {
        return (
            BackendKind::Container,
            format!("par.toml names the image `{image}` for this target: cargo runs inside it"),
        );
    }
    if cx.cross_toml {
        return (
            BackendKind::Cross,
            "the project's Cross.toml configures this target: cross builds it".to_owned(),
        );
    }
    if triple == cx.host {
        return (
            BackendKind::Cargo,
            "the host target: the host's own cargo and linker".to_owned(),
        );
    }
    if let Some(user) = &cx.user_linker {
        return (
            BackendKind::Cargo,
            format!(
                "you set the linker `{}` ({}): your setting wins",
                user.linker, user.origin
            ),
        );
    }
    let zig_ok = zig::supports(triple);
    if zig_ok && machine.has_zig() {
        return (BackendKind::Zig, zig::WHY.to_owned());
    }
    if cargo::found_linker(triple, machine).is_some() {
        return (
            BackendKind::Cargo,
            "zig is not installed; a cross linker for this target was found".to_owned(),
        );
    }
    // zig can build it once installed (`doctor --fix` does that without guessing), which
    // beats a container whose image may not exist (cross has none for macOS, for one).
    if zig_ok {
        return (
            BackendKind::Zig,
            format!("{} (not installed yet: see missing)", zig::WHY),
        );
    }
    if machine.which("cross").is_some() && machine.engine_status().is_ok() {
        return (
            BackendKind::Cross,
            "neither zig nor a cross linker can build it here; cross can, in a container"
                .to_owned(),
        );
    }
    (
        BackendKind::Cargo,
        "no backend found for this target; cargo needs a linker (see missing)".to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_path_replaces_the_longest_mapped_prefix() {
        let map = [
            PathMapping {
                container: "/project".into(),
                host: "/home/me/ws".into(),
            },
            PathMapping {
                container: "/project/sub".into(),
                host: "/elsewhere".into(),
            },
            PathMapping {
                container: "/target".into(),
                host: "/home/me/ws/target/parbuild/cross".into(),
            },
        ];
        let check = |from: &str, to: &str| {
            assert_eq!(
                host_path(&map, Path::new(from)),
                PathBuf::from(to),
                "{from}"
            )
        };
        check(
            "/target/aarch64-unknown-linux-gnu/release/hello",
            "/home/me/ws/target/parbuild/cross/aarch64-unknown-linux-gnu/release/hello",
        );
        check("/project/src/main.rs", "/home/me/ws/src/main.rs");
        check("/project/sub/x", "/elsewhere/x");
        check("/target", "/home/me/ws/target/parbuild/cross");
        // Not a mapped directory, only a name sharing its prefix; and unmapped paths.
        check("/targets/x", "/targets/x");
        check("/tmp/hp/target/x", "/tmp/hp/target/x");
    }

    #[test]
    fn stop_command_removes_the_container_at_once() {
        let run = |kind, program: &str| ContainerRun {
            engine: Engine {
                kind,
                program: program.into(),
                reason: String::new(),
            },
            name: "parbuild-42-cross".to_owned(),
            image: None,
            workspace_root: "/ws".into(),
            cargo_home: "/h/.cargo".into(),
            cargo_caches: Vec::new(),
            user_opts: None,
            user_ids: (1000, 1000),
        };
        assert_eq!(
            stop_command(&run(EngineKind::Podman, "/usr/bin/podman"), Path::new("/")).argv_lossy(),
            [
                "/usr/bin/podman",
                "rm",
                "--force",
                "--time",
                "0",
                "parbuild-42-cross"
            ]
        );
        assert_eq!(
            stop_command(&run(EngineKind::Docker, "docker"), Path::new("/")).argv_lossy(),
            ["docker", "rm", "--force", "parbuild-42-cross"]
        );
    }
}
