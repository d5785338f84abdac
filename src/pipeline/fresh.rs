//! The build's fingerprint: whether the last successful build of exactly this plan is still
//! current, so that `build` with nothing changed starts no cargo at all. On a no-op most of
//! the time went to starting the backends (cargo-zigbuild alone asks zig and Python about
//! eight times before cargo runs), not to cargo's own freshness check.
//!
//! The key is everything parbuild decides or reads before it starts an invocation: this
//! parbuild (its version and its executable), the whole plan (every command, its environment and working directory), the environment
//! parbuild runs in (all of it but a few shell bookkeeping variables: a build script may
//! read any variable), the toolchain the probe found and the programs it found. Beside the
//! key, a record lists every file whose change could make cargo do anything, with its size,
//! mtime and inode ([`FileId`]):
//! - each artifact, and its dep-info (`<artifact>.d`): cargo lists there every source file
//!   of every local package the artifact was built from (`include_str!` files and the
//!   `rerun-if-changed` paths of local build scripts included);
//! - the absolute `rerun-if-changed` paths in every build script's `output` (a registry
//!   crate's build script that watches a system file);
//! - every file of every workspace member (a local build script without `rerun-if-changed`
//!   reruns when any file of its package changes), minus `.git` and target directories;
//! - `Cargo.lock`, the workspace's `Cargo.toml`, every `.cargo/config*` and
//!   `rust-toolchain*` cargo would read, and `$CARGO_HOME/config*`, present or absent;
//! - the toolchain's `rustc`, `cargo` and rustup manifests, and every program the probe found.
//!
//! Registry and git sources are not listed: `Cargo.lock` pins them, and cargo itself treats
//! them as immutable. A build whose inputs changed while it ran (a file's mtime is after the
//! build started) is not recorded, so a record never vouches for bytes cargo did not see.
//! Builds in containers (`cross`, `container`) are never fingerprinted: their toolchain is
//! the image's, which the probe does not look inside. Any doubt is a miss, and a miss costs
//! only the normal build.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use crate::archive::claims::hex_upper as hex;
use crate::archive::stamp::FileId;
use crate::env::Env;
use crate::machine::Machine;
use crate::manifest::BackendKind;
use crate::plan::Plan;

use super::outcome::{Outcome, Status};

/// The record's format; another is a miss.
const FORMAT: u32 = 1;

/// Variables a shell changes between two commands that no build reads.
const VOLATILE: &[&str] = &["_", "OLDPWD", "PWD", "SHLVL"];

/// Past this many files, a build is not recorded (walking them would cost what it saves).
const MAX_FILES: usize = 50_000;

/// The fingerprint of one plan on this machine.
#[derive(Debug)]
pub struct Fingerprint {
    key: String,
    record: PathBuf,
    /// What the build writes outside target directories (the archive, or the parts'
    /// directory): never an input, even inside a member's directory.
    writes: PathBuf,
}

/// What a successful build recorded.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Record {
    format: u32,
    key: String,
    /// Each target's artifact, by label.
    artifacts: BTreeMap<String, PathBuf>,
    /// Every file that decides whether cargo would do anything; `None`: it did not exist.
    files: Vec<(PathBuf, Option<FileId>)>,
}

