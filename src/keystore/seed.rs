//! Seeds as text and as files: what a seed looks like (so that neither it nor a piece of
//! it is ever echoed), why a text is not one (in words that never quote it), and reading
//! and writing seed files the way wash does (0600, no trailing newline, at most 4 KiB).

use std::fmt;
use std::path::Path;

use nkeys::{KeyPair, KeyPairType};

use super::KeyError;

/// A seed in memory: `Debug` and `Display` never show it.
pub struct Seed(pub(super) String);

impl fmt::Debug for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<hidden>")
    }
}

/// Whether `text` looks like an nkey seed (so it must not be echoed or used as a path).
pub fn looks_like_seed(text: &str) -> bool {
    let t = text.trim();
    t.len() == 58
        && t.starts_with('S')
        && t.bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
}

/// Whether a pinned public key is in fact (part of) a seed: public keys never start with `S`.
pub(super) fn seed_like_pin(pin: &str) -> bool {
    pin.trim_start().starts_with('S') && holds_seed_like(pin)
}

/// How long a run of a seed's characters must be before text is treated as holding a
/// seed or part of one (a damaged or truncated seed is still a secret).
pub(super) const SEED_RUN: usize = 20;

/// Whether `text` may hold a seed or a piece of one: a run of `SEED_RUN` (20) or more
/// characters of a seed's base32 alphabet (letters in either case, `2`–`7`). Such text is
/// never echoed, and a path shaped so that does not exist is taken for a seed.
pub fn holds_seed_like(text: &str) -> bool {
    let mut run = 0;
    for b in text.bytes() {
        if b.is_ascii_alphabetic() || (b'2'..=b'7').contains(&b) {
            run += 1;
            if run >= SEED_RUN {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

/// The most a seed file may hold: a seed is 58 characters, and a little whitespace
/// around it is allowed. Reading stops there, so `/dev/zero` cannot fill the memory.
const MAX_SEED_FILE: u64 = 4096;

/// What is wrong with `text` (trimmed) as a seed, in words that never quote it.
pub(super) fn malformed_reason(text: &str, kind: nkeys::error::ErrorKind) -> String {
    use nkeys::error::ErrorKind as K;
    if text.is_empty() {
        return "it is empty".to_owned();
    }
    if KeyPair::from_public_key(text).is_ok() {
        // A public key is no secret: naming it helps.
        return format!(
            "it is a public key, `{text}`, not a seed: signing needs the seed it was made from, which starts with `S`"
        );
    }
    match kind {
        K::InvalidKeyLength => format!(
            "it is {} characters long, and a seed is 58: it was cut short or has something added",
            text.chars().count()
        ),
        K::ChecksumFailure => {
            "its checksum does not match: a character was changed, so it is not the seed that was made".to_owned()
        }
        K::CodecFailure => {
            "it is not valid base32: a seed has only `A`–`Z` and `2`–`7`, and its last character must fit the others, so a character was changed".to_owned()
        }
        K::InvalidPrefix => "it does not start with `S`, as every seed does".to_owned(),
        other => other.to_string().to_lowercase(),
    }
}

/// Parses a seed (surrounding whitespace trimmed) from `origin`.
pub(super) fn parse_seed(
    seed: &Seed,
    role: &'static str,
    origin: &str,
) -> Result<KeyPair, KeyError> {
    let text = seed.0.trim();
    KeyPair::from_seed(text).map_err(|e| KeyError::Malformed {
        role,
        origin: origin.to_owned(),
        reason: malformed_reason(text, e.kind()),
    })
}

/// Reads a seed file (whitespace trimmed, as wash files may end in a newline).
///
/// A path that does not exist and holds a run of seed characters is taken for a seed
/// typed where a path belongs, and refused without being echoed.
pub fn read_seed_file(path: &Path, role: &'static str) -> Result<KeyPair, KeyError> {
    let shown = path.display().to_string();
    if !path.exists() && holds_seed_like(&shown) {
        return Err(KeyError::SeedAsPath { role });
    }
    if path.is_dir() {
        return Err(KeyError::Directory {
            role,
            origin: format!("`{shown}`"),
        });
    }
    let read_err = |source| KeyError::Read {
        role,
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::Read::take(file, MAX_SEED_FILE + 1), &mut text)
        .map_err(read_err)?;
    let origin = format!("`{shown}`");
    if text.len() as u64 > MAX_SEED_FILE {
        return Err(KeyError::Malformed {
            role,
            origin,
            reason: format!(
                "it holds more than {MAX_SEED_FILE} bytes, and a seed file holds one 58-character seed"
            ),
        });
    }
    parse_seed(&Seed(text), role, &origin)
}

/// `a service key (`SV…`)`, for any type of nkey.
pub(super) fn type_name(kind: KeyPairType) -> &'static str {
    match kind {
        KeyPairType::Account => "an account key (`SA…`)",
        KeyPairType::Service => "a service key (`SV…`)",
        KeyPairType::Operator => "an operator key (`SO…`)",
        KeyPairType::User => "a user key (`SU…`)",
        KeyPairType::Server => "a server key (`SN…`)",
        KeyPairType::Cluster => "a cluster key (`SC…`)",
        KeyPairType::Module => "a module key (`SM…`)",
        KeyPairType::Curve => "a curve key (`SX…`)",
    }
}

/// Writes `kp`'s seed to a new file `path`: 0600, no trailing newline, the parent made
/// 0700 when created. Refuses to overwrite.
pub fn write_seed_file(path: &Path, kp: &KeyPair) -> Result<(), KeyError> {
    let write_err = |source| KeyError::Write {
        path: path.to_owned(),
        source,
    };
    let seed = Seed(
        kp.seed()
            .map_err(|e| write_err(std::io::Error::other(e.to_string())))?,
    );
    if let Some(dir) = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.exists())
    {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(write_err)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(write_err)?;
    std::io::Write::write_all(&mut file, seed.0.as_bytes()).map_err(write_err)
}
