//! `parbuild doctor [--fix]`: for every target of the plan, what is present and what is
//! missing (rust std, linker, zig and cargo-zigbuild) plus the signing keys, each with
//! its fix; `--fix` performs the installs that need no guessing.

use std::collections::BTreeSet;

use crate::cli::DoctorArgs;
use crate::error::{Error, Result};
use crate::manifest::BackendKind;
use crate::plan::Plan;
use crate::tools::{Install, Toolbox};

use super::Context;

/// One line of the report.
#[derive(Debug, serde::Serialize)]
struct Check {
    target: String,
    item: String,
    ok: bool,
    detail: String,
}

/// Runs `parbuild doctor`.
pub fn run(args: &DoctorArgs, ctx: &Context) -> Result<()> {
    let tools = Toolbox::new(&ctx.env);
    let (manifest, mut plan) = super::plan::load(ctx, &args.select, false, &tools)?;
    if args.fix && !plan.missing.is_empty() {
        fix(&plan, &tools, ctx)?;
        // Look again with fresh eyes (the toolbox caches what it saw).
        let tools = Toolbox::new(&ctx.env);
        plan = super::plan::load(ctx, &args.select, false, &tools)?.1;
    }
    let mut checks = target_checks(&plan, &tools);
    let keys = super::pack::key_options(&args.keys, &manifest.sign);
    let key_result = crate::keystore::check_available(&ctx.env, &keys, &plan.package.artifact.name);
    checks.push(Check {
        target: "signing".to_owned(),
        item: "keys".to_owned(),
        ok: key_result.is_ok(),
        detail: match &key_result {
            Ok(()) => {
                "issuer and subject keys are available (or will be generated here)".to_owned()
            }
            Err(e) => e.to_string(),
        },
    });
    if args.json {
        ctx.reporter
            .json(&serde_json::json!({ "checks": checks, "missing": plan.missing }));
    } else {
        let mut last = String::new();
        for c in &checks {
            if c.target != last {
                ctx.reporter.out(&c.target);
                last.clone_from(&c.target);
            }
            let mark = if c.ok {
                ctx.reporter.mark(true, "ok     ")
            } else {
                ctx.reporter.mark(false, "MISSING")
            };
            ctx.reporter
                .out(format!("  {mark} {:<22} {}", c.item, c.detail));
        }
    }
    if !plan.missing.is_empty() {
        return Err(crate::build::BuildError::Missing {
            list: plan.missing.clone(),
        }
        .into());
    }
    key_result?;
    ctx.reporter.status("everything this plan needs is here");
    Ok(())
}

fn target_checks(plan: &Plan, tools: &Toolbox) -> Vec<Check> {
    let mut checks = Vec::new();
    for t in &plan.targets {
        let target = format!("{} ({}, {})", t.label, t.triple, t.backend.as_str());
        let check =
            |item: &str, missing: Option<&crate::tools::Missing>, ok_detail: String| Check {
                target: target.clone(),
                item: item.to_owned(),
                ok: missing.is_none(),
                detail: missing.map_or(ok_detail, |m| format!("{} — fix: {}", m.what, m.fix)),
            };
        let std_missing = t
            .missing
            .iter()
            .find(|m| m.what.contains("standard library"));
        checks.push(check(
            "rust std",
            std_missing,
            "installed (rustup)".to_owned(),
        ));
        match t.backend {
            BackendKind::Zig => {
                let zig_missing = t.missing.iter().find(|m| m.what.contains("zig"));
                let detail = tools.zigbuild().map_or_else(String::new, |p| {
                    let zig = if tools.zig_python().is_some() {
                        "zig from the venv's ziglang"
                    } else {
                        "zig on PATH"
                    };
                    format!("{} with {zig}", p.display())
                });
                checks.push(check("cargo-zigbuild + zig", zig_missing, detail));
            }
            _ => {
                let linker_missing = t
                    .missing
                    .iter()
                    .find(|m| m.what.contains("linker") || m.what.contains('`'));
                let detail = t
                    .env
                    .iter()
                    .find(|e| e.key.ends_with("_LINKER"))
                    .map_or_else(
                        || t.reason.clone(),
                        |e| format!("{} ({})", e.value, e.reason),
                    );
                checks.push(check("linker", linker_missing, detail));
            }
        }
    }
    checks
}

fn fix(plan: &Plan, tools: &Toolbox, ctx: &Context) -> Result<()> {
    let installs: BTreeSet<Install> = plan
        .missing
        .iter()
        .filter_map(|m| m.install.clone())
        .collect();
    let mut apt: Vec<String> = Vec::new();
    for install in &installs {
        if let Install::Apt(pkg) = install {
            if !tools.can_apt() {
                apt.push(pkg.clone());
                continue;
            }
        }
        for cmd in tools.install_commands(install) {
            ctx.reporter.status(format!("running: {cmd}"));
            cmd.output_checked()?;
        }
    }
    if !apt.is_empty() {
        ctx.reporter.note(format!(
            "not root: install the Debian packages yourself: sudo apt-get install {}",
            apt.join(" ")
        ));
    }
    for m in plan.missing.iter().filter(|m| m.install.is_none()) {
        ctx.reporter.note(format!(
            "cannot install {} without guessing: {}",
            m.what, m.fix
        ));
    }
    Ok(())
}
