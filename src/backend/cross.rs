//! The `cross` backend: the `cross` program (cross-rs 0.2.5) with docker or podman, in the
//! image that `Cross.toml`, `CROSS_TARGET_<T>_IMAGE` or `par.toml` names, with the host's
//! toolchain mounted into the container.
//!
//! Everything is passed the way cross reads it, and only where the user has not said
//! otherwise: `CROSS_CONTAINER_ENGINE` (podman when no docker daemon answers), the image
//! per target, and two settings that keep cross from changing the host's toolchain (see
//! [`target_env`]). The container gets a name through `CROSS_CONTAINER_OPTS`, so that the
//! runner can stop it, and `-j` from the CPU budget, because the jobserver's pipe does not
//! reach into a container. cross takes one `--target` per run, so each cross invocation
//! builds one target.

use std::path::PathBuf;

use super::{EnvSetting, Invocation, PathMapping, TargetContext, cargo_args};
use crate::machine::{EngineKind, Machine};
use crate::process::Cmd;

/// The version whose behaviour this module knows.
pub const VERSION: &str = "0.2.5";

/// `CROSS_TARGET_<TRIPLE>_IMAGE`.
pub fn image_var(triple: &str) -> String {
    format!("CROSS_TARGET_{}_IMAGE", crate::target::env_key(triple))
}

/// The image cross will use for `triple`, the most specific first: the user's
/// `CROSS_TARGET_<T>_IMAGE`, the target's `image` in `par.toml`, its `Cross.toml` entry,
/// `[build] image`, else cross's own (pulled from ghcr.io).
pub fn image(triple: &str, cx: &TargetContext) -> String {
    cx.env
        .non_empty(&image_var(triple))
        .map(str::to_owned)
        .or_else(|| par_image(cx).map(str::to_owned))
        .or_else(|| cx.cross_toml_image.clone())
        .or_else(|| cx.image.clone())
        .unwrap_or_else(|| format!("ghcr.io/cross-rs/{triple}:{VERSION}"))
}

/// The image parbuild passes to cross: the target's own, or `[build] image` unless
/// `Cross.toml` names one for the target (cross reads that itself).
fn par_image(cx: &TargetContext) -> Option<&str> {
    let from_build = !cx.target_image && cx.cross_toml_image.is_none();
    cx.image
        .as_deref()
        .filter(|_| cx.target_image || from_build)
}

/// What parbuild sets for a cross build of `triple`, each unless the user set it:
///
/// * `CROSS_CONTAINER_ENGINE=podman` when podman is the engine (cross defaults to docker);
/// * `CROSS_TARGET_<T>_IMAGE` from `par.toml`;
/// * `RUSTUP_TOOLCHAIN=<sysroot>`: the same toolchain, named by its directory. cross 0.2.5
///   looks for the active toolchain in `rustup toolchain list` after removing
///   ` (default)`; rustup 1.28 and later print `(active, default)`, so cross never finds
///   it and runs `rustup toolchain add`, which updates `stable`. With a path, rustup marks
///   no listed toolchain active and cross finds it.
/// * `CROSS_CUSTOM_TOOLCHAIN=1`: otherwise cross runs `rustup component add rust-src` (or
///   `target add`) on the host's toolchain; `parbuild doctor` says what std is missing.
pub fn target_env(triple: &str, cx: &TargetContext, machine: &Machine) -> Vec<EnvSetting> {
    let mut out = Vec::new();
    let unset = |key: &str| cx.env.var_os(key).is_none();
    let podman = machine.engine().filter(|e| e.kind == EngineKind::Podman);
    if let Some(engine) = podman.filter(|_| unset("CROSS_CONTAINER_ENGINE")) {
        out.push(EnvSetting {
            key: "CROSS_CONTAINER_ENGINE".to_owned(),
            value: engine.program.display().to_string(),
            reason: format!("podman: {}", engine.reason),
        });
    }
    if let Some(image) = par_image(cx).filter(|_| unset(&image_var(triple))) {
        out.push(EnvSetting {
            key: image_var(triple),
            value: image.to_owned(),
            reason: if cx.target_image {
                "the image par.toml names for this target".to_owned()
            } else {
                "[build] image in par.toml".to_owned()
            },
        });
    }
    let user_toolchain = cx.env.non_empty("RUSTUP_TOOLCHAIN");
    let user_gave_a_path = user_toolchain.is_some_and(|t| t.contains('/'));
    if let Some(sysroot) = machine.sysroot.as_ref().filter(|_| !user_gave_a_path) {
        out.push(EnvSetting {
            key: "RUSTUP_TOOLCHAIN".to_owned(),
            value: sysroot.display().to_string(),
            reason: "the same toolchain by its path: cross 0.2.5 misreads rustup's `(active, default)` and would `rustup toolchain add` it".to_owned(),
        });
    }
    if unset("CROSS_CUSTOM_TOOLCHAIN") {
        out.push(EnvSetting {
            key: "CROSS_CUSTOM_TOOLCHAIN".to_owned(),
            value: "1".to_owned(),
            reason: "keeps cross from adding components to the host's toolchain".to_owned(),
        });
    }
    out
}

