//! Writing an archive: hash every input in a first streaming pass, the inputs in parallel
//! (the claims come first in the tar and contain the hashes), sign the claims once, then
//! stream each file into the tar, failing if it changed in between. Nothing is ever held
//! whole in memory. [`write_file`] does this into a temporary file beside the destination
//! and verifies it strictly as it is written: a second thread reads the file back
//! (`archive::follow`), inflating on a third, while the compressor fills it, and the file
//! is renamed into place only once the whole of it passed. That verification hashes every
//! entry again, so pass 2 does not: an entry whose bytes are not pass 1's is an input that
//! changed ([`write_to`], which nothing reads back, hashes in pass 2 instead).
//!
//! One file because the two passes share `Input` and `claims_for`, and [`current`] compares
//! an existing archive against exactly what they would write.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::iter::{IntoParallelIterator as _, ParallelIterator as _};
use sha2::{Digest, Sha256};

use super::claims::{WASCAP_REVISION, hex_upper};
use super::follow::{Counting, Follower, Progress};
use super::scan::{INPUT_BUFFER, Scan, scan_ahead};
use super::verify::verify_scan;
use super::{
    ArchiveError, CLAIMS_ENTRY, Claims, Compression, Label, ProviderMeta, ReadOptions,
    VerifyOptions, VerifyReport, WORLD_ENTRY, Wascap, binary, compress::Encoder, jwt, tar,
};

/// Where the `jti` comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Jti {
    /// Derived from the claims content: reproducible builds.
    FromContent,
    /// This exact value (a random one, or a test's).
    Given(String),
}

/// Everything an archive is made of.
#[derive(Debug, Clone)]
pub struct WriteSpec<'a> {
    /// Provider metadata.
    pub meta: &'a ProviderMeta,
    /// One binary per label.
    pub binaries: &'a [(Label, PathBuf)],
    /// The WIT package, if any.
    pub world: Option<&'a Path>,
    /// Compression.
    pub compression: Compression,
    /// The issuer: an account key with its seed.
    pub issuer: &'a nkeys::KeyPair,
    /// The subject: a service public key.
    pub subject: &'a str,
    /// Issued at (Unix seconds).
    pub iat: u64,
    /// The `jti`.
    pub jti: Jti,
}

/// One stored entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WrittenEntry {
    /// `<label>` or `world.wasm`.
    pub label: String,
    /// Size in bytes.
    pub size: u64,
    /// Uppercase hex SHA-256.
    pub sha256: String,
}

/// What was written.
#[derive(Debug, Clone)]
pub struct Written {
    /// The signed claims.
    pub claims: Claims,
    /// The token stored as `claims.jwt`.
    pub token: String,
    /// The targets, sorted by label.
    pub targets: Vec<WrittenEntry>,
    /// The WIT package.
    pub world: Option<WrittenEntry>,
    /// Archive size in bytes (compressed).
    pub size: u64,
    /// How long each entry took, by label (not in [`WrittenEntry`], which `--json`
    /// prints and tests compare).
    pub times: EntryTimes,
}

/// How long one entry took, in wall seconds, for a `--timings` breakdown. The stages
/// overlap: the inputs hash in parallel, and the archive is verified while it is
/// written, so an entry's `verify` span lies mostly within its `pack` span.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EntryTime {
    /// Pass 1: reading and hashing the input before the claims were signed.
    pub hash: f64,
    /// Pass 2: from its tar header until the compressor took its last byte (the pieces
    /// before it deflate on every core, at most a few MiB behind). 0 when nothing was
    /// written ([`current`]).
    pub pack: f64,
    /// Reading it back from the written file: from its tar header until its last byte
    /// was inflated and hashed.
    pub verify: f64,
}

/// [`EntryTime`] by label: `x86_64-linux`, …, and `world.wasm` (not the claims).
pub type EntryTimes = BTreeMap<String, EntryTime>;

struct Input {
    entry: String,
    label: String,
    path: PathBuf,
    size: u64,
    sha256: String,
    head: Vec<u8>,
    /// Wall seconds pass 1 took for it.
    seconds: f64,
}

