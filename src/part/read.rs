//! Reading a part, bounded and strict: only its manifest ([`read_manifest`]), or all of it,
//! extracted and every size and hash checked ([`extract`]); damage is an error naming the
//! part, never a panic.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::manifest::{FileDigest, ManifestProblem, PartManifest, parse_manifest};
use super::{MANIFEST_ENTRY, MAX_MANIFEST, PartError};
use crate::archive::compress::{self, Decoder};
use crate::archive::tar::{EntryKind, ReadFailure, TarReader};
use crate::archive::{Compression, Label, claims::hex_upper};

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
