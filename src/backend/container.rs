//! The `container` backend: cargo runs *inside* a named image (`docker run` or
//! `podman run`), so the image's toolchain, linkers and system libraries build the target.
//!
//! The container sees the host's paths unchanged, so cargo's messages need no mapping:
//! the workspace is mounted read-only, the backend's own target directory read-write,
//! and the host's registry and git caches read-only inside a `CARGO_HOME` kept in that
//! target directory (cargo writes its lock files there). It runs with no network and
//! `--offline`: [`prepare`] runs `cargo fetch` on the host first, which writes the lock
//! file and fills the shared caches. The container is named (so that the runner can stop
//! it: a cargo that is PID 1 ignores SIGTERM), runs under `--init`, as the user's ids with
//! docker (rootful podman runs as root, which is the user; rootless podman maps root to the
//! user), and gets `-j` from the CPU budget, because the jobserver's pipe cannot reach it.

use std::path::{Path, PathBuf};

use super::{Invocation, cargo_args};
use crate::machine::{EngineKind, Machine};
use crate::process::Cmd;

/// The `CARGO_HOME` the container's cargo uses: inside the backend's target directory.
pub fn cargo_home(target_dir: &Path) -> PathBuf {
    target_dir.join("cargo-home")
}

/// `<engine> run … <image> cargo build …` for `inv`. Without container settings or an
/// image (the plan refuses that) the command names `docker` and no image.
pub fn command(inv: &Invocation) -> Cmd {
    let Some(run) = &inv.container else {
        return Cmd::new("docker", &inv.cwd).arg("run");
    };
    let home = cargo_home(&inv.target_dir);
    let mut cmd =
        Cmd::new(&run.engine.program, &inv.cwd).args(["run", "--rm", "--init", "--network=none"]);
    cmd = cmd.args(["--name", &run.name]);
    if run.engine.kind == EngineKind::Docker {
        cmd = cmd.args([
            "--user".to_owned(),
            format!("{}:{}", run.user_ids.0, run.user_ids.1),
        ]);
    }
    let volume = |host: &Path, inside: &Path, mode: &str| {
        format!("{}:{}:{mode}", host.display(), inside.display())
    };
    cmd = cmd.args([
        "--volume".to_owned(),
        volume(&run.workspace_root, &run.workspace_root, "ro"),
        "--volume".to_owned(),
        volume(&inv.target_dir, &inv.target_dir, "rw"),
    ]);
    for cache in &run.cargo_caches {
        cmd = cmd.args([
            "--volume".to_owned(),
            volume(&run.cargo_home.join(cache), &home.join(cache), "ro"),
        ]);
    }
    cmd = cmd.args(["--workdir".to_owned(), inv.cwd.display().to_string()]);
    cmd = cmd.args(["--env".to_owned(), format!("CARGO_HOME={}", home.display())]);
    for (k, v) in &inv.env {
        cmd = cmd.args(["--env".to_owned(), format!("{k}={v}")]);
    }
    cmd = cmd
        .arg(run.image.as_deref().unwrap_or_default())
        .args(["cargo", "build"])
        .args(cargo_args(inv, |t| t.triple.clone()));
    if !inv.flags.offline && !inv.flags.frozen {
        cmd = cmd.arg("--offline");
    }
    cmd
}