fn read_err(what: &str, path: &Path, source: std::io::Error) -> ArchiveError {
    ArchiveError::ReadInput {
        what: what.to_owned(),
        path: path.to_owned(),
        source,
    }
}

/// Size and upper-hex SHA-256 of everything `reader` yields, streaming; `each` sees every
/// chunk (pass 1 keeps the first bytes for the format check). Shared with the stamp's key.
pub(super) fn stream_sha256(
    reader: &mut impl Read,
    mut each: impl FnMut(&[u8]),
) -> std::io::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        each(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hex_upper(&hasher.finalize())))
}

/// Pass 1: size, hash and first bytes of a file, streaming.
fn hash_input(
    entry: String,
    label: String,
    path: &Path,
    what: &str,
) -> Result<Input, ArchiveError> {
    let started = Instant::now();
    let mut file = File::open(path).map_err(|e| read_err(what, path, e))?;
    if file
        .metadata()
        .map_err(|e| read_err(what, path, e))?
        .is_dir()
    {
        return Err(read_err(
            what,
            path,
            std::io::Error::other("it is a directory"),
        ));
    }
    let mut head = Vec::new();
    let (size, sha256) = stream_sha256(&mut file, |chunk| {
        if head.len() < binary::HEAD_LEN {
            head.extend_from_slice(&chunk[..chunk.len().min(binary::HEAD_LEN - head.len())]);
        }
    })
    .map_err(|e| read_err(what, path, e))?;
    Ok(Input {
        entry,
        label,
        path: path.to_owned(),
        size,
        sha256,
        head,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Checks the spec, hashes every input and signs the claims.
fn prepare(spec: &WriteSpec<'_>) -> Result<(Vec<Input>, Claims, String), ArchiveError> {
    let inputs = hash_inputs(spec)?;
    let claims = claims_for(spec, &inputs);
    let token = jwt::encode(&claims, spec.issuer).map_err(|e| ArchiveError::Sign {
        detail: e.to_string(),
    })?;
    Ok((inputs, claims, token))
}

/// The claims `spec` signs for these inputs.
fn claims_for(spec: &WriteSpec<'_>, inputs: &[Input]) -> Claims {
    let hashes: BTreeMap<String, String> = inputs
        .iter()
        .map(|i| (i.label.clone(), i.sha256.clone()))
        .collect();
    let mut claims = Claims {
        exp: None,
        jti: String::new(),
        iat: spec.iat,
        iss: spec.issuer.public_key(),
        sub: spec.subject.to_owned(),
        nbf: None,
        wascap: Some(Wascap::new(spec.meta, hashes)),
        wascap_revision: Some(WASCAP_REVISION),
    };
    claims.jti = match &spec.jti {
        Jti::FromContent => claims.content_jti(),
        Jti::Given(j) => j.clone(),
    };
    claims
}

/// Checks the spec and hashes every input (pass 1), sorted by label, the WIT package first.
fn hash_inputs(spec: &WriteSpec<'_>) -> Result<Vec<Input>, ArchiveError> {
    if spec.binaries.is_empty() {
        return Err(ArchiveError::NoTargets);
    }
    if spec.issuer.key_pair_type() != nkeys::KeyPairType::Account {
        return Err(ArchiveError::WrongKeyType {
            role: "issuer",
            public: spec.issuer.public_key(),
            expected: "an account key (`A…`)",
        });
    }
    if !nkeys::KeyPair::from_public_key(spec.subject)
        .is_ok_and(|k| k.key_pair_type() == nkeys::KeyPairType::Service)
    {
        return Err(ArchiveError::WrongKeyType {
            role: "subject",
            public: spec.subject.to_owned(),
            expected: "a service key (`V…`)",
        });
    }
    let mut sorted: Vec<&(Label, PathBuf)> = spec.binaries.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(w) = sorted.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(ArchiveError::DuplicateLabel {
            label: w[0].0.to_string(),
        });
    }
    let mut jobs: Vec<(String, String, &Path, String)> = Vec::new();
    if let Some(world) = spec.world {
        jobs.push((
            WORLD_ENTRY.to_owned(),
            WORLD_ENTRY.to_owned(),
            world,
            "the WIT package".to_owned(),
        ));
    }
    for (label, path) in sorted {
        jobs.push((
            label.entry_name(),
            label.to_string(),
            path,
            format!("the binary for `{label}`"),
        ));
    }
    // Every input on its own core: SHA-256 is sequential within a file, not across files.
    // Collected in order first, so the error reported is the first input's that failed,
    // whatever the threads' timing.
    let hashed: Vec<Result<Input, ArchiveError>> = jobs
        .into_par_iter()
        .map(|(entry, label, path, what)| hash_input(entry, label, path, &what))
        .collect();
    hashed.into_iter().collect()
}

/// Whether pass 2 hashes each input again as it copies it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Rehash {
    /// Yes: nothing reads the archive back afterwards ([`write_to`]).
    Yes,
    /// No: [`write_file`] verifies the archive, which hashes every entry of it, and
    /// compares those hashes with pass 1's ([`changed_input`]).
    No,
}

/// Pass 2: the tar stream into `out`, failing if an input's size changed (and, with
/// [`Rehash::Yes`], its hash); returns `out` and each input's streaming time.
fn write_stream<W: Write>(
    out: W,
    spec: &WriteSpec<'_>,
    inputs: &[Input],
    token: &str,
    rehash: Rehash,
) -> Result<(W, Vec<f64>), WriteFailure> {
    let mut enc = Encoder::new(out, spec.compression)?;
    tar::write_entry(
        &mut enc,
        CLAIMS_ENTRY,
        token.len() as u64,
        &mut token.as_bytes(),
        |_| {},
    )?;
    let mut seconds = Vec::with_capacity(inputs.len());
    for input in inputs {
        let started = Instant::now();
        let mut file =
            File::open(&input.path).map_err(|_| WriteFailure::Changed(input.path.clone()))?;
        let mut hasher = (rehash == Rehash::Yes).then(Sha256::new);
        tar::write_entry(&mut enc, &input.entry, input.size, &mut file, |chunk| {
            if let Some(h) = hasher.as_mut() {
                h.update(chunk);
            }
        })
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                WriteFailure::Changed(input.path.clone())
            } else {
                e.into()
            }
        })?;
        let mut extra = [0u8; 1];
        if file.read(&mut extra)? != 0
            || hasher.is_some_and(|h| hex_upper(&h.finalize()) != input.sha256)
        {
            return Err(WriteFailure::Changed(input.path.clone()));
        }
        seconds.push(started.elapsed().as_secs_f64());
    }
    tar::write_end(&mut enc)?;
    Ok((enc.finish()?, seconds))
}

