//! Spelling the plan out: which drafted targets share one cargo invocation ([`group`]),
//! and for each invocation its target directory, log, environment, framework stubs,
//! container and the exact command the backend describes ([`invocations`]).

use std::collections::BTreeMap;
use std::path::Path;

use super::draft::{Draft, conflicts};
use super::{
    CachePlan, ContainerPlan, InvocationPlan, Overrides, StubsPlan, TargetPlan, profile_dir,
};
use crate::backend::zig::SdkSource;
use crate::backend::{self, CargoFlags, ContainerRun, EnvSetting, Invocation, TargetRequest};
use crate::env::Env;
use crate::machine::{Engine, EngineKind, Machine};
use crate::manifest::{BackendKind, Manifest, TargetSpec};
use crate::metadata::Package;
use crate::process::Cmd;

/// What every invocation is spelled from.
pub(super) struct Spelling<'a> {
    pub(super) manifest: &'a Manifest,
    pub(super) package: &'a Package,
    pub(super) overrides: &'a Overrides,
    pub(super) env: &'a Env,
    pub(super) machine: &'a Machine,
    pub(super) profile: &'a str,
    pub(super) jobs: usize,
}

/// Targets share an invocation when their backend, features and own `env` match and
/// the target-scoped variables parbuild adds do not conflict (e.g. the two macOS
/// targets need different `MACOSX_DEPLOYMENT_TARGET`s, so they are built apart).
pub(super) fn group(drafts: &[Draft<'_>]) -> Vec<Vec<usize>> {
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

/// The invocations of `groups` and the plan of every target in them, in draft order.
pub(super) fn invocations(
    s: &Spelling<'_>,
    drafts: &[Draft<'_>],
    groups: &[Vec<usize>],
    cache: &CachePlan,
    incremental: Option<&EnvSetting>,
) -> (Vec<InvocationPlan>, Vec<TargetPlan>) {
    let Spelling {
        manifest,
        package,
        overrides,
        env,
        machine,
        profile,
        jobs,
    } = *s;
    let base_dir = package.target_dir.join("parbuild");
    let secrets = secret_vars(manifest, env);
    let mut invocations = Vec::new();
    let mut targets = Vec::new();
    let mut per_backend: BTreeMap<BackendKind, usize> = BTreeMap::new();
    // A containerized cargo cannot join the jobserver: it gets a fixed share of the budget.
    let share = (jobs / groups.len().max(1)).clamp(1, jobs.max(1));
    for members in groups {
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
        if cache.applies_to(first.backend) {
            for (k, v) in &cache.env {
                inv_env.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        if let Some(s) = incremental {
            inv_env
                .entry(s.key.clone())
                .or_insert_with(|| s.value.clone());
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
                metadata: hide(
                    stubs_metadata_command(
                        machine,
                        package,
                        manifest,
                        first.spec,
                        &stub_triples,
                        overrides.flags,
                    ),
                    &secrets,
                ),
                triples: stub_triples,
                extra: manifest.macos_stubs.clone(),
            }
        });
        let containerized = backend::containerized(first.backend);
        let container = containerized.then(|| ContainerRun {
            engine: machine.engine().cloned().unwrap_or_else(|| Engine {
                kind: EngineKind::Docker,
                program: "docker".into(),
                reason: "no container engine is installed".to_owned(),
            }),
            name: format!("parbuild-{}-{dir_name}", machine.pid),
            image: first.image.clone(),
            workspace_root: package.workspace_root.clone(),
            cargo_home: machine.cargo_home.clone(),
            cargo_caches: machine.cargo_caches.clone(),
            user_opts: env.non_empty("CROSS_CONTAINER_OPTS").map(str::to_owned),
            user_ids: machine.user_ids,
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
            profile: profile.to_owned(),
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
                        .join(profile_dir(profile))
                        .join(package.artifact.file_name(&d.spec.triple)),
                    target_dir: target_dir.clone(),
                    invocation: index,
                    missing: d.missing.clone(),
                    image: d.image.clone(),
                    sdk,
                    count_command: hide(
                        Cmd::new(&machine.cargo, &package.workspace_root)
                            .args(["metadata", "--format-version", "1", "--filter-platform"])
                            .arg(&d.spec.triple)
                            .arg("--manifest-path")
                            .arg(&package.manifest_path)
                            .args(overrides.flags.args()),
                        &secrets,
                    ),
                },
            ));
        }
        let container = inv.container.as_ref().map(|run| ContainerPlan {
            cpu_tokens: share,
            name: run.name.clone(),
            stop: backend::stop_command(run, &inv.cwd),
            prepare: (first.backend == BackendKind::Container)
                .then(|| hide(backend::container::prepare(&inv, machine), &secrets)),
            paths: backend::path_map(first.backend, &inv),
            dirs: vec![inv.target_dir.clone()],
        });
        invocations.push(InvocationPlan {
            backend: first.backend,
            labels: members
                .iter()
                .map(|&i| drafts[i].spec.label.clone())
                .collect(),
            command: hide(backend::command(first.backend, &inv, machine), &secrets),
            log,
            container,
            stubs,
        });
    }
    targets.sort_by_key(|(i, _)| *i);
    (invocations, targets.into_iter().map(|(_, t)| t).collect())
}

/// `cargo metadata` resolved for the macOS triples, with the build's features: the
/// packages whose `extern` declarations say what the framework stubs must export.
fn stubs_metadata_command(
    machine: &Machine,
    package: &Package,
    manifest: &Manifest,
    spec: &TargetSpec,
    triples: &[String],
    flags: CargoFlags,
) -> Cmd {
    let mut cmd = Cmd::new(&machine.cargo, &package.workspace_root)
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

fn merged_features(manifest: &Manifest, spec: &TargetSpec) -> Vec<String> {
    let mut f = manifest.build.features.clone();
    f.extend(spec.features.iter().cloned());
    f.sort();
    f.dedup();
    f
}

/// The variables that hold signing seeds or registry passwords and are set: wash's
/// (`WASH_ISSUER_KEY`, `WASH_SUBJECT_KEY`, `WASH_REG_PASSWORD`) and the ones `[sign]`
/// names. No child of a build sees them: cargo runs build scripts and proc-macros of
/// every dependency, any of which could read its environment.
fn secret_vars(manifest: &Manifest, env: &Env) -> Vec<String> {
    let named = [&manifest.sign.issuer, &manifest.sign.subject]
        .into_iter()
        .filter_map(|k| match k {
            Some(crate::manifest::KeyRef::Env(var)) => Some(var.clone()),
            _ => None,
        });
    let mut vars: Vec<String> = ["WASH_ISSUER_KEY", "WASH_SUBJECT_KEY", "WASH_REG_PASSWORD"]
        .into_iter()
        .map(str::to_owned)
        .chain(named)
        .filter(|v| env.var_os(v).is_some())
        .collect();
    vars.sort();
    vars.dedup();
    vars
}

/// `cmd` without `secrets` in its environment.
fn hide(cmd: Cmd, secrets: &[String]) -> Cmd {
    secrets.iter().fold(cmd, |cmd, var| cmd.env_remove(var))
}