/// `cross build …` for `inv` (one target).
pub fn command(inv: &Invocation, machine: &Machine) -> Cmd {
    let program = machine
        .which("cross")
        .map_or_else(|| "cross".into(), PathBuf::into_os_string);
    let mut args = cargo_args(inv, |t| t.triple.clone());
    // cross rewrites `--target-dir` but passes `--manifest-path` on as it is, and the
    // host's absolute path does not exist in the container; the working directory (the
    // package's, mounted under `/project`) makes a relative one right in both places.
    if let Some(at) = args.iter().position(|a| a == "--manifest-path")
        && let Ok(rel) = inv.manifest_path.strip_prefix(&inv.cwd)
    {
        args[at + 1] = rel.display().to_string();
    }
    let mut cmd = Cmd::new(program, &inv.cwd).arg("build").args(args);
    for (k, v) in &inv.env {
        cmd = cmd.env(k, v);
    }
    if let Some(run) = &inv.container {
        let ours = format!("--name {} --init", run.name);
        let opts = match &run.user_opts {
            Some(user) => format!("{user} {ours}"),
            None => ours,
        };
        cmd = cmd.env("CROSS_CONTAINER_OPTS", opts);
    }
    // cross hands every CARGO_* variable to cargo in the container: a jobserver there
    // would name file descriptors that do not exist. `-j` replaces it.
    for var in ["CARGO_MAKEFLAGS", "MAKEFLAGS", "MFLAGS"] {
        cmd = cmd.env_remove(var);
    }
    cmd
}

/// cross mounts the target directory at `/target`, the workspace at `/project` and
/// `CARGO_HOME` at `/cargo` (0.2.5, when the working directory is in the workspace).
pub fn path_map(inv: &Invocation) -> Vec<PathMapping> {
    let mut map = vec![PathMapping {
        container: "/target".into(),
        host: inv.target_dir.clone(),
    }];
    if let Some(run) = &inv.container {
        map.push(PathMapping {
            container: "/project".into(),
            host: run.workspace_root.clone(),
        });
        map.push(PathMapping {
            container: "/cargo".into(),
            host: run.cargo_home.clone(),
        });
    }
    map
}

