//! Finding the tools the backends need and saying how to get the missing ones.
//!
//! Programs are looked up on `PATH`, then in parbuild's own tool venv
//! (`Env::tools_dir()/venv/bin`, where `doctor --fix` and `scripts/setup` put
//! cargo-zigbuild and zig from PyPI). Each missing thing is a [`Missing`] with the exact
//! command that fixes it, which `plan`, `build` and `doctor` all show.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::env::Env;
use crate::process::{Cmd, ProcessError};

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
    /// A Debian package (root only).
    Apt(String),
    /// `cargo install --locked NAME` (e.g. `cross`).
    CargoInstall(String),
}

/// Which container engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    /// Docker (a daemon must answer).
    Docker,
    /// Podman (daemonless).
    Podman,
}

impl EngineKind {
    /// `docker` or `podman`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Docker => "docker",
            Self::Podman => "podman",
        }
    }
}

/// The container engine the `cross` and `container` backends use.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Engine {
    /// Docker or podman.
    pub kind: EngineKind,
    /// The program.
    pub program: PathBuf,
    /// Why this one.
    pub reason: String,
}

/// The machine's tools, looked up lazily and cached.
#[derive(Debug)]
pub struct Toolbox {
    path_dirs: Vec<PathBuf>,
    venv: Option<PathBuf>,
    cargo: OsString,
    rustup: OsString,
    cwd: PathBuf,
    is_root: bool,
    installed_targets: OnceLock<Result<BTreeSet<String>, String>>,
    host: OnceLock<Result<String, String>>,
    sysroot: OnceLock<Option<PathBuf>>,
    engine_choice: Option<String>,
    engine: OnceLock<Option<Engine>>,
    engine_status: OnceLock<Result<String, String>>,
    images: std::sync::Mutex<std::collections::BTreeMap<String, bool>>,
}

impl Toolbox {
    /// Looks at `env` (`PATH`, `CARGO`, `RUSTUP`, the tools dir).
    pub fn new(env: &Env) -> Self {
        let path_dirs = env
            .var_os("PATH")
            .map(|p| std::env::split_paths(p).collect())
            .unwrap_or_default();
        Self {
            path_dirs,
            venv: env.tools_dir().map(|d| d.join("venv")),
            cargo: env
                .non_empty("CARGO")
                .map_or_else(|| "cargo".into(), Into::into),
            rustup: env
                .non_empty("RUSTUP")
                .map_or_else(|| "rustup".into(), Into::into),
            cwd: env.cwd().to_owned(),
            is_root: nix::unistd::geteuid().is_root(),
            installed_targets: OnceLock::new(),
            host: OnceLock::new(),
            sysroot: OnceLock::new(),
            engine_choice: env
                .non_empty("PARBUILD_CONTAINER_ENGINE")
                .map(str::to_owned),
            engine: OnceLock::new(),
            engine_status: OnceLock::new(),
            images: std::sync::Mutex::default(),
        }
    }

    /// The `cargo` to run (`$CARGO` when cargo runs us as `cargo parbuild`).
    pub fn cargo(&self) -> &OsString {
        &self.cargo
    }

    /// The venv parbuild installs cargo-zigbuild into.
    pub fn venv(&self) -> Option<&Path> {
        self.venv.as_deref()
    }

    /// `program` on `PATH`, else in the tool venv.
    pub fn which(&self, program: &str) -> Option<PathBuf> {
        self.path_dirs
            .iter()
            .chain(self.venv_bin().as_ref())
            .map(|d| d.join(program))
            .find(|p| is_executable(p))
    }

    fn venv_bin(&self) -> Option<PathBuf> {
        self.venv.as_ref().map(|v| v.join("bin"))
    }

    /// `cargo-zigbuild`, when installed.
    pub fn zigbuild(&self) -> Option<PathBuf> {
        self.which("cargo-zigbuild")
    }

    /// Whether zig itself can be found the way cargo-zigbuild looks for it: `zig` on
    /// `PATH`, or the `ziglang` Python package next to a venv cargo-zigbuild.
    pub fn zig_available(&self) -> bool {
        if self.which("zig").is_some() {
            return true;
        }
        self.zigbuild()
            .and_then(|zb| zb.parent().and_then(Path::parent).map(Path::to_owned))
            .is_some_and(|venv| venv_has_ziglang(&venv))
    }

