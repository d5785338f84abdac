//! The machine, probed once: every fact a plan needs about this computer and the user's
//! tool settings, gathered in one step before planning, so that `plan::make` is a pure
//! function of (`Manifest`, `Machine`, options) that unit tests drive with hand-made
//! machines.
//!
//! [`Machine::probe`] is the only code that looks at the machine before a build: it
//! finds programs on `PATH` and in parbuild's tool venv, asks `rustc` for the host triple
//! and sysroot (one process) and reads the installed targets from the sysroot's rustup
//! manifests (rustup only for a toolchain without them), and reads the user's linker
//! settings (`CARGO_TARGET_<T>_LINKER`, `.cargo/config.toml`) and `Cross.toml`. The
//! container engine is slower to ask (`docker version`, `podman info`, one `image
//! inspect` per image), so [`Machine::probe_containers`] asks it only when the plan says a
//! target may need it (`plan::container_images`). Afterwards the machine is plain data.
//!
//! One file because the facts and the one probe that gathers them are one job: every field
//! of [`Machine`] is filled by [`Machine::probe`] or [`Machine::probe_containers`] right
//! here; about a quarter of it is their tests.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::env::Env;
use crate::process::{Cmd, ProcessError};

/// The programs parbuild may look for, besides the cross linkers of each target.
const PROGRAMS: &[&str] = &[
    "cargo-zigbuild",
    "zig",
    "cross",
    "docker",
    "podman",
    "apt-get",
    "sccache",
];

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

/// What the container engine said, when it was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Containers {
    /// The engine chosen, if any is installed.
    pub engine: Option<Engine>,
    /// Whether it runs containers (`info`): its runtime's name, or why not.
    pub status: Result<String, String>,
    /// Whether the engine has each image the plan may use.
    pub images: BTreeMap<String, bool>,
}

/// A linker the user configured for a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserLinker {
    /// The value (a program, maybe with arguments).
    pub linker: String,
    /// Where it was set, for messages: `CARGO_TARGET_<T>_LINKER` or
    /// `target.<T>.linker in <file>`.
    pub origin: String,
    /// Whether the program exists (an absolute path that exists, or found on `PATH`).
    pub found: bool,
}

/// Every fact about the machine that planning needs.
#[derive(Debug, Clone)]
pub struct Machine {
    /// The host triple (`rustc -vV`), or why it is unknown.
    pub host: Result<String, String>,
    /// The `cargo` to run (`$CARGO` when cargo runs us as `cargo parbuild`).
    pub cargo: OsString,
    /// The `rustup` to run.
    pub rustup: OsString,
    /// The working directory programs run in when nothing else is meant.
    pub cwd: PathBuf,
    /// CPUs available to this process (the default `--jobs`).
    pub cpus: usize,
    /// This process's id (names containers, so two builds never share one).
    pub pid: u32,
    /// The user's numeric user and group ids (docker runs containers as them).
    pub user_ids: (u32, u32),
    /// Whether parbuild runs as root (it may then install Debian packages).
    pub is_root: bool,
    /// parbuild's tool venv (`doctor --fix` installs cargo-zigbuild there).
    pub venv: Option<PathBuf>,
    /// Programs looked for, and where they were found.
    pub programs: BTreeMap<String, Option<PathBuf>>,
    /// Whether zig can be found the way cargo-zigbuild looks for it.
    pub zig_available: bool,
    /// When zig is not on `PATH` but in the venv's `ziglang` package: that venv's python,
    /// which cargo-zigbuild is pointed at (`CARGO_ZIGBUILD_PYTHON_PATH`).
    pub zig_python: Option<PathBuf>,
    /// Targets whose std rustup has installed (`None`: no rustup, assume present).
    pub installed_targets: Option<BTreeSet<String>>,
    /// The active toolchain's directory (`rustc --print sysroot`).
    pub sysroot: Option<PathBuf>,
    /// The linker the user configured for each target that has one.
    pub user_linkers: BTreeMap<String, UserLinker>,
    /// The project's `Cross.toml` as cross finds it, as text.
    pub cross_toml: Option<String>,
    /// The host's `CARGO_HOME`.
    pub cargo_home: PathBuf,
    /// Which of its caches (`registry`, `git`) exist: a container gets them read-only.
    pub cargo_caches: Vec<String>,
    /// The rustc wrapper the user set (`RUSTC_WRAPPER`, `CARGO_BUILD_RUSTC_WRAPPER` or
    /// `build.rustc-wrapper` in their cargo configuration), with where it was set.
    pub user_wrapper: Option<(String, String)>,
    /// The container engine, when the plan needed to ask it.
    pub containers: Option<Containers>,
}

