//! Finding, reading and generating the signing keys, the way wash does, so existing
//! wash keys sign parbuild archives and parbuild keys work with wash.
//!
//! Sources, first match wins, per role (issuer = account, subject = service):
//! `--issuer/--subject PATH`, then `par.toml` `[sign] issuer/subject` (a path or an
//! environment variable), then `$WASH_ISSUER_KEY`/`$WASH_SUBJECT_KEY` (a seed or a path),
//! then the key directory (`--keys-dir`, `$WASH_KEYS`, `~/.wash/keys`) with wash's names
//! `<$USER or user>_account.nk` and `<stem>_service.nk`. A missing key file is generated
//! (0600, in a 0700 directory, no trailing newline: wash rejects one) except under CI,
//! with `--disable-keygen`, or when a pin names the key that must be used.
//!
//! Seeds never appear in errors, logs or `Debug` output, and are never accepted on the
//! command line; neither is a piece of one (a damaged or cut seed is still a secret), so
//! any text holding 20 seed characters in a row ([`holds_seed_like`]) is never echoed.
//! Every broken key is an error that names its file or variable, what is wrong with it
//! (a directory, empty, too short, a changed character, a public key, the other role's
//! key) and how to fix it. Pinned public keys are enforced before anything is signed.

use std::fmt;
use std::path::{Path, PathBuf};

use nkeys::{KeyPair, KeyPairType};

use crate::env::Env;
use crate::manifest::{KeyRef, SignSettings};

mod error;
#[cfg(test)]
mod tests;

pub use error::KeyError;

/// A key's role in an archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The account key that signs (`A…`).
    Issuer,
    /// The service key that is the provider's identity (`V…`).
    Subject,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Self::Issuer => "issuer",
            Self::Subject => "subject",
        }
    }
    fn kind(self) -> KeyPairType {
        match self {
            Self::Issuer => KeyPairType::Account,
            Self::Subject => KeyPairType::Service,
        }
    }
    fn kind_text(self) -> &'static str {
        match self {
            Self::Issuer => "an account key (seed `SA…`, public `A…`)",
            Self::Subject => "a service key (seed `SV…`, public `V…`)",
        }
    }
    fn env_var(self) -> &'static str {
        match self {
            Self::Issuer => "WASH_ISSUER_KEY",
            Self::Subject => "WASH_SUBJECT_KEY",
        }
    }
    fn flag(self) -> &'static str {
        match self {
            Self::Issuer => "--issuer",
            Self::Subject => "--subject",
        }
    }
}

/// What the command line said about keys (the CLI's `SignArgs` converts into it, so this
/// module never sees clap's types).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct KeyFlags {
    /// `--issuer`: the issuer key file.
    pub issuer: Option<PathBuf>,
    /// `--subject`: the subject key file.
    pub subject: Option<PathBuf>,
    /// `--keys-dir`.
    pub keys_dir: Option<PathBuf>,
    /// `--disable-keygen`.
    pub disable_keygen: bool,
}

impl fmt::Debug for KeyFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |p: &Option<PathBuf>| match p {
            Some(p) if looks_like_seed(&p.to_string_lossy()) => "<hidden>".to_owned(),
            other => format!("{other:?}"),
        };
        f.debug_struct("KeyFlags")
            .field("issuer", &show(&self.issuer))
            .field("subject", &show(&self.subject))
            .field("keys_dir", &self.keys_dir)
            .field("disable_keygen", &self.disable_keygen)
            .finish()
    }
}

/// What the user said about keys: flags, `par.toml` `[sign]`, pins.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct KeyOptions {
    /// The issuer key source (a `--issuer` path wins over `par.toml`).
    pub issuer: Option<KeyRef>,
    /// The subject key source.
    pub subject: Option<KeyRef>,
    /// `--keys-dir`.
    pub keys_dir: Option<PathBuf>,
    /// `--disable-keygen`.
    pub disable_keygen: bool,
    /// Refuse to sign with any issuer but this public key.
    pub issuer_public: Option<String>,
    /// Refuse to sign with any subject but this public key.
    pub subject_public: Option<String>,
}

