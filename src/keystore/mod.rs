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
//!
//! One file (with `seed.rs` for seeds as text and files) because every source above is
//! tried by one [`resolve`] in one order, and each needs the role, the options and the
//! pins.

use std::fmt;
use std::path::{Path, PathBuf};

use nkeys::{KeyPair, KeyPairType};

use crate::env::Env;
use crate::manifest::{KeyRef, SignSettings};

mod error;
mod seed;
#[cfg(test)]
mod tests;

pub use error::KeyError;
pub use seed::{Seed, holds_seed_like, looks_like_seed, read_seed_file, write_seed_file};
use seed::{parse_seed, seed_like_pin, type_name};

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
    /// `--generate-keys`: generate a missing key even under CI.
    pub generate_keys: bool,
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
            .field("generate_keys", &self.generate_keys)
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
    /// `--generate-keys`: generate a missing key even under CI.
    pub generate_keys: bool,
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
            .field("generate_keys", &self.generate_keys)
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
            generate_keys: flags.generate_keys,
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
        found: type_name(found),
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
    } else if env.is_ci() && !opts.generate_keys {
        Some(" and keys are never generated under CI (`CI` is set; `--generate-keys` allows a throwaway one)".to_owned())
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
