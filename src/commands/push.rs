//! `parbuild push ARCHIVE [REF]`: verify an archive, then upload it as `wash push` does
//! (wash's media types), to REF or to every tag of `[publish]`; print the pinned
//! reference (`…@sha256:…`) on stdout.

use crate::cli::PushArgs;
use crate::error::Result;
use crate::manifest::PublishSettings;

use super::Context;
use super::publish;

/// Runs `parbuild push`.
pub fn run(args: &PushArgs, ctx: &Context) -> Result<()> {
    let path = ctx.path(&args.archive);
    // `[publish]` is read when par.toml is there; with an explicit REF it is optional.
    let manifest_path = ctx.manifest_path();
    let publish_settings = if manifest_path.is_file() {
        crate::manifest::load(&manifest_path)?.publish
    } else {
        PublishSettings::default()
    };
    let version = crate::archive::read_file(
        &path,
        &crate::archive::ReadOptions {
            max_unpacked: crate::cli::DEFAULT_MAX_UNPACKED,
        },
    )?
    .meta
    .version;
    let refs = publish::references(
        args.reference.as_deref(),
        &publish_settings,
        version.as_deref(),
        args.publish.allow_latest,
    )?;
    let pushed = publish::push_file(&path, &refs, &args.publish, &publish_settings, ctx)?;
    if args.json {
        ctx.reporter.json(&serde_json::json!({
            "archive": path,
            "digest": pushed.first().map(|p| &p.digest),
            "pushed": pushed,
        }));
    } else {
        publish::report_pushed(&pushed, ctx);
    }
    Ok(())
}
