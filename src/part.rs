//! Parts: one target's binary, built on one machine, unsigned, carrying everything
//! `parbuild assemble` needs to check that parts built elsewhere belong together and to
//! pack them without `par.toml` or keys on the build machines.
//!
//! A part is a zstd-compressed tar (`<package>-<label>.part.tar.zst`) with deterministic
//! GNU headers, holding in this order:
//! 1. `part.json`, the [`PartManifest`] (at most [`MAX_MANIFEST`] bytes);
//! 2. `<label>.bin`, the binary, whose size and SHA-256 the manifest states;
//! 3. `world.wasm`, the WIT package, only when the manifest lists one.
//!
//! This module is the format: write, read (bounded, strict, never panicking on garbage)
//! and check a set of parts. Like `archive`, it prints nothing, reads no environment and
//! starts no process: provenance (git commit, `rustc -vV`) is gathered by the command.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::archive::compress::{self, Decoder, Encoder};
use crate::archive::tar::{self as tarfmt, EntryKind, ReadFailure, TarReader};
use crate::archive::{Compression, Label, ProviderMeta, claims::hex_upper};

/// The format this parbuild writes and reads.
pub const FORMAT: u32 = 1;
/// The manifest's entry name.
pub const MANIFEST_ENTRY: &str = "part.json";
/// The file extension of a part.
pub const EXTENSION: &str = "part.tar.zst";
/// The largest `part.json` accepted.
pub const MAX_MANIFEST: u64 = 1 << 20;

/// The file name of a part: `<package>-<label>.part.tar.zst`.
pub fn file_name(package: &str, label: &Label) -> String {
    format!("{package}-{label}.{EXTENSION}")
}

/// `part.json`. Every field but the per-part ones ([`PartManifest::PER_PART`]) must be
/// equal across the parts of one archive.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartManifest {
    /// [`FORMAT`].
    pub format: u32,
    /// The parbuild version that wrote it.
    pub parbuild: String,
    /// The archive label of this part's target.
    pub label: String,
    /// The Rust triple it was built for.
    pub triple: String,
    /// The binary: `<label>.bin` in the part.
    pub binary: FileDigest,
    /// `rustc -vV`'s `release` (e.g. `1.95.0`), when known.
    pub rustc: Option<String>,
    /// What goes into the archive's claims.
    pub provider: ProviderMeta,
    /// The cargo package.
    pub package: String,
    /// The cargo target that is the provider (also the stem of wash's service key file).
    pub artifact: String,
    /// Every target label of `par.toml`: the archive is complete when each has a part.
    pub targets: Vec<String>,
    /// The WIT package stored as `world.wasm`, if any (it travels in every part).
    pub world: Option<FileDigest>,
    /// The archive's compression.
    pub compression: Compression,
    /// The archive's path from `par.toml` (relative to its directory when under it).
    pub output: String,
    /// `[sign] issuer-public`: assemble refuses any other issuer.
    pub issuer_public: Option<String>,
    /// `[sign] subject-public`: assemble refuses any other subject.
    pub subject_public: Option<String>,
    /// What the binary was built from.
    pub source: Source,
}

/// Size and SHA-256 (uppercase hex, as `parbuild inspect` shows hashes) of a file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDigest {
    /// Bytes.
    pub size: u64,
    /// SHA-256, uppercase hex.
    pub sha256: String,
}

/// The source a part was built from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// `git rev-parse HEAD` in the project; `None` outside a git checkout.
    pub revision: Option<String>,
    /// SHA-256 of the workspace's `Cargo.lock` after the build; `None` without one.
    pub lockfile_sha256: Option<String>,
}

