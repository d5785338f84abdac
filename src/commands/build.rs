//! `parbuild build` (and bare `parbuild`): plan → parallel builds → collect artifacts →
//! sign → pack → verify. Nothing is written unless every target built (or
//! `--allow-missing` says to pack what did), and the archive is verified before it
//! replaces any earlier one.
//!
//! With `--timings`, the timeline recorded during the builds is reported once the archive
//! is packed and verified (or the build stopped short of it): the page, the table of where
//! each target's time went, and `"timings"` in `--json`. Packing is measured here, around
//! the one call that signs, packs and verifies, as one archive-wide figure.

use std::time::Instant;

use crate::archive::ProviderMeta;
use crate::cli::BuildArgs;
use crate::error::Result;
use crate::pipeline::fresh::Fingerprint;
use crate::pipeline::outcome::Status;
use crate::pipeline::runner;
use crate::pipeline::{BuildError, timings, tokens, ui};
use crate::plan::Plan;

use super::Context;
use super::pack::{PackRequest, pack_unless_current};

/// Runs `parbuild build`.
pub fn run(args: &BuildArgs, ctx: &Context) -> Result<()> {
    let (manifest, plan, machine) = super::plan::load(ctx, &args.select, args.fail_fast)?;
    for w in &plan.warnings {
        ctx.reporter.warn(w);
    }
    if !plan.missing.is_empty() {
        return Err(BuildError::Missing {
            list: plan.missing.clone(),
        }
        .into());
    }
    // Where `--push` goes, checked before minutes of compiling (no `[publish]`, `latest`).
    let push_refs = match &args.push {
        Some(reference) => Some(super::publish::references(
            Some(reference.as_str()),
            &manifest.publish,
            Some(plan.version.as_str()),
            args.publish.allow_latest,
        )?),
        None => None,
    };
    let keys = crate::keystore::KeyOptions::new(&args.keys, Some(&manifest.sign));
    // Fail on keys before spending minutes on compilers (e.g. CI without keys). Parts are
    // unsigned: with `--part-out` no key is read or generated.
    if args.part_out.is_none() {
        super::pack::resolve_keys(ctx, &keys, &plan.package.artifact.name)?;
    }

    let labels: Vec<&str> = plan.targets.iter().map(|t| t.label.as_str()).collect();
    let ledger = tokens::Ledger::new();
    // `--timings` asks for a timeline of the builds, so it always runs them.
    let writes = match (&args.part_out, &args.output) {
        (Some(dir), _) => ctx.path(dir),
        (None, Some(o)) => ctx.path(o),
        (None, None) => plan.output.clone(),
    };
    let fingerprint = (!args.timings)
        .then(|| Fingerprint::of(&plan, &machine, &ctx.env, &writes))
        .flatten();
    let fresh = fingerprint.as_ref().and_then(|f| f.lookup(&plan));
    let (outcomes, timeline) = match fresh {
        Some(outcomes) => {
            ctx.reporter.status(format!(
                "{} {} for {}: nothing changed since its last build, no cargo started",
                plan.package.name,
                plan.version,
                labels.join(", ")
            ));
            (Ok(outcomes), None)
        }
        None => {
            ctx.reporter.status(format!(
                "building {} {} for {} ({} invocation{}, {} compiler jobs)",
                plan.package.name,
                plan.version,
                labels.join(", "),
                plan.invocations.len(),
                if plan.invocations.len() == 1 { "" } else { "s" },
                plan.jobs
            ));
            let lanes = ui::Ui::new(&plan, ctx.reporter);
            let recorder = args.timings.then(timings::Recorder::start);
            let started = std::time::SystemTime::now();
            let outcomes = runner::run(&plan, &lanes, args.fail_fast, &ledger);
            drop(lanes);
            if let (Some(f), Ok(outcomes)) = (&fingerprint, &outcomes) {
                // Best effort: without a record the next build runs cargo, as it always did.
                if let Err(e) = f.record(&plan, &machine, outcomes, started) {
                    ctx.reporter
                        .warn(format!("could not record the build's fingerprint: {e}"));
                }
            }
            (outcomes, recorder.map(timings::Recorder::finish))
        }
    };
    // Shows the timings (nothing without `--timings`) with what packing took; once, on
    // every way out after the builds (`unpacked` where no archive was packed).
    let report = |packing: &timings::Packing| {
        timeline
            .as_ref()
            .map(|t| report_timings(ctx, &plan, t, packing))
    };
    let unpacked = |_: &crate::error::Error| {
        report(&timings::Packing::default());
    };
    let outcomes = outcomes
        .map_err(crate::error::Error::from)
        .inspect_err(unpacked)?;
    let failed = outcomes
        .iter()
        .filter(|o| !matches!(o.status, Status::Built { .. }))
        .count();
    // A failure is shown even with `--quiet`: the error below refers to it.
    if failed > 0 {
        ctx.reporter.error_block(ui::summary(&outcomes));
    } else {
        ctx.reporter.block(ui::summary(&outcomes));
    }
    let built: Vec<_> = outcomes
        .iter()
        .filter_map(|o| match &o.status {
            Status::Built { path, .. } => Some((o.label.clone(), path.clone())),
            _ => None,
        })
        .collect();
    if failed > 0 && (!args.allow_missing || built.is_empty()) {
        let timings = report(&timings::Packing::default());
        // `--json` answers on failure too: which targets failed, no archive.
        if args.json {
            let mut answer = serde_json::json!({
                "archive": null,
                "partial": false,
                "targets": outcomes,
                "pushed": null,
                "jobserver": ledger.account(),
            });
            if let Some(timings) = timings {
                answer["timings"] = timings;
            }
            ctx.reporter.json(&answer);
        }
        return Err(BuildError::TargetsFailed {
            failed,
            total: outcomes.len(),
        }
        .into());
    }

    let config_schema = match &manifest.provider.schema {
        Some(path) => Some(super::pack::read_schema(path).inspect_err(unpacked)?),
        None => None,
    };
    let meta = provider_meta(&manifest, &plan, config_schema);
    if let Some(dir) = &args.part_out {
        report(&timings::Packing::default());
        return super::parts::write(ctx, args, &manifest, &plan, meta, &outcomes, &ctx.path(dir));
    }
    let output = args
        .output
        .as_ref()
        .map_or_else(|| plan.output.clone(), |o| ctx.path(o));
    super::create_output_dir(&output).inspect_err(unpacked)?;
    let request = PackRequest {
        meta,
        binaries: built,
        world: manifest.provider.world.clone(),
        compression: plan.compression,
        keys,
        subject_stem: plan.package.artifact.name.clone(),
        output,
        glibc_floor: glibc_floor(&plan),
        macos_min: macos_min(&plan, &ctx.env),
    };
    // A build that changed nothing leaves the archive as it is (bytes and mtime).
    let packing_started = Instant::now();
    let summary = pack_unless_current(ctx, &request, &stamp_path(&plan, &request.output))
        .inspect_err(unpacked)?;
    // Signing, packing and verifying in one figure: the pack call does not say which
    // part took what (per-entry figures would go into `entries`).
    let packing = timings::Packing {
        entries: std::collections::BTreeMap::new(),
        archive: Some(timings::ArchiveTime {
            pack: packing_started.elapsed().as_secs_f64(),
            verify: None,
            unchanged: summary.unchanged,
        }),
    };
    if !args.json {
        ctx.reporter
            .out(super::pack::describe(&summary, failed > 0));
    }
    let timings = report(&packing);
    let pushed = match &push_refs {
        Some(_) if failed > 0 => {
            return Err(crate::error::Error::Failed {
                message: format!(
                    "not pushing a partial archive ({failed} of {} targets missing); it is at `{}`",
                    outcomes.len(),
                    request.output.display()
                ),
            });
        }
        Some(refs) => Some(super::publish::push_file(
            &request.output,
            refs,
            &args.publish,
            &manifest.publish,
            ctx,
        )?),
        None => None,
    };
    if args.json {
        let mut answer = serde_json::json!({
            "archive": summary,
            "partial": failed > 0,
            "targets": outcomes,
            "pushed": pushed,
            "jobserver": ledger.account(),
        });
        if let Some(timings) = timings {
            answer["timings"] = timings;
        }
        ctx.reporter.json(&answer);
    } else if let Some(pushed) = &pushed {
        super::publish::report_pushed(pushed, ctx);
    }
    if failed > 0 {
        ctx.reporter.warn(format!(
            "the archive is partial: {failed} of {} targets are missing (--allow-missing)",
            outcomes.len()
        ));
    }
    Ok(())
}

