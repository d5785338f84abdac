//! Writing a part: the manifest, then the binary and the WIT package, each checked against
//! the digest the manifest states as it streams, into a staging file renamed into place.

use std::fs::File;
use std::io::{BufWriter, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::{MANIFEST_ENTRY, PartError, PartManifest};
use crate::archive::compress::Encoder;
use crate::archive::tar as tarfmt;
use crate::archive::{Compression, Label, claims::hex_upper};

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
