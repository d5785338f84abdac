//! `part.json`, the [`PartManifest`]: its fields, how it is parsed and validated when a part
//! is read, and [`check_set`], which decides whether parts belong to one archive.

use std::fs::File;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{FORMAT, MANIFEST_ENTRY, PartError};
use crate::archive::{Compression, Label, ProviderMeta, claims::hex_upper};

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

/// Why `part.json` was refused: another format version, or anything else.
pub(super) enum ManifestProblem {
    Format(String),
    Invalid(String),
}

/// Parses and validates `part.json`.
pub(super) fn parse_manifest(json: &[u8]) -> Result<(PartManifest, Label), ManifestProblem> {
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