/// Where the stamp of `output` lives: in the target directory (cleaned with it, never
/// shipped beside the archive), one per archive path.
fn stamp_path(plan: &crate::plan::Plan, output: &std::path::Path) -> std::path::PathBuf {
    use sha2::Digest as _;
    let hash = sha2::Sha256::digest(output.as_os_str().as_encoded_bytes());
    let name = output
        .file_name()
        .map_or_else(|| "archive".into(), |n| n.to_string_lossy().into_owned());
    plan.package
        .target_dir
        .join("parbuild/stamps")
        .join(format!(
            "{name}-{}.json",
            hash.iter()
                .take(6)
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        ))
}

/// Writes the timings page, prints where each target's time went, and returns the same as
/// `--json`'s `"timings"` (with `"page"`, the page's path, `null` if it could not be
/// written).
fn report_timings(
    ctx: &super::Context,
    plan: &Plan,
    timeline: &timings::Timeline,
    packing: &timings::Packing,
) -> serde_json::Value {
    let breakdown = timings::breakdown(plan, timeline, packing);
    ctx.reporter.block(timings::table(&breakdown));
    let page = match timings::write(plan, timeline, &breakdown) {
        Ok(path) => {
            ctx.reporter.status(format!("timings: {}", path.display()));
            Some(path)
        }
        Err(e) => {
            ctx.reporter.warn(format!("cannot write the timings: {e}"));
            None
        }
    };
    let mut json = breakdown.json();
    json["page"] = serde_json::json!(page);
    json
}

