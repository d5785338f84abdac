//! What can go wrong with keys, and the fix to suggest. No variant ever holds a seed.

use std::path::PathBuf;

/// Errors about keys. None of them ever contains a seed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A seed where a path belongs.
    #[error("`{flag}` takes a key file, not a seed: seeds are never accepted on the command line")]
    SeedOnCommandLine {
        /// The flag or setting.
        flag: String,
    },
    /// A key file cannot be read.
    #[error("cannot read the {role} key file `{path}`")]
    Read {
        /// `issuer`, `subject` or `key`.
        role: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Not a valid seed.
    #[error("the {role} key from {origin} is not a valid nkey seed ({reason})")]
    Malformed {
        /// `issuer`, `subject` or `key`.
        role: &'static str,
        /// Where it came from (a path or a variable name).
        origin: String,
        /// What is wrong (never the seed itself).
        reason: String,
    },
    /// A seed of the wrong type.
    #[error("the {role} key from {origin} is {found}, but the {role} must be {expected}")]
    WrongType {
        /// `issuer` or `subject`.
        role: &'static str,
        /// Where it came from.
        origin: String,
        /// Its type, in words (`an operator key (`SO…`)`).
        found: &'static str,
        /// What is needed.
        expected: &'static str,
    },
    /// An environment variable named in `par.toml` is not set.
    #[error("`${name}`, named in `par.toml` as the {role} key, is not set")]
    EnvUnset {
        /// `issuer` or `subject`.
        role: &'static str,
        /// The variable.
        name: String,
    },
    /// A key is missing and may not be generated.
    #[error("no {role} key: `{path}` does not exist{why}")]
    Missing {
        /// `issuer` or `subject`.
        role: &'static str,
        /// Where it was looked for.
        path: PathBuf,
        /// Why it was not generated.
        why: String,
        /// How to provide it.
        help: String,
    },
    /// No key directory can be determined.
    #[error("no key directory: `HOME` is not set")]
    NoKeyDir,
    /// The key does not match the pinned public key.
    #[error(
        "the {role} key is `{found}`, but `{expected}` is pinned: refusing to sign with another key"
    )]
    PinMismatch {
        /// `issuer` or `subject`.
        role: &'static str,
        /// The pinned key.
        expected: String,
        /// The key found.
        found: String,
    },
    /// A pin that is not a public key of the right type.
    #[error("the pinned {role} `{pin}` is not {expected}")]
    BadPin {
        /// `issuer` or `subject`.
        role: &'static str,
        /// The pin.
        pin: String,
        /// What it must be.
        expected: &'static str,
    },
    /// A path that does not exist and holds a run of seed characters: a seed (or a piece
    /// of one) typed where a path belongs. The value is not repeated.
    #[error(
        "the {role} key path looks like a seed (or part of one) and names no file: seeds are never accepted on the command line"
    )]
    SeedAsPath {
        /// `issuer`, `subject` or `key`.
        role: &'static str,
    },
    /// A directory where a key file belongs.
    #[error("the {role} key {origin} is a directory, not a key file")]
    Directory {
        /// `issuer`, `subject` or `key`.
        role: &'static str,
        /// The path, and where it came from.
        origin: String,
    },
    /// The other role's key: an account key as the subject, a service key as the issuer.
    #[error(
        "the {role} key from {origin} is {found}, but the {role} must be {expected}: that is the {other}'s key"
    )]
    SwappedRole {
        /// `issuer` or `subject`.
        role: &'static str,
        /// Where it came from.
        origin: String,
        /// What it is.
        found: &'static str,
        /// What is needed.
        expected: &'static str,
        /// The role this key would fit.
        other: &'static str,
        /// How to fix it.
        fix: String,
    },
    /// `$WASH_ISSUER_KEY`/`$WASH_SUBJECT_KEY` (or a variable `par.toml` names) holds
    /// neither a seed nor the path of a key file.
    #[error("`${var}` (the {role} key) is neither a seed nor the path of a key file: {problem}")]
    EnvNotAKey {
        /// `issuer` or `subject`.
        role: &'static str,
        /// The variable.
        var: String,
        /// What is wrong (never the value, unless it is a path that holds nothing seed-like).
        problem: String,
    },
    /// A key file cannot be written.
    #[error("cannot write the key file `{path}`")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl KeyError {
    /// How to fix it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Self::SeedOnCommandLine { .. } => {
                "write the seed to a file (0600) and pass its path, or set `WASH_ISSUER_KEY`/`WASH_SUBJECT_KEY`; the seed was on the command line, so consider it exposed (shell history, `ps`)".to_owned()
            }
            Self::Missing { help, .. } => help.clone(),
            Self::WrongType { expected, .. } | Self::BadPin { expected, .. } => format!("use {expected}"),
            Self::PinMismatch { role, .. } => format!(
                "use the {role} key whose public key is pinned in `par.toml` `[sign]`, or change the pin deliberately"
            ),
            Self::NoKeyDir => "set `WASH_KEYS` or pass `--keys-dir DIR`".to_owned(),
            Self::Malformed { .. } => "a seed is 58 characters starting with `SA` (account) or `SV` (service); restore the file from your backup (`parbuild keys show FILE` checks one), or make a new key with `parbuild keys generate --type account|service -o FILE`".to_owned(),
            Self::SeedAsPath { .. } => {
                "write the seed to a file (0600) and pass its path, or set `WASH_ISSUER_KEY`/`WASH_SUBJECT_KEY`; if the seed was typed into a shell, consider it exposed (shell history, `ps`)".to_owned()
            }
            Self::Directory { .. } => {
                "name the seed file itself (wash's are `<dir>/<user>_account.nk` and `<dir>/<name>_service.nk`), or pass a key directory as `--keys-dir DIR` or `WASH_KEYS`".to_owned()
            }
            Self::SwappedRole { fix, .. } => fix.clone(),
            Self::EnvNotAKey { var, .. } => format!(
                "set `{var}` to the seed itself (58 characters, `SA…` or `SV…`) or to the path of a seed file, or unset it to use the key directory"
            ),
            Self::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                "check the path, or make a key there with `parbuild keys generate --type account|service -o PATH`".to_owned()
            }
            _ => return None,
        })
    }
}