enum WriteFailure {
    Io(std::io::Error),
    Changed(PathBuf),
}

impl From<std::io::Error> for WriteFailure {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

/// The times of `inputs` (pass 1's), with each one's `pack` seconds (in input order, if
/// it was written) and `verify` seconds (found in `scan` by entry name).
fn times(inputs: &[Input], pack: &[f64], scan: Option<&Scan>) -> EntryTimes {
    inputs
        .iter()
        .enumerate()
        .map(|(n, i)| {
            let verify = scan
                .and_then(|scan| {
                    scan.entries
                        .iter()
                        .zip(&scan.seconds)
                        .find(|(e, _)| e.name == i.entry)
                })
                .map_or(0.0, |(_, s)| *s);
            let time = EntryTime {
                hash: i.seconds,
                pack: pack.get(n).copied().unwrap_or(0.0),
                verify,
            };
            (i.label.clone(), time)
        })
        .collect()
}

fn written(
    inputs: Vec<Input>,
    claims: Claims,
    token: String,
    size: u64,
    times: EntryTimes,
) -> Written {
    let mut targets = Vec::new();
    let mut world = None;
    for i in inputs {
        let entry = WrittenEntry {
            label: i.label,
            size: i.size,
            sha256: i.sha256,
        };
        if i.entry == WORLD_ENTRY {
            world = Some(entry)
        } else {
            targets.push(entry)
        }
    }
    Written {
        claims,
        token,
        targets,
        world,
        size,
        times,
    }
}

/// Writes the archive into `out` (no binary format check, no verification: for tests and
/// for callers that verify themselves).
pub fn write_to<W: Write>(out: W, spec: &WriteSpec<'_>) -> Result<(W, Written), ArchiveError> {
    let (inputs, claims, token) = prepare(spec)?;
    let counter = CountingWriter {
        inner: out,
        count: 0,
    };
    let (counter, pack) =
        write_stream(counter, spec, &inputs, &token, Rehash::Yes).map_err(|e| match e {
            WriteFailure::Changed(path) => ArchiveError::InputChanged { path },
            WriteFailure::Io(source) => ArchiveError::Write {
                path: PathBuf::from("<stream>"),
                source,
            },
        })?;
    let size = counter.count;
    let times = times(&inputs, &pack, None);
    Ok((counter.inner, written(inputs, claims, token, size, times)))
}

struct CountingWriter<W> {
    inner: W,
    count: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes the archive to `dest` atomically: every binary's format and CPU is checked
/// against its label first, the archive goes to a temporary file beside `dest`, is
/// verified with `verify` (every check, CPU included; read back from the file while it
/// is written) and only then renamed over `dest`. On any failure nothing is left behind
/// and an existing `dest` is untouched. [`Written::times`] says how long each entry took.
pub fn write_file(
    dest: &Path,
    spec: &WriteSpec<'_>,
    verify: &VerifyOptions,
) -> Result<(Written, VerifyReport), ArchiveError> {
    let dir = match dest.parent() {
        Some(p) if p.as_os_str().is_empty() => Path::new("."),
        Some(p) => p,
        None => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(ArchiveError::OutputDir {
            path: dir.to_owned(),
        });
    }
    let (inputs, claims, token) = prepare(spec)?;
    for input in &inputs {
        if input.entry == WORLD_ENTRY {
            if !input.head.starts_with(b"\0asm") {
                return Err(ArchiveError::NotWasm {
                    path: input.path.clone(),
                });
            }
        } else if let Ok(label) = Label::parse(&input.label)
            && let Err(detail) = binary::check(&label, &input.head)
        {
            return Err(ArchiveError::BinaryMismatch {
                label: input.label.clone(),
                path: input.path.clone(),
                detail,
            });
        }
    }
    write_prepared(dest, spec, verify, inputs, claims, token)
}

/// [`write_file`] once pass 1 is done and the claims are signed: pass 2 into a staging
/// file, verified as it is written, renamed over `dest` once it passed.
fn write_prepared(
    dest: &Path,
    spec: &WriteSpec<'_>,
    verify: &VerifyOptions,
    inputs: Vec<Input>,
    claims: Claims,
    token: String,
) -> Result<(Written, VerifyReport), ArchiveError> {
    let write_err = |source| ArchiveError::Write {
        path: dest.to_owned(),
        source,
    };
    // Beside the destination, so the rename is atomic; a killed earlier run's leftovers
    // go first (`staged`).
    let (temp, _cleaned) = super::staged::Staged::beside(dest).map_err(write_err)?;
    let reader = File::open(temp.path()).map_err(write_err)?;
    let progress = Progress::default();
    // The verifier reads the file back while it is written, on a thread of its own (and
    // one more that inflates), so verifying overlaps compressing instead of following it.
    let read = ReadOptions {
        max_unpacked: verify.max_unpacked,
    };
    let (wrote, scan) = std::thread::scope(|s| {
        let verifier = s.spawn(|| {
            let follower = Follower::new(reader, &progress);
            scan_ahead(BufReader::with_capacity(INPUT_BUFFER, follower), &read)
        });
        let wrote = {
            let _unblock = progress.finish_on_drop();
            let out = BufWriter::new(Counting::new(temp.file(), &progress));
            let wrote =
                write_stream(out, spec, &inputs, &token, Rehash::No).and_then(|(out, pack)| {
                    out.into_inner().map_err(|e| e.into_error())?;
                    Ok(pack)
                });
            progress.finish(wrote.is_ok());
            wrote
        };
        // Durable while the verifier reads the tail.
        let wrote = wrote.and_then(|pack| Ok(temp.file().sync_all().map(|()| pack)?));
        let scan = verifier
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (wrote, scan)
    });
    let pack = wrote.map_err(|e| match e {
        WriteFailure::Changed(path) => ArchiveError::InputChanged { path },
        WriteFailure::Io(source) => write_err(source),
    })?;
    if let Some(path) = changed_input(&inputs, &scan) {
        return Err(ArchiveError::InputChanged { path });
    }
    let report = verify_scan(&scan, verify);
    if !report.ok() {
        return Err(ArchiveError::SelfCheck {
            path: dest.to_owned(),
            failures: report.failures(),
        });
    }
    let size = temp.file().metadata().map_err(write_err)?.len();
    // Staging files are 0600; an archive is not a secret.
    #[cfg(unix)]
    temp.set_mode(0o644).map_err(write_err)?;
    temp.persist(dest).map_err(write_err)?;
    let times = times(&inputs, &pack, Some(&scan));
    Ok((written(inputs, claims, token, size, times), report))
}

/// The input whose bytes in the archive are not the bytes pass 1 hashed: it changed
/// between the passes. Only asked of an intact stream, whose checksum (gzip's CRC-32,
/// zstd's) proves the entries hold exactly what pass 2 read; a plain tar has none, so
/// there a byte the disk itself damaged would be blamed on the input too.
fn changed_input(inputs: &[Input], scan: &Scan) -> Option<PathBuf> {
    if scan.stream_error.is_some() || scan.tar_error.is_some() {
        return None;
    }
    inputs.iter().find_map(|i| {
        scan.entries
            .iter()
            .find(|e| e.name == i.entry && e.complete && e.sha256 != i.sha256)
            .map(|_| i.path.clone())
    })
}

/// The archive at `dest` when it already is what [`write_file`] would write for `spec`,
/// apart from when it was signed: it passes every check of `verify`, has `spec`'s codec,
/// and its claims name the same issuer, subject, metadata and target hashes (and, when
/// the `jti` comes from the content, the same `iat` and `jti`, so a rewrite would give
/// the very same bytes). A build then leaves it untouched, bytes and mtime.
/// `Ok(None)` when it is absent, unreadable or different.
pub fn current(
    dest: &Path,
    spec: &WriteSpec<'_>,
    verify: &VerifyOptions,
) -> Result<Option<(Written, VerifyReport)>, ArchiveError> {
    let Ok(meta) = std::fs::metadata(dest) else {
        return Ok(None);
    };
    if !meta.is_file() {
        return Ok(None);
    }
    let inputs = hash_inputs(spec)?;
    let Ok(scan) = super::scan::scan_file(
        dest,
        &super::ReadOptions {
            max_unpacked: verify.max_unpacked,
        },
    ) else {
        return Ok(None);
    };
    let report = super::verify::verify_scan(&scan, verify);
    let Some(Ok(token)) = scan.token.clone() else {
        return Ok(None);
    };
    let Ok(found) = jwt::decode(&token).claims else {
        return Ok(None);
    };
    let mut wanted = claims_for(spec, &inputs);
    if spec.jti != Jti::FromContent {
        // A random `jti` and the clock's `iat` differ on every run by design.
        wanted.iat = found.iat;
        wanted.jti.clone_from(&found.jti);
    }
    if !report.ok() || scan.compression != spec.compression || found != wanted {
        return Ok(None);
    }
    let times = times(&inputs, &[], Some(&scan));
    Ok(Some((
        written(inputs, found, token, meta.len(), times),
        report,
    )))
}

#[cfg(test)]
#[path = "write_tests.rs"]
mod tests;
