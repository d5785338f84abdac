//! `parbuild plan`: the build matrix without building — per target the triple, label,
//! backend and why, the environment parbuild adds and why, the expected output; the
//! exact cargo invocations; what is missing, with the fix.

use std::fmt::Write as _;

use crate::cli::{BackendChoice, PlanArgs, SelectArgs};
use crate::error::Result;
use crate::machine::Machine;
use crate::manifest::{BackendKind, Manifest};
use crate::metadata::Package;
use crate::plan::{self, Overrides, Plan};

use super::Context;

/// Runs `parbuild plan`.
pub fn run(args: &PlanArgs, ctx: &Context) -> Result<()> {
    let (_, plan, _) = load(ctx, &args.select, false)?;
    if args.json {
        ctx.reporter.json(&plan);
    } else {
        ctx.reporter.out(render(&plan).trim_end());
    }
    Ok(())
}

/// Loads `par.toml`, asks cargo about the package, probes the machine once and makes the
/// plan; the machine is returned for `doctor`, which shows what it found.
pub fn load(
    ctx: &Context,
    select: &SelectArgs,
    fail_fast: bool,
) -> Result<(Manifest, Plan, Machine)> {
    let manifest = crate::manifest::load(&ctx.manifest_path())?;
    let package = crate::metadata::resolve(&manifest, &ctx.env)?;
    let overrides = Overrides {
        targets: select.targets.clone(),
        backend: select.backend.map(|b| match b {
            BackendChoice::Auto => BackendKind::Auto,
            BackendChoice::Cargo => BackendKind::Cargo,
            BackendChoice::Zig => BackendKind::Zig,
            BackendChoice::Cross => BackendKind::Cross,
            BackendChoice::Container => BackendKind::Container,
        }),
        jobs: select.jobs,
        profile: select.profile.clone(),
        flags: crate::backend::CargoFlags {
            offline: select.offline,
            locked: select.locked,
            frozen: select.frozen,
        },
        fail_fast,
    };
    let machine = probe(ctx, &manifest, &package, &overrides);
    let plan = plan::make(&manifest, &package, &overrides, &ctx.env, &machine)?;
    Ok((manifest, plan, machine))
}

/// The one look at the machine before a plan: what the manifest's targets need, and the
/// container engine only if the plan says a target may run in a container.
fn probe(ctx: &Context, manifest: &Manifest, package: &Package, overrides: &Overrides) -> Machine {
    let mut machine = Machine::probe(&ctx.env, &plan::probe_request(manifest, package));
    if let Some(images) = plan::container_images(manifest, overrides, &ctx.env, &machine) {
        machine.probe_containers(&ctx.env, &images);
    }
    machine
}

/// One line on a macOS target's SDK: which, and why.
pub fn describe_sdk(sdk: &crate::backend::zig::Sdk) -> String {
    use crate::backend::zig::SdkSource;
    let path = sdk
        .path
        .as_ref()
        .map_or_else(String::new, |p| format!("{} ", p.display()));
    match sdk.source {
        SdkSource::Environment => format!("your SDK {path}(SDKROOT)"),
        SdkSource::Manifest => format!("your SDK {path}(`sdk` in par.toml)"),
        SdkSource::Stubs => format!(
            "none: framework stubs generated into {path}(SDKROOT unset, no `sdk` in par.toml; set either to use a real SDK)"
        ),
    }
}

/// The plan as text.
pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    let p = &plan.package;
    let _ = writeln!(
        out,
        "plan: {} {} ({} `{}`), profile `{}`, {} compiler job{} shared by all targets",
        p.name,
        plan.version,
        match p.artifact.kind {
            crate::metadata::ArtifactKind::Cdylib => "cdylib",
            crate::metadata::ArtifactKind::Bin => "bin",
        },
        p.artifact.name,
        plan.profile,
        plan.jobs,
        if plan.jobs == 1 { "" } else { "s" },
    );
    let _ = writeln!(
        out,
        "cache:  {}{} ({})",
        plan.cache.kind,
        plan.cache
            .wrapper
            .as_ref()
            .map_or_else(String::new, |w| format!(" {}", w.display())),
        plan.cache.reason
    );
    if let Some(s) = &plan.incremental {
        let _ = writeln!(out, "incremental: {}={} ({})", s.key, s.value, s.reason);
    }
    let _ = writeln!(
        out,
        "output: {} ({})\n",
        plan.output.display(),
        serde_json::to_value(plan.compression)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    );
    // Columns as wide as the longest label and triple (custom labels can be long).
    let lw = crate::pipeline::ui::column_width(plan.targets.iter().map(|t| t.label.as_str()), 15);
    let tw = crate::pipeline::ui::column_width(plan.targets.iter().map(|t| t.triple.as_str()), 32);
    for t in &plan.targets {
        let _ = writeln!(
            out,
            "{:<lw$} {:<tw$} {}",
            t.label.as_str(),
            t.triple,
            t.backend.as_str()
        );
        let _ = writeln!(out, "  why:    {}", t.reason);
        for e in &t.env {
            let _ = writeln!(out, "  env:    {}={} ({})", e.key, e.value, e.reason);
        }
        if let Some(floor) = &t.glibc {
            let _ = writeln!(
                out,
                "  glibc:  {floor} floor (binaries run on distributions with glibc {floor} or newer)"
            );
        }
        if let Some(image) = &t.image {
            let _ = writeln!(out, "  image:  {image}");
        }
        if let Some(sdk) = &t.sdk {
            let _ = writeln!(out, "  sdk:    {}", describe_sdk(sdk));
        }
        let _ = writeln!(out, "  output: {}", t.expected_output.display());
        if t.label.as_str() == "arm-linux" && t.triple.starts_with("armv7") {
            let _ = writeln!(
                out,
                "  note:   stored as `arm-linux.bin`, the name 32-bit ARM hosts look up"
            );
        }
    }
    let _ = writeln!(
        out,
        "\ninvocations ({}, run at once):",
        plan.invocations.len()
    );
    for (i, inv) in plan.invocations.iter().enumerate() {
        let labels: Vec<&str> = inv
            .labels
            .iter()
            .map(crate::archive::Label::as_str)
            .collect();
        let _ = writeln!(
            out,
            "  [{}] {} for {}",
            i + 1,
            inv.backend.as_str(),
            labels.join(", ")
        );
        let _ = writeln!(out, "      cd {}", inv.command.cwd().display());
        if let Some(prepare) = inv.container.as_ref().and_then(|c| c.prepare.as_ref()) {
            let _ = writeln!(out, "      {prepare}");
        }
        if let Some(stubs) = &inv.stubs {
            let _ = writeln!(
                out,
                "      framework stubs for {} from the declarations of the packages of `{}`, into {}",
                stubs.triples.join(", "),
                stubs.metadata,
                stubs.dir.display()
            );
        }
        let _ = writeln!(out, "      {}", inv.command);
        if let Some(c) = &inv.container {
            let _ = writeln!(
                out,
                "      container: {} ({} of the {} jobs; stopped with `{}`)",
                c.name, c.cpu_tokens, plan.jobs, c.stop
            );
        }
        let _ = writeln!(out, "      log: {}", inv.log.display());
    }
    if !plan.missing.is_empty() {
        let _ = writeln!(
            out,
            "\nmissing (`parbuild doctor --fix` installs what it can):"
        );
        for m in &plan.missing {
            let _ = writeln!(out, "  - {}: {}", m.what, m.fix);
        }
    }
    for w in &plan.warnings {
        let _ = writeln!(out, "\nwarning: {w}");
    }
    out
}