impl fmt::Debug for KeyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |r: &Option<KeyRef>| match r {
            Some(KeyRef::Path(p)) if holds_seed_like(&p.to_string_lossy()) => "<hidden>".to_owned(),
            other => format!("{other:?}"),
        };
        // A pin is a public key; a seed put there by mistake is not shown either.
        let pin = |p: &Option<String>| match p {
            Some(p) if seed_like_pin(p) => Some("<hidden>".to_owned()),
            other => other.clone(),
        };
        f.debug_struct("KeyOptions")
            .field("issuer", &show(&self.issuer))
            .field("subject", &show(&self.subject))
            .field("keys_dir", &self.keys_dir)
            .field("disable_keygen", &self.disable_keygen)
            .field("issuer_public", &pin(&self.issuer_public))
            .field("subject_public", &pin(&self.subject_public))
            .finish()
    }
}

impl KeyOptions {
    /// From the command line and, when there is one, `par.toml`'s `[sign]` (the flags win).
    pub fn new(flags: impl Into<KeyFlags>, manifest: Option<&SignSettings>) -> Self {
        let flags = flags.into();
        let m = manifest.cloned().unwrap_or_default();
        Self {
            issuer: flags.issuer.map(KeyRef::Path).or(m.issuer),
            subject: flags.subject.map(KeyRef::Path).or(m.subject),
            keys_dir: flags.keys_dir,
            disable_keygen: flags.disable_keygen,
            issuer_public: m.issuer_public,
            subject_public: m.subject_public,
        }
    }
}

/// A key file generated while resolving (to be announced by the caller).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GeneratedKey {
    /// Its role.
    pub role: Role,
    /// The seed file written.
    pub path: PathBuf,
    /// Its public key.
    pub public: String,
}

/// The keys to sign with.
pub struct SigningKeys {
    /// The issuer, with its seed.
    pub issuer: KeyPair,
    /// The subject, with its seed.
    pub subject: KeyPair,
    /// Key files generated on the way.
    pub generated: Vec<GeneratedKey>,
    /// Key files read that other users can read too (to be warned about by the caller).
    pub loose: Vec<LooseKey>,
}

/// A seed file whose mode lets users other than its owner read it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LooseKey {
    /// Its role.
    pub role: Role,
    /// The file.
    pub path: PathBuf,
    /// Its permission bits, e.g. `0o644`.
    pub mode: u32,
}

/// What resolving did besides finding the keys: the files it generated and read.
#[derive(Default)]
struct Trail {
    generated: Vec<GeneratedKey>,
    read: Vec<(Role, PathBuf)>,
}

impl fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeys")
            .field("issuer", &self.issuer.public_key())
            .field("subject", &self.subject.public_key())
            .field("seeds", &"<hidden>")
            .field("generated", &self.generated)
            .field("loose", &self.loose)
            .finish()
    }
}

/// A seed in memory: `Debug` and `Display` never show it.
pub struct Seed(String);

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
fn seed_like_pin(pin: &str) -> bool {
    pin.trim_start().starts_with('S') && holds_seed_like(pin)
}

/// How long a run of a seed's characters must be before text is treated as holding a
/// seed or part of one (a damaged or truncated seed is still a secret).
const SEED_RUN: usize = 20;

