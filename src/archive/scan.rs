//! One bounded pass over an archive: every entry with its type, size, SHA-256 and first
//! bytes, the claims token, and whether the compressed stream and the tar are intact.
//! [`read_file`] turns a scan into the [`Inspection`] model; `verify` judges it.
//!
//! A scan never fails on bad bytes: problems are recorded for the checks to report.
//! Only opening the file can fail. Memory is bounded: binaries are hashed as they stream
//! past, only their first [`binary::HEAD_LEN`] bytes are kept, the claims entry is kept
//! up to [`MAX_CLAIMS`] bytes, and at most [`MAX_ENTRIES`] entries are recorded. Each
//! target binary also passes through a [`binary::Collector`], which keeps the headers and
//! tables its load facts come from ([`binary::MAX_PREFIX`] + [`binary::MAX_CAPTURE`]
//! bytes at most) and is reduced to a [`LoadInfo`] when the entry ends.
//!
//! One file because the scan, the extraction and the inspection model read an archive
//! through the same capped decoder, strict tar reader and entry roles ([`role_of`]).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::Instant;

use sha2::{Digest, Sha256};

use super::binary::{LoadFacts, LoadInfo};
use super::claims::hex_upper;
use super::tar::{EntryKind, ReadFailure, TarReader};
use super::{
    ArchiveError, CLAIMS_ENTRY, Compression, Label, ProviderMeta, WORLD_ENTRY, binary, compress,
    jwt,
};

/// The largest claims entry read (a config schema can be large, a token of megabytes is not).
pub const MAX_CLAIMS: u64 = 4 << 20;
/// The most entries recorded; a provider has a handful.
pub const MAX_ENTRIES: usize = 4096;

/// How to read an archive.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// Refuse to decompress more than this many bytes.
    pub max_unpacked: u64,
}

/// One entry as found.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The stored path.
    pub name: String,
    /// Its type.
    pub kind: EntryKind,
    /// Its data size.
    pub size: u64,
    /// Uppercase hex SHA-256 of its data.
    pub sha256: String,
    /// Its first bytes (regular files only).
    pub head: Vec<u8>,
    /// Whether all of its data was read (false when the stream broke inside it).
    pub complete: bool,
    /// What the dynamic loader needs for it (target binaries read completely only;
    /// `Err` when its headers cannot be read).
    pub loads: Option<Result<LoadInfo, String>>,
}

/// What an entry is, by its exact name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// `claims.jwt`.
    Claims,
    /// `world.wasm`.
    World,
    /// `<label>.bin`.
    Target(Label),
    /// Anything else.
    Unlisted,
}

/// An entry's role, from its exact name.
pub fn role_of(name: &str) -> Role {
    match name {
        CLAIMS_ENTRY => Role::Claims,
        WORLD_ENTRY => Role::World,
        name => name
            .strip_suffix(".bin")
            .and_then(|l| Label::parse(l).ok())
            .map_or(Role::Unlisted, Role::Target),
    }
}

impl Entry {
    /// The entry's role, from its exact name.
    pub fn role(&self) -> Role {
        role_of(&self.name)
    }

    /// Whether wasmCloud's loader would take this entry for the claims (it looks at the
    /// file stem only, so `dir/claims.txt` counts too).
    pub fn looks_like_claims(&self) -> bool {
        let base = self.name.rsplit('/').next().unwrap_or("");
        base.split('.').next() == Some("claims") && !base.is_empty()
    }
}

/// The result of one pass.
#[derive(Debug, Clone)]
pub struct Scan {
    /// The codec found from the magic bytes.
    pub compression: Compression,
    /// The entries, in archive order.
    pub entries: Vec<Entry>,
    /// The claims token (the first `claims.jwt` regular file).
    pub token: Option<Result<String, String>>,
    /// A problem with the compressed stream (corrupt, over the cap, trailing data).
    pub stream_error: Option<String>,
    /// A problem with the tar structure.
    pub tar_error: Option<String>,
    /// Wall seconds each entry read completely took, header to last byte hashed, in
    /// archive order (a measurement, for `build --timings`; not part of what was found).
    pub seconds: Vec<f64>,
}