/// The `[target.<triple>]` image of a `Cross.toml`, and whether the table exists at all
/// (it may name a Dockerfile or only pre-build steps).
pub fn cross_toml_entry(text: &str, triple: &str) -> Option<Option<String>> {
    let table: toml::Table = text.parse().ok()?;
    let entry = table.get("target")?.get(triple)?;
    let image = match entry.get("image") {
        Some(toml::Value::String(s)) => Some(s.clone()),
        Some(toml::Value::Table(t)) => t.get("name").and_then(|n| n.as_str()).map(str::to_owned),
        _ => None,
    };
    Some(image)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::backend::{ContainerRun, host_path};
    use crate::env::Env;
    use crate::machine::Engine;

    fn invocation(env: &[(&str, &str)]) -> Invocation {
        Invocation {
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>(),
            jobs: Some(1),
            container: Some(ContainerRun {
                engine: Engine {
                    kind: EngineKind::Podman,
                    program: "/usr/bin/podman".into(),
                    reason: String::new(),
                },
                name: "parbuild-7-cross".to_owned(),
                image: None,
                workspace_root: "/ws".into(),
                cargo_home: "/root/.cargo".into(),
                cargo_caches: Vec::new(),
                user_opts: None,
                user_ids: (0, 0),
            }),
            ..crate::backend::sample_invocation("cross")
        }
    }

    #[test]
    fn command_is_cross_build_with_cargo_args_a_job_count_and_a_named_container() {
        let machine = crate::machine::sample();
        let cmd = command(
            &invocation(&[("CROSS_CONTAINER_ENGINE", "/usr/bin/podman")]),
            &machine,
        );
        assert_eq!(
            cmd.argv_lossy(),
            [
                "cross",
                "build",
                "--manifest-path",
                "Cargo.toml",
                "-p",
                "hello-provider",
                "--bin",
                "hello-provider",
                "--profile",
                "release",
                "--target",
                "aarch64-unknown-linux-gnu",
                "--target-dir",
                "/ws/target/parbuild/cross",
                "--message-format=json-render-diagnostics",
                "--keep-going",
                "-j",
                "1",
            ]
        );
        assert_eq!(cmd.cwd(), std::path::Path::new("/ws/hello"));
        let env = cmd.env_lossy();
        assert_eq!(
            env["CROSS_CONTAINER_ENGINE"].as_deref(),
            Some("/usr/bin/podman")
        );
        assert_eq!(
            env["CROSS_CONTAINER_OPTS"].as_deref(),
            Some("--name parbuild-7-cross --init")
        );
        assert_eq!(env["CARGO_MAKEFLAGS"], None, "the jobserver stays outside");
        assert!(env.contains_key("MAKEFLAGS") && env.contains_key("MFLAGS"));
    }

    #[test]
    fn users_container_opts_come_first() {
        let machine = crate::machine::sample();
        let mut inv = invocation(&[]);
        if let Some(run) = inv.container.as_mut() {
            run.user_opts = Some("--cpus 1".to_owned());
        }
        let cmd = command(&inv, &machine);
        assert!(
            cmd.to_string()
                .contains("CROSS_CONTAINER_OPTS='--cpus 1 --name parbuild-7-cross --init'"),
            "{cmd}"
        );
    }

    #[test]
    fn container_paths_map_to_the_host() {
        let map = path_map(&invocation(&[]));
        let host = |p: &str| host_path(&map, std::path::Path::new(p));
        assert_eq!(
            host("/target/aarch64-unknown-linux-gnu/release/hello-provider"),
            PathBuf::from(
                "/ws/target/parbuild/cross/aarch64-unknown-linux-gnu/release/hello-provider"
            )
        );
        assert_eq!(
            host("/project/hello/src/main.rs"),
            PathBuf::from("/ws/hello/src/main.rs")
        );
        assert_eq!(
            host("/cargo/registry/src/x/serde-1.0.0/src/lib.rs"),
            PathBuf::from("/root/.cargo/registry/src/x/serde-1.0.0/src/lib.rs")
        );
    }

    #[test]
    fn env_respects_the_users_settings() {
        let machine = crate::machine::sample();
        let triple = "aarch64-unknown-linux-gnu";
        let cx = TargetContext {
            image: Some("localhost/mine:1".to_owned()),
            target_image: true,
            env: Env::from_vars([("PATH", "/nonexistent")], "/"),
            ..TargetContext::default()
        };
        let keys = |settings: Vec<EnvSetting>| {
            settings
                .into_iter()
                .map(|s| (s.key, s.value))
                .collect::<BTreeMap<_, _>>()
        };
        let env = keys(target_env(triple, &cx, &machine));
        assert_eq!(
            env["CROSS_TARGET_AARCH64_UNKNOWN_LINUX_GNU_IMAGE"],
            "localhost/mine:1"
        );
        assert_eq!(env["CROSS_CUSTOM_TOOLCHAIN"], "1");
        assert_eq!(image(triple, &cx), "localhost/mine:1");

        let cx = TargetContext {
            env: Env::from_vars(
                [
                    ("CROSS_TARGET_AARCH64_UNKNOWN_LINUX_GNU_IMAGE", "theirs:2"),
                    ("CROSS_CUSTOM_TOOLCHAIN", ""),
                ],
                "/",
            ),
            ..cx
        };
        let env = keys(target_env(triple, &cx, &machine));
        assert!(!env.contains_key("CROSS_TARGET_AARCH64_UNKNOWN_LINUX_GNU_IMAGE"));
        assert!(!env.contains_key("CROSS_CUSTOM_TOOLCHAIN"));
        assert_eq!(image(triple, &cx), "theirs:2");
        let cx = TargetContext::default();
        assert_eq!(
            image(triple, &cx),
            "ghcr.io/cross-rs/aarch64-unknown-linux-gnu:0.2.5"
        );
        // A Cross.toml entry is more specific than `[build] image`, and cross reads it itself.
        let var = "CROSS_TARGET_AARCH64_UNKNOWN_LINUX_GNU_IMAGE";
        let cx = TargetContext {
            image: Some("build-default:1".to_owned()),
            cross_toml_image: Some("from-cross-toml:1".to_owned()),
            cross_toml: true,
            ..TargetContext::default()
        };
        assert_eq!(image(triple, &cx), "from-cross-toml:1");
        assert!(!keys(target_env(triple, &cx, &machine)).contains_key(var));
        let cx = TargetContext {
            cross_toml_image: None,
            ..cx
        };
        assert_eq!(image(triple, &cx), "build-default:1");
        assert_eq!(
            keys(target_env(triple, &cx, &machine))[var],
            "build-default:1"
        );
    }

    #[test]
    fn reads_cross_toml_entries() {
        let text = "[target.aarch64-unknown-linux-gnu]\nimage = \"localhost/x:1\"\n\n[target.armv7-unknown-linux-gnueabihf]\ndockerfile = \"Dockerfile\"\n";
        assert_eq!(
            cross_toml_entry(text, "aarch64-unknown-linux-gnu"),
            Some(Some("localhost/x:1".to_owned()))
        );
        assert_eq!(
            cross_toml_entry(text, "armv7-unknown-linux-gnueabihf"),
            Some(None)
        );
        assert_eq!(cross_toml_entry(text, "x86_64-apple-darwin"), None);
        assert_eq!(cross_toml_entry("not toml [", "x"), None);
    }
}