impl PartManifest {
    /// Fields that differ from part to part; every other field must match.
    pub const PER_PART: [&'static str; 6] =
        ["format", "parbuild", "label", "triple", "binary", "rustc"];
}

/// What can be wrong with a part or a set of parts.
#[derive(Debug, thiserror::Error)]
pub enum PartError {
    /// The file cannot be opened or read.
    #[error("cannot read the part `{path}`")]
    Open {
        /// The part.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Not a part at all, or a damaged one.
    #[error("`{path}` is not a valid part: {reason}")]
    Invalid {
        /// The part.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A directory where a part file was expected.
    #[error("`{path}` is a directory, not a part")]
    Directory {
        /// The directory.
        path: PathBuf,
    },
    /// It decompresses to more than the cap.
    #[error("`{path}` decompresses to more than {cap} bytes (a decompression bomb?)")]
    TooLarge {
        /// The part.
        path: PathBuf,
        /// The cap.
        cap: u64,
    },
    /// A part of another format version.
    #[error("`{path}` is a format {found} part; this parbuild reads format {FORMAT}")]
    Format {
        /// The part.
        path: PathBuf,
        /// Its `format`.
        found: String,
    },
    /// The content does not match what its manifest says (tampered or corrupted).
    #[error("`{path}`: {field} is `{stated}` in `part.json` but the content has `{actual}`")]
    Tampered {
        /// The part.
        path: PathBuf,
        /// The manifest field, e.g. `binary.sha256`.
        field: String,
        /// What `part.json` states.
        stated: String,
        /// What the content has.
        actual: String,
    },
    /// Two parts that do not belong to the same archive.
    #[error(
        "`{path}` does not belong with `{reference}`: `{field}` is {value} there but {expected} in `{reference}`"
    )]
    Mismatch {
        /// The odd part.
        path: PathBuf,
        /// The first part, which the others are compared with.
        reference: PathBuf,
        /// The differing field (a dotted path into `part.json`).
        field: String,
        /// Its value in `path` (JSON).
        value: String,
        /// Its value in `reference` (JSON).
        expected: String,
    },
    /// Two parts for one target.
    #[error("`{path}` and `{other}` are both the part for `{label}`")]
    Duplicate {
        /// The later part.
        path: PathBuf,
        /// The earlier one.
        other: PathBuf,
        /// The label.
        label: String,
    },
    /// A part for a target `par.toml` does not list.
    #[error(
        "`{path}` is the part for `{label}`, which is not a target of `par.toml` (it lists {listed})"
    )]
    NotListed {
        /// The part.
        path: PathBuf,
        /// Its label.
        label: String,
        /// The targets the parts list.
        listed: String,
    },
    /// Targets of `par.toml` without a part.
    #[error("no part for {}: `par.toml` lists {listed}", missing.iter().map(|l| format!("`{l}`")).collect::<Vec<_>>().join(", "))]
    Missing {
        /// The labels without a part.
        missing: Vec<String>,
        /// Every label `par.toml` lists.
        listed: String,
    },
    /// No part given.
    #[error("no parts given")]
    NoParts,
    /// Writing a part (or extracting one) failed.
    #[error("cannot write `{path}`")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A binary to put in a part cannot be read.
    #[error("cannot read `{path}`")]
    ReadInput {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl PartError {
    /// How to fix it.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Tampered { .. } | Self::Invalid { .. } => Some(
                "rebuild this part with `parbuild build --target LABEL --part-out DIR`; parts are checked, never repaired".to_owned(),
            ),
            Self::TooLarge { .. } => {
                Some("if the part is genuine, raise `--max-unpacked`".to_owned())
            }
            Self::Format { .. } => {
                Some("build and assemble the parts with the same parbuild version".to_owned())
            }
            Self::Mismatch { .. } => Some(
                "build every part from the same commit, `Cargo.lock` and `par.toml`, then assemble them together".to_owned(),
            ),
            Self::Duplicate { .. } => Some("pass one part per target".to_owned()),
            Self::Directory { path } => Some(format!(
                "pass the part files in it: `{}`",
                path.join("*").display()
            )),
            Self::Missing { .. } => Some(
                "build the missing targets with `parbuild build --target LABEL --part-out DIR`, or pass `--allow-missing` to pack without them".to_owned(),
            ),
            Self::NotListed { .. } => {
                Some("a part must come from the same `par.toml` as the others".to_owned())
            }
            _ => None,
        }
    }
}

