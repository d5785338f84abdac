//! Backends: how one cargo invocation for one or more targets is spelled for each way of
//! building (the host's cargo with a cross linker, or zig through cargo-zigbuild).
//!
//! A backend only *describes*: [`command`] returns a [`Cmd`], [`target_env`] the
//! environment it adds for a target, [`missing`] what the machine lacks for it. The
//! runner executes; backends never print and never start a process. `cross` and
//! `container` slot in as further [`BackendKind`]s with the same three functions (and a
//! path mapping for artifacts built inside a container).

pub mod cargo;
pub mod zig;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::manifest::BackendKind;
use crate::metadata::{Artifact, ArtifactKind};
use crate::process::Cmd;
use crate::tools::{Missing, Toolbox};

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
}

/// The command for `inv` on backend `kind`.
pub fn command(kind: BackendKind, inv: &Invocation, tools: &Toolbox) -> Cmd {
    match kind {
        BackendKind::Zig => zig::command(inv, tools),
        _ => cargo::command(inv, tools),
    }
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
    for (on, flag) in [
        (inv.flags.offline, "--offline"),
        (inv.flags.locked, "--locked"),
        (inv.flags.frozen, "--frozen"),
    ] {
        if on {
            args.push(flag.to_owned());
        }
    }
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
    pub user_linker: Option<(String, String)>,
    /// `MACOSX_DEPLOYMENT_TARGET` from the environment.
    pub user_macos_target: Option<String>,
    /// `[build] macos-deployment-target` from `par.toml`.
    pub manifest_macos_target: Option<String>,
    /// glibc floor for zig (`[targets.X] glibc` or `[build] glibc`).
    pub glibc: String,
}

/// The environment `kind` adds for `triple`; never what the user already set.
pub fn target_env(
    kind: BackendKind,
    triple: &str,
    cx: &TargetContext,
    tools: &Toolbox,
) -> Vec<EnvSetting> {
    match kind {
        BackendKind::Zig => zig::target_env(triple, cx),
        _ => cargo::target_env(triple, cx, tools),
    }
}

/// What the machine lacks to build `triple` with `kind`.
pub fn missing(
    kind: BackendKind,
    triple: &str,
    cx: &TargetContext,
    tools: &Toolbox,
) -> Vec<Missing> {
    let mut missing: Vec<Missing> = tools.std_missing(triple).into_iter().collect();
    match kind {
        BackendKind::Zig => missing.extend(tools.zig_missing()),
        _ => missing.extend(cargo::linker_missing(triple, cx, tools)),
    }
    missing
}

/// The backend `auto` picks for `triple`, and why.
pub fn choose_auto(triple: &str, cx: &TargetContext, tools: &Toolbox) -> (BackendKind, String) {
    if triple == cx.host {
        return (
            BackendKind::Cargo,
            "the host target: the host's own cargo and linker".to_owned(),
        );
    }
    if let Some((linker, origin)) = &cx.user_linker {
        return (
            BackendKind::Cargo,
            format!("you set the linker `{linker}` ({origin}): your setting wins"),
        );
    }
    let zig_ok = zig::supports(triple);
    if zig_ok && tools.zigbuild().is_some() && tools.zig_available() {
        return (BackendKind::Zig, zig::WHY.to_owned());
    }
    if cargo::found_linker(triple, tools).is_some() {
        return (
            BackendKind::Cargo,
            "zig is not installed; a cross linker for this target was found".to_owned(),
        );
    }
    if zig_ok {
        return (
            BackendKind::Zig,
            format!("{} (not installed yet: see missing)", zig::WHY),
        );
    }
    (
        BackendKind::Cargo,
        "no backend found for this target; cargo needs a linker (see missing)".to_owned(),
    )
}
