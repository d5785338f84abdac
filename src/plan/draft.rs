//! Drafting: what the plan decides for each target alone (backend and why, environment,
//! glibc floor, image, macOS SDK, what is missing), from the manifest, the environment and
//! the probed machine; the host target joining zig's invocation; which targets are
//! selected; and what the machine must be asked before any of this ([`probe_request`],
//! [`container_images`]).

use std::collections::BTreeSet;

use super::{Overrides, PlanError};
use crate::backend::{self, EnvSetting, TargetContext};
use crate::env::Env;
use crate::machine::{Machine, ProbeRequest};
use crate::manifest::{BackendKind, Manifest, TargetSpec};
use crate::metadata::Package;
use crate::tools::Missing;

/// What the machine must be asked for this manifest: every target's linker settings
/// (all targets, not only the selected ones, as [`super::make`] drafts them all) and where the
/// project's cargo configuration and `Cross.toml` are.
pub fn probe_request<'a>(manifest: &'a Manifest, package: &'a Package) -> ProbeRequest<'a> {
    ProbeRequest {
        triples: manifest.targets.iter().map(|t| t.triple.clone()).collect(),
        manifest_dir: &manifest.dir,
        workspace_root: &package.workspace_root,
    }
}

/// The images the container engine must be asked about, or `None` when no target can be
/// built in a container: one with `backend = "cross"`/`"container"`, an image of its own,
/// an entry in `Cross.toml`, or that nothing but cross can build here (what
/// [`backend::choose_auto`] falls back to). Asking the engine costs a process or three, so
/// a build whose targets zig and cargo cover never asks.
pub fn container_images(
    manifest: &Manifest,
    overrides: &Overrides,
    env: &Env,
    machine: &Machine,
) -> Option<BTreeSet<String>> {
    let host = machine.host_triple().unwrap_or_default();
    let mut needed = false;
    let mut images = BTreeSet::new();
    for spec in &manifest.targets {
        let cx = target_context(manifest, spec, host, env, machine);
        let requested = requested_backend(manifest, overrides, spec);
        let only_cross_can = !backend::zig::supports(&spec.triple)
            && spec.triple != host
            && cx.user_linker.is_none()
            && backend::cargo::found_linker(&spec.triple, machine).is_none();
        let (container, cross) = match requested {
            BackendKind::Container => (true, false),
            BackendKind::Cross => (false, true),
            BackendKind::Auto => (
                cx.target_image && cx.image.is_some(),
                cx.cross_toml || only_cross_can,
            ),
            _ => (false, false),
        };
        needed |= container || cross;
        if container {
            images.extend(cx.image.clone());
        }
        if cross {
            images.insert(backend::cross::image(&spec.triple, &cx));
        }
    }
    needed.then_some(images)
}

/// One target, drafted: what the plan decided for it before it is grouped.
pub(super) struct Draft<'a> {
    pub(super) spec: &'a TargetSpec,
    /// The SDK of a macOS target built by zig.
    pub(super) sdk: Option<backend::zig::Sdk>,
    pub(super) backend: BackendKind,
    pub(super) reason: String,
    pub(super) env: Vec<EnvSetting>,
    pub(super) glibc: Option<String>,
    pub(super) image: Option<String>,
    pub(super) missing: Vec<Missing>,
    /// What the backend functions were told about this target.
    pub(super) cx: TargetContext,
}

/// Drafts every target of the manifest (the selected ones decide only which errors and
/// warnings matter): the backend `auto` or the user chose and why, the environment
/// parbuild adds, the glibc floor, the image, the macOS SDK, what is missing.
pub(super) fn all<'a>(
    manifest: &'a Manifest,
    selected: &[&TargetSpec],
    overrides: &Overrides,
    env: &Env,
    machine: &Machine,
    host: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<Draft<'a>>, PlanError> {
    let is_selected = |spec: &TargetSpec| selected.iter().any(|s| s.label == spec.label);
    let mut drafts = Vec::new();
    for spec in &manifest.targets {
        let cx = target_context(manifest, spec, host, env, machine);
        let requested = requested_backend(manifest, overrides, spec);
        let (backend, reason) = match requested {
            BackendKind::Auto => backend::choose_auto(&spec.triple, &cx, machine),
            _ => (requested, "chosen in par.toml or with --backend".to_owned()),
        };
        if backend == BackendKind::Container && cx.image.is_none() && is_selected(spec) {
            return Err(PlanError::NoImage {
                label: spec.label.to_string(),
            });
        }
        let mut env_settings = backend::target_env(backend, &spec.triple, &cx, machine);
        env_settings.extend(rustflags_env(spec, env));
        let missing = backend::missing(backend, &spec.triple, &cx, machine);
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

    Ok(drafts)
}

/// With `auto`, the host target goes to cargo, unless zig builds other targets of the
/// manifest it could share an invocation with (whether or not `--target` selected them, so
/// the choice never depends on the selection): then it joins them, so host build scripts and
/// proc-macros compile once in one target directory under one cargo (measured fastest,
/// BENCHMARKS.md), and the host binary gets the same glibc floor as the others. A linker
/// the user configured for the host, or `backend = "cargo"`, keeps it on cargo.
pub(super) fn join_host_to_zig(
    drafts: &mut [Draft<'_>],
    host: &str,
    manifest: &Manifest,
    overrides: &Overrides,
    env: &Env,
    machine: &Machine,
) {
    if !machine.has_zig() || !backend::zig::supports(host) {
        return;
    }
    let Some(i) = drafts.iter().position(|d| {
        d.spec.triple == host
            && d.backend == BackendKind::Cargo
            && requested_backend(manifest, overrides, d.spec) == BackendKind::Auto
    }) else {
        return;
    };
    let cx = drafts[i].cx.clone();
    if cx.user_linker.is_some() {
        return;
    }
    let env_settings: Vec<EnvSetting> = backend::target_env(BackendKind::Zig, host, &cx, machine)
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
    d.missing = backend::missing(BackendKind::Zig, host, &cx, machine);
}

pub(super) fn conflicts(a: &[EnvSetting], b: &[EnvSetting]) -> bool {
    a.iter()
        .any(|x| b.iter().any(|y| x.key == y.key && x.value != y.value))
}

/// Per-target rustflags from `par.toml`, as `CARGO_TARGET_<T>_RUSTFLAGS`, appended to the
/// user's own value of that variable.
pub(super) fn rustflags_env(spec: &TargetSpec, env: &Env) -> Option<EnvSetting> {
    if spec.rustflags.is_empty() {
        return None;
    }
    let key = format!(
        "CARGO_TARGET_{}_RUSTFLAGS",
        crate::target::env_key(&spec.triple)
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

pub(super) fn target_context(
    manifest: &Manifest,
    spec: &TargetSpec,
    host: &str,
    env: &Env,
    machine: &Machine,
) -> TargetContext {
    let cross_toml = machine
        .cross_toml
        .as_deref()
        .and_then(|text| backend::cross::cross_toml_entry(text, &spec.triple));
    TargetContext {
        host: host.to_owned(),
        user_linker: machine.user_linkers.get(&spec.triple).cloned(),
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

pub(super) fn select_targets<'a>(
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

/// The backend asked for `spec`: `--backend`, else the target's, else `[build] backend`.
fn requested_backend(manifest: &Manifest, overrides: &Overrides, spec: &TargetSpec) -> BackendKind {
    overrides
        .backend
        .or(spec.backend)
        .unwrap_or(manifest.build.backend)
}
