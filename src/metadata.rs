//! What parbuild needs from `cargo metadata`: the package, its version, the artifact that
//! is the provider, the workspace's target directory.
//!
//! [`metadata`] runs `cargo metadata --no-deps` (the only process this module starts);
//! [`select`] is pure and picks the package and artifact, so both halves can be tested
//! on their own; [`resolve`] does both for a [`Manifest`]. The artifact is named as cargo
//! names the target (`fakepay`), never as a file (`libfakepay.so`): file names come from
//! cargo's JSON messages when the build runs.
//!
//! One file because running `cargo metadata` and choosing from its answer are the two
//! halves of one question, and [`MetadataError`] serves both.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use cargo_metadata::{Metadata, MetadataCommand, TargetKind};

use crate::env::Env;
use crate::manifest::{ArtifactSelector, Manifest};
use crate::process::{Cmd, ProcessError};

/// The provider's cargo package, as far as parbuild cares.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Package {
    /// The package name.
    pub name: String,
    /// Its version: `wascap.ver` unless `[provider] version` says otherwise.
    pub version: String,
    /// Its `authors` (a default vendor for `parbuild init`).
    pub authors: Vec<String>,
    /// Its `Cargo.toml`.
    pub manifest_path: PathBuf,
    /// The workspace root.
    pub workspace_root: PathBuf,
    /// The target directory (`CARGO_TARGET_DIR` and cargo config honoured).
    pub target_dir: PathBuf,
    /// Every workspace member's directory (what a build's fingerprint walks).
    pub member_dirs: Vec<PathBuf>,
    /// The cargo target that is the provider.
    pub artifact: Artifact,
}

/// A cargo target that can be the provider.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Artifact {
    /// A shared library or an executable.
    pub kind: ArtifactKind,
    /// The cargo target's name (`fakepay_provider` for a lib, the bin's name for a bin).
    pub name: String,
}

/// The kinds of target parbuild packs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ArtifactKind {
    /// `crate-type = ["cdylib"]`.
    Cdylib,
    /// A `[[bin]]` (or `src/main.rs`).
    Bin,
}

impl Artifact {
    /// The file cargo writes for it on `triple` (the convention, shown by `plan`; `build`
    /// reads the real path from cargo's JSON messages).
    pub fn file_name(&self, triple: &str) -> String {
        let stem = self.name.replace('-', "_");
        let windows = triple.contains("windows");
        match self.kind {
            ArtifactKind::Cdylib if windows => format!("{stem}.dll"),
            ArtifactKind::Cdylib if triple.contains("apple") => format!("lib{stem}.dylib"),
            ArtifactKind::Cdylib => format!("lib{stem}.so"),
            ArtifactKind::Bin if windows => format!("{}.exe", self.name),
            ArtifactKind::Bin => self.name.clone(),
        }
    }

    /// How `par.toml` selects it: `cdylib` or `bin:NAME`.
    pub fn selector(&self) -> String {
        match self.kind {
            ArtifactKind::Cdylib => "cdylib".to_owned(),
            ArtifactKind::Bin => format!("bin:{}", self.name),
        }
    }
}