impl Fingerprint {
    /// The fingerprint of `plan` building into `writes` (the archive, or `--part-out`'s
    /// directory), or `None` when it cannot have one (a container build).
    pub fn of(plan: &Plan, machine: &Machine, env: &Env, writes: &Path) -> Option<Self> {
        if plan.invocations.iter().any(|i| {
            i.container.is_some()
                || matches!(i.backend, BackendKind::Cross | BackendKind::Container)
        }) {
            return None;
        }
        let env: BTreeMap<String, String> = env
            .iter()
            .filter(|(k, _)| !VOLATILE.iter().any(|v| k.as_os_str() == *v))
            .map(|(k, v)| {
                (
                    k.to_string_lossy().into_owned(),
                    v.to_string_lossy().into_owned(),
                )
            })
            .collect();
        let material = serde_json::json!({
            "format": FORMAT,
            "parbuild": env!("CARGO_PKG_VERSION"),
            // A rebuilt or reinstalled parbuild of the same version may plan differently.
            "exe": std::env::current_exe().ok().and_then(|e| FileId::of(&e)),
            "plan": serde_json::to_value(plan).ok()?,
            "env": env,
            "host": machine.host.as_ref().ok(),
            "sysroot": machine.sysroot,
            "cargo": machine.cargo.to_string_lossy(),
            "programs": machine.programs,
            "zig_python": machine.zig_python,
            "wrapper": machine.user_wrapper,
        });
        let key = hex(&Sha256::digest(material.to_string().as_bytes()));
        // One record per archive and selection, overwritten by the next build of it.
        let mut labels: Vec<&str> = plan.targets.iter().map(|t| t.label.as_str()).collect();
        labels.sort_unstable();
        let which =
            Sha256::digest(format!("{}\n{}", writes.display(), labels.join(",")).as_bytes());
        let record = plan
            .package
            .target_dir
            .join("parbuild/fresh")
            .join(format!("{}.json", &hex(&which)[..16]));
        Some(Self {
            key,
            record,
            writes: writes.to_owned(),
        })
    }

    /// The outcomes of the recorded build when nothing it depends on changed since.
    pub fn lookup(&self, plan: &Plan) -> Option<Vec<Outcome>> {
        let text = std::fs::read(&self.record).ok()?;
        let found: Record = serde_json::from_slice(&text).ok()?;
        if found.format != FORMAT || found.key != self.key {
            return None;
        }
        if !found.files.iter().all(|(path, id)| &FileId::of(path) == id) {
            return None;
        }
        plan.targets
            .iter()
            .map(|t| {
                let path = found.artifacts.get(t.label.as_str())?;
                let size = FileId::of(path)?.size();
                Some(Outcome {
                    label: t.label.clone(),
                    triple: t.triple.clone(),
                    backend: t.backend,
                    status: Status::Built {
                        path: path.clone(),
                        size,
                    },
                    seconds: 0.0,
                    log: plan.invocations.get(t.invocation)?.log.clone(),
                })
            })
            .collect()
    }

    /// Records a build of every target that started at `started`. Returns whether it was
    /// recorded: not when a target did not build, a dep-info file is missing, or an input
    /// changed while the build ran. A build that is not recorded removes the old record.
    pub fn record(
        &self,
        plan: &Plan,
        machine: &Machine,
        outcomes: &[Outcome],
        started: SystemTime,
    ) -> std::io::Result<bool> {
        let recorded = match collect(plan, machine, outcomes, started, &self.writes) {
            Some(record) => {
                let record = Record {
                    format: FORMAT,
                    key: self.key.clone(),
                    ..record
                };
                let dir = self.record.parent().unwrap_or(Path::new("."));
                std::fs::create_dir_all(dir)?;
                let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
                tmp.write_all(serde_json::to_string(&record)?.as_bytes())?;
                tmp.persist(&self.record).map_err(|e| e.error)?;
                true
            }
            None => {
                match std::fs::remove_file(&self.record) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
                false
            }
        };
        Ok(recorded)
    }
}

