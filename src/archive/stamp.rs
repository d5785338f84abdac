//! The stamp of a verified archive: a small file that records what an archive was written
//! from (a hash of every input that decides its bytes and its checks) and which file it
//! is (size, mtime, inode). A build that changed nothing finds its inputs' hash and the
//! same archive file in the stamp, and skips re-reading, re-signing and re-verifying an
//! archive the previous run already verified. Anything else (an input changed, the archive
//! replaced, touched or gone, a stamp unreadable or of another version) is a miss, and the
//! full check of [`super::write::current`] decides as before.
//!
//! What the key covers: this parbuild's version; the claims' metadata; each binary's label,
//! size and SHA-256 (the content, not its mtime: a relink that wrote the same bytes still
//! hits); the WIT package; the compression; the issuer's and subject's public keys (never a
//! seed); how `iat` and `jti` are chosen; and every verification option but the clock.
//! `par.toml` acts only through these, so a comment edited in it still hits.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::claims::hex_upper;
use super::write::{EntryTimes, Jti, WriteSpec, Written, WrittenEntry, stream_sha256};
use super::{ArchiveError, VerifyOptions, jwt};

/// The stamp format; a stamp of another version is a miss.
const FORMAT: u32 = 1;

/// Which file an archive is, cheaply: what `make` and cargo trust for "unchanged" (the
/// build's fingerprint, `pipeline::fresh`, judges its inputs by it too).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileId {
    len: u64,
    mtime_ns: i128,
    inode: u64,
    device: u64,
}

impl FileId {
    /// The regular file at `path` (following links), or `None` when there is none.
    pub fn of(path: &Path) -> Option<Self> {
        use std::os::unix::fs::MetadataExt as _;
        let m = std::fs::metadata(path).ok()?;
        m.is_file().then(|| Self {
            len: m.len(),
            mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
            inode: m.ino(),
            device: m.dev(),
        })
    }

    /// Its size in bytes.
    pub fn size(&self) -> u64 {
        self.len
    }

    /// Its mtime, in nanoseconds since the epoch.
    pub fn mtime_ns(&self) -> i128 {
        self.mtime_ns
    }
}

/// The stamp file's content.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct StampFile {
    format: u32,
    key: String,
    archive: FileId,
    token: String,
    targets: Vec<StampedEntry>,
    world: Option<StampedEntry>,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct StampedEntry {
    label: String,
    size: u64,
    sha256: String,
}

impl From<&WrittenEntry> for StampedEntry {
    fn from(e: &WrittenEntry) -> Self {
        Self {
            label: e.label.clone(),
            size: e.size,
            sha256: e.sha256.clone(),
        }
    }
}

impl From<StampedEntry> for WrittenEntry {
    fn from(e: StampedEntry) -> Self {
        Self {
            label: e.label,
            size: e.size,
            sha256: e.sha256,
        }
    }
}

/// The hash of everything that decides what `spec` writes and how it is verified. Reads
/// every input once (streaming, one thread per file).
pub fn key(spec: &WriteSpec<'_>, verify: &VerifyOptions) -> Result<String, ArchiveError> {
    let mut files: Vec<(String, &Path)> = spec
        .binaries
        .iter()
        .map(|(label, path)| (label.to_string(), path.as_path()))
        .collect();
    if let Some(world) = spec.world {
        files.push((super::WORLD_ENTRY.to_owned(), world));
    }
    files.sort();
    let hashes: Vec<(String, u64, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = files
            .iter()
            .map(|(label, path)| s.spawn(move || hash_file(path).map(|h| (label.clone(), h))))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(std::io::Error::other("a hashing thread panicked")))
            })
            .collect::<std::io::Result<Vec<_>>>()
    })
    .map_err(|source| ArchiveError::ReadInput {
        what: "a binary".to_owned(),
        path: PathBuf::new(),
        source,
    })?
    .into_iter()
    .map(|(label, (size, sha))| (label, size, sha))
    .collect();
    let (iat, jti) = match &spec.jti {
        // A content `jti` and a fixed `iat` make the bytes reproducible: both count.
        Jti::FromContent => (Some(spec.iat), "content"),
        // A random `jti` and the clock's `iat` differ on every run by design.
        Jti::Given(_) => (None, "given"),
    };
    let material = serde_json::json!({
        "parbuild": env!("CARGO_PKG_VERSION"),
        "meta": spec.meta,
        "inputs": hashes,
        "compression": spec.compression,
        "issuer": spec.issuer.public_key(),
        "subject": spec.subject,
        "iat": iat,
        "jti": jti,
        "verify": {
            "max_unpacked": verify.max_unpacked,
            "issuer": verify.issuer,
            "subject": verify.subject,
            "glibc_floor": verify.glibc_floor,
            "macos_min": verify.macos_min,
        },
    });
    Ok(hex_upper(&Sha256::digest(material.to_string().as_bytes())))
}

/// What the stamp at `stamp` says was written to `archive`, if the stamp was made for
/// exactly `key` and `archive` is still the same file.
pub fn lookup(stamp: &Path, archive: &Path, key: &str) -> Option<Written> {
    let text = std::fs::read(stamp).ok()?;
    let found: StampFile = serde_json::from_slice(&text).ok()?;
    if found.format != FORMAT || found.key != key || FileId::of(archive)? != found.archive {
        return None;
    }
    let claims = jwt::decode(&found.token).claims.ok()?;
    Some(Written {
        claims,
        token: found.token,
        targets: found.targets.into_iter().map(Into::into).collect(),
        world: found.world.map(Into::into),
        size: found.archive.len,
        // Nothing was hashed, packed or verified this time.
        times: EntryTimes::default(),
    })
}

/// Records that `archive` was written from `key` and verified. Atomic (a temporary file
/// renamed into place): a stamp is whole or absent.
pub fn record(stamp: &Path, archive: &Path, key: &str, written: &Written) -> std::io::Result<()> {
    let id = FileId::of(archive).ok_or_else(|| std::io::Error::other("the archive is gone"))?;
    let file = StampFile {
        format: FORMAT,
        key: key.to_owned(),
        archive: id,
        token: written.token.clone(),
        targets: written.targets.iter().map(Into::into).collect(),
        world: written.world.as_ref().map(Into::into),
    };
    let dir = stamp.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(serde_json::to_string(&file)?.as_bytes())?;
    tmp.persist(stamp).map_err(|e| e.error)?;
    Ok(())
}

fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    stream_sha256(&mut File::open(path)?, |_| {})
}
