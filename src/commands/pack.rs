//! `parbuild pack`, and [`pack_and_verify`], the one way an archive gets written: also
//! used by `parbuild build`. It resolves the keys, takes `iat`/`jti` from
//! `SOURCE_DATE_EPOCH` (reproducible) or the clock (unique), warns about labels and
//! codecs hosts will not load, writes atomically and verifies strictly before the
//! archive is renamed into place.
//!
//! One file because `parbuild pack`'s own front (`run`: files or a base archive) is thin,
//! and the rest is the one writing path `build` and `assemble` share.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::archive::{
    self, Compression, Jti, Label, ProviderMeta, ReadOptions, VerifyOptions, WriteSpec,
};
use crate::cli::{CompressionChoice, DEFAULT_MAX_UNPACKED, PackArgs};
use crate::error::{Error, Result};
use crate::keystore::{self, GeneratedKey, KeyOptions};

use super::Context;

/// Everything needed to write one archive.
#[derive(Debug, Clone)]
pub struct PackRequest {
    /// What goes into `wascap`.
    pub meta: ProviderMeta,
    /// One binary per label.
    pub binaries: Vec<(Label, PathBuf)>,
    /// A WIT package to store as `world.wasm` (opt-in).
    pub world: Option<PathBuf>,
    /// Compression.
    pub compression: Compression,
    /// Where the keys come from, and pins.
    pub keys: KeyOptions,
    /// The stem of the service key file, `<stem>_service.nk` (wash uses the binary name).
    pub subject_stem: String,
    /// The glibc floor every Linux gnu binary must meet (`verify --glibc`).
    pub glibc_floor: Option<String>,
    /// The macOS deployment target every Mach-O binary must have (`verify --macos-min`).
    pub macos_min: Option<String>,
    /// The archive to write (absolute).
    pub output: PathBuf,
}

/// One stored target: label (or `world.wasm`), size, uppercase hex SHA-256.
pub type TargetSummary = archive::write::WrittenEntry;

/// What [`pack_and_verify`] wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PackSummary {
    /// The archive.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// The issuer (account) public key.
    pub issuer: String,
    /// The subject (service) public key.
    pub subject: String,
    /// Compression.
    pub compression: Compression,
    /// The targets, sorted by label.
    pub targets: Vec<TargetSummary>,
    /// The WIT package, if stored.
    pub world: Option<TargetSummary>,
    /// The claims' `jti`.
    pub jti: String,
    /// The claims' `iat`.
    pub iat: u64,
    /// Keys generated on the way (already announced).
    pub generated_keys: Vec<GeneratedKey>,
    /// The archive already held exactly this content and was left untouched.
    pub unchanged: bool,
}

/// Signs and writes `req.output` atomically, verifying it (every check, CPU included)
/// before it replaces anything. Prints only warnings and notes.
pub fn pack_and_verify(ctx: &Context, req: &PackRequest) -> Result<PackSummary> {
    pack(ctx, req, None)
}

/// [`pack_and_verify`], except that an archive at `req.output` that already verifies
/// and holds exactly these binaries, metadata and keys is left untouched (bytes and
/// mtime): what a build that rebuilt nothing does. `stamp` records each verified archive's
/// inputs ([`archive::stamp`]): when it matches, the archive is not even read again.
pub fn pack_unless_current(ctx: &Context, req: &PackRequest, stamp: &Path) -> Result<PackSummary> {
    pack(ctx, req, Some(stamp))
}

fn pack(ctx: &Context, req: &PackRequest, stamp: Option<&Path>) -> Result<PackSummary> {
    for (label, _) in &req.binaries {
        if let Some(w) = label.lookup_warning() {
            ctx.reporter.warn(w);
        }
    }
    match req.compression {
        Compression::Gzip => {}
        Compression::None => ctx.reporter.note("plain tar (`--compression none`): hosts load it, but it is not compressed"),
        Compression::Zstd => ctx.reporter.warn(
            "zstd archives are read only by parbuild: wasmCloud hosts and wash load only gzip or plain tar",
        ),
    }
    let (iat, jti) = timestamp(ctx)?;
    let keys = resolve_keys(ctx, &req.keys, &req.subject_stem)?;
    let subject = keys.subject.public_key();
    let spec = WriteSpec {
        meta: &req.meta,
        binaries: &req.binaries,
        world: req.world.as_deref(),
        compression: req.compression,
        issuer: &keys.issuer,
        subject: &subject,
        iat,
        jti,
    };
    let verify = VerifyOptions {
        max_unpacked: u64::MAX,
        issuer: req.keys.issuer_public.clone(),
        subject: req.keys.subject_public.clone(),
        now: iat.max(now()),
        glibc_floor: req.glibc_floor.clone(),
        macos_min: req.macos_min.clone(),
    };
    let key = stamp
        .map(|_| archive::stamp::key(&spec, &verify))
        .transpose()?;
    let stamped = stamp
        .zip(key.as_deref())
        .and_then(|(path, key)| archive::stamp::lookup(path, &req.output, key));
    let current = match stamped {
        Some(written) => Some(written),
        None if stamp.is_some() => {
            archive::write::current(&req.output, &spec, &verify)?.map(|(written, _)| written)
        }
        None => None,
    };
    let unchanged = current.is_some();
    let written = match current {
        Some(found) => found,
        None => archive::write_file(&req.output, &spec, &verify)?.0,
    };
    if let Some((path, key)) = stamp.zip(key.as_deref()) {
        // Only speed rides on the stamp: without one the next run verifies in full.
        if let Err(e) = archive::stamp::record(path, &req.output, key, &written) {
            ctx.reporter
                .note(format!("cannot write the stamp {}: {e}", path.display()));
        }
    }
    Ok(PackSummary {
        path: req.output.clone(),
        size: written.size,
        issuer: written.claims.iss.clone(),
        subject: written.claims.sub.clone(),
        compression: req.compression,
        targets: written.targets,
        world: written.world,
        iat: written.claims.iat,
        jti: written.claims.jti,
        generated_keys: keys.generated,
        unchanged,
    })
}