/// The glibc floor the archive's Linux gnu binaries are held to: when every gnu target was
/// linked against one (zig), the highest of them (so no target is held to a floor it was
/// not built for); none when a gnu target was built without one (a Debian cross gcc).
fn glibc_floor(plan: &crate::plan::Plan) -> Option<String> {
    let gnu: Vec<&crate::plan::TargetPlan> = plan
        .targets
        .iter()
        .filter(|t| t.triple.contains("-linux-gnu"))
        .collect();
    if gnu.is_empty() || gnu.iter().any(|t| t.glibc.is_none()) {
        return None;
    }
    gnu.iter()
        .filter_map(|t| t.glibc.clone())
        .max_by_key(|v| crate::archive::Version::parse(v))
}

/// The deployment target the archive's Mach-O binaries were built for: the one parbuild set,
/// else the user's `MACOSX_DEPLOYMENT_TARGET`.
fn macos_min(plan: &crate::plan::Plan, env: &crate::env::Env) -> Option<String> {
    let macos: Vec<&crate::plan::TargetPlan> = plan
        .targets
        .iter()
        .filter(|t| t.triple.contains("-apple-darwin"))
        .collect();
    if macos.is_empty() {
        return None;
    }
    let set: Vec<&str> = macos
        .iter()
        .filter_map(|t| {
            t.env
                .iter()
                .find(|e| e.key == "MACOSX_DEPLOYMENT_TARGET")
                .map(|e| e.value.as_str())
        })
        .collect();
    match set.first() {
        Some(first) if set.iter().all(|v| v == first) && set.len() == macos.len() => {
            Some((*first).to_owned())
        }
        Some(_) => None,
        None => env.non_empty("MACOSX_DEPLOYMENT_TARGET").map(str::to_owned),
    }
}

/// The claims' metadata of this build; parts carry it, so split and one-machine builds sign
/// the same claims.
fn provider_meta(
    manifest: &crate::manifest::Manifest,
    plan: &crate::plan::Plan,
    config_schema: Option<serde_json::Value>,
) -> ProviderMeta {
    ProviderMeta {
        name: manifest.provider.name.clone(),
        vendor: manifest.provider.vendor.clone(),
        version: Some(plan.version.clone()),
        revision: Some(manifest.provider.revision.unwrap_or(0)),
        capid: manifest.provider.capid.clone(),
        config_schema,
    }
}