/// The record of a build (its key left empty), or `None` when it cannot be recorded.
fn collect(
    plan: &Plan,
    machine: &Machine,
    outcomes: &[Outcome],
    started: SystemTime,
    writes: &Path,
) -> Option<Record> {
    let started_ns = i128::try_from(
        started
            .duration_since(SystemTime::UNIX_EPOCH)
            .ok()?
            .as_nanos(),
    )
    .ok()?;
    let mut target_dirs: Vec<&Path> = plan
        .targets
        .iter()
        .map(|t| t.target_dir.as_path())
        .collect();
    target_dirs.push(&plan.package.target_dir);
    // The archive's staging files are `.NAME.*` beside it (`archive::staged`).
    let staging = writes
        .file_name()
        .map(|n| format!(".{}.", n.to_string_lossy()));
    let is_output = |p: &Path| {
        target_dirs.iter().any(|d| p.starts_with(d))
            || p.starts_with(writes)
            || (p.parent() == writes.parent()
                && p.file_name()
                    .zip(staging.as_deref())
                    .is_some_and(|(n, s)| n.to_string_lossy().starts_with(s)))
    };

    let mut artifacts = BTreeMap::new();
    let mut paths: Vec<PathBuf> = Vec::new();
    for t in &plan.targets {
        let o = outcomes.iter().find(|o| o.label == t.label)?;
        let Status::Built { path, .. } = &o.status else {
            return None;
        };
        artifacts.insert(t.label.to_string(), path.clone());
        paths.push(path.clone());
        let dep_info = path.with_extension("d");
        paths.extend(dep_info_paths(&std::fs::read_to_string(&dep_info).ok()?));
        paths.push(dep_info);
        if let Some(dir) = path.parent() {
            for watched in build_script_watches(&dir.join("build")) {
                walk(&watched, &mut paths, &is_output);
            }
        }
    }
    for member in &plan.package.member_dirs {
        walk(member, &mut paths, &is_output);
    }
    let root = &plan.package.workspace_root;
    paths.push(root.join("Cargo.toml"));
    paths.push(root.join("Cargo.lock"));
    let mut dirs: Vec<&Path> = plan.invocations.iter().map(|i| i.command.cwd()).collect();
    dirs.push(root);
    for dir in dirs {
        for ancestor in dir.ancestors() {
            for name in [
                ".cargo/config",
                ".cargo/config.toml",
                "rust-toolchain",
                "rust-toolchain.toml",
            ] {
                paths.push(ancestor.join(name));
            }
        }
    }
    paths.push(machine.cargo_home.join("config"));
    paths.push(machine.cargo_home.join("config.toml"));
    if let Some(sysroot) = &machine.sysroot {
        paths.push(sysroot.join("bin/rustc"));
        paths.push(sysroot.join("bin/cargo"));
        let rustlib = sysroot.join("lib/rustlib");
        paths.push(rustlib.join("components"));
        if let Ok(entries) = std::fs::read_dir(&rustlib) {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().starts_with("manifest-") {
                    paths.push(e.path());
                }
            }
        }
    }
    paths.extend(machine.programs.values().flatten().cloned());
    if let Some(venv) = &machine.venv {
        // The zig cargo-zigbuild runs when it is the `ziglang` package of parbuild's venv.
        for lib in std::fs::read_dir(venv.join("lib"))
            .into_iter()
            .flatten()
            .flatten()
        {
            paths.push(lib.path().join("site-packages/ziglang/zig"));
        }
    }
    paths.sort();
    paths.dedup();
    if paths.len() > MAX_FILES {
        return None;
    }
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let id = FileId::of(&path);
        // Changed after the build started: cargo may have built from what it was before.
        if id.as_ref().is_some_and(|id| id.mtime_ns() >= started_ns) && !is_output(&path) {
            return None;
        }
        files.push((path, id));
    }
    Some(Record {
        format: FORMAT,
        key: String::new(),
        artifacts,
        files,
    })
}

/// The prerequisites of a make-style dep-info file (`target: a b\ c ...`), as cargo writes
/// them: one rule per line, spaces in paths escaped with `\`.
fn dep_info_paths(text: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for line in text.lines() {
        // The target ends at the first unescaped `: `.
        let Some(rest) = split_rule(line) else {
            continue;
        };
        let mut current = String::new();
        let mut chars = rest.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars
                    .peek()
                    .is_some_and(|n| *n == ' ' || *n == '\\' || *n == ':') =>
                {
                    current.extend(chars.next());
                }
                ' ' => {
                    if !current.is_empty() {
                        out.push(PathBuf::from(std::mem::take(&mut current)));
                    }
                }
                c => current.push(c),
            }
        }
        if !current.is_empty() {
            out.push(PathBuf::from(current));
        }
    }
    out
}

