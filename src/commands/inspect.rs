//! `parbuild inspect`: what is inside an archive, as text or JSON on stdout. It reports a
//! bad signature or hash instead of failing; `verify` is the strict judge. Each target
//! shows what it needs to load (glibc and libraries, or minimum macOS and dylibs).

use std::fmt::Write as _;

use crate::archive::{self, Inspection, LoadFacts, ReadOptions, TargetInfo};
use crate::cli::InspectArgs;
use crate::error::Result;

use super::Context;

/// Runs `parbuild inspect`.
pub fn run(args: &InspectArgs, ctx: &Context) -> Result<()> {
    let fetched = super::publish::fetch(&args.file, &args.registry, args.max_unpacked, ctx)?;
    let path = fetched.path.clone();
    let i = archive::read_file(
        &path,
        &ReadOptions {
            max_unpacked: args.max_unpacked,
        },
    )?;
    if args.json {
        let mut value = json(&i);
        if let (Some(p), Some(map)) = (&fetched.pulled, value.as_object_mut()) {
            map.insert("reference".into(), serde_json::json!(p.reference));
            map.insert("digest".into(), serde_json::json!(p.digest));
            map.insert("annotations".into(), serde_json::json!(p.annotations));
        }
        ctx.reporter.json(&value);
    } else {
        if let Some(p) = &fetched.pulled {
            ctx.reporter.out(format!("{} ({})", p.reference, p.pinned));
        }
        ctx.reporter.out(text(&i).trim_end());
    }
    Ok(())
}

/// The JSON shape: flat, like `wash inspect --output json`, plus sizes and hashes.
pub fn json(i: &Inspection) -> serde_json::Value {
    serde_json::json!({
        "name": i.meta.name,
        "issuer": i.issuer,
        "service": i.subject,
        "capid": i.meta.capid,
        "vendor": i.meta.vendor,
        "version": i.meta.version,
        "revision": i.meta.revision,
        "compression": i.compression,
        "signature_valid": i.signature_valid,
        "signature_error": i.signature_error,
        "jti": i.jti,
        "iat": i.iat,
        "exp": i.exp,
        "nbf": i.nbf,
        "targets": i.targets,
        "world": i.world,
        "schema": i.meta.config_schema,
    })
}

/// The text shape.
pub fn text(i: &Inspection) -> String {
    let mut out = format!("{} - Capability Provider\n", i.meta.name);
    let mut row = |k: &str, v: &str| {
        let _ = writeln!(out, "  {k:<12} {v}");
    };
    row("account", &i.issuer);
    row("service", &i.subject);
    if let Some(capid) = &i.meta.capid {
        row("contract", capid);
    }
    row("vendor", &i.meta.vendor);
    row("version", i.meta.version.as_deref().unwrap_or("None"));
    row(
        "revision",
        &i.meta
            .revision
            .map_or_else(|| "None".to_owned(), |r| r.to_string()),
    );
    row("compression", i.compression.as_str());
    let sig = match &i.signature_error {
        None => "valid".to_owned(),
        Some(e) => format!("INVALID: {e}"),
    };
    row("signature", &sig);
    if i.meta.config_schema.is_some() {
        row("schema", "present (`--json` shows it)");
    }
    let _ = writeln!(out, "  targets");
    let line = |out: &mut String, t: &TargetInfo| {
        let flag = if t.hash_ok { "" } else { "  HASH MISMATCH" };
        let _ = writeln!(
            out,
            "    {:<16} {:>12} bytes  {}{flag}",
            t.label, t.size, t.sha256
        );
        if let Some(loads) = &t.loads {
            let _ = writeln!(out, "      {}", loads_line(loads));
        }
    };
    for t in &i.targets {
        line(&mut out, t);
    }
    if let Some(w) = &i.world {
        line(&mut out, w);
    }
    out
}

/// One short line of what a target needs to load.
pub fn loads_line(facts: &LoadFacts) -> String {
    match facts {
        LoadFacts::Elf { glibc, needed } => {
            let what = match glibc.as_str() {
                "static" => "static: needs no glibc".to_owned(),
                "musl" => "musl: needs no glibc".to_owned(),
                "unversioned" => "needs no `GLIBC_` version".to_owned(),
                "unknown" => "glibc requirement unknown".to_owned(),
                version => format!("needs glibc ≥ {version}"),
            };
            if needed.is_empty() {
                what
            } else {
                format!("{what} · links {}", needed.join(", "))
            }
        }
        LoadFacts::MachO {
            macos_min,
            dylibs,
            imports,
        } => format!(
            "macOS ≥ {} · links {} · {imports} imports",
            macos_min.as_deref().unwrap_or("unknown"),
            dylibs.join(", ")
        ),
        LoadFacts::NotChecked { reason } => reason.clone(),
        LoadFacts::Unreadable { error } => format!("load facts unreadable: {error}"),
    }
}