/// What to probe: the targets whose linkers matter, and where the project is.
#[derive(Debug, Clone)]
pub struct ProbeRequest<'a> {
    /// Every triple of the manifest.
    pub triples: Vec<String>,
    /// The directory of `par.toml` (cargo configuration is found from there upward).
    pub manifest_dir: &'a Path,
    /// The cargo workspace root (`Cross.toml` lives there).
    pub workspace_root: &'a Path,
}

impl Machine {
    /// Probes the machine: programs, the toolchain, the user's linker settings and
    /// `Cross.toml`. The container engine is asked later, only if needed
    /// ([`Self::probe_containers`]).
    pub fn probe(env: &Env, request: &ProbeRequest<'_>) -> Self {
        let path_dirs: Vec<PathBuf> = env
            .var_os("PATH")
            .map(|p| std::env::split_paths(p).collect())
            .unwrap_or_default();
        let venv = env.tools_dir().map(|d| d.join("venv"));
        let dirs: Vec<PathBuf> = path_dirs
            .iter()
            .cloned()
            .chain(venv.as_ref().map(|v| v.join("bin")))
            .collect();
        let which = |program: &str| {
            dirs.iter()
                .map(|d| d.join(program))
                .find(|p| is_executable(p))
        };
        let mut names: BTreeSet<String> = PROGRAMS.iter().map(|s| (*s).to_owned()).collect();
        names.extend(
            request
                .triples
                .iter()
                .filter_map(|t| crate::target::debian_linker(t))
                .map(|(program, _)| program.to_owned()),
        );
        let mut user_linkers = BTreeMap::new();
        for triple in &request.triples {
            if let Some(linker) = user_linker(request.manifest_dir, env, triple) {
                names.insert(linker.0.split_whitespace().next().unwrap_or("").to_owned());
                user_linkers.insert(triple.clone(), linker);
            }
        }
        let programs: BTreeMap<String, Option<PathBuf>> = names
            .into_iter()
            .filter(|n| !n.is_empty() && !n.contains('/'))
            .map(|n| {
                let found = which(&n);
                (n, found)
            })
            .collect();
        let user_linkers = user_linkers
            .into_iter()
            .map(|(triple, (linker, origin))| {
                let program = linker.split_whitespace().next().unwrap_or(&linker);
                let found = if Path::new(program).is_absolute() {
                    Path::new(program).exists()
                } else {
                    programs.get(program).is_some_and(Option::is_some)
                };
                (
                    triple,
                    UserLinker {
                        linker,
                        origin,
                        found,
                    },
                )
            })
            .collect();
        let zig_on_path = programs.get("zig").is_some_and(Option::is_some);
        let venv_with_zig = programs
            .get("cargo-zigbuild")
            .cloned()
            .flatten()
            .and_then(|zb| zb.parent().and_then(Path::parent).map(Path::to_owned))
            .filter(|v| venv_has_ziglang(v));
        let cwd = env.cwd().to_owned();
        let cargo_home = env
            .non_empty("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| env.home().map(|h| h.join(".cargo")))
            .unwrap_or_else(|| PathBuf::from(".cargo"));
        let cargo_caches = ["registry", "git"]
            .into_iter()
            .filter(|c| cargo_home.join(c).is_dir())
            .map(str::to_owned)
            .collect();
        let rustup: OsString = env
            .non_empty("RUSTUP")
            .map_or_else(|| "rustup".into(), Into::into);
        let (host, sysroot) = rustc_facts(&cwd);
        Self {
            host,
            cargo: env
                .non_empty("CARGO")
                .map_or_else(|| "cargo".into(), Into::into),
            installed_targets: sysroot.as_deref().and_then(installed_std).or_else(|| {
                Cmd::new(&rustup, &cwd)
                    .args(["target", "list", "--installed"])
                    .read_stdout()
                    .map(|out| out.lines().map(str::to_owned).collect())
                    .ok()
            }),
            rustup,
            sysroot,
            cpus: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            pid: std::process::id(),
            user_ids: (
                nix::unistd::getuid().as_raw(),
                nix::unistd::getgid().as_raw(),
            ),
            is_root: nix::unistd::geteuid().is_root(),
            venv,
            zig_available: zig_on_path || venv_with_zig.is_some(),
            zig_python: venv_with_zig
                .filter(|_| !zig_on_path)
                .map(|v| v.join("bin/python3")),
            programs,
            user_linkers,
            cross_toml: cross_toml(request.workspace_root, env),
            user_wrapper: user_wrapper(request.manifest_dir, env),
            cargo_home,
            cargo_caches,
            containers: None,
            cwd,
        }
    }

    /// Asks the container engine: which one (`$PARBUILD_CONTAINER_ENGINE`, else docker when
    /// its daemon answers, else podman, else docker's client alone), whether it runs
    /// containers, and whether it has each of `images`.
    pub fn probe_containers(&mut self, env: &Env, images: &BTreeSet<String>) {
        let engine = self.choose_engine(env.non_empty("PARBUILD_CONTAINER_ENGINE"));
        let status = match &engine {
            None => Err("no container engine is installed".to_owned()),
            Some(engine) => engine_status(engine, &self.cwd),
        };
        let images = match (&engine, &status) {
            (Some(engine), Ok(_)) => images
                .iter()
                .map(|image| {
                    let present = Cmd::new(&engine.program, &self.cwd)
                        .args(["image", "inspect", "--format", "{{.Id}}", image])
                        .output_checked()
                        .is_ok();
                    (image.clone(), present)
                })
                .collect(),
            _ => BTreeMap::new(),
        };
        self.containers = Some(Containers {
            engine,
            status,
            images,
        });
    }

    fn choose_engine(&self, choice: Option<&str>) -> Option<Engine> {
        if let Some(choice) = choice {
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
    }

    /// Where `program` was found (only programs the probe looked for).
    pub fn which(&self, program: &str) -> Option<PathBuf> {
        self.programs.get(program).cloned().flatten()
    }

    /// `cargo-zigbuild`, when installed.
    pub fn zigbuild(&self) -> Option<PathBuf> {
        self.which("cargo-zigbuild")
    }

    /// Whether cargo-zigbuild and zig are both here.
    pub fn has_zig(&self) -> bool {
        self.zigbuild().is_some() && self.zig_available
    }

    /// The host triple.
    pub fn host_triple(&self) -> Result<&str, &str> {
        self.host.as_deref().map_err(String::as_str)
    }

    /// The container engine, if it was asked and one is installed.
    pub fn engine(&self) -> Option<&Engine> {
        self.containers.as_ref()?.engine.as_ref()
    }

    /// Whether the engine runs containers: its runtime's name, or why not.
    pub fn engine_status(&self) -> Result<&str, &str> {
        match &self.containers {
            Some(c) => c.status.as_deref().map_err(String::as_str),
            None => Err("the container engine was not asked (no target needs it)"),
        }
    }

    /// Whether the engine has `image` (`false` when it was not asked).
    pub fn image_present(&self, image: &str) -> bool {
        self.containers
            .as_ref()
            .and_then(|c| c.images.get(image))
            .copied()
            .unwrap_or(false)
    }

    /// Whether parbuild may install Debian packages itself (running as root).
    pub fn can_apt(&self) -> bool {
        self.is_root && self.which("apt-get").is_some()
    }
}

/// A machine with nothing installed but the host's toolchain (`x86_64-unknown-linux-gnu`,
/// std for it alone), for unit tests to adjust.
#[cfg(test)]
pub(crate) fn sample() -> Machine {
    Machine {
        host: Ok("x86_64-unknown-linux-gnu".to_owned()),
        cargo: "cargo".into(),
        rustup: "rustup".into(),
        cwd: "/ws".into(),
        cpus: 2,
        pid: 42,
        user_ids: (1000, 1000),
        is_root: false,
        venv: Some("/home/me/.local/share/parbuild/venv".into()),
        programs: BTreeMap::new(),
        zig_available: false,
        zig_python: None,
        installed_targets: Some(["x86_64-unknown-linux-gnu".to_owned()].into()),
        sysroot: Some("/home/me/.rustup/toolchains/stable-x86_64-unknown-linux-gnu".into()),
        user_linkers: BTreeMap::new(),
        cross_toml: None,
        user_wrapper: None,
        cargo_home: "/home/me/.cargo".into(),
        cargo_caches: vec!["registry".to_owned()],
        containers: None,
    }
}

/// The host triple and the sysroot, from one `rustc --print sysroot --print host-tuple`
/// (rustc 1.84 and later; an older rustc is asked twice, `-vV` and `--print sysroot`).
/// Each process costs tens of milliseconds through rustup's proxy, on every build.
fn rustc_facts(cwd: &Path) -> (Result<String, String>, Option<PathBuf>) {
    if let Ok(out) = Cmd::new("rustc", cwd)
        .args(["--print", "sysroot", "--print", "host-tuple"])
        .read_stdout()
    {
        let mut lines = out.lines().map(str::trim).filter(|l| !l.is_empty());
        if let (Some(sysroot), Some(host), None) = (lines.next(), lines.next(), lines.next()) {
            return (Ok(host.to_owned()), Some(PathBuf::from(sysroot)));
        }
    }
    let sysroot = Cmd::new("rustc", cwd)
        .args(["--print", "sysroot"])
        .read_stdout()
        .ok()
        .filter(|s| !s.is_empty())
        .map(PathBuf::from);
    (host_triple(cwd), sysroot)
}

/// The targets whose standard library rustup installed into `sysroot`: its install
/// manifests `lib/rustlib/manifest-rust-std-<triple>`, what `rustup target list
/// --installed` reads, without starting rustup. `None` when there are none (a toolchain
/// not installed by rustup): rustup is then asked.
fn installed_std(sysroot: &Path) -> Option<BTreeSet<String>> {
    let found: BTreeSet<String> = std::fs::read_dir(sysroot.join("lib/rustlib"))
        .ok()?
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_prefix("manifest-rust-std-")
                .map(str::to_owned)
        })
        .collect();
    (!found.is_empty()).then_some(found)
}