/// `cargo fetch` on the host, before the container starts: it writes `Cargo.lock` if
/// there is none and fills the registry and git caches the container reads offline.
pub fn prepare(inv: &Invocation, machine: &Machine) -> Cmd {
    let mut cmd = Cmd::new(&machine.cargo, &inv.cwd)
        .arg("fetch")
        .arg("--manifest-path")
        .arg(&inv.manifest_path);
    for (on, flag) in [
        (inv.flags.offline, "--offline"),
        (inv.flags.locked, "--locked"),
        (inv.flags.frozen, "--frozen"),
    ] {
        if on {
            cmd = cmd.arg(flag);
        }
    }
    cmd
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::backend::{CargoFlags, ContainerRun};
    use crate::machine::Engine;

    fn invocation(kind: EngineKind, cargo_home: &Path, caches: &[&str]) -> Invocation {
        Invocation {
            env: BTreeMap::from([(
                "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS".to_owned(),
                "-C x".to_owned(),
            )]),
            flags: CargoFlags {
                locked: true,
                ..CargoFlags::default()
            },
            jobs: Some(2),
            container: Some(ContainerRun {
                engine: Engine {
                    kind,
                    program: kind.as_str().into(),
                    reason: String::new(),
                },
                name: "parbuild-9-container".to_owned(),
                image: Some("localhost/parbuild-rust:bookworm".to_owned()),
                workspace_root: "/ws".into(),
                cargo_home: cargo_home.to_owned(),
                cargo_caches: caches.iter().map(|c| (*c).to_owned()).collect(),
                user_opts: None,
                user_ids: (1000, 100),
            }),
            ..crate::backend::sample_invocation("container")
        }
    }

    #[test]
    fn podman_runs_cargo_offline_in_the_image_with_the_project_read_only() {
        let home = Path::new("/home/me/.cargo");
        let h = home.display().to_string();
        let cmd = command(&invocation(EngineKind::Podman, home, &["registry"]));
        let expected: Vec<String> = [
            "podman",
            "run",
            "--rm",
            "--init",
            "--network=none",
            "--name",
            "parbuild-9-container",
            "--volume",
            "/ws:/ws:ro",
            "--volume",
            "/ws/target/parbuild/container:/ws/target/parbuild/container:rw",
            "--volume",
            &format!("{h}/registry:/ws/target/parbuild/container/cargo-home/registry:ro"),
            "--workdir",
            "/ws/hello",
            "--env",
            "CARGO_HOME=/ws/target/parbuild/container/cargo-home",
            "--env",
            "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS=-C x",
            "localhost/parbuild-rust:bookworm",
            "cargo",
            "build",
            "--manifest-path",
            "/ws/hello/Cargo.toml",
            "-p",
            "hello-provider",
            "--bin",
            "hello-provider",
            "--profile",
            "release",
            "--target",
            "aarch64-unknown-linux-gnu",
            "--target-dir",
            "/ws/target/parbuild/container",
            "--message-format=json-render-diagnostics",
            "--keep-going",
            "-j",
            "2",
            "--locked",
            "--offline",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        assert_eq!(cmd.argv_lossy(), expected);
        assert!(
            cmd.get_env().is_empty(),
            "nothing from the host's environment reaches the container"
        );
    }

    #[test]
    fn docker_runs_as_the_user_and_skips_missing_caches() {
        let argv =
            command(&invocation(EngineKind::Docker, Path::new("/h/.cargo"), &[])).argv_lossy();
        let at = argv.iter().position(|a| a == "--user").unwrap();
        assert_eq!(argv[at + 1], "1000:100");
        assert!(!argv.iter().any(|a| a.contains("registry")), "{argv:?}");
    }

    #[test]
    fn offline_is_not_repeated_and_prepare_fetches_on_the_host() {
        let mut inv = invocation(EngineKind::Podman, Path::new("/h/.cargo"), &[]);
        inv.flags.frozen = true;
        let argv = command(&inv).argv_lossy();
        assert!(
            !argv.iter().any(|a| a == "--offline"),
            "--frozen already means offline"
        );
        let machine = crate::machine::Machine {
            cargo: "/x/cargo".into(),
            ..crate::machine::sample()
        };
        assert_eq!(
            prepare(&inv, &machine).argv_lossy(),
            [
                "/x/cargo",
                "fetch",
                "--manifest-path",
                "/ws/hello/Cargo.toml",
                "--locked",
                "--frozen"
            ]
        );
    }
}