    /// How a zig child finds zig when it is not on `PATH`: cargo-zigbuild then runs
    /// `python3 -m ziglang`, and `CARGO_ZIGBUILD_PYTHON_PATH` names the venv's python that
    /// has the `ziglang` package (the user's `PATH` is left alone).
    pub fn zig_python(&self) -> Option<PathBuf> {
        if self.which("zig").is_some() {
            return None;
        }
        let venv = self.zigbuild()?.parent()?.parent()?.to_owned();
        venv_has_ziglang(&venv).then(|| venv.join("bin/python3"))
    }

    /// The host's target triple (`rustc -vV`).
    pub fn host_triple(&self) -> Result<&str, String> {
        self.host
            .get_or_init(|| {
                let out = Cmd::new("rustc", &self.cwd)
                    .arg("-vV")
                    .read_stdout()
                    .map_err(|e| e.to_string())?;
                out.lines()
                    .find_map(|l| l.strip_prefix("host: "))
                    .map(str::to_owned)
                    .ok_or_else(|| "`rustc -vV` printed no host triple".to_owned())
            })
            .as_deref()
            .map_err(Clone::clone)
    }

    /// Targets whose std rustup has installed. Without rustup, `None` (assume present).
    pub fn installed_targets(&self) -> Option<&BTreeSet<String>> {
        self.installed_targets
            .get_or_init(|| {
                Cmd::new(&self.rustup, &self.cwd)
                    .args(["target", "list", "--installed"])
                    .read_stdout()
                    .map(|out| out.lines().map(str::to_owned).collect())
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .ok()
    }

    /// What is missing for `triple`'s standard library.
    pub fn std_missing(&self, triple: &str) -> Option<Missing> {
        let installed = self.installed_targets()?;
        (!installed.contains(triple)).then(|| Missing {
            what: format!("the Rust standard library for `{triple}`"),
            fix: format!("rustup target add {triple}"),
            install: Some(Install::RustupTarget(triple.to_owned())),
        })
    }

    /// The missing cargo-zigbuild/zig, if so.
    pub fn zig_missing(&self) -> Option<Missing> {
        if self.zigbuild().is_some() && self.zig_available() {
            return None;
        }
        let venv = self
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
    pub fn apt_missing(&self, program: &str, package: &str) -> Option<Missing> {
        self.which(program).is_none().then(|| Missing {
            what: format!("`{program}`"),
            fix: format!("apt-get install {package}"),
            install: Some(Install::Apt(package.to_owned())),
        })
    }

    /// The commands that perform `install`.
    pub fn install_commands(&self, install: &Install) -> Vec<Cmd> {
        match install {
            Install::RustupTarget(t) => {
                vec![Cmd::new(&self.rustup, &self.cwd).args(["target", "add", t])]
            }
            Install::Zigbuild => {
                let Some(venv) = &self.venv else {
                    return Vec::new();
                };
                let mut cmds = Vec::new();
                if !venv.join("bin/pip").exists() {
                    cmds.push(
                        Cmd::new("python3", &self.cwd)
                            .args(["-m", "venv"])
                            .arg(venv),
                    );
                }
                cmds.push(Cmd::new(venv.join("bin/pip"), &self.cwd).args([
                    "install",
                    "--quiet",
                    "cargo-zigbuild",
                ]));
                cmds
            }
            Install::Apt(pkg) => vec![
                Cmd::new("apt-get", &self.cwd).args(["update", "-qq"]),
                Cmd::new("apt-get", &self.cwd)
                    .args(["install", "-y", "-qq", "--no-install-recommends", pkg])
                    .env("DEBIAN_FRONTEND", "noninteractive"),
            ],
            Install::CargoInstall(name) => {
                vec![Cmd::new(&self.cargo, &self.cwd).args(["install", "--locked", name])]
            }
        }
    }

    /// The active toolchain's directory (`rustc --print sysroot`).
    pub fn sysroot(&self) -> Option<&Path> {
        self.sysroot
            .get_or_init(|| {
                Cmd::new("rustc", &self.cwd)
                    .args(["--print", "sysroot"])
                    .read_stdout()
                    .ok()
                    .filter(|s| !s.is_empty())
                    .map(PathBuf::from)
            })
            .as_deref()
    }

    /// The container engine: `$PARBUILD_CONTAINER_ENGINE` (`docker`, `podman` or a path),
    /// else docker when its daemon answers, else podman when installed, else docker
    /// when only its client is installed (it will say why it cannot run).
    pub fn engine(&self) -> Option<&Engine> {
        self.engine
            .get_or_init(|| {
                if let Some(choice) = &self.engine_choice {
                    let program = if choice.contains('/') {
                        PathBuf::from(choice)
                    } else {
                        self.which(choice).unwrap_or_else(|| PathBuf::from(choice))
                    };
                    let name = program
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let kind = if name.contains("podman") {
                        EngineKind::Podman
                    } else {
                        EngineKind::Docker
                    };
                    return Some(Engine {
                        kind,
                        program,
                        reason: "PARBUILD_CONTAINER_ENGINE".to_owned(),
                    });
                }
                let docker = self.which("docker");
                if let Some(program) = &docker {
                    let answers = Cmd::new(program, &self.cwd)
                        .args(["version", "--format", "{{.Server.Version}}"])
                        .output_checked()
                        .is_ok();
                    if answers {
                        return Some(Engine {
                            kind: EngineKind::Docker,
                            program: program.clone(),
                            reason: "a docker daemon answers".to_owned(),
                        });
                    }
                }
                if let Some(program) = self.which("podman") {
                    return Some(Engine {
                        kind: EngineKind::Podman,
                        program,
                        reason: if docker.is_some() {
                            "no docker daemon answers; podman needs none".to_owned()
                        } else {
                            "podman is installed (docker is not)".to_owned()
                        },
                    });
                }
                docker.map(|program| Engine {
                    kind: EngineKind::Docker,
                    program,
                    reason: "only the docker client is installed and no daemon answers".to_owned(),
                })
            })
            .as_ref()
    }

    /// Whether the engine can run containers (`docker info` / `podman info`): its
    /// runtime's name, or the error.
    pub fn engine_status(&self) -> Result<&str, &str> {
        self.engine_status
            .get_or_init(|| {
                let Some(engine) = self.engine() else {
                    return Err("no container engine is installed".to_owned());
                };
                let format = match engine.kind {
                    EngineKind::Podman => "{{.Host.OCIRuntime.Name}}",
                    EngineKind::Docker => "{{.DefaultRuntime}}",
                };
                Cmd::new(&engine.program, &self.cwd)
                    .args(["info", "--format", format])
                    .read_stdout()
                    .map_err(|e| match e {
                        ProcessError::Failed { stderr_tail, .. } => stderr_tail
                            .lines()
                            .last()
                            .unwrap_or("it failed")
                            .trim()
                            .to_owned(),
                        other => other.to_string(),
                    })
            })
            .as_deref()
            .map_err(String::as_str)
    }

    /// Whether the engine has `image` locally (`image inspect`; cached per image).
    pub fn image_present(&self, image: &str) -> bool {
        let Some(engine) = self.engine() else {
            return false;
        };
        let mut cache = self
            .images
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *cache.entry(image.to_owned()).or_insert_with(|| {
            Cmd::new(&engine.program, &self.cwd)
                .args(["image", "inspect", "--format", "{{.Id}}", image])
                .output_checked()
                .is_ok()
        })
    }

    /// What is missing to run containers: an engine that works.
    pub fn engine_missing(&self) -> Option<Missing> {
        match (self.engine(), self.engine_status()) {
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
    pub fn image_missing(&self, image: &str) -> Option<Missing> {
        let engine = self.engine()?;
        if self.engine_status().is_err() || self.image_present(image) {
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
    pub fn cross_missing(&self) -> Option<Missing> {
        self.which("cross").is_none().then(|| Missing {
            what: "`cross`".to_owned(),
            fix: "cargo install --locked cross".to_owned(),
            install: Some(Install::CargoInstall("cross".to_owned())),
        })
    }

    /// The user's numeric user and group ids (docker runs containers as them).
    pub fn user_ids(&self) -> (u32, u32) {
        (
            nix::unistd::getuid().as_raw(),
            nix::unistd::getgid().as_raw(),
        )
    }

    /// Whether parbuild may install Debian packages itself (running as root).
    pub fn can_apt(&self) -> bool {
        self.is_root && self.which("apt-get").is_some()
    }

    /// Runs `install`, returning the first failure.
    pub fn install(&self, install: &Install) -> Result<(), ProcessError> {
        for cmd in self.install_commands(install) {
            cmd.output_checked()?;
        }
        Ok(())
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn venv_has_ziglang(venv: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(venv.join("lib")) else {
        return false;
    };
    entries
        .flatten()
        .any(|py| py.path().join("site-packages/ziglang").is_dir())
}

/// The Debian cross gcc that links `triple`, as (program, package).
pub fn debian_linker(triple: &str) -> Option<(&'static str, &'static str)> {
    Some(match triple {
        "aarch64-unknown-linux-gnu" => ("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu"),
        "armv7-unknown-linux-gnueabihf" | "arm-unknown-linux-gnueabihf" => {
            ("arm-linux-gnueabihf-gcc", "gcc-arm-linux-gnueabihf")
        }
        "arm-unknown-linux-gnueabi" => ("arm-linux-gnueabi-gcc", "gcc-arm-linux-gnueabi"),
        "x86_64-unknown-linux-gnu" => ("x86_64-linux-gnu-gcc", "gcc-x86-64-linux-gnu"),
        "i686-unknown-linux-gnu" => ("i686-linux-gnu-gcc", "gcc-i686-linux-gnu"),
        "riscv64gc-unknown-linux-gnu" => ("riscv64-linux-gnu-gcc", "gcc-riscv64-linux-gnu"),
        "x86_64-pc-windows-gnu" => ("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64-posix"),
        _ => return None,
    })
}

/// The upper-case form cargo uses in `CARGO_TARGET_<TRIPLE>_*` variables.
pub fn target_env_key(triple: &str) -> String {
    triple.to_ascii_uppercase().replace(['-', '.'], "_")
}

/// `target.<triple>.linker` from the user's cargo configuration: `.cargo/config.toml`
/// (or `.cargo/config`) in `dir` and its ancestors, then `$CARGO_HOME/config.toml`,
/// the nearest first, as cargo reads them. Returns the value and the file it came from.
pub fn configured_linker(dir: &Path, env: &Env, triple: &str) -> Option<(String, PathBuf)> {
    let cargo_home = env
        .non_empty("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env.home().map(|h| h.join(".cargo")));
    let mut files: Vec<PathBuf> = dir
        .ancestors()
        .flat_map(|d| [d.join(".cargo/config.toml"), d.join(".cargo/config")])
        .collect();
    if let Some(home) = cargo_home {
        files.push(home.join("config.toml"));
        files.push(home.join("config"));
    }
    files.into_iter().find_map(|file| {
        let text = std::fs::read_to_string(&file).ok()?;
        let table: toml::Table = text.parse().ok()?;
        let linker = table
            .get("target")?
            .get(triple)?
            .get("linker")?
            .as_str()?
            .to_owned();
        Some((linker, file))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_key() {
        assert_eq!(
            target_env_key("aarch64-unknown-linux-gnu"),
            "AARCH64_UNKNOWN_LINUX_GNU"
        );
    }

    #[test]
    fn finds_linker_in_project_config() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        std::fs::create_dir_all(dir.path().join("a/.cargo")).unwrap();
        std::fs::create_dir_all(&nested).unwrap();
        std::fs::write(
            dir.path().join("a/.cargo/config.toml"),
            "[target.aarch64-unknown-linux-gnu]\nlinker = \"my-gcc\"\n",
        )
        .unwrap();
        let env = Env::from_vars([("HOME", dir.path().join("home"))], &nested);
        let (linker, file) = configured_linker(&nested, &env, "aarch64-unknown-linux-gnu").unwrap();
        assert_eq!(linker, "my-gcc");
        assert!(file.ends_with("a/.cargo/config.toml"));
        assert!(configured_linker(&nested, &env, "armv7-unknown-linux-gnueabihf").is_none());
    }
}