/// SHA-256 and size of the file at `path`.
pub fn digest_file(path: &Path) -> std::io::Result<FileDigest> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let size = std::io::copy(&mut file, &mut hasher)?;
    Ok(FileDigest {
        size,
        sha256: hex_upper(&hasher.finalize()),
    })
}

/// Writes the part `dest` atomically: `manifest` (whose `binary` and `world` digests must
/// describe `binary` and `world`), then the files. A file that changed since it was
/// hashed fails the write; nothing is left behind on failure.
pub fn write(
    dest: &Path,
    manifest: &PartManifest,
    binary: &Path,
    world: Option<&Path>,
) -> Result<(), PartError> {
    let write_err = |source| PartError::Write {
        path: dest.to_owned(),
        source,
    };
    let (temp, _cleaned) = crate::archive::staged::Staged::beside(dest).map_err(write_err)?;
    let json = serde_json::to_vec_pretty(manifest).map_err(|e| write_err(e.into()))?;
    let mut enc =
        Encoder::new(BufWriter::new(temp.file()), Compression::Zstd).map_err(write_err)?;
    tarfmt::write_entry(
        &mut enc,
        MANIFEST_ENTRY,
        json.len() as u64,
        &mut json.as_slice(),
        |_| {},
    )
    .map_err(write_err)?;
    let label = Label::parse(&manifest.label).map_err(|e| write_err(std::io::Error::other(e)))?;
    let mut files = vec![(label.entry_name(), binary, &manifest.binary)];
    match (world, &manifest.world) {
        (Some(path), Some(digest)) => {
            files.push((crate::archive::WORLD_ENTRY.to_owned(), path, digest))
        }
        (None, None) => {}
        _ => {
            return Err(write_err(std::io::Error::other(
                "the manifest's `world` does not match the files given",
            )));
        }
    }
    for (name, path, digest) in files {
        let read_err = |source| PartError::ReadInput {
            path: path.to_owned(),
            source,
        };
        let mut file = File::open(path).map_err(read_err)?;
        let mut hasher = Sha256::new();
        tarfmt::write_entry(&mut enc, &name, digest.size, &mut file, |c| {
            hasher.update(c);
        })
        .map_err(read_err)?;
        let mut rest = [0u8; 1];
        let longer = file.read(&mut rest).map_err(read_err)? > 0;
        if longer || !hex_upper(&hasher.finalize()).eq_ignore_ascii_case(&digest.sha256) {
            return Err(read_err(std::io::Error::other(
                "the file changed while the part was being written",
            )));
        }
    }
    tarfmt::write_end(&mut enc).map_err(write_err)?;
    enc.finish()
        .map_err(write_err)?
        .into_inner()
        .map_err(|e| write_err(e.into_error()))?
        .sync_all()
        .map_err(write_err)?;
    // Staging files are 0600; a part is not a secret.
    #[cfg(unix)]
    temp.set_mode(0o644).map_err(write_err)?;
    temp.persist(dest).map_err(write_err)?;
    Ok(())
}

/// A part read and extracted by [`extract`].
#[derive(Debug, Clone)]
pub struct Extracted {
    /// The part file.
    pub path: PathBuf,
    /// Its manifest.
    pub manifest: PartManifest,
    /// Its label.
    pub label: Label,
    /// The binary, extracted.
    pub binary: PathBuf,
    /// The WIT package, extracted.
    pub world: Option<PathBuf>,
}

type PartReader = TarReader<Decoder<BufReader<File>>>;

/// Reads only the manifest of the part at `path` (cheap: the first entry), validated.
pub fn read_manifest(path: &Path, max_unpacked: u64) -> Result<PartManifest, PartError> {
    open(path, max_unpacked).map(|(_, m, _)| m)
}