/// Opens and scans `path` with [`scan_ahead`].
pub fn scan_file(path: &Path, opts: &ReadOptions) -> Result<Scan, ArchiveError> {
    let open_err = |source| ArchiveError::Open {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(open_err)?;
    if file.metadata().map_err(open_err)?.is_dir() {
        return Err(open_err(std::io::Error::other("it is a directory")));
    }
    Ok(scan_ahead(
        BufReader::with_capacity(INPUT_BUFFER, file),
        opts,
    ))
}

/// Compressed bytes read from an archive file at a time.
pub const INPUT_BUFFER: usize = 64 * 1024;

/// Scans an archive from any reader, decompressing on a thread of its own ahead of the
/// tar reader and the hashing.
pub fn scan_ahead(input: impl std::io::BufRead + Send, opts: &ReadOptions) -> Scan {
    match compress::Decoder::new(input, opts.max_unpacked) {
        Ok((decoder, compression)) => decoder.ahead(|stream| scan_decoded(stream, compression)),
        Err(e) => failed_to_start(&e),
    }
}

/// Scans an archive from any reader, on the caller's thread alone.
pub fn scan_reader(input: impl std::io::BufRead, opts: &ReadOptions) -> Scan {
    match compress::Decoder::new(input, opts.max_unpacked) {
        Ok((decoder, compression)) => scan_decoded(decoder, compression),
        Err(e) => failed_to_start(&e),
    }
}

fn empty_scan(compression: Compression) -> Scan {
    Scan {
        compression,
        entries: Vec::new(),
        token: None,
        stream_error: None,
        tar_error: None,
        seconds: Vec::new(),
    }
}

/// The scan of a stream whose first bytes could not even be read.
fn failed_to_start(e: &std::io::Error) -> Scan {
    Scan {
        stream_error: Some(stream_message(e)),
        ..empty_scan(Compression::None)
    }
}

/// Scans a decompressed stream.
fn scan_decoded<D: compress::Decompressed>(decoded: D, compression: Compression) -> Scan {
    let mut scan = empty_scan(compression);
    let mut tar = TarReader::new(decoded);
    loop {
        let started = Instant::now();
        let next = next_entry(&mut tar, &mut scan);
        if matches!(next, Ok(true)) {
            scan.seconds.push(started.elapsed().as_secs_f64());
        }
        match next {
            Ok(true) => {}
            Ok(false) => break,
            Err(ReadFailure::Io(e)) => {
                scan.stream_error = Some(stream_message(&e));
                return scan;
            }
            Err(ReadFailure::Tar(e)) => {
                scan.tar_error = Some(e.0);
                // Still decompress the rest, so a broken gzip stream (or a second
                // member, which is why the tar looks cut) is named as such.
                match tar.into_inner().finish() {
                    Ok(None) => {}
                    Ok(Some(trailing)) => scan.stream_error = Some(trailing),
                    Err(e) => scan.stream_error = Some(stream_message(&e)),
                }
                return scan;
            }
        }
    }
    match tar.into_inner().finish() {
        Ok(None) => {}
        Ok(Some(trailing)) => scan.stream_error = Some(trailing),
        Err(e) => scan.stream_error = Some(stream_message(&e)),
    }
    scan
}

fn stream_message(e: &std::io::Error) -> String {
    if compress::is_cap_error(e) {
        format!("{e} (a decompression bomb, or raise `--max-unpacked`)")
    } else if e.kind() == std::io::ErrorKind::UnexpectedEof {
        "the compressed stream ends early (truncated)".to_owned()
    } else {
        format!("the compressed stream is corrupt: {e}")
    }
}

/// Reads one entry into `scan`; `Ok(false)` at the end.
fn next_entry<R: Read>(tar: &mut TarReader<R>, scan: &mut Scan) -> Result<bool, ReadFailure> {
    let Some(header) = tar.next_header()? else {
        return Ok(false);
    };
    if scan.entries.len() >= MAX_ENTRIES {
        return Err(ReadFailure::Tar(super::tar::TarError(format!(
            "more than {MAX_ENTRIES} entries; a provider archive has a handful"
        ))));
    }
    let mut entry = Entry {
        name: header.name,
        kind: header.kind,
        size: header.size,
        sha256: String::new(),
        head: Vec::new(),
        complete: false,
        loads: None,
    };
    let mut collector = (entry.kind == EntryKind::File
        && matches!(role_of(&entry.name), Role::Target(_)))
    .then(|| binary::Collector::new(entry.size));
    let is_claims =
        entry.kind == EntryKind::File && entry.name == CLAIMS_ENTRY && scan.token.is_none();
    let mut claims_bytes = Vec::new();
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    // Push the entry first so a failure inside it still leaves a record.
    scan.entries.push(entry.clone());
    loop {
        let n = tar.read_data(&mut buf)?;
        if n == 0 {
            break;
        }
        let chunk = &buf[..n];
        hasher.update(chunk);
        if entry.kind == EntryKind::File && entry.head.len() < binary::HEAD_LEN {
            let take = (binary::HEAD_LEN - entry.head.len()).min(n);
            entry.head.extend_from_slice(&chunk[..take]);
        }
        if is_claims && (claims_bytes.len() as u64) <= MAX_CLAIMS {
            claims_bytes.extend_from_slice(chunk);
        }
        if let Some(c) = collector.as_mut() {
            c.feed(chunk);
        }
    }
    entry.sha256 = hex_upper(&hasher.finalize());
    entry.complete = true;
    entry.loads = collector.map(binary::Collector::finish);
    if is_claims {
        scan.token = Some(if entry.size > MAX_CLAIMS {
            Err(format!(
                "`claims.jwt` is {} bytes, more than the {MAX_CLAIMS} allowed",
                entry.size
            ))
        } else {
            String::from_utf8(claims_bytes).map_err(|_| "`claims.jwt` is not UTF-8 text".to_owned())
        });
    }
    if let Some(last) = scan.entries.last_mut() {
        *last = entry;
    }
    Ok(true)
}

/// Writes the targets and WIT package of the archive at `path` into `dir` as
/// `<label>.bin` and `world.wasm` (for re-packing with `--from`; verify it first).
/// Returns the files written.
pub fn extract_file(
    path: &Path,
    dir: &Path,
    opts: &ReadOptions,
) -> Result<Vec<(Role, PathBuf)>, ArchiveError> {
    let file = File::open(path).map_err(|source| ArchiveError::Open {
        path: path.to_owned(),
        source,
    })?;
    let broken = |reason: String| ArchiveError::Unreadable {
        path: path.to_owned(),
        reason,
    };
    let (decoder, _) = compress::Decoder::new(BufReader::new(file), opts.max_unpacked)
        .map_err(|e| broken(stream_message(&e)))?;
    let mut tar = TarReader::new(decoder);
    let mut written: Vec<(Role, PathBuf)> = Vec::new();
    let fail = |e: ReadFailure| match e {
        ReadFailure::Io(e) => broken(stream_message(&e)),
        ReadFailure::Tar(e) => broken(e.0),
    };
    while let Some(header) = tar.next_header().map_err(fail)? {
        let role = role_of(&header.name);
        if header.kind != EntryKind::File || !matches!(role, Role::World | Role::Target(_)) {
            continue;
        }
        let dest = dir.join(&header.name);
        if written.iter().any(|(_, p)| *p == dest) {
            return Err(broken(format!("`{}` appears twice", header.name)));
        }
        let write_err = |source| ArchiveError::Write {
            path: dest.clone(),
            source,
        };
        let mut out = File::create(&dest).map_err(write_err)?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = tar.read_data(&mut buf).map_err(fail)?;
            if n == 0 {
                break;
            }
            std::io::Write::write_all(&mut out, &buf[..n]).map_err(write_err)?;
        }
        written.push((role, dest));
    }
    Ok(written)
}