fn host_triple(cwd: &Path) -> Result<String, String> {
    let out = Cmd::new("rustc", cwd)
        .arg("-vV")
        .read_stdout()
        .map_err(|e| e.to_string())?;
    out.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_owned)
        .ok_or_else(|| "`rustc -vV` printed no host triple".to_owned())
}

fn engine_status(engine: &Engine, cwd: &Path) -> Result<String, String> {
    let format = match engine.kind {
        EngineKind::Podman => "{{.Host.OCIRuntime.Name}}",
        EngineKind::Docker => "{{.DefaultRuntime}}",
    };
    Cmd::new(&engine.program, cwd)
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
}

/// The linker the user set for `triple`: `CARGO_TARGET_<T>_LINKER`, else
/// `target.<T>.linker` from their cargo configuration; with where it was set.
fn user_linker(dir: &Path, env: &Env, triple: &str) -> Option<(String, String)> {
    let var = format!("CARGO_TARGET_{}_LINKER", crate::target::env_key(triple));
    if let Some(v) = env.non_empty(&var) {
        return Some((v.to_owned(), var));
    }
    configured_linker(dir, env, triple)
        .map(|(l, file)| (l, format!("target.{triple}.linker in {}", file.display())))
}

/// The rustc wrapper the user set, as cargo finds it (`RUSTC_WRAPPER`, then
/// `CARGO_BUILD_RUSTC_WRAPPER`, then `build.rustc-wrapper`), with where it was set. An
/// empty `RUSTC_WRAPPER` is cargo's way to turn a configured wrapper off: it counts.
fn user_wrapper(dir: &Path, env: &Env) -> Option<(String, String)> {
    for var in ["RUSTC_WRAPPER", "CARGO_BUILD_RUSTC_WRAPPER"] {
        if let Some(v) = env.var_os(var) {
            return Some((v.to_string_lossy().into_owned(), var.to_owned()));
        }
    }
    configured(dir, env, &["build", "rustc-wrapper"])
        .map(|(w, file)| (w, format!("build.rustc-wrapper in {}", file.display())))
}