/// Reads the part at `path` completely, writing its files into `dir` (which must exist
/// and be empty of them) and checking every size and hash against its manifest, and
/// that nothing else is in it.
pub fn extract(path: &Path, max_unpacked: u64, dir: &Path) -> Result<Extracted, PartError> {
    let (mut tar, manifest, label) = open(path, max_unpacked)?;
    let fail = |e| failure(path, max_unpacked, e);
    let invalid = |reason: String| PartError::Invalid {
        path: path.to_owned(),
        reason,
    };
    let mut expected: Vec<(String, &FileDigest, &'static str)> =
        vec![(label.entry_name(), &manifest.binary, "binary")];
    if let Some(world) = &manifest.world {
        expected.push((crate::archive::WORLD_ENTRY.to_owned(), world, "world"));
    }
    let mut written = Vec::new();
    for (name, digest, field) in &expected {
        let header = tar
            .next_header()
            .map_err(fail)?
            .ok_or_else(|| invalid(format!("`{name}` is missing")))?;
        if header.name != *name || header.kind != EntryKind::File {
            return Err(invalid(format!(
                "expected the file `{name}`, found {} `{}`",
                kind_text(header.kind),
                header.name
            )));
        }
        if header.size != digest.size {
            return Err(PartError::Tampered {
                path: path.to_owned(),
                field: format!("{field}.size"),
                stated: digest.size.to_string(),
                actual: header.size.to_string(),
            });
        }
        let dest = dir.join(name);
        let write_err = |source| PartError::Write {
            path: dest.clone(),
            source,
        };
        let mut out = BufWriter::new(
            File::options()
                .write(true)
                .create_new(true)
                .open(&dest)
                .map_err(write_err)?,
        );
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = tar.read_data(&mut buf).map_err(fail)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(write_err)?;
        }
        out.flush().map_err(write_err)?;
        let actual = hex_upper(&hasher.finalize());
        if !actual.eq_ignore_ascii_case(&digest.sha256) {
            return Err(PartError::Tampered {
                path: path.to_owned(),
                field: format!("{field}.sha256"),
                stated: digest.sha256.clone(),
                actual,
            });
        }
        written.push(dest);
    }
    if let Some(extra) = tar.next_header().map_err(fail)? {
        return Err(invalid(format!(
            "unexpected {} `{}` after the listed files",
            kind_text(extra.kind),
            extra.name
        )));
    }
    match tar.into_inner().finish() {
        Ok(None) => {}
        Ok(Some(what)) => return Err(invalid(format!("{what} follows the part"))),
        Err(e) => return Err(fail(ReadFailure::Io(e))),
    }
    let mut written = written.into_iter();
    Ok(Extracted {
        path: path.to_owned(),
        binary: written.next().unwrap_or_default(),
        world: written.next(),
        manifest,
        label,
    })
}

fn kind_text(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::File => "the file",
        EntryKind::Directory => "the directory",
        EntryKind::HardLink | EntryKind::Symlink => "the link",
        EntryKind::Other(_) => "the special entry",
    }
}

fn failure(path: &Path, cap: u64, e: ReadFailure) -> PartError {
    let reason = match e {
        ReadFailure::Tar(e) => e.0,
        ReadFailure::Io(e) if compress::is_cap_error(&e) => {
            return PartError::TooLarge {
                path: path.to_owned(),
                cap,
            };
        }
        ReadFailure::Io(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the compressed stream ends early (truncated)".to_owned()
        }
        ReadFailure::Io(e) => format!("the compressed stream is corrupt: {e}"),
    };
    PartError::Invalid {
        path: path.to_owned(),
        reason,
    }
}

