//! `parbuild build --part-out DIR`: after the build, one unsigned part per built target
//! instead of an archive, with the provenance `assemble` compares (git commit, `Cargo.lock`
//! hash) and the toolchain it reports. The part format itself is [`crate::part`]; this
//! module gathers what only a command may (programs run, files found) and reports.

use std::path::{Path, PathBuf};

use crate::archive::ProviderMeta;
use crate::cli::BuildArgs;
use crate::error::{Error, Result};
use crate::manifest::Manifest;
use crate::part::{self, PartManifest, Source};
use crate::pipeline::outcome::{Outcome, Status};
use crate::plan::Plan;
use crate::process::Cmd;

use super::Context;

/// One part written.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WrittenPart {
    /// The part file.
    pub path: PathBuf,
    /// Its target.
    pub label: String,
    /// The binary's size.
    pub size: u64,
    /// The binary's SHA-256.
    pub sha256: String,
}

/// Writes the parts of the targets that built into `dir` (`build` has already failed
/// when some did not, unless `--allow-missing`).
pub fn write(
    ctx: &Context,
    args: &BuildArgs,
    manifest: &Manifest,
    plan: &Plan,
    meta: ProviderMeta,
    outcomes: &[Outcome],
    dir: &Path,
) -> Result<()> {
    let failed = outcomes
        .iter()
        .filter(|o| !matches!(o.status, Status::Built { .. }))
        .count();
    let root = &plan.package.workspace_root;
    let revision = git_revision(&manifest.dir);
    if revision.is_none() {
        ctx.reporter.note(
            "not a git checkout (or no commit yet): the parts record no source revision, so `assemble` can compare only their `Cargo.lock` hashes",
        );
    }
    let lockfile = root.join("Cargo.lock");
    let lockfile_sha256 = match part::digest_file(&lockfile) {
        Ok(d) => Some(d.sha256),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => {
            return Err(Error::Io {
                action: "cannot read",
                path: lockfile,
                source,
            });
        }
    };
    let world = manifest
        .provider
        .world
        .as_ref()
        .map(|w| {
            part::digest_file(w).map_err(|source| Error::Io {
                action: "cannot read the WIT package",
                path: w.clone(),
                source,
            })
        })
        .transpose()?;
    let output = plan.output.strip_prefix(&manifest.dir).map_or_else(
        |_| {
            plan.output
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        },
        |rel| rel.to_string_lossy().into_owned(),
    );
    let template = PartManifest {
        format: part::FORMAT,
        parbuild: env!("CARGO_PKG_VERSION").to_owned(),
        label: String::new(),
        triple: String::new(),
        binary: part::FileDigest {
            size: 0,
            sha256: String::new(),
        },
        rustc: rustc_release(ctx, root),
        provider: meta,
        package: plan.package.name.clone(),
        artifact: plan.package.artifact.name.clone(),
        targets: manifest
            .targets
            .iter()
            .map(|t| t.label.to_string())
            .collect(),
        world,
        compression: plan.compression,
        output,
        issuer_public: manifest.sign.issuer_public.clone(),
        subject_public: manifest.sign.subject_public.clone(),
        source: Source {
            revision,
            lockfile_sha256,
        },
    };

    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        action: "cannot create the part directory",
        path: dir.to_owned(),
        source,
    })?;
    let mut written = Vec::new();
    for o in outcomes {
        let Status::Built { path, .. } = &o.status else {
            continue;
        };
        let binary = part::digest_file(path).map_err(|source| Error::Io {
            action: "cannot read the binary",
            path: path.clone(),
            source,
        })?;
        let m = PartManifest {
            label: o.label.to_string(),
            triple: o.triple.clone(),
            binary: binary.clone(),
            ..template.clone()
        };
        let dest = dir.join(part::file_name(&plan.package.name, &o.label));
        part::write(&dest, &m, path, manifest.provider.world.as_deref())?;
        written.push(WrittenPart {
            path: dest,
            label: m.label,
            size: binary.size,
            sha256: binary.sha256,
        });
    }
    if args.json {
        ctx.reporter.json(&serde_json::json!({
            "parts": written,
            "partial": failed > 0,
            "targets": outcomes,
        }));
    } else {
        for w in &written {
            ctx.reporter.out(format!(
                "wrote {} ({}, {}, sha256 {}) — unsigned",
                w.path.display(),
                w.label,
                crate::pipeline::ui::human_size(w.size),
                w.sha256
            ));
        }
    }
    if failed > 0 {
        ctx.reporter.warn(format!(
            "{failed} of {} targets failed: no part for them (--allow-missing)",
            outcomes.len()
        ));
    }
    ctx.reporter.note(format!(
        "assemble the parts of every target with `parbuild assemble {}` where the signing keys are",
        dir.join("*").display()
    ));
    Ok(())
}

/// `git rev-parse HEAD` in `dir`: `None` outside a git checkout, before the first commit
/// or without git.
fn git_revision(dir: &Path) -> Option<String> {
    let out = Cmd::new("git", dir)
        .args(["rev-parse", "--verify", "HEAD"])
        .read_stdout()
        .ok()?;
    (out.len() >= 40 && out.bytes().all(|b| b.is_ascii_hexdigit())).then_some(out)
}

/// The `release:` line of `rustc -vV` (the rustc cargo uses: `$RUSTC`, else `rustc`,
/// run in the workspace so a `rust-toolchain.toml` applies).
fn rustc_release(ctx: &Context, root: &Path) -> Option<String> {
    let rustc = ctx.env.non_empty("RUSTC").unwrap_or("rustc");
    let out = Cmd::new(rustc, root).arg("-vV").read_stdout().ok()?;
    out.lines()
        .find_map(|l| l.strip_prefix("release:"))
        .map(|r| r.trim().to_owned())
}