/// Whether `text` may hold a seed or a piece of one: a run of [`SEED_RUN`] or more
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
fn malformed_reason(text: &str, kind: nkeys::error::ErrorKind) -> String {
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
fn parse_seed(seed: &Seed, role: &'static str, origin: &str) -> Result<KeyPair, KeyError> {
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
fn type_name(kind: KeyPairType) -> &'static str {
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

fn with_role(kp: KeyPair, role: Role, origin: &str) -> Result<KeyPair, KeyError> {
    let found = kp.key_pair_type();
    if found == role.kind() {
        return Ok(kp);
    }
    let other = match role {
        Role::Issuer => Role::Subject,
        Role::Subject => Role::Issuer,
    };
    if found == other.kind() {
        // The other role's key: most likely the two were swapped.
        let kind = match role {
            Role::Issuer => "account",
            Role::Subject => "service",
        };
        return Err(KeyError::SwappedRole {
            role: role.name(),
            origin: origin.to_owned(),
            found: type_name(found),
            expected: role.kind_text(),
            other: other.name(),
            fix: format!(
                "the issuer and subject look swapped: the issuer is the account key (`--issuer`, `WASH_ISSUER_KEY`), the subject the service key (`--subject`, `WASH_SUBJECT_KEY`); `parbuild keys show FILE` tells which a file holds, and `parbuild keys generate --type {kind}` makes a new {kind} key"
            ),
        });
    }
    Err(KeyError::WrongType {
        role: role.name(),
        origin: origin.to_owned(),
        found,
        expected: role.kind_text(),
    })
}

/// A value that is a seed or a path to a seed file (`$WASH_ISSUER_KEY`, `[sign] issuer = "$VAR"`).
fn seed_or_path(
    value: &str,
    role: Role,
    var: &str,
    env: &Env,
    trail: &mut Trail,
) -> Result<KeyPair, KeyError> {
    let origin = format!("`${var}`");
    let v = value.trim();
    let not_a_key = |problem: String| KeyError::EnvNotAKey {
        role: role.name(),
        var: var.to_owned(),
        problem,
    };
    if v.is_empty() {
        return Err(not_a_key(
            "it is set, but blank (an empty CI secret?)".to_owned(),
        ));
    }
    let path = env.cwd().join(v);
    let seed_shaped = v.starts_with('S') && !v.contains(['/', '\\', '.']) && !path.exists();
    if looks_like_seed(v) || seed_shaped {
        return with_role(
            parse_seed(&Seed(value.to_owned()), role.name(), &origin)?,
            role,
            &origin,
        );
    }
    let shown = path.display().to_string();
    if !path.exists() {
        return Err(not_a_key(if holds_seed_like(&shown) {
            "it is no seed, and no file of that name exists (the value is not shown: it may hold a seed; are there quotes or other characters around one?)".to_owned()
        } else {
            format!("`{shown}` does not exist")
        }));
    }
    let from = format!("`{shown}` (from `${var}`)");
    if path.is_dir() {
        return Err(KeyError::Directory {
            role: role.name(),
            origin: from,
        });
    }
    let kp = read_seed_file(&path, role.name()).map_err(|e| match e {
        KeyError::Malformed { role, reason, .. } => KeyError::Malformed {
            role,
            origin: from.clone(),
            reason,
        },
        other => other,
    })?;
    trail.read.push((role, path.clone()));
    with_role(kp, role, &from)
}

/// Finds, reads or generates both keys, then enforces key types and pins.
/// `subject_stem` names the service key file (`<stem>_service.nk`).
pub fn resolve(opts: &KeyOptions, env: &Env, subject_stem: &str) -> Result<SigningKeys, KeyError> {
    let mut trail = Trail::default();
    let issuer = resolve_one(
        Role::Issuer,
        opts.issuer.as_ref(),
        opts.issuer_public.as_deref(),
        opts,
        env,
        subject_stem,
        &mut trail,
    )?;
    let subject = resolve_one(
        Role::Subject,
        opts.subject.as_ref(),
        opts.subject_public.as_deref(),
        opts,
        env,
        subject_stem,
        &mut trail,
    )?;
    let loose = trail
        .read
        .into_iter()
        .filter_map(|(role, path)| {
            let mode = file_mode(&path)?;
            (mode & 0o077 != 0).then_some(LooseKey { role, path, mode })
        })
        .collect();
    Ok(SigningKeys {
        issuer,
        subject,
        generated: trail.generated,
        loose,
    })
}

/// The permission bits of `path` (`None` where there are none, or it cannot be read).
fn file_mode(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(path)
            .ok()
            .map(|m| m.permissions().mode() & 0o777)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

fn resolve_one(
    role: Role,
    source: Option<&KeyRef>,
    pin: Option<&str>,
    opts: &KeyOptions,
    env: &Env,
    subject_stem: &str,
    trail: &mut Trail,
) -> Result<KeyPair, KeyError> {
    if let Some(pin) = pin
        && !KeyPair::from_public_key(pin).is_ok_and(|k| k.key_pair_type() == role.kind())
    {
        return Err(KeyError::BadPin {
            role: role.name(),
            pin: if seed_like_pin(pin) {
                "<hidden>".to_owned()
            } else {
                pin.to_owned()
            },
            expected: role.kind_text(),
        });
    }
    let kp = match source {
        Some(KeyRef::Path(p)) => {
            let path = env.cwd().join(p);
            let typed = p.to_string_lossy();
            if looks_like_seed(&typed) || (!path.exists() && holds_seed_like(&typed)) {
                return Err(KeyError::SeedOnCommandLine {
                    flag: role.flag().to_owned(),
                });
            }
            let kp = read_seed_file(&path, role.name())?;
            trail.read.push((role, path.clone()));
            with_role(kp, role, &format!("`{}`", path.display()))?
        }
        Some(KeyRef::Env(name)) => match env.non_empty(name) {
            Some(value) => seed_or_path(value, role, name, env, trail)?,
            None => {
                return Err(KeyError::EnvUnset {
                    role: role.name(),
                    name: name.clone(),
                });
            }
        },
        None => match env.non_empty(role.env_var()) {
            Some(value) => seed_or_path(value, role, role.env_var(), env, trail)?,
            None => from_key_dir(role, pin, opts, env, subject_stem, trail)?,
        },
    };
    if let Some(pin) = pin
        && kp.public_key() != pin
    {
        return Err(KeyError::PinMismatch {
            role: role.name(),
            expected: pin.to_owned(),
            found: kp.public_key(),
        });
    }
    Ok(kp)
}

/// The key directory: `--keys-dir`, `$WASH_KEYS`, else `~/.wash/keys`.
pub fn key_dir(opts: &KeyOptions, env: &Env) -> Result<PathBuf, KeyError> {
    if let Some(dir) = &opts.keys_dir {
        return Ok(env.cwd().join(dir));
    }
    if let Some(dir) = env.non_empty("WASH_KEYS") {
        return Ok(env.cwd().join(dir));
    }
    env.home()
        .map(|h| h.join(".wash/keys"))
        .ok_or(KeyError::NoKeyDir)
}

fn from_key_dir(
    role: Role,
    pin: Option<&str>,
    opts: &KeyOptions,
    env: &Env,
    subject_stem: &str,
    trail: &mut Trail,
) -> Result<KeyPair, KeyError> {
    let dir = key_dir(opts, env)?;
    let file = match role {
        Role::Issuer => format!("{}_account.nk", env.non_empty("USER").unwrap_or("user")),
        Role::Subject => format!("{subject_stem}_service.nk"),
    };
    let path = dir.join(file);
    if path.exists() {
        let kp = read_seed_file(&path, role.name())?;
        trail.read.push((role, path.clone()));
        return with_role(kp, role, &format!("`{}`", path.display()));
    }
    let kind = match role {
        Role::Issuer => "account",
        Role::Subject => "service",
    };
    let help = format!(
        "provide the {} key: `{} PATH`, `{}` (a seed or a path), `[sign] {}` in `par.toml`, or create `{}` with `parbuild keys generate --type {kind} -o {}`",
        role.name(),
        role.flag(),
        role.env_var(),
        role.name(),
        path.display(),
        path.display()
    );
    let why = if let Some(pin) = pin {
        Some(format!(
            " and the {} is pinned to `{pin}`, so a new key would not do",
            role.name()
        ))
    } else if env.is_ci() {
        Some(" and keys are never generated under CI (`CI` is set)".to_owned())
    } else if opts.disable_keygen {
        Some(" and `--disable-keygen` is set".to_owned())
    } else {
        None
    };
    if let Some(why) = why {
        return Err(KeyError::Missing {
            role: role.name(),
            path,
            why,
            help,
        });
    }
    let kp = KeyPair::new(role.kind());
    write_seed_file(&path, &kp)?;
    trail.generated.push(GeneratedKey {
        role,
        path,
        public: kp.public_key(),
    });
    Ok(kp)
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
