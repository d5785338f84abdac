//! `parbuild pull REF [-o FILE]`: download a provider archive from an OCI registry,
//! checked against its digests and a size limit, verify it as strictly as a local file,
//! and only then move it into place (an earlier file there survives any failure).

use std::path::PathBuf;

use crate::archive;
use crate::cli::PullArgs;
use crate::error::{Error, Result};
use crate::registry::Ref;

use super::Context;
use super::publish;

/// Runs `parbuild pull`.
pub fn run(args: &PullArgs, ctx: &Context) -> Result<()> {
    let r = Ref::parse(&args.reference)?;
    let output = match &args.output {
        Some(p) => ctx.path(p),
        None => {
            let name = r.repository().rsplit('/').next().unwrap_or("provider");
            ctx.env.cwd().join(format!("{name}.par.gz"))
        }
    };
    if output.is_dir() {
        return Err(Error::input(
            format!("`{}` is a directory", output.display()),
            Some("give `-o` a file name, e.g. `-o build/provider.par.gz`".to_owned()),
        ));
    }
    let dir = output
        .parent()
        .map_or_else(|| PathBuf::from("."), std::path::Path::to_path_buf);
    if !dir.is_dir() {
        return Err(Error::input(
            format!("`{}`: no such directory", dir.display()),
            Some("create it first, or choose another `-o`".to_owned()),
        ));
    }
    // Beside the output, so the final rename is atomic; removed on any failure, and
    // removed by the next pull when this one is killed.
    let (temp, _cleaned) =
        archive::staged::Staged::beside(&output).map_err(|source| Error::Io {
            action: "cannot create a temporary file in",
            path: dir.clone(),
            source,
        })?;
    let pulled = publish::download(&r, &args.registry, args.max_unpacked, temp.path(), ctx)?;
    let opts =
        publish::verify_options(args.max_unpacked, args.issuer.clone(), args.subject.clone());
    let report = archive::verify_file(temp.path(), &opts)?;
    let failed = report.failed_names();
    if !failed.is_empty() {
        for c in report.checks.iter().filter(|c| !c.ok) {
            ctx.reporter.warn(format!("{}: {}", c.name, c.detail));
        }
        return Err(Error::Failed {
            message: format!(
                "`{r}` ({}) failed {} check(s): {}; nothing was written",
                pulled.digest,
                failed.len(),
                failed.join(", ")
            ),
        });
    }
    let io = |source| Error::Io {
        action: "cannot write",
        path: output.clone(),
        source,
    };
    // Staging files are 0600; an archive is not a secret (as `build` and `pack` write it).
    #[cfg(unix)]
    temp.set_mode(0o644).map_err(io)?;
    temp.persist(&output).map_err(io)?;
    if args.json {
        ctx.reporter.json(&serde_json::json!({
            "reference": pulled.reference,
            "pinned": pulled.pinned,
            "digest": pulled.digest,
            "file": output,
            "size": pulled.layer.size,
            "annotations": pulled.annotations,
            "checks": report.checks.len(),
        }));
    } else {
        ctx.reporter.status(format!(
            "pulled `{}` ({}) to `{}`, {} bytes — verified ({} checks)",
            pulled.reference,
            pulled.digest,
            output.display(),
            pulled.layer.size,
            report.checks.len()
        ));
        ctx.reporter.out(output.display());
    }
    Ok(())
}