/// A target as listed by [`read_file`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TargetInfo {
    /// The label, or `world.wasm` for the WIT package.
    pub label: String,
    /// Size in bytes.
    pub size: u64,
    /// Uppercase hex SHA-256 of the stored bytes.
    pub sha256: String,
    /// Whether it matches `target_hashes`.
    pub hash_ok: bool,
    /// What it needs to load (target binaries only): glibc and `DT_NEEDED`, or minimum
    /// macOS, dylibs and import count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loads: Option<LoadFacts>,
}

/// What is inside an archive.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Inspection {
    /// The codec.
    pub compression: Compression,
    /// Provider metadata from the claims.
    pub meta: ProviderMeta,
    /// The issuer (account public key).
    pub issuer: String,
    /// The subject (service public key).
    pub subject: String,
    /// Unique id of the claims.
    pub jti: String,
    /// Issued at (Unix seconds).
    pub iat: u64,
    /// Expiry, if any.
    pub exp: Option<u64>,
    /// Not before, if any.
    pub nbf: Option<u64>,
    /// The targets, sorted by label.
    pub targets: Vec<TargetInfo>,
    /// The WIT package, if any.
    pub world: Option<TargetInfo>,
    /// Whether the signature verifies against the issuer and the header is wascap's.
    pub signature_valid: bool,
    /// Why not, when it does not.
    pub signature_error: Option<String>,
    /// The raw token.
    #[serde(skip)]
    pub token: String,
}

