//! `parbuild verify`: every strict check by name on stdout; exit 0 only when all pass,
//! 1 when one fails, 2 when the file cannot be read at all.

use crate::archive::{self, VerifyOptions, Version};
use crate::cli::VerifyArgs;
use crate::error::{Error, Result};

use super::Context;

/// Runs `parbuild verify`.
pub fn run(args: &VerifyArgs, ctx: &Context) -> Result<()> {
    let fetched = super::publish::fetch(&args.file, &args.registry, args.max_unpacked, ctx)?;
    let path = fetched.path.clone();
    // What the user named: the reference, or the file.
    let shown = match &fetched.pulled {
        Some(p) => format!("{} ({})", p.reference, p.digest),
        None => path.display().to_string(),
    };
    let opts = VerifyOptions {
        max_unpacked: args.max_unpacked,
        issuer: args.issuer.clone(),
        subject: args.subject.clone(),
        now: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        glibc_floor: version_flag("--glibc", args.glibc.as_deref(), "2.17")?,
        macos_min: version_flag("--macos-min", args.macos_min.as_deref(), "11.0")?,
    };
    let report = archive::verify_file(&path, &opts)?;
    if args.json {
        ctx.reporter.json(&serde_json::json!({
            "file": fetched.pulled.as_ref().map_or_else(|| path.display().to_string(), |p| p.reference.clone()),
            "digest": fetched.pulled.as_ref().map(|p| &p.digest),
            "ok": report.ok(),
            "compression": report.compression,
            "checks": report.checks,
        }));
    } else {
        let width = report
            .checks
            .iter()
            .map(|c| c.name.len())
            .max()
            .unwrap_or(0);
        for c in &report.checks {
            let mark = ctx.reporter.mark(c.ok, if c.ok { "ok  " } else { "FAIL" });
            ctx.reporter
                .out(format!("{mark}  {:<width$}  {}", c.name, c.detail));
        }
    }
    let failed = report.failed_names();
    if failed.is_empty() {
        ctx.reporter.status(format!(
            "`{shown}` is sound: {} checks passed",
            report.checks.len()
        ));
        Ok(())
    } else {
        Err(Error::Failed {
            message: format!(
                "`{shown}` failed {} check(s): {}",
                failed.len(),
                failed.join(", ")
            ),
        })
    }
}

/// A version flag's value, checked to be `X.Y[.Z]`.
fn version_flag(flag: &str, value: Option<&str>, example: &str) -> Result<Option<String>> {
    match value {
        None => Ok(None),
        Some(v) if Version::parse(v).is_some() => Ok(Some(v.to_owned())),
        Some(v) => Err(Error::Input {
            message: format!("`{flag} {v}` is not a version"),
            hint: Some(format!("give it as `X.Y`, e.g. `{flag} {example}`")),
        }),
    }
}