/// Opens a part and reads its manifest, leaving the reader at the first file.
fn open(path: &Path, max_unpacked: u64) -> Result<(PartReader, PartManifest, Label), PartError> {
    if path.is_dir() {
        return Err(PartError::Directory {
            path: path.to_owned(),
        });
    }
    let file = File::open(path).map_err(|source| PartError::Open {
        path: path.to_owned(),
        source,
    })?;
    let invalid = |reason: String| PartError::Invalid {
        path: path.to_owned(),
        reason,
    };
    let fail = |e| failure(path, max_unpacked, e);
    let (decoder, codec) =
        Decoder::new(BufReader::new(file), max_unpacked).map_err(|e| fail(ReadFailure::Io(e)))?;
    if codec != Compression::Zstd {
        return Err(invalid(
            "not zstd-compressed (a part is a `.part.tar.zst` written by `parbuild build --part-out`)"
                .to_owned(),
        ));
    }
    let mut tar = TarReader::new(decoder);
    let header = tar
        .next_header()
        .map_err(fail)?
        .ok_or_else(|| invalid("the tar is empty".to_owned()))?;
    if header.name != MANIFEST_ENTRY || header.kind != EntryKind::File {
        return Err(invalid(format!(
            "the first entry must be `{MANIFEST_ENTRY}`, found `{}`",
            header.name
        )));
    }
    if header.size > MAX_MANIFEST {
        return Err(invalid(format!(
            "`{MANIFEST_ENTRY}` is {} bytes, more than the {MAX_MANIFEST} allowed",
            header.size
        )));
    }
    let mut json = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = tar.read_data(&mut buf).map_err(fail)?;
        if n == 0 {
            break;
        }
        json.extend_from_slice(&buf[..n]);
    }
    let (manifest, label) = parse_manifest(&json).map_err(|e| match e {
        ManifestProblem::Format(found) => PartError::Format {
            path: path.to_owned(),
            found,
        },
        ManifestProblem::Invalid(reason) => invalid(reason),
    })?;
    Ok((tar, manifest, label))
}

enum ManifestProblem {
    Format(String),
    Invalid(String),
}

/// Parses and validates `part.json`.
fn parse_manifest(json: &[u8]) -> Result<(PartManifest, Label), ManifestProblem> {
    let invalid = |what: String| ManifestProblem::Invalid(format!("`{MANIFEST_ENTRY}` {what}"));
    let value: serde_json::Value =
        serde_json::from_slice(json).map_err(|e| invalid(format!("is not JSON: {e}")))?;
    match value.get("format") {
        Some(f) if f.as_u64() == Some(u64::from(FORMAT)) => {}
        Some(f) => return Err(ManifestProblem::Format(f.to_string())),
        None => return Err(invalid("has no `format`".to_owned())),
    }
    let manifest: PartManifest = serde_json::from_value(value)
        .map_err(|e| invalid(format!("is not a part manifest: {e}")))?;
    let label =
        Label::parse(&manifest.label).map_err(|e| invalid(format!("has a bad `label`: {e}")))?;
    for t in &manifest.targets {
        Label::parse(t).map_err(|e| invalid(format!("has a bad entry in `targets`: {e}")))?;
    }
    let hex64 = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
    if !hex64(&manifest.binary.sha256) {
        return Err(invalid(
            "has a `binary.sha256` that is not 64 hex digits".to_owned(),
        ));
    }
    if manifest.world.as_ref().is_some_and(|w| !hex64(&w.sha256)) {
        return Err(invalid(
            "has a `world.sha256` that is not 64 hex digits".to_owned(),
        ));
    }
    // `assemble` writes here by default: never let a part point outside the working directory.
    let output = Path::new(&manifest.output);
    if manifest.output.is_empty()
        || !output
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
    {
        return Err(invalid(format!(
            "has an `output` that is not a relative path inside the project: `{}`",
            manifest.output
        )));
    }
    if manifest.triple.is_empty() || manifest.package.is_empty() || manifest.artifact.is_empty() {
        return Err(invalid(
            "has an empty `triple`, `package` or `artifact`".to_owned(),
        ));
    }
    Ok((manifest, label))
}