/// `target.<triple>.linker` from the user's cargo configuration.
pub fn configured_linker(dir: &Path, env: &Env, triple: &str) -> Option<(String, PathBuf)> {
    configured(dir, env, &["target", triple, "linker"])
}

/// A string setting of the user's cargo configuration: `.cargo/config.toml` (or
/// `.cargo/config`) in `dir` and its ancestors, then `$CARGO_HOME/config.toml`, the nearest
/// first, as cargo reads them. Returns the value and the file it came from.
fn configured(dir: &Path, env: &Env, keys: &[&str]) -> Option<(String, PathBuf)> {
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
        let table: toml::Value = text.parse::<toml::Table>().ok()?.into();
        let value = keys
            .iter()
            .try_fold(&table, |v, k| v.get(k))?
            .as_str()?
            .to_owned();
        Some((value, file))
    })
}

/// The project's `Cross.toml` as cross finds it (`$CROSS_CONFIG`, else in the workspace
/// root), as text.
fn cross_toml(workspace_root: &Path, env: &Env) -> Option<String> {
    let path = env
        .non_empty("CROSS_CONFIG")
        .map_or_else(|| workspace_root.join("Cross.toml"), |p| env.cwd().join(p));
    std::fs::read_to_string(path).ok()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_targets_are_read_from_rustups_manifests_in_the_sysroot() {
        let dir = tempfile::tempdir().unwrap();
        let rustlib = dir.path().join("lib/rustlib");
        std::fs::create_dir_all(rustlib.join("x86_64-unknown-linux-gnu/lib")).unwrap();
        for f in [
            "manifest-rust-std-x86_64-unknown-linux-gnu",
            "manifest-rust-std-aarch64-apple-darwin",
            "manifest-rustc-x86_64-unknown-linux-gnu",
            "components",
        ] {
            std::fs::write(rustlib.join(f), "").unwrap();
        }
        assert_eq!(
            installed_std(dir.path()),
            Some(
                ["aarch64-apple-darwin", "x86_64-unknown-linux-gnu"]
                    .map(str::to_owned)
                    .into()
            )
        );
        // No manifests (not a rustup toolchain): rustup is asked instead.
        std::fs::remove_file(rustlib.join("manifest-rust-std-x86_64-unknown-linux-gnu")).unwrap();
        std::fs::remove_file(rustlib.join("manifest-rust-std-aarch64-apple-darwin")).unwrap();
        assert_eq!(installed_std(dir.path()), None);
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

    #[test]
    fn the_probe_finds_programs_linkers_and_cross_toml() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        for program in ["cross", "aarch64-linux-gnu-gcc", "not-executable"] {
            std::fs::write(bin.join(program), "#!/bin/sh\n").unwrap();
        }
        use std::os::unix::fs::PermissionsExt as _;
        for program in ["cross", "aarch64-linux-gnu-gcc"] {
            std::fs::set_permissions(bin.join(program), std::fs::Permissions::from_mode(0o755))
                .unwrap();
        }
        std::fs::write(
            dir.path().join("Cross.toml"),
            "[target.armv7-unknown-linux-gnueabihf]\nimage = \"x\"\n",
        )
        .unwrap();
        let env = Env::from_vars(
            [
                ("PATH", bin.display().to_string()),
                (
                    "CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_LINKER",
                    "/nonexistent/gcc".to_owned(),
                ),
                ("HOME", dir.path().join("home").display().to_string()),
            ],
            dir.path(),
        );
        let m = Machine::probe(
            &env,
            &ProbeRequest {
                triples: vec![
                    "aarch64-unknown-linux-gnu".to_owned(),
                    "armv7-unknown-linux-gnueabihf".to_owned(),
                ],
                manifest_dir: dir.path(),
                workspace_root: dir.path(),
            },
        );
        assert_eq!(m.which("cross"), Some(bin.join("cross")));
        assert_eq!(
            m.which("aarch64-linux-gnu-gcc"),
            Some(bin.join("aarch64-linux-gnu-gcc"))
        );
        assert_eq!(m.which("not-executable"), None);
        assert_eq!(m.which("zig"), None);
        assert!(!m.has_zig());
        let armv7 = &m.user_linkers["armv7-unknown-linux-gnueabihf"];
        assert_eq!(armv7.linker, "/nonexistent/gcc");
        assert!(!armv7.found);
        assert!(m.cross_toml.as_deref().unwrap().contains("armv7"));
        // The engine is not asked until the plan says a target may need it.
        assert!(m.containers.is_none());
        assert!(m.engine_status().is_err());
    }
}