/// What follows the target of a rule line, or `None` for a line that is no rule.
fn split_rule(line: &str) -> Option<&str> {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b':' if bytes[i + 1] == b' ' => return Some(&line[i + 2..]),
            _ => i += 1,
        }
    }
    line.ends_with(':').then_some("")
}

/// The absolute paths build scripts asked to be rerun for (`cargo:rerun-if-changed=` in
/// `build/*/output`); relative ones are inside their package, which the lock file pins
/// for a registry crate and the member walk covers for a local one.
fn build_script_watches(build_dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(build_dir).into_iter().flatten().flatten() {
        let Ok(text) = std::fs::read_to_string(entry.path().join("output")) else {
            continue;
        };
        out.extend(rerun_if_changed(&text));
    }
    out
}

/// The absolute `rerun-if-changed` paths of one build script's output.
fn rerun_if_changed(output: &str) -> Vec<PathBuf> {
    output
        .lines()
        .filter_map(|l| {
            l.strip_prefix("cargo::rerun-if-changed=")
                .or_else(|| l.strip_prefix("cargo:rerun-if-changed="))
        })
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .collect()
}

/// `path` itself, or every file under it when it is a directory, minus `.git`, directories
/// that are a cargo target directory (`CACHEDIR.TAG`), and what the build writes.
fn walk(path: &Path, out: &mut Vec<PathBuf>, is_output: &dyn Fn(&Path) -> bool) {
    if !path.is_dir() {
        out.push(path.to_owned());
        return;
    }
    let mut stack = vec![path.to_owned()];
    while let Some(dir) = stack.pop() {
        if is_output(&dir) || dir.join("CACHEDIR.TAG").exists() {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => {
                    if e.file_name() != ".git" {
                        stack.push(p);
                    }
                }
                _ if is_output(&p) => {}
                _ => out.push(p),
            }
            if out.len() > MAX_FILES {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dep_info_lists_every_prerequisite_with_escaped_spaces() {
        let text = "/t/release/p: /src/main.rs /src/my\\ dir/a.rs /assets/x.txt\n\n/src/main.rs:\n";
        assert_eq!(
            dep_info_paths(text),
            [
                PathBuf::from("/src/main.rs"),
                PathBuf::from("/src/my dir/a.rs"),
                PathBuf::from("/assets/x.txt"),
            ]
        );
    }

    #[test]
    fn only_absolute_rerun_paths_of_both_syntaxes_count() {
        let out = "cargo:rerun-if-changed=build.rs\ncargo:rerun-if-changed=/usr/lib/libz.so\n\
                   cargo::rerun-if-changed=/etc/ssl\ncargo:rustc-link-lib=z\n";
        assert_eq!(
            rerun_if_changed(out),
            [PathBuf::from("/usr/lib/libz.so"), PathBuf::from("/etc/ssl")]
        );
    }

    #[test]
    fn the_walk_skips_git_and_target_directories() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for f in [
            "src/main.rs",
            ".git/HEAD",
            "target/CACHEDIR.TAG",
            "target/x",
            "out/y",
            "Cargo.toml",
        ] {
            std::fs::create_dir_all(root.join(f).parent().unwrap()).unwrap();
            std::fs::write(root.join(f), "").unwrap();
        }
        let out_dir = root.join("out");
        let mut found = Vec::new();
        walk(root, &mut found, &|p: &Path| {
            p.starts_with(&out_dir) || p.ends_with("a.par.gz")
        });
        found.sort();
        assert_eq!(found, [root.join("Cargo.toml"), root.join("src/main.rs")]);
    }
}