/// What can go wrong finding the package.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    /// cargo could not be started.
    #[error("cannot run `{cargo} metadata`")]
    Spawn {
        /// The cargo program.
        cargo: String,
        /// The cause.
        source: std::io::Error,
    },
    /// `cargo metadata` failed (no `Cargo.toml`, a broken one).
    #[error("`cargo metadata` failed in `{}`: {message}", dir.display())]
    Cargo {
        /// Where it ran.
        dir: PathBuf,
        /// cargo's own message.
        message: String,
    },
    /// Its output made no sense.
    #[error("cannot read the output of `cargo metadata`: {message}")]
    Output {
        /// What was wrong.
        message: String,
    },
    /// `[provider] package` names no workspace member.
    #[error("no package `{name}` in the workspace at `{}`", root.display())]
    UnknownPackage {
        /// The name asked for.
        name: String,
        /// The workspace root.
        root: PathBuf,
        /// The members.
        available: Vec<String>,
    },
    /// Several packages and none in the manifest's directory.
    #[error("cannot tell which package is the provider: the workspace at `{}` has {} and none is in `{}`", root.display(), available.len(), dir.display())]
    AmbiguousPackage {
        /// The workspace root.
        root: PathBuf,
        /// The manifest's directory.
        dir: PathBuf,
        /// The members.
        available: Vec<String>,
    },
    /// The package builds nothing parbuild can pack.
    #[error("package `{package}` has no cdylib or bin target")]
    NoArtifact {
        /// The package.
        package: String,
    },
    /// The package builds several things that could be the provider.
    #[error(
        "package `{package}` has several targets that could be the provider: {}",
        list(candidates)
    )]
    AmbiguousArtifact {
        /// The package.
        package: String,
        /// Their selectors.
        candidates: Vec<String>,
    },
    /// `[provider] artifact` selects nothing.
    #[error("package `{package}` has no `{wanted}` target")]
    ArtifactNotFound {
        /// The package.
        package: String,
        /// The selector.
        wanted: String,
        /// What it has, as selectors.
        available: Vec<String>,
    },
}

impl MetadataError {
    /// How to fix it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Self::Spawn { .. } => "install Rust with rustup (https://rustup.rs), or set `CARGO` to cargo's path".to_owned(),
            Self::Cargo { message, .. } if message.contains("could not find `Cargo.toml`") => {
                "run parbuild in the provider's package directory, or use `-C DIR`".to_owned()
            }
            Self::Cargo { .. } | Self::Output { .. } => return None,
            Self::UnknownPackage { available, .. } | Self::AmbiguousPackage { available, .. } => {
                format!("set `package = \"…\"` in `[provider]` to one of {}", list(available))
            }
            Self::NoArtifact { .. } => {
                "add `[lib] crate-type = [\"cdylib\"]` or a `[[bin]]` (e.g. `src/main.rs`) to the package".to_owned()
            }
            Self::AmbiguousArtifact { candidates, .. } => {
                format!("set `artifact = \"…\"` in `[provider]` to one of {}", list(candidates))
            }
            Self::ArtifactNotFound { available, .. } if available.is_empty() => return None,
            Self::ArtifactNotFound { available, .. } => format!("it has {}", list(available)),
        })
    }
}

fn list(items: &[String]) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "`{item}`");
    }
    out
}

/// Finds the provider's package for `manifest`: [`metadata`] in its directory, then
/// [`select`] with its `package` and `artifact`.
pub fn resolve(manifest: &Manifest, env: &Env) -> Result<Package, MetadataError> {
    let meta = metadata(&manifest.dir, env)?;
    select(
        &meta,
        &manifest.dir,
        manifest.provider.package.as_deref(),
        manifest.provider.artifact.as_ref(),
    )
}

/// Runs `cargo metadata --format-version 1 --no-deps` for the workspace containing `dir`
/// (with `dir/Cargo.toml` as the manifest when there is one). The cargo program is
/// `$CARGO` when set; `CARGO_TARGET_DIR` is passed on only if `env` has it.
pub fn metadata(dir: &Path, env: &Env) -> Result<Metadata, MetadataError> {
    let cargo = env.non_empty("CARGO").unwrap_or("cargo").to_owned();
    // Run through `process::Cmd`, the one way parbuild starts a program; cargo_metadata
    // only parses.
    let mut cmd = Cmd::new(&cargo, dir).args(["metadata", "--format-version", "1", "--no-deps"]);
    let own = dir.join("Cargo.toml");
    if own.is_file() {
        cmd = cmd.arg("--manifest-path").arg(own);
    }
    cmd = match env.var_os("CARGO_TARGET_DIR") {
        Some(target_dir) => cmd.env("CARGO_TARGET_DIR", target_dir),
        None => cmd.env_remove("CARGO_TARGET_DIR"),
    };
    let out = cmd.output_checked().map_err(|e| match e {
        ProcessError::Spawn { source, .. } => MetadataError::Spawn {
            cargo: cargo.clone(),
            source,
        },
        ProcessError::Failed { stderr_tail, .. } => MetadataError::Cargo {
            dir: dir.to_owned(),
            message: cargo_message(&stderr_tail),
        },
        other => MetadataError::Output {
            message: other.to_string(),
        },
    })?;
    MetadataCommand::parse(String::from_utf8_lossy(&out.stdout)).map_err(|e| {
        MetadataError::Output {
            message: e.to_string(),
        }
    })
}

