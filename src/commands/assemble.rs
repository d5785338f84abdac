//! `parbuild assemble PART ...`: the second half of a split build. It checks that the
//! parts belong together (one provider, one source revision and `Cargo.lock`, one part
//! per target, every target present unless `--allow-missing`) and that every hash
//! matches, then signs once and packs through [`pack_and_verify`]. Everything comes from
//! the parts, so no checkout or `par.toml` is needed; only this step needs the keys.
//! Nothing is written unless every check passes.

use std::path::PathBuf;

use crate::cli::AssembleArgs;
use crate::error::{Error, Result};
use crate::keystore::KeyOptions;
use crate::part;

use super::Context;
use super::pack::{PackRequest, describe, pack_and_verify, resolve_keys};

/// Runs `parbuild assemble`.
pub fn run(args: &AssembleArgs, ctx: &Context) -> Result<()> {
    // 1. The manifests only: cheap, and enough to tell whether the parts belong together.
    let mut manifests = Vec::new();
    for p in &args.parts {
        let path = ctx.path(p);
        let m = part::read_manifest(&path, args.max_unpacked)?;
        manifests.push((path, m));
    }
    let report = part::check_set(&manifests, args.allow_missing)?;
    for w in &report.warnings {
        ctx.reporter.warn(w);
    }
    let first = manifests[0].1.clone();

    let labels: Vec<&str> = manifests.iter().map(|(_, m)| m.label.as_str()).collect();
    ctx.reporter.status(format!(
        "assembling {} {} from {} part{} ({}), source {}, Cargo.lock {}",
        first.package,
        first.provider.version.as_deref().unwrap_or("(no version)"),
        manifests.len(),
        if manifests.len() == 1 { "" } else { "s" },
        labels.join(", "),
        first
            .source
            .revision
            .as_deref()
            .map_or("(not in git)", |r| &r[..r.len().min(12)]),
        first
            .source
            .lockfile_sha256
            .as_deref()
            .map_or("(none)", |h| &h[..h.len().min(12)]),
    ));

    // 2. Every part in full, into a temporary directory: each size and hash checked.
    let temp = tempfile::Builder::new()
        .prefix("parbuild-assemble-")
        .tempdir()
        .map_err(|source| Error::Io {
            action: "cannot create a temporary directory for",
            path: manifests[0].0.clone(),
            source,
        })?;
    let mut binaries = Vec::new();
    let mut world = None;
    for (i, (path, stated)) in manifests.iter().enumerate() {
        let dir = temp.path().join(i.to_string());
        std::fs::create_dir(&dir).map_err(|source| Error::Io {
            action: "cannot create",
            path: dir.clone(),
            source,
        })?;
        let extracted = part::extract(path, args.max_unpacked, &dir)?;
        if extracted.manifest != *stated {
            // The file changed between the two reads.
            return Err(part::PartError::Invalid {
                path: path.clone(),
                reason: "it changed while it was being read".to_owned(),
            }
            .into());
        }
        world = world.or(extracted.world);
        binaries.push((extracted.label, extracted.binary));
    }
    binaries.sort();

    // 3. Sign once, pack, verify, rename into place. Keys are looked at only now, so a
    // rejected set of parts never makes a key generated (outside CI) either.
    let mut keys = KeyOptions::new(&args.keys, None);
    keys.issuer_public = first.issuer_public.clone();
    keys.subject_public = first.subject_public.clone();
    resolve_keys(ctx, &keys, &first.artifact)?;
    let output = args
        .output
        .as_ref()
        .map_or_else(|| ctx.path(&PathBuf::from(&first.output)), |o| ctx.path(o));
    super::create_output_dir(&output)?;
    let request = PackRequest {
        meta: first.provider.clone(),
        binaries,
        world,
        compression: first.compression,
        keys,
        subject_stem: first.artifact.clone(),
        output,
        glibc_floor: None,
        macos_min: None,
    };
    let summary = pack_and_verify(ctx, &request)?;
    drop(temp);
    let partial = !report.missing.is_empty();
    if args.json {
        ctx.reporter.json(&serde_json::json!({
            "archive": summary,
            "partial": partial,
            "missing": report.missing,
            "source": first.source,
        }));
    } else {
        ctx.reporter.out(describe(&summary, partial));
    }
    if partial {
        ctx.reporter.warn(format!(
            "the archive is partial: no part for {} (--allow-missing)",
            report.missing.join(", ")
        ));
    }
    Ok(())
}