/// Finds, reads or generates the signing keys (announcing any key it generates). `build`
/// calls it before compiling, so missing keys fail in seconds, not after the build.
pub fn resolve_keys(
    ctx: &Context,
    opts: &keystore::KeyOptions,
    subject_stem: &str,
) -> Result<keystore::SigningKeys> {
    let keys = keystore::resolve(opts, &ctx.env, subject_stem)?;
    for g in &keys.generated {
        ctx.reporter.warn(format!(
            "generated a new {} key `{}` (public key {}); back it up: every archive of this provider must be signed with the same keys, and a lost key cannot be recovered",
            match g.role {
                keystore::Role::Issuer => "issuer (account)",
                keystore::Role::Subject => "subject (service)",
            },
            g.path.display(),
            g.public
        ));
    }
    for l in &keys.loose {
        ctx.reporter.warn(format!(
            "the {} key `{}` can be read by other users (mode {:o}): anyone who reads it can sign as you; `chmod 600 {}`",
            match l.role {
                keystore::Role::Issuer => "issuer (account)",
                keystore::Role::Subject => "subject (service)",
            },
            l.path.display(),
            l.mode,
            l.path.display()
        ));
    }
    Ok(keys)
}

/// The one-line result of a pack: path, targets, size, keys, and that it was verified.
pub fn describe(summary: &PackSummary, partial: bool) -> String {
    format!(
        "{} {} ({}{} target{}, {}, {}, issuer {}, subject {}) — verified{}",
        if summary.unchanged {
            "up to date:"
        } else {
            "wrote"
        },
        summary.path.display(),
        if partial { "PARTIAL: " } else { "" },
        summary.targets.len(),
        if summary.targets.len() == 1 { "" } else { "s" },
        crate::pipeline::ui::human_size(summary.size),
        summary.compression.as_str(),
        summary.issuer,
        summary.subject,
        if summary.unchanged {
            ", not rewritten"
        } else {
            ""
        }
    )
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `iat` and `jti`: from `SOURCE_DATE_EPOCH` and the content, else the clock and chance.
fn timestamp(ctx: &Context) -> Result<(u64, Jti)> {
    match ctx.env.source_date_epoch() {
        Some(Ok(epoch)) => Ok((epoch, Jti::FromContent)),
        Some(Err(raw)) => Err(Error::input(
            format!("`SOURCE_DATE_EPOCH` is `{raw}`, not a number of seconds since 1970"),
            Some(
                "set it to an integer such as `$(git log -1 --format=%ct)`, or unset it".to_owned(),
            ),
        )),
        None => {
            let mut bytes = [0u8; 16];
            getrandom::getrandom(&mut bytes).map_err(|e| Error::Internal {
                message: format!("no randomness for the `jti`: {e}"),
            })?;
            Ok((now(), Jti::Given(archive::claims::base62_id(&bytes))))
        }
    }
}

/// Runs `parbuild pack`.
pub fn run(args: &PackArgs, ctx: &Context) -> Result<()> {
    let mut binaries: BTreeMap<Label, PathBuf> = BTreeMap::new();
    let mut first_stem = None;
    for spec in &args.targets {
        let (label, path) = spec.split_once('=').ok_or_else(|| {
            Error::input(
                format!("`--target {spec}`: expected `LABEL=PATH`"),
                Some("e.g. `--target x86_64-linux=target/release/my-provider`".to_owned()),
            )
        })?;
        let label = Label::parse(label).map_err(archive::ArchiveError::from)?;
        let path = ctx.path(Path::new(path));
        first_stem
            .get_or_insert_with(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()));
        if binaries.insert(label.clone(), path).is_some() {
            return Err(archive::ArchiveError::DuplicateLabel {
                label: label.to_string(),
            }
            .into());
        }
    }
    let config_schema = args
        .schema
        .as_ref()
        .map(|p| read_schema(&ctx.path(p)))
        .transpose()?;
    let compression = match args.compression {
        CompressionChoice::Gzip => Compression::Gzip,
        CompressionChoice::None => Compression::None,
        CompressionChoice::Zstd => Compression::Zstd,
    };
    let mut keys = KeyOptions::new(&args.keys, None);
    let mut world = args.world.as_ref().map(|p| ctx.path(p));
    let _extracted; // keeps the extracted binaries of `--from` alive until written
    let meta = if let Some(from) = &args.from {
        let from = ctx.path(from);
        let (base, dir, old_world, old_subject) = open_base(ctx, &from)?;
        _extracted = dir;
        for (label, path) in base.binaries {
            binaries.entry(label).or_insert(path);
        }
        world = world.or(old_world);
        // Keep the provider's identity: unless a subject key is named, the one found must
        // be the archive's subject.
        if keys.subject.is_none()
            && ctx.env.non_empty("WASH_SUBJECT_KEY").is_none()
            && keys.subject_public.is_none()
        {
            keys.subject_public = Some(old_subject);
        }
        ProviderMeta {
            name: args.name.clone().unwrap_or(base.meta.name),
            vendor: args.vendor.clone().unwrap_or(base.meta.vendor),
            version: args.provider_version.clone().or(base.meta.version),
            revision: args.revision.or(base.meta.revision),
            capid: args.capid.clone().or(base.meta.capid),
            config_schema: config_schema.or(base.meta.config_schema),
        }
    } else {
        let missing = |flag: &str| {
            Error::input(
                format!("`--{flag}` is required (or start from an archive with `--from`)"),
                None,
            )
        };
        ProviderMeta {
            name: args.name.clone().ok_or_else(|| missing("name"))?,
            vendor: args.vendor.clone().ok_or_else(|| missing("vendor"))?,
            version: args.provider_version.clone(),
            revision: args.revision,
            capid: args.capid.clone(),
            config_schema,
        }
    };
    let output = match (&args.output, &args.from) {
        (Some(o), _) => ctx.path(o),
        (None, Some(from)) => ctx.path(from),
        (None, None) => ctx.env.cwd().join(format!(
            "{}.{}",
            crate::manifest::validate::slug(&meta.name),
            compression.extension()
        )),
    };
    let subject_stem = first_stem
        .flatten()
        .unwrap_or_else(|| crate::manifest::validate::slug(&meta.name));
    let req = PackRequest {
        meta,
        binaries: binaries.into_iter().collect(),
        world,
        compression,
        keys,
        subject_stem,
        output,
        glibc_floor: None,
        macos_min: None,
    };
    let summary = pack_and_verify(ctx, &req)?;
    if args.json {
        ctx.reporter.json(&summary);
    } else {
        ctx.reporter.out(describe(&summary, false));
    }
    Ok(())
}