/// cargo's error without its `error: ` prefix and warnings, on one line when it is one.
fn cargo_message(stderr: &str) -> String {
    let text = stderr
        .lines()
        .skip_while(|l| !l.starts_with("error"))
        .collect::<Vec<_>>()
        .join("\n");
    let text = if text.is_empty() {
        stderr.trim()
    } else {
        text.trim()
    };
    text.strip_prefix("error: ").unwrap_or(text).to_owned()
}

/// Picks the package (the one named, else the one whose `Cargo.toml` is in `dir`, else the
/// workspace's only one) and its artifact (the one selected, else its only cdylib or bin).
pub fn select(
    meta: &Metadata,
    dir: &Path,
    package: Option<&str>,
    artifact: Option<&ArtifactSelector>,
) -> Result<Package, MetadataError> {
    let pkg = select_package(meta, dir, package)?;
    Ok(Package {
        name: pkg.name.to_string(),
        version: pkg.version.to_string(),
        authors: pkg.authors.clone(),
        manifest_path: pkg.manifest_path.clone().into(),
        workspace_root: meta.workspace_root.clone().into(),
        target_dir: meta.target_directory.clone().into(),
        member_dirs: meta
            .workspace_packages()
            .iter()
            .filter_map(|p| p.manifest_path.parent())
            .map(|d| d.to_path_buf().into())
            .collect(),
        artifact: pick_artifact(pkg.name.as_str(), &candidates(pkg), artifact)?,
    })
}

/// The workspace member named `name`, else the one whose `Cargo.toml` is in `dir`, else
/// the workspace's only member.
pub fn select_package<'m>(
    meta: &'m Metadata,
    dir: &Path,
    name: Option<&str>,
) -> Result<&'m cargo_metadata::Package, MetadataError> {
    let members = meta.workspace_packages();
    let names = || {
        members
            .iter()
            .map(|p| p.name.to_string())
            .collect::<Vec<_>>()
    };
    if let Some(name) = name {
        return members
            .iter()
            .find(|p| p.name.as_str() == name)
            .copied()
            .ok_or_else(|| MetadataError::UnknownPackage {
                name: name.to_owned(),
                root: meta.workspace_root.clone().into(),
                available: names(),
            });
    }
    let dir = canonical(dir);
    let here = members.iter().find(|p| {
        p.manifest_path
            .parent()
            .is_some_and(|d| canonical(d.as_std_path()) == dir)
    });
    match (here, members.as_slice()) {
        (Some(p), _) | (None, [p]) => Ok(p),
        (None, _) => Err(MetadataError::AmbiguousPackage {
            root: meta.workspace_root.clone().into(),
            dir,
            available: names(),
        }),
    }
}

/// The package's targets that parbuild can pack, cdylib first, then bins by name.
pub fn candidates(pkg: &cargo_metadata::Package) -> Vec<Artifact> {
    let mut out: Vec<Artifact> = pkg
        .targets
        .iter()
        .filter_map(|t| {
            let kind = if t.is_kind(TargetKind::CDyLib) {
                ArtifactKind::Cdylib
            } else if t.is_kind(TargetKind::Bin) {
                ArtifactKind::Bin
            } else {
                return None;
            };
            Some(Artifact {
                kind,
                name: t.name.clone(),
            })
        })
        .collect();
    out.sort();
    out
}