/// Reads `path` into an [`Inspection`]. Fails when it is not a readable archive with
/// decodable claims; a bad signature or hash is reported in the model, not as an error.
pub fn read_file(path: &Path, opts: &ReadOptions) -> Result<Inspection, ArchiveError> {
    inspect_scan(path, &scan_file(path, opts)?)
}

/// Builds the model from a scan of `path`.
pub fn inspect_scan(path: &Path, scan: &Scan) -> Result<Inspection, ArchiveError> {
    let unreadable = |reason: String| ArchiveError::Unreadable {
        path: path.to_owned(),
        reason,
    };
    if let Some(e) = scan.stream_error.as_ref().or(scan.tar_error.as_ref()) {
        return Err(unreadable(e.clone()));
    }
    let token = match &scan.token {
        None => return Err(unreadable("it has no `claims.jwt` entry".to_owned())),
        Some(Err(e)) => return Err(unreadable(e.clone())),
        Some(Ok(t)) => t.clone(),
    };
    let decoded = jwt::decode(&token);
    let claims = decoded
        .claims
        .map_err(|e| unreadable(format!("its claims cannot be read: {e}")))?;
    let wascap = claims
        .wascap
        .clone()
        .ok_or_else(|| unreadable("its claims have no `wascap` section".to_owned()))?;
    let info = |label: String, e: &Entry, key: &str| TargetInfo {
        hash_ok: wascap.target_hashes.get(key) == Some(&e.sha256),
        label,
        size: e.size,
        sha256: e.sha256.clone(),
        loads: e.loads.as_ref().map(|l| match l {
            Ok(info) => info.facts(),
            Err(error) => LoadFacts::Unreadable {
                error: error.clone(),
            },
        }),
    };
    let mut targets = Vec::new();
    let mut world = None;
    for e in scan.entries.iter().filter(|e| e.kind == EntryKind::File) {
        match e.role() {
            Role::Target(l) => targets.push(info(l.to_string(), e, l.as_str())),
            Role::World => world = Some(info(WORLD_ENTRY.to_owned(), e, WORLD_ENTRY)),
            Role::Claims | Role::Unlisted => {}
        }
    }
    targets.sort_by(|a, b| a.label.cmp(&b.label));
    let header_ok = decoded.header.as_deref() == Ok(jwt::HEADER);
    let signature_error = match (&decoded.signature, header_ok) {
        (Err(e), _) => Some(e.clone()),
        (Ok(()), false) => Some(
            "the token header is not wascap's `{\"typ\":\"jwt\",\"alg\":\"Ed25519\"}`".to_owned(),
        ),
        (Ok(()), true) => None,
    };
    Ok(Inspection {
        compression: scan.compression,
        meta: wascap.meta(),
        issuer: claims.iss,
        subject: claims.sub,
        jti: claims.jti,
        iat: claims.iat,
        exp: claims.exp,
        nbf: claims.nbf,
        targets,
        world,
        signature_valid: signature_error.is_none(),
        signature_error,
        token,
    })
}