/// What [`check_set`] found: the labels present and anything worth a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetReport {
    /// Targets of `par.toml` without a part (only with `allow_missing`).
    pub missing: Vec<String>,
    /// Differences that do not stop the assembly (toolchain, parbuild version).
    pub warnings: Vec<String>,
}

/// Checks that `parts` (file, manifest) belong to one archive: every shared field equal
/// to the first part's, one part per label, each label a target of `par.toml`, and every
/// target present unless `allow_missing`.
pub fn check_set(
    parts: &[(PathBuf, PartManifest)],
    allow_missing: bool,
) -> Result<SetReport, PartError> {
    let Some((ref_path, reference)) = parts.first() else {
        return Err(PartError::NoParts);
    };
    let shared = |m: &PartManifest| {
        let mut v = serde_json::to_value(m).unwrap_or_default();
        if let Some(obj) = v.as_object_mut() {
            for key in PartManifest::PER_PART {
                obj.remove(key);
            }
        }
        v
    };
    let ref_shared = shared(reference);
    let listed = reference.targets.join(", ");
    let mut warnings = Vec::new();
    let mut seen: Vec<(&str, &PathBuf)> = Vec::new();
    for (path, m) in parts {
        if let Some((field, value, expected)) = first_difference("", &shared(m), &ref_shared) {
            return Err(PartError::Mismatch {
                path: path.clone(),
                reference: ref_path.clone(),
                field,
                value,
                expected,
            });
        }
        if let Some((_, other)) = seen.iter().find(|(l, _)| *l == m.label) {
            return Err(PartError::Duplicate {
                path: path.clone(),
                other: (*other).clone(),
                label: m.label.clone(),
            });
        }
        if !reference.targets.contains(&m.label) {
            return Err(PartError::NotListed {
                path: path.clone(),
                label: m.label.clone(),
                listed,
            });
        }
        seen.push((&m.label, path));
        for (what, mine, theirs) in [
            ("rustc", &m.rustc, &reference.rustc),
            (
                "parbuild",
                &Some(m.parbuild.clone()),
                &Some(reference.parbuild.clone()),
            ),
        ] {
            if mine != theirs {
                warnings.push(format!(
                    "`{}` was built with {what} {} but `{}` with {what} {}",
                    path.display(),
                    mine.as_deref().unwrap_or("(unknown)"),
                    ref_path.display(),
                    theirs.as_deref().unwrap_or("(unknown)"),
                ));
            }
        }
    }
    let missing: Vec<String> = reference
        .targets
        .iter()
        .filter(|t| !seen.iter().any(|(l, _)| l == t))
        .cloned()
        .collect();
    if !missing.is_empty() && !allow_missing {
        return Err(PartError::Missing { missing, listed });
    }
    Ok(SetReport { missing, warnings })
}

/// The first field (dotted path) where `a` and `b` differ, with both values as JSON.
fn first_difference(
    at: &str,
    a: &serde_json::Value,
    b: &serde_json::Value,
) -> Option<(String, String, String)> {
    use serde_json::Value;
    if let (Value::Object(x), Value::Object(y)) = (a, b) {
        let keys = x.keys().chain(y.keys().filter(|k| !x.contains_key(*k)));
        for key in keys {
            let path = if at.is_empty() {
                key.clone()
            } else {
                format!("{at}.{key}")
            };
            let (va, vb) = (
                x.get(key).unwrap_or(&Value::Null),
                y.get(key).unwrap_or(&Value::Null),
            );
            if let Some(d) = first_difference(&path, va, vb) {
                return Some(d);
            }
        }
        return None;
    }
    (a != b).then(|| (at.to_owned(), a.to_string(), b.to_string()))
}

#[cfg(test)]
#[path = "part_tests.rs"]
mod tests;