/// The artifact `wanted` selects among `have`, or the only one.
pub fn pick_artifact(
    package: &str,
    have: &[Artifact],
    wanted: Option<&ArtifactSelector>,
) -> Result<Artifact, MetadataError> {
    let selectors = || have.iter().map(Artifact::selector).collect::<Vec<_>>();
    let matching: Vec<&Artifact> = have
        .iter()
        .filter(|a| match wanted {
            None => true,
            Some(ArtifactSelector::Cdylib) => a.kind == ArtifactKind::Cdylib,
            Some(ArtifactSelector::Bin(None)) => a.kind == ArtifactKind::Bin,
            Some(ArtifactSelector::Bin(Some(name))) => {
                a.kind == ArtifactKind::Bin && a.name == *name
            }
        })
        .collect();
    match (matching.as_slice(), wanted) {
        ([one], _) => Ok((*one).clone()),
        ([], None) => Err(MetadataError::NoArtifact {
            package: package.to_owned(),
        }),
        ([], Some(w)) => Err(MetadataError::ArtifactNotFound {
            package: package.to_owned(),
            wanted: selector_text(w),
            available: selectors(),
        }),
        (many, _) => Err(MetadataError::AmbiguousArtifact {
            package: package.to_owned(),
            candidates: many.iter().map(|a| a.selector()).collect(),
        }),
    }
}

fn selector_text(selector: &ArtifactSelector) -> String {
    match selector {
        ArtifactSelector::Cdylib => "cdylib".to_owned(),
        ArtifactSelector::Bin(None) => "bin".to_owned(),
        ArtifactSelector::Bin(Some(name)) => format!("bin:{name}"),
    }
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cdylib(name: &str) -> Artifact {
        Artifact {
            kind: ArtifactKind::Cdylib,
            name: name.to_owned(),
        }
    }

    fn bin(name: &str) -> Artifact {
        Artifact {
            kind: ArtifactKind::Bin,
            name: name.to_owned(),
        }
    }

    /// Picks among `have` with `wanted` and renders the outcome as one line.
    fn check(have: &[Artifact], wanted: Option<ArtifactSelector>, expected: &str) {
        let got = match pick_artifact("p", have, wanted.as_ref()) {
            Ok(a) => a.selector(),
            Err(e) => format!("{e} / {}", e.hint().unwrap_or_default()),
        };
        assert_eq!(got, expected);
    }

    #[test]
    fn artifact_choice() {
        check(&[cdylib("p")], None, "cdylib");
        check(&[bin("p")], None, "bin:p");
        check(
            &[bin("a"), bin("b")],
            Some(ArtifactSelector::Bin(Some("b".into()))),
            "bin:b",
        );
        check(
            &[cdylib("p"), bin("p")],
            Some(ArtifactSelector::Cdylib),
            "cdylib",
        );
        check(
            &[cdylib("p"), bin("p")],
            Some(ArtifactSelector::Bin(None)),
            "bin:p",
        );
        check(
            &[],
            None,
            "package `p` has no cdylib or bin target / add `[lib] crate-type = [\"cdylib\"]` or a `[[bin]]` (e.g. `src/main.rs`) to the package",
        );
        check(
            &[cdylib("p"), bin("p")],
            None,
            "package `p` has several targets that could be the provider: `cdylib`, `bin:p` / set `artifact = \"…\"` in `[provider]` to one of `cdylib`, `bin:p`",
        );
        check(
            &[bin("a"), bin("b")],
            Some(ArtifactSelector::Bin(None)),
            "package `p` has several targets that could be the provider: `bin:a`, `bin:b` / set `artifact = \"…\"` in `[provider]` to one of `bin:a`, `bin:b`",
        );
        check(
            &[bin("a")],
            Some(ArtifactSelector::Bin(Some("z".into()))),
            "package `p` has no `bin:z` target / it has `bin:a`",
        );
        check(
            &[bin("a")],
            Some(ArtifactSelector::Cdylib),
            "package `p` has no `cdylib` target / it has `bin:a`",
        );
    }

    #[test]
    fn cargo_messages() {
        assert_eq!(
            cargo_message(
                "warning: x\nerror: could not find `Cargo.toml` in `/t` or any parent directory\n"
            ),
            "could not find `Cargo.toml` in `/t` or any parent directory"
        );
        assert_eq!(cargo_message("  odd  \n"), "odd");
    }
}