/// Reads a config schema (`--schema`, `[provider] schema`): a JSON document.
pub fn read_schema(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        action: "cannot read the config schema",
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| {
        Error::input(
            format!("the config schema `{}` is not JSON: {e}", path.display()),
            Some("the schema must be a JSON Schema document".to_owned()),
        )
    })
}

struct Base {
    meta: ProviderMeta,
    binaries: Vec<(Label, PathBuf)>,
}

/// Verifies the `--from` archive and extracts its files to a temporary directory.
fn open_base(
    ctx: &Context,
    from: &Path,
) -> Result<(Base, tempfile::TempDir, Option<PathBuf>, String)> {
    let opts = VerifyOptions {
        max_unpacked: DEFAULT_MAX_UNPACKED,
        issuer: None,
        subject: None,
        now: now(),
        glibc_floor: None,
        macos_min: None,
    };
    let report = archive::verify_file(from, &opts)?;
    if !report.ok() {
        return Err(archive::ArchiveError::Unreadable {
            path: from.to_owned(),
            reason: format!("it fails verification ({})", report.failures()),
        }
        .into());
    }
    let read = ReadOptions {
        max_unpacked: DEFAULT_MAX_UNPACKED,
    };
    let inspection = archive::read_file(from, &read)?;
    let dir = tempfile::tempdir().map_err(|source| Error::Io {
        action: "cannot create a temporary directory for",
        path: from.to_owned(),
        source,
    })?;
    let mut binaries = Vec::new();
    let mut world = None;
    for (role, path) in archive::scan::extract_file(from, dir.path(), &read)? {
        match role {
            archive::scan::Role::Target(label) => binaries.push((label, path)),
            archive::scan::Role::World => world = Some(path),
            _ => {}
        }
    }
    ctx.reporter.note(format!(
        "starting from `{}`: {} target(s), subject {}",
        from.display(),
        binaries.len(),
        inspection.subject
    ));
    Ok((
        Base {
            meta: inspection.meta,
            binaries,
        },
        dir,
        world,
        inspection.subject,
    ))
}
